//! A fake GitHub REST API on 127.0.0.1 for the tests: it checks every
//! request the way GitHub does (method, path, headers, the JSON body's
//! shape) and answers like GitHub, with state, pagination and injectable
//! faults. It is deliberately strict: what GitHub would reject with 401,
//! 403, 404, 415 or 422, it rejects too, plus unknown keys and `null`
//! values in request bodies, which GitHub sometimes ignores but alembot
//! never means to send.
//!
//! Shapes follow GitHub's REST reference (API version 2022-11-28):
//! "Create a review for a pull request" / "Update a review" / "List reviews"
//! (pulls/reviews), "Create a review comment" / "Update" / "Delete" / "List
//! review comments" (pulls/comments), "Create / Update / List issue
//! comments" (issues/comments), "Create reaction for an issue comment"
//! (reactions), "Get repository permissions for a user" (collaborators),
//! "Get a pull request" (pulls), "Create / Update a check run" and "List
//! check run annotations" / "List check runs for a Git reference"
//! (checks/runs), "Upload an analysis as SARIF data" (code-scanning), and
//! "Using pagination in the REST API" (Link, per_page up to 100).
//!
//! Field lists and required fields were read from the schemas generated
//! from github/rest-api-description (openapi-github on docs.rs:
//! `PullsCreateReviewRequestCommentsInner`, `PullsCreateReviewCommentRequest`,
//! `PullsUpdateReviewRequest`, `ChecksCreateRequest`,
//! `ChecksCreateRequestOutputAnnotationsInner`,
//! `RepositoryCollaboratorPermission`, `CodeScanningUploadSarifRequest`,
//! `reactions_create_for_issue_comment`), the check-run `output` notes ("at
//! most 50 annotations per request; an update appends them"), and
//! docs.github.com/rest/pulls/reviews; `x-accepted-github-permissions` from
//! github.blog/changelog/2023-08-10.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::body::Body;
use axum::extract::State as AxumState;
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::{Map, Value, json};

pub const TOKEN: &str = "ghs_fake_installation_token_0123456789";
pub const REPO: &str = "acme/shop";
pub const BOT: &str = "github-actions[bot]";

#[derive(Debug, Clone)]
pub struct Pull {
    pub number: u64,
    pub head_sha: String,
    pub head_ref: String,
    pub base_sha: String,
    pub head_repo: String,
    pub labels: Vec<String>,
    /// Head-side lines of the diff per file: where review comments may go.
    pub diff: BTreeMap<String, Vec<(u32, u32)>>,
}

#[derive(Debug, Clone)]
pub struct IssueComment {
    pub id: u64,
    pub issue: u64,
    pub body: String,
    pub user: String,
}

#[derive(Debug, Clone)]
pub struct Review {
    pub id: u64,
    pub pull: u64,
    pub body: String,
    pub commit_id: String,
    pub state: String,
    pub user: String,
}

#[derive(Debug, Clone)]
pub struct ReviewComment {
    pub id: u64,
    pub pull: u64,
    pub review_id: u64,
    pub path: String,
    pub line: Option<u32>,
    pub original_line: Option<u32>,
    pub commit_id: String,
    pub body: String,
}

#[derive(Debug, Clone)]
pub struct CheckRun {
    pub id: u64,
    pub name: String,
    pub head_sha: String,
    pub external_id: Option<String>,
    pub status: String,
    pub conclusion: Option<String>,
    pub title: Option<String>,
    pub summary: Option<String>,
    pub annotations: Vec<Value>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reaction {
    pub comment_id: u64,
    pub content: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logged {
    pub method: String,
    pub path: String,
    pub status: u16,
}

#[derive(Debug, Clone)]
pub enum FaultKind {
    /// 502 Bad Gateway; with `after_processing`, the request took effect
    /// first (the answer was lost between GitHub and the runner).
    BadGateway { after_processing: bool },
    /// 403 with `Retry-After`: a secondary rate limit.
    SecondaryRateLimit { retry_after: u64 },
    /// 429 Too Many Requests.
    TooManyRequests { retry_after: Option<u64> },
    /// 403 "Resource not accessible by integration": the token lacks a
    /// permission; `accepted` is the `x-accepted-github-permissions` header.
    NotAccessible { accepted: Option<String> },
}

#[derive(Debug, Clone)]
struct Fault {
    method: Method,
    path_suffix: String,
    kind: FaultKind,
    remaining: usize,
}

#[derive(Debug, Default)]
pub struct State {
    pub base_url: String,
    /// The API's path on the host: empty for github.com, `/api/v3` for
    /// GitHub Enterprise Server.
    pub prefix: String,
    next_id: u64,
    pub pulls: BTreeMap<u64, Pull>,
    /// Issues that are not pull requests.
    pub issues: Vec<u64>,
    /// login → (permission, role_name)
    pub permissions: BTreeMap<String, (String, String)>,
    pub issue_comments: Vec<IssueComment>,
    pub reviews: Vec<Review>,
    pub review_comments: Vec<ReviewComment>,
    pub check_runs: Vec<CheckRun>,
    pub reactions: Vec<Reaction>,
    pub sarifs: Vec<Value>,
    faults: Vec<Fault>,
    pub log: Vec<Logged>,
}

impl State {
    fn id(&mut self) -> u64 {
        self.next_id += 1;
        1_000 + self.next_id
    }

    pub fn reports(&self, pull: u64) -> Vec<&Review> {
        self.reviews
            .iter()
            .filter(|r| r.pull == pull && r.body.starts_with("<!-- alembot:report -->"))
            .collect()
    }

    pub fn report_comments(&self, issue: u64) -> Vec<&IssueComment> {
        self.issue_comments
            .iter()
            .filter(|c| c.issue == issue && c.body.starts_with("<!-- alembot:report -->"))
            .collect()
    }

    pub fn count(&self, method: &str, path_suffix: &str) -> usize {
        self.log
            .iter()
            .filter(|l| l.method == method && l.path.ends_with(path_suffix))
            .count()
    }

    pub fn count_containing(&self, method: &str, fragment: &str) -> usize {
        self.log
            .iter()
            .filter(|l| l.method == method && l.path.contains(fragment))
            .count()
    }

    /// Replies alembot posted (issue comments that are not the report).
    pub fn replies(&self, issue: u64) -> Vec<&IssueComment> {
        self.issue_comments
            .iter()
            .filter(|c| {
                c.issue == issue && c.user == BOT && !c.body.starts_with("<!-- alembot:report -->")
            })
            .collect()
    }

    pub fn reactions_on(&self, comment_id: u64) -> Vec<String> {
        self.reactions
            .iter()
            .filter(|r| r.comment_id == comment_id)
            .map(|r| r.content.clone())
            .collect()
    }
}

/// A running fake; the server stops with the test process.
pub struct FakeGithub {
    pub url: String,
    state: Arc<Mutex<State>>,
}

impl FakeGithub {
    pub fn start() -> FakeGithub {
        FakeGithub::start_at("")
    }

    /// A fake whose API lives under `prefix`, as GitHub Enterprise Server's
    /// does (`https://HOST/api/v3`); `url` then includes the prefix.
    pub fn start_at(prefix: &str) -> FakeGithub {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let host = format!("http://{}", listener.local_addr().expect("addr"));
        let state = Arc::new(Mutex::new(State {
            base_url: host.clone(),
            prefix: prefix.to_string(),
            ..State::default()
        }));
        let url = format!("{host}{prefix}");
        let shared = state.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                let app = Router::new().fallback(handle).with_state(shared);
                let _ = axum::serve(listener, app).await;
            });
        });
        FakeGithub { url, state }
    }

    pub fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn add_pull(&self, pull: Pull) {
        self.state().pulls.insert(pull.number, pull);
    }

    /// A push to the pull request: comments on lines no longer in the diff
    /// become outdated (`line: null`), as on GitHub.
    pub fn push(&self, number: u64, head_sha: &str, diff: BTreeMap<String, Vec<(u32, u32)>>) {
        let mut state = self.state();
        for c in state
            .review_comments
            .iter_mut()
            .filter(|c| c.pull == number)
        {
            let still = c.line.is_some_and(|line| in_diff(&diff, &c.path, line));
            if !still {
                c.line = None;
            }
        }
        let pull = state.pulls.get_mut(&number).expect("pull exists");
        pull.head_sha = head_sha.to_string();
        pull.diff = diff;
    }

    pub fn set_permission(&self, login: &str, permission: &str, role: &str) {
        self.state().permissions.insert(
            login.to_string(),
            (permission.to_string(), role.to_string()),
        );
    }

    pub fn add_issue_comment(&self, issue: u64, user: &str, body: &str) -> u64 {
        let id = self.state().id();
        self.add_issue_comment_with_id(id, issue, user, body)
    }

    /// A comment as an event payload names it.
    pub fn add_issue_comment_with_id(&self, id: u64, issue: u64, user: &str, body: &str) -> u64 {
        let mut state = self.state();
        state.issue_comments.push(IssueComment {
            id,
            issue,
            body: body.to_string(),
            user: user.to_string(),
        });
        id
    }

    /// The next `times` requests `method` to a path ending in `path_suffix`
    /// fail with `kind`.
    pub fn fault(&self, method: Method, path_suffix: &str, kind: FaultKind, times: usize) {
        self.state().faults.push(Fault {
            method,
            path_suffix: path_suffix.to_string(),
            kind,
            remaining: times,
        });
    }

    pub fn log(&self) -> Vec<Logged> {
        self.state().log.clone()
    }
}

fn in_diff(diff: &BTreeMap<String, Vec<(u32, u32)>>, path: &str, line: u32) -> bool {
    diff.get(path)
        .is_some_and(|ranges| ranges.iter().any(|&(a, b)| a <= line && line <= b))
}

// --- Answers -------------------------------------------------------------------

struct Answer {
    status: StatusCode,
    headers: Vec<(String, String)>,
    body: Option<Value>,
}

impl Answer {
    fn json(status: u16, body: Value) -> Answer {
        Answer {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            headers: Vec::new(),
            body: Some(body),
        }
    }

    fn empty(status: u16) -> Answer {
        Answer {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            headers: Vec::new(),
            body: None,
        }
    }

    fn error(status: u16, message: &str) -> Answer {
        Answer::json(
            status,
            json!({"message": message, "documentation_url": "https://docs.github.com/rest", "status": status.to_string()}),
        )
    }

    /// GitHub's 422: "Validation Failed" or "Invalid request" with details.
    fn invalid(detail: impl Into<String>) -> Answer {
        Answer::json(
            422,
            json!({"message": "Invalid request.", "errors": [detail.into()], "documentation_url": "https://docs.github.com/rest", "status": "422"}),
        )
    }

    fn header(mut self, name: &str, value: String) -> Answer {
        self.headers.push((name.to_string(), value));
        self
    }
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        let mut response = match self.body {
            Some(body) => (self.status, body.to_string()).into_response(),
            None => self.status.into_response(),
        };
        let headers = response.headers_mut();
        if headers.contains_key("content-type") || self.status != StatusCode::NO_CONTENT {
            headers.insert(
                "content-type",
                HeaderValue::from_static("application/json; charset=utf-8"),
            );
        }
        headers.insert(
            "x-github-api-version-selected",
            HeaderValue::from_static("2022-11-28"),
        );
        for (name, value) in self.headers {
            if let (Ok(name), Ok(value)) = (
                axum::http::HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(&value),
            ) {
                headers.insert(name, value);
            }
        }
        response
    }
}

async fn handle(AxumState(state): AxumState<Arc<Mutex<State>>>, request: Request<Body>) -> Answer {
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, 64 * 1024 * 1024)
        .await
        .unwrap_or_default();
    let mut state = state.lock().unwrap_or_else(|e| e.into_inner());
    let answer = answer(
        &mut state,
        &parts.method,
        &parts.uri,
        &parts.headers,
        &bytes,
    );
    state.log.push(Logged {
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        status: answer.status.as_u16(),
    });
    answer
}

fn answer(
    state: &mut State,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    bytes: &[u8],
) -> Answer {
    if let Some(rejection) = check_headers(method, headers, bytes) {
        return rejection;
    }
    let path = uri.path().to_string();
    let fault = state
        .faults
        .iter_mut()
        .find(|f| f.remaining > 0 && f.method == method && path.ends_with(&f.path_suffix))
        .map(|f| {
            f.remaining -= 1;
            f.kind.clone()
        });
    match fault {
        None => route(state, method, uri, bytes),
        Some(FaultKind::BadGateway { after_processing }) => {
            if after_processing {
                let _ = route(state, method, uri, bytes);
            }
            Answer::json(502, json!({"message": "Server Error"}))
        }
        Some(FaultKind::SecondaryRateLimit { retry_after }) => Answer::error(
            403,
            "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
        )
        .header("retry-after", retry_after.to_string())
        .header("x-ratelimit-remaining", "4000".into()),
        Some(FaultKind::TooManyRequests { retry_after }) => {
            let answer = Answer::error(429, "API rate limit exceeded");
            match retry_after {
                Some(seconds) => answer.header("retry-after", seconds.to_string()),
                None => answer,
            }
        }
        Some(FaultKind::NotAccessible { accepted }) => {
            let answer = Answer::error(403, "Resource not accessible by integration");
            match accepted {
                Some(value) => answer.header("x-accepted-github-permissions", value),
                None => answer,
            }
        }
    }
}

/// What GitHub asks of every request.
fn check_headers(method: &Method, headers: &HeaderMap, bytes: &[u8]) -> Option<Answer> {
    let one = |name: &str| -> Option<String> {
        let mut values = headers.get_all(name).iter();
        let first = values.next()?.to_str().ok()?.to_string();
        values.next().is_none().then_some(first)
    };
    let authorized = one("authorization")
        .is_some_and(|v| v == format!("Bearer {TOKEN}") || v == format!("token {TOKEN}"));
    if !authorized {
        return Some(Answer::error(401, "Bad credentials"));
    }
    if one("user-agent").is_none_or(|ua| ua.trim().is_empty()) {
        return Some(Answer::error(
            403,
            "Request forbidden by administrative rules. Please make sure your request has a User-Agent header",
        ));
    }
    if one("accept").as_deref() != Some("application/vnd.github+json") {
        return Some(Answer::error(
            415,
            "Unsupported 'Accept' header: expected application/vnd.github+json",
        ));
    }
    if one("x-github-api-version").as_deref() != Some("2022-11-28") {
        return Some(Answer::error(
            400,
            "Missing or unsupported X-GitHub-Api-Version",
        ));
    }
    let has_body = !bytes.is_empty();
    if has_body && !one("content-type").is_some_and(|ct| ct.starts_with("application/json")) {
        return Some(Answer::error(415, "Unsupported Media Type"));
    }
    if has_body && *method == Method::GET {
        return Some(Answer::error(400, "GET with a body"));
    }
    None
}

fn route(state: &mut State, method: &Method, uri: &Uri, bytes: &[u8]) -> Answer {
    let path = uri.path();
    let Some(rest) = path.strip_prefix(&format!("{}/repos/{REPO}/", state.prefix)) else {
        return Answer::error(404, "Not Found");
    };
    let query = parse_query(uri.query().unwrap_or(""));
    let body: Option<Value> = if bytes.is_empty() {
        None
    } else {
        match serde_json::from_slice(bytes) {
            Ok(v) => Some(v),
            Err(_) => return Answer::error(400, "Problems parsing JSON"),
        }
    };
    let segments: Vec<&str> = rest.split('/').collect();
    let m = method.as_str();
    let number = |s: &str| s.parse::<u64>().ok();
    match (m, segments.as_slice()) {
        ("GET", ["pulls", n]) => match number(n).and_then(|n| state.pulls.get(&n)) {
            Some(pull) => Answer::json(200, pull_json(state, pull)),
            None => Answer::error(404, "Not Found"),
        },
        ("GET", ["collaborators", login, "permission"]) => {
            let (permission, role) = state
                .permissions
                .get(*login)
                .cloned()
                // A public repository: anyone may read it.
                .unwrap_or(("read".into(), "read".into()));
            Answer::json(
                200,
                json!({"permission": permission, "role_name": role, "user": user_json(login)}),
            )
        }
        ("GET", ["issues", n, "comments"]) => {
            let Some(n) = number(n).filter(|n| issue_exists(state, *n)) else {
                return Answer::error(404, "Not Found");
            };
            let items: Vec<Value> = state
                .issue_comments
                .iter()
                .filter(|c| c.issue == n)
                .map(|c| issue_comment_json(state, c))
                .collect();
            paginate(state, path, &query, items, None)
        }
        ("POST", ["issues", n, "comments"]) => {
            let Some(n) = number(n).filter(|n| issue_exists(state, *n)) else {
                return Answer::error(404, "Not Found");
            };
            let body = match body_text(body.as_ref()) {
                Ok(b) => b,
                Err(a) => return a,
            };
            let id = state.id();
            let comment = IssueComment {
                id,
                issue: n,
                body,
                user: BOT.into(),
            };
            let json = issue_comment_json(state, &comment);
            state.issue_comments.push(comment);
            Answer::json(201, json)
        }
        ("GET", ["issues", "comments", id]) => {
            match number(id).and_then(|id| state.issue_comments.iter().find(|c| c.id == id)) {
                Some(c) => Answer::json(200, issue_comment_json(state, c)),
                None => Answer::error(404, "Not Found"),
            }
        }
        ("PATCH", ["issues", "comments", id]) => {
            let text = match body_text(body.as_ref()) {
                Ok(b) => b,
                Err(a) => return a,
            };
            let Some(id) = number(id) else {
                return Answer::error(404, "Not Found");
            };
            let Some(index) = state.issue_comments.iter().position(|c| c.id == id) else {
                return Answer::error(404, "Not Found");
            };
            state.issue_comments[index].body = text;
            let comment = state.issue_comments[index].clone();
            Answer::json(200, issue_comment_json(state, &comment))
        }
        ("POST", ["issues", "comments", id, "reactions"]) => {
            let Some(id) = number(id).filter(|id| state.issue_comments.iter().any(|c| c.id == *id))
            else {
                return Answer::error(404, "Not Found");
            };
            let content = match only_keys(body.as_ref(), &["content"], &["content"]) {
                Ok(map) => map["content"].as_str().unwrap_or_default().to_string(),
                Err(a) => return a,
            };
            const ALLOWED: [&str; 8] = [
                "+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes",
            ];
            if !ALLOWED.contains(&content.as_str()) {
                return Answer::invalid(format!("`content` must be one of {ALLOWED:?}"));
            }
            let reaction = Reaction {
                comment_id: id,
                content: content.clone(),
            };
            let json = json!({"id": id * 10, "node_id": "REA_x", "user": user_json(BOT), "content": content, "created_at": "2026-11-02T09:00:01Z"});
            if state.reactions.contains(&reaction) {
                Answer::json(200, json)
            } else {
                state.reactions.push(reaction);
                Answer::json(201, json)
            }
        }
        ("GET", ["pulls", n, "reviews"]) => {
            let Some(n) = number(n).filter(|n| state.pulls.contains_key(n)) else {
                return Answer::error(404, "Not Found");
            };
            let items: Vec<Value> = state
                .reviews
                .iter()
                .filter(|r| r.pull == n)
                .map(|r| review_json(state, r))
                .collect();
            paginate(state, path, &query, items, None)
        }
        ("POST", ["pulls", n, "reviews"]) => {
            let Some(pull) = number(n).and_then(|n| state.pulls.get(&n)).cloned() else {
                return Answer::error(404, "Not Found");
            };
            create_review(state, &pull, body.as_ref())
        }
        ("PUT", ["pulls", n, "reviews", id]) => {
            let text = match body_text(body.as_ref()) {
                Ok(b) => b,
                Err(a) => return a,
            };
            let (Some(n), Some(id)) = (number(n), number(id)) else {
                return Answer::error(404, "Not Found");
            };
            let Some(index) = state.reviews.iter().position(|r| r.id == id && r.pull == n) else {
                return Answer::error(404, "Not Found");
            };
            state.reviews[index].body = text;
            let review = state.reviews[index].clone();
            Answer::json(200, review_json(state, &review))
        }
        ("GET", ["pulls", n, "comments"]) => {
            let Some(n) = number(n).filter(|n| state.pulls.contains_key(n)) else {
                return Answer::error(404, "Not Found");
            };
            let items: Vec<Value> = state
                .review_comments
                .iter()
                .filter(|c| c.pull == n)
                .map(|c| review_comment_json(state, c))
                .collect();
            paginate(state, path, &query, items, None)
        }
        ("POST", ["pulls", n, "comments"]) => {
            let Some(pull) = number(n).and_then(|n| state.pulls.get(&n)).cloned() else {
                return Answer::error(404, "Not Found");
            };
            create_single_review_comment(state, &pull, body.as_ref())
        }
        ("PATCH", ["pulls", "comments", id]) => {
            let text = match body_text(body.as_ref()) {
                Ok(b) => b,
                Err(a) => return a,
            };
            let Some(index) =
                number(id).and_then(|id| state.review_comments.iter().position(|c| c.id == id))
            else {
                return Answer::error(404, "Not Found");
            };
            state.review_comments[index].body = text;
            let comment = state.review_comments[index].clone();
            Answer::json(200, review_comment_json(state, &comment))
        }
        ("DELETE", ["pulls", "comments", id]) => {
            let Some(index) =
                number(id).and_then(|id| state.review_comments.iter().position(|c| c.id == id))
            else {
                return Answer::error(404, "Not Found");
            };
            state.review_comments.remove(index);
            Answer::empty(204)
        }
        ("POST", ["check-runs"]) => create_check_run(state, body.as_ref()),
        ("PATCH", ["check-runs", id]) => {
            let Some(id) = number(id) else {
                return Answer::error(404, "Not Found");
            };
            update_check_run(state, id, body.as_ref())
        }
        ("GET", ["check-runs", id, "annotations"]) => {
            let Some(run) = number(id).and_then(|id| state.check_runs.iter().find(|r| r.id == id))
            else {
                return Answer::error(404, "Not Found");
            };
            let items = run.annotations.clone();
            paginate(state, path, &query, items, None)
        }
        ("GET", ["commits", sha, "check-runs"]) => {
            let name = query.get("check_name").cloned();
            let items: Vec<Value> = state
                .check_runs
                .iter()
                .filter(|r| r.head_sha == *sha && name.as_ref().is_none_or(|n| *n == r.name))
                .map(|r| check_run_json(state, r))
                .collect();
            paginate(state, path, &query, items, Some("check_runs"))
        }
        ("POST", ["code-scanning", "sarifs"]) => upload_sarif(state, body.as_ref()),
        _ => Answer::error(404, "Not Found"),
    }
}

fn issue_exists(state: &State, n: u64) -> bool {
    state.pulls.contains_key(&n) || state.issues.contains(&n)
}

fn parse_query(query: &str) -> BTreeMap<String, String> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k.to_string(), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| s.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(b) => {
                out.push(b);
                i += 3;
            }
            None => {
                out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// One page of `items` (`per_page` up to 100, default 30) with a `Link`
/// header naming the next and last pages, as GitHub paginates.
fn paginate(
    state: &State,
    path: &str,
    query: &BTreeMap<String, String>,
    items: Vec<Value>,
    key: Option<&str>,
) -> Answer {
    let per_page: usize = query
        .get("per_page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(30)
        .clamp(1, 100);
    let page: usize = query
        .get("page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
        .max(1);
    let total = items.len();
    let last = total.div_ceil(per_page).max(1);
    let slice: Vec<Value> = items
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    let body = match key {
        Some(key) => json!({"total_count": total, key: slice}),
        None => Value::Array(slice),
    };
    let mut answer = Answer::json(200, body);
    if page < last {
        let link_to = |p: usize| {
            let mut q = query.clone();
            q.insert("per_page".into(), per_page.to_string());
            q.insert("page".into(), p.to_string());
            let qs: Vec<String> = q.iter().map(|(k, v)| format!("{k}={v}")).collect();
            format!("{}{path}?{}", state.base_url, qs.join("&"))
        };
        answer = answer.header(
            "link",
            format!(
                "<{}>; rel=\"next\", <{}>; rel=\"last\"",
                link_to(page + 1),
                link_to(last)
            ),
        );
    }
    answer
}

// --- Body checks ---------------------------------------------------------------

/// The body as an object with only `allowed` keys, `required` present, and
/// no `null` anywhere at the top level.
fn only_keys<'a>(
    body: Option<&'a Value>,
    allowed: &[&str],
    required: &[&str],
) -> Result<&'a Map<String, Value>, Answer> {
    let Some(Value::Object(map)) = body else {
        return Err(Answer::error(400, "Body should be a JSON object"));
    };
    for (key, value) in map {
        if !allowed.contains(&key.as_str()) {
            return Err(Answer::invalid(format!("`{key}` is not a permitted key.")));
        }
        if value.is_null() {
            return Err(Answer::invalid(format!(
                "For 'properties/{key}', nil is not a valid value."
            )));
        }
    }
    for key in required {
        if !map.contains_key(*key) {
            return Err(Answer::invalid(format!("\"{key}\" wasn't supplied.")));
        }
    }
    Ok(map)
}

/// `{"body": "..."}` within GitHub's 65,536-character limit.
fn body_text(body: Option<&Value>) -> Result<String, Answer> {
    let map = only_keys(body, &["body"], &["body"])?;
    let text = map["body"]
        .as_str()
        .ok_or_else(|| Answer::invalid("For 'properties/body', it is not a string."))?;
    check_length(text)?;
    Ok(text.to_string())
}

fn check_length(text: &str) -> Result<(), Answer> {
    if text.chars().count() > 65_536 {
        return Err(Answer::json(
            422,
            json!({"message": "Validation Failed", "errors": [{"resource": "IssueComment", "code": "custom", "field": "body", "message": "body is too long (maximum is 65536 characters)"}]}),
        ));
    }
    Ok(())
}

fn is_sha(s: &str) -> bool {
    s.len() == 40 && s.chars().all(|c| c.is_ascii_hexdigit())
}

fn positive(value: &Value) -> Option<u32> {
    value
        .as_u64()
        .filter(|&n| n >= 1)
        .and_then(|n| u32::try_from(n).ok())
}

/// A review comment's location: `line` (with `side`, optionally
/// `start_line`/`start_side`) or the deprecated `position`; never a null.
fn comment_location(
    pull: &Pull,
    map: &Map<String, Value>,
) -> Result<(String, Option<u32>), Answer> {
    let path = map
        .get("path")
        .and_then(Value::as_str)
        .ok_or_else(|| Answer::invalid("\"path\" wasn't supplied or is not a string."))?;
    if let Some(side) = map.get("side")
        && !matches!(side.as_str(), Some("LEFT" | "RIGHT"))
    {
        return Err(Answer::invalid("`side` must be LEFT or RIGHT"));
    }
    match (map.get("line"), map.get("position")) {
        (Some(line), None) => {
            let line = positive(line)
                .ok_or_else(|| Answer::invalid("`line` must be a positive integer"))?;
            if map.get("side").and_then(Value::as_str) != Some("LEFT")
                && !in_diff(&pull.diff, path, line)
            {
                return Err(Answer::json(
                    422,
                    json!({"message": "Unprocessable Entity", "errors": ["Pull request review thread line must be part of the diff"]}),
                ));
            }
            Ok((path.to_string(), Some(line)))
        }
        (None, Some(position)) => {
            positive(position)
                .ok_or_else(|| Answer::invalid("`position` must be a positive integer"))?;
            Ok((path.to_string(), None))
        }
        (Some(_), Some(_)) => Err(Answer::invalid("use either `line` or `position`, not both")),
        (None, None) => Err(Answer::invalid("`line` or `position` wasn't supplied.")),
    }
}

fn create_review(state: &mut State, pull: &Pull, body: Option<&Value>) -> Answer {
    let map = match only_keys(body, &["commit_id", "body", "event", "comments"], &[]) {
        Ok(map) => map,
        Err(a) => return a,
    };
    let event = map.get("event").and_then(Value::as_str);
    if let Some(event) = map.get("event")
        && !matches!(
            event.as_str(),
            Some("APPROVE" | "REQUEST_CHANGES" | "COMMENT")
        )
    {
        return Answer::invalid("`event` must be APPROVE, REQUEST_CHANGES or COMMENT");
    }
    let text = match map.get("body") {
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Answer::invalid("`body` must be a string"),
        None if matches!(event, Some("COMMENT" | "REQUEST_CHANGES")) => {
            return Answer::invalid(
                "Review Comment: body is required for COMMENT and REQUEST_CHANGES",
            );
        }
        None => String::new(),
    };
    if let Err(a) = check_length(&text) {
        return a;
    }
    let commit_id = match map.get("commit_id") {
        Some(Value::String(sha)) if is_sha(sha) => sha.clone(),
        Some(_) => return Answer::invalid("`commit_id` must be a commit SHA"),
        None => pull.head_sha.clone(),
    };
    if commit_id != pull.head_sha {
        // Reviews go on the pull request's head, not on a merge commit.
        return Answer::invalid(format!(
            "commit_id {commit_id} is not the pull request's head"
        ));
    }
    let mut comments = Vec::new();
    if let Some(list) = map.get("comments") {
        let Some(list) = list.as_array() else {
            return Answer::invalid("`comments` must be an array");
        };
        for c in list {
            let allowed = [
                "path",
                "position",
                "body",
                "line",
                "side",
                "start_line",
                "start_side",
            ];
            let map = match only_keys(Some(c), &allowed, &["path", "body"]) {
                Ok(map) => map,
                Err(a) => return a,
            };
            let (path, line) = match comment_location(pull, map) {
                Ok(loc) => loc,
                Err(a) => return a,
            };
            let Some(text) = map["body"].as_str() else {
                return Answer::invalid("comment `body` must be a string");
            };
            comments.push((path, line, text.to_string()));
        }
    }
    let id = state.id();
    let review = Review {
        id,
        pull: pull.number,
        body: text,
        commit_id: commit_id.clone(),
        state: match event {
            Some("APPROVE") => "APPROVED",
            Some("REQUEST_CHANGES") => "CHANGES_REQUESTED",
            Some(_) => "COMMENTED",
            None => "PENDING",
        }
        .into(),
        user: BOT.into(),
    };
    for (path, line, body) in comments {
        let comment_id = state.id();
        state.review_comments.push(ReviewComment {
            id: comment_id,
            pull: pull.number,
            review_id: id,
            path,
            line,
            original_line: line,
            commit_id: commit_id.clone(),
            body,
        });
    }
    let json = review_json(state, &review);
    state.reviews.push(review);
    Answer::json(200, json)
}

fn create_single_review_comment(state: &mut State, pull: &Pull, body: Option<&Value>) -> Answer {
    let allowed = [
        "body",
        "commit_id",
        "path",
        "position",
        "side",
        "line",
        "start_line",
        "start_side",
        "in_reply_to",
        "subject_type",
    ];
    let map = match only_keys(body, &allowed, &["body", "commit_id", "path"]) {
        Ok(map) => map,
        Err(a) => return a,
    };
    let commit_id = match map["commit_id"].as_str() {
        Some(sha) if is_sha(sha) => sha.to_string(),
        _ => return Answer::invalid("`commit_id` must be a commit SHA"),
    };
    let (path, line) = match comment_location(pull, map) {
        Ok(loc) => loc,
        Err(a) => return a,
    };
    let Some(text) = map["body"].as_str() else {
        return Answer::invalid("`body` must be a string");
    };
    // GitHub wraps a lone review comment in a review of its own, with no body.
    let review_id = state.id();
    state.reviews.push(Review {
        id: review_id,
        pull: pull.number,
        body: String::new(),
        commit_id: commit_id.clone(),
        state: "COMMENTED".into(),
        user: BOT.into(),
    });
    let id = state.id();
    let comment = ReviewComment {
        id,
        pull: pull.number,
        review_id,
        path,
        line,
        original_line: line,
        commit_id,
        body: text.to_string(),
    };
    let json = review_comment_json(state, &comment);
    state.review_comments.push(comment);
    Answer::json(201, json)
}

/// `output` of a check-run create or update.
fn check_output(output: &Value) -> Result<(String, String, Vec<Value>), Answer> {
    let map = only_keys(
        Some(output),
        &["title", "summary", "text", "annotations", "images"],
        &["title", "summary"],
    )?;
    let title = map["title"]
        .as_str()
        .ok_or_else(|| Answer::invalid("output `title` must be a string"))?;
    let summary = map["summary"]
        .as_str()
        .ok_or_else(|| Answer::invalid("output `summary` must be a string"))?;
    for key in ["summary", "text"] {
        if let Some(text) = map.get(key).and_then(Value::as_str)
            && text.chars().count() > 65_535
        {
            return Err(Answer::invalid(format!(
                "output `{key}` is longer than 65535 characters"
            )));
        }
    }
    let mut annotations = Vec::new();
    if let Some(list) = map.get("annotations") {
        let list = list
            .as_array()
            .ok_or_else(|| Answer::invalid("`annotations` must be an array"))?;
        if list.len() > 50 {
            return Err(Answer::invalid(
                "Only 50 annotations may be sent per request",
            ));
        }
        for a in list {
            let allowed = [
                "path",
                "start_line",
                "end_line",
                "start_column",
                "end_column",
                "annotation_level",
                "message",
                "title",
                "raw_details",
            ];
            let m = only_keys(
                Some(a),
                &allowed,
                &[
                    "path",
                    "start_line",
                    "end_line",
                    "annotation_level",
                    "message",
                ],
            )?;
            let start = positive(&m["start_line"])
                .ok_or_else(|| Answer::invalid("`start_line` must be a positive integer"))?;
            let end = positive(&m["end_line"])
                .ok_or_else(|| Answer::invalid("`end_line` must be a positive integer"))?;
            if end < start {
                return Err(Answer::invalid("`end_line` is before `start_line`"));
            }
            if (m.contains_key("start_column") || m.contains_key("end_column")) && start != end {
                return Err(Answer::invalid(
                    "columns are only allowed when start_line equals end_line",
                ));
            }
            if !matches!(
                m["annotation_level"].as_str(),
                Some("notice" | "warning" | "failure")
            ) {
                return Err(Answer::invalid(
                    "`annotation_level` must be notice, warning or failure",
                ));
            }
            if !m["path"].is_string() || !m["message"].is_string() {
                return Err(Answer::invalid("`path` and `message` must be strings"));
            }
            if let Some(title) = m.get("title")
                && title.as_str().is_none_or(|t| t.chars().count() > 255)
            {
                return Err(Answer::invalid(
                    "`title` must be a string of at most 255 characters",
                ));
            }
            annotations.push(a.clone());
        }
    }
    Ok((title.to_string(), summary.to_string(), annotations))
}

const CONCLUSIONS: [&str; 7] = [
    "action_required",
    "cancelled",
    "failure",
    "neutral",
    "success",
    "skipped",
    "timed_out",
];

fn create_check_run(state: &mut State, body: Option<&Value>) -> Answer {
    let allowed = [
        "name",
        "head_sha",
        "details_url",
        "external_id",
        "status",
        "started_at",
        "conclusion",
        "completed_at",
        "output",
        "actions",
    ];
    let map = match only_keys(body, &allowed, &["name", "head_sha"]) {
        Ok(map) => map,
        Err(a) => return a,
    };
    let (Some(name), Some(head_sha)) = (map["name"].as_str(), map["head_sha"].as_str()) else {
        return Answer::invalid("`name` and `head_sha` must be strings");
    };
    if !is_sha(head_sha) {
        return Answer::invalid("`head_sha` must be a commit SHA");
    }
    let status = map
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or("queued");
    if !matches!(status, "queued" | "in_progress" | "completed") {
        return Answer::invalid("`status` must be queued, in_progress or completed");
    }
    let conclusion = map.get("conclusion").and_then(Value::as_str);
    if let Some(c) = conclusion
        && !CONCLUSIONS.contains(&c)
    {
        return Answer::invalid(format!("`conclusion` must be one of {CONCLUSIONS:?}"));
    }
    if status == "completed" && conclusion.is_none() {
        return Answer::invalid("`conclusion` is required when `status` is completed");
    }
    let (title, summary, annotations) = match map.get("output").map(check_output) {
        Some(Ok((t, s, a))) => (Some(t), Some(s), a),
        Some(Err(a)) => return a,
        None => (None, None, Vec::new()),
    };
    let id = state.id();
    let run = CheckRun {
        id,
        name: name.to_string(),
        head_sha: head_sha.to_string(),
        external_id: map
            .get("external_id")
            .and_then(Value::as_str)
            .map(str::to_string),
        status: if conclusion.is_some() {
            "completed"
        } else {
            status
        }
        .to_string(),
        conclusion: conclusion.map(str::to_string),
        title,
        summary,
        annotations,
    };
    let json = check_run_json(state, &run);
    state.check_runs.push(run);
    Answer::json(201, json)
}

fn update_check_run(state: &mut State, id: u64, body: Option<&Value>) -> Answer {
    let allowed = [
        "name",
        "details_url",
        "external_id",
        "started_at",
        "status",
        "conclusion",
        "completed_at",
        "output",
        "actions",
    ];
    let map = match only_keys(body, &allowed, &[]) {
        Ok(map) => map,
        Err(a) => return a,
    };
    let output = match map.get("output").map(check_output) {
        Some(Ok(o)) => Some(o),
        Some(Err(a)) => return a,
        None => None,
    };
    let Some(run) = state.check_runs.iter_mut().find(|r| r.id == id) else {
        return Answer::error(404, "Not Found");
    };
    if let Some((title, summary, annotations)) = output {
        run.title = Some(title);
        run.summary = Some(summary);
        // Annotations in an update are appended to the run's.
        run.annotations.extend(annotations);
    }
    let run = run.clone();
    Answer::json(200, check_run_json(state, &run))
}

fn upload_sarif(state: &mut State, body: Option<&Value>) -> Answer {
    let allowed = [
        "commit_sha",
        "ref",
        "sarif",
        "checkout_uri",
        "started_at",
        "tool_name",
        "validate",
    ];
    let map = match only_keys(body, &allowed, &["commit_sha", "ref", "sarif"]) {
        Ok(map) => map,
        Err(a) => return a,
    };
    if !map["commit_sha"].as_str().is_some_and(is_sha) {
        return Answer::invalid("`commit_sha` must be a commit SHA");
    }
    let git_ref = map["ref"].as_str().unwrap_or_default();
    let ref_ok = git_ref.starts_with("refs/heads/")
        || git_ref.starts_with("refs/tags/")
        || git_ref
            .strip_prefix("refs/pull/")
            .and_then(|r| r.split_once('/'))
            .is_some_and(|(n, kind)| {
                n.parse::<u64>().is_ok() && (kind == "head" || kind == "merge")
            });
    if !ref_ok {
        return Answer::invalid(
            "`ref` must be refs/heads/..., refs/tags/... or refs/pull/N/head|merge",
        );
    }
    let Some(encoded) = map["sarif"].as_str() else {
        return Answer::invalid("`sarif` must be a string");
    };
    let Ok(gz) = base64::engine::general_purpose::STANDARD.decode(encoded) else {
        return Answer::error(400, "Invalid SARIF: not base64");
    };
    let mut text = String::new();
    if flate2::read::GzDecoder::new(&gz[..])
        .read_to_string(&mut text)
        .is_err()
    {
        return Answer::error(400, "Invalid SARIF: not gzip");
    }
    let Ok(log) = serde_json::from_str::<Value>(&text) else {
        return Answer::error(400, "Invalid SARIF: not JSON");
    };
    if log["version"] != "2.1.0" || !log["runs"].is_array() {
        return Answer::error(400, "Invalid SARIF: version 2.1.0 with runs expected");
    }
    state.sarifs.push(log);
    let id = format!("47177e22-{:04}-11ed-9bcd-c9e1b1f4e26b", state.sarifs.len());
    Answer::json(
        202,
        json!({"id": id, "url": format!("{}/repos/{REPO}/code-scanning/sarifs/{id}", api(state))}),
    )
}

// --- Resources as GitHub shows them --------------------------------------------

/// The API's URL as the fake's answers show it.
fn api(state: &State) -> String {
    format!("{}{}", state.base_url, state.prefix)
}

fn user_json(login: &str) -> Value {
    let kind = if login.ends_with("[bot]") {
        "Bot"
    } else {
        "User"
    };
    json!({"login": login, "id": login.len() as u64 * 1000 + 7, "node_id": "U_x", "type": kind, "site_admin": false})
}

fn pull_json(state: &State, pull: &Pull) -> Value {
    let repo_json = |full: &str| json!({"id": 1, "full_name": full, "name": full.split('/').nth(1), "fork": full != REPO});
    json!({
        "url": format!("{}/repos/{REPO}/pulls/{}", api(state), pull.number),
        "id": 3_100_000_000u64 + pull.number,
        "number": pull.number,
        "state": "open",
        "draft": false,
        "title": "A change",
        "body": null,
        "user": user_json("alice"),
        "html_url": format!("https://github.com/{REPO}/pull/{}", pull.number),
        "labels": pull.labels.iter().map(|l| json!({"id": 1, "name": l, "color": "ededed", "default": false})).collect::<Vec<_>>(),
        "head": {"label": "x:y", "ref": pull.head_ref, "sha": pull.head_sha, "repo": repo_json(&pull.head_repo)},
        "base": {"label": "acme:main", "ref": "main", "sha": pull.base_sha, "repo": repo_json(REPO)},
    })
}

fn issue_comment_json(state: &State, c: &IssueComment) -> Value {
    json!({
        "id": c.id,
        "node_id": "IC_x",
        "url": format!("{}/repos/{REPO}/issues/comments/{}", api(state), c.id),
        "html_url": format!("https://github.com/{REPO}/pull/{}#issuecomment-{}", c.issue, c.id),
        "issue_url": format!("{}/repos/{REPO}/issues/{}", api(state), c.issue),
        "body": c.body,
        "user": user_json(&c.user),
        "created_at": "2026-11-02T09:00:00Z",
        "updated_at": "2026-11-02T09:00:00Z",
        "author_association": "NONE",
    })
}

fn review_json(state: &State, r: &Review) -> Value {
    json!({
        "id": r.id,
        "node_id": "PRR_x",
        "user": user_json(&r.user),
        "body": r.body,
        "state": r.state,
        "html_url": format!("https://github.com/{REPO}/pull/{}#pullrequestreview-{}", r.pull, r.id),
        "pull_request_url": format!("{}/repos/{REPO}/pulls/{}", api(state), r.pull),
        "commit_id": r.commit_id,
        "submitted_at": "2026-11-02T09:00:02Z",
        "author_association": "NONE",
    })
}

fn review_comment_json(state: &State, c: &ReviewComment) -> Value {
    json!({
        "id": c.id,
        "node_id": "PRRC_x",
        "pull_request_review_id": c.review_id,
        "url": format!("{}/repos/{REPO}/pulls/comments/{}", api(state), c.id),
        "html_url": format!("https://github.com/{REPO}/pull/{}#discussion_r{}", c.pull, c.id),
        "path": c.path,
        "line": c.line,
        "original_line": c.original_line,
        "side": "RIGHT",
        "commit_id": c.commit_id,
        "original_commit_id": c.commit_id,
        "body": c.body,
        "user": user_json(BOT),
    })
}

fn check_run_json(state: &State, r: &CheckRun) -> Value {
    json!({
        "id": r.id,
        "name": r.name,
        "head_sha": r.head_sha,
        "external_id": r.external_id.clone().unwrap_or_default(),
        "status": r.status,
        "conclusion": r.conclusion,
        "url": format!("{}/repos/{REPO}/check-runs/{}", api(state), r.id),
        "html_url": format!("https://github.com/{REPO}/runs/{}", r.id),
        "output": {"title": r.title, "summary": r.summary, "annotations_count": r.annotations.len()},
    })
}
