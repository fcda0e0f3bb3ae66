//! `revision-cycle`: revisions whose down_revision / depends_on chain comes
//! back to itself, so Alembic cannot order them.

use super::Code;
use crate::alembic::graph::Graph;
use crate::findings::Finding;

pub(super) fn finding(graph: &Graph, revisions: &[String]) -> Option<Finding> {
    let first = graph.get(revisions.first()?)?;
    let mut chain = revisions.to_vec();
    chain.push(first.revision.clone());
    Some(
        Finding::error(
            Code::RevisionCycle,
            format!(
                "revisions form a cycle: {} (each revises or depends on the next); Alembic \
             cannot order them",
                chain.join(" -> ")
            ),
        )
        .at(
            first.path.clone(),
            Some(first.down_revision_line.unwrap_or(first.revision_line)),
        )
        .with_revision(first.revision.clone())
        .with_help(format!(
            "Edit the down_revision (or depends_on) of one of them, e.g. in {}, so that \
         following down_revision always ends at a base revision (down_revision = None).",
            first.path
        )),
    )
}

#[cfg(test)]
mod tests {
    use crate::findings::Severity;
    use crate::rules::Code;
    use crate::rules::test_support::{depending, graph_errors, render, rev};

    #[test]
    fn cycle_finding_shows_the_chain() {
        let findings = graph_errors(
            Code::RevisionCycle,
            vec![rev("a", &[]), rev("b", &["c"]), rev("c", &["b"])],
        );
        assert_eq!(findings.len(), 1);
        let f = &findings[0];
        assert_eq!(f.severity, Severity::Error);
        assert!(f.message.contains("b -> c -> b"), "{}", f.message);
        assert_eq!(f.location().as_deref(), Some("migrations/versions/b.py:15"));
        assert!(
            f.help
                .as_deref()
                .unwrap_or_default()
                .contains("down_revision = None")
        );
    }

    #[test]
    fn a_linear_history_has_none() {
        assert!(
            graph_errors(Code::RevisionCycle, vec![rev("a", &[]), rev("b", &["a"])]).is_empty()
        );
    }

    #[test]
    fn snapshot() {
        insta::assert_snapshot!(render(&graph_errors(
            Code::RevisionCycle,
            vec![
                rev("a", &[]),
                depending("b", &["a"], &["c"]),
                rev("c", &["b"]),
            ],
        )));
    }
}
