//! Sign actions as the partner and the app see them: creation (with the PAdES preparation
//! of every document for the person's certificate), status, the app's list, confirm and
//! refuse. The state rules are in [`crate::domain::actions`]; the atomic changes in the
//! store.

use std::time::Duration as StdDuration;

use axum::http::StatusCode;
use base64::Engine;
use der::{Decode, Encode};
use formats::pdf::FileSource;
use serde::{Deserialize, Serialize};
use x509_cert::Certificate;

use crate::clock::rfc3339;
use crate::device_auth::verify_p256;
use crate::domain::actions::{check_open, ActionStatus, AnswerRejected, SignatureLevel};
use crate::domain::icons;
use crate::domain::person::check_phone;
use crate::error::ApiError;
use crate::ids::new_id;
use crate::pades::{self, Appearance, Level, PadesError, Prepared, Rect, SignOptions};
use crate::service::Service;
use crate::store::{Action, ActionDocument, Device, Partner};

/// Most documents in one action.
pub const MAX_DOCUMENTS: usize = 20;
/// Longest message, in characters.
pub const MAX_MESSAGE_CHARS: usize = 500;

/// Who must sign.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct UserRef {
    /// E.164 phone number of an enrolled person.
    pub phone: String,
}

/// Where a visible signature goes.
#[derive(Clone, Copy, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Visible {
    /// 1-based page number (default 1).
    #[serde(default = "first_page")]
    pub page: u32,
    /// Lower-left x in points.
    pub x: f64,
    /// Lower-left y in points.
    pub y: f64,
    /// Width in points.
    pub width: f64,
    /// Height in points.
    pub height: f64,
}

fn first_page() -> u32 {
    1
}

/// `POST /v1/sign-actions` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateAction {
    /// Who signs.
    pub user: UserRef,
    /// Document ids (uploaded by the same partner), signed with one confirmation.
    pub documents: Vec<String>,
    /// `B-T` (default) or `B-B`.
    #[serde(default)]
    pub level: Option<String>,
    /// Shown to the person in the app.
    #[serde(default)]
    pub message: Option<String>,
    /// A visible signature box; invisible when absent.
    #[serde(default)]
    pub visible: Option<Visible>,
    /// Where to POST the end event.
    #[serde(default)]
    pub callback_url: Option<String>,
}

/// A signed output, as the partner sees it.
#[derive(Debug, Serialize, Deserialize)]
pub struct SignedView {
    /// SHA-256 (hex) of the signed PDF.
    pub sha256: String,
    /// Its size in bytes.
    pub size: u64,
    /// Where to download it.
    pub href: String,
}

/// A document of an action, as the partner sees it.
#[derive(Debug, Serialize, Deserialize)]
pub struct DocumentView {
    /// Document id.
    pub id: String,
    /// File name.
    pub name: String,
    /// SHA-256 (hex) of the original.
    pub sha256: String,
    /// Size of the original.
    pub size: u64,
    /// Pages.
    pub pages: u32,
    /// The signed PDF, once the action is signed.
    pub signed: Option<SignedView>,
}

/// An action, as the partner sees it.
#[derive(Debug, Serialize, Deserialize)]
pub struct ActionView {
    /// Action id.
    pub id: String,
    /// `pending`, `finalizing`, `signed`, `refused`, `expired`, `icon_mismatch`, `failed`.
    pub status: ActionStatus,
    /// The icon the partner's page shows the person.
    pub icon: String,
    /// `B-T` or `B-B`.
    pub level: SignatureLevel,
    /// The message shown in the app.
    pub message: String,
    /// Who signs.
    pub user: UserRef,
    /// Creation time.
    pub created_at: String,
    /// Expiry time.
    pub expires_at: String,
    /// When the person confirmed.
    pub confirmed_at: Option<String>,
    /// When the action reached its end state.
    pub ended_at: Option<String>,
    /// Why it ended so (refusal, failure), or the last finalization problem.
    pub reason: Option<String>,
    /// The documents.
    pub documents: Vec<DocumentView>,
}

impl ActionView {
    /// The partner's view of `a`.
    pub fn of(a: &Action) -> Self {
        Self {
            id: a.id.clone(),
            status: a.status,
            icon: a.icon.clone(),
            level: a.level,
            message: a.message.clone(),
            user: UserRef {
                phone: a.phone.clone(),
            },
            created_at: rfc3339(a.created_at),
            expires_at: rfc3339(a.expires_at),
            confirmed_at: a.confirmed_at.map(rfc3339),
            ended_at: a.ended_at.map(rfc3339),
            reason: a.reason.clone(),
            documents: a
                .documents
                .iter()
                .map(|d| DocumentView {
                    id: d.document.id.clone(),
                    name: d.document.name.clone(),
                    sha256: d.document.sha256.clone(),
                    size: d.document.size,
                    pages: d.document.pages,
                    signed: d
                        .signed
                        .as_ref()
                        .filter(|_| a.status == ActionStatus::Signed)
                        .map(|s| SignedView {
                            sha256: s.sha256.clone(),
                            size: s.size,
                            href: format!("/v1/sign-actions/{}/documents/{}", a.id, d.document.id),
                        }),
                })
                .collect(),
        }
    }
}

/// A document of an action, as the app sees it.
#[derive(Debug, Serialize, Deserialize)]
pub struct AppDocument {
    /// Document id.
    pub id: String,
    /// File name.
    pub name: String,
    /// Pages.
    pub pages: u32,
    /// Size of the original.
    pub size: u64,
    /// SHA-256 (hex) of the original.
    pub sha256: String,
    /// SHA-256 (hex) over the prepared PDF's byte ranges: the CMS message-digest.
    pub document_digest: String,
    /// Base64 DER of the signed attributes (SET OF, tag 0x31): what the app signs.
    pub signed_attributes: String,
}

/// An action, as the app sees it.
#[derive(Debug, Serialize, Deserialize)]
pub struct AppAction {
    /// Action id.
    pub id: String,
    /// The partner's name.
    pub partner: String,
    /// The partner's message.
    pub message: String,
    /// Expiry time.
    pub expires_at: String,
    /// Four icons in random order; one is the partner's.
    pub icons: Vec<String>,
    /// The documents.
    pub documents: Vec<AppDocument>,
}

impl AppAction {
    /// The app's view of `a`.
    ///
    /// # Errors
    /// Internal error for a damaged stored preparation.
    pub fn of(a: &Action) -> Result<Self, ApiError> {
        let enc = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        Ok(Self {
            id: a.id.clone(),
            partner: a.partner_name.clone(),
            message: a.message.clone(),
            expires_at: rfc3339(a.expires_at),
            icons: a.icons.clone(),
            documents: a
                .documents
                .iter()
                .map(|d| {
                    let p = Prepared::from_json(&d.prepared).map_err(|e| ApiError::internal(&e))?;
                    Ok(AppDocument {
                        id: d.document.id.clone(),
                        name: d.document.name.clone(),
                        pages: d.document.pages,
                        size: d.document.size,
                        sha256: d.document.sha256.clone(),
                        document_digest: hex::encode(p.document_digest()),
                        signed_attributes: enc(p.signed_attributes()),
                    })
                })
                .collect::<Result<_, ApiError>>()?,
        })
    }
}

/// `POST /v1/app/actions/{id}/confirm` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfirmRequest {
    /// The icon the person picked.
    pub icon: String,
    /// One signature per document.
    pub signatures: Vec<DocumentSignature>,
}

/// The device's signature over one document's signed attributes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentSignature {
    /// Document id.
    pub document_id: String,
    /// Base64 DER ECDSA-Sig-Value (raw r‖s accepted too).
    pub signature: String,
}

/// `POST /v1/app/actions/{id}/refuse` body.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefuseRequest {
    /// The person says they did not start this.
    #[serde(default)]
    pub not_mine: bool,
}

/// The answer to an app's confirm or refuse.
#[derive(Debug, Serialize, Deserialize)]
pub struct AnswerOutcome {
    /// The action's status after the answer.
    pub status: ActionStatus,
}

fn check_create(req: &CreateAction) -> Result<(SignatureLevel, String), ApiError> {
    check_phone(&req.user.phone).map_err(|e| ApiError::bad_request(e.to_string()))?;
    if req.documents.is_empty() || req.documents.len() > MAX_DOCUMENTS {
        return Err(ApiError::bad_request(format!(
            "documents: give 1 to {MAX_DOCUMENTS} document ids"
        )));
    }
    let mut seen = std::collections::HashSet::new();
    if !req.documents.iter().all(|d| seen.insert(d)) {
        return Err(ApiError::bad_request("documents: an id is repeated"));
    }
    let level = match req.level.as_deref() {
        None => SignatureLevel::BT,
        Some(l) => SignatureLevel::parse(l)
            .ok_or_else(|| ApiError::bad_request("level: use \"B-T\" or \"B-B\""))?,
    };
    let message = req.message.clone().unwrap_or_default();
    if message.chars().count() > MAX_MESSAGE_CHARS
        || message.chars().any(|c| c.is_control() && c != '\n')
    {
        return Err(ApiError::bad_request(format!(
            "message: at most {MAX_MESSAGE_CHARS} characters, no control characters"
        )));
    }
    if let Some(url) = &req.callback_url {
        let ok = reqwest::Url::parse(url)
            .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
        if !ok {
            return Err(ApiError::bad_request(
                "callback_url: give an absolute http(s) URL",
            ));
        }
    }
    if let Some(v) = &req.visible {
        let finite = [v.x, v.y, v.width, v.height].iter().all(|n| n.is_finite());
        if !finite || v.width <= 0.0 || v.height <= 0.0 || v.page == 0 {
            return Err(ApiError::bad_request(
                "visible: page >= 1, finite x and y, positive width and height",
            ));
        }
    }
    Ok((level, message))
}

fn pades_error(e: PadesError) -> ApiError {
    match e {
        PadesError::Pdf(p) => crate::documents::pdf_error(p),
        PadesError::Io(io) => ApiError::internal(&io),
        PadesError::CertifiedNoChanges => ApiError::unprocessable(
            "certified_document",
            "the document is certified with no changes allowed (DocMDP P=1): it cannot be signed again",
        ),
        PadesError::PageOutOfRange { page, count } => ApiError::unprocessable(
            "bad_visible",
            format!("visible.page {page} does not exist: the document has {count} pages"),
        ),
        PadesError::BadRectangle => {
            ApiError::unprocessable("bad_visible", "the visible rectangle is empty")
        }
        other => ApiError::unprocessable("cannot_sign", other.to_string()),
    }
}

/// Creates an action for `partner`: checks, prepares each document for the person's
/// certificate, stores it pending.
///
/// # Errors
/// 400 for malformed fields, 404 for a document that is not the partner's, 422
/// `unknown_user` for a phone without an enrolled app, 422 for a document that cannot be
/// signed.
pub async fn create(
    svc: &Service,
    partner: &Partner,
    req: CreateAction,
) -> Result<Action, ApiError> {
    let (level, message) = check_create(&req)?;
    let phone = req.user.phone.clone();
    let pid = partner.id.clone();
    let ids = req.documents.clone();
    let (device, documents) = svc
        .db(move |s| {
            let device = s.active_device(&phone)?;
            let docs = ids
                .iter()
                .map(|id| s.document(&pid, id))
                .collect::<Result<Vec<_>, _>>()?;
            Ok((device, docs))
        })
        .await?;
    let documents = documents
        .into_iter()
        .zip(&req.documents)
        .map(|(d, id)| {
            d.ok_or_else(|| {
                ApiError::new(
                    StatusCode::NOT_FOUND,
                    "not_found",
                    format!("no such document: {id}"),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let device: Device = device.ok_or_else(|| {
        ApiError::unprocessable(
            "unknown_user",
            "no enrolled app for this phone number: the person must enroll first",
        )
    })?;
    let now = svc.now();
    let mut chain = vec![device.certificate.clone()];
    chain.extend(svc.ca.chain_der());
    let mut options = SignOptions::new(now);
    options.level = match level {
        SignatureLevel::BB => Level::BB,
        SignatureLevel::BT => Level::BT,
    };
    if let Some(v) = req.visible {
        options.appearance = Appearance::Visible {
            page: v.page,
            rect: Rect {
                llx: v.x,
                lly: v.y,
                urx: v.x + v.width,
                ury: v.y + v.height,
            },
        };
    }
    let mut prepared_docs = Vec::with_capacity(documents.len());
    for document in documents {
        let path = svc.files.document(&document.sha256)?;
        let chain = chain.clone();
        let options = options.clone();
        let prepared = tokio::task::spawn_blocking(move || {
            let source = FileSource::open(&path).map_err(PadesError::Io)?;
            pades::prepare(source, &chain, &options)
        })
        .await?
        .map_err(|e| {
            let mut err = pades_error(e);
            err.message = format!("{}: {}", document.name, err.message);
            err
        })?;
        prepared_docs.push(ActionDocument {
            document,
            prepared: prepared.to_json(),
            signature: None,
            signed: None,
        });
    }
    let icon = icons::pick()?;
    let ttl = time::Duration::try_from(svc.config.action_ttl).unwrap_or(time::Duration::minutes(3));
    let action = Action {
        id: new_id("act")?,
        partner_id: partner.id.clone(),
        partner_name: partner.name.clone(),
        device_id: device.id,
        phone: req.user.phone,
        level,
        message,
        icon: icon.to_string(),
        icons: icons::choices(icon)?,
        status: ActionStatus::Pending,
        reason: None,
        callback_url: req.callback_url,
        signer_chain: chain,
        created_at: now,
        expires_at: now + ttl,
        confirmed_at: None,
        ended_at: None,
        finalize_attempts: 0,
        documents: prepared_docs,
    };
    let record = action.clone();
    svc.db(move |s| s.insert_action(&record)).await?;
    tracing::info!(action = %action.id, partner = %partner.id, documents = action.documents.len(), "sign action created");
    svc.changed();
    Ok(action)
}

/// Reads an action, first ending it as expired if it is pending past its expiry.
///
/// # Errors
/// Internal errors only; `None` when absent.
pub async fn load(svc: &Service, id: &str) -> Result<Option<Action>, ApiError> {
    let aid = id.to_string();
    let Some(action) = svc.db(move |s| s.action(&aid)).await? else {
        return Ok(None);
    };
    if action.status == ActionStatus::Pending && svc.now() >= action.expires_at {
        expire(svc, &action.id).await?;
        let aid = id.to_string();
        return svc.db(move |s| s.action(&aid)).await;
    }
    Ok(Some(action))
}

/// Ends a pending action past its expiry as `expired` (no-op if something else came first).
///
/// # Errors
/// Internal errors.
pub async fn expire(svc: &Service, id: &str) -> Result<bool, ApiError> {
    let now = svc.now();
    let aid = id.to_string();
    let done = svc
        .db(move |s| {
            s.end_pending(
                &aid,
                ActionStatus::Expired,
                now,
                Some("no answer before the expiry"),
            )
        })
        .await?;
    if done {
        tracing::info!(action = %id, "sign action expired");
        crate::webhook::action_ended(svc, id).await;
    }
    Ok(done)
}

/// A partner's action (`None` for another partner's or an unknown one).
///
/// # Errors
/// Internal errors.
pub async fn for_partner(svc: &Service, partner: &Partner, id: &str) -> Result<Action, ApiError> {
    load(svc, id)
        .await?
        .filter(|a| a.partner_id == partner.id)
        .ok_or_else(|| ApiError::not_found("sign action"))
}

/// A device's action (`None` for another device's or an unknown one).
async fn for_device(svc: &Service, device: &Device, id: &str) -> Result<Action, ApiError> {
    load(svc, id)
        .await?
        .filter(|a| a.device_id == device.id)
        .ok_or_else(|| ApiError::not_found("sign action"))
}

/// The device's pending actions, waiting up to `wait` for one to appear.
///
/// # Errors
/// Internal errors.
pub async fn pending(
    svc: &Service,
    device: &Device,
    wait: StdDuration,
) -> Result<Vec<AppAction>, ApiError> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let notified = svc.changes.notified();
        let did = device.id.clone();
        let now = svc.now();
        let actions = svc.db(move |s| s.pending_actions(&did, now)).await?;
        if !actions.is_empty() || tokio::time::Instant::now() >= deadline {
            return actions.iter().map(AppAction::of).collect();
        }
        // another node may create the action: look again at least every second
        let tick = (tokio::time::Instant::now() + StdDuration::from_secs(1)).min(deadline);
        tokio::select! {
            () = notified => {}
            () = tokio::time::sleep_until(tick) => {}
        }
    }
}

fn rejected(e: AnswerRejected) -> ApiError {
    match e {
        AnswerRejected::Expired => ApiError::expired("the sign action has expired"),
        AnswerRejected::Closed { status } => ApiError::conflict(
            "action_closed",
            format!("the sign action is already {status}"),
        ),
    }
}

/// Re-reads an action whose compare-and-set lost, to say why.
async fn lost_race(svc: &Service, id: &str) -> ApiError {
    match load(svc, id).await {
        Ok(Some(a)) => match check_open(a.status, a.expires_at, svc.now()) {
            Err(e) => rejected(e),
            Ok(()) => ApiError::conflict("action_closed", "the sign action changed; try again"),
        },
        Ok(None) => ApiError::not_found("sign action"),
        Err(e) => e,
    }
}

/// Checks every document's signature against the signer certificate; returns them as DER.
fn check_signatures(
    action: &Action,
    given: &[DocumentSignature],
) -> Result<Vec<(String, Vec<u8>)>, ApiError> {
    if given.len() != action.documents.len() {
        return Err(ApiError::bad_request(format!(
            "signatures: give exactly one per document ({} documents)",
            action.documents.len()
        )));
    }
    let cert_der = action.signer_chain.first().ok_or_else(|| {
        ApiError::internal(&std::io::Error::other("action without signer certificate"))
    })?;
    let cert = Certificate::from_der(cert_der).map_err(|e| ApiError::internal(&e))?;
    let spki = cert
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|e| ApiError::internal(&e))?;
    let mut out = Vec::new();
    for d in &action.documents {
        let sig = given
            .iter()
            .find(|s| s.document_id == d.document.id)
            .ok_or_else(|| {
                ApiError::bad_request(format!("signatures: none for document {}", d.document.id))
            })?;
        let value = base64::engine::general_purpose::STANDARD
            .decode(sig.signature.trim())
            .map_err(|e| ApiError::bad_request(format!("signatures: not base64: {e}")))?;
        let value = match formats::crypto::ecdsa_raw_to_der(&value) {
            Some(der) if value.len() == 64 => der,
            _ => value,
        };
        let prepared = Prepared::from_json(&d.prepared).map_err(|e| ApiError::internal(&e))?;
        if !verify_p256(&spki, prepared.signed_attributes(), &value) {
            return Err(ApiError::unprocessable(
                "bad_signature",
                format!(
                    "the signature for document {} does not verify against your certificate",
                    d.document.id
                ),
            ));
        }
        out.push((d.document.id.clone(), value));
    }
    Ok(out)
}

/// The app confirms: icon, then signatures, then the atomic `pending → finalizing`, then
/// the signed documents (waiting up to `finalize_wait`).
///
/// # Errors
/// 404 not the device's; 410 expired; 409 `action_closed`; 409 `icon_mismatch` (and the
/// action ends so); 422 `bad_signature` (state unchanged); 400 malformed.
pub async fn confirm(
    svc: &std::sync::Arc<Service>,
    device: &Device,
    id: &str,
    req: ConfirmRequest,
) -> Result<(StatusCode, AnswerOutcome), ApiError> {
    let action = for_device(svc, device, id).await?;
    let now = svc.now();
    check_open(action.status, action.expires_at, now).map_err(rejected)?;
    if req.icon != action.icon {
        let aid = action.id.clone();
        let ended = svc
            .db(move |s| {
                s.end_pending(
                    &aid,
                    ActionStatus::IconMismatch,
                    now,
                    Some("the person picked another icon"),
                )
            })
            .await?;
        if !ended {
            return Err(lost_race(svc, id).await);
        }
        tracing::warn!(action = %action.id, "icon mismatch");
        crate::webhook::action_ended(svc, &action.id).await;
        return Err(ApiError::conflict(
            "icon_mismatch",
            "the icon does not match the one the partner showed: the sign action is cancelled",
        ));
    }
    let signatures = check_signatures(&action, &req.signatures)?;
    let aid = action.id.clone();
    // the inline attempt below has `finalize_wait`; the retry loop takes over after that
    let retry_at =
        now + time::Duration::try_from(svc.config.finalize_wait).unwrap_or(time::Duration::MINUTE);
    if !svc
        .db(move |s| s.confirm(&aid, now, retry_at, &signatures))
        .await?
    {
        return Err(lost_race(svc, id).await);
    }
    tracing::info!(action = %action.id, "sign action confirmed");
    svc.changed();
    let wait = svc.config.finalize_wait;
    let status = match tokio::time::timeout(
        wait,
        crate::finalize::finalize(svc.clone(), action.id.clone()),
    )
    .await
    {
        Ok(status) => status,
        Err(_elapsed) => ActionStatus::Finalizing,
    };
    let code = if status == ActionStatus::Finalizing {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    Ok((code, AnswerOutcome { status }))
}

/// The app refuses.
///
/// # Errors
/// 404 not the device's; 410 expired; 409 `action_closed`.
pub async fn refuse(
    svc: &Service,
    device: &Device,
    id: &str,
    req: RefuseRequest,
) -> Result<AnswerOutcome, ApiError> {
    let action = for_device(svc, device, id).await?;
    let now = svc.now();
    check_open(action.status, action.expires_at, now).map_err(rejected)?;
    let reason = if req.not_mine {
        "refused: the person says they did not start this"
    } else {
        "refused by the person"
    };
    let aid = action.id.clone();
    if !svc
        .db(move |s| s.end_pending(&aid, ActionStatus::Refused, now, Some(reason)))
        .await?
    {
        return Err(lost_race(svc, id).await);
    }
    tracing::info!(action = %action.id, not_mine = req.not_mine, "sign action refused");
    crate::webhook::action_ended(svc, &action.id).await;
    Ok(AnswerOutcome {
        status: ActionStatus::Refused,
    })
}

/// Ends every pending action past its expiry (the background sweep).
///
/// # Errors
/// Internal errors.
pub async fn sweep_expired(svc: &Service) -> Result<usize, ApiError> {
    let now = svc.now();
    let overdue = svc.db(move |s| s.overdue_actions(now)).await?;
    let mut n = 0;
    for id in overdue {
        if expire(svc, &id).await? {
            n += 1;
        }
    }
    Ok(n)
}
