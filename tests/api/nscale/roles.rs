//! The built-in roles listing.
