//! What alembot writes on GitHub, as text and request bodies: the sticky
//! report, inline comments, the check run, replies to commands.
//!
//! Pure code. Request bodies are built here as JSON values with no `null`
//! anywhere: GitHub's schemas reject `"line": null` and `"side": null`
//! rather than reading them as absent.

use serde_json::{Map, Value, json};

use crate::findings::{Finding, Report, Severity};
use crate::report::markdown::{code_span, fenced, inline, verdict_line};
use crate::report::sarif::fingerprint;
use crate::report::{GITHUB_COMMENT_LIMIT, RenderOptions, render_markdown_limited, summary_line};
use crate::rules::Code;

use super::command::{Command, Invocation};

/// Starts the body of the one report comment or review per pull request;
/// later runs find it by this and edit it.
pub const REPORT_MARKER: &str = "<!-- alembot:report -->";
/// Every hidden marker alembot writes starts so; a comment carrying one is
/// alembot's own and never read for commands.
pub const MARKER_START: &str = "<!-- alembot:";
/// The check run's name.
pub const CHECK_NAME: &str = "alembot";
/// GitHub takes at most 50 annotations per check-run request ("Create a
/// check run", `output.annotations`); more go in updates.
pub const ANNOTATIONS_PER_REQUEST: usize = 50;
/// Annotations per run in all; past this the summary still lists everything.
pub const MAX_ANNOTATIONS: usize = 500;
/// A check run's `output.summary` and `output.text` take 65,535 characters.
pub const CHECK_SUMMARY_LIMIT: usize = 65_535;
/// Inline comments per run: past this, findings stay in the report body
/// only, so a large change does not bury the conversation.
pub const MAX_INLINE: usize = 30;
/// Annotation `message` and `raw_details` take 64 KB; `title` 255 chars.
const ANNOTATION_TEXT_LIMIT: usize = 60_000;
const ANNOTATION_TITLE_LIMIT: usize = 255;

/// Whether a comment is one alembot wrote.
pub fn is_alembot_text(body: &str) -> bool {
    body.contains(MARKER_START)
}

/// Whether `body` is the sticky report (the marker at its very start).
pub fn is_report(body: &str) -> bool {
    body.trim_start().starts_with(REPORT_MARKER)
}

/// The report comment or review body: the marker, the report cut to fit
/// GitHub's comment limit, and a footer naming the commit checked. The
/// flag says whether the report was cut.
pub fn report_body(report: &Report, opts: &RenderOptions) -> (String, bool) {
    let footer = match &report.pull_request {
        Some(pr) => format!(
            "\n<sub>alembot {} checked {}</sub>\n",
            opts.tool_version,
            short_sha(&pr.head_sha)
        ),
        None => String::new(),
    };
    let reserved = REPORT_MARKER.chars().count() + 1 + footer.chars().count();
    let (markdown, cut) =
        render_markdown_limited(report, opts, GITHUB_COMMENT_LIMIT.saturating_sub(reserved));
    (format!("{REPORT_MARKER}\n{markdown}{footer}"), cut)
}

fn short_sha(sha: &str) -> String {
    let short: String = sha.chars().take(7).collect();
    code_span(&short, false)
}

/// One inline review comment to have on the pull request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inline {
    /// Identifies the finding across runs (in the comment's marker).
    pub key: String,
    pub path: String,
    pub line: u32,
    pub body: String,
}

pub fn inline_marker(key: &str) -> String {
    format!("<!-- alembot:inline {key} -->")
}

/// The key in an inline comment's marker, if it is one of alembot's.
pub fn inline_key(body: &str) -> Option<&str> {
    body.trim_start()
        .strip_prefix("<!-- alembot:inline ")?
        .split_once(" -->")
        .map(|(key, _)| key)
}

/// The inline comments a report calls for: one per finding whose line is
/// part of the pull request's diff (GitHub answers 422 to a comment on any
/// other line), at most [`MAX_INLINE`]. The rest stay in the report body,
/// which lists every finding anyway.
pub fn inline_comments(report: &Report) -> Vec<Inline> {
    let report = &*crate::redact::redact_report(report);
    let Some(pr) = &report.pull_request else {
        return Vec::new();
    };
    let mut out: Vec<Inline> = Vec::new();
    for finding in &report.findings {
        let (Some(path), Some(line)) = (&finding.file, finding.line) else {
            continue;
        };
        let in_diff = pr
            .diff_lines
            .get(path)
            .is_some_and(|ranges| ranges.iter().any(|r| r.start <= line && line <= r.end));
        if line == 0 || !in_diff {
            continue;
        }
        let key = format!("{:016x}-{line}", fingerprint(finding));
        if out.iter().any(|i| i.key == key) {
            continue;
        }
        out.push(Inline {
            body: inline_body(&key, finding),
            key,
            path: path.clone(),
            line,
        });
        if out.len() == MAX_INLINE {
            break;
        }
    }
    out
}

fn inline_body(key: &str, f: &Finding) -> String {
    let mut body = format!(
        "{}\n{} **{}** {}: {}\n",
        inline_marker(key),
        severity_icon(f.severity),
        f.severity,
        code_span(&f.code, false),
        inline(&f.message, false)
    );
    if let Some(help) = &f.help {
        body.push_str(&format!("\n**Help:** {}\n", inline(help, false)));
    }
    if let Some(details) = &f.details {
        body.push_str(&format!(
            "\n<details>\n<summary>Details</summary>\n\n{}\n</details>\n",
            fenced(details)
        ));
    }
    body
}

fn severity_icon(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "❌",
        Severity::Warning => "⚠️",
        Severity::Notice => "ℹ️",
    }
}

/// `POST .../pulls/{n}/reviews`: a `COMMENT` review on `head_sha` with the
/// report as its body and the inline comments on diff lines (`line` and
/// `side`, never the deprecated `position`).
pub fn review_request(head_sha: &str, body: &str, inline: &[Inline]) -> Value {
    let mut request = Map::new();
    request.insert("commit_id".into(), json!(head_sha));
    request.insert("body".into(), json!(body));
    request.insert("event".into(), json!("COMMENT"));
    if !inline.is_empty() {
        let comments: Vec<Value> = inline
            .iter()
            .map(|i| json!({"path": i.path, "line": i.line, "side": "RIGHT", "body": i.body}))
            .collect();
        request.insert("comments".into(), Value::Array(comments));
    }
    Value::Object(request)
}

/// `POST .../pulls/{n}/comments`: one inline comment added to a pull
/// request whose report review already exists.
pub fn review_comment_request(head_sha: &str, inline: &Inline) -> Value {
    json!({
        "body": inline.body,
        "commit_id": head_sha,
        "path": inline.path,
        "line": inline.line,
        "side": "RIGHT",
    })
}

/// The check run's title: the counts in words.
pub fn check_title(report: &Report) -> String {
    let line = summary_line(report);
    // The title is one short line; drop the checks list it does not need.
    match line.split_once(" (checks:") {
        Some((counts, _)) => counts.trim_end_matches('.').to_string(),
        None => line,
    }
}

/// The check run's summary: the report in Markdown, cut to fit.
pub fn check_summary(report: &Report, opts: &RenderOptions) -> String {
    render_markdown_limited(report, opts, CHECK_SUMMARY_LIMIT).0
}

/// One annotation per finding with a file (file-level findings point at
/// line 1), in GitHub's check-run shape.
pub fn annotations(report: &Report) -> Vec<Value> {
    let report = &*crate::redact::redact_report(report);
    report
        .findings
        .iter()
        .filter_map(|f| {
            let path = f.file.as_ref()?;
            let line = f.line.filter(|&l| l >= 1).unwrap_or(1);
            let level = match f.severity {
                Severity::Error => "failure",
                Severity::Warning => "warning",
                Severity::Notice => "notice",
            };
            let mut message = f.message.clone();
            if let Some(help) = &f.help {
                message.push_str("\n\n");
                message.push_str(help);
            }
            let title = match &f.environment {
                Some(env) => format!("{} ({env})", f.code),
                None => f.code.clone(),
            };
            let mut annotation = Map::new();
            annotation.insert("path".into(), json!(path));
            annotation.insert("start_line".into(), json!(line));
            annotation.insert("end_line".into(), json!(line));
            annotation.insert("annotation_level".into(), json!(level));
            annotation.insert(
                "message".into(),
                json!(truncate(&message, ANNOTATION_TEXT_LIMIT)),
            );
            annotation.insert(
                "title".into(),
                json!(truncate(&title, ANNOTATION_TITLE_LIMIT)),
            );
            if let Some(details) = &f.details {
                annotation.insert(
                    "raw_details".into(),
                    json!(truncate(details, ANNOTATION_TEXT_LIMIT)),
                );
            }
            Some(Value::Object(annotation))
        })
        .take(MAX_ANNOTATIONS)
        .collect()
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// The requests that publish a check run: the create, with the first 50
/// annotations, and one update per further 50 (each update appends).
pub fn check_run_requests(
    report: &Report,
    opts: &RenderOptions,
    head_sha: &str,
    external_id: &str,
    fails: bool,
) -> (Value, Vec<Value>) {
    let title = check_title(report);
    let summary = check_summary(report, opts);
    let annotations = annotations(report);
    let mut batches = annotations.chunks(ANNOTATIONS_PER_REQUEST);
    let output = |batch: Option<&[Value]>| {
        let mut output = Map::new();
        output.insert("title".into(), json!(title));
        output.insert("summary".into(), json!(summary));
        if let Some(batch) = batch {
            output.insert("annotations".into(), Value::Array(batch.to_vec()));
        }
        Value::Object(output)
    };
    let create = json!({
        "name": CHECK_NAME,
        "head_sha": head_sha,
        "external_id": external_id,
        "status": "completed",
        "conclusion": if fails { "failure" } else { "success" },
        "output": output(batches.next()),
    });
    let updates = batches
        .map(|batch| json!({ "output": output(Some(batch)) }))
        .collect();
    (create, updates)
}

/// The marker of a reply to the command comment `comment_id`: a rerun of
/// the same workflow finds its reply and does not post another.
pub fn reply_marker(comment_id: u64) -> String {
    format!("<!-- alembot:reply {comment_id} -->")
}

/// The polite answer to someone who may not run commands.
pub fn unauthorized_reply(login: &str, prefix: &str, comment_id: u64) -> String {
    format!(
        "{}\n@{login}, thanks for asking. Only people with write, maintain or admin access to this repository can run {} commands, so alembot did not run this one. A maintainer can run {} for you.\n",
        reply_marker(comment_id),
        // The prefix is configuration: shown exactly, in a code span that
        // no backtick in it can close (a raw one once made a live mention).
        code_span(prefix, false),
        code_span(&format!("{prefix} {}", Command::Recheck.name()), false)
    )
}

/// The answer to `help`, or to commands alembot did not understand.
pub fn help_reply(prefix: &str, errors: &[Invocation], comment_id: u64) -> String {
    let mut body = reply_marker(comment_id);
    body.push('\n');
    if !errors.is_empty() {
        body.push_str("alembot did not understand:\n\n");
        for e in errors {
            body.push_str(&format!(
                "- {}: {}\n",
                code_span(&e.text, false),
                inline(&e.to_string(), false)
            ));
        }
        body.push('\n');
    }
    body.push_str("Commands (write access needed), each at the start of a line:\n\n");
    for command in Command::ALL {
        body.push_str(&format!(
            "- {}: {}\n",
            code_span(&format!("{prefix} {}", command.name()), false),
            command.description()
        ));
    }
    body
}

/// Turns `missing-migration` findings into notices because the pull
/// request carries `label`; returns how many there were.
pub fn waive_missing_migrations(report: &mut Report, label: &str) -> usize {
    let mut waived = 0;
    for f in &mut report.findings {
        if f.is(Code::MissingMigration) && f.severity > Severity::Notice {
            f.severity = Severity::Notice;
            waived += 1;
        }
    }
    if waived > 0 {
        report.notes.push(format!(
            "The pull request has the `{label}` label, so missing migrations are shown as notices and do not fail the check."
        ));
        crate::findings::sort_findings(&mut report.findings);
        report.recount();
    }
    waived
}

/// The step summary: the whole report (the comment may be cut), then what
/// happened to it on GitHub.
pub fn step_summary(report: &Report, opts: &RenderOptions, status: &[String]) -> String {
    // The step summary takes 1 MiB; keep well inside it.
    let (mut text, _) = render_markdown_limited(report, opts, 1_000_000);
    if text.is_empty() {
        text = verdict_line(report);
    }
    if !status.is_empty() {
        text.push('\n');
        for line in status {
            text.push_str(&format!("> {line}\n"));
        }
    }
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::findings::{LineRange, PullRequestRef};

    /// Issue 13, item 6: a prefix with a backtick closed the code span and
    /// turned `@org/team` into a live mention.
    #[test]
    fn a_hostile_prefix_stays_inside_code_spans() {
        use pulldown_cmark::{Event, Parser};
        let prefix = "/x`@org/team";
        for body in [
            unauthorized_reply("someone", prefix, 7),
            help_reply(prefix, &[], 7),
        ] {
            let outside_code: String = Parser::new(&body)
                .filter_map(|e| match e {
                    Event::Text(t) => Some(t.to_string()),
                    _ => None,
                })
                .collect();
            assert!(!outside_code.contains("@org"), "{body}");
            assert!(body.contains("@org/team"), "{body}");
        }
    }

    fn report() -> Report {
        let mut report = Report::new(
            vec![
                Finding::error(Code::MissingMigration, "`User.email` changed")
                    .at("app/models.py", Some(12))
                    .with_help("run `alembic revision --autogenerate`"),
                Finding::warning(Code::DestructiveOperation, "drops a column")
                    .at("migrations/versions/1.py", Some(40)),
                Finding::error(Code::MultipleHeads, "two heads"),
            ],
            &["static"],
            vec![],
        );
        report.pull_request = Some(PullRequestRef {
            repository: "acme/shop".into(),
            number: 2,
            head_sha: "0123456789abcdef0123456789abcdef01234567".into(),
            diff_lines: BTreeMap::from([
                (
                    "app/models.py".into(),
                    vec![LineRange { start: 9, end: 15 }],
                ),
                (
                    "migrations/versions/1.py".into(),
                    vec![LineRange { start: 1, end: 10 }],
                ),
            ]),
            ..PullRequestRef::default()
        });
        report
    }

    #[test]
    fn report_body_starts_with_the_marker_and_fits() {
        let (body, cut) = report_body(&report(), &RenderOptions::default());
        assert!(
            body.starts_with("<!-- alembot:report -->\n### ❌ alembot"),
            "{body}"
        );
        assert!(body.contains("checked `0123456`"));
        assert!(!cut);
        assert!(is_report(&body) && is_alembot_text(&body));

        let mut big = report();
        big.findings = (0..3000)
            .map(|i| Finding::error(Code::Drift, format!("column {i} {}", "x".repeat(40))))
            .collect();
        big.recount();
        let (body, cut) = report_body(&big, &RenderOptions::default());
        assert!(cut);
        assert!(body.chars().count() <= GITHUB_COMMENT_LIMIT);
        assert!(body.starts_with(REPORT_MARKER));
        assert!(body.contains("the full report is in the job summary"));
    }

    #[test]
    fn only_findings_on_diff_lines_go_inline() {
        let inline = inline_comments(&report());
        assert_eq!(inline.len(), 1, "{inline:?}");
        assert_eq!(inline[0].path, "app/models.py");
        assert_eq!(inline[0].line, 12);
        assert_eq!(inline_key(&inline[0].body), Some(inline[0].key.as_str()));
        assert!(inline[0].body.contains("**Help:**"));
    }

    #[test]
    fn review_request_has_no_nulls() {
        let r = report();
        let inline = inline_comments(&r);
        let request = review_request("abc", "body", &inline);
        assert!(!request.to_string().contains("null"));
        assert_eq!(request["comments"][0]["side"], "RIGHT");
        assert_eq!(request["comments"][0]["line"], 12);
        assert!(request["comments"][0].get("position").is_none());
        let without = review_request("abc", "body", &[]);
        assert!(without.get("comments").is_none());
    }

    #[test]
    fn annotations_are_batched_by_fifty() {
        let mut r = report();
        r.findings = (1..=120)
            .map(|i| Finding::warning(Code::Drift, format!("w{i}")).at("a.py", Some(i)))
            .collect();
        r.recount();
        let (create, updates) =
            check_run_requests(&r, &RenderOptions::default(), "abc", "run-1", false);
        assert_eq!(
            create["output"]["annotations"].as_array().unwrap().len(),
            50
        );
        assert_eq!(updates.len(), 2);
        assert_eq!(
            updates[1]["output"]["annotations"]
                .as_array()
                .unwrap()
                .len(),
            20
        );
        assert_eq!(create["conclusion"], "success");
        assert_eq!(create["output"]["title"], "120 warnings");
        assert!(updates[0]["output"]["summary"].is_string());
    }

    #[test]
    fn skip_label_turns_missing_migrations_into_notices() {
        let mut r = report();
        assert_eq!(waive_missing_migrations(&mut r, "no-migration-needed"), 1);
        assert_eq!(r.summary.errors, 1);
        assert!(r.notes[0].contains("`no-migration-needed`"));
        assert_eq!(r.findings.last().unwrap().severity, Severity::Notice);
    }

    #[test]
    fn replies_carry_their_marker() {
        let body = unauthorized_reply("mallory", "/alembot", 77);
        assert!(body.starts_with("<!-- alembot:reply 77 -->"));
        assert!(body.contains("write, maintain or admin"));
        let errors = super::super::command::parse("/alembot nope", "/alembot");
        let help = help_reply("/alembot", &errors, 78);
        assert!(help.contains("`/alembot recheck`"));
        assert!(help.contains("unknown command"));
    }
}
