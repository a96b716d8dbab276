//! The enrolled device: enrollment, listing, confirming and refusing sign actions over the
//! app API (`notes/APP_API.md`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use der::{Decode, Encode};
use formats::pki::{KeyAlgorithm, SigningKey};
use reqwest::{Method, StatusCode, Url};
use serde::Serialize;
use x509_cert::Certificate;

use crate::check::check_signed_attributes;
use crate::csr::certification_request;
use crate::store::{DeviceFile, NewDevice, MAX_ATTEMPTS};
use crate::vault::{b64, KdfParams};
use crate::wire::{self, ConfirmOutcome, PendingAction};
use crate::{auth, code, AppError};

/// Longest long-poll the service honours (seconds).
pub const MAX_WAIT_SECS: u32 = 30;
/// Body limit for the action list (many documents with their signed attributes).
const MAX_LIST_BODY: usize = 8 * 1024 * 1024;
/// Body limit for every other answer.
const MAX_BODY: usize = 1024 * 1024;
/// Time allowed for a request on top of any long-poll wait.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// An enrolled phone app: its certificate, its device-auth key, and the data directory
/// where its sealed signing key and wrong-code counter live.
///
/// Listing and refusing actions use the device-auth key only; confirming unseals the
/// signing key with the personal code (see [`Device::confirm`]).
pub struct Device {
    dir: PathBuf,
    file: DeviceFile,
    device_key: SigningKey,
    http: reqwest::Client,
}

impl std::fmt::Debug for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Device")
            .field("dir", &self.dir)
            .field("device_id", &self.file.device_id)
            .field("phone", &self.file.phone)
            .finish_non_exhaustive()
    }
}

/// An enrollment started at the service, waiting for the SMS code.
#[derive(Debug)]
pub struct Enrollment {
    service_url: String,
    phone: String,
    id: String,
    expires_at: time::OffsetDateTime,
    http: reqwest::Client,
}

impl Enrollment {
    /// Registers `phone` with the service at `service_url`, which sends a 5-digit code by
    /// SMS (`POST /v1/app/enrollments`).
    ///
    /// # Errors
    /// [`AppError::UnknownPerson`] if nobody vouched for the phone, [`AppError::Http`] and
    /// [`AppError::Service`] for other failures.
    pub async fn start(service_url: &str, phone: &str) -> Result<Self, AppError> {
        let http = client()?;
        let service_url = service_url.trim_end_matches('/').to_owned();
        let url = endpoint(&service_url, "/v1/app/enrollments")?;
        let body = json_body(&wire::StartEnrollment { phone });
        let (status, bytes) = send(&http, Method::POST, url, body, &[], REQUEST_TIMEOUT).await?;
        if !status.is_success() {
            let (code, message) = error_body(&bytes);
            return Err(match status {
                StatusCode::NOT_FOUND => AppError::UnknownPerson {
                    phone: phone.to_owned(),
                    message,
                },
                _ => service_error(status, code, message),
            });
        }
        let started: wire::EnrollmentStarted = parse(&bytes, "enrollment")?;
        Ok(Self {
            service_url,
            phone: phone.to_owned(),
            id: started.enrollment_id,
            expires_at: started.expires_at,
            http,
        })
    }

    /// The enrollment's id at the service.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// When the SMS code expires.
    pub fn expires_at(&self) -> time::OffsetDateTime {
        self.expires_at
    }

    /// Completes the enrollment with the SMS code: generates the P-256 signing key and a
    /// separate P-256 device-auth key, sends a PKCS#10 request for the signing key and the
    /// device-auth public key, checks that the certificate returned carries the signing key,
    /// then stores everything in `data_dir` (replacing an earlier enrollment there) with the
    /// signing key sealed under `personal_code`.
    ///
    /// May be called again after a wrong SMS code (the service allows five tries).
    ///
    /// # Errors
    /// [`AppError::WeakPersonalCode`] before anything is sent;
    /// [`AppError::EnrollmentClosed`] / [`AppError::EnrollmentExpired`] when the service
    /// ended the enrollment; [`AppError::Service`] for a wrong code (the service's message
    /// says so); [`AppError::CertificateMismatch`] when the certificate is not for our key.
    pub async fn complete(
        &self,
        data_dir: &Path,
        sms_code: &str,
        personal_code: &str,
    ) -> Result<Device, AppError> {
        code::check_new_code(personal_code, &self.phone)?;
        let (signing_key, signing_pkcs8) = SigningKey::generate(KeyAlgorithm::EcdsaP256)
            .map_err(AppError::key("generating the signing key"))?;
        let (device_key, device_pkcs8) = SigningKey::generate(KeyAlgorithm::EcdsaP256)
            .map_err(AppError::key("generating the device-auth key"))?;
        let csr = certification_request(&signing_key)?;
        let device_spki = device_key
            .public_key_info_der()
            .map_err(AppError::key("encoding the device-auth public key"))?;
        let body = json_body(&wire::CompleteEnrollment {
            code: sms_code.trim(),
            csr: b64(&csr),
            device_key: b64(&device_spki),
        });
        let url = endpoint(
            &self.service_url,
            &format!(
                "/v1/app/enrollments/{}/complete",
                path_segment(&self.id).ok_or_else(|| AppError::bad_response(
                    "enrollment",
                    format!("unusable enrollment id {:?}", self.id)
                ))?
            ),
        )?;
        let (status, bytes) =
            send(&self.http, Method::POST, url, body, &[], REQUEST_TIMEOUT).await?;
        if !status.is_success() {
            let (code, message) = error_body(&bytes);
            return Err(match status {
                StatusCode::CONFLICT => AppError::EnrollmentClosed { message },
                StatusCode::GONE => AppError::EnrollmentExpired { message },
                _ => service_error(status, code, message),
            });
        }
        let done: wire::EnrollmentCompleted = parse(&bytes, "enrollment completion")?;
        check_issued_certificate(&done.certificate, &done.chain, &signing_key)?;
        let file = DeviceFile::create(
            data_dir,
            NewDevice {
                service_url: &self.service_url,
                phone: &self.phone,
                device_id: &done.device_id,
                certificate: done.certificate,
                chain: done.chain,
                device_key: &device_pkcs8,
                signing_key: &signing_pkcs8,
                personal_code,
                kdf: KdfParams::generate()?,
            },
        )?;
        Ok(Device {
            dir: data_dir.to_owned(),
            file,
            device_key,
            http: self.http.clone(),
        })
    }
}

impl Device {
    /// Enrolls this app in one go: [`Enrollment::start`], then `sms_code()` to obtain the
    /// code the service sent (e.g. `|| app::sms::code_from_outbox(&outbox, phone)`, or a
    /// prompt), then [`Enrollment::complete`]. The personal code is checked first, so a
    /// weak one costs no SMS.
    ///
    /// # Errors
    /// As [`Enrollment::start`] and [`Enrollment::complete`], and whatever `sms_code` returns.
    pub async fn enroll(
        data_dir: &Path,
        service_url: &str,
        phone: &str,
        sms_code: impl FnOnce() -> Result<String, AppError>,
        personal_code: &str,
    ) -> Result<Device, AppError> {
        code::check_new_code(personal_code, phone)?;
        let enrollment = Enrollment::start(service_url, phone).await?;
        let code = sms_code()?;
        enrollment.complete(data_dir, &code, personal_code).await
    }

    /// Opens the device enrolled in `data_dir`.
    ///
    /// # Errors
    /// [`AppError::NotEnrolled`] when there is none, [`AppError::Locked`] when the app is
    /// locked, [`AppError::Storage`] when its files are damaged.
    pub fn open(data_dir: &Path) -> Result<Device, AppError> {
        let file = DeviceFile::load(data_dir)?;
        let device_key = file.device_key(data_dir)?;
        Ok(Device {
            dir: data_dir.to_owned(),
            file,
            device_key,
            http: client()?,
        })
    }

    /// The app's signing certificate (DER).
    pub fn certificate_der(&self) -> &[u8] {
        &self.file.certificate
    }

    /// The certificate chain the service returned (DER, issuing CA first, then the root).
    pub fn chain_der(&self) -> &[Vec<u8>] {
        &self.file.chain
    }

    /// The device id the service assigned.
    pub fn device_id(&self) -> &str {
        &self.file.device_id
    }

    /// The phone number enrolled.
    pub fn phone(&self) -> &str {
        &self.file.phone
    }

    /// The service's base URL.
    pub fn service_url(&self) -> &str {
        &self.file.service_url
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.dir
    }

    /// The sign actions waiting for this device (`GET /v1/app/actions?wait=N`): waits up to
    /// `wait_secs` (at most 30) for one to arrive; an empty list when none did.
    ///
    /// # Errors
    /// [`AppError::Locked`] when the app is locked, [`AppError::Unauthorized`] when the
    /// service no longer knows the device, transport and service errors.
    pub async fn pending(&self, wait_secs: u32) -> Result<Vec<PendingAction>, AppError> {
        self.ensure_unlocked()?;
        self.fetch_actions(wait_secs.min(MAX_WAIT_SECS)).await
    }

    /// Runs the checks [`Device::confirm`] makes on an action before it signs: every
    /// document's signed attributes carry the digest shown, this app's certificate and
    /// content type id-data.
    ///
    /// # Errors
    /// [`AppError::RefusedToSign`] naming the document and the failed check.
    pub fn check_action(&self, action: &PendingAction) -> Result<(), AppError> {
        if action.documents.is_empty() {
            return Err(AppError::bad_response(
                "action",
                format!("action {} has no documents", action.id),
            ));
        }
        for doc in &action.documents {
            check_signed_attributes(
                &doc.signed_attributes,
                &doc.document_digest,
                &self.file.certificate,
            )
            .map_err(|reason| AppError::RefusedToSign {
                document: doc.name.clone(),
                reason,
            })?;
        }
        Ok(())
    }

    /// Confirms action `action_id`: fetches it, checks that `icon` is one of its icons and
    /// that every document's signed attributes are bound to the document shown and to this
    /// app's certificate ([`Device::check_action`]), unseals the signing key with
    /// `personal_code` (a wrong code counts towards the lock), signs each document's signed
    /// attributes (ECDSA P-256/SHA-256, DER) and posts the signatures with the icon.
    ///
    /// # Errors
    /// [`AppError::ActionNotFound`], [`AppError::IconNotOffered`],
    /// [`AppError::RefusedToSign`], [`AppError::WrongPersonalCode`], [`AppError::Locked`],
    /// and from the service [`AppError::IconMismatch`], [`AppError::ActionClosed`],
    /// [`AppError::ActionExpired`], [`AppError::BadSignature`].
    pub async fn confirm(
        &self,
        action_id: &str,
        icon: &str,
        personal_code: &str,
    ) -> Result<ConfirmOutcome, AppError> {
        self.ensure_unlocked()?;
        let actions = self.fetch_actions(0).await?;
        let action =
            actions
                .iter()
                .find(|a| a.id == action_id)
                .ok_or_else(|| AppError::ActionNotFound {
                    action_id: action_id.to_owned(),
                })?;
        if !action.icons.iter().any(|i| i == icon) {
            return Err(AppError::IconNotOffered {
                icon: icon.to_owned(),
                offered: action.icons.join(", "),
            });
        }
        self.check_action(action)?;

        let signing_key = DeviceFile::unlock_signing_key(&self.dir, personal_code)?;
        let certificate = Certificate::from_der(&self.file.certificate).map_err(|e| {
            AppError::CertificateMismatch {
                reason: format!("the stored certificate does not decode: {e}"),
            }
        })?;
        let mut signatures = Vec::with_capacity(action.documents.len());
        for doc in &action.documents {
            let signature = signing_key
                .sign(&doc.signed_attributes)
                .map_err(AppError::key("signing the document"))?;
            // The stored key must be the certified one; the service would reject it anyway.
            formats::crypto::verify_signature(
                &certificate.tbs_certificate.subject_public_key_info,
                &signing_key.signature_algorithm(),
                None,
                &doc.signed_attributes,
                &signature,
            )
            .map_err(|e| AppError::CertificateMismatch {
                reason: format!("the stored signing key does not match the certificate: {e}"),
            })?;
            signatures.push(wire::DocumentSignature {
                document_id: &doc.id,
                signature: b64(&signature),
            });
        }
        let body = json_body(&wire::Confirm { icon, signatures });
        let path = format!("/v1/app/actions/{}/confirm", action_segment(action_id)?);
        let (status, bytes) = self
            .signed(Method::POST, &path, body, REQUEST_TIMEOUT)
            .await?;
        match status {
            StatusCode::OK | StatusCode::ACCEPTED => {
                let reply: wire::Status = parse(&bytes, "confirmation")?;
                match reply.status.as_str() {
                    "signed" => Ok(ConfirmOutcome::Signed),
                    "finalizing" => Ok(ConfirmOutcome::Finalizing),
                    other => Err(AppError::bad_response(
                        "confirmation",
                        format!("unknown status {other:?}"),
                    )),
                }
            }
            _ => {
                let (code, message) = error_body(&bytes);
                Err(match (status, code.as_str()) {
                    (StatusCode::CONFLICT, "icon_mismatch") => AppError::IconMismatch {
                        action_id: action_id.to_owned(),
                        icon: icon.to_owned(),
                    },
                    (StatusCode::UNPROCESSABLE_ENTITY, "bad_signature") => AppError::BadSignature {
                        action_id: action_id.to_owned(),
                        message,
                    },
                    _ => self.action_error(action_id, status, code, message),
                })
            }
        }
    }

    /// Refuses action `action_id`; `not_mine` tells the service the user did not start it
    /// (a possible fraud attempt). No personal code is needed.
    ///
    /// # Errors
    /// [`AppError::ActionNotFound`], [`AppError::ActionClosed`], [`AppError::ActionExpired`],
    /// [`AppError::Locked`], transport and service errors.
    pub async fn refuse(&self, action_id: &str, not_mine: bool) -> Result<(), AppError> {
        self.ensure_unlocked()?;
        let body = json_body(&wire::Refuse { not_mine });
        let path = format!("/v1/app/actions/{}/refuse", action_segment(action_id)?);
        let (status, bytes) = self
            .signed(Method::POST, &path, body, REQUEST_TIMEOUT)
            .await?;
        if status.is_success() {
            return Ok(());
        }
        let (code, message) = error_body(&bytes);
        Err(self.action_error(action_id, status, code, message))
    }

    /// Fails when the app got locked since it was opened (e.g. by another process).
    fn ensure_unlocked(&self) -> Result<(), AppError> {
        DeviceFile::load(&self.dir)?.ensure_unlocked()
    }

    async fn fetch_actions(&self, wait_secs: u32) -> Result<Vec<PendingAction>, AppError> {
        let path = format!("/v1/app/actions?wait={wait_secs}");
        let timeout = REQUEST_TIMEOUT + Duration::from_secs(u64::from(wait_secs));
        let (status, bytes) = self.signed(Method::GET, &path, Vec::new(), timeout).await?;
        if !status.is_success() {
            let (code, message) = error_body(&bytes);
            return Err(match status {
                StatusCode::UNAUTHORIZED => AppError::Unauthorized { message },
                _ => service_error(status, code, message),
            });
        }
        Ok(parse::<wire::ActionList>(&bytes, "action list")?.actions)
    }

    /// Sends a device-authenticated request; `body` empty means no body (GET).
    async fn signed(
        &self,
        method: Method,
        path_and_query: &str,
        body: Vec<u8>,
        timeout: Duration,
    ) -> Result<(StatusCode, Vec<u8>), AppError> {
        let url = endpoint(&self.file.service_url, path_and_query)?;
        let target = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        };
        let headers = auth::device_headers(
            &self.file.device_id,
            &self.device_key,
            method.as_str(),
            &target,
            time::OffsetDateTime::now_utc(),
            &body,
        )?;
        send(&self.http, method, url, body, &headers, timeout).await
    }

    fn action_error(
        &self,
        action_id: &str,
        status: StatusCode,
        code: String,
        message: String,
    ) -> AppError {
        let action_id = action_id.to_owned();
        match status {
            StatusCode::UNAUTHORIZED => AppError::Unauthorized { message },
            StatusCode::NOT_FOUND => AppError::ActionNotFound { action_id },
            StatusCode::CONFLICT => AppError::ActionClosed { action_id },
            StatusCode::GONE => AppError::ActionExpired { action_id },
            _ => service_error(status, code, message),
        }
    }
}

/// The state of the app in a data directory, readable even when it is locked.
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct AppStatus {
    /// The service's base URL.
    pub service_url: String,
    /// The phone number enrolled.
    pub phone: String,
    /// The device id the service assigned.
    pub device_id: String,
    /// When the app was enrolled.
    #[serde(with = "time::serde::rfc3339")]
    pub enrolled_at: time::OffsetDateTime,
    /// The certificate's subject (RFC 4514), if it decodes.
    pub subject: Option<String>,
    /// The certificate's notAfter (RFC 3339), if it decodes.
    pub not_after: Option<String>,
    /// True after five wrong personal codes in a row.
    pub locked: bool,
    /// Personal-code attempts left before the app locks.
    pub attempts_left: u32,
}

/// Reads the state of the app enrolled in `data_dir`.
///
/// # Errors
/// [`AppError::NotEnrolled`], [`AppError::Storage`].
pub fn status(data_dir: &Path) -> Result<AppStatus, AppError> {
    let file = DeviceFile::load(data_dir)?;
    let cert = Certificate::from_der(&file.certificate).ok();
    Ok(AppStatus {
        subject: cert.as_ref().map(|c| c.tbs_certificate.subject.to_string()),
        not_after: cert.as_ref().and_then(|c| {
            formats::cms::attr::time_to_offset(c.tbs_certificate.validity.not_after)
                .map(auth::format_time)
        }),
        locked: file.locked,
        attempts_left: if file.locked {
            0
        } else {
            MAX_ATTEMPTS.saturating_sub(file.failed_code_attempts)
        },
        service_url: file.service_url,
        phone: file.phone,
        device_id: file.device_id,
        enrolled_at: file.enrolled_at,
    })
}

/// The certificate must decode, carry our signing key, and the chain must decode.
fn check_issued_certificate(
    certificate: &[u8],
    chain: &[Vec<u8>],
    signing_key: &SigningKey,
) -> Result<(), AppError> {
    let cert = Certificate::from_der(certificate).map_err(|e| AppError::CertificateMismatch {
        reason: format!("the certificate does not decode: {e}"),
    })?;
    if &cert.tbs_certificate.subject_public_key_info != signing_key.public_key_info() {
        return Err(AppError::CertificateMismatch {
            reason: "it certifies another public key".into(),
        });
    }
    if cert.to_der().ok().as_deref() != Some(certificate) {
        return Err(AppError::CertificateMismatch {
            reason: "the certificate is not DER".into(),
        });
    }
    for (i, der) in chain.iter().enumerate() {
        Certificate::from_der(der).map_err(|e| AppError::CertificateMismatch {
            reason: format!("chain certificate {} does not decode: {e}", i + 1),
        })?;
    }
    Ok(())
}

fn client() -> Result<reqwest::Client, AppError> {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .build()
        .map_err(|source| AppError::Http {
            url: String::new(),
            source,
        })
}

fn endpoint(service_url: &str, path_and_query: &str) -> Result<Url, AppError> {
    let text = format!("{}{path_and_query}", service_url.trim_end_matches('/'));
    match Url::parse(&text) {
        Ok(url) if matches!(url.scheme(), "http" | "https") => Ok(url),
        Ok(url) => Err(AppError::BadServiceUrl {
            url: service_url.to_owned(),
            reason: format!("scheme {:?} is not http or https", url.scheme()),
        }),
        Err(e) => Err(AppError::BadServiceUrl {
            url: service_url.to_owned(),
            reason: e.to_string(),
        }),
    }
}

/// Percent-encodes an id for use as one path segment (ids are opaque to the app); `None`
/// for ids a URL would read as a relative segment (empty, `.`, `..`).
fn path_segment(id: &str) -> Option<String> {
    if matches!(id, "" | "." | "..") {
        return None;
    }
    Some(
        id.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    char::from(b).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect(),
    )
}

/// The action's id as a path segment, or [`AppError::ActionNotFound`].
fn action_segment(action_id: &str) -> Result<String, AppError> {
    path_segment(action_id).ok_or_else(|| AppError::ActionNotFound {
        action_id: action_id.to_owned(),
    })
}

fn json_body<T: Serialize>(value: &T) -> Vec<u8> {
    // The request bodies are structs of strings, booleans and lists: serde_json cannot fail
    // on them (it fails only on maps with non-string keys or failing Serialize impls).
    #[allow(clippy::expect_used)]
    serde_json::to_vec(value).expect("request bodies always serialize")
}

/// Sends a request and reads at most [`MAX_LIST_BODY`] bytes of the answer.
async fn send(
    http: &reqwest::Client,
    method: Method,
    url: Url,
    body: Vec<u8>,
    headers: &[(&'static str, String)],
    timeout: Duration,
) -> Result<(StatusCode, Vec<u8>), AppError> {
    let url_text = url.to_string();
    let transport = |source| AppError::Http {
        url: url_text.clone(),
        source,
    };
    let mut request = http.request(method, url).timeout(timeout);
    if !body.is_empty() {
        request = request
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
    }
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let mut response = request.send().await.map_err(transport)?;
    let status = response.status();
    let limit = if status.is_success() {
        MAX_LIST_BODY
    } else {
        MAX_BODY
    };
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(transport)? {
        if bytes.len() + chunk.len() > limit {
            return Err(AppError::bad_response(
                "body",
                format!("{url_text} answered more than {limit} bytes"),
            ));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok((status, bytes))
}

fn parse<T: serde::de::DeserializeOwned>(bytes: &[u8], what: &'static str) -> Result<T, AppError> {
    serde_json::from_slice(bytes).map_err(|e| AppError::bad_response(what, e))
}

/// The `error` code and `message` of an error body; the raw text (truncated) when the body
/// is not the contract's JSON.
fn error_body(bytes: &[u8]) -> (String, String) {
    match serde_json::from_slice::<wire::ErrorBody>(bytes) {
        Ok(body) => (body.error, body.message),
        Err(_not_json) => (
            String::new(),
            String::from_utf8_lossy(bytes.get(..200).unwrap_or(bytes)).into_owned(),
        ),
    }
}

fn service_error(status: StatusCode, code: String, message: String) -> AppError {
    AppError::Service {
        status: status.as_u16(),
        code,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_escaped_as_one_path_segment() {
        assert_eq!(path_segment("a1-B_2.~").unwrap(), "a1-B_2.~");
        assert_eq!(path_segment("../x?y").unwrap(), "..%2Fx%3Fy");
        for relative in ["", ".", ".."] {
            assert_eq!(path_segment(relative), None);
        }
    }

    #[test]
    fn error_bodies_are_read_leniently() {
        assert_eq!(
            error_body(br#"{"error":"icon_mismatch","message":"wrong icon"}"#),
            ("icon_mismatch".into(), "wrong icon".into())
        );
        assert_eq!(error_body(b"oops"), (String::new(), "oops".into()));
    }

    #[test]
    fn endpoint_joins_without_double_slash() {
        assert_eq!(
            endpoint("http://127.0.0.1:8080/", "/v1/app/actions?wait=3")
                .unwrap()
                .as_str(),
            "http://127.0.0.1:8080/v1/app/actions?wait=3"
        );
        assert!(endpoint("not a url", "/v1").is_err());
    }
}
