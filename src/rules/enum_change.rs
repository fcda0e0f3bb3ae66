//! `enum-change`: a migration alters a PostgreSQL enum type, which older
//! servers cannot do in a transaction and no server can undo in place.

use super::Code;
use super::migration_lint::Out;
use crate::alembic::operations::{OpKind, Operation};
use crate::alembic::sql::{AlterTypeAction, SqlKind};
use crate::findings::Finding;

pub(super) fn check(op: &Operation, out: &mut Out) {
    const HELP: &str = "Before PostgreSQL 12, `ALTER TYPE ... ADD VALUE` cannot run inside a \
         transaction block: run it in `with op.get_context().autocommit_block():`. A value \
         cannot be removed from an enum type, so downgrade() cannot simply undo this; to make \
         it reversible, create a new type, move the columns to it with \
         `USING col::text::new_type`, and drop the old one.";
    match &op.kind {
        OpKind::Execute { statements, .. } => {
            for s in statements {
                let what = match s.kind {
                    SqlKind::AlterType(AlterTypeAction::AddValue) => "adds a value to",
                    SqlKind::AlterType(AlterTypeAction::RenameValue) => "renames a value of",
                    SqlKind::AlterType(AlterTypeAction::Rename) => "renames",
                    _ => continue,
                };
                out.push((
                    op.line,
                    Finding::warning(
                        Code::EnumChange,
                        format!("upgrade {what} the PostgreSQL enum type `{}`", s.object),
                    )
                    .with_help(HELP),
                ));
            }
        }
        OpKind::AlterColumn {
            table,
            column,
            change,
        } => {
            let Some(type_) = &change.type_ else {
                return;
            };
            if !(type_.starts_with("Enum") || type_.starts_with("ENUM")) {
                return;
            }
            out.push((
                op.line,
                Finding::warning(
                    Code::EnumChange,
                    format!("upgrade changes the enum type of `{table}.{column}` to {type_}"),
                )
                .with_table(table)
                .with_column(column)
                .with_help(HELP),
            ));
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
                "alter type add value",
                "    op.execute(\"ALTER TYPE order_status ADD VALUE 'refunded'\")",
                "    pass",
                1,
            ),
            (
                "alter column to an enum",
                "    op.alter_column('order', 'status', type_=sa.Enum('new', 'paid', name='order_status'))",
                "    op.alter_column('order', 'status', type_=sa.VARCHAR())",
                1,
            ),
        ];
        for (case, upgrade, downgrade, want) in cases {
            assert_eq!(
                lint_errors(Code::EnumChange, upgrade, downgrade).len(),
                *want,
                "{case}"
            );
        }
    }

    #[test]
    fn stays_quiet() {
        // alter column to a string
        lint_ok(
            Code::EnumChange,
            "    op.alter_column('order', 'status', type_=sa.String(20))",
            "    op.alter_column('order', 'status', type_=sa.VARCHAR())",
        );
    }

    #[test]
    fn snapshot() {
        insta::assert_snapshot!(render(&lint_errors(
            Code::EnumChange,
            "    op.execute(\"ALTER TYPE mood RENAME VALUE 'sad' TO 'blue'\")",
            "    op.execute(\"ALTER TYPE mood RENAME VALUE 'blue' TO 'sad'\")",
        )));
    }
}
