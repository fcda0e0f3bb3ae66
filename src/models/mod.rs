//! SQLAlchemy model files read statically: what they declare, and which
//! edits between two versions change the database schema.

mod diff;
pub mod extract;
pub mod types;

#[cfg(test)]
mod cases;

pub use diff::{FileEdits, diff_models};
