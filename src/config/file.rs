//! The `.alembot.yml` schema. Unknown keys and wrong types are errors that
//! name the file, line, column and key.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::ConfigError;

/// One string or a list of strings (`models: app/models.py` or a list).
///
/// Deserialised by hand: serde's untagged enums say only "data did not
/// match any variant of untagged enum OneOrMany", naming neither the key
/// nor what it takes; this says "expected a string or a list of strings"
/// at the key's path and position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = OneOrMany;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string or a list of strings")
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<OneOrMany, E> {
                Ok(OneOrMany::One(v.to_string()))
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<OneOrMany, A::Error> {
                let mut out = Vec::new();
                while let Some(item) = seq.next_element::<String>()? {
                    out.push(item);
                }
                Ok(OneOrMany::Many(out))
            }
        }
        d.deserialize_any(Visitor)
    }
}

impl OneOrMany {
    pub fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub environments: Option<Vec<EnvConfig>>,
    /// Paths never analysed (globs, relative to the config file).
    pub ignore: Option<Vec<String>>,
    /// Per-check severity: `error`, `warning`, `notice` or `off`.
    pub checks: Option<BTreeMap<String, Level>>,
    pub python: Option<String>,
    pub database: Option<String>,
    /// Seconds for the whole dynamic job.
    pub timeout: Option<u64>,
    pub github: Option<GithubConfig>,
    /// How many environments the dynamic job runs at once.
    pub jobs: Option<usize>,
    /// Variables of the runner's environment every environment's project
    /// code may see (names, or prefixes ending in `*`); see `pass_env` of
    /// an environment.
    pub pass_env: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct EnvConfig {
    pub name: String,
    pub alembic_ini: Option<String>,
    /// The `[section]` of the ini file (`alembic -n NAME`).
    pub ini_section: Option<String>,
    pub script_location: Option<String>,
    /// Globs of model files; without it, model files are found by content.
    pub models: Option<OneOrMany>,
    /// The folder(s) holding revision files (Alembic's version_locations).
    pub migrations: Option<OneOrMany>,
    pub version_table: Option<String>,
    pub version_table_schema: Option<String>,
    /// Import path of the metadata env.py hands Alembic, e.g. `app.models:Base.metadata`.
    pub metadata: Option<String>,
    /// Environment variables env.py reads the database URL from.
    pub database_url_env: Option<OneOrMany>,
    /// SQL run on the throwaway database before migrating.
    pub setup_sql: Option<OneOrMany>,
    pub python: Option<String>,
    pub database: Option<String>,
    /// Folder of per-revision data tests (`UpgradeTester` / `DowngradeTester`).
    pub data_tests: Option<String>,
    /// The directory put on `sys.path` (default: the alembic.ini's directory).
    pub project_root: Option<String>,
    /// Variables of the runner's environment the project's code may see
    /// (names, or prefixes ending in `*`); the rest are withheld.
    pub pass_env: Option<OneOrMany>,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Error,
    Warning,
    Notice,
    Off,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum CommentMode {
    #[default]
    Review,
    Comment,
    None,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum FailOn {
    #[default]
    Error,
    Warning,
    Never,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum Unauthorized {
    /// One polite reply explaining who may run commands.
    #[default]
    Reply,
    /// Say nothing.
    Ignore,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct GithubConfig {
    pub comment: Option<CommentMode>,
    /// The command prefix, `/alembot` by default.
    pub command: Option<String>,
    /// A pull-request label that turns `missing-migration` into a notice.
    pub skip_label: Option<String>,
    pub unauthorized: Option<Unauthorized>,
    pub fail_on: Option<FailOn>,
    /// Post findings on diff lines as inline review comments too.
    pub inline: Option<bool>,
    pub check_run: Option<bool>,
    pub upload_sarif: Option<bool>,
}

/// Parses the YAML text of `file`. An empty file is an empty configuration.
pub fn parse(file: &str, text: &str) -> Result<FileConfig, ConfigError> {
    if text.trim().is_empty() {
        return Ok(FileConfig::default());
    }
    serde_yaml::from_str::<FileConfig>(text).map_err(|e| {
        // No position is better than a made-up `0:0`.
        let (line, column) = e
            .location()
            .map_or((None, None), |l| (Some(l.line()), Some(l.column())));
        let message = strip_position(&e.to_string());
        ConfigError::Yaml {
            file: file.to_string(),
            line,
            column,
            help: yaml_help(&message),
            message,
        }
    })
}

/// yaml_serde appends " at line L column C"; the position is shown apart.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

fn yaml_help(message: &str) -> String {
    if message.contains("unknown field") {
        "remove the key or fix its spelling; the configuration reference is in README.md".into()
    } else if message.contains("a string or a list of strings") {
        "write one string (`models: app/models.py`) or a list (`models: [app/a.py, app/b.py]`)"
            .into()
    } else if message.contains("invalid type") || message.contains("unknown variant") {
        "give the value the type the key expects (see the configuration reference in README.md)"
            .into()
    } else if message.contains("missing field") {
        "add the required key".into()
    } else {
        "fix the YAML syntax at that position".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        parse(".alembot.yml", text).unwrap_err().to_string()
    }

    #[test]
    fn full_file_parses() {
        let cfg = parse(
            ".alembot.yml",
            "environments:\n  - name: main\n    alembic_ini: alembic.ini\n    models: [app/models/*.py]\n    migrations: migrations/versions\n    version_table: alembic_version\n    setup_sql: CREATE SCHEMA app\nignore: [legacy/**]\nchecks:\n  edited-migration: off\n  destructive-operation: error\npython: .venv/bin/python\ndatabase: sqlite\ntimeout: 300\ngithub:\n  comment: comment\n  skip_label: no-migration-needed\n  fail_on: warning\n",
        )
        .unwrap();
        let env = &cfg.environments.as_ref().unwrap()[0];
        assert_eq!(env.name, "main");
        assert_eq!(
            env.migrations.clone().map(OneOrMany::into_vec),
            Some(vec!["migrations/versions".to_string()])
        );
        assert_eq!(cfg.checks.unwrap()["edited-migration"], Level::Off);
        let gh = cfg.github.unwrap();
        assert_eq!(gh.comment, Some(CommentMode::Comment));
        assert_eq!(gh.fail_on, Some(FailOn::Warning));
    }

    #[test]
    fn empty_file_is_default() {
        assert_eq!(parse("f", "\n# nothing\n").unwrap(), FileConfig::default());
    }

    #[test]
    fn unknown_top_level_key_names_line_and_key() {
        let e = err("environments: []\nignroe: [x]\n");
        assert!(e.starts_with(".alembot.yml:2:1:"), "{e}");
        assert!(e.contains("unknown field `ignroe`"), "{e}");
    }

    #[test]
    fn unknown_nested_key_names_its_path() {
        let e = err("environments:\n  - name: main\n    modles: [a.py]\n");
        assert!(e.starts_with(".alembot.yml:3:5:"), "{e}");
        assert!(e.contains("environments[0]: unknown field `modles`"), "{e}");
    }

    #[test]
    fn wrong_type_names_line_and_key() {
        let e = err("timeout: soon\n");
        assert!(e.starts_with(".alembot.yml:1:"), "{e}");
        assert!(e.contains("timeout"), "{e}");
    }

    #[test]
    fn bad_level_lists_choices() {
        let e = err("checks:\n  drift: loud\n");
        assert!(e.contains("unknown variant `loud`"), "{e}");
        assert!(e.contains(".alembot.yml:2:"), "{e}");
    }

    #[test]
    fn malformed_yaml_is_reported_with_position() {
        let e = err("environments:\n  - name: [unclosed\n");
        assert!(e.starts_with(".alembot.yml:"), "{e}");
    }

    #[test]
    fn missing_environment_name() {
        let e = err("environments:\n  - alembic_ini: a.ini\n");
        assert!(e.contains("missing field `name`"), "{e}");
    }
}
