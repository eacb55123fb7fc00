//! The API test suite: one binary, one module per area.

mod signing;
