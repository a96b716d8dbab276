//! The service's operations in process, without HTTP: enrollment, action creation, the
//! injected clock expiring an action, confirm and refuse rules, the audit chain.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;

use axum::http::StatusCode;
use base64::Engine;
use formats::pki::{KeyAlgorithm, SigningKey};
use signer::actions::{
    self, ConfirmRequest, CreateAction, DocumentSignature, RefuseRequest, UserRef,
};
use signer::config::Config;
use signer::domain::actions::ActionStatus;
use signer::domain::person::Person;
use signer::enrollment::{self, CompleteRequest, StartRequest};
use signer::service::{Service, State};
use signer::store::{Device, Partner};

const PHONE: &str = "+32470000001";

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

struct Fixture {
    _dir: tempfile::TempDir,
    svc: State,
    partner: Partner,
    device: Device,
    signing: SigningKey,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::new(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        dir.path().join("data"),
    );
    config.test_hooks = true; // an adjustable clock
    let svc = Service::open(config).unwrap();
    let now = svc.now();
    signer::admin::vouch(
        &*svc.store,
        &Person {
            phone: PHONE.into(),
            given_name: "Alice".into(),
            surname: "Martin".into(),
            national_number: "90010112345".into(),
        },
        now,
    )
    .unwrap();
    let created = signer::admin::create_partner(&*svc.store, "Notary Dupont", now).unwrap();
    let partner = svc.store.partner(&created.partner_id).unwrap().unwrap();

    // enroll: the code comes from the outbox, the CSR from the app library
    let started = enrollment::start(
        &svc,
        StartRequest {
            phone: PHONE.into(),
        },
    )
    .await
    .unwrap();
    let code =
        app::sms::code_from_outbox(&svc.config.data_dir.join("sms-outbox.jsonl"), PHONE).unwrap();
    let (signing, _) = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let (auth, _) = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    // a wrong code first: counted, the enrollment stays open
    let wrong = if code == "00000" { "00001" } else { "00000" };
    let err = enrollment::complete(
        &svc,
        &started.enrollment_id,
        CompleteRequest {
            code: wrong.into(),
            csr: b64(&app::csr::certification_request(&signing).unwrap()),
            device_key: b64(&auth.public_key_info_der().unwrap()),
        },
    )
    .await
    .unwrap_err();
    assert_eq!(err.code, "wrong_code");
    let done = enrollment::complete(
        &svc,
        &started.enrollment_id,
        CompleteRequest {
            code,
            csr: b64(&app::csr::certification_request(&signing).unwrap()),
            device_key: b64(&auth.public_key_info_der().unwrap()),
        },
    )
    .await
    .unwrap();
    assert_eq!(done.chain.len(), 2);
    let device = svc.store.device(&done.device_id).unwrap().unwrap();
    Fixture {
        _dir: dir,
        svc,
        partner,
        device,
        signing,
    }
}

async fn new_action(f: &Fixture) -> signer::store::Action {
    let body = axum::body::Body::from(
        std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../samples/contract.pdf"
        ))
        .unwrap(),
    );
    let doc = signer::documents::upload(
        &f.svc,
        &f.partner,
        Some("contract.pdf"),
        Some("application/pdf"),
        None,
        body,
    )
    .await
    .unwrap();
    actions::create(
        &f.svc,
        &f.partner,
        CreateAction {
            user: UserRef {
                phone: PHONE.into(),
            },
            documents: vec![doc.id],
            level: None,
            message: Some("Please sign".into()),
            visible: None,
            callback_url: None,
        },
    )
    .await
    .unwrap()
}

fn signatures(f: &Fixture, a: &signer::store::Action) -> Vec<DocumentSignature> {
    a.documents
        .iter()
        .map(|d| {
            let p = signer::pades::Prepared::from_json(&d.prepared).unwrap();
            DocumentSignature {
                document_id: d.document.id.clone(),
                signature: b64(&f.signing.sign(p.signed_attributes()).unwrap()),
            }
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_injected_clock_expires_an_action() {
    let f = fixture().await;
    let a = new_action(&f).await;
    assert_eq!(
        actions::pending(&f.svc, &f.device, std::time::Duration::ZERO)
            .await
            .unwrap()
            .len(),
        1
    );
    f.svc
        .test_clock
        .as_ref()
        .unwrap()
        .advance(time::Duration::seconds(181));
    assert_eq!(actions::sweep_expired(&f.svc).await.unwrap(), 1);
    let a2 = actions::load(&f.svc, &a.id).await.unwrap().unwrap();
    assert_eq!(a2.status, ActionStatus::Expired);
    let err = actions::confirm(
        &f.svc,
        &f.device,
        &a.id,
        ConfirmRequest {
            icon: a.icon.clone(),
            signatures: signatures(&f, &a),
        },
    )
    .await
    .unwrap_err();
    assert_eq!(err.status, StatusCode::GONE);
    let err = actions::refuse(&f.svc, &f.device, &a.id, RefuseRequest::default())
        .await
        .unwrap_err();
    assert_eq!(err.status, StatusCode::GONE);
    assert!(
        actions::pending(&f.svc, &f.device, std::time::Duration::ZERO)
            .await
            .unwrap()
            .is_empty()
    );
    f.svc.close();
}

#[tokio::test(flavor = "multi_thread")]
async fn confirm_signs_and_a_second_confirm_changes_nothing() {
    let f = fixture().await;
    let a = new_action(&f).await;
    let svc: Arc<Service> = f.svc.clone();
    // a bad signature leaves it pending
    let mut bad = signatures(&f, &a);
    bad[0].signature = b64(&f.signing.sign(b"other").unwrap());
    let err = actions::confirm(
        &svc,
        &f.device,
        &a.id,
        ConfirmRequest {
            icon: a.icon.clone(),
            signatures: bad,
        },
    )
    .await
    .unwrap_err();
    assert_eq!(err.code, "bad_signature");
    assert_eq!(
        actions::load(&svc, &a.id).await.unwrap().unwrap().status,
        ActionStatus::Pending
    );
    let (code, outcome) = actions::confirm(
        &svc,
        &f.device,
        &a.id,
        ConfirmRequest {
            icon: a.icon.clone(),
            signatures: signatures(&f, &a),
        },
    )
    .await
    .unwrap();
    assert_eq!(
        (code, outcome.status),
        (StatusCode::OK, ActionStatus::Signed)
    );
    let err = actions::confirm(
        &svc,
        &f.device,
        &a.id,
        ConfirmRequest {
            icon: a.icon.clone(),
            signatures: signatures(&f, &a),
        },
    )
    .await
    .unwrap_err();
    assert_eq!(err.code, "action_closed");
    let done = actions::load(&svc, &a.id).await.unwrap().unwrap();
    assert_eq!(done.status, ActionStatus::Signed);
    let out = svc
        .files
        .signed(&done.id, &done.documents[0].document.id)
        .unwrap();
    let report = verifier::verify_path(
        &out,
        &verifier::Options {
            trust: vec![svc.ca.root.certificate.clone()],
            ..Default::default()
        },
    );
    assert_eq!(
        report.signatures.last().unwrap().indication,
        verifier::Indication::TotalPassed
    );
    // created, confirmed, signed
    assert_eq!(svc.store.check_audit_chain().unwrap(), 3);
    svc.close();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_icon_ends_the_action_at_once() {
    let f = fixture().await;
    let a = new_action(&f).await;
    let wrong = a.icons.iter().find(|i| **i != a.icon).unwrap().clone();
    let err = actions::confirm(
        &f.svc,
        &f.device,
        &a.id,
        ConfirmRequest {
            icon: wrong,
            signatures: signatures(&f, &a),
        },
    )
    .await
    .unwrap_err();
    assert_eq!(
        (err.status, err.code),
        (StatusCode::CONFLICT, "icon_mismatch")
    );
    let err = actions::confirm(
        &f.svc,
        &f.device,
        &a.id,
        ConfirmRequest {
            icon: a.icon.clone(),
            signatures: signatures(&f, &a),
        },
    )
    .await
    .unwrap_err();
    assert_eq!(err.code, "action_closed");
    assert_eq!(
        actions::load(&f.svc, &a.id).await.unwrap().unwrap().status,
        ActionStatus::IconMismatch
    );
    f.svc.close();
}
