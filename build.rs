//! Rebuilds the library when a migration is added or changed: `embed_migrations!`
//! reads the `migrations` folder at compile time, and Cargo only re-runs it for
//! paths it was told about (Diesel's documented pattern).
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
