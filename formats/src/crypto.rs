//! Digests and signature verification shared by every check that looks at a signature:
//! CMS SignerInfos, certificates, CRLs, OCSP responses and time-stamp tokens.
//!
//! Verification only: private-key operations live with `ring` in the signing code.
//! Supported: RSA PKCS#1 v1.5 and RSASSA-PSS (RFC 8017), ECDSA over P-256 and P-384
//! (RFC 5758), with SHA-1 (legacy, reported by callers), SHA-256, SHA-384 and SHA-512.

use const_oid::ObjectIdentifier;
use der::{Decode, Encode};
use sha2::Digest;
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

use crate::oids;

/// A digest algorithm named by a CMS `DigestAlgorithmIdentifier`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum DigestAlgorithm {
    /// SHA-1 (legacy: accepted for reading old signatures, never produced).
    Sha1,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl DigestAlgorithm {
    /// The algorithm named by `oid`, if supported.
    pub fn from_oid(oid: &ObjectIdentifier) -> Option<Self> {
        match *oid {
            oids::SHA1 => Some(Self::Sha1),
            oids::SHA256 => Some(Self::Sha256),
            oids::SHA384 => Some(Self::Sha384),
            oids::SHA512 => Some(Self::Sha512),
            _ => None,
        }
    }

    /// The algorithm's object identifier.
    pub fn oid(self) -> ObjectIdentifier {
        match self {
            Self::Sha1 => oids::SHA1,
            Self::Sha256 => oids::SHA256,
            Self::Sha384 => oids::SHA384,
            Self::Sha512 => oids::SHA512,
        }
    }

    /// The algorithm identifier with absent parameters (RFC 5754 §2: "MUST omit").
    pub fn algorithm_identifier(self) -> AlgorithmIdentifierOwned {
        AlgorithmIdentifierOwned {
            oid: self.oid(),
            parameters: None,
        }
    }

    /// Length of the digest in bytes.
    pub fn output_len(self) -> usize {
        match self {
            Self::Sha1 => 20,
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }

    /// A short human name (`SHA-256`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Sha1 => "SHA-1",
            Self::Sha256 => "SHA-256",
            Self::Sha384 => "SHA-384",
            Self::Sha512 => "SHA-512",
        }
    }

    /// Digest of `data` in one call.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        let mut h = self.hasher();
        h.update(data);
        h.finalize()
    }

    /// An incremental hasher, for content that is streamed.
    pub fn hasher(self) -> Hasher {
        match self {
            Self::Sha1 => Hasher::Sha1(sha1::Sha1::new()),
            Self::Sha256 => Hasher::Sha256(sha2::Sha256::new()),
            Self::Sha384 => Hasher::Sha384(sha2::Sha384::new()),
            Self::Sha512 => Hasher::Sha512(sha2::Sha512::new()),
        }
    }
}

/// An incremental hasher for one [`DigestAlgorithm`].
#[derive(Clone)]
pub enum Hasher {
    /// SHA-1 state.
    Sha1(sha1::Sha1),
    /// SHA-256 state.
    Sha256(sha2::Sha256),
    /// SHA-384 state.
    Sha384(sha2::Sha384),
    /// SHA-512 state.
    Sha512(sha2::Sha512),
}

impl Hasher {
    /// Feeds `data`.
    pub fn update(&mut self, data: &[u8]) {
        match self {
            Self::Sha1(h) => h.update(data),
            Self::Sha256(h) => h.update(data),
            Self::Sha384(h) => h.update(data),
            Self::Sha512(h) => h.update(data),
        }
    }

    /// The digest of everything fed.
    pub fn finalize(self) -> Vec<u8> {
        match self {
            Self::Sha1(h) => h.finalize().to_vec(),
            Self::Sha256(h) => h.finalize().to_vec(),
            Self::Sha384(h) => h.finalize().to_vec(),
            Self::Sha512(h) => h.finalize().to_vec(),
        }
    }
}

/// The public-key side of a signature algorithm, as found in a certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum KeyKind {
    /// RSA with a modulus of this many bits.
    Rsa {
        /// Modulus length in bits.
        bits: usize,
    },
    /// ECDSA over NIST P-256.
    EcP256,
    /// ECDSA over NIST P-384.
    EcP384,
}

/// A signature scheme resolved from an `AlgorithmIdentifier` (and, for CMS, the digest).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum SignatureScheme {
    /// RSASSA-PKCS1-v1_5 with the digest.
    RsaPkcs1(DigestAlgorithm),
    /// RSASSA-PSS with the digest (also used for MGF1) and salt length.
    RsaPss {
        /// Message digest and MGF1 digest.
        digest: DigestAlgorithm,
        /// Salt length in bytes.
        salt_len: usize,
    },
    /// ECDSA with the digest; the curve comes from the key.
    Ecdsa(DigestAlgorithm),
}

impl SignatureScheme {
    /// The digest the scheme hashes the message with.
    pub fn digest(self) -> DigestAlgorithm {
        match self {
            Self::RsaPkcs1(d) | Self::Ecdsa(d) => d,
            Self::RsaPss { digest, .. } => digest,
        }
    }

    /// A short human name (`ECDSA with SHA-256`).
    pub fn name(self) -> String {
        match self {
            Self::RsaPkcs1(d) => format!("RSA PKCS#1 v1.5 with {}", d.name()),
            Self::RsaPss { digest, .. } => format!("RSASSA-PSS with {}", digest.name()),
            Self::Ecdsa(d) => format!("ECDSA with {}", d.name()),
        }
    }

    /// Resolves a signature `AlgorithmIdentifier`. `digest_hint` is the CMS
    /// `digestAlgorithm`, used when the identifier names only the key type
    /// (`rsaEncryption`, `id-ecPublicKey`), as some producers write in SignerInfo.
    pub fn from_algorithm(
        alg: &AlgorithmIdentifierOwned,
        digest_hint: Option<DigestAlgorithm>,
    ) -> Result<Self, SignatureError> {
        let need_hint = || {
            digest_hint.ok_or(SignatureError::UnsupportedAlgorithm {
                oid: alg.oid.to_string(),
            })
        };
        Ok(match alg.oid {
            oids::SHA1_WITH_RSA => Self::RsaPkcs1(DigestAlgorithm::Sha1),
            oids::SHA256_WITH_RSA => Self::RsaPkcs1(DigestAlgorithm::Sha256),
            oids::SHA384_WITH_RSA => Self::RsaPkcs1(DigestAlgorithm::Sha384),
            oids::SHA512_WITH_RSA => Self::RsaPkcs1(DigestAlgorithm::Sha512),
            oids::RSA_ENCRYPTION => Self::RsaPkcs1(need_hint()?),
            oids::ECDSA_WITH_SHA256 => Self::Ecdsa(DigestAlgorithm::Sha256),
            oids::ECDSA_WITH_SHA384 => Self::Ecdsa(DigestAlgorithm::Sha384),
            oids::ECDSA_WITH_SHA512 => Self::Ecdsa(DigestAlgorithm::Sha512),
            oids::EC_PUBLIC_KEY => Self::Ecdsa(need_hint()?),
            oids::RSASSA_PSS => pss_scheme(alg)?,
            _ => {
                return Err(SignatureError::UnsupportedAlgorithm {
                    oid: alg.oid.to_string(),
                })
            }
        })
    }
}

/// Why a signature could not be verified.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureError {
    /// The signature algorithm or digest is not one we verify.
    #[error("unsupported signature algorithm {oid}")]
    UnsupportedAlgorithm {
        /// Dotted OID of the algorithm.
        oid: String,
    },
    /// The public key could not be read or is of an unsupported kind.
    #[error("unsupported or malformed public key: {reason}")]
    BadKey {
        /// What was wrong.
        reason: String,
    },
    /// The key type does not fit the signature algorithm (e.g. ECDSA with an RSA key).
    #[error("the key ({key}) does not match the signature algorithm ({scheme})")]
    KeyMismatch {
        /// Key description.
        key: String,
        /// Scheme description.
        scheme: String,
    },
    /// RSASSA-PSS parameters were malformed or used a different MGF1 digest.
    #[error("bad RSASSA-PSS parameters: {reason}")]
    BadPssParameters {
        /// What was wrong.
        reason: String,
    },
    /// The signature value is not well-formed for the scheme (e.g. bad ECDSA DER).
    #[error("malformed signature value")]
    MalformedSignature,
    /// The signature does not verify.
    #[error("signature does not verify")]
    Invalid,
}

fn pss_scheme(alg: &AlgorithmIdentifierOwned) -> Result<SignatureScheme, SignatureError> {
    let bad = |reason: &str| SignatureError::BadPssParameters {
        reason: reason.to_string(),
    };
    let params = alg
        .parameters
        .as_ref()
        .ok_or_else(|| bad("parameters absent"))?;
    let der = params.to_der().map_err(|e| bad(&e.to_string()))?;
    let p = rsa::pkcs1::RsaPssParams::from_der(&der).map_err(|e| bad(&e.to_string()))?;
    let digest = DigestAlgorithm::from_oid(&p.hash.oid).ok_or_else(|| bad("unsupported hash"))?;
    if p.mask_gen.oid != oids::MGF1 {
        return Err(bad("mask generation function is not MGF1"));
    }
    let mgf_hash = p
        .mask_gen
        .parameters
        .as_ref()
        .map(|h| DigestAlgorithm::from_oid(&h.oid))
        .unwrap_or(Some(DigestAlgorithm::Sha1));
    if mgf_hash != Some(digest) {
        return Err(bad("MGF1 digest differs from the message digest"));
    }
    Ok(SignatureScheme::RsaPss {
        digest,
        salt_len: usize::from(p.salt_len),
    })
}

/// The kind of key in `spki`.
pub fn key_kind(spki: &SubjectPublicKeyInfoOwned) -> Result<KeyKind, SignatureError> {
    match spki.algorithm.oid {
        oids::RSA_ENCRYPTION | oids::RSASSA_PSS => {
            let key = rsa_key(spki)?;
            Ok(KeyKind::Rsa {
                bits: rsa::traits::PublicKeyParts::n(&key).bits(),
            })
        }
        oids::EC_PUBLIC_KEY => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
            match curve {
                Some(oids::SECP256R1) => Ok(KeyKind::EcP256),
                Some(oids::SECP384R1) => Ok(KeyKind::EcP384),
                Some(other) => Err(SignatureError::BadKey {
                    reason: format!("unsupported elliptic curve {other}"),
                }),
                None => Err(SignatureError::BadKey {
                    reason: "EC key without a named curve".into(),
                }),
            }
        }
        other => Err(SignatureError::BadKey {
            reason: format!("unsupported key algorithm {other}"),
        }),
    }
}

fn rsa_key(spki: &SubjectPublicKeyInfoOwned) -> Result<rsa::RsaPublicKey, SignatureError> {
    use rsa::pkcs1::DecodeRsaPublicKey;
    let bits = spki
        .subject_public_key
        .as_bytes()
        .ok_or_else(|| SignatureError::BadKey {
            reason: "public key bit string has unused bits".into(),
        })?;
    rsa::RsaPublicKey::from_pkcs1_der(bits).map_err(|e| SignatureError::BadKey {
        reason: e.to_string(),
    })
}

/// Verifies `signature` over `message` with the key in `spki` under the scheme named by
/// `algorithm` (see [`SignatureScheme::from_algorithm`] for `digest_hint`).
pub fn verify_signature(
    spki: &SubjectPublicKeyInfoOwned,
    algorithm: &AlgorithmIdentifierOwned,
    digest_hint: Option<DigestAlgorithm>,
    message: &[u8],
    signature: &[u8],
) -> Result<SignatureScheme, SignatureError> {
    let scheme = SignatureScheme::from_algorithm(algorithm, digest_hint)?;
    let hashed = scheme.digest().digest(message);
    verify_prehashed(spki, scheme, &hashed, signature)?;
    Ok(scheme)
}

/// Verifies `signature` over a message whose digest (under `scheme.digest()`) is `hashed`.
pub fn verify_prehashed(
    spki: &SubjectPublicKeyInfoOwned,
    scheme: SignatureScheme,
    hashed: &[u8],
    signature: &[u8],
) -> Result<(), SignatureError> {
    let kind = key_kind(spki)?;
    let mismatch = || SignatureError::KeyMismatch {
        key: format!("{kind:?}"),
        scheme: scheme.name(),
    };
    if hashed.len() != scheme.digest().output_len() {
        return Err(SignatureError::Invalid);
    }
    match (scheme, kind) {
        (SignatureScheme::RsaPkcs1(d), KeyKind::Rsa { .. }) => {
            let key = rsa_key(spki)?;
            let padding = match d {
                DigestAlgorithm::Sha1 => rsa::Pkcs1v15Sign::new::<sha1::Sha1>(),
                DigestAlgorithm::Sha256 => rsa::Pkcs1v15Sign::new::<sha2::Sha256>(),
                DigestAlgorithm::Sha384 => rsa::Pkcs1v15Sign::new::<sha2::Sha384>(),
                DigestAlgorithm::Sha512 => rsa::Pkcs1v15Sign::new::<sha2::Sha512>(),
            };
            key.verify(padding, hashed, signature)
                .map_err(|_verification_failed| SignatureError::Invalid)
        }
        (SignatureScheme::RsaPss { digest, salt_len }, KeyKind::Rsa { .. }) => {
            let key = rsa_key(spki)?;
            let padding = match digest {
                DigestAlgorithm::Sha1 => rsa::Pss::new_with_salt::<sha1::Sha1>(salt_len),
                DigestAlgorithm::Sha256 => rsa::Pss::new_with_salt::<sha2::Sha256>(salt_len),
                DigestAlgorithm::Sha384 => rsa::Pss::new_with_salt::<sha2::Sha384>(salt_len),
                DigestAlgorithm::Sha512 => rsa::Pss::new_with_salt::<sha2::Sha512>(salt_len),
            };
            key.verify(padding, hashed, signature)
                .map_err(|_verification_failed| SignatureError::Invalid)
        }
        (SignatureScheme::Ecdsa(_), KeyKind::EcP256) => {
            use p256::ecdsa::signature::hazmat::PrehashVerifier;
            let point = spki.subject_public_key.raw_bytes();
            let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(point).map_err(|e| {
                SignatureError::BadKey {
                    reason: e.to_string(),
                }
            })?;
            let sig = p256::ecdsa::Signature::from_der(signature)
                .map_err(|_malformed| SignatureError::MalformedSignature)?;
            key.verify_prehash(hashed, &sig)
                .map_err(|_verification_failed| SignatureError::Invalid)
        }
        (SignatureScheme::Ecdsa(_), KeyKind::EcP384) => {
            use p384::ecdsa::signature::hazmat::PrehashVerifier;
            let point = spki.subject_public_key.raw_bytes();
            let key = p384::ecdsa::VerifyingKey::from_sec1_bytes(point).map_err(|e| {
                SignatureError::BadKey {
                    reason: e.to_string(),
                }
            })?;
            let sig = p384::ecdsa::Signature::from_der(signature)
                .map_err(|_malformed| SignatureError::MalformedSignature)?;
            key.verify_prehash(hashed, &sig)
                .map_err(|_verification_failed| SignatureError::Invalid)
        }
        _ => Err(mismatch()),
    }
}

/// Converts a raw `r‖s` ECDSA signature (as devices and WebCrypto return it) to the DER
/// `ECDSA-Sig-Value` CMS expects. Returns `None` when the length is not 64 (P-256) or 96 (P-384).
pub fn ecdsa_raw_to_der(raw: &[u8]) -> Option<Vec<u8>> {
    match raw.len() {
        64 => p256::ecdsa::Signature::from_slice(raw)
            .ok()
            .map(|s| s.to_der().as_bytes().to_vec()),
        96 => p384::ecdsa::Signature::from_slice(raw)
            .ok()
            .map(|s| s.to_der().as_bytes().to_vec()),
        _ => None,
    }
}

/// DER of `value`, for callers that hold a decoded structure and need its encoding.
pub fn to_der<T: Encode>(value: &T) -> Result<Vec<u8>, der::Error> {
    value.to_der()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::KeyPair;

    fn p256_spki(pair: &ring::signature::EcdsaKeyPair) -> SubjectPublicKeyInfoOwned {
        SubjectPublicKeyInfoOwned {
            algorithm: AlgorithmIdentifierOwned {
                oid: oids::EC_PUBLIC_KEY,
                parameters: Some(der::Any::encode_from(&oids::SECP256R1).unwrap()),
            },
            subject_public_key: der::asn1::BitString::from_bytes(pair.public_key().as_ref())
                .unwrap(),
        }
    }

    #[test]
    fn ecdsa_p256_roundtrip_and_tamper() {
        let rng = ring::rand::SystemRandom::new();
        let alg = &ring::signature::ECDSA_P256_SHA256_ASN1_SIGNING;
        let pkcs8 = ring::signature::EcdsaKeyPair::generate_pkcs8(alg, &rng).unwrap();
        let pair = ring::signature::EcdsaKeyPair::from_pkcs8(alg, pkcs8.as_ref(), &rng).unwrap();
        let sig = pair.sign(&rng, b"hello").unwrap();
        let spki = p256_spki(&pair);
        let alg_id = AlgorithmIdentifierOwned {
            oid: oids::ECDSA_WITH_SHA256,
            parameters: None,
        };
        assert_eq!(
            verify_signature(&spki, &alg_id, None, b"hello", sig.as_ref()),
            Ok(SignatureScheme::Ecdsa(DigestAlgorithm::Sha256))
        );
        assert_eq!(
            verify_signature(&spki, &alg_id, None, b"hellO", sig.as_ref()),
            Err(SignatureError::Invalid)
        );
        assert_eq!(
            verify_signature(&spki, &alg_id, None, b"hello", &[0x30, 0x01]),
            Err(SignatureError::MalformedSignature)
        );
        // key-type-only algorithm needs the CMS digest hint
        let bare = AlgorithmIdentifierOwned {
            oid: oids::EC_PUBLIC_KEY,
            parameters: None,
        };
        assert!(verify_signature(&spki, &bare, None, b"hello", sig.as_ref()).is_err());
        assert!(verify_signature(
            &spki,
            &bare,
            Some(DigestAlgorithm::Sha256),
            b"hello",
            sig.as_ref()
        )
        .is_ok());
    }

    #[test]
    fn raw_ecdsa_converts_to_der() {
        let rng = ring::rand::SystemRandom::new();
        let alg = &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING;
        let pkcs8 = ring::signature::EcdsaKeyPair::generate_pkcs8(alg, &rng).unwrap();
        let pair = ring::signature::EcdsaKeyPair::from_pkcs8(alg, pkcs8.as_ref(), &rng).unwrap();
        let raw = pair.sign(&rng, b"doc").unwrap();
        let der_sig = ecdsa_raw_to_der(raw.as_ref()).unwrap();
        let spki = p256_spki(&pair);
        let alg_id = AlgorithmIdentifierOwned {
            oid: oids::ECDSA_WITH_SHA256,
            parameters: None,
        };
        assert!(verify_signature(&spki, &alg_id, None, b"doc", &der_sig).is_ok());
        assert!(ecdsa_raw_to_der(&[1, 2, 3]).is_none());
    }

    #[test]
    fn digests_have_declared_lengths() {
        for d in [
            DigestAlgorithm::Sha1,
            DigestAlgorithm::Sha256,
            DigestAlgorithm::Sha384,
            DigestAlgorithm::Sha512,
        ] {
            assert_eq!(d.digest(b"abc").len(), d.output_len());
            assert_eq!(DigestAlgorithm::from_oid(&d.oid()), Some(d));
        }
    }
}
