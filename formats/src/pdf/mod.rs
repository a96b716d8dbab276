//! PDF structure: objects, cross-reference sections, revisions, and reading them from a file
//! without loading it (ISO 32000-2 §7).
//!
//! The reader ([`PdfReader`]) parses only what it is asked for, so memory does not grow with
//! the document. It knows nothing about signatures; the verifier and the signer build on it.

mod filter;
mod lexer;
mod object;
mod reader;
mod source;
mod writer;

pub use filter::{decode as decode_filters, deflate, FilterError};
pub use lexer::{LexError, Lexer};
pub use object::{decode_text_string, Dict, ObjRef, Object, Stream, StreamData};
pub use reader::{PdfReader, ReaderOptions, Revision, XrefEntry};
pub use source::{FileSource, Source};
pub use writer::{IncrementalWriter, WrittenUpdate};

/// Why a PDF could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PdfError {
    /// The bytes do not start with a `%PDF-` header.
    #[error("not a PDF file (no %PDF- header in the first 1024 bytes)")]
    NotPdf,
    /// The file is encrypted; neither signing nor validation of encrypted PDFs is supported.
    #[error("the PDF is encrypted, which is not supported: remove the encryption (e.g. `qpdf --decrypt`) and try again")]
    Encrypted,
    /// The structure is damaged at `offset` and could not be repaired.
    #[error("damaged PDF at byte {offset}: {what}")]
    Damaged {
        /// Byte offset where the problem was found.
        offset: u64,
        /// What was wrong.
        what: String,
    },
    /// A stream or object exceeds a configured limit.
    #[error("{what} exceeds the limit of {limit} bytes")]
    TooLarge {
        /// What was too large.
        what: String,
        /// The limit.
        limit: usize,
    },
    /// A stream's filter failed.
    #[error("stream decoding failed: {0}")]
    Filter(#[from] FilterError),
    /// Reading the source failed.
    #[error("read error: {0}")]
    Io(String),
}

/// Serialises `obj` in PDF syntax (used by the incremental writer and to compare objects).
pub fn write_object(out: &mut Vec<u8>, obj: &Object) {
    match obj {
        Object::Null => out.extend_from_slice(b"null"),
        Object::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Object::Int(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Object::Real(r) => out.extend_from_slice(format_real(*r).as_bytes()),
        Object::String { bytes, hex } => {
            if *hex {
                out.push(b'<');
                out.extend_from_slice(hex::encode(bytes).as_bytes());
                out.push(b'>');
            } else {
                out.push(b'(');
                for &b in bytes {
                    match b {
                        b'(' | b')' | b'\\' => {
                            out.push(b'\\');
                            out.push(b);
                        }
                        b'\r' => out.extend_from_slice(b"\\r"),
                        b'\n' => out.extend_from_slice(b"\\n"),
                        _ => out.push(b),
                    }
                }
                out.push(b')');
            }
        }
        Object::Name(n) => write_name(out, n),
        Object::Array(a) => {
            out.push(b'[');
            for (i, o) in a.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                write_object(out, o);
            }
            out.push(b']');
        }
        Object::Dict(d) => write_dict(out, d),
        Object::Stream(s) => write_dict(out, &s.dict),
        Object::Ref(r) => out.extend_from_slice(format!("{} {} R", r.num, r.gen).as_bytes()),
    }
}

fn write_dict(out: &mut Vec<u8>, d: &Dict) {
    out.extend_from_slice(b"<<");
    for (k, v) in d.iter() {
        write_name(out, k);
        out.push(b' ');
        write_object(out, v);
    }
    out.extend_from_slice(b">>");
}

fn write_name(out: &mut Vec<u8>, n: &[u8]) {
    out.push(b'/');
    for &b in n {
        if b.is_ascii_graphic() && !lexer::is_delimiter(b) && b != b'#' {
            out.push(b);
        } else {
            out.extend_from_slice(format!("#{b:02X}").as_bytes());
        }
    }
}

fn format_real(r: f64) -> String {
    if r.fract() == 0.0 && r.abs() < 1e15 {
        return format!("{}", r as i64);
    }
    let s = format!("{r:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

#[cfg(test)]
mod tests;
