//! Rebuilds the crate when a migration is added or changed: `sqlx::migrate!` embeds the files,
//! and cargo would not otherwise notice a new file in the directories.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
