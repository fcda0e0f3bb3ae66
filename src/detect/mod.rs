//! Rules: pure functions from plain data to findings, one file per family.

pub mod crosscheck;
pub mod migration_lint;
pub mod missing_migration;
