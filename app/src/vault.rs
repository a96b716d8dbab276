//! Sealing private keys: AES-256-GCM under a key derived from the personal code with
//! Argon2id (RFC 9106), or under the device's keystore key.
//!
//! A sealed box is authenticated: opening it with a key derived from a wrong code fails
//! the GCM tag check, which is how a wrong code is detected (nothing else about the code
//! is stored).

use base64::Engine;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::AppError;

/// The only cipher written; stored so that a later format can be told apart.
pub(crate) const CIPHER: &str = "AES-256-GCM";
/// The only key derivation written.
pub(crate) const KDF: &str = "argon2id";

/// Upper bounds on stored Argon2 parameters, so that a tampered file cannot make the app
/// allocate without limit (1 GiB of memory, 64 passes, 16 lanes).
const MAX_M_COST_KIB: u32 = 1024 * 1024;
const MAX_T_COST: u32 = 64;
const MAX_P_COST: u32 = 16;

/// Argon2id parameters and salt, stored beside the sealed key.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct KdfParams {
    /// Always `argon2id`.
    pub algorithm: String,
    /// Argon2 version (0x13 = 19).
    pub version: u32,
    /// Memory in KiB.
    pub m_cost_kib: u32,
    /// Passes.
    pub t_cost: u32,
    /// Lanes.
    pub p_cost: u32,
    /// Random salt, base64.
    #[serde(with = "crate::wire::b64")]
    pub salt: Vec<u8>,
}

impl KdfParams {
    /// Fresh parameters with a random 16-byte salt: the OWASP recommendation for Argon2id
    /// (19 MiB, 2 passes, 1 lane), which also fits a phone.
    pub(crate) fn generate() -> Result<Self, AppError> {
        Self::with_cost(
            argon2::Params::DEFAULT_M_COST,
            argon2::Params::DEFAULT_T_COST,
        )
    }

    /// Parameters with a given cost (tests use a cheap one).
    pub(crate) fn with_cost(m_cost_kib: u32, t_cost: u32) -> Result<Self, AppError> {
        Ok(Self {
            algorithm: KDF.to_owned(),
            version: u32::from(argon2::Version::V0x13),
            m_cost_kib,
            t_cost,
            p_cost: 1,
            salt: random_bytes::<16>()?.to_vec(),
        })
    }

    /// Derives the 32-byte sealing key from the personal code.
    pub(crate) fn derive(&self, code: &str) -> Result<Zeroizing<[u8; 32]>, String> {
        if self.algorithm != KDF || self.version != u32::from(argon2::Version::V0x13) {
            return Err(format!(
                "unsupported key derivation {} version {}",
                self.algorithm, self.version
            ));
        }
        if self.m_cost_kib > MAX_M_COST_KIB || self.t_cost > MAX_T_COST || self.p_cost > MAX_P_COST
        {
            return Err("key derivation parameters beyond the app's limits".into());
        }
        let params = argon2::Params::new(self.m_cost_kib, self.t_cost, self.p_cost, Some(32))
            .map_err(|e| format!("key derivation parameters rejected: {e}"))?;
        let argon =
            argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let mut key = Zeroizing::new([0u8; 32]);
        argon
            .hash_password_into(code.as_bytes(), &self.salt, key.as_mut())
            .map_err(|e| format!("key derivation failed: {e}"))?;
        Ok(key)
    }
}

/// An AES-256-GCM ciphertext with its nonce. The associated data (not stored) names what
/// is sealed, so that one box cannot be passed off as another.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct SealedBox {
    /// 12-byte random nonce, base64.
    #[serde(with = "crate::wire::b64")]
    pub nonce: Vec<u8>,
    /// Ciphertext followed by the 16-byte tag, base64.
    #[serde(with = "crate::wire::b64")]
    pub ciphertext: Vec<u8>,
}

impl SealedBox {
    /// Seals `plaintext` under `key` with a fresh random nonce.
    pub(crate) fn seal(key: &[u8; 32], aad: &str, plaintext: &[u8]) -> Result<Self, AppError> {
        let nonce = random_bytes::<NONCE_LEN>()?;
        let mut buffer = plaintext.to_vec();
        cipher(key)
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad.as_bytes()),
                &mut buffer,
            )
            .map_err(|_unspecified| AppError::Random)?;
        Ok(Self {
            nonce: nonce.to_vec(),
            ciphertext: buffer,
        })
    }

    /// Opens the box; `None` when the key is wrong or the box was altered (GCM cannot tell
    /// the two apart).
    pub(crate) fn open(&self, key: &[u8; 32], aad: &str) -> Option<Zeroizing<Vec<u8>>> {
        let nonce = Nonce::try_assume_unique_for_key(&self.nonce).ok()?;
        let mut buffer = Zeroizing::new(self.ciphertext.clone());
        let len = cipher(key)
            .open_in_place(nonce, Aad::from(aad.as_bytes()), buffer.as_mut_slice())
            .ok()?
            .len();
        buffer.truncate(len);
        Some(buffer)
    }
}

fn cipher(key: &[u8; 32]) -> LessSafeKey {
    // A 32-byte key is always accepted by AES-256-GCM; ring's error type carries nothing.
    #[allow(clippy::expect_used)]
    LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).expect("AES-256 takes a 32-byte key"))
}

/// `N` bytes from the system random source.
pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N], AppError> {
    let mut bytes = [0u8; N];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_unspecified| AppError::Random)?;
    Ok(bytes)
}

/// Base64 (standard, padded) of `bytes`.
pub(crate) fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> KdfParams {
        KdfParams::with_cost(64, 1).unwrap()
    }

    #[test]
    fn sealed_key_round_trips_under_the_right_code_only() {
        let params = cheap();
        let key = params.derive("90210").unwrap();
        let sealed = SealedBox::seal(&key, "signing-key", b"secret pkcs8").unwrap();
        assert_ne!(sealed.ciphertext.get(..12), Some(&b"secret pkcs8"[..]));
        let opened = sealed.open(&key, "signing-key").unwrap();
        assert_eq!(opened.as_slice(), b"secret pkcs8");

        let wrong = params.derive("90211").unwrap();
        assert!(sealed.open(&wrong, "signing-key").is_none());
        // the associated data binds the box to its purpose
        assert!(sealed.open(&key, "device-key").is_none());
        // a flipped bit is caught
        let mut tampered = sealed.clone();
        if let Some(b) = tampered.ciphertext.first_mut() {
            *b ^= 1;
        }
        assert!(tampered.open(&key, "signing-key").is_none());
        // a bad nonce length is a failed open, not a panic
        let mut short = sealed;
        short.nonce.truncate(3);
        assert!(short.open(&key, "signing-key").is_none());
    }

    #[test]
    fn salt_is_random_and_parameters_are_bounded() {
        let a = cheap();
        let b = cheap();
        assert_ne!(a.salt, b.salt);
        assert_ne!(*a.derive("90210").unwrap(), *b.derive("90210").unwrap());
        let mut huge = a.clone();
        huge.m_cost_kib = u32::MAX;
        assert!(huge.derive("90210").is_err());
        let mut other = a;
        other.algorithm = "scrypt".into();
        assert!(other.derive("90210").is_err());
    }

    #[test]
    fn default_parameters_are_owasp_argon2id() {
        let p = KdfParams::generate().unwrap();
        assert_eq!(
            (
                p.algorithm.as_str(),
                p.version,
                p.m_cost_kib,
                p.t_cost,
                p.p_cost
            ),
            ("argon2id", 19, 19 * 1024, 2, 1)
        );
        assert_eq!(p.salt.len(), 16);
    }
}
