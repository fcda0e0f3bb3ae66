//! Webhook and Actions event payloads, decoded into small structs of our own.
//!
//! Only the fields alembot reads are declared, and every one it can live
//! without is optional: payloads recorded in 2018 lack fields today's schema
//! calls required (`reactions`, `performed_via_github_app`, `draft`,
//! `auto_merge`), and GitHub sends `"body": null` for an empty pull-request
//! description. octocrab's models are `non_exhaustive` and stricter than the
//! payloads really are, so they are not used here.

use serde::Deserialize;

/// The events `alembot github` acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    PullRequest(PullRequestEvent),
    IssueComment(IssueCommentEvent),
    /// Only to check a saved report against the run that produced it.
    WorkflowRun(WorkflowRunEvent),
}

#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error(
        "alembot does not handle `{name}` events; it runs on `pull_request` (opened, synchronize, reopened, ready_for_review, edited with a new base, labeled, unlabeled) and on `issue_comment` (a command on a pull request); `workflow_run` jobs run `alembot github publish --report FILE`"
    )]
    Unsupported { name: String },
    #[error(
        "alembot refuses `pull_request_target`: that event runs with a write token in the base repository, so checking out and running a fork's code there hands the fork that token. Run `alembot github` on `pull_request` and publish from a `workflow_run` job instead (README.md, \"Pull requests from forks\")"
    )]
    PullRequestTarget,
    #[error("the `{name}` event payload is not what GitHub sends: {source}")]
    Malformed {
        name: String,
        #[source]
        source: serde_json::Error,
    },
}

/// Decodes the payload of an event named `name` (`GITHUB_EVENT_NAME`, or a
/// webhook's `X-GitHub-Event` header).
pub fn decode(name: &str, payload: &[u8]) -> Result<Event, EventError> {
    fn parse<T: serde::de::DeserializeOwned>(name: &str, payload: &[u8]) -> Result<T, EventError> {
        serde_json::from_slice(payload).map_err(|source| EventError::Malformed {
            name: name.to_string(),
            source,
        })
    }
    match name {
        "pull_request" => Ok(Event::PullRequest(parse(name, payload)?)),
        "issue_comment" => Ok(Event::IssueComment(parse(name, payload)?)),
        "workflow_run" => Ok(Event::WorkflowRun(parse(name, payload)?)),
        "pull_request_target" => Err(EventError::PullRequestTarget),
        other => Err(EventError::Unsupported {
            name: other.to_string(),
        }),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PullRequestEvent {
    pub action: String,
    pub pull_request: PullRequest,
    pub repository: Repository,
    #[serde(default)]
    pub sender: Option<User>,
    /// On `edited`: what changed (`base` when the pull request was retargeted).
    #[serde(default)]
    pub changes: Option<PullRequestChanges>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PullRequestChanges {
    #[serde(default)]
    pub base: Option<serde_json::Value>,
}

impl PullRequestEvent {
    /// The actions after which the pull request's code may have changed (or
    /// the skip label may have come or gone), so the checks run again. An
    /// edit runs them only when it changed the base: the diff is another one.
    pub fn runs_checks(&self) -> bool {
        match self.action.as_str() {
            "opened" | "synchronize" | "reopened" | "ready_for_review" | "labeled"
            | "unlabeled" => true,
            "edited" => self.changes.as_ref().is_some_and(|c| c.base.is_some()),
            _ => false,
        }
    }
}

/// A pull request as webhook payloads and `GET /repos/{o}/{r}/pulls/{n}`
/// both show it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PullRequest {
    pub number: u64,
    pub head: Branch,
    pub base: Branch,
    #[serde(default)]
    pub labels: Vec<Label>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub draft: Option<bool>,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub user: Option<User>,
    #[serde(default)]
    pub html_url: Option<String>,
}

impl PullRequest {
    /// Whether the head branch lives in another repository than the base.
    /// A fork that was deleted leaves `head.repo` null: still a fork.
    pub fn is_from_fork(&self) -> bool {
        match (&self.head.repo, &self.base.repo) {
            (Some(head), Some(base)) => !head.full_name.eq_ignore_ascii_case(&base.full_name),
            _ => true,
        }
    }

    pub fn has_label(&self, name: &str) -> bool {
        self.labels
            .iter()
            .any(|l| l.name.eq_ignore_ascii_case(name))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Branch {
    pub sha: String,
    #[serde(rename = "ref")]
    pub git_ref: String,
    #[serde(default)]
    pub repo: Option<Repository>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Repository {
    pub full_name: String,
    #[serde(default)]
    pub fork: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Label {
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct User {
    pub login: String,
    /// `User`, `Bot` or `Organization`; absent from some old payloads.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
}

impl User {
    pub fn is_bot(&self) -> bool {
        self.kind.as_deref() == Some("Bot") || self.login.ends_with("[bot]")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct IssueCommentEvent {
    pub action: String,
    pub issue: Issue,
    pub comment: Comment,
    pub repository: Repository,
    /// On `edited`: the body before the edit.
    #[serde(default)]
    pub changes: Option<Changes>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Issue {
    pub number: u64,
    /// Present (an object of URLs) only when the issue is a pull request.
    #[serde(default)]
    pub pull_request: Option<serde_json::Value>,
    #[serde(default)]
    pub state: Option<String>,
}

impl Issue {
    pub fn is_pull_request(&self) -> bool {
        self.pull_request.is_some()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Comment {
    pub id: u64,
    /// Null in some deliveries of an emptied comment.
    #[serde(default)]
    pub body: Option<String>,
    pub user: User,
    #[serde(default)]
    pub html_url: Option<String>,
    #[serde(default)]
    pub performed_via_github_app: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Changes {
    #[serde(default)]
    pub body: Option<ChangedText>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ChangedText {
    pub from: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct WorkflowRunEvent {
    pub action: String,
    pub workflow_run: WorkflowRun,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct WorkflowRun {
    pub head_sha: String,
    /// The event that started the run the artifact came from.
    #[serde(default)]
    pub event: Option<String>,
    #[serde(default)]
    pub conclusion: Option<String>,
    /// Empty for pull requests from forks: the saved report names the PR.
    #[serde(default)]
    pub pull_requests: Vec<WorkflowRunPullRequest>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct WorkflowRunPullRequest {
    pub number: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pr_payload(head_repo: serde_json::Value) -> serde_json::Value {
        serde_json::json!({
            "action": "opened",
            "number": 2,
            "pull_request": {
                "number": 2, "state": "open", "body": null,
                "head": {"ref": "feature", "sha": "a".repeat(40), "repo": head_repo},
                "base": {"ref": "main", "sha": "b".repeat(40), "repo": {"full_name": "acme/shop"}},
                "labels": [{"name": "No-Migration-Needed", "color": "ededed"}]
            },
            "repository": {"full_name": "acme/shop"}
        })
    }

    #[test]
    fn pull_request_with_null_body_and_missing_optional_fields() {
        let payload = pr_payload(serde_json::json!({"full_name": "acme/shop"}));
        let Event::PullRequest(e) = decode("pull_request", payload.to_string().as_bytes()).unwrap()
        else {
            panic!("not a pull_request")
        };
        assert!(e.runs_checks());
        assert_eq!(e.pull_request.body, None);
        assert_eq!(e.pull_request.draft, None);
        assert!(!e.pull_request.is_from_fork());
        assert!(e.pull_request.has_label("no-migration-needed"));
    }

    #[test]
    fn deleted_fork_counts_as_fork() {
        for head_repo in [
            serde_json::Value::Null,
            serde_json::json!({"full_name": "mallory/shop"}),
        ] {
            let payload = pr_payload(head_repo);
            let Event::PullRequest(e) =
                decode("pull_request", payload.to_string().as_bytes()).unwrap()
            else {
                panic!()
            };
            assert!(e.pull_request.is_from_fork());
        }
    }

    #[test]
    fn closed_and_edited_do_not_run() {
        let mut payload = pr_payload(serde_json::json!({"full_name": "acme/shop"}));
        for action in ["closed", "edited", "assigned"] {
            payload["action"] = action.into();
            let Event::PullRequest(e) =
                decode("pull_request", payload.to_string().as_bytes()).unwrap()
            else {
                panic!()
            };
            assert!(!e.runs_checks(), "{action}");
        }
    }

    #[test]
    fn an_edit_that_retargets_the_base_runs_and_a_title_edit_does_not() {
        let mut payload = pr_payload(serde_json::json!({"full_name": "acme/shop"}));
        payload["action"] = "edited".into();
        payload["changes"] = serde_json::json!({"title": {"from": "old title"}});
        let Event::PullRequest(e) = decode("pull_request", payload.to_string().as_bytes()).unwrap()
        else {
            panic!()
        };
        assert!(!e.runs_checks());
        payload["changes"] =
            serde_json::json!({"base": {"ref": {"from": "release"}, "sha": {"from": "abc"}}});
        let Event::PullRequest(e) = decode("pull_request", payload.to_string().as_bytes()).unwrap()
        else {
            panic!()
        };
        assert!(e.runs_checks());
    }

    #[test]
    fn other_events_are_refused_by_name() {
        let e = decode("push", b"{}").unwrap_err().to_string();
        assert!(e.contains("`push`"), "{e}");
        let e = decode("pull_request_target", b"{}")
            .unwrap_err()
            .to_string();
        assert!(e.contains("write token"), "{e}");
    }

    #[test]
    fn malformed_payload_says_where() {
        let e = decode("issue_comment", b"{\"action\": 1}")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("the `issue_comment` event payload"), "{e}");
        assert!(e.contains("line 1"), "{e}");
    }
}
