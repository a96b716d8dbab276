//! A small PKI toolbox shared by the TSA and the signer's CA: key pairs held by `ring`
//! ([`key`]), certificate issuing ([`issue`]) and making the ESS signing-certificate-v2 value
//! that binds a CMS signature to its certificate ([`ess`]; the types are
//! [`crate::cms::ess`]'s).
//!
//! Everything here is I/O-free: callers read and write the PEM/DER bytes.

pub mod ess;
pub mod issue;
pub mod key;

pub use ess::{ess_cert_id_v2_sha256, signing_certificate_v2};
pub use issue::{issue_certificate, CertificateTemplate, ExtendedKeyUsageSpec, IssuerRef, Profile};
pub use key::{KeyAlgorithm, SigningKey};

/// What can go wrong while handling keys or issuing certificates.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PkiError {
    /// A certificate field could not be encoded or a structure could not be decoded.
    #[error("DER encoding or decoding failed: {0}")]
    Der(#[from] der::Error),
    /// `ring` could not generate a key pair (the system random source failed).
    #[error("key generation failed (system random source): {0}")]
    KeyGeneration(ring::error::Unspecified),
    /// `ring` refused the private key: malformed PKCS#8, a key that does not match its curve,
    /// a missing public key, or an RSA key outside 2048..=8192 bits.
    #[error("private key rejected by ring: {reason}")]
    KeyRejected {
        /// ring's description of the rejection (`ring::error::KeyRejected` carries only this).
        reason: String,
    },
    /// The PKCS#8 structure names an algorithm this toolbox does not sign with.
    #[error("unsupported private key algorithm {algorithm} (parameters {parameters:?}); use ECDSA P-256, P-384 or RSA")]
    UnsupportedKeyAlgorithm {
        /// The algorithm OID found in the PKCS#8 `privateKeyAlgorithm`.
        algorithm: const_oid::ObjectIdentifier,
        /// The curve OID, when the algorithm is id-ecPublicKey.
        parameters: Option<const_oid::ObjectIdentifier>,
    },
    /// The PKCS#8 structure could not be parsed.
    #[error("PKCS#8 private key malformed: {0}")]
    Pkcs8(#[from] p256::pkcs8::Error),
    /// PEM text was malformed (bad base64, unterminated block).
    #[error("PEM malformed: {0}")]
    Pem(der::pem::Error),
    /// PEM text had an unexpected label.
    #[error("PEM: expected a {expected} block, found {found:?}")]
    PemLabel {
        /// The label we wanted, e.g. `PRIVATE KEY`.
        expected: &'static str,
        /// The label found in the input.
        found: String,
    },
    /// The signing operation failed inside `ring`.
    #[error("signing failed: {0}")]
    Sign(ring::error::Unspecified),
    /// A time before 1970 was given for a certificate validity bound.
    #[error("time before 1970: {0}")]
    TimeBeforeEpoch(#[from] std::time::SystemTimeError),
    /// A subject public key could not be turned into a key identifier.
    #[error("subject public key info unusable: {0}")]
    Spki(#[from] spki::Error),
}

// pem-rfc7468's error implements `std::error::Error` only with its `std` feature, so it is
// carried as a value (Display) rather than as a `#[source]`.
impl From<der::pem::Error> for PkiError {
    fn from(e: der::pem::Error) -> Self {
        Self::Pem(e)
    }
}
