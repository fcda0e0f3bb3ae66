//! The command line (a public contract: scripts and CI depend on it).
//! Clap derive structs only; every flag can also come from the environment.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::report::Format;

#[derive(Debug, Parser)]
#[command(
    name = "alembot",
    version,
    about = "Keeps SQLAlchemy models, Alembic migrations and real databases in step.",
    long_about = None,
    propagate_version = true,
    after_help = "Exit codes: 0 clean (warnings allowed), 1 findings at error severity, 2 usage, configuration or environment error."
)]
pub struct Cli {
    /// Run as if alembot was started in DIR (like `git -C`).
    #[arg(short = 'C', value_name = "DIR", global = true, env = "ALEMBOT_DIR")]
    pub dir: Option<PathBuf>,

    /// Configuration file (default: `.alembot.yml` found from DIR upwards).
    #[arg(long, value_name = "FILE", global = true, env = "ALEMBOT_CONFIG")]
    pub config: Option<PathBuf>,

    /// When to colour human output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true, env = "ALEMBOT_COLOR")]
    pub color: ColorChoice,

    /// More log output on stderr (-v, -vv).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Static check of a change: model edits without a migration, the
    /// revision graph, risky migrations. Milliseconds, no database.
    Check(CheckArgs),
    /// The static check, then the project's migrations run on a throwaway
    /// database: upgrade, drift against the models, downgrade round trips,
    /// upgrades over data.
    Verify(VerifyArgs),
    /// Where live databases stand: their revision against the migration
    /// files, and whether their schema still matches the models. Read-only.
    Status(StatusArgs),
    /// Manage the git pre-commit hook.
    Hook(HookArgs),
}

#[derive(Debug, Args)]
pub struct HookArgs {
    #[command(subcommand)]
    pub command: HookCommand,
}

#[derive(Debug, Subcommand)]
pub enum HookCommand {
    /// Install the pre-commit hook (honours core.hooksPath and worktrees).
    Install(HookInstallArgs),
}

#[derive(Debug, Args)]
pub struct HookInstallArgs {
    /// Replace a different existing pre-commit hook (a copy is kept).
    #[arg(long, conflicts_with = "chain")]
    pub force: bool,

    /// Keep a different existing pre-commit hook and run it before alembot.
    #[arg(long)]
    pub chain: bool,

    /// Run the migrations on SQLite in the hook (`alembot verify --staged`), not just the static check.
    #[arg(long)]
    pub deep: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub range: RangeArgs,

    #[command(flatten)]
    pub output: OutputArgs,

    /// Only these environments (repeatable).
    #[arg(
        long = "env",
        value_name = "NAME",
        env = "ALEMBOT_ENV",
        value_delimiter = ','
    )]
    pub environments: Vec<String>,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub range: RangeArgs,

    /// Ignore the change: every check on the whole history (also outside git).
    #[arg(long, conflicts_with_all = ["base", "head", "staged"])]
    pub all: bool,

    /// Where the throwaway databases come from: sqlite, postgres-ephemeral,
    /// docker:IMAGE, or a server URL (alembot creates and drops its own database there).
    #[arg(long, value_name = "PROVIDER", env = "ALEMBOT_DATABASE")]
    pub database: Option<String>,

    /// Only these environments (repeatable).
    #[arg(
        long = "env",
        value_name = "NAME",
        env = "ALEMBOT_ENV",
        value_delimiter = ','
    )]
    pub environments: Vec<String>,

    /// Bound on the whole job, in seconds (default 600).
    #[arg(long, value_name = "SECONDS", env = "ALEMBOT_TIMEOUT")]
    pub timeout: Option<u64>,

    /// The project's Python interpreter (default: the active virtual environment, else python3).
    #[arg(long, value_name = "PATH", env = "ALEMBOT_PYTHON")]
    pub python: Option<String>,

    /// How many environments run at once.
    #[arg(long, value_name = "N", env = "ALEMBOT_JOBS")]
    pub jobs: Option<usize>,

    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// A live database to inspect (repeatable, one per environment or
    /// product); `ENV=URL` checks it against one environment only.
    /// Credentials are never printed.
    #[arg(
        long = "database",
        value_name = "URL",
        required = true,
        env = "ALEMBOT_STATUS_DATABASE",
        value_delimiter = ' '
    )]
    pub databases: Vec<String>,

    /// Only these environments (repeatable).
    #[arg(
        long = "env",
        value_name = "NAME",
        env = "ALEMBOT_ENV",
        value_delimiter = ','
    )]
    pub environments: Vec<String>,

    /// The project's Python interpreter (default: the active virtual environment, else python3).
    #[arg(long, value_name = "PATH", env = "ALEMBOT_PYTHON")]
    pub python: Option<String>,

    /// Bound on the whole check, in seconds.
    #[arg(long, value_name = "SECONDS", env = "ALEMBOT_TIMEOUT")]
    pub timeout: Option<u64>,

    #[command(flatten)]
    pub output: OutputArgs,
}

/// Which change to look at. Without flags: the working tree and index
/// against HEAD.
#[derive(Debug, Clone, Args, Default)]
pub struct RangeArgs {
    /// Base of a pull request: check what HEAD adds since its merge-base with BASE.
    #[arg(long, value_name = "REV", requires = "head", env = "ALEMBOT_BASE")]
    pub base: Option<String>,

    /// Head of a pull request.
    #[arg(long, value_name = "REV", requires = "base", env = "ALEMBOT_HEAD")]
    pub head: Option<String>,

    /// The index against HEAD: what the next commit records (pre-commit).
    #[arg(long, conflicts_with_all = ["base", "head"])]
    pub staged: bool,
}

#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Human, env = "ALEMBOT_FORMAT")]
    pub format: Format,

    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE", env = "ALEMBOT_OUTPUT")]
    pub output: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn base_requires_head_and_staged_conflicts() {
        assert!(Cli::try_parse_from(["alembot", "check", "--base", "main"]).is_err());
        assert!(
            Cli::try_parse_from(["alembot", "check", "--staged", "--base", "a", "--head", "b"])
                .is_err()
        );
        let cli = Cli::try_parse_from(["alembot", "check", "-C", "x", "--format", "json"]).unwrap();
        assert_eq!(cli.dir.as_deref(), Some(std::path::Path::new("x")));
    }

    #[test]
    fn dir_flag_works_before_the_subcommand_too() {
        let cli = Cli::try_parse_from(["alembot", "-C", "x", "check"]).unwrap();
        assert!(cli.dir.is_some());
    }
}
