//! Lints for the migrations a change adds: operations that lose data, fail
//! on tables that already hold rows, or cannot be undone. They read the
//! static operations model only; the dynamic job confirms them against a
//! real database.
//!
//! "Existing table" means not created earlier in the same `upgrade()`: an
//! operation on a table the migration itself creates meets no rows.

use crate::alembic::operations::{Body, Constraint, MigrationOps, OpKind, Operation};
use crate::alembic::revision::RevisionFile;
use crate::alembic::sql::{AlterTypeAction, SqlKind};
use crate::alembic::types::same_type;
use crate::findings::{Finding, code};
use crate::schema::ColumnSpec;

/// Every lint finding for one revision the change adds, in line order.
pub fn lint_migration(
    revision: &RevisionFile,
    ops: &MigrationOps,
    environment: &str,
) -> Vec<Finding> {
    let up = &ops.upgrade.ops;
    let mut out = Vec::new();
    for (i, op) in up.iter().enumerate() {
        let before = &up[..i];
        destructive(op, before, &mut out);
        not_null(op, before, &mut out);
        enum_change(op, &mut out);
        unique_on_existing(op, before, &mut out);
    }
    possible_renames(ops, &mut out);
    empty_downgrade(revision, ops, &mut out);
    out.sort_by_key(|(line, _)| *line);
    out.into_iter()
        .map(|(line, f)| {
            f.at(revision.path.clone(), Some(line))
                .in_env(environment)
                .with_revision(revision.revision.clone())
        })
        .collect()
}

/// Findings under construction, with the line they belong to.
type Out = Vec<(u32, Finding)>;

fn same(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

fn created_before(before: &[Operation], table: &str) -> bool {
    before
        .iter()
        .any(|op| matches!(&op.kind, OpKind::CreateTable { table: t, .. } if same(t, table)))
}

/// Whether `table.column` was added earlier in the upgrade, and with which
/// server default.
fn added_before<'o>(before: &'o [Operation], table: &str, column: &str) -> Option<&'o ColumnSpec> {
    before.iter().find_map(|op| match &op.kind {
        OpKind::AddColumn {
            table: t,
            column: c,
        } if same(t, table) && same(&c.name, column) => Some(c),
        _ => None,
    })
}

fn destructive(op: &Operation, before: &[Operation], out: &mut Out) {
    const KEEP_DATA: &str = "If the data may still be needed, keep it: rename it (or copy it \
         into an archive table) in this release and drop it in a later one, once no deployed \
         code reads it. downgrade() cannot bring deleted data back.";
    let drop_table = |table: &str, how: &str| {
        Finding::warning(
            code::DESTRUCTIVE_OPERATION,
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
                    code::DESTRUCTIVE_OPERATION,
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

fn not_null(op: &Operation, before: &[Operation], out: &mut Out) {
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
                    code::NOT_NULL_WITHOUT_DEFAULT,
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
                    code::NOT_NULL_WITHOUT_DEFAULT,
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

fn enum_change(op: &Operation, out: &mut Out) {
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
                        code::ENUM_CHANGE,
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
                    code::ENUM_CHANGE,
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

fn unique_on_existing(op: &Operation, before: &[Operation], out: &mut Out) {
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
        code::UNIQUE_ON_EXISTING_TABLE,
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

/// A dropped column and an added one of the same type on the same table.
/// The dropped column's type comes from the downgrade, which adds it back
/// (autogenerate writes it as reflected: `sa.VARCHAR(length=100)`).
fn possible_renames(ops: &MigrationOps, out: &mut Out) {
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
                    code::POSSIBLE_RENAME,
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

fn empty_downgrade(revision: &RevisionFile, ops: &MigrationOps, out: &mut Out) {
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
        Finding::warning(code::EMPTY_DOWNGRADE, message).with_help(
            "Write the reverse operations in downgrade() (`alembic revision --autogenerate` \
             drafts them for schema changes). If the migration truly cannot be undone, say why \
             in its docstring and suppress this warning.",
        ),
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alembic::operations::read_operations;
    use crate::alembic::operations::tests::revision_file;
    use crate::alembic::revision::parse_revision;
    use crate::findings::Severity;

    const PATH: &str = "migrations/versions/1975ea83b712_change.py";

    fn lint(upgrade: &str, downgrade: &str) -> Vec<Finding> {
        let src = revision_file("", upgrade, downgrade);
        let revision = parse_revision(PATH, &src).unwrap_or_else(|e| panic!("{e}"));
        lint_migration(&revision, &read_operations(&src), "main")
    }

    /// `code@line` for each finding.
    fn codes(upgrade: &str, downgrade: &str) -> Vec<String> {
        lint(upgrade, downgrade)
            .iter()
            .map(|f| format!("{}@{}", f.code, f.line.unwrap_or(0)))
            .collect()
    }

    const PASS: &str = "    pass";

    #[test]
    fn lint_cases() {
        // (case, upgrade body from line 22, downgrade body, findings)
        let cases: &[(&str, &str, &str, &[&str])] = &[
            (
                "autogenerate add_column with its downgrade is clean",
                "    # ### commands auto generated by Alembic - please adjust! ###\n    op.add_column('user', sa.Column('bio', sa.Text(), nullable=True))\n    # ### end Alembic commands ###",
                "    # ### commands auto generated by Alembic - please adjust! ###\n    op.drop_column('user', 'bio')\n    # ### end Alembic commands ###",
                &[],
            ),
            (
                "drop_table of an existing table",
                "    op.drop_table('legacy_audit')",
                "    op.create_table('legacy_audit', sa.Column('id', sa.Integer()))",
                &["destructive-operation@22"],
            ),
            (
                "drop_column of an existing column",
                "    op.drop_column('user', 'fax')",
                "    op.add_column('user', sa.Column('fax', sa.String(20)))",
                &["destructive-operation@22"],
            ),
            (
                "batch drop_column",
                "    with op.batch_alter_table('user', schema=None) as batch_op:\n        batch_op.drop_column('fax')",
                "    op.add_column('user', sa.Column('fax', sa.String(20)))",
                &["destructive-operation@23"],
            ),
            (
                "dropping a table created earlier in the same upgrade",
                "    op.create_table('tmp', sa.Column('id', sa.Integer()))\n    op.drop_table('tmp')",
                PASS,
                &["empty-downgrade@25"],
            ),
            (
                "raw SQL DROP TABLE",
                "    op.execute('DROP TABLE IF EXISTS old_sessions')",
                "    op.execute('CREATE TABLE old_sessions (id int)')",
                &["destructive-operation@22"],
            ),
            (
                "drop_table with a non-literal name is still reported",
                "    op.drop_table(TABLE_NAME)",
                "    op.create_table(TABLE_NAME)",
                &["destructive-operation@22"],
            ),
            (
                "NOT NULL column without a server default",
                "    op.add_column('user', sa.Column('email', sa.String(length=255), nullable=False))",
                "    op.drop_column('user', 'email')",
                &["not-null-without-default@22"],
            ),
            (
                "NOT NULL column in a batch block",
                "    with op.batch_alter_table('user') as batch_op:\n        batch_op.add_column(sa.Column('email', sa.String(), nullable=False))",
                "    op.drop_column('user', 'email')",
                &["not-null-without-default@23"],
            ),
            (
                "NOT NULL column with a server default",
                "    op.add_column('user', sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False))",
                "    op.drop_column('user', 'active')",
                &[],
            ),
            (
                "NOT NULL column on a table created in the same upgrade",
                "    op.create_table('team', sa.Column('id', sa.Integer(), nullable=False))\n    op.add_column('team', sa.Column('name', sa.String(), nullable=False))",
                "    op.drop_table('team')",
                &[],
            ),
            (
                "alter_column NOT NULL without a backfill",
                "    op.alter_column('user', 'email', existing_type=sa.VARCHAR(length=255), nullable=False)",
                "    op.alter_column('user', 'email', existing_type=sa.VARCHAR(length=255), nullable=True)",
                &["not-null-without-default@22"],
            ),
            (
                "alter_column NOT NULL after an UPDATE backfill",
                "    op.execute(\"UPDATE \\\"user\\\" SET email = 'unknown' WHERE email IS NULL\")\n    op.alter_column('user', 'email', nullable=False)",
                "    op.alter_column('user', 'email', nullable=True)",
                &[],
            ),
            (
                "alter_column NOT NULL after a backfill of another table",
                "    op.execute(\"UPDATE account SET email = '' WHERE email IS NULL\")\n    op.alter_column('user', 'email', nullable=False)",
                "    op.alter_column('user', 'email', nullable=True)",
                &["not-null-without-default@23"],
            ),
            (
                "alter_column NOT NULL after SQL that cannot be read",
                "    op.execute(backfill_sql)\n    op.alter_column('user', 'email', nullable=False)",
                "    op.alter_column('user', 'email', nullable=True)",
                &[],
            ),
            (
                "batch alter_column NOT NULL after a Core backfill",
                "    user = sa.table('user', sa.column('email'))\n    op.execute(user.update().values(email=''))\n    with op.batch_alter_table('user') as batch_op:\n        batch_op.alter_column('email', nullable=False)",
                "    op.alter_column('user', 'email', nullable=True)",
                &[],
            ),
            (
                "added with a server default, then made NOT NULL",
                "    op.add_column('user', sa.Column('plan', sa.String(), server_default='free', nullable=True))\n    op.alter_column('user', 'plan', nullable=False)",
                "    op.drop_column('user', 'plan')",
                &[],
            ),
            (
                "added nullable without default, then made NOT NULL",
                "    op.add_column('user', sa.Column('plan', sa.String(), nullable=True))\n    op.alter_column('user', 'plan', nullable=False)",
                "    op.drop_column('user', 'plan')",
                &["not-null-without-default@23"],
            ),
            (
                "ALTER TYPE ADD VALUE in an autocommit block",
                "    with op.get_context().autocommit_block():\n        op.execute(\"ALTER TYPE order_status ADD VALUE 'refunded'\")",
                PASS,
                &["enum-change@23", "empty-downgrade@25"],
            ),
            (
                "ALTER TYPE RENAME VALUE",
                "    op.execute(sa.text(\"ALTER TYPE mood RENAME VALUE 'sad' TO 'blue'\"))",
                "    op.execute(sa.text(\"ALTER TYPE mood RENAME VALUE 'blue' TO 'sad'\"))",
                &["enum-change@22"],
            ),
            (
                "alter_column to a new Enum type",
                "    op.alter_column('order', 'status', existing_type=sa.VARCHAR(), type_=sa.Enum('new', 'paid', name='order_status'), postgresql_using='status::order_status')",
                "    op.alter_column('order', 'status', type_=sa.VARCHAR())",
                &["enum-change@22"],
            ),
            (
                "drop and add of the same type looks like a rename",
                "    op.add_column('user', sa.Column('full_name', sa.String(length=100), nullable=True))\n    op.drop_column('user', 'name')",
                "    op.add_column('user', sa.Column('name', sa.VARCHAR(length=100), autoincrement=False, nullable=True))\n    op.drop_column('user', 'full_name')",
                &["possible-rename@22", "destructive-operation@23"],
            ),
            (
                "drop and add of different types is not a rename",
                "    op.add_column('user', sa.Column('age', sa.Integer(), nullable=True))\n    op.drop_column('user', 'name')",
                "    op.add_column('user', sa.Column('name', sa.VARCHAR(length=100), nullable=True))\n    op.drop_column('user', 'age')",
                &["destructive-operation@23"],
            ),
            (
                "unique constraint on an existing table",
                "    op.create_unique_constraint('uq_user_email', 'user', ['email'])",
                "    op.drop_constraint('uq_user_email', 'user', type_='unique')",
                &["unique-on-existing-table@22"],
            ),
            (
                "unique index on an existing table",
                "    op.create_index(op.f('ix_user_email'), 'user', ['email'], unique=True)",
                "    op.drop_index(op.f('ix_user_email'), table_name='user')",
                &["unique-on-existing-table@22"],
            ),
            (
                "non-unique index is fine",
                "    op.create_index(op.f('ix_user_email'), 'user', ['email'], unique=False)",
                "    op.drop_index(op.f('ix_user_email'), table_name='user')",
                &[],
            ),
            (
                "unique index on a table created in the same upgrade",
                "    op.create_table('team', sa.Column('slug', sa.String()))\n    op.create_index('ix_team_slug', 'team', ['slug'], unique=True)",
                "    op.drop_table('team')",
                &[],
            ),
            (
                "unique constraint on a column just added without default",
                "    op.add_column('user', sa.Column('token', sa.String(), nullable=True))\n    op.create_unique_constraint('uq_user_token', 'user', ['token'])",
                "    op.drop_column('user', 'token')",
                &[],
            ),
            (
                "unique column added with a server default",
                "    op.add_column('user', sa.Column('code', sa.String(), unique=True, server_default='x'))",
                "    op.drop_column('user', 'code')",
                &["unique-on-existing-table@22"],
            ),
            (
                "empty downgrade after a schema change",
                "    op.add_column('user', sa.Column('bio', sa.Text(), nullable=True))",
                "    # ### commands auto generated by Alembic - please adjust! ###\n    pass\n    # ### end Alembic commands ###",
                &["empty-downgrade@24"],
            ),
            (
                "downgrade raises NotImplementedError",
                "    op.add_column('user', sa.Column('bio', sa.Text(), nullable=True))",
                "    raise NotImplementedError(\"data migration cannot be undone\")",
                &["empty-downgrade@24"],
            ),
            ("merge revision with empty functions", PASS, PASS, &[]),
        ];
        for (case, upgrade, downgrade, want) in cases {
            assert_eq!(codes(upgrade, downgrade), *want, "{case}");
        }
    }

    #[test]
    fn missing_downgrade_is_reported_at_upgrade() {
        let src = "\"\"\"x\"\"\"\nfrom alembic import op\nrevision = 'a1'\ndown_revision = None\n\n\
                   def upgrade():\n    op.drop_column('user', 'fax')\n";
        let revision = parse_revision(PATH, src).unwrap_or_else(|e| panic!("{e}"));
        let findings = lint_migration(&revision, &read_operations(src), "main");
        let got: Vec<String> = findings
            .iter()
            .map(|f| format!("{}@{}", f.code, f.line.unwrap_or(0)))
            .collect();
        assert_eq!(got, ["empty-downgrade@6", "destructive-operation@7"]);
        assert!(findings[0].message.contains("no downgrade()"));
    }

    #[test]
    fn not_null_finding_explains_the_safe_steps() {
        let findings = lint(
            "    op.add_column('user', sa.Column('email', sa.String(255), nullable=False))",
            "    op.drop_column('user', 'email')",
        );
        let f = &findings[0];
        assert_eq!(f.severity, Severity::Error);
        assert_eq!(f.file.as_deref(), Some(PATH));
        assert_eq!(f.environment.as_deref(), Some("main"));
        assert_eq!(f.revision.as_deref(), Some("1975ea83b712"));
        assert_eq!(
            (f.table.as_deref(), f.column.as_deref()),
            (Some("user"), Some("email"))
        );
        assert_eq!(
            f.message,
            "adds NOT NULL column `user.email` without a server default: the upgrade fails on a \
             table that already has rows"
        );
        let help = f.help.as_deref().unwrap_or_default();
        for step in [
            "add the column as nullable",
            "server_default=",
            "UPDATE user SET email = ... WHERE email IS NULL",
            "op.alter_column(\"user\", \"email\", nullable=False)",
        ] {
            assert!(help.contains(step), "{step} in {help}");
        }
        let alter = lint(
            "    op.alter_column('user', 'email', nullable=False)",
            "    op.alter_column('user', 'email', nullable=True)",
        );
        assert_eq!(alter[0].severity, Severity::Warning);
    }

    #[test]
    fn rename_finding_suggests_alter_column() {
        let findings = lint(
            "    op.add_column('user', sa.Column('full_name', sa.String(100)))\n    op.drop_column('user', 'name')",
            "    op.add_column('user', sa.Column('name', sa.String(100)))\n    op.drop_column('user', 'full_name')",
        );
        let f = findings
            .iter()
            .find(|f| f.code == code::POSSIBLE_RENAME)
            .expect("possible-rename");
        assert_eq!(f.severity, Severity::Warning);
        assert!(
            f.help
                .as_deref()
                .unwrap_or_default()
                .contains("`op.alter_column(\"user\", \"name\", new_column_name=\"full_name\")`"),
            "{:?}",
            f.help
        );
        assert!(f.message.contains("(String(100))"), "{}", f.message);
    }

    #[test]
    fn enum_and_destructive_help_say_why() {
        let findings = lint(
            "    op.execute(\"ALTER TYPE status ADD VALUE 'archived'\")\n    op.drop_table('audit')",
            "    op.create_table('audit')",
        );
        let help = |c: &str| {
            findings
                .iter()
                .find(|f| f.code == c)
                .and_then(|f| f.help.clone())
                .unwrap_or_default()
        };
        let enum_help = help(code::ENUM_CHANGE);
        assert!(enum_help.contains("PostgreSQL 12"), "{enum_help}");
        assert!(enum_help.contains("autocommit_block"), "{enum_help}");
        assert!(enum_help.contains("cannot be removed"), "{enum_help}");
        let drop_help = help(code::DESTRUCTIVE_OPERATION);
        assert!(drop_help.contains("rename it"), "{drop_help}");
        assert!(drop_help.contains("archive"), "{drop_help}");
        assert!(findings.iter().all(|f| f.severity == Severity::Warning));
    }
}
