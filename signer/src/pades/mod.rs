//! PAdES signatures with a key held elsewhere (ETSI EN 319 142-1 baseline B-B and B-T).
//!
//! The device holds the key, so signing is two calls with storable state between them:
//!
//! 1. [`prepare`] writes an incremental update to the PDF (the original bytes are never
//!    rewritten) with a signature field, a signature dictionary (`/SubFilter
//!    /ETSI.CAdES.detached`) and a `/Contents` placeholder sized from the real certificate
//!    chain; it hashes the byte ranges as a stream and builds the CMS signed attributes
//!    (content-type, message-digest, ESS signing-certificate-v2; no signing-time). The
//!    [`Prepared`] it returns exposes [`Prepared::signed_attributes`], what the device
//!    signs, and serialises to JSON for the wait.
//! 2. [`finalize`] checks the returned signature value against the signer certificate,
//!    assembles `SignerInfo` and a detached `SignedData` with the certificates, adds the
//!    signature time-stamp for B-T (through a [`Timestamper`]), and streams the signed PDF:
//!    the original followed by the update with the CMS in `/Contents`.
//!
//! Memory does not grow with the document: only the trailer, cross-reference sections,
//! catalog, form fields and the page that gets the widget are parsed, and the document is
//! read in fixed-size chunks.
//!
//! ```no_run
//! # fn device_sign(_: &[u8]) -> Vec<u8> { unimplemented!() }
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use formats::pdf::FileSource;
//! use signer::pades::{finalize, prepare, Prepared, SignOptions};
//!
//! let chain: Vec<Vec<u8>> = vec![/* signer certificate DER, then its CA */];
//! let options = SignOptions::new(time::OffsetDateTime::now_utc());
//! let prepared = prepare(FileSource::open("contract.pdf")?, &chain, &options)?;
//! let stored = prepared.to_json();
//! // ... the device signs prepared.signed_attributes() ...
//! let prepared = Prepared::from_json(&stored)?;
//! let signature = device_sign(prepared.signed_attributes());
//! let mut out = std::fs::File::create("contract-signed.pdf")?;
//! finalize(&prepared, FileSource::open("contract.pdf")?, &signature, &chain, None, &mut out)?;
//! # Ok(()) }
//! ```

mod appearance;
mod docmdp;
mod error;
mod fields;
mod finalize;
mod options;
mod page_tree;
mod prepare;
mod prepared;
mod signed_data;
mod stream;
mod timestamp;

pub use error::PadesError;
pub use finalize::{finalize, signature_container, verify_document, write_signed};
pub use options::{
    Appearance, Level, Rect, SignOptions, SignatureAlgorithm, DEFAULT_TIMESTAMP_SIZE,
};
pub use prepare::prepare;
pub use prepared::Prepared;
pub use signed_data::signed_attributes;
pub use timestamp::{TimestampError, Timestamper};
