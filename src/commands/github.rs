//! `alembot github`: the pull-request bot in GitHub Actions, and
//! `alembot github publish`: posting a report saved by a read-only job.
//!
//! One run: read the event → decide what it asks for (a pull request to
//! check, a comment command, nothing) → run the checks on the pull request's
//! range → save the JSON report → publish it → write the step summary and
//! outputs → exit with the verdict. Publishing comes after the report is
//! saved and before the exit code is decided, and its failure never hides
//! the verdict: the summary and the exit code still carry it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};

use crate::change::{ChangeError, ChangeSet, Range, Side, Source, diff_line_ranges};
use crate::cli::{ActionsEnv, GithubArgs, GithubCommand, PublishArgs, PublishFlags};
use crate::config::{ConfigError, FailOn, GithubSettings, Overrides, Settings};
use crate::error::Error;
use crate::findings::{LineRange, PullRequestRef, Report, Severity};
use crate::github::body::{reply_marker, step_summary, waive_missing_migrations};
use crate::github::client::{DEFAULT_API_URL, Reaction};
use crate::github::decide::{
    self, CommandContext, CommandDecision, CommentDecision, CommentId, PullNumber,
    PullRequestDecision,
};
use crate::github::event::{self, Event, IssueCommentEvent, PullRequest};
use crate::github::publish::{PublishOptions, publish};
use crate::github::retry::{RetryPolicy, TokioClock};
use crate::github::{Github, RepoName, actions, signature};
use crate::pipeline::{self, Verified};
use crate::report::{Format, RenderOptions, json, render};

use super::{Exit, Globals, open, render_options};

pub fn run(globals: &Globals, args: &GithubArgs) -> Result<Exit, Error> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Usage(format!("cannot start the async runtime: {e}")))?;
    match &args.command {
        Some(GithubCommand::Publish(publish_args)) => runtime.block_on(publish_saved(publish_args)),
        None => runtime.block_on(on_event(globals, args)),
    }
}

/// What the checks run on: the pieces `alembot check` composes, for one
/// pull request.
pub struct ChecksInput<'a> {
    pub globals: &'a Globals,
    pub range: &'a Range,
    pub source: &'a Source,
    pub change: &'a ChangeSet,
    pub settings: &'a Settings,
}

/// Runs the checks on a pull request and returns their report. This is the
/// one place that decides which checks the bot runs: `alembot verify`'s,
/// the static checks and then the project's migrations on a throwaway
/// database (`database:` in the configuration or the action's input;
/// SQLite by default) for the environments the pull request touches.
pub async fn run_checks(input: &ChecksInput<'_>) -> Result<Verified, Error> {
    pipeline::verify(input.source, input.change, input.settings, false).await
}

/// Whether [`run_checks`] executes the project's own code (its env.py, its
/// migrations): it does, so a recheck of a fork's pull request must not run
/// in the job that holds the write token; that job refuses and leaves the
/// checks to a read-only job.
pub fn runs_project_code(_settings: &Settings) -> bool {
    true
}

/// The pull request a run is about.
#[derive(Debug, Clone)]
struct Target {
    repo: RepoName,
    number: u64,
    head_sha: String,
    head_ref: String,
    base_sha: String,
    fork: bool,
    labels: Vec<String>,
    /// The command comment that asked for this run.
    command_comment: Option<u64>,
}

impl Target {
    fn new(repo: RepoName, pr: &PullRequest, command_comment: Option<u64>) -> Target {
        Target {
            repo,
            number: pr.number,
            head_sha: pr.head.sha.clone(),
            head_ref: pr.head.git_ref.clone(),
            base_sha: pr.base.sha.clone(),
            fork: pr.is_from_fork(),
            labels: pr.labels.iter().map(|l| l.name.clone()).collect(),
            command_comment,
        }
    }
}

/// Whether a run posts its report, and if not, why (said in the log and
/// the summary).
enum Posting {
    Publish,
    Skip(String),
}

async fn on_event(globals: &Globals, args: &GithubArgs) -> Result<Exit, Error> {
    let env = &args.actions;
    if let Some(number) = args.pull_request {
        let gh = client(env)?;
        let repo = workflow_repository(env)?;
        let pr = gh.pull_request(&repo, number).await?;
        let target = Target::new(repo, &pr, None);
        return check_and_publish(globals, args, Some(gh), target, false).await;
    }

    let (name, payload) = read_event(args)?;
    if name == "workflow_run" {
        return Err(workflow_run_hint());
    }
    match event::decode(&name, &payload)? {
        Event::PullRequest(e) => {
            if let PullRequestDecision::Ignore(why) = decide::pull_request(&e) {
                println!("alembot: {why}");
                return Ok(Exit::Clean);
            }
            let repo = RepoName::parse(&e.repository.full_name)?;
            let target = Target::new(repo, &e.pull_request, None);
            // A missing token only matters once something is to be posted,
            // and then it is a publishing failure, not the end of the run.
            check_and_publish(globals, args, None, target, true).await
        }
        Event::IssueComment(e) => on_comment(globals, args, e).await,
        Event::WorkflowRun(_) => Err(workflow_run_hint()),
    }
}

/// A `workflow_run` job publishes what a pull request's run saved; it
/// checks nothing itself (its checkout would be the default branch).
fn workflow_run_hint() -> Error {
    Error::Usage(
        "on `workflow_run`, run `alembot github publish --report FILE` with the report the pull request's run saved (README.md)".into(),
    )
}

/// The event's name and raw payload, its signature checked when one is given.
fn read_event(args: &GithubArgs) -> Result<(String, Vec<u8>), Error> {
    let env = &args.actions;
    let (Some(name), Some(path)) = (&env.event_name, &env.event_path) else {
        return Err(Error::Usage(
            "`alembot github` runs in GitHub Actions: GITHUB_EVENT_NAME and GITHUB_EVENT_PATH are not set (pass --event-name and --event-path to run it elsewhere, or --pull-request NUMBER)".into(),
        ));
    };
    let payload = std::fs::read(path).map_err(|e| Error::Input {
        path: path.display().to_string(),
        message: format!("cannot read the event payload: {e}"),
    })?;
    match (&args.signature, &args.webhook_secret) {
        (Some(header), Some(secret)) => {
            if !signature::verify(secret, &payload, header) {
                return Err(Error::Usage(format!(
                    "{}: the payload does not match its X-Hub-Signature-256 signature; refusing it",
                    path.display()
                )));
            }
        }
        (Some(_), None) => {
            return Err(Error::Usage(
                "--signature needs the webhook secret in ALEMBOT_WEBHOOK_SECRET".into(),
            ));
        }
        (None, Some(_)) => {
            return Err(Error::Usage(
                "ALEMBOT_WEBHOOK_SECRET is set but no --signature was given: refusing an unsigned payload".into(),
            ));
        }
        (None, None) => {}
    }
    Ok((name.clone(), payload))
}

fn client(env: &ActionsEnv) -> Result<Github, Error> {
    let token = env
        .token
        .clone()
        .filter(|t| !t.expose_secret().trim().is_empty())
        .ok_or_else(|| {
            Error::Usage(
                "GITHUB_TOKEN is not set: give the step `env: GITHUB_TOKEN: ${{ github.token }}` (the action's `github-token` input does this)".into(),
            )
        })?;
    let api = env.api_url.as_deref().unwrap_or(DEFAULT_API_URL);
    let gh = Github::new(
        api,
        SecretString::from(token.expose_secret().trim().to_string()),
    )?;
    Ok(gh.with_retry(
        RetryPolicy::default(),
        Arc::new(TokioClock {
            scale: env.retry_scale,
        }),
    ))
}

fn workflow_repository(env: &ActionsEnv) -> Result<RepoName, Error> {
    let name = env.repository.as_deref().ok_or_else(|| {
        Error::Usage("GITHUB_REPOSITORY is not set (or pass --repository OWNER/NAME)".into())
    })?;
    Ok(RepoName::parse(name)?)
}

/// The bot's settings for a comment: `github:` of the configuration in the
/// checkout (the default branch, on `issue_comment`), under the command
/// line. A job without a checkout (the first job of the fork-safe recheck)
/// uses the defaults and the command line.
fn bot_settings(globals: &Globals, flags: &PublishFlags) -> Result<GithubSettings, Error> {
    let mut settings = match open(globals, &Range::Worktree, Overrides::default()) {
        Ok((_, _, settings)) => settings.github,
        Err(Error::Change(ChangeError::NotARepository(_) | ChangeError::NoSuchDirectory(_)))
        | Err(Error::Config(ConfigError::NoEnvironment { .. })) => GithubSettings::default(),
        Err(e) => return Err(e),
    };
    apply_flags(&mut settings, flags);
    Ok(settings)
}

fn apply_flags(settings: &mut GithubSettings, flags: &PublishFlags) {
    if let Some(comment) = flags.comment {
        settings.comment = comment;
    }
    if let Some(fail_on) = flags.fail_on {
        settings.fail_on = fail_on;
    }
    if let Some(command) = flags.command.as_ref().filter(|c| !c.trim().is_empty()) {
        settings.command = command.trim().to_string();
    }
    if let Some(upload) = flags.upload_sarif {
        settings.upload_sarif = upload;
    }
    if let Some(inline) = flags.inline {
        settings.inline = inline;
    }
    if let Some(check_run) = flags.check_run {
        settings.check_run = check_run;
    }
}

/// Whether the report fails the step under `fail_on`.
fn fails(report: &Report, fail_on: FailOn) -> bool {
    match fail_on {
        FailOn::Error => report.has_errors(),
        FailOn::Warning => report
            .findings
            .iter()
            .any(|f| f.severity >= Severity::Warning),
        FailOn::Never => false,
    }
}

/// Route → decide → effects for a comment: [`decide::comment`] says whether
/// it holds commands, the permission comes from GitHub, [`decide::commands`]
/// says what they lead to, and this function carries it out.
async fn on_comment(
    globals: &Globals,
    args: &GithubArgs,
    e: IssueCommentEvent,
) -> Result<Exit, Error> {
    let env = &args.actions;
    let ignore = |why: String| -> Result<Exit, Error> {
        println!("alembot: {why}");
        write_outputs(env, &[("run", "false".into())])?;
        Ok(Exit::Clean)
    };
    if let Some(why) = decide::ignored_comment(&e) {
        return ignore(why);
    }
    let bot = bot_settings(globals, &args.publish)?;
    let invocations = match decide::comment(&e, &bot.command) {
        CommentDecision::Ignore(why) => return ignore(why),
        CommentDecision::Commands(invocations) => invocations,
    };

    let gh = client(env)?;
    let repo = RepoName::parse(&e.repository.full_name)?;
    let login = &e.comment.user.login;
    let number = PullNumber(e.issue.number);
    let comment_id = CommentId(e.comment.id);
    let permission = gh.permission(&repo, login).await?;
    let may_post = !args.no_publish;
    let decision = decide::commands(
        &invocations,
        CommandContext {
            prefix: &bot.command,
            login,
            comment: comment_id,
            may_write: permission.may_write(),
            unauthorized: bot.unauthorized,
            may_post,
            authorize_only: args.authorize_only,
        },
    );
    let errors = match &decision {
        CommandDecision::Unauthorized { reply } => {
            println!(
                "alembot: @{login} has `{}` access; commands need write, maintain or admin",
                permission
                    .role_name
                    .as_deref()
                    .unwrap_or(&permission.permission)
            );
            if let Some(body) = reply {
                reply_once(&gh, &repo, number, comment_id, body).await;
            }
            write_outputs(env, &[("run", "false".into())])?;
            return Ok(Exit::Clean);
        }
        CommandDecision::Reply { errors, .. }
        | CommandDecision::Authorize { errors }
        | CommandDecision::Recheck { errors } => errors,
    };
    for error in errors {
        eprintln!("alembot: {error}");
    }
    if let CommandDecision::Reply {
        reply, reaction, ..
    } = &decision
    {
        if let Some(body) = reply {
            reply_once(&gh, &repo, number, comment_id, body).await;
        }
        if let Some(reaction) = reaction {
            react(&gh, &repo, Some(comment_id), *reaction).await;
        }
        write_outputs(env, &[("run", "false".into())])?;
        return Ok(Exit::Clean);
    }

    if let Some(reaction) = decision.acknowledge(may_post) {
        react(&gh, &repo, Some(comment_id), reaction).await;
    }
    let pr = match gh.pull_request(&repo, number.0).await {
        Ok(pr) => pr,
        Err(err) => {
            if may_post {
                react(&gh, &repo, Some(comment_id), Reaction::Confused).await;
            }
            return Err(err.into());
        }
    };
    let target = Target::new(repo.clone(), &pr, Some(comment_id.0));
    if let CommandDecision::Authorize { .. } = decision {
        println!(
            "alembot: @{login} may run `{} recheck`; pull request #{} at {}",
            bot.command, target.number, target.head_sha
        );
        write_outputs(
            env,
            &[
                ("run", "true".into()),
                ("pull-request", target.number.to_string()),
                ("head-sha", target.head_sha.clone()),
                ("base-sha", target.base_sha.clone()),
                ("comment-id", comment_id.to_string()),
                ("fork", target.fork.to_string()),
            ],
        )?;
        return Ok(Exit::Clean);
    }
    let result = check_and_publish(globals, args, Some(gh), target, false).await;
    if result.is_err() && may_post {
        // The run ended before publishing, which would have reacted.
        if let Ok(gh) = client(env) {
            react(&gh, &repo, Some(comment_id), Reaction::Confused).await;
        }
    }
    result
}

/// Posts a reply to a command comment unless one is there already (a
/// re-run of the same workflow must not reply twice). Failures are logged:
/// a reply is a courtesy, not the job.
async fn reply_once(
    gh: &Github,
    repo: &RepoName,
    number: PullNumber,
    comment_id: CommentId,
    body: &str,
) {
    let marker = reply_marker(comment_id.0);
    let existing = match gh.issue_comments(repo, number.0).await {
        Ok(comments) => comments
            .into_iter()
            .any(|c| c.body.as_deref().is_some_and(|b| b.starts_with(&marker))),
        Err(e) => {
            eprintln!("alembot: warning: could not reply: {e}");
            return;
        }
    };
    if existing {
        return;
    }
    if let Err(e) = gh.create_issue_comment(repo, number.0, body, &marker).await {
        eprintln!("alembot: warning: could not reply: {e}");
    }
}

async fn react(gh: &Github, repo: &RepoName, comment: Option<CommentId>, reaction: Reaction) {
    if let Some(id) = comment
        && let Err(e) = gh.react(repo, id.0, reaction).await
    {
        eprintln!("alembot: warning: could not react on the command comment: {e}");
    }
}

/// Runs the checks on `target`, saves the report, publishes it (unless this
/// job must not), and finishes with the summary, the outputs and the exit.
async fn check_and_publish(
    globals: &Globals,
    args: &GithubArgs,
    gh: Option<Github>,
    target: Target,
    from_pull_request_event: bool,
) -> Result<Exit, Error> {
    let range = Range::Commits {
        base: target.base_sha.clone(),
        head: target.head_sha.clone(),
    };
    let overrides = Overrides {
        environments: args.environments.clone(),
        python: args.python.clone(),
        database: args.database.clone(),
        ..Overrides::default()
    };
    let (source, change, mut settings) = open(globals, &range, overrides)?;
    apply_flags(&mut settings.github, &args.publish);
    if target.fork
        && target.command_comment.is_some()
        && !args.no_publish
        && runs_project_code(&settings)
    {
        return Err(Error::Usage(format!(
            "pull request #{} comes from a fork, and the checks run its code: run them in a read-only job (README.md, \"Rechecks of pull requests from forks\")",
            target.number
        )));
    }
    // A job that cannot run still leaves the static report: it is saved
    // and published like any other, and the exit says the run is incomplete.
    let Verified {
        mut report,
        job_error,
    } = run_checks(&ChecksInput {
        globals,
        range: &range,
        source: &source,
        change: &change,
        settings: &settings,
    })
    .await?;
    if let Some(label) = &settings.github.skip_label
        && target.labels.iter().any(|l| l.eq_ignore_ascii_case(label))
    {
        waive_missing_migrations(&mut report, label);
    }
    let opts = render_options(&settings, false);
    report.pull_request = Some(PullRequestRef {
        repository: target.repo.full_name(),
        number: target.number,
        head_sha: target.head_sha.clone(),
        head_ref: Some(target.head_ref.clone()),
        base_sha: Some(target.base_sha.clone()),
        diff_lines: diff_lines(&source, &change, &report),
        command_comment: target.command_comment,
        environment_files: opts.environment_files.clone(),
        fallback_file: opts.fallback_file.clone(),
    });
    let report_path = save_report(&report, args)?;
    print!("{}", render(&report, Format::Human, &opts));

    let posting = if args.no_publish {
        Posting::Skip(format!(
            "Not posted (--no-publish); the report is saved in {}. Post it with `alembot github publish --report FILE`.",
            report_path.display()
        ))
    } else if from_pull_request_event && target.fork {
        Posting::Skip(format!(
            "Pull request #{} comes from a fork: this job runs the fork's code with a read-only token, so the report was saved in {} and not posted. Post it from a `workflow_run` job with `alembot github publish --report FILE` (README.md, \"Pull requests from forks\").",
            target.number,
            report_path.display()
        ))
    } else {
        Posting::Publish
    };
    let github = settings.github.clone();
    let options = publish_options(&github, fails(&report, github.fail_on));
    let (status, errors) = match posting {
        Posting::Skip(why) => (vec![why], Vec::new()),
        Posting::Publish => post(gh, &args.actions, &report, &opts, &options).await,
    };
    let exit = finish(
        &args.actions,
        &report,
        &opts,
        &report_path,
        options.fails,
        status,
        errors,
    )?;
    match job_error {
        // The error's own exit code (2, or 130 for SIGINT) ends the run.
        Some(err) => Err(err),
        None => Ok(exit),
    }
}

fn publish_options(github: &GithubSettings, fails: bool) -> PublishOptions {
    PublishOptions {
        comment: github.comment,
        inline: github.inline,
        check_run: github.check_run,
        upload_sarif: github.upload_sarif,
        fails,
        run_id: format!("alembot-{:016x}", fastrand::u64(..)),
    }
}

/// Publishes and reacts on the command comment: `+1` when everything was
/// posted, `confused` when something was not.
async fn post(
    gh: Option<Github>,
    env: &ActionsEnv,
    report: &Report,
    opts: &RenderOptions,
    options: &PublishOptions,
) -> (Vec<String>, Vec<String>) {
    let gh = match gh.map_or_else(|| client(env), Ok) {
        Ok(gh) => gh,
        Err(e) => return (Vec::new(), vec![e.to_string()]),
    };
    let gh = &gh;
    let published = publish(gh, report, opts, options).await;
    if let Some(pr) = &report.pull_request
        && let Ok(repo) = RepoName::parse(&pr.repository)
    {
        let reaction = if published.errors.is_empty() {
            Reaction::PlusOne
        } else {
            Reaction::Confused
        };
        react(gh, &repo, pr.command_comment.map(CommentId), reaction).await;
    }
    let errors = published.errors.iter().map(|e| e.to_string()).collect();
    let mut status = published.status_lines();
    // The errors are reported on their own; keep them out of the status.
    status.retain(|line| !line.starts_with("Publishing failed: "));
    (status, errors)
}

/// Writes the step summary and outputs, logs what happened, and turns the
/// verdict and any publishing failure into the exit.
fn finish(
    env: &ActionsEnv,
    report: &Report,
    opts: &RenderOptions,
    report_path: &Path,
    fails: bool,
    status: Vec<String>,
    errors: Vec<String>,
) -> Result<Exit, Error> {
    for line in &status {
        println!("alembot: {line}");
    }
    for error in &errors {
        eprintln!("alembot: error: publishing failed: {error}");
    }
    if let Some(path) = &env.step_summary {
        let mut lines = status.clone();
        lines.extend(errors.iter().map(|e| format!("**Publishing failed:** {e}")));
        if let Err(e) = actions::append_summary(path, &step_summary(report, opts, &lines)) {
            eprintln!(
                "alembot: warning: cannot write the step summary {}: {e}",
                path.display()
            );
        }
    }
    write_outputs(
        env,
        &[
            ("verdict", report.verdict().as_str().to_string()),
            ("errors", report.summary.errors.to_string()),
            ("warnings", report.summary.warnings.to_string()),
            ("report", report_path.display().to_string()),
        ],
    )?;
    if fails {
        return Ok(Exit::Findings);
    }
    match errors.len() {
        0 => Ok(Exit::Clean),
        1 => Err(Error::Usage(format!("publishing failed: {}", errors[0]))),
        n => Err(Error::Usage(format!(
            "publishing failed ({n} problems, see above): {}",
            errors[0]
        ))),
    }
}

fn write_outputs(env: &ActionsEnv, outputs: &[(&str, String)]) -> Result<(), Error> {
    if let Some(path) = &env.github_output {
        actions::write_outputs(path, outputs).map_err(|source| Error::Output {
            path: path.display().to_string(),
            source,
        })?;
    }
    Ok(())
}

fn save_report(report: &Report, args: &GithubArgs) -> Result<PathBuf, Error> {
    let path = match (&args.report_out, &args.actions.runner_temp) {
        (Some(path), _) => path.clone(),
        (None, Some(temp)) => temp.join("alembot-report.json"),
        (None, None) => std::env::temp_dir().join("alembot-report.json"),
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|source| Error::Output {
            path: parent.display().to_string(),
            source,
        })?;
    }
    std::fs::write(
        &path,
        render(report, Format::Json, &RenderOptions::default()),
    )
    .map_err(|source| Error::Output {
        path: path.display().to_string(),
        source,
    })?;
    Ok(std::path::absolute(&path).unwrap_or(path))
}

/// Head-side diff lines (hunks with GitHub's three lines of context) of the
/// files the findings point at: where inline comments may go.
fn diff_lines(
    source: &Source,
    change: &ChangeSet,
    report: &Report,
) -> BTreeMap<String, Vec<LineRange>> {
    let wanted: BTreeSet<&str> = report
        .findings
        .iter()
        .filter_map(|f| f.file.as_deref())
        .collect();
    let mut out = BTreeMap::new();
    for file in &change.files {
        if file.submodule || !file.exists_on_new_side() || !wanted.contains(file.path.as_str()) {
            continue;
        }
        let read =
            |side: Side, path: &str| source.read(side, path).ok().flatten().unwrap_or_default();
        let new = read(Side::New, &file.path);
        let old = if file.exists_on_old_side() {
            read(Side::Old, file.old_side_path())
        } else {
            Vec::new()
        };
        let ranges = diff_line_ranges(&old, &new, 3);
        if !ranges.is_empty() {
            out.insert(file.path.clone(), ranges);
        }
    }
    out
}

/// `alembot github publish --report FILE`.
async fn publish_saved(args: &PublishArgs) -> Result<Exit, Error> {
    let env = &args.actions;
    let path = &args.report;
    let text = std::fs::read_to_string(path).map_err(|e| Error::Input {
        path: path.display().to_string(),
        message: format!("cannot read the report: {e}"),
    })?;
    let report = json::parse(&text).map_err(|e| Error::Input {
        path: path.display().to_string(),
        message: format!("not an alembot JSON report: {e}"),
    })?;
    let pr = report.pull_request.clone().ok_or_else(|| Error::Input {
        path: path.display().to_string(),
        message: "the report names no pull request: save it with `alembot github --no-publish`, not `alembot check`".into(),
    })?;
    // The report may come from a job that ran a fork's code: it is believed
    // about findings, never about where to post.
    let repo = RepoName::parse(&pr.repository)?;
    if let Some(workflow_repo) = &env.repository
        && !workflow_repo.eq_ignore_ascii_case(&repo.full_name())
    {
        return Err(Error::Usage(format!(
            "the report is for {} but this workflow runs in {workflow_repo}: refusing to post it",
            repo.full_name()
        )));
    }
    if let (Some(name), Some(event_path)) = (&env.event_name, &env.event_path)
        && name == "workflow_run"
    {
        let payload = std::fs::read(event_path).map_err(|e| Error::Input {
            path: event_path.display().to_string(),
            message: format!("cannot read the event payload: {e}"),
        })?;
        if let Event::WorkflowRun(run) = event::decode(name, &payload)?
            && run.workflow_run.head_sha != pr.head_sha
        {
            return Err(Error::Usage(format!(
                "the report is for commit {} but the workflow run that made it checked {}: refusing to post it",
                pr.head_sha, run.workflow_run.head_sha
            )));
        }
    }

    let mut github = GithubSettings::default();
    apply_flags(&mut github, &args.publish);
    let options = publish_options(&github, fails(&report, github.fail_on));
    let opts = RenderOptions {
        environment_files: pr.environment_files.clone(),
        fallback_file: pr.fallback_file.clone(),
        ..RenderOptions::default()
    };

    let gh = client(env)?;
    let live = gh.pull_request(&repo, pr.number).await?;
    if live.head.sha != pr.head_sha {
        println!(
            "alembot: pull request #{} has moved on to {}; this report is for {}, so it was not posted (the newer run posts its own)",
            pr.number, live.head.sha, pr.head_sha
        );
        return Ok(Exit::Clean);
    }
    // The comment to react on must be on this pull request.
    let mut report = report;
    if let Some(id) = pr.command_comment {
        let on_this_pr = matches!(gh.issue_comment(&repo, id).await, Ok(c) if c.is_on(pr.number));
        if !on_this_pr {
            eprintln!(
                "alembot: warning: comment {id} named by the report is not on pull request #{}; not reacting on it",
                pr.number
            );
            if let Some(pr) = report.pull_request.as_mut() {
                pr.command_comment = None;
            }
        }
    }
    print!("{}", render(&report, Format::Human, &opts));
    let (status, errors) = post(Some(gh), env, &report, &opts, &options).await;
    finish(env, &report, &opts, path, options.fails, status, errors)
}
