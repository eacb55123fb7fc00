//! The five group routes of the nscale dialect (`/api/v1/organizations/{organizationID}/groups`).
