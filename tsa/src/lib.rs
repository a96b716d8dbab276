//! RFC 3161 time-stamp authority: request/response handling, token issue, a durable token
//! log, the HTTP server, and a client that checks every reply.
//!
//! * [`request`]: parse and validate a `TimeStampReq` into a [`request::ValidRequest`] or a
//!   typed [`request::Rejection`] carrying its `PKIFailureInfo`.
//! * [`issue`]: build `TSTInfo` and the CMS `SignedData` token (RFC 3161, RFC 5816
//!   signing-certificate-v2).
//! * [`response`]: `TimeStampResp` / `PKIStatusInfo` encoding and decoding.
//! * [`serial`] and [`store`]: serial numbers unique forever; the append-only SQLite log
//!   written by a group-commit thread before any reply leaves.
//! * [`authority`]: request in, reply out, as plain Rust.
//! * [`server`]: the axum HTTP front; [`config`] and [`dev_chain`]: start-up.
//! * [`client`]: asks a TSA for a token and checks the reply before anyone uses it.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod authority;
pub mod client;
pub mod config;
mod der_write;
pub mod dev_chain;
pub mod issue;
pub mod request;
pub mod response;
pub mod serial;
pub mod server;
pub mod store;
