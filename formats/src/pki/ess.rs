//! Making ESS signing-certificate-v2 values (RFC 5035) for the signatures we produce: a time-
//! stamp token, a CAdES signature. The types are [`crate::cms::ess`]'s; checking a received
//! value is [`crate::cms::ess::check_signing_certificate`].

use der::asn1::OctetString;
use sha2::{Digest, Sha256};
use x509_cert::{ext::pkix::name::GeneralName, Certificate};

use crate::cms::ess::{EssCertIdV2, IssuerSerial, SigningCertificateV2};

/// The SHA-256 `ESSCertIDv2` of `certificate` with issuerSerial; the hash algorithm is left
/// out (the DEFAULT, as DER requires). `certificate_der` is the DER the hash covers.
///
/// # Errors
/// Only if der refuses a 32-byte OCTET STRING (it does not).
pub fn ess_cert_id_v2_sha256(
    certificate: &Certificate,
    certificate_der: &[u8],
) -> der::Result<EssCertIdV2> {
    Ok(EssCertIdV2 {
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

/// A signing-certificate-v2 value naming only `certificate` (RFC 5035 §5.4; what RFC 5816
/// and EN 319 122-1 ask of a signer).
///
/// # Errors
/// As [`ess_cert_id_v2_sha256`].
pub fn signing_certificate_v2(
    certificate: &Certificate,
    certificate_der: &[u8],
) -> der::Result<SigningCertificateV2> {
    Ok(SigningCertificateV2 {
        certs: vec![ess_cert_id_v2_sha256(certificate, certificate_der)?],
        policies: None,
    })
}

#[cfg(test)]
mod tests {
    use std::{str::FromStr, time::Duration};

    use der::{Decode, Encode};
    use x509_cert::name::Name;

    use super::*;
    use crate::{
        cms::{ess::check_signing_certificate, EssCheck},
        pki::{
            issue_certificate, CertificateTemplate, IssuerRef, KeyAlgorithm, Profile, SigningKey,
        },
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
    fn sha256_default_is_omitted_and_the_checker_accepts_it() {
        let (c, der) = cert();
        let v2 = signing_certificate_v2(&c, &der).unwrap();
        let enc = v2.to_der().unwrap();
        // SEQUENCE { SEQUENCE { SEQUENCE { OCTET STRING ...: no AlgorithmIdentifier first.
        assert_eq!(&enc[..1], &[0x30]);
        assert_eq!(enc[2], 0x30);
        assert_eq!(enc[4], 0x30);
        assert_eq!(
            enc[6], 0x04,
            "certHash comes first when the default is omitted"
        );
        let back = SigningCertificateV2::from_der(&enc).unwrap();
        assert_eq!(back.to_der().unwrap(), enc);
        assert_eq!(
            check_signing_certificate(Ok(Some(back.clone())), Ok(None), &c),
            EssCheck::Match { v2: true }
        );
        let (other, _) = cert();
        assert!(matches!(
            check_signing_certificate(Ok(Some(back)), Ok(None), &other),
            EssCheck::Mismatch { .. }
        ));
    }
}
