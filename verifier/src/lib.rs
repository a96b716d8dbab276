//! Validation of signed PDF documents: PAdES (ETSI EN 319 142-1), `adbe.pkcs7.detached` and
//! document timestamps, reported as ETSI EN 319 102-1 indications.
#![forbid(unsafe_code)]
