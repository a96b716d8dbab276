//! The time-stamp authority as plain Rust: DER request in, DER reply out, with the token
//! recorded before the reply leaves. The HTTP server is a thin layer over
//! [`TimeStampAuthority::respond`].

use std::{sync::Arc, time::SystemTime};

use const_oid::ObjectIdentifier;

use crate::{
    config::{self, ConfigError, IdentitySource, TsaConfig},
    issue::{IdentityError, IssueError, IssuerOptions, TokenIssuer},
    request::{parse_request, PolicySet, Rejection},
    response::{self, FailureInfo},
    store::{Store, StoreError, TokenRecord},
};

/// A source of the current time (injected so tests can pin it).
pub trait Clock: Send + Sync {
    /// Now, in UTC.
    fn now(&self) -> SystemTime;
}

/// The system clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A reply and what happened.
#[derive(Debug)]
pub struct Reply {
    /// The DER `TimeStampResp`.
    pub der: Vec<u8>,
    /// The outcome, for logs and HTTP status.
    pub outcome: Outcome,
}

/// What happened to a request.
#[derive(Debug)]
#[non_exhaustive]
pub enum Outcome {
    /// A token was issued and recorded.
    Granted {
        /// Its serial number.
        serial: u64,
    },
    /// The request was refused (`rejection` with a failure bit).
    Rejected(Rejection),
    /// The TSA failed (`rejection` with systemFailure).
    Failed(SystemFailure),
}

/// A failure of the TSA itself while handling a valid request.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SystemFailure {
    /// The token log or the serial allocator failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The token could not be built or signed.
    #[error(transparent)]
    Issue(#[from] IssueError),
}

/// Setting up a TSA failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SetupError {
    /// Configuration or key material.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The identity is not a valid TSA identity.
    #[error(transparent)]
    Identity(#[from] IdentityError),
    /// The token log could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Issues, records and answers.
pub struct TimeStampAuthority {
    issuer: TokenIssuer,
    store: Store,
    policies: PolicySet,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for TimeStampAuthority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TimeStampAuthority")
            .field("issuer", &self.issuer)
            .field("store", &self.store.path())
            .finish_non_exhaustive()
    }
}

impl TimeStampAuthority {
    /// A TSA from its parts.
    pub fn new(issuer: TokenIssuer, store: Store, clock: Arc<dyn Clock>) -> Self {
        let policies = PolicySet {
            policy: issuer.policy(),
        };
        Self {
            issuer,
            store,
            policies,
            clock,
        }
    }

    /// Loads the identity named by `config` (or the development chain), checks it, and opens
    /// the token log.
    ///
    /// # Errors
    /// [`SetupError`] naming the failing part.
    pub fn open(config: &TsaConfig) -> Result<(Self, IdentitySource), SetupError> {
        let (identity, source) = config::load_identity(config)?;
        let issuer = TokenIssuer::new(identity, IssuerOptions::new(config.policy))?;
        let store = Store::open(&config.store_path(), config.store.clone())?;
        Ok((Self::new(issuer, store, Arc::new(SystemClock)), source))
    }

    /// The policy of every token.
    pub fn policy(&self) -> ObjectIdentifier {
        self.policies.policy
    }

    /// The token issuer.
    pub fn issuer(&self) -> &TokenIssuer {
        &self.issuer
    }

    /// The token log.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Answers a DER `TimeStampReq`. Never fails: refusals and failures are replies.
    pub async fn respond(&self, request_der: &[u8]) -> Reply {
        let request = match parse_request(request_der, &self.policies) {
            Ok(request) => request,
            Err(rejection) => {
                return Reply {
                    der: response::rejection(rejection.failure_info(), &rejection.to_string()),
                    outcome: Outcome::Rejected(rejection),
                }
            }
        };
        match self.grant(&request).await {
            Ok((serial, token)) => Reply {
                der: response::granted(&token),
                outcome: Outcome::Granted { serial },
            },
            Err(failure) => Reply {
                der: response::rejection(
                    FailureInfo::SystemFailure,
                    "the time-stamp authority could not issue a token; try again later",
                ),
                outcome: Outcome::Failed(failure),
            },
        }
    }

    async fn grant(
        &self,
        request: &crate::request::ValidRequest,
    ) -> Result<(u64, Vec<u8>), SystemFailure> {
        let serial = self.store.next_serial().await?;
        let gen_time = self.clock.now();
        let token = self.issuer.issue(request, serial, gen_time)?;
        self.store
            .record(TokenRecord {
                serial,
                gen_time,
                algorithm: request.algorithm,
                imprint: request.imprint().to_vec(),
                policy: self.policies.policy,
            })
            .await?;
        Ok((serial, token))
    }

    /// Flushes and closes the token log.
    pub fn close(&self) {
        self.store.close();
    }
}
