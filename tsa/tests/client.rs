//! The checking client against the real server, and against a man in the middle that
//! replays an earlier reply (wrong nonce) or flips a byte of the token.
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns: a panic is a test failure

mod support;

use std::sync::{Arc, Mutex};

use axum::{body::Bytes, extract::State, http::header, routing::post, Router};
use formats::crypto::DigestAlgorithm;
use support::start;
use tsa::client::{ClientConfig, ClientError, TsaClient};
use x509_cert::{der::DecodePem, Certificate};

#[derive(Clone)]
struct Mitm {
    upstream: String,
    mode: Mode,
    first_reply: Arc<Mutex<Option<Vec<u8>>>>,
}

#[derive(Clone, Copy)]
enum Mode {
    Replay,
    FlipLastByte,
}

async fn relay(
    State(m): State<Mitm>,
    body: Bytes,
) -> ([(header::HeaderName, &'static str); 1], Vec<u8>) {
    let reply = reqwest::Client::new()
        .post(&m.upstream)
        .header("content-type", "application/timestamp-query")
        .body(body)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap()
        .to_vec();
    let out = match m.mode {
        Mode::Replay => m.first_reply.lock().unwrap().get_or_insert(reply).clone(),
        Mode::FlipLastByte => {
            let mut r = reply;
            if let Some(last) = r.last_mut() {
                *last ^= 0x01;
            }
            r
        }
    };
    ([(header::CONTENT_TYPE, "application/timestamp-reply")], out)
}

#[test]
fn client_accepts_ours_and_refuses_tampering() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir.path().join("data"));
    let root = Certificate::from_pem(std::fs::read(server.root_pem()).unwrap()).unwrap();
    let config = ClientConfig {
        trust_anchors: Some(vec![root]),
        ..ClientConfig::default()
    };
    let digest = DigestAlgorithm::Sha256.digest(b"signature value");

    let client = TsaClient::new(&server.url, config.clone()).unwrap();
    let token = server
        .runtime
        .block_on(client.timestamp(DigestAlgorithm::Sha256, &digest))
        .unwrap();
    assert_eq!(token.tst_info.policy, tsa::config::DEFAULT_POLICY);
    let parsed = formats::tsp::parse_timestamp_token(&token.der).unwrap();
    assert_eq!(parsed.imprint(), digest.as_slice());

    for mode in [Mode::Replay, Mode::FlipLastByte] {
        let mitm = Mitm {
            upstream: server.url.clone(),
            mode,
            first_reply: Arc::default(),
        };
        let listener = server
            .runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let app = Router::new().route("/", post(relay)).with_state(mitm);
        server
            .runtime
            .spawn(async move { axum::serve(listener, app).await });
        let client = TsaClient::new(&url, config.clone()).unwrap();
        let first = server
            .runtime
            .block_on(client.timestamp(DigestAlgorithm::Sha256, &digest));
        let second = server
            .runtime
            .block_on(client.timestamp(DigestAlgorithm::Sha256, &digest));
        match mode {
            Mode::Replay => {
                assert!(first.is_ok(), "{first:?}");
                assert!(
                    matches!(second, Err(ClientError::NonceMismatch)),
                    "replayed reply: {second:?}"
                );
            }
            Mode::FlipLastByte => {
                assert!(
                    first.is_err() && second.is_err(),
                    "tampered reply: {first:?}"
                );
            }
        }
    }
    server.stop();
}
