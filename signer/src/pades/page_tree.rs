//! Finding one page in the page tree (ISO 32000-2 §7.7.3) without visiting the others:
//! each intermediate node's `/Count` says whether the page is below it.

use std::collections::HashSet;

use formats::pdf::{Dict, ObjRef, Object, PdfReader, Source};

use super::PadesError;

/// Deepest page tree followed.
const MAX_DEPTH: usize = 64;
/// Most tree nodes looked at while searching (a hostile `/Kids` array cannot make the
/// search unbounded).
const MAX_NODES: usize = 1_000_000;

/// The page with 0-based `index`: its reference and dictionary.
pub(crate) fn find_page<S: Source>(
    reader: &PdfReader<S>,
    catalog: &Dict,
    index: u32,
) -> Result<(ObjRef, Dict), PadesError> {
    let structure = |what: String| PadesError::Structure { what };
    let root = catalog
        .get("Pages")
        .and_then(Object::as_ref)
        .ok_or_else(|| structure("the catalog has no /Pages reference".into()))?;
    let root_dict = dict_of(reader, root)?;
    let count = count_of(&root_dict).unwrap_or(0);
    let out_of_range = || PadesError::PageOutOfRange {
        page: index.saturating_add(1),
        count: u32::try_from(count).unwrap_or(u32::MAX),
    };

    let mut seen = HashSet::new();
    let mut node = (root, root_dict);
    let mut remaining = u64::from(index);
    let mut visited = 0usize;
    'descend: for _ in 0..MAX_DEPTH {
        if !seen.insert(node.0) {
            return Err(structure(format!(
                "the page tree loops at object {}",
                node.0
            )));
        }
        if is_leaf(&node.1) {
            return if remaining == 0 {
                Ok(node)
            } else {
                Err(out_of_range())
            };
        }
        let kids = match node.1.get("Kids") {
            Some(k) => reader.resolve(k)?,
            None => Object::Null,
        };
        for kid in kids.as_array().unwrap_or_default() {
            visited += 1;
            if visited > MAX_NODES {
                return Err(structure("the page tree is too large".into()));
            }
            let Some(kid_ref) = kid.as_ref() else {
                continue; // a direct page dictionary is not allowed (§7.7.3.2)
            };
            let kid_dict = dict_of(reader, kid_ref)?;
            if is_leaf(&kid_dict) {
                if remaining == 0 {
                    return Ok((kid_ref, kid_dict));
                }
                remaining -= 1;
            } else {
                let n = count_of(&kid_dict).unwrap_or(0);
                if remaining < n {
                    node = (kid_ref, kid_dict);
                    continue 'descend;
                }
                remaining -= n;
            }
        }
        return Err(out_of_range());
    }
    Err(structure("the page tree is nested too deeply".into()))
}

fn is_leaf(d: &Dict) -> bool {
    match d.get_name("Type") {
        Some(b"Page") => true,
        Some(b"Pages") => false,
        _ => d.get("Kids").is_none(),
    }
}

fn count_of(d: &Dict) -> Option<u64> {
    d.get_int("Count").and_then(|c| u64::try_from(c).ok())
}

fn dict_of<S: Source>(reader: &PdfReader<S>, r: ObjRef) -> Result<Dict, PadesError> {
    match reader.get(r)? {
        Object::Dict(d) => Ok(d),
        other => Err(PadesError::Structure {
            what: format!(
                "object {r} in the page tree is a {}, not a dictionary",
                other.type_name()
            ),
        }),
    }
}
