//! Simulator of the user's phone app: holds the signing key, shows sign actions, asks for
//! the icon and the personal code, and signs.
//!
//! The app talks to the signing service over the app API (`notes/APP_API.md`):
//!
//! ```no_run
//! # async fn demo() -> Result<(), app::AppError> {
//! use std::path::Path;
//! let data = Path::new("/tmp/alice-phone");
//! let outbox = Path::new("/tmp/signer-data/sms-outbox.jsonl");
//! let phone = "+32470000001";
//! // 1. enroll: the service texts a code; the simulated phone reads it from the outbox
//! let device = app::Device::enroll(
//!     data,
//!     "http://127.0.0.1:8080",
//!     phone,
//!     || app::sms::code_from_outbox(outbox, phone),
//!     "90210",
//! )
//! .await?;
//! // 2. wait for a sign action, check it, confirm it with the icon and the personal code
//! for action in device.pending(30).await? {
//!     device.check_action(&action)?;
//!     device.confirm(&action.id, "boat", "90210").await?;
//! }
//! // later, in another process: app::Device::open(data)?
//! # Ok(()) }
//! ```
//!
//! What the app guarantees:
//! * the signing key and a separate device-auth key are P-256 keys generated on the device;
//!   the service sees only a PKCS#10 request ([`csr`]) and the device-auth public key;
//! * the signing key is stored sealed with AES-256-GCM under a key derived from the personal
//!   code with Argon2id (random salt, parameters stored); the code itself is stored nowhere
//!   and never sent; five wrong codes in a row erase the keys and lock the app ([`store`]);
//! * every request is signed with the device-auth key ([`auth`]);
//! * before signing, the signed attributes must carry the digest of the document shown,
//!   this app's certificate and content type id-data ([`check`]); otherwise the app refuses.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod auth;
pub mod check;
pub mod code;
pub mod csr;
mod device;
mod error;
pub mod sms;
pub mod store;
mod vault;
mod wire;

pub use check::SignedAttributesError;
pub use device::{status, AppStatus, Device, Enrollment, MAX_WAIT_SECS};
pub use error::AppError;
pub use wire::{ConfirmOutcome, PendingAction, PendingDocument};
