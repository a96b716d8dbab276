//! Authentication of the app's requests (APP_API.md "Device-authenticated requests"): the
//! device-auth key signs `METHOD \n PATH_AND_QUERY \n X-Device-Time \n hex(sha256(body))`;
//! the time must be within ±300 s of the service's clock, and a (device, time, signature)
//! seen in the last 10 minutes is a replay.

use base64::Engine;
use der::Decode;
use ring::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_ASN1};
use sha2::{Digest, Sha256};
use spki::SubjectPublicKeyInfoOwned;
use time::{Duration, OffsetDateTime};

use crate::error::ApiError;
use crate::service::Service;
use crate::store::{Device, DeviceStatus};

/// Header naming the device.
pub const DEVICE_ID: &str = "x-device-id";
/// Header with the request time.
pub const DEVICE_TIME: &str = "x-device-time";
/// Header with the signature.
pub const DEVICE_SIGNATURE: &str = "x-device-signature";
/// Largest accepted distance between the device's time and ours.
pub const MAX_SKEW: Duration = Duration::seconds(300);
/// How long request fingerprints are remembered.
pub const REPLAY_WINDOW: Duration = Duration::minutes(10);

/// The three headers, as received.
#[derive(Clone, Debug)]
pub struct DeviceHeaders {
    /// `X-Device-Id`.
    pub device_id: String,
    /// `X-Device-Time`.
    pub time: String,
    /// `X-Device-Signature` (base64).
    pub signature: String,
}

/// The bytes the device signs.
pub fn signed_message(method: &str, path_and_query: &str, time: &str, body: &[u8]) -> Vec<u8> {
    format!(
        "{method}\n{path_and_query}\n{time}\n{}",
        hex::encode(Sha256::digest(body))
    )
    .into_bytes()
}

/// Checks an ECDSA P-256/SHA-256 DER signature by the key in `spki_der` over `message`.
pub fn verify_p256(spki_der: &[u8], message: &[u8], signature: &[u8]) -> bool {
    let Ok(spki) = SubjectPublicKeyInfoOwned::from_der(spki_der) else {
        return false;
    };
    let Some(point) = spki.subject_public_key.as_bytes() else {
        return false;
    };
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, point)
        .verify(message, signature)
        .is_ok()
}

/// Authenticates a request: the device, active; the time, close to ours; the signature;
/// not a replay.
///
/// # Errors
/// 401 `unauthorized` for any failure (the message says which, the status never varies).
pub async fn authenticate(
    svc: &Service,
    method: &str,
    path_and_query: &str,
    headers: DeviceHeaders,
    body: &[u8],
) -> Result<Device, ApiError> {
    let id = headers.device_id.clone();
    let device = svc
        .db(move |s| s.device(&id))
        .await?
        .filter(|d| d.status == DeviceStatus::Active)
        .ok_or_else(|| {
            ApiError::unauthorized("unknown or replaced device: enroll the app again")
        })?;
    let now = svc.now();
    let at = OffsetDateTime::parse(
        &headers.time,
        &time::format_description::well_known::Rfc3339,
    )
    .map_err(|_| ApiError::unauthorized("X-Device-Time is not an RFC 3339 time"))?;
    if (at - now).abs() > MAX_SKEW {
        return Err(ApiError::unauthorized(
            "X-Device-Time is more than 300 s away from the service's clock: set the phone's clock",
        ));
    }
    let signature = base64::engine::general_purpose::STANDARD
        .decode(headers.signature.trim())
        .map_err(|_| ApiError::unauthorized("X-Device-Signature is not base64"))?;
    let message = signed_message(method, path_and_query, &headers.time, body);
    if !verify_p256(&device.device_key, &message, &signature) {
        return Err(ApiError::unauthorized(
            "X-Device-Signature does not verify with the device key",
        ));
    }
    let fingerprint = {
        let mut h = Sha256::new();
        for part in [device.id.as_bytes(), headers.time.as_bytes(), &signature] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part);
        }
        hex::encode(h.finalize())
    };
    let device_id = device.id.clone();
    let fresh = svc
        .db(move |s| s.remember_request(&device_id, &fingerprint, now, now - REPLAY_WINDOW))
        .await?;
    if !fresh {
        return Err(ApiError::unauthorized("replayed request"));
    }
    Ok(device)
}

#[cfg(test)]
mod tests {
    use super::*;
    use formats::pki::{KeyAlgorithm, SigningKey};

    #[test]
    fn message_and_signature() {
        let m = signed_message(
            "GET",
            "/v1/app/actions?wait=30",
            "2026-11-22T10:00:00Z",
            b"",
        );
        assert_eq!(
            String::from_utf8(m.clone()).unwrap(),
            "GET\n/v1/app/actions?wait=30\n2026-11-22T10:00:00Z\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        let (key, _) = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let spki = key.public_key_info_der().unwrap();
        let sig = key.sign(&m).unwrap();
        assert!(verify_p256(&spki, &m, &sig));
        assert!(!verify_p256(&spki, b"other", &sig));
        assert!(!verify_p256(b"junk", &m, &sig));
    }
}
