//! Private keys held by `ring`: generation (ECDSA P-256/P-384), PKCS#8 DER/PEM in and out,
//! and signing with the algorithm a CMS SignerInfo or an X.509 certificate names.
//!
//! Every private-key operation of the workspace goes through [`SigningKey`] (see the root
//! `Cargo.toml`: ring is constant-time, about four times faster than `p256`, and has no
//! Marvin exposure for RSA).

use der::{
    asn1::{Any, BitString},
    pem::LineEnding,
    Decode, Encode,
};
use p256::pkcs8::PrivateKeyInfo;
use ring::{
    rand::SystemRandom,
    signature::{
        EcdsaKeyPair, KeyPair, RsaKeyPair, ECDSA_P256_SHA256_ASN1_SIGNING,
        ECDSA_P384_SHA384_ASN1_SIGNING, RSA_PKCS1_SHA256,
    },
};
use spki::{AlgorithmIdentifierOwned, ObjectIdentifier, SubjectPublicKeyInfoOwned};

use super::PkiError;
use crate::oids;

/// PEM label of an unencrypted PKCS#8 private key (RFC 7468 §10).
pub const PKCS8_PEM_LABEL: &str = "PRIVATE KEY";

/// The kind of key a [`SigningKey`] holds, which fixes the signature algorithm.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum KeyAlgorithm {
    /// ECDSA on P-256; signs ecdsa-with-SHA256.
    EcdsaP256,
    /// ECDSA on P-384; signs ecdsa-with-SHA384.
    EcdsaP384,
    /// RSA (2048..=8192 bits); signs sha256WithRSAEncryption (PKCS#1 v1.5).
    Rsa,
}

impl KeyAlgorithm {
    /// The digest the signature algorithm uses (SHA-256 except for P-384).
    pub fn digest_oid(self) -> ObjectIdentifier {
        match self {
            Self::EcdsaP256 | Self::Rsa => oids::SHA256,
            Self::EcdsaP384 => oids::SHA384,
        }
    }

    /// The signature `AlgorithmIdentifier` as written in certificates and SignerInfos:
    /// ecdsa-with-SHA256/384 without parameters (RFC 5758 §3.2), sha256WithRSAEncryption with
    /// NULL parameters (RFC 4055 §5).
    pub fn signature_algorithm(self) -> AlgorithmIdentifierOwned {
        match self {
            Self::EcdsaP256 => AlgorithmIdentifierOwned {
                oid: oids::ECDSA_WITH_SHA256,
                parameters: None,
            },
            Self::EcdsaP384 => AlgorithmIdentifierOwned {
                oid: oids::ECDSA_WITH_SHA384,
                parameters: None,
            },
            Self::Rsa => AlgorithmIdentifierOwned {
                oid: oids::SHA256_WITH_RSA,
                parameters: Some(Any::null()),
            },
        }
    }
}

/// An unencrypted PKCS#8 `PrivateKeyInfo` (RFC 5208), as generated or read from a file.
///
/// `Debug` does not print the key.
#[derive(Clone, Eq, PartialEq)]
pub struct Pkcs8Key(Vec<u8>);

impl Pkcs8Key {
    /// Wraps DER bytes without checking them (loading them into a [`SigningKey`] does).
    pub fn from_der(der: Vec<u8>) -> Self {
        Self(der)
    }

    /// Reads the first `PRIVATE KEY` block of a PEM text (other blocks are skipped).
    ///
    /// # Errors
    /// [`PkiError::PemLabel`] when there is no such block, [`PkiError::Der`] when its base64
    /// is malformed.
    pub fn from_pem(pem: &str) -> Result<Self, PkiError> {
        let block = pem_block(pem, PKCS8_PEM_LABEL).ok_or_else(|| PkiError::PemLabel {
            expected: PKCS8_PEM_LABEL,
            found: first_pem_label(pem).unwrap_or("no PEM block").to_owned(),
        })?;
        let (_, der) = der::pem::decode_vec(block.as_bytes())?;
        Ok(Self(der))
    }

    /// The DER bytes.
    pub fn as_der(&self) -> &[u8] {
        &self.0
    }

    /// PEM text with the `PRIVATE KEY` label and LF line endings.
    ///
    /// # Errors
    /// Only if the base64 encoder fails to size its output (it does not for real keys).
    pub fn to_pem(&self) -> Result<String, PkiError> {
        Ok(der::pem::encode_string(
            PKCS8_PEM_LABEL,
            LineEnding::LF,
            &self.0,
        )?)
    }
}

impl std::fmt::Debug for Pkcs8Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pkcs8Key(..)")
    }
}

/// A private key held by `ring`, with its public key and the signature algorithm it uses.
pub struct SigningKey {
    inner: Inner,
    public_key_info: SubjectPublicKeyInfoOwned,
    rng: SystemRandom,
}

enum Inner {
    Ecdsa(KeyAlgorithm, EcdsaKeyPair),
    Rsa(RsaKeyPair),
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("algorithm", &self.algorithm())
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Generates a fresh ECDSA key (P-256 or P-384) and returns it with its PKCS#8 encoding,
    /// which the caller stores if the key must survive the process.
    ///
    /// # Errors
    /// [`PkiError::UnsupportedKeyAlgorithm`] for RSA (ring cannot generate RSA keys),
    /// [`PkiError::KeyGeneration`] if the system random source fails.
    pub fn generate(algorithm: KeyAlgorithm) -> Result<(Self, Pkcs8Key), PkiError> {
        let rng = SystemRandom::new();
        let ring_alg = match algorithm {
            KeyAlgorithm::EcdsaP256 => &ECDSA_P256_SHA256_ASN1_SIGNING,
            KeyAlgorithm::EcdsaP384 => &ECDSA_P384_SHA384_ASN1_SIGNING,
            KeyAlgorithm::Rsa => {
                return Err(PkiError::UnsupportedKeyAlgorithm {
                    algorithm: oids::RSA_ENCRYPTION,
                    parameters: None,
                })
            }
        };
        let document =
            EcdsaKeyPair::generate_pkcs8(ring_alg, &rng).map_err(PkiError::KeyGeneration)?;
        let pkcs8 = Pkcs8Key(document.as_ref().to_vec());
        let key = Self::from_pkcs8(&pkcs8)?;
        Ok((key, pkcs8))
    }

    /// Loads a PKCS#8 key, choosing the algorithm from its `privateKeyAlgorithm`.
    ///
    /// # Errors
    /// [`PkiError::Pkcs8`] when the structure is malformed, [`PkiError::UnsupportedKeyAlgorithm`]
    /// for a key type or curve we do not sign with, [`PkiError::KeyRejected`] when ring refuses
    /// the key material.
    pub fn from_pkcs8(pkcs8: &Pkcs8Key) -> Result<Self, PkiError> {
        let der = pkcs8.as_der();
        let info = PrivateKeyInfo::from_der(der)?;
        let algorithm = info.algorithm.oid;
        let parameters = info.algorithm.parameters_oid().ok();
        let rng = SystemRandom::new();
        let rejected = |e: ring::error::KeyRejected| PkiError::KeyRejected {
            reason: e.to_string(),
        };
        let inner = match (algorithm, parameters) {
            (oids::EC_PUBLIC_KEY, Some(oids::SECP256R1)) => Inner::Ecdsa(
                KeyAlgorithm::EcdsaP256,
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, der, &rng)
                    .map_err(rejected)?,
            ),
            (oids::EC_PUBLIC_KEY, Some(oids::SECP384R1)) => Inner::Ecdsa(
                KeyAlgorithm::EcdsaP384,
                EcdsaKeyPair::from_pkcs8(&ECDSA_P384_SHA384_ASN1_SIGNING, der, &rng)
                    .map_err(rejected)?,
            ),
            (oids::RSA_ENCRYPTION, _) => Inner::Rsa(RsaKeyPair::from_pkcs8(der).map_err(rejected)?),
            _ => {
                return Err(PkiError::UnsupportedKeyAlgorithm {
                    algorithm,
                    parameters,
                })
            }
        };
        let public_key_info = match &inner {
            Inner::Ecdsa(alg, pair) => SubjectPublicKeyInfoOwned {
                algorithm: AlgorithmIdentifierOwned {
                    oid: oids::EC_PUBLIC_KEY,
                    parameters: Some(Any::encode_from(&if *alg == KeyAlgorithm::EcdsaP256 {
                        oids::SECP256R1
                    } else {
                        oids::SECP384R1
                    })?),
                },
                subject_public_key: BitString::from_bytes(pair.public_key().as_ref())?,
            },
            Inner::Rsa(pair) => SubjectPublicKeyInfoOwned {
                algorithm: AlgorithmIdentifierOwned {
                    oid: oids::RSA_ENCRYPTION,
                    parameters: Some(Any::null()),
                },
                // ring's RSA public key is the DER RSAPublicKey (RFC 8017 A.1.1).
                subject_public_key: BitString::from_bytes(pair.public().as_ref())?,
            },
        };
        Ok(Self {
            inner,
            public_key_info,
            rng,
        })
    }

    /// Loads the first `PRIVATE KEY` (PKCS#8) block of a PEM text.
    ///
    /// # Errors
    /// As [`Pkcs8Key::from_pem`] and [`SigningKey::from_pkcs8`].
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, PkiError> {
        Self::from_pkcs8(&Pkcs8Key::from_pem(pem)?)
    }

    /// Loads a key file's bytes: PEM (`PRIVATE KEY`) when the text contains `-----BEGIN`,
    /// DER PKCS#8 otherwise.
    ///
    /// # Errors
    /// As [`SigningKey::from_pkcs8_pem`] and [`SigningKey::from_pkcs8`].
    pub fn from_pkcs8_file_bytes(bytes: &[u8]) -> Result<Self, PkiError> {
        match std::str::from_utf8(bytes) {
            Ok(text) if text.contains("-----BEGIN") => Self::from_pkcs8_pem(text),
            _ => Self::from_pkcs8(&Pkcs8Key::from_der(bytes.to_vec())),
        }
    }

    /// The key type.
    pub fn algorithm(&self) -> KeyAlgorithm {
        match &self.inner {
            Inner::Ecdsa(alg, _) => *alg,
            Inner::Rsa(_) => KeyAlgorithm::Rsa,
        }
    }

    /// The signature `AlgorithmIdentifier` that [`SigningKey::sign`] produces.
    pub fn signature_algorithm(&self) -> AlgorithmIdentifierOwned {
        self.algorithm().signature_algorithm()
    }

    /// The public key as a `SubjectPublicKeyInfo`.
    pub fn public_key_info(&self) -> &SubjectPublicKeyInfoOwned {
        &self.public_key_info
    }

    /// The DER of [`SigningKey::public_key_info`].
    ///
    /// # Errors
    /// Only if DER encoding fails (it does not for keys ring accepted).
    pub fn public_key_info_der(&self) -> Result<Vec<u8>, PkiError> {
        Ok(self.public_key_info.to_der()?)
    }

    /// Signs `message` (hashing it with [`KeyAlgorithm::digest_oid`]): an ASN.1 DER
    /// `ECDSA-Sig-Value` for ECDSA, a PKCS#1 v1.5 signature for RSA.
    ///
    /// # Errors
    /// [`PkiError::Sign`] if ring fails (random source failure).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, PkiError> {
        match &self.inner {
            Inner::Ecdsa(_, pair) => pair
                .sign(&self.rng, message)
                .map(|sig| sig.as_ref().to_vec())
                .map_err(PkiError::Sign),
            Inner::Rsa(pair) => {
                let mut signature = vec![0; pair.public().modulus_len()];
                pair.sign(&RSA_PKCS1_SHA256, &self.rng, message, &mut signature)
                    .map_err(PkiError::Sign)?;
                Ok(signature)
            }
        }
    }
}

/// The text of the first PEM block labelled `label` (BEGIN to END line, inclusive).
fn pem_block<'a>(text: &'a str, label: &str) -> Option<&'a str> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin)?;
    let stop = start + text.get(start..)?.find(&end)? + end.len();
    text.get(start..stop)
}

/// The label of the first PEM block, for error messages.
fn first_pem_label(text: &str) -> Option<&str> {
    let start = text.find("-----BEGIN ")? + "-----BEGIN ".len();
    let rest = text.get(start..)?;
    rest.get(..rest.find("-----")?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_p256_key_round_trips_through_pem_and_signs() {
        let (key, pkcs8) = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let pem = pkcs8.to_pem().unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        let again = SigningKey::from_pkcs8_pem(&format!("junk before\n{pem}junk after")).unwrap();
        assert_eq!(again.public_key_info(), key.public_key_info());
        assert_eq!(again.algorithm(), KeyAlgorithm::EcdsaP256);

        let sig = key.sign(b"hello").unwrap();
        let spki = key.public_key_info();
        let public = ring::signature::UnparsedPublicKey::new(
            &ring::signature::ECDSA_P256_SHA256_ASN1,
            spki.subject_public_key.raw_bytes(),
        );
        public.verify(b"hello", &sig).unwrap();
        assert_eq!(key.signature_algorithm().oid, oids::ECDSA_WITH_SHA256);
    }

    #[test]
    fn p384_key_signs_with_sha384() {
        let (key, _) = SigningKey::generate(KeyAlgorithm::EcdsaP384).unwrap();
        let sig = key.sign(b"x").unwrap();
        ring::signature::UnparsedPublicKey::new(
            &ring::signature::ECDSA_P384_SHA384_ASN1,
            key.public_key_info().subject_public_key.raw_bytes(),
        )
        .verify(b"x", &sig)
        .unwrap();
        assert_eq!(KeyAlgorithm::EcdsaP384.digest_oid(), oids::SHA384);
    }

    #[test]
    fn wrong_pem_label_is_named_in_the_error() {
        let err = SigningKey::from_pkcs8_pem(
            "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n",
        )
        .unwrap_err();
        assert!(
            matches!(err, PkiError::PemLabel { ref found, .. } if found == "EC PRIVATE KEY"),
            "{err}"
        );
    }

    #[test]
    fn garbage_der_is_an_error_not_a_panic() {
        for junk in [&b""[..], b"\x30", b"\x30\x03\x02\x01\x00", &[0xff; 64]] {
            assert!(SigningKey::from_pkcs8_file_bytes(junk).is_err());
        }
    }

    #[test]
    fn rsa_pkcs8_key_signs_pkcs1_sha256() {
        let key =
            SigningKey::from_pkcs8_file_bytes(include_bytes!("testdata/rsa2048.pk8.pem")).unwrap();
        assert_eq!(key.algorithm(), KeyAlgorithm::Rsa);
        assert_eq!(key.signature_algorithm().oid, oids::SHA256_WITH_RSA);
        let sig = key.sign(b"message").unwrap();
        assert_eq!(sig.len(), 256);
        ring::signature::UnparsedPublicKey::new(
            &ring::signature::RSA_PKCS1_2048_8192_SHA256,
            key.public_key_info().subject_public_key.raw_bytes(),
        )
        .verify(b"message", &sig)
        .unwrap();
    }

    #[test]
    fn rsa_cannot_be_generated() {
        assert!(matches!(
            SigningKey::generate(KeyAlgorithm::Rsa),
            Err(PkiError::UnsupportedKeyAlgorithm { .. })
        ));
    }
}
