//! The dialect's error body on every error path.
