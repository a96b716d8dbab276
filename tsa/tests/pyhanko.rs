//! pyHanko's HTTPTimeStamper pointed at our server signs a PDF at PAdES B-T, and pyHanko
//! validates signature and time-stamp (trusting the development root). Needs the peers
//! virtualenv (`$TEST_VENV`, default ~/.cache/esig-test-venv, with pyhanko); skipped with a line
//! saying so when it is missing.
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns: a panic is a test failure

mod support;

use std::{path::PathBuf, process::Command};

use support::start;

#[test]
fn pyhanko_signs_b_t_with_our_tsa_and_validates_it() {
    // The test command installs the virtualenv at $TEST_VENV (default ~/.cache/esig-test-venv).
    let candidates = [
        std::env::var_os("TEST_VENV").map(PathBuf::from),
        std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/esig-test-venv")),
        std::env::var_os("PEERS_VENV").map(PathBuf::from),
        Some(PathBuf::from("/tmp/peers-venv")),
    ];
    let python = candidates
        .into_iter()
        .flatten()
        .map(|v| v.join("bin/python"))
        .find(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from("/nonexistent/python"));
    let has_pyhanko = Command::new(&python)
        .args([
            "-c",
            "import pyhanko.sign, pyhanko_certvalidator, cryptography",
        ])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_pyhanko {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "pyHanko is required under CI (run scripts/install-test-deps.sh)"
        );
        println!(
            "SKIPPED pyhanko_signs_b_t_with_our_tsa_and_validates_it: no pyHanko at {} (set TEST_VENV)",
            python.display()
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir.path().join("data"));
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/pyhanko_bt.py");
    let url = server.url.clone();
    let root = server.root_pem();
    let workdir = dir.path().to_owned();
    // The server runs on its own runtime threads; the script blocks this thread only.
    let out = Command::new(&python)
        .arg(&script)
        .arg(&url)
        .arg(&root)
        .arg(&workdir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("PYHANKO_BT VALID"),
        "pyHanko: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    server.stop();
}
