//! A PDF reader that keeps memory independent of the file size: it reads the trailer and the
//! cross-reference sections (tables, streams, hybrid files), then parses only the objects
//! asked for, from small windows of the source. Every incremental update is a revision the
//! caller can look at on its own ("the document as the signer saw it").
//!
//! Hand-written rather than `lopdf`, whose loader reads and parses the whole file (a 100 MB
//! PDF took about 200 MB of memory); see DESIGN.md.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

use super::filter;
use super::lexer::{LexError, Lexer};
use super::object::{Dict, ObjRef, Object, Stream, StreamData};
use super::source::Source;
use super::PdfError;

/// Largest window read to parse one object (a dictionary larger than this is refused).
const MAX_OBJECT_WINDOW: usize = 32 << 20;
/// Window first tried when parsing an object.
const FIRST_WINDOW: usize = 4096;
/// How far from the end `startxref` is looked for.
const TAIL_WINDOW: usize = 4096;
/// Most cross-reference sections followed through `/Prev`.
const MAX_SECTIONS: usize = 10_000;
/// Most references followed to reach a direct object.
const MAX_REF_CHAIN: usize = 32;
/// Highest object number accepted in a cross-reference section.
const MAX_OBJECT_NUMBER: u64 = 8_388_607;

/// Limits applied while reading hostile input.
#[derive(Clone, Copy, Debug)]
pub struct ReaderOptions {
    /// Largest decoded size of a stream the reader decodes (object streams, xref streams,
    /// and streams callers ask to decode).
    pub max_decoded_stream: usize,
}

impl Default for ReaderOptions {
    fn default() -> Self {
        Self {
            max_decoded_stream: 64 << 20,
        }
    }
}

/// Where an object is defined, per a cross-reference entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum XrefEntry {
    /// The object number is free (deleted) in this section.
    Free,
    /// An uncompressed object at a byte offset.
    InFile {
        /// Byte offset of `num gen obj`.
        offset: u64,
        /// Generation number.
        gen: u16,
    },
    /// An object inside an object stream.
    InStream {
        /// Object number of the object stream.
        stream: u32,
        /// Index inside the object stream.
        index: u32,
    },
}

/// One revision: the original document or one incremental update.
#[derive(Clone, Debug)]
pub struct Revision {
    /// Byte offset of this revision's cross-reference section (table or stream).
    pub xref_offset: u64,
    /// Byte offset just past this revision's `%%EOF` marker (and its end-of-line).
    pub end: u64,
    /// The trailer dictionary (for a cross-reference stream: the stream's dictionary).
    pub trailer: Dict,
    /// The entries this revision's section(s) define.
    pub entries: BTreeMap<u32, XrefEntry>,
    /// Whether the section is a cross-reference stream (PDF 1.5).
    pub xref_stream: bool,
}

struct ObjStm {
    data: Vec<u8>,
    offsets: Vec<(u32, usize)>,
}

/// The reader. Not `Sync` (it caches decoded object streams); use one per thread.
pub struct PdfReader<S: Source> {
    source: S,
    len: u64,
    revisions: Vec<Revision>,
    options: ReaderOptions,
    recovered: bool,
    warnings: RefCell<Vec<String>>,
    objstm_cache: RefCell<HashMap<u32, std::rc::Rc<ObjStm>>>,
    header_version: Option<String>,
}

impl<S: Source> std::fmt::Debug for PdfReader<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PdfReader")
            .field("len", &self.len)
            .field("revisions", &self.revisions.len())
            .field("recovered", &self.recovered)
            .finish()
    }
}

impl<S: Source> PdfReader<S> {
    /// Opens a PDF with default limits.
    pub fn open(source: S) -> Result<Self, PdfError> {
        Self::open_with(source, ReaderOptions::default())
    }

    /// Opens a PDF: checks the header, reads every cross-reference section. A broken
    /// cross-reference is rebuilt by scanning the file (as PDF readers do), with a warning.
    pub fn open_with(source: S, options: ReaderOptions) -> Result<Self, PdfError> {
        let len = source.len();
        let mut reader = Self {
            source,
            len,
            revisions: Vec::new(),
            options,
            recovered: false,
            warnings: RefCell::new(Vec::new()),
            objstm_cache: RefCell::new(HashMap::new()),
            header_version: None,
        };
        reader.header_version = Some(reader.check_header()?);
        match reader.read_xref_chain() {
            Ok(revs) if !revs.is_empty() => reader.revisions = revs,
            Ok(_) => reader.recover("no cross-reference section found")?,
            Err(e) => reader.recover(&e.to_string())?,
        }
        if reader.trailer().get("Root").is_none() {
            reader.recover("the trailer has no /Root")?;
        }
        Ok(reader)
    }

    /// The byte source.
    pub fn source(&self) -> &S {
        &self.source
    }

    /// File length in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the file is empty (never true for an opened PDF).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The version in the `%PDF-x.y` header.
    pub fn header_version(&self) -> &str {
        self.header_version.as_deref().unwrap_or("")
    }

    /// Revisions, oldest first.
    pub fn revisions(&self) -> &[Revision] {
        &self.revisions
    }

    /// The newest trailer.
    pub fn trailer(&self) -> &Dict {
        static EMPTY: std::sync::OnceLock<Dict> = std::sync::OnceLock::new();
        self.revisions
            .last()
            .map(|r| &r.trailer)
            .unwrap_or_else(|| EMPTY.get_or_init(Dict::new))
    }

    /// True when the cross-reference information was rebuilt by scanning.
    pub fn recovered(&self) -> bool {
        self.recovered
    }

    /// Problems met and worked around while reading.
    pub fn warnings(&self) -> Vec<String> {
        self.warnings.borrow().clone()
    }

    fn warn(&self, w: impl Into<String>) {
        let w = w.into();
        let mut ws = self.warnings.borrow_mut();
        if ws.len() < 100 && !ws.contains(&w) {
            ws.push(w);
        }
    }

    /// Whether the document is encrypted (the trailer has `/Encrypt`).
    pub fn is_encrypted(&self) -> bool {
        self.trailer().get("Encrypt").is_some()
    }

    /// Reads `len` bytes at `offset`.
    pub fn read_range(&self, offset: u64, len: usize) -> Result<Vec<u8>, PdfError> {
        let mut buf = vec![0u8; len];
        self.source
            .read_exact_at(offset, &mut buf)
            .map_err(|e| PdfError::Io(e.to_string()))?;
        Ok(buf)
    }

    fn read_window(&self, offset: u64, len: usize) -> Result<Vec<u8>, PdfError> {
        if offset >= self.len {
            return Ok(Vec::new());
        }
        let avail = usize::try_from(self.len - offset).unwrap_or(usize::MAX);
        self.read_range(offset, len.min(avail))
    }

    fn check_header(&self) -> Result<String, PdfError> {
        let head = self.read_window(0, 1024)?;
        let Some(pos) = find(&head, b"%PDF-") else {
            return Err(PdfError::NotPdf);
        };
        let rest = &head[pos + 5..];
        let v: Vec<u8> = rest
            .iter()
            .take_while(|b| b.is_ascii_digit() || **b == b'.')
            .copied()
            .collect();
        Ok(String::from_utf8_lossy(&v).into_owned())
    }

    // ---------------------------------------------------------------- cross-reference

    fn startxref(&self) -> Result<u64, PdfError> {
        let tail_start = self.len.saturating_sub(TAIL_WINDOW as u64);
        let tail = self.read_window(tail_start, TAIL_WINDOW)?;
        let pos = rfind(&tail, b"startxref").ok_or(PdfError::Damaged {
            offset: self.len,
            what: "no 'startxref' near the end of the file".into(),
        })?;
        let mut lx = Lexer::new(&tail[pos + 9..], true);
        lx.read_uint().map_err(|_| PdfError::Damaged {
            offset: tail_start + pos as u64,
            what: "'startxref' is not followed by an offset".into(),
        })
    }

    fn read_xref_chain(&self) -> Result<Vec<Revision>, PdfError> {
        let mut offset = self.startxref()?;
        let mut seen = std::collections::HashSet::new();
        let mut chain = Vec::new();
        while chain.len() < MAX_SECTIONS {
            if !seen.insert(offset) {
                self.warn("the /Prev chain of cross-reference sections loops; stopped at the loop");
                break;
            }
            if offset >= self.len {
                return Err(PdfError::Damaged {
                    offset,
                    what: "a cross-reference offset points past the end of the file".into(),
                });
            }
            let mut rev = self.read_xref_section(offset)?;
            // hybrid file: a table with an /XRefStm cross-reference stream for compressed objects
            if let Some(stm) = rev.trailer.get_int("XRefStm") {
                match u64::try_from(stm).ok().map(|o| self.read_xref_section(o)) {
                    Some(Ok(extra)) if extra.xref_stream => {
                        for (num, e) in extra.entries {
                            let slot = rev.entries.entry(num).or_insert(e);
                            if *slot == XrefEntry::Free {
                                *slot = e;
                            }
                        }
                    }
                    _ => self.warn("the /XRefStm of a hybrid file could not be read; ignored"),
                }
            }
            let prev = rev.trailer.get_int("Prev");
            chain.push(rev);
            match prev {
                Some(p) if p >= 0 => offset = p as u64,
                Some(_) => {
                    self.warn("negative /Prev offset ignored");
                    break;
                }
                None => break,
            }
        }
        // Revisions in file order by where each section ends. Sections of a linearized file's
        // first page sit at the start but chain first; ordering by end keeps revision
        // boundaries where the bytes are.
        chain.sort_by_key(|r| (r.end, r.xref_offset));
        Ok(chain)
    }

    fn read_xref_section(&self, offset: u64) -> Result<Revision, PdfError> {
        let head = self.read_window(offset, 64)?;
        let mut lx = Lexer::new(&head, (offset + head.len() as u64) >= self.len);
        lx.skip_ws();
        let start = lx.pos();
        if head.get(start..start + 4) == Some(b"xref") {
            self.read_xref_table(offset + start as u64)
        } else {
            self.read_xref_stream(offset)
        }
    }

    fn read_xref_table(&self, offset: u64) -> Result<Revision, PdfError> {
        let damaged = |what: &str| PdfError::Damaged {
            offset,
            what: what.to_string(),
        };
        let mut entries = BTreeMap::new();
        let mut window = FIRST_WINDOW.max(1 << 16);
        loop {
            let buf = self.read_window(offset, window)?;
            let at_end = offset + buf.len() as u64 >= self.len;
            let mut lx = Lexer::new(&buf, at_end);
            if !lx.eat_keyword(b"xref") {
                return Err(damaged("expected 'xref'"));
            }
            entries.clear();
            let result: Result<Dict, LexError> = (|| loop {
                if lx.eat_keyword(b"trailer") {
                    return match lx.parse_object(0)? {
                        Object::Dict(d) => Ok(d),
                        _ => Err(LexError::Syntax {
                            pos: lx.pos(),
                            what: "trailer is not a dictionary".into(),
                        }),
                    };
                }
                let first = lx.read_uint()?;
                let count = lx.read_uint()?;
                if first.saturating_add(count) > MAX_OBJECT_NUMBER + 1 {
                    return Err(LexError::Syntax {
                        pos: lx.pos(),
                        what: "cross-reference subsection too large".into(),
                    });
                }
                for i in 0..count {
                    let off = lx.read_uint()?;
                    let gen = lx.read_uint()?;
                    lx.skip_ws();
                    let kind = if lx.eat_keyword(b"n") {
                        b'n'
                    } else if lx.eat_keyword(b"f") {
                        b'f'
                    } else {
                        return Err(if lx.pos() >= buf.len() && !at_end {
                            LexError::Eof
                        } else {
                            LexError::Syntax {
                                pos: lx.pos(),
                                what: "cross-reference entry type is neither 'n' nor 'f'".into(),
                            }
                        });
                    };
                    let num = (first + i) as u32;
                    let e = if kind == b'n' {
                        XrefEntry::InFile {
                            offset: off,
                            gen: u16::try_from(gen).unwrap_or(u16::MAX),
                        }
                    } else {
                        XrefEntry::Free
                    };
                    entries.insert(num, e);
                }
            })();
            match result {
                Ok(trailer) => {
                    let end = self.find_eof_after(offset + lx.pos() as u64)?;
                    return Ok(Revision {
                        xref_offset: offset,
                        end,
                        trailer,
                        entries,
                        xref_stream: false,
                    });
                }
                Err(LexError::Eof) if !at_end && window < MAX_OBJECT_WINDOW * 4 => window *= 4,
                Err(LexError::Eof) => return Err(damaged("cross-reference table is truncated")),
                Err(LexError::Syntax { what, .. }) => {
                    return Err(damaged(&format!("bad cross-reference table: {what}")))
                }
            }
        }
    }

    fn read_xref_stream(&self, offset: u64) -> Result<Revision, PdfError> {
        let (id, obj) = self.parse_at(offset)?;
        let Object::Stream(stream) = obj else {
            return Err(PdfError::Damaged {
                offset,
                what: "the cross-reference offset points neither at 'xref' nor at a stream".into(),
            });
        };
        if stream.dict.get_name("Type") != Some(b"XRef") {
            return Err(PdfError::Damaged {
                offset,
                what: format!(
                    "object {} at the cross-reference offset is not /Type /XRef",
                    id
                ),
            });
        }
        let data = self.decode_stream(&stream)?;
        let d = &stream.dict;
        let bad = |what: &str| PdfError::Damaged {
            offset,
            what: format!("bad cross-reference stream: {what}"),
        };
        let size = d.get_int("Size").ok_or_else(|| bad("no /Size"))?;
        let w: Vec<usize> = d
            .get("W")
            .and_then(Object::as_array)
            .ok_or_else(|| bad("no /W"))?
            .iter()
            .map(|o| o.as_int().and_then(|v| usize::try_from(v).ok()))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| bad("/W is not three integers"))?;
        if w.len() != 3 || w.iter().any(|&x| x > 8) {
            return Err(bad("/W is not three widths of at most 8 bytes"));
        }
        let index: Vec<u64> = match d.get("Index").and_then(Object::as_array) {
            Some(a) => a
                .iter()
                .map(|o| o.as_int().and_then(|v| u64::try_from(v).ok()))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| bad("/Index is not integers"))?,
            None => vec![0, u64::try_from(size).map_err(|_| bad("negative /Size"))?],
        };
        let row = w[0] + w[1] + w[2];
        if row == 0 {
            return Err(bad("/W widths are all zero"));
        }
        let mut entries = BTreeMap::new();
        let mut rows = data.chunks_exact(row);
        for pair in index.chunks(2) {
            let [first, count] = pair else {
                return Err(bad("/Index has an odd length"));
            };
            if first.saturating_add(*count) > MAX_OBJECT_NUMBER + 1 {
                return Err(bad("subsection too large"));
            }
            for i in 0..*count {
                let Some(r) = rows.next() else {
                    self.warn("cross-reference stream has fewer rows than /Index declares");
                    break;
                };
                let field = |k: usize| -> u64 {
                    let s: usize = w[..k].iter().sum();
                    r[s..s + w[k]]
                        .iter()
                        .fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
                };
                let t = if w[0] == 0 { 1 } else { field(0) };
                let num = (first + i) as u32;
                let e = match t {
                    0 => XrefEntry::Free,
                    1 => XrefEntry::InFile {
                        offset: field(1),
                        gen: u16::try_from(field(2)).unwrap_or(u16::MAX),
                    },
                    2 => XrefEntry::InStream {
                        stream: u32::try_from(field(1)).map_err(|_| bad("object stream number"))?,
                        index: u32::try_from(field(2)).map_err(|_| bad("object stream index"))?,
                    },
                    _ => continue, // reserved types are ignored (ISO 32000-2 §7.5.8.3)
                };
                entries.insert(num, e);
            }
        }
        let end = self.find_eof_after(self.stream_end(&stream))?;
        Ok(Revision {
            xref_offset: offset,
            end,
            trailer: stream.dict,
            entries,
            xref_stream: true,
        })
    }

    fn stream_end(&self, s: &Stream) -> u64 {
        match s.data {
            StreamData::InFile { offset, len } => offset + len,
            StreamData::Inline(_) => 0,
        }
    }

    /// Offset just past the first `%%EOF` (and its end-of-line) at or after `from`; the end of
    /// the file when there is none.
    fn find_eof_after(&self, from: u64) -> Result<u64, PdfError> {
        let mut pos = from;
        let chunk = 1 << 16;
        while pos < self.len {
            let buf = self.read_window(pos, chunk + 8)?;
            if let Some(i) = find(&buf, b"%%EOF") {
                let mut end = pos + i as u64 + 5;
                let tail = self.read_window(end, 2)?;
                if tail.first() == Some(&b'\r') {
                    end += 1;
                    if tail.get(1) == Some(&b'\n') {
                        end += 1;
                    }
                } else if tail.first() == Some(&b'\n') {
                    end += 1;
                }
                return Ok(end);
            }
            if buf.len() <= 8 {
                break;
            }
            pos += chunk as u64;
        }
        Ok(self.len)
    }

    // ---------------------------------------------------------------- recovery

    fn recover(&mut self, why: &str) -> Result<(), PdfError> {
        self.warn(format!(
            "the cross-reference information is damaged ({why}); it was rebuilt by scanning the file"
        ));
        self.recovered = true;
        let mut entries: BTreeMap<u32, XrefEntry> = BTreeMap::new();
        let mut trailer: Option<Dict> = None;
        let chunk = 1 << 20;
        let mut pos = 0u64;
        while pos < self.len {
            let buf = self.read_window(pos, chunk + 64)?;
            let scan_len = if pos + buf.len() as u64 >= self.len {
                buf.len()
            } else {
                chunk
            };
            let mut i = 0;
            while let Some(k) = find(&buf[i..scan_len.min(buf.len())], b"obj") {
                let at = i + k;
                i = at + 3;
                if buf.get(at + 3).is_some_and(|&c| {
                    !super::lexer::is_whitespace(c) && !super::lexer::is_delimiter(c)
                }) {
                    continue;
                }
                if let Some((start, num, gen)) = obj_header_before(&buf, at) {
                    entries.insert(
                        num,
                        XrefEntry::InFile {
                            offset: pos + start as u64,
                            gen,
                        },
                    );
                }
            }
            let mut j = 0;
            while let Some(k) = find(&buf[j..scan_len.min(buf.len())], b"trailer") {
                let at = j + k;
                j = at + 7;
                let mut lx = Lexer::new(&buf[at + 7..], pos + buf.len() as u64 >= self.len);
                if let Ok(Object::Dict(d)) = lx.parse_object(0) {
                    if d.get("Root").is_some() {
                        trailer = Some(d);
                    }
                }
            }
            pos += chunk as u64;
        }
        if entries.is_empty() {
            return Err(PdfError::Damaged {
                offset: 0,
                what: "no objects found while rebuilding the cross-reference".into(),
            });
        }
        self.revisions = vec![Revision {
            xref_offset: 0,
            end: self.len,
            trailer: Dict::new(),
            entries,
            xref_stream: false,
        }];
        // A trailer from an xref stream dictionary, or a catalog found by scanning.
        let trailer = match trailer {
            Some(t) => t,
            None => self.find_trailer_by_scan()?,
        };
        if let Some(r) = self.revisions.first_mut() {
            r.trailer = trailer;
        }
        // Objects in object streams become reachable too.
        let stream_nums: Vec<u32> = self.revisions[0].entries.keys().copied().collect();
        let mut extra = BTreeMap::new();
        for num in stream_nums {
            let Ok(obj) = self.get_at(ObjRef::new(num, 0), 0) else {
                continue;
            };
            let Some(s) = obj.as_stream() else { continue };
            if s.dict.get_name("Type") == Some(b"ObjStm") {
                if let Ok(stm) = self.load_objstm_from(s) {
                    for (idx, (n, _)) in stm.offsets.iter().enumerate() {
                        extra.insert(
                            *n,
                            XrefEntry::InStream {
                                stream: num,
                                index: idx as u32,
                            },
                        );
                    }
                }
            }
        }
        if let Some(r) = self.revisions.first_mut() {
            for (n, e) in extra {
                r.entries.entry(n).or_insert(e);
            }
        }
        self.objstm_cache.borrow_mut().clear();
        Ok(())
    }

    fn find_trailer_by_scan(&self) -> Result<Dict, PdfError> {
        let nums: Vec<u32> = self.revisions[0].entries.keys().copied().collect();
        let mut xref_dict = None;
        for num in nums.iter().rev() {
            let Ok(obj) = self.get_at(ObjRef::new(*num, 0), 0) else {
                continue;
            };
            if let Some(d) = obj.as_dict() {
                if d.get_name("Type") == Some(b"XRef") && d.get("Root").is_some() {
                    xref_dict = Some(d.clone());
                    break;
                }
                if d.get_name("Type") == Some(b"Catalog") {
                    let mut t = Dict::new();
                    t.set("Root", Object::Ref(ObjRef::new(*num, 0)));
                    xref_dict.get_or_insert(t);
                }
            }
        }
        xref_dict.ok_or(PdfError::Damaged {
            offset: 0,
            what: "no trailer and no document catalog found".into(),
        })
    }

    // ---------------------------------------------------------------- objects

    /// Parses the indirect object at `offset`; streams are returned with their data left in
    /// the file.
    pub fn parse_at(&self, offset: u64) -> Result<(ObjRef, Object), PdfError> {
        let mut window = FIRST_WINDOW;
        loop {
            let buf = self.read_window(offset, window)?;
            let at_end = offset + buf.len() as u64 >= self.len;
            let mut lx = Lexer::new(&buf, at_end);
            match lx.parse_indirect() {
                Ok(head) => {
                    let obj = match head.stream_data_pos {
                        None => head.object,
                        Some(pos) => {
                            let Object::Dict(dict) = head.object else {
                                return Err(PdfError::Damaged {
                                    offset,
                                    what: "stream without dictionary".into(),
                                });
                            };
                            let data_off = offset + pos as u64;
                            let len = self.stream_length(&dict, data_off)?;
                            Object::Stream(Stream {
                                dict,
                                data: StreamData::InFile {
                                    offset: data_off,
                                    len,
                                },
                            })
                        }
                    };
                    return Ok((head.id, obj));
                }
                Err(LexError::Eof) if !at_end && window < MAX_OBJECT_WINDOW => window *= 8,
                Err(LexError::Eof) => {
                    return Err(PdfError::Damaged {
                        offset,
                        what: "object too large or truncated".into(),
                    })
                }
                Err(LexError::Syntax { pos, what }) => {
                    return Err(PdfError::Damaged {
                        offset: offset + pos as u64,
                        what,
                    })
                }
            }
        }
    }

    fn stream_length(&self, dict: &Dict, data_off: u64) -> Result<u64, PdfError> {
        let declared = match dict.get("Length") {
            Some(Object::Int(n)) => u64::try_from(*n).ok(),
            Some(Object::Ref(r)) => {
                // The length object is resolved at the newest state; a loop (Length pointing
                // at the stream itself) ends in an error, not recursion.
                match self.get_newest_direct(*r) {
                    Ok(Object::Int(n)) => u64::try_from(n).ok(),
                    _ => None,
                }
            }
            _ => None,
        };
        if let Some(len) = declared {
            if data_off.checked_add(len).is_some_and(|e| e <= self.len)
                && self.endstream_at(data_off + len)?
            {
                return Ok(len);
            }
        }
        // Wrong or missing /Length: find `endstream` (bounded by the file, read in chunks).
        self.warn("a stream's /Length is wrong; its end was found by scanning for 'endstream'");
        let mut pos = data_off;
        let chunk = 1 << 20;
        while pos < self.len {
            let buf = self.read_window(pos, chunk + 16)?;
            if let Some(i) = find(&buf, b"endstream") {
                let mut end = pos + i as u64;
                // drop the EOL before endstream
                let back = self.read_window(end.saturating_sub(2).max(data_off), 2)?;
                if end > data_off && back.last() == Some(&b'\n') {
                    end -= 1;
                    if end > data_off && back.len() == 2 && back[0] == b'\r' {
                        end -= 1;
                    }
                } else if end > data_off && back.last() == Some(&b'\r') {
                    end -= 1;
                }
                return Ok(end - data_off);
            }
            if buf.len() <= 16 {
                break;
            }
            pos += chunk as u64;
        }
        Err(PdfError::Damaged {
            offset: data_off,
            what: "stream has no 'endstream'".into(),
        })
    }

    fn endstream_at(&self, pos: u64) -> Result<bool, PdfError> {
        let buf = self.read_window(pos, 32)?;
        let mut lx = Lexer::new(&buf, true);
        lx.skip_ws();
        Ok(buf.get(lx.pos()..lx.pos() + 9) == Some(b"endstream"))
    }

    fn get_newest_direct(&self, r: ObjRef) -> Result<Object, PdfError> {
        let rev = self.revisions.len().saturating_sub(1);
        match self.entry_at(r.num, rev) {
            Some((_, XrefEntry::InFile { offset, .. })) => {
                // parse without following stream lengths (a length is never a stream)
                let buf = self.read_window(offset, FIRST_WINDOW)?;
                let mut lx = Lexer::new(&buf, true);
                lx.parse_indirect()
                    .map(|h| h.object)
                    .map_err(|_| PdfError::Damaged {
                        offset,
                        what: "bad /Length object".into(),
                    })
            }
            Some((_, XrefEntry::InStream { .. })) => self.get(r),
            _ => Ok(Object::Null),
        }
    }

    /// The newest entry for object `num` in revisions `0..=rev`, with the revision index
    /// that defines it.
    pub fn entry_at(&self, num: u32, rev: usize) -> Option<(usize, XrefEntry)> {
        let upto = rev.min(self.revisions.len().checked_sub(1)?);
        (0..=upto)
            .rev()
            .find_map(|i| self.revisions[i].entries.get(&num).map(|e| (i, *e)))
    }

    /// Object `r` in the newest revision (null when absent or free, as the spec says).
    pub fn get(&self, r: ObjRef) -> Result<Object, PdfError> {
        self.get_at(r, self.revisions.len().saturating_sub(1))
    }

    /// Object `r` as of revision `rev` (the document as it was when that revision was
    /// written).
    pub fn get_at(&self, r: ObjRef, rev: usize) -> Result<Object, PdfError> {
        match self.entry_at(r.num, rev) {
            None | Some((_, XrefEntry::Free)) => Ok(Object::Null),
            Some((_, XrefEntry::InFile { offset, gen })) => {
                if gen != r.gen {
                    return Ok(Object::Null);
                }
                let (id, obj) = self.parse_at(offset)?;
                if id.num != r.num {
                    return Err(PdfError::Damaged {
                        offset,
                        what: format!("expected object {} at this offset, found {}", r, id),
                    });
                }
                Ok(obj)
            }
            Some((_, XrefEntry::InStream { stream, index })) => {
                if r.gen != 0 {
                    return Ok(Object::Null);
                }
                let stm = self.load_objstm(stream, rev)?;
                let (num, off) = stm
                    .offsets
                    .get(index as usize)
                    .copied()
                    .or_else(|| stm.offsets.iter().find(|(n, _)| *n == r.num).copied())
                    .ok_or(PdfError::Damaged {
                        offset: 0,
                        what: format!("object stream {stream} has no entry {index}"),
                    })?;
                let off = if num == r.num {
                    off
                } else {
                    stm.offsets
                        .iter()
                        .find(|(n, _)| *n == r.num)
                        .map(|(_, o)| *o)
                        .ok_or(PdfError::Damaged {
                            offset: 0,
                            what: format!("object {} not in object stream {stream}", r),
                        })?
                };
                let slice = stm.data.get(off..).unwrap_or(&[]);
                Lexer::new(slice, true)
                    .parse_object(0)
                    .map_err(|e| PdfError::Damaged {
                        offset: 0,
                        what: format!("object {} in object stream {stream}: {e:?}", r),
                    })
            }
        }
    }

    fn load_objstm(&self, num: u32, rev: usize) -> Result<std::rc::Rc<ObjStm>, PdfError> {
        if let Some(s) = self.objstm_cache.borrow().get(&num) {
            return Ok(s.clone());
        }
        let obj = match self.entry_at(num, rev) {
            Some((_, XrefEntry::InFile { offset, .. })) => self.parse_at(offset)?.1,
            _ => {
                return Err(PdfError::Damaged {
                    offset: 0,
                    what: format!("object stream {num} is not an uncompressed object"),
                })
            }
        };
        let Object::Stream(s) = obj else {
            return Err(PdfError::Damaged {
                offset: 0,
                what: format!("object {num} named as an object stream is not a stream"),
            });
        };
        let stm = std::rc::Rc::new(self.load_objstm_from(&s)?);
        let mut cache = self.objstm_cache.borrow_mut();
        if cache.len() > 16 {
            cache.clear();
        }
        cache.insert(num, stm.clone());
        Ok(stm)
    }

    fn load_objstm_from(&self, s: &Stream) -> Result<ObjStm, PdfError> {
        let data = self.decode_stream(s)?;
        let n = s.dict.get_int("N").unwrap_or(0).max(0) as usize;
        let first = s.dict.get_int("First").unwrap_or(0).max(0) as usize;
        let header = data.get(..first.min(data.len())).unwrap_or(&[]);
        let mut lx = Lexer::new(header, true);
        let mut offsets = Vec::with_capacity(n.min(100_000));
        for _ in 0..n.min(1_000_000) {
            let (Ok(num), Ok(off)) = (lx.read_uint(), lx.read_uint()) else {
                break;
            };
            let (Ok(num), Some(off)) = (
                u32::try_from(num),
                usize::try_from(off).ok().and_then(|o| o.checked_add(first)),
            ) else {
                break;
            };
            offsets.push((num, off));
        }
        Ok(ObjStm { data, offsets })
    }

    /// Follows references until a direct object (bounded).
    pub fn resolve(&self, obj: &Object) -> Result<Object, PdfError> {
        self.resolve_at(obj, self.revisions.len().saturating_sub(1))
    }

    /// Follows references as of revision `rev`.
    pub fn resolve_at(&self, obj: &Object, rev: usize) -> Result<Object, PdfError> {
        let mut cur = obj.clone();
        for _ in 0..MAX_REF_CHAIN {
            match cur {
                Object::Ref(r) => cur = self.get_at(r, rev)?,
                other => return Ok(other),
            }
        }
        Err(PdfError::Damaged {
            offset: 0,
            what: "reference chain too long (a loop?)".into(),
        })
    }

    /// The raw (encoded) bytes of a stream, up to the decode limit.
    pub fn raw_stream_data(&self, s: &Stream) -> Result<Vec<u8>, PdfError> {
        match &s.data {
            StreamData::Inline(v) => Ok(v.clone()),
            StreamData::InFile { offset, len } => {
                let len = usize::try_from(*len)
                    .ok()
                    .filter(|l| *l <= self.options.max_decoded_stream)
                    .ok_or(PdfError::TooLarge {
                        what: "stream".into(),
                        limit: self.options.max_decoded_stream,
                    })?;
                self.read_range(*offset, len)
            }
        }
    }

    /// A stream's decoded bytes (Flate with predictors, ASCIIHex), capped.
    pub fn decode_stream(&self, s: &Stream) -> Result<Vec<u8>, PdfError> {
        let raw = self.raw_stream_data(s)?;
        filter::decode(&s.dict, &raw, self.options.max_decoded_stream).map_err(PdfError::Filter)
    }

    /// The document catalog (`/Root`) as of revision `rev`.
    pub fn catalog_at(&self, rev: usize) -> Result<Dict, PdfError> {
        let trailer = &self
            .revisions
            .get(rev)
            .ok_or(PdfError::Damaged {
                offset: 0,
                what: "no such revision".into(),
            })?
            .trailer;
        // A revision's trailer may omit /Root only in broken files; fall back to the newest.
        let root = trailer
            .get("Root")
            .or_else(|| self.trailer().get("Root"))
            .cloned()
            .ok_or(PdfError::Damaged {
                offset: 0,
                what: "the trailer has no /Root".into(),
            })?;
        match self.resolve_at(&root, rev)? {
            Object::Dict(d) => Ok(d),
            other => Err(PdfError::Damaged {
                offset: 0,
                what: format!("/Root is a {}, not a dictionary", other.type_name()),
            }),
        }
    }

    /// The newest document catalog.
    pub fn catalog(&self) -> Result<Dict, PdfError> {
        self.catalog_at(self.revisions.len().saturating_sub(1))
    }

    /// The revision whose bytes end at or before `offset` and is the last such: the
    /// document state a signature whose byte range ends at `offset` covers. `None` when the
    /// offset falls before the end of the first revision.
    pub fn revision_ending_at_or_before(&self, offset: u64) -> Option<usize> {
        self.revisions.iter().rposition(|r| r.end <= offset)
    }
}

/// Finds `num gen ` just before `obj` at `at` in `buf`: returns (start, num, gen).
fn obj_header_before(buf: &[u8], at: usize) -> Option<(usize, u32, u16)> {
    let mut i = at;
    let skip_ws_back = |i: &mut usize| {
        while *i > 0 && super::lexer::is_whitespace(buf[*i - 1]) {
            *i -= 1;
        }
    };
    let digits_back = |i: &mut usize| -> Option<(usize, usize)> {
        let end = *i;
        while *i > 0 && buf[*i - 1].is_ascii_digit() && end - *i < 10 {
            *i -= 1;
        }
        (end > *i).then_some((*i, end))
    };
    skip_ws_back(&mut i);
    let (gs, ge) = digits_back(&mut i)?;
    if i == gs && i == at {
        return None;
    }
    skip_ws_back(&mut i);
    let (ns, ne) = digits_back(&mut i)?;
    if ns > 0
        && !(super::lexer::is_whitespace(buf[ns - 1]) || super::lexer::is_delimiter(buf[ns - 1]))
    {
        return None;
    }
    let num = super::lexer::parse_u64(&buf[ns..ne]).and_then(|n| u32::try_from(n).ok())?;
    let gen = super::lexer::parse_u64(&buf[gs..ge]).and_then(|n| u16::try_from(n).ok())?;
    Some((ns, num, gen))
}

pub(crate) fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    let first = needle[0];
    let mut i = 0;
    while i + needle.len() <= hay.len() {
        match hay[i..hay.len() - needle.len() + 1]
            .iter()
            .position(|&b| b == first)
        {
            None => return None,
            Some(k) => {
                i += k;
                if &hay[i..i + needle.len()] == needle {
                    return Some(i);
                }
                i += 1;
            }
        }
    }
    None
}

pub(crate) fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    (0..=hay.len() - needle.len())
        .rev()
        .find(|&i| &hay[i..i + needle.len()] == needle)
}
