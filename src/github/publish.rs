//! Posting a report on its pull request: the one sticky report (a review,
//! or an issue comment), inline comments on diff lines, the `alembot` check
//! run and, optionally, the SARIF upload.
//!
//! Each part is tried even when another failed (a token may lack
//! `checks: write` but have `pull-requests: write`); the failures are
//! collected for the caller, which still reports the verdict.

use crate::config::CommentMode;
use crate::findings::{PullRequestRef, Report};
use crate::report::RenderOptions;
use crate::report::sarif;

use super::body::{
    Inline, REPORT_MARKER, check_run_requests, inline_comments, inline_key, inline_marker,
    is_report, report_body, review_comment_request, review_request,
};
use super::client::{Github, GithubError, RepoName};

/// How to publish, resolved from the configuration and the command line.
#[derive(Debug, Clone)]
pub struct PublishOptions {
    pub comment: CommentMode,
    /// Inline review comments on diff lines (review mode only).
    pub inline: bool,
    pub check_run: bool,
    pub upload_sarif: bool,
    /// Whether the verdict fails the build: the check run's conclusion.
    pub fails: bool,
    /// Unique per run: the check run's `external_id`, by which a create
    /// whose answer was lost is found again.
    pub run_id: String,
}

/// What publishing did.
#[derive(Debug, Default)]
pub struct Published {
    /// The report comment or review, and whether it was created or edited.
    pub report_url: Option<String>,
    pub report_created: bool,
    /// An existing report already said exactly this, so it was not edited.
    pub report_unchanged: bool,
    pub report_cut: bool,
    pub inline: InlineStats,
    pub check_run_url: Option<String>,
    pub check_run_id: Option<u64>,
    pub sarif_id: Option<String>,
    /// Things worth telling the reader that are not failures.
    pub notes: Vec<String>,
    pub errors: Vec<GithubError>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct InlineStats {
    pub created: usize,
    pub updated: usize,
    pub kept: usize,
    pub deleted: usize,
}

impl Published {
    /// One line per thing done, for the log and the step summary.
    pub fn status_lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        if let Some(url) = &self.report_url {
            let verb = if self.report_created {
                "Posted the report"
            } else if self.report_unchanged {
                "The report is up to date"
            } else {
                "Updated the report"
            };
            lines.push(format!("{verb}: {url}"));
        }
        if self.report_cut {
            lines.push(
                "The report was too long for one comment; the comment is cut and the full report is here."
                    .into(),
            );
        }
        let i = self.inline;
        if i.created + i.updated + i.deleted > 0 {
            lines.push(format!(
                "Inline comments: {} new, {} edited, {} unchanged, {} removed.",
                i.created, i.updated, i.kept, i.deleted
            ));
        }
        if let Some(url) = &self.check_run_url {
            lines.push(format!("Check run: {url}"));
        }
        if let Some(id) = &self.sarif_id {
            lines.push(format!("SARIF uploaded to code scanning (id {id})."));
        }
        lines.extend(self.notes.iter().cloned());
        lines.extend(
            self.errors
                .iter()
                .map(|e| format!("Publishing failed: {e}")),
        );
        lines
    }
}

/// Publishes `report` (which must carry its `pull_request`) on GitHub.
pub async fn publish(
    gh: &Github,
    report: &Report,
    opts: &RenderOptions,
    options: &PublishOptions,
) -> Published {
    let mut out = Published::default();
    let Some(pr) = &report.pull_request else {
        out.notes
            .push("The report names no pull request, so nothing was posted.".into());
        return out;
    };
    let repo = match RepoName::parse(&pr.repository) {
        Ok(repo) => repo,
        Err(e) => {
            out.errors.push(e);
            return out;
        }
    };

    if options.comment != CommentMode::None {
        let (body, cut) = report_body(report, opts);
        out.report_cut = cut;
        let result = match options.comment {
            CommentMode::Review => {
                let inline = if options.inline {
                    inline_comments(report)
                } else {
                    Vec::new()
                };
                sticky_review(gh, &repo, pr, &body, inline, &mut out).await
            }
            _ => sticky_comment(gh, &repo, pr, &body, &mut out).await,
        };
        if let Err(e) = result {
            out.errors.push(e);
        }
    }

    if options.check_run
        && let Err(e) = check_run(gh, &repo, pr, report, opts, options, &mut out).await
    {
        out.errors.push(e);
    }

    if options.upload_sarif {
        let mut sarif_opts = opts.clone();
        sarif_opts
            .environment_files
            .extend(pr.environment_files.clone());
        if sarif_opts.fallback_file.is_none() {
            sarif_opts.fallback_file = pr.fallback_file.clone();
        }
        let log = sarif::render(report, &sarif_opts);
        let git_ref = format!("refs/pull/{}/head", pr.number);
        match gh.upload_sarif(&repo, &pr.head_sha, &git_ref, &log).await {
            Ok(receipt) => out.sarif_id = receipt.id.or(Some("?".into())),
            Err(e) => out.errors.push(e),
        }
    }
    out
}

/// The report as the body of one `COMMENT` review, created once and edited
/// on every later run, with its inline comments brought up to date.
async fn sticky_review(
    gh: &Github,
    repo: &RepoName,
    pr: &PullRequestRef,
    body: &str,
    inline: Vec<Inline>,
    out: &mut Published,
) -> Result<(), GithubError> {
    let reviews = gh.reviews(repo, pr.number).await?;
    let existing = reviews
        .into_iter()
        .find(|r| r.body.as_deref().is_some_and(is_report));
    if let Some(review) = existing {
        if review.body.as_deref() == Some(body) {
            out.report_unchanged = true;
            out.report_url = review.html_url;
        } else {
            let updated = gh.update_review(repo, pr.number, review.id, body).await?;
            out.report_url = updated.html_url.or(review.html_url);
        }
        return reconcile_inline(gh, repo, pr, inline, out).await;
    }

    let request = review_request(&pr.head_sha, body, &inline);
    let review = match gh
        .create_review(repo, pr.number, &request, REPORT_MARKER)
        .await
    {
        Ok(review) => {
            out.inline.created = inline.len();
            review
        }
        // GitHub's idea of the diff can differ from ours (a force-push
        // between checkout and posting): the report matters more than
        // where its findings are shown.
        Err(GithubError::Rejected {
            status: 422,
            message,
            ..
        }) if !inline.is_empty() => {
            out.notes.push(format!(
                "GitHub refused the inline comments ({message}); the findings are in the report."
            ));
            let request = review_request(&pr.head_sha, body, &[]);
            gh.create_review(repo, pr.number, &request, REPORT_MARKER)
                .await?
        }
        Err(e) => return Err(e),
    };
    out.report_created = true;
    out.report_url = review.html_url;
    Ok(())
}

/// Makes alembot's inline comments match `wanted`: an unchanged one is
/// left alone, a changed text is edited, one whose finding is gone or whose
/// line moved (GitHub cannot move a comment) is deleted, and a new one is
/// added as a single review comment.
async fn reconcile_inline(
    gh: &Github,
    repo: &RepoName,
    pr: &PullRequestRef,
    wanted: Vec<Inline>,
    out: &mut Published,
) -> Result<(), GithubError> {
    let existing = gh.review_comments(repo, pr.number).await?;
    let mut pending: Vec<Option<Inline>> = wanted.into_iter().map(Some).collect();
    for comment in existing {
        let Some(key) = comment.body.as_deref().and_then(inline_key) else {
            continue;
        };
        let matching = pending.iter_mut().find(|slot| {
            slot.as_ref().is_some_and(|i| {
                i.key == key && i.path == comment.path && comment.line == Some(i.line)
            })
        });
        match matching.and_then(Option::take) {
            Some(wanted) => {
                if comment.body.as_deref() == Some(wanted.body.as_str()) {
                    out.inline.kept += 1;
                } else {
                    gh.update_review_comment(repo, comment.id, &wanted.body)
                        .await?;
                    out.inline.updated += 1;
                }
            }
            None => {
                gh.delete_review_comment(repo, comment.id).await?;
                out.inline.deleted += 1;
            }
        }
    }
    for inline in pending.into_iter().flatten() {
        let request = review_comment_request(&pr.head_sha, &inline);
        match gh
            .create_review_comment(repo, pr.number, &request, &inline_marker(&inline.key))
            .await
        {
            Ok(_) => out.inline.created += 1,
            Err(GithubError::Rejected {
                status: 422,
                message,
                ..
            }) => out.notes.push(format!(
                "GitHub refused the inline comment on {}:{} ({message}); it is in the report.",
                inline.path, inline.line
            )),
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// The report as one issue comment (`comment: comment`), created once and
/// edited on every later run.
async fn sticky_comment(
    gh: &Github,
    repo: &RepoName,
    pr: &PullRequestRef,
    body: &str,
    out: &mut Published,
) -> Result<(), GithubError> {
    let comments = gh.issue_comments(repo, pr.number).await?;
    let existing = comments
        .into_iter()
        .find(|c| c.body.as_deref().is_some_and(is_report));
    match existing {
        Some(comment) if comment.body.as_deref() == Some(body) => {
            out.report_unchanged = true;
            out.report_url = comment.html_url;
        }
        Some(comment) => {
            let updated = gh.update_issue_comment(repo, comment.id, body).await?;
            out.report_url = updated.html_url.or(comment.html_url);
        }
        None => {
            let created = gh
                .create_issue_comment(repo, pr.number, body, REPORT_MARKER)
                .await?;
            out.report_created = true;
            out.report_url = created.html_url;
        }
    }
    Ok(())
}

async fn check_run(
    gh: &Github,
    repo: &RepoName,
    pr: &PullRequestRef,
    report: &Report,
    opts: &RenderOptions,
    options: &PublishOptions,
    out: &mut Published,
) -> Result<(), GithubError> {
    let (create, updates) =
        check_run_requests(report, opts, &pr.head_sha, &options.run_id, options.fails);
    let run = gh.create_check_run(repo, &create).await?;
    out.check_run_id = Some(run.id);
    out.check_run_url = run.html_url.clone();
    let mut sent = create["output"]["annotations"]
        .as_array()
        .map_or(0, Vec::len);
    for update in updates {
        sent += update["output"]["annotations"]
            .as_array()
            .map_or(0, Vec::len);
        gh.update_check_run(repo, run.id, &update, Some(sent))
            .await?;
    }
    Ok(())
}
