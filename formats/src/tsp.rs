//! RFC 3161 time-stamp tokens.
