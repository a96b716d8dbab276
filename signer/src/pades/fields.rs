//! The interactive form's fields (ISO 32000-2 §12.7.4): their fully qualified names, to
//! pick a free signature field name and to find an empty signature field to fill.

use std::collections::HashSet;

use formats::pdf::{decode_text_string, Dict, ObjRef, Object, PdfReader, Source};

use super::PadesError;

/// Most field nodes looked at.
const MAX_FIELDS: usize = 100_000;
/// Deepest field hierarchy followed.
const MAX_DEPTH: usize = 32;

/// One field of the form.
#[derive(Clone, Debug)]
pub(crate) struct Field {
    /// Fully qualified name (`parent.child`).
    pub(crate) name: String,
    /// The field's object, when it is indirect (it always should be).
    pub(crate) reference: Option<ObjRef>,
    /// The field dictionary.
    pub(crate) dict: Dict,
    /// `/FT /Sig` (inherited or own).
    pub(crate) is_signature: bool,
    /// Has a value (`/V`): for a signature field, it is signed.
    pub(crate) has_value: bool,
}

/// Every named field below the AcroForm's `/Fields`.
pub(crate) fn all_fields<S: Source>(
    reader: &PdfReader<S>,
    fields: &[Object],
) -> Result<Vec<Field>, PadesError> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    // (node, parent name, inherited /FT, depth)
    let mut stack: Vec<(Object, String, Option<Vec<u8>>, usize)> = fields
        .iter()
        .rev()
        .map(|o| (o.clone(), String::new(), None, 0))
        .collect();
    let mut visited = 0;
    while let Some((node, parent, inherited_ft, depth)) = stack.pop() {
        visited += 1;
        if visited > MAX_FIELDS || depth > MAX_DEPTH {
            return Err(PadesError::Structure {
                what: "the form's field tree is too large or too deep".into(),
            });
        }
        let reference = node.as_ref();
        if let Some(r) = reference {
            if !seen.insert(r) {
                continue;
            }
        }
        let Object::Dict(dict) = reader.resolve(&node)? else {
            continue;
        };
        let ft = dict
            .get_name("FT")
            .map(<[u8]>::to_vec)
            .or(inherited_ft.clone());
        let Some(partial) = dict.get("T").and_then(Object::as_string) else {
            // a widget annotation below a field, not a field of its own
            continue;
        };
        let partial = decode_text_string(partial);
        let name = if parent.is_empty() {
            partial
        } else {
            format!("{parent}.{partial}")
        };
        if let Some(kids) = dict.get("Kids") {
            let kids = reader.resolve(kids)?;
            for kid in kids.as_array().unwrap_or_default().iter().rev() {
                stack.push((kid.clone(), name.clone(), ft.clone(), depth + 1));
            }
        }
        out.push(Field {
            name,
            reference,
            is_signature: ft.as_deref() == Some(b"Sig"),
            has_value: !matches!(dict.get("V"), None | Some(Object::Null)),
            dict,
        });
    }
    Ok(out)
}

/// The first `SignatureN` (N = 1, 2, …) not used by any field.
pub(crate) fn free_name(fields: &[Field]) -> String {
    let used: HashSet<&str> = fields.iter().map(|f| f.name.as_str()).collect();
    (1..)
        .map(|n| format!("Signature{n}"))
        .find(|name| !used.contains(name.as_str()))
        .unwrap_or_default()
}
