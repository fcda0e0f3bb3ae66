//! Finding Alembic environments without a configuration file: every
//! `alembic.ini` (each section with a `script_location`) and every
//! `pyproject.toml` with `[tool.alembic]`.

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
}

/// Reads one `alembic.ini`: one environment per section that has a
/// `script_location` (`alembic -n NAME` selects them).
pub fn from_ini(
    root: &Path,
    path: &str,
    text: &str,
    only_section: Option<&str>,
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
        let Some(location) = ini.get(section, "script_location", &vars) else {
            continue;
        };
        let script_location =
            resolve_location(root, dir, &location).ok_or_else(|| ConfigError::Invalid {
                file: path.to_string(),
                line: ini.section_lines.get(section).copied(),
                key: format!("[{section}] script_location"),
                message: format!("`{location}` points outside the repository"),
                help: "use a path inside the repository, for example `%(here)s/migrations`".into(),
            })?;
        let separator = ini
            .get(section, "path_separator", &vars)
            .or_else(|| ini.get(section, "version_path_separator", &vars));
        let version_locations = match ini.get(section, "version_locations", &vars) {
            Some(raw) => split_locations(&raw, separator.as_deref())
                .into_iter()
                .filter_map(|l| resolve_location(root, dir, &l))
                .collect(),
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
        out.push(Discovered {
            name_hint: section.clone(),
            config_file: path.to_string(),
            section: section.clone(),
            script_location,
            version_locations,
            recursive,
            project_root: dir.to_string(),
        });
    }
    Ok(out)
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
        } else {
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
        )
        .unwrap();
        let b = from_ini(
            root(),
            "svc/b/alembic.ini",
            "[alembic]\nscript_location = m\n",
            None,
        )
        .unwrap();
        a.extend(b);
        let names: Vec<_> = into_environments(a).into_iter().map(|e| e.name).collect();
        assert_eq!(names, ["svc/a", "svc/b"]);
    }
}
