//! Minimal DER writing for the token hot path: tag + definite length + pre-encoded contents.
//!
//! The token is assembled from parts encoded once at start-up (certificates, SignerInfo
//! identifiers, constant attributes) and a few per-token parts; the tests decode every
//! assembled structure with `cms`/`x509-tsp` and check that it re-encodes byte for byte.

/// Appends a tag and a DER definite length (X.690 §8.1.3, shortest form).
pub(crate) fn push_header(out: &mut Vec<u8>, tag: u8, len: usize) {
    out.push(tag);
    if len < 0x80 {
        // Fits in seven bits: short form.
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        let significant = bytes.get(skip..).unwrap_or(&[]);
        out.push(0x80 | significant.len() as u8);
        out.extend_from_slice(significant);
    }
}

/// A complete TLV: `tag`, the length of all `parts`, then the parts in order.
pub(crate) fn tlv(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
    let len = parts.iter().map(|p| p.len()).sum();
    let mut out = Vec::with_capacity(len + 6);
    push_header(&mut out, tag, len);
    for part in parts {
        out.extend_from_slice(part);
    }
    out
}

/// A DER `SET OF`: the elements sorted by their encodings (X.690 §11.6).
pub(crate) fn set_of(tag: u8, mut elements: Vec<&[u8]>) -> Vec<u8> {
    elements.sort_unstable();
    tlv(tag, &elements)
}

/// Tag numbers used here.
pub(crate) mod tag {
    /// UNIVERSAL 4.
    pub(crate) const OCTET_STRING: u8 = 0x04;
    /// UNIVERSAL 16, constructed.
    pub(crate) const SEQUENCE: u8 = 0x30;
    /// UNIVERSAL 17, constructed.
    pub(crate) const SET: u8 = 0x31;
    /// [0] constructed (EXPLICIT [0], or IMPLICIT [0] of a SET/SEQUENCE).
    pub(crate) const CONTEXT_0: u8 = 0xa0;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_use_the_shortest_form() {
        let mut out = Vec::new();
        push_header(&mut out, 0x04, 0x7f);
        assert_eq!(out, [0x04, 0x7f]);
        out.clear();
        push_header(&mut out, 0x04, 0x80);
        assert_eq!(out, [0x04, 0x81, 0x80]);
        out.clear();
        push_header(&mut out, 0x30, 0x1234);
        assert_eq!(out, [0x30, 0x82, 0x12, 0x34]);
        out.clear();
        push_header(&mut out, 0x30, 0x01_0000);
        assert_eq!(out, [0x30, 0x83, 0x01, 0x00, 0x00]);
    }

    #[test]
    fn set_of_sorts_and_matches_der_crate() {
        use der::{asn1::SetOfVec, Encode};
        let a = 5u8.to_der().unwrap();
        let b = 300u16.to_der().unwrap();
        let c = 1u8.to_der().unwrap();
        let ours = set_of(tag::SET, vec![&b, &a, &c]);
        let theirs = SetOfVec::try_from(vec![5u16, 300, 1])
            .unwrap()
            .to_der()
            .unwrap();
        assert_eq!(ours, theirs);
    }
}
