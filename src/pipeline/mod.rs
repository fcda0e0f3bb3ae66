//! The pipeline between the commands and the stages: the static stage,
//! planning (the static result → the job's plan), the job, and merging
//! (static and dynamic findings into one report, at the configured
//! severities). Commands parse arguments and print; this composes.

pub mod plan;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use crate::analysis::{EnvState, StaticResult, analyse};
use crate::change::{ChangeSet, Source};
use crate::config::{Environment, Settings};
use crate::error::Error;
use crate::findings::{Finding, Report};
use crate::job::provider::ProviderSpec;
use crate::job::{EnvPlan, JobPlan, checks};
use crate::rules::Code;
use crate::snapshot::{SnapshotPlan, Store};

use plan::{convert, env_request, helper_tree, python_for};

/// What `verify` produced: the report, and the job's error when the
/// database checks could not run (the report still holds every static
/// finding then).
#[derive(Debug)]
pub struct Verified {
    pub report: Report,
    pub job_error: Option<Error>,
}

/// The static stage as a report (at the configured severities), with what
/// it learnt about each environment for planning.
pub fn static_stage(
    source: &Source,
    change: &ChangeSet,
    settings: &Settings,
) -> Result<(Report, StaticResult), Error> {
    let analysis = analyse(source, change, settings)?;
    let report = Report::new(
        settings.apply_levels(analysis.findings.clone()),
        &["static"],
        analysis.notes.clone(),
    );
    Ok((report, analysis))
}

/// The static check, then the dynamic job for the environments the change
/// touches (all of them with `all`), as one report.
///
/// Errors of the static stage (the change, the configuration, a revision
/// file that cannot be read) end the run. Once the static report exists,
/// an error of the job (no Python, no SQLAlchemy, a database that cannot be
/// reached) is kept next to it in [`Verified::job_error`] and said in the
/// report's notes, so the static findings are never lost.
pub async fn verify(
    source: &Source,
    change: &ChangeSet,
    settings: &Settings,
    all: bool,
) -> Result<Verified, Error> {
    let provider: ProviderSpec = settings.database.parse()?;
    let (mut report, analysis) = static_stage(source, change, settings)?;
    match dynamic_stage(
        source,
        change,
        settings,
        all,
        provider,
        &analysis,
        &mut report,
    )
    .await
    {
        Ok(()) => Ok(Verified {
            report,
            job_error: None,
        }),
        Err(err) => {
            report
                .notes
                .push(format!("The database checks could not run: {err}"));
            Ok(Verified {
                report,
                job_error: Some(err),
            })
        }
    }
}

/// Planning, the job and merging, for the environments the change touches
/// (all of them with `all`): their findings and notes join `report`.
async fn dynamic_stage(
    source: &Source,
    change: &ChangeSet,
    settings: &Settings,
    all: bool,
    provider: ProviderSpec,
    analysis: &StaticResult,
    report: &mut Report,
) -> Result<(), Error> {
    let selected: Vec<(&Environment, &EnvState)> = settings
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
        return Ok(());
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
    // Each environment's tree as its interpreter sees it (a container's
    // workdir), to read the paths in its findings.
    let mut seen_trees = std::collections::BTreeMap::new();
    for (env, state) in &selected {
        let seen = helper_tree(settings, env, &tree)?;
        // A temporary SQLite file of the host is not in the container.
        if seen != tree && provider == ProviderSpec::Sqlite {
            return Err(Error::Usage(format!(
                "`{}` runs the project in a container (container.workdir), which cannot see alembot's temporary SQLite file\n  help: use a server URL the container reaches, or --database docker:IMAGE (see README.md, Containers)",
                python_for(settings, env)
            )));
        }
        let mut plan = env_plan(source, settings, env, state, &seen, all)?;
        plan.snapshot = snapshot_plan(source, settings, env, state, &provider, &plan, all)?;
        plans.push(plan);
        seen_trees.insert(env.name.clone(), seen);
    }
    let plan = JobPlan {
        envs: plans,
        provider,
        jobs: settings.jobs,
        timeout: settings.timeout,
        progress: std::io::stderr().is_terminal(),
        docker_network: settings.docker_network.clone(),
    };
    let outcome = crate::job::run_async(plan).await?;
    drop(export);
    let mut dynamic = Vec::new();
    let mut checks_run: Vec<String> = Vec::new();
    let mut notes = Vec::new();
    for env in &outcome.envs {
        let seen = seen_trees.get(&env.name).unwrap_or(&tree);
        for f in &env.result.findings {
            dynamic.push(convert(f, &env.name, seen));
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
    Ok(())
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
    state: &EnvState,
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
    state: &EnvState,
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
