//! RFC 3161 time-stamp tokens as proof of existence (RFC 3161 §2.4.2, RFC 5816, ETSI EN 319
//! 102-1 §5.4): imprint over the stamped data, the TSA's signature, the timeStamping extended
//! key usage, and the TSA certificate's path to a trust anchor.

use formats::crypto::DigestAlgorithm;
use formats::tsp::{parse_timestamp_token, ImprintCheck};
use time::OffsetDateTime;

use super::chain::{check_chain, describe_status, RevocationState};
use super::{rfc3339, Context, Material};
use crate::status::{Indication, SubIndication, TimestampReport};

/// What checking one token found.
#[derive(Clone, Debug)]
pub struct TimestampFindings {
    /// The report part shown to users.
    pub report: TimestampReport,
    /// genTime, when the token could be read.
    pub gen_time: Option<OffsetDateTime>,
    /// Signature algorithm of the token.
    pub algorithm: Option<String>,
    /// Revocation state of the TSA certificate, in words.
    pub revocation: String,
    /// Notes that do not change the verdict.
    pub warnings: Vec<String>,
    failure: Option<(Indication, SubIndication, String)>,
}

impl TimestampFindings {
    /// Whether the token proves existence at its genTime.
    pub fn ok(&self) -> bool {
        self.failure.is_none() && self.report.ok()
    }

    /// The verdict the token alone warrants, when it is not TOTAL-PASSED.
    pub fn verdict(&self) -> Option<(Indication, SubIndication, String)> {
        self.failure.clone()
    }
}

/// Checks the token `der` against the stamped data, whose digest under a given algorithm
/// `digest_of` computes (streaming for document timestamps).
pub fn check_timestamp(
    der: &[u8],
    digest_of: impl Fn(DigestAlgorithm) -> Option<Vec<u8>>,
    material: &Material,
    ctx: &Context<'_>,
) -> TimestampFindings {
    let mut f = TimestampFindings {
        report: TimestampReport {
            time: String::new(),
            tsa: None,
            imprint_ok: false,
            signature_ok: false,
            trusted: false,
            eku_ok: false,
            serial: None,
            policy: None,
            errors: Vec::new(),
        },
        gen_time: None,
        algorithm: None,
        revocation: "not checked".into(),
        warnings: Vec::new(),
        failure: None,
    };
    let fail = |f: &mut TimestampFindings, ind: Indication, sub: SubIndication, why: String| {
        f.report.errors.push(why.clone());
        if f.failure.as_ref().is_none_or(|(i, _, _)| ind > *i) {
            f.failure = Some((ind, sub, why));
        }
    };
    let token = match parse_timestamp_token(der) {
        Ok(t) => t,
        Err(e) => {
            fail(
                &mut f,
                Indication::TotalFailed,
                SubIndication::FormatFailure,
                format!("the time-stamp token cannot be read: {e}"),
            );
            return f;
        }
    };
    let gen = token.gen_time();
    f.gen_time = Some(gen);
    f.report.time = rfc3339(gen);
    f.report.serial = Some(hex::encode(token.serial_number()));
    f.report.policy = Some(token.policy().to_string());

    // imprint
    match token.imprint_algorithm() {
        Some(alg) => match digest_of(alg) {
            Some(d) => match token.check_imprint_digest(&d) {
                ImprintCheck::Match => f.report.imprint_ok = true,
                ImprintCheck::Mismatch { .. } => fail(
                    &mut f,
                    Indication::TotalFailed,
                    SubIndication::HashFailure,
                    "the time-stamp imprint does not match the stamped data".into(),
                ),
                other => fail(
                    &mut f,
                    Indication::Indeterminate,
                    SubIndication::FormatFailure,
                    format!("time-stamp imprint: {other:?}"),
                ),
            },
            None => fail(
                &mut f,
                Indication::Indeterminate,
                SubIndication::SignedDataNotFound,
                "the time-stamped data could not be read".into(),
            ),
        },
        None => fail(
            &mut f,
            Indication::Indeterminate,
            SubIndication::CryptoConstraintsFailureNoPoe,
            "the time-stamp imprint uses an unsupported hash algorithm".into(),
        ),
    }

    // TSA signature
    let mut extra = material.certs.clone();
    extra.extend(token.cms.certificates.iter().cloned());
    let Some(tsa_cert) = token.tsa_certificate(&extra) else {
        fail(
            &mut f,
            Indication::Indeterminate,
            SubIndication::NoSigningCertificateFound,
            "the TSA certificate is not in the token".into(),
        );
        return f;
    };
    f.report.tsa = Some(formats::x509::subject_string(&tsa_cert));
    let check = token.verify_signature(&tsa_cert);
    match &check.signature {
        Ok(s) if check.is_valid() => {
            f.report.signature_ok = true;
            f.algorithm = Some(s.name());
        }
        Ok(_) => fail(&mut f, Indication::TotalFailed, SubIndication::SigCryptoFailure, format!("the time-stamp token's signed attributes are inconsistent: message digest {:?}, ESS {:?}", check.message_digest, check.ess)),
        Err(e) => fail(&mut f, Indication::TotalFailed, SubIndication::SigCryptoFailure, format!("the TSA's signature does not verify: {e}")),
    }

    // EKU timeStamping (RFC 3161 §2.3: the only EKU, critical)
    if formats::x509::ext::has_eku(&tsa_cert, formats::oids::KP_TIME_STAMPING) {
        f.report.eku_ok = true;
        if formats::x509::ext::eku_critical(&tsa_cert) != Some(true) {
            f.warnings.push(
                "the TSA certificate's extendedKeyUsage is not marked critical (RFC 3161 §2.3)"
                    .into(),
            );
        }
    } else {
        fail(
            &mut f,
            Indication::Indeterminate,
            SubIndication::SigConstraintsFailure,
            "the TSA certificate lacks the timeStamping extended key usage".into(),
        );
    }

    // TSA path: the TSA certificate must have been valid at genTime; it is validated now,
    // with genTime itself as the fallback proof of existence.
    let chain = check_chain(&tsa_cert, &token.cms.certificates, material, ctx, Some(gen));
    if chain.trusted() {
        f.report.trusted = true;
        if !super::chain::valid_at(&chain.outcome.path[..1.min(chain.outcome.path.len())], gen) {
            fail(
                &mut f,
                Indication::Indeterminate,
                SubIndication::OutOfBoundsNoPoe,
                "the TSA certificate was not valid at the time-stamp's genTime".into(),
            );
        }
    } else {
        let sub = match chain.outcome.status {
            formats::x509::path::PathStatus::NoChainFound => SubIndication::NoCertificateChainFound,
            formats::x509::path::PathStatus::Expired { .. }
            | formats::x509::path::PathStatus::NotYetValid { .. } => {
                SubIndication::OutOfBoundsNoPoe
            }
            _ => SubIndication::CertificateChainGeneralFailure,
        };
        fail(
            &mut f,
            Indication::Indeterminate,
            sub,
            format!(
                "TSA certificate: {}",
                describe_status(&chain.outcome.status)
            ),
        );
    }
    f.revocation = match chain.revocation {
        RevocationState::Revoked { subject, at } if at <= gen => {
            fail(
                &mut f,
                Indication::Indeterminate,
                SubIndication::RevokedNoPoe,
                format!(
                    "the TSA certificate {subject} was revoked on {}",
                    rfc3339(at)
                ),
            );
            "revoked".into()
        }
        RevocationState::Good => "good".into(),
        RevocationState::Missing => "missing".into(),
        _ => "other".into(),
    };
    f
}
