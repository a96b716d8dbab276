//! Parsing and validating a `TimeStampReq` (RFC 3161 §2.4.1) into a [`ValidRequest`], or a
//! typed [`Rejection`] that names its `PKIFailureInfo`.

use std::fmt;

use const_oid::ObjectIdentifier;
use der::{asn1::Int, Decode, Encode, Tag, Tagged};
use x509_tsp::{MessageImprint, TimeStampReq};

use crate::response::FailureInfo;
use formats::crypto::DigestAlgorithm;
use formats::oids;

/// The imprint hash algorithms we accept (ETSI EN 319 422 §5.2.2 and TS 119 312: SHA-1 is
/// no longer acceptable).
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub enum ImprintAlgorithm {
    /// SHA-256 (32 bytes).
    Sha256,
    /// SHA-384 (48 bytes).
    Sha384,
    /// SHA-512 (64 bytes).
    Sha512,
}

impl ImprintAlgorithm {
    /// The shared digest this imprint algorithm is (one implementation of hashing, OIDs
    /// and lengths for the whole workspace: `formats::crypto`).
    pub fn digest_algorithm(self) -> DigestAlgorithm {
        match self {
            Self::Sha256 => DigestAlgorithm::Sha256,
            Self::Sha384 => DigestAlgorithm::Sha384,
            Self::Sha512 => DigestAlgorithm::Sha512,
        }
    }

    /// The algorithm for an OID, if accepted (SHA-1 is not).
    pub fn from_oid(oid: ObjectIdentifier) -> Option<Self> {
        match DigestAlgorithm::from_oid(&oid)? {
            DigestAlgorithm::Sha256 => Some(Self::Sha256),
            DigestAlgorithm::Sha384 => Some(Self::Sha384),
            DigestAlgorithm::Sha512 => Some(Self::Sha512),
            DigestAlgorithm::Sha1 => None,
        }
    }

    /// The OID.
    pub fn oid(self) -> ObjectIdentifier {
        self.digest_algorithm().oid()
    }

    /// The digest length in bytes.
    pub fn output_len(self) -> usize {
        self.digest_algorithm().output_len()
    }

    /// A short name (`sha256`, ...), as stored in the token log.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sha256 => "sha256",
            Self::Sha384 => "sha384",
            Self::Sha512 => "sha512",
        }
    }

    /// Hashes `data` with this algorithm.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        self.digest_algorithm().digest(data)
    }
}

/// Which policies the TSA answers under.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct PolicySet {
    /// The policy of every token we issue, and the only one a request may name.
    pub policy: ObjectIdentifier,
}

/// A request that passed every check, ready to be stamped.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct ValidRequest {
    /// The imprint algorithm.
    pub algorithm: ImprintAlgorithm,
    /// The messageImprint exactly as requested (copied into TSTInfo).
    pub message_imprint: MessageImprint,
    /// The nonce to echo, if any.
    pub nonce: Option<Int>,
    /// Whether the TSA certificate must be included in the token.
    pub cert_req: bool,
}

impl ValidRequest {
    /// The hashed message.
    pub fn imprint(&self) -> &[u8] {
        self.message_imprint.hashed_message.as_bytes()
    }
}

/// Why a request is refused; each answers `rejection` with one `PKIFailureInfo` bit.
#[derive(Clone, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum Rejection {
    /// The bytes are not a DER `TimeStampReq` (badDataFormat).
    Malformed {
        /// What the DER decoder reported.
        error: der::Error,
    },
    /// The imprint algorithm is SHA-1, unknown, or not a hash (badAlg).
    UnsupportedAlgorithm {
        /// The algorithm OID of the request.
        oid: ObjectIdentifier,
    },
    /// The imprint algorithm carries parameters other than absent or NULL (badAlg).
    AlgorithmParameters {
        /// The algorithm OID of the request.
        oid: ObjectIdentifier,
    },
    /// The hashed message is not as long as the algorithm's output (badDataFormat).
    ImprintLength {
        /// The imprint algorithm.
        algorithm: ImprintAlgorithm,
        /// The length found.
        found: usize,
    },
    /// The request names a policy we do not issue under (unacceptedPolicy).
    UnacceptedPolicy {
        /// The requested policy.
        requested: ObjectIdentifier,
    },
    /// The request carries an extension; we support none (unacceptedExtension).
    UnacceptedExtension {
        /// The first extension's OID.
        oid: ObjectIdentifier,
    },
}

impl Rejection {
    /// The `PKIFailureInfo` bit this rejection sets.
    pub fn failure_info(&self) -> FailureInfo {
        match self {
            Self::Malformed { .. } | Self::ImprintLength { .. } => FailureInfo::BadDataFormat,
            Self::UnsupportedAlgorithm { .. } | Self::AlgorithmParameters { .. } => {
                FailureInfo::BadAlg
            }
            Self::UnacceptedPolicy { .. } => FailureInfo::UnacceptedPolicy,
            Self::UnacceptedExtension { .. } => FailureInfo::UnacceptedExtension,
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed { error } => write!(f, "request is not a DER TimeStampReq: {error}"),
            Self::UnsupportedAlgorithm { oid } if *oid == oids::SHA1 => {
                f.write_str("SHA-1 imprints are not accepted; use SHA-256, SHA-384 or SHA-512")
            }
            Self::UnsupportedAlgorithm { oid } => write!(
                f,
                "imprint algorithm {oid} is not accepted; use SHA-256, SHA-384 or SHA-512"
            ),
            Self::AlgorithmParameters { oid } => {
                write!(
                    f,
                    "imprint algorithm {oid} must have absent or NULL parameters"
                )
            }
            Self::ImprintLength { algorithm, found } => write!(
                f,
                "a {} imprint is {} bytes, not {found}",
                algorithm.name(),
                algorithm.output_len()
            ),
            Self::UnacceptedPolicy { requested } => {
                write!(f, "policy {requested} is not offered by this TSA")
            }
            Self::UnacceptedExtension { oid } => {
                write!(f, "request extension {oid} is not supported")
            }
        }
    }
}

impl std::error::Error for Rejection {}

/// Parses and validates a DER `TimeStampReq`.
///
/// # Errors
/// A [`Rejection`] saying which check failed.
pub fn parse_request(der: &[u8], policies: &PolicySet) -> Result<ValidRequest, Rejection> {
    let request = TimeStampReq::from_der(der).map_err(|error| Rejection::Malformed { error })?;
    let alg = &request.message_imprint.hash_algorithm;
    let algorithm = ImprintAlgorithm::from_oid(alg.oid)
        .ok_or(Rejection::UnsupportedAlgorithm { oid: alg.oid })?;
    if let Some(params) = &alg.parameters {
        if params.tag() != Tag::Null || !params.value().is_empty() {
            return Err(Rejection::AlgorithmParameters { oid: alg.oid });
        }
    }
    let found = request.message_imprint.hashed_message.as_bytes().len();
    if found != algorithm.output_len() {
        return Err(Rejection::ImprintLength { algorithm, found });
    }
    if let Some(requested) = request.req_policy {
        if requested != policies.policy {
            return Err(Rejection::UnacceptedPolicy { requested });
        }
    }
    if let Some(first) = request.extensions.as_ref().and_then(|e| e.first()) {
        return Err(Rejection::UnacceptedExtension { oid: first.extn_id });
    }
    Ok(ValidRequest {
        algorithm,
        message_imprint: request.message_imprint,
        nonce: request.nonce,
        cert_req: request.cert_req,
    })
}

/// Builds a DER `TimeStampReq` (for the client and for tests).
///
/// # Errors
/// Only if DER encoding fails (an imprint over 256 MiB).
pub fn encode_request(
    algorithm: ImprintAlgorithm,
    imprint: &[u8],
    nonce: Option<Int>,
    policy: Option<ObjectIdentifier>,
    cert_req: bool,
) -> der::Result<Vec<u8>> {
    TimeStampReq {
        version: x509_tsp::TspVersion::V1,
        message_imprint: MessageImprint {
            hash_algorithm: spki::AlgorithmIdentifier {
                oid: algorithm.oid(),
                parameters: None,
            },
            hashed_message: der::asn1::OctetString::new(imprint)?,
        },
        req_policy: policy,
        nonce,
        cert_req,
        extensions: None,
    }
    .to_der()
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.99999.1.1");

    fn policies() -> PolicySet {
        PolicySet { policy: POLICY }
    }

    /// `openssl ts -query -data abc.txt` (SHA-256, nonce, no certReq), from x509-tsp's tests.
    const OPENSSL_QUERY: &str = "30400201013031300D060960864801650304020105000420BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD0208314CFCE4E0651827";

    #[test]
    fn openssl_query_is_accepted() {
        let der = hex::decode(OPENSSL_QUERY).unwrap();
        let req = parse_request(&der, &policies()).unwrap();
        assert_eq!(req.algorithm, ImprintAlgorithm::Sha256);
        assert_eq!(req.imprint(), ImprintAlgorithm::Sha256.digest(b"abc"));
        assert_eq!(
            req.nonce.unwrap().as_bytes(),
            hex::decode("314CFCE4E0651827").unwrap()
        );
        assert!(!req.cert_req);
    }

    #[test]
    fn each_accepted_algorithm() {
        for alg in [
            ImprintAlgorithm::Sha256,
            ImprintAlgorithm::Sha384,
            ImprintAlgorithm::Sha512,
        ] {
            let der = encode_request(alg, &alg.digest(b"x"), None, Some(POLICY), true).unwrap();
            let req = parse_request(&der, &policies()).unwrap();
            assert_eq!(req.algorithm, alg);
            assert!(req.cert_req);
        }
    }

    fn with_oid(oid: ObjectIdentifier, len: usize) -> Vec<u8> {
        TimeStampReq {
            version: x509_tsp::TspVersion::V1,
            message_imprint: MessageImprint {
                hash_algorithm: spki::AlgorithmIdentifier {
                    oid,
                    parameters: None,
                },
                hashed_message: der::asn1::OctetString::new(vec![7; len]).unwrap(),
            },
            req_policy: None,
            nonce: None,
            cert_req: false,
            extensions: None,
        }
        .to_der()
        .unwrap()
    }

    #[test]
    fn rejections_carry_the_right_failure_bit() {
        let cases: Vec<(Vec<u8>, FailureInfo)> = vec![
            (b"garbage".to_vec(), FailureInfo::BadDataFormat),
            (vec![], FailureInfo::BadDataFormat),
            (with_oid(oids::SHA1, 20), FailureInfo::BadAlg),
            (
                with_oid(ObjectIdentifier::new_unwrap("1.2.3.4"), 32),
                FailureInfo::BadAlg,
            ),
            (with_oid(oids::SHA256, 31), FailureInfo::BadDataFormat),
            (with_oid(oids::SHA512, 32), FailureInfo::BadDataFormat),
            (
                encode_request(
                    ImprintAlgorithm::Sha256,
                    &[0; 32],
                    None,
                    Some(ObjectIdentifier::new_unwrap("1.2.3.4.5")),
                    false,
                )
                .unwrap(),
                FailureInfo::UnacceptedPolicy,
            ),
        ];
        for (der, expected) in cases {
            let err = parse_request(&der, &policies()).unwrap_err();
            assert_eq!(err.failure_info(), expected, "{err}");
        }
    }

    #[test]
    fn sha1_message_says_what_to_use() {
        let err = parse_request(&with_oid(oids::SHA1, 20), &policies()).unwrap_err();
        assert!(err.to_string().contains("SHA-1"), "{err}");
    }

    #[test]
    fn trailing_bytes_are_malformed() {
        let mut der = hex::decode(OPENSSL_QUERY).unwrap();
        der.push(0);
        assert!(matches!(
            parse_request(&der, &policies()),
            Err(Rejection::Malformed { .. })
        ));
    }

    #[test]
    fn null_parameters_are_accepted_others_are_not() {
        // OPENSSL_QUERY has NULL parameters (05 00); replace them by INTEGER 0 (02 01 00) with
        // the lengths adjusted.
        let der = hex::decode(OPENSSL_QUERY).unwrap();
        assert!(parse_request(&der, &policies()).is_ok());
        let hex_bad = OPENSSL_QUERY
            .replacen("30400201013031300D0609", "30410201013032300E0609", 1)
            .replacen("0105000420", "010201000420", 1);
        let bad = hex::decode(hex_bad).unwrap();
        assert!(matches!(
            parse_request(&bad, &policies()),
            Err(Rejection::AlgorithmParameters { .. })
        ));
    }

    #[test]
    fn mutated_requests_never_panic() {
        let base = hex::decode(OPENSSL_QUERY).unwrap();
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..20_000 {
            let mut der = base.clone();
            for _ in 0..(next() % 4 + 1) {
                let i = (next() as usize) % der.len();
                der[i] = next() as u8;
            }
            if next() % 8 == 0 {
                der.truncate((next() as usize) % der.len());
            }
            // Accepted or refused with a reason, never a panic.
            let _ = parse_request(&der, &policies());
        }
    }

    #[test]
    fn extensions_are_refused() {
        let mut req = TimeStampReq::from_der(&hex::decode(OPENSSL_QUERY).unwrap()).unwrap();
        req.extensions = Some(vec![x509_cert::ext::Extension {
            extn_id: ObjectIdentifier::new_unwrap("1.2.3.9"),
            critical: false,
            extn_value: der::asn1::OctetString::new(vec![5, 0]).unwrap(),
        }]);
        let err = parse_request(&req.to_der().unwrap(), &policies()).unwrap_err();
        assert_eq!(err.failure_info(), FailureInfo::UnacceptedExtension);
    }
}
