//! Helpers for the rule tests: build the input a rule reads from a few lines
//! of text, run the rules, keep one code's findings.

use std::fmt::Write;

use super::Code;
use super::migration_lint::lint_migration;
use crate::alembic::graph::Graph;
use crate::alembic::operations::read_operations;
use crate::alembic::operations::tests::revision_file;
use crate::alembic::revision::{RevisionFile, parse_revision};
use crate::findings::Finding;

/// The path of the revision [`lint`] builds.
pub(crate) const PATH: &str = "migrations/versions/1975ea83b712_change.py";

/// Every migration-lint finding for a revision with these `upgrade()` and
/// `downgrade()` bodies (indented; `upgrade()`'s first line is line 22).
pub(crate) fn lint(upgrade: &str, downgrade: &str) -> Vec<Finding> {
    let src = revision_file("", upgrade, downgrade);
    let revision = parse_revision(PATH, &src).unwrap_or_else(|e| panic!("{e}"));
    lint_migration(&revision, &read_operations(&src), "main")
}

/// The `code` findings the migration lints report for this revision.
pub(crate) fn lint_errors(code: Code, upgrade: &str, downgrade: &str) -> Vec<Finding> {
    of(code, lint(upgrade, downgrade))
}

/// Asserts the migration lints report no `code` finding for this revision.
pub(crate) fn lint_ok(code: Code, upgrade: &str, downgrade: &str) {
    let found = lint_errors(code, upgrade, downgrade);
    assert!(found.is_empty(), "unexpected {code}: {found:#?}");
}

/// The findings of one code.
pub(crate) fn of(code: Code, findings: Vec<Finding>) -> Vec<Finding> {
    findings.into_iter().filter(|f| f.is(code)).collect()
}

/// A revision file as the graph reads it, at `migrations/versions/{id}.py`
/// with its identifiers on lines 14 to 17.
pub(crate) fn rev(id: &str, down: &[&str]) -> RevisionFile {
    RevisionFile {
        path: format!("migrations/versions/{id}.py"),
        revision: id.to_string(),
        down_revisions: down.iter().map(|s| s.to_string()).collect(),
        branch_labels: Vec::new(),
        depends_on: Vec::new(),
        revision_line: 14,
        down_revision_line: Some(15),
        branch_labels_line: Some(16),
        depends_on_line: Some(17),
        message: None,
    }
}

pub(crate) fn labelled(id: &str, down: &[&str], labels: &[&str]) -> RevisionFile {
    RevisionFile {
        branch_labels: labels.iter().map(|s| s.to_string()).collect(),
        ..rev(id, down)
    }
}

pub(crate) fn depending(id: &str, down: &[&str], deps: &[&str]) -> RevisionFile {
    RevisionFile {
        depends_on: deps.iter().map(|s| s.to_string()).collect(),
        ..rev(id, down)
    }
}

/// The `code` findings of the graph these revisions make.
pub(crate) fn graph_errors(code: Code, revisions: Vec<RevisionFile>) -> Vec<Finding> {
    of(
        code,
        super::graph::graph_findings(&Graph::build(revisions), "main"),
    )
}

/// Findings as plain text for snapshots: every field a reader sees.
pub(crate) fn render(findings: &[Finding]) -> String {
    let mut out = String::new();
    for f in findings {
        let _ = writeln!(
            out,
            "{} {} at {} in {}",
            f.severity,
            f.code,
            f.location().unwrap_or_else(|| "-".into()),
            f.environment.as_deref().unwrap_or("-"),
        );
        for (key, value) in [
            ("revision", &f.revision),
            ("table", &f.table),
            ("column", &f.column),
        ] {
            if let Some(v) = value {
                let _ = writeln!(out, "  {key}: {v}");
            }
        }
        let _ = writeln!(out, "  message: {}", f.message);
        if let Some(help) = &f.help {
            let _ = writeln!(out, "  help: {help}");
        }
    }
    out
}
