//! Locating the workspace's binaries (`verify`, `tsa`, `signer`, `app`) from the tests.
//!
//! `env!("CARGO_BIN_EXE_…")` only exists for binaries of the crate under test, and this crate
//! tests other crates' binaries. So the first call in a test process runs
//! `cargo build --workspace --bins` (same profile as the test binary) and remembers where cargo
//! put each executable. `scripts/test.sh` runs that same build before `cargo test`, so there the
//! nested call finds everything fresh and takes well under a second; a developer running only
//! `cargo test -p interop-tests` still tests up-to-date binaries, never stale ones.
//! Override with `<NAME>_BIN` (e.g. `VERIFY_BIN=/path/to/verify`) to test another build.
//!
//! Nested cargo is safe: cargo releases the build-directory lock before it runs test binaries.
//! The child gets the `CARGO_*` variables and `LD_LIBRARY_PATH` of the test process removed so
//! that its fingerprints match a plain `cargo build` and nothing is rebuilt needlessly.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use anyhow::{anyhow, bail, Context, Result};

/// Path of workspace binary `name`, building the workspace's binaries once per process.
pub fn binary(name: &str) -> Result<PathBuf> {
    let var = format!("{}_BIN", name.to_ascii_uppercase().replace('-', "_"));
    if let Some(p) = std::env::var_os(&var) {
        let p = PathBuf::from(p);
        if !p.is_file() {
            bail!("{var}={} is not a file", p.display());
        }
        return Ok(p);
    }
    static BUILT: OnceLock<std::result::Result<BTreeMap<String, PathBuf>, String>> =
        OnceLock::new();
    let built = BUILT
        .get_or_init(|| build_workspace_bins().map_err(|e| format!("{e:#}")))
        .as_ref()
        .map_err(|e| anyhow!("building the workspace binaries failed:\n{e}"))?;
    built.get(name).cloned().ok_or_else(|| {
        anyhow!(
            "`cargo build --workspace --bins` made no binary called {name} (made: {:?})",
            built.keys()
        )
    })
}

/// The cargo profile of the running test executable: `target/<profile>/deps/<test>`.
fn profile() -> Option<String> {
    let exe = std::env::current_exe().ok()?;
    let profile_dir = exe.parent()?.parent()?;
    Some(profile_dir.file_name()?.to_string_lossy().into_owned())
}

fn build_workspace_bins() -> Result<BTreeMap<String, PathBuf>> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(crate::tools::workspace_root()).args([
        "build",
        "--workspace",
        "--bins",
        "--message-format=json-render-diagnostics",
    ]);
    match profile().as_deref() {
        Some("debug") | None => {}
        Some("release") => {
            cmd.arg("--release");
        }
        Some(other) => {
            cmd.args(["--profile", other]);
        }
    }
    for (key, _) in std::env::vars_os() {
        let key_s = key.to_string_lossy();
        if (key_s.starts_with("CARGO_") && key_s != "CARGO_HOME" && key_s != "CARGO_TARGET_DIR")
            || key_s == "LD_LIBRARY_PATH"
        {
            cmd.env_remove(&key);
        }
    }
    let started = std::time::Instant::now();
    let out = cmd
        .output()
        .with_context(|| format!("cannot run {}", crate::tools::describe(&cmd)))?;
    if !out.status.success() {
        bail!(
            "{} failed:\n{}",
            crate::tools::describe(&cmd),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut bins = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if msg["reason"] != "compiler-artifact" {
            continue;
        }
        let (Some(exe), Some(name)) = (msg["executable"].as_str(), msg["target"]["name"].as_str())
        else {
            continue;
        };
        bins.insert(name.to_owned(), Path::new(exe).to_path_buf());
    }
    eprintln!(
        "interop-tests: workspace binaries ready in {:.1?}: {:?}",
        started.elapsed(),
        bins.keys()
    );
    Ok(bins)
}
