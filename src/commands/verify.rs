//! `alembot verify`: the static check, then the dynamic job on throwaway
//! databases for the environments the change touches.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use crate::analysis::analyse;
use crate::change::{Range, Side, Source};
use crate::cli::VerifyArgs;
use crate::config::paths::{is_excluded_dir_path, is_test_file, is_under, parent_dir};
use crate::config::{Environment, Models, Overrides, Settings, declares_tables};
use crate::error::Error;
use crate::findings::{Finding, Report, Severity};
use crate::job::protocol::{HelperFinding, Request};
use crate::job::provider::ProviderSpec;
use crate::job::{EnvPlan, JobPlan, checks, choose_python};

use super::{Exit, Globals, emit, open, range_of};

pub fn run(globals: &Globals, args: &VerifyArgs) -> Result<Exit, Error> {
    let report = build_report(globals, args)?;
    emit(&report, &args.output, globals, None)?;
    Ok(Exit::of(&report))
}

/// Runs `verify` and returns its report (the GitHub bot publishes it).
pub fn build_report(globals: &Globals, args: &VerifyArgs) -> Result<Report, Error> {
    let range = if args.all {
        Range::All
    } else {
        range_of(&args.range)
    };
    let overrides = Overrides {
        environments: args.environments.clone(),
        python: args.python.clone(),
        database: args.database.clone(),
        timeout: args.timeout,
        jobs: args.jobs,
        ..Overrides::default()
    };
    let (source, change, settings) = open(globals, &range, overrides)?;
    let provider: ProviderSpec = settings.database.parse()?;
    let analysis = analyse(&source, &change, &settings)?;
    let mut report = Report::new(
        settings.apply_levels(analysis.findings.clone()),
        &["static"],
        analysis.notes.clone(),
    );
    let selected: Vec<(&Environment, &crate::analysis::EnvState)> = settings
        .environments
        .iter()
        .zip(&analysis.envs)
        .filter(|(_, state)| args.all || state.touched())
        .collect();
    if selected.is_empty() {
        report.notes.push(
            "The database checks were skipped: the change touches neither models nor migrations."
                .into(),
        );
        return Ok(report);
    }
    // The project runs from the working tree when it holds the change,
    // otherwise from an export of the index or the head commit.
    let export = match source.new_side_on_disk() {
        Some(_) => None,
        None => {
            let dir = tempfile::Builder::new()
                .prefix("alembot-tree-")
                .tempdir()
                .map_err(|e| Error::Usage(format!("cannot create a temporary directory: {e}")))?;
            source.export_new_side(dir.path())?;
            Some(dir)
        }
    };
    let tree: PathBuf = match &export {
        Some(dir) => dir.path().to_path_buf(),
        None => change.root.clone(),
    };
    let mut plans = Vec::new();
    for (env, state) in &selected {
        plans.push(env_plan(&source, &settings, env, state, &tree, args.all)?);
    }
    let plan = JobPlan {
        envs: plans,
        provider,
        jobs: settings.jobs,
        timeout: settings.timeout,
        progress: std::io::stderr().is_terminal(),
    };
    let outcome = crate::job::run(plan)?;
    drop(export);
    let mut dynamic = Vec::new();
    let mut checks_run: Vec<String> = Vec::new();
    let mut notes = Vec::new();
    for env in &outcome.envs {
        for f in &env.result.findings {
            dynamic.push(convert(f, &env.name, &tree));
        }
        for c in &env.result.checks {
            if !checks_run.contains(c) {
                checks_run.push(c.clone());
            }
        }
        for (check, why) in &env.result.skipped {
            notes.push(format!(
                "{}: the {check} check did not run: {why}",
                env.name
            ));
        }
        notes.extend(
            env.result
                .notes
                .iter()
                .map(|n| format!("{}: {n}", env.name)),
        );
    }
    notes.insert(
        0,
        format!("The database checks ran on {}.", outcome.provider),
    );
    for e in &outcome.cleanup_errors {
        notes.push(format!("Cleanup: {e}"));
    }
    let checks_ref: Vec<&str> = checks_run.iter().map(String::as_str).collect();
    report.merge(Report::new(
        settings.apply_levels(dynamic),
        &checks_ref,
        notes,
    ));
    Ok(report)
}

fn env_plan(
    source: &Source,
    settings: &Settings,
    env: &Environment,
    state: &crate::analysis::EnvState,
    tree: &Path,
    all: bool,
) -> Result<EnvPlan, Error> {
    let abs = |rel: &str| tree.join(rel).display().to_string();
    let model_files = model_files(source, settings, env)?
        .into_iter()
        .map(|p| abs(&p))
        .collect();
    let request = Request {
        action: "verify",
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
        checks: Some(checks(
            all,
            &state.added_revisions,
            &state.base_heads,
            env.data_tests.as_deref().map(abs),
        )),
        server_url: None,
        name: None,
    };
    Ok(EnvPlan {
        name: env.name.clone(),
        python: choose_python(
            settings.python_override.as_deref(),
            env.python.as_deref(),
            settings.python.as_deref(),
            &settings.root,
        ),
        request,
    })
}

/// The environment's model modules (for `unregistered-model`): the
/// configured globs, or the Python files under its project that declare
/// tables.
fn model_files(
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
fn convert(f: &HelperFinding, environment: &str, tree: &Path) -> Finding {
    let severity = match f.severity.as_str() {
        "error" => Severity::Error,
        "notice" => Severity::Notice,
        _ => Severity::Warning,
    };
    let mut finding = Finding::new(&f.code, severity, f.message.clone()).in_env(environment);
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
    if let Some(d) = &f.details {
        let d = scrub(d);
        finding.details = Some(match finding.details.take() {
            Some(prefix) => format!("{prefix}\n{d}"),
            None => d,
        });
    }
    finding
}
