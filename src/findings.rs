//! The one data model every check produces and every renderer consumes.
//!
//! Rules decide *what* is wrong (code, severity, location, message, help);
//! renderers decide only how it looks. The JSON form of [`Report`] is a
//! public contract (see DESIGN.md): fields are only ever added.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::rules::Code;

/// How serious a finding is. Ordered: `Notice < Warning < Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Shown, never fails anything (e.g. a finding waived by a PR label).
    Notice,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Notice => "notice",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem, located as precisely as the check could.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// A [`Code`]'s string form; a string because a saved report may come
    /// from a newer alembot, and the helper's findings arrive as JSON.
    pub code: String,
    pub severity: Severity,
    /// Repository-relative path with `/` separators.
    pub file: Option<String>,
    /// 1-based line in `file` (on the head side of the change).
    pub line: Option<u32>,
    pub environment: Option<String>,
    pub message: String,
    /// What to do about it; one or two sentences, may contain a command.
    pub help: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// For `drift`: Alembic's kind of difference (`add_column`,
    /// `modify_type`, `add_enum_value`, ...), so reports can be filtered
    /// by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// Longer supporting text shown collapsed: a traceback, the Alembic
    /// operations a migration is missing, the objects a downgrade left.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
}

impl Finding {
    pub fn new(code: Code, severity: Severity, message: impl Into<String>) -> Self {
        Self::with_code_str(code.as_str(), severity, message)
    }

    /// A finding whose code another stage decided: the helper's findings
    /// arrive with their code as a string (`rules::tests` checks the helper
    /// emits declared codes only).
    pub fn with_code_str(code: &str, severity: Severity, message: impl Into<String>) -> Self {
        Finding {
            code: code.to_string(),
            severity,
            file: None,
            line: None,
            environment: None,
            message: message.into(),
            help: None,
            table: None,
            column: None,
            revision: None,
            operation: None,
            details: None,
        }
    }

    pub fn error(code: Code, message: impl Into<String>) -> Self {
        Self::new(code, Severity::Error, message)
    }

    pub fn warning(code: Code, message: impl Into<String>) -> Self {
        Self::new(code, Severity::Warning, message)
    }

    /// Whether this finding has `code`.
    pub fn is(&self, code: Code) -> bool {
        self.code == code.as_str()
    }

    pub fn at(mut self, file: impl Into<String>, line: Option<u32>) -> Self {
        self.file = Some(file.into());
        self.line = line;
        self
    }

    pub fn in_env(mut self, environment: impl Into<String>) -> Self {
        self.environment = Some(environment.into());
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_table(mut self, table: impl Into<String>) -> Self {
        self.table = Some(table.into());
        self
    }

    pub fn with_column(mut self, column: impl Into<String>) -> Self {
        self.column = Some(column.into());
        self
    }

    pub fn with_revision(mut self, revision: impl Into<String>) -> Self {
        self.revision = Some(revision.into());
        self
    }

    pub fn with_details(mut self, details: impl Into<String>) -> Self {
        self.details = Some(details.into());
        self
    }

    /// `file:line` or `file` or nothing, for one-line renderings.
    pub fn location(&self) -> Option<String> {
        match (&self.file, self.line) {
            (Some(f), Some(l)) => Some(format!("{f}:{l}")),
            (Some(f), None) => Some(f.clone()),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Summary {
    pub errors: usize,
    pub warnings: usize,
    /// Which check families ran, e.g. `static`, `upgrade`, `drift`.
    pub checks: Vec<String>,
}

/// Everything one run found, plus the notes a reader needs to trust it
/// (what was skipped and why).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub version: u32,
    pub findings: Vec<Finding>,
    pub summary: Summary,
    /// Plain sentences: "The database checks were skipped: ...".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Where the report came from, so `alembot github publish` can post a
    /// saved report without reading any repository code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pull_request: Option<PullRequestRef>,
}

/// The pull request a report belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PullRequestRef {
    pub repository: String,
    pub number: u64,
    pub head_sha: String,
    #[serde(default)]
    pub head_ref: Option<String>,
    #[serde(default)]
    pub base_sha: Option<String>,
    /// Head-side line numbers that are part of the diff, per file: only there
    /// may GitHub take an inline review comment.
    #[serde(default)]
    pub diff_lines: std::collections::BTreeMap<String, Vec<LineRange>>,
    /// The `/alembot recheck` comment this report answers: the publisher
    /// reacts on it when the report is posted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command_comment: Option<u64>,
    /// Where file-less findings are anchored in SARIF, per environment (see
    /// `RenderOptions::environment_files`), so a saved report uploads the
    /// same SARIF without reading the repository again.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub environment_files: std::collections::BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback_file: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineRange {
    pub start: u32,
    pub end: u32,
}

pub const REPORT_VERSION: u32 = 1;

impl Report {
    pub fn new(mut findings: Vec<Finding>, checks: &[&str], notes: Vec<String>) -> Self {
        sort_findings(&mut findings);
        let mut report = Report {
            version: REPORT_VERSION,
            findings,
            summary: Summary::default(),
            notes,
            pull_request: None,
        };
        report.summary.checks = checks.iter().map(|c| c.to_string()).collect();
        report.recount();
        report
    }

    /// Recomputes the counts after findings were added, removed or re-graded.
    pub fn recount(&mut self) {
        self.summary.errors = self.count(Severity::Error);
        self.summary.warnings = self.count(Severity::Warning);
    }

    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }

    pub fn add_check(&mut self, check: &str) {
        if !self.summary.checks.iter().any(|c| c == check) {
            self.summary.checks.push(check.to_string());
        }
    }

    pub fn merge(&mut self, other: Report) {
        for check in &other.summary.checks {
            self.add_check(check);
        }
        self.findings.extend(other.findings);
        self.notes.extend(other.notes);
        sort_findings(&mut self.findings);
        dedup_findings(&mut self.findings);
        self.recount();
    }

    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }

    /// The highest severity present, if any.
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }

    /// `passed`, `warnings` or `failed`: the one-word verdict used by the
    /// Action's outputs and the Markdown headline.
    pub fn verdict(&self) -> Verdict {
        match self.worst() {
            Some(Severity::Error) => Verdict::Failed,
            Some(Severity::Warning) => Verdict::Warnings,
            _ => Verdict::Passed,
        }
    }

    /// The environments named by findings, in order of first appearance.
    pub fn environments(&self) -> Vec<&str> {
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for f in &self.findings {
            if let Some(env) = f.environment.as_deref()
                && seen.insert(env)
            {
                out.push(env);
            }
        }
        out
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Passed,
    Warnings,
    Failed,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Passed => "passed",
            Verdict::Warnings => "warnings",
            Verdict::Failed => "failed",
        }
    }
}

/// Errors first, then by file and line, so every renderer lists the same order.
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.file.is_none().cmp(&b.file.is_none()))
            .then_with(|| a.file.cmp(&b.file))
            .then_with(|| a.line.cmp(&b.line))
            .then_with(|| a.code.cmp(&b.code))
            .then_with(|| a.message.cmp(&b.message))
    });
}

fn dedup_findings(findings: &mut Vec<Finding>) {
    findings.dedup_by(|a, b| {
        a.code == b.code
            && a.file == b.file
            && a.line == b.line
            && a.message == b.message
            && a.environment == b.environment
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_verdict_follow_severities() {
        let report = Report::new(
            vec![
                Finding::warning(Code::EditedMigration, "w"),
                Finding::error(Code::MissingMigration, "e").at("a.py", Some(3)),
            ],
            &["static"],
            vec![],
        );
        assert_eq!(report.summary.errors, 1);
        assert_eq!(report.summary.warnings, 1);
        assert_eq!(report.verdict(), Verdict::Failed);
        assert!(report.findings[0].is(Code::MissingMigration));
    }

    #[test]
    fn notices_do_not_fail() {
        let report = Report::new(
            vec![Finding::new(Code::MissingMigration, Severity::Notice, "n")],
            &["static"],
            vec![],
        );
        assert_eq!(report.verdict(), Verdict::Passed);
        assert_eq!(report.summary.errors, 0);
    }

    #[test]
    fn json_keeps_contract_keys_even_when_empty() {
        let report = Report::new(
            vec![Finding::error(Code::MultipleHeads, "two heads")],
            &["static"],
            vec![],
        );
        let json = serde_json::to_value(&report).unwrap();
        let f = &json["findings"][0];
        for key in [
            "code",
            "severity",
            "file",
            "line",
            "environment",
            "message",
            "help",
        ] {
            assert!(f.get(key).is_some(), "missing {key}");
        }
        assert!(f.get("table").is_none());
        assert_eq!(json["version"], 1);
    }
}
