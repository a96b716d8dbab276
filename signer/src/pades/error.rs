//! Why preparing or finalizing a PAdES signature failed.

use formats::crypto::SignatureError;
use formats::pdf::PdfError;

use super::timestamp::TimestampError;

/// A failure of [`prepare`](super::prepare) or [`finalize`](super::finalize).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PadesError {
    /// The certificate chain given was empty.
    #[error("no signer certificate: the certificate chain is empty")]
    EmptyChain,
    /// A certificate of the chain does not decode.
    #[error("certificate {index} of the chain is not a DER X.509 certificate: {source}")]
    BadCertificate {
        /// Position in the chain (0 is the signer).
        index: usize,
        /// The decoder's complaint.
        source: der::Error,
    },
    /// The signer's key is of a kind we do not sign with, or does not fit the algorithm
    /// asked for.
    #[error("unsupported signer key: {reason}")]
    UnsupportedKey {
        /// What was wrong.
        reason: String,
    },
    /// The document is certified with DocMDP permission 1: no change at all is allowed,
    /// not even a further signature.
    #[error("the document is certified with DocMDP P=1 (no changes allowed), so it cannot be signed again")]
    CertifiedNoChanges,
    /// A signature field of that name already holds a signature, or a field of that name
    /// is not a signature field.
    #[error("the document already has a field named {name:?} ({what}); choose another field name")]
    FieldExists {
        /// The fully qualified field name.
        name: String,
        /// Why it cannot be used.
        what: &'static str,
    },
    /// The field name is empty or contains a period (periods separate name parts).
    #[error("invalid field name {name:?}: it must be non-empty and contain no '.'")]
    BadFieldName {
        /// The name given.
        name: String,
    },
    /// The page asked for does not exist.
    #[error("page {page} does not exist (the document has {count} pages)")]
    PageOutOfRange {
        /// The 1-based page number asked for.
        page: u32,
        /// The number of pages in the document.
        count: u32,
    },
    /// The rectangle of a visible signature is empty or not finite.
    #[error("the signature rectangle must have a positive width and height")]
    BadRectangle,
    /// The document structure is not what the update needs (e.g. no page tree).
    #[error("cannot sign this document: {what}")]
    Structure {
        /// What is missing or wrong, with object numbers.
        what: String,
    },
    /// The PDF could not be read: not a PDF, encrypted, or damaged beyond repair.
    #[error(transparent)]
    Pdf(#[from] PdfError),
    /// Reading the document or writing the output failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// Encoding a CMS structure failed.
    #[error("DER encoding failed: {0}")]
    Der(#[from] der::Error),
    /// The document given to `finalize` is not the one `prepare` saw.
    #[error("the document differs from the one prepared ({what}); prepare it again")]
    DocumentMismatch {
        /// Length or digest difference.
        what: String,
    },
    /// The signer certificate given to `finalize` is not the one `prepare` named in the
    /// signed attributes.
    #[error("the signer certificate differs from the one the signed attributes name")]
    CertificateMismatch,
    /// The signature value does not verify with the signer certificate's key over the
    /// signed attributes.
    #[error("the signature value does not verify against the signer certificate: {source}")]
    BadSignature {
        /// What verification found.
        source: SignatureError,
    },
    /// B-T was asked for but no time-stamper was given to `finalize`.
    #[error("level B-T needs a time-stamp authority, and none was given")]
    NoTimestamper,
    /// The time-stamper failed.
    #[error(transparent)]
    Timestamp(#[from] TimestampError),
    /// The time-stamp token is malformed or stamps something else.
    #[error("the time-stamp token is not acceptable: {reason}")]
    BadTimestampToken {
        /// What was wrong.
        reason: String,
    },
    /// The CMS is larger than the `/Contents` placeholder: prepare again with
    /// `SignOptions::min_contents_len` at least `needed` (the device must then sign the new
    /// signed attributes).
    #[error("the signature ({needed} bytes) does not fit the /Contents placeholder ({available} bytes); prepare again with min_contents_len >= {needed}")]
    PlaceholderTooSmall {
        /// Bytes the CMS needs.
        needed: usize,
        /// Bytes the placeholder holds.
        available: usize,
    },
    /// Stored prepared state is inconsistent (damaged or from another version).
    #[error("the prepared signature state is corrupt: {what}")]
    CorruptState {
        /// What did not hold.
        what: String,
    },
}
