//! Finding Alembic environments without a configuration file: every
//! Alembic config, whatever its name (each section with a
//! `script_location`, and Flask-Migrate's `[alembic]` without one beside its
//! env.py), every `pyproject.toml` with `[tool.alembic]`, and script
//! directories (env.py, script.py.mako and versions/) that no config names.

use std::collections::BTreeMap;
use std::path::Path;

use super::ini::Ini;
use super::paths::{is_excluded_dir_path, join, normalize_rel, parent_dir};
use super::{ConfigError, Environment, Models};

/// An Alembic environment as its own configuration describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovered {
    pub name_hint: String,
    pub config_file: String,
    pub section: String,
    pub script_location: String,
    pub version_locations: Vec<String>,
    pub recursive: bool,
    pub project_root: String,
    /// One version tree of several under the default versions folder
    /// (`versions/postgresql`, `versions/sqlite`): its subfolder name.
    pub variant: Option<String>,
}

/// Which folders of the project hold an Alembic script directory: lets a
/// config's `script_location` be checked and `package:path` locations be
/// resolved without a Python interpreter.
pub trait ScriptDirs {
    /// Whether `dir` (repository-relative) exists and holds env.py or any file.
    fn exists(&self, dir: &str) -> bool;
}

impl<F: Fn(&str) -> bool> ScriptDirs for F {
    fn exists(&self, dir: &str) -> bool {
        self(dir)
    }
}

/// Reads one Alembic config (`alembic.ini` or any other name): one
/// environment per section that has a `script_location` (`alembic -n NAME`
/// selects them). A Flask-Migrate config (`flask db init`) has an
/// `[alembic]` section without one: its environment is the config's own
/// folder, when env.py is there.
pub fn from_ini(
    root: &Path,
    path: &str,
    text: &str,
    only_section: Option<&str>,
    dirs: &dyn ScriptDirs,
) -> Result<Vec<Discovered>, ConfigError> {
    let ini = Ini::parse(text);
    let dir = parent_dir(path);
    let here = root.join(dir).to_string_lossy().into_owned();
    let vars = BTreeMap::from([("here".to_string(), here)]);
    let mut out = Vec::new();
    for section in ini.sections.keys() {
        if only_section.is_some_and(|s| s != section) {
            continue;
        }
        let line = ini.section_lines.get(section).copied();
        let key = format!("[{section}] script_location");
        let script_location = match ini.get(section, "script_location", &vars) {
            Some(location) => {
                resolve_script_location(root, dir, &location, dirs).map_err(|(message, help)| {
                    ConfigError::Invalid {
                        file: path.to_string(),
                        line,
                        key: key.clone(),
                        message,
                        help,
                    }
                })?
            }
            // Flask-Migrate: Flask sets the location to the config's folder.
            None if section == "alembic" && dirs.exists(&join(dir, "env.py")) => dir.to_string(),
            None => continue,
        };
        let separator = ini
            .get(section, "path_separator", &vars)
            .or_else(|| ini.get(section, "version_path_separator", &vars));
        let version_locations = match ini.get(section, "version_locations", &vars) {
            Some(raw) => split_locations(&raw, separator.as_deref())
                .into_iter()
                .map(|l| {
                    resolve_location(root, dir, &l).ok_or_else(|| ConfigError::Invalid {
                        file: path.to_string(),
                        line,
                        key: format!("[{section}] version_locations"),
                        message: format!("`{l}` points outside the repository"),
                        help: "use paths inside the repository, for example `%(here)s/migrations/versions`".into(),
                    })
                })
                .collect::<Result<_, _>>()?,
            None => vec![join(&script_location, "versions")],
        };
        let recursive = ini
            .get(section, "recursive_version_locations", &vars)
            .is_some_and(|v| {
                matches!(
                    v.trim().to_ascii_lowercase().as_str(),
                    "true" | "1" | "yes" | "on"
                )
            });
        // Flask-Migrate runs Alembic from the application's folder, the
        // parent of the migrations folder that holds its config.
        let project_root =
            if script_location == dir && ini.get(section, "script_location", &vars).is_none() {
                parent_dir(dir).to_string()
            } else {
                dir.to_string()
            };
        out.push(Discovered {
            name_hint: section.clone(),
            config_file: path.to_string(),
            section: section.clone(),
            script_location,
            version_locations,
            recursive,
            project_root,
            variant: None,
        });
    }
    Ok(out)
}

/// A script directory no config names (a project that configures Alembic
/// in code, like `Config()` plus `set_main_option`): env.py, its
/// script.py.mako and a versions/ folder. Alembic's own templates
/// (`alembic.ini.mako` beside them) are not environments.
pub fn from_script_dir(dir: &str) -> Discovered {
    Discovered {
        name_hint: "alembic".into(),
        config_file: join(dir, "env.py"),
        section: "alembic".into(),
        script_location: dir.to_string(),
        version_locations: vec![join(dir, "versions")],
        recursive: false,
        project_root: String::new(),
        variant: None,
    }
}

/// A default versions folder that holds no revision itself but one
/// revision tree per subfolder (a project that picks the tree by dialect
/// in code, like `versions/postgresql` and `versions/sqlite`): one
/// environment per tree, each with its own history and the same models.
pub fn split_version_trees(d: Discovered, versions_files: &[String]) -> Vec<Discovered> {
    let default = join(&d.script_location, "versions");
    if d.recursive || d.version_locations != [default.clone()] {
        return vec![d];
    }
    let mut direct = false;
    let mut trees: Vec<String> = Vec::new();
    for path in versions_files.iter().filter(|p| p.ends_with(".py")) {
        let Some(rest) = path.strip_prefix(&format!("{default}/")) else {
            continue;
        };
        match rest.split_once('/') {
            None if rest != "__init__.py" => direct = true,
            None => {}
            Some((sub, _)) if sub != "__pycache__" && !trees.iter().any(|t| t == sub) => {
                trees.push(sub.to_string());
            }
            Some(_) => {}
        }
    }
    if direct || trees.len() < 2 {
        return vec![d];
    }
    trees.sort();
    trees
        .into_iter()
        .map(|tree| Discovered {
            version_locations: vec![join(&default, &tree)],
            variant: Some(tree),
            ..d.clone()
        })
        .collect()
}

/// Resolves a `script_location` and checks that it exists: a location
/// that names no folder would hide every revision, so every schema edit
/// would be flagged (or, worse, none checked).
fn resolve_script_location(
    root: &Path,
    ini_dir: &str,
    location: &str,
    dirs: &dyn ScriptDirs,
) -> Result<String, (String, String)> {
    let candidates = location_candidates(root, ini_dir, location).ok_or_else(|| {
        (
            format!("`{location}` points outside the repository"),
            "use a path inside the repository, for example `%(here)s/migrations`".to_string(),
        )
    })?;
    if let Some(found) = candidates.iter().find(|c| dirs.exists(c)) {
        return Ok(found.clone());
    }
    let tried = candidates
        .iter()
        .map(|c| if c.is_empty() { "." } else { c.as_str() })
        .collect::<Vec<_>>()
        .join(", ");
    Err((
        format!("`{location}` names no folder of the project (looked for {tried})"),
        "point script_location at the folder that holds env.py (relative to the config's folder, `%(here)s/...`, or `package:folder`); in range mode (--base/--head) the files are read from the head commit".to_string(),
    ))
}

/// Where a location may be: a plain path has one place; `package:path`
/// (Alembic splits on every `:` and joins the rest as a path inside the
/// importable package) is looked for in the package roots of the project:
/// the config's folder and each folder above it, with or without `src/`.
fn location_candidates(root: &Path, ini_dir: &str, location: &str) -> Option<Vec<String>> {
    let location = location.trim();
    let root_str = root.to_string_lossy();
    if let Some(rest) = location.strip_prefix(root_str.as_ref()) {
        return normalize_rel(rest.trim_start_matches('/')).map(|p| vec![p]);
    }
    if location.starts_with('/') {
        return None;
    }
    let mut tokens = location.split(':');
    let first = tokens.next().unwrap_or_default();
    let rest: Vec<&str> = tokens.collect();
    if rest.is_empty() || first.is_empty() || first.contains('/') {
        return normalize_rel(&join(ini_dir, location)).map(|p| vec![p]);
    }
    let inside = join(&first.replace('.', "/"), &rest.join("/"));
    let mut out = Vec::new();
    let mut dir = ini_dir.to_string();
    loop {
        for base in [dir.clone(), join(&dir, "src")] {
            if let Some(p) = normalize_rel(&join(&base, &inside)) {
                if !out.contains(&p) {
                    out.push(p);
                }
            }
        }
        if dir.is_empty() {
            break;
        }
        dir = parent_dir(&dir).to_string();
    }
    Some(out)
}

/// Modules env.py imports that are surely not the project's own.
const FOREIGN_MODULES: &[&str] = &["__future__", "alembic", "sqlalchemy", "flask", "logging"];

/// The top-level module names env.py imports (`from app.models import
/// Base`, `import app.models`), in order; relative imports are skipped.
pub fn imported_top_modules(env_py: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in env_py.lines() {
        let line = line.trim_start();
        let names: Vec<&str> = if let Some(rest) = line.strip_prefix("from ") {
            rest.split_whitespace().next().into_iter().collect()
        } else if let Some(rest) = line.strip_prefix("import ") {
            rest.split('#')
                .next()
                .unwrap_or_default()
                .split(',')
                .filter_map(|part| part.split_whitespace().next())
                .collect()
        } else {
            continue;
        };
        for name in names {
            let top = name.split('.').next().unwrap_or_default();
            let valid = !top.is_empty() && top.chars().all(|c| c.is_alphanumeric() || c == '_');
            if valid && !FOREIGN_MODULES.contains(&top) && !out.iter().any(|o| o == top) {
                out.push(top.to_string());
            }
        }
    }
    out
}

/// Where to look for an environment's models: the project's own packages
/// that env.py imports (the models are what it hands Alembic), together
/// with the package that holds the script directory, resolved through the
/// package roots above it (`src/` layouts included). With neither, the
/// folder above the script directory when the config lives inside it
/// (Flask-Migrate's `migrations/`), else the config's folder.
pub fn model_scope(
    found: &Discovered,
    env_py: Option<&str>,
    is_package: &dyn Fn(&str) -> bool,
) -> String {
    let mut parts: Vec<String> = Vec::new();
    let roots = package_roots(&found.script_location);
    for module in env_py.map(imported_top_modules).unwrap_or_default() {
        if let Some(dir) = roots
            .iter()
            .map(|r| join(r, &module))
            .find(|d| is_package(d))
        {
            if !parts.contains(&dir) {
                parts.push(dir);
            }
        }
    }
    // The outermost package that holds the script directory.
    let components: Vec<&str> = found.script_location.split('/').collect();
    for end in 1..components.len() {
        let prefix = components[..end].join("/");
        if is_package(&prefix) {
            if !parts.contains(&prefix) {
                parts.push(prefix);
            }
            break;
        }
    }
    if parts.is_empty() {
        let config_dir = parent_dir(&found.config_file);
        return if found.script_location == config_dir {
            parent_dir(&found.script_location).to_string()
        } else {
            found.project_root.clone()
        };
    }
    parts
        .iter()
        .skip(1)
        .fold(parts[0].clone(), |acc, p| common_dir(&acc, p))
}

/// The folders a top-level import may resolve from: the script directory's
/// folder and each one above it, each also with `src/`.
fn package_roots(script_location: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut dir = parent_dir(script_location).to_string();
    loop {
        out.push(dir.clone());
        out.push(join(&dir, "src"));
        if dir.is_empty() {
            break;
        }
        dir = parent_dir(&dir).to_string();
    }
    out
}

/// The longest common folder of two repository-relative folders.
pub fn common_dir(a: &str, b: &str) -> String {
    a.split('/')
        .zip(b.split('/'))
        .take_while(|(x, y)| x == y)
        .map(|(x, _)| x)
        .collect::<Vec<_>>()
        .join("/")
}

/// Reads `[tool.alembic]` from a `pyproject.toml` (Alembic 1.16+).
pub fn from_pyproject(
    root: &Path,
    path: &str,
    text: &str,
) -> Result<Option<Discovered>, ConfigError> {
    // Cheap test first: most pyproject files have no alembic table.
    if !text.contains("tool.alembic") && !text.contains("[tool]") {
        return Ok(None);
    }
    let value: toml::Table = toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].matches('\n').count() as u32 + 1);
        ConfigError::Invalid {
            file: path.to_string(),
            line,
            key: "[tool.alembic]".into(),
            message: e.message().to_string(),
            help: "fix the TOML syntax".into(),
        }
    })?;
    let Some(alembic) = value
        .get("tool")
        .and_then(|t| t.get("alembic"))
        .and_then(|a| a.as_table())
    else {
        return Ok(None);
    };
    let dir = parent_dir(path);
    let here = root.join(dir).to_string_lossy().into_owned();
    let expand = |s: &str| s.replace("%(here)s", &here);
    let Some(location) = alembic.get("script_location").and_then(|v| v.as_str()) else {
        return Ok(None);
    };
    let Some(script_location) = resolve_location(root, dir, &expand(location)) else {
        return Err(ConfigError::Invalid {
            file: path.to_string(),
            line: None,
            key: "tool.alembic.script_location".into(),
            message: format!("`{location}` points outside the repository"),
            help: "use a path inside the repository".into(),
        });
    };
    let version_locations = match alembic.get("version_locations") {
        Some(toml::Value::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_str())
            .filter_map(|l| resolve_location(root, dir, &expand(l)))
            .collect(),
        Some(toml::Value::String(s)) => split_locations(&expand(s), None)
            .into_iter()
            .filter_map(|l| resolve_location(root, dir, &l))
            .collect(),
        _ => vec![join(&script_location, "versions")],
    };
    let recursive = alembic
        .get("recursive_version_locations")
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    Ok(Some(Discovered {
        name_hint: "alembic".into(),
        config_file: path.to_string(),
        section: "alembic".into(),
        script_location,
        version_locations,
        recursive,
        project_root: dir.to_string(),
        variant: None,
    }))
}

/// Splits `version_locations` the way Alembic does for the configured
/// separator; without one, on spaces and/or commas (the legacy default).
fn split_locations(raw: &str, separator: Option<&str>) -> Vec<String> {
    let parts: Vec<&str> = match separator.map(str::trim) {
        Some("os") | Some(":") => raw.split(':').collect(),
        Some(";") => raw.split(';').collect(),
        Some("newline") => raw.lines().collect(),
        Some("space") => raw.split(' ').collect(),
        _ => raw.split([' ', ',', '\n']).collect(),
    };
    parts
        .into_iter()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

/// Turns a location from an Alembic config (absolute, relative to the ini's
/// directory, or a `package:dir` resource) into a repository-relative path.
fn resolve_location(root: &Path, ini_dir: &str, location: &str) -> Option<String> {
    let location = location.trim();
    let root_str = root.to_string_lossy();
    if let Some(rest) = location.strip_prefix(root_str.as_ref()) {
        return normalize_rel(rest.trim_start_matches('/'));
    }
    if location.starts_with('/') {
        return None;
    }
    // `myapp:migrations` names a package resource; packages live under the
    // project directory (or its `src/`).
    let location = match location.split_once(':') {
        Some((pkg, sub)) if !pkg.contains('/') && !pkg.is_empty() => {
            format!("{}/{}", pkg.replace('.', "/"), sub)
        }
        _ => location.to_string(),
    };
    normalize_rel(&join(ini_dir, &location))
}

/// Whether a discovered config file may define environments at all:
/// configs inside virtual environments, vendored code and test fixtures
/// belong to someone else.
pub fn is_candidate_config(path: &str) -> bool {
    !is_excluded_dir_path(parent_dir(path))
}

/// Gives discovered environments stable, readable names: `main` for a
/// lone `[alembic]` section at the top, otherwise the directory and section.
pub fn into_environments(found: Vec<Discovered>) -> Vec<Environment> {
    let single = found.len() == 1;
    let mut used: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = Vec::with_capacity(found.len());
    for d in found {
        let dir = parent_dir(&d.config_file);
        let base = match (dir.is_empty(), d.section == "alembic") {
            (true, true) => "main".to_string(),
            (true, false) => d.section.clone(),
            (false, true) if single => "main".to_string(),
            (false, true) => dir.to_string(),
            (false, false) => format!("{dir}:{}", d.section),
        };
        let base = match &d.variant {
            Some(v) => format!("{base}/{v}"),
            None => base,
        };
        let count = used.entry(base.clone()).or_insert(0);
        *count += 1;
        let name = if *count == 1 {
            base
        } else {
            format!("{base}-{count}")
        };
        let mut env = Environment::new(name, d.script_location, d.version_locations);
        env.recursive_versions = d.recursive;
        env.models = Models::ByContent {
            scope: d.project_root.clone(),
        };
        env.project_root = d.project_root;
        if d.config_file.ends_with(".ini") {
            env.alembic_ini = Some(d.config_file);
            env.ini_section = d.section;
        } else if d.config_file.ends_with("pyproject.toml") {
            env.pyproject = Some(d.config_file);
        }
        out.push(env);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> &'static Path {
        Path::new("/repo")
    }

    #[test]
    fn ini_with_here_and_default_versions() {
        let found = from_ini(
            root(),
            "alembic.ini",
            "[alembic]\nscript_location = %(here)s/migrations\n",
            None,
            &|_: &str| true,
        )
        .unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].script_location, "migrations");
        assert_eq!(found[0].version_locations, ["migrations/versions"]);
        assert_eq!(found[0].project_root, "");
    }

    #[test]
    fn nested_ini_with_relative_location_and_version_locations() {
        let found = from_ini(
            root(),
            "services/billing/alembic.ini",
            "[alembic]\nscript_location = db\nversion_path_separator = os\nversion_locations = %(here)s/db/versions:%(here)s/db/extra\n",
            None,
            &|_: &str| true,
        )
        .unwrap();
        assert_eq!(found[0].script_location, "services/billing/db");
        assert_eq!(
            found[0].version_locations,
            ["services/billing/db/versions", "services/billing/db/extra"]
        );
    }

    #[test]
    fn several_sections_make_several_environments() {
        let found = from_ini(
            root(),
            "alembic.ini",
            "[alembic]\nscript_location = main_db\n\n[analytics]\nscript_location = analytics_db\n\n[loggers]\nkeys = root\n",
            None,
            &|_: &str| true,
        )
        .unwrap();
        let envs = into_environments(found);
        let names: Vec<_> = envs.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["main", "analytics"]);
        assert_eq!(envs[1].ini_section, "analytics");
    }

    #[test]
    fn package_resource_location() {
        let found = from_ini(
            root(),
            "alembic.ini",
            "[alembic]\nscript_location = myapp:migrations\n",
            None,
            &|_: &str| true,
        )
        .unwrap();
        assert_eq!(found[0].script_location, "myapp/migrations");
    }

    #[test]
    fn location_outside_repository_is_an_error() {
        let err = from_ini(
            root(),
            "alembic.ini",
            "[alembic]\nscript_location = /elsewhere/m\n",
            None,
            &|_: &str| true,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("alembic.ini:1"), "{err}");
        assert!(err.contains("outside the repository"), "{err}");
    }

    #[test]
    fn legacy_separator_splits_on_spaces_and_commas() {
        assert_eq!(split_locations("a b,c", None), ["a", "b", "c"]);
        assert_eq!(split_locations("a b;c", Some(";")), ["a b", "c"]);
    }

    #[test]
    fn pyproject_tool_alembic() {
        let found = from_pyproject(
            root(),
            "backend/pyproject.toml",
            "[project]\nname = \"x\"\n\n[tool.alembic]\nscript_location = \"%(here)s/alembic\"\nversion_locations = [\"%(here)s/alembic/versions\", \"%(here)s/more\"]\n",
        )
        .unwrap()
        .unwrap();
        assert_eq!(found.script_location, "backend/alembic");
        assert_eq!(
            found.version_locations,
            ["backend/alembic/versions", "backend/more"]
        );
    }

    #[test]
    fn pyproject_without_alembic_is_ignored() {
        assert!(
            from_pyproject(root(), "pyproject.toml", "[tool.black]\nline-length = 88\n")
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn configs_in_virtualenvs_and_tests_are_not_candidates() {
        assert!(is_candidate_config("alembic.ini"));
        assert!(is_candidate_config("services/a/alembic.ini"));
        assert!(!is_candidate_config(
            ".venv/lib/python3.11/site-packages/x/alembic.ini"
        ));
        assert!(!is_candidate_config("tests/fixtures/p/alembic.ini"));
    }

    #[test]
    fn names_for_nested_environments() {
        let mut a = from_ini(
            root(),
            "svc/a/alembic.ini",
            "[alembic]\nscript_location = m\n",
            None,
            &|_: &str| true,
        )
        .unwrap();
        let b = from_ini(
            root(),
            "svc/b/alembic.ini",
            "[alembic]\nscript_location = m\n",
            None,
            &|_: &str| true,
        )
        .unwrap();
        a.extend(b);
        let names: Vec<_> = into_environments(a).into_iter().map(|e| e.name).collect();
        assert_eq!(names, ["svc/a", "svc/b"]);
    }
}
