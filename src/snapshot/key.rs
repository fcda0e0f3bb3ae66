//! The key of a base snapshot: a hash of everything the base state is a
//! function of, as far as it is known before the project's Python runs.
//!
//! The base state is what `upgrade` to the base heads gives on an empty
//! database. It depends on the revision files the new side shares with the
//! base (an edited or deleted revision changes the set or a content id, so
//! such a change misses by construction), on env.py and the rest of the
//! migrations directory, on the ini (or pyproject.toml), on the project
//! modules the revision files import (an enum imported from the models),
//! on the environment's settings that shape the run (version table, setup
//! SQL), on the database provider and on alembot itself. The Python side
//! (SQLAlchemy, Alembic and driver versions, the dialect, the server
//! version) is recorded in the snapshot and compared by the helper before
//! it restores one: a different runtime is a miss too.

use std::collections::BTreeMap;

use serde::Serialize;
use sha2::{Digest, Sha256};

/// The key's inputs, collected from the change's new side.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct KeyInputs {
    /// alembot's version and the snapshot format.
    pub alembot: String,
    /// The provider's dialect family (`sqlite`, `postgresql`, `mysql`, or
    /// a docker image).
    pub provider: String,
    /// Environment settings that change what a migration run does.
    pub settings: BTreeMap<String, String>,
    /// Every file of the migrations directory and version locations except
    /// the revisions the change adds: path → git blob id.
    pub migration_files: BTreeMap<String, String>,
    /// The ini (or pyproject.toml) the environment is configured in.
    pub config_files: BTreeMap<String, String>,
    /// Project modules the revision files import: path → git blob id.
    pub imported_modules: BTreeMap<String, String>,
}

impl KeyInputs {
    /// The hex SHA-256 of a canonical encoding of the inputs.
    pub fn key(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(b"alembot snapshot key 1\n");
        // serde_json writes struct fields in order and BTreeMaps sorted:
        // the same inputs always give the same bytes.
        if let Ok(bytes) = serde_json::to_vec(self) {
            hasher.update(&bytes);
        }
        hex::encode(hasher.finalize())
    }
}

/// The top-level modules a Python file imports (`import a.b` and
/// `from a.b import c` give `a`; relative imports give nothing).
pub fn imported_top_level(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in text.lines() {
        let line = line.trim_start();
        let names: Vec<&str> = if let Some(rest) = line.strip_prefix("from ") {
            vec![rest.split_whitespace().next().unwrap_or("")]
        } else if let Some(rest) = line.strip_prefix("import ") {
            rest.split(',')
                .map(|part| part.split_whitespace().next().unwrap_or(""))
                .collect()
        } else {
            continue;
        };
        for name in names {
            let top = name.split('.').next().unwrap_or("");
            let is_ident = !top.is_empty()
                && top.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                && !top.as_bytes()[0].is_ascii_digit();
            if is_ident && !out.iter().any(|o| o == top) {
                out.push(top.to_string());
            }
        }
    }
    out
}

/// The provider's part of the key: the dialect family, never a host or a
/// password (the server version is the helper's to compare).
pub fn provider_family(spec: &crate::job::provider::ProviderSpec) -> String {
    use crate::job::provider::ProviderSpec;
    match spec {
        ProviderSpec::Sqlite => "sqlite".into(),
        ProviderSpec::PostgresEphemeral => "postgresql".into(),
        ProviderSpec::Server(url) => {
            let scheme = url.split("://").next().unwrap_or("");
            let family = scheme.split('+').next().unwrap_or(scheme);
            match family {
                "postgres" | "postgresql" => "postgresql".into(),
                "mysql" | "mariadb" => "mysql".into(),
                other => other.to_string(),
            }
        }
        ProviderSpec::Docker(image) => format!("docker:{image}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::provider::ProviderSpec;

    fn inputs() -> KeyInputs {
        KeyInputs {
            alembot: "0.1.0/1".into(),
            provider: "sqlite".into(),
            settings: [("version_table".to_string(), "alembic_version".to_string())].into(),
            migration_files: [
                ("migrations/env.py".to_string(), "a1".to_string()),
                (
                    "migrations/versions/1_init.py".to_string(),
                    "b2".to_string(),
                ),
            ]
            .into(),
            config_files: [("alembic.ini".to_string(), "c3".to_string())].into(),
            imported_modules: BTreeMap::new(),
        }
    }

    #[test]
    fn the_same_inputs_give_the_same_key() {
        assert_eq!(inputs().key(), inputs().key());
        assert_eq!(inputs().key().len(), 64);
    }

    /// Each input, changed alone, changes the key.
    #[test]
    fn every_input_changes_the_key() {
        let base = inputs().key();
        type Change = Box<dyn Fn(&mut KeyInputs)>;
        let changes: Vec<(&str, Change)> = vec![
            (
                "alembot version",
                Box::new(|i| i.alembot = "0.2.0/1".into()),
            ),
            ("provider", Box::new(|i| i.provider = "postgresql".into())),
            (
                "version table",
                Box::new(|i| {
                    i.settings
                        .insert("version_table".into(), "other_version".into());
                }),
            ),
            (
                "setup sql",
                Box::new(|i| {
                    i.settings
                        .insert("setup_sql".into(), "CREATE SCHEMA s".into());
                }),
            ),
            (
                "a revision edited",
                Box::new(|i| {
                    i.migration_files
                        .insert("migrations/versions/1_init.py".into(), "b3".into());
                }),
            ),
            (
                "a revision deleted",
                Box::new(|i| {
                    i.migration_files.remove("migrations/versions/1_init.py");
                }),
            ),
            (
                "env.py",
                Box::new(|i| {
                    i.migration_files
                        .insert("migrations/env.py".into(), "a2".into());
                }),
            ),
            (
                "the ini",
                Box::new(|i| {
                    i.config_files.insert("alembic.ini".into(), "c4".into());
                }),
            ),
            (
                "an imported model module",
                Box::new(|i| {
                    i.imported_modules
                        .insert("app/enums.py".into(), "d1".into());
                }),
            ),
        ];
        for (what, change) in changes {
            let mut i = inputs();
            change(&mut i);
            assert_ne!(i.key(), base, "{what} did not change the key");
        }
    }

    #[test]
    fn a_path_moved_between_fields_changes_the_key() {
        let mut a = inputs();
        a.config_files.clear();
        a.migration_files.insert("alembic.ini".into(), "c3".into());
        assert_ne!(a.key(), inputs().key());
    }

    #[test]
    fn imports_give_their_top_level_modules() {
        let text = "\"\"\"doc\"\"\"\nfrom alembic import op\nimport sqlalchemy as sa\n\
                    from app.models import Status  # the enum\nimport os, app2.x\n\
                    from . import sibling\n    import lazy\n";
        assert_eq!(
            imported_top_level(text),
            ["alembic", "sqlalchemy", "app", "os", "app2", "lazy"]
        );
    }

    #[test]
    fn the_provider_part_names_no_host_or_password() {
        assert_eq!(provider_family(&ProviderSpec::Sqlite), "sqlite");
        assert_eq!(
            provider_family(&ProviderSpec::Server(
                "postgresql+psycopg://u:secret@db:5432/postgres".into()
            )),
            "postgresql"
        );
        assert_eq!(
            provider_family(&ProviderSpec::Server("mysql://root@127.0.0.1:3306/".into())),
            "mysql"
        );
        assert_eq!(
            provider_family(&ProviderSpec::PostgresEphemeral),
            "postgresql"
        );
        assert_eq!(
            provider_family(&ProviderSpec::Docker("mariadb:11".into())),
            "docker:mariadb:11"
        );
    }
}
