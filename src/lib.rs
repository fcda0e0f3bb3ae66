//! alembot keeps SQLAlchemy models, Alembic migrations and real databases in step.
//!
//! The pipeline flows one way (DESIGN.md): change source → static analysis →
//! dynamic job → report → publisher. `run` dispatches a parsed command line
//! to the command that composes the stages it needs.

pub mod alembic;
pub mod analysis;
pub mod change;
pub mod cli;
pub mod commands;
pub mod config;
pub mod error;
pub mod findings;
pub mod github;
pub mod hook;
pub mod job;
pub mod models;
pub mod pipeline;
pub mod python;
pub mod redact;
pub mod report;
pub mod rules;
pub mod schema;
pub mod snapshot;
pub mod status;

pub use commands::Exit;
pub use error::Error;

use std::path::PathBuf;

use cli::{Cli, Command};
use commands::Globals;

/// Runs one command. `Ok` carries the exit the findings call for; `Err` is
/// a usage, configuration or environment error (exit code 2).
pub fn run(cli: Cli) -> Result<Exit, Error> {
    let globals = Globals {
        dir: cli.dir.clone().unwrap_or_else(|| PathBuf::from(".")),
        config: cli.config.clone(),
        color: cli.color,
        no_cache: cli.no_cache,
    };
    match &cli.command {
        Command::Check(args) => commands::check::run(&globals, args),
        Command::Verify(args) => commands::verify::run(&globals, args),
        Command::Status(args) => commands::status::run(&globals, args),
        Command::Hook(args) => commands::hook::run(&globals, args),
        Command::Github(args) => commands::github::run(&globals, args),
    }
}
