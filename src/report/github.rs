//! `--format github`: GitHub Actions workflow commands, which the runner
//! turns into annotations on the pull request's files:
//!
//! ```text
//! ::error file=app/models.py,line=12,title=missing-migration::Model changed%0Ahelp
//! ```
//!
//! Notes and the summary are printed as plain log lines: an annotation per
//! note would use up the few annotations GitHub shows per step (ten of each
//! level) that the findings need.

use std::fmt::Write as _;

use crate::findings::{Finding, Report, Severity};

use super::summary_line;

pub fn render(report: &Report) -> String {
    let mut out = String::new();
    for finding in &report.findings {
        out.push_str(&command(finding));
        out.push('\n');
    }
    for note in &report.notes {
        // A plain log line must stay one line, or a note starting with `::`
        // on its second line would be read as a command.
        let _ = writeln!(out, "alembot: note: {}", escape_data(note));
    }
    let _ = writeln!(out, "alembot: {}", summary_line(report));
    out
}

/// One workflow command for one finding.
pub fn command(finding: &Finding) -> String {
    let level = match finding.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Notice => "notice",
    };
    let mut props = Vec::new();
    // A line without a file has nothing to point into, so it is dropped.
    if let Some(file) = &finding.file {
        props.push(format!("file={}", escape_property(file)));
        // Lines are 1-based; a 0 would make the runner drop the annotation.
        if let Some(line) = finding.line.filter(|&l| l >= 1) {
            props.push(format!("line={line}"));
        }
    }
    let title = match &finding.environment {
        Some(env) => format!("{} ({env})", finding.code),
        None => finding.code.clone(),
    };
    props.push(format!("title={}", escape_property(&title)));

    let mut message = finding.message.clone();
    if let Some(help) = &finding.help {
        message.push('\n');
        message.push_str(help);
    }
    format!("::{level} {}::{}", props.join(","), escape_data(&message))
}

/// Escapes a command's message, as the Actions toolkit does
/// (`escapeData` in `@actions/core`): `%` first, so the escapes it adds are
/// not escaped again.
pub fn escape_data(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            _ => out.push(c),
        }
    }
    out
}

/// Escapes a property value (`file=`, `title=`): as data, plus `:` and `,`,
/// which would otherwise end the value (`escapeProperty` in `@actions/core`).
pub fn escape_property(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in escape_data(text).chars() {
        match c {
            ':' => out.push_str("%3A"),
            ',' => out.push_str("%2C"),
            _ => out.push(c),
        }
    }
    out
}
