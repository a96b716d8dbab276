//! Verdicts: what the checks found, and the ETSI EN 319 102-1 indication computed from it.
//!
//! An [`crate::Error`] means "could not read the input"; a [`SignatureReport`] means "read it
//! and judged it".

use serde::Serialize;

/// ETSI EN 319 102-1 §5.1.2 main indication.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Indication {
    /// Every check passed.
    #[serde(rename = "TOTAL-PASSED")]
    TotalPassed,
    /// The results do not allow a conclusion (trust, time, revocation).
    #[serde(rename = "INDETERMINATE")]
    Indeterminate,
    /// The signature is cryptographically broken or the document was changed in a way the
    /// signature does not permit.
    #[serde(rename = "TOTAL-FAILED")]
    TotalFailed,
}

impl Indication {
    /// The ETSI spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TotalPassed => "TOTAL-PASSED",
            Self::Indeterminate => "INDETERMINATE",
            Self::TotalFailed => "TOTAL-FAILED",
        }
    }
}

/// ETSI EN 319 102-1 §5.1.3 sub-indications (those this verifier can report).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum SubIndication {
    /// TOTAL-FAILED: the hash of the signed data does not match.
    HashFailure,
    /// TOTAL-FAILED: the signature value does not verify.
    SigCryptoFailure,
    /// TOTAL-FAILED: the signer's certificate was revoked before the signing time.
    Revoked,
    /// TOTAL-FAILED / INDETERMINATE: the signature is not in a format we can validate.
    FormatFailure,
    /// INDETERMINATE: no certificate chain to a trust anchor.
    NoCertificateChainFound,
    /// INDETERMINATE: the signer certificate was not found.
    NoSigningCertificateFound,
    /// INDETERMINATE: a certificate is outside its validity period and there is no proof
    /// of existence before it expired.
    OutOfBoundsNoPoe,
    /// INDETERMINATE: the certificate is revoked and no proof of existence before the
    /// revocation.
    RevokedNoPoe,
    /// INDETERMINATE: revocation information could not be found or used.
    TryLater,
    /// INDETERMINATE: a certificate in the chain failed a check (signature, constraints).
    CertificateChainGeneralFailure,
    /// INDETERMINATE: the signature or its certificates use an algorithm considered too weak.
    CryptoConstraintsFailureNoPoe,
    /// INDETERMINATE: the signature is not conform to the expected signature policy
    /// constraints (e.g. key usage).
    SigConstraintsFailure,
    /// INDETERMINATE: the timestamp could not be validated.
    TimestampOrderFailure,
    /// INDETERMINATE: generic.
    SignedDataNotFound,
}

/// How much of the file a signature's byte range covers (ordered, as pyHanko's
/// `SignatureCoverageLevel`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Coverage {
    /// The byte range is malformed or does not start at 0.
    Unclear,
    /// A contiguous block from the start that does not end at a revision boundary.
    ContiguousBlockFromStart,
    /// Everything up to the end of the revision the signature belongs to.
    EntireRevision,
    /// The whole file.
    EntireFile,
}

/// Changes made after a signature, ordered from harmless to disallowed (as pyHanko's
/// `ModificationLevel`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModificationLevel {
    /// No later revisions.
    None,
    /// Long-term validation material only: DSS, document timestamps, metadata.
    LtaUpdates,
    /// Form filling, including signing signature fields.
    FormFilling,
    /// Annotations added or changed.
    Annotations,
    /// Anything else: changes the signature does not permit.
    Other,
}

/// A DocMDP permission level (ISO 32000-2 §12.8.2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MdpPermission {
    /// P=1: no changes (LTA updates still allowed).
    NoChanges,
    /// P=2: form filling and signing.
    FillForms,
    /// P=3: also annotations.
    Annotate,
}

impl MdpPermission {
    /// The permission for `/P`, defaulting to 2 as the standard says.
    pub fn from_p(p: Option<i64>) -> Self {
        match p {
            Some(1) => Self::NoChanges,
            Some(3) => Self::Annotate,
            _ => Self::FillForms,
        }
    }

    /// The highest modification level the permission allows.
    pub fn allows(self) -> ModificationLevel {
        match self {
            Self::NoChanges => ModificationLevel::LtaUpdates,
            Self::FillForms => ModificationLevel::FormFilling,
            Self::Annotate => ModificationLevel::Annotations,
        }
    }
}

/// PAdES baseline level (ETSI EN 319 142-1 §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum PadesLevel {
    /// Not a PAdES baseline signature (e.g. `adbe.pkcs7.detached`).
    #[serde(rename = "not baseline")]
    NotBaseline,
    /// B-B.
    #[serde(rename = "PAdES-BASELINE-B")]
    B,
    /// B-T: with a signature timestamp.
    #[serde(rename = "PAdES-BASELINE-T")]
    T,
    /// B-LT: with validation data in a DSS added after the signature.
    #[serde(rename = "PAdES-BASELINE-LT")]
    Lt,
    /// B-LTA: with a document timestamp over the validation data.
    #[serde(rename = "PAdES-BASELINE-LTA")]
    Lta,
}

/// What kind of signature a field holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignatureKind {
    /// An approval or certification signature.
    Signature,
    /// An RFC 3161 document timestamp (`/SubFilter /ETSI.RFC3161`).
    DocumentTimestamp,
}

/// Where the signing time in a report came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TimeSource {
    /// A validated signature timestamp (proof of existence).
    SignatureTimestamp,
    /// A later document timestamp covering the signature (proof of existence).
    DocumentTimestamp,
    /// The signer's claim: the signing-time attribute.
    SigningTimeAttribute,
    /// The signer's claim: the `/M` entry of the signature dictionary.
    SignatureDictionary,
    /// The genTime of the token itself (document timestamps).
    TokenGenTime,
    /// No time known: validated at the current time.
    ValidationTime,
}

/// A checked RFC 3161 timestamp.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TimestampReport {
    /// genTime, RFC 3339.
    pub time: String,
    /// TSA certificate subject.
    pub tsa: Option<String>,
    /// The imprint matches the stamped data.
    pub imprint_ok: bool,
    /// The token's signature verifies.
    pub signature_ok: bool,
    /// The TSA certificate chains to a trust anchor.
    pub trusted: bool,
    /// The TSA certificate has the timeStamping extended key usage.
    pub eku_ok: bool,
    /// Serial number (hex).
    pub serial: Option<String>,
    /// Policy OID.
    pub policy: Option<String>,
    /// Problems.
    pub errors: Vec<String>,
}

impl TimestampReport {
    /// Whether the timestamp can serve as proof of existence.
    pub fn ok(&self) -> bool {
        self.imprint_ok && self.signature_ok && self.trusted && self.eku_ok
    }
}

/// The full verdict on one signature or document timestamp.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SignatureReport {
    /// Fully qualified field name.
    pub field: String,
    /// Signature or document timestamp.
    pub kind: SignatureKind,
    /// ETSI main indication.
    pub indication: Indication,
    /// ETSI sub-indication, when not TOTAL-PASSED.
    pub sub_indication: Option<SubIndication>,
    /// PAdES level (signatures only).
    pub level: Option<PadesLevel>,
    /// Signer (or TSA) certificate subject.
    pub signer: Option<String>,
    /// Best known signing time, RFC 3339.
    pub signing_time: Option<String>,
    /// Where `signing_time` came from.
    pub signing_time_source: Option<TimeSource>,
    /// The `/SubFilter`.
    pub sub_filter: String,
    /// Signature algorithm, e.g. "ECDSA with SHA-256".
    pub algorithm: Option<String>,
    /// Byte-range coverage.
    pub coverage: Coverage,
    /// Index of the revision the signature covers (0 = original document).
    pub revision: usize,
    /// Changes after signing.
    pub modifications: ModificationLevel,
    /// DocMDP permission in force (certification signature), if any.
    pub docmdp: Option<MdpPermission>,
    /// Whether this is a certification signature.
    pub certification: bool,
    /// The digest of the byte ranges matches the signed message digest.
    pub intact: bool,
    /// The signature value verifies with the signer's key.
    pub crypto_valid: bool,
    /// The signer certificate chains to a trust anchor at the signing time.
    pub trusted: bool,
    /// Revocation status of the signer certificate, in words.
    pub revocation: String,
    /// The signature timestamp (B-T and above).
    pub timestamp: Option<TimestampReport>,
    /// Qualification claims of the signer certificate (QCStatements, QCP-n-qscd).
    pub qualified: Option<crate::checks::qualified::QualifiedInfo>,
    /// Reasons for failure.
    pub errors: Vec<String>,
    /// Things worth knowing that do not change the verdict.
    pub warnings: Vec<String>,
}

/// The verdict on one file.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FileReport {
    /// The path as given.
    pub path: String,
    /// Every signature and document timestamp, in file order.
    pub signatures: Vec<SignatureReport>,
    /// Why the file could not be read, when it could not.
    pub error: Option<String>,
    /// File-level warnings (e.g. repaired cross-reference).
    pub warnings: Vec<String>,
}

impl FileReport {
    /// The exit-code class of this file: see the CLI's documented codes.
    pub fn outcome(&self) -> Outcome {
        if self.error.is_some() {
            return Outcome::Unreadable;
        }
        if self.signatures.is_empty() {
            return Outcome::NoSignature;
        }
        match self.signatures.iter().map(|s| s.indication).max() {
            Some(Indication::TotalFailed) => Outcome::Failed,
            Some(Indication::Indeterminate) => Outcome::Indeterminate,
            _ => Outcome::Passed,
        }
    }
}

/// Per-file outcome, ordered by how bad it is for the exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// Every signature TOTAL-PASSED.
    Passed,
    /// Some INDETERMINATE, none failed.
    Indeterminate,
    /// Some TOTAL-FAILED.
    Failed,
    /// No signature in the file.
    NoSignature,
    /// The file could not be read.
    Unreadable,
}
