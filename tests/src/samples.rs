//! Unsigned sample PDFs: `tests/py/samples.py` (reportlab) writes a 1-page contract with
//! AcroForm text fields and a 3-page document; qpdf rewrites the contract with a
//! cross-reference stream and object streams.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{ensure, Result};

use crate::tools::{run, Venv};

/// The generated samples.
#[derive(Clone, Debug)]
pub struct Samples {
    /// Directory holding them.
    pub dir: PathBuf,
}

impl Samples {
    /// Write every sample into `dir` (needs the venv's reportlab and `qpdf`).
    pub fn generate(dir: &Path, venv: &Venv) -> Result<Samples> {
        run(venv.script("samples.py").arg(dir))?;
        let samples = Samples {
            dir: dir.to_path_buf(),
        };
        run(Command::new("qpdf")
            .args(["--deterministic-id", "--object-streams=generate"])
            .arg(samples.contract())
            .arg(samples.contract_objstm()))?;
        let objstm = std::fs::read(samples.contract_objstm())?;
        ensure!(
            contains(&objstm, b"/ObjStm") && contains(&objstm, b"/XRef"),
            "qpdf did not write object streams / an xref stream"
        );
        Ok(samples)
    }

    /// 1-page contract, AcroForm text fields `buyer_name` and `buyer_date`, unsigned.
    pub fn contract(&self) -> PathBuf {
        self.dir.join("contract.pdf")
    }

    /// 3-page document, unsigned.
    pub fn terms(&self) -> PathBuf {
        self.dir.join("terms-3p.pdf")
    }

    /// [`Samples::contract`] rewritten with a cross-reference stream and object streams.
    pub fn contract_objstm(&self) -> PathBuf {
        self.dir.join("contract-objstm.pdf")
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}
