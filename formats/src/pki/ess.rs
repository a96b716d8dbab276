//! ESS signing-certificate-v2 (RFC 5035 §3, updating RFC 2634 §5.4): the signed attribute
//! that binds a CMS signature (a time-stamp token, a CAdES signature) to the certificate of
//! its signer, so that a certificate substituted afterwards is detected.

use der::{asn1::OctetString, Sequence};
use sha2::{Digest, Sha256};
use spki::AlgorithmIdentifierOwned;
use x509_cert::{
    ext::pkix::{certpolicy::PolicyInformation, name::GeneralName},
    serial_number::SerialNumber,
    Certificate,
};

use crate::oids;

/// RFC 5035 §3 (signing-certificate-v2 attribute value, OID 1.2.840.113549.1.9.16.2.47).
///
/// ```text
/// SigningCertificateV2 ::=  SEQUENCE {
///     certs        SEQUENCE OF ESSCertIDv2,
///     policies     SEQUENCE OF PolicyInformation OPTIONAL
/// }
/// ```
///
/// <https://www.rfc-editor.org/rfc/rfc5035#section-3>
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct SigningCertificateV2 {
    /// The first identifies the signer's certificate; others may identify its chain.
    pub certs: Vec<EssCertIdV2>,
    /// Policies under which the certificates may be used; absent in everything we issue.
    #[asn1(optional = "true")]
    pub policies: Option<Vec<PolicyInformation>>,
}

/// RFC 5035 §4 (replacing RFC 2634 §5.4.1 for hash algorithms other than SHA-1).
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
///
/// `hash_algorithm` is `None` for the DEFAULT (SHA-256): DER omits a default value, so
/// [`EssCertIdV2::sha256`] leaves it out. Use [`EssCertIdV2::hash_algorithm_oid`] to read it.
///
/// <https://www.rfc-editor.org/rfc/rfc5035#section-4>
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct EssCertIdV2 {
    /// The hash algorithm of `cert_hash`; `None` means the DEFAULT, id-sha256.
    #[asn1(optional = "true")]
    pub hash_algorithm: Option<AlgorithmIdentifierOwned>,
    /// The hash of the whole DER certificate.
    pub cert_hash: OctetString,
    /// The certificate's issuer and serial number.
    #[asn1(optional = "true")]
    pub issuer_serial: Option<IssuerSerial>,
}

/// RFC 2634 §5.4.1 (unchanged in RFC 5035).
///
/// ```text
/// IssuerSerial ::= SEQUENCE {
///     issuer                   GeneralNames,
///     serialNumber             CertificateSerialNumber
/// }
/// ```
///
/// <https://www.rfc-editor.org/rfc/rfc2634#section-5.4.1>
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct IssuerSerial {
    /// The certificate issuer, as a directoryName.
    pub issuer: Vec<GeneralName>,
    /// The certificate serial number.
    pub serial_number: SerialNumber,
}

impl EssCertIdV2 {
    /// The SHA-256 identifier of `certificate`, with issuerSerial; `certificate_der` must be
    /// the DER the hash covers (the certificate's bytes as distributed).
    ///
    /// # Errors
    /// Only if der refuses a 32-byte OCTET STRING (it does not).
    pub fn sha256(certificate: &Certificate, certificate_der: &[u8]) -> der::Result<Self> {
        Ok(Self {
            hash_algorithm: None,
            cert_hash: OctetString::new(Sha256::digest(certificate_der).to_vec())?,
            issuer_serial: Some(IssuerSerial {
                issuer: vec![GeneralName::DirectoryName(
                    certificate.tbs_certificate.issuer.clone(),
                )],
                serial_number: certificate.tbs_certificate.serial_number.clone(),
            }),
        })
    }

    /// The hash algorithm, resolving the DEFAULT to id-sha256.
    pub fn hash_algorithm_oid(&self) -> spki::ObjectIdentifier {
        self.hash_algorithm
            .as_ref()
            .map_or(oids::SHA256, |alg| alg.oid)
    }

    /// Whether this identifier names `certificate` (hash over `certificate_der` with SHA-256,
    /// and issuerSerial if present). Other hash algorithms answer `None`: the caller decides
    /// how to hash them.
    pub fn matches_sha256(
        &self,
        certificate: &Certificate,
        certificate_der: &[u8],
    ) -> Option<bool> {
        if self.hash_algorithm_oid() != oids::SHA256 {
            return None;
        }
        let hash_ok = self.cert_hash.as_bytes() == Sha256::digest(certificate_der).as_slice();
        let serial_ok = self.issuer_serial.as_ref().is_none_or(|is| {
            is.serial_number == certificate.tbs_certificate.serial_number
                && is.issuer.iter().any(|gn| {
                    matches!(gn, GeneralName::DirectoryName(n) if *n == certificate.tbs_certificate.issuer)
                })
        });
        Some(hash_ok && serial_ok)
    }
}

#[cfg(test)]
mod tests {
    use std::{str::FromStr, time::Duration};

    use der::{Decode, Encode};
    use x509_cert::name::Name;

    use super::*;
    use crate::pki::{
        issue_certificate, CertificateTemplate, IssuerRef, KeyAlgorithm, Profile, SigningKey,
    };

    fn cert() -> (Certificate, Vec<u8>) {
        let (key, _) = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let t = CertificateTemplate::new(
            Name::from_str("CN=ESS test").unwrap(),
            Profile::EndEntity,
            Duration::from_secs(3600),
        );
        let c = issue_certificate(&t, key.public_key_info(), IssuerRef::SelfSigned(&key)).unwrap();
        let der = c.to_der().unwrap();
        (c, der)
    }

    #[test]
    fn sha256_default_is_omitted_and_round_trips() {
        let (c, der) = cert();
        let v2 = SigningCertificateV2 {
            certs: vec![EssCertIdV2::sha256(&c, &der).unwrap()],
            policies: None,
        };
        let enc = v2.to_der().unwrap();
        // SEQUENCE { SEQUENCE { SEQUENCE { OCTET STRING ...: no AlgorithmIdentifier first.
        assert_eq!(enc[0], 0x30);
        let inner = &enc[2..];
        assert_eq!(inner[0], 0x30);
        assert_eq!(inner[2], 0x30);
        assert_eq!(
            inner[4], 0x04,
            "certHash comes first when the default is omitted"
        );
        let back = SigningCertificateV2::from_der(&enc).unwrap();
        assert_eq!(back, v2);
        assert_eq!(back.to_der().unwrap(), enc);
        assert_eq!(back.certs[0].matches_sha256(&c, &der), Some(true));
        let (other, other_der) = cert();
        assert_eq!(
            back.certs[0].matches_sha256(&other, &other_der),
            Some(false)
        );
    }

    #[test]
    fn explicit_sha256_with_null_is_accepted() {
        // ESSCertIDv2 { hashAlgorithm { sha256, NULL }, certHash 32 x 0x11 }
        let mut id = vec![0x30, 0x31, 0x30, 0x0d, 0x06, 0x09];
        id.extend_from_slice(&[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01]);
        id.extend_from_slice(&[0x05, 0x00, 0x04, 0x20]);
        id.extend_from_slice(&[0x11; 32]);
        let parsed = EssCertIdV2::from_der(&id).unwrap();
        assert_eq!(parsed.hash_algorithm_oid(), oids::SHA256);
        assert!(parsed.hash_algorithm.is_some());
        assert_eq!(parsed.cert_hash.as_bytes(), &[0x11; 32]);
        assert!(parsed.issuer_serial.is_none());
    }

    #[test]
    fn garbage_is_an_error() {
        for junk in [
            &b""[..],
            b"\x30\x80",
            b"\x30\x02\x04\x00",
            &[0x30, 0x05, 0x30, 0x03, 0x04, 0x01],
        ] {
            assert!(SigningCertificateV2::from_der(junk).is_err());
        }
    }
}
