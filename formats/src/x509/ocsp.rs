//! What one OCSP response says about one certificate (RFC 6960), simplified as documented
//! in [`super::revocation`].
//!
//! The response is an `OCSPResponse` (status `successful`, responseType
//! id-pkix-ocsp-basic) or a bare `BasicOCSPResponse` (as PDF DSS `/OCSPs` streams hold
//! them). The SingleResponse whose CertID matches the certificate is used. The response
//! must be signed by the issuer itself or by a delegated responder certificate issued by
//! the issuer with id-kp-OCSPSigning, found in the response's `certs` or among the caller's
//! candidates, and valid at producedAt (RFC 6960 §4.2.2.2).

use const_oid::db::rfc6960;
use der::{Decode, Encode};
use time::OffsetDateTime;
use x509_ocsp::{
    BasicOcspResponse, CertId, CertStatus, OcspResponse, OcspResponseStatus, ResponderId,
};

use super::ext::{has_eku, read_extensions};
use super::path::LinkFailure;
use super::revocation::{OcspResponder, RevocationSource, SourceVerdict, UnusableReason};
use super::{
    first_element, generalized_to_offset, names_match, subject_string, to_offset, verify_issued_by,
    Certificate,
};
use crate::crypto::DigestAlgorithm;
use crate::oids;

/// OCSP response extensions understood here.
const KNOWN_RESPONSE_EXTENSIONS: &[const_oid::ObjectIdentifier] =
    &[rfc6960::ID_PKIX_OCSP_NONCE, rfc6960::ID_PKIX_OCSP_CRL];

/// A decoded basic response with the DER it came from.
pub(crate) struct ParsedOcsp {
    basic_der: Vec<u8>,
    basic: BasicOcspResponse,
}

/// Decodes an `OCSPResponse` or a bare `BasicOCSPResponse`.
pub(crate) fn parse(der: &[u8]) -> Result<ParsedOcsp, UnusableReason> {
    let basic_der = match OcspResponse::from_der(der) {
        Ok(resp) => {
            if resp.response_status != OcspResponseStatus::Successful {
                return Err(UnusableReason::OcspResponseStatus {
                    status: resp.response_status,
                });
            }
            let Some(bytes) = resp.response_bytes else {
                return Err(UnusableReason::Malformed {
                    error: der::ErrorKind::Incomplete {
                        expected_len: der::Length::ONE,
                        actual_len: der::Length::ZERO,
                    }
                    .into(),
                });
            };
            if bytes.response_type != oids::OCSP_BASIC {
                return Err(UnusableReason::UnsupportedResponseType {
                    oid: bytes.response_type,
                });
            }
            bytes.response.into_bytes()
        }
        Err(outer_error) => {
            if BasicOcspResponse::from_der(der).is_err() {
                return Err(UnusableReason::Malformed { error: outer_error });
            }
            der.to_vec()
        }
    };
    let basic = BasicOcspResponse::from_der(&basic_der)
        .map_err(|error| UnusableReason::Malformed { error })?;
    Ok(ParsedOcsp { basic_der, basic })
}

/// What the OCSP response `der` (index `index` in the sources) says about `cert`, issued
/// by `issuer`, at `at`.
pub(crate) fn check_ocsp(
    index: usize,
    der: &[u8],
    cert: &Certificate,
    issuer: &Certificate,
    at: OffsetDateTime,
    candidates: &[Certificate],
) -> SourceVerdict {
    let Ok(parsed) = parse(der) else {
        // reported by `source_problems`
        return SourceVerdict::NotApplicable;
    };
    let data = &parsed.basic.tbs_response_data;
    let Some(single) = data
        .responses
        .iter()
        .find(|r| cert_id_matches(&r.cert_id, cert, issuer))
    else {
        return SourceVerdict::NotApplicable;
    };
    let responder = match authorise(&parsed, issuer, candidates) {
        Ok(r) => r,
        Err(reason) => return SourceVerdict::Problem(reason),
    };
    if let Some(e) = data
        .response_extensions
        .as_deref()
        .unwrap_or_default()
        .iter()
        .find(|e| e.critical && !KNOWN_RESPONSE_EXTENSIONS.contains(&e.extn_id))
    {
        return SourceVerdict::Problem(UnusableReason::UnknownCriticalExtension { oid: e.extn_id });
    }
    let next_update = single
        .next_update
        .as_ref()
        .map(|t| generalized_to_offset(&t.0));
    let source = RevocationSource::Ocsp {
        index,
        produced_at: generalized_to_offset(&data.produced_at.0),
        this_update: generalized_to_offset(&single.this_update.0),
        next_update,
        responder,
    };
    match &single.cert_status {
        CertStatus::Good(_) => match next_update {
            Some(next) if next < at => SourceVerdict::Problem(UnusableReason::Stale {
                next_update: next,
                at,
            }),
            _ => SourceVerdict::Good(source),
        },
        CertStatus::Revoked(info) => SourceVerdict::Revoked {
            revoked_at: generalized_to_offset(&info.revocation_time.0),
            reason: info.revocation_reason,
            source,
        },
        CertStatus::Unknown(_) => SourceVerdict::Unknown(source),
    }
}

/// Whether `id` names `cert` issued by `issuer` (RFC 6960 §4.1.1).
fn cert_id_matches(id: &CertId, cert: &Certificate, issuer: &Certificate) -> bool {
    let Some(alg) = DigestAlgorithm::from_oid(&id.hash_algorithm.oid) else {
        return false;
    };
    if id.serial_number != cert.tbs_certificate.serial_number {
        return false;
    }
    let key_hash = alg.digest(
        issuer
            .tbs_certificate
            .subject_public_key_info
            .subject_public_key
            .raw_bytes(),
    );
    if key_hash != id.issuer_key_hash.as_bytes() {
        return false;
    }
    [
        &cert.tbs_certificate.issuer,
        &issuer.tbs_certificate.subject,
    ]
    .iter()
    .filter_map(|name| name.to_der().ok())
    .any(|der| alg.digest(&der) == id.issuer_name_hash.as_bytes())
}

/// Finds who signed the response and checks the signature and the authorisation.
fn authorise(
    parsed: &ParsedOcsp,
    issuer: &Certificate,
    candidates: &[Certificate],
) -> Result<OcspResponder, UnusableReason> {
    let basic = &parsed.basic;
    let tbs =
        first_element(&parsed.basic_der).map_err(|error| UnusableReason::Malformed { error })?;
    let signature = basic
        .signature
        .as_bytes()
        .ok_or(UnusableReason::BadSignature {
            failure: LinkFailure::Malformed,
        })?;
    let verify = |signer: &Certificate| {
        crate::crypto::verify_signature(
            &signer.tbs_certificate.subject_public_key_info,
            &basic.signature_algorithm,
            None,
            tbs,
            signature,
        )
        .map(drop)
        .map_err(|e| UnusableReason::BadSignature {
            failure: LinkFailure::from(&e),
        })
    };
    let named = |c: &Certificate| responder_id_matches(&basic.tbs_response_data.responder_id, c);

    let mut problem = UnusableReason::ResponderNotFound;
    if named(issuer) {
        match verify(issuer) {
            Ok(()) => return Ok(OcspResponder::Issuer),
            Err(e) => problem = e,
        }
    }
    let produced_at = generalized_to_offset(&basic.tbs_response_data.produced_at.0);
    let in_response = basic.certs.as_deref().unwrap_or_default();
    for responder in in_response.iter().chain(candidates) {
        if responder == issuer || !named(responder) {
            continue;
        }
        let subject = subject_string(responder);
        let authorised = names_match(
            &responder.tbs_certificate.issuer,
            &issuer.tbs_certificate.subject,
        ) && verify_issued_by(responder, issuer).is_ok()
            && has_eku(responder, oids::KP_OCSP_SIGNING);
        if !authorised {
            if problem == UnusableReason::ResponderNotFound {
                problem = UnusableReason::ResponderNotAuthorised { subject };
            }
            continue;
        }
        if let Err(e) = verify(responder) {
            problem = e;
            continue;
        }
        let validity = &responder.tbs_certificate.validity;
        if produced_at < to_offset(&validity.not_before)
            || produced_at > to_offset(&validity.not_after)
        {
            return Err(UnusableReason::ResponderNotValid {
                subject,
                produced_at,
            });
        }
        let nocheck = read_extensions(responder)
            .map(|e| e.ocsp_nocheck)
            .unwrap_or(false);
        return Ok(OcspResponder::Delegated { subject, nocheck });
    }
    Err(problem)
}

fn responder_id_matches(id: &ResponderId, cert: &Certificate) -> bool {
    match id {
        ResponderId::ByName(name) => names_match(name, &cert.tbs_certificate.subject),
        ResponderId::ByKey(hash) => {
            DigestAlgorithm::Sha1.digest(
                cert.tbs_certificate
                    .subject_public_key_info
                    .subject_public_key
                    .raw_bytes(),
            ) == hash.as_bytes()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::x509::testdata::{bytes, cert};

    #[test]
    fn ocsp_decode_encode_is_byte_equal() {
        for name in [
            "ocsp-good.der",
            "ocsp-good-nocerts.der",
            "ocsp-revoked.der",
            "ocsp-noeku.der",
        ] {
            let der = bytes(name);
            let resp = OcspResponse::from_der(&der).unwrap();
            assert_eq!(resp.to_der().unwrap(), der, "{name}");
            let parsed = parse(&der).unwrap();
            assert_eq!(parsed.basic.to_der().unwrap(), parsed.basic_der, "{name}");
        }
    }

    #[test]
    fn cert_id_of_the_test_responses() {
        let parsed = parse(&bytes("ocsp-good.der")).unwrap();
        let id = &parsed.basic.tbs_response_data.responses[0].cert_id;
        assert!(cert_id_matches(id, &cert("leaf"), &cert("int-ca")));
        assert!(!cert_id_matches(id, &cert("leaf-revoked"), &cert("int-ca")));
        assert!(!cert_id_matches(id, &cert("leaf"), &cert("impostor-int")));
    }

    #[test]
    fn non_basic_and_unsuccessful_responses() {
        assert!(matches!(
            parse(&OcspResponse::try_later().to_der().unwrap()),
            Err(UnusableReason::OcspResponseStatus {
                status: OcspResponseStatus::TryLater
            })
        ));
        let other = OcspResponse {
            response_status: OcspResponseStatus::Successful,
            response_bytes: Some(x509_ocsp::ResponseBytes {
                response_type: const_oid::ObjectIdentifier::new_unwrap("1.2.3.4"),
                response: der::asn1::OctetString::new(vec![0x05, 0x00]).unwrap(),
            }),
        };
        assert!(matches!(
            parse(&other.to_der().unwrap()),
            Err(UnusableReason::UnsupportedResponseType { .. })
        ));
        assert!(matches!(
            parse(&[0x30, 0x00]),
            Err(UnusableReason::Malformed { .. })
        ));
    }
}
