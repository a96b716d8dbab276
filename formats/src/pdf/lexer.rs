//! Tokenising and parsing PDF objects from a byte window (ISO 32000-2 §7.2–7.3).
//!
//! Written by hand rather than taken from `lopdf`: the reader parses single objects out of
//! small windows of a file it never loads whole, and must tell "the window ended" (read more)
//! from "the bytes are wrong" (report), with positions, bounded depth and no panics.

use super::object::{Dict, ObjRef, Object};

/// Deepest nesting of arrays and dictionaries accepted.
pub const MAX_DEPTH: usize = 64;

/// Why parsing stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LexError {
    /// The window ended before the object did (the caller may retry with more bytes).
    Eof,
    /// The bytes are not valid PDF syntax at `pos` (relative to the window).
    Syntax {
        /// Offset in the window.
        pos: usize,
        /// What was expected or found.
        what: String,
    },
}

pub(crate) fn is_whitespace(b: u8) -> bool {
    matches!(b, 0 | 9 | 10 | 12 | 13 | 32)
}

pub(crate) fn is_delimiter(b: u8) -> bool {
    matches!(
        b,
        b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%'
    )
}

fn is_regular(b: u8) -> bool {
    !is_whitespace(b) && !is_delimiter(b)
}

/// A cursor over a window of bytes.
pub struct Lexer<'a> {
    buf: &'a [u8],
    pos: usize,
    /// True when `buf` ends at the end of the file (so running out is a syntax error, not a
    /// reason to read more).
    at_file_end: bool,
}

/// What `parse_indirect` found at an object's offset.
#[derive(Debug)]
pub struct IndirectHead {
    /// `num gen` of the `obj` header.
    pub id: ObjRef,
    /// The object (for a stream: its dictionary, as `Object::Dict`).
    pub object: Object,
    /// For a stream: offset in the window of the first data byte.
    pub stream_data_pos: Option<usize>,
}

impl<'a> Lexer<'a> {
    /// A lexer over `buf`; `at_file_end` says whether the window reaches the end of file.
    pub fn new(buf: &'a [u8], at_file_end: bool) -> Self {
        Self {
            buf,
            pos: 0,
            at_file_end,
        }
    }

    /// Current offset in the window.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Moves to `pos`.
    pub fn seek(&mut self, pos: usize) {
        self.pos = pos.min(self.buf.len());
    }

    fn eof(&self) -> LexError {
        if self.at_file_end {
            LexError::Syntax {
                pos: self.pos,
                what: "unexpected end of file".into(),
            }
        } else {
            LexError::Eof
        }
    }

    fn syntax(&self, what: impl Into<String>) -> LexError {
        LexError::Syntax {
            pos: self.pos,
            what: what.into(),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    /// Skips whitespace and comments.
    pub fn skip_ws(&mut self) {
        while let Some(b) = self.peek() {
            if is_whitespace(b) {
                self.pos += 1;
            } else if b == b'%' {
                while let Some(c) = self.peek() {
                    if c == b'\r' || c == b'\n' {
                        break;
                    }
                    self.pos += 1;
                }
            } else {
                break;
            }
        }
    }

    /// Reads a run of regular characters (a keyword or number), without skipping whitespace.
    fn regular_run(&mut self) -> &'a [u8] {
        let start = self.pos;
        while let Some(b) = self.peek() {
            if !is_regular(b) {
                break;
            }
            self.pos += 1;
        }
        &self.buf[start..self.pos]
    }

    /// Whether the next token is the keyword `kw` (consumes it when so).
    pub fn eat_keyword(&mut self, kw: &[u8]) -> bool {
        self.skip_ws();
        let save = self.pos;
        let run = self.regular_run();
        if run == kw {
            true
        } else {
            self.pos = save;
            false
        }
    }

    /// Reads an unsigned integer token.
    pub fn read_uint(&mut self) -> Result<u64, LexError> {
        self.skip_ws();
        let start = self.pos;
        let run = self.regular_run();
        if run.is_empty() {
            return if self.peek().is_none() {
                Err(self.eof())
            } else {
                Err(LexError::Syntax {
                    pos: start,
                    what: "expected an integer".into(),
                })
            };
        }
        if self.peek().is_none() && !self.at_file_end {
            return Err(LexError::Eof);
        }
        parse_u64(run).ok_or(LexError::Syntax {
            pos: start,
            what: format!("expected an integer, found {:?}", lossy(run)),
        })
    }

    /// Parses `num gen obj <object>` and, for a stream, locates its data.
    pub fn parse_indirect(&mut self) -> Result<IndirectHead, LexError> {
        let num = self.read_uint()?;
        let gen = self.read_uint()?;
        if !self.eat_keyword(b"obj") {
            return Err(if self.pos >= self.buf.len() {
                self.eof()
            } else {
                self.syntax("expected 'obj'")
            });
        }
        let id = ObjRef::new(
            u32::try_from(num).map_err(|_| self.syntax("object number too large"))?,
            u16::try_from(gen).map_err(|_| self.syntax("generation number too large"))?,
        );
        let object = self.parse_object(0)?;
        self.skip_ws();
        let save = self.pos;
        let run = self.regular_run();
        if run == b"stream" {
            if !matches!(object, Object::Dict(_)) {
                return Err(self.syntax("'stream' after a non-dictionary"));
            }
            // ISO 32000-2 §7.3.8.1: the keyword is followed by CRLF or LF (some writers use CR)
            match self.peek() {
                Some(b'\r') => {
                    self.pos += 1;
                    if self.peek() == Some(b'\n') {
                        self.pos += 1;
                    } else if self.peek().is_none() && !self.at_file_end {
                        return Err(LexError::Eof);
                    }
                }
                Some(b'\n') => self.pos += 1,
                Some(_) => {}
                None => return Err(self.eof()),
            }
            return Ok(IndirectHead {
                id,
                object,
                stream_data_pos: Some(self.pos),
            });
        }
        if run.is_empty() && self.peek().is_none() && !self.at_file_end {
            return Err(LexError::Eof);
        }
        self.pos = save;
        Ok(IndirectHead {
            id,
            object,
            stream_data_pos: None,
        })
    }

    /// Parses one direct object (references `n g R` included).
    pub fn parse_object(&mut self, depth: usize) -> Result<Object, LexError> {
        if depth > MAX_DEPTH {
            return Err(self.syntax("objects nested too deeply"));
        }
        self.skip_ws();
        let Some(b) = self.peek() else {
            return Err(self.eof());
        };
        match b {
            b'/' => {
                self.pos += 1;
                Ok(Object::Name(self.read_name_body()?))
            }
            b'(' => {
                self.pos += 1;
                Ok(Object::String {
                    bytes: self.read_literal_string()?,
                    hex: false,
                })
            }
            b'<' => {
                if self.buf.get(self.pos + 1) == Some(&b'<') {
                    self.pos += 2;
                    Ok(Object::Dict(self.read_dict_body(depth)?))
                } else if self.pos + 1 >= self.buf.len() {
                    Err(self.eof())
                } else {
                    self.pos += 1;
                    Ok(Object::String {
                        bytes: self.read_hex_string()?,
                        hex: true,
                    })
                }
            }
            b'[' => {
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    self.skip_ws();
                    match self.peek() {
                        None => return Err(self.eof()),
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(Object::Array(items));
                        }
                        Some(_) => items.push(self.parse_object(depth + 1)?),
                    }
                }
            }
            b'+' | b'-' | b'.' | b'0'..=b'9' => self.read_number_or_ref(),
            _ if is_regular(b) => {
                let start = self.pos;
                let run = self.regular_run();
                if self.peek().is_none() && !self.at_file_end {
                    return Err(LexError::Eof);
                }
                match run {
                    b"true" => Ok(Object::Bool(true)),
                    b"false" => Ok(Object::Bool(false)),
                    b"null" => Ok(Object::Null),
                    other => Err(LexError::Syntax {
                        pos: start,
                        what: format!("unexpected keyword {:?}", lossy(other)),
                    }),
                }
            }
            other => Err(self.syntax(format!("unexpected character {:?}", char::from(other)))),
        }
    }

    fn read_dict_body(&mut self, depth: usize) -> Result<Dict, LexError> {
        let mut dict = Dict::new();
        loop {
            self.skip_ws();
            match self.peek() {
                None => return Err(self.eof()),
                Some(b'>') => {
                    if self.buf.get(self.pos + 1) == Some(&b'>') {
                        self.pos += 2;
                        return Ok(dict);
                    }
                    if self.pos + 1 >= self.buf.len() {
                        return Err(self.eof());
                    }
                    return Err(self.syntax("expected '>>'"));
                }
                Some(b'/') => {
                    self.pos += 1;
                    let key = self.read_name_body()?;
                    self.skip_ws();
                    // A key directly followed by the end of the dictionary has no value; treat as null.
                    if self.peek() == Some(b'>') && self.buf.get(self.pos + 1) == Some(&b'>') {
                        dict.0.push((key, Object::Null));
                        continue;
                    }
                    let value = self.parse_object(depth + 1)?;
                    dict.0.push((key, value));
                }
                Some(_) => return Err(self.syntax("expected a name as dictionary key")),
            }
        }
    }

    fn read_name_body(&mut self) -> Result<Vec<u8>, LexError> {
        let mut out = Vec::new();
        while let Some(b) = self.peek() {
            if !is_regular(b) {
                break;
            }
            if b == b'#' {
                let h = self.buf.get(self.pos + 1..self.pos + 3);
                match h.and_then(|h| hex_pair(h[0], h[1])) {
                    Some(v) => {
                        out.push(v);
                        self.pos += 3;
                        continue;
                    }
                    None => {
                        if self.pos + 3 > self.buf.len() && !self.at_file_end {
                            return Err(LexError::Eof);
                        }
                        out.push(b'#');
                        self.pos += 1;
                        continue;
                    }
                }
            }
            out.push(b);
            self.pos += 1;
        }
        if self.peek().is_none() && !self.at_file_end {
            return Err(LexError::Eof);
        }
        Ok(out)
    }

    fn read_literal_string(&mut self) -> Result<Vec<u8>, LexError> {
        let mut out = Vec::new();
        let mut nest = 1usize;
        loop {
            let Some(b) = self.peek() else {
                return Err(self.eof());
            };
            self.pos += 1;
            match b {
                b'(' => {
                    nest += 1;
                    out.push(b);
                }
                b')' => {
                    nest -= 1;
                    if nest == 0 {
                        return Ok(out);
                    }
                    out.push(b);
                }
                b'\\' => {
                    let Some(e) = self.peek() else {
                        return Err(self.eof());
                    };
                    self.pos += 1;
                    match e {
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'\r' => {
                            if self.peek() == Some(b'\n') {
                                self.pos += 1;
                            }
                        }
                        b'\n' => {}
                        b'0'..=b'7' => {
                            let mut v = u32::from(e - b'0');
                            for _ in 0..2 {
                                match self.peek() {
                                    Some(d @ b'0'..=b'7') => {
                                        v = v * 8 + u32::from(d - b'0');
                                        self.pos += 1;
                                    }
                                    _ => break,
                                }
                            }
                            out.push((v & 0xFF) as u8);
                        }
                        other => out.push(other),
                    }
                }
                _ => out.push(b),
            }
        }
    }

    fn read_hex_string(&mut self) -> Result<Vec<u8>, LexError> {
        let mut out = Vec::new();
        let mut high: Option<u8> = None;
        loop {
            let Some(b) = self.peek() else {
                return Err(self.eof());
            };
            self.pos += 1;
            if b == b'>' {
                if let Some(h) = high {
                    out.push(h << 4);
                }
                return Ok(out);
            }
            if is_whitespace(b) {
                continue;
            }
            let Some(v) = hex_val(b) else {
                return Err(self.syntax("invalid character in hexadecimal string"));
            };
            match high.take() {
                Some(h) => out.push((h << 4) | v),
                None => high = Some(v),
            }
        }
    }

    fn read_number_or_ref(&mut self) -> Result<Object, LexError> {
        let start = self.pos;
        let run = self.regular_run();
        if self.peek().is_none() && !self.at_file_end {
            return Err(LexError::Eof);
        }
        let is_int = !run.is_empty()
            && run
                .iter()
                .enumerate()
                .all(|(i, &c)| c.is_ascii_digit() || (i == 0 && (c == b'+' || c == b'-')))
            && run.iter().any(u8::is_ascii_digit);
        if !is_int {
            return parse_real(run).map(Object::Real).ok_or(LexError::Syntax {
                pos: start,
                what: format!("malformed number {:?}", lossy(run)),
            });
        }
        let Some(value) = parse_i64(run) else {
            // Integers beyond i64: keep as real, as readers do.
            return parse_real(run).map(Object::Real).ok_or(LexError::Syntax {
                pos: start,
                what: "malformed number".into(),
            });
        };
        // `num gen R`?
        if value >= 0 && run[0] != b'+' {
            let save = self.pos;
            self.skip_ws();
            let gen_start = self.pos;
            let gen_run = self.regular_run();
            if self.peek().is_none() && !self.at_file_end && !gen_run.is_empty() {
                return Err(LexError::Eof);
            }
            if !gen_run.is_empty() && gen_run.iter().all(u8::is_ascii_digit) {
                self.skip_ws();
                if self.peek().is_none() && !self.at_file_end {
                    return Err(LexError::Eof);
                }
                if self.peek() == Some(b'R')
                    && self.buf.get(self.pos + 1).is_none_or(|&c| !is_regular(c))
                {
                    if self.pos + 1 >= self.buf.len() && !self.at_file_end {
                        return Err(LexError::Eof);
                    }
                    self.pos += 1;
                    let num = u32::try_from(value);
                    let gen = parse_u64(gen_run).and_then(|g| u16::try_from(g).ok());
                    if let (Ok(num), Some(gen)) = (num, gen) {
                        return Ok(Object::Ref(ObjRef::new(num, gen)));
                    }
                    return Err(LexError::Syntax {
                        pos: gen_start,
                        what: "reference number out of range".into(),
                    });
                }
            }
            self.pos = save;
        }
        Ok(Object::Int(value))
    }
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn hex_pair(a: u8, b: u8) -> Option<u8> {
    Some((hex_val(a)? << 4) | hex_val(b)?)
}

pub(crate) fn parse_u64(run: &[u8]) -> Option<u64> {
    if run.is_empty() || run.len() > 19 || !run.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(run).ok()?.parse().ok()
}

fn parse_i64(run: &[u8]) -> Option<i64> {
    std::str::from_utf8(run).ok()?.parse().ok()
}

fn parse_real(run: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(run).ok()?;
    // PDF reals: [+-]digits[.digits] with no exponent; tolerate "-.5", "5.", and "--5" (seen).
    let s = s.trim_start_matches("--");
    let s = if s == "-" || s == "." || s.is_empty() {
        return None;
    } else {
        s
    };
    if !s
        .bytes()
        .enumerate()
        .all(|(i, c)| c.is_ascii_digit() || c == b'.' || (i == 0 && (c == b'-' || c == b'+')))
    {
        return None;
    }
    let v: f64 = s.parse().ok().or_else(|| format!("{s}0").parse().ok())?;
    v.is_finite().then_some(v)
}

pub(crate) fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(&b[..b.len().min(40)]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Object, LexError> {
        Lexer::new(s.as_bytes(), true).parse_object(0)
    }

    #[test]
    fn parses_basic_objects() {
        assert_eq!(parse("42"), Ok(Object::Int(42)));
        assert_eq!(parse("-3.5"), Ok(Object::Real(-3.5)));
        assert_eq!(parse(".5"), Ok(Object::Real(0.5)));
        assert_eq!(parse("/A#20B"), Ok(Object::Name(b"A B".to_vec())));
        assert_eq!(parse("12 0 R"), Ok(Object::Ref(ObjRef::new(12, 0))));
        assert_eq!(
            parse("[1 2 R 3]"),
            Ok(Object::Array(vec![
                Object::Ref(ObjRef::new(1, 2)),
                Object::Int(3)
            ]))
        );
        assert_eq!(
            parse("(a\\(b\\)\\101(c))"),
            Ok(Object::String {
                bytes: b"a(b)A(c)".to_vec(),
                hex: false
            })
        );
        assert_eq!(
            parse("<48 65 6c6C6>"),
            Ok(Object::String {
                bytes: vec![0x48, 0x65, 0x6c, 0x6c, 0x60],
                hex: true
            })
        );
        let d = parse("<</Type/Sig/V 1 0 R/Empty>>").unwrap();
        let d = d.as_dict().unwrap();
        assert_eq!(d.get_name("Type"), Some(&b"Sig"[..]));
        assert_eq!(d.get("V"), Some(&Object::Ref(ObjRef::new(1, 0))));
        assert_eq!(d.get("Empty"), Some(&Object::Null));
    }

    #[test]
    fn window_end_is_eof_not_error() {
        let mut l = Lexer::new(b"<</A [1 2", false);
        assert_eq!(l.parse_object(0), Err(LexError::Eof));
        let mut l = Lexer::new(b"12 0", false);
        assert_eq!(l.parse_object(0), Err(LexError::Eof));
        let mut l = Lexer::new(b"<</A [1 2", true);
        assert!(matches!(l.parse_object(0), Err(LexError::Syntax { .. })));
    }

    #[test]
    fn indirect_stream_head() {
        let src = b"7 0 obj\n<</Length 3>>\nstream\r\nabc\nendstream\nendobj";
        let mut l = Lexer::new(src, true);
        let head = l.parse_indirect().unwrap();
        assert_eq!(head.id, ObjRef::new(7, 0));
        let pos = head.stream_data_pos.unwrap();
        assert_eq!(&src[pos..pos + 3], b"abc");
    }

    #[test]
    fn deep_nesting_is_refused() {
        let s = "[".repeat(500);
        assert!(matches!(parse(&s), Err(LexError::Syntax { .. })));
    }

    #[test]
    fn garbage_never_panics() {
        for s in [
            "",
            ")",
            ">>",
            "<",
            "<<",
            "/",
            "(",
            "\\",
            "1 0",
            "1 0 R",
            "-",
            "+",
            ".",
            "#",
            "<zz>",
            "<</A>>",
            "99999999999999999999999 0 R",
            "1 99999999 R",
        ] {
            let _ = parse(s);
            let _ = Lexer::new(s.as_bytes(), false).parse_indirect();
            let _ = Lexer::new(s.as_bytes(), true).parse_indirect();
        }
    }
}
