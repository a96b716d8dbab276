//! RFC 3161 time-stamp authority: request/response handling, token issue, a client that checks
//! every reply, and the HTTP server.
#![forbid(unsafe_code)]
