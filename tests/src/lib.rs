//! Harness for the end-to-end and interoperability tests: installs nothing by itself (the test
//! command `scripts/test.sh` does), finds the independent validators, builds a test PKI and
//! sample documents, signs test cases with pyHanko and drives the binaries.
#![forbid(unsafe_code)]

pub mod pki;
pub mod tools;
