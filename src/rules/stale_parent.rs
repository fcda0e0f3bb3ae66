//! `stale-parent`: a revision the change adds was written against a base
//! branch that has moved on since; merged, it leaves an extra head.

use super::Code;
use crate::alembic::graph::{Graph, StaleParent};
use crate::alembic::revision::RevisionFile;
use crate::findings::Finding;

/// `stale-parent` findings for the revisions in `added` against `base`, the
/// graph at the tip of the base branch.
pub fn stale_parent_findings(
    base: &Graph,
    added: &[RevisionFile],
    environment: &str,
) -> Vec<Finding> {
    crate::alembic::graph::stale_parents(base, added)
        .into_iter()
        .map(|s: StaleParent<'_>| {
            let base_heads: Vec<&str> = s.base_heads.iter().map(String::as_str).collect();
            let merged_heads: Vec<&str> = s.merged_heads.iter().map(String::as_str).collect();
            stale_finding(s.revision, &base_heads, &merged_heads).in_env(environment)
        })
        .collect()
}

fn stale_finding(r: &RevisionFile, base_heads: &[&str], merged_heads: &[&str]) -> Finding {
    let quoted: Vec<String> = base_heads.iter().map(|h| format!("'{h}'")).collect();
    let after = format!(
        "after merging there will be {} heads ({})",
        merged_heads.len(),
        merged_heads.join(", ")
    );
    let message = if r.down_revisions.is_empty() {
        format!(
            "revision {} ({}) starts a new base (down_revision = None), but the base branch \
             already has migrations (head: {}): {after}",
            r.revision,
            r.path,
            base_heads.join(", ")
        )
    } else {
        format!(
            "revision {} ({}) revises {}, but the base branch has moved on and its head is now \
             {}: {after}",
            r.revision,
            r.path,
            r.down_revisions.join(", "),
            base_heads.join(", ")
        )
    };
    let help = match quoted.as_slice() {
        [one] => format!(
            "Rebase the migration: set `down_revision = {one}` in {} (and the `Revises:` line of \
             its docstring), then check that its upgrade still applies on top of {one}. Or, after \
             merging, join the heads with `alembic merge heads -m \"merge heads\"`.",
            r.path
        ),
        many => format!(
            "Set `down_revision = ({})` in {} to build on every current head, or, after merging, \
             join the heads with `alembic merge heads -m \"merge heads\"`.",
            many.join(", "),
            r.path
        ),
    };
    let mut finding = Finding::error(Code::StaleParent, message)
        .at(
            r.path.clone(),
            Some(r.down_revision_line.unwrap_or(r.revision_line)),
        )
        .with_revision(r.revision.clone())
        .with_help(help);
    if r.down_revisions.is_empty() {
        finding.help = finding.help.map(|h| {
            format!("{h} If a separate lineage is intended, give it a branch label instead.")
        });
    }
    finding
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::Severity;
    use crate::rules::test_support::{labelled, render, rev};

    /// Revisions a change adds, against a base branch whose tip is `base`.
    fn stale(base: Vec<RevisionFile>, added: Vec<RevisionFile>) -> Vec<Finding> {
        stale_parent_findings(&Graph::build(base), &added, "main")
    }

    fn abc() -> Vec<RevisionFile> {
        vec![rev("a", &[]), rev("b", &["a"]), rev("c", &["b"])]
    }

    #[test]
    fn stale_parent_cases() {
        // (case, base tip, added, revisions flagged)
        type Case = (
            &'static str,
            Vec<RevisionFile>,
            Vec<RevisionFile>,
            Vec<&'static str>,
        );
        let cases: Vec<Case> = vec![
            (
                "built on the old head",
                abc(),
                vec![rev("d", &["b"])],
                vec!["d"],
            ),
            (
                "built on the current head",
                abc(),
                vec![rev("d", &["c"])],
                vec![],
            ),
            (
                "base side has no revisions",
                vec![],
                vec![rev("d", &[])],
                vec![],
            ),
            (
                "base side has no revisions and the change adds a chain",
                vec![],
                vec![rev("d", &[]), rev("e", &["d"])],
                vec![],
            ),
            (
                "change merges its revision with the new head",
                abc(),
                vec![rev("d", &["b"]), rev("m", &["c", "d"])],
                vec![],
            ),
            (
                "only the first of a chain is reported",
                abc(),
                vec![rev("d", &["b"]), rev("e", &["d"])],
                vec!["d"],
            ),
            (
                "a new unlabelled base next to existing history",
                abc(),
                vec![rev("d", &[])],
                vec!["d"],
            ),
            (
                "a new labelled base is the multi-base pattern",
                abc(),
                vec![labelled("d", &[], &["networking"])],
                vec![],
            ),
            (
                "the change re-adds a revision the base already has",
                abc(),
                vec![rev("c", &["b"])],
                vec![],
            ),
            (
                "a merge revision naming an old and the current head",
                abc(),
                vec![rev("m", &["b", "c"])],
                vec![],
            ),
            (
                "base already branched after the parent",
                vec![
                    rev("a", &[]),
                    rev("b", &["a"]),
                    rev("c", &["b"]),
                    rev("c2", &["b"]),
                ],
                vec![rev("d", &["b"])],
                vec!["d"],
            ),
        ];
        for (case, base, added, flagged) in cases {
            let found: Vec<String> = stale(base, added)
                .into_iter()
                .map(|f| f.revision.unwrap_or_default())
                .collect();
            assert_eq!(found, flagged, "{case}");
        }
    }

    #[test]
    fn stale_parent_finding_names_revision_parent_and_head() {
        let findings = stale(abc(), vec![rev("d", &["b"])]);
        let f = &findings[0];
        assert!(f.is(Code::StaleParent));
        assert_eq!(f.severity, Severity::Error);
        assert_eq!(f.location().as_deref(), Some("migrations/versions/d.py:15"));
        assert_eq!(f.environment.as_deref(), Some("main"));
        assert_eq!(
            f.message,
            "revision d (migrations/versions/d.py) revises b, but the base branch has moved on \
             and its head is now c: after merging there will be 2 heads (c, d)"
        );
        let help = f.help.as_deref().unwrap_or_default();
        assert!(
            help.contains("set `down_revision = 'c'` in migrations/versions/d.py"),
            "{help}"
        );
        assert!(help.contains("alembic merge heads"), "{help}");
    }

    #[test]
    fn stale_parent_with_several_base_heads_suggests_a_tuple() {
        let base = vec![
            rev("a", &[]),
            rev("b", &["a"]),
            rev("c", &["b"]),
            rev("c2", &["b"]),
        ];
        let findings = stale(base, vec![rev("d", &["b"])]);
        let help = findings[0].help.as_deref().unwrap_or_default();
        assert!(help.contains("`down_revision = ('c', 'c2')`"), "{help}");
    }

    #[test]
    fn stale_new_base_suggests_a_parent_or_a_label() {
        let findings = stale(abc(), vec![rev("d", &[])]);
        let f = &findings[0];
        assert!(f.message.contains("starts a new base"), "{}", f.message);
        let help = f.help.as_deref().unwrap_or_default();
        assert!(help.contains("`down_revision = 'c'`"), "{help}");
        assert!(help.contains("branch label"), "{help}");
    }

    #[test]
    fn snapshot() {
        insta::assert_snapshot!(render(
            &stale(abc(), vec![rev("d", &["b"]), rev("e", &[])],)
        ));
    }
}
