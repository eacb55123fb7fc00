//! `POST /oauth2/v2/token`: OAuth2 client credentials (RFC 6749 §4.4), unsigned; the token it
//! issues is a bearer credential of its access key.
