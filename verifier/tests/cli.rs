//! The `verify` binary: exit codes, JSON schema, text output.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn run(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_verify"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
    )
}

fn tmp_with(name: &str, bytes: &[u8]) -> (tempfile::TempDir, String) {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join(name);
    std::fs::write(&p, bytes).unwrap();
    (d, p.display().to_string())
}

#[test]
fn exit_codes_follow_the_documented_table() {
    let root = data("root.pem").display().to_string();
    let good = data("contract-b-b.pdf").display().to_string();
    assert_eq!(run(&["--trust", &root, &good]).0, 0);
    // no trust anchor: INDETERMINATE
    assert_eq!(run(&[&good]).0, 2);
    let mut bad = std::fs::read(&good).unwrap();
    bad[400] ^= 1;
    let (_d1, badp) = tmp_with("bad.pdf", &bad);
    assert_eq!(run(&["--trust", &root, &badp]).0, 1);
    let (_d2, unsigned) = tmp_with(
        "u.pdf",
        b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n",
    );
    assert_eq!(run(&["--trust", &root, &unsigned]).0, 3);
    let (_d3, junk) = tmp_with("junk.pdf", b"hello");
    assert_eq!(run(&["--trust", &root, &junk]).0, 4);
    // unreadable wins over everything, failed over unsigned
    assert_eq!(run(&["--trust", &root, &good, &junk]).0, 4);
    assert_eq!(run(&["--trust", &root, &badp, &unsigned]).0, 1);
}

#[test]
fn json_has_the_documented_fields() {
    let root = data("root.pem").display().to_string();
    let good = data("contract-b-b.pdf").display().to_string();
    let (code, out) = run(&["--json", "--trust", &root, &good]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let s = &v["files"][0]["signatures"][0];
    for k in [
        "field",
        "kind",
        "indication",
        "subIndication",
        "level",
        "signer",
        "signingTime",
        "modifications",
        "errors",
        "warnings",
    ] {
        assert!(s.get(k).is_some(), "missing {k} in {s}");
    }
    assert_eq!(s["field"], "Sig1");
    assert_eq!(s["kind"], "signature");
    assert_eq!(s["indication"], "TOTAL-PASSED");
    assert_eq!(s["level"], "PAdES-BASELINE-B");
    assert_eq!(v["files"][0]["path"], good);
    assert_eq!(v["summary"]["passed"], 1);
}

#[test]
fn text_output_has_a_verdict_line() {
    let root = data("root.pem").display().to_string();
    let good = data("contract-b-b.pdf").display().to_string();
    let (_, out) = run(&["--trust", &root, &good]);
    assert!(
        out.contains("signature 'Sig1': VALID (TOTAL-PASSED)"),
        "{out}"
    );
    assert!(out.contains("1 passed"), "{out}");
}

#[test]
fn bad_trust_file_is_a_usage_error() {
    let good = data("contract-b-b.pdf").display().to_string();
    let (_d, junk) = tmp_with("junk.pem", b"not a cert");
    assert_eq!(run(&["--trust", &junk, &good]).0, 64);
}
