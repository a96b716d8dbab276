//! Sign actions end to end: `signer serve` runs as a real process on an ephemeral port and
//! is driven over real HTTP by a partner (reqwest) and by the person's phone — the real
//! `app` library, or a raw device built from the app's public pieces (`app::csr`,
//! `app::auth`) where a test needs to send what the app never would (a second confirm, a
//! forged signature, a replay).
//!
//! The signed outputs are judged by our `verify`, pdfsig and pyHanko with the service's
//! `root.pem` as the only trust anchor (pdfsig and pyHanko skip locally when absent, fail
//! under CI=true).
//!
//! Expiry uses the service's test clock (`--test-hooks`, `POST /v1/test/clock`), the TSA
//! outage its TSA switch (`POST /v1/test/tsa`): no test sleeps to synchronise; waits poll
//! with a deadline.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs::OpenOptions;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use formats::pki::{KeyAlgorithm, SigningKey};
use interop_tests::pdfsig::Pdfsig;
use interop_tests::{bins, tools, verify};
use serde_json::{json, Value};
use tempfile::TempDir;

const ALICE: &str = "+32470000001";
const BOB: &str = "+32470000002";
const CAROL: &str = "+32470000003";
const CODE: &str = "48213";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn unb64(text: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex(&formats::crypto::DigestAlgorithm::Sha256.digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(tools::workspace_root().join("samples").join(name)).unwrap()
}

// ---------------------------------------------------------------------------------------
// the service as a process

/// `signer serve` on 127.0.0.1:0 with a data directory; killed (SIGKILL) when dropped.
struct Server {
    child: Option<Child>,
    _stdout: Option<BufReader<ChildStdout>>,
    url: String,
    /// `127.0.0.1:0` at first, then the bound address (a restart keeps the port).
    listen: String,
    data: PathBuf,
    log: PathBuf,
    extra: Vec<String>,
}

impl Server {
    fn start(data: &Path, extra: &[&str]) -> Server {
        let mut s = Server {
            child: None,
            _stdout: None,
            url: String::new(),
            listen: "127.0.0.1:0".into(),
            data: data.to_owned(),
            log: data.with_extension("log"),
            extra: extra.iter().map(|s| s.to_string()).collect(),
        };
        s.spawn();
        s
    }

    fn spawn(&mut self) {
        let bin = bins::binary("signer").unwrap();
        let stderr = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let mut child = Command::new(bin)
            .args(["serve", "--listen", &self.listen, "--test-hooks", "--data"])
            .arg(&self.data)
            .args(&self.extra)
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        if line.trim().is_empty() {
            let _ = child.kill();
            panic!(
                "signer serve printed no address; its log:\n{}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
        }
        let v: Value = serde_json::from_str(&line).unwrap();
        self.url = v["url"].as_str().unwrap().to_string();
        self.listen = v["listening"].as_str().unwrap().to_string();
        assert!(self.url.starts_with("http://127.0.0.1:"), "{line}");
        self.child = Some(child);
        self._stdout = Some(stdout);
    }

    /// `kill -9`, no chance to flush anything.
    fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().unwrap();
            c.wait().unwrap();
        }
        self._stdout = None;
    }

    /// `kill -9`, then start again on the same data directory and port.
    fn crash_and_restart(&mut self) {
        self.kill9();
        self.spawn();
    }

    /// `signer admin ARGS --data DIR`, its stdout as JSON.
    fn admin(&self, args: &[&str]) -> Value {
        let out = tools::run(
            Command::new(bins::binary("signer").unwrap())
                .arg("admin")
                .args(args)
                .arg("--data")
                .arg(&self.data),
        )
        .unwrap();
        serde_json::from_slice(&out.stdout).unwrap()
    }

    fn vouch(&self, phone: &str, given: &str, surname: &str, national: &str) {
        self.admin(&[
            "vouch",
            "--phone",
            phone,
            "--given-name",
            given,
            "--surname",
            surname,
            "--national-number",
            national,
        ]);
    }

    fn partner(&self, name: &str) -> Partner {
        let v = self.admin(&["create-partner", "--name", name]);
        Partner {
            http: reqwest::Client::new(),
            url: self.url.clone(),
            key: v["api_key"].as_str().unwrap().to_string(),
            webhook_secret: v["webhook_secret"].as_str().unwrap().to_string(),
        }
    }

    fn root(&self) -> PathBuf {
        self.data.join("root.pem")
    }

    fn outbox(&self) -> PathBuf {
        self.data.join("sms-outbox.jsonl")
    }

    async fn post_json(&self, path: &str, body: Value) -> (u16, Value) {
        let r = reqwest::Client::new()
            .post(format!("{}{path}", self.url))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// Moves the service's clock forward.
    async fn advance_clock(&self, seconds: i64) {
        let (s, v) = self
            .post_json("/v1/test/clock", json!({"advance_seconds": seconds}))
            .await;
        assert_eq!(s, 200, "{v}");
    }

    /// Switches the embedded TSA off or on.
    async fn tsa_available(&self, available: bool) {
        let (s, v) = self
            .post_json("/v1/test/tsa", json!({"available": available}))
            .await;
        assert_eq!(s, 200, "{v}");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
}

// ---------------------------------------------------------------------------------------
// the partner

struct Partner {
    http: reqwest::Client,
    url: String,
    key: String,
    webhook_secret: String,
}

impl Partner {
    async fn send(&self, req: reqwest::RequestBuilder) -> (u16, Value) {
        let r = req.bearer_auth(&self.key).send().await.unwrap();
        let status = r.status().as_u16();
        let body = r.bytes().await.unwrap();
        let v = serde_json::from_slice(&body).unwrap_or_else(|_| {
            panic!(
                "HTTP {status}: not JSON: {}",
                String::from_utf8_lossy(&body)
            )
        });
        (status, v)
    }

    async fn upload_as(&self, bytes: Vec<u8>, name: &str, content_type: &str) -> (u16, Value) {
        self.send(
            self.http
                .post(format!("{}/v1/documents", self.url))
                .query(&[("name", name)])
                .header("content-type", content_type)
                .body(bytes),
        )
        .await
    }

    async fn upload(&self, bytes: Vec<u8>, name: &str) -> String {
        let (s, v) = self.upload_as(bytes, name, "application/pdf").await;
        assert_eq!(s, 201, "{v}");
        v["id"].as_str().unwrap().to_string()
    }

    async fn create(&self, body: Value) -> (u16, Value) {
        self.send(
            self.http
                .post(format!("{}/v1/sign-actions", self.url))
                .json(&body),
        )
        .await
    }

    /// A pending action for `phone` over freshly uploaded `contract.pdf`.
    async fn action_for(&self, phone: &str) -> Value {
        let doc = self.upload(sample("contract.pdf"), "contract.pdf").await;
        let (s, v) = self
            .create(json!({"user": {"phone": phone}, "documents": [doc], "message": "Please sign"}))
            .await;
        assert_eq!(s, 201, "{v}");
        v
    }

    async fn action(&self, id: &str) -> (u16, Value) {
        self.send(self.http.get(format!("{}/v1/sign-actions/{id}", self.url)))
            .await
    }

    async fn status(&self, id: &str) -> String {
        let (s, v) = self.action(id).await;
        assert_eq!(s, 200, "{v}");
        v["status"].as_str().unwrap().to_string()
    }

    /// Polls until the action leaves `pending`/`finalizing` (deadline 60 s).
    async fn wait_end(&self, id: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let (s, v) = self.action(id).await;
            assert_eq!(s, 200, "{v}");
            let status = v["status"].as_str().unwrap();
            if status != "pending" && status != "finalizing" {
                return v;
            }
            assert!(Instant::now() < deadline, "action {id} still {status}: {v}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn download(&self, href: &str) -> (u16, Vec<u8>, Option<String>) {
        let r = self
            .http
            .get(format!("{}{href}", self.url))
            .bearer_auth(&self.key)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let sha = r
            .headers()
            .get("x-content-sha256")
            .map(|v| v.to_str().unwrap().to_string());
        (status, r.bytes().await.unwrap().to_vec(), sha)
    }
}

// ---------------------------------------------------------------------------------------
// a raw device: enrolled over HTTP with its own keys, signing its own requests

struct RawDevice {
    url: String,
    id: String,
    auth: SigningKey,
    signing: SigningKey,
    http: reqwest::Client,
}

impl RawDevice {
    async fn enroll(server: &Server, phone: &str) -> RawDevice {
        let (s, v) = server
            .post_json("/v1/app/enrollments", json!({"phone": phone}))
            .await;
        assert_eq!(s, 201, "{v}");
        let enrollment = v["enrollment_id"].as_str().unwrap().to_string();
        let code = app::sms::code_from_outbox(&server.outbox(), phone).unwrap();
        let (signing, _) = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let (auth, _) = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let csr = app::csr::certification_request(&signing).unwrap();
        let (s, v) = server
            .post_json(
                &format!("/v1/app/enrollments/{enrollment}/complete"),
                json!({"code": code, "csr": b64(&csr), "device_key": b64(&auth.public_key_info_der().unwrap())}),
            )
            .await;
        assert_eq!(s, 201, "{v}");
        RawDevice {
            url: server.url.clone(),
            id: v["device_id"].as_str().unwrap().to_string(),
            auth,
            signing,
            http: reqwest::Client::new(),
        }
    }

    fn headers(
        &self,
        method: &str,
        path: &str,
        body: &[u8],
        at: time::OffsetDateTime,
    ) -> Vec<(String, String)> {
        app::auth::device_headers(&self.id, &self.auth, method, path, at, body)
            .unwrap()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect()
    }

    async fn send_with(
        &self,
        method: &str,
        path: &str,
        body: Vec<u8>,
        headers: &[(String, String)],
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method.parse().unwrap(), format!("{}{path}", self.url))
            .header("content-type", "application/json")
            .body(body);
        for (k, v) in headers {
            req = req.header(k.as_str(), v.as_str());
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn send_raw(&self, method: &str, path: &str, body: Vec<u8>) -> (u16, Value) {
        let headers = self.headers(method, path, &body, time::OffsetDateTime::now_utc());
        self.send_with(method, path, body, &headers).await
    }

    async fn send(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let body = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        self.send_raw(method, path, body).await
    }

    async fn pending(&self) -> Vec<Value> {
        let (s, v) = self.send("GET", "/v1/app/actions?wait=0", None).await;
        assert_eq!(s, 200, "{v}");
        v["actions"].as_array().unwrap().clone()
    }

    /// The signatures over each document's signed attributes of `app_action`.
    fn signatures(&self, app_action: &Value) -> Value {
        let sigs: Vec<Value> = app_action["documents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                let attrs = unb64(d["signed_attributes"].as_str().unwrap());
                json!({"document_id": d["id"], "signature": b64(&self.signing.sign(&attrs).unwrap())})
            })
            .collect();
        Value::Array(sigs)
    }

    async fn confirm(&self, id: &str, icon: &str, signatures: Value) -> (u16, Value) {
        self.send(
            "POST",
            &format!("/v1/app/actions/{id}/confirm"),
            Some(json!({"icon": icon, "signatures": signatures})),
        )
        .await
    }

    async fn refuse(&self, id: &str) -> (u16, Value) {
        self.send(
            "POST",
            &format!("/v1/app/actions/{id}/refuse"),
            Some(json!({"not_mine": false})),
        )
        .await
    }
}

// ---------------------------------------------------------------------------------------
// fixtures and judges

struct World {
    dir: TempDir,
    server: Server,
    partner: Partner,
}

fn world_with(extra: &[&str]) -> World {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"), extra);
    server.vouch(ALICE, "Alice", "Martin", "90010112345");
    server.vouch(BOB, "Bob", "Peeters", "85020254321");
    server.vouch(CAROL, "Carol", "Janssens", "70030311122");
    let partner = server.partner("Notary Dupont");
    World {
        dir,
        server,
        partner,
    }
}

fn world() -> World {
    world_with(&[])
}

async fn enroll_app(w: &World, phone: &str, name: &str) -> app::Device {
    let outbox = w.server.outbox();
    app::Device::enroll(
        &w.dir.path().join(name),
        &w.server.url,
        phone,
        || app::sms::code_from_outbox(&outbox, phone),
        CODE,
    )
    .await
    .unwrap()
}

/// The `required` keys of schema `name` in openapi.json that `value` lacks.
fn missing_keys(name: &str, value: &Value) -> Vec<String> {
    let doc: Value = serde_json::from_str(
        &std::fs::read_to_string(tools::workspace_root().join("signer/openapi.json")).unwrap(),
    )
    .unwrap();
    doc["components"]["schemas"][name]["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap().to_string())
        .filter(|k| value.get(k).is_none())
        .collect()
}

/// Our verifier, pdfsig and pyHanko accept the newest signature of every file with `root`
/// as the only anchor; earlier signatures stay intact.
fn judge(root: &Path, files: &[PathBuf]) {
    let refs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let run = verify::run_json(root, &refs).unwrap();
    let json = run.json().unwrap();
    for f in json["files"].as_array().unwrap() {
        let sigs: Vec<&Value> = f["signatures"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["kind"] == "signature")
            .collect();
        let last = sigs.last().unwrap_or_else(|| panic!("no signature: {f}"));
        assert_eq!(last["indication"], "TOTAL-PASSED", "verify: {last}");
        assert_eq!(last["level"], "PAdES-BASELINE-T", "verify: {last}");
        for earlier in &sigs[..sigs.len() - 1] {
            assert_eq!(
                earlier["intact"], true,
                "an earlier signature broke: {earlier}"
            );
        }
    }
    if tools::require_tool("pdfsig").is_some() && tools::require_tool("certutil").is_some() {
        let pdfsig = Pdfsig::new(root, &[]).unwrap();
        for f in files {
            let sigs = pdfsig.check(f).unwrap();
            let last = sigs.last().unwrap();
            assert_eq!(
                last.indication(),
                Some("TOTAL-PASSED"),
                "pdfsig on {}: {last:?}",
                f.display()
            );
            assert!(
                last.total,
                "pdfsig: the newest signature must cover the whole file"
            );
        }
    }
    if let Some(venv) = tools::venv() {
        let out = tools::run(
            venv.script("pyhanko_verdicts.py")
                .arg("--root")
                .arg(root)
                .args(files),
        )
        .unwrap();
        let verdicts: Value = serde_json::from_slice(&out.stdout).unwrap();
        for (file, sigs) in verdicts.as_object().unwrap() {
            let sigs = sigs.as_array().unwrap();
            let last = sigs.last().unwrap();
            assert_eq!(
                last["indication"], "TOTAL-PASSED",
                "pyHanko on {file}: {last}"
            );
            for earlier in &sigs[..sigs.len() - 1] {
                assert_ne!(
                    earlier["indication"], "TOTAL-FAILED",
                    "pyHanko on {file}: {earlier}"
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// the tests

#[tokio::test(flavor = "multi_thread")]
async fn happy_path_two_documents_one_confirmation() {
    let w = world();
    let device = enroll_app(&w, ALICE, "alice-phone").await;

    let contract = sample("contract.pdf");
    let signed_before = sample("contract-signed.pdf");
    let mut ids = Vec::new();
    for (bytes, name) in [
        (&contract, "contract.pdf"),
        (&signed_before, "contract-signed.pdf"),
    ] {
        let (s, v) = w
            .partner
            .upload_as(bytes.clone(), name, "application/pdf")
            .await;
        assert_eq!(s, 201, "{v}");
        assert_eq!(v["sha256"], sha256_hex(bytes));
        assert_eq!(v["size"], bytes.len());
        assert_eq!(v["pages"], 1);
        assert_eq!(v["name"], name);
        assert!(missing_keys("Document", &v).is_empty(), "{v}");
        ids.push(v["id"].as_str().unwrap().to_string());
    }
    let (s, action) = w
        .partner
        .create(json!({
            "user": {"phone": ALICE},
            "documents": ids,
            "level": "B-T",
            "message": "Sale agreement, please sign",
        }))
        .await;
    assert_eq!(s, 201, "{action}");
    assert!(missing_keys("Action", &action).is_empty(), "{action}");
    assert_eq!(action["status"], "pending");
    let id = action["id"].as_str().unwrap();
    let icon = action["icon"].as_str().unwrap();
    let created = time::OffsetDateTime::parse(
        action["created_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let expires = time::OffsetDateTime::parse(
        action["expires_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert_eq!(
        (expires - created).whole_seconds(),
        180,
        "default expiry is 3 minutes"
    );

    // the phone: one action, four icons including the partner's, both documents
    let pending = device.pending(10).await.unwrap();
    assert_eq!(pending.len(), 1);
    let shown = &pending[0];
    assert_eq!(shown.id, id);
    assert_eq!(shown.partner, "Notary Dupont");
    assert_eq!(shown.message, "Sale agreement, please sign");
    assert_eq!(shown.icons.len(), 4);
    assert!(shown.icons.iter().any(|i| i == icon));
    assert_eq!(shown.documents.len(), 2);
    assert_eq!(shown.documents[0].sha256, sha256_hex(&contract));
    device.check_action(shown).unwrap();

    let outcome = device.confirm(id, icon, CODE).await.unwrap();
    assert!(
        matches!(
            outcome,
            app::ConfirmOutcome::Signed | app::ConfirmOutcome::Finalizing
        ),
        "{outcome:?}"
    );
    let done = w.partner.wait_end(id).await;
    assert_eq!(done["status"], "signed", "{done}");
    assert!(
        done["confirmed_at"].is_string() && done["ended_at"].is_string(),
        "{done}"
    );
    assert!(device.pending(0).await.unwrap().is_empty());

    let out = w.dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let mut files = Vec::new();
    for (d, original) in done["documents"]
        .as_array()
        .unwrap()
        .iter()
        .zip([&contract, &signed_before])
    {
        let href = d["signed"]["href"].as_str().unwrap();
        let (s, bytes, sha) = w.partner.download(href).await;
        assert_eq!(s, 200);
        assert_eq!(sha.as_deref(), Some(sha256_hex(&bytes).as_str()));
        assert_eq!(d["signed"]["sha256"], sha256_hex(&bytes));
        assert!(
            bytes.starts_with(original),
            "the original bytes must be kept (incremental update)"
        );
        let path = out.join(format!(
            "{}.signed.pdf",
            d["name"].as_str().unwrap().trim_end_matches(".pdf")
        ));
        std::fs::write(&path, &bytes).unwrap();
        files.push(path);
    }
    judge(&w.server.root(), &files);

    let audit = Command::new(bins::binary("signer").unwrap())
        .args(["admin", "audit-check", "--data"])
        .arg(&w.server.data)
        .output()
        .unwrap();
    assert!(
        audit.status.success(),
        "{}",
        String::from_utf8_lossy(&audit.stderr)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_icon_ends_the_action() {
    let w = world();
    let device = enroll_app(&w, ALICE, "alice-phone").await;
    let action = w.partner.action_for(ALICE).await;
    let id = action["id"].as_str().unwrap();
    let icon = action["icon"].as_str().unwrap();
    let shown = device.pending(10).await.unwrap();
    let wrong = shown[0].icons.iter().find(|i| *i != icon).unwrap().clone();
    let err = device.confirm(id, &wrong, CODE).await.unwrap_err();
    assert!(matches!(err, app::AppError::IconMismatch { .. }), "{err}");
    let v = w.partner.wait_end(id).await;
    assert_eq!(v["status"], "icon_mismatch", "{v}");
    assert!(v["ended_at"].is_string());
    // no second try on that action
    assert!(device.pending(0).await.unwrap().is_empty());
    assert!(device.confirm(id, icon, CODE).await.is_err());
    assert_eq!(w.partner.status(id).await, "icon_mismatch");

    // the same at the HTTP level: a right icon after a wrong one is 409 action_closed
    let raw = RawDevice::enroll(&w.server, BOB).await;
    let action = w.partner.action_for(BOB).await;
    let id = action["id"].as_str().unwrap();
    let icon = action["icon"].as_str().unwrap();
    let app_view = raw.pending().await.pop().unwrap();
    let wrong = app_view["icons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| *i != icon)
        .unwrap()
        .as_str()
        .unwrap()
        .to_string();
    let (s, v) = raw.confirm(id, &wrong, raw.signatures(&app_view)).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (409, Some("icon_mismatch")),
        "{v}"
    );
    let (s, v) = raw.confirm(id, icon, raw.signatures(&app_view)).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (409, Some("action_closed")),
        "{v}"
    );
    assert_eq!(w.partner.status(id).await, "icon_mismatch");
}

#[tokio::test(flavor = "multi_thread")]
async fn refusal_is_final() {
    let w = world();
    let device = enroll_app(&w, ALICE, "alice-phone").await;
    let action = w.partner.action_for(ALICE).await;
    let id = action["id"].as_str().unwrap();
    device.pending(10).await.unwrap();
    device.refuse(id, true).await.unwrap();
    let v = w.partner.wait_end(id).await;
    assert_eq!(v["status"], "refused", "{v}");
    assert!(
        v["reason"].as_str().unwrap().contains("did not start"),
        "{v}"
    );
    assert!(device
        .confirm(id, action["icon"].as_str().unwrap(), CODE)
        .await
        .is_err());
    assert_eq!(w.partner.status(id).await, "refused");
}

#[tokio::test(flavor = "multi_thread")]
async fn expiry_with_the_test_clock() {
    let w = world();
    let raw = RawDevice::enroll(&w.server, ALICE).await;
    let action = w.partner.action_for(ALICE).await;
    let id = action["id"].as_str().unwrap();
    let app_view = raw.pending().await.pop().unwrap();
    w.server.advance_clock(181).await;
    let v = w.partner.wait_end(id).await;
    assert_eq!(v["status"], "expired", "{v}");
    assert!(v["ended_at"].is_string());
    assert!(raw.pending().await.is_empty());
    let (s, v) = raw
        .confirm(
            id,
            action["icon"].as_str().unwrap(),
            raw.signatures(&app_view),
        )
        .await;
    assert_eq!((s, v["error"].as_str()), (410, Some("expired")), "{v}");
    let (s, _) = raw.refuse(id).await;
    assert_eq!(s, 410);
    assert_eq!(w.partner.status(id).await, "expired");
}

#[tokio::test(flavor = "multi_thread")]
async fn double_confirm_is_rejected_and_changes_nothing() {
    let w = world();
    let raw = RawDevice::enroll(&w.server, ALICE).await;
    let action = w.partner.action_for(ALICE).await;
    let id = action["id"].as_str().unwrap();
    let icon = action["icon"].as_str().unwrap();
    let app_view = raw.pending().await.pop().unwrap();
    let sigs = raw.signatures(&app_view);
    let (s, v) = raw.confirm(id, icon, sigs.clone()).await;
    assert!(s == 200 || s == 202, "{s} {v}");
    let (s, v) = raw.confirm(id, icon, sigs).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (409, Some("action_closed")),
        "{v}"
    );
    let (s, v) = raw.refuse(id).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (409, Some("action_closed")),
        "{v}"
    );
    assert_eq!(w.partner.wait_end(id).await["status"], "signed");
}

#[tokio::test(flavor = "multi_thread")]
async fn another_device_cannot_see_or_answer() {
    let w = world();
    let alice = RawDevice::enroll(&w.server, ALICE).await;
    let bob = RawDevice::enroll(&w.server, BOB).await;
    let action = w.partner.action_for(ALICE).await;
    let id = action["id"].as_str().unwrap();
    let icon = action["icon"].as_str().unwrap();
    assert!(bob.pending().await.is_empty());
    let app_view = alice.pending().await.pop().unwrap();
    // Bob signs Alice's attributes with his own key, and with the right icon
    let (s, v) = bob.confirm(id, icon, bob.signatures(&app_view)).await;
    assert_eq!((s, v["error"].as_str()), (404, Some("not_found")), "{v}");
    let (s, _) = bob.refuse(id).await;
    assert_eq!(s, 404);
    assert_eq!(w.partner.status(id).await, "pending");
    // Alice's own signature sent by Bob's device is still Bob's request
    let (s, _) = bob.confirm(id, icon, alice.signatures(&app_view)).await;
    assert_eq!(s, 404);
    let (s, v) = alice.confirm(id, icon, alice.signatures(&app_view)).await;
    assert!(s == 200 || s == 202, "{s} {v}");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_signatures_replays_and_skew_are_refused() {
    let w = world();
    let raw = RawDevice::enroll(&w.server, ALICE).await;
    let action = w.partner.action_for(ALICE).await;
    let id = action["id"].as_str().unwrap();
    let icon = action["icon"].as_str().unwrap();
    let app_view = raw.pending().await.pop().unwrap();

    // a signature over other bytes: 422, the action stays pending
    let forged = json!([{
        "document_id": app_view["documents"][0]["id"],
        "signature": b64(&raw.signing.sign(b"something else").unwrap()),
    }]);
    let (s, v) = raw.confirm(id, icon, forged).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (422, Some("bad_signature")),
        "{v}"
    );
    // a signature by the device-auth key (not the certified one)
    let attrs = unb64(
        app_view["documents"][0]["signed_attributes"]
            .as_str()
            .unwrap(),
    );
    let wrong_key = json!([{"document_id": app_view["documents"][0]["id"], "signature": b64(&raw.auth.sign(&attrs).unwrap())}]);
    let (s, _) = raw.confirm(id, icon, wrong_key).await;
    assert_eq!(s, 422);
    assert_eq!(w.partner.status(id).await, "pending");

    // the same request twice: the second is a replay
    let path = "/v1/app/actions?wait=0";
    let headers = raw.headers("GET", path, b"", time::OffsetDateTime::now_utc());
    let (s, _) = raw.send_with("GET", path, Vec::new(), &headers).await;
    assert_eq!(s, 200);
    let (s, v) = raw.send_with("GET", path, Vec::new(), &headers).await;
    assert_eq!((s, v["error"].as_str()), (401, Some("unauthorized")), "{v}");
    // a clock 400 s off
    let headers = raw.headers(
        "GET",
        path,
        b"",
        time::OffsetDateTime::now_utc() - time::Duration::seconds(400),
    );
    let (s, _) = raw.send_with("GET", path, Vec::new(), &headers).await;
    assert_eq!(s, 401);
    // headers signed for another path, a body changed after signing, no headers at all
    let headers = raw.headers(
        "GET",
        "/v1/app/actions?wait=1",
        b"",
        time::OffsetDateTime::now_utc(),
    );
    assert_eq!(
        raw.send_with("GET", path, Vec::new(), &headers).await.0,
        401
    );
    let body = json!({"not_mine": false}).to_string().into_bytes();
    let headers = raw.headers(
        "POST",
        &format!("/v1/app/actions/{id}/refuse"),
        &body,
        time::OffsetDateTime::now_utc(),
    );
    let tampered = json!({"not_mine": true}).to_string().into_bytes();
    assert_eq!(
        raw.send_with(
            "POST",
            &format!("/v1/app/actions/{id}/refuse"),
            tampered,
            &headers
        )
        .await
        .0,
        401
    );
    assert_eq!(raw.send_with("GET", path, Vec::new(), &[]).await.0, 401);
    assert_eq!(w.partner.status(id).await, "pending");

    // a malformed confirm body
    let (s, v) = raw
        .send_raw(
            "POST",
            &format!("/v1/app/actions/{id}/confirm"),
            b"{\"icon\": ".to_vec(),
        )
        .await;
    assert_eq!((s, v["error"].as_str()), (400, Some("bad_request")), "{v}");

    // and the real thing still works
    let (s, v) = raw.confirm(id, icon, raw.signatures(&app_view)).await;
    assert!(s == 200 || s == 202, "{s} {v}");
}

#[tokio::test(flavor = "multi_thread")]
async fn racing_answers_yield_exactly_one_outcome() {
    let w = world();
    let raw = std::sync::Arc::new(RawDevice::enroll(&w.server, ALICE).await);
    let action = w.partner.action_for(ALICE).await;
    let id = action["id"].as_str().unwrap().to_string();
    let icon = action["icon"].as_str().unwrap().to_string();
    let app_view = raw.pending().await.pop().unwrap();
    let sigs = raw.signatures(&app_view);
    let mut tasks = Vec::new();
    for i in 0..12 {
        let raw = raw.clone();
        let (id, icon, sigs) = (id.clone(), icon.clone(), sigs.clone());
        tasks.push(tokio::spawn(async move {
            let (s, v) = if i % 2 == 0 {
                raw.confirm(&id, &icon, sigs).await
            } else {
                raw.refuse(&id).await
            };
            (i % 2 == 0, s, v)
        }));
    }
    let mut winners = Vec::new();
    for t in tasks {
        let (is_confirm, s, v) = t.await.unwrap();
        if (200..300).contains(&s) {
            winners.push(is_confirm);
        } else {
            assert_eq!(
                (s, v["error"].as_str()),
                (409, Some("action_closed")),
                "{v}"
            );
        }
    }
    assert_eq!(winners.len(), 1, "exactly one answer wins");
    let end = w.partner.wait_end(&id).await;
    assert_eq!(
        end["status"],
        if winners[0] { "signed" } else { "refused" },
        "{end}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_partner_sees_only_its_own() {
    let w = world();
    let _alice = RawDevice::enroll(&w.server, ALICE).await;
    let action = w.partner.action_for(ALICE).await;
    let id = action["id"].as_str().unwrap();
    let doc = action["documents"][0]["id"].as_str().unwrap();
    let other = w.server.partner("Insurer Lambda");
    let (s, v) = other.action(id).await;
    assert_eq!((s, v["error"].as_str()), (404, Some("not_found")), "{v}");
    let (s, _, _) = other
        .download(&format!("/v1/sign-actions/{id}/documents/{doc}"))
        .await;
    assert_eq!(s, 404);
    let (s, _) = other
        .send(other.http.get(format!("{}/v1/documents/{doc}", other.url)))
        .await;
    assert_eq!(s, 404);
    let (s, v) = other
        .create(json!({"user": {"phone": ALICE}, "documents": [doc]}))
        .await;
    assert_eq!((s, v["error"].as_str()), (404, Some("not_found")), "{v}");
    // the owner sees it; the unsigned download is a conflict, not a leak
    let (s, _, _) = w
        .partner
        .download(&format!("/v1/sign-actions/{id}/documents/{doc}"))
        .await;
    assert_eq!(s, 409);
    // no key, an unknown key
    let r = reqwest::get(format!("{}/v1/sign-actions/{id}", w.server.url))
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let bad = Partner {
        key: "sk_nope".into(),
        ..w.server.partner("X")
    };
    assert_eq!(bad.action(id).await.0, 401);
    // a person without an enrolled app
    let doc2 = w.partner.upload(sample("contract.pdf"), "c.pdf").await;
    let (s, v) = w
        .partner
        .create(json!({"user": {"phone": CAROL}, "documents": [doc2]}))
        .await;
    assert_eq!((s, v["error"].as_str()), (422, Some("unknown_user")), "{v}");
}

/// Sends a chunked upload (no Content-Length) over a raw socket; returns status and body.
fn chunked_upload(url: &str, key: &str, chunk: &[u8], chunks: usize) -> (u16, Value) {
    let addr = url.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "POST /v1/documents HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {key}\r\nContent-Type: application/pdf\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    for _ in 0..chunks {
        if write!(s, "{:x}\r\n", chunk.len()).is_err()
            || s.write_all(chunk).is_err()
            || s.write_all(b"\r\n").is_err()
        {
            break; // the server answered early and closed
        }
    }
    let _ = s.write_all(b"0\r\n\r\n");
    let mut response = Vec::new();
    let _ = s.read_to_end(&mut response);
    let text = String::from_utf8_lossy(&response).to_string();
    let status: u16 = text.split(' ').nth(1).unwrap().parse().unwrap();
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("");
    // the body may itself be chunked: take the JSON object inside
    let json = body
        .find('{')
        .and_then(|a| body.rfind('}').map(|b| &body[a..=b]))
        .unwrap_or("null");
    (status, serde_json::from_str(json).unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn upload_rejections() {
    let w = world_with(&["--max-upload-bytes", "20000"]);
    let p = &w.partner;
    // within the limit: accepted
    assert_eq!(
        p.upload_as(sample("contract-signed.pdf"), "ok.pdf", "application/pdf")
            .await
            .0,
        201
    );
    // too large, announced by Content-Length
    let mut big = b"%PDF-1.7\n".to_vec();
    big.resize(30_000, b' ');
    let (s, v) = p.upload_as(big, "big.pdf", "application/pdf").await;
    assert_eq!((s, v["error"].as_str()), (413, Some("too_large")), "{v}");
    // too large, streamed without a length
    let (s, v) = chunked_upload(&w.server.url, &p.key, &[b'%'; 4096], 8);
    assert_eq!((s, v["error"].as_str()), (413, Some("too_large")), "{v}");
    // empty
    let (s, v) = p
        .upload_as(Vec::new(), "empty.pdf", "application/pdf")
        .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (400, Some("empty_document")),
        "{v}"
    );
    // not a PDF
    let (s, v) = p
        .upload_as(b"hello, world".to_vec(), "x.pdf", "application/pdf")
        .await;
    assert_eq!((s, v["error"].as_str()), (422, Some("not_a_pdf")), "{v}");
    // damaged beyond repair
    let (s, v) = p
        .upload_as(
            b"%PDF-1.7\n1 0 obj << /Type /Catalog".to_vec(),
            "d.pdf",
            "application/pdf",
        )
        .await;
    assert_eq!((s, v["error"].as_str()), (422, Some("damaged_pdf")), "{v}");
    // wrong content type
    let (s, v) = p
        .upload_as(sample("contract.pdf"), "c.pdf", "application/octet-stream")
        .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (415, Some("unsupported_media_type")),
        "{v}"
    );
    // encrypted
    if let Some(qpdf) = tools::require_tool("qpdf") {
        let plain = tools::workspace_root().join("samples/contract.pdf");
        let enc = w.dir.path().join("encrypted.pdf");
        tools::run(
            Command::new(qpdf)
                .args(["--encrypt", "user", "owner", "256", "--"])
                .arg(&plain)
                .arg(&enc),
        )
        .unwrap();
        let (s, v) = p
            .upload_as(std::fs::read(&enc).unwrap(), "enc.pdf", "application/pdf")
            .await;
        assert_eq!(
            (s, v["error"].as_str()),
            (422, Some("encrypted_pdf")),
            "{v}"
        );
    }
    // nothing half-written remains in the scratch directory
    let tmp: Vec<_> = std::fs::read_dir(w.server.data.join("tmp"))
        .unwrap()
        .collect();
    assert!(tmp.is_empty(), "{tmp:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_json_is_a_clear_400() {
    let w = world();
    let p = &w.partner;
    let post = |body: &'static str, ct: &'static str| {
        p.http
            .post(format!("{}/v1/sign-actions", p.url))
            .header("content-type", ct)
            .body(body)
    };
    let (s, v) = p.send(post("{\"user\": ", "application/json")).await;
    assert_eq!((s, v["error"].as_str()), (400, Some("bad_request")), "{v}");
    assert!(v["message"].as_str().unwrap().contains("JSON"), "{v}");
    let (s, v) = p.send(post("[1, 2]", "application/json")).await;
    assert_eq!(s, 400, "{v}");
    let (s, v) = p
        .send(post(
            "{\"user\": {\"phone\": \"+32470000001\"}, \"documents\": [\"x\"], \"colour\": 1}",
            "application/json",
        ))
        .await;
    assert_eq!(s, 400, "unknown fields are refused: {v}");
    let (s, v) = p.send(post("{}", "text/plain")).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (415, Some("unsupported_media_type")),
        "{v}"
    );
    let (s, v) = p
        .create(json!({"user": {"phone": "0470"}, "documents": ["x"]}))
        .await;
    assert_eq!(s, 400, "{v}");
    let (s, v) = p
        .create(json!({"user": {"phone": ALICE}, "documents": []}))
        .await;
    assert_eq!(s, 400, "{v}");
    let (s, v) = p
        .create(json!({"user": {"phone": ALICE}, "documents": ["x"], "level": "B-LTA"}))
        .await;
    assert_eq!(s, 400, "{v}");
    let (s, v) = w
        .server
        .post_json("/v1/app/enrollments", json!({"phone": 12}))
        .await;
    assert_eq!(s, 400, "{v}");
    let (s, v) = w
        .server
        .post_json("/v1/app/enrollments", json!({"phone": "+32499999999"}))
        .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (404, Some("unknown_person")),
        "{v}"
    );
    // a large JSON body
    let huge = format!("{{\"message\": \"{}\"}}", "a".repeat(200_000));
    let r = p
        .http
        .post(format!("{}/v1/sign-actions", p.url))
        .bearer_auth(&p.key)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_crash_in_the_middle_of_an_action_loses_nothing() {
    let mut w = world();
    let device = enroll_app(&w, ALICE, "alice-phone").await;
    let action = w.partner.action_for(ALICE).await;
    let id = action["id"].as_str().unwrap().to_string();
    let doc = action["documents"][0]["id"].as_str().unwrap().to_string();

    w.server.crash_and_restart();
    let partner = &w.partner;
    let (s, v) = partner
        .send(
            partner
                .http
                .get(format!("{}/v1/documents/{doc}", partner.url)),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(partner.status(&id).await, "pending");
    // the app keeps working with the restarted service
    let pending = device.pending(10).await.unwrap();
    assert_eq!(pending.len(), 1);
    device
        .confirm(&id, action["icon"].as_str().unwrap(), CODE)
        .await
        .unwrap();
    let done = partner.wait_end(&id).await;
    assert_eq!(done["status"], "signed", "{done}");

    // a TSA outage after the confirmation, then kill -9 while finalizing: still signed later
    let action = partner.action_for(ALICE).await;
    let id = action["id"].as_str().unwrap().to_string();
    w.server.tsa_available(false).await;
    device.pending(10).await.unwrap();
    let outcome = device
        .confirm(&id, action["icon"].as_str().unwrap(), CODE)
        .await
        .unwrap();
    assert_eq!(outcome, app::ConfirmOutcome::Finalizing);
    let (_, v) = partner.action(&id).await;
    assert_eq!(v["status"], "finalizing", "{v}");
    assert!(
        v["reason"].as_str().unwrap_or("").contains("time-stamp"),
        "{v}"
    );
    w.server.crash_and_restart();
    let done = partner.wait_end(&id).await;
    assert_eq!(done["status"], "signed", "{done}");
    let href = done["documents"][0]["signed"]["href"].as_str().unwrap();
    let (s, bytes, _) = partner.download(href).await;
    assert_eq!(s, 200);
    let path = w.dir.path().join("after-crash.signed.pdf");
    std::fs::write(&path, bytes).unwrap();
    let run = verify::run_json(&w.server.root(), &[path.as_path()]).unwrap();
    let sigs = run.signatures().unwrap();
    assert_eq!(sigs.last().unwrap().indication, "TOTAL-PASSED", "{sigs:?}");
}

/// Accepts one HTTP request on a local port; returns (headers, body).
fn one_request(listener: std::net::TcpListener) -> std::thread::JoinHandle<(String, Vec<u8>)> {
    std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let n = s.read(&mut chunk).unwrap();
            buf.extend_from_slice(&chunk[..n]);
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..end]).to_string();
                let len: usize = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse().unwrap())
                    })
                    .unwrap_or(0);
                while buf.len() < end + 4 + len {
                    let n = s.read(&mut chunk).unwrap();
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                s.write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
                    .unwrap();
                return (head, buf[end + 4..end + 4 + len].to_vec());
            }
            if n == 0 {
                panic!("connection closed before the headers ended");
            }
        }
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn the_partner_hears_the_end_by_signed_webhook() {
    let w = world();
    let raw = RawDevice::enroll(&w.server, ALICE).await;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let hook = format!("http://{}/hook", listener.local_addr().unwrap());
    let received = one_request(listener);
    let doc = w
        .partner
        .upload(sample("contract.pdf"), "contract.pdf")
        .await;
    let (s, action) = w
        .partner
        .create(json!({"user": {"phone": ALICE}, "documents": [doc], "callback_url": hook}))
        .await;
    assert_eq!(s, 201, "{action}");
    let id = action["id"].as_str().unwrap();
    raw.pending().await;
    assert_eq!(raw.refuse(id).await.0, 200);
    let (head, body) = tokio::task::spawn_blocking(move || received.join().unwrap())
        .await
        .unwrap();
    let event: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(event["action_id"], id);
    assert_eq!(event["status"], "refused");
    let signature = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .starts_with("x-signature:")
                .then(|| l[12..].trim().to_string())
        })
        .expect("X-Signature header");
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, w.partner.webhook_secret.as_bytes());
    assert_eq!(
        signature,
        format!("sha256={}", hex(ring::hmac::sign(&key, &body).as_ref()))
    );
}
