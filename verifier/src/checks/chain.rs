//! Certificate path, validity at the best proven time, and revocation (RFC 5280, RFC 6960,
//! ETSI EN 319 102-1 §5.2.6 and the past-signature-validation idea of §5.6.2.4).

use formats::x509::path::{
    build_and_validate, validity_problem, PathInput, PathOutcome, PathStatus,
};
use formats::x509::revocation::{check_path_revocation, RevocationFinding, RevocationSources};
use time::OffsetDateTime;
use x509_cert::Certificate;

use super::{rfc3339, Context, Material};

/// Revocation state of the signer's path, summarised for the verdict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RevocationState {
    /// Every certificate checked has a "good" status from usable data.
    Good,
    /// No revocation data for some certificate.
    Missing,
    /// A certificate was revoked at or before the time validated.
    Revoked {
        /// Subject of the revoked certificate.
        subject: String,
        /// Revocation time.
        at: OffsetDateTime,
    },
    /// A certificate was revoked, but only after the time validated (proof of existence
    /// before the revocation).
    RevokedLater {
        /// Subject of the revoked certificate.
        subject: String,
        /// Revocation time.
        at: OffsetDateTime,
    },
    /// Revocation data exists but none of it could be used.
    Unusable(String),
    /// Not checked (no path).
    NotChecked,
}

/// What path validation found for one end-entity certificate.
#[derive(Clone, Debug)]
pub struct ChainFindings {
    /// The path outcome at the time finally used.
    pub outcome: PathOutcome,
    /// The time the path was validated at.
    pub validated_at: OffsetDateTime,
    /// True when validation had to fall back to a proof of existence before "now".
    pub used_poe: bool,
    /// Revocation state.
    pub revocation: RevocationState,
    /// Human-readable notes.
    pub notes: Vec<String>,
}

impl ChainFindings {
    /// The path reaches an anchor and every certificate is valid at the time used.
    pub fn trusted(&self) -> bool {
        self.outcome.is_valid()
    }
}

/// Validates `leaf` now; if only validity periods fail and `poe` proves the signature
/// existed earlier, validates at `poe` instead. Revocation is checked at the time used.
pub fn check_chain(
    leaf: &Certificate,
    extra: &[Certificate],
    material: &Material,
    ctx: &Context<'_>,
    poe: Option<OffsetDateTime>,
) -> ChainFindings {
    let mut candidates: Vec<Certificate> = extra.to_vec();
    for c in &material.certs {
        if !candidates.contains(c) {
            candidates.push(c.clone());
        }
    }
    let at_now = build_and_validate(&PathInput {
        leaf,
        candidates: &candidates,
        anchors: ctx.anchors,
        at: ctx.now,
    });
    let mut notes = Vec::new();
    let (outcome, validated_at, used_poe) = match (&at_now.status, poe) {
        (PathStatus::Expired { .. } | PathStatus::NotYetValid { .. }, Some(t)) if t < ctx.now => {
            let at_poe = build_and_validate(&PathInput {
                leaf,
                candidates: &candidates,
                anchors: ctx.anchors,
                at: t,
            });
            if at_poe.is_valid() {
                notes.push(format!(
                    "a certificate is outside its validity period now, but the signature is proven to exist at {}, when it was valid",
                    rfc3339(t)
                ));
                (at_poe, t, true)
            } else {
                (at_now, ctx.now, false)
            }
        }
        _ => (at_now, ctx.now, false),
    };
    let revocation = if outcome.anchored && outcome.path.len() >= 2 {
        // Revocation is judged at the best known existence time: the proof of existence if
        // there is one, else now.
        let at = poe.unwrap_or(ctx.now);
        revocation_state(&outcome.path, material, at, &candidates)
    } else {
        RevocationState::NotChecked
    };
    ChainFindings {
        outcome,
        validated_at,
        used_poe,
        revocation,
        notes,
    }
}

fn revocation_state(
    path: &[Certificate],
    material: &Material,
    at: OffsetDateTime,
    candidates: &[Certificate],
) -> RevocationState {
    let sources = RevocationSources {
        crls: &material.crls,
        ocsp: &material.ocsps,
    };
    let findings = check_path_revocation(path, &sources, at, candidates);
    let mut state = RevocationState::Good;
    for f in findings {
        match f.finding {
            RevocationFinding::Revoked { revoked_at, .. } => {
                return RevocationState::Revoked {
                    subject: f.subject,
                    at: revoked_at,
                }
            }
            RevocationFinding::RevokedAfter { revoked_at, .. } => {
                state = RevocationState::RevokedLater {
                    subject: f.subject,
                    at: revoked_at,
                };
            }
            RevocationFinding::Good { .. } => {}
            RevocationFinding::NoData if state == RevocationState::Good => {
                state = RevocationState::Missing;
            }
            RevocationFinding::Unknown { .. } => {
                if matches!(state, RevocationState::Good | RevocationState::Missing) {
                    state = RevocationState::Unusable(format!(
                        "the responder does not know {}",
                        f.subject
                    ));
                }
            }
            RevocationFinding::Unusable { problems } => {
                if matches!(state, RevocationState::Good | RevocationState::Missing) {
                    state = RevocationState::Unusable(format!(
                        "revocation data for {} is unusable: {:?}",
                        f.subject,
                        problems.first().map(|p| &p.reason)
                    ));
                }
            }
            _ => {}
        }
    }
    state
}

/// A sentence describing a path status.
pub fn describe_status(s: &PathStatus) -> String {
    match s {
        PathStatus::Valid => "the certificate chains to a trust anchor".into(),
        PathStatus::NoChainFound => "no certificate chain to a trusted root was found (give the root with --trust)".into(),
        PathStatus::Expired { subject, not_after, at } => format!(
            "certificate {subject} expired on {} (validation time {}) and no proof of existence before that is available",
            rfc3339(*not_after),
            rfc3339(*at)
        ),
        PathStatus::NotYetValid { subject, not_before, at } => format!(
            "certificate {subject} is not valid before {} (validation time {})",
            rfc3339(*not_before),
            rfc3339(*at)
        ),
        PathStatus::BadSignature { subject, issuer, .. } => format!("the signature on certificate {subject} by {issuer} does not verify"),
        PathStatus::NotACa { subject, reason } => format!("certificate {subject} issues certificates but is not a CA ({reason:?})"),
        PathStatus::UnknownCriticalExtension { subject, oid } => format!("certificate {subject} has an unknown critical extension {oid}"),
        PathStatus::MalformedExtension { subject, oid } => format!("certificate {subject} has a malformed extension {oid}"),
        other => format!("{other:?}"),
    }
}

/// Re-checks only the validity periods of an already built path at `at`.
pub fn valid_at(path: &[Certificate], at: OffsetDateTime) -> bool {
    validity_problem(path, at).is_none()
}
