//! Shared format code for the signature service, the TSA and the verifier.
//!
//! * [`pdf`]: a streaming PDF reader (trailer, cross-reference tables and streams, object
//!   streams, revisions) that reads only the objects asked for, and the incremental writer.
//! * [`cms`]: CMS (RFC 5652) helpers, CAdES/ESS attributes (RFC 5035), signature
//!   verification primitives shared by every check that looks at a SignerInfo.
//! * [`tsp`]: RFC 3161 time-stamp tokens (signature and document time-stamps, TSA replies).
//! * [`oids`]: object identifiers used across the workspace.
//! * [`x509`]: certificates, path building and validation, CRL and OCSP revocation checks.
//!
//! This crate does no network I/O; file access goes through the caller's byte source.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod cms;
pub mod crypto;
pub mod oids;
pub mod pdf;
pub mod pki;
pub mod tsp;
pub mod x509;
