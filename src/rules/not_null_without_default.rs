//! `not-null-without-default`: a NOT NULL column added to an existing table
//! without a server default (an error: the upgrade fails on any row), or a
//! column set NOT NULL with no backfill before it (a warning: it fails only
//! if a row holds NULL).

use super::Code;
use super::migration_lint::{Out, added_before, created_before, same};
use crate::alembic::operations::{OpKind, Operation};
use crate::alembic::sql::SqlKind;
use crate::findings::Finding;

pub(super) fn check(op: &Operation, before: &[Operation], out: &mut Out) {
    match &op.kind {
        OpKind::AddColumn { table, column }
            if column.nullable == Some(false)
                && column.server_default.is_none()
                && !created_before(before, table) =>
        {
            let c = &column.name;
            out.push((
                op.line,
                Finding::error(
                    Code::NotNullWithoutDefault,
                    format!(
                        "adds NOT NULL column `{table}.{c}` without a server default: the \
                         upgrade fails on a table that already has rows"
                    ),
                )
                .with_table(table)
                .with_column(c)
                .with_help(format!(
                    "Add it in steps: add the column as nullable (or with `server_default=...`, \
                     which fills existing rows), backfill existing rows with \
                     `op.execute(\"UPDATE {table} SET {c} = ... WHERE {c} IS NULL\")`, then \
                     `op.alter_column(\"{table}\", \"{c}\", nullable=False)`."
                )),
            ));
        }
        OpKind::AlterColumn {
            table,
            column,
            change,
        } if change.nullable == Some(false)
            && !created_before(before, table)
            && !backfilled(before, table)
            && added_before(before, table, column).is_none_or(|c| c.server_default.is_none()) =>
        {
            out.push((
                op.line,
                Finding::warning(
                    Code::NotNullWithoutDefault,
                    format!(
                        "sets `{table}.{column}` NOT NULL with no backfill before it in this \
                         migration: the upgrade fails if any existing row holds NULL"
                    ),
                )
                .with_table(table)
                .with_column(column)
                .with_help(format!(
                    "Backfill first, in the same upgrade before the alter_column: \
                     `op.execute(\"UPDATE {table} SET {column} = ... WHERE {column} IS NULL\")`. \
                     A column added in this migration can instead be added with \
                     `server_default=...`, which fills existing rows."
                )),
            ));
        }
        _ => {}
    }
}

/// Whether an earlier `execute` may have filled `table`'s NULLs: an UPDATE
/// of it, or SQL that cannot be read (so nothing can be said against it).
fn backfilled(before: &[Operation], table: &str) -> bool {
    before.iter().any(|op| match &op.kind {
        OpKind::Execute { sql, statements } => {
            op.unsure
                || (sql.is_none() && statements.is_empty())
                || statements
                    .iter()
                    .any(|s| s.kind == SqlKind::Update && same(&s.object, table))
        }
        _ => false,
    })
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
                "a not null column without a server default",
                "    op.add_column('user', sa.Column('email', sa.String(length=255), nullable=False))",
                "    op.drop_column('user', 'email')",
                1,
            ),
            (
                "set not null without a backfill",
                "    op.alter_column('user', 'email', nullable=False)",
                "    op.alter_column('user', 'email', nullable=True)",
                1,
            ),
        ];
        for (case, upgrade, downgrade, want) in cases {
            assert_eq!(
                lint_errors(Code::NotNullWithoutDefault, upgrade, downgrade).len(),
                *want,
                "{case}"
            );
        }
    }

    #[test]
    fn stays_quiet() {
        // with a server default
        lint_ok(
            Code::NotNullWithoutDefault,
            "    op.add_column('user', sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False))",
            "    op.drop_column('user', 'active')",
        );
        // after an update backfill
        lint_ok(
            Code::NotNullWithoutDefault,
            "    op.execute(\"UPDATE \\\"user\\\" SET email = 'unknown' WHERE email IS NULL\")\n    op.alter_column('user', 'email', nullable=False)",
            "    op.alter_column('user', 'email', nullable=True)",
        );
    }

    #[test]
    fn snapshot() {
        insta::assert_snapshot!(render(&lint_errors(
            Code::NotNullWithoutDefault,
            "    op.add_column('user', sa.Column('email', sa.String(255), nullable=False))\n    op.alter_column('user', 'name', nullable=False)",
            "    op.alter_column('user', 'name', nullable=True)\n    op.drop_column('user', 'email')",
        )));
    }
}
