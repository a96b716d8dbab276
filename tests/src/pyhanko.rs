//! Driving the python side: `tests/py/make_cases.py` (signing with pyHanko's API and
//! openssl) and `tests/py/pyhanko_verdicts.py` (pyHanko's own verdict on each signature).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};
use serde_json::Value;

use crate::pki::{Pki, INT};
use crate::samples::Samples;
use crate::tools::{run, Venv};

/// One case as `make_cases.py` describes it.
#[derive(Clone, Debug)]
pub struct CaseSpec {
    /// File name inside the output directory.
    pub file: String,
    /// What the case is.
    pub what: String,
    /// What each signature field was built to get: field name -> indication.
    pub intent: BTreeMap<String, String>,
}

/// pyHanko's verdict on one signature or document timestamp.
#[derive(Clone, Debug)]
pub struct PyhankoVerdict {
    /// Signature field name.
    pub field: String,
    /// `signature` or `document-timestamp`.
    pub kind: String,
    /// `TOTAL-PASSED`, `TOTAL-FAILED`, `INDETERMINATE`, or `ERROR` when pyHanko raised.
    pub indication: String,
    /// ETSI sub-indication when pyHanko gives one.
    pub sub_indication: Option<String>,
    /// pyHanko's status summary (e.g. `INTACT:TRUSTED,UNTOUCHED`).
    pub summary: String,
}

/// Run `make_cases.py`: sign every case into `out`, return the manifest.
pub fn make_cases(venv: &Venv, pki: &Pki, samples: &Samples, out: &Path) -> Result<Vec<CaseSpec>> {
    run(venv
        .script("make_cases.py")
        .arg(&pki.dir)
        .arg(&samples.dir)
        .arg(out))?;
    let manifest = out.join("cases.json");
    let json: Value = serde_json::from_slice(&std::fs::read(&manifest)?)
        .with_context(|| format!("{} is not JSON", manifest.display()))?;
    let bad = || anyhow!("unexpected shape of {}", manifest.display());
    json.as_array()
        .ok_or_else(bad)?
        .iter()
        .map(|c| {
            let intent = c["intent"]
                .as_object()
                .ok_or_else(bad)?
                .iter()
                .map(|(k, v)| Ok((k.clone(), v.as_str().ok_or_else(bad)?.to_owned())))
                .collect::<Result<_>>()?;
            Ok(CaseSpec {
                file: c["file"].as_str().ok_or_else(bad)?.to_owned(),
                what: c["what"].as_str().unwrap_or_default().to_owned(),
                intent,
            })
        })
        .collect()
}

/// Run `pyhanko_verdicts.py` on `files` with the PKI's root as the only anchor and its CRLs:
/// file name -> verdicts in file order.
pub fn verdicts(
    venv: &Venv,
    pki: &Pki,
    files: &[PathBuf],
) -> Result<BTreeMap<String, Vec<PyhankoVerdict>>> {
    let out = run(venv
        .script("pyhanko_verdicts.py")
        .arg("--root")
        .arg(pki.root())
        .arg("--cert")
        .arg(pki.cert(INT))
        .arg("--crl")
        .arg(pki.crl("root"))
        .arg("--crl")
        .arg(pki.crl("int"))
        .args(files))?;
    let json: Value =
        serde_json::from_slice(&out.stdout).context("pyhanko_verdicts.py printed no JSON")?;
    let bad = || anyhow!("unexpected shape of pyhanko_verdicts.py output");
    json.as_object()
        .ok_or_else(bad)?
        .iter()
        .map(|(file, sigs)| {
            let sigs = sigs
                .as_array()
                .ok_or_else(bad)?
                .iter()
                .map(|s| {
                    let text = |k: &str| s[k].as_str().map(str::to_owned);
                    Ok(PyhankoVerdict {
                        field: text("field").ok_or_else(bad)?,
                        kind: text("kind").ok_or_else(bad)?,
                        indication: text("indication").ok_or_else(bad)?,
                        sub_indication: text("subIndication"),
                        summary: text("summary").unwrap_or_default(),
                    })
                })
                .collect::<Result<_>>()?;
            Ok((file.clone(), sigs))
        })
        .collect()
}
