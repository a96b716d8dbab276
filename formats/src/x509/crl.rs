//! What one CRL says about one certificate (RFC 5280 §5, §6.3, simplified as documented in
//! [`super::revocation`]).

use const_oid::db::rfc5280 as pkix;
use der::{Decode, Encode};
use time::OffsetDateTime;
use x509_cert::ext::pkix::crl::dp::IssuingDistributionPoint;
use x509_cert::ext::pkix::name::DistributionPointName;
use x509_cert::ext::pkix::{AuthorityKeyIdentifier, CrlDistributionPoints, CrlReason};
use x509_cert::ext::Extension;

use super::ext::read_extensions;
use super::path::LinkFailure;
use super::revocation::{CrlScope, RevocationSource, SourceVerdict, UnusableReason};
use super::{first_element, name_to_string, names_match, to_offset, Certificate};
use super::{CertificateList, X509Error};
use crate::oids;

/// CRL extensions understood here (RFC 5280 §5.2).
const KNOWN_CRL_EXTENSIONS: &[const_oid::ObjectIdentifier] = &[
    pkix::ID_CE_AUTHORITY_KEY_IDENTIFIER,
    pkix::ID_CE_ISSUER_ALT_NAME,
    pkix::ID_CE_CRL_NUMBER,
    pkix::ID_CE_DELTA_CRL_INDICATOR,
    pkix::ID_CE_ISSUING_DISTRIBUTION_POINT,
    pkix::ID_CE_FRESHEST_CRL,
    pkix::ID_PE_AUTHORITY_INFO_ACCESS,
    oids::CE_EXPIRED_CERTS_ON_CRL,
];

/// CRL entry extensions understood here (RFC 5280 §5.3).
const KNOWN_ENTRY_EXTENSIONS: &[const_oid::ObjectIdentifier] = &[
    pkix::ID_CE_CRL_REASONS,
    pkix::ID_CE_INVALIDITY_DATE,
    pkix::ID_CE_HOLD_INSTRUCTION_CODE,
];

/// Decodes a DER CRL.
pub(crate) fn parse(der: &[u8]) -> Result<CertificateList, der::Error> {
    CertificateList::from_der(der)
}

/// Reads the CRL reason code of a CRL entry's extensions.
pub fn entry_reason(exts: Option<&[Extension]>) -> Result<Option<CrlReason>, X509Error> {
    exts.unwrap_or_default()
        .iter()
        .find(|e| e.extn_id == pkix::ID_CE_CRL_REASONS)
        .map(|e| {
            CrlReason::from_der(e.extn_value.as_bytes()).map_err(|source| X509Error::BadExtension {
                oid: e.extn_id,
                source,
            })
        })
        .transpose()
}

fn find(exts: Option<&[Extension]>, oid: const_oid::ObjectIdentifier) -> Option<&Extension> {
    exts.unwrap_or_default().iter().find(|e| e.extn_id == oid)
}

/// What the CRL `der` (index `index` in the sources) says about `cert`, issued by `issuer`,
/// at `at`.
pub(crate) fn check_crl(
    index: usize,
    der: &[u8],
    cert: &Certificate,
    issuer: &Certificate,
    at: OffsetDateTime,
) -> SourceVerdict {
    let Ok(crl) = parse(der) else {
        // reported by `source_problems`: whom it is about cannot be told
        return SourceVerdict::NotApplicable;
    };
    let tbs = &crl.tbs_cert_list;
    if !names_match(&tbs.issuer, &cert.tbs_certificate.issuer) {
        return SourceVerdict::NotApplicable;
    }
    let crl_exts = tbs.crl_extensions.as_deref();
    let issuer_ext = read_extensions(issuer).ok();

    // a CRL of another key of a CA with the same name is not about this certificate
    if let Some(aki) = find(crl_exts, pkix::ID_CE_AUTHORITY_KEY_IDENTIFIER) {
        match AuthorityKeyIdentifier::from_der(aki.extn_value.as_bytes()) {
            Err(error) => return SourceVerdict::Problem(UnusableReason::Malformed { error }),
            Ok(aki) => {
                let ski = issuer_ext
                    .as_ref()
                    .and_then(|e| e.subject_key_identifier.as_deref());
                if let (Some(k), Some(s)) = (aki.key_identifier.as_ref(), ski) {
                    if k.as_bytes() != s {
                        return SourceVerdict::NotApplicable;
                    }
                }
            }
        }
    }

    if let Err(reason) = verify_crl_signature(der, &crl, issuer) {
        return SourceVerdict::Problem(reason);
    }
    if issuer_ext
        .as_ref()
        .and_then(|e| e.key_usage)
        .is_some_and(|ku| !ku.crl_sign())
    {
        return SourceVerdict::Problem(UnusableReason::IssuerNotCrlSigner);
    }
    if let Some(e) = crl_exts
        .unwrap_or_default()
        .iter()
        .find(|e| e.critical && !KNOWN_CRL_EXTENSIONS.contains(&e.extn_id))
    {
        return SourceVerdict::Problem(UnusableReason::UnknownCriticalExtension { oid: e.extn_id });
    }
    if find(crl_exts, pkix::ID_CE_DELTA_CRL_INDICATOR).is_some() {
        return SourceVerdict::Problem(UnusableReason::UnsupportedCrlScope {
            scope: CrlScope::Delta,
        });
    }
    let mut partial = false;
    if let Some(idp) = find(crl_exts, pkix::ID_CE_ISSUING_DISTRIBUTION_POINT) {
        let idp = match IssuingDistributionPoint::from_der(idp.extn_value.as_bytes()) {
            Ok(idp) => idp,
            Err(error) => return SourceVerdict::Problem(UnusableReason::Malformed { error }),
        };
        if idp.indirect_crl {
            return SourceVerdict::Problem(UnusableReason::UnsupportedCrlScope {
                scope: CrlScope::Indirect,
            });
        }
        if !idp_covers(&idp, cert) {
            return SourceVerdict::NotApplicable;
        }
        partial = idp.only_some_reasons.is_some();
    }

    let this_update = to_offset(&tbs.this_update);
    let next_update = tbs.next_update.as_ref().map(to_offset);
    let source = RevocationSource::Crl {
        index,
        issuer: name_to_string(&tbs.issuer),
        this_update,
        next_update,
    };

    let serial = &cert.tbs_certificate.serial_number;
    let entry = tbs
        .revoked_certificates
        .as_deref()
        .unwrap_or_default()
        .iter()
        .find(|rc| &rc.serial_number == serial);
    if let Some(entry) = entry {
        let exts = entry.crl_entry_extensions.as_deref();
        if let Some(e) = exts
            .unwrap_or_default()
            .iter()
            .find(|e| e.critical && !KNOWN_ENTRY_EXTENSIONS.contains(&e.extn_id))
        {
            return SourceVerdict::Problem(UnusableReason::UnknownCriticalExtension {
                oid: e.extn_id,
            });
        }
        let reason = match entry_reason(exts) {
            Ok(r) => r,
            Err(X509Error::BadExtension { source, .. }) => {
                return SourceVerdict::Problem(UnusableReason::Malformed { error: source })
            }
            Err(_) => None,
        };
        // removeFromCRL only appears in delta CRLs, which are refused above
        if reason != Some(CrlReason::RemoveFromCRL) {
            return SourceVerdict::Revoked {
                revoked_at: to_offset(&entry.revocation_date),
                reason,
                source,
            };
        }
    }

    if partial {
        return SourceVerdict::Problem(UnusableReason::UnsupportedCrlScope {
            scope: CrlScope::OnlySomeReasons,
        });
    }
    if let Some(next) = next_update {
        if next < at {
            return SourceVerdict::Problem(UnusableReason::Stale {
                next_update: next,
                at,
            });
        }
    }
    let not_after = to_offset(&cert.tbs_certificate.validity.not_after);
    if not_after < this_update && find(crl_exts, oids::CE_EXPIRED_CERTS_ON_CRL).is_none() {
        return SourceVerdict::Problem(UnusableReason::CertExpiredBeforeCrl {
            not_after,
            this_update,
        });
    }
    SourceVerdict::Good(source)
}

fn verify_crl_signature(
    der: &[u8],
    crl: &CertificateList,
    issuer: &Certificate,
) -> Result<(), UnusableReason> {
    let bad = |failure| UnusableReason::BadSignature { failure };
    if crl.signature_algorithm != crl.tbs_cert_list.signature {
        return Err(bad(LinkFailure::Unsupported {
            detail: format!(
                "signatureAlgorithm {} differs from the tbsCertList signature {}",
                crl.signature_algorithm.oid, crl.tbs_cert_list.signature.oid
            ),
        }));
    }
    let tbs = first_element(der).map_err(|error| UnusableReason::Malformed { error })?;
    let signature = crl
        .signature
        .as_bytes()
        .ok_or(bad(LinkFailure::Malformed))?;
    crate::crypto::verify_signature(
        &issuer.tbs_certificate.subject_public_key_info,
        &crl.signature_algorithm,
        None,
        tbs,
        signature,
    )
    .map(drop)
    .map_err(|e| bad(LinkFailure::from(&e)))
}

/// Whether a CRL with issuingDistributionPoint `idp` covers `cert` (RFC 5280 §6.3.3 (b)).
fn idp_covers(idp: &IssuingDistributionPoint, cert: &Certificate) -> bool {
    if idp.only_contains_attribute_certs {
        return false;
    }
    let is_ca = read_extensions(cert).map(|e| e.is_ca()).unwrap_or(false);
    if (idp.only_contains_user_certs && is_ca) || (idp.only_contains_ca_certs && !is_ca) {
        return false;
    }
    let Some(DistributionPointName::FullName(idp_names)) = &idp.distribution_point else {
        // nameRelativeToCRLIssuer or no name: nothing more to compare
        return true;
    };
    let cert_dps = cert
        .tbs_certificate
        .extensions
        .as_deref()
        .unwrap_or_default()
        .iter()
        .find(|e| e.extn_id == pkix::ID_CE_CRL_DISTRIBUTION_POINTS)
        .and_then(|e| CrlDistributionPoints::from_der(e.extn_value.as_bytes()).ok());
    let Some(cert_dps) = cert_dps else {
        // the certificate names no distribution point: the CRL's name cannot be compared
        return true;
    };
    cert_dps.0.iter().any(|dp| match &dp.distribution_point {
        Some(DistributionPointName::FullName(names)) => names.iter().any(|n| {
            idp_names
                .iter()
                .any(|m| m == n || m.to_der().ok() == n.to_der().ok())
        }),
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::x509::testdata::{at, bytes, cert};
    use x509_cert::ext::pkix::name::GeneralName;

    #[test]
    fn crl_decode_encode_is_byte_equal() {
        for name in ["int.crl", "root.crl", "impostor.crl"] {
            let der = bytes(name);
            assert_eq!(parse(&der).unwrap().to_der().unwrap(), der, "{name}");
        }
    }

    #[test]
    fn reason_of_revoked_entry() {
        let crl = parse(&bytes("int.crl")).unwrap();
        let entries = crl.tbs_cert_list.revoked_certificates.unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(
            entry_reason(entries[0].crl_entry_extensions.as_deref()).unwrap(),
            Some(CrlReason::KeyCompromise)
        );
    }

    #[test]
    fn idp_scope() {
        let leaf = cert("leaf");
        let int = cert("int-ca");
        let uri =
            |s: &str| GeneralName::UniformResourceIdentifier(der::asn1::Ia5String::new(s).unwrap());
        let mut idp = IssuingDistributionPoint {
            distribution_point: Some(DistributionPointName::FullName(vec![uri(
                "http://127.0.0.1:18080/crl/int.crl",
            )])),
            only_contains_user_certs: true,
            only_contains_ca_certs: false,
            only_some_reasons: None,
            indirect_crl: false,
            only_contains_attribute_certs: false,
        };
        assert!(idp_covers(&idp, &leaf));
        assert!(!idp_covers(&idp, &int));
        idp.distribution_point = Some(DistributionPointName::FullName(vec![uri(
            "http://127.0.0.1:18080/crl/other.crl",
        )]));
        assert!(!idp_covers(&idp, &leaf));
        idp.only_contains_user_certs = false;
        idp.only_contains_ca_certs = true;
        idp.distribution_point = None;
        assert!(!idp_covers(&idp, &leaf));
        assert!(idp_covers(&idp, &int));
    }

    #[test]
    fn check_is_not_fooled_by_garbage() {
        let leaf = cert("leaf");
        let int = cert("int-ca");
        for der in [vec![], vec![0x30], bytes("leaf.pem")] {
            assert!(matches!(
                check_crl(0, &der, &leaf, &int, at("2026-01-01T00:00:00Z")),
                SourceVerdict::NotApplicable
            ));
        }
        // flip a bit inside the signed part: signature fails
        let mut der = bytes("int.crl");
        let pos = der.len() / 3;
        der[pos] ^= 0x01;
        let verdict = check_crl(0, &der, &leaf, &int, at("2026-01-01T00:00:00Z"));
        assert!(
            matches!(
                verdict,
                SourceVerdict::Problem(UnusableReason::BadSignature { .. })
                    | SourceVerdict::NotApplicable
            ),
            "{verdict:?}"
        );
    }
}
