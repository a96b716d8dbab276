//! Where B-T signatures get their time-stamp: the embedded time-stamp unit (the `tsa`
//! crate's authority, in process, certified by our CA) or an external RFC 3161 TSA over
//! HTTP. Both implement [`crate::pades::Timestamper`] and both check every reply with the
//! `tsa` crate's checking client before the token is used.
//!
//! `Timestamper` is synchronous; finalization runs on the blocking pool, so the async TSA
//! calls are driven with the runtime handle captured at construction.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use der::asn1::Int;
use formats::crypto::DigestAlgorithm;
use tsa::authority::{SystemClock, TimeStampAuthority};
use tsa::client::{check_reply, ClientConfig, ClientError, Expected, TsaClient};
use tsa::issue::{IssuerOptions, TokenIssuer, TsaIdentity};
use tsa::request::{encode_request, ImprintAlgorithm};
use tsa::store::{Store as TokenLog, StoreOptions};

use crate::ca::Ca;
use crate::pades::{TimestampError, Timestamper};

/// The TSA policy of the embedded unit (a private arc: development only).
pub const EMBEDDED_POLICY: const_oid::ObjectIdentifier =
    const_oid::ObjectIdentifier::new_unwrap("1.3.6.1.4.1.99999.2.1");

/// Why the time-stamping side could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TimestampingError {
    /// The embedded unit's identity is unusable.
    #[error("embedded TSA: {0}")]
    Identity(#[from] tsa::issue::IdentityError),
    /// The embedded unit's token log could not be opened.
    #[error("embedded TSA token log: {0}")]
    Store(#[from] tsa::store::StoreError),
    /// The CA's TSA key could not be loaded again.
    #[error("embedded TSA key: {0}")]
    Key(#[from] formats::pki::PkiError),
    /// The external TSA's URL is unusable.
    #[error("external TSA: {0}")]
    Client(#[from] ClientError),
}

/// The embedded time-stamp unit.
pub struct EmbeddedTsa {
    authority: Arc<TimeStampAuthority>,
    handle: tokio::runtime::Handle,
    config: ClientConfig,
    available: AtomicBool,
}

impl std::fmt::Debug for EmbeddedTsa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedTsa")
            .field("available", &self.available)
            .finish_non_exhaustive()
    }
}

impl EmbeddedTsa {
    /// The unit certified by `ca`, logging its tokens in `log_path`. Must be called inside
    /// a Tokio runtime.
    ///
    /// # Errors
    /// [`TimestampingError`].
    pub fn open(ca: &Ca, log_path: &Path) -> Result<Self, TimestampingError> {
        // a second handle on the same key: the CA keeps its own
        let key = formats::pki::SigningKey::from_pkcs8(&ca.tsa.pkcs8)?;
        let identity = TsaIdentity {
            key,
            certificate: ca.tsa.certificate.clone(),
            chain: Vec::new(),
        };
        let issuer = TokenIssuer::new(identity, IssuerOptions::new(EMBEDDED_POLICY))?;
        let log = TokenLog::open(log_path, StoreOptions::default())?;
        let authority = TimeStampAuthority::new(issuer, log, Arc::new(SystemClock));
        let config = ClientConfig {
            trust_anchors: Some(vec![ca.root.certificate.clone()]),
            ..ClientConfig::default()
        };
        Ok(Self {
            authority: Arc::new(authority),
            handle: tokio::runtime::Handle::current(),
            config,
            available: AtomicBool::new(true),
        })
    }

    /// Switches the unit off or on (test hook: "the TSA is down").
    pub fn set_available(&self, available: bool) {
        self.available.store(available, Ordering::SeqCst);
    }

    /// Flushes the token log.
    pub fn close(&self) {
        self.authority.close();
    }
}

fn nonce() -> Result<Int, TimestampError> {
    let mut bytes = crate::ids::random_bytes(16).map_err(|e| TimestampError::Other(Box::new(e)))?;
    if let Some(first) = bytes.first_mut() {
        *first = (*first & 0x7f) | 0x01;
    }
    Int::new(&bytes).map_err(|e| TimestampError::Other(Box::new(e)))
}

fn imprint_algorithm(alg: DigestAlgorithm) -> Result<ImprintAlgorithm, TimestampError> {
    match alg {
        DigestAlgorithm::Sha256 => Ok(ImprintAlgorithm::Sha256),
        DigestAlgorithm::Sha384 => Ok(ImprintAlgorithm::Sha384),
        DigestAlgorithm::Sha512 => Ok(ImprintAlgorithm::Sha512),
        other => Err(TimestampError::Rejected {
            reason: format!("{} imprints are not time-stamped", other.name()),
        }),
    }
}

/// Sorts a client error into the port's kinds: worth a retry, a refusal, or a bad reply.
fn classify(e: ClientError) -> TimestampError {
    match e {
        ClientError::Transport { .. } => TimestampError::Unavailable {
            reason: e.to_string(),
        },
        ClientError::HttpStatus { status, .. }
            if status >= 500 || status == 429 || status == 408 =>
        {
            TimestampError::Unavailable {
                reason: e.to_string(),
            }
        }
        ClientError::Rejected { ref failures, .. }
            if failures.iter().any(|f| {
                matches!(
                    f,
                    tsa::response::FailureInfo::SystemFailure
                        | tsa::response::FailureInfo::TimeNotAvailable
                )
            }) =>
        {
            TimestampError::Unavailable {
                reason: e.to_string(),
            }
        }
        ClientError::Rejected { .. } => TimestampError::Rejected {
            reason: e.to_string(),
        },
        other => TimestampError::BadReply {
            reason: other.to_string(),
        },
    }
}

impl Timestamper for EmbeddedTsa {
    fn timestamp(
        &self,
        digest_alg: DigestAlgorithm,
        imprint: &[u8],
    ) -> Result<Vec<u8>, TimestampError> {
        if !self.available.load(Ordering::SeqCst) {
            return Err(TimestampError::Unavailable {
                reason: "the embedded time-stamp unit is switched off".into(),
            });
        }
        let nonce = nonce()?;
        let request = encode_request(
            imprint_algorithm(digest_alg)?,
            imprint,
            Some(nonce.clone()),
            None,
            true,
        )
        .map_err(|e| TimestampError::Other(Box::new(e)))?;
        let reply = self.handle.block_on(self.authority.respond(&request));
        let token = check_reply(
            &reply.der,
            &Expected {
                algorithm: digest_alg,
                imprint,
                nonce: Some(&nonce),
            },
            &self.config,
            time::OffsetDateTime::now_utc(),
        )
        .map_err(classify)?;
        Ok(token.der)
    }
}

/// An RFC 3161 TSA reached over HTTP.
#[derive(Debug)]
pub struct ExternalTsa {
    client: TsaClient,
    handle: tokio::runtime::Handle,
}

impl ExternalTsa {
    /// A client for `url`. Must be called inside a Tokio runtime.
    ///
    /// # Errors
    /// [`TimestampingError::Client`] for a bad URL.
    pub fn new(url: &str) -> Result<Self, TimestampingError> {
        let config = ClientConfig {
            attempts: 2,
            timeout: std::time::Duration::from_secs(10),
            ..ClientConfig::default()
        };
        Ok(Self {
            client: TsaClient::new(url, config)?,
            handle: tokio::runtime::Handle::current(),
        })
    }
}

impl Timestamper for ExternalTsa {
    fn timestamp(
        &self,
        digest_alg: DigestAlgorithm,
        imprint: &[u8],
    ) -> Result<Vec<u8>, TimestampError> {
        self.handle
            .block_on(self.client.timestamp(digest_alg, imprint))
            .map(|t| t.der)
            .map_err(classify)
    }
}
