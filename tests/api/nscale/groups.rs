//! The five group routes, row by row of the contract's tables.
