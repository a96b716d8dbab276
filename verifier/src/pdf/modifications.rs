//! Difference analysis: what later incremental updates changed after a signature, and whether
//! each change is one a signed document may receive (ISO 32000-2 §12.8.2, ETSI EN 319 142-1).
//!
//! Like pyHanko's `StandardDiffPolicy`, every object written by a later revision must be
//! explained by a rule, at the lowest [`ModificationLevel`] that explains it; what no rule
//! explains is [`ModificationLevel::Other`]. Each later revision is compared with the signed
//! one on its own, so changes undone later still count. Rules:
//! * containers: cross-reference and object streams (LTA);
//! * the catalog may change only `/AcroForm`, `/DSS`, `/Extensions`, `/Metadata`,
//!   `/MarkInfo`, `/Version` (LTA); the DSS and its content, document information and XMP
//!   metadata (LTA);
//! * forms: new signature fields (LTA when invisible, form filling when visible; not after a
//!   certification signature when visible), signing an empty signature field, filling other
//!   fields' values and appearances (form filling); deleting fields or adding non-signature
//!   fields is not allowed;
//! * pages may change only `/Annots`: widgets of new signature fields (LTA); other new or
//!   changed annotations (annotations level);
//! * objects no one references (orphans) and objects rewritten identically are ignored.

use std::collections::{BTreeMap, HashMap, HashSet};

use formats::pdf::{
    decode_text_string, Dict, ObjRef, Object, PdfError, PdfReader, Source, XrefEntry,
};

use crate::status::ModificationLevel;

/// Catalog keys a later revision may change (the values are vetted by other rules).
const CATALOG_MUTABLE: &[&str] = &[
    "AcroForm",
    "DSS",
    "Extensions",
    "Metadata",
    "MarkInfo",
    "Version",
];
/// AcroForm keys a later revision may change.
const ACROFORM_MUTABLE: &[&str] = &["Fields", "SigFlags", "DR", "DA", "NeedAppearances"];
/// Field keys that filling a field changes.
const FIELD_FILL_KEYS: &[&str] = &["V", "AP", "AS", "Ff", "MK", "DA"];
/// Most objects walked when collecting dependencies.
const MAX_WALK: usize = 200_000;

/// The result of comparing the signed revision with everything after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiffResult {
    /// The highest level of change found.
    pub level: ModificationLevel,
    /// Why the level is what it is (for `Other`: the unexplained changes).
    pub reasons: Vec<String>,
    /// Fields whose values changed.
    pub changed_fields: Vec<String>,
}

/// Compares revision `base` with each later revision. `certified` says whether the
/// signature under review carries a DocMDP transform (certification signature).
pub fn review<S: Source>(
    reader: &PdfReader<S>,
    base: usize,
    certified: bool,
) -> Result<DiffResult, PdfError> {
    let mut level = ModificationLevel::None;
    let mut reasons = Vec::new();
    let mut changed_fields = Vec::new();
    for rev in base + 1..reader.revisions().len() {
        let r = RevisionDiff::create(reader, base, rev, certified)?.run()?;
        level = level.max(r.level);
        for x in r.reasons {
            if !reasons.contains(&x) {
                reasons.push(x);
            }
        }
        for f in r.changed_fields {
            if !changed_fields.contains(&f) {
                changed_fields.push(f);
            }
        }
    }
    Ok(DiffResult {
        level,
        reasons,
        changed_fields,
    })
}

struct FieldInfo {
    field_ref: Option<ObjRef>,
    dict: Dict,
    ft: Option<Vec<u8>>,
    /// Widget annotations: the field itself when it has no kids, else its kids without /T.
    widgets: Vec<ObjRef>,
}

struct RevisionDiff<'a, S: Source> {
    reader: &'a PdfReader<S>,
    base: usize,
    rev: usize,
    certified: bool,
    /// Objects (re)defined in `rev`, with their generation.
    written: BTreeMap<u32, ObjRef>,
    explained: HashMap<u32, ModificationLevel>,
    reasons: Vec<String>,
    changed_fields: Vec<String>,
}

impl<'a, S: Source> RevisionDiff<'a, S> {
    fn create(
        reader: &'a PdfReader<S>,
        base: usize,
        rev: usize,
        certified: bool,
    ) -> Result<Self, PdfError> {
        let mut written = BTreeMap::new();
        let mut reasons = Vec::new();
        let revision = &reader.revisions()[rev];
        for (num, e) in &revision.entries {
            match e {
                XrefEntry::InFile { gen, .. } => {
                    written.insert(*num, ObjRef::new(*num, *gen));
                }
                XrefEntry::InStream { .. } => {
                    written.insert(*num, ObjRef::new(*num, 0));
                }
                XrefEntry::Free => {
                    if *num != 0
                        && Self::defined(reader, *num, rev - 1)
                        && Self::defined(reader, *num, base)
                    {
                        reasons.push(format!("object {num} of the signed revision was deleted"));
                    }
                }
            }
        }
        Ok(Self {
            reader,
            base,
            rev,
            certified,
            written,
            explained: HashMap::new(),
            reasons,
            changed_fields: Vec::new(),
        })
    }

    fn defined(reader: &PdfReader<S>, num: u32, rev: usize) -> bool {
        matches!(
            reader.entry_at(num, rev),
            Some((_, XrefEntry::InFile { .. } | XrefEntry::InStream { .. }))
        )
    }

    fn existed_at_base(&self, num: u32) -> bool {
        Self::defined(self.reader, num, self.base)
    }

    fn old(&self, r: ObjRef) -> Object {
        self.reader.get_at(r, self.base).unwrap_or(Object::Null)
    }

    fn now_obj(&self, r: ObjRef) -> Object {
        self.reader.get_at(r, self.rev).unwrap_or(Object::Null)
    }

    fn resolve_old(&self, o: &Object) -> Object {
        self.reader.resolve_at(o, self.base).unwrap_or(Object::Null)
    }

    fn resolve_new(&self, o: &Object) -> Object {
        self.reader.resolve_at(o, self.rev).unwrap_or(Object::Null)
    }

    fn explain(&mut self, r: ObjRef, level: ModificationLevel) {
        if self.written.contains_key(&r.num) {
            let slot = self.explained.entry(r.num).or_insert(level);
            if level < *slot {
                *slot = level;
            }
        }
    }

    /// Explains every object reachable from `o` that was written after the signed revision
    /// (the walk stops at objects the signed revision already had).
    fn explain_new_deps(&mut self, o: &Object, level: ModificationLevel) {
        for r in self.new_deps(o) {
            self.explain(r, level);
        }
    }

    fn new_deps(&self, o: &Object) -> Vec<ObjRef> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        let mut stack = vec![o.clone()];
        while let Some(cur) = stack.pop() {
            if seen.len() > MAX_WALK {
                break;
            }
            match cur {
                Object::Ref(r) => {
                    if !seen.insert(r) {
                        continue;
                    }
                    let defined_after_base = matches!(self.reader.entry_at(r.num, self.rev), Some((i, _)) if i > self.base);
                    if defined_after_base {
                        out.push(r);
                        stack.push(self.now_obj(r));
                    }
                }
                Object::Array(a) => stack.extend(a),
                Object::Dict(d) => stack.extend(d.0.into_iter().map(|(_, v)| v)),
                Object::Stream(s) => stack.extend(s.dict.0.into_iter().map(|(_, v)| v)),
                _ => {}
            }
        }
        out
    }

    fn run(mut self) -> Result<DiffResult, PdfError> {
        self.containers();
        self.orphans_and_identical();
        self.catalog();
        self.trailer_info();
        let new_sig_widgets = self.forms();
        self.pages(&new_sig_widgets);

        let mut level = ModificationLevel::None;
        let mut unexplained = Vec::new();
        for (num, r) in &self.written {
            match self.explained.get(num) {
                Some(l) => level = level.max(*l),
                None => unexplained.push(*r),
            }
        }
        if self.written.is_empty() && level == ModificationLevel::None {
            level = ModificationLevel::LtaUpdates;
        }
        if !unexplained.is_empty() {
            level = ModificationLevel::Other;
            let shown: Vec<String> = unexplained
                .iter()
                .take(8)
                .map(|r| format!("{} ({})", r, self.describe(*r)))
                .collect();
            self.reasons.push(format!(
                "revision {} changes objects no permitted update explains: {}{}",
                self.rev,
                shown.join(", "),
                if unexplained.len() > 8 { ", ..." } else { "" }
            ));
        }
        if !self.reasons.is_empty() {
            level = ModificationLevel::Other;
        }
        Ok(DiffResult {
            level,
            reasons: self.reasons,
            changed_fields: self.changed_fields,
        })
    }

    fn describe(&self, r: ObjRef) -> String {
        match self.now_obj(r) {
            Object::Dict(d) => match (d.get_name("Type"), d.get_name("Subtype")) {
                (Some(t), _) => format!("/{}", String::from_utf8_lossy(t)),
                (None, Some(s)) => format!("/{}", String::from_utf8_lossy(s)),
                _ if d.contains("FT") => "form field".into(),
                _ => "dictionary".into(),
            },
            Object::Stream(s) => match s.dict.get_name("Type").or(s.dict.get_name("Subtype")) {
                Some(t) => format!("/{} stream", String::from_utf8_lossy(t)),
                None if self.existed_at_base(r.num) => "existing stream, e.g. page content".into(),
                None => "stream".into(),
            },
            other => other.type_name().to_string(),
        }
    }

    /// Cross-reference streams and object streams carry no content of their own.
    fn containers(&mut self) {
        let refs: Vec<ObjRef> = self.written.values().copied().collect();
        for r in refs {
            if let Object::Stream(s) = self.now_obj(r) {
                if matches!(s.dict.get_name("Type"), Some(b"XRef" | b"ObjStm")) {
                    self.explain(r, ModificationLevel::LtaUpdates);
                }
            }
        }
    }

    fn orphans_and_identical(&mut self) {
        // Objects rewritten without change.
        let refs: Vec<ObjRef> = self.written.values().copied().collect();
        for r in &refs {
            if self.existed_at_base(r.num) && same(self.reader, &self.old(*r), &self.now_obj(*r)) {
                self.explain(*r, ModificationLevel::None);
            }
        }
        // New objects unreachable from the trailer and from updated old objects.
        let prev = self.rev - 1;
        let mut candidates: HashSet<u32> = refs
            .iter()
            .filter(|r| !Self::defined(self.reader, r.num, prev))
            .map(|r| r.num)
            .collect();
        if candidates.is_empty() {
            return;
        }
        let mut roots: Vec<Object> = vec![Object::Dict(
            self.reader.revisions()[self.rev].trailer.clone(),
        )];
        for r in &refs {
            if Self::defined(self.reader, r.num, prev) {
                roots.push(self.now_obj(*r));
            }
        }
        let mut seen = HashSet::new();
        let mut stack = roots;
        while let Some(cur) = stack.pop() {
            if seen.len() > MAX_WALK || candidates.is_empty() {
                break;
            }
            match cur {
                Object::Ref(r) if candidates.remove(&r.num) && seen.insert(r) => {
                    stack.push(self.now_obj(r));
                }
                Object::Array(a) => stack.extend(a),
                Object::Dict(d) => stack.extend(d.0.into_iter().map(|(_, v)| v)),
                Object::Stream(s) => stack.extend(s.dict.0.into_iter().map(|(_, v)| v)),
                _ => {}
            }
        }
        for num in candidates {
            if let Some(r) = self.written.get(&num).copied() {
                self.explain(r, ModificationLevel::LtaUpdates);
            }
        }
    }

    fn catalog(&mut self) {
        let old_trailer = &self.reader.revisions()[self.base].trailer;
        let new_trailer = &self.reader.revisions()[self.rev].trailer;
        let (Some(old_root), Some(new_root)) = (
            old_trailer
                .get("Root")
                .cloned()
                .or_else(|| self.reader.trailer().get("Root").cloned()),
            new_trailer.get("Root").cloned(),
        ) else {
            return;
        };
        if old_root != new_root {
            self.reasons
                .push("the document catalog was replaced".into());
            return;
        }
        let (Object::Dict(old_cat), Object::Dict(new_cat)) =
            (self.resolve_old(&old_root), self.resolve_new(&new_root))
        else {
            return;
        };
        let mut bad = Vec::new();
        for key in keys_union(&old_cat, &new_cat) {
            if CATALOG_MUTABLE.contains(&key.as_str()) {
                continue;
            }
            if !same_opt(self.reader, old_cat.get(&key), new_cat.get(&key)) {
                bad.push(key);
            }
        }
        if !bad.is_empty() {
            self.reasons.push(format!(
                "the document catalog's /{} changed",
                bad.join(", /")
            ));
        }
        if let Some(r) = new_root.as_ref() {
            self.explain(r, ModificationLevel::LtaUpdates);
        }
        for key in ["DSS", "Extensions", "MarkInfo", "Metadata"] {
            if let Some(v) = new_cat.get(key) {
                if let Some(r) = v.as_ref() {
                    self.explain(r, ModificationLevel::LtaUpdates);
                }
                self.explain_new_deps(&v.clone(), ModificationLevel::LtaUpdates);
            }
        }
    }

    fn trailer_info(&mut self) {
        let t = self.reader.revisions()[self.rev].trailer.clone();
        if let Some(info) = t.get("Info") {
            if let Some(r) = info.as_ref() {
                self.explain(r, ModificationLevel::LtaUpdates);
            }
            self.explain_new_deps(info, ModificationLevel::LtaUpdates);
        }
    }

    fn collect_fields(&self, rev: usize) -> (BTreeMap<String, FieldInfo>, Option<Object>) {
        let mut out = BTreeMap::new();
        let Ok(cat) = self.reader.catalog_at(rev) else {
            return (out, None);
        };
        let Some(af) = cat.get("AcroForm").cloned() else {
            return (out, None);
        };
        let Ok(Object::Dict(afd)) = self.reader.resolve_at(&af, rev) else {
            return (out, Some(af));
        };
        let fields = afd
            .get("Fields")
            .and_then(|f| self.reader.resolve_at(f, rev).ok())
            .and_then(|f| f.as_array().map(<[Object]>::to_vec))
            .unwrap_or_default();
        let mut seen = HashSet::new();
        for f in &fields {
            self.walk_field(rev, f, "", None, 0, &mut seen, &mut out);
        }
        (out, Some(af))
    }

    #[allow(clippy::too_many_arguments)]
    fn walk_field(
        &self,
        rev: usize,
        node: &Object,
        parent: &str,
        ft: Option<Vec<u8>>,
        depth: usize,
        seen: &mut HashSet<ObjRef>,
        out: &mut BTreeMap<String, FieldInfo>,
    ) {
        if depth > 32 || seen.len() > MAX_WALK {
            return;
        }
        let field_ref = node.as_ref();
        if let Some(r) = field_ref {
            if !seen.insert(r) {
                return;
            }
        }
        let Ok(Object::Dict(d)) = self.reader.resolve_at(node, rev) else {
            return;
        };
        let Some(t) = d
            .get("T")
            .and_then(Object::as_string)
            .map(decode_text_string)
        else {
            return; // a widget, handled by its parent
        };
        let name = if parent.is_empty() {
            t
        } else {
            format!("{parent}.{t}")
        };
        let ft = d.get_name("FT").map(<[u8]>::to_vec).or(ft);
        let kids: Vec<Object> = d
            .get("Kids")
            .and_then(|k| self.reader.resolve_at(k, rev).ok())
            .and_then(|k| k.as_array().map(<[Object]>::to_vec))
            .unwrap_or_default();
        let mut widgets = Vec::new();
        if kids.is_empty() {
            widgets.extend(field_ref);
        }
        for k in &kids {
            let is_widget =
                matches!(self.reader.resolve_at(k, rev), Ok(Object::Dict(kd)) if !kd.contains("T"));
            if is_widget {
                widgets.extend(k.as_ref());
            } else {
                self.walk_field(rev, k, &name, ft.clone(), depth + 1, seen, out);
            }
        }
        out.entry(name).or_insert(FieldInfo {
            field_ref,
            dict: d,
            ft,
            widgets,
        });
    }

    fn visible(&self, widgets: &[ObjRef], field: &Dict) -> bool {
        let dicts: Vec<Dict> = if widgets.is_empty() {
            vec![field.clone()]
        } else {
            widgets
                .iter()
                .filter_map(|w| self.now_obj(*w).as_dict().cloned())
                .collect()
        };
        dicts.iter().any(|d| {
            let hidden = d.get_int("F").is_some_and(|f| f & 2 != 0);
            let area = d
                .get("Rect")
                .and_then(Object::as_array)
                .and_then(|r| {
                    let n: Vec<f64> = r.iter().filter_map(Object::as_number).collect();
                    (n.len() == 4).then(|| ((n[2] - n[0]) * (n[3] - n[1])).abs())
                })
                .unwrap_or(0.0);
            !hidden && area > 0.0
        })
    }

    /// Returns the widget references of signature fields added in this revision.
    fn forms(&mut self) -> HashSet<ObjRef> {
        let (old_fields, old_af) = self.collect_fields(self.base);
        let (new_fields, new_af) = self.collect_fields(self.rev);
        let mut new_widgets = HashSet::new();

        // the AcroForm dictionary and its /Fields array
        if let Some(af) = &new_af {
            let (old_d, new_d) = (
                old_af
                    .as_ref()
                    .map(|a| self.resolve_old(a))
                    .unwrap_or(Object::Null),
                self.resolve_new(af),
            );
            if let (Some(o), Some(n)) = (old_d.as_dict(), new_d.as_dict()) {
                let changed: Vec<String> = keys_union(o, n)
                    .into_iter()
                    .filter(|k| !ACROFORM_MUTABLE.contains(&k.as_str()))
                    .filter(|k| !same_opt(self.reader, o.get(k), n.get(k)))
                    .collect();
                if !changed.is_empty() {
                    self.reasons
                        .push(format!("the form's /{} changed", changed.join(", /")));
                }
            }
            if let Some(r) = af.as_ref() {
                self.explain(r, ModificationLevel::LtaUpdates);
            }
            if let Some(n) = new_d.as_dict() {
                if let Some(f) = n.get("Fields").and_then(Object::as_ref) {
                    self.explain(f, ModificationLevel::LtaUpdates);
                }
                if let Some(dr) = n.get("DR") {
                    if let Some(r) = dr.as_ref() {
                        self.explain(r, ModificationLevel::FormFilling);
                    }
                    self.explain_new_deps(&dr.clone(), ModificationLevel::FormFilling);
                }
            }
        }

        for name in old_fields.keys() {
            if !new_fields.contains_key(name) {
                self.reasons.push(format!("form field {name} was deleted"));
            }
        }

        for (name, nf) in &new_fields {
            let is_sig = nf.ft.as_deref() == Some(b"Sig");
            match old_fields.get(name) {
                None => {
                    if !is_sig {
                        self.reasons.push(format!(
                            "a new form field {name} (not a signature field) was added"
                        ));
                        continue;
                    }
                    let visible = self.visible(&nf.widgets, &nf.dict);
                    if visible && self.certified {
                        self.reasons.push(format!(
                            "a new visible signature field {name} was added after a certification signature"
                        ));
                    }
                    let level = if visible {
                        ModificationLevel::FormFilling
                    } else {
                        ModificationLevel::LtaUpdates
                    };
                    if let Some(r) = nf.field_ref {
                        self.explain(r, level);
                    }
                    if let Some(k) = nf.dict.get("Kids").and_then(Object::as_ref) {
                        self.explain(k, level);
                    }
                    for w in &nf.widgets {
                        self.explain(*w, level);
                        new_widgets.insert(*w);
                        if let Some(ap) = self
                            .now_obj(*w)
                            .as_dict()
                            .and_then(|d| d.get("AP").cloned())
                        {
                            self.explain_new_deps(&ap, ModificationLevel::FormFilling);
                        }
                    }
                    for key in ["AP", "Lock", "SV"] {
                        if let Some(v) = nf.dict.get(key).cloned() {
                            self.explain_new_deps(&v, ModificationLevel::FormFilling);
                        }
                    }
                    self.signature_value(name, nf, None);
                }
                Some(of) => {
                    let old_has_v = of.dict.contains("V");
                    let diff_keys: Vec<String> = keys_union(&of.dict, &nf.dict)
                        .into_iter()
                        .filter(|k| !same_opt(self.reader, of.dict.get(k), nf.dict.get(k)))
                        .collect();
                    let field_changed = nf
                        .field_ref
                        .is_some_and(|r| self.written.contains_key(&r.num));
                    if is_sig {
                        if old_has_v {
                            // An already-signed field must stay as it was (Acrobat tweaks /Ff).
                            if diff_keys.iter().all(|k| k == "Ff") {
                                if let Some(r) = nf.field_ref {
                                    self.explain(r, ModificationLevel::LtaUpdates);
                                }
                            } else if field_changed {
                                self.reasons
                                    .push(format!("the signed field {name} was changed"));
                            }
                            continue;
                        }
                        if !nf.dict.contains("V") && diff_keys.is_empty() {
                            continue;
                        }
                        let bad: Vec<&String> = diff_keys
                            .iter()
                            .filter(|k| {
                                !FIELD_FILL_KEYS.contains(&k.as_str())
                                    && k.as_str() != "Lock"
                                    && k.as_str() != "SV"
                            })
                            .collect();
                        if !bad.is_empty() {
                            self.reasons
                                .push(format!("signature field {name} changed /{:?}", bad));
                        }
                        if let Some(r) = nf.field_ref {
                            self.explain(r, ModificationLevel::LtaUpdates);
                        }
                        self.appearance_updates(of, nf, ModificationLevel::FormFilling);
                        self.signature_value(name, nf, Some(of));
                    } else {
                        if diff_keys.is_empty() && !field_changed {
                            continue;
                        }
                        let bad: Vec<&String> = diff_keys
                            .iter()
                            .filter(|k| !FIELD_FILL_KEYS.contains(&k.as_str()))
                            .collect();
                        if !bad.is_empty() {
                            self.reasons.push(format!(
                                "form field {name} changed in more than its value (/{})",
                                bad.iter()
                                    .map(|s| s.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", /")
                            ));
                        }
                        if let Some(r) = nf.field_ref {
                            self.explain(r, ModificationLevel::FormFilling);
                        }
                        self.appearance_updates(of, nf, ModificationLevel::FormFilling);
                        if let Some(v) = nf.dict.get("V").cloned() {
                            if !same_opt(self.reader, of.dict.get("V"), Some(&v)) {
                                self.changed_fields.push(name.clone());
                                self.explain_new_deps(&v, ModificationLevel::FormFilling);
                            }
                        }
                    }
                }
            }
        }
        new_widgets
    }

    /// Explains widgets of a filled field whose appearance changed: only the appearance keys
    /// may differ, and appearance streams must be new objects.
    fn appearance_updates(&mut self, of: &FieldInfo, nf: &FieldInfo, level: ModificationLevel) {
        for w in &nf.widgets {
            if Some(*w) == nf.field_ref {
                if let Some(ap) = nf.dict.get("AP").cloned() {
                    self.explain_new_deps(&ap, level);
                }
                continue;
            }
            if !self.written.contains_key(&w.num) {
                continue;
            }
            let (Object::Dict(od), Object::Dict(nd)) = (self.old(*w), self.now_obj(*w)) else {
                continue;
            };
            if !of.widgets.contains(w) {
                continue;
            }
            let ok = keys_union(&od, &nd)
                .iter()
                .filter(|k| !same_opt(self.reader, od.get(k), nd.get(k)))
                .all(|k| matches!(k.as_str(), "AP" | "AS" | "MK" | "F"));
            if ok {
                self.explain(*w, level);
                if let Some(ap) = nd.get("AP").cloned() {
                    self.explain_new_deps(&ap, level);
                }
            }
        }
    }

    /// Explains the signature dictionary newly put in a signature field's /V.
    fn signature_value(&mut self, name: &str, nf: &FieldInfo, of: Option<&FieldInfo>) {
        let Some(v) = nf.dict.get("V") else { return };
        let Some(vr) = v.as_ref() else {
            self.reasons.push(format!(
                "the value of signature field {name} is not an indirect object"
            ));
            return;
        };
        if of.is_some_and(|o| o.dict.get("V") == Some(v)) {
            return;
        }
        if self.existed_at_base(vr.num) {
            self.reasons.push(format!(
                "signature field {name} now points at an object of the signed revision"
            ));
            return;
        }
        let sig = self.now_obj(vr);
        let is_doc_ts = sig.as_dict().and_then(|d| d.get_name("Type")) == Some(b"DocTimeStamp");
        let level = if is_doc_ts && !self.visible(&nf.widgets, &nf.dict) {
            ModificationLevel::LtaUpdates
        } else {
            ModificationLevel::FormFilling
        };
        self.explain(vr, level);
        if let Some(refs) = sig
            .as_dict()
            .and_then(|d| d.get("Reference"))
            .and_then(Object::as_array)
        {
            for sr in refs.iter().filter_map(Object::as_dict) {
                if let Some(tp) = sr.get("TransformParams").and_then(Object::as_ref) {
                    self.explain(tp, level);
                }
            }
        }
    }

    fn pages(&mut self, new_sig_widgets: &HashSet<ObjRef>) {
        let old_pages = self.page_map(self.base);
        let new_pages = self.page_map(self.rev);
        for (r, new_page) in &new_pages {
            let Some(old_page) = old_pages.get(r) else {
                if self.written.contains_key(&r.num) {
                    self.reasons.push(format!("page {r} was added"));
                }
                continue;
            };
            let changed_keys: Vec<String> = keys_union(old_page, new_page)
                .into_iter()
                .filter(|k| !same_opt(self.reader, old_page.get(k), new_page.get(k)))
                .collect();
            let annots_ref = new_page.get("Annots").and_then(Object::as_ref);
            let annots_array_changed = annots_ref.is_some_and(|a| {
                self.written.contains_key(&a.num)
                    && !same(self.reader, &self.old(a), &self.now_obj(a))
            });
            if changed_keys.is_empty() && !annots_array_changed {
                continue;
            }
            if changed_keys.iter().any(|k| k != "Annots") {
                // leave the page unexplained: the caller reports it
                continue;
            }
            let old_list = annot_list(self.reader, old_page.get("Annots"), self.base);
            let new_list = annot_list(self.reader, new_page.get("Annots"), self.rev);
            let removed: Vec<&Object> = old_list.iter().filter(|a| !new_list.contains(a)).collect();
            if !removed.is_empty() {
                self.reasons
                    .push(format!("annotations were removed from page {r}"));
                continue;
            }
            let mut level = ModificationLevel::LtaUpdates;
            for a in new_list.iter().filter(|a| !old_list.contains(a)) {
                match a.as_ref() {
                    Some(ar) if new_sig_widgets.contains(&ar) => {}
                    Some(ar) => {
                        let is_widget = self
                            .now_obj(ar)
                            .as_dict()
                            .and_then(|d| d.get_name("Subtype"))
                            == Some(b"Widget");
                        if is_widget {
                            // a widget of a field not accounted for by the form rules
                            continue;
                        }
                        level = level.max(ModificationLevel::Annotations);
                        self.explain(ar, ModificationLevel::Annotations);
                        self.explain_new_deps(&Object::Ref(ar), ModificationLevel::Annotations);
                    }
                    None => level = level.max(ModificationLevel::Annotations),
                }
            }
            self.explain(*r, level);
            if let Some(a) = annots_ref {
                self.explain(a, level);
            }
        }
        // Existing non-widget annotations changed in place.
        let annots: Vec<ObjRef> = old_pages
            .values()
            .flat_map(|p| annot_list(self.reader, p.get("Annots"), self.base))
            .filter_map(|a| a.as_ref())
            .filter(|a| self.written.contains_key(&a.num))
            .collect();
        for a in annots {
            if self.explained.contains_key(&a.num) {
                continue;
            }
            let is_widget =
                self.old(a).as_dict().and_then(|d| d.get_name("Subtype")) == Some(b"Widget");
            if !is_widget {
                self.explain(a, ModificationLevel::Annotations);
                self.explain_new_deps(&self.now_obj(a), ModificationLevel::Annotations);
            }
        }
    }

    fn page_map(&self, rev: usize) -> BTreeMap<ObjRef, Dict> {
        let mut out = BTreeMap::new();
        let Ok(cat) = self.reader.catalog_at(rev) else {
            return out;
        };
        let mut stack: Vec<(Object, usize)> = cat
            .get("Pages")
            .cloned()
            .map(|p| (p, 0))
            .into_iter()
            .collect();
        let mut seen = HashSet::new();
        while let Some((node, depth)) = stack.pop() {
            if depth > 64 || seen.len() > MAX_WALK {
                break;
            }
            let Some(r) = node.as_ref() else { continue };
            if !seen.insert(r) {
                continue;
            }
            let Ok(Object::Dict(d)) = self.reader.get_at(r, rev) else {
                continue;
            };
            if let Some(kids) = d
                .get("Kids")
                .and_then(|k| self.reader.resolve_at(k, rev).ok())
            {
                if let Some(a) = kids.as_array() {
                    stack.extend(a.iter().cloned().map(|k| (k, depth + 1)));
                }
            }
            if d.get_name("Type") != Some(b"Pages") && !d.contains("Kids") {
                out.insert(r, d);
            }
        }
        out
    }
}

fn annot_list<S: Source>(
    reader: &PdfReader<S>,
    annots: Option<&Object>,
    rev: usize,
) -> Vec<Object> {
    annots
        .and_then(|a| reader.resolve_at(a, rev).ok())
        .and_then(|a| a.as_array().map(<[Object]>::to_vec))
        .unwrap_or_default()
}

fn keys_union(a: &Dict, b: &Dict) -> Vec<String> {
    let mut keys: Vec<String> = a
        .iter()
        .chain(b.iter())
        .map(|(k, _)| String::from_utf8_lossy(k).into_owned())
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

fn same_opt<S: Source>(reader: &PdfReader<S>, a: Option<&Object>, b: Option<&Object>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(x), Some(y)) => same(reader, x, y),
        _ => false,
    }
}

/// Structural equality: dictionaries compare as maps, streams by dictionary and raw bytes,
/// references by identity (not by target).
fn same<S: Source>(reader: &PdfReader<S>, a: &Object, b: &Object) -> bool {
    match (a, b) {
        (Object::Dict(x), Object::Dict(y)) => dict_same(reader, x, y),
        (Object::Stream(x), Object::Stream(y)) => {
            dict_same(reader, &x.dict, &y.dict)
                && match (reader.raw_stream_data(x), reader.raw_stream_data(y)) {
                    (Ok(p), Ok(q)) => p == q,
                    _ => false,
                }
        }
        (Object::Array(x), Object::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(reader, p, q))
        }
        (Object::Int(x), Object::Real(y)) | (Object::Real(y), Object::Int(x)) => (*x as f64) == *y,
        (Object::String { bytes: x, .. }, Object::String { bytes: y, .. }) => x == y,
        _ => a == b,
    }
}

fn dict_same<S: Source>(reader: &PdfReader<S>, x: &Dict, y: &Dict) -> bool {
    keys_union(x, y)
        .iter()
        .all(|k| same_opt(reader, x.get(k), y.get(k)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A PDF from object bodies (numbered from 1) plus incremental updates, each a list of
    /// (number, body).
    fn pdf(objects: &[&str], updates: &[&[(u32, &str)]]) -> Vec<u8> {
        let mut out = b"%PDF-1.7\n".to_vec();
        let mut offsets = Vec::new();
        for (i, body) in objects.iter().enumerate() {
            offsets.push(out.len());
            out.extend_from_slice(format!("{} 0 obj\n{}\nendobj\n", i + 1, body).as_bytes());
        }
        let mut prev = out.len();
        out.extend_from_slice(
            format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
        );
        for o in offsets {
            out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
        }
        let size = objects.len() + 10;
        out.extend_from_slice(
            format!("trailer\n<</Size {size}/Root 1 0 R>>\nstartxref\n{prev}\n%%EOF\n").as_bytes(),
        );
        for upd in updates {
            let mut offs = Vec::new();
            for (num, body) in upd.iter() {
                offs.push((*num, out.len()));
                out.extend_from_slice(format!("{num} 0 obj\n{body}\nendobj\n").as_bytes());
            }
            let xref = out.len();
            out.extend_from_slice(b"xref\n");
            for (num, off) in offs {
                out.extend_from_slice(format!("{num} 1\n{off:010} 00000 n \n").as_bytes());
            }
            out.extend_from_slice(
                format!(
                    "trailer\n<</Size {size}/Root 1 0 R/Prev {prev}>>\nstartxref\n{xref}\n%%EOF\n"
                )
                .as_bytes(),
            );
            prev = xref;
        }
        out
    }

    const BASE: &[&str] = &[
        "<</Type/Catalog/Pages 2 0 R/AcroForm<</Fields[4 0 R 5 0 R]>>>>",
        "<</Type/Pages/Kids[3 0 R]/Count 1>>",
        "<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]/Contents 6 0 R/Annots[4 0 R 5 0 R]>>",
        "<</FT/Tx/T(name)/Type/Annot/Subtype/Widget/Rect[0 0 100 20]/P 3 0 R>>",
        "<</FT/Sig/T(Sig1)/V 7 0 R/Type/Annot/Subtype/Widget/Rect[0 0 0 0]/P 3 0 R>>",
        "<</Length 3>>\nstream\nq Q\nendstream",
        "<</Type/Sig/Contents<00>/ByteRange[0 0 0 0]>>",
    ];

    fn level(updates: &[&[(u32, &str)]], certified: bool) -> DiffResult {
        let bytes = pdf(BASE, updates);
        let r = PdfReader::open(bytes).unwrap();
        review(&r, 0, certified).unwrap()
    }

    #[test]
    fn no_update_is_none() {
        assert_eq!(level(&[], false).level, ModificationLevel::None);
    }

    #[test]
    fn filling_a_text_field_is_form_filling() {
        let d = level(
            &[&[(
                4,
                "<</FT/Tx/T(name)/V(Bob)/Type/Annot/Subtype/Widget/Rect[0 0 100 20]/P 3 0 R>>",
            )]],
            false,
        );
        assert_eq!(d.level, ModificationLevel::FormFilling, "{d:?}");
        assert_eq!(d.changed_fields, vec!["name".to_string()]);
    }

    #[test]
    fn changing_page_content_is_other() {
        let d = level(
            &[&[(6, "<</Length 7>>\nstream\n1 0 0 rg\nendstream")]],
            false,
        );
        assert_eq!(d.level, ModificationLevel::Other, "{d:?}");
        assert!(d.reasons[0].contains("6 0 R"), "{d:?}");
    }

    #[test]
    fn rewriting_an_object_identically_is_ignored() {
        let d = level(&[&[(2, "<</Kids[3 0 R]/Type/Pages/Count 1>>")]], false);
        assert!(d.level <= ModificationLevel::LtaUpdates, "{d:?}");
    }

    #[test]
    fn adding_a_text_field_is_other() {
        let d = level(
            &[&[
                (
                    1,
                    "<</Type/Catalog/Pages 2 0 R/AcroForm<</Fields[4 0 R 5 0 R 8 0 R]>>>>",
                ),
                (
                    8,
                    "<</FT/Tx/T(extra)/Type/Annot/Subtype/Widget/Rect[0 0 10 10]/P 3 0 R>>",
                ),
            ]],
            false,
        );
        assert_eq!(d.level, ModificationLevel::Other, "{d:?}");
    }

    #[test]
    fn new_invisible_signature_is_lta_and_visible_one_after_certification_is_other() {
        let invisible: &[(u32, &str)] = &[
            (1, "<</Type/Catalog/Pages 2 0 R/AcroForm<</Fields[4 0 R 5 0 R 8 0 R]/SigFlags 3>>>>"),
            (8, "<</FT/Sig/T(Sig2)/V 9 0 R/Type/Annot/Subtype/Widget/Rect[0 0 0 0]/P 3 0 R>>"),
            (9, "<</Type/Sig/Contents<00>/ByteRange[0 0 0 0]>>"),
            (3, "<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]/Contents 6 0 R/Annots[4 0 R 5 0 R 8 0 R]>>"),
        ];
        let d = level(&[invisible], true);
        assert!(d.level <= ModificationLevel::FormFilling, "{d:?}");
        let visible: &[(u32, &str)] = &[
            (1, "<</Type/Catalog/Pages 2 0 R/AcroForm<</Fields[4 0 R 5 0 R 8 0 R]/SigFlags 3>>>>"),
            (8, "<</FT/Sig/T(Sig2)/V 9 0 R/Type/Annot/Subtype/Widget/Rect[10 10 110 60]/P 3 0 R>>"),
            (9, "<</Type/Sig/Contents<00>/ByteRange[0 0 0 0]>>"),
            (3, "<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]/Contents 6 0 R/Annots[4 0 R 5 0 R 8 0 R]>>"),
        ];
        assert_eq!(
            level(&[visible], false).level,
            ModificationLevel::FormFilling
        );
        assert_eq!(level(&[visible], true).level, ModificationLevel::Other);
    }

    #[test]
    fn deleting_a_field_is_other() {
        let d = level(
            &[&[(
                1,
                "<</Type/Catalog/Pages 2 0 R/AcroForm<</Fields[5 0 R]>>>>",
            )]],
            false,
        );
        assert_eq!(d.level, ModificationLevel::Other, "{d:?}");
    }

    #[test]
    fn adding_an_annotation_is_annotations() {
        let d = level(
            &[&[
                (3, "<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]/Contents 6 0 R/Annots[4 0 R 5 0 R 8 0 R]>>"),
                (8, "<</Type/Annot/Subtype/Text/Rect[0 0 10 10]/Contents(note)>>"),
            ]],
            false,
        );
        assert_eq!(d.level, ModificationLevel::Annotations, "{d:?}");
    }

    #[test]
    fn catalog_changes_outside_the_allowed_keys_are_other() {
        let d = level(
            &[&[(1, "<</Type/Catalog/Pages 2 0 R/AcroForm<</Fields[4 0 R 5 0 R]>>/OpenAction[3 0 R/Fit]>>")]],
            false,
        );
        assert_eq!(d.level, ModificationLevel::Other, "{d:?}");
        assert!(d.reasons.iter().any(|r| r.contains("OpenAction")), "{d:?}");
    }

    #[test]
    fn dss_addition_is_lta() {
        let d = level(
            &[&[
                (
                    1,
                    "<</Type/Catalog/Pages 2 0 R/AcroForm<</Fields[4 0 R 5 0 R]>>/DSS 8 0 R>>",
                ),
                (8, "<</Certs[9 0 R]>>"),
                (9, "<</Length 1>>\nstream\n0\nendstream"),
            ]],
            false,
        );
        assert_eq!(d.level, ModificationLevel::LtaUpdates, "{d:?}");
    }
}
