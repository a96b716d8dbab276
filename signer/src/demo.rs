//! `signer demo`: the whole flow in one command, in seconds.
//!
//! Starts the service in process on a free port with a throw-away data directory, enrolls
//! a simulated phone app for a vouched person, uploads the PDFs as a partner, creates one
//! sign action for all of them, shows the icon the partner's page would show, lets the
//! simulated person pick it and enter the personal code, downloads each signed PDF as
//! `OUT/<name>.signed.pdf` with the trust anchor `OUT/root.pem` beside them, and runs the
//! verifier on every output.
//!
//! A file that cannot be signed is reported with the reason, nothing is written for it,
//! and the demo exits non-zero (after signing the others).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use serde_json::{json, Value};

use crate::admin;
use crate::config::Config;
use crate::domain::person::Person;
use crate::sms::OUTBOX_FILE;

/// The sample contract, for a demo run outside the repository.
const SAMPLE_CONTRACT: &[u8] = include_bytes!("../../samples/contract.pdf");
/// The sample general terms (20 pages), signed in the same action.
const SAMPLE_TERMS: &[u8] = include_bytes!("../../samples/terms.pdf");

/// The simulated person.
const PHONE: &str = "+32470000001";
/// Their personal code (known only to the simulated phone).
const PERSONAL_CODE: &str = "73914";

/// An input file: its name and bytes, or why it could not be read.
struct Input {
    name: String,
    bytes: Result<Vec<u8>, String>,
}

fn default_inputs() -> Vec<Input> {
    let dir = Path::new("samples");
    [
        ("contract.pdf", SAMPLE_CONTRACT),
        ("terms.pdf", SAMPLE_TERMS),
    ]
    .into_iter()
    .map(|(name, embedded)| Input {
        name: name.to_string(),
        bytes: Ok(std::fs::read(dir.join(name)).unwrap_or_else(|_| embedded.to_vec())),
    })
    .collect()
}

fn read_inputs(files: &[PathBuf]) -> Vec<Input> {
    if files.is_empty() {
        return default_inputs();
    }
    files
        .iter()
        .map(|f| Input {
            name: f.file_name().map_or_else(
                || "document.pdf".into(),
                |n| n.to_string_lossy().into_owned(),
            ),
            bytes: std::fs::read(f).map_err(|e| format!("cannot read {}: {e}", f.display())),
        })
        .collect()
}

/// `contract.pdf` → `contract.signed.pdf`.
fn output_name(name: &str) -> String {
    crate::http::partner::signed_name(name)
}

/// A partner's HTTP calls.
struct Partner {
    http: reqwest::Client,
    url: String,
    key: String,
}

impl Partner {
    async fn call(&self, req: reqwest::RequestBuilder) -> anyhow::Result<(u16, Value)> {
        let r = req.bearer_auth(&self.key).send().await?;
        let status = r.status().as_u16();
        let body = r.bytes().await?;
        let value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        Ok((status, value))
    }

    async fn upload(&self, input: &Input) -> anyhow::Result<Result<Value, String>> {
        let bytes = match &input.bytes {
            Ok(b) => b.clone(),
            Err(reason) => return Ok(Err(reason.clone())),
        };
        let (status, v) = self
            .call(
                self.http
                    .post(format!("{}/v1/documents", self.url))
                    .query(&[("name", &input.name)])
                    .header(reqwest::header::CONTENT_TYPE, "application/pdf")
                    .body(bytes),
            )
            .await?;
        Ok(if status == 201 {
            Ok(v)
        } else {
            Err(v["message"]
                .as_str()
                .unwrap_or("upload refused")
                .to_string())
        })
    }
}

fn message_of(v: &Value) -> String {
    v["message"].as_str().unwrap_or("refused").to_string()
}

/// Runs the demo; `Ok(true)` when every input was signed and every output verified.
///
/// # Errors
/// When the demo itself cannot run (no service, no app, I/O on `out`).
pub async fn run(out: &Path, files: &[PathBuf]) -> anyhow::Result<bool> {
    let started = Instant::now();
    let inputs = read_inputs(files);
    let work = tempfile::tempdir().context("cannot create a temporary directory")?;
    let data = work.path().join("service");
    let phone_dir = work.path().join("phone");

    let mut config = Config::new(SocketAddr::from(([127, 0, 0, 1], 0)), data.clone());
    config.finalize_wait = Duration::from_secs(30);
    let running = crate::server::start(config)
        .await
        .context("cannot start the service")?;
    let url = running.url();
    println!("service      {url} (data in a temporary directory)");
    let result = drive(&running, &url, &data, &phone_dir, out, &inputs).await;
    running.shutdown(Duration::from_secs(5)).await;
    let ok = result?;
    println!("done in {:.1} s", started.elapsed().as_secs_f64());
    Ok(ok)
}

async fn drive(
    running: &crate::server::Running,
    url: &str,
    data: &Path,
    phone_dir: &Path,
    out: &Path,
    inputs: &[Input],
) -> anyhow::Result<bool> {
    let svc = running.service.clone();
    let now = svc.now();
    let person = Person {
        phone: PHONE.into(),
        given_name: "Alice".into(),
        surname: "Martin".into(),
        national_number: "90010112345".into(),
    };
    let store = svc.store.clone();
    let partner = tokio::task::spawn_blocking(move || {
        admin::vouch(&*store, &person, now)?;
        admin::create_partner(&*store, "Notary Dupont", now)
    })
    .await??;
    println!("partner      {} (API key issued)", partner.name);

    let outbox = data.join(OUTBOX_FILE);
    let device = app::Device::enroll(
        phone_dir,
        url,
        PHONE,
        || app::sms::code_from_outbox(&outbox, PHONE),
        PERSONAL_CODE,
    )
    .await
    .context("the simulated app could not enroll")?;
    println!("app          enrolled {PHONE} (Alice Martin), certificate from the service's CA");

    let partner = Partner {
        http: reqwest::Client::new(),
        url: url.to_string(),
        key: partner.api_key,
    };
    let mut all_ok = true;
    let mut uploaded: Vec<(String, String)> = Vec::new(); // (document id, name)
    for input in inputs {
        match partner.upload(input).await? {
            Ok(v) => {
                let id = v["id"]
                    .as_str()
                    .ok_or_else(|| anyhow!("upload without id"))?;
                println!(
                    "uploaded     {} ({} bytes, {} page(s), sha256 {}…)",
                    input.name,
                    v["size"],
                    v["pages"],
                    v["sha256"].as_str().unwrap_or("").get(..16).unwrap_or("")
                );
                uploaded.push((id.to_string(), input.name.clone()));
            }
            Err(reason) => {
                all_ok = false;
                println!("NOT SIGNED   {}: {reason}", input.name);
            }
        }
    }
    if uploaded.is_empty() {
        println!("nothing to sign");
        return Ok(false);
    }

    // one action for every document; a document the service cannot prepare is reported
    // and left out
    let action = loop {
        let ids: Vec<&str> = uploaded.iter().map(|(id, _)| id.as_str()).collect();
        let (status, v) = partner
            .call(
                partner
                    .http
                    .post(format!("{url}/v1/sign-actions"))
                    .json(&json!({
                        "user": {"phone": PHONE},
                        "documents": ids,
                        "level": "B-T",
                        "message": "Sale agreement, please sign",
                    })),
            )
            .await?;
        if status == 201 {
            break v;
        }
        let msg = message_of(&v);
        let culprit = uploaded
            .iter()
            .position(|(_, name)| msg.starts_with(&format!("{name}:")));
        match culprit {
            Some(i) if status == 422 => {
                let (_, name) = uploaded.remove(i);
                all_ok = false;
                println!("NOT SIGNED   {msg}");
                let _ = name;
                if uploaded.is_empty() {
                    return Ok(false);
                }
            }
            _ => bail!("the service refused the sign action: {msg}"),
        }
    };
    let action_id = action["id"]
        .as_str()
        .ok_or_else(|| anyhow!("sign action without id"))?
        .to_string();
    let icon = action["icon"].as_str().unwrap_or_default().to_string();
    println!(
        "sign action  {action_id}: {} document(s), expires {}",
        uploaded.len(),
        action["expires_at"].as_str().unwrap_or("?")
    );
    println!("partner page shows the icon: [{icon}]");

    let pending = device.pending(10).await?;
    let shown = pending
        .iter()
        .find(|a| a.id == action_id)
        .ok_or_else(|| anyhow!("the app did not receive the sign action"))?;
    println!(
        "app shows    {} asks: \"{}\"; icons: {}",
        shown.partner,
        shown.message,
        shown.icons.join(", ")
    );
    for d in &shown.documents {
        println!(
            "             {} ({} page(s)), sha256 {}…, digest to sign {}…",
            d.name,
            d.pages,
            d.sha256.get(..16).unwrap_or(""),
            d.document_digest.get(..16).unwrap_or("")
        );
    }
    device.check_action(shown)?;
    println!("person picks [{icon}] and enters the personal code");
    let outcome = device.confirm(&action_id, &icon, PERSONAL_CODE).await?;
    println!("app          confirmed ({outcome:?})");

    // wait for the signed documents
    let deadline = Instant::now() + Duration::from_secs(60);
    let final_view = loop {
        let (_, v) = partner
            .call(
                partner
                    .http
                    .get(format!("{url}/v1/sign-actions/{action_id}")),
            )
            .await?;
        match v["status"].as_str() {
            Some("signed") => break v,
            Some("finalizing") if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            other => bail!(
                "the sign action ended {}: {}",
                other.unwrap_or("?"),
                v["reason"].as_str().unwrap_or("")
            ),
        }
    };

    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let root_out = out.join(crate::ca::ROOT_FILE);
    std::fs::copy(&svc.ca.root_path, &root_out)
        .with_context(|| format!("cannot write {}", root_out.display()))?;
    let mut options = verifier::Options::default();
    options.trust.push(svc.ca.root.certificate.clone());
    for d in final_view["documents"].as_array().into_iter().flatten() {
        let name = d["name"].as_str().unwrap_or("document.pdf");
        let href = d["signed"]["href"]
            .as_str()
            .ok_or_else(|| anyhow!("{name}: no signed document"))?;
        let r = partner
            .http
            .get(format!("{url}{href}"))
            .bearer_auth(&partner.key)
            .send()
            .await?;
        if !r.status().is_success() {
            bail!("{name}: download failed with HTTP {}", r.status());
        }
        let bytes = r.bytes().await?;
        let path = out.join(output_name(name));
        std::fs::write(&path, &bytes)
            .with_context(|| format!("cannot write {}", path.display()))?;
        let report = {
            let path = path.clone();
            let options = options.clone();
            tokio::task::spawn_blocking(move || verifier::verify_path(&path, &options)).await?
        };
        let ours = report
            .signatures
            .iter()
            .rev()
            .find(|s| s.kind == verifier::SignatureKind::Signature);
        match ours {
            Some(s) => {
                let level = serde_json::to_value(s.level)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_else(|| "?".into());
                let sub = s
                    .sub_indication
                    .and_then(|x| serde_json::to_value(x).ok())
                    .and_then(|v| v.as_str().map(|t| format!("/{t}")))
                    .unwrap_or_default();
                println!(
                    "wrote        {} ({} bytes, {} signature(s)) — verify: {}{sub}, {level}, signer {}",
                    path.display(),
                    bytes.len(),
                    report.signatures.len(),
                    s.indication.as_str(),
                    s.signer.as_deref().unwrap_or("?"),
                );
                if s.indication != verifier::Indication::TotalPassed {
                    all_ok = false;
                    for e in &s.errors {
                        println!("             error: {e}");
                    }
                }
            }
            None => {
                all_ok = false;
                println!(
                    "wrote        {} — verify found no signature: {}",
                    path.display(),
                    report.error.as_deref().unwrap_or("?")
                );
            }
        }
    }
    println!("trust anchor {}", root_out.display());
    println!(
        "check        verify --trust {} {}",
        root_out.display(),
        out.join("*.signed.pdf").display()
    );
    Ok(all_ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_defaults() {
        assert_eq!(output_name("contract.pdf"), "contract.signed.pdf");
        let d = default_inputs();
        assert_eq!(d.len(), 2);
        assert!(d
            .iter()
            .all(|i| i.bytes.as_ref().unwrap().starts_with(b"%PDF-")));
    }
}
