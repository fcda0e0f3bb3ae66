//! The GitHub REST client: octocrab for transport and authentication, one
//! retry policy, typed errors, and the endpoints alembot uses.
//!
//! Every call goes through octocrab's raw request methods with a body built
//! here, never through its typed builders: `create_review` serialises unset
//! optional fields as `null` (`position`, `line`, `side`), which GitHub's
//! schema rejects with 422. The one endpoint octocrab does not model at all,
//! the SARIF upload, goes through reqwest behind the same retry loop and the
//! same error type.
//!
//! octocrab's own retry layer is switched off: it re-sends 5xx and 429 at
//! once, POSTs included, and never retries a 403. Here a create that may have
//! succeeded (a 5xx, a dropped connection) is followed by a look for what it
//! would have created before it is sent again; a rate-limited request was
//! not processed and is simply sent again after the wait GitHub asked for.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::header::{ACCEPT, HeaderMap, HeaderValue};
use http::{Method, StatusCode};
use octocrab::Octocrab;
use octocrab::service::middleware::retry::RetryConfig;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::event::{PullRequest, User};
use super::retry::{Clock, RetryPolicy, TokioClock};

/// The media type GitHub's REST docs recommend for every call.
pub const MEDIA_TYPE: &str = "application/vnd.github+json";
/// The REST API version alembot is written against.
pub const API_VERSION: &str = "2022-11-28";
pub const DEFAULT_API_URL: &str = "https://api.github.com";
/// The most items GitHub returns per page of a list.
const PER_PAGE: u32 = 100;
/// A bound on pages per list (10,000 items), so a server that always
/// answers with a `next` link cannot keep alembot busy forever.
const MAX_PAGES: usize = 100;

#[derive(Debug, thiserror::Error)]
pub enum GithubError {
    #[error(
        "{call}: the token may not do this (HTTP 403: {message})\n  help: add {permission} to the `permissions:` of the workflow or job that runs alembot"
    )]
    MissingPermission {
        call: String,
        permission: String,
        message: String,
    },
    #[error(
        "{call}: GitHub rejected the token (HTTP 401: {message})\n  help: pass a valid token as GITHUB_TOKEN (the action's `github-token` input)"
    )]
    BadCredentials { call: String, message: String },
    #[error(
        "{call}: rate limited by GitHub after {attempts} attempt(s); it asked to wait {}s more, beyond alembot's retry budget",
        wait.as_secs()
    )]
    RateLimited {
        call: String,
        attempts: u32,
        wait: Duration,
    },
    #[error("{call}: GitHub answered HTTP {status} to {attempts} attempt(s): {message}")]
    Server {
        call: String,
        status: u16,
        attempts: u32,
        message: String,
    },
    #[error("{call}: no answer from GitHub after {attempts} attempt(s): {message}")]
    Network {
        call: String,
        attempts: u32,
        message: String,
    },
    #[error("{call}: HTTP {status}: {message}")]
    Rejected {
        call: String,
        status: u16,
        message: String,
    },
    #[error("{call}: unexpected answer from GitHub: {message}")]
    Decode { call: String, message: String },
    #[error("GITHUB_API_URL `{url}` is not a usable URL: {message}")]
    ApiUrl { url: String, message: String },
    #[error("`{value}` is not a valid {what}")]
    InvalidName { what: &'static str, value: String },
}

impl GithubError {
    pub fn status(&self) -> Option<u16> {
        match self {
            GithubError::MissingPermission { .. } => Some(403),
            GithubError::BadCredentials { .. } => Some(401),
            GithubError::Server { status, .. } | GithubError::Rejected { status, .. } => {
                Some(*status)
            }
            _ => None,
        }
    }
}

/// `owner/name`, checked: it becomes part of request paths, and in
/// `publish` it comes from a file a pull request's code could have written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoName {
    pub owner: String,
    pub name: String,
}

impl RepoName {
    pub fn parse(full_name: &str) -> Result<RepoName, GithubError> {
        let invalid = || GithubError::InvalidName {
            what: "repository (owner/name)",
            value: full_name.to_string(),
        };
        let (owner, name) = full_name.split_once('/').ok_or_else(invalid)?;
        let owner_ok = !owner.is_empty()
            && owner
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        let name_ok = !name.is_empty()
            && name != "."
            && name != ".."
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if owner_ok && name_ok {
            Ok(RepoName {
                owner: owner.to_string(),
                name: name.to_string(),
            })
        } else {
            Err(invalid())
        }
    }

    pub fn full_name(&self) -> String {
        format!("{}/{}", self.owner, self.name)
    }

    fn path(&self, rest: &str) -> String {
        format!("/repos/{}/{}{rest}", self.owner, self.name)
    }
}

/// Whether `login` can be put in a path as is.
fn valid_login(login: &str) -> bool {
    !login.is_empty() && login.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

// --- Response shapes (only the fields alembot reads) -----------------------

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct IssueComment {
    pub id: u64,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub user: Option<User>,
    #[serde(default)]
    pub html_url: Option<String>,
    /// `.../repos/{owner}/{repo}/issues/{number}`: the issue or pull
    /// request the comment is on.
    #[serde(default)]
    pub issue_url: Option<String>,
}

impl IssueComment {
    /// Whether the comment is on issue (or pull request) `number`.
    pub fn is_on(&self, number: u64) -> bool {
        self.issue_url
            .as_deref()
            .is_some_and(|url| url.ends_with(&format!("/issues/{number}")))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Review {
    pub id: u64,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub user: Option<User>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub html_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ReviewComment {
    pub id: u64,
    #[serde(default)]
    pub body: Option<String>,
    pub path: String,
    /// The line on the pull request's current head; null once the comment
    /// is outdated (its line changed in a later push).
    #[serde(default)]
    pub line: Option<u32>,
    #[serde(default)]
    pub side: Option<String>,
    #[serde(default)]
    pub commit_id: Option<String>,
    #[serde(default)]
    pub pull_request_review_id: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CheckRun {
    pub id: u64,
    pub name: String,
    #[serde(default)]
    pub external_id: Option<String>,
    #[serde(default)]
    pub html_url: Option<String>,
}

/// `GET /repos/{owner}/{repo}/collaborators/{username}/permission`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Permission {
    /// The legacy level: `admin`, `write`, `read` or `none` (`maintain`
    /// shows as `write`, `triage` as `read`).
    pub permission: String,
    /// The role itself: `admin`, `maintain`, `write`, `triage`, `read`, or
    /// the name of a custom role.
    #[serde(default)]
    pub role_name: Option<String>,
}

impl Permission {
    /// Write, maintain or admin. A custom role counts by the base level
    /// GitHub reports for it in `permission`.
    pub fn may_write(&self) -> bool {
        matches!(self.permission.as_str(), "admin" | "maintain" | "write")
            || matches!(
                self.role_name.as_deref(),
                Some("admin" | "maintain" | "write")
            )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SarifReceipt {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
}

/// Reactions GitHub accepts (`content` of "Create reaction for an issue
/// comment").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reaction {
    PlusOne,
    MinusOne,
    Confused,
    Eyes,
    Rocket,
    Hooray,
}

impl Reaction {
    pub fn as_str(self) -> &'static str {
        match self {
            Reaction::PlusOne => "+1",
            Reaction::MinusOne => "-1",
            Reaction::Confused => "confused",
            Reaction::Eyes => "eyes",
            Reaction::Rocket => "rocket",
            Reaction::Hooray => "hooray",
        }
    }
}

// --- The client -------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transport {
    Octocrab,
    Reqwest,
}

/// One request, described before it is sent (it may be sent again).
struct Request<'a> {
    method: Method,
    /// Relative to the API URL (`/repos/...`), or an absolute `next` link.
    path: String,
    body: Option<&'a Value>,
    /// The `permissions:` entry the call needs, named when GitHub says 403.
    permission: &'static str,
    transport: Transport,
}

impl Request<'_> {
    fn describe(&self) -> String {
        // Query strings carry nothing secret, but they make messages noisy.
        let path = self.path.split('?').next().unwrap_or(&self.path);
        format!("{} {path}", self.method)
    }
}

/// A successful answer.
#[derive(Debug, Clone)]
struct Answer {
    headers: HeaderMap,
    body: Value,
}

/// Why an attempt failed, and what that means for another one.
enum Failure {
    /// Not processed (a rate limit): send again after `wait`.
    RateLimited { wait: Duration },
    /// May or may not have been processed (5xx, no answer).
    Ambiguous {
        status: Option<u16>,
        message: String,
    },
    /// Another attempt would fail the same way.
    Fatal(GithubError),
}

/// The GitHub client: one per run, shared by every call.
pub struct Github {
    octo: Octocrab,
    http: reqwest::Client,
    api: String,
    token: SecretString,
    policy: RetryPolicy,
    clock: Arc<dyn Clock>,
}

impl Github {
    /// A client for the API at `api_url` (`GITHUB_API_URL`; on GitHub
    /// Enterprise Server it ends in `/api/v3`). Must be called within a
    /// tokio runtime.
    pub fn new(api_url: &str, token: SecretString) -> Result<Github, GithubError> {
        let api = api_url.trim_end_matches('/').to_string();
        let bad_url = |message: String| GithubError::ApiUrl {
            url: api_url.to_string(),
            message,
        };
        let parsed: http::Uri = api.parse().map_err(|e| bad_url(format!("{e}")))?;
        if !matches!(parsed.scheme_str(), Some("http" | "https")) || parsed.authority().is_none() {
            return Err(bad_url("it must start with https:// (or http://)".into()));
        }
        let octo = Octocrab::builder()
            .base_uri(api.as_str())
            .map_err(|e| bad_url(e.to_string()))?
            .personal_token(token.clone())
            .add_retry_config(RetryConfig::None)
            .set_connect_timeout(Some(Duration::from_secs(10)))
            .set_read_timeout(Some(Duration::from_secs(60)))
            .set_write_timeout(Some(Duration::from_secs(60)))
            .build()
            .map_err(|e| bad_url(format!("cannot set up the HTTP client: {e}")))?;
        let http = reqwest::Client::builder()
            .user_agent(concat!("alembot/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .build()
            .map_err(|e| bad_url(format!("cannot set up the HTTP client: {e}")))?;
        Ok(Github {
            octo,
            http,
            api,
            token,
            policy: RetryPolicy::default(),
            clock: Arc::new(TokioClock::default()),
        })
    }

    pub fn with_retry(mut self, policy: RetryPolicy, clock: Arc<dyn Clock>) -> Github {
        self.policy = policy;
        self.clock = clock;
        self
    }

    // --- Sending ------------------------------------------------------------

    async fn send_once(
        &self,
        req: &Request<'_>,
    ) -> Result<(StatusCode, HeaderMap, String), String> {
        match req.transport {
            Transport::Octocrab => {
                let builder = http::Request::builder()
                    .method(req.method.clone())
                    .uri(req.path.as_str())
                    .header(ACCEPT, MEDIA_TYPE);
                let request = self
                    .octo
                    .build_request(builder, req.body)
                    .map_err(|e| e.to_string())?;
                let response = self.octo.execute(request).await.map_err(error_chain)?;
                let status = response.status();
                let headers = response.headers().clone();
                let text = self
                    .octo
                    .body_to_string(response)
                    .await
                    .map_err(error_chain)?;
                Ok((status, headers, text))
            }
            Transport::Reqwest => {
                let url = format!("{}{}", self.api, req.path);
                let mut auth =
                    HeaderValue::from_str(&format!("Bearer {}", self.token.expose_secret()))
                        .map_err(|_| "the token is not a valid header value".to_string())?;
                auth.set_sensitive(true);
                let mut builder = self
                    .http
                    .request(req.method.clone(), url)
                    .header(ACCEPT, MEDIA_TYPE)
                    .header("X-GitHub-Api-Version", API_VERSION)
                    .header(http::header::AUTHORIZATION, auth);
                if let Some(body) = req.body {
                    builder = builder.json(body);
                }
                let response = builder.send().await.map_err(error_chain)?;
                let status = response.status();
                let headers = response.headers().clone();
                let text = response.text().await.map_err(error_chain)?;
                Ok((status, headers, text))
            }
        }
    }

    async fn attempt(&self, req: &Request<'_>) -> Result<Answer, Failure> {
        let (status, headers, text) = match self.send_once(req).await {
            Ok(answer) => answer,
            Err(message) => {
                return Err(Failure::Ambiguous {
                    status: None,
                    message,
                });
            }
        };
        let call = req.describe();
        if status.is_success() {
            let body = if text.trim().is_empty() {
                Value::Null
            } else {
                serde_json::from_str(&text).map_err(|e| {
                    Failure::Fatal(GithubError::Decode {
                        call: call.clone(),
                        message: e.to_string(),
                    })
                })?
            };
            return Ok(Answer { headers, body });
        }
        let message = error_message(&text);
        match status.as_u16() {
            401 => Err(Failure::Fatal(GithubError::BadCredentials {
                call,
                message,
            })),
            429 => Err(Failure::RateLimited {
                wait: rate_limit_wait(&headers).unwrap_or(self.policy.rate_limit_delay),
            }),
            403 => {
                if let Some(wait) = rate_limit_wait(&headers) {
                    Err(Failure::RateLimited { wait })
                } else if message.to_ascii_lowercase().contains("rate limit") {
                    Err(Failure::RateLimited {
                        wait: self.policy.rate_limit_delay,
                    })
                } else {
                    let permission = headers
                        .get("x-accepted-github-permissions")
                        .and_then(|v| v.to_str().ok())
                        .and_then(permission_entry)
                        .unwrap_or_else(|| format!("`{}`", req.permission));
                    Err(Failure::Fatal(GithubError::MissingPermission {
                        call,
                        permission,
                        message,
                    }))
                }
            }
            s if s >= 500 => Err(Failure::Ambiguous {
                status: Some(s),
                message,
            }),
            s => Err(Failure::Fatal(GithubError::Rejected {
                call,
                status: s,
                message,
            })),
        }
    }

    /// Sends `req` under the retry policy. For a create that may have
    /// succeeded although the answer was lost, `probe` looks for what it
    /// would have made before it is sent again.
    async fn call<P, F>(&self, req: &Request<'_>, probe: Option<P>) -> Result<Answer, GithubError>
    where
        P: Fn() -> F,
        F: Future<Output = Result<Option<Value>, GithubError>>,
    {
        let mut waited = Duration::ZERO;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let failure = match self.attempt(req).await {
                Ok(answer) => return Ok(answer),
                Err(failure) => failure,
            };
            let (wait, ambiguous) = match &failure {
                Failure::Fatal(_) => return Err(give_up(req, failure, attempt)),
                Failure::RateLimited { wait } => (*wait, false),
                Failure::Ambiguous { .. } => (self.policy.backoff(attempt), true),
            };
            let out_of_budget = waited + wait > self.policy.budget;
            if attempt >= self.policy.max_attempts || out_of_budget {
                return Err(give_up(req, failure, attempt));
            }
            tracing::info!(
                "{}: attempt {attempt} failed; trying again in {:.1}s",
                req.describe(),
                wait.as_secs_f64()
            );
            self.clock.sleep(wait).await;
            waited += wait;
            if ambiguous && let Some(probe) = &probe {
                if let Some(found) = probe().await? {
                    tracing::info!(
                        "{}: the earlier attempt had succeeded; not sending it again",
                        req.describe()
                    );
                    return Ok(Answer {
                        headers: HeaderMap::new(),
                        body: found,
                    });
                }
            }
        }
    }

    async fn send(
        &self,
        method: Method,
        path: String,
        body: Option<&Value>,
        permission: &'static str,
    ) -> Result<Answer, GithubError> {
        let req = Request {
            method,
            path,
            body,
            permission,
            transport: Transport::Octocrab,
        };
        self.call(&req, NO_PROBE).await
    }

    /// A create (POST) that must not be repeated blindly.
    async fn create<P, F>(
        &self,
        path: String,
        body: &Value,
        permission: &'static str,
        probe: P,
    ) -> Result<Value, GithubError>
    where
        P: Fn() -> F,
        F: Future<Output = Result<Option<Value>, GithubError>>,
    {
        let req = Request {
            method: Method::POST,
            path,
            body: Some(body),
            permission,
            transport: Transport::Octocrab,
        };
        Ok(self.call(&req, Some(probe)).await?.body)
    }

    async fn get<T: DeserializeOwned>(
        &self,
        path: String,
        permission: &'static str,
    ) -> Result<T, GithubError> {
        let call = format!("GET {path}");
        let answer = self.send(Method::GET, path, None, permission).await?;
        decode(&call, answer.body)
    }

    /// Every item of a paginated list. `key` names the array when the page
    /// is an object (`{"total_count": 1, "check_runs": [...]}`).
    async fn list(
        &self,
        path: &str,
        key: Option<&str>,
        permission: &'static str,
    ) -> Result<Vec<Value>, GithubError> {
        let separator = if path.contains('?') { '&' } else { '?' };
        let mut next = Some(format!("{path}{separator}per_page={PER_PAGE}"));
        let mut items = Vec::new();
        let mut pages = 0;
        while let Some(path) = next.take() {
            pages += 1;
            let call = format!("GET {}", path.split('?').next().unwrap_or(&path));
            let answer = self.send(Method::GET, path, None, permission).await?;
            let page = match (key, answer.body) {
                (None, Value::Array(page)) => page,
                (Some(key), Value::Object(mut object)) => match object.remove(key) {
                    Some(Value::Array(page)) => page,
                    _ => {
                        return Err(GithubError::Decode {
                            call,
                            message: format!("no `{key}` list in the answer"),
                        });
                    }
                },
                _ => {
                    return Err(GithubError::Decode {
                        call,
                        message: "expected a list".into(),
                    });
                }
            };
            items.extend(page);
            if pages >= MAX_PAGES {
                tracing::warn!("{call}: stopped after {MAX_PAGES} pages");
                break;
            }
            next = next_link(&answer.headers).and_then(|url| self.same_origin(&url));
        }
        Ok(items)
    }

    /// A `next` link as something to request, only when it points at the
    /// API alembot was given: the token is never sent anywhere else.
    fn same_origin(&self, url: &str) -> Option<String> {
        let api_origin = origin(&self.api)?;
        if origin(url)? != api_origin {
            tracing::warn!("not following a pagination link to another host: {url}");
            return None;
        }
        Some(url.to_string())
    }

    // --- Endpoints ------------------------------------------------------------

    /// `GET /repos/{owner}/{repo}/pulls/{pull_number}`.
    pub async fn pull_request(
        &self,
        repo: &RepoName,
        number: u64,
    ) -> Result<PullRequest, GithubError> {
        self.get(
            repo.path(&format!("/pulls/{number}")),
            "pull-requests: read",
        )
        .await
    }

    /// `GET /repos/{owner}/{repo}/collaborators/{username}/permission`.
    /// Someone who is not a collaborator at all has no write permission.
    pub async fn permission(
        &self,
        repo: &RepoName,
        login: &str,
    ) -> Result<Permission, GithubError> {
        if !valid_login(login) {
            return Ok(Permission {
                permission: "none".into(),
                role_name: None,
            });
        }
        let path = repo.path(&format!("/collaborators/{login}/permission"));
        match self.get(path, "contents: read").await {
            Err(GithubError::Rejected { status: 404, .. }) => Ok(Permission {
                permission: "none".into(),
                role_name: None,
            }),
            other => other,
        }
    }

    /// `POST /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions`.
    /// GitHub answers 200 for a reaction that already exists, so sending it
    /// again is harmless and needs no probe.
    pub async fn react(
        &self,
        repo: &RepoName,
        comment_id: u64,
        reaction: Reaction,
    ) -> Result<(), GithubError> {
        let body = serde_json::json!({ "content": reaction.as_str() });
        self.send(
            Method::POST,
            repo.path(&format!("/issues/comments/{comment_id}/reactions")),
            Some(&body),
            "issues: write",
        )
        .await
        .map(drop)
    }

    /// `GET /repos/{owner}/{repo}/issues/comments/{comment_id}`.
    pub async fn issue_comment(
        &self,
        repo: &RepoName,
        comment_id: u64,
    ) -> Result<IssueComment, GithubError> {
        self.get(
            repo.path(&format!("/issues/comments/{comment_id}")),
            "pull-requests: read",
        )
        .await
    }

    /// `GET /repos/{owner}/{repo}/issues/{issue_number}/comments`, all pages.
    pub async fn issue_comments(
        &self,
        repo: &RepoName,
        number: u64,
    ) -> Result<Vec<IssueComment>, GithubError> {
        let path = repo.path(&format!("/issues/{number}/comments"));
        decode_all(&path, self.list(&path, None, "pull-requests: read").await?)
    }

    /// `POST /repos/{owner}/{repo}/issues/{issue_number}/comments`, looking
    /// for a comment whose body starts with `marker` before any re-send.
    pub async fn create_issue_comment(
        &self,
        repo: &RepoName,
        number: u64,
        body: &str,
        marker: &str,
    ) -> Result<IssueComment, GithubError> {
        let path = repo.path(&format!("/issues/{number}/comments"));
        let payload = serde_json::json!({ "body": body });
        let probe = || async {
            let found = self
                .issue_comments(repo, number)
                .await?
                .into_iter()
                .find(|c| c.body.as_deref().is_some_and(|b| b.starts_with(marker)));
            Ok(found
                .map(|c| serde_json::json!({"id": c.id, "body": c.body, "html_url": c.html_url})))
        };
        let value = self
            .create(path.clone(), &payload, "pull-requests: write", probe)
            .await?;
        decode(&format!("POST {path}"), value)
    }

    /// `PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}`.
    pub async fn update_issue_comment(
        &self,
        repo: &RepoName,
        comment_id: u64,
        body: &str,
    ) -> Result<IssueComment, GithubError> {
        let path = repo.path(&format!("/issues/comments/{comment_id}"));
        let payload = serde_json::json!({ "body": body });
        let call = format!("PATCH {path}");
        let answer = self
            .send(Method::PATCH, path, Some(&payload), "pull-requests: write")
            .await?;
        decode(&call, answer.body)
    }

    /// `GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews`, all pages.
    pub async fn reviews(&self, repo: &RepoName, number: u64) -> Result<Vec<Review>, GithubError> {
        let path = repo.path(&format!("/pulls/{number}/reviews"));
        decode_all(&path, self.list(&path, None, "pull-requests: read").await?)
    }

    /// `POST /repos/{owner}/{repo}/pulls/{pull_number}/reviews`. `body` is
    /// the whole request, built by the caller without nulls.
    pub async fn create_review(
        &self,
        repo: &RepoName,
        number: u64,
        body: &Value,
        marker: &str,
    ) -> Result<Review, GithubError> {
        let path = repo.path(&format!("/pulls/{number}/reviews"));
        let probe = || async {
            let found = self
                .reviews(repo, number)
                .await?
                .into_iter()
                .find(|r| r.body.as_deref().is_some_and(|b| b.starts_with(marker)));
            Ok(found
                .map(|r| serde_json::json!({"id": r.id, "body": r.body, "html_url": r.html_url})))
        };
        let value = self
            .create(path.clone(), body, "pull-requests: write", probe)
            .await?;
        decode(&format!("POST {path}"), value)
    }

    /// `PUT /repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}`:
    /// replaces the review's body.
    pub async fn update_review(
        &self,
        repo: &RepoName,
        number: u64,
        review_id: u64,
        body: &str,
    ) -> Result<Review, GithubError> {
        let path = repo.path(&format!("/pulls/{number}/reviews/{review_id}"));
        let payload = serde_json::json!({ "body": body });
        let call = format!("PUT {path}");
        let answer = self
            .send(Method::PUT, path, Some(&payload), "pull-requests: write")
            .await?;
        decode(&call, answer.body)
    }

    /// `GET /repos/{owner}/{repo}/pulls/{pull_number}/comments`, all pages.
    pub async fn review_comments(
        &self,
        repo: &RepoName,
        number: u64,
    ) -> Result<Vec<ReviewComment>, GithubError> {
        let path = repo.path(&format!("/pulls/{number}/comments"));
        decode_all(&path, self.list(&path, None, "pull-requests: read").await?)
    }

    /// `POST /repos/{owner}/{repo}/pulls/{pull_number}/comments`: one
    /// inline comment on a line of the diff (`line` + `side`).
    pub async fn create_review_comment(
        &self,
        repo: &RepoName,
        number: u64,
        body: &Value,
        marker: &str,
    ) -> Result<ReviewComment, GithubError> {
        let path = repo.path(&format!("/pulls/{number}/comments"));
        let probe = || async {
            let found = self
                .review_comments(repo, number)
                .await?
                .into_iter()
                .find(|c| c.body.as_deref().is_some_and(|b| b.starts_with(marker)));
            Ok(found.map(
                |c| serde_json::json!({"id": c.id, "body": c.body, "path": c.path, "line": c.line}),
            ))
        };
        let value = self
            .create(path.clone(), body, "pull-requests: write", probe)
            .await?;
        decode(&format!("POST {path}"), value)
    }

    /// `PATCH /repos/{owner}/{repo}/pulls/comments/{comment_id}`.
    pub async fn update_review_comment(
        &self,
        repo: &RepoName,
        comment_id: u64,
        body: &str,
    ) -> Result<(), GithubError> {
        let payload = serde_json::json!({ "body": body });
        self.send(
            Method::PATCH,
            repo.path(&format!("/pulls/comments/{comment_id}")),
            Some(&payload),
            "pull-requests: write",
        )
        .await
        .map(drop)
    }

    /// `DELETE /repos/{owner}/{repo}/pulls/comments/{comment_id}`. Already
    /// gone (404, e.g. after a lost answer to an earlier attempt) is done.
    pub async fn delete_review_comment(
        &self,
        repo: &RepoName,
        comment_id: u64,
    ) -> Result<(), GithubError> {
        match self
            .send(
                Method::DELETE,
                repo.path(&format!("/pulls/comments/{comment_id}")),
                None,
                "pull-requests: write",
            )
            .await
        {
            Ok(_) | Err(GithubError::Rejected { status: 404, .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// `GET /repos/{owner}/{repo}/commits/{ref}/check-runs?check_name=`.
    pub async fn check_runs(
        &self,
        repo: &RepoName,
        head_sha: &str,
        name: &str,
    ) -> Result<Vec<CheckRun>, GithubError> {
        let path = repo.path(&format!(
            "/commits/{head_sha}/check-runs?check_name={}",
            query_escape(name)
        ));
        decode_all(
            &path,
            self.list(&path, Some("check_runs"), "checks: read").await?,
        )
    }

    /// `POST /repos/{owner}/{repo}/check-runs`. `body` carries a unique
    /// `external_id`, by which a lost answer is found again.
    pub async fn create_check_run(
        &self,
        repo: &RepoName,
        body: &Value,
    ) -> Result<CheckRun, GithubError> {
        let path = repo.path("/check-runs");
        let head_sha = body["head_sha"].as_str().unwrap_or_default();
        let name = body["name"].as_str().unwrap_or_default();
        let external_id = body["external_id"].as_str();
        let probe = || async {
            let Some(external_id) = external_id else {
                return Ok(None);
            };
            let found = self
                .check_runs(repo, head_sha, name)
                .await?
                .into_iter()
                .find(|run| run.external_id.as_deref() == Some(external_id));
            Ok(found.map(|run| {
                serde_json::json!({"id": run.id, "name": run.name, "external_id": run.external_id, "html_url": run.html_url})
            }))
        };
        let value = self
            .create(path.clone(), body, "checks: write", probe)
            .await?;
        decode(&format!("POST {path}"), value)
    }

    /// `PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}`. Annotations
    /// in an update are appended, so an update carrying them is not
    /// idempotent: after a lost answer, the run's annotation count tells
    /// whether it went through (`expected_annotations`: the count it has
    /// once this update is in).
    pub async fn update_check_run(
        &self,
        repo: &RepoName,
        check_run_id: u64,
        body: &Value,
        expected_annotations: Option<usize>,
    ) -> Result<(), GithubError> {
        let req = Request {
            method: Method::PATCH,
            path: repo.path(&format!("/check-runs/{check_run_id}")),
            body: Some(body),
            permission: "checks: write",
            transport: Transport::Octocrab,
        };
        match expected_annotations {
            None => self.call(&req, NO_PROBE).await.map(drop),
            Some(expected) => {
                let probe = || async {
                    let path = repo.path(&format!("/check-runs/{check_run_id}/annotations"));
                    let count = self.list(&path, None, "checks: read").await?.len();
                    Ok((count >= expected).then_some(Value::Null))
                };
                self.call(&req, Some(probe)).await.map(drop)
            }
        }
    }

    /// `POST /repos/{owner}/{repo}/code-scanning/sarifs`, the SARIF log
    /// gzipped and base64-encoded as the endpoint requires. Sending the
    /// same analysis twice replaces it, so no probe is needed.
    pub async fn upload_sarif(
        &self,
        repo: &RepoName,
        commit_sha: &str,
        git_ref: &str,
        sarif: &str,
    ) -> Result<SarifReceipt, GithubError> {
        let path = repo.path("/code-scanning/sarifs");
        let body = serde_json::json!({
            "commit_sha": commit_sha,
            "ref": git_ref,
            "sarif": gzip_base64(sarif.as_bytes()),
            "tool_name": "alembot",
        });
        let req = Request {
            method: Method::POST,
            path: path.clone(),
            body: Some(&body),
            permission: "security-events: write",
            transport: Transport::Reqwest,
        };
        let answer = self.call(&req, NO_PROBE).await?;
        decode(&format!("POST {path}"), answer.body)
    }
}

/// `call`'s probe argument when there is none.
#[allow(clippy::type_complexity)]
const NO_PROBE: Option<fn() -> std::future::Ready<Result<Option<Value>, GithubError>>> = None;

fn give_up(req: &Request<'_>, failure: Failure, attempts: u32) -> GithubError {
    let call = req.describe();
    match failure {
        Failure::Fatal(e) => e,
        Failure::RateLimited { wait } => GithubError::RateLimited {
            call,
            attempts,
            wait,
        },
        Failure::Ambiguous {
            status: Some(status),
            message,
        } => GithubError::Server {
            call,
            status,
            attempts,
            message,
        },
        Failure::Ambiguous {
            status: None,
            message,
        } => GithubError::Network {
            call,
            attempts,
            message,
        },
    }
}

fn decode<T: DeserializeOwned>(call: &str, value: Value) -> Result<T, GithubError> {
    serde_json::from_value(value).map_err(|e| GithubError::Decode {
        call: call.to_string(),
        message: e.to_string(),
    })
}

fn decode_all<T: DeserializeOwned>(path: &str, values: Vec<Value>) -> Result<Vec<T>, GithubError> {
    let call = format!("GET {}", path.split('?').next().unwrap_or(path));
    values.into_iter().map(|v| decode(&call, v)).collect()
}

/// An error and its causes on one line: octocrab's and hyper's top-level
/// messages ("Service error") say little on their own.
fn error_chain(e: impl std::error::Error) -> String {
    let mut message = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

/// GitHub's error body: `{"message": "...", "errors": [...]}`. The
/// validation errors of a 422 say which field was wrong.
fn error_message(text: &str) -> String {
    let Ok(value) = serde_json::from_str::<Value>(text) else {
        let text = text.trim();
        return if text.is_empty() {
            "(no message)".into()
        } else {
            text.chars().take(300).collect()
        };
    };
    let mut message = value["message"]
        .as_str()
        .unwrap_or("(no message)")
        .to_string();
    if let Some(errors) = value["errors"].as_array() {
        let details: Vec<String> = errors
            .iter()
            .map(|e| match e {
                Value::String(s) => s.clone(),
                other => other["message"]
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| other.to_string()),
            })
            .collect();
        if !details.is_empty() {
            message.push_str(" (");
            message.push_str(&details.join("; "));
            message.push(')');
        }
    }
    message
}

/// How long a rate-limited answer asks to wait: `Retry-After` seconds, or
/// until `x-ratelimit-reset` when no requests remain.
fn rate_limit_wait(headers: &HeaderMap) -> Option<Duration> {
    let number = |name: &str| -> Option<u64> {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok())
    };
    if let Some(seconds) = number("retry-after") {
        return Some(Duration::from_secs(seconds));
    }
    if number("x-ratelimit-remaining") == Some(0) {
        let reset = number("x-ratelimit-reset")?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        return Some(Duration::from_secs(reset.saturating_sub(now).max(1)));
    }
    None
}

/// `x-accepted-github-permissions` (e.g. `pull_requests=write;
/// issues=write`) as the `permissions:` entries a workflow writes:
/// `` `pull-requests: write` (or `issues: write`) ``. Sets separated by `;`
/// are alternatives; within a set (`,`), all are needed.
pub fn permission_entry(header: &str) -> Option<String> {
    let sets: Vec<String> = header
        .split(';')
        .map(|set| {
            set.split(',')
                .filter_map(|p| {
                    let (name, level) = p.trim().split_once('=')?;
                    Some(format!(
                        "`{}: {}`",
                        name.trim().replace('_', "-"),
                        level.trim()
                    ))
                })
                .collect::<Vec<_>>()
                .join(" and ")
        })
        .filter(|s| !s.is_empty())
        .collect();
    let (first, rest) = sets.split_first()?;
    if rest.is_empty() {
        Some(first.clone())
    } else {
        Some(format!("{first} (or {})", rest.join(", or ")))
    }
}

fn next_link(headers: &HeaderMap) -> Option<String> {
    let link = headers.get("link")?.to_str().ok()?;
    link.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        let is_next = params
            .split(';')
            .any(|p| p.trim().replace(' ', "") == "rel=\"next\"");
        is_next.then(|| {
            url.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_string()
        })
    })
}

fn origin(url: &str) -> Option<String> {
    let uri: http::Uri = url.parse().ok()?;
    Some(format!("{}://{}", uri.scheme_str()?, uri.authority()?))
}

fn query_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// gzip, then base64: the encoding of `sarif` in "Upload an analysis as
/// SARIF data".
pub fn gzip_base64(data: &[u8]) -> String {
    use base64::Engine as _;
    use std::io::Write as _;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing into a Vec cannot fail.
    let _ = encoder.write_all(data);
    let gz = encoder.finish().unwrap_or_default();
    base64::engine::general_purpose::STANDARD.encode(gz)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_names_are_checked() {
        assert_eq!(
            RepoName::parse("acme/shop.api").unwrap().full_name(),
            "acme/shop.api"
        );
        for bad in [
            "acme",
            "acme/",
            "/shop",
            "acme/shop/extra",
            "acme/..",
            "ac me/shop",
            "acme/shop?x=1",
            "../../x",
        ] {
            assert!(RepoName::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn permission_header_becomes_the_workflow_entry() {
        assert_eq!(
            permission_entry("pull_requests=write").as_deref(),
            Some("`pull-requests: write`")
        );
        assert_eq!(
            permission_entry("pull_requests=write; issues=write").as_deref(),
            Some("`pull-requests: write` (or `issues: write`)")
        );
        assert_eq!(
            permission_entry("contents=read,security_events=write").as_deref(),
            Some("`contents: read` and `security-events: write`")
        );
        assert_eq!(permission_entry(""), None);
    }

    #[test]
    fn next_link_is_found() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "link",
            HeaderValue::from_static(
                "<https://api.github.com/repositories/1/issues/2/comments?page=3>; rel=\"next\", <https://api.github.com/repositories/1/issues/2/comments?page=9>; rel=\"last\"",
            ),
        );
        assert_eq!(
            next_link(&headers).as_deref(),
            Some("https://api.github.com/repositories/1/issues/2/comments?page=3")
        );
        headers.insert("link", HeaderValue::from_static("<x?page=1>; rel=\"prev\""));
        assert_eq!(next_link(&headers), None);
    }

    #[test]
    fn rate_limit_waits() {
        let mut headers = HeaderMap::new();
        assert_eq!(rate_limit_wait(&headers), None);
        headers.insert("retry-after", HeaderValue::from_static("7"));
        assert_eq!(rate_limit_wait(&headers), Some(Duration::from_secs(7)));
        let mut headers = HeaderMap::new();
        headers.insert("x-ratelimit-remaining", HeaderValue::from_static("0"));
        headers.insert("x-ratelimit-reset", HeaderValue::from_static("1"));
        assert_eq!(rate_limit_wait(&headers), Some(Duration::from_secs(1)));
    }

    #[test]
    fn validation_errors_are_spelled_out() {
        let text = r#"{"message":"Validation Failed","errors":[{"resource":"PullRequestReviewComment","code":"custom","message":"line must be part of the diff"}, "Body is too long"]}"#;
        assert_eq!(
            error_message(text),
            "Validation Failed (line must be part of the diff; Body is too long)"
        );
        assert_eq!(error_message(""), "(no message)");
    }

    #[test]
    fn sarif_payload_round_trips() {
        use base64::Engine as _;
        use std::io::Read as _;
        let encoded = gzip_base64(b"{\"version\":\"2.1.0\"}");
        let gz = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .unwrap();
        let mut text = String::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "{\"version\":\"2.1.0\"}");
    }

    #[test]
    fn write_permission_means_write_maintain_or_admin() {
        let p = |permission: &str, role: Option<&str>| Permission {
            permission: permission.into(),
            role_name: role.map(str::to_string),
        };
        assert!(p("admin", Some("admin")).may_write());
        assert!(p("write", Some("maintain")).may_write());
        assert!(p("write", Some("write")).may_write());
        assert!(p("write", Some("release-manager")).may_write());
        assert!(!p("read", Some("triage")).may_write());
        assert!(!p("read", Some("read")).may_write());
        assert!(!p("none", None).may_write());
    }
}
