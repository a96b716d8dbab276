//! The signing service: partner API, app API, sign actions, CA, storage, PAdES assembly.
#![forbid(unsafe_code)]

pub mod pades;
