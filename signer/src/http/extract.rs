//! Extractors whose rejection is an [`ApiError`]: JSON bodies and the partner's API key.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::admin::api_key_hash;
use crate::error::ApiError;
use crate::service::State;
use crate::store::Partner;

/// A JSON body (`Content-Type: application/json`) of at most the configured size.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

/// Parses a JSON body; the error names the problem (serde's message: line, column, field).
///
/// # Errors
/// 400 `bad_request`.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad_request(format!("malformed JSON body: {e}")))
}

impl<T: DeserializeOwned> FromRequest<State> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &State) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"));
        if !is_json {
            return Err(ApiError::unsupported_media_type(
                "send a JSON body with Content-Type: application/json",
            ));
        }
        let limit = state.config.max_json_bytes;
        let bytes = axum::body::to_bytes(req.into_body(), limit)
            .await
            .map_err(|_| {
                ApiError::too_large(format!("JSON bodies are limited to {limit} bytes"))
            })?;
        Ok(Self(parse_json(&bytes)?))
    }
}

/// The partner authenticated by `Authorization: Bearer <api key>`.
#[derive(Debug, Clone)]
pub struct PartnerAuth(pub Partner);

impl FromRequestParts<State> for PartnerAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &State) -> Result<Self, Self::Rejection> {
        let key = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .ok_or_else(|| {
                ApiError::unauthorized("send the partner API key as Authorization: Bearer <key>")
            })?;
        let hash = api_key_hash(key);
        state
            .db(move |s| s.partner_by_key_hash(&hash))
            .await?
            .map(Self)
            .ok_or_else(|| ApiError::unauthorized("unknown API key"))
    }
}
