//! Enrollment of the person's app (APP_API.md steps 1 and 2): an SMS code to the vouched
//! phone number, then the CSR of the signing key (proof of possession), the device-auth
//! key, and the certificate from our CA.

use axum::http::StatusCode;
use base64::Engine;
use der::{Decode, Encode, Header, Reader, SliceReader};
use serde::{Deserialize, Serialize};
use spki::SubjectPublicKeyInfoOwned;
use x509_cert::request::CertReq;

use crate::ca::{check_p256, CaError};
use crate::domain::enrollment::{
    check_code, code_hash, CodeCheck, EnrollmentStatus, CODE_LIFETIME, MAX_ENROLLMENTS_PER_WINDOW,
    MAX_WRONG_CODES, RATE_WINDOW,
};
use crate::domain::person::check_phone;
use crate::error::ApiError;
use crate::ids::{new_id, new_sms_code};
use crate::service::Service;
use crate::store::{Device, DeviceStatus, Enrollment};

/// `POST /v1/app/enrollments` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartRequest {
    /// E.164 phone number.
    pub phone: String,
}

/// `POST /v1/app/enrollments` answer.
#[derive(Debug, Serialize, Deserialize)]
pub struct Started {
    /// The enrollment.
    pub enrollment_id: String,
    /// When the SMS code stops being valid.
    pub expires_at: String,
}

/// `POST /v1/app/enrollments/{id}/complete` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompleteRequest {
    /// The SMS code.
    pub code: String,
    /// Base64 DER PKCS#10 for the P-256 signing key.
    pub csr: String,
    /// Base64 DER SubjectPublicKeyInfo of the P-256 device-auth key.
    pub device_key: String,
}

/// `POST /v1/app/enrollments/{id}/complete` answer.
#[derive(Debug, Serialize, Deserialize)]
pub struct Completed {
    /// The device's identifier.
    pub device_id: String,
    /// Base64 DER certificate of the signing key.
    pub certificate: String,
    /// Base64 DER issuing CA, then root.
    pub chain: Vec<String>,
}

/// Starts an enrollment: records it and sends the code.
///
/// # Errors
/// 400 for a malformed number, 404 `unknown_person`, 429 past the per-number rate.
pub async fn start(svc: &Service, req: StartRequest) -> Result<Started, ApiError> {
    check_phone(&req.phone).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let now = svc.now();
    let phone = req.phone.clone();
    let (person, recent) = svc
        .db(move |s| {
            Ok((
                s.person(&phone)?,
                s.count_enrollments_since(&phone, now - RATE_WINDOW)?,
            ))
        })
        .await?;
    if person.is_none() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_person",
            "nobody was vouched for with this phone number",
        ));
    }
    if recent >= MAX_ENROLLMENTS_PER_WINDOW {
        return Err(ApiError::too_many_requests(
            "too many enrollments for this phone number; try again in an hour",
        ));
    }
    let id = new_id("enr")?;
    let code = new_sms_code()?;
    let enrollment = Enrollment {
        id: id.clone(),
        phone: req.phone.clone(),
        code_hash: code_hash(&id, &code),
        status: EnrollmentStatus::Pending,
        wrong_codes: 0,
        created_at: now,
        expires_at: now + CODE_LIFETIME,
    };
    let expires_at = enrollment.expires_at;
    svc.db(move |s| s.insert_enrollment(&enrollment)).await?;
    let sms = svc.sms.clone();
    let phone = req.phone;
    let text = format!("Your activation code is {code}");
    tokio::task::spawn_blocking(move || sms.send(&phone, &text, now))
        .await?
        .map_err(|e| ApiError::internal(&e))?;
    Ok(Started {
        enrollment_id: id,
        expires_at: crate::clock::rfc3339(expires_at),
    })
}

fn b64(what: &str, value: &str) -> Result<Vec<u8>, ApiError> {
    base64::engine::general_purpose::STANDARD
        .decode(value.trim())
        .map_err(|e| ApiError::bad_request(format!("{what} is not base64: {e}")))
}

/// The DER of the `certificationRequestInfo` exactly as it appears in `csr`.
fn tbs_bytes(csr: &[u8]) -> Result<&[u8], der::Error> {
    let mut reader = SliceReader::new(csr)?;
    let _outer = Header::decode(&mut reader)?;
    let start = usize::try_from(reader.position())?;
    let inner = Header::decode(&mut reader)?;
    let len = usize::try_from((inner.encoded_len()? + inner.length)?)?;
    csr.get(start..start + len)
        .ok_or_else(|| der::Tag::Sequence.length_error())
}

/// Checks a PKCS#10 request's self-signature (proof of possession); returns its key.
///
/// # Errors
/// 400 for a malformed request, 422 `bad_csr` for a signature that does not verify or a
/// key that is not P-256.
pub fn check_csr(der: &[u8]) -> Result<SubjectPublicKeyInfoOwned, ApiError> {
    let bad = |m: String| ApiError::bad_request(format!("csr: {m}"));
    let req = CertReq::from_der(der).map_err(|e| bad(e.to_string()))?;
    let tbs = tbs_bytes(der).map_err(|e| bad(e.to_string()))?;
    let key = req.info.public_key.clone();
    check_p256(&key).map_err(|e| ApiError::unprocessable("bad_csr", e.to_string()))?;
    let signature = req
        .signature
        .as_bytes()
        .ok_or_else(|| ApiError::unprocessable("bad_csr", "the CSR signature has unused bits"))?;
    formats::crypto::verify_signature(&key, &req.algorithm, None, tbs, signature).map_err(|e| {
        ApiError::unprocessable(
            "bad_csr",
            format!("the CSR signature does not verify with its key (proof of possession): {e}"),
        )
    })?;
    Ok(key)
}

/// Completes an enrollment: code, CSR, device key → certificate and device.
///
/// # Errors
/// 404 unknown enrollment, 410 expired code, 409 closed or failed (5 wrong codes), 422
/// `wrong_code`, 400/422 for a bad CSR or device key.
pub async fn complete(
    svc: &Service,
    id: &str,
    req: CompleteRequest,
) -> Result<Completed, ApiError> {
    let now = svc.now();
    let eid = id.to_string();
    let enrollment = svc
        .db(move |s| s.enrollment(&eid))
        .await?
        .ok_or_else(|| ApiError::not_found("enrollment"))?;
    match check_code(
        &enrollment.id,
        enrollment.status,
        &enrollment.code_hash,
        enrollment.expires_at,
        now,
        req.code.trim(),
    ) {
        CodeCheck::Accepted => {}
        CodeCheck::Expired => {
            return Err(ApiError::expired(
                "the activation code has expired: start the enrollment again",
            ))
        }
        CodeCheck::Closed => return Err(closed(enrollment.status)),
        CodeCheck::Wrong => {
            let eid = enrollment.id.clone();
            let after = svc
                .db(move |s| s.record_wrong_code(&eid, MAX_WRONG_CODES))
                .await?;
            if after == EnrollmentStatus::Failed {
                return Err(closed(after));
            }
            return Err(ApiError::unprocessable(
                "wrong_code",
                "the activation code is wrong",
            ));
        }
    }
    let csr = b64("csr", &req.csr)?;
    let signing_key = check_csr(&csr)?;
    let device_key_der = b64("device_key", &req.device_key)?;
    let device_key = SubjectPublicKeyInfoOwned::from_der(&device_key_der)
        .map_err(|e| ApiError::bad_request(format!("device_key: {e}")))?;
    check_p256(&device_key)
        .map_err(|e| ApiError::unprocessable("bad_device_key", e.to_string()))?;
    if device_key == signing_key {
        return Err(ApiError::unprocessable(
            "bad_device_key",
            "the device-auth key must be a separate key from the signing key",
        ));
    }
    let phone = enrollment.phone.clone();
    let person = svc.db(move |s| s.person(&phone)).await?.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_person",
            "the person is no longer vouched for",
        )
    })?;
    let ca = svc.ca.clone();
    let certificate = tokio::task::spawn_blocking(move || ca.issue_person(&person, &signing_key))
        .await?
        .map_err(|e: CaError| ApiError::internal(&e))?;
    let device = Device {
        id: new_id("dev")?,
        phone: enrollment.phone.clone(),
        device_key: device_key
            .to_der()
            .map_err(|e| ApiError::bad_request(format!("device_key: {e}")))?,
        certificate: certificate.clone(),
        status: DeviceStatus::Active,
        created_at: now,
    };
    let record = device.clone();
    let eid = enrollment.id.clone();
    if !svc
        .db(move |s| s.complete_enrollment(&eid, &record))
        .await?
    {
        return Err(closed(EnrollmentStatus::Completed));
    }
    tracing::info!(device = %device.id, "device enrolled");
    let enc = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    Ok(Completed {
        device_id: device.id,
        certificate: enc(&certificate),
        chain: svc.ca.full_chain_der().iter().map(|c| enc(c)).collect(),
    })
}

fn closed(status: EnrollmentStatus) -> ApiError {
    match status {
        EnrollmentStatus::Failed => ApiError::conflict(
            "enrollment_failed",
            "too many wrong codes: this enrollment has ended; start a new one",
        ),
        _ => ApiError::conflict(
            "enrollment_closed",
            "this enrollment is already completed; start a new one",
        ),
    }
}
