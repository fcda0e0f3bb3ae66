//! `edited-migration`: the change modifies revision files that already
//! existed. Databases that ran the old version never run the new one.

use super::Code;
use crate::findings::Finding;

/// One warning per edited revision file.
pub fn edited_migration_findings(
    modified_paths: &[impl AsRef<str>],
    environment: &str,
) -> Vec<Finding> {
    modified_paths
        .iter()
        .map(|path| {
            let path = path.as_ref();
            Finding::warning(
                Code::EditedMigration,
                format!(
                    "{path} is an existing migration and this change edits it: databases that \
                     already ran it will not run it again, so they drift apart from new ones"
                ),
            )
            .at(path, None)
            .in_env(environment)
            .with_help(
                "Restore the file and put the change in a new revision \
                 (`alembic revision --autogenerate -m \"...\"`). Editing is only safe if this \
                 migration has never run against a shared database.",
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::Severity;
    use crate::rules::test_support::render;

    #[test]
    fn edited_migrations_are_warnings_per_file() {
        let findings = edited_migration_findings(
            &["migrations/versions/a.py", "migrations/versions/b.py"],
            "main",
        );
        assert_eq!(findings.len(), 2);
        assert!(findings.iter().all(|f| f.is(Code::EditedMigration)
            && f.severity == Severity::Warning
            && f.environment.as_deref() == Some("main")));
        assert_eq!(
            findings[1].file.as_deref(),
            Some("migrations/versions/b.py")
        );
        assert!(findings[0].message.contains("will not run it again"));
        assert!(edited_migration_findings(&[] as &[&str], "main").is_empty());
    }

    #[test]
    fn snapshot() {
        insta::assert_snapshot!(render(&edited_migration_findings(
            &["migrations/versions/a.py"],
            "main",
        )));
    }
}
