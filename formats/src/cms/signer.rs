//! One `SignerInfo` (RFC 5652 §5.3): its raw signed attributes, typed accessors, and the
//! generic verification that every CMS-based check shares.

use cms::signed_data::{SignerIdentifier, SignerInfo};
use const_oid::ObjectIdentifier;
use der::asn1::OctetString;
use der::Any;
use spki::AlgorithmIdentifierOwned;
use x509_cert::attr::Attributes;
use x509_cert::time::Time;
use x509_cert::Certificate;

use super::adbe::RevocationInfoArchival;
use super::algorithm_protection::CmsAlgorithmProtection;
use super::attr::{decode_single, single_value, time_to_offset, AttributeError};
use super::ber;
use super::ess::{self, EssCheck, SigningCertificate, SigningCertificateV2};
use crate::crypto::{self, DigestAlgorithm, SignatureError, SignatureScheme};
use crate::oids;

/// One signer of a [`super::SignedCms`], with the bytes its signature covers.
#[derive(Clone, Debug)]
pub struct SignerView {
    /// Position of the SignerInfo in the file (0-based).
    pub index: usize,
    /// The SignerInfo decoded from DER-normalised bytes. Its attribute sets are in DER
    /// order: never re-encode them to check the signature, use
    /// [`Self::signed_attrs_raw`].
    pub signer_info: SignerInfo,
    /// The signed attributes exactly as in the file, with the `[0]` tag replaced by the
    /// SET tag 0x31: the message the signature is over (RFC 5652 §5.4). `None` when the
    /// SignerInfo has no signed attributes (the signature is then over the content).
    pub signed_attrs_raw: Option<Vec<u8>>,
    /// The same, re-encoded from BER to DER without reordering, only when the file's
    /// encoding was not DER (tried when the raw bytes do not verify).
    signed_attrs_der: Option<Vec<u8>>,
    /// Values of the signature-time-stamp unsigned attributes, as in the file.
    timestamp_tokens: Vec<Vec<u8>>,
    /// `eContentType` of the SignedData, for the content-type check.
    econtent_type: ObjectIdentifier,
}

/// The message-digest check (RFC 5652 §11.2).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MdCheck {
    /// The attribute equals the content digest.
    Match,
    /// The attribute differs from the content digest: the content was changed.
    Mismatch {
        /// The digest of the content as the caller computed it.
        expected: Vec<u8>,
        /// The digest the signer recorded in the message-digest attribute.
        found: Vec<u8>,
    },
    /// Signed attributes are present but the message-digest attribute is not
    /// (RFC 5652 §5.3: it MUST be).
    Missing,
    /// The attribute is repeated, multi-valued or not an OCTET STRING.
    Malformed {
        /// What was wrong.
        reason: String,
    },
    /// The caller supplied no content digest (detached content not hashed), so the
    /// attribute could not be compared.
    NoContentDigest,
    /// No signed attributes: the signature itself is over the content digest, and
    /// [`SignerCheck::signature`] says whether it matches.
    NotApplicable,
}

/// The content-type check (RFC 5652 §11.1).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ContentTypeCheck {
    /// The attribute equals `eContentType`.
    Match,
    /// The attribute differs from `eContentType`.
    Mismatch {
        /// Dotted OID in the attribute.
        attribute: String,
        /// Dotted OID of `eContentType`.
        econtent_type: String,
    },
    /// Signed attributes are present but content-type is not (RFC 5652 §5.3: it MUST be).
    Missing,
    /// The attribute is repeated, multi-valued or not an OID.
    Malformed {
        /// What was wrong.
        reason: String,
    },
    /// No signed attributes.
    NotApplicable,
}

/// The cms-algorithm-protection check (RFC 6211).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AlgorithmProtectionCheck {
    /// The attribute is not present (it is optional).
    Absent,
    /// The attribute names the SignerInfo's algorithms.
    Consistent,
    /// The attribute names other algorithms: a sign of algorithm substitution.
    Inconsistent {
        /// What differs.
        reason: String,
    },
    /// The attribute does not decode or is repeated.
    Malformed {
        /// What was wrong.
        reason: String,
    },
}

/// Why the signature value could not be confirmed.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureCheckError {
    /// The cryptographic check failed or could not run (bad value, unsupported
    /// algorithm, key mismatch).
    #[error(transparent)]
    Crypto(#[from] SignatureError),
    /// Without signed attributes the signature is over the content digest, and the caller
    /// supplied none.
    #[error("no content digest was supplied for a signer without signed attributes")]
    ContentDigestMissing,
    /// Without signed attributes, the signature algorithm's digest differs from the
    /// `digestAlgorithm` the content was hashed with.
    #[error("signature algorithm hashes with {signature} but digestAlgorithm is {digest}")]
    AlgorithmMismatch {
        /// The SignerInfo's digest algorithm.
        digest: String,
        /// The signature scheme's digest.
        signature: String,
    },
}

/// The findings of [`SignerView::verify`]: a typed judgement, not an error.
#[derive(Debug, PartialEq, Eq)]
pub struct SignerCheck {
    /// message-digest attribute against the content digest.
    pub message_digest: MdCheck,
    /// The signature value against the certificate's key, and the scheme that verified.
    pub signature: Result<SignatureScheme, SignatureCheckError>,
    /// content-type attribute against `eContentType`.
    pub content_type: ContentTypeCheck,
    /// ESS signing-certificate(-v2) against the certificate.
    pub ess: EssCheck,
    /// cms-algorithm-protection against the SignerInfo's algorithms.
    pub algorithm_protection: AlgorithmProtectionCheck,
    /// Anomalies that do not by themselves fail the check (e.g. the signature verified
    /// only over the DER re-encoding of BER signed attributes).
    pub problems: Vec<String>,
}

impl SignerCheck {
    /// The signed data is unchanged: the signature verifies and the message digest
    /// matches (or, without signed attributes, the signature covers the content digest).
    pub fn is_intact(&self) -> bool {
        self.signature.is_ok()
            && matches!(self.message_digest, MdCheck::Match | MdCheck::NotApplicable)
    }

    /// Intact, and the signed attributes are consistent: content type, ESS reference
    /// and algorithm protection do not contradict the signature.
    pub fn is_valid(&self) -> bool {
        self.is_intact()
            && matches!(
                self.content_type,
                ContentTypeCheck::Match | ContentTypeCheck::NotApplicable
            )
            && self.ess.is_acceptable()
            && matches!(
                self.algorithm_protection,
                AlgorithmProtectionCheck::Absent | AlgorithmProtectionCheck::Consistent
            )
    }
}

impl SignerView {
    pub(super) fn from_node(
        index: usize,
        signer_info: SignerInfo,
        node: &ber::Node,
        input: &[u8],
        econtent_type: ObjectIdentifier,
    ) -> SignerView {
        // SignerInfo ::= SEQUENCE { version, sid, digestAlgorithm,
        //   signedAttrs [0] IMPLICIT OPTIONAL, signatureAlgorithm, signature,
        //   unsignedAttrs [1] IMPLICIT OPTIONAL }
        let signed = node.child(3).filter(|n| n.tag == ber::Tag::context(0));
        let retag = |mut bytes: Vec<u8>| {
            if let Some(first) = bytes.first_mut() {
                *first = 0x31;
            }
            bytes
        };
        let signed_attrs_raw = signed.map(|n| retag(n.raw(input).to_vec()));
        let signed_attrs_der = signed
            .filter(|n| !n.is_der())
            .map(|n| retag(n.to_der(input)));
        let unsigned = node
            .children
            .last()
            .filter(|n| n.tag == ber::Tag::context(1) && node.children.len() >= 6);
        let mut timestamp_tokens = Vec::new();
        for attr in unsigned.iter().flat_map(|n| n.children.iter()) {
            let is_tst = attr
                .child(0)
                .filter(|n| n.tag == ber::Tag::OID)
                .is_some_and(|n| {
                    n.value_bytes(input) == oids::ID_AA_SIGNATURE_TIME_STAMP_TOKEN.as_bytes()
                });
            if let (true, Some(values)) = (is_tst, attr.child(1)) {
                timestamp_tokens.extend(values.children.iter().map(|v| v.raw(input).to_vec()));
            }
        }
        SignerView {
            index,
            signer_info,
            signed_attrs_raw,
            signed_attrs_der,
            timestamp_tokens,
            econtent_type,
        }
    }

    /// The signer identifier (issuer and serial number, or subject key identifier).
    pub fn sid(&self) -> &SignerIdentifier {
        &self.signer_info.sid
    }

    /// The `digestAlgorithm` as written.
    pub fn digest_algorithm_id(&self) -> &AlgorithmIdentifierOwned {
        &self.signer_info.digest_alg
    }

    /// The digest algorithm the content must be hashed with before [`Self::verify`];
    /// an error names an algorithm we do not support.
    pub fn digest_algorithm(&self) -> Result<DigestAlgorithm, SignatureError> {
        let oid = &self.signer_info.digest_alg.oid;
        DigestAlgorithm::from_oid(oid).ok_or_else(|| SignatureError::UnsupportedAlgorithm {
            oid: oid.to_string(),
        })
    }

    /// The `signatureAlgorithm` as written.
    pub fn signature_algorithm(&self) -> &AlgorithmIdentifierOwned {
        &self.signer_info.signature_algorithm
    }

    /// The signature value.
    pub fn signature_value(&self) -> &[u8] {
        self.signer_info.signature.as_bytes()
    }

    /// The decoded signed attributes (in DER order).
    pub fn signed_attributes(&self) -> Option<&Attributes> {
        self.signer_info.signed_attrs.as_ref()
    }

    /// The decoded unsigned attributes (in DER order).
    pub fn unsigned_attributes(&self) -> Option<&Attributes> {
        self.signer_info.unsigned_attrs.as_ref()
    }

    /// The single value of signed attribute `oid`.
    pub fn signed_attribute(&self, oid: ObjectIdentifier) -> Result<Option<&Any>, AttributeError> {
        single_value(self.signed_attributes(), oid)
    }

    /// The content-type signed attribute.
    pub fn content_type(&self) -> Result<Option<ObjectIdentifier>, AttributeError> {
        decode_single(self.signed_attributes(), oids::ID_CONTENT_TYPE)
    }

    /// The message-digest signed attribute.
    pub fn message_digest(&self) -> Result<Option<Vec<u8>>, AttributeError> {
        let md: Option<OctetString> =
            decode_single(self.signed_attributes(), oids::ID_MESSAGE_DIGEST)?;
        Ok(md.map(OctetString::into_bytes))
    }

    /// The signing-time signed attribute (the signer's claim, not a trusted time).
    pub fn signing_time(&self) -> Result<Option<time::OffsetDateTime>, AttributeError> {
        let t: Option<Time> = decode_single(self.signed_attributes(), oids::ID_SIGNING_TIME)?;
        Ok(t.and_then(time_to_offset))
    }

    /// The ESS signing-certificate-v2 signed attribute (RFC 5035).
    pub fn signing_certificate_v2(&self) -> Result<Option<SigningCertificateV2>, AttributeError> {
        decode_single(self.signed_attributes(), oids::ID_AA_SIGNING_CERTIFICATE_V2)
    }

    /// The ESS signing-certificate signed attribute (RFC 2634).
    pub fn signing_certificate(&self) -> Result<Option<SigningCertificate>, AttributeError> {
        decode_single(self.signed_attributes(), oids::ID_AA_SIGNING_CERTIFICATE)
    }

    /// The cms-algorithm-protection signed attribute (RFC 6211).
    pub fn algorithm_protection(&self) -> Result<Option<CmsAlgorithmProtection>, AttributeError> {
        decode_single(
            self.signed_attributes(),
            oids::ID_AA_CMS_ALGORITHM_PROTECTION,
        )
    }

    /// Adobe's revocationInfoArchival signed attribute.
    pub fn revocation_info_archival(
        &self,
    ) -> Result<Option<RevocationInfoArchival>, AttributeError> {
        decode_single(
            self.signed_attributes(),
            oids::ADBE_REVOCATION_INFO_ARCHIVAL,
        )
    }

    /// Each value of the signature-time-stamp-token unsigned attributes (RFC 3161
    /// Appendix A): a `ContentInfo` exactly as in the file, for
    /// [`crate::tsp::parse_timestamp_token`]. Its message imprint covers
    /// [`Self::signature_value`].
    pub fn signature_time_stamp_tokens(&self) -> &[Vec<u8>] {
        &self.timestamp_tokens
    }

    /// Checks the signer against `cert` and the digest of the content (hashed by the
    /// caller with [`Self::digest_algorithm`]; for an attached signature see
    /// [`super::SignedCms::content_digest`]).
    ///
    /// With signed attributes the message digest is compared and the signature is
    /// verified over [`Self::signed_attrs_raw`]; without, the signature is verified over
    /// `content_digest` directly (some `adbe.pkcs7.detached` producers do this).
    pub fn verify(&self, cert: &Certificate, content_digest: Option<&[u8]>) -> SignerCheck {
        let spki = &cert.tbs_certificate.subject_public_key_info;
        let mut problems = Vec::new();
        let digest_alg = self.digest_algorithm();
        if let (Ok(d), Some(c)) = (&digest_alg, content_digest) {
            if c.len() != d.output_len() {
                problems.push(format!(
                    "the content digest has {} bytes; {} produces {}",
                    c.len(),
                    d.name(),
                    d.output_len()
                ));
            }
        }

        let Some(raw) = &self.signed_attrs_raw else {
            let signature = match (digest_alg, content_digest) {
                (Err(e), _) => Err(e.into()),
                (Ok(_), None) => Err(SignatureCheckError::ContentDigestMissing),
                (Ok(d), Some(c)) => self.verify_over_content(spki, d, c),
            };
            return SignerCheck {
                message_digest: MdCheck::NotApplicable,
                signature,
                content_type: ContentTypeCheck::NotApplicable,
                ess: EssCheck::Absent,
                algorithm_protection: AlgorithmProtectionCheck::Absent,
                problems,
            };
        };

        let message_digest = match (self.message_digest(), content_digest) {
            (Err(e), _) => MdCheck::Malformed {
                reason: e.to_string(),
            },
            (Ok(None), _) => MdCheck::Missing,
            (Ok(Some(_)), None) => MdCheck::NoContentDigest,
            (Ok(Some(found)), Some(expected)) if found == expected => MdCheck::Match,
            (Ok(Some(found)), Some(expected)) => MdCheck::Mismatch {
                expected: expected.to_vec(),
                found,
            },
        };

        let signature = match digest_alg {
            Err(e) => Err(e.into()),
            Ok(d) => {
                let sig = self.signature_value();
                let alg = self.signature_algorithm();
                let mut res = crypto::verify_signature(spki, alg, Some(d), raw, sig);
                if let (Err(SignatureError::Invalid), Some(der)) = (&res, &self.signed_attrs_der) {
                    let retry = crypto::verify_signature(spki, alg, Some(d), der, sig);
                    if retry.is_ok() {
                        problems.push("the signature verifies only over the DER re-encoding of the BER signed attributes".into());
                        res = retry;
                    }
                }
                if let Ok(scheme) = &res {
                    if scheme.digest() != d {
                        problems.push(format!(
                            "the signature algorithm hashes with {} but digestAlgorithm is {}",
                            scheme.digest().name(),
                            d.name()
                        ));
                    }
                }
                res.map_err(SignatureCheckError::from)
            }
        };

        let content_type = match self.content_type() {
            Err(e) => ContentTypeCheck::Malformed {
                reason: e.to_string(),
            },
            Ok(None) => ContentTypeCheck::Missing,
            Ok(Some(ct)) if ct == self.econtent_type => ContentTypeCheck::Match,
            Ok(Some(ct)) => ContentTypeCheck::Mismatch {
                attribute: ct.to_string(),
                econtent_type: self.econtent_type.to_string(),
            },
        };

        let ess = ess::check_signing_certificate(
            self.signing_certificate_v2(),
            self.signing_certificate(),
            cert,
        );

        let algorithm_protection = match self.algorithm_protection() {
            Err(e) => AlgorithmProtectionCheck::Malformed {
                reason: e.to_string(),
            },
            Ok(None) => AlgorithmProtectionCheck::Absent,
            Ok(Some(p)) => match p.check(self.digest_algorithm_id(), self.signature_algorithm()) {
                Ok(()) => AlgorithmProtectionCheck::Consistent,
                Err(reason) => AlgorithmProtectionCheck::Inconsistent { reason },
            },
        };

        SignerCheck {
            message_digest,
            signature,
            content_type,
            ess,
            algorithm_protection,
            problems,
        }
    }

    fn verify_over_content(
        &self,
        spki: &spki::SubjectPublicKeyInfoOwned,
        digest: DigestAlgorithm,
        content_digest: &[u8],
    ) -> Result<SignatureScheme, SignatureCheckError> {
        let scheme = SignatureScheme::from_algorithm(self.signature_algorithm(), Some(digest))?;
        if scheme.digest() != digest {
            return Err(SignatureCheckError::AlgorithmMismatch {
                digest: digest.name().into(),
                signature: scheme.digest().name().into(),
            });
        }
        crypto::verify_prehashed(spki, scheme, content_digest, self.signature_value())?;
        Ok(scheme)
    }
}
