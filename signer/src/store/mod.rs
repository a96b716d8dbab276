//! Storage: the [`Store`] port (records and the atomic state changes the rules need), its
//! SQLite implementation ([`sqlite`]) with versioned [`migrations`], and the files on disk
//! ([`files`]: documents by SHA-256, signed outputs).
//!
//! Every method is synchronous; async callers run them on the blocking pool.

pub mod files;
pub mod migrations;
pub mod sqlite;

use time::OffsetDateTime;

use crate::domain::actions::{ActionStatus, SignatureLevel};
use crate::domain::enrollment::EnrollmentStatus;
use crate::domain::person::Person;

pub use sqlite::SqliteStore;

/// A failure of the storage itself (never a "not found": those are `Ok(None)`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// SQLite failed.
    #[error("database error while {context}: {source}")]
    Sqlite {
        /// What was being done.
        context: &'static str,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// A stored value does not decode (damaged database or a newer schema).
    #[error("stored {what} is corrupt: {detail}")]
    Corrupt {
        /// Which value.
        what: &'static str,
        /// What was wrong.
        detail: String,
    },
    /// The database was written by a newer version of the service.
    #[error("the database has schema version {found}, newer than this program's {known}; upgrade the program")]
    NewerSchema {
        /// Version in the database.
        found: u32,
        /// Newest version this program knows.
        known: u32,
    },
    /// A file of the data directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// A partner (notary, insurer) calling the partner API.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Partner {
    /// Identifier.
    pub id: String,
    /// Display name, shown in the app.
    pub name: String,
    /// Key of the HMAC-SHA256 over webhook bodies.
    pub webhook_secret: String,
    /// When it was created.
    pub created_at: OffsetDateTime,
}

/// Whether a device may act.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceStatus {
    /// The person's current device.
    Active,
    /// Replaced by a later enrollment.
    Revoked,
}

/// An enrolled phone app.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Device {
    /// Identifier (the app sends it in `X-Device-Id`).
    pub id: String,
    /// The person's phone number.
    pub phone: String,
    /// DER SubjectPublicKeyInfo of the device-authentication key.
    pub device_key: Vec<u8>,
    /// DER certificate of the signing key.
    pub certificate: Vec<u8>,
    /// Active or revoked.
    pub status: DeviceStatus,
    /// When it was enrolled.
    pub created_at: OffsetDateTime,
}

/// An enrollment in progress (or done).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Enrollment {
    /// Identifier.
    pub id: String,
    /// The phone the SMS went to.
    pub phone: String,
    /// [`crate::domain::enrollment::code_hash`] of the code.
    pub code_hash: String,
    /// Pending, completed, failed.
    pub status: EnrollmentStatus,
    /// Wrong codes so far.
    pub wrong_codes: u32,
    /// When it started.
    pub created_at: OffsetDateTime,
    /// When the code stops being valid.
    pub expires_at: OffsetDateTime,
}

/// An uploaded document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Document {
    /// Identifier.
    pub id: String,
    /// The partner that uploaded it.
    pub partner_id: String,
    /// File name (from the upload's `name` query parameter, or `document.pdf`).
    pub name: String,
    /// Lower-case hex SHA-256 of the bytes (also where they are kept).
    pub sha256: String,
    /// Length in bytes.
    pub size: u64,
    /// Number of pages.
    pub pages: u32,
    /// When it was uploaded.
    pub created_at: OffsetDateTime,
}

/// A signed output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedOutput {
    /// Lower-case hex SHA-256 of the signed PDF.
    pub sha256: String,
    /// Its length.
    pub size: u64,
}

/// One document of an action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionDocument {
    /// The document.
    pub document: Document,
    /// The PAdES preparation (`signer::pades::Prepared` as JSON).
    pub prepared: String,
    /// The device's signature value, once confirmed.
    pub signature: Option<Vec<u8>>,
    /// The signed PDF, once finished.
    pub signed: Option<SignedOutput>,
}

/// A sign action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Action {
    /// Identifier.
    pub id: String,
    /// The partner that asked.
    pub partner_id: String,
    /// The partner's display name.
    pub partner_name: String,
    /// The device that must answer.
    pub device_id: String,
    /// The person's phone number.
    pub phone: String,
    /// B-B or B-T.
    pub level: SignatureLevel,
    /// The partner's message to the person.
    pub message: String,
    /// The icon the partner shows.
    pub icon: String,
    /// The four icons the app shows, in their order.
    pub icons: Vec<String>,
    /// Where it stands.
    pub status: ActionStatus,
    /// Why it ended as it did (refusal detail, failure reason).
    pub reason: Option<String>,
    /// Where the partner wants the end event POSTed.
    pub callback_url: Option<String>,
    /// The signer certificate and its CA, DER, as prepared (signer first).
    pub signer_chain: Vec<Vec<u8>>,
    /// When it was created.
    pub created_at: OffsetDateTime,
    /// When it expires if unanswered.
    pub expires_at: OffsetDateTime,
    /// When the person confirmed.
    pub confirmed_at: Option<OffsetDateTime>,
    /// When it reached its end state.
    pub ended_at: Option<OffsetDateTime>,
    /// Failed attempts to finish the signed documents.
    pub finalize_attempts: u32,
    /// The documents, in the partner's order.
    pub documents: Vec<ActionDocument>,
}

/// A webhook delivery waiting to be made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookDelivery {
    /// Row identifier.
    pub id: i64,
    /// The action it is about.
    pub action_id: String,
    /// Where to POST.
    pub url: String,
    /// The JSON body.
    pub body: String,
    /// Attempts so far.
    pub attempts: u32,
}

/// The storage port. Implementations make each method atomic.
pub trait Store: Send + Sync + std::fmt::Debug {
    /// Adds a partner with its first API key (hashed).
    fn insert_partner(&self, partner: &Partner, api_key_hash: &str) -> Result<(), StoreError>;
    /// Adds another API key to a partner; `false` if there is no such partner.
    fn add_api_key(
        &self,
        partner_id: &str,
        api_key_hash: &str,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError>;
    /// The partner owning the API key with this hash.
    fn partner_by_key_hash(&self, api_key_hash: &str) -> Result<Option<Partner>, StoreError>;
    /// A partner.
    fn partner(&self, id: &str) -> Result<Option<Partner>, StoreError>;
    /// Every partner.
    fn partners(&self) -> Result<Vec<Partner>, StoreError>;

    /// Adds or updates a vouched-for person.
    fn upsert_person(&self, person: &Person, now: OffsetDateTime) -> Result<(), StoreError>;
    /// The person with this phone number.
    fn person(&self, phone: &str) -> Result<Option<Person>, StoreError>;

    /// Records a new enrollment.
    fn insert_enrollment(&self, enrollment: &Enrollment) -> Result<(), StoreError>;
    /// An enrollment.
    fn enrollment(&self, id: &str) -> Result<Option<Enrollment>, StoreError>;
    /// Enrollments started for `phone` since `since`.
    fn count_enrollments_since(
        &self,
        phone: &str,
        since: OffsetDateTime,
    ) -> Result<u32, StoreError>;
    /// Counts a wrong code; after `max` the enrollment fails. Returns the status after.
    fn record_wrong_code(&self, id: &str, max: u32) -> Result<EnrollmentStatus, StoreError>;
    /// Completes a pending enrollment with `device`, revoking the phone's other devices,
    /// atomically; `false` if the enrollment was no longer pending.
    fn complete_enrollment(&self, id: &str, device: &Device) -> Result<bool, StoreError>;

    /// A device.
    fn device(&self, id: &str) -> Result<Option<Device>, StoreError>;
    /// The active device of a phone number.
    fn active_device(&self, phone: &str) -> Result<Option<Device>, StoreError>;
    /// Remembers a device request's fingerprint; `false` if it was seen before (a replay).
    /// Forgets fingerprints older than `forget_before`.
    fn remember_request(
        &self,
        device_id: &str,
        fingerprint: &str,
        now: OffsetDateTime,
        forget_before: OffsetDateTime,
    ) -> Result<bool, StoreError>;

    /// Records an uploaded document.
    fn insert_document(&self, document: &Document) -> Result<(), StoreError>;
    /// A partner's document (`None` for another partner's).
    fn document(&self, partner_id: &str, id: &str) -> Result<Option<Document>, StoreError>;

    /// Records a new pending action with its prepared documents.
    fn insert_action(&self, action: &Action) -> Result<(), StoreError>;
    /// An action with its documents.
    fn action(&self, id: &str) -> Result<Option<Action>, StoreError>;
    /// The device's pending, unexpired actions, oldest first.
    fn pending_actions(
        &self,
        device_id: &str,
        now: OffsetDateTime,
    ) -> Result<Vec<Action>, StoreError>;
    /// Ends a pending action as `to` (refused, icon_mismatch, expired) if it is still
    /// pending — and, for `expired`, past its expiry, otherwise before it. `false` if
    /// another outcome came first.
    fn end_pending(
        &self,
        id: &str,
        to: ActionStatus,
        now: OffsetDateTime,
        reason: Option<&str>,
    ) -> Result<bool, StoreError>;
    /// Confirms a pending, unexpired action with the signature value of each document
    /// (`pending → finalizing`); the retry loop takes it from `retry_at` on if nothing
    /// finished it before. `false` if another outcome came first.
    fn confirm(
        &self,
        id: &str,
        now: OffsetDateTime,
        retry_at: OffsetDateTime,
        signatures: &[(String, Vec<u8>)],
    ) -> Result<bool, StoreError>;
    /// Records the signed PDF of one document of a finalizing action.
    fn record_signed(
        &self,
        action_id: &str,
        document_id: &str,
        output: &SignedOutput,
    ) -> Result<(), StoreError>;
    /// Ends a finalizing action as `signed` or `failed`; `false` if it was not finalizing.
    fn end_finalizing(
        &self,
        id: &str,
        to: ActionStatus,
        now: OffsetDateTime,
        reason: Option<&str>,
    ) -> Result<bool, StoreError>;
    /// Counts a failed finalization attempt and when to try again.
    fn finalize_failed(
        &self,
        id: &str,
        retry_at: OffsetDateTime,
        reason: &str,
    ) -> Result<(), StoreError>;
    /// Finalizing actions whose next attempt is due.
    fn due_finalizations(&self, now: OffsetDateTime) -> Result<Vec<String>, StoreError>;
    /// Pending actions past their expiry.
    fn overdue_actions(&self, now: OffsetDateTime) -> Result<Vec<String>, StoreError>;

    /// Queues a webhook delivery.
    fn enqueue_webhook(
        &self,
        action_id: &str,
        url: &str,
        body: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// Deliveries due at `now`.
    fn due_webhooks(&self, now: OffsetDateTime) -> Result<Vec<WebhookDelivery>, StoreError>;
    /// Marks a delivery made (`retry_at: None`) or schedules another attempt.
    fn webhook_attempted(
        &self,
        id: i64,
        now: OffsetDateTime,
        retry_at: Option<OffsetDateTime>,
        error: Option<&str>,
    ) -> Result<(), StoreError>;

    /// Checks the audit log's hash chain; returns the number of entries.
    fn check_audit_chain(&self) -> Result<u64, StoreError>;
}
