//! What the commands that run the project (verify, status) tell the Python
//! helper about an environment, and how its answers come back.

use std::path::{Path, PathBuf};

use crate::change::{Side, Source};
use crate::config::paths::{is_excluded_dir_path, is_test_file, is_under, parent_dir};
use crate::config::{Environment, Models, Settings, declares_tables};
use crate::error::Error;
use crate::findings::{Finding, Severity};
use crate::job::choose_python;
use crate::job::interpreter::Interpreter;
use crate::job::protocol::{HelperFinding, Request};

/// The interpreter that runs `env`'s project (see [`choose_python`]).
pub fn python_for(settings: &Settings, env: &Environment) -> String {
    choose_python(
        settings.python_override.as_deref(),
        env.python.as_deref(),
        settings.python.as_deref(),
        &settings.root,
    )
}

/// The tree as `env`'s interpreter sees it: `container.workdir` for a
/// command prefix (`docker exec -i app python`), else `tree` itself. A
/// container sees the repository only where it is mounted, so a change
/// exported to a temporary directory (`--staged`, a range other than the
/// checkout) cannot run there.
pub fn helper_tree(settings: &Settings, env: &Environment, tree: &Path) -> Result<PathBuf, Error> {
    let Some(workdir) = &settings.container_workdir else {
        return Ok(tree.to_path_buf());
    };
    let python = python_for(settings, env);
    if !matches!(Interpreter::parse(&python), Ok(Interpreter::Prefix { .. })) {
        return Ok(tree.to_path_buf());
    }
    if tree != settings.root {
        return Err(Error::Usage(format!(
            "`{python}` runs the project in a container that sees the repository at {workdir} (container.workdir), but this change is not the working tree: alembot exported it to {}, which the container cannot see\n  help: run verify on a checkout of the change (no --staged; for a range, check out its head), or use a host interpreter for this run (--python)",
            tree.display()
        )));
    }
    Ok(PathBuf::from(workdir))
}

/// The request fields that describe `env` as it stands in `tree`.
pub fn env_request(
    source: &Source,
    settings: &Settings,
    env: &Environment,
    tree: &Path,
    action: &'static str,
) -> Result<Request, Error> {
    let abs = |rel: &str| tree.join(rel).display().to_string();
    let model_files = model_files(source, settings, env)?
        .into_iter()
        .map(|p| abs(&p))
        .collect();
    Ok(Request {
        action,
        project_root: abs(&env.project_root),
        alembic_ini: env
            .alembic_ini
            .as_deref()
            .or(env.pyproject.as_deref())
            .map(abs),
        ini_section: env.ini_section.clone(),
        // With an ini Alembic resolves the location itself (package
        // resources included); without one the helper needs it.
        script_location: (env.alembic_ini.is_none() && env.pyproject.is_none())
            .then(|| abs(&env.script_location)),
        database_url: None,
        url_env_vars: env.database_url_env.clone(),
        version_table: env.version_table.clone(),
        version_table_schema: env.version_table_schema.clone(),
        setup_sql: env.setup_sql.clone(),
        model_files,
        checks: None,
        server_url: None,
        name: None,
        pass_env: env.pass_env.clone(),
        snapshot: None,
    })
}

/// The environment's model modules (for `unregistered-model`): the
/// configured globs, or the Python files under its project that declare
/// tables.
pub fn model_files(
    source: &Source,
    settings: &Settings,
    env: &Environment,
) -> Result<Vec<String>, Error> {
    let scope = match &env.models {
        Models::Globs { .. } => "",
        Models::ByContent { scope } => scope.as_str(),
    };
    let mut out = Vec::new();
    for path in source.files_under(Side::New, scope)? {
        if !path.ends_with(".py")
            || settings.is_ignored(&path)
            || settings
                .environments
                .iter()
                .any(|e| e.owns_migration_path(&path))
        {
            continue;
        }
        match &env.models {
            Models::Globs { set, .. } => {
                if set.is_match(&path) {
                    out.push(path);
                }
            }
            Models::ByContent { scope } => {
                if !is_under(&path, scope)
                    || is_excluded_dir_path(parent_dir(&path))
                    || is_test_file(&path)
                {
                    continue;
                }
                let Some(bytes) = source.read(Side::New, &path)? else {
                    continue;
                };
                if declares_tables(&String::from_utf8_lossy(&bytes)) {
                    out.push(path);
                }
            }
        }
    }
    Ok(out)
}

/// A helper finding with its paths made repository-relative.
pub fn convert(f: &HelperFinding, environment: &str, tree: &Path) -> Finding {
    let severity = match f.severity.as_str() {
        "error" => Severity::Error,
        "notice" => Severity::Notice,
        _ => Severity::Warning,
    };
    let mut finding =
        Finding::with_code_str(&f.code, severity, f.message.clone()).in_env(environment);
    let tree_str = tree.display().to_string();
    let canonical = tree.canonicalize().ok().map(|p| p.display().to_string());
    let relative = |p: &str| -> Option<String> {
        [Some(tree_str.as_str()), canonical.as_deref()]
            .into_iter()
            .flatten()
            .find_map(|root| {
                p.strip_prefix(root)
                    .map(|r| r.trim_start_matches('/').to_string())
            })
    };
    if let Some(file) = &f.file {
        match relative(file) {
            Some(rel) => finding = finding.at(rel, f.line),
            // Outside the project (an installed package): keep it out of
            // locations, where a code-scanning upload would reject it.
            None => {
                finding.details = Some(format!(
                    "in {file}{}",
                    f.line.map(|l| format!(":{l}")).unwrap_or_default()
                ));
            }
        }
    }
    let scrub = |text: &str| {
        let mut t = text.replace(&format!("{tree_str}/"), "");
        if let Some(c) = &canonical {
            t = t.replace(&format!("{c}/"), "");
        }
        t
    };
    finding.message = scrub(&finding.message);
    finding.help = f.help.as_deref().map(scrub);
    finding.table = f.table.clone();
    finding.column = f.column.clone();
    finding.revision = f.revision.clone();
    finding.operation = f.operation.clone();
    if let Some(d) = &f.details {
        let d = scrub(d);
        finding.details = Some(match finding.details.take() {
            Some(prefix) => format!("{prefix}\n{d}"),
            None => d,
        });
    }
    finding
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helper_findings_keep_their_operation_and_become_relative() {
        let f: HelperFinding = serde_json::from_value(serde_json::json!({
            "code": "drift", "severity": "error", "message": "users has no nickname",
            "file": "/work/p/app/models.py", "line": 13, "table": "users",
            "column": "nickname", "operation": "add_column"
        }))
        .unwrap();
        let out = convert(&f, "main", Path::new("/work/p"));
        assert_eq!(out.file.as_deref(), Some("app/models.py"));
        assert_eq!(out.line, Some(13));
        let json = serde_json::to_value(&out).unwrap();
        assert_eq!(json["operation"], "add_column");
        // Static findings carry no operation, and the JSON has no key for it.
        let plain = serde_json::to_value(Finding::error(crate::rules::Code::MissingMigration, "m"))
            .unwrap();
        assert!(plain.get("operation").is_none());
    }
}
