//! The service's certification authority: a root, an issuing CA for the persons' signing
//! certificates, and the certificate of the embedded time-stamp unit — all made on first
//! start in `DATA/ca/` and kept as PEM certificates and PKCS#8 keys (mode 0600). The root
//! is also written to `DATA/root.pem`: the trust anchor to give verifiers.
//!
//! Person certificates (ETSI EN 319 412-2 natural-person profile, as the app contract
//! says): subject `C=BE, CN=<given> <surname>, givenName, surname,
//! serialNumber=PNOBE-<national number>`; keyUsage nonRepudiation (critical) +
//! digitalSignature; QCStatements QcCompliance, QcSSCD, QcType esign; certificatePolicies
//! QCP-n-qscd; 3 years.
//!
//! These are development keys on disk, not an HSM: a real deployment replaces this module's
//! key storage, not its profile.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use der::asn1::{Any, PrintableStringRef, SetOfVec, Utf8StringRef};
use der::pem::LineEnding;
use der::{DecodePem, Encode, EncodePem};
use formats::oids;
use formats::pki::key::Pkcs8Key;
use formats::pki::{
    issue_certificate, CertificateTemplate, ExtendedKeyUsageSpec, IssuerRef, KeyAlgorithm,
    PkiError, Profile, SigningKey,
};
use formats::x509::qc_statements::QcStatement;
use spki::{ObjectIdentifier, SubjectPublicKeyInfoOwned};
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::ext::pkix::KeyUsages;
use x509_cert::ext::Extension;
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};
use x509_cert::Certificate;

use crate::domain::person::Person;

/// The trust anchor file in the data directory.
pub const ROOT_FILE: &str = "root.pem";

const YEAR: Duration = Duration::from_secs(365 * 24 * 3600);
/// Validity of a person's certificate.
pub const PERSON_CERT_LIFETIME: Duration = Duration::from_secs(3 * 365 * 24 * 3600);

/// Why the CA cannot start or issue.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CaError {
    /// Key handling or certificate issuing failed.
    #[error("CA: {0}")]
    Pki(#[from] PkiError),
    /// A value could not be encoded or a stored certificate decoded.
    #[error("CA: {0}")]
    Der(#[from] der::Error),
    /// A file of the CA could not be read or written.
    #[error("CA file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The key to certify is not an ECDSA P-256 key.
    #[error("the key to certify must be an ECDSA P-256 key ({found})")]
    UnsupportedKey {
        /// What was found.
        found: String,
    },
}

/// A certificate with its DER and its key.
pub struct KeyedCertificate {
    /// The certificate.
    pub certificate: Certificate,
    /// Its DER encoding.
    pub der: Vec<u8>,
    /// Its private key.
    pub key: SigningKey,
    /// The key's PKCS#8 form (to load a second handle on it).
    pub pkcs8: Pkcs8Key,
}

impl std::fmt::Debug for KeyedCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyedCertificate")
            .field(
                "subject",
                &self.certificate.tbs_certificate.subject.to_string(),
            )
            .finish_non_exhaustive()
    }
}

/// The CA: root, issuing CA, and the TSA unit's certificate and key.
#[derive(Debug)]
pub struct Ca {
    /// The self-signed root (trust anchor).
    pub root: KeyedCertificate,
    /// The CA that issues persons' certificates.
    pub issuing: KeyedCertificate,
    /// The embedded time-stamp unit (extendedKeyUsage timeStamping, critical).
    pub tsa: KeyedCertificate,
    /// Where `root.pem` was written.
    pub root_path: PathBuf,
}

/// Whether [`Ca::load_or_create`] made new keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaOrigin {
    /// Made now.
    Created,
    /// Read from disk.
    Loaded,
}

const PARTS: [&str; 3] = ["root", "issuing-ca", "tsa"];

impl Ca {
    /// Loads the CA from `DATA/ca/`, creating it first when absent; writes
    /// `DATA/root.pem`.
    ///
    /// # Errors
    /// [`CaError`].
    pub fn load_or_create(data_dir: &Path) -> Result<(Self, CaOrigin), CaError> {
        let dir = data_dir.join("ca");
        // the TSA key is written last: its presence marks a complete CA
        let origin = if dir.join("tsa-key.pem").exists() {
            CaOrigin::Loaded
        } else {
            create(&dir)?;
            CaOrigin::Created
        };
        let root = load(&dir, "root")?;
        let issuing = load(&dir, "issuing-ca")?;
        let tsa = load(&dir, "tsa")?;
        let root_path = data_dir.join(ROOT_FILE);
        write_file(
            &root_path,
            root.certificate.to_pem(LineEnding::LF)?.as_bytes(),
            false,
        )?;
        Ok((
            Self {
                root,
                issuing,
                tsa,
                root_path,
            },
            origin,
        ))
    }

    /// The chain to embed after a person's certificate: the issuing CA (the root is the
    /// trust anchor and is not sent).
    pub fn chain_der(&self) -> Vec<Vec<u8>> {
        vec![self.issuing.der.clone()]
    }

    /// The chain the app receives at enrollment: issuing CA, then root.
    pub fn full_chain_der(&self) -> Vec<Vec<u8>> {
        vec![self.issuing.der.clone(), self.root.der.clone()]
    }

    /// Issues a person's qualified signing certificate for `key` (must be ECDSA P-256).
    ///
    /// # Errors
    /// [`CaError::UnsupportedKey`], [`CaError::Pki`].
    pub fn issue_person(
        &self,
        person: &Person,
        key: &SubjectPublicKeyInfoOwned,
    ) -> Result<Vec<u8>, CaError> {
        check_p256(key)?;
        let subject = person_name(person)?;
        let mut template =
            CertificateTemplate::new(subject, Profile::EndEntity, PERSON_CERT_LIFETIME);
        template.key_usage = KeyUsages::NonRepudiation | KeyUsages::DigitalSignature;
        template.policies = vec![oids::QCP_N_QSCD];
        template.extra_extensions = vec![qc_statements_extension()?];
        let cert = issue_certificate(
            &template,
            key,
            IssuerRef::Ca {
                certificate: &self.issuing.certificate,
                key: &self.issuing.key,
            },
        )?;
        Ok(cert.to_der()?)
    }
}

/// Whether `key` is an ECDSA P-256 public key.
///
/// # Errors
/// [`CaError::UnsupportedKey`].
pub fn check_p256(key: &SubjectPublicKeyInfoOwned) -> Result<(), CaError> {
    match formats::crypto::key_kind(key) {
        Ok(formats::crypto::KeyKind::EcP256) => Ok(()),
        Ok(other) => Err(CaError::UnsupportedKey {
            found: format!("{other:?}"),
        }),
        Err(e) => Err(CaError::UnsupportedKey {
            found: e.to_string(),
        }),
    }
}

/// QCStatements (ETSI EN 319 412-5): QcCompliance, QcSSCD, QcType esign.
fn qc_statements_extension() -> Result<Extension, CaError> {
    let statements = vec![
        QcStatement {
            statement_id: oids::QCS_QC_COMPLIANCE,
            statement_info: None,
        },
        QcStatement {
            statement_id: oids::QCS_QC_SSCD,
            statement_info: None,
        },
        QcStatement {
            statement_id: oids::QCS_QC_TYPE,
            statement_info: Some(Any::encode_from(&vec![oids::QCT_ESIGN])?),
        },
    ];
    Ok(Extension {
        extn_id: oids::PE_QC_STATEMENTS,
        critical: false,
        extn_value: der::asn1::OctetString::new(statements.to_der()?)?,
    })
}

/// One attribute per RDN, in order; `C` and `serialNumber` as PrintableString, the rest
/// UTF8String (RFC 5280 §4.1.2.4, ETSI EN 319 412-2 §4.2.4).
fn rdn_sequence(attrs: &[(ObjectIdentifier, &str)]) -> Result<Name, CaError> {
    let mut rdns = Vec::new();
    for (oid, value) in attrs {
        let value = if *oid == COUNTRY || *oid == SERIAL_NUMBER {
            Any::encode_from(&PrintableStringRef::new(value)?)?
        } else {
            Any::encode_from(&Utf8StringRef::new(value)?)?
        };
        let atv = AttributeTypeAndValue { oid: *oid, value };
        rdns.push(RelativeDistinguishedName(SetOfVec::try_from(vec![atv])?));
    }
    Ok(RdnSequence(rdns))
}

const COUNTRY: ObjectIdentifier = const_oid::db::rfc4519::COUNTRY_NAME;
const SERIAL_NUMBER: ObjectIdentifier = const_oid::db::rfc4519::SERIAL_NUMBER;

fn person_name(p: &Person) -> Result<Name, CaError> {
    let cn = p.common_name();
    let serial = p.serial_number();
    rdn_sequence(&[
        (COUNTRY, "BE"),
        (const_oid::db::rfc4519::COMMON_NAME, &cn),
        (const_oid::db::rfc4519::GIVEN_NAME, &p.given_name),
        (const_oid::db::rfc4519::SURNAME, &p.surname),
        (SERIAL_NUMBER, &serial),
    ])
}

fn org_name(cn: &str) -> Result<Name, CaError> {
    rdn_sequence(&[
        (COUNTRY, "BE"),
        (
            const_oid::db::rfc4519::ORGANIZATION_NAME,
            "esig signer (development)",
        ),
        (const_oid::db::rfc4519::COMMON_NAME, cn),
    ])
}

fn create(dir: &Path) -> Result<(), CaError> {
    fs::create_dir_all(dir).map_err(|source| CaError::Io {
        path: dir.to_owned(),
        source,
    })?;
    let (root_key, root_pk8) = SigningKey::generate(KeyAlgorithm::EcdsaP256)?;
    let root = issue_certificate(
        &CertificateTemplate::new(
            org_name("esig Development Root CA")?,
            Profile::Ca { path_len: Some(1) },
            20 * YEAR,
        ),
        root_key.public_key_info(),
        IssuerRef::SelfSigned(&root_key),
    )?;
    let (issuing_key, issuing_pk8) = SigningKey::generate(KeyAlgorithm::EcdsaP256)?;
    let issuing = issue_certificate(
        &CertificateTemplate::new(
            org_name("esig Development Qualified Signing CA")?,
            Profile::Ca { path_len: Some(0) },
            10 * YEAR,
        ),
        issuing_key.public_key_info(),
        IssuerRef::Ca {
            certificate: &root,
            key: &root_key,
        },
    )?;
    let (tsa_key, tsa_pk8) = SigningKey::generate(KeyAlgorithm::EcdsaP256)?;
    let mut tsa_template = CertificateTemplate::new(
        org_name("esig Development Time-Stamping Unit")?,
        Profile::EndEntity,
        10 * YEAR,
    );
    tsa_template.extended_key_usage = Some(ExtendedKeyUsageSpec {
        purposes: vec![oids::KP_TIME_STAMPING],
        critical: true,
    });
    let tsa = issue_certificate(
        &tsa_template,
        tsa_key.public_key_info(),
        IssuerRef::Ca {
            certificate: &root,
            key: &root_key,
        },
    )?;
    for (file, (cert, pk8)) in
        PARTS
            .iter()
            .zip([(root, root_pk8), (issuing, issuing_pk8), (tsa, tsa_pk8)])
    {
        write_file(
            &dir.join(format!("{file}.pem")),
            cert.to_pem(LineEnding::LF)?.as_bytes(),
            false,
        )?;
        write_file(
            &dir.join(format!("{file}-key.pem")),
            pk8.to_pem()?.as_bytes(),
            true,
        )?;
    }
    Ok(())
}

fn load(dir: &Path, file: &str) -> Result<KeyedCertificate, CaError> {
    let read = |name: String| {
        let path = dir.join(name);
        fs::read_to_string(&path).map_err(|source| CaError::Io { path, source })
    };
    let certificate = Certificate::from_pem(read(format!("{file}.pem"))?.as_bytes())?;
    let pkcs8 = Pkcs8Key::from_pem(&read(format!("{file}-key.pem"))?)?;
    let key = SigningKey::from_pkcs8(&pkcs8)?;
    Ok(KeyedCertificate {
        der: certificate.to_der()?,
        certificate,
        key,
        pkcs8,
    })
}

/// Writes through a temporary file and a rename; `secret` files get mode 0600 (the TSA's
/// development chain is written by the same function).
fn write_file(path: &Path, contents: &[u8], secret: bool) -> Result<(), CaError> {
    tsa::dev_chain::write_file_atomically(path, contents, secret).map_err(|source| CaError::Io {
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use der::Decode;
    use x509_cert::ext::pkix::{CertificatePolicies, KeyUsage};

    fn person() -> Person {
        Person {
            phone: "+32470000001".into(),
            given_name: "Alice".into(),
            surname: "Martin".into(),
            national_number: "90010112345".into(),
        }
    }

    #[test]
    fn created_once_then_loaded() {
        let dir = tempfile::tempdir().unwrap();
        let (ca, origin) = Ca::load_or_create(dir.path()).unwrap();
        assert_eq!(origin, CaOrigin::Created);
        assert!(dir.path().join(ROOT_FILE).exists());
        let (again, origin) = Ca::load_or_create(dir.path()).unwrap();
        assert_eq!(origin, CaOrigin::Loaded);
        assert_eq!(again.root.der, ca.root.der);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.path().join("ca/root-key.pem"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0);
        }
    }

    #[test]
    fn person_certificate_profile() {
        let dir = tempfile::tempdir().unwrap();
        let (ca, _) = Ca::load_or_create(dir.path()).unwrap();
        let (key, _) = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let der = ca.issue_person(&person(), key.public_key_info()).unwrap();
        let cert = Certificate::from_der(&der).unwrap();
        let tbs = &cert.tbs_certificate;
        // RFC 4514 text lists the RDNs last first; the DER order is C, CN, givenName, SN,
        // serialNumber
        assert_eq!(
            tbs.subject.to_string(),
            "SERIALNUMBER=PNOBE-90010112345,SN=Martin,GIVENNAME=Alice,CN=Alice Martin,C=BE"
        );
        assert_eq!(tbs.issuer, ca.issuing.certificate.tbs_certificate.subject);
        let ext = |oid| {
            tbs.extensions
                .iter()
                .flatten()
                .find(|e| e.extn_id == oid)
                .unwrap()
                .clone()
        };
        let ku = ext(const_oid::db::rfc5280::ID_CE_KEY_USAGE);
        assert!(ku.critical);
        let ku = KeyUsage::from_der(ku.extn_value.as_bytes()).unwrap();
        assert!(ku.non_repudiation() && ku.digital_signature() && !ku.key_cert_sign());
        let qc = ext(oids::PE_QC_STATEMENTS);
        let info =
            formats::x509::qc_statements::read_qc_statements(qc.extn_value.as_bytes()).unwrap();
        assert!(info.compliance && info.sscd && info.is_esign());
        let policies = ext(const_oid::db::rfc5280::ID_CE_CERTIFICATE_POLICIES);
        let policies = CertificatePolicies::from_der(policies.extn_value.as_bytes()).unwrap();
        assert_eq!(policies.0[0].policy_identifier, oids::QCP_N_QSCD);
        // signed by the issuing CA
        formats::crypto::verify_signature(
            &ca.issuing
                .certificate
                .tbs_certificate
                .subject_public_key_info,
            &cert.signature_algorithm,
            None,
            &tbs.to_der().unwrap(),
            cert.signature.raw_bytes(),
        )
        .unwrap();
    }

    #[test]
    fn refuses_other_keys() {
        let dir = tempfile::tempdir().unwrap();
        let (ca, _) = Ca::load_or_create(dir.path()).unwrap();
        let (key, _) = SigningKey::generate(KeyAlgorithm::EcdsaP384).unwrap();
        assert!(matches!(
            ca.issue_person(&person(), key.public_key_info()),
            Err(CaError::UnsupportedKey { .. })
        ));
    }
}
