//! Alembic revision files and the revision graph, read statically: no
//! Python, no database, no I/O.

mod arguments;
pub mod graph;
pub mod operations;
pub mod revision;
pub mod sql;
pub mod types;
