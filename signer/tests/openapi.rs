//! `openapi.json` and the router stay in step: every route is documented, every documented
//! operation is mounted, and each answers through its handler (not the fallback).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::net::SocketAddr;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::Value;
use signer::config::Config;
use signer::http::{app, openapi::OPENAPI_JSON, ROUTES};
use signer::service::Service;
use tower::ServiceExt;

fn documented() -> BTreeSet<(String, String)> {
    let doc: Value = serde_json::from_str(OPENAPI_JSON).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            assert!(
                op["operationId"].is_string(),
                "{method} {path} has no operationId"
            );
            assert!(
                op["responses"].is_object(),
                "{method} {path} has no responses"
            );
            ops.insert((method.to_uppercase(), path.clone()));
        }
    }
    ops
}

#[test]
fn routes_and_document_list_the_same_operations() {
    let mounted: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|r| (r.method.to_string(), r.path.to_string()))
        .collect();
    let documented = documented();
    let undocumented: Vec<_> = mounted.difference(&documented).collect();
    let unmounted: Vec<_> = documented.difference(&mounted).collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from openapi.json: {undocumented:?}"
    );
    assert!(
        unmounted.is_empty(),
        "openapi.json operations not mounted: {unmounted:?}"
    );
}

#[test]
fn every_schema_reference_resolves() {
    let doc: Value = serde_json::from_str(OPENAPI_JSON).unwrap();
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let text = OPENAPI_JSON;
    for part in text.split("\"$ref\": \"#/components/schemas/").skip(1) {
        let name = part.split('"').next().unwrap();
        assert!(schemas.contains_key(name), "dangling $ref {name}");
    }
}

#[tokio::test]
async fn every_route_reaches_its_handler() {
    let dir = tempfile::tempdir().unwrap();
    let svc = Service::open(Config::new(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        dir.path().to_path_buf(),
    ))
    .unwrap();
    let router = app(svc.clone());
    for r in ROUTES {
        let path = r.path.replace("{id}", "x").replace("{document_id}", "y");
        let response = router
            .clone()
            .oneshot(
                Request::builder()
                    .method(r.method)
                    .uri(&path)
                    .header("content-type", "application/json")
                    .body(Body::from("{}"))
                    .unwrap(),
            )
            .await
            .unwrap();
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        assert_ne!(
            status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{} {path}",
            r.method
        );
        if status == StatusCode::NOT_FOUND {
            let v: Value = serde_json::from_slice(&body).unwrap();
            assert_ne!(
                v["message"], "no such endpoint",
                "{} {path} is not mounted",
                r.method
            );
        }
        if status.is_client_error() || status.is_server_error() {
            let v: Value = serde_json::from_slice(&body)
                .unwrap_or_else(|_| panic!("{} {path}: error body is not JSON", r.method));
            assert!(
                v["error"].is_string() && v["message"].is_string(),
                "{} {path}: {v}",
                r.method
            );
        }
    }
    // the fallback and a wrong method also answer in JSON
    for (method, path, status) in [
        ("GET", "/nope", StatusCode::NOT_FOUND),
        ("DELETE", "/v1/sign-actions", StatusCode::METHOD_NOT_ALLOWED),
    ] {
        let response = router
            .clone()
            .oneshot(
                Request::builder()
                    .method(method)
                    .uri(path)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), status);
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert!(v["error"].is_string(), "{method} {path}: {v}");
    }
    // the served document is the file
    let response = router
        .oneshot(
            Request::builder()
                .uri("/openapi.json")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    assert_eq!(&body[..], OPENAPI_JSON.as_bytes());
    svc.close();
}
