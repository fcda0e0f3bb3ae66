//! `unique-on-existing-table`: a unique constraint or index added to a table
//! that already holds rows, which may hold duplicates.

use super::Code;
use super::migration_lint::{Out, added_before, created_before};
use crate::alembic::operations::{Constraint, OpKind, Operation};
use crate::findings::Finding;

pub(super) fn check(op: &Operation, before: &[Operation], out: &mut Out) {
    let (table, columns): (&str, Vec<&str>) = match &op.kind {
        OpKind::CreateConstraint {
            table,
            constraint: Constraint::Unique { columns, .. },
        } => (table, columns.iter().map(String::as_str).collect()),
        OpKind::CreateIndex(ix) if ix.unique => {
            (&ix.table, ix.columns.iter().map(String::as_str).collect())
        }
        // Every existing row gets the same default: duplicates from the
        // second row on.
        OpKind::AddColumn { table, column } if column.unique && column.server_default.is_some() => {
            (table, vec![column.name.as_str()])
        }
        _ => return,
    };
    if created_before(before, table) {
        return;
    }
    // Columns this migration added without a default hold only NULLs,
    // which never collide.
    let all_new_and_null = !columns.is_empty()
        && columns.iter().all(|c| {
            added_before(before, table, c).is_some_and(|spec| spec.server_default.is_none())
        });
    if all_new_and_null {
        return;
    }
    let listed = columns.join(", ");
    let mut finding = Finding::warning(
        Code::UniqueOnExistingTable,
        format!(
            "adds a unique constraint on `{table}` ({listed}), which already has rows: the \
             upgrade fails if they hold duplicate values"
        ),
    )
    .with_table(table)
    .with_help(format!(
        "Check production for duplicates first (`SELECT {listed}, count(*) FROM {table} \
         GROUP BY {listed} HAVING count(*) > 1`) and remove them in an earlier data migration. \
         On a large PostgreSQL table, build the index with `CREATE UNIQUE INDEX CONCURRENTLY` \
         in an autocommit block to avoid locking writes."
    ));
    if let [one] = columns.as_slice() {
        finding = finding.with_column(*one);
    }
    out.push((op.line, finding));
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
                "a unique constraint",
                "    op.create_unique_constraint('uq_user_email', 'user', ['email'])",
                "    op.drop_constraint('uq_user_email', 'user', type_='unique')",
                1,
            ),
            (
                "a unique column with a server default",
                "    op.add_column('user', sa.Column('code', sa.String(), unique=True, server_default='x'))",
                "    op.drop_column('user', 'code')",
                1,
            ),
        ];
        for (case, upgrade, downgrade, want) in cases {
            assert_eq!(
                lint_errors(Code::UniqueOnExistingTable, upgrade, downgrade).len(),
                *want,
                "{case}"
            );
        }
    }

    #[test]
    fn stays_quiet() {
        // a non unique index
        lint_ok(
            Code::UniqueOnExistingTable,
            "    op.create_index(op.f('ix_user_email'), 'user', ['email'], unique=False)",
            "    op.drop_index(op.f('ix_user_email'), table_name='user')",
        );
        // a column just added without a default
        lint_ok(
            Code::UniqueOnExistingTable,
            "    op.add_column('user', sa.Column('token', sa.String(), nullable=True))\n    op.create_unique_constraint('uq_user_token', 'user', ['token'])",
            "    op.drop_column('user', 'token')",
        );
    }

    #[test]
    fn snapshot() {
        insta::assert_snapshot!(render(&lint_errors(
            Code::UniqueOnExistingTable,
            "    op.create_index(op.f('ix_user_email'), 'user', ['email'], unique=True)",
            "    op.drop_index(op.f('ix_user_email'), table_name='user')",
        )));
    }
}
