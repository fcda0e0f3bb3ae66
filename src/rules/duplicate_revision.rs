//! `duplicate-revision`: two revision files declare the same id; Alembic
//! loads only one of them.

use super::Code;
use crate::alembic::graph::Duplicate;
use crate::findings::Finding;

pub(super) fn finding(d: &Duplicate) -> Finding {
    Finding::error(
        Code::DuplicateRevision,
        format!(
            "revision id '{}' is declared by two files: {} and {}",
            d.revision, d.kept, d.duplicate.path
        ),
    )
    .at(d.duplicate.path.clone(), Some(d.duplicate.revision_line))
    .with_revision(d.revision.clone())
    .with_help(
        "Give one of them a new revision id (its `revision` variable and the `Revision ID:` \
         docstring line), then set the down_revision of any revision meant to follow it to \
         the new id. Alembic loads only one of the two files.",
    )
}

#[cfg(test)]
mod tests {
    use crate::findings::Severity;
    use crate::rules::Code;
    use crate::rules::test_support::{graph_errors, render, rev};

    #[test]
    fn the_second_file_in_path_order_is_reported() {
        let mut dup = rev("a", &[]);
        dup.path = "migrations/versions/zz_copy.py".into();
        let findings = graph_errors(
            Code::DuplicateRevision,
            vec![dup, rev("a", &[]), rev("b", &["a"])],
        );
        assert_eq!(findings.len(), 1);
        let f = &findings[0];
        assert_eq!(f.severity, Severity::Error);
        assert_eq!(
            f.location().as_deref(),
            Some("migrations/versions/zz_copy.py:14")
        );
        assert!(
            f.message
                .contains("migrations/versions/a.py and migrations/versions/zz_copy.py")
        );
        assert_eq!(f.revision.as_deref(), Some("a"));
    }

    #[test]
    fn distinct_ids_are_fine() {
        assert!(
            graph_errors(
                Code::DuplicateRevision,
                vec![rev("a", &[]), rev("b", &["a"])]
            )
            .is_empty()
        );
    }

    #[test]
    fn snapshot() {
        let mut dup = rev("a", &[]);
        dup.path = "migrations/versions/zz_copy.py".into();
        insta::assert_snapshot!(render(&graph_errors(
            Code::DuplicateRevision,
            vec![dup, rev("a", &[]), rev("b", &["a"])],
        )));
    }
}
