//! The app's action handlers and the extractor that authenticates the device.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{FromRequest, Path, Request, State as AxumState};
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;

use super::extract::parse_json;
use crate::actions::{self, AnswerOutcome, AppAction, ConfirmRequest, RefuseRequest};
use crate::device_auth::{self, DeviceHeaders, DEVICE_ID, DEVICE_SIGNATURE, DEVICE_TIME};
use crate::error::ApiError;
use crate::service::State;
use crate::store::Device;

/// Longest long poll.
pub const MAX_WAIT: Duration = Duration::from_secs(30);

/// An authenticated device request with its body.
#[derive(Debug)]
pub struct DeviceRequest {
    /// The device.
    pub device: Device,
    /// The query string.
    pub query: Option<String>,
    /// The body (already hashed into the signature check).
    pub body: Bytes,
}

impl FromRequest<State> for DeviceRequest {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &State) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        let header = |name: &str| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
                .ok_or_else(|| {
                    ApiError::unauthorized(format!(
                        "device requests carry X-Device-Id, X-Device-Time and X-Device-Signature ({name} is missing)"
                    ))
                })
        };
        let headers = DeviceHeaders {
            device_id: header(DEVICE_ID)?,
            time: header(DEVICE_TIME)?,
            signature: header(DEVICE_SIGNATURE)?,
        };
        let limit = state.config.max_json_bytes;
        let body = axum::body::to_bytes(body, limit)
            .await
            .map_err(|_| ApiError::too_large(format!("bodies are limited to {limit} bytes")))?;
        let path_and_query = parts
            .uri
            .path_and_query()
            .map_or_else(|| parts.uri.path().to_string(), |p| p.as_str().to_string());
        let device = device_auth::authenticate(
            state,
            parts.method.as_str(),
            &path_and_query,
            headers,
            &body,
        )
        .await?;
        Ok(Self {
            device,
            query: parts.uri.query().map(str::to_string),
            body,
        })
    }
}

/// `{"actions": [...]}`.
#[derive(Debug, Serialize)]
pub struct ActionList {
    /// The device's pending actions.
    pub actions: Vec<AppAction>,
}

/// The `wait` query parameter, in whole seconds, at most [`MAX_WAIT`].
fn wait_param(query: Option<&str>) -> Result<Duration, ApiError> {
    let Some(q) = query else {
        return Ok(Duration::ZERO);
    };
    for pair in q.split('&') {
        if let Some(v) = pair.strip_prefix("wait=") {
            let secs: u64 = v
                .parse()
                .map_err(|_| ApiError::bad_request("wait: a whole number of seconds"))?;
            return Ok(Duration::from_secs(secs).min(MAX_WAIT));
        }
    }
    Ok(Duration::ZERO)
}

/// `GET /v1/app/actions?wait=SECONDS`.
pub async fn list_actions(
    AxumState(svc): AxumState<State>,
    req: DeviceRequest,
) -> Result<Json<ActionList>, ApiError> {
    let wait = wait_param(req.query.as_deref())?;
    let actions = actions::pending(&svc, &req.device, wait).await?;
    Ok(Json(ActionList { actions }))
}

/// `POST /v1/app/actions/{id}/confirm`.
pub async fn confirm(
    AxumState(svc): AxumState<State>,
    Path(id): Path<String>,
    req: DeviceRequest,
) -> Result<(StatusCode, Json<AnswerOutcome>), ApiError> {
    let body: ConfirmRequest = parse_json(&req.body)?;
    let (status, outcome) = actions::confirm(&svc, &req.device, &id, body).await?;
    Ok((status, Json(outcome)))
}

/// `POST /v1/app/actions/{id}/refuse`.
pub async fn refuse(
    AxumState(svc): AxumState<State>,
    Path(id): Path<String>,
    req: DeviceRequest,
) -> Result<Json<AnswerOutcome>, ApiError> {
    let body: RefuseRequest = if req.body.iter().all(u8::is_ascii_whitespace) {
        RefuseRequest::default()
    } else {
        parse_json(&req.body)?
    };
    Ok(Json(actions::refuse(&svc, &req.device, &id, body).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_parameter() {
        assert_eq!(wait_param(None).unwrap(), Duration::ZERO);
        assert_eq!(wait_param(Some("wait=5")).unwrap(), Duration::from_secs(5));
        assert_eq!(wait_param(Some("x=1&wait=999")).unwrap(), MAX_WAIT);
        assert!(wait_param(Some("wait=-1")).is_err());
    }
}
