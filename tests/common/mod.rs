//! What the CLI test binaries share: the binary, the repository root and scratch folders.

#![allow(dead_code)] // each test binary uses its own subset

use std::path::PathBuf;
use std::process::Command;

/// The `budscaler` binary under test.
pub fn budscaler() -> Command {
    Command::new(env!("CARGO_BIN_EXE_budscaler"))
}

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh, empty scratch folder unique to this process, `suite` and `name`.
pub fn tempdir(suite: &str, name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("budscaler-{suite}-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
