//! The time-stamp port: what B-T needs from a time-stamp authority (RFC 3161).
//!
//! The library never talks to a TSA itself. The service passes something that implements
//! [`Timestamper`]: the TSA crate's checking client in production, an in-process token
//! issuer in tests.

use formats::crypto::DigestAlgorithm;

/// Obtains RFC 3161 time-stamp tokens.
pub trait Timestamper {
    /// A `TimeStampToken` (the DER `ContentInfo` holding `SignedData` over a `TSTInfo`,
    /// RFC 3161 §2.4.2) whose message imprint is `imprint`, hashed with `digest_alg`.
    ///
    /// The implementation is expected to have checked the TSA's reply (status, nonce,
    /// imprint, signature); `finalize` still checks that the token's imprint is the one it
    /// asked for.
    fn timestamp(
        &self,
        digest_alg: DigestAlgorithm,
        imprint: &[u8],
    ) -> Result<Vec<u8>, TimestampError>;
}

/// Why no time-stamp token could be had.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TimestampError {
    /// The authority could not be reached or did not answer in time (worth a retry).
    #[error("the time-stamp authority is unavailable: {reason}")]
    Unavailable {
        /// What went wrong (connection refused, timeout, HTTP status).
        reason: String,
    },
    /// The authority answered with a refusal (PKIStatus rejection, RFC 3161 §2.4.2).
    #[error("the time-stamp authority refused the request: {reason}")]
    Rejected {
        /// Status and failure information from the reply.
        reason: String,
    },
    /// The reply was not an acceptable token (bad signature, wrong imprint or nonce).
    #[error("the time-stamp authority's reply is not acceptable: {reason}")]
    BadReply {
        /// What the check found.
        reason: String,
    },
    /// Any other failure of the implementation.
    #[error("time-stamping failed: {0}")]
    Other(Box<dyn std::error::Error + Send + Sync>),
}
