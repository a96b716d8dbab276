//! Test hooks, mounted only with `signer serve --test-hooks`: move the service's clock
//! forward (to expire actions without waiting) and switch the embedded TSA off and on (to
//! test that a confirmed action survives a TSA outage). Never enable them in production.

use axum::extract::State as AxumState;
use axum::Json;
use serde::Deserialize;

use super::extract::ApiJson;
use crate::clock::rfc3339;
use crate::error::ApiError;
use crate::service::State;

/// `POST /v1/test/clock` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdvanceClock {
    /// Seconds to move the clock forward.
    pub advance_seconds: i64,
}

/// `POST /v1/test/clock`: returns the new time.
pub async fn advance_clock(
    AxumState(svc): AxumState<State>,
    ApiJson(req): ApiJson<AdvanceClock>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let clock = svc
        .test_clock
        .as_ref()
        .ok_or_else(|| ApiError::not_found("test hook"))?;
    clock.advance(time::Duration::seconds(req.advance_seconds));
    crate::actions::sweep_expired(&svc).await?;
    Ok(Json(serde_json::json!({ "now": rfc3339(svc.now()) })))
}

/// `POST /v1/test/tsa` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SwitchTsa {
    /// Whether the embedded TSA answers.
    pub available: bool,
}

/// `POST /v1/test/tsa`.
pub async fn switch_tsa(
    AxumState(svc): AxumState<State>,
    ApiJson(req): ApiJson<SwitchTsa>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let tsa = svc
        .embedded_tsa
        .as_ref()
        .ok_or_else(|| ApiError::not_found("embedded TSA"))?;
    tsa.set_available(req.available);
    if req.available {
        // finish what waited for the TSA now, not at the next backoff
        let now = svc.now();
        let ids = svc
            .db(move |s| s.due_finalizations(now + time::Duration::hours(1)))
            .await?;
        for id in ids {
            crate::finalize::finalize(svc.clone(), id).await;
        }
    }
    Ok(Json(serde_json::json!({ "available": req.available })))
}
