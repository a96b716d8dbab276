//! Simulator of the user's phone app: holds the device key, shows sign actions, asks for the icon
//! and the personal code.
#![forbid(unsafe_code)]
