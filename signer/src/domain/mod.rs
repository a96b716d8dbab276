//! The rules of the service as plain Rust, without HTTP or SQL: the life of a sign action,
//! the icons, enrollment codes, phone numbers.

pub mod actions;
pub mod enrollment;
pub mod icons;
pub mod person;
