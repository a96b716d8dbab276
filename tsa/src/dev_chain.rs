//! The development chain: a root CA and a TSA certificate made on first start when no key is
//! configured, so that `tsa serve --data DIR` works out of the box.
//!
//! Files in DIR: `root.pem` (the trust anchor to give verifiers), `tsa.pem` (the TSA
//! certificate), `tsa-key.pem` (its PKCS#8 key, mode 0600). The root key is not kept: the
//! development root can certify nothing else. `tsa-key.pem` is written last and marks a
//! complete chain; without it the chain is made again.

use std::{
    fs,
    io::Write,
    path::{Path, PathBuf},
    str::FromStr,
    time::Duration,
};

use formats::{
    oids,
    pki::{
        issue_certificate, key::Pkcs8Key, CertificateTemplate, ExtendedKeyUsageSpec, IssuerRef,
        KeyAlgorithm, PkiError, Profile, SigningKey,
    },
};
use x509_cert::{
    der::{pem::LineEnding, DecodePem, EncodePem},
    name::Name,
    Certificate,
};

use crate::issue::TsaIdentity;

/// The trust anchor file.
pub const ROOT_FILE: &str = "root.pem";
/// The TSA certificate file.
pub const TSA_CERT_FILE: &str = "tsa.pem";
/// The TSA key file (PKCS#8 PEM).
pub const TSA_KEY_FILE: &str = "tsa-key.pem";

const YEAR: Duration = Duration::from_secs(365 * 24 * 3600);

/// A freshly generated chain.
pub struct DevChain {
    /// The self-signed root (trust anchor).
    pub root: Certificate,
    /// The TSA key and certificate.
    pub identity: TsaIdentity,
    /// The TSA key's PKCS#8 encoding, to be written to disk.
    pub tsa_key_pkcs8: Pkcs8Key,
}

/// Failures while making, writing or reading the development chain.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DevChainError {
    /// Key generation, certificate issuing or key loading failed.
    #[error("development chain: {0}")]
    Pki(#[from] PkiError),
    /// A file could not be read or written.
    #[error("development chain: {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A certificate file could not be parsed.
    #[error("development chain: {path}: {source}")]
    Certificate {
        /// The file.
        path: PathBuf,
        /// The decoding error.
        #[source]
        source: der::Error,
    },
}

/// Generates a root CA (P-256, 20 years, keyCertSign + cRLSign) and a TSA certificate
/// (P-256, 10 years, digitalSignature, extendedKeyUsage timeStamping critical).
///
/// # Errors
/// [`DevChainError::Pki`] when generation or signing fails.
pub fn generate() -> Result<DevChain, DevChainError> {
    let name = |s: &str| Name::from_str(s).map_err(PkiError::from);
    let (root_key, _) = SigningKey::generate(KeyAlgorithm::EcdsaP256)?;
    let root = issue_certificate(
        &CertificateTemplate::new(
            name("CN=TSA Development Root CA,OU=development only - not trusted,O=tsa")?,
            Profile::Ca { path_len: Some(0) },
            20 * YEAR,
        ),
        root_key.public_key_info(),
        IssuerRef::SelfSigned(&root_key),
    )?;
    let (tsa_key, tsa_key_pkcs8) = SigningKey::generate(KeyAlgorithm::EcdsaP256)?;
    let mut template = CertificateTemplate::new(
        name("CN=TSA Development Time-Stamping Unit,OU=development only - not trusted,O=tsa")?,
        Profile::EndEntity,
        10 * YEAR,
    );
    template.extended_key_usage = Some(ExtendedKeyUsageSpec {
        purposes: vec![oids::KP_TIME_STAMPING],
        critical: true,
    });
    let certificate = issue_certificate(
        &template,
        tsa_key.public_key_info(),
        IssuerRef::Ca {
            certificate: &root,
            key: &root_key,
        },
    )?;
    Ok(DevChain {
        root,
        identity: TsaIdentity {
            key: tsa_key,
            certificate,
            chain: Vec::new(),
        },
        tsa_key_pkcs8,
    })
}

/// Whether [`load_or_create`] made a new chain.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum DevChainStatus {
    /// A new chain was generated and written.
    Created,
    /// An existing chain was loaded.
    Loaded,
}

/// Loads the development chain from `dir`, generating and writing it first if `dir` has no
/// complete chain.
///
/// # Errors
/// [`DevChainError`] when files cannot be read, parsed or written.
pub fn load_or_create(dir: &Path) -> Result<(TsaIdentity, DevChainStatus), DevChainError> {
    let key_path = dir.join(TSA_KEY_FILE);
    let cert_path = dir.join(TSA_CERT_FILE);
    if key_path.exists() {
        let key_pem = read_text(&key_path)?;
        let key = SigningKey::from_pkcs8_pem(&key_pem)?;
        let cert_pem = read_text(&cert_path)?;
        let certificate = Certificate::from_pem(cert_pem.as_bytes()).map_err(|source| {
            DevChainError::Certificate {
                path: cert_path.clone(),
                source,
            }
        })?;
        return Ok((
            TsaIdentity {
                key,
                certificate,
                chain: Vec::new(),
            },
            DevChainStatus::Loaded,
        ));
    }
    fs::create_dir_all(dir).map_err(|source| DevChainError::Io {
        path: dir.to_owned(),
        source,
    })?;
    let chain = generate()?;
    let pem = |c: &Certificate| c.to_pem(LineEnding::LF).map_err(PkiError::from);
    write_file(&dir.join(ROOT_FILE), pem(&chain.root)?.as_bytes(), false)?;
    write_file(
        &cert_path,
        pem(&chain.identity.certificate)?.as_bytes(),
        false,
    )?;
    write_file(&key_path, chain.tsa_key_pkcs8.to_pem()?.as_bytes(), true)?;
    Ok((chain.identity, DevChainStatus::Created))
}

fn read_text(path: &Path) -> Result<String, DevChainError> {
    fs::read_to_string(path).map_err(|source| DevChainError::Io {
        path: path.to_owned(),
        source,
    })
}

/// Writes through a temporary file and a rename, so a crash never leaves half a file;
/// `secret` files are created with mode 0600 on Unix. Shared with the signer's CA, which
/// keeps its keys the same way.
pub fn write_file_atomically(path: &Path, contents: &[u8], secret: bool) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = secret;
    let mut file = options.open(&tmp)?;
    file.write_all(contents)?;
    file.sync_all()?;
    drop(file);
    fs::rename(&tmp, path)
}

fn write_file(path: &Path, contents: &[u8], secret: bool) -> Result<(), DevChainError> {
    write_file_atomically(path, contents, secret).map_err(|source| DevChainError::Io {
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_then_loaded() {
        let dir = tempfile::tempdir().unwrap();
        let (first, status) = load_or_create(dir.path()).unwrap();
        assert_eq!(status, DevChainStatus::Created);
        for f in [ROOT_FILE, TSA_CERT_FILE, TSA_KEY_FILE] {
            assert!(dir.path().join(f).exists(), "{f}");
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.path().join(TSA_KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "key file readable by others: {mode:o}");
        }
        let (second, status) = load_or_create(dir.path()).unwrap();
        assert_eq!(status, DevChainStatus::Loaded);
        assert_eq!(second.certificate, first.certificate);
        assert_eq!(second.key.public_key_info(), first.key.public_key_info());
    }
}
