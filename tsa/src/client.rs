//! Client: to be written.
