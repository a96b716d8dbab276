//! `signer demo` (placeholder until the app library lands).

use std::path::{Path, PathBuf};

/// Runs the demo.
///
/// # Errors
/// Always, for now.
pub async fn run(_out: &Path, _files: &[PathBuf]) -> anyhow::Result<bool> {
    anyhow::bail!("the demo needs the app library")
}
