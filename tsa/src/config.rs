//! TSA configuration: where the data lives, which key and certificates sign, which policy,
//! and the limits of the HTTP front.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
};

use const_oid::ObjectIdentifier;
use formats::pki::{PkiError, SigningKey};
use x509_cert::Certificate;

use crate::{
    dev_chain::{self, DevChainError, DevChainStatus},
    issue::TsaIdentity,
    store::StoreOptions,
};

/// The default TSA policy: **a placeholder** under the IANA Private Enterprise arc
/// (1.3.6.1.4.1.99999 is not assigned to this project). A production TSA configures the
/// policy OID of its own TSA practice statement (`--policy`).
pub const DEFAULT_POLICY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.99999.1.1");

/// The largest request body accepted (a TimeStampReq with a SHA-512 imprint, a policy and a
/// 160-bit nonce is under 150 bytes).
pub const DEFAULT_MAX_REQUEST_BYTES: usize = 4096;

/// The token log's file name in the data directory.
pub const STORE_FILE: &str = "tokens.sqlite";

/// Everything `tsa serve` needs.
#[derive(Clone, Debug)]
pub struct TsaConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Data directory: token log, and the development chain when no key is configured.
    pub data_dir: PathBuf,
    /// The TSA private key (PKCS#8, PEM or DER); with `cert`, or neither.
    pub key: Option<PathBuf>,
    /// The TSA certificate (PEM; the first certificate of the file).
    pub cert: Option<PathBuf>,
    /// Certificates to include after the TSA certificate when certReq is set (PEM, any number).
    pub chain: Option<PathBuf>,
    /// The TSA policy.
    pub policy: ObjectIdentifier,
    /// Largest accepted request body.
    pub max_request_bytes: usize,
    /// Token log options.
    pub store: StoreOptions,
}

impl TsaConfig {
    /// A configuration with defaults: development chain, [`DEFAULT_POLICY`], durable log.
    pub fn new(listen: SocketAddr, data_dir: PathBuf) -> Self {
        Self {
            listen,
            data_dir,
            key: None,
            cert: None,
            chain: None,
            policy: DEFAULT_POLICY,
            max_request_bytes: DEFAULT_MAX_REQUEST_BYTES,
            store: StoreOptions::default(),
        }
    }

    /// The token log's path.
    pub fn store_path(&self) -> PathBuf {
        self.data_dir.join(STORE_FILE)
    }
}

/// Where the signing identity came from.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum IdentitySource {
    /// `--key` and `--cert`.
    Configured,
    /// The development chain, made now.
    DevChainCreated,
    /// The development chain, from an earlier start.
    DevChainLoaded,
}

/// Configuration failures.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// Only one of key and certificate was given.
    #[error("--key and --cert go together (give both, or neither for a development chain)")]
    KeyAndCertTogether,
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The key file is not a usable PKCS#8 key.
    #[error("{path}: {source} (expected an unencrypted PKCS#8 key, e.g. `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256`)")]
    Key {
        /// The file.
        path: PathBuf,
        /// The key error.
        #[source]
        source: PkiError,
    },
    /// A certificate file holds no parsable certificate.
    #[error("{path}: no PEM certificate could be read: {source}")]
    Certificate {
        /// The file.
        path: PathBuf,
        /// The decoding error.
        #[source]
        source: der::Error,
    },
    /// A certificate file is empty.
    #[error("{path}: no certificate in the file")]
    NoCertificate {
        /// The file.
        path: PathBuf,
    },
    /// The development chain could not be made or loaded.
    #[error(transparent)]
    DevChain(#[from] DevChainError),
}

/// Loads the configured identity, or the development chain in the data directory.
///
/// # Errors
/// [`ConfigError`] naming the file and the problem.
pub fn load_identity(config: &TsaConfig) -> Result<(TsaIdentity, IdentitySource), ConfigError> {
    let chain = match &config.chain {
        Some(path) => read_certificates(path)?,
        None => Vec::new(),
    };
    match (&config.key, &config.cert) {
        (Some(key_path), Some(cert_path)) => {
            let key_bytes = read(key_path)?;
            let key = SigningKey::from_pkcs8_file_bytes(&key_bytes).map_err(|source| {
                ConfigError::Key {
                    path: key_path.clone(),
                    source,
                }
            })?;
            let certificate = read_certificates(cert_path)?
                .into_iter()
                .next()
                .ok_or_else(|| ConfigError::NoCertificate {
                    path: cert_path.clone(),
                })?;
            Ok((
                TsaIdentity {
                    key,
                    certificate,
                    chain,
                },
                IdentitySource::Configured,
            ))
        }
        (None, None) => {
            let (mut identity, status) = dev_chain::load_or_create(&config.data_dir)?;
            identity.chain = chain;
            let source = match status {
                DevChainStatus::Created => IdentitySource::DevChainCreated,
                DevChainStatus::Loaded => IdentitySource::DevChainLoaded,
            };
            Ok((identity, source))
        }
        _ => Err(ConfigError::KeyAndCertTogether),
    }
}

fn read(path: &Path) -> Result<Vec<u8>, ConfigError> {
    std::fs::read(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })
}

/// Every certificate of a PEM file, in order.
fn read_certificates(path: &Path) -> Result<Vec<Certificate>, ConfigError> {
    let bytes = read(path)?;
    let certs = Certificate::load_pem_chain(&bytes).map_err(|source| ConfigError::Certificate {
        path: path.to_owned(),
        source,
    })?;
    if certs.is_empty() {
        return Err(ConfigError::NoCertificate {
            path: path.to_owned(),
        });
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(dir: &Path) -> TsaConfig {
        TsaConfig::new(([127, 0, 0, 1], 0).into(), dir.to_owned())
    }

    #[test]
    fn key_without_cert_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = config(dir.path());
        c.key = Some(dir.path().join("k.pem"));
        assert!(matches!(
            load_identity(&c),
            Err(ConfigError::KeyAndCertTogether)
        ));
    }

    #[test]
    fn configured_files_are_loaded() {
        let dir = tempfile::tempdir().unwrap();
        // Make a dev chain, then point --key/--cert/--chain at its files.
        let (dev, _) = load_identity(&config(dir.path())).unwrap();
        let mut c = config(&dir.path().join("other"));
        c.key = Some(dir.path().join(dev_chain::TSA_KEY_FILE));
        c.cert = Some(dir.path().join(dev_chain::TSA_CERT_FILE));
        c.chain = Some(dir.path().join(dev_chain::ROOT_FILE));
        let (identity, source) = load_identity(&c).unwrap();
        assert_eq!(source, IdentitySource::Configured);
        assert_eq!(identity.certificate, dev.certificate);
        assert_eq!(identity.chain.len(), 1);
        assert!(!dir.path().join("other").exists(), "no dev chain made");
    }

    #[test]
    fn unreadable_and_bad_files_name_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("bad.pem");
        std::fs::write(&bad, "not a key").unwrap();
        let mut c = config(dir.path());
        c.key = Some(bad.clone());
        c.cert = Some(dir.path().join("missing.pem"));
        let err = load_identity(&c).unwrap_err();
        assert!(err.to_string().contains("bad.pem"), "{err}");
        c.key = Some(dir.path().join("missing-key.pem"));
        let err = load_identity(&c).unwrap_err();
        assert!(matches!(err, ConfigError::Read { .. }), "{err}");
    }
}
