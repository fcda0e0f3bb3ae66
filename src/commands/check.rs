//! `alembot check`: the static stage alone.

use crate::analysis::analyse;
use crate::cli::CheckArgs;
use crate::config::Overrides;
use crate::error::Error;
use crate::findings::Report;

use super::{Exit, Globals, emit, open, range_of};

pub fn run(globals: &Globals, args: &CheckArgs) -> Result<Exit, Error> {
    let range = range_of(&args.range);
    let overrides = Overrides {
        environments: args.environments.clone(),
        ..Overrides::default()
    };
    let (source, change, settings) = open(globals, &range, overrides)?;
    let result = analyse(&source, &change, &settings)?;
    let report = Report::new(
        settings.apply_levels(result.findings),
        &["static"],
        result.notes,
    );
    emit(&report, &args.output, globals, Some(&settings))?;
    Ok(Exit::of(&report))
}
