//! Revocation status of a certificate from the CRLs and OCSP responses the caller holds.
//!
//! [`check_revocation`] looks at every CRL ([`super::crl`]) and OCSP response
//! ([`super::ocsp`]) given, keeps those that speak about the certificate and are authentic
//! (signed by the certificate's issuer, or, for OCSP, by a responder the issuer
//! authorised), and combines them:
//!
//! 1. any source saying "revoked at or before `at`" → [`RevocationFinding::Revoked`]
//!    (the earliest revocation);
//! 2. else any source saying "revoked after `at`" → [`RevocationFinding::RevokedAfter`]
//!    (the caller decides whether a proof of existence before that time rescues the
//!    signature);
//! 3. else a "good" source → [`RevocationFinding::Good`] (the one with the latest
//!    thisUpdate);
//! 4. else an OCSP "unknown" → [`RevocationFinding::Unknown`];
//! 5. else sources that name the certificate's issuer (or its CertID) but cannot be used
//!    → [`RevocationFinding::Unusable`];
//! 6. else [`RevocationFinding::NoData`].
//!
//! Freshness, kept simple: revocation data issued *after* `at` is accepted (that is the
//! normal case for a B-LT signature validated at its signing time: the CRL or OCSP
//! response was fetched afterwards). A "good" answer whose nextUpdate is before `at` is
//! stale and unusable for `at`; a "revoked" answer is usable whenever it was issued. The
//! caller can apply a stricter policy with [`RevocationSource::this_update`].
//!
//! Not supported (reported as [`UnusableReason::UnsupportedCrlScope`]): indirect CRLs,
//! delta CRLs, CRLs partitioned by reason codes. CRLs signed by a different key than the
//! one that signed the certificate are unusable. A delegated OCSP responder's own
//! revocation status is not checked here: [`OcspResponder::Delegated`] says whether it
//! carries id-pkix-ocsp-nocheck.

use time::OffsetDateTime;
use x509_cert::ext::pkix::CrlReason;
use x509_ocsp::OcspResponseStatus;

use super::path::LinkFailure;
use super::{subject_string, Certificate};

/// The revocation data available to the validation, as DER.
#[derive(Clone, Copy, Debug, Default)]
pub struct RevocationSources<'a> {
    /// DER CertificateLists (DSS `/CRLs`, CMS `crls`, adbe-revocationInfoArchival).
    pub crls: &'a [Vec<u8>],
    /// DER `OCSPResponse`s or bare `BasicOCSPResponse`s (DSS `/OCSPs`, …).
    pub ocsp: &'a [Vec<u8>],
}

/// Which item of [`RevocationSources`] a finding comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceRef {
    /// Index into `crls`.
    Crl(usize),
    /// Index into `ocsp`.
    Ocsp(usize),
}

/// Who signed an OCSP response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OcspResponder {
    /// A responder certificate issued by the CA with id-kp-OCSPSigning (RFC 6960 §4.2.2.2).
    Delegated {
        /// Subject of the responder certificate.
        subject: String,
        /// Whether it carries id-pkix-ocsp-nocheck (then its own status needs no check).
        nocheck: bool,
    },
    /// The certificate's issuer itself.
    Issuer,
}

/// The authentic revocation data a finding rests on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RevocationSource {
    /// A CRL.
    Crl {
        /// Index into [`RevocationSources::crls`].
        index: usize,
        /// The CRL's issuer (RFC 4514).
        issuer: String,
        /// thisUpdate.
        this_update: OffsetDateTime,
        /// nextUpdate.
        next_update: Option<OffsetDateTime>,
    },
    /// An OCSP response.
    Ocsp {
        /// Index into [`RevocationSources::ocsp`].
        index: usize,
        /// producedAt.
        produced_at: OffsetDateTime,
        /// thisUpdate of the matching SingleResponse.
        this_update: OffsetDateTime,
        /// nextUpdate of the matching SingleResponse.
        next_update: Option<OffsetDateTime>,
        /// Who signed it.
        responder: OcspResponder,
    },
}

impl RevocationSource {
    /// When the status was known to be correct (thisUpdate).
    pub fn this_update(&self) -> OffsetDateTime {
        match self {
            Self::Crl { this_update, .. } | Self::Ocsp { this_update, .. } => *this_update,
        }
    }

    /// When newer information will be available (nextUpdate).
    pub fn next_update(&self) -> Option<OffsetDateTime> {
        match self {
            Self::Crl { next_update, .. } | Self::Ocsp { next_update, .. } => *next_update,
        }
    }

    /// Which item of the sources this is.
    pub fn source_ref(&self) -> SourceRef {
        match self {
            Self::Crl { index, .. } => SourceRef::Crl(*index),
            Self::Ocsp { index, .. } => SourceRef::Ocsp(*index),
        }
    }
}

/// The revocation status of one certificate at the validation time.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RevocationFinding {
    /// Not revoked, per an authentic source.
    Good {
        /// The source (the one with the latest thisUpdate).
        source: RevocationSource,
    },
    /// No revocation data about this certificate was given.
    NoData,
    /// Revoked at or before the validation time.
    Revoked {
        /// revocationDate / revocationTime.
        revoked_at: OffsetDateTime,
        /// CRL reason code, if given.
        reason: Option<CrlReason>,
        /// The source.
        source: RevocationSource,
    },
    /// Revoked, but only after the validation time: not revoked *at* that time.
    RevokedAfter {
        /// revocationDate / revocationTime.
        revoked_at: OffsetDateTime,
        /// CRL reason code, if given.
        reason: Option<CrlReason>,
        /// The source.
        source: RevocationSource,
    },
    /// An authentic OCSP response says the responder does not know the certificate.
    Unknown {
        /// The source.
        source: RevocationSource,
    },
    /// Data about this certificate was found but none of it can be used.
    Unusable {
        /// Why each applicable source was rejected.
        problems: Vec<SourceProblem>,
    },
}

/// A source that could not be used, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceProblem {
    /// Which source.
    pub source: SourceRef,
    /// Why.
    pub reason: UnusableReason,
}

/// Why revocation data cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum UnusableReason {
    /// The signature does not verify with the issuer's (or responder's) key.
    BadSignature {
        /// Why.
        failure: LinkFailure,
    },
    /// The certificate expired before the CRL was issued, and the CRL does not declare
    /// expiredCertsOnCRL: its absence from the CRL proves nothing (RFC 5280 §3.3).
    CertExpiredBeforeCrl {
        /// The certificate's notAfter.
        not_after: OffsetDateTime,
        /// The CRL's thisUpdate.
        this_update: OffsetDateTime,
    },
    /// The issuer's keyUsage lacks cRLSign.
    IssuerNotCrlSigner,
    /// The DER could not be decoded.
    Malformed {
        /// The decoder's error.
        error: der::Error,
    },
    /// The OCSP response is not `successful` (RFC 6960 §4.2.1).
    OcspResponseStatus {
        /// The status.
        status: OcspResponseStatus,
    },
    /// The OCSP responder certificate was found but is not authorised by the issuer (not
    /// issued by it, or without id-kp-OCSPSigning).
    ResponderNotAuthorised {
        /// Subject of the responder certificate.
        subject: String,
    },
    /// No certificate matching the OCSP ResponderID was found (in the response or among
    /// the candidates).
    ResponderNotFound,
    /// The delegated responder's certificate was not valid when the response was produced.
    ResponderNotValid {
        /// Subject of the responder certificate.
        subject: String,
        /// producedAt.
        produced_at: OffsetDateTime,
    },
    /// A "good" answer whose nextUpdate is before the validation time.
    Stale {
        /// nextUpdate.
        next_update: OffsetDateTime,
        /// Validation time.
        at: OffsetDateTime,
    },
    /// A critical extension (of the CRL, CRL entry or OCSP response) is not processed.
    UnknownCriticalExtension {
        /// The extension.
        oid: const_oid::ObjectIdentifier,
    },
    /// The CRL's scope is not supported.
    UnsupportedCrlScope {
        /// Which scope.
        scope: CrlScope,
    },
    /// The OCSP responseType is not id-pkix-ocsp-basic.
    UnsupportedResponseType {
        /// The responseType.
        oid: const_oid::ObjectIdentifier,
    },
}

/// CRL scopes this crate does not process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrlScope {
    /// deltaCRLIndicator present (RFC 5280 §5.2.4).
    Delta,
    /// issuingDistributionPoint indirectCRL (RFC 5280 §5.2.5).
    Indirect,
    /// issuingDistributionPoint onlySomeReasons: a "good" answer would be partial.
    OnlySomeReasons,
}

/// What one source says about one certificate.
#[derive(Debug)]
pub(crate) enum SourceVerdict {
    Good(RevocationSource),
    NotApplicable,
    Problem(UnusableReason),
    Revoked {
        revoked_at: OffsetDateTime,
        reason: Option<CrlReason>,
        source: RevocationSource,
    },
    Unknown(RevocationSource),
}

/// The revocation status of `cert` (issued by `issuer`) at `at`. `candidates` are
/// certificates where a delegated OCSP responder's certificate may be found when the
/// response does not carry it.
pub fn check_revocation(
    cert: &Certificate,
    issuer: &Certificate,
    sources: &RevocationSources<'_>,
    at: OffsetDateTime,
    candidates: &[Certificate],
) -> RevocationFinding {
    let crls = sources.crls.iter().enumerate().map(|(i, der)| {
        (
            SourceRef::Crl(i),
            super::crl::check_crl(i, der, cert, issuer, at),
        )
    });
    let ocsp = sources.ocsp.iter().enumerate().map(|(i, der)| {
        (
            SourceRef::Ocsp(i),
            super::ocsp::check_ocsp(i, der, cert, issuer, at, candidates),
        )
    });
    combine(crls.chain(ocsp), at)
}

fn combine(
    verdicts: impl Iterator<Item = (SourceRef, SourceVerdict)>,
    at: OffsetDateTime,
) -> RevocationFinding {
    let mut revoked: Option<RevocationFinding> = None;
    let mut revoked_after: Option<RevocationFinding> = None;
    let mut good: Option<RevocationSource> = None;
    let mut unknown: Option<RevocationSource> = None;
    let mut problems = Vec::new();
    for (source_ref, verdict) in verdicts {
        match verdict {
            SourceVerdict::NotApplicable => {}
            SourceVerdict::Problem(reason) => problems.push(SourceProblem {
                source: source_ref,
                reason,
            }),
            SourceVerdict::Good(source) => {
                if good
                    .as_ref()
                    .is_none_or(|g| source.this_update() > g.this_update())
                {
                    good = Some(source);
                }
            }
            SourceVerdict::Unknown(source) => {
                unknown.get_or_insert(source);
            }
            SourceVerdict::Revoked {
                revoked_at,
                reason,
                source,
            } => {
                let (slot, finding) = if revoked_at <= at {
                    (
                        &mut revoked,
                        RevocationFinding::Revoked {
                            revoked_at,
                            reason,
                            source,
                        },
                    )
                } else {
                    (
                        &mut revoked_after,
                        RevocationFinding::RevokedAfter {
                            revoked_at,
                            reason,
                            source,
                        },
                    )
                };
                let earlier = match slot {
                    Some(
                        RevocationFinding::Revoked { revoked_at: t, .. }
                        | RevocationFinding::RevokedAfter { revoked_at: t, .. },
                    ) => revoked_at < *t,
                    _ => true,
                };
                if earlier {
                    *slot = Some(finding);
                }
            }
        }
    }
    revoked
        .or(revoked_after)
        .or_else(|| good.map(|source| RevocationFinding::Good { source }))
        .or_else(|| unknown.map(|source| RevocationFinding::Unknown { source }))
        .unwrap_or(if problems.is_empty() {
            RevocationFinding::NoData
        } else {
            RevocationFinding::Unusable { problems }
        })
}

/// The revocation finding of one certificate of a path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathRevocation {
    /// Position in the path (0 = leaf).
    pub index: usize,
    /// Subject of the certificate (RFC 4514).
    pub subject: String,
    /// The finding.
    pub finding: RevocationFinding,
}

/// [`check_revocation`] for every certificate of `path` (leaf first) except the last one,
/// which is taken as the trust anchor; each certificate's issuer is the next one.
pub fn check_path_revocation(
    path: &[Certificate],
    sources: &RevocationSources<'_>,
    at: OffsetDateTime,
    candidates: &[Certificate],
) -> Vec<PathRevocation> {
    path.windows(2)
        .enumerate()
        .filter_map(|(index, pair)| {
            let [cert, issuer] = pair else { return None };
            Some(PathRevocation {
                index,
                subject: subject_string(cert),
                finding: check_revocation(cert, issuer, sources, at, candidates),
            })
        })
        .collect()
}

/// Problems of the sources themselves, whoever they are about: undecodable DER, OCSP
/// responses that are not `successful` or not basic. [`check_revocation`] skips such items
/// silently (it cannot tell whom they are about); report them with this.
pub fn source_problems(sources: &RevocationSources<'_>) -> Vec<SourceProblem> {
    let crls = sources.crls.iter().enumerate().filter_map(|(i, der)| {
        super::crl::parse(der).err().map(|error| SourceProblem {
            source: SourceRef::Crl(i),
            reason: UnusableReason::Malformed { error },
        })
    });
    let ocsp = sources.ocsp.iter().enumerate().filter_map(|(i, der)| {
        super::ocsp::parse(der).err().map(|reason| SourceProblem {
            source: SourceRef::Ocsp(i),
            reason,
        })
    });
    crls.chain(ocsp).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::x509::testdata::{at, bytes, cert};
    use der::{Decode, Encode};

    fn check(leaf: &str, crls: &[&str], ocsp: &[&str], when: &str) -> RevocationFinding {
        let crls: Vec<_> = crls.iter().map(|n| bytes(n)).collect();
        let ocsp: Vec<_> = ocsp.iter().map(|n| bytes(n)).collect();
        check_revocation(
            &cert(leaf),
            &cert("int-ca"),
            &RevocationSources {
                crls: &crls,
                ocsp: &ocsp,
            },
            at(when),
            &[],
        )
    }

    const NOW: &str = "2026-06-01T00:00:00Z";
    const BEFORE_REVOCATION: &str = "2025-03-01T00:00:00Z";

    #[test]
    fn crl_good() {
        match check("leaf", &["int.crl"], &[], NOW) {
            RevocationFinding::Good {
                source: RevocationSource::Crl { index, issuer, .. },
            } => {
                assert_eq!(index, 0);
                assert_eq!(issuer, "CN=Chain Test Issuing CA,O=Chain Test,C=BE");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn crl_revoked_and_revoked_after() {
        match check("leaf-revoked", &["int.crl"], &[], NOW) {
            RevocationFinding::Revoked {
                revoked_at, reason, ..
            } => {
                assert_eq!(revoked_at, at("2025-06-01T00:00:00Z"));
                assert_eq!(reason, Some(CrlReason::KeyCompromise));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            check("leaf-revoked", &["int.crl"], &[], BEFORE_REVOCATION),
            RevocationFinding::RevokedAfter { .. }
        ));
    }

    #[test]
    fn crl_of_another_issuer_is_no_data() {
        assert_eq!(
            check("leaf", &["root.crl"], &[], NOW),
            RevocationFinding::NoData
        );
        assert_eq!(check("leaf", &[], &[], NOW), RevocationFinding::NoData);
    }

    #[test]
    fn crl_with_the_issuers_name_but_another_key_is_unusable() {
        match check("leaf-revoked", &["impostor.crl"], &[], NOW) {
            RevocationFinding::Unusable { problems } => {
                assert_eq!(problems.len(), 1);
                assert_eq!(problems[0].source, SourceRef::Crl(0));
                assert!(matches!(
                    problems[0].reason,
                    UnusableReason::BadSignature { .. }
                ));
            }
            other => panic!("{other:?}"),
        }
        // an authentic CRL wins over the forged one
        assert!(matches!(
            check("leaf", &["impostor.crl", "int.crl"], &[], NOW),
            RevocationFinding::Good { .. }
        ));
    }

    #[test]
    fn root_crl_covers_the_intermediate() {
        let crls = vec![bytes("root.crl")];
        let finding = check_revocation(
            &cert("int-ca"),
            &cert("root-ca"),
            &RevocationSources {
                crls: &crls,
                ocsp: &[],
            },
            at(NOW),
            &[],
        );
        assert!(matches!(finding, RevocationFinding::Good { .. }));
    }

    #[test]
    fn crl_not_covering_an_expired_certificate() {
        match check("leaf-expired", &["int.crl"], &[], NOW) {
            RevocationFinding::Unusable { problems } => assert!(matches!(
                problems[0].reason,
                UnusableReason::CertExpiredBeforeCrl { .. }
            )),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn stale_crl_is_unusable_for_good_but_not_for_revoked() {
        // nextUpdate of the test CRLs is twenty years after generation
        let far = "2060-01-01T00:00:00Z";
        let leaf = cert("leaf");
        let crls = vec![bytes("int.crl")];
        let sources = RevocationSources {
            crls: &crls,
            ocsp: &[],
        };
        // the leaf is expired in 2060 but was not when the CRL was issued
        match check_revocation(&leaf, &cert("int-ca"), &sources, at(far), &[]) {
            RevocationFinding::Unusable { problems } => {
                assert!(matches!(problems[0].reason, UnusableReason::Stale { .. }))
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            check("leaf-revoked", &["int.crl"], &[], far),
            RevocationFinding::Revoked { .. }
        ));
    }

    #[test]
    fn ocsp_good_by_delegated_responder() {
        match check("leaf", &[], &["ocsp-good.der"], NOW) {
            RevocationFinding::Good {
                source: RevocationSource::Ocsp { responder, .. },
            } => assert_eq!(
                responder,
                OcspResponder::Delegated {
                    subject: "CN=Chain Test OCSP Responder,O=Chain Test,C=BE".into(),
                    nocheck: true
                }
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn ocsp_responder_certificate_from_candidates() {
        let ocsp = vec![bytes("ocsp-good-nocerts.der")];
        let sources = RevocationSources {
            crls: &[],
            ocsp: &ocsp,
        };
        let leaf = cert("leaf");
        let int = cert("int-ca");
        match check_revocation(&leaf, &int, &sources, at(NOW), &[]) {
            RevocationFinding::Unusable { problems } => {
                assert_eq!(problems[0].reason, UnusableReason::ResponderNotFound)
            }
            other => panic!("{other:?}"),
        }
        let candidates = [cert("ocsp-responder")];
        assert!(matches!(
            check_revocation(&leaf, &int, &sources, at(NOW), &candidates),
            RevocationFinding::Good { .. }
        ));
    }

    #[test]
    fn ocsp_revoked_signed_by_issuer() {
        match check("leaf-revoked", &[], &["ocsp-revoked.der"], NOW) {
            RevocationFinding::Revoked {
                revoked_at,
                reason,
                source: RevocationSource::Ocsp { responder, .. },
            } => {
                assert_eq!(revoked_at, at("2025-06-01T00:00:00Z"));
                assert_eq!(reason, Some(CrlReason::KeyCompromise));
                assert_eq!(responder, OcspResponder::Issuer);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            check(
                "leaf-revoked",
                &[],
                &["ocsp-revoked.der"],
                BEFORE_REVOCATION
            ),
            RevocationFinding::RevokedAfter { .. }
        ));
        // the response is about another certificate
        assert_eq!(
            check("leaf", &[], &["ocsp-revoked.der"], NOW),
            RevocationFinding::NoData
        );
    }

    #[test]
    fn ocsp_unknown() {
        let mut unknown = cert("leaf");
        unknown.tbs_certificate.serial_number =
            x509_cert::serial_number::SerialNumber::new(&[0x99, 0x99]).unwrap();
        let ocsp = vec![bytes("ocsp-unknown.der")];
        let finding = check_revocation(
            &unknown,
            &cert("int-ca"),
            &RevocationSources {
                crls: &[],
                ocsp: &ocsp,
            },
            at(NOW),
            &[],
        );
        assert!(
            matches!(finding, RevocationFinding::Unknown { .. }),
            "{finding:?}"
        );
    }

    #[test]
    fn ocsp_unauthorised_responder() {
        match check("leaf", &[], &["ocsp-noeku.der"], NOW) {
            RevocationFinding::Unusable { problems } => assert_eq!(
                problems[0].reason,
                UnusableReason::ResponderNotAuthorised {
                    subject: "CN=Chain Test Not A Responder,O=Chain Test,C=BE".into()
                }
            ),
            other => panic!("{other:?}"),
        }
    }

    fn tamper_ocsp_signature(der: &[u8]) -> Vec<u8> {
        let mut resp = x509_ocsp::OcspResponse::from_der(der).unwrap();
        let bytes = resp.response_bytes.as_mut().unwrap();
        let mut basic = x509_ocsp::BasicOcspResponse::from_der(bytes.response.as_bytes()).unwrap();
        let mut sig = basic.signature.raw_bytes().to_vec();
        let n = sig.len();
        sig[n - 2] ^= 0x40;
        basic.signature = der::asn1::BitString::from_bytes(&sig).unwrap();
        bytes.response = der::asn1::OctetString::new(basic.to_der().unwrap()).unwrap();
        resp.to_der().unwrap()
    }

    #[test]
    fn ocsp_bad_signature() {
        for name in ["ocsp-good.der", "ocsp-revoked.der"] {
            let ocsp = vec![tamper_ocsp_signature(&bytes(name))];
            let leaf = if name == "ocsp-good.der" {
                cert("leaf")
            } else {
                cert("leaf-revoked")
            };
            let finding = check_revocation(
                &leaf,
                &cert("int-ca"),
                &RevocationSources {
                    crls: &[],
                    ocsp: &ocsp,
                },
                at(NOW),
                &[],
            );
            match finding {
                RevocationFinding::Unusable { problems } => assert!(
                    matches!(problems[0].reason, UnusableReason::BadSignature { .. }),
                    "{name}: {problems:?}"
                ),
                other => panic!("{name}: {other:?}"),
            }
        }
    }

    #[test]
    fn bare_basic_ocsp_response_is_accepted() {
        let resp = x509_ocsp::OcspResponse::from_der(&bytes("ocsp-good.der")).unwrap();
        let basic = resp.response_bytes.unwrap().response.as_bytes().to_vec();
        let ocsp = vec![basic];
        let finding = check_revocation(
            &cert("leaf"),
            &cert("int-ca"),
            &RevocationSources {
                crls: &[],
                ocsp: &ocsp,
            },
            at(NOW),
            &[],
        );
        assert!(matches!(finding, RevocationFinding::Good { .. }));
    }

    #[test]
    fn revoked_wins_over_good() {
        // OCSP good for the leaf plus the CRL (good too); revoked leaf: CRL revoked,
        // and the unrelated good response is not applicable
        assert!(matches!(
            check("leaf", &["int.crl"], &["ocsp-good.der"], NOW),
            RevocationFinding::Good { .. }
        ));
        assert!(matches!(
            check(
                "leaf-revoked",
                &["int.crl", "root.crl"],
                &["ocsp-good.der"],
                NOW
            ),
            RevocationFinding::Revoked { .. }
        ));
    }

    #[test]
    fn garbage_sources_are_skipped_and_reported() {
        let crls = vec![
            vec![],
            vec![0x30, 0x00],
            b"garbage".to_vec(),
            bytes("int.crl"),
        ];
        let mut truncated = bytes("ocsp-good.der");
        truncated.truncate(100);
        let unauthorised = x509_ocsp::OcspResponse::unauthorized().to_der().unwrap();
        let ocsp = vec![truncated, unauthorised, vec![0xff; 3]];
        let sources = RevocationSources {
            crls: &crls,
            ocsp: &ocsp,
        };
        let finding = check_revocation(&cert("leaf"), &cert("int-ca"), &sources, at(NOW), &[]);
        assert!(matches!(finding, RevocationFinding::Good { .. }));
        let problems = source_problems(&sources);
        assert_eq!(problems.len(), 6);
        assert!(problems.iter().any(|p| p.reason
            == UnusableReason::OcspResponseStatus {
                status: OcspResponseStatus::Unauthorized
            }));
    }

    #[test]
    fn mutated_inputs_never_panic() {
        let leaf = cert("leaf");
        let int = cert("int-ca");
        let root = cert("root-ca");
        let candidates = [cert("ocsp-responder")];
        let when = at(NOW);
        for name in ["int.crl", "ocsp-good.der", "ocsp-revoked.der"] {
            let original = bytes(name);
            for i in 0..original.len() {
                // one of three masks per byte keeps the test quick
                let mut der = original.clone();
                der[i] ^= [0x01, 0x80, 0xff][i % 3];
                let (crls, ocsp) = if name.ends_with(".crl") {
                    (vec![der], vec![])
                } else {
                    (vec![], vec![der])
                };
                let sources = RevocationSources {
                    crls: &crls,
                    ocsp: &ocsp,
                };
                let _ = check_revocation(&leaf, &int, &sources, when, &candidates);
                let _ = source_problems(&sources);
                let cut = vec![original[..i].to_vec()];
                let _ = check_revocation(
                    &leaf,
                    &int,
                    &RevocationSources {
                        crls: &cut,
                        ocsp: &cut,
                    },
                    when,
                    &candidates,
                );
            }
        }
        let original = leaf.to_der().unwrap();
        for i in 0..original.len() {
            let mut der = original.clone();
            der[i] ^= 0x80;
            if let Ok(certs) = crate::x509::parse_pem_certificates(&der) {
                let outcome = crate::x509::build_and_validate(&crate::x509::PathInput {
                    leaf: &certs[0],
                    candidates: std::slice::from_ref(&int),
                    anchors: std::slice::from_ref(&root),
                    at: when,
                });
                let _ = crate::x509::read_extensions(&certs[0]);
                let _ = crate::x509::certificate_summary(&certs[0]);
                assert_ne!(outcome.status, crate::x509::PathStatus::Valid, "byte {i}");
            }
        }
    }

    #[test]
    fn path_revocation_checks_every_non_anchor() {
        let path = vec![cert("leaf-revoked"), cert("int-ca"), cert("root-ca")];
        let crls = vec![bytes("int.crl"), bytes("root.crl")];
        let found = check_path_revocation(
            &path,
            &RevocationSources {
                crls: &crls,
                ocsp: &[],
            },
            at(NOW),
            &[],
        );
        assert_eq!(found.len(), 2);
        assert!(matches!(
            found[0].finding,
            RevocationFinding::Revoked { .. }
        ));
        assert_eq!(
            found[1].subject,
            "CN=Chain Test Issuing CA,O=Chain Test,C=BE"
        );
        assert!(matches!(found[1].finding, RevocationFinding::Good { .. }));
    }
}
