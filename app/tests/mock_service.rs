#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The app library and the `app` binary against a small in-test service that follows
//! `notes/APP_API.md`: it checks the CSR's proof of possession, issues a certificate,
//! authenticates every request by the device-auth key (time window, replay, signing
//! string) and verifies the signatures the app sends against the certificate.
//! The real service's end-to-end tests live with the service.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use app::{AppError, ConfirmOutcome, Device, SignedAttributesError};
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use der::{Decode, Encode};
use formats::cms::attr::{
    content_type_attribute, message_digest_attribute, signed_attributes_der, signing_time_attribute,
};
use formats::cms::ess::signing_certificate_v2_attribute;
use formats::crypto::{verify_signature, DigestAlgorithm};
use formats::oids;
use formats::pki::{
    issue_certificate, CertificateTemplate, IssuerRef, KeyAlgorithm, Profile, SigningKey,
};
use serde_json::{json, Value};
use spki::SubjectPublicKeyInfoOwned;
use x509_cert::request::CertReq;
use x509_cert::Certificate;

const PHONE: &str = "+32470000001";
const CODE: &str = "40613";
const PERSONAL: &str = "90210";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn unb64(text: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
}

struct MockAction {
    id: String,
    device_id: String,
    icons: Vec<String>,
    partner_icon: String,
    /// (document id, name, digest, signed attributes)
    documents: Vec<(String, String, [u8; 32], Vec<u8>)>,
    state: String,
    not_mine: bool,
}

struct DeviceRecord {
    device_key: SubjectPublicKeyInfoOwned,
    certificate: Vec<u8>,
}

#[derive(Default)]
struct Mock {
    outbox: PathBuf,
    ca: Option<(SigningKey, Certificate)>,
    enrollments: HashMap<String, (String, u32)>,
    devices: HashMap<String, DeviceRecord>,
    actions: Vec<MockAction>,
    seen: HashSet<String>,
    requests: u32,
    next_id: u32,
}

type Shared = Arc<Mutex<Mock>>;

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({"error": code, "message": message}))).into_response()
}

impl Mock {
    fn id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}-{}", self.next_id)
    }

    /// The device that signed the request; `None` means 401.
    fn authenticate(
        &mut self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Option<String> {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let device_id = header("x-device-id")?;
        let at = header("x-device-time")?;
        let signature = header("x-device-signature")?;
        let when = time::OffsetDateTime::parse(&at, &time::format_description::well_known::Rfc3339)
            .ok()?;
        if (time::OffsetDateTime::now_utc() - when).abs() > time::Duration::seconds(300) {
            return None;
        }
        let device = self.devices.get(&device_id)?;
        let message = format!(
            "{}\n{}\n{}\n{}",
            method.as_str(),
            uri.path_and_query().map(|p| p.as_str()).unwrap_or(""),
            at,
            hex::encode(DigestAlgorithm::Sha256.digest(body))
        );
        let sig = base64::engine::general_purpose::STANDARD
            .decode(&signature)
            .ok()?;
        verify_signature(
            &device.device_key,
            &KeyAlgorithm::EcdsaP256.signature_algorithm(),
            None,
            message.as_bytes(),
            &sig,
        )
        .ok()?;
        if !self.seen.insert(format!("{device_id}|{at}|{signature}")) {
            return None;
        }
        Some(device_id)
    }

    /// Adds an action for the device with one document whose signed attributes are built
    /// by `attrs(certificate, digest)`.
    fn add_action(
        &mut self,
        device_id: &str,
        attrs: impl Fn(&[u8], &[u8; 32]) -> Vec<u8>,
    ) -> String {
        let id = self.id("act");
        let certificate = self.devices[device_id].certificate.clone();
        let digest: [u8; 32] = DigestAlgorithm::Sha256
            .digest(id.as_bytes())
            .try_into()
            .unwrap();
        let doc = self.id("doc");
        self.actions.push(MockAction {
            id: id.clone(),
            device_id: device_id.to_owned(),
            icons: ["cat", "boat", "tree", "key"].map(str::to_owned).to_vec(),
            partner_icon: "boat".into(),
            documents: vec![(
                doc,
                "contract.pdf".into(),
                digest,
                attrs(&certificate, &digest),
            )],
            state: "pending".into(),
            not_mine: false,
        });
        id
    }
}

fn good_attributes(certificate: &[u8], digest: &[u8; 32]) -> Vec<u8> {
    signed_attributes_der(&[
        content_type_attribute(oids::ID_DATA).unwrap(),
        signing_time_attribute(time::OffsetDateTime::now_utc()).unwrap(),
        message_digest_attribute(digest).unwrap(),
        signing_certificate_v2_attribute(certificate, true).unwrap(),
    ])
    .unwrap()
}

async fn start_enrollment(State(mock): State<Shared>, Json(body): Json<Value>) -> Response {
    let mut mock = mock.lock().unwrap();
    mock.requests += 1;
    let phone = body["phone"].as_str().unwrap_or_default().to_owned();
    if phone != PHONE {
        return error(
            StatusCode::NOT_FOUND,
            "unknown_person",
            "nobody vouched for this phone",
        );
    }
    let id = mock.id("enr");
    mock.enrollments.insert(id.clone(), (phone.clone(), 0));
    let line = json!({"to": phone, "text": format!("Your activation code is {CODE}"), "at": "2026-11-22T10:00:00Z"});
    let mut outbox = std::fs::read_to_string(&mock.outbox).unwrap_or_default();
    outbox.push_str(&format!("{line}\n"));
    std::fs::write(&mock.outbox, outbox).unwrap();
    (
        StatusCode::CREATED,
        Json(json!({"enrollment_id": id, "expires_at": "2099-01-01T00:00:00Z"})),
    )
        .into_response()
}

async fn complete_enrollment(
    State(mock): State<Shared>,
    UrlPath(id): UrlPath<String>,
    Json(body): Json<Value>,
) -> Response {
    let mut mock = mock.lock().unwrap();
    mock.requests += 1;
    let Some((_, tries)) = mock.enrollments.get_mut(&id) else {
        return error(StatusCode::NOT_FOUND, "not_found", "no such enrollment");
    };
    if *tries >= 5 {
        return error(StatusCode::CONFLICT, "conflict", "too many wrong codes");
    }
    if body["code"] != CODE {
        *tries += 1;
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "wrong_code",
            "wrong SMS code",
        );
    }
    let csr = CertReq::from_der(&unb64(body["csr"].as_str().unwrap())).unwrap();
    verify_signature(
        &csr.info.public_key,
        &csr.algorithm,
        None,
        &csr.info.to_der().unwrap(),
        csr.signature.raw_bytes(),
    )
    .expect("CSR proof of possession");
    let device_key =
        SubjectPublicKeyInfoOwned::from_der(&unb64(body["device_key"].as_str().unwrap())).unwrap();
    assert_ne!(device_key, csr.info.public_key, "two separate keys");
    let (ca_key, ca_cert) = mock.ca.as_ref().unwrap();
    let template = CertificateTemplate::new(
        "C=BE,CN=Alice Martin".parse().unwrap(),
        Profile::EndEntity,
        Duration::from_secs(3 * 365 * 86400),
    );
    let cert = issue_certificate(
        &template,
        &csr.info.public_key,
        IssuerRef::Ca {
            certificate: ca_cert,
            key: ca_key,
        },
    )
    .unwrap()
    .to_der()
    .unwrap();
    let root = ca_cert.to_der().unwrap();
    let device_id = mock.id("dev");
    mock.enrollments.remove(&id);
    mock.devices.insert(
        device_id.clone(),
        DeviceRecord {
            device_key,
            certificate: cert.clone(),
        },
    );
    (
        StatusCode::CREATED,
        Json(json!({"device_id": device_id, "certificate": b64(&cert), "chain": [b64(&root)]})),
    )
        .into_response()
}

async fn list_actions(
    State(mock): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let mut mock = mock.lock().unwrap();
    mock.requests += 1;
    let device_id = match mock.authenticate(&method, &uri, &headers, b"") {
        Some(d) => d,
        None => return error(StatusCode::UNAUTHORIZED, "unauthorized", "bad device auth"),
    };
    let actions: Vec<Value> = mock
        .actions
        .iter()
        .filter(|a| a.device_id == device_id && a.state == "pending")
        .map(|a| {
            json!({
                "id": a.id, "partner": "Notary Dupont", "message": "Sale agreement, please sign",
                "expires_at": "2099-01-01T00:00:00Z", "icons": a.icons,
                "documents": a.documents.iter().map(|(id, name, digest, attrs)| json!({
                    "id": id, "name": name, "pages": 1, "size": 5631,
                    "sha256": hex::encode([1u8; 32]), "document_digest": hex::encode(digest),
                    "signed_attributes": b64(attrs),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    Json(json!({ "actions": actions })).into_response()
}

async fn confirm(
    State(mock): State<Shared>,
    UrlPath(id): UrlPath<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut mock = mock.lock().unwrap();
    mock.requests += 1;
    let device_id = match mock.authenticate(&method, &uri, &headers, &body) {
        Some(d) => d,
        None => return error(StatusCode::UNAUTHORIZED, "unauthorized", "bad device auth"),
    };
    let body: Value = serde_json::from_slice(&body).unwrap();
    let cert = Certificate::from_der(&mock.devices[&device_id].certificate).unwrap();
    let Some(action) = mock
        .actions
        .iter_mut()
        .find(|a| a.id == id && a.device_id == device_id)
    else {
        return error(StatusCode::NOT_FOUND, "not_found", "no such action");
    };
    if action.state != "pending" {
        return error(StatusCode::CONFLICT, "action_closed", "already ended");
    }
    if body["icon"] != action.partner_icon.as_str() {
        action.state = "icon_mismatch".into();
        return error(StatusCode::CONFLICT, "icon_mismatch", "wrong icon");
    }
    for (doc_id, _, _, attrs) in &action.documents {
        let sig = body["signatures"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["document_id"] == doc_id.as_str())
            .map(|s| unb64(s["signature"].as_str().unwrap()));
        let ok = sig.is_some_and(|sig| {
            verify_signature(
                &cert.tbs_certificate.subject_public_key_info,
                &KeyAlgorithm::EcdsaP256.signature_algorithm(),
                None,
                attrs,
                &sig,
            )
            .is_ok()
        });
        if !ok {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "bad_signature",
                "does not verify",
            );
        }
    }
    action.state = "signed".into();
    Json(json!({"status": "signed"})).into_response()
}

async fn refuse(
    State(mock): State<Shared>,
    UrlPath(id): UrlPath<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut mock = mock.lock().unwrap();
    mock.requests += 1;
    let device_id = match mock.authenticate(&method, &uri, &headers, &body) {
        Some(d) => d,
        None => return error(StatusCode::UNAUTHORIZED, "unauthorized", "bad device auth"),
    };
    let body: Value = serde_json::from_slice(&body).unwrap();
    let Some(action) = mock
        .actions
        .iter_mut()
        .find(|a| a.id == id && a.device_id == device_id)
    else {
        return error(StatusCode::NOT_FOUND, "not_found", "no such action");
    };
    if action.state != "pending" {
        return error(StatusCode::CONFLICT, "action_closed", "already ended");
    }
    action.state = "refused".into();
    action.not_mine = body["not_mine"].as_bool().unwrap();
    Json(json!({"status": "refused"})).into_response()
}

struct Service {
    url: String,
    mock: Shared,
    outbox: PathBuf,
    _dir: tempfile::TempDir,
}

async fn service() -> Service {
    let dir = tempfile::tempdir().unwrap();
    let outbox = dir.path().join("sms-outbox.jsonl");
    let (ca_key, _) = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let ca_cert = issue_certificate(
        &CertificateTemplate::new(
            "CN=Mock Root CA".parse().unwrap(),
            Profile::Ca { path_len: None },
            Duration::from_secs(86400),
        ),
        ca_key.public_key_info(),
        IssuerRef::SelfSigned(&ca_key),
    )
    .unwrap();
    let mock = Arc::new(Mutex::new(Mock {
        outbox: outbox.clone(),
        ca: Some((ca_key, ca_cert)),
        ..Mock::default()
    }));
    let router = Router::new()
        .route("/v1/app/enrollments", post(start_enrollment))
        .route(
            "/v1/app/enrollments/{id}/complete",
            post(complete_enrollment),
        )
        .route("/v1/app/actions", get(list_actions))
        .route("/v1/app/actions/{id}/confirm", post(confirm))
        .route("/v1/app/actions/{id}/refuse", post(refuse))
        .with_state(mock.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    Service {
        url,
        mock,
        outbox,
        _dir: dir,
    }
}

async fn enrolled(service: &Service, data: &Path) -> Device {
    let outbox = service.outbox.clone();
    Device::enroll(
        data,
        &service.url,
        PHONE,
        move || app::sms::code_from_outbox(&outbox, PHONE),
        PERSONAL,
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn enroll_list_confirm_and_refuse() {
    let service = service().await;
    let data = tempfile::tempdir().unwrap();
    let device = enrolled(&service, data.path()).await;
    let cert = Certificate::from_der(device.certificate_der()).unwrap();
    assert_eq!(
        cert.tbs_certificate.subject.to_string(),
        "C=BE,CN=Alice Martin"
    );
    assert_eq!(device.chain_der().len(), 1);
    assert!(device.pending(0).await.unwrap().is_empty());

    let (first, second) = {
        let mut mock = service.mock.lock().unwrap();
        let d = device.device_id().to_owned();
        (
            mock.add_action(&d, good_attributes),
            mock.add_action(&d, good_attributes),
        )
    };
    let actions = device.pending(1).await.unwrap();
    assert_eq!(actions.len(), 2);
    let action = &actions[0];
    assert_eq!(action.id, first);
    assert_eq!(action.partner, "Notary Dupont");
    assert_eq!(action.icons, ["cat", "boat", "tree", "key"]);
    assert_eq!(action.documents[0].name, "contract.pdf");
    assert_eq!(action.documents[0].pages, 1);
    device.check_action(action).unwrap();

    // an icon that is not offered, then a wrong code: neither reaches the signing step
    assert!(matches!(
        device.confirm(&first, "dog", PERSONAL).await,
        Err(AppError::IconNotOffered { .. })
    ));
    let err = device.confirm(&first, "boat", "48213").await.unwrap_err();
    assert!(
        matches!(err, AppError::WrongPersonalCode { attempts_left: 4 }),
        "{err}"
    );
    assert_eq!(
        device.confirm(&first, "boat", PERSONAL).await.unwrap(),
        ConfirmOutcome::Signed
    );
    assert_eq!(app::status(data.path()).unwrap().attempts_left, 5);
    // confirming again: the action is no longer pending
    assert!(matches!(
        device.confirm(&first, "boat", PERSONAL).await,
        Err(AppError::ActionNotFound { .. })
    ));

    // refuse the other one from a freshly opened app (no personal code needed)
    let reopened = Device::open(data.path()).unwrap();
    reopened.refuse(&second, true).await.unwrap();
    assert!(matches!(
        reopened.refuse(&second, false).await,
        Err(AppError::ActionClosed { .. })
    ));
    assert!(matches!(
        reopened.refuse("nope", false).await,
        Err(AppError::ActionNotFound { .. })
    ));
    let mock = service.mock.lock().unwrap();
    let states: Vec<_> = mock
        .actions
        .iter()
        .map(|a| (a.state.as_str(), a.not_mine))
        .collect();
    assert_eq!(states, [("signed", false), ("refused", true)]);
}

#[tokio::test]
async fn wrong_icon_cancels_the_action() {
    let service = service().await;
    let data = tempfile::tempdir().unwrap();
    let device = enrolled(&service, data.path()).await;
    let id = service
        .mock
        .lock()
        .unwrap()
        .add_action(device.device_id(), good_attributes);
    let err = device.confirm(&id, "cat", PERSONAL).await.unwrap_err();
    assert!(matches!(err, AppError::IconMismatch { .. }), "{err}");
    assert!(err.to_string().contains("ask the partner to start again"));
}

#[tokio::test]
async fn data_not_bound_to_the_document_or_certificate_is_refused_before_the_code() {
    let service = service().await;
    let data = tempfile::tempdir().unwrap();
    let device = enrolled(&service, data.path()).await;
    let (foreign_cert, wrong_digest) = {
        let (other, _) = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let foreign = issue_certificate(
            &CertificateTemplate::new(
                "CN=Mallory".parse().unwrap(),
                Profile::EndEntity,
                Duration::from_secs(86400),
            ),
            other.public_key_info(),
            IssuerRef::SelfSigned(&other),
        )
        .unwrap()
        .to_der()
        .unwrap();
        let mut mock = service.mock.lock().unwrap();
        let d = device.device_id().to_owned();
        (
            mock.add_action(&d, move |_, digest| good_attributes(&foreign, digest)),
            mock.add_action(&d, |cert, _| good_attributes(cert, &[0u8; 32])),
        )
    };
    let err = device
        .confirm(&foreign_cert, "boat", "00000")
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            AppError::RefusedToSign {
                reason: SignedAttributesError::SigningCertificateMismatch { .. },
                ..
            }
        ),
        "{err}"
    );
    let err = device
        .confirm(&wrong_digest, "boat", "00000")
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            AppError::RefusedToSign {
                reason: SignedAttributesError::MessageDigestMismatch { .. },
                ..
            }
        ),
        "{err}"
    );
    // the wrong code was never tried
    assert_eq!(app::status(data.path()).unwrap().attempts_left, 5);
    let mock = service.mock.lock().unwrap();
    assert!(mock.actions.iter().all(|a| a.state == "pending"));
}

#[tokio::test]
async fn five_wrong_codes_lock_the_app() {
    let service = service().await;
    let data = tempfile::tempdir().unwrap();
    let device = enrolled(&service, data.path()).await;
    let id = service
        .mock
        .lock()
        .unwrap()
        .add_action(device.device_id(), good_attributes);
    for left in (1..=4).rev() {
        assert!(matches!(
            device.confirm(&id, "boat", "11112").await,
            Err(AppError::WrongPersonalCode { attempts_left }) if attempts_left == left
        ));
    }
    assert!(matches!(
        device.confirm(&id, "boat", "11112").await,
        Err(AppError::Locked { attempts: 5 })
    ));
    // locked: the right code, listing, refusing and reopening are all refused
    assert!(matches!(
        device.confirm(&id, "boat", PERSONAL).await,
        Err(AppError::Locked { .. })
    ));
    assert!(matches!(
        device.pending(0).await,
        Err(AppError::Locked { .. })
    ));
    assert!(matches!(
        device.refuse(&id, false).await,
        Err(AppError::Locked { .. })
    ));
    assert!(matches!(
        Device::open(data.path()),
        Err(AppError::Locked { .. })
    ));
    let status = app::status(data.path()).unwrap();
    assert!(status.locked);

    // re-enrolling in the same directory makes the app usable again
    let device = enrolled(&service, data.path()).await;
    assert!(device.pending(0).await.unwrap().is_empty());
    assert!(!app::status(data.path()).unwrap().locked);
}

#[tokio::test]
async fn enrollment_failures_say_what_to_do() {
    let service = service().await;
    let data = tempfile::tempdir().unwrap();
    // a weak personal code is refused before anything is sent
    let err = Device::enroll(
        data.path(),
        &service.url,
        PHONE,
        || Ok(CODE.into()),
        "12345",
    )
    .await
    .unwrap_err();
    assert!(matches!(err, AppError::WeakPersonalCode { .. }), "{err}");
    assert_eq!(service.mock.lock().unwrap().requests, 0);

    let err = Device::enroll(
        data.path(),
        &service.url,
        "+32470999999",
        || Ok(CODE.into()),
        PERSONAL,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, AppError::UnknownPerson { .. }), "{err}");

    // a wrong SMS code can be retried on the same enrollment
    let enrollment = app::Enrollment::start(&service.url, PHONE).await.unwrap();
    let err = enrollment
        .complete(data.path(), "00000", PERSONAL)
        .await
        .unwrap_err();
    assert!(
        matches!(err, AppError::Service { status: 422, ref code, .. } if code == "wrong_code"),
        "{err}"
    );
    assert!(matches!(
        Device::open(data.path()),
        Err(AppError::NotEnrolled { .. })
    ));
    enrollment
        .complete(data.path(), CODE, PERSONAL)
        .await
        .unwrap();
    Device::open(data.path()).unwrap();

    let err = Device::enroll(
        data.path(),
        "http://127.0.0.1:9",
        PHONE,
        || Ok(CODE.into()),
        PERSONAL,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, AppError::Http { .. }), "{err}");
    assert!(matches!(
        Device::enroll(data.path(), "ftp://x", PHONE, || Ok(CODE.into()), PERSONAL).await,
        Err(AppError::BadServiceUrl { .. })
    ));
}

async fn run_app(data: &Path, args: &[&str]) -> (bool, String, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_app"))
        .arg("--data")
        .arg(data)
        .args(args)
        .env_remove("ESIG_APP_DATA")
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[tokio::test]
async fn the_app_binary_walks_through_enroll_pending_confirm() {
    let service = service().await;
    let data = tempfile::tempdir().unwrap();
    let outbox = service.outbox.to_str().unwrap().to_owned();

    let (ok, out, err) = run_app(
        data.path(),
        &[
            "enroll",
            "--service",
            &service.url,
            "--phone",
            PHONE,
            "--sms-outbox",
            &outbox,
            "--personal-code",
            PERSONAL,
        ],
    )
    .await;
    assert!(ok, "{out}{err}");
    assert!(out.contains("Certificate: C=BE,CN=Alice Martin"), "{out}");

    let (ok, out, _) = run_app(data.path(), &["pending", "--wait", "0"]).await;
    assert!(ok);
    assert_eq!(out.trim(), "No pending action.");

    let device = Device::open(data.path()).unwrap();
    let id = service
        .mock
        .lock()
        .unwrap()
        .add_action(device.device_id(), good_attributes);
    let (ok, out, err) = run_app(data.path(), &["pending", "--wait", "1"]).await;
    assert!(ok, "{err}");
    for expected in [
        id.as_str(),
        "From:     Notary Dupont",
        "contract.pdf (1 page, 5631 bytes)",
        "Icons:    cat  boat  tree  key",
        "the data to sign matches",
    ] {
        assert!(out.contains(expected), "{expected:?} missing in\n{out}");
    }
    let (ok, out, _) = run_app(data.path(), &["pending", "--wait", "0", "--json"]).await;
    assert!(ok);
    let json: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["actions"][0]["id"], id.as_str());
    assert_eq!(json["actions"][0]["app_check"], "ok");

    let (ok, _, err) = run_app(
        data.path(),
        &["confirm", &id, "--icon", "boat", "--code", "48213"],
    )
    .await;
    assert!(!ok);
    assert_eq!(
        err.trim(),
        "app: wrong personal code; 4 attempts left before the app locks"
    );
    let (ok, out, err) = run_app(
        data.path(),
        &["confirm", &id, "--icon", "boat", "--code", PERSONAL],
    )
    .await;
    assert!(ok, "{err}");
    assert!(out.starts_with("Signed."), "{out}");

    let (ok, out, _) = run_app(data.path(), &["status"]).await;
    assert!(ok);
    assert!(
        out.contains("ready (5 personal-code attempts left)"),
        "{out}"
    );

    let empty = tempfile::tempdir().unwrap();
    let (ok, _, err) = run_app(empty.path(), &["pending"]).await;
    assert!(!ok);
    assert!(err.contains("run `app enroll` first"), "{err}");
}
