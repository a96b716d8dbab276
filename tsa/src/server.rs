//! The HTTP front (RFC 3161 §3.4): `POST /` with `application/timestamp-query` answers
//! `application/timestamp-reply`; `GET /health` answers JSON.
//!
//! HTTP errors that are not RFC 3161 replies (wrong content type 415, body too large 413,
//! unknown route 404, wrong method 405, timeout 408) carry a JSON body
//! `{"error": CODE, "message": TEXT}`. A malformed or refused request is not an HTTP error:
//! it gets a `rejection` reply with status 200. Only a failure of the TSA itself answers 500
//! (with a `systemFailure` reply).

use std::{future::Future, io, sync::Arc, time::Duration};

use axum::{
    body::Bytes,
    extract::{DefaultBodyLimit, FromRequest, Request, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    serve::ListenerExt,
    Json, Router,
};
use serde_json::json;
use tokio::net::TcpListener;
use tower_http::timeout::TimeoutLayer;

use crate::authority::{Outcome, TimeStampAuthority};

/// RFC 3161 §3.4 request media type.
pub const QUERY_MEDIA_TYPE: &str = "application/timestamp-query";
/// RFC 3161 §3.4 reply media type.
pub const REPLY_MEDIA_TYPE: &str = "application/timestamp-reply";

/// Limits of the HTTP front.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct Limits {
    /// Largest request body, in bytes (413 beyond).
    pub max_request_bytes: usize,
    /// Longest time a request may take, reading the body included (408 beyond).
    pub request_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_request_bytes: crate::config::DEFAULT_MAX_REQUEST_BYTES,
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// Shared state of the handlers.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The authority that answers.
    pub authority: Arc<TimeStampAuthority>,
}

/// The router, without a listener (tests drive it with `oneshot`).
pub fn app(state: AppState, limits: Limits) -> Router {
    Router::new()
        .route("/", post(timestamp))
        .route("/health", get(health))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(limits.max_request_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            limits.request_timeout,
        ))
        .with_state(state)
}

/// Serves `state` on `listener` until `shutdown` completes, then drains the open requests
/// and closes the token log.
///
/// # Errors
/// The listener's I/O error.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let authority = state.authority.clone();
    let listener = listener.tap_io(|stream| {
        // Replies are one small write; do not let Nagle hold them back.
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "TCP_NODELAY not set");
        }
    });
    let result = axum::serve(listener, app(state, limits))
        .with_graceful_shutdown(shutdown)
        .await;
    authority.close();
    result
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: draining open requests");
}

async fn timestamp(State(state): State<AppState>, request: Request) -> Response {
    if !is_timestamp_query(request.headers()) {
        tracing::debug!(status = 415, "request with wrong content type");
        return api_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send a DER TimeStampReq with Content-Type: application/timestamp-query",
        );
    }
    let body = match Bytes::from_request(request, &state).await {
        Ok(body) => body,
        Err(rejection) => {
            let status = rejection.status();
            tracing::debug!(status = status.as_u16(), "request body refused");
            return if status == StatusCode::PAYLOAD_TOO_LARGE {
                api_error(
                    status,
                    "payload_too_large",
                    "a TimeStampReq is a few hundred bytes; this body is over the limit",
                )
            } else {
                api_error(status, "bad_body", &rejection.body_text())
            };
        }
    };
    let reply = state.authority.respond(&body).await;
    let status = match &reply.outcome {
        Outcome::Granted { serial } => {
            tracing::debug!(serial, status = "granted", "time-stamp request");
            StatusCode::OK
        }
        Outcome::Rejected(rejection) => {
            tracing::debug!(
                status = "rejection",
                fail_info = %rejection.failure_info(),
                reason = %rejection,
                "time-stamp request"
            );
            StatusCode::OK
        }
        Outcome::Failed(failure) => {
            tracing::error!(error = %failure, "time-stamp request failed");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    };
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(REPLY_MEDIA_TYPE),
        )],
        reply.der,
    )
        .into_response()
}

/// Content-Type is application/timestamp-query (parameters and case ignored).
fn is_timestamp_query(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case(QUERY_MEDIA_TYPE))
}

async fn health(State(state): State<AppState>) -> Response {
    Json(json!({
        "status": "ok",
        "policy": state.authority.policy().to_string(),
    }))
    .into_response()
}

async fn not_found() -> Response {
    api_error(
        StatusCode::NOT_FOUND,
        "not_found",
        "POST time-stamp requests to /; GET /health",
    )
}

async fn method_not_allowed() -> Response {
    api_error(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "POST time-stamp requests to /; GET /health",
    )
}

fn api_error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({ "error": code, "message": message }))).into_response()
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use tower::ServiceExt;

    use super::*;
    use crate::{
        authority::SystemClock,
        config::DEFAULT_POLICY,
        dev_chain,
        issue::{IssuerOptions, TokenIssuer},
        request::{encode_request, ImprintAlgorithm},
        response::{FailureInfo, PkiStatus, TimeStampResp},
        store::{Store, StoreOptions},
    };

    fn state(dir: &std::path::Path) -> AppState {
        let chain = dev_chain::generate().unwrap();
        let issuer = TokenIssuer::new(chain.identity, IssuerOptions::new(DEFAULT_POLICY)).unwrap();
        let store = Store::open(&dir.join("t.sqlite"), StoreOptions::default()).unwrap();
        AppState {
            authority: Arc::new(TimeStampAuthority::new(
                issuer,
                store,
                Arc::new(SystemClock),
            )),
        }
    }

    async fn post(app: Router, content_type: &str, body: Vec<u8>) -> (StatusCode, Vec<u8>) {
        let response = app
            .oneshot(
                Request::post("/")
                    .header(header::CONTENT_TYPE, content_type)
                    .body(Body::from(body))
                    .unwrap(),
            )
            .await
            .unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, bytes.to_vec())
    }

    #[tokio::test]
    async fn granted_and_rejected_replies() {
        let dir = tempfile::tempdir().unwrap();
        let app = app(state(dir.path()), Limits::default());
        let req = encode_request(ImprintAlgorithm::Sha256, &[1; 32], None, None, true).unwrap();
        let (status, body) = post(app.clone(), QUERY_MEDIA_TYPE, req).await;
        assert_eq!(status, StatusCode::OK);
        let resp = TimeStampResp::from_der_bytes(&body).unwrap();
        assert_eq!(resp.status.status(), PkiStatus::Granted);
        assert!(resp.time_stamp_token.is_some());

        let (status, body) = post(
            app.clone(),
            "Application/TimeStamp-Query; x=1",
            b"junk".to_vec(),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let resp = TimeStampResp::from_der_bytes(&body).unwrap();
        assert_eq!(resp.status.failures(), vec![FailureInfo::BadDataFormat]);
    }

    #[tokio::test]
    async fn http_errors_are_json() {
        let dir = tempfile::tempdir().unwrap();
        let app = app(state(dir.path()), Limits::default());
        let (status, body) = post(app.clone(), "application/octet-stream", vec![0x30, 0]).await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["error"], "unsupported_media_type");

        let (status, body) = post(app.clone(), QUERY_MEDIA_TYPE, vec![0; 100_000]).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["error"], "payload_too_large");

        let response = app
            .clone()
            .oneshot(Request::get("/").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        let response = app
            .clone()
            .oneshot(Request::get("/nope").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        let response = app
            .oneshot(Request::get("/health").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
}
