//! `possible-rename`: a migration drops a column and adds one of the same
//! type to the same table, which autogenerate writes for a rename and which
//! loses the column's data. The helper reports the same code when it finds
//! the pattern against a real database.

use super::Code;
use super::migration_lint::{Out, same};
use crate::alembic::operations::{MigrationOps, OpKind};
use crate::alembic::types::same_type;
use crate::findings::Finding;

/// A dropped column and an added one of the same type on the same table.
/// The dropped column's type comes from the downgrade, which adds it back
/// (autogenerate writes it as reflected: `sa.VARCHAR(length=100)`).
pub(super) fn check(ops: &MigrationOps, out: &mut Out) {
    let up = &ops.upgrade.ops;
    for drop in up {
        let OpKind::DropColumn { table, column: old } = &drop.kind else {
            continue;
        };
        let Some(old_type) = ops.downgrade.ops.iter().find_map(|op| match &op.kind {
            OpKind::AddColumn { table: t, column } if same(t, table) && same(&column.name, old) => {
                column.type_.as_deref()
            }
            _ => None,
        }) else {
            continue;
        };
        for add in up {
            let OpKind::AddColumn { table: t, column } = &add.kind else {
                continue;
            };
            if !same(t, table)
                || same(&column.name, old)
                || !column
                    .type_
                    .as_deref()
                    .is_some_and(|t| same_type(t, old_type))
            {
                continue;
            }
            let new = &column.name;
            let fix = if drop.batch && add.batch {
                format!("batch_op.alter_column(\"{old}\", new_column_name=\"{new}\")")
            } else {
                format!("op.alter_column(\"{table}\", \"{old}\", new_column_name=\"{new}\")")
            };
            out.push((
                add.line,
                Finding::warning(
                    Code::PossibleRename,
                    format!(
                        "upgrade drops `{table}.{old}` and adds `{table}.{new}` of the same type \
                         ({old_type}): if this is a rename, the data in `{old}` is lost"
                    ),
                )
                .with_table(table)
                .with_column(new)
                .with_help(format!(
                    "Rename the column instead, which keeps its data: `{fix}` (and the reverse in \
                     downgrade())."
                )),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::Code;
    use crate::rules::test_support::{lint_errors, lint_ok, render};

    #[test]
    fn reports() {
        // (case, upgrade body, downgrade body, findings)
        let cases: &[(&str, &str, &str, usize)] = &[(
            "a drop and an add of the same type",
            "    op.add_column('user', sa.Column('full_name', sa.String(length=100), nullable=True))\n    op.drop_column('user', 'name')",
            "    op.add_column('user', sa.Column('name', sa.VARCHAR(length=100), autoincrement=False, nullable=True))\n    op.drop_column('user', 'full_name')",
            1,
        )];
        for (case, upgrade, downgrade, want) in cases {
            assert_eq!(
                lint_errors(Code::PossibleRename, upgrade, downgrade).len(),
                *want,
                "{case}"
            );
        }
    }

    #[test]
    fn stays_quiet() {
        // types differ
        lint_ok(
            Code::PossibleRename,
            "    op.add_column('user', sa.Column('age', sa.Integer(), nullable=True))\n    op.drop_column('user', 'name')",
            "    op.add_column('user', sa.Column('name', sa.VARCHAR(length=100), nullable=True))\n    op.drop_column('user', 'age')",
        );
    }

    #[test]
    fn snapshot() {
        insta::assert_snapshot!(render(&lint_errors(
            Code::PossibleRename,
            "    with op.batch_alter_table('user') as batch_op:\n        batch_op.add_column(sa.Column('full_name', sa.String(100)))\n        batch_op.drop_column('name')",
            "    op.add_column('user', sa.Column('name', sa.String(100)))\n    op.drop_column('user', 'full_name')",
        )));
    }
}
