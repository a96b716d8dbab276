//! Incremental updates (ISO 32000-2 §7.5.6): new and changed objects appended after the
//! original bytes, with a cross-reference section and a trailer that chains to the previous
//! one through `/Prev`. The original bytes are never rewritten, so signatures already in the
//! file keep covering exactly what they covered.
//!
//! The writer produces only the bytes of the update; the caller streams the original file
//! and appends them. The cross-reference section has the form of the file's newest one: a
//! classic table after a table (hybrid files included: the older `/XRefStm` stays reachable
//! through `/Prev`), a cross-reference stream after a stream. A file whose cross-reference
//! was rebuilt by scanning gets a complete section without `/Prev`, so readers never follow
//! the damaged chain.

use std::collections::BTreeMap;

use super::object::{Dict, ObjRef, Object, Stream, StreamData};
use super::reader::{rfind, PdfReader, XrefEntry};
use super::source::Source;
use super::{write_object, PdfError};

/// How far from the end the last `startxref` is looked for.
const TAIL_WINDOW: usize = 4096;

/// An incremental update being assembled.
#[derive(Debug)]
pub struct IncrementalWriter {
    base_len: u64,
    /// Whether the original ends without an end-of-line (one is written first).
    needs_eol: bool,
    /// `/Prev`: where the file's newest cross-reference section starts (`None` after
    /// recovery: the section written is then complete).
    prev: Option<u64>,
    xref_stream: bool,
    /// `/Root`, `/Info`, `/ID` of the newest trailer.
    trailer: Dict,
    next_num: u32,
    objects: BTreeMap<u32, (u16, Vec<u8>)>,
    /// After recovery: every object the reader found, to be listed in the new section.
    recovered_entries: Option<BTreeMap<u32, XrefEntry>>,
}

/// The bytes of a finished update and where each object landed.
#[derive(Clone, Debug)]
pub struct WrittenUpdate {
    /// The update, to append after the original's `base_len` bytes.
    pub bytes: Vec<u8>,
    /// Length of the original the update was written for.
    pub base_len: u64,
    /// For each object: the absolute file offset of its body (just after `N G obj\n`).
    pub body_offsets: BTreeMap<ObjRef, u64>,
}

impl IncrementalWriter {
    /// Starts an update for the document `reader` has open. Refuses encrypted files (the
    /// new objects would have to be encrypted too).
    pub fn new<S: Source>(reader: &PdfReader<S>) -> Result<Self, PdfError> {
        if reader.is_encrypted() {
            return Err(PdfError::Encrypted);
        }
        let base_len = reader.len();
        let last = reader.read_range(base_len.saturating_sub(1), 1.min(base_len as usize))?;
        let needs_eol = !matches!(last.first(), Some(b'\n' | b'\r'));

        let mut next_num: u64 = 1;
        for rev in reader.revisions() {
            if let Some(size) = rev
                .trailer
                .get_int("Size")
                .and_then(|s| u64::try_from(s).ok())
            {
                next_num = next_num.max(size);
            }
            if let Some((&max, _)) = rev.entries.last_key_value() {
                next_num = next_num.max(u64::from(max) + 1);
            }
        }
        let next_num = u32::try_from(next_num).map_err(|_| PdfError::Damaged {
            offset: 0,
            what: "the trailer's /Size is too large".into(),
        })?;

        let newest = reader.trailer();
        let mut trailer = Dict::new();
        for key in ["Root", "Info", "ID"] {
            if let Some(v) = newest.get(key) {
                trailer.set(key, v.clone());
            }
        }
        if trailer.get("Root").is_none() {
            return Err(PdfError::Damaged {
                offset: 0,
                what: "the trailer has no /Root".into(),
            });
        }

        let (prev, xref_stream, recovered_entries) = if reader.recovered() {
            let entries = reader
                .revisions()
                .first()
                .map(|r| r.entries.clone())
                .unwrap_or_default();
            let any_compressed = entries
                .values()
                .any(|e| matches!(e, XrefEntry::InStream { .. }));
            (None, any_compressed, Some(entries))
        } else {
            let prev = last_startxref(reader)?;
            let xref_stream = reader
                .revisions()
                .iter()
                .find(|r| r.xref_offset == prev)
                .map(|r| r.xref_stream)
                .or_else(|| reader.revisions().last().map(|r| r.xref_stream))
                .unwrap_or(false);
            (Some(prev), xref_stream, None)
        };
        Ok(Self {
            base_len,
            needs_eol,
            prev,
            xref_stream,
            trailer,
            next_num,
            objects: BTreeMap::new(),
            recovered_entries,
        })
    }

    /// Length of the original document.
    pub fn base_len(&self) -> u64 {
        self.base_len
    }

    /// Whether the update ends in a cross-reference stream (rather than a table).
    pub fn uses_xref_stream(&self) -> bool {
        self.xref_stream
    }

    /// A fresh object number (generation 0) for a new object.
    pub fn allocate(&mut self) -> ObjRef {
        let r = ObjRef::new(self.next_num, 0);
        self.next_num = self.next_num.saturating_add(1);
        r
    }

    /// Writes (or replaces) object `r`. A stream must hold its data inline; its `/Length`
    /// is set from the data.
    pub fn put(&mut self, r: ObjRef, obj: &Object) -> Result<(), PdfError> {
        let mut body = Vec::new();
        match obj {
            Object::Stream(Stream {
                dict,
                data: StreamData::Inline(data),
            }) => {
                let mut dict = dict.clone();
                dict.set("Length", Object::Int(data.len() as i64));
                write_object(&mut body, &Object::Dict(dict));
                body.extend_from_slice(b"\nstream\n");
                body.extend_from_slice(data);
                body.extend_from_slice(b"\nendstream");
            }
            Object::Stream(_) => {
                return Err(PdfError::Damaged {
                    offset: 0,
                    what: format!(
                        "object {r} is a stream whose data is still in the file; \
                         the writer needs it in memory"
                    ),
                })
            }
            other => write_object(&mut body, other),
        }
        self.put_raw(r, body);
        Ok(())
    }

    /// Writes object `r` from the bytes of its body (what goes between `N G obj` and
    /// `endobj`), for callers that must know where things land inside it (a signature
    /// dictionary's `/ByteRange` and `/Contents`).
    pub fn put_raw(&mut self, r: ObjRef, body: Vec<u8>) {
        if r.num >= self.next_num {
            self.next_num = r.num.saturating_add(1);
        }
        self.objects.insert(r.num, (r.gen, body));
    }

    /// Lays out the update: objects in number order, then the cross-reference section,
    /// trailer, `startxref` and `%%EOF`.
    pub fn finish(mut self) -> Result<WrittenUpdate, PdfError> {
        let mut out = Vec::new();
        if self.needs_eol {
            out.push(b'\n');
        }
        let mut entries: BTreeMap<u32, (u64, u16)> = BTreeMap::new();
        let mut body_offsets = BTreeMap::new();
        for (&num, (gen, body)) in &self.objects {
            let offset = self.base_len + out.len() as u64;
            entries.insert(num, (offset, *gen));
            out.extend_from_slice(format!("{num} {gen} obj\n").as_bytes());
            body_offsets.insert(ObjRef::new(num, *gen), self.base_len + out.len() as u64);
            out.extend_from_slice(body);
            out.extend_from_slice(b"\nendobj\n");
        }

        // After recovery the section lists every object found; new objects win.
        let mut full: BTreeMap<u32, XrefEntry> = self.recovered_entries.take().unwrap_or_default();
        for (&num, &(offset, gen)) in &entries {
            full.insert(num, XrefEntry::InFile { offset, gen });
        }

        let xref_offset = self.base_len + out.len() as u64;
        let mut trailer = self.trailer.clone();
        if let Some(prev) = self.prev {
            trailer.set(
                "Prev",
                Object::Int(i64::try_from(prev).map_err(|_| PdfError::Damaged {
                    offset: 0,
                    what: "cross-reference offset too large".into(),
                })?),
            );
        }
        if self.xref_stream {
            let own = self.allocate();
            full.insert(
                own.num,
                XrefEntry::InFile {
                    offset: xref_offset,
                    gen: 0,
                },
            );
            let size = self.next_num.max(full.keys().last().map_or(0, |n| n + 1));
            trailer.set("Size", Object::Int(i64::from(size)));
            write_xref_stream(&mut out, own, &trailer, &full, xref_offset);
        } else {
            let size = self.next_num.max(full.keys().last().map_or(0, |n| n + 1));
            trailer.set("Size", Object::Int(i64::from(size)));
            write_xref_table(&mut out, &full, &trailer, self.prev.is_none());
        }
        out.extend_from_slice(format!("startxref\n{xref_offset}\n%%EOF\n").as_bytes());
        Ok(WrittenUpdate {
            bytes: out,
            base_len: self.base_len,
            body_offsets,
        })
    }
}

/// The offset the file's last `startxref` names: the section an update's `/Prev` points to
/// (for a linearized file, the first-page section, as ISO 32000-2 Annex F.4 says).
fn last_startxref<S: Source>(reader: &PdfReader<S>) -> Result<u64, PdfError> {
    let len = reader.len();
    let start = len.saturating_sub(TAIL_WINDOW as u64);
    let tail = reader.read_range(start, (len - start) as usize)?;
    let damaged = |what: &str| PdfError::Damaged {
        offset: len,
        what: what.to_string(),
    };
    let pos = rfind(&tail, b"startxref").ok_or_else(|| damaged("no 'startxref' near the end"))?;
    let digits: Vec<u8> = tail
        .get(pos + 9..)
        .unwrap_or(&[])
        .iter()
        .skip_while(|b| b.is_ascii_whitespace())
        .take_while(|b| b.is_ascii_digit())
        .copied()
        .collect();
    std::str::from_utf8(&digits)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| damaged("'startxref' is not followed by an offset"))
}

fn write_xref_table(
    out: &mut Vec<u8>,
    entries: &BTreeMap<u32, XrefEntry>,
    trailer: &Dict,
    complete: bool,
) {
    out.extend_from_slice(b"xref\n");
    let mut rows: Vec<(u32, String)> = Vec::with_capacity(entries.len() + 1);
    if complete {
        rows.push((0, "0000000000 65535 f\r\n".to_string()));
    }
    for (&num, e) in entries {
        if num == 0 && complete {
            continue;
        }
        let row = match e {
            XrefEntry::InFile { offset, gen } => format!("{offset:010} {gen:05} n\r\n"),
            // only reachable after recovery of a file without object streams
            XrefEntry::Free | XrefEntry::InStream { .. } => "0000000000 65535 f\r\n".to_string(),
        };
        rows.push((num, row));
    }
    let mut i = 0;
    while i < rows.len() {
        let first = rows[i].0;
        let mut j = i + 1;
        while j < rows.len() && rows[j].0 == rows[j - 1].0 + 1 {
            j += 1;
        }
        out.extend_from_slice(format!("{first} {}\n", j - i).as_bytes());
        for (_, row) in &rows[i..j] {
            out.extend_from_slice(row.as_bytes());
        }
        i = j;
    }
    out.extend_from_slice(b"trailer\n");
    write_object(out, &Object::Dict(trailer.clone()));
    out.push(b'\n');
}

fn write_xref_stream(
    out: &mut Vec<u8>,
    own: ObjRef,
    trailer: &Dict,
    entries: &BTreeMap<u32, XrefEntry>,
    own_offset: u64,
) {
    let max_field = entries
        .values()
        .map(|e| match e {
            XrefEntry::InFile { offset, .. } => *offset,
            XrefEntry::InStream { stream, .. } => u64::from(*stream),
            XrefEntry::Free => 0,
        })
        .max()
        .unwrap_or(0)
        .max(own_offset);
    let w1 = (1..=8).find(|w| max_field < 1u64 << (8 * w)).unwrap_or(8);
    let mut data = Vec::with_capacity(entries.len() * (3 + w1));
    let mut index = Vec::new();
    let mut prev: Option<u32> = None;
    for (&num, e) in entries {
        match prev {
            Some(p) if p + 1 == num => {
                if let Some(Object::Int(count)) = index.last_mut() {
                    *count += 1;
                }
            }
            _ => {
                index.push(Object::Int(i64::from(num)));
                index.push(Object::Int(1));
            }
        }
        prev = Some(num);
        let (t, f1, f2) = match e {
            XrefEntry::Free => (0u8, 0u64, 0xFFFFu64),
            XrefEntry::InFile { offset, gen } => (1, *offset, u64::from(*gen)),
            XrefEntry::InStream { stream, index } => (2, u64::from(*stream), u64::from(*index)),
        };
        data.push(t);
        data.extend_from_slice(&f1.to_be_bytes()[8 - w1..]);
        data.extend_from_slice(&(f2.min(0xFFFF) as u16).to_be_bytes());
    }
    let mut dict = Dict::new();
    dict.set("Type", Object::name("XRef"));
    for (k, v) in trailer.iter() {
        dict.0.push((k.to_vec(), v.clone()));
    }
    dict.set("Index", Object::Array(index));
    dict.set(
        "W",
        Object::Array(vec![Object::Int(1), Object::Int(w1 as i64), Object::Int(2)]),
    );
    dict.set("Length", Object::Int(data.len() as i64));
    out.extend_from_slice(format!("{} {} obj\n", own.num, own.gen).as_bytes());
    write_object(out, &Object::Dict(dict));
    out.extend_from_slice(b"\nstream\n");
    out.extend_from_slice(&data);
    out.extend_from_slice(b"\nendstream\nendobj\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdf::tests::build_pdf;

    fn sample() -> Vec<u8> {
        build_pdf(
            &[
                "<</Type/Catalog/Pages 2 0 R>>",
                "<</Type/Pages/Kids[3 0 R]/Count 1>>",
                "<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>",
            ],
            1,
        )
    }

    #[test]
    fn appended_table_update_reads_back() {
        let original = sample();
        let reader = PdfReader::open(original.clone()).unwrap();
        let mut w = IncrementalWriter::new(&reader).unwrap();
        assert!(!w.uses_xref_stream());
        let new = w.allocate();
        assert_eq!(new.num, 4);
        let mut page = reader
            .get(ObjRef::new(3, 0))
            .unwrap()
            .as_dict()
            .unwrap()
            .clone();
        page.set("Annots", Object::Array(vec![Object::Ref(new)]));
        w.put(ObjRef::new(3, 0), &Object::Dict(page)).unwrap();
        let mut annot = Dict::new();
        annot.set("Type", Object::name("Annot"));
        annot.set("T", Object::string("a (b) \\ c"));
        w.put(new, &Object::Dict(annot)).unwrap();
        let upd = w.finish().unwrap();
        let mut file = original.clone();
        file.extend_from_slice(&upd.bytes);

        let r = PdfReader::open(file.clone()).unwrap();
        assert!(!r.recovered(), "{:?}", r.warnings());
        assert_eq!(r.revisions().len(), 2);
        assert_eq!(r.trailer().get_int("Size"), Some(5));
        assert_eq!(
            r.trailer().get_int("Prev"),
            Some(reader.revisions()[0].xref_offset as i64)
        );
        let page = r.get(ObjRef::new(3, 0)).unwrap();
        assert_eq!(
            page.as_dict().unwrap().get("Annots"),
            Some(&Object::Array(vec![Object::Ref(new)]))
        );
        let a = r.get(new).unwrap();
        assert_eq!(
            a.as_dict().unwrap().get("T").unwrap().as_string(),
            Some(&b"a (b) \\ c"[..])
        );
        // the original revision is untouched and still what it was
        assert_eq!(&file[..original.len()], &original[..]);
        let off = upd.body_offsets[&new] as usize;
        assert!(file[off..].starts_with(b"<</Type /Annot"));
    }

    #[test]
    fn xref_stream_file_gets_an_xref_stream_update() {
        // build a file whose only section is a cross-reference stream
        let mut pdf = b"%PDF-1.5\n".to_vec();
        let bodies = [
            "<</Type/Catalog/Pages 2 0 R>>",
            "<</Type/Pages/Kids[3 0 R]/Count 1>>",
            "<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>",
        ];
        let mut offs = Vec::new();
        for (i, b) in bodies.iter().enumerate() {
            offs.push(pdf.len());
            pdf.extend_from_slice(format!("{} 0 obj\n{b}\nendobj\n", i + 1).as_bytes());
        }
        let xref_off = pdf.len();
        let mut data = vec![0u8, 0, 0, 0xff];
        for o in offs.iter().chain(std::iter::once(&xref_off)) {
            data.push(1);
            data.extend_from_slice(&(*o as u16).to_be_bytes());
            data.push(0);
        }
        pdf.extend_from_slice(
            format!(
                "4 0 obj\n<</Type/XRef/Size 5/W[1 2 1]/Root 1 0 R/Length {}>>\nstream\n",
                data.len()
            )
            .as_bytes(),
        );
        pdf.extend_from_slice(&data);
        pdf.extend_from_slice(
            format!("\nendstream\nendobj\nstartxref\n{xref_off}\n%%EOF").as_bytes(),
        );

        let reader = PdfReader::open(pdf.clone()).unwrap();
        assert!(!reader.recovered());
        let mut w = IncrementalWriter::new(&reader).unwrap();
        assert!(w.uses_xref_stream());
        let n = w.allocate();
        w.put(n, &Object::Int(42)).unwrap();
        let upd = w.finish().unwrap();
        // the original did not end with an EOL: one was added
        assert_eq!(upd.bytes[0], b'\n');
        let mut file = pdf.clone();
        file.extend_from_slice(&upd.bytes);
        let r = PdfReader::open(file).unwrap();
        assert!(!r.recovered(), "{:?}", r.warnings());
        assert_eq!(r.revisions().len(), 2);
        assert!(r.revisions()[1].xref_stream);
        assert_eq!(r.get(n).unwrap(), Object::Int(42));
        assert_eq!(r.trailer().get_int("Prev"), Some(xref_off as i64));
        assert!(r.get(ObjRef::new(3, 0)).unwrap().as_dict().is_some());
        assert_eq!(r.trailer().get_int("Size"), Some(7));
    }

    #[test]
    fn recovered_file_gets_a_complete_section() {
        let mut pdf = sample();
        // break the startxref offset
        let pos = rfind(&pdf, b"startxref").unwrap();
        pdf.truncate(pos);
        pdf.extend_from_slice(b"startxref\n99999\n%%EOF\n");
        let reader = PdfReader::open(pdf.clone()).unwrap();
        assert!(reader.recovered());
        let mut w = IncrementalWriter::new(&reader).unwrap();
        let n = w.allocate();
        w.put(n, &Object::name("X")).unwrap();
        let upd = w.finish().unwrap();
        let mut file = pdf;
        file.extend_from_slice(&upd.bytes);
        let r = PdfReader::open(file).unwrap();
        assert!(!r.recovered(), "{:?}", r.warnings());
        assert_eq!(r.revisions().len(), 1);
        assert_eq!(r.get(n).unwrap(), Object::name("X"));
        assert!(r.catalog().is_ok());
        assert_eq!(r.trailer().get("Prev"), None);
    }

    #[test]
    fn encrypted_files_are_refused() {
        let mut pdf = sample();
        let pos = rfind(&pdf, b"/Root").unwrap();
        pdf.splice(pos..pos, b"/Encrypt 9 0 R ".iter().copied());
        let reader = PdfReader::open(pdf).unwrap();
        assert!(matches!(
            IncrementalWriter::new(&reader),
            Err(PdfError::Encrypted)
        ));
    }

    #[test]
    fn stream_objects_get_their_length() {
        let reader = PdfReader::open(sample()).unwrap();
        let mut w = IncrementalWriter::new(&reader).unwrap();
        let n = w.allocate();
        let s = Stream {
            dict: Dict::new(),
            data: StreamData::Inline(b"BT ET".to_vec()),
        };
        w.put(n, &Object::Stream(s)).unwrap();
        let upd = w.finish().unwrap();
        let mut file = sample();
        file.extend_from_slice(&upd.bytes);
        let r = PdfReader::open(file).unwrap();
        let obj = r.get(n).unwrap();
        let s = obj.as_stream().unwrap();
        assert_eq!(r.decode_stream(s).unwrap(), b"BT ET");
    }
}
