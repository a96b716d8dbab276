//! What `signer serve` runs with; every field has an embedded default.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Default largest upload: 100 MiB.
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 100 * 1024 * 1024;
/// Default largest JSON body: 64 KiB.
pub const DEFAULT_MAX_JSON_BYTES: usize = 64 * 1024;
/// Default time a person has to answer a sign action.
pub const DEFAULT_ACTION_TTL: Duration = Duration::from_secs(180);

/// The service's configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// Where to listen (tests: `127.0.0.1:0`).
    pub listen: SocketAddr,
    /// The data directory: database, documents, CA, TSA log, SMS outbox.
    pub data_dir: PathBuf,
    /// Largest document upload in bytes (413 past it).
    pub max_upload_bytes: u64,
    /// Largest JSON body in bytes.
    pub max_json_bytes: usize,
    /// Time a person has to answer a sign action.
    pub action_ttl: Duration,
    /// An external RFC 3161 TSA; `None` uses the embedded one.
    pub tsa_url: Option<String>,
    /// Enables `/v1/test/*` (clock, TSA switch): black-box tests only, never in production.
    pub test_hooks: bool,
    /// Longest a request may take (408 past it); long polls stay below it.
    pub request_timeout: Duration,
    /// Requests handled at once; more are refused with 503.
    pub max_concurrent_requests: usize,
    /// How long a confirm waits for the signed documents before answering `finalizing`.
    pub finalize_wait: Duration,
}

impl Config {
    /// Defaults for `data_dir`, listening on `listen`.
    pub fn new(listen: SocketAddr, data_dir: PathBuf) -> Self {
        Self {
            listen,
            data_dir,
            max_upload_bytes: DEFAULT_MAX_UPLOAD_BYTES,
            max_json_bytes: DEFAULT_MAX_JSON_BYTES,
            action_ttl: DEFAULT_ACTION_TTL,
            tsa_url: None,
            test_hooks: false,
            request_timeout: Duration::from_secs(300),
            max_concurrent_requests: 1024,
            finalize_wait: Duration::from_secs(20),
        }
    }
}
