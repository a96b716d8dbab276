//! ESS signing-certificate attributes (RFC 2634 §5.4, RFC 5035 §5.4): the signed
//! reference to the signer's certificate that stops certificate substitution.
//!
//! The `cms` crate has no type for them; these follow the ASN.1 of the RFCs.

use der::asn1::{OctetString, SetOfVec};
use der::{Any, Decode, Encode, Sequence};
use spki::AlgorithmIdentifierOwned;
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::certpolicy::PolicyInformation;
use x509_cert::ext::pkix::name::{GeneralName, GeneralNames};
use x509_cert::serial_number::SerialNumber;
use x509_cert::Certificate;

use super::AttributeError;
use crate::crypto::DigestAlgorithm;
use crate::oids;

/// Signing certificate, version 2 (RFC 5035 §5.4): names the signer's certificate by a
/// hash under any algorithm.
///
/// ```text
/// SigningCertificateV2 ::=  SEQUENCE {
///     certs        SEQUENCE OF ESSCertIDv2,
///     policies     SEQUENCE OF PolicyInformation OPTIONAL
/// }
/// ```
/// <https://www.rfc-editor.org/rfc/rfc5035#section-5.4>
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct SigningCertificateV2 {
    /// The first names the signing certificate; any others, certificates of its path.
    pub certs: Vec<EssCertIdV2>,
    /// Policies the certificates are good for (rarely present, not checked here).
    #[asn1(optional = "true")]
    pub policies: Option<Vec<PolicyInformation>>,
}

/// One certificate reference of [`SigningCertificateV2`] (RFC 5035 §5.4.1).
///
/// ```text
/// ESSCertIDv2 ::=  SEQUENCE {
///     hashAlgorithm           AlgorithmIdentifier
///                             DEFAULT {algorithm id-sha256},
///     certHash                Hash,
///     issuerSerial            IssuerSerial OPTIONAL
/// }
/// Hash ::= OCTET STRING
/// ```
/// <https://www.rfc-editor.org/rfc/rfc5035#section-5.4.1>
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct EssCertIdV2 {
    /// Hash algorithm of `cert_hash` as written; `None` means the DEFAULT, SHA-256
    /// (see [`EssCertIdV2::hash_algorithm`]). Kept optional rather than defaulted so that
    /// a value decodes and re-encodes byte for byte whichever way its producer wrote it;
    /// DER producers (ours included) leave SHA-256 out.
    #[asn1(optional = "true")]
    pub hash_algorithm: Option<AlgorithmIdentifierOwned>,
    /// Hash of the whole DER certificate.
    pub cert_hash: OctetString,
    /// Issuer and serial number of the certificate.
    #[asn1(optional = "true")]
    pub issuer_serial: Option<IssuerSerial>,
}

/// Signing certificate, version 1 (RFC 2634 §5.4): names the signer's certificate by its
/// SHA-1 hash. Still written by many time-stamp authorities.
///
/// ```text
/// SigningCertificate ::=  SEQUENCE {
///     certs        SEQUENCE OF ESSCertID,
///     policies     SEQUENCE OF PolicyInformation OPTIONAL
/// }
/// ```
/// <https://www.rfc-editor.org/rfc/rfc2634#section-5.4>
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct SigningCertificate {
    /// The first names the signing certificate; any others, certificates of its path.
    pub certs: Vec<EssCertId>,
    /// Policies the certificates are good for (rarely present, not checked here).
    #[asn1(optional = "true")]
    pub policies: Option<Vec<PolicyInformation>>,
}

/// One certificate reference of [`SigningCertificate`] (RFC 2634 §5.4.1).
///
/// ```text
/// ESSCertID ::=  SEQUENCE {
///      certHash                 Hash,
///      issuerSerial             IssuerSerial OPTIONAL
/// }
/// Hash ::= OCTET STRING -- SHA1 hash of entire certificate
/// ```
/// <https://www.rfc-editor.org/rfc/rfc2634#section-5.4.1>
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct EssCertId {
    /// SHA-1 of the whole DER certificate.
    pub cert_hash: OctetString,
    /// Issuer and serial number of the certificate.
    #[asn1(optional = "true")]
    pub issuer_serial: Option<IssuerSerial>,
}

/// Issuer and serial number inside an ESS certificate reference (RFC 5035 §5.4.1,
/// RFC 2634 §5.4.1).
///
/// ```text
/// IssuerSerial ::= SEQUENCE {
///     issuer                   GeneralNames,
///     serialNumber             CertificateSerialNumber
/// }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct IssuerSerial {
    /// The issuer's name (a directoryName in practice).
    pub issuer: GeneralNames,
    /// The certificate's serial number.
    pub serial_number: SerialNumber,
}

impl EssCertIdV2 {
    /// The hash algorithm of `cert_hash`, SHA-256 when absent (the DEFAULT).
    pub fn hash_algorithm(&self) -> AlgorithmIdentifierOwned {
        self.hash_algorithm
            .clone()
            .unwrap_or_else(|| DigestAlgorithm::Sha256.algorithm_identifier())
    }
}

/// The outcome of comparing a SignerInfo's ESS signing-certificate attributes with the
/// certificate that verified its signature.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub enum EssCheck {
    /// Neither signing-certificate nor signing-certificate-v2 is present.
    Absent,
    /// The attribute is malformed (does not decode, repeated, no certificate listed).
    Malformed {
        /// What was wrong.
        reason: String,
    },
    /// The (first) reference names the certificate; `v2` tells which attribute did
    /// (signing-certificate-v2 when true). When both are present both must match.
    Match {
        /// True when signing-certificate-v2 was checked.
        v2: bool,
    },
    /// The reference names another certificate.
    Mismatch {
        /// What differed.
        reason: String,
    },
    /// The reference hashes with an algorithm we do not support.
    UnsupportedHash {
        /// Dotted OID of the hash algorithm.
        oid: String,
    },
}

impl EssCheck {
    /// True unless the attribute is present and wrong (mismatch, malformed, unsupported).
    pub fn is_acceptable(&self) -> bool {
        matches!(self, Self::Absent | Self::Match { .. })
    }
}

/// Compares the ESS attributes (as read from a SignerInfo) with `cert`.
pub fn check_signing_certificate(
    v2: Result<Option<SigningCertificateV2>, AttributeError>,
    v1: Result<Option<SigningCertificate>, AttributeError>,
    cert: &Certificate,
) -> EssCheck {
    let cert_der = match cert.to_der() {
        Ok(d) => d,
        Err(e) => {
            return EssCheck::Malformed {
                reason: format!("the certificate does not re-encode: {e}"),
            }
        }
    };
    let mut matched_v2 = None;
    match v2 {
        Err(e) => {
            return EssCheck::Malformed {
                reason: e.to_string(),
            }
        }
        Ok(None) => {}
        Ok(Some(sc)) => {
            let Some(id) = sc.certs.first() else {
                return EssCheck::Malformed {
                    reason: "signing-certificate-v2 lists no certificate".into(),
                };
            };
            let hash_algorithm = id.hash_algorithm();
            let Some(alg) = DigestAlgorithm::from_oid(&hash_algorithm.oid) else {
                return EssCheck::UnsupportedHash {
                    oid: hash_algorithm.oid.to_string(),
                };
            };
            if let Err(reason) = match_reference(
                alg,
                id.cert_hash.as_bytes(),
                id.issuer_serial.as_ref(),
                cert,
                &cert_der,
            ) {
                return EssCheck::Mismatch {
                    reason: format!("signing-certificate-v2: {reason}"),
                };
            }
            matched_v2 = Some(true);
        }
    }
    match v1 {
        Err(e) => {
            return EssCheck::Malformed {
                reason: e.to_string(),
            }
        }
        Ok(None) => {}
        Ok(Some(sc)) => {
            let Some(id) = sc.certs.first() else {
                return EssCheck::Malformed {
                    reason: "signing-certificate lists no certificate".into(),
                };
            };
            if let Err(reason) = match_reference(
                DigestAlgorithm::Sha1,
                id.cert_hash.as_bytes(),
                id.issuer_serial.as_ref(),
                cert,
                &cert_der,
            ) {
                return EssCheck::Mismatch {
                    reason: format!("signing-certificate: {reason}"),
                };
            }
            matched_v2.get_or_insert(false);
        }
    }
    match matched_v2 {
        Some(v2) => EssCheck::Match { v2 },
        None => EssCheck::Absent,
    }
}

fn match_reference(
    alg: DigestAlgorithm,
    hash: &[u8],
    issuer_serial: Option<&IssuerSerial>,
    cert: &Certificate,
    cert_der: &[u8],
) -> Result<(), String> {
    if alg.digest(cert_der) != hash {
        return Err(format!(
            "the {} hash does not match the signer's certificate",
            alg.name()
        ));
    }
    if let Some(is) = issuer_serial {
        if is.serial_number.as_bytes() != cert.tbs_certificate.serial_number.as_bytes() {
            return Err("issuerSerial names another serial number".into());
        }
        let issuer_found = is.issuer.iter().any(|gn| match gn {
            GeneralName::DirectoryName(n) => super::names_equal(n, &cert.tbs_certificate.issuer),
            _ => false,
        });
        if !issuer_found {
            return Err("issuerSerial names another issuer".into());
        }
    }
    Ok(())
}

fn issuer_serial(cert_der: &[u8]) -> Result<IssuerSerial, der::Error> {
    let cert = Certificate::from_der(cert_der)?;
    Ok(IssuerSerial {
        issuer: vec![GeneralName::DirectoryName(cert.tbs_certificate.issuer)],
        serial_number: cert.tbs_certificate.serial_number,
    })
}

/// An `ESSCertIDv2` for the DER certificate `cert_der` hashed with `digest`.
pub fn ess_cert_id_v2(
    cert_der: &[u8],
    digest: DigestAlgorithm,
    with_issuer_serial: bool,
) -> Result<EssCertIdV2, der::Error> {
    Ok(EssCertIdV2 {
        hash_algorithm: (digest != DigestAlgorithm::Sha256).then(|| digest.algorithm_identifier()),
        cert_hash: OctetString::new(digest.digest(cert_der))?,
        issuer_serial: with_issuer_serial
            .then(|| issuer_serial(cert_der))
            .transpose()?,
    })
}

fn attribute<T: Encode>(
    oid: const_oid::ObjectIdentifier,
    value: &T,
) -> Result<Attribute, der::Error> {
    let mut values = SetOfVec::new();
    values.insert(Any::from_der(&value.to_der()?)?)?;
    Ok(Attribute { oid, values })
}

/// The signing-certificate-v2 signed attribute naming `cert_der` by its SHA-256 hash
/// (the algorithm field is then omitted, being the default), with the issuer and serial
/// number when asked (ETSI EN 319 122-1 recommends them).
pub fn signing_certificate_v2_attribute(
    cert_der: &[u8],
    with_issuer_serial: bool,
) -> Result<Attribute, der::Error> {
    let value = SigningCertificateV2 {
        certs: vec![ess_cert_id_v2(
            cert_der,
            DigestAlgorithm::Sha256,
            with_issuer_serial,
        )?],
        policies: None,
    };
    attribute(oids::ID_AA_SIGNING_CERTIFICATE_V2, &value)
}

/// The legacy signing-certificate signed attribute naming `cert_der` by its SHA-1 hash
/// (RFC 2634; what RFC 3161 §2.4.1 asks of a TSA, for clients that predate RFC 5816).
pub fn signing_certificate_attribute(
    cert_der: &[u8],
    with_issuer_serial: bool,
) -> Result<Attribute, der::Error> {
    let value = SigningCertificate {
        certs: vec![EssCertId {
            cert_hash: OctetString::new(DigestAlgorithm::Sha1.digest(cert_der))?,
            issuer_serial: with_issuer_serial
                .then(|| issuer_serial(cert_der))
                .transpose()?,
        }],
        policies: None,
    };
    attribute(oids::ID_AA_SIGNING_CERTIFICATE, &value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test_cert() -> (Certificate, Vec<u8>) {
        let cms =
            super::super::parse_signed_cms(include_bytes!("../../tests/data/pyhanko-b-b-p256.p7s"))
                .unwrap();
        let c = cms.certificates[0].clone();
        let d = c.to_der().unwrap();
        (c, d)
    }

    #[test]
    fn v2_default_algorithm_is_omitted_and_round_trips() {
        let (_, der) = test_cert();
        let id = ess_cert_id_v2(&der, DigestAlgorithm::Sha256, false).unwrap();
        let enc = id.to_der().unwrap();
        // SEQUENCE { OCTET STRING (32) }: no AlgorithmIdentifier for the default
        assert_eq!(&enc[..4], &[0x30, 34, 0x04, 32]);
        assert_eq!(EssCertIdV2::from_der(&enc).unwrap(), id);
        // explicit SHA-384 is encoded and read back
        let id = ess_cert_id_v2(&der, DigestAlgorithm::Sha384, true).unwrap();
        let enc = id.to_der().unwrap();
        let back = EssCertIdV2::from_der(&enc).unwrap();
        assert_eq!(back, id);
        assert_eq!(back.to_der().unwrap(), enc);
    }

    #[test]
    fn built_attributes_match_their_certificate() {
        let (cert, der) = test_cert();
        for with_is in [false, true] {
            let a = signing_certificate_v2_attribute(&der, with_is).unwrap();
            let v2 = SigningCertificateV2::from_der(&a.values.get(0).unwrap().to_der().unwrap())
                .unwrap();
            assert_eq!(
                check_signing_certificate(Ok(Some(v2)), Ok(None), &cert),
                EssCheck::Match { v2: true }
            );
            let a = signing_certificate_attribute(&der, with_is).unwrap();
            let v1 =
                SigningCertificate::from_der(&a.values.get(0).unwrap().to_der().unwrap()).unwrap();
            // round trip byte for byte
            assert_eq!(
                v1.to_der().unwrap(),
                a.values.get(0).unwrap().to_der().unwrap()
            );
            assert_eq!(
                check_signing_certificate(Ok(None), Ok(Some(v1)), &cert),
                EssCheck::Match { v2: false }
            );
        }
    }

    #[test]
    fn another_certificate_is_a_mismatch() {
        let cms =
            super::super::parse_signed_cms(include_bytes!("../../tests/data/pyhanko-b-b-p256.p7s"))
                .unwrap();
        let signer = cms.certificates[0].clone();
        let other = cms.certificates[1].to_der().unwrap();
        let a = signing_certificate_v2_attribute(&other, true).unwrap();
        let v2 =
            SigningCertificateV2::from_der(&a.values.get(0).unwrap().to_der().unwrap()).unwrap();
        assert!(matches!(
            check_signing_certificate(Ok(Some(v2.clone())), Ok(None), &signer),
            EssCheck::Mismatch { .. }
        ));
        // right hash but wrong serial
        let mut forged = v2;
        let mine =
            ess_cert_id_v2(&signer.to_der().unwrap(), DigestAlgorithm::Sha256, false).unwrap();
        forged.certs[0].cert_hash = mine.cert_hash;
        let res = check_signing_certificate(Ok(Some(forged)), Ok(None), &signer);
        assert!(
            matches!(&res, EssCheck::Mismatch { reason } if reason.contains("serial")),
            "{res:?}"
        );
        assert_eq!(
            check_signing_certificate(Ok(None), Ok(None), &signer),
            EssCheck::Absent
        );
    }
}
