//! The one error type of the app library. Every message says what happened and what the
//! user can do next.

use std::path::PathBuf;

use crate::check::SignedAttributesError;

/// What can go wrong in the app.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AppError {
    /// The action ended before this confirmation (confirmed, refused or cancelled elsewhere);
    /// the service answered 409 `action_closed`.
    #[error("action {action_id} is already closed; nothing to do")]
    ActionClosed {
        /// The action's id.
        action_id: String,
    },
    /// The action expired before the confirmation reached the service (410 `expired`).
    #[error("action {action_id} has expired; ask the partner to start a new one")]
    ActionExpired {
        /// The action's id.
        action_id: String,
    },
    /// No pending action with this id is addressed to this device.
    #[error(
        "no pending action {action_id} for this device; run `app pending` to list the open ones"
    )]
    ActionNotFound {
        /// The action's id.
        action_id: String,
    },
    /// The service rejected the signature the app sent (422 `bad_signature`): the stored
    /// signing key does not match the certificate.
    #[error("the service rejected the signature for action {action_id}: {message}; the app's keys may be damaged, enroll again")]
    BadSignature {
        /// The action's id.
        action_id: String,
        /// The service's explanation.
        message: String,
    },
    /// The service answered something the app cannot use (malformed JSON, base64 or DER, a
    /// missing field, a body over the size limit).
    #[error("unusable answer from the service ({what}): {reason}")]
    BadServiceResponse {
        /// Which answer.
        what: &'static str,
        /// What was wrong with it.
        reason: String,
    },
    /// The service URL is not an http(s) URL.
    #[error("the service URL {url:?} is not usable ({reason}); pass it as http://host:port or https://host")]
    BadServiceUrl {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The certificate the service issued does not carry the signing key the app generated,
    /// or does not decode.
    #[error("the certificate from the service does not match the app's signing key: {reason}; enrollment abandoned, try again")]
    CertificateMismatch {
        /// What differed.
        reason: String,
    },
    /// The service ended the enrollment (409: too many wrong SMS codes, or already used).
    #[error("the service ended this enrollment: {message}; start again with `app enroll`")]
    EnrollmentClosed {
        /// The service's explanation.
        message: String,
    },
    /// The enrollment's SMS code expired (410).
    #[error("the SMS code has expired: {message}; start again with `app enroll`")]
    EnrollmentExpired {
        /// The service's explanation.
        message: String,
    },
    /// The HTTP exchange with the service failed (connection refused, timeout, TLS).
    #[error(
        "cannot reach the service at {url}: {source}; check the service URL and that it is running"
    )]
    Http {
        /// The URL requested.
        url: String,
        /// The transport error.
        source: reqwest::Error,
    },
    /// The user picked the wrong icon (409 `icon_mismatch`); the service ended the action.
    #[error("icon {icon:?} is not the one shown on the partner's page; action {action_id} is now cancelled, ask the partner to start again")]
    IconMismatch {
        /// The action's id.
        action_id: String,
        /// The icon the user picked.
        icon: String,
    },
    /// The icon given is not one of the four the action offers.
    #[error("icon {icon:?} is not one of this action's icons ({offered}); pick the one shown on the partner's page")]
    IconNotOffered {
        /// The icon given.
        icon: String,
        /// The offered icons, comma-separated, in the order received.
        offered: String,
    },
    /// Reading or writing the app's files failed.
    #[error("cannot access {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A key operation failed (generation, loading, signing).
    #[error("key operation failed ({what}): {source}")]
    Key {
        /// Which operation.
        what: &'static str,
        /// The underlying error.
        source: formats::pki::PkiError,
    },
    /// Too many wrong personal codes: the app erased its keys and refuses everything.
    #[error("the app is locked after {attempts} wrong personal codes in a row and its keys are erased; enroll again with `app enroll`")]
    Locked {
        /// Wrong codes entered in a row.
        attempts: u32,
    },
    /// No enrolled device in this data directory.
    #[error("no enrolled device in {}; run `app enroll` first (or pass --data DIR)", dir.display())]
    NotEnrolled {
        /// The data directory.
        dir: PathBuf,
    },
    /// The system random source failed.
    #[error("the system random source failed; try again")]
    Random,
    /// The app refuses to sign a document: the data from the service does not bind the
    /// signature to the document shown or to this app's certificate.
    #[error("refusing to sign {document:?}: {reason}; refuse the action with `app refuse` and tell the partner")]
    RefusedToSign {
        /// The document's name.
        document: String,
        /// Which check failed.
        #[source]
        reason: SignedAttributesError,
    },
    /// Any other error the service returned.
    #[error("the service answered {status} {code}: {message}")]
    Service {
        /// HTTP status.
        status: u16,
        /// The stable error code (`bad_request`, `internal`, ...), or empty.
        code: String,
        /// The service's message.
        message: String,
    },
    /// The SMS code could not be obtained.
    #[error("cannot read the SMS code: {reason}")]
    SmsCode {
        /// What went wrong.
        reason: String,
    },
    /// `device.json` exists but cannot be used.
    #[error("the app's storage {} is damaged: {reason}; enroll again with `app enroll`", path.display())]
    Storage {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The service does not recognise the device (401): typically it was replaced by a newer
    /// enrollment of the same phone, or the clock is more than five minutes off.
    #[error("the service does not recognise this device ({message}); check the clock, or enroll again if another device was enrolled for this phone")]
    Unauthorized {
        /// The service's explanation.
        message: String,
    },
    /// Nobody vouched for this phone number (404 `unknown_person`).
    #[error("the service does not know the phone number {phone}: {message}; ask the service's administrator to register you first")]
    UnknownPerson {
        /// The phone number.
        phone: String,
        /// The service's explanation.
        message: String,
    },
    /// The personal code chosen at enrollment is not acceptable.
    #[error("personal code not accepted: {reason}")]
    WeakPersonalCode {
        /// Why.
        reason: &'static str,
    },
    /// The personal code is not the one chosen at enrollment.
    #[error("wrong personal code; {attempts_left} attempt{} left before the app locks", if *attempts_left == 1 { "" } else { "s" })]
    WrongPersonalCode {
        /// Attempts left before the app locks.
        attempts_left: u32,
    },
}

impl AppError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn key(what: &'static str) -> impl FnOnce(formats::pki::PkiError) -> Self {
        move |source| Self::Key { what, source }
    }

    pub(crate) fn bad_response(what: &'static str, reason: impl ToString) -> Self {
        Self::BadServiceResponse {
            what,
            reason: reason.to_string(),
        }
    }
}
