//! Device authentication of app requests (`notes/APP_API.md`, "Device-authenticated
//! requests"): three headers, the last an ECDSA P-256/SHA-256 signature by the device-auth
//! key over
//!
//! ```text
//! METHOD "\n" PATH_AND_QUERY "\n" X-Device-Time "\n" hex(sha256(body))
//! ```

use formats::crypto::DigestAlgorithm;
use formats::pki::SigningKey;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::vault::b64;
use crate::AppError;

/// Header naming the device.
pub const DEVICE_ID: &str = "X-Device-Id";
/// Header with the request time (RFC 3339 UTC).
pub const DEVICE_TIME: &str = "X-Device-Time";
/// Header with the base64 DER ECDSA signature over [`signing_string`].
pub const DEVICE_SIGNATURE: &str = "X-Device-Signature";

/// The bytes the device signs for a request.
///
/// `path_and_query` is the request target as sent (`/v1/app/actions?wait=30`); `body` is
/// the exact body bytes (empty for GET).
pub fn signing_string(method: &str, path_and_query: &str, time: &str, body: &[u8]) -> Vec<u8> {
    format!(
        "{method}\n{path_and_query}\n{time}\n{}",
        hex::encode(DigestAlgorithm::Sha256.digest(body))
    )
    .into_bytes()
}

/// `at` as the header writes it: RFC 3339, UTC, whole seconds (`2026-11-22T16:12:06Z`).
pub fn format_time(at: OffsetDateTime) -> String {
    let at = at
        .to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .unwrap_or(at);
    // RFC 3339 formatting of a UTC time within years 0..=9999 cannot fail.
    at.format(&Rfc3339).unwrap_or_default()
}

/// The three authentication headers (name, value) for a request made at `at`.
///
/// # Errors
/// [`AppError::Key`] if signing fails.
pub fn device_headers(
    device_id: &str,
    key: &SigningKey,
    method: &str,
    path_and_query: &str,
    at: OffsetDateTime,
    body: &[u8],
) -> Result<[(&'static str, String); 3], AppError> {
    let time = format_time(at);
    let signature = key
        .sign(&signing_string(method, path_and_query, &time, body))
        .map_err(AppError::key("signing the request"))?;
    Ok([
        (DEVICE_ID, device_id.to_owned()),
        (DEVICE_TIME, time),
        (DEVICE_SIGNATURE, b64(&signature)),
    ])
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use formats::pki::KeyAlgorithm;

    use super::*;

    #[test]
    fn signing_string_is_the_four_contract_lines() {
        let s = signing_string(
            "GET",
            "/v1/app/actions?wait=30",
            "2026-11-22T16:12:06Z",
            b"",
        );
        assert_eq!(
            String::from_utf8(s).unwrap(),
            "GET\n/v1/app/actions?wait=30\n2026-11-22T16:12:06Z\n\
             e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        let s = signing_string(
            "POST",
            "/v1/app/actions/a1/refuse",
            "2026-11-22T16:12:06Z",
            br#"{"not_mine":false}"#,
        );
        let text = String::from_utf8(s).unwrap();
        let last = text.rsplit('\n').next().unwrap();
        assert_eq!(
            last,
            hex::encode(DigestAlgorithm::Sha256.digest(br#"{"not_mine":false}"#))
        );
    }

    #[test]
    fn time_is_rfc3339_utc_whole_seconds() {
        let at = time::macros::datetime!(2026-11-22 17:12:06.789 +01:00);
        assert_eq!(format_time(at), "2026-11-22T16:12:06Z");
    }

    #[test]
    fn headers_carry_a_signature_that_verifies_with_the_device_key() {
        let (key, _) = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let at = time::macros::datetime!(2026-11-22 16:12:06 UTC);
        let body = br#"{"icon":"boat"}"#;
        let headers =
            device_headers("dev-1", &key, "POST", "/v1/app/actions/x/confirm", at, body).unwrap();
        assert_eq!(headers[0], (DEVICE_ID, "dev-1".to_owned()));
        assert_eq!(headers[1], (DEVICE_TIME, "2026-11-22T16:12:06Z".to_owned()));
        let sig = base64::engine::general_purpose::STANDARD
            .decode(&headers[2].1)
            .unwrap();
        formats::crypto::verify_signature(
            key.public_key_info(),
            &key.signature_algorithm(),
            None,
            &signing_string(
                "POST",
                "/v1/app/actions/x/confirm",
                "2026-11-22T16:12:06Z",
                body,
            ),
            &sig,
        )
        .unwrap();
    }
}
