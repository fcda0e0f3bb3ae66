//! The file-level verdict: a schema-relevant model edit in an environment
//! whose migrations gain no revision in the same change.

use std::collections::{BTreeMap, BTreeSet};

use crate::findings::{Finding, code};
use crate::models::FileEdits;

/// One changed model file and the environments it belongs to.
#[derive(Debug, Clone)]
pub struct ModelChange {
    pub path: String,
    pub edits: FileEdits,
    pub environments: Vec<String>,
}

/// How to name an environment's migrations in messages and help.
#[derive(Debug, Clone, Default)]
pub struct EnvHelp {
    /// `migrations/versions`
    pub versions: String,
    /// `alembic revision --autogenerate -m "..."`, with `-c`/`-n` as needed.
    pub generate: String,
}

const SHOWN_EDITS: usize = 3;

pub fn describe_edits(edits: &FileEdits) -> String {
    let mut parts: Vec<String> = Vec::new();
    for e in &edits.edits {
        let text = if e.table.is_some() {
            e.to_string()
        } else {
            format!("{} (line {})", e.kind.phrase(), e.line)
        };
        if !parts.contains(&text) {
            parts.push(text);
        }
    }
    let total = parts.len();
    parts.truncate(SHOWN_EDITS);
    let mut out = parts.join(", ");
    if total > SHOWN_EDITS {
        out.push_str(&format!(" and {} more", total - SHOWN_EDITS));
    }
    out
}

/// One `missing-migration` error per model file with schema edits whose
/// environments gained no revision. A file shared by several environments
/// (one ini, several sections) is satisfied by a revision in any of them.
pub fn missing_migrations(
    changes: &[ModelChange],
    gained: &BTreeSet<String>,
    help: &BTreeMap<String, EnvHelp>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for change in changes {
        if !change.edits.is_relevant() || change.environments.is_empty() {
            continue;
        }
        if change.environments.iter().any(|e| gained.contains(e)) {
            continue;
        }
        let env = &change.environments[0];
        let h = help.get(env).cloned().unwrap_or_default();
        let message = format!(
            "the schema changes ({}) but no new revision in {} comes with it",
            describe_edits(&change.edits),
            if h.versions.is_empty() {
                "the migrations folder".to_string()
            } else {
                format!("`{}`", h.versions)
            },
        );
        let mut finding = Finding::error(code::MISSING_MIGRATION, message)
            .at(change.path.clone(), change.edits.first_line())
            .in_env(env.clone())
            .with_help(format!(
                "generate the migration and commit it with this change: `{}`; review what it generated. If the edit really needs no migration, add `# alembot: ignore` to the line",
                h.generate
            ));
        if let Some(first) = change
            .edits
            .edits
            .iter()
            .find(|e| e.line == change.edits.first_line().unwrap_or(0))
        {
            if let Some(t) = &first.table {
                finding = finding.with_table(t.clone());
            }
            if let Some(c) = &first.column {
                finding = finding.with_column(c.clone());
            }
        }
        out.push(finding);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::diff_models;

    fn change(envs: &[&str]) -> ModelChange {
        ModelChange {
            path: "app/models.py".into(),
            edits: diff_models(
                "app/models.py",
                Some(
                    "class P(Base):\n    __tablename__ = 'post'\n    id = Column(Integer, primary_key=True)\n",
                ),
                Some(
                    "class P(Base):\n    __tablename__ = 'post'\n    id = Column(Integer, primary_key=True)\n    subtitle = Column(String(200))\n",
                ),
            ),
            environments: envs.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn help() -> BTreeMap<String, EnvHelp> {
        BTreeMap::from([(
            "main".to_string(),
            EnvHelp {
                versions: "migrations/versions".into(),
                generate: "alembic revision --autogenerate -m \"describe the change\"".into(),
            },
        )])
    }

    #[test]
    fn edit_without_revision_is_an_error_at_the_first_line() {
        let f = missing_migrations(&[change(&["main"])], &BTreeSet::new(), &help());
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].code, "missing-migration");
        assert_eq!(f[0].line, Some(4));
        assert_eq!(f[0].table.as_deref(), Some("post"));
        assert!(
            f[0].message.contains("post.subtitle added"),
            "{}",
            f[0].message
        );
        assert!(
            f[0].message.contains("`migrations/versions`"),
            "{}",
            f[0].message
        );
        assert!(
            f[0].help
                .as_deref()
                .unwrap()
                .contains("alembic revision --autogenerate")
        );
    }

    #[test]
    fn a_revision_in_the_environment_satisfies_it() {
        let gained = BTreeSet::from(["main".to_string()]);
        assert!(missing_migrations(&[change(&["main"])], &gained, &help()).is_empty());
    }

    #[test]
    fn a_revision_in_another_environment_does_not() {
        let gained = BTreeSet::from(["other".to_string()]);
        assert_eq!(
            missing_migrations(&[change(&["main"])], &gained, &help()).len(),
            1
        );
    }

    #[test]
    fn shared_file_is_satisfied_by_any_of_its_environments() {
        let gained = BTreeSet::from(["analytics".to_string()]);
        assert!(missing_migrations(&[change(&["main", "analytics"])], &gained, &help()).is_empty());
    }
}
