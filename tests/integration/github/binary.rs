//! `alembot github` end to end: the binary on a real git repository with a
//! model change, in the environment of a GitHub Actions step, posting to the
//! fake GitHub.

use std::fs;

use axum::http::Method;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::fake::{BOT, FakeGithub, FaultKind, REPO};
use super::support::{Project, Runner, aim_pull_request, fixture};

const PR: u64 = 7;
/// The comment id in the issue_comment fixtures.
const COMMENT: u64 = 2_400_000_001;

fn setup() -> (Project, FakeGithub, Runner) {
    let project = Project::with_missing_migration();
    let fake = FakeGithub::start();
    fake.add_pull(project.pull(PR));
    (project, fake, Runner::new())
}

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn pull_request_first_run_creates_the_report_and_the_second_edits_it() {
    let (project, fake, runner) = setup();
    runner.event("pull_request.opened.json", |e| {
        aim_pull_request(e, &project)
    });
    let out = runner
        .alembot(project.path(), &fake, "pull_request")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("error[missing-migration]"),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains("Posted the report"),
        "{}",
        stdout(&out)
    );
    {
        let state = fake.state();
        let reports = state.reports(PR);
        assert_eq!(reports.len(), 1);
        assert_eq!(reports[0].commit_id, project.head);
        assert!(reports[0].body.contains("`missing-migration`"));
        assert_eq!(state.review_comments.len(), 1);
        assert_eq!(state.review_comments[0].line, Some(12));
        assert_eq!(state.check_runs[0].conclusion.as_deref(), Some("failure"));
        assert_eq!(state.check_runs[0].annotations[0]["path"], "app/models.py");
    }
    let outputs = runner.outputs();
    assert_eq!(outputs["verdict"], "failed");
    assert_eq!(outputs["errors"], "1");
    assert_eq!(outputs["warnings"], "0");
    let report = fs::read_to_string(&outputs["report"]).unwrap();
    let report: serde_json::Value = serde_json::from_str(&report).unwrap();
    assert_eq!(report["pull_request"]["head_sha"], project.head.as_str());
    assert_eq!(
        report["pull_request"]["diff_lines"]["app/models.py"][0]["start"],
        9
    );
    assert!(runner.summary().contains("### ❌ alembot: 1 error"));
    assert!(runner.summary().contains("Posted the report"));

    // A push: another column, still no migration.
    let mut project = project;
    project.write(
        "app/models.py",
        &fs::read_to_string(project.path().join("app/models.py"))
            .unwrap()
            .replace(
                "    email = Column(String(120), nullable=False)\n",
                "    email = Column(String(120), nullable=False)\n    phone = Column(String(20))\n",
            ),
    );
    project.commit("add User.phone");
    let mut pushed = project.pull(PR);
    pushed.diff.insert("app/models.py".into(), vec![(9, 16)]);
    fake.push(PR, &project.head, pushed.diff);
    let second = Runner::new();
    second.event("pull_request.synchronize.json", |e| {
        aim_pull_request(e, &project)
    });
    let out = second
        .alembot(project.path(), &fake, "pull_request")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("Updated the report"),
        "{}",
        stdout(&out)
    );
    let state = fake.state();
    assert_eq!(state.reports(PR).len(), 1);
    assert_eq!(state.count("POST", "/pulls/7/reviews"), 1);
    assert_eq!(state.count_containing("PUT", "/pulls/7/reviews/"), 1);
    // `email` stays one finding (the drift confirming it is folded in);
    // `phone` is a second column on its own line: the dynamic job's drift
    // for it adds a second inline comment there.
    let lines: Vec<_> = state.review_comments.iter().map(|c| c.line).collect();
    assert_eq!(lines, [Some(12), Some(13)]);
}

#[test]
fn a_recheck_by_a_writer_runs_and_reacts() {
    let (project, fake, runner) = setup();
    fake.set_permission("alice", "write", "write");
    fake.add_issue_comment_with_id(COMMENT, PR, "alice", "/alembot recheck");
    runner.event("issue_comment.created.pull_request.json", |_| {});
    project.git(&["checkout", "-q", "main"]);
    let out = runner
        .alembot(project.path(), &fake, "issue_comment")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let state = fake.state();
    assert_eq!(state.reactions_on(COMMENT), vec!["eyes", "+1"]);
    assert_eq!(state.reports(PR).len(), 1);
    assert_eq!(
        state.reports(PR)[0].commit_id,
        project.head,
        "head resolved through the API"
    );
    assert_eq!(state.count("GET", "/collaborators/alice/permission"), 1);
    assert_eq!(state.count("GET", "/pulls/7"), 1);
    drop(state);
    let report: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&runner.outputs()["report"]).unwrap()).unwrap();
    assert_eq!(report["pull_request"]["command_comment"], COMMENT);
}

#[test]
fn a_recheck_by_a_read_only_user_does_not_run_and_gets_one_reply() {
    let (project, fake, runner) = setup();
    fake.set_permission("alice", "read", "triage");
    fake.add_issue_comment_with_id(COMMENT, PR, "alice", "/alembot recheck");
    runner.event("issue_comment.created.pull_request.json", |_| {});
    for _ in 0..2 {
        let out = runner
            .alembot(project.path(), &fake, "issue_comment")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert!(
            stdout(&out).contains("has `triage` access"),
            "{}",
            stdout(&out)
        );
    }
    let state = fake.state();
    assert!(state.reviews.is_empty() && state.check_runs.is_empty());
    assert!(state.reactions.is_empty());
    let replies = state.replies(PR);
    assert_eq!(
        replies.len(),
        1,
        "one polite reply, also when the job is re-run"
    );
    assert!(replies[0].body.contains("@alice"));
    assert!(replies[0].body.contains("write, maintain or admin"));
    drop(state);
    assert_eq!(runner.outputs()["run"], "false");
}

#[test]
fn with_unauthorized_ignore_a_read_only_user_gets_nothing() {
    let (project, fake, runner) = setup();
    project.write(".alembot.yml", "github:\n  unauthorized: ignore\n");
    fake.add_issue_comment_with_id(COMMENT, PR, "alice", "/alembot recheck");
    runner.event("issue_comment.created.pull_request.json", |_| {});
    let out = runner
        .alembot(project.path(), &fake, "issue_comment")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let state = fake.state();
    assert!(state.replies(PR).is_empty());
    assert!(
        state.log.iter().all(|l| l.method == "GET"),
        "{:?}",
        state.log
    );
}

#[test]
fn the_bots_own_comments_plain_issues_and_quoted_commands_are_ignored() {
    let (project, fake, _) = setup();
    let cases = [
        ("issue_comment.created.bot.json", "a bot's"),
        ("issue_comment.created.issue.json", "not a pull request"),
        ("issue_comment.created.quoted.json", "no `/alembot` command"),
        ("issue_comment.created.2018.json", "no `/alembot` command"),
        ("pull_request.closed.json", "nothing to do"),
    ];
    for (fixture_name, why) in cases {
        let runner = Runner::new();
        runner.event(fixture_name, |_| {});
        let event = fixture_name.split('.').next().unwrap();
        let out = runner
            .alembot(project.path(), &fake, event)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{fixture_name}: {}",
            stderr(&out)
        );
        assert!(
            stdout(&out).contains(why),
            "{fixture_name}: {}",
            stdout(&out)
        );
    }
    assert!(
        fake.log().is_empty(),
        "no API call at all: {:?}",
        fake.log()
    );
}

#[test]
fn an_edit_runs_only_the_commands_it_added() {
    let (project, fake, runner) = setup();
    fake.set_permission("alice", "admin", "admin");
    let id = 2_400_000_003;
    fake.add_issue_comment_with_id(id, PR, "alice", "/alembot recheck\n/alembot help");
    // The edit added `/alembot help` to a comment that had `recheck`.
    runner.event("issue_comment.edited.pull_request.json", |_| {});
    let out = runner
        .alembot(project.path(), &fake, "issue_comment")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let state = fake.state();
    assert!(
        state.reviews.is_empty(),
        "the old recheck did not run again"
    );
    let replies = state.replies(PR);
    assert_eq!(replies.len(), 1);
    assert!(
        replies[0]
            .body
            .contains("`/alembot recheck`: run the checks again")
    );
    assert_eq!(state.reactions_on(id), vec!["+1"]);
}

#[test]
fn authorize_only_sets_the_outputs_for_the_read_only_job() {
    let (project, fake, runner) = setup();
    fake.set_permission("alice", "write", "maintain");
    fake.add_issue_comment_with_id(COMMENT, PR, "alice", "/alembot recheck");
    runner.event("issue_comment.created.pull_request.json", |_| {});
    let empty = tempfile::tempdir().unwrap();
    let out = runner
        .alembot(empty.path(), &fake, "issue_comment")
        .arg("--authorize-only")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let outputs = runner.outputs();
    assert_eq!(outputs["run"], "true");
    assert_eq!(outputs["pull-request"], "7");
    assert_eq!(outputs["head-sha"], project.head);
    assert_eq!(outputs["base-sha"], project.base);
    assert_eq!(outputs["fork"], "false");
    let state = fake.state();
    assert!(state.reviews.is_empty() && state.check_runs.is_empty());
    assert!(state.reactions_on(COMMENT).contains(&"eyes".to_string()));
}

#[test]
fn a_fork_pull_request_is_checked_but_not_published() {
    let (project, fake, runner) = setup();
    runner.event("pull_request.opened.fork.json", |e| {
        aim_pull_request(e, &project)
    });
    let out = runner
        .alembot(project.path(), &fake, "pull_request")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "the verdict still fails the job"
    );
    assert!(
        stdout(&out).contains("comes from a fork"),
        "{}",
        stdout(&out)
    );
    assert!(fake.log().is_empty(), "{:?}", fake.log());
    assert!(runner.report_path().is_file());
    assert!(runner.summary().contains("comes from a fork"));
    assert_eq!(runner.outputs()["verdict"], "failed");
}

#[test]
fn publish_posts_a_saved_report_without_reading_any_repository_code() {
    let (project, fake, runner) = setup();
    runner.event("pull_request.opened.fork.json", |e| {
        aim_pull_request(e, &project)
    });
    let out = runner
        .alembot(project.path(), &fake, "pull_request")
        .arg("--no-publish")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let saved = runner.report_path();
    assert!(fake.log().is_empty());

    // The workflow_run job: an empty directory, no checkout, no repository.
    let publisher = Runner::new();
    let empty = tempfile::tempdir().unwrap();
    fs::copy(&saved, empty.path().join("report.json")).unwrap();
    let head = project.head.clone();
    publisher.event("workflow_run.completed.fork.json", |e| {
        e["workflow_run"]["head_sha"] = head.into();
    });
    let out = publisher
        .alembot(empty.path(), &fake, "workflow_run")
        .args(["publish", "--report", "report.json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let state = fake.state();
    assert_eq!(state.reports(PR).len(), 1);
    assert_eq!(state.check_runs.len(), 1);
    assert_eq!(state.review_comments.len(), 1);
    drop(state);
    assert_eq!(
        fs::read_dir(empty.path()).unwrap().count(),
        1,
        "nothing else was touched"
    );
    assert_eq!(publisher.outputs()["verdict"], "failed");
}

#[test]
fn publish_refuses_reports_for_elsewhere_and_skips_stale_ones() {
    let (project, fake, runner) = setup();
    runner.event("pull_request.opened.json", |e| {
        aim_pull_request(e, &project)
    });
    runner
        .alembot(project.path(), &fake, "pull_request")
        .args(["--no-publish", "--report-out", "saved.json"])
        .assert()
        .code(1);
    let saved = project.path().join("saved.json");
    let empty = tempfile::tempdir().unwrap();

    // Another repository's workflow.
    let publisher = Runner::new();
    publisher.event("workflow_run.completed.fork.json", |_| {});
    let out = publisher
        .alembot(empty.path(), &fake, "push")
        .env("GITHUB_REPOSITORY", "other/repo")
        .args(["publish", "--report"])
        .arg(&saved)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("refusing to post it"),
        "{}",
        stderr(&out)
    );

    // A workflow run of another commit.
    let out = publisher
        .alembot(empty.path(), &fake, "workflow_run")
        .args(["publish", "--report"])
        .arg(&saved)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("the workflow run that made it checked"),
        "{}",
        stderr(&out)
    );

    // The pull request moved on since: a newer run posts its own report.
    fake.push(PR, &"d".repeat(40), Default::default());
    let out = publisher
        .alembot(empty.path(), &fake, "push")
        .args(["publish", "--report"])
        .arg(&saved)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("has moved on"), "{}", stdout(&out));
    assert!(fake.state().reviews.is_empty());
}

#[test]
fn missing_permission_is_named_and_the_verdict_still_decides_the_exit() {
    let (project, fake, runner) = setup();
    fake.fault(
        Method::POST,
        "/pulls/7/reviews",
        FaultKind::NotAccessible { accepted: None },
        1,
    );
    runner.event("pull_request.opened.json", |e| {
        aim_pull_request(e, &project)
    });
    let out = runner
        .alembot(project.path(), &fake, "pull_request")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "findings fail the job: exit 1, not 2"
    );
    assert!(
        stderr(&out).contains("add `pull-requests: write` to the `permissions:`"),
        "{}",
        stderr(&out)
    );
    let summary = runner.summary();
    assert!(summary.contains("### ❌ alembot: 1 error"), "{summary}");
    assert!(summary.contains("**Publishing failed:**"), "{summary}");
    assert_eq!(
        fake.state().check_runs.len(),
        1,
        "the check run still went out"
    );
}

#[test]
fn the_skip_label_waives_the_missing_migration_and_a_publish_failure_then_exits_2() {
    let (mut project, fake, runner) = setup();
    project.write(
        ".alembot.yml",
        "github:\n  skip_label: no-migration-needed\n",
    );
    project.commit("configure the skip label");
    let mut pull = project.pull(PR);
    pull.labels = vec!["no-migration-needed".into()];
    fake.add_pull(pull);
    runner.event("pull_request.opened.json", |e| {
        aim_pull_request(e, &project);
        e["action"] = "labeled".into();
        e["pull_request"]["labels"] =
            serde_json::json!([{"id": 1, "name": "No-Migration-Needed", "color": "ededed"}]);
    });
    let out = runner
        .alembot(project.path(), &fake, "pull_request")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert_eq!(runner.outputs()["verdict"], "passed");
    {
        let state = fake.state();
        let body = &state.reports(PR)[0].body;
        assert!(body.contains("`no-migration-needed` label"), "{body}");
        assert_eq!(state.check_runs[0].conclusion.as_deref(), Some("success"));
        assert_eq!(
            state.check_runs[0].annotations[0]["annotation_level"],
            "notice"
        );
    }

    // Nothing fails, but the check run cannot be posted: that is exit 2.
    fake.fault(
        Method::POST,
        "/check-runs",
        FaultKind::NotAccessible { accepted: None },
        1,
    );
    let again = Runner::new();
    again.event("pull_request.opened.json", |e| {
        aim_pull_request(e, &project);
        e["pull_request"]["labels"] = serde_json::json!([{"name": "no-migration-needed"}]);
    });
    let out = again
        .alembot(project.path(), &fake, "pull_request")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("`checks: write`"), "{}", stderr(&out));
    assert_eq!(again.outputs()["verdict"], "passed");
}

#[test]
fn bad_gateway_twice_then_success_through_the_binary() {
    let (project, fake, runner) = setup();
    fake.fault(
        Method::POST,
        "/pulls/7/reviews",
        FaultKind::BadGateway {
            after_processing: false,
        },
        2,
    );
    fake.fault(
        Method::POST,
        "/check-runs",
        FaultKind::SecondaryRateLimit { retry_after: 60 },
        1,
    );
    runner.event("pull_request.opened.json", |e| {
        aim_pull_request(e, &project)
    });
    let started = std::time::Instant::now();
    let out = runner
        .alembot(project.path(), &fake, "pull_request")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        started.elapsed().as_secs() < 30,
        "retries do not sleep in tests"
    );
    let state = fake.state();
    assert_eq!(state.reports(PR).len(), 1);
    assert_eq!(state.count("POST", "/pulls/7/reviews"), 3);
    assert_eq!(state.count("POST", "/check-runs"), 2);
}

#[test]
fn other_events_are_an_error() {
    let (project, fake, runner) = setup();
    runner.event("pull_request.opened.json", |_| {});
    for (event, says) in [
        ("push", "does not handle `push` events"),
        ("pull_request_target", "write token"),
        ("workflow_run", "alembot github publish --report FILE"),
    ] {
        let out = runner
            .alembot(project.path(), &fake, event)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{event}");
        assert!(stderr(&out).contains(says), "{event}: {}", stderr(&out));
    }
    assert!(fake.log().is_empty());
}

#[test]
fn webhook_signatures_are_checked() {
    let (project, fake, runner) = setup();
    runner.event("pull_request.opened.json", |e| {
        aim_pull_request(e, &project)
    });
    let payload = fs::read(runner.event_path()).unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(b"relay secret").unwrap();
    mac.update(&payload);
    let good = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));

    let run = |signature: Option<&str>| {
        let mut cmd = runner.alembot(project.path(), &fake, "pull_request");
        cmd.env("ALEMBOT_WEBHOOK_SECRET", "relay secret")
            .arg("--no-publish");
        if let Some(signature) = signature {
            cmd.args(["--signature", signature]);
        }
        cmd.output().unwrap()
    };
    let out = run(Some(&good));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let out = run(Some(&good.replace('a', "b")));
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("does not match"), "{}", stderr(&out));
    let out = run(None);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("unsigned"), "{}", stderr(&out));
}

/// Issue 13, item 5: a signature made with the empty key passed when
/// ALEMBOT_WEBHOOK_SECRET was set but empty.
#[test]
fn an_empty_webhook_secret_is_refused() {
    let (project, fake, runner) = setup();
    runner.event("pull_request.opened.json", |e| {
        aim_pull_request(e, &project)
    });
    let payload = fs::read(runner.event_path()).unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(b"").unwrap();
    mac.update(&payload);
    let forged = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    for empty in ["", "  "] {
        let out = runner
            .alembot(project.path(), &fake, "pull_request")
            .env("ALEMBOT_WEBHOOK_SECRET", empty)
            .args(["--no-publish", "--signature", &forged])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("ALEMBOT_WEBHOOK_SECRET is empty"),
            "{}",
            stderr(&out)
        );
    }
    assert!(fake.log().is_empty());
}

#[test]
fn the_token_is_never_printed() {
    let (project, fake, runner) = setup();
    fake.fault(
        Method::GET,
        "/pulls/7/reviews",
        FaultKind::NotAccessible { accepted: None },
        1,
    );
    runner.event("pull_request.opened.json", |e| {
        aim_pull_request(e, &project)
    });
    let out = runner
        .alembot(project.path(), &fake, "pull_request")
        .arg("-vv")
        .output()
        .unwrap();
    let all = format!("{}{}{}", stdout(&out), stderr(&out), runner.summary());
    assert!(!all.contains(super::fake::TOKEN), "{all}");
    assert!(!all.is_empty());
    assert_eq!(BOT, "github-actions[bot]");
    assert_eq!(REPO, "acme/shop");
    let _ = fixture("pull_request.opened.json");
}

#[test]
fn the_fork_safe_recheck_reacts_only_on_its_own_pull_request() {
    let (project, fake, runner) = setup();
    fake.set_permission("alice", "write", "write");
    fake.add_issue_comment_with_id(COMMENT, PR, "alice", "/alembot recheck");
    let elsewhere = fake.add_issue_comment(8, "bob", "unrelated");
    runner.event("issue_comment.created.pull_request.json", |_| {});
    // The read-only job: checks, saves, posts and reacts nothing.
    let out = runner
        .alembot(project.path(), &fake, "issue_comment")
        .args(["--no-publish", "--report-out", "saved.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(fake.state().log.iter().all(|l| l.method == "GET"));
    let saved = project.path().join("saved.json");

    // The publishing job reacts on the command comment when it is done.
    let empty = tempfile::tempdir().unwrap();
    let out = runner
        .alembot(empty.path(), &fake, "issue_comment")
        .args(["publish", "--report"])
        .arg(&saved)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(fake.state().reactions_on(COMMENT), vec!["+1"]);
    assert_eq!(fake.state().reports(PR).len(), 1);

    // A report naming a comment elsewhere gets no reaction there.
    let mut report: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&saved).unwrap()).unwrap();
    report["pull_request"]["command_comment"] = elsewhere.into();
    fs::write(&saved, report.to_string()).unwrap();
    let out = runner
        .alembot(empty.path(), &fake, "issue_comment")
        .args(["publish", "--report"])
        .arg(&saved)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("not on pull request #7"),
        "{}",
        stderr(&out)
    );
    assert!(fake.state().reactions_on(elsewhere).is_empty());
    assert_eq!(fake.state().reports(PR).len(), 1);
}

#[test]
fn twenty_runs_of_the_binary_leave_one_report() {
    let (project, fake, _) = setup();
    for _ in 0..20 {
        let runner = Runner::new();
        runner.event("pull_request.synchronize.json", |e| {
            aim_pull_request(e, &project)
        });
        runner
            .alembot(project.path(), &fake, "pull_request")
            .assert()
            .code(1);
    }
    let state = fake.state();
    assert_eq!(state.reports(PR).len(), 1);
    assert_eq!(state.review_comments.len(), 1);
    assert_eq!(state.count("POST", "/pulls/7/reviews"), 1);
    // The same findings on the same commit: nothing to edit.
    assert_eq!(state.count_containing("PUT", "/pulls/7/reviews/"), 0);
}
