//! Random identifiers, secrets and one-time codes, and how secrets are stored (hashed).

use ring::rand::{SecureRandom, SystemRandom};
use sha2::{Digest, Sha256};

/// The system random source failed (nothing sensible can continue without it).
#[derive(Debug, thiserror::Error)]
#[error("the system random source failed")]
pub struct RandomError;

/// `n` random bytes.
///
/// # Errors
/// [`RandomError`] when the system random source fails.
pub fn random_bytes(n: usize) -> Result<Vec<u8>, RandomError> {
    let mut bytes = vec![0u8; n];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_unspecified| RandomError)?;
    Ok(bytes)
}

/// A random identifier: `prefix` then 16 random bytes in hex (e.g. `act_3f9c…`).
///
/// # Errors
/// [`RandomError`].
pub fn new_id(prefix: &str) -> Result<String, RandomError> {
    Ok(format!("{prefix}_{}", hex::encode(random_bytes(16)?)))
}

/// A partner API key: `sk_` then 32 random bytes in hex. Shown once, stored hashed.
///
/// # Errors
/// [`RandomError`].
pub fn new_api_key() -> Result<String, RandomError> {
    Ok(format!("sk_{}", hex::encode(random_bytes(32)?)))
}

/// A uniformly random number below `bound` (rejection sampling, no modulo bias).
///
/// # Errors
/// [`RandomError`].
pub fn random_below(bound: u32) -> Result<u32, RandomError> {
    if bound <= 1 {
        return Ok(0);
    }
    let zone = u32::MAX - (u32::MAX % bound);
    loop {
        let b = random_bytes(4)?;
        let v = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        if v < zone {
            return Ok(v % bound);
        }
    }
}

/// A 5-digit SMS code, `00000` to `99999`.
///
/// # Errors
/// [`RandomError`].
pub fn new_sms_code() -> Result<String, RandomError> {
    Ok(format!("{:05}", random_below(100_000)?))
}

/// How a secret is kept: hex SHA-256 of a domain label and the secret. API keys carry 256
/// bits of randomness, so a plain hash is enough (no password stretching needed).
pub fn secret_hash(domain: &str, secret: &str) -> String {
    let mut h = Sha256::new();
    h.update(domain.as_bytes());
    h.update([0u8]);
    h.update(secret.as_bytes());
    hex::encode(h.finalize())
}

/// Compares two strings in time independent of where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let id = new_id("act").unwrap();
        assert!(id.starts_with("act_") && id.len() == 36);
        let key = new_api_key().unwrap();
        assert!(key.starts_with("sk_") && key.len() == 67);
        let code = new_sms_code().unwrap();
        assert_eq!(code.len(), 5);
        assert!(code.bytes().all(|b| b.is_ascii_digit()));
        assert!(random_below(4).unwrap() < 4);
    }

    #[test]
    fn hashing_is_domain_separated() {
        assert_ne!(secret_hash("a", "x"), secret_hash("b", "x"));
        assert_eq!(secret_hash("a", "x"), secret_hash("a", "x"));
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "ab"));
    }
}
