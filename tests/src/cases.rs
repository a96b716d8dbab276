//! The verifier's generated test cases: PKI + samples + signed/mutated PDFs + pyHanko's verdicts,
//! made once per test process ([`Fixture::shared`]) in `target/interop-cases/<test binary>/`
//! (kept after the run for inspection; wiped at the start of the next one).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Instant;

use anyhow::{anyhow, Context, Result};

use crate::pki::Pki;
use crate::pyhanko::{self, PyhankoVerdict};
use crate::samples::Samples;
use crate::tools::{self, Venv};

/// ETSI EN 319 102-1 indication: the signature is valid.
pub const PASSED: &str = "TOTAL-PASSED";
/// ETSI EN 319 102-1 indication: the signature is definitely invalid.
pub const FAILED: &str = "TOTAL-FAILED";
/// ETSI EN 319 102-1 indication: validity could not be established.
pub const INDETERMINATE: &str = "INDETERMINATE";

/// One generated PDF.
#[derive(Clone, Debug)]
pub struct Case {
    /// File name, e.g. `b-t-p256.pdf`.
    pub name: String,
    /// Full path.
    pub path: PathBuf,
    /// What it is.
    pub what: String,
    /// What each signature field was built to get (field -> indication).
    pub intent: BTreeMap<String, String>,
    /// pyHanko's verdicts, in file order: the expectation for `verify`.
    pub pyhanko: Vec<PyhankoVerdict>,
}

/// Everything the verifier tests need.
#[derive(Debug)]
pub struct Fixture {
    /// Root of the generated files.
    pub dir: PathBuf,
    /// The test PKI (`dir/pki`).
    pub pki: Pki,
    /// The unsigned samples (`dir/samples`).
    pub samples: Samples,
    /// The signed cases (`dir/cases`), in generation order.
    pub cases: Vec<Case>,
    /// How long each generation step took, for the log.
    pub timings: String,
}

impl Fixture {
    /// Generate everything into `dir` (wiped first).
    pub fn generate(dir: &Path, venv: &Venv) -> Result<Fixture> {
        if dir.exists() {
            std::fs::remove_dir_all(dir)
                .with_context(|| format!("cannot clear {}", dir.display()))?;
        }
        std::fs::create_dir_all(dir)?;
        let mut timings = Vec::new();
        let mut lap = {
            let mut t = Instant::now();
            move |what: &str, timings: &mut Vec<String>| {
                timings.push(format!("{what} {:.1?}", t.elapsed()));
                t = Instant::now();
            }
        };
        let total = Instant::now();
        let pki = Pki::generate(&dir.join("pki")).context("generating the test PKI")?;
        lap("pki", &mut timings);
        let samples =
            Samples::generate(&dir.join("samples"), venv).context("generating sample PDFs")?;
        lap("samples", &mut timings);
        let out = dir.join("cases");
        let specs = pyhanko::make_cases(venv, &pki, &samples, &out).context("signing the cases")?;
        lap("signing", &mut timings);
        let files: Vec<PathBuf> = specs.iter().map(|c| out.join(&c.file)).collect();
        let mut verdicts =
            pyhanko::verdicts(venv, &pki, &files).context("asking pyHanko for verdicts")?;
        lap("pyHanko verdicts", &mut timings);
        let cases = specs
            .into_iter()
            .map(|spec| {
                let pyhanko = verdicts
                    .remove(&spec.file)
                    .ok_or_else(|| anyhow!("pyHanko gave no verdict for {}", spec.file))?;
                Ok(Case {
                    path: out.join(&spec.file),
                    name: spec.file,
                    what: spec.what,
                    intent: spec.intent,
                    pyhanko,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let timings = format!(
            "{} cases in {:.1?} ({})",
            cases.len(),
            total.elapsed(),
            timings.join(", ")
        );
        Ok(Fixture {
            dir: dir.to_path_buf(),
            pki,
            samples,
            cases,
            timings,
        })
    }

    /// The fixture of this test process, generated on first use. `None` when a tool is missing
    /// outside CI (the test should return: it is skipped); panics when generation fails.
    pub fn shared() -> Option<&'static Fixture> {
        static FIXTURE: OnceLock<Option<std::result::Result<Fixture, String>>> = OnceLock::new();
        let fixture = FIXTURE.get_or_init(|| {
            tools::require_tool("openssl")?;
            tools::require_tool("qpdf")?;
            let venv = tools::venv()?;
            let dir = default_dir();
            let made = Fixture::generate(&dir, &venv).map_err(|e| format!("{e:#}"));
            if let Ok(f) = &made {
                eprintln!(
                    "interop-tests: generated {} in {}",
                    f.timings,
                    dir.display()
                );
            }
            Some(made)
        });
        match fixture {
            Some(Ok(f)) => Some(f),
            Some(Err(e)) => panic!("generating the test cases failed:\n{e}"),
            None => {
                eprintln!("SKIPPED: the generated test cases need the tools named above");
                None
            }
        }
    }

    /// The case called `name` (panics when there is none: a typo in a test).
    pub fn case(&self, name: &str) -> &Case {
        self.cases
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("no generated case {name}"))
    }
}

/// `<target>/interop-cases/<test binary name>`, or a directory under the system temp dir when
/// the test executable is not where cargo puts it; `INTEROP_CASES_DIR` overrides.
fn default_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("INTEROP_CASES_DIR") {
        return PathBuf::from(d);
    }
    let exe = std::env::current_exe().ok();
    let stem = exe
        .as_deref()
        .and_then(Path::file_stem)
        .map(|s| {
            s.to_string_lossy()
                .rsplit_once('-')
                .map_or(s.to_string_lossy().to_string(), |(a, _)| a.to_owned())
        })
        .unwrap_or_else(|| "interop".to_owned());
    // target/<profile>/deps/<exe>
    match exe.as_deref().and_then(|e| e.parent()?.parent()?.parent()) {
        Some(target) => target.join("interop-cases").join(stem),
        None => std::env::temp_dir().join(format!("interop-cases-{stem}-{}", std::process::id())),
    }
}
