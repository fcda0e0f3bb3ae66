//! `multiple-heads`: the history has more than one head, and not every head
//! sits on its own labelled branch: `alembic upgrade head` fails.

use super::Code;
use crate::alembic::graph::Graph;
use crate::alembic::revision::RevisionFile;
use crate::findings::Finding;

pub(super) fn finding(graph: &Graph, heads: &[String]) -> Option<Finding> {
    let files: Vec<&RevisionFile> = heads.iter().filter_map(|h| graph.get(h)).collect();
    let first = files.first()?;
    let listed: Vec<String> = files
        .iter()
        .map(|r| format!("{} ({})", r.revision, r.path))
        .collect();
    Some(
        Finding::error(
            Code::MultipleHeads,
            format!(
                "the migrations have {} heads: {}; `alembic upgrade head` fails until they \
             are merged",
                heads.len(),
                listed.join(", ")
            ),
        )
        .at(first.path.clone(), Some(first.revision_line))
        .with_revision(first.revision.clone())
        .with_help(
            "If one of these revisions is new, rebase it: set its `down_revision` to the \
         other head. Otherwise join them with a merge revision: \
         `alembic merge heads -m \"merge heads\"`.",
        ),
    )
}

#[cfg(test)]
mod tests {
    use crate::findings::Severity;
    use crate::rules::Code;
    use crate::rules::test_support::{graph_errors, labelled, render, rev};

    #[test]
    fn multiple_heads_finding_lists_heads_and_says_how_to_merge() {
        let findings = graph_errors(
            Code::MultipleHeads,
            vec![rev("a", &[]), rev("b", &["a"]), rev("c", &["a"])],
        );
        assert_eq!(findings.len(), 1);
        let f = &findings[0];
        assert!(f.is(Code::MultipleHeads));
        assert_eq!(f.severity, Severity::Error);
        assert_eq!(f.environment.as_deref(), Some("main"));
        assert_eq!(f.location().as_deref(), Some("migrations/versions/b.py:14"));
        assert_eq!(
            f.message,
            "the migrations have 2 heads: b (migrations/versions/b.py), c \
             (migrations/versions/c.py); `alembic upgrade head` fails until they are merged"
        );
        let help = f.help.as_deref().unwrap_or_default();
        assert!(
            help.contains("alembic merge heads -m \"merge heads\""),
            "{help}"
        );
        assert!(help.contains("down_revision"), "{help}");
    }

    #[test]
    fn one_head_or_labelled_branches_are_fine() {
        assert!(
            graph_errors(Code::MultipleHeads, vec![rev("a", &[]), rev("b", &["a"])]).is_empty()
        );
        assert!(
            graph_errors(
                Code::MultipleHeads,
                vec![
                    labelled("a", &[], &["core"]),
                    labelled("b", &["a"], &["billing"]),
                    labelled("c", &["a"], &["search"]),
                ],
            )
            .is_empty()
        );
    }

    #[test]
    fn snapshot() {
        insta::assert_snapshot!(render(&graph_errors(
            Code::MultipleHeads,
            vec![
                rev("a", &[]),
                rev("b", &["a"]),
                rev("c", &["a"]),
                rev("d", &["a"])
            ],
        )));
    }
}
