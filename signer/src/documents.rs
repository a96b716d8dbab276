//! Document upload: the body is streamed to a scratch file and hashed while it streams,
//! the size limit is enforced as bytes arrive, then the file is checked as a PDF (not
//! encrypted, readable, page count) and kept under its SHA-256.

use std::path::Path;

use axum::body::Body;
use formats::pdf::{FileSource, Object, PdfError, PdfReader};
use http_body_util::BodyExt;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::error::ApiError;
use crate::ids::new_id;
use crate::service::Service;
use crate::store::{Document, Partner};

/// Name given to a document uploaded without one.
pub const DEFAULT_NAME: &str = "document.pdf";

/// A file name fit to show: the last path component, printable, at most 200 characters.
pub fn clean_name(name: Option<&str>) -> String {
    let base = name
        .unwrap_or("")
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect::<String>();
    let base = base.trim().to_string();
    if base.is_empty() || base == "." || base == ".." {
        DEFAULT_NAME.to_string()
    } else {
        base
    }
}

/// Whether `content_type` is `application/pdf` (parameters ignored).
pub fn is_pdf_media_type(content_type: Option<&str>) -> bool {
    content_type
        .and_then(|ct| ct.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/pdf"))
}

/// Receives an upload for `partner`.
///
/// # Errors
/// 415 for another media type, 413 past the limit, 400 for an empty body, 422 for a file
/// that is not a PDF, is encrypted or is damaged beyond repair.
pub async fn upload(
    svc: &Service,
    partner: &Partner,
    name: Option<&str>,
    content_type: Option<&str>,
    content_length: Option<u64>,
    body: Body,
) -> Result<Document, ApiError> {
    if !is_pdf_media_type(content_type) {
        return Err(ApiError::unsupported_media_type(format!(
            "send the PDF as the raw request body with Content-Type: application/pdf (got {})",
            content_type.map_or("none".to_string(), |c| format!("{:?}", truncate(c, 60)))
        )));
    }
    let limit = svc.config.max_upload_bytes;
    if content_length.is_some_and(|n| n > limit.saturating_add(DRAIN_MAX)) {
        return Err(too_large(limit));
    }
    let id = new_id("doc")?;
    let scratch = svc.files.scratch(&id);
    let result = receive(&scratch, body, limit).await;
    let (sha256, size) = match result {
        Ok(v) => v,
        Err(e) => {
            let _ = tokio::fs::remove_file(&scratch).await;
            return Err(e);
        }
    };
    if size == 0 {
        let _ = tokio::fs::remove_file(&scratch).await;
        return Err(ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "empty_document",
            "the request body is empty: send the PDF's bytes",
        ));
    }
    let check_path = scratch.clone();
    let pages = match tokio::task::spawn_blocking(move || inspect(&check_path)).await? {
        Ok(pages) => pages,
        Err(e) => {
            let _ = tokio::fs::remove_file(&scratch).await;
            return Err(e);
        }
    };
    let files = svc.files.clone();
    let sha = sha256.clone();
    tokio::task::spawn_blocking(move || files.adopt_document(&scratch, &sha)).await??;
    let document = Document {
        id,
        partner_id: partner.id.clone(),
        name: clean_name(name),
        sha256,
        size,
        pages,
        created_at: svc.now(),
    };
    let record = document.clone();
    svc.db(move |s| s.insert_document(&record)).await?;
    tracing::info!(document = %document.id, partner = %partner.id, size, pages, "document uploaded");
    Ok(document)
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

fn too_large(limit: u64) -> ApiError {
    ApiError::too_large(format!(
        "the document exceeds the upload limit of {limit} bytes"
    ))
}

/// Bytes past the limit still read (and dropped) before answering 413, so that a client
/// that sends a little too much gets the answer instead of a connection reset.
const DRAIN_MAX: u64 = 1024 * 1024;
/// Longest time spent draining.
const DRAIN_TIME: std::time::Duration = std::time::Duration::from_secs(2);

/// Reads and drops what is left of `body`, up to [`DRAIN_MAX`] bytes and [`DRAIN_TIME`].
async fn drain(mut body: Body) {
    let _ = tokio::time::timeout(DRAIN_TIME, async move {
        let mut dropped: u64 = 0;
        while let Some(Ok(frame)) = body.frame().await {
            if let Ok(data) = frame.into_data() {
                dropped += data.len() as u64;
                if dropped > DRAIN_MAX {
                    break;
                }
            }
        }
    })
    .await;
}

/// Streams `body` into `path`, hashing it; fails past `limit` bytes.
async fn receive(path: &Path, mut body: Body, limit: u64) -> Result<(String, u64), ApiError> {
    let io = |e: std::io::Error| ApiError::internal(&e);
    let mut file = tokio::fs::File::create(path).await.map_err(io)?;
    let mut hasher = Sha256::new();
    let mut size: u64 = 0;
    while let Some(frame) = body.frame().await {
        let frame =
            frame.map_err(|e| ApiError::bad_request(format!("the upload was interrupted: {e}")))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        size += data.len() as u64;
        if size > limit {
            drain(body).await;
            return Err(too_large(limit));
        }
        hasher.update(&data);
        file.write_all(&data).await.map_err(io)?;
    }
    file.flush().await.map_err(io)?;
    file.sync_all().await.map_err(io)?;
    Ok((hex::encode(hasher.finalize()), size))
}

/// Checks that the file is a readable, unencrypted PDF; returns its page count.
fn inspect(path: &Path) -> Result<u32, ApiError> {
    let source = FileSource::open(path).map_err(|e| ApiError::internal(&e))?;
    let reader = PdfReader::open(source).map_err(pdf_error)?;
    if reader.is_encrypted() {
        return Err(pdf_error(PdfError::Encrypted));
    }
    let catalog = reader.catalog().map_err(pdf_error)?;
    let pages = catalog
        .get("Pages")
        .map(|p| reader.resolve(p))
        .transpose()
        .map_err(pdf_error)?;
    let count = match pages {
        Some(Object::Dict(d)) => d.get_int("Count"),
        _ => None,
    };
    match count {
        Some(n) if n > 0 => Ok(u32::try_from(n).unwrap_or(u32::MAX)),
        _ => Err(ApiError::unprocessable(
            "damaged_pdf",
            "the PDF has no page tree with a page count: it cannot be signed",
        )),
    }
}

/// The answer for a PDF that cannot be taken.
pub fn pdf_error(e: PdfError) -> ApiError {
    match e {
        PdfError::NotPdf => ApiError::unprocessable(
            "not_a_pdf",
            "the upload is not a PDF (no %PDF- header): send a PDF document",
        ),
        PdfError::Encrypted => ApiError::unprocessable(
            "encrypted_pdf",
            "the PDF is encrypted, which cannot be signed: remove the encryption and upload it again",
        ),
        PdfError::Io(what) => ApiError::internal(&std::io::Error::other(what)),
        other => ApiError::unprocessable(
            "damaged_pdf",
            format!("the PDF is damaged beyond repair: {other}"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(clean_name(Some("contract.pdf")), "contract.pdf");
        assert_eq!(clean_name(Some("../../etc/passwd")), "passwd");
        assert_eq!(clean_name(Some("C:\\docs\\a.pdf")), "a.pdf");
        assert_eq!(clean_name(Some("..")), DEFAULT_NAME);
        assert_eq!(clean_name(Some("a\nb.pdf")), "ab.pdf");
        assert_eq!(clean_name(None), DEFAULT_NAME);
    }

    #[test]
    fn media_types() {
        assert!(is_pdf_media_type(Some("application/pdf")));
        assert!(is_pdf_media_type(Some("Application/PDF; charset=binary")));
        assert!(!is_pdf_media_type(Some("application/json")));
        assert!(!is_pdf_media_type(None));
    }

    #[test]
    fn inspects_pdfs() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.pdf");
        std::fs::write(&p, b"hello world").unwrap();
        assert_eq!(inspect(&p).unwrap_err().code, "not_a_pdf");
        let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples/contract.pdf");
        assert_eq!(inspect(&sample).unwrap(), 1);
    }
}
