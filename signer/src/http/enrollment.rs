//! Enrollment handlers (unauthenticated; rate-limited per phone number).

use axum::extract::{Path, State as AxumState};
use axum::http::StatusCode;
use axum::Json;

use super::extract::ApiJson;
use crate::enrollment::{self, CompleteRequest, Completed, StartRequest, Started};
use crate::error::ApiError;
use crate::service::State;

/// `POST /v1/app/enrollments`.
pub async fn start(
    AxumState(svc): AxumState<State>,
    ApiJson(req): ApiJson<StartRequest>,
) -> Result<(StatusCode, Json<Started>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(enrollment::start(&svc, req).await?),
    ))
}

/// `POST /v1/app/enrollments/{id}/complete`.
pub async fn complete(
    AxumState(svc): AxumState<State>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<CompleteRequest>,
) -> Result<(StatusCode, Json<Completed>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(enrollment::complete(&svc, &id, req).await?),
    ))
}
