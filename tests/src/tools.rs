//! Finding the external tools (openssl, qpdf, pdfsig, the pyHanko virtualenv) and running them.
//!
//! A missing tool fails the test loudly in CI (`CI=true`) and skips it with a printed reason
//! elsewhere, so a developer without pyHanko can still run `cargo test`. `scripts/test.sh`
//! installs everything, so in practice nothing is skipped there.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use anyhow::{bail, Context, Result};

/// Environment variable naming the virtualenv with pyHanko (set by `scripts/test.sh`).
pub const TEST_VENV_ENV: &str = "TEST_VENV";

/// True when running under CI (`CI=true` or `CI=1`): missing tools are then failures.
pub fn in_ci() -> bool {
    matches!(
        std::env::var("CI")
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Ok("true" | "1" | "yes")
    )
}

/// Report that a prerequisite is missing: panic in CI, print a skip note otherwise.
///
/// Returns `None` so that callers can write `let Some(x) = ... else { return };`.
pub fn missing<T>(what: &str, hint: &str) -> Option<T> {
    if in_ci() {
        panic!("required test tool missing in CI: {what} ({hint})");
    }
    eprintln!("SKIPPED: {what} not available ({hint}); run scripts/test.sh to install it");
    None
}

/// Unwrap an `Option` produced by [`require_tool`], [`venv`] or a fixture, or return from the
/// (test) function: `let pdfsig = require!(require_tool("pdfsig"));`.
#[macro_export]
macro_rules! require {
    ($e:expr) => {
        match $e {
            Some(v) => v,
            None => return,
        }
    };
}

/// Path of executable `name` on `PATH`, or `None` when absent (skip locally, panic in CI).
pub fn require_tool(name: &str) -> Option<PathBuf> {
    match which(name) {
        Some(p) => Some(p),
        None => missing(name, "not on PATH"),
    }
}

/// Search `PATH` for an executable file called `name`.
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// The pyHanko virtualenv made by `scripts/install-test-deps.sh`.
#[derive(Clone, Debug)]
pub struct Venv {
    /// The virtualenv's root directory.
    pub root: PathBuf,
}

impl Venv {
    /// The venv's `python`.
    pub fn python(&self) -> PathBuf {
        self.root.join("bin/python")
    }

    /// A command running harness script `tests/py/<script>` with the venv's python (no
    /// `__pycache__` is written into the source tree).
    pub fn script(&self, script: &str) -> Command {
        let mut cmd = Command::new(self.python());
        cmd.arg(py_dir().join(script))
            .env("PYTHONDONTWRITEBYTECODE", "1");
        cmd
    }

    /// The venv's `pyhanko` CLI.
    pub fn pyhanko(&self) -> PathBuf {
        self.root.join("bin/pyhanko")
    }
}

/// Default venv path, the same as `scripts/install-test-deps.sh` uses.
pub fn default_venv_path() -> Option<PathBuf> {
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/esig-test-venv"))
}

/// The venv from `$TEST_VENV` (or the install script's default path) when it has pyHanko;
/// otherwise skip locally / panic in CI.
pub fn venv() -> Option<Venv> {
    let root = std::env::var_os(TEST_VENV_ENV)
        .map(PathBuf::from)
        .or_else(default_venv_path);
    match root {
        Some(root)
            if is_executable(&root.join("bin/python"))
                && is_executable(&root.join("bin/pyhanko")) =>
        {
            Some(Venv { root })
        }
        Some(root) => missing(
            "pyHanko virtualenv",
            &format!(
                "no bin/python + bin/pyhanko in {}; set {TEST_VENV_ENV}",
                root.display()
            ),
        ),
        None => missing("pyHanko virtualenv", "neither TEST_VENV nor HOME is set"),
    }
}

/// Directory holding the harness's python scripts (`tests/py`).
pub fn py_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("py")
}

/// The workspace root (the parent of the `tests` crate).
pub fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// Run `cmd` to completion; an error (with the command line, exit status and stderr) unless
/// it exits 0.
pub fn run(cmd: &mut Command) -> Result<Output> {
    let out = cmd
        .output()
        .with_context(|| format!("cannot start {}", describe(cmd)))?;
    if !out.status.success() {
        bail!(
            "{} failed ({}):\n{}{}",
            describe(cmd),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(out)
}

/// The command line of `cmd`, for messages.
pub fn describe(cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(OsStr::to_string_lossy)
        .collect::<Vec<_>>()
        .join(" ")
}
