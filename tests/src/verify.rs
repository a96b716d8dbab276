//! Running the `verify` CLI and reading its `--json` report.
//!
//! The report schema the tests hold `verify` to (the verifier issue):
//! ```text
//! {"files": [{"path": "...", "signatures": [{"field", "kind": "signature"|"document-timestamp",
//!   "indication": "TOTAL-PASSED"|"TOTAL-FAILED"|"INDETERMINATE", "subIndication",
//!   "level": "PAdES-BASELINE-B"|"-T"|"-LT"|"-LTA"|"not baseline"|null, "signer",
//!   "signingTime", "modifications", "errors", "warnings"}]}]}
//! ```
//! Exit codes: see [`exit`].

use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;

use anyhow::{anyhow, bail, Context, Result};
use serde_json::Value;

use crate::cases::{FAILED, INDETERMINATE, PASSED};

/// `verify`'s documented exit codes.
pub mod exit {
    /// Every signature is TOTAL-PASSED.
    pub const ALL_PASSED: i32 = 0;
    /// Some signature is TOTAL-FAILED.
    pub const FAILED: i32 = 1;
    /// Some signature is INDETERMINATE and none failed.
    pub const INDETERMINATE: i32 = 2;
    /// A file has no signature.
    pub const NO_SIGNATURE: i32 = 3;
    /// A file could not be read or parsed.
    pub const UNREADABLE: i32 = 4;
}

/// Seconds after which a `verify` run is killed (it must never hang, e.g. on a CRL fetch).
pub const TIMEOUT_SECS: u32 = 120;

/// The keys every signature object of the JSON report must have.
pub const SIGNATURE_KEYS: [&str; 10] = [
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
];

/// The outcome of one `verify` run.
#[derive(Clone, Debug)]
pub struct VerifyRun {
    /// The command line, for messages.
    pub command: String,
    /// Exit code (`None` when killed by a signal).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// One signature of the report, the fields the tests compare.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportedSignature {
    /// `files[].path`.
    pub path: String,
    /// Signature field name.
    pub field: String,
    /// `signature` or `document-timestamp`.
    pub kind: String,
    /// ETSI indication.
    pub indication: String,
    /// ETSI sub-indication, when given.
    pub sub_indication: Option<String>,
    /// PAdES level, when given.
    pub level: Option<String>,
}

/// Run `verify` with `args` (the binary from [`crate::bins::binary`]), under a timeout.
pub fn run<I, S>(args: I) -> Result<VerifyRun>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let bin = crate::bins::binary("verify")?;
    let mut cmd = match crate::tools::which("timeout") {
        Some(timeout) => {
            let mut c = Command::new(timeout);
            c.arg(TIMEOUT_SECS.to_string()).arg(&bin);
            c
        }
        None => Command::new(&bin),
    };
    cmd.args(args);
    let command = crate::tools::describe(&cmd);
    let out = cmd
        .output()
        .with_context(|| format!("cannot run {command}"))?;
    if out.status.code() == Some(124) {
        bail!("{command} did not finish within {TIMEOUT_SECS} s");
    }
    Ok(VerifyRun {
        command,
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

/// `verify --json --trust ROOT FILE...`.
pub fn run_json(root: &Path, files: &[&Path]) -> Result<VerifyRun> {
    let mut args: Vec<&OsStr> = vec!["--json".as_ref(), "--trust".as_ref(), root.as_os_str()];
    args.extend(files.iter().map(|f| f.as_os_str()));
    run(args)
}

impl VerifyRun {
    /// The parsed `--json` output.
    pub fn json(&self) -> Result<Value> {
        serde_json::from_str(&self.stdout).map_err(|e| {
            anyhow!(
                "exit {}, no JSON report ({e}); stderr: {}\ncommand: {}\nstdout: {}\nstderr: {}",
                self.code.map_or("by signal".to_owned(), |c| c.to_string()),
                self.stderr.lines().next().unwrap_or("(empty)"),
                self.command,
                clip(&self.stdout),
                clip(&self.stderr)
            )
        })
    }

    /// Every signature of every file, flattened (errors on a report that breaks the schema).
    pub fn signatures(&self) -> Result<Vec<ReportedSignature>> {
        let json = self.json()?;
        let problems = schema_problems(&json);
        if !problems.is_empty() {
            bail!(
                "{}: report breaks the schema:\n  {}",
                self.command,
                problems.join("\n  ")
            );
        }
        let mut sigs = Vec::new();
        for file in json["files"].as_array().into_iter().flatten() {
            for s in file["signatures"].as_array().into_iter().flatten() {
                let text = |k: &str| s[k].as_str().map(str::to_owned);
                sigs.push(ReportedSignature {
                    path: file["path"].as_str().unwrap_or_default().to_owned(),
                    field: text("field").unwrap_or_default(),
                    kind: text("kind").unwrap_or_default(),
                    indication: text("indication").unwrap_or_default(),
                    sub_indication: text("subIndication"),
                    level: text("level"),
                });
            }
        }
        Ok(sigs)
    }
}

/// What is wrong with a report against the schema (empty when nothing is).
pub fn schema_problems(json: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let Some(files) = json.get("files").and_then(Value::as_array) else {
        return vec!["no \"files\" array at the top level".to_owned()];
    };
    for (i, file) in files.iter().enumerate() {
        if file.get("path").and_then(Value::as_str).is_none() {
            problems.push(format!("files[{i}]: no string \"path\""));
        }
        let Some(sigs) = file.get("signatures").and_then(Value::as_array) else {
            problems.push(format!("files[{i}]: no \"signatures\" array"));
            continue;
        };
        for (j, s) in sigs.iter().enumerate() {
            let at = format!("files[{i}].signatures[{j}]");
            for key in SIGNATURE_KEYS {
                if s.get(key).is_none() {
                    problems.push(format!("{at}: missing \"{key}\""));
                }
            }
            let is = |k: &str, allowed: &[&str]| {
                s.get(k)
                    .and_then(Value::as_str)
                    .is_some_and(|v| allowed.contains(&v))
            };
            if !is("kind", &["signature", "document-timestamp"]) {
                problems.push(format!(
                    "{at}: kind {} is not signature|document-timestamp",
                    s["kind"]
                ));
            }
            if !is("indication", &[PASSED, FAILED, INDETERMINATE]) {
                problems.push(format!(
                    "{at}: indication {} is not an ETSI indication",
                    s["indication"]
                ));
            }
            let level_ok = match s.get("level") {
                None | Some(Value::Null) => true,
                Some(Value::String(l)) => {
                    l == "not baseline"
                        || ["B", "T", "LT", "LTA"]
                            .iter()
                            .any(|x| l == &format!("PAdES-BASELINE-{x}"))
                }
                Some(_) => false,
            };
            if !level_ok {
                problems.push(format!(
                    "{at}: level {} is not PAdES-BASELINE-B/T/LT/LTA, \"not baseline\" or null",
                    s["level"]
                ));
            }
            if s.get("field").is_some_and(|f| !f.is_string()) {
                problems.push(format!("{at}: field is not a string"));
            }
            for list in ["errors", "warnings"] {
                if s.get(list).is_some_and(|v| !v.is_array()) {
                    problems.push(format!("{at}: {list} is not an array"));
                }
            }
        }
    }
    problems
}

/// The exit code `verify` owes for signatures with these indications (none: a file without
/// signatures).
pub fn expected_exit<'a>(indications: impl IntoIterator<Item = &'a str>) -> i32 {
    let all: Vec<&str> = indications.into_iter().collect();
    if all.is_empty() {
        exit::NO_SIGNATURE
    } else if all.contains(&FAILED) {
        exit::FAILED
    } else if all.contains(&INDETERMINATE) {
        exit::INDETERMINATE
    } else {
        exit::ALL_PASSED
    }
}

/// First 2000 characters, for messages.
pub fn clip(s: &str) -> &str {
    match s.char_indices().nth(2000) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_check_accepts_the_documented_shape_and_names_problems() {
        let good = serde_json::json!({"files": [{"path": "a.pdf", "signatures": [{
            "field": "Seller", "kind": "signature", "indication": "TOTAL-PASSED", "subIndication": null,
            "level": "PAdES-BASELINE-T", "signer": "CN=Alice", "signingTime": "2026-11-22T10:00:00Z",
            "modifications": "none", "errors": [], "warnings": []}]}]});
        assert_eq!(schema_problems(&good), Vec::<String>::new());
        let bad = serde_json::json!({"files": [{"path": "a.pdf", "signatures": [{
            "field": "Seller", "kind": "sig", "indication": "VALID", "level": "B-T", "errors": "x"}]}]});
        let p = schema_problems(&bad).join("\n");
        for needle in [
            "missing \"subIndication\"",
            "kind \"sig\"",
            "indication \"VALID\"",
            "level \"B-T\"",
            "errors is not an array",
        ] {
            assert!(p.contains(needle), "{needle} not in {p}");
        }
    }

    #[test]
    fn expected_exit_follows_the_worst_indication() {
        assert_eq!(expected_exit([PASSED, PASSED]), exit::ALL_PASSED);
        assert_eq!(expected_exit([PASSED, INDETERMINATE]), exit::INDETERMINATE);
        assert_eq!(expected_exit([INDETERMINATE, FAILED]), exit::FAILED);
        assert_eq!(expected_exit([]), exit::NO_SIGNATURE);
    }
}
