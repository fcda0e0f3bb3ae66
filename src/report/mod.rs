//! Renders a [`Report`] for people and machines: the terminal, JSON, the
//! pull-request comment (Markdown), SARIF for code scanning and GitHub
//! Actions workflow commands.
//!
//! Pure code: every renderer takes the report and [`RenderOptions`] and
//! returns a `String`. Renderers never decide policy (what is an error, what
//! fails the build); they only decide how a finding looks.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use crate::findings::{Report, Severity};

pub mod github;
pub mod human;
pub mod json;
pub mod markdown;
pub mod sarif;

#[cfg(test)]
mod tests;

pub use markdown::{GITHUB_COMMENT_LIMIT, render_markdown_limited};

/// An output format of `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Format {
    /// Diagnostics for a terminal, in the style of rustc and ruff.
    Human,
    /// The stable JSON contract (see README.md).
    Json,
    /// The pull-request comment.
    Markdown,
    /// SARIF 2.1.0 for GitHub code scanning.
    Sarif,
    /// GitHub Actions workflow commands (`::error file=...::`).
    Github,
}

impl Format {
    pub const ALL: [Format; 5] = [
        Format::Human,
        Format::Json,
        Format::Markdown,
        Format::Sarif,
        Format::Github,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Human => "human",
            Format::Json => "json",
            Format::Markdown => "markdown",
            Format::Sarif => "sarif",
            Format::Github => "github",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown format `{given}`; expected one of: human, json, markdown, sarif, github")]
pub struct UnknownFormat {
    pub given: String,
}

impl FromStr for Format {
    type Err = UnknownFormat;

    /// Case-insensitive, so `--format JSON` and `ALEMBOT_FORMAT=Json` work too.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        Format::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| UnknownFormat {
                given: s.to_string(),
            })
    }
}

/// How to render; the caller resolves these once (from the terminal, the
/// environment and the configuration) so renderers stay pure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderOptions {
    /// ANSI colour in the human format. The caller decides from
    /// `is_terminal` and `NO_COLOR`; no other format ever colours.
    pub color: bool,
    /// alembot's version, for SARIF's `tool.driver.semanticVersion`.
    pub tool_version: String,
    /// Repository-relative file to anchor each environment's findings that
    /// have no file of their own (usually its `alembic.ini`), keyed by
    /// environment name. Used by SARIF, where GitHub rejects a result
    /// without a location.
    pub environment_files: BTreeMap<String, String>,
    /// Anchor for file-less findings of no listed environment (usually
    /// `.alembot.yml` or the only `alembic.ini`).
    pub fallback_file: Option<String>,
    /// Absolute `file://` URI of the repository root, ending in `/`. When
    /// set, SARIF declares it as `%SRCROOT%` in `originalUriBaseIds`, which
    /// makes the relative URIs resolvable outside GitHub too.
    pub source_root_uri: Option<String>,
}

impl RenderOptions {
    pub fn new(tool_version: impl Into<String>) -> Self {
        RenderOptions {
            color: false,
            tool_version: tool_version.into(),
            environment_files: BTreeMap::new(),
            fallback_file: None,
            source_root_uri: None,
        }
    }

    pub fn with_color(mut self, color: bool) -> Self {
        self.color = color;
        self
    }
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions::new(env!("CARGO_PKG_VERSION"))
    }
}

/// Renders `report` in `format`. Every format ends with a newline.
pub fn render(report: &Report, format: Format, opts: &RenderOptions) -> String {
    let report = &*crate::redact::redact_report(report);
    match format {
        Format::Human => human::render(report, opts),
        Format::Json => json::render(report),
        Format::Markdown => markdown::render(report, opts),
        Format::Sarif => sarif::render(report, opts),
        Format::Github => github::render(report),
    }
}

/// The counts in words, e.g. `2 errors, 1 warning`; `None` when there are no
/// findings at all.
///
/// Errors and warnings come from `report.summary` (the counts a saved report
/// was published with); notices are not in the summary, so they are counted.
pub fn counts_phrase(report: &Report) -> Option<String> {
    let notices = report.count(Severity::Notice);
    let mut parts = Vec::new();
    for (n, one, many) in [
        (report.summary.errors, "error", "errors"),
        (report.summary.warnings, "warning", "warnings"),
        (notices, "notice", "notices"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {}", if n == 1 { one } else { many }));
        }
    }
    if parts.is_empty() {
        None
    } else {
        Some(parts.join(", "))
    }
}

/// One line for the end of a run: `2 errors, 1 warning (checks: static,
/// drift)` or `No problems found (checks: static).`
pub fn summary_line(report: &Report) -> String {
    let checks = if report.summary.checks.is_empty() {
        String::new()
    } else {
        format!(" (checks: {})", report.summary.checks.join(", "))
    };
    match counts_phrase(report) {
        Some(counts) => format!("{counts}{checks}"),
        None => format!("No problems found{checks}."),
    }
}

/// Finding text made safe to show: `\r\n` and lone `\r` become `\n`
/// (findings carry Python tracebacks and Windows checkouts, and renderers
/// split on `\n`); terminal escape sequences a captured traceback may carry
/// are dropped, so they neither recolour a terminal nor reach Markdown; any
/// other control character but tab shows as U+FFFD.
pub(crate) fn clean(text: &str) -> Cow<'_, str> {
    let is_clean = |c: char| c == '\n' || c == '\t' || !c.is_control();
    if text.chars().all(is_clean) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                chars.next_if_eq(&'\n');
                out.push('\n');
            }
            '\x1b' => skip_escape_sequence(&mut chars),
            c if is_clean(c) => out.push(c),
            _ => out.push('\u{FFFD}'),
        }
    }
    Cow::Owned(out)
}

/// Skips the rest of an escape sequence after ESC: CSI (`ESC [` params, final
/// byte `@`..`~`), OSC (`ESC ]` up to BEL or `ESC \\`), or one character.
fn skip_escape_sequence(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    match chars.next() {
        Some('[') => {
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) {
                    break;
                }
            }
        }
        Some(']') => {
            while let Some(c) = chars.next() {
                if c == '\x07' || (c == '\x1b' && chars.next_if_eq(&'\\').is_some()) {
                    break;
                }
            }
        }
        _ => {}
    }
}
