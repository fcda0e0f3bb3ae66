//! `--format human`: diagnostics for a terminal, shaped like rustc's and
//! ruff's so they read (and click through in editors) the way developers
//! expect:
//!
//! ```text
//! error[missing-migration]: Model `User` gained column `email`
//!  --> app/models.py:12
//!   = environment: main
//!   = help: run `alembic revision --autogenerate`
//!   |
//!   | op.add_column('user', sa.Column('email', sa.String()))
//!
//! 1 error (checks: static)
//! ```
//!
//! Colour comes only from `RenderOptions::color`; with it off the output
//! holds no escape bytes at all, so it is safe for logs and pipes.

use std::fmt::Write as _;

use anstyle::{AnsiColor, Style};

use crate::findings::{Finding, Report, Severity, Verdict};

use super::{RenderOptions, clean, summary_line};

const ERROR: Style = AnsiColor::Red.on_default().bold();
const WARNING: Style = AnsiColor::Yellow.on_default().bold();
const NOTICE: Style = AnsiColor::Cyan.on_default().bold();
const PASSED: Style = AnsiColor::Green.on_default().bold();
const GUTTER: Style = AnsiColor::Blue.on_default().bold();
const EMPHASIS: Style = Style::new().bold();

pub fn render(report: &Report, opts: &RenderOptions) -> String {
    let paint = Painter { color: opts.color };
    let mut out = String::new();
    for finding in &report.findings {
        render_finding(&mut out, finding, paint);
        out.push('\n');
    }
    for note in &report.notes {
        let label = paint.paint(NOTICE, "note");
        let text = indent_continuation(note, "      ");
        let _ = writeln!(out, "{label}: {text}");
    }
    if !report.notes.is_empty() {
        out.push('\n');
    }
    let style = match report.verdict() {
        Verdict::Failed => ERROR,
        Verdict::Warnings => WARNING,
        Verdict::Passed => PASSED,
    };
    let summary = summary_line(report);
    let _ = writeln!(out, "{}", paint.paint(style, &clean(&summary)));
    out
}

fn render_finding(out: &mut String, finding: &Finding, paint: Painter) {
    let (label, style) = match finding.severity {
        Severity::Error => ("error", ERROR),
        Severity::Warning => ("warning", WARNING),
        Severity::Notice => ("notice", NOTICE),
    };
    let header = paint.paint(style, &format!("{label}[{}]", clean(&finding.code)));
    let message = indent_continuation(&finding.message, "  ");
    let _ = writeln!(out, "{header}: {}", paint.paint(EMPHASIS, &message));

    if let Some(location) = finding.location() {
        let _ = writeln!(out, " {} {}", paint.paint(GUTTER, "-->"), clean(&location));
    }
    let eq = paint.paint(GUTTER, "=");
    if let Some(env) = &finding.environment {
        let _ = writeln!(out, "  {eq} environment: {}", clean(env));
    }
    if let Some(help) = &finding.help {
        let label = paint.paint(EMPHASIS, "help");
        // Continuation lines line up under the text after `  = help: `.
        let _ = writeln!(
            out,
            "  {eq} {label}: {}",
            indent_continuation(help, "          ")
        );
    }
    if let Some(details) = &finding.details {
        let bar = paint.paint(GUTTER, "|");
        let _ = writeln!(out, "  {bar}");
        for line in clean(details).trim_end_matches('\n').lines() {
            if line.is_empty() {
                let _ = writeln!(out, "  {bar}");
            } else {
                let _ = writeln!(out, "  {bar} {line}");
            }
        }
    }
}

/// Keeps a multi-line text attached to its label: every line after the
/// first gets `indent`.
fn indent_continuation(text: &str, indent: &str) -> String {
    let text = clean(text);
    let mut lines = text.trim_end_matches('\n').split('\n');
    let mut out = lines.next().unwrap_or_default().to_string();
    for line in lines {
        out.push('\n');
        if !line.is_empty() {
            out.push_str(indent);
            out.push_str(line);
        }
    }
    out
}

#[derive(Clone, Copy)]
struct Painter {
    color: bool,
}

impl Painter {
    fn paint(self, style: Style, text: &str) -> String {
        if self.color {
            format!("{}{text}{}", style.render(), style.render_reset())
        } else {
            text.to_string()
        }
    }
}
