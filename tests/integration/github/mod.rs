//! The pull-request bot against a fake GitHub: through the library with
//! real octocrab, and end to end through the binary.

mod binary;
mod fake;
mod library;
mod payloads;
mod readme;
mod support;
