//! Configuration: `.alembot.yml`, or discovery of Alembic environments and
//! model files when there is none; then command-line and environment
//! overrides. Everything resolves once into [`Settings`], which nothing
//! downstream re-reads.

pub mod discover;
pub mod file;
pub mod ini;
pub mod paths;
mod read;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};

pub use file::{CommentMode, FailOn, Level, Unauthorized};

use crate::findings::{Finding, Severity};
use crate::rules::{self, Code};
use paths::{file_name, is_excluded_dir_path, is_test_file, is_under, join, parent_dir};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Read access to the project as the change leaves it (the working tree,
/// the index or a commit); implemented over git by the change source.
pub trait ProjectFiles {
    /// Every file whose last path component is one of `names`,
    /// repository-relative.
    fn files_named(&self, names: &[&str]) -> Result<Vec<String>, BoxError>;
    fn read(&self, path: &str) -> Result<Option<Vec<u8>>, BoxError>;
    /// Every file under `dir` (recursively; `""` for all), repository-relative.
    fn files_under(&self, dir: &str) -> Result<Vec<String>, BoxError>;
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{file}{}: {message}\n  help: {help}", position(.line, .column))]
    Yaml {
        file: String,
        line: Option<usize>,
        column: Option<usize>,
        message: String,
        help: String,
    },
    #[error("{file}{}: `{key}`: {message}\n  help: {help}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Invalid {
        file: String,
        line: Option<u32>,
        key: String,
        message: String,
        help: String,
    },
    #[error("{path}: cannot read the configuration: {message}")]
    Read { path: String, message: String },
    #[error(
        "no Alembic environment found under {root}: no Alembic config (an .ini with an [alembic] section), no [tool.alembic] in pyproject.toml and no folder with env.py, script.py.mako and versions/\n  help: run alembot in your project (or pass -C DIR), or describe the environments in .alembot.yml (see README.md); in range mode (--base/--head) files are read from the head commit, so an uncommitted .alembot.yml is not used: commit it or pass --config"
    )]
    NoEnvironment { root: String },
    #[error("no environment named `{name}`; the environments are: {known}")]
    UnknownEnvironment { name: String, known: String },
}

/// `:line:column`, `:line` or nothing: never a made-up `0:0`.
fn position(line: &Option<usize>, column: &Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(":{l}:{c}"),
        (Some(l), None) => format!(":{l}"),
        _ => String::new(),
    }
}

/// Command-line and environment-variable values, which win over the file.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub config: Option<PathBuf>,
    pub python: Option<String>,
    pub database: Option<String>,
    pub timeout: Option<u64>,
    pub environments: Vec<String>,
    pub jobs: Option<usize>,
    /// `verify --checks`: only these database checks.
    pub database_checks: Option<Vec<DatabaseCheck>>,
    /// `--no-cache`: neither read nor write the revision cache.
    pub no_cache: bool,
}

/// One of the database checks `verify` runs; the names are the report's
/// (`summary.checks`). `--checks` picks a subset, e.g. to leave out the
/// stairway on a long history or to time the round trip alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, clap::ValueEnum)]
pub enum DatabaseCheck {
    /// `upgrade heads` on an empty database.
    Upgrade,
    /// The upgraded schema against the models.
    Drift,
    /// Mapped tables the metadata env.py uses does not have.
    Unregistered,
    /// `downgrade base`, then `upgrade heads` again.
    Roundtrip,
    /// Each revision down and up again.
    Stairway,
    /// The change's migrations over a populated database.
    #[value(name = "data_upgrade", alias = "data-upgrade")]
    DataUpgrade,
    /// The project's own per-revision data tests.
    #[value(name = "data_tests", alias = "data-tests")]
    DataTests,
}

impl DatabaseCheck {
    /// The name the report uses (`summary.checks`) and `--checks` takes.
    pub fn as_str(self) -> &'static str {
        match self {
            DatabaseCheck::Upgrade => "upgrade",
            DatabaseCheck::Drift => "drift",
            DatabaseCheck::Unregistered => "unregistered",
            DatabaseCheck::Roundtrip => "roundtrip",
            DatabaseCheck::Stairway => "stairway",
            DatabaseCheck::DataUpgrade => "data_upgrade",
            DatabaseCheck::DataTests => "data_tests",
        }
    }
}

#[derive(Debug, Clone)]
pub enum Models {
    /// Explicit globs from `.alembot.yml`.
    Globs { patterns: Vec<String>, set: GlobSet },
    /// Python files under `scope` that declare tables, found by content.
    ByContent { scope: String },
}

#[derive(Debug, Clone)]
pub struct Environment {
    pub name: String,
    pub alembic_ini: Option<String>,
    pub pyproject: Option<String>,
    pub ini_section: String,
    pub script_location: String,
    pub version_locations: Vec<String>,
    pub recursive_versions: bool,
    pub models: Models,
    pub version_table: String,
    pub version_table_schema: Option<String>,
    pub metadata: Option<String>,
    pub database_url_env: Vec<String>,
    pub setup_sql: Vec<String>,
    pub python: Option<String>,
    pub database: Option<String>,
    pub data_tests: Option<String>,
    /// Repository-relative directory Alembic runs from (put on `sys.path`).
    pub project_root: String,
    /// The runner's variables the project's code may see (`pass_env:`).
    pub pass_env: Vec<String>,
}

impl Environment {
    pub fn new(name: String, script_location: String, version_locations: Vec<String>) -> Self {
        Environment {
            name,
            alembic_ini: None,
            pyproject: None,
            ini_section: "alembic".into(),
            project_root: String::new(),
            models: Models::ByContent {
                scope: String::new(),
            },
            script_location,
            version_locations,
            recursive_versions: false,
            version_table: "alembic_version".into(),
            version_table_schema: None,
            metadata: None,
            database_url_env: vec!["DATABASE_URL".into()],
            setup_sql: Vec::new(),
            python: None,
            database: None,
            data_tests: None,
            pass_env: Vec::new(),
        }
    }

    /// Whether `path` is a revision file of this environment (by location,
    /// not content): a `.py` file in a version location, not `__init__.py`.
    pub fn is_revision_path(&self, path: &str) -> bool {
        let name = file_name(path);
        if !name.ends_with(".py") || name == "__init__.py" || name.starts_with(".#") {
            return false;
        }
        let dir = parent_dir(path);
        self.version_locations.iter().any(|loc| {
            if self.recursive_versions {
                is_under(dir, loc)
            } else {
                dir == loc
            }
        })
    }

    /// Whether `path` belongs to the Alembic scaffolding (env.py, templates,
    /// revisions): never model code.
    pub fn owns_migration_path(&self, path: &str) -> bool {
        is_under(path, &self.script_location)
            || self.version_locations.iter().any(|l| is_under(path, l))
    }
}

#[derive(Debug, Clone)]
pub struct GithubSettings {
    pub comment: CommentMode,
    pub command: String,
    pub skip_label: Option<String>,
    pub unauthorized: Unauthorized,
    pub fail_on: FailOn,
    pub inline: bool,
    pub check_run: bool,
    pub upload_sarif: bool,
}

impl Default for GithubSettings {
    fn default() -> Self {
        GithubSettings {
            comment: CommentMode::Review,
            command: "/alembot".into(),
            skip_label: None,
            unauthorized: Unauthorized::Reply,
            fail_on: FailOn::Error,
            inline: true,
            check_run: true,
            upload_sarif: false,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub root: PathBuf,
    /// Repository-relative path of the configuration file, if one was used.
    pub config_file: Option<String>,
    pub environments: Vec<Environment>,
    /// True when the environments were discovered rather than configured.
    pub discovered: bool,
    pub ignore: GlobSet,
    pub levels: BTreeMap<String, Level>,
    /// `--python` / `ALEMBOT_PYTHON`: wins over every configured interpreter.
    pub python_override: Option<String>,
    /// `python:` at the top of the configuration file.
    pub python: Option<String>,
    pub database: String,
    pub timeout: Duration,
    pub jobs: usize,
    /// The database checks to run; `None` for every check that applies.
    pub database_checks: Option<Vec<DatabaseCheck>>,
    /// Keep revision identifiers in `.git/alembot/` (off with `--no-cache`).
    pub revision_cache: bool,
    pub github: GithubSettings,
}

pub const CONFIG_NAMES: [&str; 2] = [".alembot.yml", ".alembot.yaml"];
const DEFAULT_TIMEOUT_SECS: u64 = 600;

/// Whether a Python source declares SQLAlchemy tables: a call of
/// `Column(`, `mapped_column(` or `Table(`, a `__tablename__`, Flask-
/// SQLAlchemy's `db.Model`, a declarative base, or an SQLModel table. Plain
/// substring search (a regex cost more to compile than the whole check).
pub fn declares_tables(text: &str) -> bool {
    const CALLS: [&str; 3] = ["Column(", "mapped_column(", "Table("];
    const MARKERS: [&str; 4] = [
        "__tablename__",
        "db.Model",
        "DeclarativeBase",
        "declarative_base(",
    ];
    let word_at = |i: usize| {
        i == 0
            || !text[..i]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_')
    };
    let has_word = |needle: &str| {
        let mut from = 0;
        while let Some(pos) = text[from..].find(needle) {
            let at = from + pos;
            if word_at(at) {
                return true;
            }
            from = at + needle.len();
        }
        false
    };
    CALLS.iter().any(|c| has_word(c))
        || MARKERS.iter().any(|m| has_word(m))
        || (has_word("SQLModel") && text.contains("table=True"))
}

impl Settings {
    /// Loads the settings for a project rooted at `root`, searching for
    /// `.alembot.yml` from `start_dir` (repository-relative) upwards.
    pub fn load(
        root: &Path,
        start_dir: &str,
        files: &dyn ProjectFiles,
        overrides: &Overrides,
    ) -> Result<Settings, ConfigError> {
        let (config_path, config_dir, cfg) = find_config(root, start_dir, files, overrides)?;
        let config_name = config_path.clone().unwrap_or_default();
        let discovered = cfg.environments.is_none();
        let mut environments = match &cfg.environments {
            Some(list) => configured_environments(root, &config_name, &config_dir, list, files)?,
            None => discover_environments(root, files)?,
        };
        if environments.is_empty() {
            return Err(ConfigError::NoEnvironment {
                root: root.display().to_string(),
            });
        }
        let shared_pass_env = cfg.pass_env.clone().unwrap_or_default();
        if let Some(secret) = shared_pass_env
            .iter()
            .find(|n| crate::job::child_env::is_secret(n.trim_end_matches('*')))
        {
            return Err(ConfigError::Invalid {
                file: config_name.clone(),
                line: None,
                key: "pass_env".into(),
                message: format!(
                    "`{secret}` is a secret of the runner; the project's code never sees it"
                ),
                help: "remove it; pass only the variables your env.py and models read".into(),
            });
        }
        for env in &mut environments {
            env.pass_env.extend(shared_pass_env.iter().cloned());
        }
        if !overrides.environments.is_empty() {
            for wanted in &overrides.environments {
                if !environments.iter().any(|e| &e.name == wanted) {
                    return Err(ConfigError::UnknownEnvironment {
                        name: wanted.clone(),
                        known: environments
                            .iter()
                            .map(|e| e.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                    });
                }
            }
            environments.retain(|e| overrides.environments.contains(&e.name));
        }
        let ignore = compile_globs(
            &config_name,
            "ignore",
            &config_dir,
            cfg.ignore.as_deref().unwrap_or(&[]),
        )?;
        let levels = cfg.checks.clone().unwrap_or_default();
        for key in levels.keys() {
            if key.parse::<Code>().is_err() {
                return Err(ConfigError::Invalid {
                    file: config_name.clone(),
                    line: None,
                    key: format!("checks.{key}"),
                    message: "not a finding code".into(),
                    help: format!("use one of: {}", rules::all_codes()),
                });
            }
        }
        let gh = cfg.github.clone().unwrap_or_default();
        let defaults = GithubSettings::default();
        let github = GithubSettings {
            comment: gh.comment.unwrap_or(defaults.comment),
            command: gh.command.unwrap_or(defaults.command),
            skip_label: gh.skip_label,
            unauthorized: gh.unauthorized.unwrap_or(defaults.unauthorized),
            fail_on: gh.fail_on.unwrap_or(defaults.fail_on),
            inline: gh.inline.unwrap_or(defaults.inline),
            check_run: gh.check_run.unwrap_or(defaults.check_run),
            upload_sarif: gh.upload_sarif.unwrap_or(defaults.upload_sarif),
        };
        Ok(Settings {
            root: root.to_path_buf(),
            config_file: config_path,
            environments,
            discovered,
            ignore,
            levels,
            python_override: overrides.python.clone(),
            python: cfg.python.clone(),
            database: overrides
                .database
                .clone()
                .or(cfg.database.clone())
                .unwrap_or_else(|| "sqlite".into()),
            timeout: Duration::from_secs(
                overrides
                    .timeout
                    .or(cfg.timeout)
                    .unwrap_or(DEFAULT_TIMEOUT_SECS),
            ),
            jobs: overrides.jobs.or(cfg.jobs).unwrap_or(2).max(1),
            database_checks: overrides.database_checks.clone().map(|mut checks| {
                checks.sort();
                checks.dedup();
                checks
            }),
            revision_cache: !overrides.no_cache,
            github,
        })
    }

    pub fn is_ignored(&self, path: &str) -> bool {
        self.ignore.is_match(path)
    }

    /// The environments a Python file's models belong to, judged by path
    /// (and, for discovery by content, by `text`). Empty when it is not a
    /// model file.
    pub fn model_environments(&self, path: &str, text: &str) -> Vec<&Environment> {
        if !path.ends_with(".py") || self.is_ignored(path) {
            return Vec::new();
        }
        if self
            .environments
            .iter()
            .any(|e| e.owns_migration_path(path))
        {
            return Vec::new();
        }
        let mut by_glob = Vec::new();
        let mut by_content: Vec<(&Environment, usize)> = Vec::new();
        for env in &self.environments {
            match &env.models {
                Models::Globs { set, .. } => {
                    if set.is_match(path) {
                        by_glob.push(env);
                    }
                }
                Models::ByContent { scope } => {
                    if is_under(path, scope)
                        && !is_excluded_dir_path(parent_dir(path))
                        && !is_test_file(path)
                    {
                        by_content.push((env, scope.len()));
                    }
                }
            }
        }
        if !by_glob.is_empty() {
            return by_glob;
        }
        if by_content.is_empty() || !declares_tables(text) {
            return Vec::new();
        }
        // The environment whose migrations folder is closest to the file
        // wins (plugins beside a core package); among equally close ones,
        // the nearest enclosing scope; siblings left tied (one alembic.ini
        // with several sections, one version tree per dialect) share it.
        let closeness = |e: &Environment| {
            let common = discover::common_dir(parent_dir(path), &e.script_location);
            if common.is_empty() {
                0
            } else {
                common.split('/').count()
            }
        };
        let best = by_content
            .iter()
            .map(|(e, _)| closeness(e))
            .max()
            .unwrap_or(0);
        by_content.retain(|(e, _)| closeness(e) == best);
        let deepest = by_content.iter().map(|(_, d)| *d).max().unwrap_or(0);
        by_content
            .into_iter()
            .filter(|(_, d)| *d == deepest)
            .map(|(e, _)| e)
            .collect()
    }

    /// Whether a model-file path could belong to any environment before
    /// its content is read: lets callers skip reading most files.
    pub fn may_be_model_path(&self, path: &str) -> bool {
        path.ends_with(".py")
            && !self.is_ignored(path)
            && !self
                .environments
                .iter()
                .any(|e| e.owns_migration_path(path))
            && self.environments.iter().any(|env| match &env.models {
                Models::Globs { set, .. } => set.is_match(path),
                Models::ByContent { scope } => {
                    is_under(path, scope)
                        && !is_excluded_dir_path(parent_dir(path))
                        && !is_test_file(path)
                }
            })
    }

    /// Applies the configured per-check levels: `off` drops a finding,
    /// the others re-grade it.
    pub fn apply_levels(&self, findings: Vec<Finding>) -> Vec<Finding> {
        findings
            .into_iter()
            .filter_map(|mut f| match self.levels.get(&f.code) {
                Some(Level::Off) => None,
                Some(Level::Error) => {
                    f.severity = Severity::Error;
                    Some(f)
                }
                Some(Level::Warning) => {
                    f.severity = Severity::Warning;
                    Some(f)
                }
                Some(Level::Notice) => {
                    f.severity = Severity::Notice;
                    Some(f)
                }
                None => Some(f),
            })
            .collect()
    }

    pub fn environment(&self, name: &str) -> Option<&Environment> {
        self.environments.iter().find(|e| e.name == name)
    }
}

type FoundConfig = (Option<String>, String, file::FileConfig);

fn find_config(
    root: &Path,
    start_dir: &str,
    files: &dyn ProjectFiles,
    overrides: &Overrides,
) -> Result<FoundConfig, ConfigError> {
    if let Some(explicit) = &overrides.config {
        let shown = explicit.display().to_string();
        let text = read::read_config_file(explicit, &shown)?;
        let absolute = explicit
            .canonicalize()
            .unwrap_or_else(|_| explicit.to_path_buf());
        let canonical_root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
        let dir = absolute
            .strip_prefix(&canonical_root)
            .ok()
            .and_then(|rel| rel.parent())
            .map(|p| p.to_string_lossy().replace('\\', "/"))
            .unwrap_or_default();
        let cfg = file::parse(&shown, &text)?;
        return Ok((Some(shown), dir, cfg));
    }
    let mut dir = start_dir.trim_matches('/').to_string();
    loop {
        for name in CONFIG_NAMES {
            let path = join(&dir, name);
            let bytes = files.read(&path).map_err(|e| ConfigError::Read {
                path: path.clone(),
                message: e.to_string(),
            })?;
            if let Some(bytes) = bytes {
                let text = String::from_utf8_lossy(&bytes);
                let cfg = file::parse(&path, &text)?;
                return Ok((Some(path), dir, cfg));
            }
        }
        if dir.is_empty() {
            return Ok((None, String::new(), file::FileConfig::default()));
        }
        dir = parent_dir(&dir).to_string();
    }
}

fn read_text(files: &dyn ProjectFiles, path: &str) -> Result<Option<String>, ConfigError> {
    files
        .read(path)
        .map(|b| b.map(|b| String::from_utf8_lossy(&b).into_owned()))
        .map_err(|e| ConfigError::Read {
            path: path.to_string(),
            message: e.to_string(),
        })
}

/// Whether a folder exists in the project: it holds env.py (cheap, from
/// the listing already made) or any file at all.
fn dir_exists(files: &dyn ProjectFiles, env_dirs: &[&str], dir: &str) -> bool {
    env_dirs.contains(&dir)
        || files.read(&join(dir, "env.py")).ok().flatten().is_some()
        || files.files_under(dir).is_ok_and(|f| !f.is_empty())
}

fn discover_environments(
    root: &Path,
    files: &dyn ProjectFiles,
) -> Result<Vec<Environment>, ConfigError> {
    let all = files
        .files_named(&[
            "*.ini",
            "pyproject.toml",
            "env.py",
            "script.py.mako",
            "alembic.ini.mako",
        ])
        .map_err(|e| ConfigError::Read {
            path: root.display().to_string(),
            message: e.to_string(),
        })?;
    let named = |name: &str| -> Vec<&str> {
        all.iter()
            .filter(|p| file_name(p) == name && discover::is_candidate_config(p))
            .map(|p| parent_dir(p))
            .collect()
    };
    let env_dirs = named("env.py");
    let mako_dirs = named("script.py.mako");
    let template_dirs = named("alembic.ini.mako");
    let exists = |dir: &str| dir_exists(files, &env_dirs, dir);
    let mut found: Vec<discover::Discovered> = Vec::new();
    for path in all.iter().filter(|p| discover::is_candidate_config(p)) {
        let is_ini = path.ends_with(".ini");
        if !is_ini && file_name(path) != "pyproject.toml" {
            continue;
        }
        let Some(text) = read_text(files, path)? else {
            continue;
        };
        if is_ini {
            // Only Alembic configs: an [alembic] section or a script_location.
            if !text.contains("[alembic]") && !text.contains("script_location") {
                continue;
            }
            found.extend(discover::from_ini(root, path, &text, None, &exists)?);
        } else if let Some(d) = discover::from_pyproject(root, path, &text)? {
            // An alembic.ini beside it configures the same environment.
            if !found
                .iter()
                .any(|f: &discover::Discovered| f.script_location == d.script_location)
            {
                found.push(d);
            }
        }
    }
    found.dedup_by(|a, b| a.script_location == b.script_location && a.section == b.section);
    let mut found: Vec<discover::Discovered> = found
        .into_iter()
        .flat_map(|d| {
            let listed = files
                .files_under(&join(&d.script_location, "versions"))
                .unwrap_or_default();
            discover::split_version_trees(d, &listed)
        })
        .collect();
    // Script directories no config names (Alembic configured in code).
    for dir in &env_dirs {
        if mako_dirs.contains(dir)
            && !template_dirs.contains(dir)
            && !found.iter().any(|f| f.script_location == *dir)
            && files
                .files_under(&join(dir, "versions"))
                .is_ok_and(|f| f.iter().any(|p| p.ends_with(".py")))
        {
            found.push(discover::from_script_dir(dir));
        }
    }
    let is_package = |dir: &str| {
        [join(dir, "__init__.py"), format!("{dir}.py")]
            .iter()
            .any(|p| files.read(p).ok().flatten().is_some())
    };
    let scopes: Vec<String> = found
        .iter()
        .map(|d| {
            let env_py = read_text(files, &join(&d.script_location, "env.py"))
                .ok()
                .flatten();
            discover::model_scope(d, env_py.as_deref(), &is_package)
        })
        .collect();
    let mut envs = discover::into_environments(found);
    for (env, scope) in envs.iter_mut().zip(scopes) {
        env.models = Models::ByContent { scope };
    }
    Ok(envs)
}

fn configured_environments(
    root: &Path,
    config_name: &str,
    config_dir: &str,
    list: &[file::EnvConfig],
    files: &dyn ProjectFiles,
) -> Result<Vec<Environment>, ConfigError> {
    let mut out: Vec<Environment> = Vec::new();
    for (i, cfg) in list.iter().enumerate() {
        let key = |k: &str| format!("environments[{i}].{k}");
        let invalid = |k: &str, message: String, help: &str| ConfigError::Invalid {
            file: config_name.to_string(),
            line: None,
            key: key(k),
            message,
            help: help.to_string(),
        };
        let outside = |k: &str, value: &str| {
            invalid(
                k,
                format!("`{value}` is outside the repository"),
                "use a path inside the repository, relative to the configuration file",
            )
        };
        let missing = |k: &str, value: &str| {
            invalid(
                k,
                format!("`{value}` does not exist"),
                "give a path that exists, relative to the configuration file; in range mode (--base/--head) the configuration and the files it names are read from the head commit (commit them, or pass --config)",
            )
        };
        if out.iter().any(|e| e.name == cfg.name) {
            return Err(invalid(
                "name",
                format!("`{}` is used twice", cfg.name),
                "give each environment its own name",
            ));
        }
        let section = cfg.ini_section.clone().unwrap_or_else(|| "alembic".into());
        let mut env = match (&cfg.alembic_ini, &cfg.script_location) {
            (Some(ini_rel), _) => {
                let ini_path = rel_path(config_dir, ini_rel).ok_or_else(|| {
                    invalid(
                        "alembic_ini",
                        format!("`{ini_rel}` is outside the repository"),
                        "use a path inside the repository",
                    )
                })?;
                let text = read_text(files, &ini_path)?.ok_or_else(|| {
                    invalid(
                        "alembic_ini",
                        format!("{ini_path} does not exist"),
                        "give the path of the alembic.ini, relative to the configuration file",
                    )
                })?;
                let exists = |dir: &str| dir_exists(files, &[], dir);
                let found = discover::from_ini(root, &ini_path, &text, Some(&section), &exists)?;
                let Some(d) = found.into_iter().next() else {
                    return Err(invalid(
                        "alembic_ini",
                        format!("{ini_path} has no [{section}] section with a script_location"),
                        "add script_location to the ini, or set script_location here",
                    ));
                };
                let mut env =
                    Environment::new(cfg.name.clone(), d.script_location, d.version_locations);
                env.recursive_versions = d.recursive;
                env.alembic_ini = Some(ini_path);
                env.project_root = d.project_root;
                env
            }
            (None, Some(location)) => {
                let location = config_path(root, config_dir, location)
                    .ok_or_else(|| outside("script_location", location))?;
                if !dir_exists(files, &[], &location) {
                    return Err(missing("script_location", &location));
                }
                let versions = join(&location, "versions");
                let mut env = Environment::new(cfg.name.clone(), location, vec![versions]);
                env.project_root = config_dir.to_string();
                env
            }
            (None, None) => {
                return Err(invalid(
                    "alembic_ini",
                    format!(
                        "environment `{}` names neither `alembic_ini` nor `script_location`",
                        cfg.name
                    ),
                    "add `alembic_ini: path/to/alembic.ini` (or `script_location: path/to/migrations`)",
                ));
            }
        };
        env.ini_section = section;
        if let (Some(_), Some(location)) = (&cfg.alembic_ini, &cfg.script_location) {
            env.script_location = config_path(root, config_dir, location)
                .ok_or_else(|| outside("script_location", location))?;
            if !dir_exists(files, &[], &env.script_location) {
                return Err(missing("script_location", location));
            }
        }
        if let Some(m) = &cfg.migrations {
            env.version_locations = m
                .clone()
                .into_vec()
                .iter()
                .map(|l| config_path(root, config_dir, l).ok_or_else(|| outside("migrations", l)))
                .collect::<Result<_, _>>()?;
        }
        if let Some(root_dir) = &cfg.project_root {
            env.project_root = config_path(root, config_dir, root_dir)
                .ok_or_else(|| outside("project_root", root_dir))?;
        }
        env.models = match &cfg.models {
            Some(globs) => {
                let patterns = globs.clone().into_vec();
                for pattern in &patterns {
                    if pattern.starts_with('/') || pattern.split('/').any(|c| c == "..") {
                        return Err(outside("models", pattern));
                    }
                }
                let set = compile_globs(config_name, &key("models"), config_dir, &patterns)?;
                // A glob that matches nothing would check nothing, silently.
                let listed = files
                    .files_under(config_dir)
                    .map_err(|e| ConfigError::Read {
                        path: config_dir.to_string(),
                        message: e.to_string(),
                    })?;
                if !listed.iter().any(|p| set.is_match(p)) {
                    return Err(invalid(
                        "models",
                        format!("`{}` matches no file", patterns.join("`, `")),
                        "give globs relative to the configuration file that match the model modules, for example `app/models/**/*.py`; in range mode (--base/--head) files are read from the head commit",
                    ));
                }
                Models::Globs { patterns, set }
            }
            None => Models::ByContent {
                scope: env.project_root.clone(),
            },
        };
        if let Some(t) = &cfg.version_table {
            env.version_table = t.clone();
        }
        env.version_table_schema = cfg.version_table_schema.clone();
        env.metadata = cfg.metadata.clone();
        if let Some(vars) = &cfg.database_url_env {
            env.database_url_env = vars.clone().into_vec();
        }
        env.setup_sql = cfg
            .setup_sql
            .clone()
            .map(|s| s.into_vec())
            .unwrap_or_default();
        env.python = cfg.python.clone();
        env.database = cfg.database.clone();
        env.pass_env = cfg
            .pass_env
            .clone()
            .map(|s| s.into_vec())
            .unwrap_or_default();
        if let Some(secret) = env
            .pass_env
            .iter()
            .find(|n| crate::job::child_env::is_secret(n.trim_end_matches('*')))
        {
            return Err(invalid(
                "pass_env",
                format!("`{secret}` is a secret of the runner; the project's code never sees it"),
                "remove it; pass only the variables your env.py and models read",
            ));
        }
        env.data_tests = match cfg.data_tests.as_deref() {
            Some(d) => {
                Some(config_path(root, config_dir, d).ok_or_else(|| outside("data_tests", d))?)
            }
            None => None,
        };
        out.push(env);
    }
    Ok(out)
}

/// A path from the configuration, relative to its directory, made
/// repository-relative.
fn rel_path(config_dir: &str, path: &str) -> Option<String> {
    paths::normalize_rel(&join(config_dir, path.trim_start_matches("./")))
}

/// A path from the configuration: relative to its directory, or absolute
/// inside the repository; `None` when it leads outside the repository.
fn config_path(root: &Path, config_dir: &str, path: &str) -> Option<String> {
    if path.starts_with('/') {
        let canonical = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
        let rest = Path::new(path)
            .strip_prefix(&canonical)
            .or_else(|_| Path::new(path).strip_prefix(root))
            .ok()?;
        return paths::normalize_rel(&rest.to_string_lossy());
    }
    rel_path(config_dir, path)
}

fn compile_globs(
    config_name: &str,
    key: &str,
    config_dir: &str,
    patterns: &[String],
) -> Result<GlobSet, ConfigError> {
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        let full = join(config_dir, pattern.trim_start_matches("./"));
        let glob: Glob = GlobBuilder::new(&full)
            .literal_separator(true)
            .build()
            .map_err(|e| ConfigError::Invalid {
                file: config_name.to_string(),
                line: None,
                key: key.to_string(),
                message: format!("`{pattern}` is not a valid glob: {e}"),
                help: "use glob syntax such as `app/**/models.py`".into(),
            })?;
        builder.add(glob);
        // `dir/**` should also match `dir` itself being a file path prefix.
    }
    builder.build().map_err(|e| ConfigError::Invalid {
        file: config_name.to_string(),
        line: None,
        key: key.to_string(),
        message: e.to_string(),
        help: "use glob syntax such as `app/**/models.py`".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Mem(BTreeMap<String, String>);

    impl ProjectFiles for Mem {
        fn files_named(&self, names: &[&str]) -> Result<Vec<String>, BoxError> {
            Ok(self
                .0
                .keys()
                .filter(|p| {
                    names.iter().any(|n| match n.strip_prefix('*') {
                        Some(ending) => p.ends_with(ending),
                        None => file_name(p) == *n,
                    })
                })
                .cloned()
                .collect())
        }
        fn read(&self, path: &str) -> Result<Option<Vec<u8>>, BoxError> {
            Ok(self.0.get(path).map(|s| s.as_bytes().to_vec()))
        }
        fn files_under(&self, dir: &str) -> Result<Vec<String>, BoxError> {
            Ok(self
                .0
                .keys()
                .filter(|p| is_under(p, dir))
                .cloned()
                .collect())
        }
    }

    fn mem(files: &[(&str, &str)]) -> Mem {
        Mem(files
            .iter()
            .map(|(p, t)| (p.to_string(), t.to_string()))
            .collect())
    }

    fn load(files: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        Settings::load(Path::new("/repo"), "", &mem(files), &Overrides::default())
    }

    const INI: &str = "[alembic]\nscript_location = %(here)s/migrations\n";
    const ENV: &str = "from alembic import context\n";
    const MODEL: &str = "class User(Base):\n    __tablename__ = 'user'\n    id = mapped_column(Integer, primary_key=True)\n";

    #[test]
    fn discovers_a_single_environment() {
        let s = load(&[("alembic.ini", INI), ("migrations/env.py", ENV)]).unwrap();
        assert!(s.discovered);
        assert_eq!(s.environments.len(), 1);
        let env = &s.environments[0];
        assert_eq!(env.name, "main");
        assert_eq!(env.script_location, "migrations");
        assert!(env.is_revision_path("migrations/versions/abc_add.py"));
        assert!(!env.is_revision_path("migrations/versions/__init__.py"));
        assert!(!env.is_revision_path("migrations/env.py"));
        assert_eq!(s.database, "sqlite");
        assert_eq!(s.timeout, Duration::from_secs(600));
    }

    #[test]
    fn models_by_content_skip_migrations_tests_and_venvs() {
        let s = load(&[("alembic.ini", INI), ("migrations/env.py", ENV)]).unwrap();
        assert_eq!(s.model_environments("app/models.py", MODEL).len(), 1);
        assert!(
            s.model_environments("app/util.py", "def f(): pass\n")
                .is_empty()
        );
        assert!(
            s.model_environments("migrations/versions/a.py", MODEL)
                .is_empty()
        );
        assert!(
            s.model_environments("tests/test_models.py", MODEL)
                .is_empty()
        );
        assert!(s.model_environments("app/test_models.py", MODEL).is_empty());
        assert!(
            s.model_environments(".venv/lib/sqlalchemy/x.py", MODEL)
                .is_empty()
        );
        assert!(
            s.model_environments("vendor/lib/models.py", MODEL)
                .is_empty()
        );
    }

    #[test]
    fn content_detection_styles() {
        for text in [
            "t = Table('t', metadata, Column('id', Integer))\n",
            "class U(db.Model):\n    id = db.Column(db.Integer, primary_key=True)\n",
            "class Base(DeclarativeBase):\n    pass\n",
            "Base = declarative_base()\n",
            "class U(Base):\n    __tablename__ = 'u'\n",
        ] {
            assert!(declares_tables(text), "{text}");
        }
        for text in [
            "from pydantic import BaseModel\nclass U(BaseModel):\n    name: str\n",
            "from dataclasses import dataclass\n@dataclass\nclass Point:\n    x: int\n",
        ] {
            assert!(!declares_tables(text), "{text}");
        }
    }

    #[test]
    fn nearest_environment_claims_a_model_file() {
        let s = load(&[
            ("svc/a/alembic.ini", INI),
            ("svc/a/migrations/env.py", ENV),
            ("svc/b/alembic.ini", INI),
            ("svc/b/migrations/env.py", ENV),
        ])
        .unwrap();
        let envs = s.model_environments("svc/b/app/models.py", MODEL);
        assert_eq!(envs.len(), 1);
        assert_eq!(envs[0].name, "svc/b");
        assert!(s.model_environments("other/models.py", MODEL).is_empty());
    }

    #[test]
    fn configured_environments_with_globs_and_overrides() {
        let s = load(&[
            (
                ".alembot.yml",
                "environments:\n  - name: core\n    alembic_ini: alembic.ini\n    models: app/models/*.py\n    version_table: core_version\n  - name: extra\n    script_location: extra_db\n    models: [extra/**/*.py]\nchecks:\n  edited-migration: off\n",
            ),
            ("alembic.ini", INI),
            ("migrations/env.py", ENV),
            ("extra_db/env.py", ENV),
            ("app/models/user.py", MODEL),
            ("extra/a/b.py", MODEL),
        ])
        .unwrap();
        assert!(!s.discovered);
        assert_eq!(s.config_file.as_deref(), Some(".alembot.yml"));
        let core = s.environment("core").unwrap();
        assert_eq!(core.version_table, "core_version");
        assert_eq!(core.version_locations, ["migrations/versions"]);
        let extra = s.environment("extra").unwrap();
        assert_eq!(extra.version_locations, ["extra_db/versions"]);
        assert_eq!(
            s.model_environments("app/models/user.py", "x = 1\n")[0].name,
            "core"
        );
        assert!(
            s.model_environments("app/models/sub/user.py", MODEL)
                .is_empty()
        );
        assert_eq!(s.model_environments("extra/a/b.py", "")[0].name, "extra");
        let findings = s.apply_levels(vec![
            Finding::warning(Code::EditedMigration, "x"),
            Finding::error(Code::MissingMigration, "y"),
        ]);
        assert_eq!(findings.len(), 1);
    }

    #[test]
    fn config_in_subdirectory_is_found_from_start_dir() {
        let files = mem(&[
            (
                "backend/.alembot.yml",
                "environments:\n  - name: api\n    script_location: db\n    models: models.py\n",
            ),
            ("backend/db/env.py", ENV),
            ("backend/models.py", MODEL),
        ]);
        let s = Settings::load(
            Path::new("/repo"),
            "backend/app",
            &files,
            &Overrides::default(),
        )
        .unwrap();
        let env = s.environment("api").unwrap();
        assert_eq!(env.script_location, "backend/db");
        assert_eq!(s.model_environments("backend/models.py", "")[0].name, "api");
    }

    #[test]
    fn environment_without_location_is_an_error() {
        let e = load(&[(
            ".alembot.yml",
            "environments:\n  - name: x\n    models: a.py\n",
        )])
        .unwrap_err()
        .to_string();
        assert!(e.contains("environments[0].alembic_ini"), "{e}");
        assert!(e.contains(".alembot.yml"), "{e}");
    }

    #[test]
    fn missing_ini_is_an_error() {
        let e = load(&[(
            ".alembot.yml",
            "environments:\n  - name: x\n    alembic_ini: nope.ini\n",
        )])
        .unwrap_err()
        .to_string();
        assert!(e.contains("nope.ini does not exist"), "{e}");
    }

    #[test]
    fn unknown_check_code_is_an_error() {
        let e = load(&[
            (".alembot.yml", "checks:\n  missing-migrations: off\n"),
            ("alembic.ini", INI),
            ("migrations/env.py", ENV),
        ])
        .unwrap_err()
        .to_string();
        assert!(e.contains("checks.missing-migrations"), "{e}");
        assert!(e.contains("missing-migration,"), "{e}");
    }

    #[test]
    fn no_environment_is_an_error() {
        let e = load(&[("app/models.py", MODEL)]).unwrap_err().to_string();
        assert!(e.contains("no Alembic environment found"), "{e}");
    }

    #[test]
    fn environment_filter() {
        let files = mem(&[
            (
                "alembic.ini",
                "[alembic]\nscript_location = a\n[b]\nscript_location = b\n",
            ),
            ("a/env.py", ENV),
            ("b/env.py", ENV),
        ]);
        let mut o = Overrides {
            environments: vec!["b".into()],
            ..Overrides::default()
        };
        let s = Settings::load(Path::new("/repo"), "", &files, &o).unwrap();
        assert_eq!(s.environments.len(), 1);
        o.environments = vec!["zzz".into()];
        let e = Settings::load(Path::new("/repo"), "", &files, &o)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("no environment named `zzz`; the environments are: main, b"),
            "{e}"
        );
    }

    #[test]
    fn overrides_win_over_file() {
        let files = mem(&[
            (
                ".alembot.yml",
                "database: postgres-ephemeral\ntimeout: 30\n",
            ),
            ("alembic.ini", INI),
            ("migrations/env.py", ENV),
        ]);
        let o = Overrides {
            database: Some("sqlite".into()),
            ..Overrides::default()
        };
        let s = Settings::load(Path::new("/repo"), "", &files, &o).unwrap();
        assert_eq!(s.database, "sqlite");
        assert_eq!(s.timeout, Duration::from_secs(30));
    }
    const FLASK_ENV: &str = "from flask import current_app\nfrom alembic import context\ntarget_metadata = current_app.extensions['migrate'].db.metadata\n";

    #[test]
    fn flask_migrate_layout_without_script_location() {
        let s = load(&[
            (
                "migrations/alembic.ini",
                "# A generic, single database configuration.\n\n[alembic]\n# template used\n\n[loggers]\nkeys = root\n",
            ),
            ("migrations/env.py", FLASK_ENV),
            ("migrations/script.py.mako", ""),
            ("migrations/versions/1_a.py", ""),
            ("app/__init__.py", ""),
            ("app/models/user.py", MODEL),
        ])
        .unwrap();
        assert_eq!(s.environments.len(), 1);
        let env = &s.environments[0];
        assert_eq!(env.script_location, "migrations");
        assert_eq!(env.alembic_ini.as_deref(), Some("migrations/alembic.ini"));
        assert_eq!(env.project_root, "");
        assert!(env.is_revision_path("migrations/versions/1_a.py"));
        assert_eq!(s.model_environments("app/models/user.py", MODEL).len(), 1);
        // A config with no [alembic] section and no env.py beside it is not Alembic's.
        let e = load(&[("migrations/alembic.ini", "[alembic]\n")]).unwrap_err();
        assert!(
            e.to_string().contains("no Alembic environment found"),
            "{e}"
        );
    }

    #[test]
    fn models_outside_the_config_folder_are_found_through_env_imports() {
        let s = load(&[
            ("db/alembic.ini", "[alembic]\nscript_location = .\n"),
            (
                "db/env.py",
                "import os\nfrom myapp.models import Base\nimport myapp.extra, other\n",
            ),
            ("src/myapp/__init__.py", ""),
            ("src/myapp/models/user.py", MODEL),
            ("scripts/fixture_models.py", MODEL),
        ])
        .unwrap();
        let env = &s.environments[0];
        assert_eq!(env.script_location, "db");
        assert_eq!(
            s.model_environments("src/myapp/models/user.py", MODEL)
                .len(),
            1
        );
        // Outside the package env.py imports: not this environment's models.
        assert!(
            s.model_environments("scripts/fixture_models.py", MODEL)
                .is_empty()
        );
        assert_eq!(
            discover::imported_top_modules(
                "from __future__ import x\nimport a.b as c, d\nfrom .rel import y\n  from e.f import (g,\n"
            ),
            ["a", "d", "e"]
        );
    }

    #[test]
    fn package_locations_resolve_through_package_roots() {
        let s = load(&[
            (
                "src/myapp/alembic.ini",
                "[alembic]\nscript_location = myapp:migrations\n",
            ),
            ("src/myapp/__init__.py", ""),
            ("src/myapp/migrations/env.py", ENV),
        ])
        .unwrap();
        assert_eq!(s.environments[0].script_location, "src/myapp/migrations");
        // Alembic splits on every `:` (prefect:server:database:_migrations).
        let s = load(&[
            (
                "src/prefect/server/database/alembic.ini",
                "[alembic]\nscript_location = prefect:server:database:_migrations\n",
            ),
            ("src/prefect/server/database/_migrations/env.py", ENV),
        ])
        .unwrap();
        assert_eq!(
            s.environments[0].script_location,
            "src/prefect/server/database/_migrations"
        );
    }

    #[test]
    fn a_script_location_that_does_not_exist_is_an_error() {
        for (ini, value) in [
            ("[alembic]\nscript_location = migrashuns\n", "`migrashuns`"),
            (
                "[alembic]\nscript_location = myapp:migrations\n",
                "`myapp:migrations`",
            ),
        ] {
            let e = load(&[("alembic.ini", ini), ("migrations/env.py", ENV)])
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("alembic.ini:1: `[alembic] script_location`"),
                "{e}"
            );
            assert!(e.contains(value) && e.contains("names no folder"), "{e}");
        }
    }

    #[test]
    fn alembic_configs_with_other_names_are_environments() {
        let s = load(&[
            ("alembic.ini", INI),
            ("migrations/env.py", ENV),
            ("alembic2.ini", "[alembic]\nscript_location = second\n"),
            ("second/env.py", ENV),
            ("tox.ini", "[tox]\nenvlist = py311\n"),
            ("pytest.ini", "[pytest]\naddopts = -q\n"),
        ])
        .unwrap();
        let locations: Vec<_> = s
            .environments
            .iter()
            .map(|e| e.script_location.as_str())
            .collect();
        assert_eq!(locations, ["migrations", "second"]);
        assert_eq!(
            s.environments[1].alembic_ini.as_deref(),
            Some("alembic2.ini")
        );
    }

    #[test]
    fn a_script_directory_without_a_config_is_an_environment() {
        let s = load(&[
            ("warehouse/migrations/env.py", "from warehouse import db\n"),
            ("warehouse/migrations/script.py.mako", ""),
            ("warehouse/migrations/versions/abc_init.py", ""),
            ("warehouse/__init__.py", ""),
            ("warehouse/accounts/models.py", MODEL),
            // Alembic's own template, copied into the project: not an environment.
            ("contrib/alembic/generic/env.py", ENV),
            ("contrib/alembic/generic/script.py.mako", ""),
            ("contrib/alembic/generic/alembic.ini.mako", ""),
            ("contrib/alembic/generic/versions/x.py", ""),
            // A plugin template with no versions: not an environment either.
            ("warehouse/plugins/alembic/env.py", ENV),
            ("warehouse/plugins/alembic/script.py.mako", ""),
        ])
        .unwrap();
        assert_eq!(s.environments.len(), 1);
        let env = &s.environments[0];
        assert_eq!(env.script_location, "warehouse/migrations");
        assert!(env.alembic_ini.is_none() && env.pyproject.is_none());
        assert_eq!(
            s.model_environments("warehouse/accounts/models.py", MODEL)
                .len(),
            1
        );
    }

    #[test]
    fn plugins_sharing_a_package_claim_their_own_models() {
        let plugin_ini = "[alembic]\nscript_location = %(here)s\n";
        let s = load(&[
            ("ckan/__init__.py", ""),
            ("ckan/migration/alembic.ini", plugin_ini),
            (
                "ckan/migration/env.py",
                "from ckan.model.meta import metadata\n",
            ),
            ("ckan/model/package.py", MODEL),
            ("ckanext/__init__.py", ""),
            ("ckanext/activity/__init__.py", ""),
            (
                "ckanext/activity/migration/activity/alembic.ini",
                plugin_ini,
            ),
            (
                "ckanext/activity/migration/activity/env.py",
                "from ckan.model.meta import metadata\n",
            ),
            ("ckanext/activity/model/activity.py", MODEL),
            (
                "ckanext/tracking/migration/tracking/alembic.ini",
                plugin_ini,
            ),
            (
                "ckanext/tracking/migration/tracking/env.py",
                "from ckan.model.meta import metadata\n",
            ),
        ])
        .unwrap();
        let names = |path: &str| -> Vec<String> {
            s.model_environments(path, MODEL)
                .iter()
                .map(|e| e.script_location.clone())
                .collect()
        };
        assert_eq!(names("ckan/model/package.py"), ["ckan/migration"]);
        assert_eq!(
            names("ckanext/activity/model/activity.py"),
            ["ckanext/activity/migration/activity"]
        );
    }

    fn configured(env: &str) -> Result<Settings, ConfigError> {
        load(&[
            (".alembot.yml", env),
            ("alembic.ini", INI),
            ("migrations/env.py", ENV),
            ("app/models.py", MODEL),
        ])
    }

    #[test]
    fn configured_paths_must_exist_and_stay_inside() {
        let base = "environments:\n  - name: x\n    alembic_ini: alembic.ini\n";
        for (extra, key, value) in [
            (
                "    migrations: ../../x\n",
                "environments[0].migrations",
                "`../../x` is outside the repository",
            ),
            (
                "    migrations: /etc/x\n",
                "environments[0].migrations",
                "`/etc/x` is outside the repository",
            ),
            (
                "    script_location: nope\n",
                "environments[0].script_location",
                "`nope` does not exist",
            ),
            (
                "    models: app/nothing/*.py\n",
                "environments[0].models",
                "`app/nothing/*.py` matches no file",
            ),
            (
                "    models: ../app/*.py\n",
                "environments[0].models",
                "`../app/*.py` is outside the repository",
            ),
            (
                "    project_root: ../..\n",
                "environments[0].project_root",
                "`../..` is outside the repository",
            ),
        ] {
            let e = configured(&format!("{base}{extra}"))
                .unwrap_err()
                .to_string();
            assert!(e.contains(&format!("`{key}`")), "{extra}: {e}");
            assert!(e.contains(value), "{extra}: {e}");
        }
        let e = configured("environments:\n  - name: x\n    script_location: gone\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`environments[0].script_location`: `gone` does not exist"),
            "{e}"
        );
        assert!(e.contains("--config"), "{e}");
        // An absolute path inside the repository stays what it names.
        let ok = configured(&format!(
            "{base}    migrations: /repo/migrations/versions\n    models: app/*.py\n"
        ))
        .unwrap();
        assert_eq!(
            ok.environments[0].version_locations,
            ["migrations/versions"]
        );
    }

    #[test]
    fn version_trees_per_dialect_are_environments_of_their_own() {
        let s = load(&[
            (
                "src/app/db/alembic.ini",
                "[alembic]\nscript_location = app:db:_migrations\n",
            ),
            ("src/app/db/_migrations/env.py", ENV),
            ("src/app/db/_migrations/versions/postgresql/2024_a.py", ""),
            ("src/app/db/_migrations/versions/sqlite/2024_b.py", ""),
            ("src/app/__init__.py", ""),
            ("src/app/db/orm_models.py", MODEL),
        ])
        .unwrap();
        let names: Vec<_> = s.environments.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["src/app/db/postgresql", "src/app/db/sqlite"]);
        assert!(
            s.environments[0]
                .is_revision_path("src/app/db/_migrations/versions/postgresql/2024_a.py")
        );
        assert!(
            !s.environments[0].is_revision_path("src/app/db/_migrations/versions/sqlite/2024_b.py")
        );
        assert_eq!(
            s.model_environments("src/app/db/orm_models.py", MODEL)
                .len(),
            2
        );
    }
}
