//! The partner's callback: when an action ends, a JSON event is POSTed to its
//! `callback_url`, signed with HMAC-SHA256 under the partner's webhook secret
//! (`X-Signature: sha256=<hex>` over the exact body bytes). Deliveries are queued in the
//! database and retried with backoff (up to [`MAX_ATTEMPTS`]), so a restart loses none.

use std::sync::Arc;
use std::time::Duration;

use ring::hmac;

use crate::clock::rfc3339;
use crate::service::Service;

/// The signature header.
pub const SIGNATURE_HEADER: &str = "X-Signature";
/// Attempts before a delivery is abandoned.
pub const MAX_ATTEMPTS: u32 = 10;

/// `sha256=<hex HMAC-SHA256(secret, body)>`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    format!("sha256={}", hex::encode(hmac::sign(&key, body).as_ref()))
}

/// Called once an action reached an end state: wakes waiters and queues the partner's
/// event. Failures are logged (the status endpoint still tells the partner).
pub async fn action_ended(svc: &Service, id: &str) {
    svc.changed();
    let aid = id.to_string();
    let now = svc.now();
    let result = svc
        .db(move |s| {
            let Some(a) = s.action(&aid)? else {
                return Ok(());
            };
            let Some(url) = &a.callback_url else {
                return Ok(());
            };
            let body = serde_json::json!({
                "event": "sign_action.ended",
                "action_id": a.id,
                "status": a.status,
                "reason": a.reason,
                "ended_at": a.ended_at.map(rfc3339),
            })
            .to_string();
            s.enqueue_webhook(&a.id, url, &body, now)
        })
        .await;
    if let Err(e) = result {
        tracing::error!(action = %id, error = %e, "cannot queue the webhook");
    }
}

fn retry_delay(attempts: u32) -> Duration {
    Duration::from_secs(5u64.saturating_mul(1 << attempts.min(10))).min(Duration::from_secs(3600))
}

/// Delivers due webhooks until `stop` fires.
pub async fn delivery_loop(svc: Arc<Service>, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        let now = svc.now();
        match svc.db(move |s| s.due_webhooks(now)).await {
            Ok(due) => {
                for d in due {
                    let partner = {
                        let aid = d.action_id.clone();
                        svc.db(move |s| {
                            let Some(a) = s.action(&aid)? else {
                                return Ok(None);
                            };
                            s.partner(&a.partner_id)
                        })
                        .await
                    };
                    let secret = match partner {
                        Ok(Some(p)) => p.webhook_secret,
                        _ => String::new(),
                    };
                    let result = svc
                        .http
                        .post(&d.url)
                        .header(reqwest::header::CONTENT_TYPE, "application/json")
                        .header(SIGNATURE_HEADER, signature(&secret, d.body.as_bytes()))
                        .body(d.body.clone())
                        .send()
                        .await;
                    let error = match result {
                        Ok(r) if r.status().is_success() => None,
                        Ok(r) => Some(format!("HTTP {}", r.status().as_u16())),
                        Err(e) => Some(e.to_string()),
                    };
                    let now = svc.now();
                    let retry_at = match &error {
                        None => None,
                        Some(_) if d.attempts + 1 >= MAX_ATTEMPTS => None,
                        Some(_) => Some(
                            now + time::Duration::try_from(retry_delay(d.attempts))
                                .unwrap_or(time::Duration::HOUR),
                        ),
                    };
                    if let Some(e) = &error {
                        tracing::warn!(action = %d.action_id, url = %d.url, error = %e, attempts = d.attempts + 1, "webhook delivery failed");
                    }
                    let id = d.id;
                    if let Err(e) = svc
                        .db(move |s| s.webhook_attempted(id, now, retry_at, error.as_deref()))
                        .await
                    {
                        tracing::error!(error = %e, "cannot record a webhook attempt");
                    }
                }
            }
            Err(e) => tracing::error!(error = %e, "cannot list due webhooks"),
        }
        tokio::select! {
            _ = stop.changed() => return,
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc4231_case_2() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?"
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn delays_grow() {
        assert_eq!(retry_delay(0), Duration::from_secs(5));
        assert_eq!(retry_delay(1), Duration::from_secs(10));
        assert_eq!(retry_delay(20), Duration::from_secs(3600));
    }
}
