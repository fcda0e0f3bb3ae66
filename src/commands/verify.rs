//! `alembot verify`: the static check, then the dynamic job on throwaway
//! databases for the environments the change touches.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use crate::analysis::analyse;
use crate::change::{Range, Source};
use crate::cli::VerifyArgs;
use crate::config::{Environment, Overrides, Settings};
use crate::error::Error;
use crate::findings::Report;
use crate::job::provider::ProviderSpec;
use crate::job::{EnvPlan, JobPlan, checks, choose_python};

use super::plan::{convert, env_request};
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
    let mut request = env_request(source, settings, env, tree, "verify")?;
    request.checks = Some(checks(
        all,
        &state.added_revisions,
        &state.base_heads,
        env.data_tests
            .as_deref()
            .map(|d| tree.join(d).display().to_string()),
    ));
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
