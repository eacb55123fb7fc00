//! The token endpoint: client credentials, expiry, revocation, rate limits.
