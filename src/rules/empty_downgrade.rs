//! `empty-downgrade`: a new migration's downgrade() is missing, empty while
//! its upgrade() is not, or raises NotImplementedError.

use super::Code;
use super::migration_lint::Out;
use crate::alembic::operations::{Body, MigrationOps};
use crate::alembic::revision::RevisionFile;
use crate::findings::Finding;

pub(super) fn check(revision: &RevisionFile, ops: &MigrationOps, out: &mut Out) {
    let down = &ops.downgrade;
    let message = match down.body {
        Body::Missing => {
            "the revision has no downgrade(): the migration is irreversible and `alembic \
             downgrade` past it fails"
        }
        Body::RaisesNotImplemented => {
            "downgrade() raises NotImplementedError: the migration is irreversible and `alembic \
             downgrade` past it fails"
        }
        // An empty upgrade has nothing to undo (a merge revision, say).
        Body::Empty if ops.upgrade.body == Body::Code => {
            "downgrade() is empty but upgrade() is not: the migration is irreversible, and \
             `alembic downgrade` passes over it leaving its changes in place"
        }
        Body::Empty | Body::Code => return,
    };
    let line = down
        .line
        .or(ops.upgrade.line)
        .unwrap_or(revision.revision_line);
    out.push((
        line,
        Finding::warning(Code::EmptyDowngrade, message).with_help(
            "Write the reverse operations in downgrade() (`alembic revision --autogenerate` \
             drafts them for schema changes). If the migration truly cannot be undone, say why \
             in its docstring and suppress this warning.",
        ),
    ));
}

#[cfg(test)]
mod tests {
    use crate::rules::Code;
    use crate::rules::test_support::{lint_errors, lint_ok, render};

    #[test]
    fn reports() {
        // (case, upgrade body, downgrade body, findings)
        let cases: &[(&str, &str, &str, usize)] = &[
            (
                "an empty downgrade after a schema change",
                "    op.add_column('user', sa.Column('bio', sa.Text(), nullable=True))",
                "    pass",
                1,
            ),
            (
                "a downgrade that raises",
                "    op.add_column('user', sa.Column('bio', sa.Text(), nullable=True))",
                "    raise NotImplementedError(\"data migration cannot be undone\")",
                1,
            ),
        ];
        for (case, upgrade, downgrade, want) in cases {
            assert_eq!(
                lint_errors(Code::EmptyDowngrade, upgrade, downgrade).len(),
                *want,
                "{case}"
            );
        }
    }

    #[test]
    fn stays_quiet() {
        // a merge revision
        lint_ok(Code::EmptyDowngrade, "    pass", "    pass");
    }

    #[test]
    fn snapshot() {
        insta::assert_snapshot!(render(&lint_errors(
            Code::EmptyDowngrade,
            "    op.add_column('user', sa.Column('bio', sa.Text(), nullable=True))",
            "    raise NotImplementedError(\"data migration cannot be undone\")",
        )));
    }
}
