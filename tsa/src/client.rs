//! A client that asks an RFC 3161 TSA for a token and checks the reply before anyone uses
//! it: status granted, nonce, imprint, policy, token signature (message digest over the
//! TSTInfo, signature over the signed attributes, ESS signing-certificate), the TSA
//! certificate's extendedKeyUsage (RFC 3161 §2.3), genTime against the local clock and,
//! when trust anchors are configured, the certificate path at genTime.
//!
//! Transport failures, HTTP 5xx/429 and the TSA's own `systemFailure`/`timeNotAvailable`
//! are retried with exponential backoff, each attempt with a fresh nonce; a reply that
//! fails a check is never retried (it is a security event, not a glitch).

use std::time::Duration;

use const_oid::ObjectIdentifier;
use der::asn1::Int;
use formats::{
    crypto::DigestAlgorithm,
    tsp::{parse_timestamp_token, TspError},
    x509::path::{build_and_validate, PathInput, PathStatus},
};
use ring::rand::SecureRandom;
use time::OffsetDateTime;
use x509_cert::Certificate;
use x509_tsp::TstInfo;

use crate::{
    issue::{check_certificate, IdentityError},
    request::{encode_request, ImprintAlgorithm},
    response::{FailureInfo, PkiStatus, TimeStampResp},
    server::{QUERY_MEDIA_TYPE, REPLY_MEDIA_TYPE},
};

/// How the client talks to the TSA and what it requires of the reply.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// Time limit of one attempt (connect, send, receive).
    pub timeout: Duration,
    /// Attempts in all (at least 1).
    pub attempts: u32,
    /// Wait before the second attempt; doubled for each further attempt.
    pub backoff: Duration,
    /// Policy to request; the token must then carry it.
    pub policy: Option<ObjectIdentifier>,
    /// Ask the TSA to include its certificate (certReq).
    pub cert_req: bool,
    /// Certificates to look in for the TSA certificate and intermediates, besides the
    /// token's own (needed when `cert_req` is false).
    pub extra_certificates: Vec<Certificate>,
    /// Trust anchors: when set, the TSA certificate must chain to one of them, valid at
    /// genTime. When `None` the chain is not checked (the caller does it later, e.g. at
    /// validation time).
    pub trust_anchors: Option<Vec<Certificate>>,
    /// Largest tolerated difference between genTime and the local clock.
    pub max_clock_skew: Duration,
    /// Largest reply accepted, in bytes.
    pub max_reply_bytes: usize,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            attempts: 3,
            backoff: Duration::from_millis(250),
            policy: None,
            cert_req: true,
            extra_certificates: Vec::new(),
            trust_anchors: None,
            max_clock_skew: Duration::from_secs(300),
            max_reply_bytes: 256 * 1024,
        }
    }
}

/// A checked time-stamp token.
#[derive(Clone, Debug)]
pub struct TimeStampToken {
    /// The token (a DER ContentInfo) exactly as the TSA sent it: embed these bytes.
    pub der: Vec<u8>,
    /// The decoded TSTInfo (genTime truncated to whole seconds; see `gen_time`).
    pub tst_info: TstInfo,
    /// genTime, with any fractional seconds.
    pub gen_time: OffsetDateTime,
    /// The certificate that signed the token.
    pub tsa_certificate: Certificate,
}

/// What went wrong, from the transport to the last check.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The TSA URL does not parse.
    #[error("TSA URL {url:?} is invalid: {reason}")]
    Url {
        /// The URL given.
        url: String,
        /// The parser's message.
        reason: String,
    },
    /// The HTTP client could not be built (TLS backend).
    #[error("cannot build the HTTP client: {0}")]
    HttpClient(#[source] reqwest::Error),
    /// SHA-1 imprints are refused (ETSI TS 119 312).
    #[error("{algorithm:?} imprints are not accepted; use SHA-256, SHA-384 or SHA-512")]
    WeakDigest {
        /// The algorithm asked for.
        algorithm: DigestAlgorithm,
    },
    /// The imprint is not as long as the algorithm's digest.
    #[error("a {} imprint is {expected} bytes, not {found}", .algorithm.name())]
    ImprintLength {
        /// The algorithm.
        algorithm: DigestAlgorithm,
        /// Its digest length.
        expected: usize,
        /// The length given.
        found: usize,
    },
    /// The request could not be encoded.
    #[error("cannot encode the request: {0}")]
    Encode(#[source] der::Error),
    /// The random source failed (nonce).
    #[error("the system random source failed: {0}")]
    Random(ring::error::Unspecified),
    /// The TSA could not be reached or did not answer in time, after every attempt.
    #[error("TSA unreachable after {attempts} attempt(s): {source}")]
    Transport {
        /// Attempts made.
        attempts: u32,
        /// The last transport error.
        #[source]
        source: reqwest::Error,
    },
    /// The TSA answered an HTTP error without an RFC 3161 reply.
    #[error("TSA answered HTTP {status} after {attempts} attempt(s): {body}")]
    HttpStatus {
        /// The HTTP status.
        status: u16,
        /// The start of the body, as text.
        body: String,
        /// Attempts made.
        attempts: u32,
    },
    /// The reply is larger than [`ClientConfig::max_reply_bytes`].
    #[error("TSA reply exceeds {limit} bytes")]
    ReplyTooLarge {
        /// The limit.
        limit: usize,
    },
    /// The reply's Content-Type is not application/timestamp-reply.
    #[error("TSA reply has Content-Type {found:?}, not application/timestamp-reply")]
    WrongContentType {
        /// The Content-Type received.
        found: String,
    },
    /// The reply is not a DER TimeStampResp.
    #[error("TSA reply is not a TimeStampResp: {0}")]
    MalformedReply(#[source] der::Error),
    /// The TSA refused (or failed) the request.
    #[error("TSA refused the request: status {status:?}, failure {failures:?}{}", .text.as_deref().map(|t| format!(": {t}")).unwrap_or_default())]
    Rejected {
        /// PKIStatus.
        status: PkiStatus,
        /// PKIFailureInfo bits.
        failures: Vec<FailureInfo>,
        /// statusString.
        text: Option<String>,
    },
    /// Granted, but no token.
    #[error("TSA reply is granted but carries no token")]
    MissingToken,
    /// The token is not a readable time-stamp token.
    #[error("TSA token is malformed: {0}")]
    MalformedToken(#[source] TspError),
    /// SignedData.version is not 3.
    #[error("TSA token's SignedData version is {found}, not 3 (RFC 5652 §5.1)")]
    SignedDataVersion {
        /// The version found.
        found: u8,
    },
    /// SignerInfo.version does not match its sid (1 for issuerAndSerialNumber, 3 for
    /// subjectKeyIdentifier).
    #[error("TSA token's SignerInfo version is {found}, which does not match its signer identifier (RFC 5652 §5.3)")]
    SignerInfoVersion {
        /// The version found.
        found: u8,
    },
    /// SignedData.digestAlgorithms does not list the signer's digest algorithm.
    #[error(
        "TSA token's digestAlgorithms does not list the signer's digest algorithm (RFC 5652 §5.1)"
    )]
    DigestAlgorithmNotListed,
    /// The token does not echo our nonce.
    #[error("TSA token nonce does not match the request (replayed or foreign reply)")]
    NonceMismatch,
    /// The token's imprint is not the one we sent.
    #[error("TSA token time-stamps another imprint than the one sent")]
    ImprintMismatch,
    /// The token's policy is not the one requested.
    #[error("TSA token policy {found} is not the requested {expected}")]
    PolicyMismatch {
        /// Requested.
        expected: ObjectIdentifier,
        /// Found.
        found: ObjectIdentifier,
    },
    /// The TSA certificate is neither in the token nor in the configured certificates.
    #[error("TSA certificate not found in the token nor in the configured certificates (set certReq or configure it)")]
    NoTsaCertificate,
    /// The TSA certificate is not a time-stamping certificate.
    #[error("TSA certificate unusable: {0}")]
    TsaCertificate(#[source] IdentityError),
    /// The token signature or its signed attributes do not check.
    #[error("TSA token signature invalid: {findings}")]
    BadSignature {
        /// The findings of the signature check.
        findings: String,
    },
    /// The TSA certificate does not chain to a trust anchor at genTime.
    #[error("TSA certificate not trusted at genTime: {status:?}")]
    Untrusted {
        /// The path verdict.
        status: PathStatus,
    },
    /// genTime is too far from the local clock.
    #[error("TSA genTime {gen_time} is {skew:?} away from the local clock (limit {limit:?})")]
    ClockSkew {
        /// genTime.
        gen_time: OffsetDateTime,
        /// The difference.
        skew: Duration,
        /// The limit.
        limit: Duration,
    },
}

impl ClientError {
    /// Whether another attempt may succeed (transport trouble, overload, TSA system failure).
    fn is_transient(&self) -> bool {
        match self {
            Self::Transport { .. } => true,
            Self::HttpStatus { status, .. } => *status >= 500 || *status == 429 || *status == 408,
            Self::Rejected { failures, .. } => failures.iter().any(|f| {
                matches!(
                    f,
                    FailureInfo::SystemFailure | FailureInfo::TimeNotAvailable
                )
            }),
            _ => false,
        }
    }
}

/// What the reply must match.
#[derive(Clone, Debug)]
pub struct Expected<'a> {
    /// The imprint algorithm sent.
    pub algorithm: DigestAlgorithm,
    /// The imprint sent.
    pub imprint: &'a [u8],
    /// The nonce sent, if any.
    pub nonce: Option<&'a Int>,
}

/// An RFC 3161 client for one TSA.
#[derive(Clone, Debug)]
pub struct TsaClient {
    url: reqwest::Url,
    http: reqwest::Client,
    config: ClientConfig,
}

impl TsaClient {
    /// A client for the TSA at `url`.
    ///
    /// # Errors
    /// [`ClientError::Url`] or [`ClientError::HttpClient`].
    pub fn new(url: &str, config: ClientConfig) -> Result<Self, ClientError> {
        let parsed = reqwest::Url::parse(url).map_err(|e| ClientError::Url {
            url: url.to_owned(),
            reason: e.to_string(),
        })?;
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .build()
            .map_err(ClientError::HttpClient)?;
        Ok(Self {
            url: parsed,
            http,
            config,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// Asks for a token over `imprint` (a digest made with `algorithm`) and checks it.
    ///
    /// # Errors
    /// A [`ClientError`] naming the first problem (after the retries, for transient ones).
    pub async fn timestamp(
        &self,
        algorithm: DigestAlgorithm,
        imprint: &[u8],
    ) -> Result<TimeStampToken, ClientError> {
        let imprint_alg = match algorithm {
            DigestAlgorithm::Sha256 => ImprintAlgorithm::Sha256,
            DigestAlgorithm::Sha384 => ImprintAlgorithm::Sha384,
            DigestAlgorithm::Sha512 => ImprintAlgorithm::Sha512,
            weak => return Err(ClientError::WeakDigest { algorithm: weak }),
        };
        if imprint.len() != algorithm.output_len() {
            return Err(ClientError::ImprintLength {
                algorithm,
                expected: algorithm.output_len(),
                found: imprint.len(),
            });
        }
        let attempts = self.config.attempts.max(1);
        let mut backoff = self.config.backoff;
        let mut attempt = 1;
        loop {
            let result = self.attempt(algorithm, imprint_alg, imprint, attempt).await;
            match result {
                Err(error) if attempt < attempts && error.is_transient() => {
                    tracing::debug!(%error, attempt, "time-stamp attempt failed; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = backoff.saturating_mul(2);
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    async fn attempt(
        &self,
        algorithm: DigestAlgorithm,
        imprint_alg: ImprintAlgorithm,
        imprint: &[u8],
        attempt: u32,
    ) -> Result<TimeStampToken, ClientError> {
        let nonce = fresh_nonce()?;
        let request = encode_request(
            imprint_alg,
            imprint,
            Some(nonce.clone()),
            self.config.policy,
            self.config.cert_req,
        )
        .map_err(ClientError::Encode)?;
        let transport = |source| ClientError::Transport {
            attempts: attempt,
            source,
        };
        let mut response = self
            .http
            .post(self.url.clone())
            .header(reqwest::header::CONTENT_TYPE, QUERY_MEDIA_TYPE)
            .body(request)
            .send()
            .await
            .map_err(transport)?;
        let status = response.status();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let limit = self.config.max_reply_bytes;
        if response
            .content_length()
            .is_some_and(|len| len > limit as u64)
        {
            return Err(ClientError::ReplyTooLarge { limit });
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport)? {
            if body.len() + chunk.len() > limit {
                return Err(ClientError::ReplyTooLarge { limit });
            }
            body.extend_from_slice(&chunk);
        }
        let is_reply = content_type
            .split(';')
            .next()
            .is_some_and(|m| m.trim().eq_ignore_ascii_case(REPLY_MEDIA_TYPE));
        if !status.is_success() && !is_reply {
            let text = String::from_utf8_lossy(body.get(..body.len().min(200)).unwrap_or(&[]))
                .into_owned();
            return Err(ClientError::HttpStatus {
                status: status.as_u16(),
                body: text,
                attempts: attempt,
            });
        }
        if !is_reply {
            return Err(ClientError::WrongContentType {
                found: content_type,
            });
        }
        check_reply(
            &body,
            &Expected {
                algorithm,
                imprint,
                nonce: Some(&nonce),
            },
            &self.config,
            OffsetDateTime::now_utc(),
        )
    }
}

/// Checks a DER `TimeStampResp` against what was asked, as [`TsaClient::timestamp`] does;
/// `now` is the local time to compare genTime with.
///
/// # Errors
/// A [`ClientError`] naming the first failed check.
pub fn check_reply(
    reply_der: &[u8],
    expected: &Expected<'_>,
    config: &ClientConfig,
    now: OffsetDateTime,
) -> Result<TimeStampToken, ClientError> {
    let reply = TimeStampResp::from_der_bytes(reply_der).map_err(ClientError::MalformedReply)?;
    let status = reply.status.status();
    if !status.is_granted() {
        return Err(ClientError::Rejected {
            status,
            failures: reply.status.failures(),
            text: reply.status.status_string.as_ref().map(|t| t.join(" ")),
        });
    }
    let token_der = reply
        .token_der()
        .map_err(ClientError::MalformedReply)?
        .ok_or(ClientError::MissingToken)?;
    let token = parse_timestamp_token(&token_der).map_err(ClientError::MalformedToken)?;

    // The TSTInfo answers our request.
    let mi = &token.tst_info.message_imprint;
    if mi.hash_algorithm.oid != expected.algorithm.oid()
        || mi.hashed_message.as_bytes() != expected.imprint
    {
        return Err(ClientError::ImprintMismatch);
    }
    match (expected.nonce, &token.tst_info.nonce) {
        (None, _) => {}
        (Some(sent), Some(found)) if sent.as_bytes() == found.as_bytes() => {}
        (Some(_), _) => return Err(ClientError::NonceMismatch),
    }
    if let Some(policy) = config.policy {
        if token.policy() != policy {
            return Err(ClientError::PolicyMismatch {
                expected: policy,
                found: token.policy(),
            });
        }
    }

    // The TSA certificate and the signature.
    let tsa_certificate = token
        .tsa_certificate(&config.extra_certificates)
        .ok_or(ClientError::NoTsaCertificate)?;
    check_certificate(&tsa_certificate).map_err(ClientError::TsaCertificate)?;
    // RFC 5652 §5.1: SignedData version 3 (eContentType is not id-data; tokens carry no
    // attribute or other certificates) and digestAlgorithms listing the signer's digest
    // algorithm. Neither is covered by the signature, so both are checked here: a token is
    // embedded as received.
    if token.cms.signed_data.version != cms::content_info::CmsVersion::V3 {
        return Err(ClientError::SignedDataVersion {
            found: token.cms.signed_data.version as u8,
        });
    }
    // RFC 5652 §5.3: SignerInfo version 1 with issuerAndSerialNumber, 3 with
    // subjectKeyIdentifier; not covered by the signature either.
    if let Some(signer) = token.signer() {
        let si = &signer.signer_info;
        let expected = match si.sid {
            cms::signed_data::SignerIdentifier::IssuerAndSerialNumber(_) => {
                cms::content_info::CmsVersion::V1
            }
            cms::signed_data::SignerIdentifier::SubjectKeyIdentifier(_) => {
                cms::content_info::CmsVersion::V3
            }
        };
        if si.version != expected {
            return Err(ClientError::SignerInfoVersion {
                found: si.version as u8,
            });
        }
    }
    let listed = token.signer().is_some_and(|signer| {
        token
            .cms
            .signed_data
            .digest_algorithms
            .iter()
            .any(|alg| alg.oid == signer.digest_algorithm_id().oid)
    });
    if !listed {
        return Err(ClientError::DigestAlgorithmNotListed);
    }
    let signature = token.verify_signature(&tsa_certificate);
    let ess_present = signature.ess != formats::cms::EssCheck::Absent;
    if !signature.is_valid() || !ess_present {
        return Err(ClientError::BadSignature {
            findings: format!(
                "signature {:?}, message digest {:?}, content type {:?}, ESS {:?}",
                signature.signature,
                signature.message_digest,
                signature.content_type,
                signature.ess
            ),
        });
    }

    // genTime is plausible.
    let gen_time = token.gen_time();
    let skew = (gen_time - now).unsigned_abs();
    if skew > config.max_clock_skew {
        return Err(ClientError::ClockSkew {
            gen_time,
            skew,
            limit: config.max_clock_skew,
        });
    }

    // The TSA certificate chains to an anchor at genTime.
    if let Some(anchors) = &config.trust_anchors {
        let mut candidates = token.cms.certificates.clone();
        candidates.extend(config.extra_certificates.iter().cloned());
        let outcome = build_and_validate(&PathInput {
            leaf: &tsa_certificate,
            candidates: &candidates,
            anchors,
            at: gen_time,
        });
        if !outcome.is_valid() {
            return Err(ClientError::Untrusted {
                status: outcome.status,
            });
        }
    }

    Ok(TimeStampToken {
        der: token_der,
        tst_info: token.tst_info,
        gen_time,
        tsa_certificate,
    })
}

/// 128 random bits as a positive INTEGER (first octet 0x01..=0x7f: positive, minimal).
fn fresh_nonce() -> Result<Int, ClientError> {
    let mut bytes = [0u8; 16];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(ClientError::Random)?;
    bytes[0] = (bytes[0] & 0x7f) | 0x01;
    Int::new(&bytes).map_err(ClientError::Encode)
}

#[cfg(test)]
mod tests {
    use std::{sync::Arc, time::SystemTime};

    use super::*;
    use crate::{
        authority::{SystemClock, TimeStampAuthority},
        config::DEFAULT_POLICY,
        dev_chain,
        issue::{IssuerOptions, TokenIssuer},
        request::{parse_request, PolicySet},
        store::{Store, StoreOptions},
    };

    struct Fixture {
        issuer: TokenIssuer,
        root: Certificate,
    }

    fn fixture() -> Fixture {
        let chain = dev_chain::generate().unwrap();
        Fixture {
            root: chain.root,
            issuer: TokenIssuer::new(chain.identity, IssuerOptions::new(DEFAULT_POLICY)).unwrap(),
        }
    }

    fn reply(f: &Fixture, imprint: &[u8], nonce: &Int, cert_req: bool) -> Vec<u8> {
        let req = encode_request(
            ImprintAlgorithm::Sha256,
            imprint,
            Some(nonce.clone()),
            None,
            cert_req,
        )
        .unwrap();
        let valid = parse_request(
            &req,
            &PolicySet {
                policy: DEFAULT_POLICY,
            },
        )
        .unwrap();
        let token = f.issuer.issue(&valid, 42, SystemTime::now()).unwrap();
        crate::response::granted(&token)
    }

    fn config_with_anchor(root: &Certificate) -> ClientConfig {
        ClientConfig {
            trust_anchors: Some(vec![root.clone()]),
            ..ClientConfig::default()
        }
    }

    #[test]
    fn a_good_reply_passes_every_check() {
        let f = fixture();
        let imprint = [9u8; 32];
        let nonce = fresh_nonce().unwrap();
        let der = reply(&f, &imprint, &nonce, true);
        let token = check_reply(
            &der,
            &Expected {
                algorithm: DigestAlgorithm::Sha256,
                imprint: &imprint,
                nonce: Some(&nonce),
            },
            &config_with_anchor(&f.root),
            OffsetDateTime::now_utc(),
        )
        .unwrap();
        assert_eq!(token.tst_info.policy, DEFAULT_POLICY);
        assert_eq!(&token.tsa_certificate, f.issuer.certificate());
    }

    #[test]
    fn wrong_nonce_imprint_anchor_and_missing_cert_are_caught() {
        let f = fixture();
        let imprint = [9u8; 32];
        let nonce = fresh_nonce().unwrap();
        let other_nonce = fresh_nonce().unwrap();
        let der = reply(&f, &imprint, &nonce, true);
        let now = OffsetDateTime::now_utc();
        let expect = |imprint, nonce| Expected {
            algorithm: DigestAlgorithm::Sha256,
            imprint,
            nonce,
        };
        let config = config_with_anchor(&f.root);
        assert!(matches!(
            check_reply(&der, &expect(&imprint, Some(&other_nonce)), &config, now),
            Err(ClientError::NonceMismatch)
        ));
        assert!(matches!(
            check_reply(&der, &expect(&[8u8; 32], Some(&nonce)), &config, now),
            Err(ClientError::ImprintMismatch)
        ));
        let stranger = fixture();
        assert!(matches!(
            check_reply(
                &der,
                &expect(&imprint, Some(&nonce)),
                &config_with_anchor(&stranger.root),
                now
            ),
            Err(ClientError::Untrusted { .. })
        ));
        let no_cert = reply(&f, &imprint, &nonce, false);
        assert!(matches!(
            check_reply(&no_cert, &expect(&imprint, Some(&nonce)), &config, now),
            Err(ClientError::NoTsaCertificate)
        ));
        let with_extra = ClientConfig {
            extra_certificates: vec![f.issuer.certificate().clone()],
            ..config.clone()
        };
        assert!(check_reply(&no_cert, &expect(&imprint, Some(&nonce)), &with_extra, now).is_ok());
        let policy = ClientConfig {
            policy: Some(ObjectIdentifier::new_unwrap("1.2.3.4")),
            ..config.clone()
        };
        assert!(matches!(
            check_reply(&der, &expect(&imprint, Some(&nonce)), &policy, now),
            Err(ClientError::PolicyMismatch { .. })
        ));
        let later = now + time::Duration::hours(2);
        assert!(matches!(
            check_reply(&der, &expect(&imprint, Some(&nonce)), &config, later),
            Err(ClientError::ClockSkew { .. })
        ));
    }

    #[test]
    fn every_tampered_byte_of_the_tst_info_is_caught() {
        let f = fixture();
        let imprint = [9u8; 32];
        let nonce = fresh_nonce().unwrap();
        let der = reply(&f, &imprint, &nonce, true);
        let config = config_with_anchor(&f.root);
        let now = OffsetDateTime::now_utc();
        let expect = Expected {
            algorithm: DigestAlgorithm::Sha256,
            imprint: &imprint,
            nonce: Some(&nonce),
        };
        // Find the serial number INTEGER 42 (02 01 2a) inside the TSTInfo and change it.
        let at = der
            .windows(3)
            .position(|w| w == [0x02, 0x01, 0x2a])
            .unwrap();
        let mut tampered = der.clone();
        tampered[at + 2] = 0x2b;
        assert!(matches!(
            check_reply(&tampered, &expect, &config, now),
            Err(ClientError::BadSignature { .. })
        ));
        // Flip a bit in the last byte (inside the signature or the signed data): never accepted.
        let mut tampered = der.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(check_reply(&tampered, &expect, &config, now).is_err());
        // Truncation and garbage.
        assert!(matches!(
            check_reply(&der[..der.len() / 2], &expect, &config, now),
            Err(ClientError::MalformedReply(_))
        ));
    }

    #[test]
    fn mutated_replies_are_refused_without_panic() {
        let f = fixture();
        let imprint = [9u8; 32];
        let nonce = fresh_nonce().unwrap();
        let der = reply(&f, &imprint, &nonce, true);
        let config = config_with_anchor(&f.root);
        let now = OffsetDateTime::now_utc();
        let expect = Expected {
            algorithm: DigestAlgorithm::Sha256,
            imprint: &imprint,
            nonce: Some(&nonce),
        };
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut accepted = 0;
        for _ in 0..3_000 {
            let mut m = der.clone();
            let i = (next() as usize) % m.len();
            let old = m[i];
            m[i] = next() as u8;
            let status_byte = i == 8 && m[i] == 1;
            if m[i] != old && !status_byte && check_reply(&m, &expect, &config, now).is_ok() {
                accepted += 1;
            }
        }
        // Every byte is covered: by the signature, the ESS hash of the certificate, the
        // certificate's own signature (path check), or a structural check. The one tolerated
        // change is the PKIStatus granted (0) → grantedWithMods (1).
        assert_eq!(accepted, 0);
    }

    #[test]
    fn a_rejection_is_reported_with_its_failure() {
        let der = crate::response::rejection(FailureInfo::BadAlg, "no SHA-1");
        let err = check_reply(
            &der,
            &Expected {
                algorithm: DigestAlgorithm::Sha256,
                imprint: &[0; 32],
                nonce: None,
            },
            &ClientConfig::default(),
            OffsetDateTime::now_utc(),
        )
        .unwrap_err();
        assert!(
            matches!(err, ClientError::Rejected { ref failures, .. } if failures == &[FailureInfo::BadAlg])
        );
        assert!(err.to_string().contains("no SHA-1"), "{err}");
        assert!(!err.is_transient());
    }

    #[tokio::test]
    async fn client_against_in_process_server() {
        let dir = tempfile::tempdir().unwrap();
        let chain = dev_chain::generate().unwrap();
        let root = chain.root.clone();
        let issuer = TokenIssuer::new(chain.identity, IssuerOptions::new(DEFAULT_POLICY)).unwrap();
        let store = Store::open(&dir.path().join("t.sqlite"), StoreOptions::default()).unwrap();
        let authority = Arc::new(TimeStampAuthority::new(
            issuer,
            store,
            Arc::new(SystemClock),
        ));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(crate::server::serve(
            listener,
            crate::server::AppState { authority },
            crate::server::Limits::default(),
            async {
                let _ = stopped.await;
            },
        ));
        let client = TsaClient::new(&format!("http://{addr}/"), config_with_anchor(&root)).unwrap();
        let digest = DigestAlgorithm::Sha256.digest(b"hello");
        let token = client
            .timestamp(DigestAlgorithm::Sha256, &digest)
            .await
            .unwrap();
        assert_eq!(
            token.tst_info.message_imprint.hashed_message.as_bytes(),
            digest
        );
        assert!(matches!(
            client.timestamp(DigestAlgorithm::Sha1, &[0; 20]).await,
            Err(ClientError::WeakDigest { .. })
        ));
        assert!(matches!(
            client.timestamp(DigestAlgorithm::Sha256, &[0; 20]).await,
            Err(ClientError::ImprintLength { .. })
        ));
        let wrong_policy = TsaClient::new(
            &format!("http://{addr}/"),
            ClientConfig {
                policy: Some(ObjectIdentifier::new_unwrap("1.2.3.4")),
                ..ClientConfig::default()
            },
        )
        .unwrap();
        let err = wrong_policy
            .timestamp(DigestAlgorithm::Sha256, &digest)
            .await
            .unwrap_err();
        assert!(
            matches!(err, ClientError::Rejected { ref failures, .. } if failures == &[FailureInfo::UnacceptedPolicy]),
            "{err}"
        );
        let _ = stop.send(());
        server.await.unwrap().unwrap();

        // Nothing listens any more: transport error after the configured attempts.
        let dead = TsaClient::new(
            &format!("http://{addr}/"),
            ClientConfig {
                attempts: 2,
                backoff: Duration::from_millis(1),
                ..ClientConfig::default()
            },
        )
        .unwrap();
        assert!(matches!(
            dead.timestamp(DigestAlgorithm::Sha256, &digest).await,
            Err(ClientError::Transport { attempts: 2, .. })
        ));
    }
}
