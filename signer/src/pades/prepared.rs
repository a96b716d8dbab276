//! The state kept between `prepare` and `finalize`: small (the update and the signed
//! attributes, never the document), serialisable, and checked when read back, so the
//! device may answer minutes later to another server.

use serde::{Deserialize, Serialize};

use super::options::{Level, SignatureAlgorithm};
use super::PadesError;

/// Version of the serialised form.
const FORMAT: u32 = 1;

/// A prepared signature: what the device must sign, and everything needed to finish the
/// signed PDF once the signature value comes back.
///
/// Serialise it with [`Prepared::to_json`] (or any serde format) and read it back with
/// [`Prepared::from_json`], which checks its consistency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prepared {
    pub(crate) format: u32,
    pub(crate) level: Level,
    pub(crate) field_name: String,
    /// Length of the original document.
    pub(crate) original_len: u64,
    /// SHA-256 of the original document.
    #[serde(with = "hex_bytes")]
    pub(crate) original_sha256: Vec<u8>,
    /// SHA-256 of the original's first and last 64 KiB and length (the quick check).
    #[serde(with = "hex_bytes")]
    pub(crate) original_edges_sha256: Vec<u8>,
    /// The incremental update, `/Contents` still zeros.
    #[serde(with = "hex_bytes")]
    pub(crate) update: Vec<u8>,
    /// `/ByteRange`: absolute offsets and lengths.
    pub(crate) byte_range: [u64; 4],
    /// SHA-256 over the byte ranges (the message-digest attribute).
    #[serde(with = "hex_bytes")]
    pub(crate) document_digest: Vec<u8>,
    /// DER of the signed attributes (tag 0x31): what the device signs.
    #[serde(with = "hex_bytes")]
    pub(crate) signed_attributes: Vec<u8>,
    /// SHA-256 of the signer certificate named in the signed attributes.
    #[serde(with = "hex_bytes")]
    pub(crate) signer_certificate_sha256: Vec<u8>,
    /// The algorithm announced, `None` to accept either RSA padding.
    pub(crate) signature_algorithm: Option<SignatureAlgorithm>,
}

impl Prepared {
    /// The DER of the signed attributes (a `SET OF Attribute`, tag 0x31): the message the
    /// device signs (it hashes it with SHA-256 itself).
    pub fn signed_attributes(&self) -> &[u8] {
        &self.signed_attributes
    }

    /// SHA-256 of [`Prepared::signed_attributes`]: the digest a device that signs
    /// pre-hashed data signs.
    pub fn data_to_sign_digest(&self) -> [u8; 32] {
        use sha2::Digest;
        sha2::Sha256::digest(&self.signed_attributes).into()
    }

    /// SHA-256 over the signed byte ranges of the future signed PDF (the value of the
    /// message-digest attribute, which the device may show and check).
    pub fn document_digest(&self) -> &[u8] {
        &self.document_digest
    }

    /// The `/ByteRange` of the signature.
    pub fn byte_range(&self) -> [u64; 4] {
        self.byte_range
    }

    /// The signature field's fully qualified name.
    pub fn field_name(&self) -> &str {
        &self.field_name
    }

    /// B-B or B-T.
    pub fn level(&self) -> Level {
        self.level
    }

    /// Length of the document that was prepared.
    pub fn original_len(&self) -> u64 {
        self.original_len
    }

    /// SHA-256 of the document that was prepared.
    pub fn original_sha256(&self) -> &[u8] {
        &self.original_sha256
    }

    /// Length of the signed PDF `finalize` writes.
    pub fn signed_len(&self) -> u64 {
        self.original_len + self.update.len() as u64
    }

    /// Bytes of DER the `/Contents` placeholder holds.
    pub fn contents_capacity(&self) -> usize {
        let hex_len = self.byte_range[2].saturating_sub(self.byte_range[1]);
        usize::try_from(hex_len.saturating_sub(2) / 2).unwrap_or(0)
    }

    /// JSON form, for storage.
    pub fn to_json(&self) -> String {
        // serialising plain fields (strings, numbers, hex) cannot fail
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads the JSON form back and checks it.
    pub fn from_json(json: &str) -> Result<Self, PadesError> {
        let p: Self = serde_json::from_str(json).map_err(|e| PadesError::CorruptState {
            what: e.to_string(),
        })?;
        p.check()?;
        Ok(p)
    }

    /// Where `/Contents` hex digits lie inside `update`: (start, end), excluding `<` `>`.
    pub(crate) fn contents_in_update(&self) -> Result<(usize, usize), PadesError> {
        let corrupt = |what: &str| PadesError::CorruptState {
            what: what.to_string(),
        };
        let start = self.byte_range[1]
            .checked_sub(self.original_len)
            .ok_or_else(|| corrupt("/Contents starts inside the original document"))?;
        let end = self.byte_range[2]
            .checked_sub(self.original_len)
            .ok_or_else(|| corrupt("/Contents ends inside the original document"))?;
        let (start, end) = (
            usize::try_from(start).map_err(|_| corrupt("offset too large"))?,
            usize::try_from(end).map_err(|_| corrupt("offset too large"))?,
        );
        if start + 2 > end || end > self.update.len() {
            return Err(corrupt("/Contents lies outside the update"));
        }
        Ok((start + 1, end - 1))
    }

    /// Consistency of a state read from storage.
    pub(crate) fn check(&self) -> Result<(), PadesError> {
        let corrupt = |what: &str| PadesError::CorruptState {
            what: what.to_string(),
        };
        if self.format != FORMAT {
            return Err(corrupt("unknown format version"));
        }
        let [a, b, c, d] = self.byte_range;
        if a != 0 || c < b || c.checked_add(d) != Some(self.signed_len()) {
            return Err(corrupt("the byte range does not match the update"));
        }
        let (start, end) = self.contents_in_update()?;
        let u = &self.update;
        if u.get(start - 1) != Some(&b'<')
            || u.get(end) != Some(&b'>')
            || !u[start..end].iter().all(u8::is_ascii_hexdigit)
        {
            return Err(corrupt(
                "/Contents placeholder not found where the byte range says",
            ));
        }
        if self.original_sha256.len() != 32
            || self.original_edges_sha256.len() != 32
            || self.document_digest.len() != 32
            || self.signer_certificate_sha256.len() != 32
            || self.signed_attributes.first() != Some(&0x31)
        {
            return Err(corrupt("digest or attribute fields malformed"));
        }
        Ok(())
    }

    pub(crate) fn new(fields: PreparedFields) -> Self {
        Self {
            format: FORMAT,
            level: fields.level,
            field_name: fields.field_name,
            original_len: fields.original_len,
            original_sha256: fields.original_sha256,
            original_edges_sha256: fields.original_edges_sha256,
            update: fields.update,
            byte_range: fields.byte_range,
            document_digest: fields.document_digest,
            signed_attributes: fields.signed_attributes,
            signer_certificate_sha256: fields.signer_certificate_sha256,
            signature_algorithm: fields.signature_algorithm,
        }
    }
}

/// Everything `prepare` computed.
pub(crate) struct PreparedFields {
    pub(crate) level: Level,
    pub(crate) field_name: String,
    pub(crate) original_len: u64,
    pub(crate) original_sha256: Vec<u8>,
    pub(crate) original_edges_sha256: Vec<u8>,
    pub(crate) update: Vec<u8>,
    pub(crate) byte_range: [u64; 4],
    pub(crate) document_digest: Vec<u8>,
    pub(crate) signed_attributes: Vec<u8>,
    pub(crate) signer_certificate_sha256: Vec<u8>,
    pub(crate) signature_algorithm: Option<SignatureAlgorithm>,
}

mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(bytes))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        hex::decode(s).map_err(serde::de::Error::custom)
    }
}
