//! Stream filters the reader needs for its own structures (cross-reference streams, object
//! streams): `FlateDecode` with PNG/TIFF predictors, `ASCIIHexDecode`. Output is capped so a
//! decompression bomb ends in an error, not in exhausted memory.

use std::io::Read;

use super::object::{Dict, Object};

/// Why a stream could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FilterError {
    /// A filter the reader does not implement.
    #[error("unsupported stream filter /{0}")]
    Unsupported(String),
    /// The compressed data is corrupt.
    #[error("corrupt compressed data: {0}")]
    Corrupt(String),
    /// Decoding would exceed the size cap.
    #[error("decoded stream exceeds the limit of {limit} bytes")]
    TooLarge {
        /// The cap in bytes.
        limit: usize,
    },
    /// Predictor parameters are invalid.
    #[error("invalid /DecodeParms: {0}")]
    BadParams(String),
}

/// Decodes `raw` through the filters named in `dict`, producing at most `limit` bytes.
pub fn decode(dict: &Dict, raw: &[u8], limit: usize) -> Result<Vec<u8>, FilterError> {
    let filters: Vec<&[u8]> = match dict.get("Filter") {
        None | Some(Object::Null) => Vec::new(),
        Some(Object::Name(n)) => vec![n.as_slice()],
        Some(Object::Array(a)) => a.iter().filter_map(Object::as_name).collect(),
        Some(other) => {
            return Err(FilterError::Unsupported(format!(
                "(a {} as /Filter)",
                other.type_name()
            )))
        }
    };
    let params: Vec<Option<&Dict>> = match dict.get("DecodeParms").or_else(|| dict.get("DP")) {
        Some(Object::Dict(d)) => vec![Some(d)],
        Some(Object::Array(a)) => a.iter().map(Object::as_dict).collect(),
        _ => Vec::new(),
    };
    let mut data = raw.to_vec();
    for (i, f) in filters.iter().enumerate() {
        let p = params.get(i).copied().flatten();
        data = match *f {
            b"FlateDecode" | b"Fl" => predict(&inflate(&data, limit)?, p, limit)?,
            b"ASCIIHexDecode" | b"AHx" => ascii_hex(&data)?,
            other => {
                return Err(FilterError::Unsupported(
                    String::from_utf8_lossy(other).into_owned(),
                ))
            }
        };
        if data.len() > limit {
            return Err(FilterError::TooLarge { limit });
        }
    }
    Ok(data)
}

fn inflate(data: &[u8], limit: usize) -> Result<Vec<u8>, FilterError> {
    let mut out = Vec::new();
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    let mut reader = flate2::read::ZlibDecoder::new(data).take(cap);
    match reader.read_to_end(&mut out) {
        Ok(_) => {}
        // Truncated zlib streams are common; keep what decoded, as PDF readers do.
        Err(e) if !out.is_empty() => {
            let _ = e;
        }
        Err(e) => {
            // Some writers emit raw deflate without the zlib header.
            out.clear();
            let mut raw = flate2::read::DeflateDecoder::new(data).take(cap);
            if raw.read_to_end(&mut out).is_err() || out.is_empty() {
                return Err(FilterError::Corrupt(e.to_string()));
            }
        }
    }
    if out.len() > limit {
        return Err(FilterError::TooLarge { limit });
    }
    Ok(out)
}

fn ascii_hex(data: &[u8]) -> Result<Vec<u8>, FilterError> {
    let mut out = Vec::with_capacity(data.len() / 2);
    let mut high = None;
    for &b in data {
        if b == b'>' {
            break;
        }
        if super::lexer::is_whitespace(b) {
            continue;
        }
        let v = (b as char)
            .to_digit(16)
            .ok_or_else(|| FilterError::Corrupt("bad ASCIIHex digit".into()))?
            as u8;
        match high.take() {
            Some(h) => out.push((h << 4) | v),
            None => high = Some(v),
        }
    }
    if let Some(h) = high {
        out.push(h << 4);
    }
    Ok(out)
}

fn predict(data: &[u8], params: Option<&Dict>, limit: usize) -> Result<Vec<u8>, FilterError> {
    let Some(p) = params else {
        return Ok(data.to_vec());
    };
    let predictor = p.get_int("Predictor").unwrap_or(1);
    if predictor <= 1 {
        return Ok(data.to_vec());
    }
    let int = |k: &str, d: i64, max: i64| -> Result<usize, FilterError> {
        let v = p.get_int(k).unwrap_or(d);
        if v < 1 || v > max {
            return Err(FilterError::BadParams(format!("/{k} {v}")));
        }
        usize::try_from(v).map_err(|e| FilterError::BadParams(e.to_string()))
    };
    let colors = int("Colors", 1, 32)?;
    let bpc = int("BitsPerComponent", 8, 16)?;
    let columns = int("Columns", 1, 1 << 20)?;
    let bpp = (colors * bpc).div_ceil(8).max(1);
    let row_len = (colors * bpc * columns).div_ceil(8);
    if predictor == 2 {
        if bpc != 8 {
            return Err(FilterError::BadParams(
                "TIFF predictor with BitsPerComponent other than 8".into(),
            ));
        }
        let mut out = data.to_vec();
        for row in out.chunks_mut(row_len) {
            for i in bpp..row.len() {
                row[i] = row[i].wrapping_add(row[i - bpp]);
            }
        }
        return Ok(out);
    }
    // PNG predictors (10..15): each row starts with a filter-type byte.
    let mut out = Vec::with_capacity(data.len().min(limit));
    let mut prev = vec![0u8; row_len];
    for chunk in data.chunks(row_len + 1) {
        let Some((&ft, row)) = chunk.split_first() else {
            break;
        };
        let mut cur = row.to_vec();
        cur.resize(row_len, 0);
        for i in 0..row_len {
            let left = if i >= bpp { cur[i - bpp] } else { 0 };
            let up = prev[i];
            let up_left = if i >= bpp { prev[i - bpp] } else { 0 };
            cur[i] = match ft {
                0 => cur[i],
                1 => cur[i].wrapping_add(left),
                2 => cur[i].wrapping_add(up),
                3 => cur[i].wrapping_add(((u16::from(left) + u16::from(up)) / 2) as u8),
                4 => cur[i].wrapping_add(paeth(left, up, up_left)),
                other => {
                    return Err(FilterError::Corrupt(format!(
                        "unknown PNG row filter {other}"
                    )))
                }
            };
        }
        out.extend_from_slice(&cur[..row.len().min(row_len)]);
        if out.len() > limit {
            return Err(FilterError::TooLarge { limit });
        }
        prev = cur;
    }
    Ok(out)
}

fn paeth(a: u8, b: u8, c: u8) -> u8 {
    let p = i16::from(a) + i16::from(b) - i16::from(c);
    let pa = (p - i16::from(a)).abs();
    let pb = (p - i16::from(b)).abs();
    let pc = (p - i16::from(c)).abs();
    if pa <= pb && pa <= pc {
        a
    } else if pb <= pc {
        b
    } else {
        c
    }
}

/// Compresses `data` with zlib (used by the writer for cross-reference and object streams).
pub fn deflate(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(data);
    enc.finish().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flate_roundtrip_and_cap() {
        let data = vec![7u8; 100_000];
        let z = deflate(&data);
        let mut d = Dict::new();
        d.set("Filter", Object::name("FlateDecode"));
        assert_eq!(decode(&d, &z, 1 << 20).unwrap(), data);
        assert_eq!(
            decode(&d, &z, 1000),
            Err(FilterError::TooLarge { limit: 1000 })
        );
    }

    #[test]
    fn png_up_predictor() {
        // two rows of 3 columns, filter "Up" on the second
        let raw = [0u8, 1, 2, 3, 2, 1, 1, 1];
        let mut p = Dict::new();
        p.set("Predictor", Object::Int(12));
        p.set("Columns", Object::Int(3));
        let out = predict(&raw, Some(&p), 1000).unwrap();
        assert_eq!(out, vec![1, 2, 3, 2, 3, 4]);
    }

    #[test]
    fn garbage_is_an_error() {
        let mut d = Dict::new();
        d.set("Filter", Object::name("FlateDecode"));
        assert!(decode(&d, b"not zlib at all", 1000).is_err());
        d.set("Filter", Object::name("JBIG2Decode"));
        assert!(matches!(
            decode(&d, b"x", 1000),
            Err(FilterError::Unsupported(_))
        ));
    }
}
