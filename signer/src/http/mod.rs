//! The HTTP front: the partner API, the app API, the OpenAPI document, and (behind
//! `--test-hooks` only) the test hooks. Handlers are thin: extract, call the plain-Rust
//! operation, map the result.
//!
//! [`ROUTES`] lists every public route; [`app`] mounts exactly those, and a test checks
//! them against `openapi.json`.

pub mod device;
pub mod enrollment;
pub mod extract;
pub mod openapi;
pub mod partner;
pub mod test_hooks;

use std::time::Duration;

use axum::error_handling::HandleErrorLayer;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::{middleware, Json, Router};
use tower::ServiceBuilder;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::error::ApiError;
use crate::service::State;

/// A public route: method and path (axum and OpenAPI share the `{param}` syntax).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Route {
    /// HTTP method, upper case.
    pub method: &'static str,
    /// Path template.
    pub path: &'static str,
}

const fn route(method: &'static str, path: &'static str) -> Route {
    Route { method, path }
}

/// Every public route.
pub const ROUTES: &[Route] = &[
    route("GET", "/health"),
    route("GET", "/openapi.json"),
    route("POST", "/v1/documents"),
    route("GET", "/v1/documents/{id}"),
    route("POST", "/v1/sign-actions"),
    route("GET", "/v1/sign-actions/{id}"),
    route("GET", "/v1/sign-actions/{id}/documents/{document_id}"),
    route("POST", "/v1/app/enrollments"),
    route("POST", "/v1/app/enrollments/{id}/complete"),
    route("GET", "/v1/app/actions"),
    route("POST", "/v1/app/actions/{id}/confirm"),
    route("POST", "/v1/app/actions/{id}/refuse"),
];

fn handler(r: &Route) -> MethodRouter<State> {
    match (r.method, r.path) {
        ("GET", "/health") => get(health),
        ("GET", "/openapi.json") => get(openapi::document),
        // uploads stream past the JSON limit; `documents::upload` enforces its own
        ("POST", "/v1/documents") => post(partner::upload).layer(DefaultBodyLimit::disable()),
        ("GET", "/v1/documents/{id}") => get(partner::get_document),
        ("POST", "/v1/sign-actions") => post(partner::create_action),
        ("GET", "/v1/sign-actions/{id}") => get(partner::get_action),
        ("GET", "/v1/sign-actions/{id}/documents/{document_id}") => {
            get(partner::get_signed_document)
        }
        ("POST", "/v1/app/enrollments") => post(enrollment::start),
        ("POST", "/v1/app/enrollments/{id}/complete") => post(enrollment::complete),
        ("GET", "/v1/app/actions") => get(device::list_actions),
        ("POST", "/v1/app/actions/{id}/confirm") => post(device::confirm),
        ("POST", "/v1/app/actions/{id}/refuse") => post(device::refuse),
        _ => {
            tracing::error!(method = r.method, path = r.path, "route without a handler");
            get(no_route)
        }
    }
}

/// The router with every layer, without a listener (tests drive it with `oneshot`).
pub fn app(svc: State) -> Router {
    let config = &svc.config;
    let mut router = Router::new();
    for r in ROUTES {
        router = router.route(r.path, handler(r));
    }
    if config.test_hooks {
        router = router
            .route("/v1/test/clock", post(test_hooks::advance_clock))
            .route("/v1/test/tsa", post(test_hooks::switch_tsa));
    }
    router
        .fallback(no_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(config.max_json_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            config.request_timeout,
        ))
        .layer(middleware::map_response(json_errors))
        .layer(
            ServiceBuilder::new()
                .layer(HandleErrorLayer::new(|_: tower::BoxError| async {
                    ApiError::unavailable("the service is overloaded; try again shortly")
                }))
                .load_shed()
                .concurrency_limit(config.max_concurrent_requests),
        )
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let matched = req
                .extensions()
                .get::<MatchedPath>()
                .map_or("-", MatchedPath::as_str);
            tracing::info_span!("request", method = %req.method(), route = matched)
        }))
        .with_state(svc)
}

async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({"status": "ok"}))
}

async fn no_route() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this endpoint does not take that method",
    )
}

/// The stable code for an error status that carries no JSON of ours.
fn code_for(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "bad_request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        408 => "timeout",
        409 => "conflict",
        410 => "expired",
        413 => "too_large",
        415 => "unsupported_media_type",
        422 => "unprocessable",
        423 => "locked",
        429 => "too_many_requests",
        503 => "unavailable",
        _ if status.is_server_error() => "internal",
        _ => "error",
    }
}

/// Turns error responses made by layers and axum's own rejections (plain text or empty)
/// into the JSON error shape.
async fn json_errors(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return response;
    }
    let text = axum::body::to_bytes(response.into_body(), 4096)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let message = if text.is_empty() {
        status
            .canonical_reason()
            .unwrap_or("request failed")
            .to_string()
    } else {
        text
    };
    ApiError::new(status, code_for(status), message).into_response()
}

/// How long `signer serve` waits for open requests after a shutdown signal.
pub const SHUTDOWN_DRAIN: Duration = Duration::from_secs(10);
