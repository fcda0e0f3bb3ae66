//! Event payloads shaped like GitHub's webhooks (our own fixtures, checked
//! against real deliveries for shape), decoded by alembot's own structs.

use alembot::github::command::{self, Command};
use alembot::github::event::{Event, decode};

use super::support::fixture_path;

fn event(name: &str, file: &str) -> Event {
    let bytes = std::fs::read(fixture_path(file)).expect("fixture");
    decode(name, &bytes).unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn pull_request(file: &str) -> alembot::github::event::PullRequestEvent {
    match event("pull_request", file) {
        Event::PullRequest(e) => e,
        other => panic!("{file}: {other:?}"),
    }
}

fn comment(file: &str) -> alembot::github::event::IssueCommentEvent {
    match event("issue_comment", file) {
        Event::IssueComment(e) => e,
        other => panic!("{file}: {other:?}"),
    }
}

#[test]
fn pull_request_payloads() {
    let opened = pull_request("pull_request.opened.json");
    assert!(opened.runs_checks());
    assert_eq!(opened.pull_request.number, 7);
    assert_eq!(opened.pull_request.head.git_ref, "add-email");
    assert_eq!(opened.pull_request.head.sha.len(), 40);
    assert!(!opened.pull_request.is_from_fork());
    assert_eq!(opened.repository.full_name, "acme/shop");

    let sync = pull_request("pull_request.synchronize.json");
    assert_eq!(sync.action, "synchronize");
    assert!(sync.runs_checks());

    let fork = pull_request("pull_request.opened.fork.json");
    assert!(fork.pull_request.is_from_fork());
    assert_eq!(fork.pull_request.body, None);

    let null_body = pull_request("pull_request.opened.null-body.json");
    assert_eq!(null_body.pull_request.body, None);

    // A 2018 delivery: no draft, auto_merge, active_lock_reason, topics.
    let old = pull_request("pull_request.reopened.2018.json");
    assert_eq!(old.pull_request.draft, None);
    assert!(old.runs_checks());

    assert!(!pull_request("pull_request.closed.json").runs_checks());
}

#[test]
fn issue_comment_payloads() {
    let on_pr = comment("issue_comment.created.pull_request.json");
    assert!(on_pr.issue.is_pull_request());
    assert!(!on_pr.comment.user.is_bot());
    let body = on_pr.comment.body.as_deref().unwrap();
    let found = command::parse(body, "/alembot");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].result, Ok(Command::Recheck));
    assert_eq!(found[0].line, 3, "CRLF line endings as GitHub stores them");

    let on_issue = comment("issue_comment.created.issue.json");
    assert!(!on_issue.issue.is_pull_request());

    let edited = comment("issue_comment.edited.pull_request.json");
    let before = edited.changes.unwrap().body.unwrap().from;
    let added = command::added(&before, edited.comment.body.as_deref().unwrap(), "/alembot");
    assert_eq!(added.len(), 1);
    assert_eq!(added[0].result, Ok(Command::Help));

    let bot = comment("issue_comment.created.bot.json");
    assert!(bot.comment.user.is_bot());

    let quoted = comment("issue_comment.created.quoted.json");
    assert!(command::parse(quoted.comment.body.as_deref().unwrap(), "/alembot").is_empty());

    // 2018: no reactions, no performed_via_github_app, and a null body.
    let old = comment("issue_comment.created.2018.json");
    assert_eq!(old.comment.body, None);
    assert_eq!(old.comment.performed_via_github_app, None);
}

#[test]
fn workflow_run_payload_of_a_fork_has_no_pull_requests() {
    let Event::WorkflowRun(run) = event("workflow_run", "workflow_run.completed.fork.json") else {
        panic!("not a workflow_run")
    };
    assert_eq!(run.workflow_run.event.as_deref(), Some("pull_request"));
    assert!(run.workflow_run.pull_requests.is_empty());
    assert_eq!(run.workflow_run.head_sha.len(), 40);
}

#[test]
fn every_fixture_decodes() {
    let dir = fixture_path("");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let name = file.split('.').next().unwrap().to_string();
        event(&name, &file);
    }
}
