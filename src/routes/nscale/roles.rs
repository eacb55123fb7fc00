//! `GET /api/v1/organizations/{organizationID}/roles`: the built-in roles, with ids fixed for the
//! product.
