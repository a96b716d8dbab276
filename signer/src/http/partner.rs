//! Partner API handlers: documents and sign actions, authenticated by API key; a partner
//! sees only its own (404 otherwise).

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::{Path, Query, State as AxumState};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

use super::extract::{ApiJson, PartnerAuth};
use crate::actions::{self, ActionView, CreateAction};
use crate::clock::rfc3339;
use crate::documents;
use crate::domain::actions::ActionStatus;
use crate::error::ApiError;
use crate::service::State;
use crate::store::Document;

/// A document as the partner sees it.
#[derive(Debug, Serialize, Deserialize)]
pub struct DocumentInfo {
    /// Document id (use it in `POST /v1/sign-actions`).
    pub id: String,
    /// File name.
    pub name: String,
    /// Lower-case hex SHA-256 of the bytes received.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// Number of pages.
    pub pages: u32,
    /// Upload time.
    pub created_at: String,
}

impl DocumentInfo {
    fn of(d: &Document) -> Self {
        Self {
            id: d.id.clone(),
            name: d.name.clone(),
            sha256: d.sha256.clone(),
            size: d.size,
            pages: d.pages,
            created_at: rfc3339(d.created_at),
        }
    }
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// `POST /v1/documents?name=contract.pdf`: the raw PDF as the body.
pub async fn upload(
    AxumState(svc): AxumState<State>,
    PartnerAuth(partner): PartnerAuth,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<DocumentInfo>), ApiError> {
    let content_length = header_str(&headers, header::CONTENT_LENGTH).and_then(|v| v.parse().ok());
    let document = documents::upload(
        &svc,
        &partner,
        query.get("name").map(String::as_str),
        header_str(&headers, header::CONTENT_TYPE),
        content_length,
        body,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(DocumentInfo::of(&document))))
}

/// `GET /v1/documents/{id}`.
pub async fn get_document(
    AxumState(svc): AxumState<State>,
    PartnerAuth(partner): PartnerAuth,
    Path(id): Path<String>,
) -> Result<Json<DocumentInfo>, ApiError> {
    let pid = partner.id.clone();
    let document = svc
        .db(move |s| s.document(&pid, &id))
        .await?
        .ok_or_else(|| ApiError::not_found("document"))?;
    Ok(Json(DocumentInfo::of(&document)))
}

/// `POST /v1/sign-actions`.
pub async fn create_action(
    AxumState(svc): AxumState<State>,
    PartnerAuth(partner): PartnerAuth,
    ApiJson(req): ApiJson<CreateAction>,
) -> Result<(StatusCode, Json<ActionView>), ApiError> {
    let action = actions::create(&svc, &partner, req).await?;
    Ok((StatusCode::CREATED, Json(ActionView::of(&action))))
}

/// `GET /v1/sign-actions/{id}`.
pub async fn get_action(
    AxumState(svc): AxumState<State>,
    PartnerAuth(partner): PartnerAuth,
    Path(id): Path<String>,
) -> Result<Json<ActionView>, ApiError> {
    let action = actions::for_partner(&svc, &partner, &id).await?;
    Ok(Json(ActionView::of(&action)))
}

/// The download name of a signed document: `contract.pdf` → `contract.signed.pdf`.
pub fn signed_name(name: &str) -> String {
    let stem = name
        .strip_suffix(".pdf")
        .or_else(|| name.strip_suffix(".PDF"))
        .unwrap_or(name);
    format!("{stem}.signed.pdf")
}

/// `GET /v1/sign-actions/{id}/documents/{document_id}`: the signed PDF.
pub async fn get_signed_document(
    AxumState(svc): AxumState<State>,
    PartnerAuth(partner): PartnerAuth,
    Path((id, document_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let action = actions::for_partner(&svc, &partner, &id).await?;
    let doc = action
        .documents
        .iter()
        .find(|d| d.document.id == document_id)
        .ok_or_else(|| ApiError::not_found("document in this sign action"))?;
    let signed = match (&doc.signed, action.status) {
        (Some(s), ActionStatus::Signed) => s,
        _ => {
            return Err(ApiError::conflict(
                "not_signed",
                format!(
                    "the sign action is {}: no signed document yet",
                    action.status
                ),
            ))
        }
    };
    let path = svc.files.signed(&action.id, &document_id)?;
    let file = tokio::fs::File::open(&path)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    let filename: String = signed_name(&doc.document.name)
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(file));
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (header::CONTENT_LENGTH, signed.size.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
            (
                header::HeaderName::from_static("x-content-sha256"),
                signed.sha256.clone(),
            ),
        ],
        body,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_names() {
        assert_eq!(signed_name("contract.pdf"), "contract.signed.pdf");
        assert_eq!(signed_name("x"), "x.signed.pdf");
    }
}
