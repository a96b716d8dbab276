//! The PDF side of validation: where signatures are, what they cover, what changed after.

pub mod byte_range;
pub mod modifications;
pub mod signatures;
