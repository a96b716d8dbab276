//! The signing service: partner API, app API, sign actions, enrollment, CA, storage, PAdES
//! assembly.
//!
//! * Plain-Rust rules: [`domain`] (action states, icons, enrollment codes, persons).
//! * Operations, each testable without a server: [`documents`] (upload), [`actions`]
//!   (create, status, app list, confirm, refuse, expiry), [`enrollment`], [`finalize`]
//!   (signed PDFs, retried), [`webhook`], [`device_auth`], [`admin`].
//! * Ports and their defaults: [`store`] (SQLite, files by digest), [`sms`] (file outbox),
//!   [`clock`], [`timestamping`] (embedded or external TSA), [`ca`].
//! * [`http`]: the axum front ([`http::app`]); [`server`]: serve and background loops;
//!   [`demo`]: the end-to-end demonstration.
//! * [`pades`]: PAdES signatures with a device-held key.
#![forbid(unsafe_code)]

pub mod actions;
pub mod admin;
pub mod ca;
pub mod clock;
pub mod config;
pub mod demo;
pub mod device_auth;
pub mod documents;
pub mod domain;
pub mod enrollment;
pub mod error;
pub mod finalize;
pub mod http;
pub mod ids;
pub mod pades;
pub mod server;
pub mod service;
pub mod sms;
pub mod store;
pub mod timestamping;
pub mod webhook;
