//! `unmatched-operation`: a schema operation in a migration the change adds
//! with no model edit behind it (the matching is `crosscheck.rs`).

use super::Code;
use super::crosscheck::AddedRevision;
use crate::alembic::operations::{OpKind, Operation};
use crate::findings::Finding;

/// The finding for `op` of `rev`, which works on `table`.
pub(super) fn finding(
    environment: &str,
    rev: &AddedRevision,
    op: &Operation,
    table: String,
) -> Finding {
    Finding::warning(
        Code::UnmatchedOperation,
        format!(
            "{} in revision {} has no model edit behind it in this change",
            describe_op(op),
            rev.revision
        ),
    )
    .at(rev.path.clone(), Some(op.line))
    .in_env(environment)
    .with_revision(rev.revision.clone())
    .with_table(table)
    .with_help("if the models should change too, edit them in this change; a data migration or hand-tuned DDL is fine as it is (silence this with `checks: {unmatched-operation: off}` or `# alembot: ignore`)")
}

fn describe_op(op: &Operation) -> String {
    match &op.kind {
        OpKind::CreateTable { table, .. } => format!("`op.create_table('{table}')`"),
        OpKind::DropTable { table } => format!("`op.drop_table('{table}')`"),
        OpKind::AddColumn { table, column } => {
            format!("`op.add_column('{table}', '{}')`", column.name)
        }
        OpKind::DropColumn { table, column } => format!("`op.drop_column('{table}', '{column}')`"),
        OpKind::AlterColumn { table, column, .. } => {
            format!("`op.alter_column('{table}', '{column}')`")
        }
        OpKind::RenameTable { from, to } => format!("`op.rename_table('{from}', '{to}')`"),
        OpKind::CreateIndex(ix) => format!("`op.create_index` on `{}`", ix.table),
        OpKind::DropIndex { name, .. } => {
            format!("`op.drop_index('{}')`", name.as_deref().unwrap_or("?"))
        }
        OpKind::CreateConstraint { table, .. } => format!("a constraint created on `{table}`"),
        OpKind::DropConstraint { table, .. } => format!("a constraint dropped from `{table}`"),
        OpKind::Execute { .. } => "raw SQL DDL".into(),
        OpKind::BulkInsert { .. } | OpKind::Other { .. } => "an operation".into(),
    }
}

#[cfg(test)]
mod tests {
    use crate::alembic::operations::read_operations;
    use crate::rules::Code;
    use crate::rules::crosscheck::{AddedRevision, crosscheck};
    use crate::rules::test_support::{of, render};

    /// The `unmatched-operation` findings for a change with no model edits
    /// and one revision with this upgrade body.
    fn unmatched(upgrade: &str) -> Vec<crate::findings::Finding> {
        let src = format!(
            "revision = 'b'\ndown_revision = 'a'\n\ndef upgrade():\n{upgrade}\n\ndef downgrade():\n    pass\n"
        );
        let rev = AddedRevision {
            path: "migrations/versions/b.py".into(),
            revision: "b".into(),
            ops: read_operations(&src),
        };
        let out = crosscheck("main", &[], &[rev], "alembic revision --autogenerate");
        of(Code::UnmatchedOperation, out.findings)
    }

    #[test]
    fn schema_operations_without_model_edits() {
        let cases: &[(&str, &str, usize)] = &[
            (
                "add_column",
                "    op.add_column('user', sa.Column('bio', sa.Text()))",
                1,
            ),
            (
                "raw DDL",
                "    op.execute('ALTER TABLE user ADD COLUMN x int')",
                1,
            ),
            (
                "data migration",
                "    op.execute('UPDATE user SET x = 1')",
                0,
            ),
            ("bulk insert", "    op.bulk_insert(t, [{'id': 1}])", 0),
        ];
        for (case, upgrade, want) in cases {
            assert_eq!(unmatched(upgrade).len(), *want, "{case}");
        }
    }

    #[test]
    fn snapshot() {
        insta::assert_snapshot!(render(&unmatched(
            "    op.add_column('user', sa.Column('bio', sa.Text()))\n    op.drop_table('legacy')",
        )));
    }
}
