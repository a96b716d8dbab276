//! A bounded BER/DER tag-length-value walker and a BER → DER normaliser.
//!
//! Why by hand: the `der` crate (and so `cms`, `x509-cert`, `x509-tsp`) accepts DER only,
//! while OpenSSL (`cms -sign -stream`) and Adobe write CMS with indefinite lengths and
//! constructed OCTET STRINGs (X.690 §8.1.3.6, §8.7.3). And when the `der` crate does
//! decode, it re-sorts every `SET OF` into DER order and forgets the original bytes, so a
//! signature over signed attributes written unsorted by their producer could never be
//! checked from the decoded value. We need both things no crate offers together: the
//! original byte span of every element (to hash the signed attributes exactly as they
//! appear in the file, RFC 5652 §5.4) and a DER re-encoding of the rest for the typed
//! decoders. The `der` crate's own reader cannot walk indefinite lengths, and `bcder`
//! (which can) belongs to another ecosystem whose types do not mix with `cms`.
//!
//! The walker builds a tree of [`Node`]s carrying offsets into the input. It meets
//! hostile input with an error, never a panic: nesting is capped at [`MAX_DEPTH`],
//! the number of elements at [`MAX_NODES`], every length is checked against the bytes
//! that remain, and all arithmetic is checked.
//!
//! Normalisation ([`Node::to_der`]) rewrites only what BER allows and DER forbids:
//! indefinite lengths become definite, long-form lengths become minimal, and constructed
//! universal string types are flattened to their primitive form. It never reorders
//! `SET OF` elements and never touches the contents of a primitive value, so an element
//! that already is DER comes out byte-identical (certificate and CRL signatures keep
//! verifying).

use core::ops::Range;

/// Maximum nesting of constructed elements. A CMS with an embedded time-stamp token
/// reaches about 30; certificates about 10.
pub(crate) const MAX_DEPTH: usize = 64;

/// Maximum number of elements kept in the tree (bounds its memory to a few tens of MB).
pub(crate) const MAX_NODES: usize = 500_000;

/// Elements at this depth or deeper keep no sub-elements when they are DER: nothing
/// navigates that far (the deepest is a signature-time-stamp token, at depth 8, read as
/// raw bytes), and a large CRL archived in a signed attribute would otherwise cost a
/// node per revoked certificate. BER elements keep theirs, for re-encoding.
const KEEP_DEPTH: usize = 8;

/// Why the bytes are not a well-formed BER element.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BerError {
    /// The input ends inside an element.
    #[error("truncated: an element at offset {offset} runs past the end of its container")]
    Truncated {
        /// Offset of the element's first byte.
        offset: usize,
    },
    /// A tag is malformed (multi-byte tag number too large or not minimal).
    #[error("malformed tag at offset {offset}")]
    BadTag {
        /// Offset of the tag.
        offset: usize,
    },
    /// A length field is malformed (reserved 0xFF, too many octets, or too large).
    #[error("malformed length at offset {offset}")]
    BadLength {
        /// Offset of the element's first byte.
        offset: usize,
    },
    /// A primitive element uses the indefinite length form (X.690 §8.1.3.2 forbids it).
    #[error("primitive element with indefinite length at offset {offset}")]
    IndefinitePrimitive {
        /// Offset of the element's first byte.
        offset: usize,
    },
    /// An end-of-contents marker where none may be, or one with a non-zero length.
    #[error("unexpected end-of-contents marker at offset {offset}")]
    UnexpectedEoc {
        /// Offset of the marker.
        offset: usize,
    },
    /// A constructed string holds something other than segments of its own type, or a
    /// BIT STRING segment other than the last has unused bits.
    #[error("malformed constructed string at offset {offset}")]
    BadConstructedString {
        /// Offset of the constructed string.
        offset: usize,
    },
    /// Nesting deeper than `max` levels.
    #[error("nesting deeper than {max} levels at offset {offset}")]
    TooDeep {
        /// Offset of the element that went too deep.
        offset: usize,
        /// The limit.
        max: usize,
    },
    /// More than `max` elements to keep.
    #[error("more than {max} ASN.1 elements")]
    TooManyElements {
        /// The limit.
        max: usize,
    },
}

/// Tag class (X.690 §8.1.2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Class {
    Universal,
    Application,
    ContextSpecific,
    Private,
}

/// A decoded identifier octet sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Tag {
    pub(crate) class: Class,
    pub(crate) constructed: bool,
    pub(crate) number: u32,
}

impl Tag {
    /// Universal SEQUENCE (constructed).
    pub(crate) const SEQUENCE: Tag = Tag::universal(16, true);
    /// Universal SET (constructed).
    pub(crate) const SET: Tag = Tag::universal(17, true);
    /// Universal OBJECT IDENTIFIER.
    pub(crate) const OID: Tag = Tag::universal(6, false);
    /// Universal INTEGER.
    pub(crate) const INTEGER: Tag = Tag::universal(2, false);
    /// Universal GeneralizedTime (primitive).
    pub(crate) const GENERALIZED_TIME: Tag = Tag::universal(24, false);

    const fn universal(number: u32, constructed: bool) -> Tag {
        Tag {
            class: Class::Universal,
            constructed,
            number,
        }
    }

    /// A constructed context-specific tag `[n]`.
    pub(crate) const fn context(number: u32) -> Tag {
        Tag {
            class: Class::ContextSpecific,
            constructed: true,
            number,
        }
    }

    /// Universal string types that BER lets be written in constructed form.
    fn is_flattenable_string(self) -> bool {
        self.class == Class::Universal
            && matches!(self.number, 3 | 4 | 7 | 12 | 18..=30)
            // 3 BIT STRING, 4 OCTET STRING, 7 ObjectDescriptor, 12 UTF8String,
            // 18..=22 Numeric/Printable/T61/Videotex/IA5, 23/24 UTCTime/GeneralizedTime,
            // 25..=30 Graphic/Visible/General/Universal/CHARACTER/BMP
            && self.number != 29
    }

    fn is_bit_string(self) -> bool {
        self.class == Class::Universal && self.number == 3
    }
}

/// One element of the input, with offsets into it.
#[derive(Clone, Debug)]
pub(crate) struct Node {
    pub(crate) tag: Tag,
    /// Offset of the first identifier octet.
    pub(crate) start: usize,
    /// Number of identifier octets.
    tag_len: usize,
    /// Contents octets (without the end-of-contents marker of an indefinite form).
    pub(crate) value: Range<usize>,
    /// Offset just past the element (after its end-of-contents marker, if any).
    pub(crate) end: usize,
    /// Sub-elements of a constructed element, in file order.
    pub(crate) children: Vec<Node>,
    /// Length of the contents once normalised to DER.
    der_len: usize,
    /// True when this element and all below it are already DER-shaped.
    is_der: bool,
    /// Constructed universal string to be written in primitive form.
    flatten: bool,
}

/// Parses one element at the start of `input`. Bytes after it are not looked at; the
/// element's [`Node::end`] says where it stopped.
pub(crate) fn parse(input: &[u8]) -> Result<Node, BerError> {
    let mut count = 1usize;
    parse_at(input, 0, input.len(), 0, &mut count, false)
}

fn parse_at(
    input: &[u8],
    pos: usize,
    limit: usize,
    depth: usize,
    count: &mut usize,
    keep_all: bool,
) -> Result<Node, BerError> {
    let start = pos;
    if depth > MAX_DEPTH {
        return Err(BerError::TooDeep {
            offset: start,
            max: MAX_DEPTH,
        });
    }
    let keep = keep_all || depth < KEEP_DEPTH;
    let byte = |i: usize| -> Result<u8, BerError> {
        if i >= limit {
            return Err(BerError::Truncated { offset: start });
        }
        input
            .get(i)
            .copied()
            .ok_or(BerError::Truncated { offset: start })
    };

    // Identifier octets.
    let first = byte(pos)?;
    let class = match first >> 6 {
        0 => Class::Universal,
        1 => Class::Application,
        2 => Class::ContextSpecific,
        _ => Class::Private,
    };
    let constructed = first & 0x20 != 0;
    let mut number = u32::from(first & 0x1f);
    let mut p = pos + 1;
    if number == 0x1f {
        number = 0;
        let mut octets = 0;
        loop {
            let b = byte(p)?;
            p += 1;
            octets += 1;
            // X.690 §8.1.2.4.2 c): the first subsequent octet must not be 0x80;
            // four octets carry 28 bits, plenty for any real tag.
            if (octets == 1 && b == 0x80) || octets > 4 {
                return Err(BerError::BadTag { offset: start });
            }
            number = (number << 7) | u32::from(b & 0x7f);
            if b & 0x80 == 0 {
                break;
            }
        }
        // Numbers below 31 must use the one-octet form (X.690 §8.1.2.2).
        if number < 0x1f {
            return Err(BerError::BadTag { offset: start });
        }
    }
    let tag_len = p - pos;
    let tag = Tag {
        class,
        constructed,
        number,
    };
    if first == 0 {
        // End-of-contents where an element was expected: the caller handles EOC itself.
        return Err(BerError::UnexpectedEoc { offset: start });
    }

    // Length octets.
    let l0 = byte(p)?;
    p += 1;
    let mut minimal = true;
    let length = match l0 {
        0x80 => None,
        0xff => return Err(BerError::BadLength { offset: start }),
        b if b & 0x80 == 0 => Some(usize::from(b)),
        b => {
            let n = usize::from(b & 0x7f);
            if n > size_of::<usize>() {
                return Err(BerError::BadLength { offset: start });
            }
            let mut len = 0usize;
            for i in 0..n {
                let lb = byte(p)?;
                p += 1;
                if i == 0 && lb == 0 {
                    minimal = false;
                }
                len = len
                    .checked_mul(256)
                    .and_then(|l| l.checked_add(usize::from(lb)))
                    .ok_or(BerError::BadLength { offset: start })?;
            }
            if len < 0x80 {
                minimal = false;
            }
            Some(len)
        }
    };

    let flatten_candidate = constructed && tag.is_flattenable_string();
    let mut children = Vec::new();
    let mut children_der = true;
    let mut children_len = 0usize;
    let mut add = |child: Node, count: &mut usize| -> Result<(), BerError> {
        children_der &= child.is_der;
        children_len = children_len
            .checked_add(child.der_encoded_len())
            .ok_or(BerError::BadLength { offset: start })?;
        if keep {
            *count += 1;
            if *count > MAX_NODES {
                return Err(BerError::TooManyElements { max: MAX_NODES });
            }
            children.push(child);
        }
        Ok(())
    };
    let (value, end, indefinite) = match length {
        Some(len) => {
            let value_end = p
                .checked_add(len)
                .filter(|&e| e <= limit)
                .ok_or(BerError::Truncated { offset: start })?;
            if constructed {
                let mut q = p;
                while q < value_end {
                    if input.get(q) == Some(&0) {
                        return Err(BerError::UnexpectedEoc { offset: q });
                    }
                    let child = parse_at(input, q, value_end, depth + 1, count, keep_all)?;
                    q = child.end;
                    add(child, count)?;
                }
            }
            (p..value_end, value_end, false)
        }
        None => {
            if !constructed {
                return Err(BerError::IndefinitePrimitive { offset: start });
            }
            let mut q = p;
            loop {
                // End-of-contents: 0x00 0x00.
                if byte(q)? == 0 {
                    if byte(q + 1)? != 0 {
                        return Err(BerError::UnexpectedEoc { offset: q });
                    }
                    break;
                }
                let child = parse_at(input, q, limit, depth + 1, count, keep_all)?;
                q = child.end;
                add(child, count)?;
            }
            (p..q, q + 2, true)
        }
    };

    let is_der = minimal && !indefinite && !flatten_candidate && children_der;
    if !keep && !is_der {
        // Re-encoding needs the sub-elements after all (rare: BER deep inside).
        return parse_at(input, pos, limit, depth, count, true);
    }
    let mut node = Node {
        tag,
        start,
        tag_len,
        value,
        end,
        children,
        der_len: children_len,
        is_der,
        flatten: flatten_candidate,
    };
    if node.flatten {
        node.der_len = flattened_len(&node, input)?;
    } else if !constructed {
        node.der_len = node.value.len();
    }
    Ok(node)
}

/// Length of a constructed string's contents once flattened, after checking that every
/// segment is of the same type (X.690 §8.7.3.2, §8.6.4.1).
fn flattened_len(node: &Node, input: &[u8]) -> Result<usize, BerError> {
    let bad = BerError::BadConstructedString { offset: node.start };
    let mut leaves = Vec::new();
    collect_leaves(node, node.tag.number, &mut leaves).map_err(|()| bad.clone())?;
    if node.tag.is_bit_string() {
        // Each segment starts with its unused-bit count; only the last may be non-zero.
        let mut total = 1usize;
        let last = leaves.len().saturating_sub(1);
        for (i, leaf) in leaves.iter().enumerate() {
            let unused = *leaf.value_bytes(input).first().ok_or(bad.clone())?;
            if unused > 7 || (i != last && unused != 0) {
                return Err(bad);
            }
            total += leaf.value.len() - 1;
        }
        Ok(total)
    } else {
        Ok(leaves.iter().map(|l| l.value.len()).sum())
    }
}

fn collect_leaves<'n>(node: &'n Node, number: u32, out: &mut Vec<&'n Node>) -> Result<(), ()> {
    for c in &node.children {
        if c.tag.class != Class::Universal || c.tag.number != number {
            return Err(());
        }
        if c.tag.constructed {
            collect_leaves(c, number, out)?;
        } else {
            out.push(c);
        }
    }
    Ok(())
}

/// Number of octets DER needs to encode a length.
fn length_octets(len: usize) -> usize {
    if len < 0x80 {
        1
    } else {
        1 + (usize::BITS - len.leading_zeros()).div_ceil(8) as usize
    }
}

fn write_length(len: usize, out: &mut Vec<u8>) {
    if len < 0x80 {
        // Fits in seven bits.
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        let significant = bytes.get(skip..).unwrap_or_default();
        // At most size_of::<usize>() octets, so this fits in seven bits.
        out.push(0x80 | significant.len() as u8);
        out.extend_from_slice(significant);
    }
}

/// `tag` (one identifier octet), DER length, `content`.
pub(crate) fn wrap(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 10);
    out.push(tag);
    write_length(content.len(), &mut out);
    out.extend_from_slice(content);
    out
}

impl Node {
    /// Bytes of the element exactly as in the input (identifier to end-of-contents).
    pub(crate) fn raw<'a>(&self, input: &'a [u8]) -> &'a [u8] {
        input.get(self.start..self.end).unwrap_or_default()
    }

    /// Contents octets exactly as in the input (meaningful for primitive elements).
    pub(crate) fn value_bytes<'a>(&self, input: &'a [u8]) -> &'a [u8] {
        input.get(self.value.clone()).unwrap_or_default()
    }

    /// Whether the element is already in DER shape (definite minimal lengths, primitive
    /// strings) all the way down.
    pub(crate) fn is_der(&self) -> bool {
        self.is_der
    }

    /// Total DER length of the element (identifier, length and contents octets).
    fn der_encoded_len(&self) -> usize {
        self.tag_len + length_octets(self.der_len) + self.der_len
    }

    /// The element re-encoded as DER (see the module documentation for what changes).
    pub(crate) fn to_der(&self, input: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.der_encoded_len());
        self.write_der(input, &mut out);
        out
    }

    fn write_der(&self, input: &[u8], out: &mut Vec<u8>) {
        if self.is_der {
            out.extend_from_slice(self.raw(input));
            return;
        }
        let tag_bytes = input
            .get(self.start..self.start + self.tag_len)
            .unwrap_or_default();
        if self.flatten {
            // Same tag, primitive form.
            if let Some((first, rest)) = tag_bytes.split_first() {
                out.push(first & !0x20);
                out.extend_from_slice(rest);
            }
            write_length(self.der_len, out);
            let mut leaves = Vec::new();
            // Shape was checked when the node was built.
            let _checked = collect_leaves(self, self.tag.number, &mut leaves);
            if self.tag.is_bit_string() {
                let unused = leaves
                    .last()
                    .and_then(|l| l.value_bytes(input).first().copied())
                    .unwrap_or(0);
                out.push(unused);
                for l in leaves {
                    out.extend_from_slice(l.value_bytes(input).get(1..).unwrap_or_default());
                }
            } else {
                for l in leaves {
                    out.extend_from_slice(l.value_bytes(input));
                }
            }
            return;
        }
        out.extend_from_slice(tag_bytes);
        write_length(self.der_len, out);
        if self.tag.constructed {
            for c in &self.children {
                c.write_der(input, out);
            }
        } else {
            out.extend_from_slice(self.value_bytes(input));
        }
    }

    /// The `i`-th sub-element.
    pub(crate) fn child(&self, i: usize) -> Option<&Node> {
        self.children.get(i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normalise(input: &[u8]) -> Vec<u8> {
        let node = parse(input).unwrap();
        assert_eq!(node.end, input.len());
        node.to_der(input)
    }

    #[test]
    fn der_input_is_copied_verbatim() {
        let der = [0x30, 0x06, 0x02, 0x01, 0x05, 0x04, 0x01, 0xaa];
        let node = parse(&der).unwrap();
        assert!(node.is_der());
        assert_eq!(node.to_der(&der), der);
        assert_eq!(node.children.len(), 2);
    }

    #[test]
    fn indefinite_lengths_become_definite() {
        let ber = [
            0x30, 0x80, 0x02, 0x01, 0x05, 0x31, 0x80, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00,
        ];
        let node = parse(&ber).unwrap();
        assert!(!node.is_der());
        assert_eq!(node.raw(&ber), ber);
        assert_eq!(
            node.to_der(&ber),
            [0x30, 0x07, 0x02, 0x01, 0x05, 0x31, 0x02, 0x05, 0x00]
        );
    }

    #[test]
    fn long_form_lengths_become_minimal() {
        assert_eq!(
            normalise(&[0x04, 0x81, 0x02, 0xaa, 0xbb]),
            [0x04, 0x02, 0xaa, 0xbb]
        );
        assert_eq!(
            normalise(&[0x04, 0x82, 0x00, 0x01, 0xaa]),
            [0x04, 0x01, 0xaa]
        );
        let long = [vec![0x04, 0x82, 0x01, 0x00], vec![7u8; 256]].concat();
        assert_eq!(normalise(&long), long, "already minimal");
    }

    #[test]
    fn constructed_strings_are_flattened() {
        // OCTET STRING, constructed, nested, indefinite
        let ber = [
            0x24, 0x80, 0x04, 0x02, 0x01, 0x02, 0x24, 0x03, 0x04, 0x01, 0x03, 0x00, 0x00,
        ];
        assert_eq!(normalise(&ber), [0x04, 0x03, 0x01, 0x02, 0x03]);
        // BIT STRING: unused bits only in the last segment
        let bits = [0x23, 0x08, 0x03, 0x02, 0x00, 0xaa, 0x03, 0x02, 0x04, 0xb0];
        assert_eq!(normalise(&bits), [0x03, 0x03, 0x04, 0xaa, 0xb0]);
        let bad_bits = [0x23, 0x08, 0x03, 0x02, 0x04, 0xa0, 0x03, 0x02, 0x00, 0xb0];
        assert!(matches!(
            parse(&bad_bits),
            Err(BerError::BadConstructedString { .. })
        ));
        // a segment of another type
        let mixed = [0x24, 0x03, 0x0c, 0x01, 0x41];
        assert!(matches!(
            parse(&mixed),
            Err(BerError::BadConstructedString { .. })
        ));
        // an implicitly tagged constructed element is left alone (its type is unknown)
        let tagged = [0xa0, 0x80, 0x04, 0x01, 0x01, 0x00, 0x00];
        assert_eq!(normalise(&tagged), [0xa0, 0x03, 0x04, 0x01, 0x01]);
    }

    #[test]
    fn multi_octet_tags_are_kept() {
        let der = [0x9f, 0x81, 0x00, 0x01, 0x05];
        let node = parse(&der).unwrap();
        assert_eq!(node.tag.number, 128);
        assert_eq!(node.tag.class, Class::ContextSpecific);
        assert_eq!(node.to_der(&der), der);
        // low tag numbers must use the short form
        assert!(matches!(
            parse(&[0x9f, 0x05, 0x00]),
            Err(BerError::BadTag { .. })
        ));
    }

    #[test]
    fn large_der_structures_deep_down_keep_no_nodes() {
        let nulls = [0x05u8, 0x00].repeat(MAX_NODES + 10);
        let mut der = wrap(0x30, &nulls);
        for _ in 0..KEEP_DEPTH {
            der = wrap(0x30, &der);
        }
        let node = parse(&der).unwrap();
        assert!(node.is_der());
        assert_eq!(node.to_der(&der), der);
        // the same at the top is refused
        assert!(matches!(
            parse(&wrap(0x30, &nulls)),
            Err(BerError::TooManyElements { .. })
        ));
        // BER deep down is kept for re-encoding
        let mut ber = vec![0x30, 0x80, 0x04, 0x81, 0x01, 0xaa, 0x00, 0x00];
        for _ in 0..KEEP_DEPTH + 2 {
            ber = wrap(0x30, &ber);
        }
        let node = parse(&ber).unwrap();
        assert!(!node.is_der());
        let mut expected = vec![0x30, 0x03, 0x04, 0x01, 0xaa];
        for _ in 0..KEEP_DEPTH + 2 {
            expected = wrap(0x30, &expected);
        }
        assert_eq!(node.to_der(&ber), expected);
    }

    #[test]
    fn malformed_input_is_an_error() {
        for (input, what) in [
            (&[][..], "empty"),
            (&[0x30], "no length"),
            (&[0x30, 0x03, 0x05, 0x00], "short"),
            (&[0x04, 0x80, 0x00, 0x00], "indefinite primitive"),
            (&[0x30, 0x80, 0x05, 0x00], "no end-of-contents"),
            (&[0x30, 0x80, 0x00, 0x01], "bad end-of-contents"),
            (&[0x30, 0x02, 0x00, 0x00], "end-of-contents in definite"),
            (&[0x30, 0xff], "reserved length"),
            (
                &[0x30, 0x89, 1, 0, 0, 0, 0, 0, 0, 0, 0],
                "nine length octets",
            ),
            (&[0x1f, 0x80, 0x01, 0x00], "non-minimal tag"),
            (&[0x1f, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x00], "tag too large"),
        ] {
            assert!(parse(input).is_err(), "{what}");
        }
    }
}
