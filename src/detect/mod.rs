//! Pure rules over parsed data, one file per finding family.

pub mod migration_lint;
