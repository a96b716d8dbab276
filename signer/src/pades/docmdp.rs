//! Certification signatures (ISO 32000-2 §12.8.2.2): a document certified with DocMDP
//! permission 1 allows no change at all, not even another signature.

use formats::pdf::{Dict, Object, PdfReader, Source};

use super::PadesError;

/// The DocMDP permission (`/P` of the transform parameters, 1–3; 2 when absent) of the
/// certification signature named by the catalog's `/Perms /DocMDP`, if there is one.
pub(crate) fn permission<S: Source>(
    reader: &PdfReader<S>,
    catalog: &Dict,
) -> Result<Option<i64>, PadesError> {
    let Some(perms) = catalog.get("Perms") else {
        return Ok(None);
    };
    let Object::Dict(perms) = reader.resolve(perms)? else {
        return Ok(None);
    };
    let Some(sig) = perms.get("DocMDP") else {
        return Ok(None);
    };
    let Object::Dict(sig) = reader.resolve(sig)? else {
        return Ok(None);
    };
    let references = match sig.get("Reference") {
        Some(r) => reader.resolve(r)?,
        None => Object::Null,
    };
    for reference in references.as_array().unwrap_or_default() {
        let Object::Dict(reference) = reader.resolve(reference)? else {
            continue;
        };
        if reference.get_name("TransformMethod") != Some(b"DocMDP") {
            continue;
        }
        let params = match reference.get("TransformParams") {
            Some(p) => reader.resolve(p)?,
            None => Object::Null,
        };
        let p = params
            .as_dict()
            .and_then(|d| d.get("P"))
            .map(|p| reader.resolve(p))
            .transpose()?
            .and_then(|p| p.as_int())
            .unwrap_or(2);
        return Ok(Some(p));
    }
    // /Perms /DocMDP without a DocMDP transform: treat as the default permission
    Ok(Some(2))
}
