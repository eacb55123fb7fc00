//! Bearer tokens on the dialect's routes and on the Onlive routes.
