//! `alembot verify`: the static check, then the dynamic job on throwaway
//! databases for the environments the change touches.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use crate::analysis::analyse;
use crate::change::{ChangeSet, Range, Source};
use crate::cli::VerifyArgs;
use crate::config::{Environment, Overrides, Settings};
use crate::error::Error;
use crate::findings::{Finding, Report};
use crate::job::provider::ProviderSpec;
use crate::job::{EnvPlan, JobPlan, checks};
use crate::rules::Code;
use crate::snapshot::{SnapshotPlan, Store};

use super::plan::{convert, env_request, python_for};
use super::{Exit, Globals, emit, open, range_of};

pub fn run(globals: &Globals, args: &VerifyArgs) -> Result<Exit, Error> {
    let report = build_report(globals, args)?;
    emit(&report, &args.output, globals, None)?;
    Ok(Exit::of(&report))
}

/// Runs `verify` as the command line asks and returns its report.
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
        database_checks: (!args.checks.is_empty()).then(|| args.checks.clone()),
        ..Overrides::default()
    };
    let (source, change, settings) = open(globals, &range, overrides)?;
    let runtime = crate::job::runtime(settings.jobs)?;
    runtime.block_on(verify_report(&source, &change, &settings, args.all))
}

/// The static check, then the dynamic job for the environments the change
/// touches (all of them with `all`), as one report.
pub async fn verify_report(
    source: &Source,
    change: &ChangeSet,
    settings: &Settings,
    all: bool,
) -> Result<Report, Error> {
    let provider: ProviderSpec = settings.database.parse()?;
    let analysis = analyse(source, change, settings)?;
    let mut report = Report::new(
        settings.apply_levels(analysis.findings.clone()),
        &["static"],
        analysis.notes.clone(),
    );
    let selected: Vec<(&Environment, &crate::analysis::EnvState)> = settings
        .environments
        .iter()
        .zip(&analysis.envs)
        .filter(|(_, state)| all || state.touched())
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
        let mut plan = env_plan(source, settings, env, state, &tree, all)?;
        plan.snapshot = snapshot_plan(source, settings, env, state, &provider, &plan, all)?;
        plans.push(plan);
    }
    let plan = JobPlan {
        envs: plans,
        provider,
        jobs: settings.jobs,
        timeout: settings.timeout,
        progress: std::io::stderr().is_terminal(),
    };
    let outcome = crate::job::run_async(plan).await?;
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
        if let Some(n) = &env.snapshot_note {
            notes.push(format!("{}: {n}", env.name));
        }
    }
    notes.insert(
        0,
        format!("The database checks ran on {}.", outcome.provider),
    );
    if let Some(only) = &settings.database_checks {
        notes.insert(
            1,
            format!(
                "Only the database checks chosen with --checks ran: {}.",
                only.iter()
                    .map(|c| c.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
    for e in &outcome.cleanup_errors {
        notes.push(format!("Cleanup: {e}"));
    }
    let dynamic = fold_confirmed_drift(&mut report.findings, dynamic);
    let checks_ref: Vec<&str> = checks_run.iter().map(String::as_str).collect();
    report.merge(Report::new(
        settings.apply_levels(dynamic),
        &checks_ref,
        notes,
    ));
    Ok(report)
}

/// A `drift` finding that confirms a static `missing-migration` (same
/// file, line, table and column) is the same problem seen twice: its
/// rendered Alembic operations become that finding's details instead of a
/// second finding (and a second inline comment on the pull request).
fn fold_confirmed_drift(static_findings: &mut [Finding], dynamic: Vec<Finding>) -> Vec<Finding> {
    let mut rest = Vec::with_capacity(dynamic.len());
    for d in dynamic {
        let target = d
            .is(Code::Drift)
            .then(|| {
                static_findings.iter_mut().find(|s| {
                    s.is(Code::MissingMigration)
                        && s.file == d.file
                        && s.line == d.line
                        && s.table == d.table
                        && s.column == d.column
                        && s.environment == d.environment
                })
            })
            .flatten();
        match target {
            Some(s) => {
                let confirmed = format!(
                    "Running the migrations confirms it: {}{}",
                    d.message,
                    d.details
                        .as_deref()
                        .map(|ops| format!("\nThe missing operations:\n{ops}"))
                        .unwrap_or_default()
                );
                s.details = Some(match s.details.take() {
                    Some(prev) => format!("{prev}\n{confirmed}"),
                    None => confirmed,
                });
            }
            None => rest.push(d),
        }
    }
    rest
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
        settings.database_checks.as_deref(),
    ));
    Ok(EnvPlan {
        name: env.name.clone(),
        python: python_for(settings, env),
        request,
        snapshot: None,
    })
}

/// The base snapshot for `env` (issue 16): only for a change that adds
/// revisions on top of an existing history whose data upgrade runs (that
/// check builds the base state a snapshot saves), in a git repository,
/// without `--all` or `--no-cache`.
fn snapshot_plan(
    source: &Source,
    settings: &Settings,
    env: &Environment,
    state: &crate::analysis::EnvState,
    provider: &ProviderSpec,
    plan: &EnvPlan,
    all: bool,
) -> Result<Option<SnapshotPlan>, Error> {
    let data_upgrade = plan
        .request
        .checks
        .as_ref()
        .is_some_and(|c| c.data_upgrade.is_some());
    let Some(cache_dir) = source.cache_dir() else {
        return Ok(None);
    };
    if all || !settings.revision_cache || !data_upgrade {
        return Ok(None);
    }
    let inputs = crate::snapshot::inputs::collect(source, env, &state.added_files, provider)?;
    Ok(Some(SnapshotPlan::lookup(
        Store::in_cache_dir(&cache_dir),
        inputs.key(),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confirmed_drift_folds_into_the_static_finding() {
        let mut static_findings = vec![
            Finding::error(Code::MissingMigration, "no revision")
                .at("app/models.py", Some(12))
                .in_env("main")
                .with_table("user")
                .with_column("email"),
        ];
        let dynamic = vec![
            Finding::error(Code::Drift, "table `user` has no column `email`")
                .at("app/models.py", Some(12))
                .in_env("main")
                .with_table("user")
                .with_column("email")
                .with_details("op.add_column('user', ...)"),
            Finding::error(Code::Drift, "table `user` has no column `phone`")
                .at("app/models.py", Some(13))
                .in_env("main")
                .with_table("user")
                .with_column("phone"),
        ];
        let rest = fold_confirmed_drift(&mut static_findings, dynamic);
        assert_eq!(rest.len(), 1);
        assert_eq!(rest[0].column.as_deref(), Some("phone"));
        let details = static_findings[0].details.as_deref().unwrap();
        assert!(details.contains("op.add_column('user', ...)"), "{details}");
    }
}
