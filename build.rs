//! Rebuilds the crate when a migration is added or changed: `embed_migrations!` in `src/db/`
//! reads the migration folders at compile time, and cargo would otherwise notice only edits to
//! Rust sources.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
