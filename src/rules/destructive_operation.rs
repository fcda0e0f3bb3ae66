//! `destructive-operation`: a new migration drops a table or a column that
//! already holds data (an operation on a table the same upgrade created
//! meets no rows).

use super::Code;
use super::migration_lint::{Out, added_before, created_before};
use crate::alembic::operations::{OpKind, Operation};
use crate::alembic::sql::SqlKind;
use crate::findings::Finding;

pub(super) fn check(op: &Operation, before: &[Operation], out: &mut Out) {
    const KEEP_DATA: &str = "If the data may still be needed, keep it: rename it (or copy it \
         into an archive table) in this release and drop it in a later one, once no deployed \
         code reads it. downgrade() cannot bring deleted data back.";
    let drop_table = |table: &str, how: &str| {
        Finding::warning(
            Code::DestructiveOperation,
            format!("upgrade {how} table `{table}`: every row in it is deleted"),
        )
        .with_table(table)
        .with_help(KEEP_DATA)
    };
    match &op.kind {
        OpKind::DropTable { table } if !created_before(before, table) => {
            out.push((op.line, drop_table(table, "drops")));
        }
        OpKind::DropColumn { table, column }
            if !created_before(before, table) && added_before(before, table, column).is_none() =>
        {
            out.push((
                op.line,
                Finding::warning(
                    Code::DestructiveOperation,
                    format!("upgrade drops column `{table}.{column}`: its data is deleted"),
                )
                .with_table(table)
                .with_column(column)
                .with_help(KEEP_DATA),
            ));
        }
        OpKind::Execute { statements, .. } => {
            for s in statements.iter().filter(|s| s.kind == SqlKind::DropTable) {
                if !created_before(before, &s.object) {
                    out.push((op.line, drop_table(&s.object, "drops (in raw SQL)")));
                }
            }
        }
        _ => {}
    }
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
                "drops an existing table",
                "    op.drop_table('legacy_audit')",
                "    op.create_table('legacy_audit', sa.Column('id', sa.Integer()))",
                1,
            ),
            (
                "drops an existing column in a batch",
                "    with op.batch_alter_table('user', schema=None) as batch_op:\n        batch_op.drop_column('fax')",
                "    op.add_column('user', sa.Column('fax', sa.String(20)))",
                1,
            ),
            (
                "drops a table in raw sql",
                "    op.execute('DROP TABLE IF EXISTS old_sessions')",
                "    op.execute('CREATE TABLE old_sessions (id int)')",
                1,
            ),
        ];
        for (case, upgrade, downgrade, want) in cases {
            assert_eq!(
                lint_errors(Code::DestructiveOperation, upgrade, downgrade).len(),
                *want,
                "{case}"
            );
        }
    }

    #[test]
    fn stays_quiet() {
        // a table created earlier in the upgrade
        lint_ok(
            Code::DestructiveOperation,
            "    op.create_table('tmp', sa.Column('id', sa.Integer()))\n    op.drop_table('tmp')",
            "    pass",
        );
        // a column added earlier in the upgrade
        lint_ok(
            Code::DestructiveOperation,
            "    op.add_column('user', sa.Column('tmp', sa.Integer()))\n    op.drop_column('user', 'tmp')",
            "    pass",
        );
    }

    #[test]
    fn snapshot() {
        insta::assert_snapshot!(render(&lint_errors(
            Code::DestructiveOperation,
            "    op.drop_table('legacy_audit')\n    op.drop_column('user', 'fax')",
            "    op.add_column('user', sa.Column('fax', sa.String(20)))\n    op.create_table('legacy_audit', sa.Column('id', sa.Integer()))",
        )));
    }
}
