//! The command line (a public contract: scripts and CI depend on it).
//! Clap derive structs only; every flag can also come from the environment.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use secrecy::SecretString;

use crate::config::DatabaseCheck;
use crate::config::{CommentMode, FailOn};
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

    /// Do not read or write the revision cache (`.git/alembot/`): every
    /// revision file is read again.
    #[arg(long, global = true, env = "ALEMBOT_NO_CACHE", value_parser = clap::builder::BoolishValueParser::new())]
    pub no_cache: bool,

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
    /// In GitHub Actions: check the pull request of the event and post the
    /// report (one review kept up to date, inline comments, a check run).
    Github(Box<GithubArgs>),
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
#[command(
    after_help = "Without --base/--head or --staged: the working tree and the index against HEAD, untracked files included (what `git status` shows)."
)]
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

    /// How many environments run at once [default: `jobs:` in .alembot.yml, else 2].
    #[arg(long, value_name = "N", env = "ALEMBOT_JOBS")]
    pub jobs: Option<usize>,

    /// Only these database checks (comma-separated; default: every one that
    /// applies): upgrade, drift, unregistered, roundtrip, stairway,
    /// data_upgrade, data_tests. Drift, unregistered and roundtrip upgrade
    /// first whatever the list says.
    #[arg(
        long,
        value_name = "CHECKS",
        env = "ALEMBOT_CHECKS",
        value_delimiter = ',',
        value_enum,
        hide_possible_values = true
    )]
    pub checks: Vec<DatabaseCheck>,

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

#[derive(Debug, Args)]
#[command(
    after_help = "Reads GITHUB_EVENT_NAME, GITHUB_EVENT_PATH, GITHUB_REPOSITORY, GITHUB_TOKEN, GITHUB_API_URL, GITHUB_STEP_SUMMARY and GITHUB_OUTPUT. Handles `pull_request` (opened, synchronize, reopened, ready_for_review, edited, labeled, unlabeled) and `issue_comment` (a command such as `/alembot recheck` on a pull request); `publish` also `workflow_run`. With --pull-request N the event does not matter: pull request N is checked, its head and base taken from the API (for example from `workflow_dispatch`). Any other event is an error (exit 2). See README.md."
)]
pub struct GithubArgs {
    #[command(subcommand)]
    pub command: Option<GithubCommand>,

    /// Check this pull request, whatever the event (a manual run, or the
    /// read-only job of a recheck); its head and base come from the API.
    #[arg(long, value_name = "NUMBER", env = "ALEMBOT_PULL_REQUEST")]
    pub pull_request: Option<u64>,

    /// Run the checks and save the report, but post nothing: the read-only
    /// half of the fork-safe split (`alembot github publish` posts it).
    #[arg(long)]
    pub no_publish: bool,

    /// On `issue_comment`: check who asked, acknowledge the command and set
    /// the step outputs (`run`, `pull-request`, `head-sha`, `base-sha`), but
    /// run no checks. The first job of the fork-safe recheck.
    #[arg(long, conflicts_with_all = ["no_publish", "pull_request"])]
    pub authorize_only: bool,

    /// Where to save the JSON report [default: $RUNNER_TEMP/alembot-report.json].
    #[arg(long, value_name = "FILE", env = "ALEMBOT_REPORT_OUT")]
    pub report_out: Option<PathBuf>,

    /// Verify the event payload against this `X-Hub-Signature-256` header
    /// value, with the webhook secret from ALEMBOT_WEBHOOK_SECRET (for
    /// self-hosted webhook relays).
    #[arg(long, value_name = "HEADER")]
    pub signature: Option<String>,

    /// The webhook secret (from the environment only, never the command line).
    #[arg(long, env = "ALEMBOT_WEBHOOK_SECRET", hide = true, hide_env_values = true, value_parser = webhook_secret)]
    pub webhook_secret: Option<SecretString>,

    /// Only these environments (repeatable).
    #[arg(
        long = "env",
        value_name = "NAME",
        env = "ALEMBOT_ENV",
        value_delimiter = ','
    )]
    pub environments: Vec<String>,

    /// The Python that runs the project's migrations (dynamic checks).
    #[arg(long, value_name = "COMMAND", env = "ALEMBOT_PYTHON")]
    pub python: Option<String>,

    /// The database for the dynamic checks: sqlite, postgres-ephemeral, a URL or docker:IMAGE.
    #[arg(long, value_name = "DATABASE", env = "ALEMBOT_DATABASE")]
    pub database: Option<String>,

    #[command(flatten)]
    pub publish: PublishFlags,

    #[command(flatten)]
    pub actions: ActionsEnv,
}

#[derive(Debug, Subcommand)]
pub enum GithubCommand {
    /// Post a saved JSON report (from `alembot github --no-publish`) on its
    /// pull request. Reads the report only, never the repository's code.
    Publish(PublishArgs),
}

#[derive(Debug, Args)]
pub struct PublishArgs {
    /// The JSON report to post.
    #[arg(long, value_name = "FILE", env = "ALEMBOT_REPORT")]
    pub report: PathBuf,

    #[command(flatten)]
    pub publish: PublishFlags,

    #[command(flatten)]
    pub actions: ActionsEnv,
}

/// How the report is posted; each wins over `github:` in `.alembot.yml`.
#[derive(Debug, Clone, Args, Default)]
pub struct PublishFlags {
    /// Where the report goes: one review, one issue comment, or nowhere.
    #[arg(long, value_enum, env = "ALEMBOT_COMMENT")]
    pub comment: Option<CommentMode>,

    /// Which findings fail the step (exit 1) and the check run.
    #[arg(long, value_enum, env = "ALEMBOT_FAIL_ON")]
    pub fail_on: Option<FailOn>,

    /// The prefix of comment commands [default: /alembot].
    #[arg(long, value_name = "PREFIX", env = "ALEMBOT_COMMAND")]
    pub command: Option<String>,

    /// Upload SARIF to code scanning (needs `security-events: write`).
    #[arg(long, value_name = "BOOL", env = "ALEMBOT_UPLOAD_SARIF")]
    pub upload_sarif: Option<bool>,

    /// Inline review comments on diff lines.
    #[arg(long, value_name = "BOOL", env = "ALEMBOT_INLINE")]
    pub inline: Option<bool>,

    /// The `alembot` check run with annotations.
    #[arg(long, value_name = "BOOL", env = "ALEMBOT_CHECK_RUN")]
    pub check_run: Option<bool>,
}

/// The GitHub Actions environment, read once here.
#[derive(Debug, Clone, Args)]
pub struct ActionsEnv {
    /// The event payload.
    #[arg(long, value_name = "FILE", env = "GITHUB_EVENT_PATH")]
    pub event_path: Option<PathBuf>,

    /// The event's name, e.g. `pull_request`.
    #[arg(long, value_name = "NAME", env = "GITHUB_EVENT_NAME")]
    pub event_name: Option<String>,

    /// The repository the workflow runs in.
    #[arg(long, value_name = "OWNER/NAME", env = "GITHUB_REPOSITORY")]
    pub repository: Option<String>,

    /// The REST API (GitHub Enterprise Server: https://HOST/api/v3) [default: https://api.github.com].
    #[arg(long, value_name = "URL", env = "GITHUB_API_URL")]
    pub api_url: Option<String>,

    /// The token (from GITHUB_TOKEN only: a command line is visible to other processes).
    #[arg(long = "github-token", env = "GITHUB_TOKEN", hide = true, hide_env_values = true, value_parser = secret)]
    pub token: Option<SecretString>,

    /// Append the Markdown report here.
    #[arg(long, value_name = "FILE", env = "GITHUB_STEP_SUMMARY")]
    pub step_summary: Option<PathBuf>,

    /// Append step outputs here.
    #[arg(long, value_name = "FILE", env = "GITHUB_OUTPUT")]
    pub github_output: Option<PathBuf>,

    #[arg(long, env = "RUNNER_TEMP", hide = true)]
    pub runner_temp: Option<PathBuf>,

    /// Multiplies real waits between retries (0 in tests of the binary).
    #[arg(
        long,
        env = "ALEMBOT_GITHUB_RETRY_SCALE",
        hide = true,
        default_value_t = 1.0
    )]
    pub retry_scale: f64,
}

fn secret(value: &str) -> Result<SecretString, std::convert::Infallible> {
    Ok(SecretString::from(value.to_string()))
}

/// An empty webhook secret would make every signature made with the empty
/// key pass: refused (exit 2), never taken as "no secret".
fn webhook_secret(value: &str) -> Result<SecretString, String> {
    if value.trim().is_empty() {
        return Err("ALEMBOT_WEBHOOK_SECRET is empty: a signature made with an empty key proves nothing. Set it to the webhook's secret, or unset it".into());
    }
    Ok(SecretString::from(value.to_string()))
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
    fn github_reads_the_actions_environment_and_hides_the_token() {
        let cli = Cli::try_parse_from([
            "alembot",
            "github",
            "--event-path",
            "e.json",
            "--event-name",
            "pull_request",
            "--comment",
            "comment",
            "--upload-sarif",
            "true",
        ])
        .unwrap();
        let Command::Github(args) = cli.command else {
            panic!("not github")
        };
        assert_eq!(args.publish.comment, Some(CommentMode::Comment));
        assert_eq!(args.publish.upload_sarif, Some(true));
        assert!(args.command.is_none());

        let cli =
            Cli::try_parse_from(["alembot", "github", "publish", "--report", "r.json"]).unwrap();
        let Command::Github(args) = cli.command else {
            panic!("not github")
        };
        assert!(matches!(args.command, Some(GithubCommand::Publish(_))));

        let help = Cli::command()
            .find_subcommand_mut("github")
            .unwrap()
            .render_long_help()
            .to_string();
        assert!(!help.contains("github-token"), "{help}");
        assert!(help.contains("--no-publish"));
    }

    #[test]
    fn dir_flag_works_before_the_subcommand_too() {
        let cli = Cli::try_parse_from(["alembot", "-C", "x", "check"]).unwrap();
        assert!(cli.dir.is_some());
    }
}
