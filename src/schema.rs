//! The vocabulary both sides of the static cross-check speak: what a model
//! edit changes in the schema, and what a migration operation does to it.
//! Plain data, no parsing here.

use std::fmt;

use serde::Serialize;

/// A column as a model or a migration states it. `None` means "not stated",
/// which is different from "stated false".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ColumnSpec {
    /// The database name of the column.
    pub name: String,
    /// The type as written, normalised (`String(30)`, `Integer`, `Enum(Status)`),
    /// without module prefixes such as `sa.`.
    pub type_: Option<String>,
    pub nullable: Option<bool>,
    pub primary_key: bool,
    pub unique: bool,
    pub index: bool,
    /// Python-side default (`default=`).
    pub default: Option<String>,
    pub server_default: Option<String>,
    /// Target of a `ForeignKey(...)`: `"user.id"`.
    pub foreign_key: Option<String>,
}

/// What a schema edit does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum EditKind {
    TableAdded,
    TableDropped,
    ColumnAdded,
    ColumnDropped,
    TypeChanged {
        from: Option<String>,
        to: Option<String>,
    },
    NullableChanged {
        to: bool,
    },
    DefaultChanged,
    ServerDefaultChanged,
    PrimaryKeyChanged,
    IndexAdded,
    IndexRemoved,
    UniqueAdded,
    UniqueRemoved,
    ForeignKeyAdded,
    ForeignKeyRemoved,
    /// A member of an `enum.Enum` that a column uses.
    EnumMemberAdded {
        enum_name: String,
        member: String,
    },
    EnumMemberRemoved {
        enum_name: String,
        member: String,
    },
    /// `__table_args__`, a `Table(...)` call, a constraint or an index whose
    /// exact effect the static reading does not resolve.
    TableArgsChanged,
    /// The table itself was renamed (`__tablename__` changed).
    TableRenamed {
        from: String,
    },
    /// Schema-relevant, but what it does could not be resolved (dynamic
    /// names, metaprogramming). The cross-check falls back to the
    /// file-level verdict for these.
    Unresolved,
}

impl EditKind {
    /// A short phrase for messages: "added", "type changed", ...
    pub fn phrase(&self) -> String {
        match self {
            EditKind::TableAdded => "table added".into(),
            EditKind::TableDropped => "table removed".into(),
            EditKind::ColumnAdded => "added".into(),
            EditKind::ColumnDropped => "removed".into(),
            EditKind::TypeChanged { from, to } => match (from, to) {
                (Some(f), Some(t)) => format!("type changed from {f} to {t}"),
                _ => "type changed".into(),
            },
            EditKind::NullableChanged { to: true } => "made nullable".into(),
            EditKind::NullableChanged { to: false } => "made NOT NULL".into(),
            EditKind::DefaultChanged => "default changed".into(),
            EditKind::ServerDefaultChanged => "server default changed".into(),
            EditKind::PrimaryKeyChanged => "primary key changed".into(),
            EditKind::IndexAdded => "index added".into(),
            EditKind::IndexRemoved => "index removed".into(),
            EditKind::UniqueAdded => "unique constraint added".into(),
            EditKind::UniqueRemoved => "unique constraint removed".into(),
            EditKind::ForeignKeyAdded => "foreign key added".into(),
            EditKind::ForeignKeyRemoved => "foreign key removed".into(),
            EditKind::EnumMemberAdded { enum_name, member } => {
                format!("enum {enum_name} gained member {member}")
            }
            EditKind::EnumMemberRemoved { enum_name, member } => {
                format!("enum {enum_name} lost member {member}")
            }
            EditKind::TableArgsChanged => "table arguments changed".into(),
            EditKind::TableRenamed { from } => format!("renamed from {from}"),
            EditKind::Unresolved => "changed".into(),
        }
    }
}

/// One schema-relevant edit in a model file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SchemaEdit {
    /// Repository-relative model file.
    pub file: String,
    /// Head-side line of the edit (for a removal: the nearest surviving line).
    pub line: u32,
    /// The database table, when it could be resolved.
    pub table: Option<String>,
    /// The database column name, for column-level edits.
    pub column: Option<String>,
    pub kind: EditKind,
    /// The mapped class (or `Table` variable) the edit is in.
    pub owner: Option<String>,
    /// The column as the model now states it (or stated it, for a removal).
    pub spec: Option<ColumnSpec>,
}

impl SchemaEdit {
    /// `post.subtitle`, `post`, or the owner's name when the table is unknown.
    pub fn target(&self) -> String {
        match (&self.table, &self.column) {
            (Some(t), Some(c)) => format!("{t}.{c}"),
            (Some(t), None) => t.clone(),
            (None, Some(c)) => c.clone(),
            (None, None) => self.owner.clone().unwrap_or_else(|| "?".into()),
        }
    }

    pub fn is_resolved(&self) -> bool {
        self.table.is_some() && self.kind != EditKind::Unresolved
    }
}

impl fmt::Display for SchemaEdit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.target(), self.kind.phrase())
    }
}
