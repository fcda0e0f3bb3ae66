//! The dynamic job: throwaway databases, the project's own migrations run
//! by the embedded Python helper, and cleanup that always happens.
//!
//! `run` owns a small tokio runtime. It races the job against the timeout,
//! Ctrl-C and SIGTERM; whichever ends it, the job's futures are dropped
//! (which kills the helpers' process groups) and the janitor then removes
//! every database, cluster, container and temporary file the run created.

pub mod child_env;
pub mod cleanup;
pub mod helper;
pub mod progress;
pub mod protocol;
pub mod provider;
pub mod reaper;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::config::DatabaseCheck;
use cleanup::{Cleanup, Janitor};
use helper::{Helper, HelperError};
use progress::Progress;
use protocol::{Checks, Request, VerifyResult};
use provider::{ProviderError, ProviderSpec, Server, Target};

/// What one environment's helper run needs.
#[derive(Debug, Clone)]
pub struct EnvPlan {
    pub name: String,
    pub python: String,
    pub request: Request,
    /// The base snapshot to restore or to make (issue 16).
    pub snapshot: Option<crate::snapshot::SnapshotPlan>,
}

#[derive(Debug, Clone)]
pub struct JobPlan {
    pub envs: Vec<EnvPlan>,
    pub provider: ProviderSpec,
    pub jobs: usize,
    pub timeout: Duration,
    /// Show a progress line (stderr is a terminal).
    pub progress: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error(transparent)]
    Helper(#[from] HelperError),
    #[error("the job timed out after {} s and was stopped; {cleanup}\n  help: raise --timeout (or `timeout:` in .alembot.yml)", .after.as_secs())]
    TimedOut { after: Duration, cleanup: Cleaned },
    #[error("interrupted by {signal}; {cleanup}")]
    Interrupted {
        signal: &'static str,
        cleanup: Cleaned,
    },
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

impl JobError {
    /// The process exit code for this error: 130/143 for signals (the
    /// shell convention), 2 for everything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            JobError::Interrupted {
                signal: "SIGINT", ..
            } => 130,
            JobError::Interrupted { .. } => 143,
            _ => 2,
        }
    }

    fn timed_out(after: Duration) -> JobError {
        JobError::TimedOut {
            after,
            cleanup: Cleaned::default(),
        }
    }

    fn interrupted(signal: &'static str) -> JobError {
        JobError::Interrupted {
            signal,
            cleanup: Cleaned::default(),
        }
    }

    /// Records what cleanup could not remove, so the message tells the truth.
    fn after_cleanup(mut self, errors: &[String]) -> JobError {
        if let JobError::TimedOut { cleanup, .. } | JobError::Interrupted { cleanup, .. } =
            &mut self
        {
            cleanup.0 = errors.to_vec();
        }
        self
    }
}

/// What cleanup left behind (nothing, when it is empty), for the message
/// of a run that was stopped.
#[derive(Debug, Clone, Default)]
pub struct Cleaned(pub Vec<String>);

impl std::fmt::Display for Cleaned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.is_empty() {
            return f.write_str("everything the job created was removed");
        }
        f.write_str("cleanup could not remove everything:")?;
        for e in &self.0 {
            write!(f, "\n  - {e}")?;
        }
        Ok(())
    }
}

/// One environment's outcome.
#[derive(Debug, Clone)]
pub struct EnvOutcome {
    pub name: String,
    pub database: String,
    pub result: VerifyResult,
    /// What the run did with the base snapshot, for the report.
    pub snapshot_note: Option<String>,
}

/// The outcome of a run, and anything cleanup could not remove.
#[derive(Debug, Clone, Default)]
pub struct JobOutcome {
    pub envs: Vec<EnvOutcome>,
    pub provider: String,
    pub cleanup_errors: Vec<String>,
}

/// Runs the plan to the end (or to the timeout, or to a signal), then
/// cleans up. Blocking; builds its own runtime.
pub fn run(plan: JobPlan) -> Result<JobOutcome, JobError> {
    runtime(plan.jobs)?.block_on(run_async(plan))
}

/// A runtime for the job's processes, timers and signals.
pub fn runtime(jobs: usize) -> Result<tokio::runtime::Runtime, JobError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(jobs.clamp(1, 4))
        .enable_all()
        .build()
        .map_err(|source| JobError::Io {
            context: "starting the job runtime".into(),
            source,
        })
}

/// [`run`] inside a runtime the caller already has (the GitHub bot's).
pub async fn run_async(plan: JobPlan) -> Result<JobOutcome, JobError> {
    let janitor = Arc::new(Janitor::new());
    let progress = Arc::new(Progress::new(plan.progress));
    let timeout = plan.timeout;
    let job = run_envs(plan, Arc::clone(&janitor), Arc::clone(&progress));
    let ended = tokio::select! {
        result = tokio::time::timeout(timeout, job) => match result {
            Ok(r) => r,
            Err(_) => Err(JobError::timed_out(timeout)),
        },
        signal = wait_for_signal() => Err(JobError::interrupted(signal)),
    };
    progress.set_global("cleaning up");
    let cleanup_errors = cleanup_or_exit(&janitor).await;
    progress.finish();
    match ended {
        Ok(mut outcome) => {
            for e in &cleanup_errors {
                tracing::warn!("{e}");
            }
            outcome.cleanup_errors = cleanup_errors;
            Ok(outcome)
        }
        Err(e @ (JobError::TimedOut { .. } | JobError::Interrupted { .. })) => {
            Err(e.after_cleanup(&cleanup_errors))
        }
        Err(e) => {
            for e in &cleanup_errors {
                tracing::warn!("{e}");
            }
            Err(e)
        }
    }
}

/// Runs the janitor (bounded by its grace). A second SIGINT or SIGTERM
/// while it runs ends alembot at once, after saying what is left and how
/// to remove it: someone pressing Ctrl-C twice wants out now.
async fn cleanup_or_exit(janitor: &Janitor) -> Vec<String> {
    tokio::select! {
        errors = janitor.run_all() => errors,
        signal = wait_for_signal() => {
            let left = janitor.leftovers();
            let mut text = format!("alembot: {signal} again: stopping at once");
            if left.is_empty() {
                text.push_str("; nothing was left to remove");
            } else {
                text.push_str("; left behind (remove by hand):");
                for l in &left {
                    text.push_str(&format!("\n  - {l}"));
                }
            }
            eprintln!("{}", crate::redact::redact(&text));
            std::process::exit(if signal == "SIGINT" { 130 } else { 143 });
        }
    }
}

#[cfg(unix)]
async fn wait_for_signal() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            return "SIGINT";
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => "SIGINT",
        _ = term.recv() => "SIGTERM",
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() -> &'static str {
    let _ = tokio::signal::ctrl_c().await;
    "SIGINT"
}

/// Writes the helper script into a private temporary directory that the
/// janitor removes at the end of the run.
fn install_helper(janitor: &Janitor, python: String) -> Result<Helper, JobError> {
    let run_dir = tempfile::Builder::new()
        .prefix("alembot-run-")
        .tempdir()
        .map(tempfile::TempDir::keep)
        .map_err(|source| JobError::Io {
            context: "creating a temporary directory".into(),
            source,
        })?;
    janitor.register(Cleanup::RemoveDir(run_dir.clone()));
    Helper::install(python, &run_dir).map_err(|source| JobError::Io {
        context: format!("writing the job helper into {}", run_dir.display()),
        source,
    })
}

fn run_id() -> String {
    format!("{}-{:08x}", std::process::id(), fastrand::u32(..))
}

async fn run_envs(
    plan: JobPlan,
    janitor: Arc<Janitor>,
    progress: Arc<Progress>,
) -> Result<JobOutcome, JobError> {
    let first_python = plan
        .envs
        .first()
        .map(|e| e.python.clone())
        .unwrap_or_else(|| "python3".into());
    let base = install_helper(&janitor, first_python)?;
    janitor.set_helper(base.clone());
    // An unusable interpreter is an environment error: say so before
    // creating anything. Every helper call checks its interpreter first,
    // so with one interpreter the first real call (creating a database, or
    // the checks on SQLite) is the check; a separate probe would cost a
    // Python start-up on every run. Several interpreters are all probed up
    // front.
    let pythons: BTreeSet<String> = plan.envs.iter().map(|e| e.python.clone()).collect();
    let probed = if pythons.len() > 1 {
        pythons
    } else {
        BTreeSet::new()
    };
    for python in probed {
        progress.set_global(&format!("checking {python}"));
        let helper = Helper {
            python,
            script: base.script.clone(),
        };
        let probe = Request {
            action: "probe",
            ..Request::default()
        };
        helper.call(&probe, None, &|_| {}).await?;
    }
    progress.set_global(&format!("starting {}", plan.provider));
    let server = Arc::new(Server::start(&plan.provider, &janitor, &base, &run_id()).await?);
    let semaphore = Arc::new(tokio::sync::Semaphore::new(plan.jobs.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for (index, env) in plan.envs.into_iter().enumerate() {
        let (janitor, progress, server, semaphore) = (
            Arc::clone(&janitor),
            Arc::clone(&progress),
            Arc::clone(&server),
            Arc::clone(&semaphore),
        );
        let helper = Helper {
            python: env.python.clone(),
            script: base.script.clone(),
        };
        tasks.spawn(async move {
            let _permit = semaphore.acquire().await;
            let outcome = run_env(env, &helper, &server, &janitor, &progress).await;
            (index, outcome)
        });
    }
    let mut outcomes: Vec<(usize, EnvOutcome)> = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((index, Ok(outcome))) => outcomes.push((index, outcome)),
            Ok((_, Err(e))) => return Err(e),
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(_) => {}
        }
    }
    outcomes.sort_by_key(|(i, _)| *i);
    Ok(JobOutcome {
        envs: outcomes.into_iter().map(|(_, o)| o).collect(),
        provider: server.shown.clone(),
        cleanup_errors: Vec::new(),
    })
}

async fn run_env(
    env: EnvPlan,
    helper: &Helper,
    server: &Server,
    janitor: &Janitor,
    progress: &Progress,
) -> Result<EnvOutcome, JobError> {
    progress.set(&env.name, "creating the database");
    let mut request = env.request.clone();
    request.action = "verify";
    let (cleanup, shown, created_by_helper) = match server.target(janitor, helper).await? {
        Target::Ready(database) => {
            request.database_url = Some(database.url.clone());
            (database.cleanup, database.shown, None)
        }
        Target::OnServer {
            server_url,
            name,
            shown,
            cleanup,
        } => {
            request.server_url = Some(server_url);
            request.name = Some(name.clone());
            (cleanup, shown, Some(name))
        }
    };
    // The snapshot's files live in the run's private directory, which the
    // janitor removes.
    let run_dir = helper
        .script
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_else(std::env::temp_dir);
    let tag = fastrand::u32(..);
    let save_to = run_dir.join(format!("snapshot-{tag:08x}.save"));
    if let Some(plan) = &env.snapshot {
        let restore_path = run_dir.join(format!("snapshot-{tag:08x}.restore"));
        let (revisions, base_heads) = request
            .checks
            .as_ref()
            .and_then(|c| c.data_upgrade.as_ref())
            .map(|d| (d.revisions.clone(), d.base_heads.clone()))
            .unwrap_or_default();
        request.snapshot = Some(plan.request(&revisions, &base_heads, &save_to, &restore_path));
    }
    let name = env.name.clone();
    // The helper says when its database is gone (dropped, or never
    // created), also when it fails: dropping it again would need the helper
    // that just failed (SQLAlchemy missing, say), and its warning would
    // wrongly suggest a leftover.
    let gone = AtomicBool::new(false);
    let on_event = |event: &protocol::Event| match event {
        protocol::Event::Step { step, revision, .. } => {
            let text = match revision {
                Some(r) => format!("{step} {}", &r[..r.len().min(12)]),
                None => step.clone(),
            };
            progress.set(&name, &text);
        }
        protocol::Event::Gone { database } if Some(database) == created_by_helper.as_ref() => {
            gone.store(true, Ordering::Relaxed);
        }
        _ => {}
    };
    let result = helper.call(&request, None, &on_event).await;
    match created_by_helper {
        Some(name) if gone.load(Ordering::Relaxed) => {
            tracing::info!("cleanup: drop database {name} (done by the helper)");
            janitor.forget(cleanup);
        }
        _ => {
            progress.set(&env.name, "dropping the database");
            for e in janitor.run(cleanup).await {
                tracing::warn!("{e}");
            }
        }
    }
    progress.done(&env.name);
    let map = result?;
    let result: VerifyResult =
        serde_json::from_value(serde_json::Value::Object(map)).map_err(|e| {
            JobError::Helper(HelperError::Internal {
                message: format!("unexpected verify result: {e}"),
                stderr: Vec::new(),
            })
        })?;
    let snapshot_note = env
        .snapshot
        .as_ref()
        .and_then(|plan| plan.finish(result.snapshot.as_ref(), &save_to, crate::snapshot::now()));
    Ok(EnvOutcome {
        name: env.name,
        database: result.database.clone().unwrap_or(shown),
        result,
        snapshot_note,
    })
}

/// The interpreter for an environment: the command line (or
/// `ALEMBOT_PYTHON`), the environment's `python:`, the file's `python:`,
/// the active virtual environment, then `python3`.
pub fn choose_python(
    override_: Option<&str>,
    env_python: Option<&str>,
    file_python: Option<&str>,
    root: &std::path::Path,
) -> String {
    let chosen = override_
        .or(env_python)
        .or(file_python)
        .map(str::to_string)
        .or_else(|| {
            std::env::var_os("VIRTUAL_ENV").map(|v| {
                PathBuf::from(v)
                    .join(if cfg!(windows) {
                        "Scripts/python.exe"
                    } else {
                        "bin/python"
                    })
                    .display()
                    .to_string()
            })
        })
        .unwrap_or_else(|| "python3".into());
    // `.venv/bin/python` in a configuration means the project's, not the
    // current directory's.
    if chosen.contains('/') && !std::path::Path::new(&chosen).is_absolute() {
        root.join(&chosen).display().to_string()
    } else {
        chosen
    }
}

/// The checks of a verify request: everything that applies, or only
/// those in `only`.
pub fn checks(
    all: bool,
    added: &[String],
    base_heads: &[String],
    data_tests: Option<String>,
    only: Option<&[DatabaseCheck]>,
) -> Checks {
    let wanted = |check: DatabaseCheck| only.is_none_or(|list| list.contains(&check));
    Checks {
        upgrade: wanted(DatabaseCheck::Upgrade),
        drift: wanted(DatabaseCheck::Drift),
        roundtrip: wanted(DatabaseCheck::Roundtrip),
        stairway: wanted(DatabaseCheck::Stairway).then(|| {
            if all {
                serde_json::Value::String("all".into())
            } else {
                serde_json::Value::Array(
                    added
                        .iter()
                        .cloned()
                        .map(serde_json::Value::String)
                        .collect(),
                )
            }
        }),
        data_upgrade: (wanted(DatabaseCheck::DataUpgrade)
            && !all
            && !added.is_empty()
            && !base_heads.is_empty())
        .then(|| protocol::DataUpgrade {
            base_heads: base_heads.to_vec(),
            revisions: added.to_vec(),
        }),
        data_tests: data_tests.filter(|_| wanted(DatabaseCheck::DataTests)),
        unregistered: wanted(DatabaseCheck::Unregistered),
    }
}

/// One `status` call: an environment checked against one live database.
#[derive(Debug, Clone)]
pub struct StatusCall {
    pub environment: String,
    pub python: String,
    pub request: Request,
}

/// Runs read-only `status` calls (no databases are created), at most
/// `jobs` at a time, under the same timeout and signal handling as verify.
pub fn run_status(
    calls: Vec<StatusCall>,
    jobs: usize,
    timeout: Duration,
) -> Result<Vec<Result<protocol::StatusResult, HelperError>>, JobError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(jobs.clamp(1, 4))
        .enable_all()
        .build()
        .map_err(|source| JobError::Io {
            context: "starting the job runtime".into(),
            source,
        })?;
    runtime.block_on(async move {
        let janitor = Arc::new(Janitor::new());
        let work = status_calls(calls, jobs, Arc::clone(&janitor));
        let ended = tokio::select! {
            r = tokio::time::timeout(timeout, work) => r.unwrap_or(Err(JobError::timed_out(timeout))),
            signal = wait_for_signal() => Err(JobError::interrupted(signal)),
        };
        let errors = cleanup_or_exit(&janitor).await;
        ended.map_err(|e| e.after_cleanup(&errors))
    })
}

async fn status_calls(
    calls: Vec<StatusCall>,
    jobs: usize,
    janitor: Arc<Janitor>,
) -> Result<Vec<Result<protocol::StatusResult, HelperError>>, JobError> {
    let base = install_helper(&janitor, "python3".into())?;
    let semaphore = Arc::new(tokio::sync::Semaphore::new(jobs.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for (index, call) in calls.into_iter().enumerate() {
        let semaphore = Arc::clone(&semaphore);
        let helper = Helper {
            python: call.python.clone(),
            script: base.script.clone(),
        };
        tasks.spawn(async move {
            let _permit = semaphore.acquire().await;
            let result = helper
                .call(&call.request, None, &|_| {})
                .await
                .and_then(|map| {
                    serde_json::from_value(serde_json::Value::Object(map)).map_err(|e| {
                        HelperError::Internal {
                            message: format!("unexpected status result: {e}"),
                            stderr: Vec::new(),
                        }
                    })
                });
            (index, result)
        });
    }
    let mut out = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(pair) => out.push(pair),
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(_) => {}
        }
    }
    out.sort_by_key(|(i, _)| *i);
    Ok(out.into_iter().map(|(_, r)| r).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn every_check_that_applies_by_default() {
        let c = checks(false, &ids(&["b2"]), &ids(&["a1"]), Some("t".into()), None);
        assert!(c.upgrade && c.drift && c.roundtrip && c.unregistered);
        assert_eq!(c.stairway, Some(serde_json::json!(["b2"])));
        assert_eq!(c.data_upgrade.unwrap().base_heads, ids(&["a1"]));
        assert_eq!(c.data_tests.as_deref(), Some("t"));
        // The whole history: every revision in the stairway, no data upgrade.
        let c = checks(true, &[], &ids(&["a1"]), None, None);
        assert_eq!(c.stairway, Some(serde_json::json!("all")));
        assert!(c.data_upgrade.is_none());
    }

    #[test]
    fn only_the_chosen_checks() {
        let only = [
            DatabaseCheck::Upgrade,
            DatabaseCheck::Drift,
            DatabaseCheck::Roundtrip,
        ];
        let c = checks(
            false,
            &ids(&["b2"]),
            &ids(&["a1"]),
            Some("t".into()),
            Some(&only),
        );
        assert!(c.upgrade && c.drift && c.roundtrip);
        assert!(!c.unregistered);
        assert!(c.stairway.is_none() && c.data_upgrade.is_none() && c.data_tests.is_none());
        let c = checks(true, &[], &[], None, Some(&[DatabaseCheck::Stairway]));
        assert!(!c.upgrade && !c.drift && !c.roundtrip);
        assert_eq!(c.stairway, Some(serde_json::json!("all")));
    }

    #[test]
    fn check_names_are_the_reports() {
        use clap::ValueEnum;
        for check in DatabaseCheck::value_variants() {
            let value = check.to_possible_value().unwrap();
            assert_eq!(value.get_name(), check.as_str());
        }
        assert_eq!(
            DatabaseCheck::from_str("data-upgrade", false),
            Ok(DatabaseCheck::DataUpgrade)
        );
    }

    /// Issue 13, item 12: a stopped run said everything was removed even
    /// when cleanup failed.
    #[test]
    fn a_stopped_run_says_what_cleanup_left() {
        let clean = JobError::timed_out(Duration::from_secs(5)).after_cleanup(&[]);
        assert!(
            clean
                .to_string()
                .contains("everything the job created was removed")
        );
        let left = JobError::interrupted("SIGTERM").after_cleanup(&[
            "could not drop database alembot_x: timeout; remove it by hand: psql ...".into(),
        ]);
        let text = left.to_string();
        assert!(
            !text.contains("everything the job created was removed"),
            "{text}"
        );
        assert!(
            text.contains("cleanup could not remove everything:"),
            "{text}"
        );
        assert!(text.contains("remove it by hand: psql"), "{text}");
        assert_eq!(left.exit_code(), 143);
    }
}
