//! Bad requests get the right PKIStatus / PKIFailureInfo or HTTP status, never a 500.
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns: a panic is a test failure

mod support;

use const_oid::ObjectIdentifier;
use der::Encode;
use support::start;
use tsa::{
    request::{encode_request, ImprintAlgorithm},
    response::{FailureInfo, PkiStatus, TimeStampResp},
};
use x509_tsp::{MessageImprint, TimeStampReq, TspVersion};

fn with_algorithm(oid: ObjectIdentifier, len: usize) -> Vec<u8> {
    TimeStampReq {
        version: TspVersion::V1,
        message_imprint: MessageImprint {
            hash_algorithm: spki::AlgorithmIdentifier {
                oid,
                parameters: None,
            },
            hashed_message: der::asn1::OctetString::new(vec![0x5a; len]).unwrap(),
        },
        req_policy: None,
        nonce: Some(der::asn1::Int::new(&[0x12, 0x34]).unwrap()),
        cert_req: true,
        extensions: None,
    }
    .to_der()
    .unwrap()
}

#[test]
fn bad_requests_are_answered_precisely() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir.path().join("data"));
    let sha1 = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
    let md5 = ObjectIdentifier::new_unwrap("1.2.840.113549.2.5");
    let sha256 = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
    let cases: Vec<(&str, Vec<u8>, FailureInfo)> = vec![
        (
            "garbage",
            b"this is not DER".to_vec(),
            FailureInfo::BadDataFormat,
        ),
        ("empty body", Vec::new(), FailureInfo::BadDataFormat),
        (
            "truncated",
            with_algorithm(sha256, 32)[..20].to_vec(),
            FailureInfo::BadDataFormat,
        ),
        ("SHA-1", with_algorithm(sha1, 20), FailureInfo::BadAlg),
        ("MD5", with_algorithm(md5, 16), FailureInfo::BadAlg),
        (
            "SHA-256 of 20 bytes",
            with_algorithm(sha256, 20),
            FailureInfo::BadDataFormat,
        ),
        (
            "SHA-256 of 64 bytes",
            with_algorithm(sha256, 64),
            FailureInfo::BadDataFormat,
        ),
        (
            "unknown policy",
            encode_request(
                ImprintAlgorithm::Sha256,
                &[1; 32],
                None,
                Some(ObjectIdentifier::new_unwrap("1.2.3.4.5.6")),
                false,
            )
            .unwrap(),
            FailureInfo::UnacceptedPolicy,
        ),
    ];
    for (name, body, failure) in cases {
        let (status, reply) = server.query(body);
        assert_eq!(
            status, 200,
            "{name}: a refused request is not an HTTP error"
        );
        let reply = TimeStampResp::from_der_bytes(&reply).unwrap();
        assert_eq!(reply.status.status(), PkiStatus::Rejection, "{name}");
        assert_eq!(reply.status.failures(), vec![failure], "{name}");
        assert!(reply.time_stamp_token.is_none(), "{name}");
        assert!(
            reply.status.status_string.is_some(),
            "{name}: a reason is given"
        );
    }

    // The named policy is accepted.
    let ours = encode_request(
        ImprintAlgorithm::Sha256,
        &[1; 32],
        None,
        Some(tsa::config::DEFAULT_POLICY),
        false,
    )
    .unwrap();
    let (status, reply) = server.query(ours);
    assert_eq!(status, 200);
    assert_eq!(
        TimeStampResp::from_der_bytes(&reply)
            .unwrap()
            .status
            .status(),
        PkiStatus::Granted
    );

    // HTTP-level errors carry JSON.
    let json = |body: &[u8]| serde_json::from_slice::<serde_json::Value>(body).unwrap();
    let (status, body) = server.post("application/octet-stream", with_algorithm(sha256, 32));
    assert_eq!(status, 415);
    assert_eq!(json(&body)["error"], "unsupported_media_type");
    let (status, body) = server.post("text/plain", b"hello".to_vec());
    assert_eq!(status, 415);
    assert_eq!(json(&body)["error"], "unsupported_media_type");
    let (status, body) = server.query(vec![0x30; 64 * 1024]);
    assert_eq!(status, 413);
    assert_eq!(json(&body)["error"], "payload_too_large");
    server.stop();
}
