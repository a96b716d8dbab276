//! RFC 3161 time-stamp tokens: a CMS `SignedData` whose content is a `TSTInfo`.
//!
//! Used three ways: signature time-stamps (PAdES B-T, the unsigned attribute of a
//! SignerInfo), document time-stamps (`/SubFilter /ETSI.RFC3161`), and by the TSA client
//! to check a reply. The TSA's signature is checked with the generic
//! [`SignerView::verify`]; the message imprint with [`TimeStampToken::check_imprint`].
//!
//! `TSTInfo` is decoded with `x509_tsp::TstInfo`, whose `GeneralizedTime` (from `der`)
//! rejects fractional seconds, which RFC 3161 §2.4.2 allows and many TSAs write. The
//! fraction is therefore read here ([`TimeStampToken::gen_time`] keeps it) and removed
//! from a private copy before decoding; the signature is still checked over the
//! `TSTInfo` bytes exactly as in the token.

use const_oid::ObjectIdentifier;
use der::Decode;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::Certificate;
use x509_tsp::TstInfo;

use crate::cms::{
    self, ber, parse_signed_cms, CmsError, MdCheck, SignatureCheckError, SignedCms, SignerCheck,
    SignerView,
};
use crate::crypto::DigestAlgorithm;
use crate::oids;

/// Why bytes are not a time-stamp token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TspError {
    /// Not a readable CMS `SignedData`.
    #[error("time-stamp token: {0}")]
    Cms(#[from] CmsError),
    /// The encapsulated content is not a TSTInfo.
    #[error("time-stamp token content type is {content_type}, not id-ct-TSTInfo")]
    NotTstInfo {
        /// Dotted OID found.
        content_type: String,
    },
    /// The token has no encapsulated TSTInfo (it is detached).
    #[error("time-stamp token has no encapsulated TSTInfo")]
    MissingTstInfo,
    /// RFC 3161 §2.4.2: the token carries exactly one signature, the TSA's.
    #[error("time-stamp token has {count} signers; exactly one (the TSA) is required")]
    SignerCount {
        /// Number of SignerInfos.
        count: usize,
    },
    /// The TSTInfo is not the expected SEQUENCE or its genTime is malformed.
    #[error("malformed TSTInfo: {reason}")]
    TstInfoShape {
        /// What was wrong.
        reason: String,
    },
    /// The TSTInfo does not decode.
    #[error("malformed TSTInfo: {source}")]
    TstInfo {
        /// The decoder's complaint.
        source: der::Error,
    },
}

/// Whether a message imprint covers the data.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ImprintCheck {
    /// The imprint equals the digest of the data.
    Match,
    /// The imprint differs.
    Mismatch {
        /// Digest of the data, as computed.
        expected: Vec<u8>,
        /// The imprint in the token.
        found: Vec<u8>,
    },
    /// The imprint's hash algorithm is not one we support.
    UnsupportedAlgorithm {
        /// Dotted OID.
        oid: String,
    },
}

/// A parsed RFC 3161 time-stamp token.
#[derive(Clone, Debug)]
pub struct TimeStampToken {
    /// The token's CMS (exactly one signer, the TSA).
    pub cms: SignedCms,
    /// The decoded TSTInfo (its `gen_time` truncated to whole seconds; see
    /// [`TimeStampToken::gen_time`]).
    pub tst_info: TstInfo,
    /// The TSTInfo DER exactly as in the token: what the TSA's message digest covers.
    pub tst_info_der: Vec<u8>,
    gen_time: time::OffsetDateTime,
}

/// Parses a time-stamp token: a `ContentInfo` with `SignedData` whose `eContentType` is
/// id-ct-TSTInfo (RFC 3161 §2.4.2). Trailing zero padding is ignored (a document
/// time-stamp's `/Contents`).
pub fn parse_timestamp_token(der: &[u8]) -> Result<TimeStampToken, TspError> {
    let cms = parse_signed_cms(der)?;
    if cms.content_type != oids::ID_CT_TST_INFO {
        return Err(TspError::NotTstInfo {
            content_type: cms.content_type.to_string(),
        });
    }
    if cms.signers.len() != 1 {
        return Err(TspError::SignerCount {
            count: cms.signers.len(),
        });
    }
    let tst_info_der = cms.content.clone().ok_or(TspError::MissingTstInfo)?;
    let (decodable, gen_time) = decodable_tst_info(&tst_info_der)?;
    let tst_info = TstInfo::from_der(&decodable).map_err(|source| TspError::TstInfo { source })?;
    Ok(TimeStampToken {
        cms,
        tst_info,
        tst_info_der,
        gen_time,
    })
}

/// The TSTInfo in a form `x509_tsp` decodes (DER, whole-second genTime), and genTime
/// with its fraction.
fn decodable_tst_info(tst: &[u8]) -> Result<(Vec<u8>, time::OffsetDateTime), TspError> {
    let shape = |reason: &str| TspError::TstInfoShape {
        reason: reason.to_string(),
    };
    let root = ber::parse(tst).map_err(|e| shape(&e.to_string()))?;
    if root.tag != ber::Tag::SEQUENCE || root.end != tst.len() {
        return Err(shape("not a single SEQUENCE"));
    }
    // TSTInfo ::= SEQUENCE { version, policy, messageImprint, serialNumber, genTime, ... }
    let gen = root
        .child(4)
        .filter(|n| n.tag == ber::Tag::GENERALIZED_TIME)
        .ok_or_else(|| shape("genTime missing"))?;
    let text = gen.value_bytes(tst);
    let gen_time =
        parse_generalized_time(text).ok_or_else(|| shape("genTime is not YYYYMMDDHHMMSS[.f]Z"))?;
    let has_fraction = text.len() > 15;
    if root.is_der() && !has_fraction {
        return Ok((tst.to_vec(), gen_time));
    }
    let mut content = Vec::new();
    for (i, child) in root.children.iter().enumerate() {
        if i == 4 && has_fraction {
            let mut whole = text.get(..14).unwrap_or_default().to_vec();
            whole.push(b'Z');
            content.extend(ber::wrap(0x18, &whole));
        } else {
            content.extend(child.to_der(tst));
        }
    }
    Ok((ber::wrap(0x30, &content), gen_time))
}

/// Parses `YYYYMMDDHHMMSS[.f{1,9}]Z` (RFC 3161 §2.4.2; digits past nanoseconds are
/// dropped).
fn parse_generalized_time(s: &[u8]) -> Option<time::OffsetDateTime> {
    let (body, rest) = (s.get(..14)?, s.get(14..)?);
    if !body.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let num = |r: core::ops::Range<usize>| -> Option<u32> {
        body.get(r)?
            .iter()
            .try_fold(0u32, |acc, d| Some(acc * 10 + u32::from(d - b'0')))
    };
    let nanos = match rest {
        [b'Z'] => 0,
        [b'.', frac @ .., b'Z'] if !frac.is_empty() && frac.iter().all(u8::is_ascii_digit) => {
            let mut n = 0u32;
            for i in 0..9 {
                n = n * 10 + frac.get(i).map_or(0, |d| u32::from(d - b'0'));
            }
            n
        }
        _ => return None,
    };
    let month = time::Month::try_from(u8::try_from(num(4..6)?).ok()?).ok()?;
    let date = time::Date::from_calendar_date(
        i32::try_from(num(0..4)?).ok()?,
        month,
        u8::try_from(num(6..8)?).ok()?,
    )
    .ok()?;
    let t = time::Time::from_hms_nano(
        u8::try_from(num(8..10)?).ok()?,
        u8::try_from(num(10..12)?).ok()?,
        u8::try_from(num(12..14)?).ok()?,
        nanos,
    )
    .ok()?;
    Some(time::PrimitiveDateTime::new(date, t).assume_utc())
}

impl TimeStampToken {
    /// The TSA's signer.
    pub fn signer(&self) -> Option<&SignerView> {
        self.cms.signers.first()
    }

    /// The time the TSA vouches for, with any fractional seconds.
    pub fn gen_time(&self) -> time::OffsetDateTime {
        self.gen_time
    }

    /// The message imprint's hash algorithm, if supported.
    pub fn imprint_algorithm(&self) -> Option<DigestAlgorithm> {
        DigestAlgorithm::from_oid(&self.tst_info.message_imprint.hash_algorithm.oid)
    }

    /// The message imprint: the digest of the time-stamped data.
    pub fn imprint(&self) -> &[u8] {
        self.tst_info.message_imprint.hashed_message.as_bytes()
    }

    /// Hashes `data` with the imprint's algorithm and compares.
    pub fn check_imprint(&self, data: &[u8]) -> ImprintCheck {
        match self.imprint_algorithm() {
            Some(alg) => self.check_imprint_digest(&alg.digest(data)),
            None => self.unsupported_imprint(),
        }
    }

    /// Compares a digest computed by the caller (with [`Self::imprint_algorithm`]), for
    /// data that is streamed (a document time-stamp's byte ranges).
    pub fn check_imprint_digest(&self, digest: &[u8]) -> ImprintCheck {
        if self.imprint_algorithm().is_none() {
            return self.unsupported_imprint();
        }
        if digest == self.imprint() {
            ImprintCheck::Match
        } else {
            ImprintCheck::Mismatch {
                expected: digest.to_vec(),
                found: self.imprint().to_vec(),
            }
        }
    }

    fn unsupported_imprint(&self) -> ImprintCheck {
        ImprintCheck::UnsupportedAlgorithm {
            oid: self.tst_info.message_imprint.hash_algorithm.oid.to_string(),
        }
    }

    /// The TSA's certificate, from the token's certificates then `extra`.
    pub fn tsa_certificate(&self, extra: &[Certificate]) -> Option<Certificate> {
        let signer = self.signer()?;
        self.cms.find_signer_certificate(signer, extra)
    }

    /// Checks the TSA's signature: the message digest against the TSTInfo bytes as in
    /// the token, the signature over the signed attributes, content type and ESS
    /// signing-certificate (which RFC 3161 §2.4.1 / RFC 5816 require: its absence is
    /// reported in [`SignerCheck::problems`]).
    pub fn verify_signature(&self, tsa_cert: &Certificate) -> SignerCheck {
        let Some(signer) = self.signer() else {
            return SignerCheck {
                message_digest: MdCheck::NoContentDigest,
                signature: Err(SignatureCheckError::ContentDigestMissing),
                content_type: cms::ContentTypeCheck::Missing,
                ess: cms::EssCheck::Absent,
                algorithm_protection: cms::AlgorithmProtectionCheck::Absent,
                problems: vec!["the token has no signer".into()],
            };
        };
        let digest = signer
            .digest_algorithm()
            .ok()
            .map(|d| d.digest(&self.tst_info_der));
        let mut check = signer.verify(tsa_cert, digest.as_deref());
        if check.ess == cms::EssCheck::Absent {
            check.problems.push(
                "the TSA's signer has no ESS signing-certificate attribute (RFC 3161 §2.4.1)"
                    .into(),
            );
        }
        check
    }

    /// The token's serial number (big-endian two's complement, as encoded).
    pub fn serial_number(&self) -> &[u8] {
        self.tst_info.serial_number.as_bytes()
    }

    /// The TSA policy under which the token was issued.
    pub fn policy(&self) -> ObjectIdentifier {
        self.tst_info.policy
    }

    /// The nonce copied from the request, if any (big-endian two's complement).
    pub fn nonce(&self) -> Option<&[u8]> {
        self.tst_info.nonce.as_ref().map(|n| n.as_bytes())
    }

    /// The accuracy of `gen_time` (RFC 3161 §2.4.2), if stated (and representable).
    pub fn accuracy(&self) -> Option<time::Duration> {
        let a = self.tst_info.accuracy.as_ref()?;
        let secs = i64::try_from(a.seconds.unwrap_or(0)).ok()?;
        time::Duration::seconds(secs)
            .checked_add(time::Duration::milliseconds(i64::from(
                a.millis.unwrap_or(0),
            )))?
            .checked_add(time::Duration::microseconds(i64::from(
                a.micros.unwrap_or(0),
            )))
    }

    /// Whether the TSA claims ordering by `gen_time` alone.
    pub fn ordering(&self) -> bool {
        self.tst_info.ordering
    }

    /// The TSA's name as stated in the token, if any.
    pub fn tsa_name(&self) -> Option<&GeneralName> {
        self.tst_info.tsa.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cms::tests::{recorded_digest, vector};
    use crate::cms::EssCheck;
    use crate::crypto::SignatureScheme;

    fn signature_timestamp() -> (SignedCms, TimeStampToken) {
        let cms = parse_signed_cms(&vector("pyhanko-b-t-p256.p7s")).unwrap();
        let tokens = cms.signers[0].signature_time_stamp_tokens();
        assert_eq!(tokens.len(), 1);
        let token = parse_timestamp_token(&tokens[0]).unwrap();
        (cms, token)
    }

    #[test]
    fn pades_signature_timestamp_covers_the_signature_and_verifies() {
        let (cms, token) = signature_timestamp();
        // the signature itself is intact
        let signer = &cms.signers[0];
        let cert = cms.find_signer_certificate(signer, &[]).unwrap();
        assert!(signer
            .verify(&cert, Some(&recorded_digest("pyhanko-b-t-p256.sha256")))
            .is_valid());
        // the token's imprint is the SHA-256 of the signature value (RFC 3161 App. A)
        assert_eq!(token.imprint_algorithm(), Some(DigestAlgorithm::Sha256));
        assert_eq!(
            token.check_imprint(signer.signature_value()),
            ImprintCheck::Match
        );
        assert!(matches!(
            token.check_imprint(b"something else"),
            ImprintCheck::Mismatch { .. }
        ));
        let tsa = token.tsa_certificate(&[]).unwrap();
        let check = token.verify_signature(&tsa);
        assert!(check.is_valid(), "{check:?}");
        assert_eq!(check.ess, EssCheck::Match { v2: true });
        assert!(check.problems.is_empty(), "{:?}", check.problems);
        assert_eq!(
            token.gen_time(),
            time::macros::datetime!(2026-11-22 16:12:06 UTC)
        );
        assert_eq!(token.serial_number(), [29]);
        assert_eq!(token.policy().to_string(), "1.3.6.1.4.1.55555.1.1");
        assert!(token.nonce().is_some());
        assert_eq!(token.accuracy(), Some(time::Duration::seconds(1)));
        assert!(!token.ordering());
        assert!(token.tsa_name().is_some());
        // the signer's certificate is not the TSA's
        assert!(!token.verify_signature(&cert).is_intact());
    }

    #[test]
    fn altered_tst_info_fails_the_message_digest() {
        let (_, token) = signature_timestamp();
        let mut tampered = token.clone();
        let last = tampered.tst_info_der.len() - 1;
        tampered.tst_info_der[last] ^= 1;
        let tsa = token.tsa_certificate(&[]).unwrap();
        let check = tampered.verify_signature(&tsa);
        assert!(matches!(check.message_digest, MdCheck::Mismatch { .. }));
        assert!(check.signature.is_ok());
        assert!(!check.is_intact());
    }

    #[test]
    fn document_timestamp_verifies_with_rsa_encryption_algorithm() {
        let mut bytes = vector("pyhanko-doc-timestamp.p7s");
        bytes.extend([0u8; 300]); // /Contents padding
        let token = parse_timestamp_token(&bytes).unwrap();
        let digest = recorded_digest("pyhanko-doc-timestamp.sha256");
        assert_eq!(token.check_imprint_digest(&digest), ImprintCheck::Match);
        let tsa = token.tsa_certificate(&[]).unwrap();
        let check = token.verify_signature(&tsa);
        // signatureAlgorithm is rsaEncryption: the digest comes from digestAlgorithm
        assert_eq!(
            check.signature,
            Ok(SignatureScheme::RsaPkcs1(DigestAlgorithm::Sha256))
        );
        assert!(check.is_valid(), "{check:?}");
        assert!(token.cms.signers[0].signing_time().unwrap().is_some());
    }

    #[test]
    fn openssl_token_with_fractional_seconds_and_ess_v1() {
        let token = parse_timestamp_token(&vector("openssl-ts-token.der")).unwrap();
        assert_eq!(token.gen_time().millisecond(), 194);
        assert_eq!(
            token.gen_time().replace_millisecond(0).unwrap(),
            time::OffsetDateTime::from_unix_timestamp(
                token.tst_info.gen_time.to_unix_duration().as_secs() as i64
            )
            .unwrap()
        );
        assert_eq!(
            token.check_imprint(&vector("openssl-data.txt")),
            ImprintCheck::Match
        );
        assert_eq!(
            token.accuracy(),
            Some(
                time::Duration::seconds(1)
                    + time::Duration::milliseconds(500)
                    + time::Duration::microseconds(100)
            )
        );
        assert!(token.ordering());
        assert!(token.nonce().is_some());
        let tsa = token.tsa_certificate(&[]).unwrap();
        let check = token.verify_signature(&tsa);
        assert!(check.is_valid(), "{check:?}");
        assert_eq!(check.ess, EssCheck::Match { v2: false });
    }

    #[test]
    fn generalized_time_forms() {
        let t = parse_generalized_time(b"20261122161206.5Z").unwrap();
        assert_eq!(t.nanosecond(), 500_000_000);
        let t = parse_generalized_time(b"20261122161206.1234567891Z").unwrap();
        assert_eq!(t.nanosecond(), 123_456_789);
        assert!(parse_generalized_time(b"20261122161206Z").is_some());
        for bad in [
            &b"20261122161206"[..],
            b"20261122161206.Z",
            b"202611221612Z",
            b"20261322161206Z",
            b"2026112216120xZ",
            b"20261122161206+0100",
            b"",
        ] {
            assert!(parse_generalized_time(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn signed_data_of_another_content_type_is_not_a_token() {
        assert!(matches!(
            parse_timestamp_token(&vector("pyhanko-b-b-p256.p7s")),
            Err(TspError::NotTstInfo { .. })
        ));
        assert!(matches!(
            parse_timestamp_token(b"\x30\x00"),
            Err(TspError::Cms(_))
        ));
    }

    #[test]
    fn corrupted_tokens_never_panic() {
        let bytes = vector("openssl-ts-token.der");
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0xff;
            if let Ok(t) = parse_timestamp_token(&b) {
                if i % 8 == 0 {
                    if let Some(c) = t.tsa_certificate(&[]) {
                        let _ = t.verify_signature(&c);
                    }
                }
                let _ = t.accuracy();
            }
            let _ = parse_timestamp_token(&bytes[..i]);
        }
    }
}
