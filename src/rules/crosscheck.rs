//! The static cross-check: every schema edit in the models must be covered
//! by an operation in the migrations the change adds, and every schema
//! operation should have a model edit behind it.
//!
//! Only resolved edits are judged one by one. An edit whose table or kind
//! could not be read statically falls back to the file-level verdict (a
//! revision came with the change), and the report says so: never a false
//! alarm from guessing.

use std::collections::BTreeSet;

use super::{missing_migration, unmatched_operation};
use crate::alembic::operations::{Constraint, MigrationOps, OpKind, Operation};
use crate::alembic::sql::SqlKind;
use crate::findings::Finding;
use crate::schema::{EditKind, SchemaEdit};

/// The operations of one revision the change adds.
#[derive(Debug, Clone)]
pub struct AddedRevision {
    pub path: String,
    pub revision: String,
    pub ops: MigrationOps,
}

#[derive(Debug, Clone, Default)]
pub struct CrossCheck {
    pub findings: Vec<Finding>,
    pub notes: Vec<String>,
}

/// Cross-checks the model edits of one environment against the upgrade
/// operations of the revisions the change adds to it.
pub fn crosscheck(
    environment: &str,
    edits: &[SchemaEdit],
    revisions: &[AddedRevision],
    generate: &str,
) -> CrossCheck {
    let ops: Vec<(&AddedRevision, &Operation)> = revisions
        .iter()
        .flat_map(|r| r.ops.upgrade.ops.iter().map(move |op| (r, op)))
        .collect();
    let mut out = CrossCheck::default();
    let mut used: BTreeSet<usize> = BTreeSet::new();
    let mut unsure_tables: BTreeSet<&str> = BTreeSet::new();
    let mut any_unsure_edit = false;
    for edit in edits {
        if !edit.is_resolved() {
            any_unsure_edit = true;
            if let Some(t) = &edit.table {
                unsure_tables.insert(t);
            }
            out.notes.push(format!(
                "{}:{}: `{}` could not be resolved statically; it counts as covered because the change adds a revision",
                edit.file,
                edit.line,
                edit.target()
            ));
            continue;
        }
        // A Python-side default has no DDL; any revision in the change will do.
        if edit.kind == EditKind::DefaultChanged {
            continue;
        }
        let matches: Vec<usize> = ops
            .iter()
            .enumerate()
            .filter(|(_, (_, op))| covers(op, edit, edits))
            .map(|(i, _)| i)
            .collect();
        if matches.is_empty() {
            out.findings.push(missing_migration::uncovered(
                environment,
                edit,
                edits,
                generate,
            ));
        } else {
            for (i, (_, op)) in ops.iter().enumerate() {
                if matches.contains(&i) {
                    used.insert(i);
                }
                if let OpKind::Execute { .. } = op.kind
                    && matches.contains(&i)
                {
                    let note = format!(
                        "{}: raw SQL at line {} is taken to cover `{}` (the SQL names the table)",
                        ops[i].0.path,
                        op.line,
                        edit.target()
                    );
                    if !out.notes.contains(&note) {
                        out.notes.push(note);
                    }
                }
            }
        }
    }
    // The reverse: schema operations with no model edit behind them.
    let edited_tables: BTreeSet<&str> = edits.iter().filter_map(|e| e.table.as_deref()).collect();
    for (i, (rev, op)) in ops.iter().enumerate() {
        if used.contains(&i) || !is_schema_op(op) {
            continue;
        }
        let table = op_table(op).unwrap_or_default();
        // When the model side was unsure, a silent op may be what it meant.
        if op.unsure
            || unsure_tables.contains(table.as_str())
            || (any_unsure_edit && !edited_tables.contains(table.as_str()))
        {
            continue;
        }
        // A constraint or index on a column the model changed belongs to
        // that change (autogenerate adds the foreign key of a new column
        // as its own operation).
        if explained_by_column_edit(op, edits) {
            continue;
        }
        out.findings
            .push(unmatched_operation::finding(environment, rev, op, table));
    }
    out
}

/// The table an operation works on; for raw SQL, the first table it names.
fn op_table(op: &Operation) -> Option<String> {
    match &op.kind {
        OpKind::Execute { statements, .. } => statements
            .iter()
            .find(|s| !matches!(s.kind, SqlKind::AlterType(_)))
            .map(|s| s.object.clone()),
        _ => op.table().map(str::to_string),
    }
}

/// The columns a constraint or index operation is about.
fn op_columns(op: &Operation) -> Vec<&str> {
    match &op.kind {
        OpKind::CreateIndex(ix) => ix.columns.iter().map(String::as_str).collect(),
        OpKind::CreateConstraint { constraint, .. } => match constraint {
            Constraint::Unique { columns, .. }
            | Constraint::PrimaryKey { columns, .. }
            | Constraint::ForeignKey { columns, .. } => {
                columns.iter().map(String::as_str).collect()
            }
            Constraint::Check { .. } => Vec::new(),
        },
        _ => Vec::new(),
    }
}

fn explained_by_column_edit(op: &Operation, edits: &[SchemaEdit]) -> bool {
    let Some(table) = op.table() else {
        return false;
    };
    let columns = op_columns(op);
    !columns.is_empty()
        && edits.iter().any(|e| {
            e.table.as_deref().is_some_and(|t| same(t, table))
                && e.column
                    .as_deref()
                    .is_some_and(|c| columns.iter().any(|oc| same(oc, c)))
        })
}

/// Operations that change the schema (not data).
fn is_schema_op(op: &Operation) -> bool {
    match &op.kind {
        OpKind::BulkInsert { .. } | OpKind::Other { .. } => false,
        OpKind::Execute { statements, sql } => {
            sql.is_some()
                && !statements.is_empty()
                && statements.iter().all(|s| {
                    matches!(
                        s.kind,
                        SqlKind::AlterTable
                            | SqlKind::CreateTable
                            | SqlKind::DropTable
                            | SqlKind::CreateIndex
                    )
                })
        }
        _ => true,
    }
}

fn same(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// Whether raw SQL names `table` in a schema-changing statement.
fn sql_touches(op: &Operation, table: &str) -> bool {
    match &op.kind {
        OpKind::Execute { statements, .. } => statements.iter().any(|s| {
            same(&s.object, table)
                && matches!(
                    s.kind,
                    SqlKind::AlterTable
                        | SqlKind::CreateTable
                        | SqlKind::DropTable
                        | SqlKind::CreateIndex
                )
        }),
        _ => false,
    }
}

/// Whether `op` does what `edit` needs. `all` are the edits of the same
/// change, for renames (one alter_column covers a drop and an add).
fn covers(op: &Operation, edit: &SchemaEdit, all: &[SchemaEdit]) -> bool {
    let (Some(table), column) = (edit.table.as_deref(), edit.column.as_deref()) else {
        return false;
    };
    if sql_touches(op, table) {
        return true;
    }
    let col_is = |c: &str| column.is_some_and(|want| same(want, c));
    let alter_on = |t: &str, c: &str| same(t, table) && col_is(c);
    match (&edit.kind, &op.kind) {
        (EditKind::TableAdded, OpKind::CreateTable { table: t, .. }) => same(t, table),
        (EditKind::TableAdded, OpKind::RenameTable { to, .. }) => same(to, table),
        (EditKind::TableDropped, OpKind::DropTable { table: t }) => same(t, table),
        (EditKind::TableDropped, OpKind::RenameTable { from, .. }) => same(from, table),
        (EditKind::TableRenamed { from }, OpKind::RenameTable { from: f, to }) => {
            same(f, from) && same(to, table)
        }
        (EditKind::TableRenamed { .. }, OpKind::CreateTable { table: t, .. }) => same(t, table),
        (
            EditKind::ColumnAdded,
            OpKind::AddColumn {
                table: t,
                column: c,
            },
        ) => alter_on(t, &c.name),
        (
            EditKind::ColumnAdded,
            OpKind::CreateTable {
                table: t, columns, ..
            },
        ) => same(t, table) && columns.iter().any(|c| col_is(&c.name)),
        (
            EditKind::ColumnAdded,
            OpKind::AlterColumn {
                table: t, change, ..
            },
        ) => same(t, table) && change.new_column_name.as_deref().is_some_and(col_is),
        (
            EditKind::ColumnDropped,
            OpKind::DropColumn {
                table: t,
                column: c,
            },
        ) => alter_on(t, c),
        (EditKind::ColumnDropped, OpKind::DropTable { table: t }) => same(t, table),
        (
            EditKind::ColumnDropped,
            OpKind::AlterColumn {
                table: t,
                column: c,
                change,
            },
        ) => {
            // A rename: the old name goes, the new one must be the added edit.
            alter_on(t, c)
                && change.new_column_name.as_deref().is_some_and(|new| {
                    all.iter().any(|e| {
                        e.kind == EditKind::ColumnAdded
                            && e.table.as_deref().is_some_and(|et| same(et, table))
                            && e.column.as_deref().is_some_and(|ec| same(ec, new))
                    })
                })
        }
        (
            EditKind::TypeChanged { .. },
            OpKind::AlterColumn {
                table: t,
                column: c,
                change,
            },
        ) => alter_on(t, c) && change.type_.is_some(),
        (
            EditKind::NullableChanged { .. },
            OpKind::AlterColumn {
                table: t,
                column: c,
                change,
            },
        ) => alter_on(t, c) && change.nullable.is_some(),
        (
            EditKind::ServerDefaultChanged,
            OpKind::AlterColumn {
                table: t,
                column: c,
                change,
            },
        ) => alter_on(t, c) && change.server_default.is_some(),
        (
            EditKind::OptionChanged,
            OpKind::AlterColumn {
                table: t,
                column: c,
                ..
            },
        ) => alter_on(t, c),
        (
            EditKind::EnumMemberAdded { .. } | EditKind::EnumMemberRemoved { .. },
            OpKind::AlterColumn {
                table: t,
                column: c,
                ..
            },
        ) => alter_on(t, c),
        (
            EditKind::EnumMemberAdded { enum_name, .. }
            | EditKind::EnumMemberRemoved { enum_name, .. },
            OpKind::Execute { statements, .. },
        ) => statements.iter().any(|s| {
            matches!(s.kind, SqlKind::AlterType(_))
                && (same(&s.object, enum_name)
                    || s.object.replace('_', "").eq_ignore_ascii_case(enum_name))
        }),
        (
            EditKind::PrimaryKeyChanged,
            OpKind::CreateConstraint {
                table: t,
                constraint: Constraint::PrimaryKey { .. },
            },
        ) => same(t, table),
        (EditKind::PrimaryKeyChanged, OpKind::DropConstraint { table: t, .. }) => same(t, table),
        (
            EditKind::PrimaryKeyChanged,
            OpKind::AlterColumn {
                table: t,
                column: c,
                ..
            },
        ) => alter_on(t, c),
        (EditKind::IndexAdded, OpKind::CreateIndex(ix)) => {
            same(&ix.table, table)
                && column.is_none_or(|c| ix.columns.iter().any(|ic| same(ic, c) || ic.contains(c)))
        }
        (
            EditKind::IndexAdded,
            OpKind::CreateTable {
                table: t,
                indexes,
                columns,
                ..
            },
        ) => {
            same(t, table)
                && (indexes
                    .iter()
                    .any(|ix| column.is_none_or(|c| ix.columns.iter().any(|ic| same(ic, c))))
                    || columns.iter().any(|cs| col_is(&cs.name) && cs.index))
        }
        (EditKind::IndexRemoved, OpKind::DropIndex { table: t, name }) => match t {
            Some(t) => same(t, table),
            None => name
                .as_deref()
                .is_some_and(|n| n.to_ascii_lowercase().contains(&table.to_ascii_lowercase())),
        },
        (
            EditKind::UniqueAdded,
            OpKind::CreateConstraint {
                table: t,
                constraint: Constraint::Unique { columns, .. },
            },
        ) => same(t, table) && column.is_none_or(|c| columns.iter().any(|x| same(x, c))),
        (EditKind::UniqueAdded, OpKind::CreateIndex(ix)) => ix.unique && same(&ix.table, table),
        (
            EditKind::UniqueAdded,
            OpKind::AddColumn {
                table: t,
                column: c,
            },
        ) => alter_on(t, &c.name) && c.unique,
        (
            EditKind::UniqueRemoved,
            OpKind::DropConstraint {
                table: t, type_, ..
            },
        ) => same(t, table) && type_.as_deref().is_none_or(|ty| ty == "unique"),
        (EditKind::UniqueRemoved, OpKind::DropIndex { table: Some(t), .. }) => same(t, table),
        (
            EditKind::ForeignKeyAdded,
            OpKind::CreateConstraint {
                table: t,
                constraint: Constraint::ForeignKey { columns, .. },
            },
        ) => same(t, table) && column.is_none_or(|c| columns.iter().any(|x| same(x, c))),
        (
            EditKind::ForeignKeyAdded,
            OpKind::AddColumn {
                table: t,
                column: c,
            },
        ) => alter_on(t, &c.name) && c.foreign_key.is_some(),
        (
            EditKind::ForeignKeyRemoved,
            OpKind::DropConstraint {
                table: t, type_, ..
            },
        ) => same(t, table) && type_.as_deref().is_none_or(|ty| ty == "foreignkey"),
        (
            EditKind::ForeignKeyRemoved | EditKind::ForeignKeyAdded,
            OpKind::DropColumn {
                table: t,
                column: c,
            },
        ) => alter_on(t, c),
        (EditKind::TableArgsChanged, kind) => match kind {
            OpKind::CreateIndex(ix) => same(&ix.table, table),
            OpKind::DropIndex { table: Some(t), .. } => same(t, table),
            OpKind::CreateConstraint { table: t, .. } | OpKind::DropConstraint { table: t, .. } => {
                same(t, table)
            }
            _ => false,
        },
        // An edit on a column or index of a table the migration creates or
        // drops whole is covered by that.
        (_, OpKind::CreateTable { table: t, .. }) => {
            same(t, table) && !matches!(edit.kind, EditKind::TableDropped | EditKind::ColumnDropped)
        }
        (_, OpKind::DropTable { table: t }) => {
            same(t, table)
                && matches!(
                    edit.kind,
                    EditKind::ColumnDropped
                        | EditKind::IndexRemoved
                        | EditKind::UniqueRemoved
                        | EditKind::ForeignKeyRemoved
                )
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alembic::operations::read_operations;
    use crate::models::diff_models;

    const OLD: &str = "class Post(Base):\n    __tablename__ = 'post'\n    id = Column(Integer, primary_key=True)\n    title = Column(String(100))\n";

    fn check(new_models: &str, upgrade: &str) -> (Vec<String>, Vec<String>) {
        let edits = diff_models("m.py", Some(OLD), Some(new_models)).edits;
        let src = format!(
            "revision = 'b'\ndown_revision = 'a'\n\ndef upgrade():\n{upgrade}\n\ndef downgrade():\n    pass\n"
        );
        let rev = AddedRevision {
            path: "v/b.py".into(),
            revision: "b".into(),
            ops: read_operations(&src),
        };
        let out = crosscheck("main", &edits, &[rev], "alembic revision --autogenerate");
        let findings = out
            .findings
            .iter()
            .map(|f| {
                format!(
                    "{} {}",
                    f.code,
                    f.table.clone().unwrap_or_default()
                        + &f.column
                            .clone()
                            .map(|c| format!(".{c}"))
                            .unwrap_or_default()
                )
            })
            .collect();
        (findings, out.notes)
    }

    #[test]
    fn matching_rules() {
        let add = format!("{OLD}    body = Column(Text)\n");
        let cases: &[(&str, &str, &str, &[&str])] = &[
            (
                "covered add",
                &add,
                "    op.add_column('post', sa.Column('body', sa.Text()))",
                &[],
            ),
            (
                "uncovered add",
                &add,
                "    pass",
                &["missing-migration post.body"],
            ),
            (
                "add on the wrong table",
                &add,
                "    op.add_column('user', sa.Column('body', sa.Text()))",
                &["missing-migration post.body", "unmatched-operation user"],
            ),
            (
                "type change needs type_",
                &OLD.replace("String(100)", "String(200)"),
                "    op.alter_column('post', 'title', nullable=True)",
                &["missing-migration post.title", "unmatched-operation post"],
            ),
            (
                "type change covered",
                &OLD.replace("String(100)", "String(200)"),
                "    op.alter_column('post', 'title', type_=sa.String(200))",
                &[],
            ),
            (
                "python default needs no DDL",
                &OLD.replace("String(100))", "String(100), default='x')"),
                "    op.execute('UPDATE post SET title = 1')",
                &[],
            ),
        ];
        for (name, models, upgrade, want) in cases {
            let (got, _) = check(models, upgrade);
            assert_eq!(got, *want, "{name}");
        }
    }

    #[test]
    fn unsure_edits_fall_back_with_a_note() {
        let dynamic = "class Post(Base):\n    __tablename__ = 'post'\n    id = Column(Integer, primary_key=True)\n    title = Column(String(100))\n\nsetattr(Post, 'extra', Column(Integer))\n";
        let (findings, notes) = check(
            dynamic,
            "    op.add_column('post', sa.Column('extra', sa.Integer()))",
        );
        assert!(findings.is_empty(), "{findings:?}");
        assert!(
            notes
                .iter()
                .any(|n| n.contains("could not be resolved statically")),
            "{notes:?}"
        );
    }

    #[test]
    fn help_suggests_the_operation() {
        let add = format!("{OLD}    body = Column(Text, nullable=False)\n");
        let edits = diff_models("m.py", Some(OLD), Some(&add)).edits;
        let out = crosscheck("main", &edits, &[], "alembic revision --autogenerate");
        let help = out.findings[0].help.clone().unwrap_or_default();
        assert!(
            help.contains("op.add_column('post', sa.Column('body', sa.Text, nullable=False))"),
            "{help}"
        );
    }
}
