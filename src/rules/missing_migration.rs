//! `missing-migration`: a schema-relevant model edit with no migration in
//! the change. Two verdicts: the file-level one (an environment whose models
//! changed gains no revision at all) and the per-edit one (the change adds a
//! revision, but no operation in it covers a resolved edit; the matching is
//! `crosscheck.rs`).

use std::collections::{BTreeMap, BTreeSet};

use super::Code;
use crate::findings::Finding;
use crate::models::FileEdits;
use crate::schema::{ColumnSpec, EditKind, SchemaEdit};

/// One changed model file and the environments it belongs to.
#[derive(Debug, Clone)]
pub struct ModelChange {
    pub path: String,
    pub edits: FileEdits,
    pub environments: Vec<String>,
}

/// How to name an environment's migrations in messages and help.
#[derive(Debug, Clone, Default)]
pub struct EnvHelp {
    /// `migrations/versions`
    pub versions: String,
    /// `alembic revision --autogenerate -m "..."`, with `-c`/`-n` as needed.
    pub generate: String,
}

const SHOWN_EDITS: usize = 3;

pub fn describe_edits(edits: &FileEdits) -> String {
    let mut parts: Vec<String> = Vec::new();
    for e in &edits.edits {
        let text = if e.table.is_some() {
            e.to_string()
        } else {
            format!("{} (line {})", e.kind.phrase(), e.line)
        };
        if !parts.contains(&text) {
            parts.push(text);
        }
    }
    let total = parts.len();
    parts.truncate(SHOWN_EDITS);
    let mut out = parts.join(", ");
    if total > SHOWN_EDITS {
        out.push_str(&format!(" and {} more", total - SHOWN_EDITS));
    }
    out
}

/// One `missing-migration` error per model file with schema edits whose
/// environments gained no revision. A file shared by several environments
/// (one ini, several sections) is satisfied by a revision in any of them.
pub fn missing_migrations(
    changes: &[ModelChange],
    gained: &BTreeSet<String>,
    help: &BTreeMap<String, EnvHelp>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for change in changes {
        if !change.edits.is_relevant() || change.environments.is_empty() {
            continue;
        }
        if change.environments.iter().any(|e| gained.contains(e)) {
            continue;
        }
        let env = &change.environments[0];
        let h = help.get(env).cloned().unwrap_or_default();
        let message = format!(
            "the schema changes ({}) but no new revision in {} comes with it",
            describe_edits(&change.edits),
            if h.versions.is_empty() {
                "the migrations folder".to_string()
            } else {
                format!("`{}`", h.versions)
            },
        );
        let mut finding = Finding::error(Code::MissingMigration, message)
            .at(change.path.clone(), change.edits.first_line())
            .in_env(env.clone())
            .with_help(format!(
                "generate the migration and commit it with this change: `{}`; review what it generated. If the edit really needs no migration, add `# alembot: ignore` to the line",
                h.generate
            ));
        if let Some(first) = change
            .edits
            .edits
            .iter()
            .find(|e| e.line == change.edits.first_line().unwrap_or(0))
        {
            if let Some(t) = &first.table {
                finding = finding.with_table(t.clone());
            }
            if let Some(c) = &first.column {
                finding = finding.with_column(c.clone());
            }
        }
        out.push(finding);
    }
    out
}

fn verb(kind: &EditKind) -> &'static str {
    match kind {
        EditKind::TableAdded => "creates it",
        EditKind::TableDropped => "drops it",
        EditKind::TableRenamed { .. } => "renames it",
        EditKind::ColumnAdded => "adds it",
        EditKind::ColumnDropped => "drops it",
        EditKind::IndexAdded => "creates that index",
        EditKind::IndexRemoved => "drops that index",
        EditKind::UniqueAdded => "adds that constraint",
        EditKind::UniqueRemoved | EditKind::ForeignKeyRemoved => "drops that constraint",
        EditKind::ForeignKeyAdded => "adds that foreign key",
        EditKind::TableArgsChanged => "changes its indexes or constraints",
        _ => "alters it",
    }
}

/// `missing-migration` for one resolved model edit no operation in the
/// change covers, with the operation that would.
pub(super) fn uncovered(
    environment: &str,
    edit: &SchemaEdit,
    all: &[SchemaEdit],
    generate: &str,
) -> Finding {
    let message = format!(
        "`{}` {} in the model; no migration in this change {}",
        edit.target(),
        edit.kind.phrase(),
        verb(&edit.kind)
    );
    let mut help = format!(
        "add to the new revision's upgrade(): `{}`",
        suggested_op(edit, all)
    );
    if matches!(edit.kind, EditKind::NullableChanged { to: false }) {
        help.push_str(" (backfill existing NULLs first)");
    }
    help.push_str(&format!(", or regenerate it with `{generate}`"));
    let mut f = Finding::error(Code::MissingMigration, message)
        .at(edit.file.clone(), Some(edit.line).filter(|&l| l > 0))
        .in_env(environment)
        .with_help(help);
    if let Some(t) = &edit.table {
        f = f.with_table(t.clone());
    }
    if let Some(c) = &edit.column {
        f = f.with_column(c.clone());
    }
    f
}

/// An Alembic type expression for a normalised model type.
fn sa_type(t: Option<&str>) -> String {
    match t {
        Some(t) if !t.is_empty() && t.chars().next().is_some_and(char::is_uppercase) => {
            format!("sa.{t}")
        }
        _ => "sa.<Type>".into(),
    }
}

fn column_expr(spec: &ColumnSpec) -> String {
    let mut s = format!(
        "sa.Column('{}', {}",
        spec.name,
        sa_type(spec.type_.as_deref())
    );
    if let Some(fk) = &spec.foreign_key {
        s.push_str(&format!(", sa.ForeignKey('{fk}')"));
    }
    if spec.primary_key {
        s.push_str(", primary_key=True");
    }
    s.push_str(&format!(
        ", nullable={}",
        if spec.nullable.unwrap_or(!spec.primary_key) {
            "True"
        } else {
            "False"
        }
    ));
    if let Some(sd) = &spec.server_default {
        s.push_str(&format!(", server_default={sd}"));
    }
    s.push(')');
    s
}

/// The Alembic operation that would cover `edit`.
fn suggested_op(edit: &SchemaEdit, all: &[SchemaEdit]) -> String {
    let t = edit.table.as_deref().unwrap_or("?");
    let c = edit.column.as_deref().unwrap_or("?");
    let spec = edit.spec.clone().unwrap_or_else(|| ColumnSpec {
        name: c.to_string(),
        ..ColumnSpec::default()
    });
    match &edit.kind {
        EditKind::TableAdded => {
            let cols: Vec<String> = all
                .iter()
                .filter(|e| e.kind == EditKind::ColumnAdded && e.table.as_deref() == Some(t))
                .filter_map(|e| e.spec.as_ref().map(column_expr))
                .collect();
            format!("op.create_table('{t}', {})", cols.join(", "))
        }
        EditKind::TableDropped => format!("op.drop_table('{t}')"),
        EditKind::TableRenamed { from } => format!("op.rename_table('{from}', '{t}')"),
        EditKind::ColumnAdded => format!("op.add_column('{t}', {})", column_expr(&spec)),
        EditKind::ColumnDropped => format!("op.drop_column('{t}', '{c}')"),
        EditKind::TypeChanged { from, to } => format!(
            "op.alter_column('{t}', '{c}', type_={}, existing_type={})",
            sa_type(to.as_deref()),
            sa_type(from.as_deref())
        ),
        EditKind::NullableChanged { to } => format!(
            "op.alter_column('{t}', '{c}', nullable={})",
            if *to { "True" } else { "False" }
        ),
        EditKind::ServerDefaultChanged => format!(
            "op.alter_column('{t}', '{c}', server_default={})",
            spec.server_default.as_deref().unwrap_or("None")
        ),
        EditKind::OptionChanged | EditKind::DefaultChanged => {
            format!("op.alter_column('{t}', '{c}', ...)")
        }
        EditKind::PrimaryKeyChanged => format!("op.create_primary_key('pk_{t}', '{t}', ['{c}'])"),
        EditKind::IndexAdded => format!("op.create_index(op.f('ix_{t}_{c}'), '{t}', ['{c}'])"),
        EditKind::IndexRemoved => format!("op.drop_index('<index name>', table_name='{t}')"),
        EditKind::UniqueAdded => format!("op.create_unique_constraint(None, '{t}', ['{c}'])"),
        EditKind::UniqueRemoved => {
            format!("op.drop_constraint('<constraint name>', '{t}', type_='unique')")
        }
        EditKind::ForeignKeyAdded => {
            let (rt, rc) = spec
                .foreign_key
                .as_deref()
                .and_then(|fk| fk.rsplit_once('.'))
                .unwrap_or(("<table>", "<column>"));
            format!("op.create_foreign_key(None, '{t}', '{rt}', ['{c}'], ['{rc}'])")
        }
        EditKind::ForeignKeyRemoved => {
            format!("op.drop_constraint('<constraint name>', '{t}', type_='foreignkey')")
        }
        EditKind::EnumMemberAdded { enum_name, member } => format!(
            "op.execute(\"ALTER TYPE {} ADD VALUE '{member}'\") on PostgreSQL, or op.alter_column('{t}', '{c}', type_=sa.Enum(...)) elsewhere",
            enum_name.to_ascii_lowercase()
        ),
        EditKind::EnumMemberRemoved { .. } => format!(
            "op.alter_column('{t}', '{c}', type_=sa.Enum(...)) (recreate the type on PostgreSQL)"
        ),
        EditKind::TableArgsChanged => format!(
            "the matching op.create_index / op.create_unique_constraint / op.create_check_constraint on '{t}'"
        ),
        EditKind::Unresolved => "the operation autogenerate produces".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::diff_models;

    fn change(envs: &[&str]) -> ModelChange {
        ModelChange {
            path: "app/models.py".into(),
            edits: diff_models(
                "app/models.py",
                Some(
                    "class P(Base):\n    __tablename__ = 'post'\n    id = Column(Integer, primary_key=True)\n",
                ),
                Some(
                    "class P(Base):\n    __tablename__ = 'post'\n    id = Column(Integer, primary_key=True)\n    subtitle = Column(String(200))\n",
                ),
            ),
            environments: envs.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn help() -> BTreeMap<String, EnvHelp> {
        BTreeMap::from([(
            "main".to_string(),
            EnvHelp {
                versions: "migrations/versions".into(),
                generate: "alembic revision --autogenerate -m \"describe the change\"".into(),
            },
        )])
    }

    #[test]
    fn edit_without_revision_is_an_error_at_the_first_line() {
        let f = missing_migrations(&[change(&["main"])], &BTreeSet::new(), &help());
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].code, "missing-migration");
        assert_eq!(f[0].line, Some(4));
        assert_eq!(f[0].table.as_deref(), Some("post"));
        assert!(
            f[0].message.contains("post.subtitle added"),
            "{}",
            f[0].message
        );
        assert!(
            f[0].message.contains("`migrations/versions`"),
            "{}",
            f[0].message
        );
        assert!(
            f[0].help
                .as_deref()
                .unwrap()
                .contains("alembic revision --autogenerate")
        );
    }

    #[test]
    fn a_revision_in_the_environment_satisfies_it() {
        let gained = BTreeSet::from(["main".to_string()]);
        assert!(missing_migrations(&[change(&["main"])], &gained, &help()).is_empty());
    }

    #[test]
    fn a_revision_in_another_environment_does_not() {
        let gained = BTreeSet::from(["other".to_string()]);
        assert_eq!(
            missing_migrations(&[change(&["main"])], &gained, &help()).len(),
            1
        );
    }

    #[test]
    fn shared_file_is_satisfied_by_any_of_its_environments() {
        let gained = BTreeSet::from(["analytics".to_string()]);
        assert!(missing_migrations(&[change(&["main", "analytics"])], &gained, &help()).is_empty());
    }

    #[test]
    fn snapshot() {
        let file_level = missing_migrations(&[change(&["main"])], &BTreeSet::new(), &help());
        let old = "class Post(Base):\n    __tablename__ = 'post'\n    id = Column(Integer, primary_key=True)\n";
        let new = format!("{old}    body = Column(Text, nullable=False)\n");
        let edits = diff_models("app/models.py", Some(old), Some(&new)).edits;
        let per_edit = crate::rules::crosscheck::crosscheck(
            "main",
            &edits,
            &[],
            "alembic revision --autogenerate -m \"describe the change\"",
        )
        .findings;
        let all: Vec<Finding> = file_level.into_iter().chain(per_edit).collect();
        insta::assert_snapshot!(crate::rules::test_support::render(&all));
    }
}
