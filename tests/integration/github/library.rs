//! Publishing through the library: real octocrab (and reqwest for SARIF)
//! against the fake GitHub, with a clock that records waits instead of
//! sleeping.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::http::Method;
use secrecy::SecretString;

use alembot::config::CommentMode;
use alembot::findings::{Finding, LineRange, PullRequestRef, Report, Severity};
use alembot::github::body::{REPORT_MARKER, step_summary};
use alembot::github::publish::{PublishOptions, Published, publish};
use alembot::github::retry::{RecordingClock, RetryPolicy};
use alembot::github::{Github, GithubError, RepoName};
use alembot::report::RenderOptions;
use alembot::rules::Code;

use super::fake::{BOT, FakeGithub, FaultKind, Pull, REPO, TOKEN};

const HEAD: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const BASE: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const PR: u64 = 7;

fn fake() -> FakeGithub {
    let fake = FakeGithub::start();
    fake.add_pull(Pull {
        number: PR,
        head_sha: HEAD.into(),
        head_ref: "add-email".into(),
        base_sha: BASE.into(),
        head_repo: REPO.into(),
        labels: Vec::new(),
        diff: BTreeMap::from([("app/models.py".to_string(), vec![(9, 15)])]),
    });
    fake
}

fn client(fake: &FakeGithub) -> (Github, RecordingClock) {
    let clock = RecordingClock::default();
    let gh = Github::new(&fake.url, SecretString::from(TOKEN.to_string()))
        .expect("client")
        .with_retry(RetryPolicy::default(), Arc::new(clock.clone()));
    (gh, clock)
}

/// A missing migration on a diff line, a destructive operation on a line
/// of a file the diff does not touch there, and a file-less finding.
fn report() -> Report {
    let mut report = Report::new(
        vec![
            Finding::error(
                Code::MissingMigration,
                "user.email added but no new revision",
            )
            .at("app/models.py", Some(12))
            .in_env("main")
            .with_help("run `alembic revision --autogenerate`"),
            Finding::warning(Code::DestructiveOperation, "drops column `user.nickname`")
                .at("migrations/versions/0002_drop.py", Some(40))
                .in_env("main"),
            Finding::error(Code::MultipleHeads, "two heads: 0002, 0003").in_env("main"),
        ],
        &["static"],
        vec![],
    );
    report.pull_request = Some(PullRequestRef {
        repository: REPO.into(),
        number: PR,
        head_sha: HEAD.into(),
        head_ref: Some("add-email".into()),
        base_sha: Some(BASE.into()),
        diff_lines: BTreeMap::from([(
            "app/models.py".to_string(),
            vec![LineRange { start: 9, end: 15 }],
        )]),
        fallback_file: Some("alembic.ini".into()),
        ..PullRequestRef::default()
    });
    report
}

fn options(comment: CommentMode) -> PublishOptions {
    PublishOptions {
        comment,
        inline: true,
        check_run: true,
        upload_sarif: false,
        fails: true,
        run_id: format!("run-{}", fastrand::u64(..)),
    }
}

async fn run(gh: &Github, report: &Report, options: &PublishOptions) -> Published {
    publish(gh, report, &RenderOptions::default(), options).await
}

fn assert_ok(published: &Published) {
    assert!(published.errors.is_empty(), "{:?}", published.errors);
}

#[tokio::test]
async fn first_run_creates_the_report() {
    let fake = fake();
    let (gh, clock) = client(&fake);
    let published = run(&gh, &report(), &options(CommentMode::Review)).await;
    assert_ok(&published);
    assert!(published.report_created);

    let state = fake.state();
    let reports = state.reports(PR);
    assert_eq!(reports.len(), 1);
    let review = reports[0];
    assert!(review.body.starts_with(REPORT_MARKER));
    assert_eq!(review.state, "COMMENTED");
    assert_eq!(
        review.commit_id, HEAD,
        "reviews go on the head, not a merge commit"
    );
    assert!(review.body.contains("missing-migration"));
    assert!(
        review.body.contains("drops column"),
        "off-diff finding is in the body"
    );
    assert!(review.body.contains("two heads"));

    // Only the finding on a diff line is inline.
    assert_eq!(state.review_comments.len(), 1);
    let inline = &state.review_comments[0];
    assert_eq!(
        (inline.path.as_str(), inline.line),
        ("app/models.py", Some(12))
    );
    assert_eq!(inline.review_id, review.id);

    assert_eq!(state.check_runs.len(), 1);
    let run = &state.check_runs[0];
    assert_eq!(run.name, "alembot");
    assert_eq!(run.head_sha, HEAD);
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    assert_eq!(run.title.as_deref(), Some("2 errors, 1 warning"));
    // File-less findings have no annotation; the summary lists them.
    assert_eq!(run.annotations.len(), 2);
    assert!(run.summary.as_deref().unwrap().contains("two heads"));
    assert!(clock.waits().is_empty());
}

#[tokio::test]
async fn second_run_edits_the_report() {
    let fake = fake();
    let (gh, _) = client(&fake);
    assert_ok(&run(&gh, &report(), &options(CommentMode::Review)).await);

    let mut fixed = report();
    fixed.findings.retain(|f| !f.is(Code::MissingMigration));
    fixed.recount();
    let published = run(&gh, &fixed, &options(CommentMode::Review)).await;
    assert_ok(&published);
    assert!(!published.report_created);

    let state = fake.state();
    let reports = state.reports(PR);
    assert_eq!(reports.len(), 1);
    assert!(!reports[0].body.contains("missing-migration"));
    assert_eq!(
        state.count("PUT", &format!("/reviews/{}", reports[0].id)),
        1
    );
    assert_eq!(state.count("POST", "/pulls/7/reviews"), 1);
    // The fixed finding's inline comment is gone.
    assert!(state.review_comments.is_empty());
    assert_eq!(published.inline.deleted, 1);
}

#[tokio::test]
async fn twenty_runs_leave_one_report() {
    let fake = fake();
    let (gh, _) = client(&fake);
    for _ in 0..20 {
        assert_ok(&run(&gh, &report(), &options(CommentMode::Review)).await);
    }
    let state = fake.state();
    assert_eq!(state.reports(PR).len(), 1);
    assert_eq!(
        state.review_comments.len(),
        1,
        "the inline comment is kept, not repeated"
    );
    assert_eq!(state.count("POST", "/pulls/7/reviews"), 1);
    assert_eq!(state.count("POST", "/pulls/7/comments"), 0);
    assert_eq!(
        state.count_containing("PATCH", "/pulls/comments/"),
        0,
        "unchanged text is not re-sent"
    );
}

#[tokio::test]
async fn comment_mode_keeps_one_issue_comment() {
    let fake = fake();
    let (gh, _) = client(&fake);
    // Someone else's comments come first; the report is found among them.
    fake.add_issue_comment(PR, "alice", "Looks good to me");
    for _ in 0..3 {
        assert_ok(&run(&gh, &report(), &options(CommentMode::Comment)).await);
    }
    let state = fake.state();
    assert_eq!(state.report_comments(PR).len(), 1);
    assert!(state.reports(PR).is_empty());
    assert!(
        state.review_comments.is_empty(),
        "no inline comments without a review"
    );
    assert_eq!(state.count("POST", "/issues/7/comments"), 1);
    assert_eq!(
        state.count("PATCH", "/issues/comments/1002"),
        0,
        "same text, no edit"
    );
}

#[tokio::test]
async fn the_report_is_found_beyond_the_first_page() {
    let fake = fake();
    let (gh, _) = client(&fake);
    assert_ok(&run(&gh, &report(), &options(CommentMode::Comment)).await);
    // A busy pull request: 250 comments after alembot's (squawk reads only
    // the first 100 and would post a duplicate here).
    for i in 0..250 {
        fake.add_issue_comment(PR, "bob", &format!("comment {i}"));
    }
    // The report is the first comment, so move it to the end: delete and
    // re-add keeps its id order realistic.
    {
        let mut state = fake.state();
        let report = state.issue_comments.remove(0);
        state.issue_comments.push(report);
    }
    assert_ok(&run(&gh, &report(), &options(CommentMode::Comment)).await);
    let state = fake.state();
    assert_eq!(state.report_comments(PR).len(), 1);
    assert_eq!(
        state.count("GET", "/issues/7/comments"),
        1 + 3,
        "three pages the second time"
    );
}

#[tokio::test]
async fn a_finding_outside_the_diff_stays_in_the_body() {
    let fake = fake();
    let (gh, _) = client(&fake);
    let mut report = report();
    // Claim the migration's line is in our diff: GitHub's is what counts.
    report.pull_request.as_mut().unwrap().diff_lines.insert(
        "migrations/versions/0002_drop.py".into(),
        vec![LineRange { start: 38, end: 42 }],
    );
    let published = run(&gh, &report, &options(CommentMode::Review)).await;
    assert_ok(&published);
    let state = fake.state();
    // GitHub refused the review with a comment off its diff; alembot posted
    // the report without inline comments rather than nothing.
    assert_eq!(state.reports(PR).len(), 1);
    assert!(state.reports(PR)[0].body.contains("drops column"));
    assert!(state.review_comments.is_empty());
    assert!(
        published
            .notes
            .iter()
            .any(|n| n.contains("part of the diff")),
        "{:?}",
        published.notes
    );
}

#[tokio::test]
async fn new_findings_on_later_pushes_get_their_own_inline_comment() {
    let fake = fake();
    let (gh, _) = client(&fake);
    assert_ok(&run(&gh, &report(), &options(CommentMode::Review)).await);

    // A push moves the model change down two lines.
    let head2 = "cccccccccccccccccccccccccccccccccccccccc";
    fake.push(
        PR,
        head2,
        BTreeMap::from([("app/models.py".to_string(), vec![(11, 17)])]),
    );
    let mut moved = report();
    moved.findings[0].line = Some(14);
    let pr = moved.pull_request.as_mut().unwrap();
    pr.head_sha = head2.into();
    pr.diff_lines.insert(
        "app/models.py".into(),
        vec![LineRange { start: 11, end: 17 }],
    );
    let published = run(&gh, &moved, &options(CommentMode::Review)).await;
    assert_ok(&published);
    assert_eq!(published.inline.deleted, 1);
    assert_eq!(published.inline.created, 1);
    let state = fake.state();
    assert_eq!(state.reports(PR).len(), 1);
    assert_eq!(state.review_comments.len(), 1);
    assert_eq!(state.review_comments[0].line, Some(14));
    assert_eq!(state.review_comments[0].commit_id, head2);
}

#[tokio::test]
async fn bad_gateway_twice_then_success() {
    let fake = fake();
    let (gh, clock) = client(&fake);
    fake.fault(
        Method::POST,
        "/pulls/7/reviews",
        FaultKind::BadGateway {
            after_processing: false,
        },
        2,
    );
    assert_ok(&run(&gh, &report(), &options(CommentMode::Review)).await);
    let state = fake.state();
    assert_eq!(state.reports(PR).len(), 1);
    assert_eq!(state.count("POST", "/pulls/7/reviews"), 3);
    let waits = clock.waits();
    assert_eq!(waits.len(), 2, "{waits:?}");
    assert!(waits[0] <= Duration::from_secs(1) && waits[1] <= Duration::from_secs(2));
    assert!(
        waits[1] >= Duration::from_secs(1),
        "backoff grows: {waits:?}"
    );
}

#[tokio::test]
async fn a_write_that_succeeded_behind_a_502_is_not_repeated() {
    let fake = fake();
    let (gh, _) = client(&fake);
    for path in ["/pulls/7/reviews", "/check-runs"] {
        fake.fault(
            Method::POST,
            path,
            FaultKind::BadGateway {
                after_processing: true,
            },
            1,
        );
    }
    let published = run(&gh, &report(), &options(CommentMode::Review)).await;
    assert_ok(&published);
    let state = fake.state();
    assert_eq!(
        state.count("POST", "/pulls/7/reviews"),
        1,
        "looked, found, not re-sent"
    );
    assert_eq!(state.reports(PR).len(), 1);
    assert_eq!(state.count("POST", "/check-runs"), 1);
    assert_eq!(state.check_runs.len(), 1, "found again by external_id");
}

#[tokio::test]
async fn issue_comment_behind_a_502_is_not_repeated() {
    let fake = fake();
    let (gh, _) = client(&fake);
    fake.fault(
        Method::POST,
        "/issues/7/comments",
        FaultKind::BadGateway {
            after_processing: true,
        },
        1,
    );
    assert_ok(&run(&gh, &report(), &options(CommentMode::Comment)).await);
    let state = fake.state();
    assert_eq!(state.report_comments(PR).len(), 1);
    assert_eq!(state.count("POST", "/issues/7/comments"), 1);
}

#[tokio::test]
async fn annotation_batch_behind_a_502_is_not_appended_twice() {
    let fake = fake();
    let (gh, _) = client(&fake);
    let mut report = report();
    report.findings = (1..=120)
        .map(|i| Finding::warning(Code::Drift, format!("drift {i}")).at("app/models.py", Some(i)))
        .collect();
    report.recount();
    // No review in this run: the check run is the fake's first object.
    fake.fault(
        Method::PATCH,
        "/check-runs/1001",
        FaultKind::BadGateway {
            after_processing: true,
        },
        1,
    );
    let mut opts = options(CommentMode::None);
    opts.fails = false;
    assert_ok(&run(&gh, &report, &opts).await);
    let state = fake.state();
    assert_eq!(state.check_runs.len(), 1);
    assert_eq!(state.check_runs[0].annotations.len(), 120);
    assert_eq!(state.count("POST", "/check-runs"), 1);
    assert_eq!(
        state.count("PATCH", "/check-runs/1001"),
        2,
        "50 + 20 after the first 50"
    );
    assert_eq!(state.check_runs[0].conclusion.as_deref(), Some("success"));
}

#[tokio::test]
async fn secondary_rate_limit_honours_retry_after() {
    let fake = fake();
    let (gh, clock) = client(&fake);
    fake.fault(
        Method::POST,
        "/pulls/7/reviews",
        FaultKind::SecondaryRateLimit { retry_after: 42 },
        1,
    );
    fake.fault(
        Method::GET,
        "/pulls/7/reviews",
        FaultKind::TooManyRequests {
            retry_after: Some(3),
        },
        1,
    );
    assert_ok(&run(&gh, &report(), &options(CommentMode::Review)).await);
    assert_eq!(
        clock.waits(),
        vec![Duration::from_secs(3), Duration::from_secs(42)]
    );
    let state = fake.state();
    assert_eq!(state.reports(PR).len(), 1);
    // A rate-limited request was not processed: it is simply sent again.
    assert_eq!(state.count("POST", "/pulls/7/reviews"), 2);
}

#[tokio::test]
async fn a_retry_after_beyond_the_budget_gives_up_with_the_wait() {
    let fake = fake();
    let (gh, clock) = client(&fake);
    fake.fault(
        Method::GET,
        "/pulls/7/reviews",
        FaultKind::SecondaryRateLimit { retry_after: 3600 },
        1,
    );
    let mut opts = options(CommentMode::Review);
    opts.check_run = false;
    let published = run(&gh, &report(), &opts).await;
    assert!(clock.waits().is_empty(), "no hour-long wait");
    let error = published.errors[0].to_string();
    assert!(matches!(
        published.errors[0],
        GithubError::RateLimited { .. }
    ));
    assert!(error.contains("3600s"), "{error}");
}

#[tokio::test]
async fn server_errors_end_after_the_attempts_allowed() {
    let fake = fake();
    let (gh, clock) = client(&fake);
    fake.fault(
        Method::POST,
        "/check-runs",
        FaultKind::BadGateway {
            after_processing: false,
        },
        100,
    );
    let published = run(&gh, &report(), &options(CommentMode::None)).await;
    assert_eq!(published.errors.len(), 1);
    let error = published.errors[0].to_string();
    assert!(error.contains("HTTP 502 to 5 attempt(s)"), "{error}");
    assert_eq!(clock.waits().len(), 4);
    assert_eq!(fake.state().count("POST", "/check-runs"), 5);
}

#[tokio::test]
async fn missing_permission_names_the_workflow_entry_and_the_rest_still_posts() {
    let fake = fake();
    let (gh, clock) = client(&fake);
    fake.fault(
        Method::POST,
        "/check-runs",
        FaultKind::NotAccessible { accepted: None },
        1,
    );
    fake.fault(
        Method::POST,
        "/code-scanning/sarifs",
        FaultKind::NotAccessible {
            accepted: Some("security_events=write".into()),
        },
        1,
    );
    let mut opts = options(CommentMode::Review);
    opts.upload_sarif = true;
    let published = run(&gh, &report(), &opts).await;
    assert_eq!(published.errors.len(), 2, "{:?}", published.errors);
    let messages: Vec<String> = published.errors.iter().map(|e| e.to_string()).collect();
    assert!(
        messages[0].contains("add `checks: write` to the `permissions:`"),
        "{}",
        messages[0]
    );
    assert!(messages[0].contains("Resource not accessible by integration"));
    assert!(
        messages[1].contains("`security-events: write`"),
        "{}",
        messages[1]
    );
    assert!(
        clock.waits().is_empty(),
        "a missing permission is not retried"
    );
    assert_eq!(
        fake.state().reports(PR).len(),
        1,
        "the review still went out"
    );
}

#[tokio::test]
async fn accepted_permissions_header_names_the_alternatives() {
    let fake = fake();
    let (gh, _) = client(&fake);
    fake.fault(
        Method::POST,
        "/pulls/7/reviews",
        FaultKind::NotAccessible {
            accepted: Some("pull_requests=write; issues=write".into()),
        },
        1,
    );
    let mut opts = options(CommentMode::Review);
    opts.check_run = false;
    let published = run(&gh, &report(), &opts).await;
    let error = published.errors[0].to_string();
    assert!(
        error.contains("add `pull-requests: write` (or `issues: write`) to the `permissions:`"),
        "{error}"
    );
}

#[tokio::test]
async fn an_over_long_report_is_cut_and_the_summary_has_everything() {
    let fake = fake();
    let (gh, _) = client(&fake);
    let mut report = report();
    report.findings = (1..=1500)
        .map(|i| {
            Finding::error(
                Code::Drift,
                format!("column c{i} differs: {}", "x".repeat(60)),
            )
            .at("app/models.py", Some(i))
        })
        .collect();
    report.recount();
    let mut opts = options(CommentMode::Review);
    opts.inline = false;
    let published = run(&gh, &report, &opts).await;
    assert_ok(&published);
    assert!(published.report_cut);
    let state = fake.state();
    let body = &state.reports(PR)[0].body;
    assert!(body.chars().count() <= 65_536);
    assert!(body.contains("the full report is in the job summary"));
    assert!(!body.contains("column c1500 "));
    let summary = step_summary(
        &report,
        &RenderOptions::default(),
        &published.status_lines(),
    );
    assert!(summary.contains("column c1500 "));
    assert!(summary.contains("too long for one comment"));
    // 1500 annotations in batches of 50, capped at 500.
    assert_eq!(state.check_runs[0].annotations.len(), 500);
}

#[tokio::test]
async fn sarif_is_uploaded_gzipped_and_base64_encoded() {
    let fake = fake();
    let (gh, _) = client(&fake);
    let mut opts = options(CommentMode::None);
    opts.check_run = false;
    opts.upload_sarif = true;
    let published = run(&gh, &report(), &opts).await;
    assert_ok(&published);
    assert!(published.sarif_id.is_some());
    let state = fake.state();
    assert_eq!(state.sarifs.len(), 1);
    let results = state.sarifs[0]["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    // The file-less finding is anchored where the report says.
    assert!(state.sarifs[0].to_string().contains("alembic.ini"));
}

#[tokio::test]
async fn notices_do_not_fail_and_the_pr_is_checked_for_repository_names() {
    let fake = fake();
    let (gh, _) = client(&fake);
    let mut report = report();
    for f in &mut report.findings {
        f.severity = Severity::Notice;
    }
    report.recount();
    let mut opts = options(CommentMode::Review);
    opts.fails = false;
    assert_ok(&run(&gh, &report, &opts).await);
    assert_eq!(
        fake.state().check_runs[0].conclusion.as_deref(),
        Some("success")
    );

    report.pull_request.as_mut().unwrap().repository = "acme/../../etc".into();
    let published = run(&gh, &report, &opts).await;
    assert!(matches!(
        published.errors[0],
        GithubError::InvalidName { .. }
    ));
}

#[tokio::test]
async fn permissions_and_reactions() {
    let fake = fake();
    let (gh, _) = client(&fake);
    let repo = RepoName::parse(REPO).unwrap();
    fake.set_permission("alice", "write", "maintain");
    fake.set_permission("carol", "read", "triage");
    assert!(gh.permission(&repo, "alice").await.unwrap().may_write());
    assert!(!gh.permission(&repo, "carol").await.unwrap().may_write());
    assert!(!gh.permission(&repo, "stranger").await.unwrap().may_write());

    let id = fake.add_issue_comment(PR, "alice", "/alembot recheck");
    use alembot::github::client::Reaction;
    gh.react(&repo, id, Reaction::Eyes).await.unwrap();
    gh.react(&repo, id, Reaction::Eyes).await.unwrap();
    gh.react(&repo, id, Reaction::PlusOne).await.unwrap();
    assert_eq!(fake.state().reactions_on(id), vec!["eyes", "+1"]);
    assert_eq!(BOT, "github-actions[bot]");
}

#[tokio::test]
async fn the_fake_rejects_what_github_rejects() {
    // The fake's strictness is what makes the tests above mean something.
    let fake = fake();
    let client = reqwest::Client::new();
    let post = |path: &str, body: serde_json::Value| {
        client
            .post(format!("{}/repos/{REPO}{path}", fake.url))
            .header("authorization", format!("Bearer {TOKEN}"))
            .header("accept", "application/vnd.github+json")
            .header("x-github-api-version", "2022-11-28")
            .header("user-agent", "test")
            .json(&body)
    };
    let status = |r: reqwest::Response| r.status().as_u16();
    // octocrab's create_review with unset fields sends nulls.
    let nulls = serde_json::json!({"commit_id": HEAD, "body": "b", "event": "COMMENT",
        "comments": [{"path": "app/models.py", "body": "x", "line": 12, "side": null, "position": null}]});
    assert_eq!(
        status(post("/pulls/7/reviews", nulls).send().await.unwrap()),
        422
    );
    let off_diff = serde_json::json!({"commit_id": HEAD, "body": "b", "event": "COMMENT",
        "comments": [{"path": "app/models.py", "body": "x", "line": 40, "side": "RIGHT"}]});
    assert_eq!(
        status(post("/pulls/7/reviews", off_diff).send().await.unwrap()),
        422
    );
    let merge_commit = serde_json::json!({"commit_id": BASE, "body": "b", "event": "COMMENT"});
    assert_eq!(
        status(post("/pulls/7/reviews", merge_commit).send().await.unwrap()),
        422
    );
    let too_many: Vec<_> = (1..=51)
        .map(|i| serde_json::json!({"path": "a.py", "start_line": i, "end_line": i, "annotation_level": "warning", "message": "m"}))
        .collect();
    let check = serde_json::json!({"name": "alembot", "head_sha": HEAD, "status": "completed", "conclusion": "success",
        "output": {"title": "t", "summary": "s", "annotations": too_many}});
    assert_eq!(
        status(post("/check-runs", check).send().await.unwrap()),
        422
    );
    let bad_level = serde_json::json!({"name": "alembot", "head_sha": HEAD, "conclusion": "success",
        "output": {"title": "t", "summary": "s", "annotations": [{"path": "a.py", "start_line": 1, "end_line": 1, "annotation_level": "error", "message": "m"}]}});
    assert_eq!(
        status(post("/check-runs", bad_level).send().await.unwrap()),
        422
    );
    let long = serde_json::json!({"body": "x".repeat(65_537)});
    assert_eq!(
        status(post("/issues/7/comments", long).send().await.unwrap()),
        422
    );
    // Headers: no token, wrong API version, no user agent.
    let r = client
        .get(format!("{}/repos/{REPO}/pulls/7", fake.url))
        .header("accept", "application/vnd.github+json")
        .header("x-github-api-version", "2022-11-28")
        .send()
        .await
        .unwrap();
    assert_eq!(status(r), 401);
    let r = client
        .get(format!("{}/repos/{REPO}/pulls/7", fake.url))
        .header("authorization", format!("token {TOKEN}"))
        .header("accept", "application/vnd.github+json")
        .header("x-github-api-version", "2021-01-01")
        .header("user-agent", "t")
        .send()
        .await
        .unwrap();
    assert_eq!(status(r), 400);
    let r = client
        .get(format!("{}/repos/{REPO}/pulls/7", fake.url))
        .header("authorization", format!("token {TOKEN}"))
        .header("accept", "application/vnd.github+json")
        .header("x-github-api-version", "2022-11-28")
        .send()
        .await
        .unwrap();
    assert_eq!(status(r), 403);
}

#[tokio::test]
async fn enterprise_server_api_path_is_kept_for_every_call() {
    // GITHUB_API_URL on GitHub Enterprise Server is https://HOST/api/v3.
    let fake = FakeGithub::start_at("/api/v3");
    fake.add_pull(Pull {
        number: PR,
        head_sha: HEAD.into(),
        head_ref: "add-email".into(),
        base_sha: BASE.into(),
        head_repo: REPO.into(),
        labels: Vec::new(),
        diff: BTreeMap::from([("app/models.py".to_string(), vec![(9, 15)])]),
    });
    for i in 0..120 {
        fake.add_issue_comment(PR, "bob", &format!("comment {i}"));
    }
    let (gh, _) = client(&fake);
    let mut opts = options(CommentMode::Comment);
    opts.upload_sarif = true;
    for _ in 0..2 {
        assert_ok(&run(&gh, &report(), &opts).await);
    }
    let state = fake.state();
    assert_eq!(
        state.report_comments(PR).len(),
        1,
        "found on page 2 via the Link header"
    );
    assert_eq!(state.sarifs.len(), 2, "reqwest honours the path too");
    assert!(
        state
            .log
            .iter()
            .all(|l| l.path.starts_with("/api/v3/") && l.status < 400)
    );
}
