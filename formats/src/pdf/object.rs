//! The PDF object model (ISO 32000-2 §7.3): what the reader returns and the writer writes.

use std::fmt;

/// An indirect reference `num gen R` (ISO 32000-2 §7.3.10).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjRef {
    /// Object number.
    pub num: u32,
    /// Generation number.
    pub gen: u16,
}

impl ObjRef {
    /// `num gen R`.
    pub fn new(num: u32, gen: u16) -> Self {
        Self { num, gen }
    }
}

impl fmt::Display for ObjRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} R", self.num, self.gen)
    }
}

/// Where a stream's bytes are: left in the file (large streams are never loaded unless asked)
/// or already in memory (streams inside object streams do not exist; this is for decoded or
/// newly written data).
#[derive(Clone, Debug, PartialEq)]
pub enum StreamData {
    /// `len` raw (still encoded) bytes at absolute file offset `offset`.
    InFile {
        /// Absolute offset of the first data byte (after `stream` and its EOL).
        offset: u64,
        /// Number of raw bytes.
        len: u64,
    },
    /// Raw (still encoded) bytes held in memory.
    Inline(Vec<u8>),
}

/// A stream object: its dictionary and where its raw data lies.
#[derive(Clone, Debug, PartialEq)]
pub struct Stream {
    /// The stream dictionary.
    pub dict: Dict,
    /// The raw data.
    pub data: StreamData,
}

/// A PDF dictionary; keys keep their file order (so re-serialisation is stable).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Dict(pub Vec<(Vec<u8>, Object)>);

impl Dict {
    /// An empty dictionary.
    pub fn new() -> Self {
        Self(Vec::new())
    }

    /// The value of key `name` (without the slash), if present. The last duplicate wins, as
    /// in most readers.
    pub fn get(&self, name: &str) -> Option<&Object> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k.as_slice() == name.as_bytes())
            .map(|(_, v)| v)
    }

    /// Whether the key is present.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Sets `name` to `value`, replacing an existing entry in place.
    pub fn set(&mut self, name: &str, value: Object) {
        if let Some(slot) = self
            .0
            .iter_mut()
            .rev()
            .find(|(k, _)| k.as_slice() == name.as_bytes())
        {
            slot.1 = value;
        } else {
            self.0.push((name.as_bytes().to_vec(), value));
        }
    }

    /// Removes `name`.
    pub fn remove(&mut self, name: &str) {
        self.0.retain(|(k, _)| k.as_slice() != name.as_bytes());
    }

    /// The value of `name` if it is a name object.
    pub fn get_name(&self, name: &str) -> Option<&[u8]> {
        self.get(name).and_then(Object::as_name)
    }

    /// The value of `name` if it is an integer.
    pub fn get_int(&self, name: &str) -> Option<i64> {
        self.get(name).and_then(Object::as_int)
    }

    /// Iterates over entries in file order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &Object)> {
        self.0.iter().map(|(k, v)| (k.as_slice(), v))
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the dictionary is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A PDF object.
#[derive(Clone, Debug, PartialEq)]
pub enum Object {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A real number.
    Real(f64),
    /// A string; `hex` records whether it was written `<...>` (for faithful re-writing).
    String {
        /// Decoded bytes.
        bytes: Vec<u8>,
        /// Written as a hexadecimal string.
        hex: bool,
    },
    /// A name, without the slash, `#xx` escapes decoded.
    Name(Vec<u8>),
    /// An array.
    Array(Vec<Object>),
    /// A dictionary.
    Dict(Dict),
    /// A stream.
    Stream(Stream),
    /// An indirect reference.
    Ref(ObjRef),
}

impl Object {
    /// A name object from text.
    pub fn name(s: &str) -> Self {
        Object::Name(s.as_bytes().to_vec())
    }

    /// A literal string object from bytes.
    pub fn string(b: impl Into<Vec<u8>>) -> Self {
        Object::String {
            bytes: b.into(),
            hex: false,
        }
    }

    /// The name, if this is one.
    pub fn as_name(&self) -> Option<&[u8]> {
        match self {
            Object::Name(n) => Some(n),
            _ => None,
        }
    }

    /// The integer, if this is one.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Object::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// A number (integer or real) as `f64`.
    pub fn as_number(&self) -> Option<f64> {
        match self {
            Object::Int(i) => Some(*i as f64),
            Object::Real(r) => Some(*r),
            _ => None,
        }
    }

    /// The string bytes, if this is a string.
    pub fn as_string(&self) -> Option<&[u8]> {
        match self {
            Object::String { bytes, .. } => Some(bytes),
            _ => None,
        }
    }

    /// The array, if this is one.
    pub fn as_array(&self) -> Option<&[Object]> {
        match self {
            Object::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The dictionary of a dictionary or of a stream.
    pub fn as_dict(&self) -> Option<&Dict> {
        match self {
            Object::Dict(d) => Some(d),
            Object::Stream(s) => Some(&s.dict),
            _ => None,
        }
    }

    /// The stream, if this is one.
    pub fn as_stream(&self) -> Option<&Stream> {
        match self {
            Object::Stream(s) => Some(s),
            _ => None,
        }
    }

    /// The reference, if this is one.
    pub fn as_ref(&self) -> Option<ObjRef> {
        match self {
            Object::Ref(r) => Some(*r),
            _ => None,
        }
    }

    /// A short type name for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Object::Null => "null",
            Object::Bool(_) => "boolean",
            Object::Int(_) => "integer",
            Object::Real(_) => "real",
            Object::String { .. } => "string",
            Object::Name(_) => "name",
            Object::Array(_) => "array",
            Object::Dict(_) => "dictionary",
            Object::Stream(_) => "stream",
            Object::Ref(_) => "reference",
        }
    }
}

/// Text of a PDF text string (PDFDocEncoding approximated as Latin-1, or UTF-16BE with BOM,
/// or UTF-8 with BOM), for display.
pub fn decode_text_string(bytes: &[u8]) -> String {
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        return String::from_utf16_lossy(&units);
    }
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return String::from_utf8_lossy(rest).into_owned();
    }
    bytes.iter().map(|&b| char::from(b)).collect()
}
