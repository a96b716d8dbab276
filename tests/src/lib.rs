//! Harness for the end-to-end and interoperability tests: installs nothing by itself (the test
//! command does), finds the independent validators, builds a test PKI and drives the binaries.
#![forbid(unsafe_code)]
