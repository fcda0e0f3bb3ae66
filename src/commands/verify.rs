//! `alembot verify`: the static check, then the dynamic job on throwaway
//! databases for the environments the change touches.

use crate::change::Range;
use crate::cli::VerifyArgs;
use crate::config::Overrides;
use crate::error::Error;
use crate::pipeline::{self, Verified};

use super::{Exit, Globals, emit, open, range_of};

/// Prints the report, and then the job's error when the database checks
/// could not run: the static findings are shown either way, and the exit
/// code is 2 for "could not run" (the report's notes say why too).
pub fn run(globals: &Globals, args: &VerifyArgs) -> Result<Exit, Error> {
    let verified = build_report(globals, args)?;
    emit(&verified.report, &args.output, globals, None)?;
    match verified.job_error {
        // The error's own exit code (2, or 130 for SIGINT) ends the run.
        Some(err) => Err(err),
        None => Ok(Exit::of(&verified.report)),
    }
}

/// Runs `verify` as the command line asks and returns its report.
pub fn build_report(globals: &Globals, args: &VerifyArgs) -> Result<Verified, Error> {
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
    runtime.block_on(pipeline::verify(&source, &change, &settings, args.all))
}
