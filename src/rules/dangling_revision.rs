//! `dangling-revision`: a `down_revision` or `depends_on` names a revision
//! (or branch label) no file declares.

use super::Code;
use crate::alembic::graph::{Graph, Reference};
use crate::findings::Finding;

pub(super) fn finding(
    graph: &Graph,
    revision: &str,
    missing: &str,
    reference: Reference,
) -> Option<Finding> {
    let r = graph.get(revision)?;
    let (what, line, help) = match reference {
        Reference::DownRevision => (
            format!("revises '{missing}', which is not a revision in this environment"),
            r.down_revision_line,
            format!(
                "Set down_revision in {} to an existing revision (`alembic heads` lists \
                 the current heads), or restore the revision file that declares \
                 '{missing}'.",
                r.path
            ),
        ),
        Reference::DependsOn => (
            format!(
                "depends on '{missing}', which is neither a revision nor a branch label \
                 in this environment"
            ),
            r.depends_on_line,
            format!(
                "Remove '{missing}' from depends_on in {}, or restore the revision file \
                 it names.",
                r.path
            ),
        ),
    };
    Some(
        Finding::error(
            Code::DanglingRevision,
            format!("revision {revision} ({}) {what}", r.path),
        )
        .at(r.path.clone(), Some(line.unwrap_or(r.revision_line)))
        .with_revision(revision)
        .with_help(help),
    )
}

#[cfg(test)]
mod tests {
    use crate::alembic::revision::RevisionFile;
    use crate::rules::Code;
    use crate::rules::test_support::{depending, graph_errors, labelled, render, rev};

    #[test]
    fn dangling_references() {
        // (case, revisions, expected (location, message fragment))
        type Case = (
            &'static str,
            Vec<RevisionFile>,
            Vec<(&'static str, &'static str)>,
        );
        let cases: Vec<Case> = vec![
            (
                "down_revision names a missing revision",
                vec![rev("a", &[]), rev("b", &["gone"])],
                vec![(
                    "migrations/versions/b.py:15",
                    "revises 'gone', which is not a revision",
                )],
            ),
            (
                "one parent of a merge is missing",
                vec![rev("a", &[]), rev("m", &["a", "gone"])],
                vec![("migrations/versions/m.py:15", "revises 'gone'")],
            ),
            (
                "depends_on names a missing revision",
                vec![rev("a", &[]), depending("b", &["a"], &["nope"])],
                vec![(
                    "migrations/versions/b.py:17",
                    "depends on 'nope', which is neither a revision nor a branch label",
                )],
            ),
            (
                "depends_on names a branch label",
                vec![
                    labelled("a", &[], &["core"]),
                    labelled("n", &[], &["net"]),
                    depending("b", &["a"], &["net"]),
                ],
                vec![],
            ),
            (
                "depends_on names a revision",
                vec![rev("a", &[]), depending("b", &["a"], &["a"])],
                vec![],
            ),
        ];
        for (case, revs, expected) in cases {
            let found: Vec<(String, String)> = graph_errors(Code::DanglingRevision, revs)
                .into_iter()
                .map(|f| (f.location().unwrap_or_default(), f.message))
                .collect();
            assert_eq!(found.len(), expected.len(), "{case}: {found:?}");
            for ((loc, msg), (want_loc, want_msg)) in found.iter().zip(&expected) {
                assert_eq!(loc, want_loc, "{case}");
                assert!(msg.contains(want_msg), "{case}: {msg}");
            }
        }
    }

    #[test]
    fn snapshot() {
        insta::assert_snapshot!(render(&graph_errors(
            Code::DanglingRevision,
            vec![
                rev("a", &[]),
                rev("b", &["gone"]),
                depending("c", &["a"], &["nope"])
            ],
        )));
    }
}
