//! Harness for the end-to-end and interoperability tests.
//!
//! It installs nothing itself: `scripts/test.sh` (via `scripts/install-test-deps.sh`) provides
//! openssl, qpdf, poppler-utils and a virtualenv with pyHanko, whose path it exports as
//! `TEST_VENV`. When a tool is missing the tests skip with a printed reason, except under
//! `CI=true` where they fail ([`tools`]).
//!
//! - [`pki`]: a test PKI made with the `openssl` CLI;
//! - [`samples`]: unsigned sample PDFs (reportlab through the venv, qpdf);
//! - [`pyhanko`]: signs the verifier's test cases with pyHanko's API (`tests/py/make_cases.py`,
//!   including CMS made by `openssl cms`) and asks pyHanko for its verdicts
//!   (`tests/py/pyhanko_verdicts.py`);
//! - [`cases`]: all of that once per test process ([`cases::Fixture::shared`]);
//! - [`pdfsig`]: poppler's pdfsig with a throw-away NSS database, a second judge;
//! - [`bins`]: builds and locates the workspace binaries;
//! - [`verify`]: runs `verify --json` and checks the report's schema;
//! - [`table`]: failure tables.
//!
//! `cargo run -p interop-tests --bin interop-cases -- DIR` writes the same fixture to `DIR` for
//! manual inspection.
#![forbid(unsafe_code)]

pub mod bins;
pub mod cases;
pub mod pdfsig;
pub mod pki;
pub mod pyhanko;
pub mod samples;
pub mod table;
pub mod tools;
pub mod verify;
