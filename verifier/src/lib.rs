//! Validation of signed PDF documents: PAdES (ETSI EN 319 142-1), `adbe.pkcs7.detached` and
//! RFC 3161 document timestamps, reported as ETSI EN 319 102-1 indications.
//!
//! # Design overview
//! Validation runs in three layers, each testable on its own:
//! 1. **PDF** ([`pdf`]): find every signature field across all revisions, check the
//!    `/ByteRange` (starts at 0, the gap is exactly `/Contents`, nothing past EOF), compute
//!    coverage (entire file, entire revision, or less), hash the signed bytes in one
//!    streaming pass, and run the difference analysis on every later revision
//!    ([`pdf::modifications`]), honouring DocMDP.
//! 2. **CMS** ([`checks`]): message digest, signature value, ESS signing certificate,
//!    signature timestamp and document timestamps (imprint, TSA signature, timeStamping EKU),
//!    certificate path to the trust anchors at the best proven time, key usage, revocation
//!    data embedded in the CMS or the DSS. These know nothing about PDF.
//! 3. **Verdict** ([`status`]): the findings become a [`SignatureReport`] whose
//!    [`Indication`] and [`SubIndication`] are computed from them, never stored separately.
//!
//! The reader never loads the whole file: memory stays flat whatever the document size.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod checks;
pub mod pdf;
pub mod status;
mod validate;

pub use status::{
    Coverage, FileReport, Indication, MdpPermission, ModificationLevel, Outcome, PadesLevel,
    SignatureKind, SignatureReport, SubIndication, TimeSource, TimestampReport,
};
pub use validate::{verify_path, verify_reader, Options};

/// Why a file could not be validated at all (as opposed to a verdict on its signatures).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file could not be opened or read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The PDF structure could not be read.
    #[error(transparent)]
    Pdf(#[from] formats::pdf::PdfError),
}
