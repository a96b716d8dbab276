//! poppler's `pdfsig` as a second, independent judge of PDF signatures.
//!
//! pdfsig reads its trust anchors from an NSS database: [`Pdfsig::new`] makes a throw-away one
//! where the root gets trust `C,C,C` (pdfsig needs the S/MIME "C" flag; `C,,` is SSL-only and
//! pdfsig then says the issuer is not trusted) and imports CRLs (NSS never fetches them).
//! What pdfsig cannot judge: changes made after signing (it never flags them) and document
//! timestamps (reported as not verified).

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};
use tempfile::TempDir;

use crate::cases::{FAILED, INDETERMINATE, PASSED};
use crate::tools::run;

/// A pdfsig set up with its own NSS database.
#[derive(Debug)]
pub struct Pdfsig {
    nss: TempDir,
}

/// pdfsig's words on one signature.
#[derive(Clone, Debug, Default)]
pub struct PdfsigSignature {
    /// Signature field name.
    pub field: String,
    /// `Signature Validation:` line, e.g. `Signature is Valid.`
    pub signature: String,
    /// `Certificate Validation:` line, e.g. `Certificate is Trusted.`
    pub certificate: String,
    /// `Signature Type:` (the SubFilter), `unknown` for document timestamps.
    pub sub_filter: String,
    /// The signature covers the whole file.
    pub total: bool,
}

impl PdfsigSignature {
    /// ETSI indication by the same rules as `/work/shared/peers/validate.sh`: broken → TOTAL-FAILED,
    /// intact and trusted → TOTAL-PASSED, otherwise INDETERMINATE; `None` for a document timestamp.
    pub fn indication(&self) -> Option<&'static str> {
        if self.sub_filter == "unknown" || self.signature.contains("not yet been verified") {
            return None;
        }
        let sig = self.signature.to_ascii_lowercase();
        if sig.contains("invalid") || sig.contains("digest mismatch") || sig.contains("corrupted") {
            Some(FAILED)
        } else if sig.contains("is valid")
            && self.certificate.to_ascii_lowercase().contains("is trusted")
        {
            Some(PASSED)
        } else {
            Some(INDETERMINATE)
        }
    }
}

impl Pdfsig {
    /// An NSS database trusting `root` (for signing) and holding the DER `crls`.
    pub fn new(root: &Path, crls: &[&Path]) -> Result<Pdfsig> {
        let nss = tempfile::tempdir()?;
        let db = format!("sql:{}", nss.path().display());
        run(Command::new("certutil").args(["-N", "--empty-password", "-d", &db]))?;
        run(Command::new("certutil")
            .args(["-A", "-n", "test-root", "-t", "C,C,C", "-d", &db, "-i"])
            .arg(root))?;
        for crl in crls {
            run(Command::new("crlutil")
                .args(["-I", "-B", "-d", &db, "-i"])
                .arg(crl))?;
        }
        Ok(Pdfsig { nss })
    }

    /// pdfsig's report on every signature of `file`, in file order.
    pub fn check(&self, file: &Path) -> Result<Vec<PdfsigSignature>> {
        let db = format!("sql:{}", self.nss.path().display());
        let out = Command::new("pdfsig")
            .args(["-nssdir", &db])
            .arg(file)
            .output()
            .context("cannot run pdfsig")?;
        // pdfsig exits non-zero for invalid signatures too: judge by its report
        let text = String::from_utf8_lossy(&out.stdout);
        let mut sigs: Vec<PdfsigSignature> = Vec::new();
        for line in text.lines() {
            let value = |prefix: &str| {
                line.trim_start()
                    .strip_prefix(prefix)
                    .map(|v| v.trim().to_owned())
            };
            if line.starts_with("Signature #") {
                sigs.push(PdfsigSignature::default());
            }
            let Some(sig) = sigs.last_mut() else { continue };
            if let Some(v) = value("- Signature Field Name:") {
                sig.field = v;
            } else if let Some(v) = value("- Signature Validation:") {
                sig.signature = v;
            } else if let Some(v) = value("- Certificate Validation:") {
                sig.certificate = v;
            } else if let Some(v) = value("- Signature Type:") {
                sig.sub_filter = v;
            } else if line.contains("- Total document signed") {
                sig.total = true;
            }
        }
        if sigs.is_empty() && !out.status.success() {
            anyhow::bail!(
                "pdfsig {} failed: {}",
                file.display(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(sigs)
    }
}
