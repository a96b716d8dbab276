//! What the app checks before it signs (`notes/APP_API.md`): the signed attributes the
//! service sends must carry the digest of the document the app shows (message-digest),
//! name the app's own certificate (ESS signing-certificate-v2, SHA-256 of the certificate
//! DER) and declare id-data content. Otherwise the app would sign something other than
//! what the user sees, or bind the signature to someone else's certificate.

use const_oid::ObjectIdentifier;
use der::asn1::OctetString;
use der::{Decode, Encode};
use formats::cms::attr::decode_single;
use formats::cms::ess::{check_signing_certificate, SigningCertificate, SigningCertificateV2};
use formats::cms::{AttributeError, EssCheck};
use formats::oids;
use x509_cert::attr::Attributes;
use x509_cert::Certificate;

/// Why the app refuses to sign a document's signed attributes.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignedAttributesError {
    /// An attribute is repeated, multi-valued or does not decode as its type.
    #[error("malformed attribute: {0}")]
    Attribute(#[from] AttributeError),
    /// The app's own certificate does not decode (the app's storage is damaged).
    #[error("the app's own certificate does not decode: {0}")]
    Certificate(der::Error),
    /// The content-type attribute is absent.
    #[error("the content-type attribute is missing")]
    ContentTypeMissing,
    /// The content-type is not id-data.
    #[error("the content type is {found}, not id-data")]
    ContentTypeNotData {
        /// Dotted OID found.
        found: ObjectIdentifier,
    },
    /// The `document_digest` the service gave is not 64 hex digits.
    #[error("the document digest from the service is not a hex SHA-256 ({value:?})")]
    DocumentDigest {
        /// The value received (truncated to 80 characters).
        value: String,
    },
    /// The bytes are not a DER `SET OF Attribute`.
    #[error("the signed attributes do not decode: {0}")]
    Malformed(der::Error),
    /// The message-digest is not the digest of the document shown.
    #[error("the signature would cover digest {found}, not the document's digest {expected}")]
    MessageDigestMismatch {
        /// Hex digest of the document as shown.
        expected: String,
        /// Hex digest found in the attributes.
        found: String,
    },
    /// The message-digest attribute is absent.
    #[error("the message-digest attribute is missing")]
    MessageDigestMissing,
    /// The bytes decode but are not the canonical DER of what they hold (unsorted SET,
    /// non-minimal lengths): the app signs only bytes it can read unambiguously.
    #[error("the signed attributes are not canonical DER")]
    NotCanonical,
    /// signing-certificate-v2 hashes the certificate with something other than SHA-256.
    #[error("signing-certificate-v2 uses hash {oid}, not SHA-256")]
    SigningCertificateHash {
        /// Dotted OID of the hash algorithm.
        oid: ObjectIdentifier,
    },
    /// The ESS attributes name another certificate, or are malformed.
    #[error("the signing certificate named is not this app's certificate: {reason}")]
    SigningCertificateMismatch {
        /// What differed.
        reason: String,
    },
    /// The signing-certificate-v2 attribute is absent.
    #[error("the signing-certificate-v2 attribute is missing")]
    SigningCertificateMissing,
}

/// Checks `signed_attributes` (DER `SET OF Attribute`) against the hex `document_digest`
/// the app shows and the app's certificate `certificate_der`.
///
/// # Errors
/// The first check that fails, as a [`SignedAttributesError`].
pub fn check_signed_attributes(
    signed_attributes: &[u8],
    document_digest: &str,
    certificate_der: &[u8],
) -> Result<(), SignedAttributesError> {
    let expected = parse_sha256_hex(document_digest)?;
    let attrs =
        Attributes::from_der(signed_attributes).map_err(SignedAttributesError::Malformed)?;
    if attrs.to_der().map_err(SignedAttributesError::Malformed)? != signed_attributes {
        return Err(SignedAttributesError::NotCanonical);
    }
    let attrs = Some(&attrs);

    match decode_single::<ObjectIdentifier>(attrs, oids::ID_CONTENT_TYPE)? {
        None => return Err(SignedAttributesError::ContentTypeMissing),
        Some(oid) if oid != oids::ID_DATA => {
            return Err(SignedAttributesError::ContentTypeNotData { found: oid })
        }
        Some(_) => {}
    }

    let digest = decode_single::<OctetString>(attrs, oids::ID_MESSAGE_DIGEST)?
        .ok_or(SignedAttributesError::MessageDigestMissing)?;
    if digest.as_bytes() != expected {
        return Err(SignedAttributesError::MessageDigestMismatch {
            expected: hex::encode(expected),
            found: hex::encode(digest.as_bytes()),
        });
    }

    let certificate =
        Certificate::from_der(certificate_der).map_err(SignedAttributesError::Certificate)?;
    let v2 = decode_single::<SigningCertificateV2>(attrs, oids::ID_AA_SIGNING_CERTIFICATE_V2);
    let v1 = decode_single::<SigningCertificate>(attrs, oids::ID_AA_SIGNING_CERTIFICATE);
    if let Ok(Some(sc)) = &v2 {
        if let Some(id) = sc.certs.first() {
            let oid = id.hash_algorithm().oid;
            if oid != oids::SHA256 {
                return Err(SignedAttributesError::SigningCertificateHash { oid });
            }
        }
    }
    match check_signing_certificate(v2, v1, &certificate) {
        EssCheck::Match { v2: true } => Ok(()),
        EssCheck::Absent | EssCheck::Match { v2: false } => {
            Err(SignedAttributesError::SigningCertificateMissing)
        }
        EssCheck::Mismatch { reason } | EssCheck::Malformed { reason } => {
            Err(SignedAttributesError::SigningCertificateMismatch { reason })
        }
        EssCheck::UnsupportedHash { oid } => {
            Err(SignedAttributesError::SigningCertificateMismatch {
                reason: format!("unsupported hash {oid}"),
            })
        }
        other => Err(SignedAttributesError::SigningCertificateMismatch {
            reason: format!("{other:?}"),
        }),
    }
}

fn parse_sha256_hex(value: &str) -> Result<[u8; 32], SignedAttributesError> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(value, &mut out).map_err(|_not_hex| {
        SignedAttributesError::DocumentDigest {
            value: value.chars().take(80).collect(),
        }
    })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use formats::cms::attr::{
        content_type_attribute, message_digest_attribute, signed_attributes_der,
        signing_time_attribute,
    };
    use formats::cms::ess::{signing_certificate_attribute, signing_certificate_v2_attribute};
    use formats::pki::{
        issue_certificate, CertificateTemplate, IssuerRef, KeyAlgorithm, Profile, SigningKey,
    };
    use x509_cert::attr::Attribute;
    use x509_cert::name::Name;

    use super::*;

    fn certificate(cn: &str) -> Vec<u8> {
        let (key, _) = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let subject: Name = format!("CN={cn}").parse().unwrap();
        let template =
            CertificateTemplate::new(subject, Profile::EndEntity, Duration::from_secs(3600));
        issue_certificate(
            &template,
            key.public_key_info(),
            IssuerRef::SelfSigned(&key),
        )
        .unwrap()
        .to_der()
        .unwrap()
    }

    const DIGEST: [u8; 32] = [0x5a; 32];

    fn attrs(parts: &[Attribute]) -> Vec<u8> {
        signed_attributes_der(parts).unwrap()
    }

    fn good(cert: &[u8]) -> Vec<Attribute> {
        vec![
            content_type_attribute(oids::ID_DATA).unwrap(),
            signing_time_attribute(time::macros::datetime!(2026-11-22 16:12:06 UTC)).unwrap(),
            message_digest_attribute(&DIGEST).unwrap(),
            signing_certificate_v2_attribute(cert, true).unwrap(),
        ]
    }

    #[test]
    fn attributes_naming_the_document_and_own_certificate_pass() {
        let cert = certificate("Alice");
        check_signed_attributes(&attrs(&good(&cert)), &hex::encode(DIGEST), &cert).unwrap();
        // upper-case hex is the same digest
        check_signed_attributes(&attrs(&good(&cert)), &hex::encode_upper(DIGEST), &cert).unwrap();
        // a legacy v1 attribute for the same certificate alongside v2 is fine
        let mut with_v1 = good(&cert);
        with_v1.push(signing_certificate_attribute(&cert, false).unwrap());
        check_signed_attributes(&attrs(&with_v1), &hex::encode(DIGEST), &cert).unwrap();
    }

    #[test]
    fn wrong_digest_is_refused() {
        let cert = certificate("Alice");
        let err = check_signed_attributes(&attrs(&good(&cert)), &hex::encode([0x5b; 32]), &cert)
            .unwrap_err();
        assert!(
            matches!(err, SignedAttributesError::MessageDigestMismatch { .. }),
            "{err}"
        );
        let err = check_signed_attributes(&attrs(&good(&cert)), "not hex", &cert).unwrap_err();
        assert!(matches!(err, SignedAttributesError::DocumentDigest { .. }));
    }

    #[test]
    fn foreign_certificate_is_refused() {
        let mine = certificate("Alice");
        let theirs = certificate("Mallory");
        let err = check_signed_attributes(&attrs(&good(&theirs)), &hex::encode(DIGEST), &mine)
            .unwrap_err();
        assert!(
            matches!(
                err,
                SignedAttributesError::SigningCertificateMismatch { .. }
            ),
            "{err}"
        );
        // a v2 for my certificate with a v1 naming another one is refused too
        let mut mixed = good(&mine);
        mixed.push(signing_certificate_attribute(&theirs, false).unwrap());
        let err = check_signed_attributes(&attrs(&mixed), &hex::encode(DIGEST), &mine).unwrap_err();
        assert!(matches!(
            err,
            SignedAttributesError::SigningCertificateMismatch { .. }
        ));
    }

    #[test]
    fn missing_or_wrong_attributes_are_refused() {
        let cert = certificate("Alice");
        let digest = hex::encode(DIGEST);
        let without = |oid| -> Vec<u8> {
            attrs(
                &good(&cert)
                    .into_iter()
                    .filter(|a| a.oid != oid)
                    .collect::<Vec<_>>(),
            )
        };
        assert!(matches!(
            check_signed_attributes(&without(oids::ID_CONTENT_TYPE), &digest, &cert),
            Err(SignedAttributesError::ContentTypeMissing)
        ));
        assert!(matches!(
            check_signed_attributes(&without(oids::ID_MESSAGE_DIGEST), &digest, &cert),
            Err(SignedAttributesError::MessageDigestMissing)
        ));
        assert!(matches!(
            check_signed_attributes(&without(oids::ID_AA_SIGNING_CERTIFICATE_V2), &digest, &cert),
            Err(SignedAttributesError::SigningCertificateMissing)
        ));
        let mut tst = good(&cert);
        tst[0] = content_type_attribute(oids::ID_CT_TST_INFO).unwrap();
        assert!(matches!(
            check_signed_attributes(&attrs(&tst), &digest, &cert),
            Err(SignedAttributesError::ContentTypeNotData { .. })
        ));
        let mut twice = good(&cert);
        twice.push(message_digest_attribute(&[0u8; 32]).unwrap());
        assert!(matches!(
            check_signed_attributes(&attrs(&twice), &digest, &cert),
            Err(SignedAttributesError::Attribute(_))
        ));
    }

    #[test]
    fn malformed_and_non_canonical_bytes_are_refused() {
        let cert = certificate("Alice");
        let digest = hex::encode(DIGEST);
        for junk in [&b""[..], b"\x31", b"\x30\x00", &[0xff; 40]] {
            assert!(matches!(
                check_signed_attributes(junk, &digest, &cert),
                Err(SignedAttributesError::Malformed(_))
            ));
        }
        let mut trailing = attrs(&good(&cert));
        trailing.push(0);
        assert!(check_signed_attributes(&trailing, &digest, &cert).is_err());
        // a long-form length where the short form fits is not DER
        let der = attrs(&[content_type_attribute(oids::ID_DATA).unwrap()]);
        let mut long = vec![0x31, 0x81];
        long.extend_from_slice(der.get(1..).unwrap());
        assert!(check_signed_attributes(&long, &digest, &cert).is_err());
    }
}
