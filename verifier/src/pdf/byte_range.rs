//! `/ByteRange` checks (ISO 32000-2 §12.8.1, ETSI EN 319 142-1 §5.2): the range starts at 0,
//! the gap is exactly the `/Contents` hexadecimal string, nothing overlaps or runs past the
//! end of the file; and streaming the covered bytes through a hasher.

use formats::crypto::{DigestAlgorithm, Hasher};
use formats::pdf::{PdfReader, Source};

/// Largest `/Contents` gap accepted (a CMS with a long chain and revocation data is well below).
const MAX_GAP: u64 = 64 << 20;
/// Read size when hashing.
const CHUNK: usize = 1 << 20;

/// A validated byte range `[0, a] [b, c]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByteRange {
    /// Length of the first range (it starts at 0).
    pub first_len: u64,
    /// Start of the second range.
    pub second_start: u64,
    /// Length of the second range.
    pub second_len: u64,
}

impl ByteRange {
    /// One past the last signed byte.
    pub fn end(&self) -> u64 {
        self.second_start + self.second_len
    }
}

/// Why a byte range is unacceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ByteRangeError {
    /// Not four non-negative integers.
    #[error("/ByteRange is not four non-negative integers: {0:?}")]
    Malformed(Vec<i64>),
    /// The first range does not start at 0.
    #[error("/ByteRange does not start at byte 0")]
    NotFromStart,
    /// The ranges overlap or are out of order.
    #[error("/ByteRange ranges overlap or are out of order")]
    Overlap,
    /// The ranges run past the end of the file.
    #[error("/ByteRange runs past the end of the file ({end} > {len})")]
    PastEof {
        /// End of the second range.
        end: u64,
        /// File length.
        len: u64,
    },
    /// The gap is not exactly the `/Contents` hex string.
    #[error("the unsigned gap in /ByteRange is not exactly the /Contents value: {0}")]
    GapNotContents(String),
}

/// Validates `raw` against the file and the decoded `/Contents`.
pub fn check<S: Source>(
    reader: &PdfReader<S>,
    raw: &[i64],
    contents: &[u8],
) -> Result<ByteRange, ByteRangeError> {
    let [a, b, c, d] = raw else {
        return Err(ByteRangeError::Malformed(raw.to_vec()));
    };
    if [*a, *b, *c, *d].iter().any(|v| *v < 0) {
        return Err(ByteRangeError::Malformed(raw.to_vec()));
    }
    let (a, b, c, d) = (*a as u64, *b as u64, *c as u64, *d as u64);
    if a != 0 {
        return Err(ByteRangeError::NotFromStart);
    }
    if c < b {
        return Err(ByteRangeError::Overlap);
    }
    let end = c
        .checked_add(d)
        .ok_or(ByteRangeError::Malformed(raw.to_vec()))?;
    if end > reader.len() {
        return Err(ByteRangeError::PastEof {
            end,
            len: reader.len(),
        });
    }
    let gap = c - b;
    if !(2..=MAX_GAP).contains(&gap) {
        return Err(ByteRangeError::GapNotContents(format!(
            "gap of {gap} bytes"
        )));
    }
    let bytes = reader
        .read_range(b, gap as usize)
        .map_err(|e| ByteRangeError::GapNotContents(e.to_string()))?;
    let (Some(b'<'), Some(b'>')) = (bytes.first(), bytes.last()) else {
        return Err(ByteRangeError::GapNotContents(
            "it is not delimited by '<' and '>'".into(),
        ));
    };
    let inner = &bytes[1..bytes.len() - 1];
    if inner.iter().any(|c| !c.is_ascii_hexdigit()) {
        return Err(ByteRangeError::GapNotContents(
            "it holds characters other than hexadecimal digits".into(),
        ));
    }
    if inner.len() != contents.len() * 2 || !hex_equals(inner, contents) {
        return Err(ByteRangeError::GapNotContents(
            "it differs from the signature dictionary's /Contents".into(),
        ));
    }
    Ok(ByteRange {
        first_len: b,
        second_start: c,
        second_len: d,
    })
}

fn hex_equals(hex: &[u8], bytes: &[u8]) -> bool {
    hex.chunks_exact(2).zip(bytes).all(|(h, b)| {
        let v = |c: u8| (c as char).to_digit(16).unwrap_or(99);
        v(h[0]) * 16 + v(h[1]) == u32::from(*b)
    })
}

/// Streams the covered bytes through hashers for each algorithm in `algs` (one pass).
pub fn digest<S: Source>(
    reader: &PdfReader<S>,
    br: &ByteRange,
    algs: &[DigestAlgorithm],
) -> std::io::Result<Vec<(DigestAlgorithm, Vec<u8>)>> {
    let mut hashers: Vec<(DigestAlgorithm, Hasher)> =
        algs.iter().map(|a| (*a, a.hasher())).collect();
    let mut buf = vec![0u8; CHUNK];
    for (start, len) in [(0, br.first_len), (br.second_start, br.second_len)] {
        let mut pos = start;
        let end = start + len;
        while pos < end {
            let n = usize::try_from(end - pos).unwrap_or(CHUNK).min(CHUNK);
            reader.source().read_exact_at(pos, &mut buf[..n])?;
            for (_, h) in &mut hashers {
                h.update(&buf[..n]);
            }
            pos += n as u64;
        }
    }
    Ok(hashers
        .into_iter()
        .map(|(a, h)| (a, h.finalize()))
        .collect())
}
