//! `alembot check`: the static stage alone.

use crate::cli::CheckArgs;
use crate::config::Overrides;
use crate::error::Error;
use crate::pipeline::static_stage;

use super::{Exit, Globals, emit, open, range_of};

pub fn run(globals: &Globals, args: &CheckArgs) -> Result<Exit, Error> {
    let range = range_of(&args.range);
    let overrides = Overrides {
        environments: args.environments.clone(),
        ..Overrides::default()
    };
    let (source, change, settings) = open(globals, &range, overrides)?;
    let (report, _) = static_stage(&source, &change, &settings)?;
    emit(&report, &args.output, globals, Some(&settings))?;
    Ok(Exit::of(&report))
}
