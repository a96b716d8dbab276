//! Step one: the incremental update with the signature field and its `/Contents`
//! placeholder, the digest of the byte ranges, and the signed attributes.

use formats::pdf::{
    write_object, Dict, IncrementalWriter, ObjRef, Object, PdfError, PdfReader, Source, Stream,
    StreamData,
};
use sha2::{Digest, Sha256};

use super::appearance;
use super::docmdp;
use super::fields::{self, Field};
use super::options::{Appearance, Level, Rect, SignOptions, SignatureAlgorithm};
use super::page_tree::find_page;
use super::prepared::{Prepared, PreparedFields};
use super::signed_data::{
    algorithm_identifier, assemble, default_algorithm, fits, max_signature_len, signed_attributes,
    tlv, Chain,
};
use super::stream::{edges_sha256, hash_prefix};
use super::{options::DEFAULT_TIMESTAMP_SIZE, PadesError};

/// Width reserved for the three numbers after `/ByteRange [0 `.
const BYTE_RANGE_WIDTH: usize = 3 * 12 + 2;
/// Slack added to the computed CMS size and to a caller's minimum: the DER of an ECDSA value
/// is at most its maximum, but time-stamp tokens vary by a few bytes from one to the next.
const CONTENTS_SLACK: usize = 64;
/// `/F`: Print (4) + Locked (128), ISO 32000-2 §12.5.3.
const WIDGET_FLAGS: i64 = 132;

/// Prepares `document` for a signature by the holder of `chain[0]` (DER certificates,
/// signer first, then the CA certificates to embed).
///
/// Reads only the trailer, the cross-reference sections, the catalog, the form's fields,
/// the certification permissions and the page that gets the widget; hashes the document
/// as a stream. The returned [`Prepared`] holds what the device must sign
/// ([`Prepared::signed_attributes`]) and the update to complete with
/// [`finalize`](super::finalize).
///
/// # Errors
/// Encrypted, non-PDF or irreparably damaged documents ([`PadesError::Pdf`]), documents
/// certified with DocMDP P=1 ([`PadesError::CertifiedNoChanges`]), a field name already
/// used ([`PadesError::FieldExists`]), a page that does not exist, a key we cannot sign
/// with, I/O errors.
///
/// # Retry on an overflowing placeholder
/// `/Contents` is sized from the real certificate chain, the largest signature the key can
/// produce and, for B-T, [`SignOptions::timestamp_size_hint`]. If the time-stamp token
/// turns out larger, `finalize` fails with [`PadesError::PlaceholderTooSmall`]`{ needed }`:
/// call `prepare` again with `min_contents_len: Some(needed)` and have the device sign
/// the new signed attributes.
pub fn prepare<S: Source + Sync>(
    document: S,
    chain: &[Vec<u8>],
    options: &SignOptions,
) -> Result<Prepared, PadesError> {
    let chain = Chain::parse(chain)?;
    let kind = chain.key_kind()?;
    if let Some(alg) = options.signature_algorithm {
        if !fits(alg, kind) {
            return Err(PadesError::UnsupportedKey {
                reason: format!("a {kind:?} key cannot sign with {alg:?}"),
            });
        }
    }
    if let Some(name) = &options.field_name {
        if name.is_empty() || name.contains('.') {
            return Err(PadesError::BadFieldName { name: name.clone() });
        }
    }
    let contents_len = contents_capacity(&chain, kind, options)?;

    let reader = PdfReader::open(&document)?;
    if reader.is_encrypted() {
        return Err(PdfError::Encrypted.into());
    }
    let catalog = reader.catalog()?;
    let root_ref = reader
        .trailer()
        .get("Root")
        .and_then(Object::as_ref)
        .ok_or_else(|| PadesError::Structure {
            what: "the trailer's /Root is not an indirect reference".into(),
        })?;
    if docmdp::permission(&reader, &catalog)? == Some(1) {
        return Err(PadesError::CertifiedNoChanges);
    }

    let mut form = Form::read(&reader, &catalog)?;
    let existing = fields::all_fields(&reader, &form.fields)?;
    let target = choose_field(&existing, options)?;
    let field_name = match &target {
        Target::New(name) => name.clone(),
        Target::Existing(f) => f.name.clone(),
    };

    let mut w = IncrementalWriter::new(&reader)?;
    let sig_ref = w.allocate();
    let display_name = options
        .name
        .clone()
        .or_else(|| chain.common_name())
        .unwrap_or_else(|| "unknown signer".into());
    let lines = appearance_lines(&display_name, options);

    match target {
        Target::New(name) => {
            let (page_index, rect) = match options.appearance {
                Appearance::Invisible => (0, None),
                Appearance::Visible { page: 0, .. } => {
                    return Err(PadesError::PageOutOfRange { page: 0, count: 0 })
                }
                Appearance::Visible { page, rect } => {
                    check_rect(&rect)?;
                    (page - 1, Some(rect))
                }
            };
            let (page_ref, mut page) = find_page(&reader, &catalog, page_index)?;
            let field_ref = w.allocate();
            let mut widget = Dict::new();
            widget.set("Type", Object::name("Annot"));
            widget.set("Subtype", Object::name("Widget"));
            widget.set("FT", Object::name("Sig"));
            widget.set("T", text_string(&name));
            widget.set("V", Object::Ref(sig_ref));
            widget.set("F", Object::Int(WIDGET_FLAGS));
            let r = rect.unwrap_or(Rect {
                llx: 0.0,
                lly: 0.0,
                urx: 0.0,
                ury: 0.0,
            });
            widget.set("Rect", rect_object(&r));
            widget.set("P", Object::Ref(page_ref));
            if rect.is_some() {
                let ap = put_appearance(&mut w, r.width(), r.height(), &lines)?;
                widget.set("AP", ap);
            }
            w.put(field_ref, &Object::Dict(widget))?;

            // the page's /Annots: an indirect array is rewritten, a direct one with the page
            match page.get("Annots").cloned() {
                Some(Object::Ref(annots_ref)) => {
                    let mut annots = match reader.get(annots_ref)? {
                        Object::Array(a) => a,
                        _ => Vec::new(),
                    };
                    annots.push(Object::Ref(field_ref));
                    w.put(annots_ref, &Object::Array(annots))?;
                }
                other => {
                    let mut annots = match other {
                        Some(Object::Array(a)) => a,
                        _ => Vec::new(),
                    };
                    annots.push(Object::Ref(field_ref));
                    page.set("Annots", Object::Array(annots));
                    w.put(page_ref, &Object::Dict(page))?;
                }
            }
            form.fields.push(Object::Ref(field_ref));
            form.fields_changed = true;
        }
        Target::Existing(field) => {
            let field_ref = field.reference.ok_or_else(|| PadesError::Structure {
                what: format!("signature field {:?} is not an indirect object", field.name),
            })?;
            let mut dict = field.dict.clone();
            dict.set("V", Object::Ref(sig_ref));
            let r = dict
                .get("Rect")
                .map(|r| reader.resolve(r))
                .transpose()?
                .and_then(|r| read_rect(&r));
            if let Some(r) = r.filter(|r| r.width().abs() > 0.0 && r.height().abs() > 0.0) {
                let ap = put_appearance(&mut w, r.width().abs(), r.height().abs(), &lines)?;
                dict.set("AP", ap);
            }
            w.put(field_ref, &Object::Dict(dict))?;
        }
    }
    form.write(&mut w, root_ref, catalog)?;

    // the signature dictionary: /Contents last, so the byte range excludes exactly it
    let (body, byte_range_at, contents_at) = signature_dictionary(options, contents_len);
    w.put_raw(sig_ref, body);
    let written = w.finish()?;
    let base_len = written.base_len;
    let mut update = written.bytes;
    let body_offset =
        written
            .body_offsets
            .get(&sig_ref)
            .copied()
            .ok_or_else(|| PadesError::Structure {
                what: "the signature dictionary was not written".into(),
            })?;
    let rel = |abs: u64| usize::try_from(abs - base_len).unwrap_or(usize::MAX);
    let contents_start = body_offset + contents_at as u64;
    let contents_end = contents_start + 2 + 2 * contents_len as u64;
    let total = base_len + update.len() as u64;
    let byte_range = [0, contents_start, contents_end, total - contents_end];
    let numbers = format!("{} {} {}", byte_range[1], byte_range[2], byte_range[3]);
    let at = rel(body_offset) + byte_range_at;
    let slot = update
        .get_mut(at..at + BYTE_RANGE_WIDTH)
        .ok_or_else(|| PadesError::Structure {
            what: "byte range placeholder out of place".into(),
        })?;
    if numbers.len() > slot.len() {
        return Err(PadesError::Structure {
            what: "the document is too large for the byte range placeholder".into(),
        });
    }
    slot.fill(b' ');
    slot[..numbers.len()].copy_from_slice(numbers.as_bytes());

    // hash the original as a stream, then the update around /Contents
    let mut hasher = ring::digest::Context::new(&ring::digest::SHA256);
    hash_prefix(&document, base_len, &mut hasher)?;
    let original_sha256 = hasher.clone().finish().as_ref().to_vec();
    hasher.update(&update[..rel(contents_start)]);
    hasher.update(&update[rel(contents_end)..]);
    let document_digest = hasher.finish().as_ref().to_vec();
    let original_edges_sha256 = edges_sha256(&document, base_len)?;

    let signed_attributes = signed_attributes(&document_digest, chain.signer_der())?;
    let prepared = Prepared::new(PreparedFields {
        level: options.level,
        field_name,
        original_len: base_len,
        original_sha256,
        original_edges_sha256,
        update,
        byte_range,
        document_digest,
        signed_attributes,
        signer_certificate_sha256: Sha256::digest(chain.signer_der()).to_vec(),
        signature_algorithm: options.signature_algorithm,
    });
    prepared.check()?;
    Ok(prepared)
}

/// Where the signature goes.
enum Target {
    /// A new field with this name.
    New(String),
    /// An empty signature field already in the form.
    Existing(Field),
}

fn choose_field(existing: &[Field], options: &SignOptions) -> Result<Target, PadesError> {
    let Some(name) = &options.field_name else {
        return Ok(Target::New(fields::free_name(existing)));
    };
    match existing.iter().find(|f| &f.name == name) {
        None => Ok(Target::New(name.clone())),
        Some(f) if f.is_signature && f.has_value => Err(PadesError::FieldExists {
            name: name.clone(),
            what: "it is already signed",
        }),
        Some(f) if !f.is_signature => Err(PadesError::FieldExists {
            name: name.clone(),
            what: "it is not a signature field",
        }),
        Some(f) if f.dict.get_name("Subtype") != Some(b"Widget") => Err(PadesError::FieldExists {
            name: name.clone(),
            what: "it is an empty signature field with separate widgets, which is not supported",
        }),
        Some(f) => Ok(Target::Existing(f.clone())),
    }
}

/// The interactive form: where it lives and what changes.
struct Form {
    /// `/AcroForm` as an indirect object, if it is one.
    reference: Option<ObjRef>,
    dict: Dict,
    /// `/Fields` as an indirect object, if it is one.
    fields_ref: Option<ObjRef>,
    fields: Vec<Object>,
    fields_changed: bool,
}

impl Form {
    fn read<S: Source>(reader: &PdfReader<S>, catalog: &Dict) -> Result<Self, PadesError> {
        let (reference, dict) = match catalog.get("AcroForm") {
            Some(Object::Ref(r)) => match reader.get(*r)? {
                Object::Dict(d) => (Some(*r), d),
                _ => (None, Dict::new()),
            },
            Some(Object::Dict(d)) => (None, d.clone()),
            _ => (None, Dict::new()),
        };
        let (fields_ref, fields) = match dict.get("Fields") {
            Some(Object::Ref(r)) => match reader.get(*r)? {
                Object::Array(a) => (Some(*r), a),
                _ => (None, Vec::new()),
            },
            Some(Object::Array(a)) => (None, a.clone()),
            _ => (None, Vec::new()),
        };
        Ok(Self {
            reference,
            dict,
            fields_ref,
            fields,
            fields_changed: false,
        })
    }

    /// Writes what changed: the fields array, the form (with `/SigFlags 3`), the catalog
    /// when the form is new or direct.
    fn write(
        mut self,
        w: &mut IncrementalWriter,
        root_ref: ObjRef,
        mut catalog: Dict,
    ) -> Result<(), PadesError> {
        let mut form_changed = false;
        if self.fields_changed {
            match self.fields_ref {
                Some(r) => w.put(r, &Object::Array(self.fields))?,
                None => {
                    self.dict.set("Fields", Object::Array(self.fields));
                    form_changed = true;
                }
            }
        }
        // SignaturesExist | AppendOnly (ISO 32000-2 §12.7.3 Table 225)
        if self.dict.get_int("SigFlags") != Some(3) {
            self.dict.set("SigFlags", Object::Int(3));
            form_changed = true;
        }
        if !form_changed {
            return Ok(());
        }
        match self.reference {
            Some(r) => w.put(r, &Object::Dict(self.dict))?,
            None => {
                let r = w.allocate();
                w.put(r, &Object::Dict(self.dict))?;
                catalog.set("AcroForm", Object::Ref(r));
                w.put(root_ref, &Object::Dict(catalog))?;
            }
        }
        Ok(())
    }
}

/// Writes the appearance stream (and its font) and returns the `/AP` dictionary.
fn put_appearance(
    w: &mut IncrementalWriter,
    width: f64,
    height: f64,
    lines: &[String],
) -> Result<Object, PadesError> {
    let font_ref = w.allocate();
    let xobject_ref = w.allocate();
    w.put(font_ref, &appearance::helvetica())?;
    let mut fonts = Dict::new();
    fonts.set("Helv", Object::Ref(font_ref));
    let mut resources = Dict::new();
    resources.set("Font", Object::Dict(fonts));
    resources.set(
        "ProcSet",
        Object::Array(vec![Object::name("PDF"), Object::name("Text")]),
    );
    let mut dict = Dict::new();
    dict.set("Type", Object::name("XObject"));
    dict.set("Subtype", Object::name("Form"));
    dict.set(
        "BBox",
        rect_object(&Rect {
            llx: 0.0,
            lly: 0.0,
            urx: width,
            ury: height,
        }),
    );
    dict.set("Resources", Object::Dict(resources));
    let data = appearance::content_stream(width, height, lines);
    w.put(
        xobject_ref,
        &Object::Stream(Stream {
            dict,
            data: StreamData::Inline(data),
        }),
    )?;
    let mut ap = Dict::new();
    ap.set("N", Object::Ref(xobject_ref));
    Ok(Object::Dict(ap))
}

fn appearance_lines(name: &str, options: &SignOptions) -> Vec<String> {
    let t = options.signing_time;
    let offset = t.offset();
    let mut lines = vec![
        format!("Digitally signed by {name}"),
        format!(
            "Date: {:04}-{:02}-{:02} {:02}:{:02}:{:02} {}{:02}:{:02}",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            if offset.is_negative() { '-' } else { '+' },
            offset.whole_hours().unsigned_abs(),
            offset.minutes_past_hour().unsigned_abs()
        ),
    ];
    if let Some(reason) = &options.reason {
        lines.push(format!("Reason: {reason}"));
    }
    if let Some(location) = &options.location {
        lines.push(format!("Location: {location}"));
    }
    lines
}

/// A PDF date string (ISO 32000-2 §7.9.4): `D:YYYYMMDDHHmmSS+HH'mm'`.
fn pdf_date(t: time::OffsetDateTime) -> String {
    let offset = t.offset();
    let tz = if offset.is_utc() {
        "Z".to_string()
    } else {
        format!(
            "{}{:02}'{:02}'",
            if offset.is_negative() { '-' } else { '+' },
            offset.whole_hours().unsigned_abs(),
            offset.minutes_past_hour().unsigned_abs()
        )
    };
    format!(
        "D:{:04}{:02}{:02}{:02}{:02}{:02}{tz}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// A text string (ISO 32000-2 §7.9.2.2): PDFDocEncoding when the text is printable ASCII,
/// UTF-16BE with a byte order mark otherwise.
fn text_string(s: &str) -> Object {
    if s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        Object::string(s.as_bytes().to_vec())
    } else {
        let mut bytes = vec![0xfe, 0xff];
        for unit in s.encode_utf16() {
            bytes.extend_from_slice(&unit.to_be_bytes());
        }
        Object::String { bytes, hex: true }
    }
}

fn rect_object(r: &Rect) -> Object {
    Object::Array(
        [r.llx, r.lly, r.urx, r.ury]
            .iter()
            .map(|&v| {
                if v.fract() == 0.0 && v.abs() < 1e9 {
                    Object::Int(v as i64)
                } else {
                    Object::Real(v)
                }
            })
            .collect(),
    )
}

fn read_rect(o: &Object) -> Option<Rect> {
    let a = o.as_array()?;
    let v: Vec<f64> = a.iter().filter_map(Object::as_number).collect();
    match v.as_slice() {
        [a, b, c, d] => Some(Rect {
            llx: a.min(*c),
            lly: b.min(*d),
            urx: a.max(*c),
            ury: b.max(*d),
        }),
        _ => None,
    }
}

fn check_rect(r: &Rect) -> Result<(), PadesError> {
    let finite = [r.llx, r.lly, r.urx, r.ury].iter().all(|v| v.is_finite());
    if finite && r.width() > 0.0 && r.height() > 0.0 {
        Ok(())
    } else {
        Err(PadesError::BadRectangle)
    }
}

/// The body of the signature dictionary, with the offsets (in the body) of the byte range
/// numbers slot and of the `<` opening `/Contents`.
fn signature_dictionary(options: &SignOptions, contents_len: usize) -> (Vec<u8>, usize, usize) {
    let mut d = Dict::new();
    d.set("Type", Object::name("Sig"));
    d.set("Filter", Object::name("Adobe.PPKLite"));
    d.set("SubFilter", Object::name("ETSI.CAdES.detached"));
    d.set(
        "M",
        Object::string(pdf_date(options.signing_time).into_bytes()),
    );
    for (key, value) in [
        ("Name", &options.name),
        ("Reason", &options.reason),
        ("Location", &options.location),
        ("ContactInfo", &options.contact_info),
    ] {
        if let Some(v) = value {
            d.set(key, text_string(v));
        }
    }
    let mut body = Vec::new();
    write_object(&mut body, &Object::Dict(d));
    body.truncate(body.len().saturating_sub(2)); // reopen: drop the closing ">>"
    body.extend_from_slice(b" /ByteRange [0 ");
    let byte_range_at = body.len();
    body.extend_from_slice(&[b' '; BYTE_RANGE_WIDTH]);
    body.extend_from_slice(b"] /Contents ");
    let contents_at = body.len();
    body.push(b'<');
    body.resize(body.len() + 2 * contents_len, b'0');
    body.extend_from_slice(b">>>");
    (body, byte_range_at, contents_at)
}

/// Bytes to reserve for the CMS: the exact size of the `SignedData` with this chain and
/// signed attributes, the largest signature value the key makes, and the time-stamp hint.
fn contents_capacity(
    chain: &Chain,
    kind: formats::crypto::KeyKind,
    options: &SignOptions,
) -> Result<usize, PadesError> {
    let attrs = signed_attributes(&[0; 32], chain.signer_der())?;
    // the longest identifier the value may be announced under (PSS has parameters)
    let alg = match options.signature_algorithm {
        Some(a) => a,
        None if default_algorithm(kind) == SignatureAlgorithm::EcdsaSha256 => {
            SignatureAlgorithm::EcdsaSha256
        }
        None => SignatureAlgorithm::RsaPssSha256,
    };
    let token = match options.level {
        Level::BB => None,
        Level::BT => {
            // a SEQUENCE of about the hinted total size
            let size = options
                .timestamp_size_hint
                .unwrap_or(DEFAULT_TIMESTAMP_SIZE)
                .clamp(16, 1 << 20);
            Some(tlv(0x30, &vec![0; size - 4]))
        }
    };
    let probe = assemble(
        &attrs,
        &algorithm_identifier(alg)?,
        &vec![0xff; max_signature_len(kind)],
        chain,
        token.as_deref(),
    )?;
    // slack on the caller's minimum too: a retried time-stamp token may again differ by a
    // few bytes (serial number, signature value lengths)
    Ok((probe.len() + CONTENTS_SLACK)
        .max(options.min_contents_len.map_or(0, |m| m + CONTENTS_SLACK)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pdf_dates() {
        let t = time::macros::datetime!(2026-11-22 16:12:06 +01:30);
        assert_eq!(pdf_date(t), "D:20261122161206+01'30'");
        let t = time::macros::datetime!(2026-01-02 03:04:05 UTC);
        assert_eq!(pdf_date(t), "D:20260102030405Z");
    }

    #[test]
    fn signature_dictionary_ends_with_contents() {
        let opts = SignOptions::new(time::macros::datetime!(2026-11-22 16:12:06 UTC));
        let (body, br, c) = signature_dictionary(&opts, 4);
        assert!(body.ends_with(b"<00000000>>>"));
        assert_eq!(body[c], b'<');
        assert!(body[..br].ends_with(b"/ByteRange [0 "));
        assert_eq!(
            &body[br + BYTE_RANGE_WIDTH..br + BYTE_RANGE_WIDTH + 1],
            b"]"
        );
    }

    #[test]
    fn text_strings() {
        assert_eq!(text_string("Sig 1"), Object::string(b"Sig 1".to_vec()));
        assert_eq!(
            text_string("é"),
            Object::String {
                bytes: vec![0xfe, 0xff, 0, 0xe9],
                hex: true
            }
        );
    }
}
