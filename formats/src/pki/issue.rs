//! Certificate issuing (RFC 5280): root CAs, intermediate CAs and end-entity certificates with
//! the extensions a qualified-signature PKI needs, signed by a [`SigningKey`].
//!
//! We build the `TBSCertificate` directly rather than through `x509_cert::builder`: its
//! profiles fix the key usage of a leaf (digitalSignature + nonRepudiation) and the criticality
//! of every extension, and opting out needs its `hazmat` feature. Here each extension and its
//! criticality are explicit in [`CertificateTemplate`].

use std::time::{Duration, SystemTime};

use der::{
    asn1::{BitString, OctetString, UtcTime},
    Encode,
};
use ring::rand::SecureRandom;
use sha1::{Digest, Sha1};
use spki::{ObjectIdentifier, SubjectPublicKeyInfoOwned};
use x509_cert::{
    certificate::{Certificate, TbsCertificate, Version},
    ext::{
        pkix::{
            certpolicy::PolicyInformation, AuthorityKeyIdentifier, BasicConstraints,
            CertificatePolicies, ExtendedKeyUsage, KeyUsage, KeyUsages, SubjectKeyIdentifier,
        },
        Extension,
    },
    name::Name,
    serial_number::SerialNumber,
    time::{Time, Validity},
};

use super::{PkiError, SigningKey};

/// What kind of certificate to issue; fixes basicConstraints.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Profile {
    /// A CA certificate (basicConstraints cA TRUE, critical), with an optional
    /// pathLenConstraint.
    Ca {
        /// pathLenConstraint, `None` for unlimited.
        path_len: Option<u8>,
    },
    /// An end-entity certificate (basicConstraints cA FALSE, critical).
    EndEntity,
}

/// The extendedKeyUsage extension to add.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct ExtendedKeyUsageSpec {
    /// The key purposes, e.g. id-kp-timeStamping.
    pub purposes: Vec<ObjectIdentifier>,
    /// Whether the extension is critical (RFC 3161 §2.3 requires it for a TSA certificate).
    pub critical: bool,
}

/// Everything about a certificate except its public key and issuer.
#[derive(Clone, Debug)]
pub struct CertificateTemplate {
    /// The subject distinguished name.
    pub subject: Name,
    /// The serial number; `None` draws 16 random bytes (positive, at most 20 octets).
    pub serial_number: Option<SerialNumber>,
    /// notBefore.
    pub not_before: SystemTime,
    /// notAfter.
    pub not_after: SystemTime,
    /// CA or end entity.
    pub profile: Profile,
    /// keyUsage bits (critical). For a CA typically keyCertSign | cRLSign.
    pub key_usage: der::flagset::FlagSet<KeyUsages>,
    /// extendedKeyUsage, if any.
    pub extended_key_usage: Option<ExtendedKeyUsageSpec>,
    /// certificatePolicies OIDs (non-critical, without qualifiers); empty for none.
    pub policies: Vec<ObjectIdentifier>,
    /// Further extensions, added as given (e.g. QCStatements, CRL distribution points).
    pub extra_extensions: Vec<Extension>,
}

impl CertificateTemplate {
    /// A template valid from one minute ago (clock skew) for `lifetime`.
    pub fn new(subject: Name, profile: Profile, lifetime: Duration) -> Self {
        let now = SystemTime::now();
        let not_before = now.checked_sub(Duration::from_secs(60)).unwrap_or(now);
        let key_usage = match profile {
            Profile::Ca { .. } => KeyUsages::KeyCertSign | KeyUsages::CRLSign,
            Profile::EndEntity => KeyUsages::DigitalSignature.into(),
        };
        Self {
            subject,
            serial_number: None,
            not_before,
            not_after: now + lifetime,
            profile,
            key_usage,
            extended_key_usage: None,
            policies: Vec::new(),
            extra_extensions: Vec::new(),
        }
    }
}

/// Who signs the certificate.
#[derive(Clone, Copy, Debug)]
pub enum IssuerRef<'a> {
    /// Self-signed: the subject key signs, issuer = subject (a root CA).
    SelfSigned(&'a SigningKey),
    /// Signed by a CA: its certificate (for the issuer name and key identifier) and its key.
    Ca {
        /// The issuing CA's certificate.
        certificate: &'a Certificate,
        /// The issuing CA's private key.
        key: &'a SigningKey,
    },
}

/// Issues a certificate for `subject_key` as `template` says, signed by `issuer`.
///
/// Extensions, in this order: basicConstraints (critical), keyUsage (critical),
/// extendedKeyUsage (criticality per template), subjectKeyIdentifier (SHA-1 of the public key,
/// RFC 5280 §4.2.1.2 method 1), authorityKeyIdentifier (the issuer's SKI; absent when
/// self-signed), certificatePolicies, then `extra_extensions`.
///
/// # Errors
/// [`PkiError::Der`] when a field cannot be encoded (e.g. a date past 9999),
/// [`PkiError::Sign`] when signing fails, [`PkiError::KeyGeneration`] when no random serial
/// can be drawn.
pub fn issue_certificate(
    template: &CertificateTemplate,
    subject_key: &SubjectPublicKeyInfoOwned,
    issuer: IssuerRef<'_>,
) -> Result<Certificate, PkiError> {
    let (issuer_name, issuer_key, issuer_key_id) = match issuer {
        IssuerRef::SelfSigned(key) => (template.subject.clone(), key, None),
        IssuerRef::Ca { certificate, key } => (
            certificate.tbs_certificate.subject.clone(),
            key,
            Some(issuer_key_identifier(certificate)?),
        ),
    };
    let serial_number = match &template.serial_number {
        Some(serial) => serial.clone(),
        None => random_serial()?,
    };

    let mut extensions = Vec::new();
    let basic = match template.profile {
        Profile::Ca { path_len } => BasicConstraints {
            ca: true,
            path_len_constraint: path_len,
        },
        Profile::EndEntity => BasicConstraints {
            ca: false,
            path_len_constraint: None,
        },
    };
    extensions.push(extension(&basic, true)?);
    extensions.push(extension(&KeyUsage(template.key_usage), true)?);
    if let Some(eku) = &template.extended_key_usage {
        extensions.push(extension(
            &ExtendedKeyUsage(eku.purposes.clone()),
            eku.critical,
        )?);
    }
    extensions.push(extension(
        &SubjectKeyIdentifier(OctetString::new(key_identifier(subject_key))?),
        false,
    )?);
    if let Some(key_id) = issuer_key_id {
        extensions.push(extension(
            &AuthorityKeyIdentifier {
                key_identifier: Some(OctetString::new(key_id)?),
                ..Default::default()
            },
            false,
        )?);
    }
    if !template.policies.is_empty() {
        let policies = CertificatePolicies(
            template
                .policies
                .iter()
                .map(|oid| PolicyInformation {
                    policy_identifier: *oid,
                    policy_qualifiers: None,
                })
                .collect(),
        );
        extensions.push(extension(&policies, false)?);
    }
    extensions.extend(template.extra_extensions.iter().cloned());

    let signature = issuer_key.signature_algorithm();
    let tbs_certificate = TbsCertificate {
        version: Version::V3,
        serial_number,
        signature: signature.clone(),
        issuer: issuer_name,
        validity: Validity {
            not_before: rfc5280_time(template.not_before)?,
            not_after: rfc5280_time(template.not_after)?,
        },
        subject: template.subject.clone(),
        subject_public_key_info: subject_key.clone(),
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: Some(extensions),
    };
    let tbs_der = tbs_certificate.to_der()?;
    let signature_value = BitString::from_bytes(&issuer_key.sign(&tbs_der)?)?;
    Ok(Certificate {
        tbs_certificate,
        signature_algorithm: signature,
        signature: signature_value,
    })
}

/// The key identifier RFC 5280 §4.2.1.2 method 1 derives: SHA-1 of the subjectPublicKey bits.
pub fn key_identifier(key: &SubjectPublicKeyInfoOwned) -> Vec<u8> {
    Sha1::digest(key.subject_public_key.raw_bytes()).to_vec()
}

/// The issuer's subjectKeyIdentifier if it has one, else one derived from its public key.
fn issuer_key_identifier(issuer: &Certificate) -> Result<Vec<u8>, PkiError> {
    let tbs = &issuer.tbs_certificate;
    for ext in tbs.extensions.iter().flatten() {
        if ext.extn_id == const_oid::db::rfc5280::ID_CE_SUBJECT_KEY_IDENTIFIER {
            let ski: SubjectKeyIdentifier = der::Decode::from_der(ext.extn_value.as_bytes())?;
            return Ok(ski.0.as_bytes().to_vec());
        }
    }
    Ok(key_identifier(&tbs.subject_public_key_info))
}

fn extension<T: Encode + const_oid::AssociatedOid>(
    value: &T,
    critical: bool,
) -> Result<Extension, PkiError> {
    Ok(Extension {
        extn_id: T::OID,
        critical,
        extn_value: OctetString::new(value.to_der()?)?,
    })
}

/// UTCTime through 2049, GeneralizedTime from 2050 on (RFC 5280 §4.1.2.5).
///
/// # Errors
/// [`PkiError::TimeBeforeEpoch`] before 1970, [`PkiError::Der`] after 9999.
pub fn rfc5280_time(at: SystemTime) -> Result<Time, PkiError> {
    // Whole seconds: both encodings forbid fractions in certificates.
    let secs = at.duration_since(SystemTime::UNIX_EPOCH)?.as_secs();
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(secs);
    Ok(match UtcTime::from_system_time(at) {
        Ok(utc) => Time::UtcTime(utc),
        Err(_) => Time::try_from(at)?,
    })
}

/// A random positive serial number of 16 bytes (RFC 5280 §4.1.2.2: at most 20 octets; CA/B
/// Forum: at least 64 bits of randomness).
///
/// # Errors
/// [`PkiError::KeyGeneration`] if the system random source fails.
pub fn random_serial() -> Result<SerialNumber, PkiError> {
    let mut bytes = [0u8; 16];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(PkiError::KeyGeneration)?;
    // Clear the sign bit and make sure the first octet is not zero (no leading-zero stripping).
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    Ok(SerialNumber::new(&bytes)?)
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use der::{Decode, Encode};

    use super::*;
    use crate::{oids, pki::KeyAlgorithm};

    fn name(s: &str) -> Name {
        Name::from_str(s).unwrap()
    }

    fn find(cert: &Certificate, oid: ObjectIdentifier) -> &Extension {
        cert.tbs_certificate
            .extensions
            .as_ref()
            .unwrap()
            .iter()
            .find(|e| e.extn_id == oid)
            .unwrap()
    }

    fn verify(cert: &Certificate, by: &SigningKey) {
        let tbs = cert.tbs_certificate.to_der().unwrap();
        ring::signature::UnparsedPublicKey::new(
            &ring::signature::ECDSA_P256_SHA256_ASN1,
            by.public_key_info().subject_public_key.raw_bytes(),
        )
        .verify(&tbs, cert.signature.raw_bytes())
        .unwrap();
    }

    #[test]
    fn root_and_time_stamping_leaf() {
        let (root_key, _) = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let root_template = CertificateTemplate::new(
            name("CN=Test Root,O=Example"),
            Profile::Ca { path_len: None },
            Duration::from_secs(20 * 365 * 86400),
        );
        let root = issue_certificate(
            &root_template,
            root_key.public_key_info(),
            IssuerRef::SelfSigned(&root_key),
        )
        .unwrap();
        verify(&root, &root_key);
        assert_eq!(root.tbs_certificate.issuer, root.tbs_certificate.subject);
        let basic: BasicConstraints =
            Decode::from_der(find(&root, oids_ce::BASIC).extn_value.as_bytes()).unwrap();
        assert!(basic.ca);
        assert!(find(&root, oids_ce::BASIC).critical);
        let ku: KeyUsage =
            Decode::from_der(find(&root, oids_ce::KU).extn_value.as_bytes()).unwrap();
        assert!(ku.key_cert_sign() && ku.crl_sign() && !ku.digital_signature());

        let (tsa_key, _) = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let mut tsa_template = CertificateTemplate::new(
            name("CN=Test TSA,O=Example"),
            Profile::EndEntity,
            Duration::from_secs(10 * 365 * 86400),
        );
        tsa_template.extended_key_usage = Some(ExtendedKeyUsageSpec {
            purposes: vec![oids::KP_TIME_STAMPING],
            critical: true,
        });
        tsa_template.policies = vec![ObjectIdentifier::new_unwrap("1.3.6.1.4.1.99999.1.1")];
        let tsa = issue_certificate(
            &tsa_template,
            tsa_key.public_key_info(),
            IssuerRef::Ca {
                certificate: &root,
                key: &root_key,
            },
        )
        .unwrap();
        verify(&tsa, &root_key);
        assert_eq!(tsa.tbs_certificate.issuer, root.tbs_certificate.subject);
        let eku_ext = find(&tsa, oids_ce::EKU);
        assert!(eku_ext.critical);
        let eku: ExtendedKeyUsage = Decode::from_der(eku_ext.extn_value.as_bytes()).unwrap();
        assert_eq!(eku.0, vec![oids::KP_TIME_STAMPING]);
        let aki: AuthorityKeyIdentifier =
            Decode::from_der(find(&tsa, oids_ce::AKI).extn_value.as_bytes()).unwrap();
        let root_ski: SubjectKeyIdentifier =
            Decode::from_der(find(&root, oids_ce::SKI).extn_value.as_bytes()).unwrap();
        assert_eq!(aki.key_identifier.unwrap(), root_ski.0);
        let ku: KeyUsage = Decode::from_der(find(&tsa, oids_ce::KU).extn_value.as_bytes()).unwrap();
        assert!(ku.digital_signature() && !ku.non_repudiation());

        // DER round trip: decode → encode is byte-equal.
        let der = tsa.to_der().unwrap();
        assert_eq!(Certificate::from_der(&der).unwrap().to_der().unwrap(), der);
        // 2036 is still UTCTime.
        assert!(matches!(
            tsa.tbs_certificate.validity.not_after,
            Time::UtcTime(_)
        ));
    }

    #[test]
    fn times_from_2050_are_generalized() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(2_556_143_999); // 2050-12-31
        assert!(matches!(rfc5280_time(t).unwrap(), Time::GeneralTime(_)));
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(2_524_607_999); // 2049-12-31
        assert!(matches!(rfc5280_time(t).unwrap(), Time::UtcTime(_)));
    }

    #[test]
    fn random_serials_are_positive_and_distinct() {
        let a = random_serial().unwrap();
        let b = random_serial().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.as_bytes().len(), 16);
        assert!(a.as_bytes()[0] & 0x80 == 0);
    }

    mod oids_ce {
        pub use const_oid::db::rfc5280::{
            ID_CE_AUTHORITY_KEY_IDENTIFIER as AKI, ID_CE_BASIC_CONSTRAINTS as BASIC,
            ID_CE_EXT_KEY_USAGE as EKU, ID_CE_KEY_USAGE as KU, ID_CE_SUBJECT_KEY_IDENTIFIER as SKI,
        };
    }
}
