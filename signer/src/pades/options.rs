//! What the caller chooses about a signature: level, field, appearance, texts, time.

use serde::{Deserialize, Serialize};

/// PAdES baseline level (ETSI EN 319 142-1 §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Level {
    /// B-B: the signature with its signed attributes and certificates.
    #[serde(rename = "B-B")]
    BB,
    /// B-T: B-B plus a signature time-stamp over the signature value.
    #[serde(rename = "B-T")]
    BT,
}

/// A rectangle in default user space (points), lower-left and upper-right corners.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rect {
    /// Lower-left x.
    pub llx: f64,
    /// Lower-left y.
    pub lly: f64,
    /// Upper-right x.
    pub urx: f64,
    /// Upper-right y.
    pub ury: f64,
}

impl Rect {
    /// Width (may be negative for an inverted rectangle).
    pub fn width(&self) -> f64 {
        self.urx - self.llx
    }

    /// Height (may be negative for an inverted rectangle).
    pub fn height(&self) -> f64 {
        self.ury - self.lly
    }
}

/// Where the signature shows.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Appearance {
    /// No visible mark: a zero-size widget on the first page.
    Invisible,
    /// A box with the signer's name, the date and the reason.
    Visible {
        /// 1-based page number.
        page: u32,
        /// Where on the page.
        rect: Rect,
    },
}

/// The signature algorithm of the signature value the device returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum SignatureAlgorithm {
    /// ECDSA with SHA-256 (P-256 is the device default; P-384 keys work too).
    EcdsaSha256,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RsaPkcs1Sha256,
    /// RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt.
    RsaPssSha256,
}

/// Options of [`prepare`](super::prepare).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SignOptions {
    /// B-B or B-T.
    pub level: Level,
    /// Name of the signature field; `None` picks the first free `SignatureN`. A name that
    /// exists as an empty signature field fills that field.
    pub field_name: Option<String>,
    /// Invisible or visible.
    pub appearance: Appearance,
    /// The signing time written to `/M` and shown in a visible appearance. The library
    /// never reads the clock itself.
    #[serde(with = "time::serde::rfc3339")]
    pub signing_time: time::OffsetDateTime,
    /// `/Reason`.
    pub reason: Option<String>,
    /// `/Location`.
    pub location: Option<String>,
    /// `/ContactInfo`.
    pub contact_info: Option<String>,
    /// `/Name`, and the name shown in a visible appearance (default: the certificate's
    /// common name).
    pub name: Option<String>,
    /// The algorithm the device signs with; `None` for ECDSA keys means ECDSA with SHA-256,
    /// and for RSA keys accepts PKCS#1 v1.5 or PSS, whichever the returned value verifies
    /// under.
    pub signature_algorithm: Option<SignatureAlgorithm>,
    /// Expected size of the time-stamp token in bytes (B-T), used to size `/Contents`;
    /// default [`DEFAULT_TIMESTAMP_SIZE`].
    pub timestamp_size_hint: Option<usize>,
    /// Smallest `/Contents` capacity in bytes (of DER, before hex encoding); a small margin
    /// is added to it. Set it to the `needed` of a
    /// [`PadesError::PlaceholderTooSmall`](super::PadesError) to retry.
    pub min_contents_len: Option<usize>,
}

/// Bytes reserved for a time-stamp token when no hint is given: room for a token carrying
/// a chain of two RSA-4096 certificates.
pub const DEFAULT_TIMESTAMP_SIZE: usize = 8192;

impl SignOptions {
    /// Invisible B-B signature at `signing_time`, other options unset.
    pub fn new(signing_time: time::OffsetDateTime) -> Self {
        Self {
            level: Level::BB,
            field_name: None,
            appearance: Appearance::Invisible,
            signing_time,
            reason: None,
            location: None,
            contact_info: None,
            name: None,
            signature_algorithm: None,
            timestamp_size_hint: None,
            min_contents_len: None,
        }
    }
}
