//! Certificate path building and validation at a caller-given time.
//!
//! [`build_and_validate`] walks from the signer's certificate towards the trust anchors:
//! issuers are looked up among the anchors first, then among the candidate certificates
//! (CMS `certificates`, PDF DSS `/Certs`), by issuer/subject name (RFC 5280 §7.1) and, when
//! both are present, authorityKeyIdentifier = subjectKeyIdentifier. Every link's signature
//! is verified with [`crate::crypto`]. Several candidate issuers (cross-certificates,
//! re-keyed CAs, impostors with a copied name) are tried depth-first; the walk is
//! loop-safe, limited to [`MAX_PATH_LEN`] certificates and a bounded number of signature
//! checks. The path ends at a certificate that is an anchor (equal DER, or equal subject
//! and public key).
//!
//! Each complete path is then checked (a subset of RFC 5280 §6.1):
//! * every issuer: basicConstraints with cA TRUE (an anchor may lack the extension, as
//!   v1 roots do), pathLenConstraint, keyUsage (if present) with keyCertSign;
//! * every non-anchor certificate: no unknown critical extension, no malformed known one;
//! * nameConstraints of every CA (anchor included) on the certificates below it, except
//!   self-issued intermediates ([`super::name_constraints`]);
//! * every certificate including the anchor: `not_before <= at <= not_after`.
//!
//! Not done: certificate policy trees (the caller checks the leaf's policy OIDs), name
//! constraints of forms other than directoryName, rfc822Name and dNSName (failing closed
//! when they apply), and revocation (see [`super::revocation`]). Anchors are trusted as given (their signature is
//! not checked), but their validity period and CA extensions are.
//!
//! ETSI EN 319 102-1 mapping hints for the caller: `NoChainFound` → INDETERMINATE
//! NO_CERTIFICATE_CHAIN_FOUND; `Expired`/`NotYetValid` of the signer → INDETERMINATE
//! OUT_OF_BOUNDS_NO_POE or OUT_OF_BOUNDS_NOT_REVOKED (depending on revocation and proof of
//! existence), of a CA → the same at chain level; `BadSignature`, `NotACa`,
//! `UnknownCriticalExtension`, `MalformedExtension`, `NameNotAllowed` → INDETERMINATE
//! CERTIFICATE_CHAIN_GENERAL_FAILURE or CHAIN_CONSTRAINTS_FAILURE.

use time::OffsetDateTime;

use super::ext::{read_extensions, CertExtensions};
use super::name_constraints::{self, NameConstraintReason};
use super::{names_match, subject_string, to_offset, verify_issued_by, Certificate, X509Error};
use crate::crypto::{SignatureError, SignatureScheme};

/// Most certificates in a path, leaf and anchor included.
pub const MAX_PATH_LEN: usize = 10;
/// Most certificate signature checks in one path search (bounds work on hostile input).
const MAX_SIGNATURE_CHECKS: usize = 256;

/// What to build a path for.
#[derive(Clone, Copy, Debug)]
pub struct PathInput<'a> {
    /// The certificate to validate (a signer's or a TSA's).
    pub leaf: &'a Certificate,
    /// Certificates that may be intermediates: CMS `certificates`, DSS `/Certs`, ….
    pub candidates: &'a [Certificate],
    /// Trust anchors: paths must end at one of them.
    pub anchors: &'a [Certificate],
    /// Validation time.
    pub at: OffsetDateTime,
}

/// The result of [`build_and_validate`].
#[derive(Clone, Debug)]
pub struct PathOutcome {
    /// The best path found, leaf first. It ends at an anchor when [`Self::anchored`]; when no
    /// path was found it holds the longest partial path (at least the leaf).
    pub path: Vec<Certificate>,
    /// Whether the path ends at a trust anchor.
    pub anchored: bool,
    /// The verdict on the path.
    pub status: PathStatus,
    /// Every certificate of the path out of its validity period at the validation time, from
    /// the leaf up (the status names the first one when nothing worse was found).
    pub time_problems: Vec<TimeProblem>,
    /// `schemes[i]` is the signature scheme with which `path[i + 1]` signed `path[i]`, for
    /// the caller's cryptographic constraints (SHA-1, short RSA keys).
    pub schemes: Vec<SignatureScheme>,
}

impl PathOutcome {
    /// Whether the path is valid at the validation time.
    pub fn is_valid(&self) -> bool {
        self.status == PathStatus::Valid
    }

    /// The trust anchor the path ends at.
    pub fn anchor(&self) -> Option<&Certificate> {
        if self.anchored {
            self.path.last()
        } else {
            None
        }
    }
}

/// The verdict on a certificate path. Variants name the first certificate (from the leaf
/// up) with the problem, by its RFC 4514 subject.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PathStatus {
    /// A certificate's signature does not verify with its only matching issuer's key (no
    /// other path was found).
    BadSignature {
        /// Subject of the certificate whose signature failed.
        subject: String,
        /// Subject of the issuer tried.
        issuer: String,
        /// Why it failed.
        failure: LinkFailure,
    },
    /// A certificate's validity ended before the validation time.
    Expired {
        /// Subject of the certificate.
        subject: String,
        /// End of its validity.
        not_after: OffsetDateTime,
        /// Validation time.
        at: OffsetDateTime,
    },
    /// A recognised extension of a non-anchor certificate is malformed or repeated.
    MalformedExtension {
        /// Subject of the certificate.
        subject: String,
        /// The extension.
        oid: const_oid::ObjectIdentifier,
    },
    /// A certificate's name breaks the name constraints of a CA above it.
    NameNotAllowed {
        /// Subject of the certificate.
        subject: String,
        /// Subject of the CA whose nameConstraints it breaks.
        constrained_by: String,
        /// Which rule.
        reason: NameConstraintReason,
    },
    /// No path to any trust anchor (untrusted root, missing intermediate, self-signed leaf).
    NoChainFound,
    /// An issuer in the path may not issue certificates.
    NotACa {
        /// Subject of the issuer.
        subject: String,
        /// Which rule it breaks.
        reason: NotACaReason,
    },
    /// A certificate's validity starts after the validation time.
    NotYetValid {
        /// Subject of the certificate.
        subject: String,
        /// Start of its validity.
        not_before: OffsetDateTime,
        /// Validation time.
        at: OffsetDateTime,
    },
    /// A non-anchor certificate has a critical extension this crate does not process
    /// (RFC 5280 §4.2: the certificate "MUST" then be rejected).
    UnknownCriticalExtension {
        /// Subject of the certificate.
        subject: String,
        /// The extension.
        oid: const_oid::ObjectIdentifier,
    },
    /// The path is valid at the validation time (revocation not included).
    Valid,
}

impl PathStatus {
    fn rank(&self) -> u8 {
        match self {
            Self::Valid => 0,
            Self::Expired { .. } | Self::NotYetValid { .. } => 1,
            _ => 2,
        }
    }
}

/// Why an issuer may not issue certificates (RFC 5280 §6.1.4 (k), (l), (n)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NotACaReason {
    /// A non-anchor issuer without basicConstraints.
    BasicConstraintsMissing,
    /// keyUsage is present without keyCertSign.
    NoKeyCertSign,
    /// basicConstraints cA is FALSE.
    NotCa,
    /// More non-self-issued intermediates below the issuer than its pathLenConstraint allows.
    PathLenExceeded {
        /// The issuer's pathLenConstraint.
        path_len: u8,
        /// Non-self-issued intermediate certificates between it and the leaf.
        intermediates_below: usize,
    },
}

/// Why a certificate's signature did not verify with an issuer's key.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LinkFailure {
    /// The signature does not verify (wrong key or altered certificate).
    Invalid,
    /// The signature value is malformed.
    Malformed,
    /// The algorithm or key is not one we verify, or the outer and inner algorithm
    /// identifiers differ.
    Unsupported {
        /// The verifier's explanation.
        detail: String,
    },
}

impl From<&SignatureError> for LinkFailure {
    fn from(e: &SignatureError) -> Self {
        match e {
            SignatureError::Invalid | SignatureError::KeyMismatch { .. } => Self::Invalid,
            SignatureError::MalformedSignature => Self::Malformed,
            other => Self::Unsupported {
                detail: other.to_string(),
            },
        }
    }
}

/// A certificate of a path out of its validity period.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimeProblem {
    /// Position in the path (0 = leaf).
    pub index: usize,
    /// Subject of the certificate.
    pub subject: String,
    /// Expired or not yet valid.
    pub kind: TimeProblemKind,
    /// Start of its validity.
    pub not_before: OffsetDateTime,
    /// End of its validity.
    pub not_after: OffsetDateTime,
    /// The time it was checked at.
    pub at: OffsetDateTime,
}

impl TimeProblem {
    /// The problem as a path status.
    pub fn to_status(&self) -> PathStatus {
        match self.kind {
            TimeProblemKind::Expired => PathStatus::Expired {
                subject: self.subject.clone(),
                not_after: self.not_after,
                at: self.at,
            },
            TimeProblemKind::NotYetValid => PathStatus::NotYetValid {
                subject: self.subject.clone(),
                not_before: self.not_before,
                at: self.at,
            },
        }
    }
}

/// Which side of the validity period the time falls on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeProblemKind {
    /// `at` is after notAfter.
    Expired,
    /// `at` is before notBefore.
    NotYetValid,
}

/// Every certificate of `path` (anchor included) whose validity period does not contain
/// `at`, leaf first. Use it to re-check a built path at another time (e.g. a timestamp's).
pub fn time_problems(path: &[Certificate], at: OffsetDateTime) -> Vec<TimeProblem> {
    time_problems_of(path.iter(), at)
}

/// The first (from the leaf) certificate of `path` out of validity at `at`.
pub fn validity_problem(path: &[Certificate], at: OffsetDateTime) -> Option<TimeProblem> {
    time_problems(path, at).into_iter().next()
}

fn time_problems_of<'a>(
    path: impl Iterator<Item = &'a Certificate>,
    at: OffsetDateTime,
) -> Vec<TimeProblem> {
    path.enumerate()
        .filter_map(|(index, cert)| {
            let validity = &cert.tbs_certificate.validity;
            let not_before = to_offset(&validity.not_before);
            let not_after = to_offset(&validity.not_after);
            let kind = if at < not_before {
                TimeProblemKind::NotYetValid
            } else if at > not_after {
                TimeProblemKind::Expired
            } else {
                return None;
            };
            Some(TimeProblem {
                index,
                subject: subject_string(cert),
                kind,
                not_before,
                not_after,
                at,
            })
        })
        .collect()
}

/// Builds the best path from `input.leaf` to an anchor and validates it at `input.at`.
/// A valid path is preferred; then one whose only problems are validity periods; then any.
pub fn build_and_validate(input: &PathInput<'_>) -> PathOutcome {
    // anchors first; a candidate carrying an anchor's name and key adds nothing (the anchor
    // is tried instead), but other certificates of one entity (cross-certificates) stay
    let mut pool: Vec<&Certificate> = input.anchors.iter().collect();
    for c in input.candidates {
        let known = pool.contains(&c) || input.anchors.iter().any(|a| same_entity(a, c));
        if !known {
            pool.push(c);
        }
    }
    let mut search = Search {
        input,
        pool,
        checks: 0,
        best: None,
        failure: None,
        longest: Vec::new(),
    };
    let mut path = vec![input.leaf];
    let mut schemes = Vec::new();
    search.walk(&mut path, &mut schemes);

    if let Some(best) = search.best {
        return best;
    }
    if let Some((partial, issuer, error)) = search.failure {
        let subject = partial
            .last()
            .map(|c| subject_string(c))
            .unwrap_or_default();
        return PathOutcome {
            path: partial.into_iter().cloned().collect(),
            anchored: false,
            status: PathStatus::BadSignature {
                subject,
                issuer: subject_string(issuer),
                failure: LinkFailure::from(&error),
            },
            time_problems: Vec::new(),
            schemes: Vec::new(),
        };
    }
    PathOutcome {
        path: search.longest.into_iter().cloned().collect(),
        anchored: false,
        status: PathStatus::NoChainFound,
        time_problems: Vec::new(),
        schemes: Vec::new(),
    }
}

struct Search<'a, 'i> {
    input: &'i PathInput<'a>,
    /// Anchors, then distinct candidates that are not the same entity as an anchor.
    pool: Vec<&'a Certificate>,
    checks: usize,
    best: Option<PathOutcome>,
    /// The first failed link: the path up to the certificate, the issuer tried, the error.
    failure: Option<(Vec<&'a Certificate>, &'a Certificate, SignatureError)>,
    longest: Vec<&'a Certificate>,
}

impl<'a> Search<'a, '_> {
    fn done(&self) -> bool {
        self.best.as_ref().is_some_and(PathOutcome::is_valid)
    }

    fn anchor_for(&self, cert: &Certificate) -> Option<&'a Certificate> {
        self.input
            .anchors
            .iter()
            .find(|a| *a == cert || same_entity(a, cert))
    }

    fn walk(&mut self, path: &mut Vec<&'a Certificate>, schemes: &mut Vec<SignatureScheme>) {
        let Some(&current) = path.last() else {
            return;
        };
        if path.len() > self.longest.len() {
            self.longest = path.clone();
        }
        if let Some(anchor) = self.anchor_for(current) {
            let mut complete = path.clone();
            if let Some(last) = complete.last_mut() {
                *last = anchor;
            }
            self.consider(&complete, schemes);
            return;
        }
        if path.len() >= MAX_PATH_LEN {
            return;
        }
        let pool = self.pool.clone();
        for issuer in pool {
            if self.done() || self.checks >= MAX_SIGNATURE_CHECKS {
                return;
            }
            if !may_have_issued(issuer, current) || path.iter().any(|c| same_entity(c, issuer)) {
                continue;
            }
            self.checks += 1;
            match verify_issued_by(current, issuer) {
                Ok(scheme) => {
                    path.push(issuer);
                    schemes.push(scheme);
                    self.walk(path, schemes);
                    path.pop();
                    schemes.pop();
                }
                Err(error) => {
                    if self.failure.is_none() {
                        self.failure = Some((path.clone(), issuer, error));
                    }
                }
            }
        }
    }

    fn consider(&mut self, path: &[&'a Certificate], schemes: &[SignatureScheme]) {
        let time = time_problems_of(path.iter().copied(), self.input.at);
        let status = structural_problem(path)
            .or_else(|| time.first().map(TimeProblem::to_status))
            .unwrap_or(PathStatus::Valid);
        if self
            .best
            .as_ref()
            .is_some_and(|b| b.status.rank() <= status.rank())
        {
            return;
        }
        self.best = Some(PathOutcome {
            path: path.iter().copied().cloned().collect(),
            anchored: true,
            status,
            time_problems: time,
            schemes: schemes.to_vec(),
        });
    }
}

/// Same subject and same public key: the same CA, whatever certificate carries it.
fn same_entity(a: &Certificate, b: &Certificate) -> bool {
    a == b
        || (a.tbs_certificate.subject == b.tbs_certificate.subject
            && a.tbs_certificate.subject_public_key_info
                == b.tbs_certificate.subject_public_key_info)
}

/// Whether `issuer` may be the issuer of `cert` by name and key identifiers.
fn may_have_issued(issuer: &Certificate, cert: &Certificate) -> bool {
    if !names_match(
        &issuer.tbs_certificate.subject,
        &cert.tbs_certificate.issuer,
    ) {
        return false;
    }
    // key identifiers only exclude when both are readable and present
    let aki = read_extensions(cert)
        .ok()
        .and_then(|e| e.authority_key_identifier);
    let ski = read_extensions(issuer)
        .ok()
        .and_then(|e| e.subject_key_identifier);
    match (aki, ski) {
        (Some(a), Some(s)) => a == s,
        _ => true,
    }
}

fn self_issued(cert: &Certificate) -> bool {
    names_match(&cert.tbs_certificate.subject, &cert.tbs_certificate.issuer)
}

/// The first structural problem of a complete path (leaf first, anchor last).
fn structural_problem(path: &[&Certificate]) -> Option<PathStatus> {
    let last = path.len().checked_sub(1)?;
    let mut all_ext: Vec<CertExtensions> = Vec::with_capacity(path.len());
    for (i, cert) in path.iter().enumerate() {
        let is_anchor = i == last;
        let subject = || subject_string(cert);
        let ext = match read_extensions(cert) {
            Ok(ext) => ext,
            // anchors are trusted as given
            Err(_) if is_anchor => CertExtensions::default(),
            Err(X509Error::BadExtension { oid, .. } | X509Error::DuplicateExtension { oid }) => {
                return Some(PathStatus::MalformedExtension {
                    subject: subject(),
                    oid,
                })
            }
            Err(_) => return Some(PathStatus::NoChainFound),
        };
        if !is_anchor {
            if let Some(&oid) = ext.unknown_critical.first() {
                return Some(PathStatus::UnknownCriticalExtension {
                    subject: subject(),
                    oid,
                });
            }
        }
        if i > 0 {
            if let Some(reason) = ca_problem(path, i, &ext, is_anchor) {
                return Some(PathStatus::NotACa {
                    subject: subject(),
                    reason,
                });
            }
        }
        all_ext.push(ext);
    }
    name_constraint_problem(path, &all_ext)
}

/// Why `path[i]` (an issuer) may not issue certificates, if it may not.
fn ca_problem(
    path: &[&Certificate],
    i: usize,
    ext: &CertExtensions,
    is_anchor: bool,
) -> Option<NotACaReason> {
    match &ext.basic_constraints {
        None if is_anchor => {}
        None => return Some(NotACaReason::BasicConstraintsMissing),
        Some(bc) if !bc.ca => return Some(NotACaReason::NotCa),
        Some(bc) => {
            if let Some(path_len) = bc.path_len_constraint {
                let below = path
                    .get(1..i)
                    .unwrap_or_default()
                    .iter()
                    .filter(|c| !self_issued(c))
                    .count();
                if below > usize::from(path_len) {
                    return Some(NotACaReason::PathLenExceeded {
                        path_len,
                        intermediates_below: below,
                    });
                }
            }
        }
    }
    if ext.key_usage.is_some_and(|ku| !ku.key_cert_sign()) {
        return Some(NotACaReason::NoKeyCertSign);
    }
    None
}

/// The first certificate whose names break the nameConstraints of a CA above it.
fn name_constraint_problem(path: &[&Certificate], ext: &[CertExtensions]) -> Option<PathStatus> {
    for (i, ca_ext) in ext.iter().enumerate().skip(1) {
        let Some(constraints) = &ca_ext.name_constraints else {
            continue;
        };
        for j in 0..i {
            let (Some(cert), Some(cert_ext)) = (path.get(j), ext.get(j)) else {
                continue;
            };
            // self-issued intermediates are exempt (RFC 5280 §6.1.3 (b))
            if j > 0 && self_issued(cert) {
                continue;
            }
            if let Err(reason) =
                name_constraints::check(constraints, cert, &cert_ext.subject_alt_names)
            {
                return Some(PathStatus::NameNotAllowed {
                    subject: subject_string(cert),
                    constrained_by: path.get(i).map(|c| subject_string(c)).unwrap_or_default(),
                    reason,
                });
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::x509::testdata::{at, cert};
    use der::{Decode, Encode};

    fn validate(leaf: &str, candidates: &[&str], when: &str) -> PathOutcome {
        let leaf = cert(leaf);
        let candidates: Vec<_> = candidates.iter().map(|n| cert(n)).collect();
        let anchors = vec![cert("root-ca")];
        build_and_validate(&PathInput {
            leaf: &leaf,
            candidates: &candidates,
            anchors: &anchors,
            at: at(when),
        })
    }

    fn subjects(o: &PathOutcome) -> Vec<String> {
        o.path.iter().map(subject_string).collect()
    }

    #[test]
    fn valid_path() {
        let o = validate("leaf", &["int-ca"], "2026-06-01T00:00:00Z");
        assert_eq!(o.status, PathStatus::Valid);
        assert!(o.anchored && o.is_valid());
        assert_eq!(
            subjects(&o),
            [
                "SN=Leaf,givenName=Alice,serialNumber=PNOBE-90010112345,CN=Alice Leaf,O=Chain Test,C=BE",
                "CN=Chain Test Issuing CA,O=Chain Test,C=BE",
                "CN=Chain Test Root CA,O=Chain Test,C=BE"
            ]
        );
        assert_eq!(o.schemes.len(), 2);
        assert_eq!(
            o.schemes[1],
            SignatureScheme::RsaPkcs1(crate::crypto::DigestAlgorithm::Sha256)
        );
        assert_eq!(o.anchor(), Some(&cert("root-ca")));
        assert!(validity_problem(&o.path, at("2026-06-01T00:00:00Z")).is_none());
        // re-check the same path at another time without rebuilding
        let later = validity_problem(&o.path, at("2044-06-01T00:00:00Z")).unwrap();
        assert_eq!(later.index, 1);
        assert_eq!(later.kind, TimeProblemKind::Expired);
    }

    #[test]
    fn candidates_may_include_noise_and_the_anchor() {
        let o = validate(
            "leaf",
            &["untrusted-root", "leaf", "root-ca", "int-ca", "int-ca"],
            "2026-06-01T00:00:00Z",
        );
        assert_eq!(o.status, PathStatus::Valid);
        assert_eq!(o.path.len(), 3);
    }

    #[test]
    fn impostor_issuer_with_copied_name_and_key_id_is_skipped() {
        let o = validate("leaf", &["impostor-int", "int-ca"], "2026-06-01T00:00:00Z");
        assert_eq!(o.status, PathStatus::Valid);
        assert_eq!(o.path[1], cert("int-ca"));
        // with only the impostor, the link's signature fails
        let o = validate("leaf", &["impostor-int"], "2026-06-01T00:00:00Z");
        assert!(matches!(
            o.status,
            PathStatus::BadSignature {
                failure: LinkFailure::Invalid,
                ..
            }
        ));
        assert!(!o.anchored);
    }

    #[test]
    fn cross_certificate_alternatives() {
        // the cross-certificate (int-ca's key issued by the untrusted root) comes first and
        // leads to a dead end; the walk backs off and takes int-ca to the trusted root
        let o = validate(
            "leaf",
            &["int-ca-cross", "untrusted-root", "int-ca"],
            "2026-06-01T00:00:00Z",
        );
        assert_eq!(o.status, PathStatus::Valid);
        assert_eq!(o.path[1], cert("int-ca"));
        // trusting the other root, the cross-certificate makes the path
        let leaf = cert("leaf");
        let candidates = [cert("int-ca"), cert("int-ca-cross")];
        let anchors = [cert("untrusted-root")];
        let o = build_and_validate(&PathInput {
            leaf: &leaf,
            candidates: &candidates,
            anchors: &anchors,
            at: at("2026-06-01T00:00:00Z"),
        });
        assert_eq!(o.status, PathStatus::Valid);
        assert_eq!(o.path[1], cert("int-ca-cross"));
        assert_eq!(o.anchor(), Some(&cert("untrusted-root")));
    }

    #[test]
    fn untrusted_and_incomplete_paths() {
        let o = validate(
            "untrusted-leaf",
            &["untrusted-root"],
            "2026-06-01T00:00:00Z",
        );
        assert_eq!(o.status, PathStatus::NoChainFound);
        assert_eq!(o.path.len(), 2);
        // the self-signed untrusted root itself
        let o = validate(
            "untrusted-root",
            &["untrusted-root"],
            "2026-06-01T00:00:00Z",
        );
        assert_eq!(o.status, PathStatus::NoChainFound);
        // missing intermediate
        let o = validate("leaf", &[], "2026-06-01T00:00:00Z");
        assert_eq!(o.status, PathStatus::NoChainFound);
        assert_eq!(o.path.len(), 1);
    }

    #[test]
    fn anchor_as_leaf_is_a_path_of_one() {
        let o = validate("root-ca", &[], "2026-06-01T00:00:00Z");
        assert_eq!(o.status, PathStatus::Valid);
        assert_eq!(o.path.len(), 1);
    }

    #[test]
    fn expired_now_valid_before() {
        let o = validate("leaf-expired", &["int-ca"], "2026-06-01T00:00:00Z");
        match &o.status {
            PathStatus::Expired {
                subject, not_after, ..
            } => {
                assert_eq!(subject, "CN=Eve Expired,O=Chain Test,C=BE");
                assert_eq!(*not_after, at("2021-01-01T00:00:00Z"));
            }
            other => panic!("{other:?}"),
        }
        assert!(o.anchored);
        assert_eq!(o.time_problems.len(), 1);
        let o = validate("leaf-expired", &["int-ca"], "2020-06-01T00:00:00Z");
        assert_eq!(o.status, PathStatus::Valid);
        let o = validate("leaf-expired", &["int-ca"], "2019-06-01T00:00:00Z");
        assert!(matches!(o.status, PathStatus::NotYetValid { .. }));
        // the anchor's own validity is reported too
        let o = validate("leaf", &["int-ca"], "2046-01-01T00:00:00Z");
        assert_eq!(o.time_problems.len(), 3);
        assert_eq!(o.time_problems[2].index, 2);
    }

    #[test]
    fn tampered_signature() {
        let mut leaf = cert("leaf");
        let mut sig = leaf.signature.raw_bytes().to_vec();
        let n = sig.len();
        sig[n - 3] ^= 0x01;
        leaf.signature = der::asn1::BitString::from_bytes(&sig).unwrap();
        let candidates = [cert("int-ca")];
        let anchors = [cert("root-ca")];
        let o = build_and_validate(&PathInput {
            leaf: &leaf,
            candidates: &candidates,
            anchors: &anchors,
            at: at("2026-06-01T00:00:00Z"),
        });
        match o.status {
            PathStatus::BadSignature {
                subject, issuer, ..
            } => {
                assert!(subject.contains("CN=Alice Leaf"));
                assert_eq!(issuer, "CN=Chain Test Issuing CA,O=Chain Test,C=BE");
            }
            other => panic!("{other:?}"),
        }
        // a changed tbsCertificate (serial) under the original signature
        let mut leaf = cert("leaf");
        leaf.tbs_certificate.serial_number =
            x509_cert::serial_number::SerialNumber::new(&[7]).unwrap();
        let o = build_and_validate(&PathInput {
            leaf: &leaf,
            candidates: &candidates,
            anchors: &anchors,
            at: at("2026-06-01T00:00:00Z"),
        });
        assert!(matches!(o.status, PathStatus::BadSignature { .. }));
    }

    #[test]
    fn ca_without_basic_constraints() {
        let o = validate("leaf-nobc", &["int-nobc"], "2026-06-01T00:00:00Z");
        assert_eq!(
            o.status,
            PathStatus::NotACa {
                subject: "CN=Chain Test No BasicConstraints CA,O=Chain Test,C=BE".into(),
                reason: NotACaReason::BasicConstraintsMissing
            }
        );
    }

    #[test]
    fn path_len_exceeded() {
        let o = validate("leaf-subca", &["sub-ca", "int-ca"], "2026-06-01T00:00:00Z");
        assert_eq!(
            o.status,
            PathStatus::NotACa {
                subject: "CN=Chain Test Issuing CA,O=Chain Test,C=BE".into(),
                reason: NotACaReason::PathLenExceeded {
                    path_len: 0,
                    intermediates_below: 1
                }
            }
        );
    }

    #[test]
    fn leaf_used_as_issuer_is_not_a_ca() {
        // a leaf (CA:FALSE) cannot issue: fake a certificate "issued" by the leaf by
        // checking the structural rules directly
        let leaf = cert("leaf");
        let int = cert("int-ca");
        let root = cert("root-ca");
        let status = structural_problem(&[&int, &leaf, &root]).unwrap();
        assert!(matches!(
            status,
            PathStatus::NotACa {
                reason: NotACaReason::NotCa,
                ..
            }
        ));
        let ocsp = cert("ocsp-responder");
        let status = structural_problem(&[&leaf, &ocsp, &root]).unwrap();
        assert!(matches!(status, PathStatus::NotACa { .. }));
    }

    #[test]
    fn name_constraints() {
        let o = validate("leaf-nc-ok", &["nc-ca"], "2026-06-01T00:00:00Z");
        assert_eq!(o.status, PathStatus::Valid);
        let o = validate("leaf-nc-bad", &["nc-ca"], "2026-06-01T00:00:00Z");
        assert_eq!(
            o.status,
            PathStatus::NameNotAllowed {
                subject: "CN=Oscar Outside,O=Elsewhere,C=BE".into(),
                constrained_by: "CN=Chain Test Constrained CA,O=Chain Test,C=BE".into(),
                reason: NameConstraintReason::NotPermitted
            }
        );
        let o = validate("leaf-nc-excluded", &["nc-ca"], "2026-06-01T00:00:00Z");
        assert!(matches!(
            o.status,
            PathStatus::NameNotAllowed {
                reason: NameConstraintReason::Excluded,
                ..
            }
        ));
    }

    #[test]
    fn unknown_critical_extension() {
        let o = validate("leaf-critext", &["int-ca"], "2026-06-01T00:00:00Z");
        assert_eq!(
            o.status,
            PathStatus::UnknownCriticalExtension {
                subject: "CN=Carl Critical,O=Chain Test,C=BE".into(),
                oid: const_oid::ObjectIdentifier::new_unwrap("1.3.6.1.4.1.55555.1")
            }
        );
    }

    #[test]
    fn prefers_a_valid_path_over_an_invalid_one() {
        // two anchors for the intermediate: the root (valid path) and the intermediate
        // itself given as anchor (path of two); both valid, the first found wins
        let leaf = cert("leaf");
        let anchors = [cert("int-ca"), cert("root-ca")];
        let o = build_and_validate(&PathInput {
            leaf: &leaf,
            candidates: &[],
            anchors: &anchors,
            at: at("2026-06-01T00:00:00Z"),
        });
        assert_eq!(o.status, PathStatus::Valid);
        assert_eq!(o.path.len(), 2);
        // an expired path through an intermediate anchor loses to nothing else: reported
        let o = build_and_validate(&PathInput {
            leaf: &leaf,
            candidates: &[],
            anchors: &anchors,
            at: at("2044-06-01T00:00:00Z"),
        });
        assert!(matches!(o.status, PathStatus::Expired { .. }));
    }

    #[test]
    fn garbage_candidates_do_not_panic() {
        // a certificate whose key is garbage but whose name matches
        let mut bogus = cert("int-ca");
        bogus
            .tbs_certificate
            .subject_public_key_info
            .subject_public_key = der::asn1::BitString::from_bytes(&[4, 1, 2, 3]).unwrap();
        let leaf = cert("leaf");
        let anchors = [cert("root-ca")];
        let o = build_and_validate(&PathInput {
            leaf: &leaf,
            candidates: &[bogus],
            anchors: &anchors,
            at: at("2026-06-01T00:00:00Z"),
        });
        assert!(matches!(o.status, PathStatus::BadSignature { .. }));
        // round-trip sanity: a decoded certificate re-encodes to what was read
        let der = leaf.to_der().unwrap();
        assert_eq!(Certificate::from_der(&der).unwrap(), leaf);
    }
}
