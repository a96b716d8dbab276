//! Finding the signatures of a PDF: signature fields through the AcroForm of every revision
//! (nested `/Kids` included), their signature dictionaries, byte ranges and contents.

use std::collections::HashSet;

use formats::pdf::{decode_text_string, Dict, ObjRef, Object, PdfError, PdfReader, Source};

use crate::status::{MdpPermission, SignatureKind};

/// Deepest field hierarchy walked.
const MAX_FIELD_DEPTH: usize = 32;
/// Most fields visited in one form.
const MAX_FIELDS: usize = 100_000;

/// A signature found in the document, before any cryptographic check.
#[derive(Clone, Debug)]
pub struct EmbeddedSignature {
    /// Fully qualified field name.
    pub field_name: String,
    /// The field's object, when indirect.
    pub field_ref: Option<ObjRef>,
    /// The signature dictionary's object, when indirect.
    pub sig_ref: Option<ObjRef>,
    /// The signature dictionary (as in the newest revision).
    pub sig_dict: Dict,
    /// `/SubFilter` (without slash).
    pub sub_filter: String,
    /// Signature or document timestamp.
    pub kind: SignatureKind,
    /// `/ByteRange` as found (validated later).
    pub byte_range: Vec<i64>,
    /// `/Contents`, decoded (zero padding included).
    pub contents: Vec<u8>,
    /// DocMDP permission declared by this signature (certification signatures).
    pub docmdp: Option<MdpPermission>,
    /// `/M` as text.
    pub m: Option<String>,
}

/// Finds every signature field with a value, across all revisions, in byte-range order.
pub fn find_signatures<S: Source>(
    reader: &PdfReader<S>,
) -> Result<Vec<EmbeddedSignature>, PdfError> {
    let mut found = Vec::new();
    let mut seen_sigs: HashSet<(Option<ObjRef>, Vec<i64>)> = HashSet::new();
    let newest = reader.revisions().len().saturating_sub(1);
    // Newest revision first: its view of a field wins; older revisions add fields that a
    // later update removed (which diff analysis then reports).
    for rev in (0..=newest).rev() {
        let Ok(catalog) = reader.catalog_at(rev) else {
            continue;
        };
        let Some(acroform) = catalog.get("AcroForm") else {
            continue;
        };
        let Ok(Object::Dict(acroform)) = reader.resolve_at(acroform, rev) else {
            continue;
        };
        let Some(fields) = acroform.get("Fields") else {
            continue;
        };
        let Ok(Object::Array(fields)) = reader.resolve_at(fields, rev) else {
            continue;
        };
        let mut visited = HashSet::new();
        let mut count = 0usize;
        for f in &fields {
            walk_field(
                reader,
                rev,
                f,
                "",
                None,
                0,
                &mut visited,
                &mut count,
                &mut |sig| {
                    if seen_sigs.insert((sig.sig_ref, sig.byte_range.clone())) {
                        found.push(sig);
                    }
                },
            );
        }
    }
    // docmdp from the catalog's /Perms (certification signature)
    if let Ok(catalog) = reader.catalog() {
        if let Some(Object::Dict(perms)) = catalog
            .get("Perms")
            .map(|p| reader.resolve(p).unwrap_or(Object::Null))
        {
            if let Some(Object::Ref(r)) = perms.get("DocMDP") {
                for s in &mut found {
                    if s.sig_ref == Some(*r) && s.docmdp.is_none() {
                        s.docmdp = Some(MdpPermission::FillForms);
                    }
                }
            }
        }
    }
    found.sort_by_key(|s| {
        s.byte_range
            .get(2)
            .zip(s.byte_range.get(3))
            .map(|(a, b)| a.saturating_add(*b))
            .unwrap_or(i64::MAX)
    });
    Ok(found)
}

#[allow(clippy::too_many_arguments)]
fn walk_field<S: Source>(
    reader: &PdfReader<S>,
    rev: usize,
    node: &Object,
    parent_name: &str,
    inherited_ft: Option<Vec<u8>>,
    depth: usize,
    visited: &mut HashSet<ObjRef>,
    count: &mut usize,
    emit: &mut dyn FnMut(EmbeddedSignature),
) {
    if depth > MAX_FIELD_DEPTH || *count > MAX_FIELDS {
        return;
    }
    *count += 1;
    let field_ref = node.as_ref();
    if let Some(r) = field_ref {
        if !visited.insert(r) {
            return;
        }
    }
    let Ok(Object::Dict(field)) = reader.resolve_at(node, rev) else {
        return;
    };
    let partial = field
        .get("T")
        .and_then(Object::as_string)
        .map(decode_text_string);
    let name = match (&partial, parent_name.is_empty()) {
        (Some(t), true) => t.clone(),
        (Some(t), false) => format!("{parent_name}.{t}"),
        (None, _) => parent_name.to_string(),
    };
    let ft = field.get_name("FT").map(<[u8]>::to_vec).or(inherited_ft);
    if let Some(kids) = field.get("Kids") {
        if let Ok(Object::Array(kids)) = reader.resolve_at(kids, rev) {
            for k in &kids {
                walk_field(
                    reader,
                    rev,
                    k,
                    &name,
                    ft.clone(),
                    depth + 1,
                    visited,
                    count,
                    emit,
                );
            }
        }
    }
    if ft.as_deref() != Some(b"Sig") {
        return;
    }
    let Some(v) = field.get("V") else { return };
    let sig_ref = v.as_ref();
    // The signature dictionary is read as of the newest revision: its /Contents and
    // /ByteRange are what the file holds now.
    let Ok(Object::Dict(sig_dict)) = reader.resolve(v) else {
        return;
    };
    emit(describe(sig_dict, name, field_ref, sig_ref));
}

fn describe(
    sig_dict: Dict,
    field_name: String,
    field_ref: Option<ObjRef>,
    sig_ref: Option<ObjRef>,
) -> EmbeddedSignature {
    let sub_filter = sig_dict
        .get_name("SubFilter")
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .unwrap_or_default();
    let kind = if sub_filter == "ETSI.RFC3161" || sig_dict.get_name("Type") == Some(b"DocTimeStamp")
    {
        SignatureKind::DocumentTimestamp
    } else {
        SignatureKind::Signature
    };
    let byte_range = sig_dict
        .get("ByteRange")
        .and_then(Object::as_array)
        .map(|a| a.iter().map(|o| o.as_int().unwrap_or(-1)).collect())
        .unwrap_or_default();
    let contents = sig_dict
        .get("Contents")
        .and_then(Object::as_string)
        .map(<[u8]>::to_vec)
        .unwrap_or_default();
    let docmdp = sig_dict
        .get("Reference")
        .and_then(Object::as_array)
        .and_then(|refs| {
            refs.iter().filter_map(Object::as_dict).find_map(|r| {
                (r.get_name("TransformMethod") == Some(b"DocMDP")).then(|| {
                    MdpPermission::from_p(
                        r.get("TransformParams")
                            .and_then(Object::as_dict)
                            .and_then(|tp| tp.get_int("P")),
                    )
                })
            })
        });
    let m = sig_dict
        .get("M")
        .and_then(Object::as_string)
        .map(decode_text_string);
    EmbeddedSignature {
        field_name,
        field_ref,
        sig_ref,
        sig_dict,
        sub_filter,
        kind,
        byte_range,
        contents,
        docmdp,
        m,
    }
}

/// Parses a PDF date (`D:YYYYMMDDHHmmSSOHH'mm'`, ISO 32000-2 §7.9.4) to RFC 3339.
pub fn pdf_date_to_rfc3339(s: &str) -> Option<time::OffsetDateTime> {
    let s = s.strip_prefix("D:").unwrap_or(s);
    let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
    if digits.len() < 4 {
        return None;
    }
    let num = |a: usize, b: usize, d: u32| -> u32 {
        digits.get(a..b).and_then(|x| x.parse().ok()).unwrap_or(d)
    };
    let year = i32::try_from(num(0, 4, 1970)).ok()?;
    let month = time::Month::try_from(u8::try_from(num(4, 6, 1)).ok()?).ok()?;
    let date =
        time::Date::from_calendar_date(year, month, u8::try_from(num(6, 8, 1)).ok()?).ok()?;
    let t = time::Time::from_hms(
        u8::try_from(num(8, 10, 0)).ok()?,
        u8::try_from(num(10, 12, 0)).ok()?,
        u8::try_from(num(12, 14, 0)).ok()?,
    )
    .ok()?;
    let rest = &s[digits.len()..];
    let offset = match rest.chars().next() {
        Some(sign @ ('+' | '-')) => {
            let r: String = rest[1..].chars().filter(char::is_ascii_digit).collect();
            let h: i8 = r.get(0..2).and_then(|x| x.parse().ok()).unwrap_or(0);
            let m: i8 = r.get(2..4).and_then(|x| x.parse().ok()).unwrap_or(0);
            let (h, m) = if sign == '-' { (-h, -m) } else { (h, m) };
            time::UtcOffset::from_hms(h, m, 0).ok()?
        }
        _ => time::UtcOffset::UTC,
    };
    Some(time::PrimitiveDateTime::new(date, t).assume_offset(offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pdf_dates() {
        let t = pdf_date_to_rfc3339("D:20261122161206+01'00'").unwrap();
        assert_eq!(t.unix_timestamp(), 1_795_363_926 - 3600);
        assert_eq!(pdf_date_to_rfc3339("D:2026").unwrap().year(), 2026);
        assert!(pdf_date_to_rfc3339("D:20261399").is_none());
        assert!(pdf_date_to_rfc3339("garbage").is_none());
        assert_eq!(
            pdf_date_to_rfc3339("20261122161206Z").unwrap().offset(),
            time::UtcOffset::UTC
        );
    }

    #[test]
    fn nested_fields_are_found_with_qualified_names() {
        let body = [
            "<</Type/Catalog/AcroForm<</Fields[2 0 R]>>>>",
            "<</T(parent)/Kids[3 0 R]>>",
            "<</T(child)/FT/Sig/V 4 0 R>>",
            "<</Type/Sig/SubFilter/ETSI.CAdES.detached/ByteRange[0 1 2 3]/Contents<0102>/Reference[<</TransformMethod/DocMDP/TransformParams<</P 1>>>>]>>",
        ];
        let mut out = b"%PDF-1.7\n".to_vec();
        let mut offs = Vec::new();
        for (i, b) in body.iter().enumerate() {
            offs.push(out.len());
            out.extend_from_slice(format!("{} 0 obj\n{b}\nendobj\n", i + 1).as_bytes());
        }
        let x = out.len();
        out.extend_from_slice(b"xref\n0 5\n0000000000 65535 f \n");
        for o in offs {
            out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
        }
        out.extend_from_slice(
            format!("trailer\n<</Size 5/Root 1 0 R>>\nstartxref\n{x}\n%%EOF\n").as_bytes(),
        );
        let r = PdfReader::open(out).unwrap();
        let sigs = find_signatures(&r).unwrap();
        assert_eq!(sigs.len(), 1);
        assert_eq!(sigs[0].field_name, "parent.child");
        assert_eq!(sigs[0].contents, vec![1, 2]);
        assert_eq!(sigs[0].docmdp, Some(MdpPermission::NoChanges));
        assert_eq!(sigs[0].kind, SignatureKind::Signature);
    }
}
