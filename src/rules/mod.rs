//! The rule catalogue: every finding code alembot emits, declared once.
//!
//! [`Code`] names a rule; [`RULES`] describes each one (what it catches,
//! which stage emits it, how severe it is by default, where its help text
//! lives). SARIF rule metadata, `checks:` validation and README's table are
//! derived from this table; the tests below fail when a code has no emitter
//! or an emitter uses a code that is not declared here.
//!
//! The static rules live beside this file, one file per rule. The dynamic
//! rules are emitted by the Python helper (`src/job/`), which names the codes
//! it emits as string literals; the tests check those against this table.

use std::fmt;
use std::str::FromStr;

use crate::findings::Severity;

pub mod crosscheck;
pub mod dangling_revision;
pub mod destructive_operation;
pub mod duplicate_revision;
pub mod edited_migration;
pub mod empty_downgrade;
pub mod enum_change;
pub mod graph;
pub mod migration_lint;
pub mod missing_migration;
pub mod multiple_heads;
pub mod not_null_without_default;
pub mod possible_rename;
pub mod revision_cycle;
pub mod stale_parent;
pub mod unique_on_existing_table;
pub mod unmatched_operation;

#[cfg(test)]
pub(crate) mod test_support;

/// Declares [`Code`] with its stable string form in one place.
macro_rules! codes {
    ($($variant:ident => $text:literal,)*) => {
        /// A stable finding code. Users grep and suppress these; never rename one.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $($variant,)*
        }

        impl Code {
            /// Every code, in catalogue order.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The kebab-case form used in reports and in `checks:`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $text,)*
                }
            }
        }
    };
}

codes! {
    MissingMigration => "missing-migration",
    UnmatchedOperation => "unmatched-operation",
    MultipleHeads => "multiple-heads",
    StaleParent => "stale-parent",
    DuplicateRevision => "duplicate-revision",
    DanglingRevision => "dangling-revision",
    RevisionCycle => "revision-cycle",
    EditedMigration => "edited-migration",
    DestructiveOperation => "destructive-operation",
    NotNullWithoutDefault => "not-null-without-default",
    UniqueOnExistingTable => "unique-on-existing-table",
    PossibleRename => "possible-rename",
    EnumChange => "enum-change",
    EmptyDowngrade => "empty-downgrade",
    UpgradeFailed => "upgrade-failed",
    Drift => "drift",
    DowngradeFailed => "downgrade-failed",
    DowngradeDebris => "downgrade-debris",
    IrreversibleMigration => "irreversible-migration",
    DataUpgradeFailed => "data-upgrade-failed",
    DataTestFailed => "data-test-failed",
    UnregisteredModel => "unregistered-model",
    ProjectError => "project-error",
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that is not a finding code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a finding code")]
pub struct UnknownCode(pub String);

impl FromStr for Code {
    type Err = UnknownCode;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Code::ALL
            .iter()
            .copied()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| UnknownCode(s.to_string()))
    }
}

/// Which stage emits a rule's findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The static stage in Rust (`src/rules/`): no Python, no database.
    Static,
    /// The Python helper the dynamic job runs (`src/job/`).
    Dynamic,
    /// Both: the static stage suspects it, the helper finds it against a
    /// real database.
    Both,
}

impl Stage {
    pub fn is_static(self) -> bool {
        matches!(self, Stage::Static | Stage::Both)
    }

    pub fn is_dynamic(self) -> bool {
        matches!(self, Stage::Dynamic | Stage::Both)
    }
}

/// The description of one rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub code: Code,
    /// One sentence: what the rule catches (SARIF's rule description).
    pub summary: &'static str,
    /// README's "what it means" column.
    pub explanation: &'static str,
    pub stage: Stage,
    /// The severities the rule emits before `checks:` re-grades it, most
    /// severe first (one rule errs or warns depending on the case).
    pub severities: &'static [Severity],
    /// Where the rule's findings, and so their help text, are written: its
    /// rule file for static rules, the helper package for dynamic ones.
    pub home: &'static str,
}

const E: &[Severity] = &[Severity::Error];
const W: &[Severity] = &[Severity::Warning];
const EW: &[Severity] = &[Severity::Error, Severity::Warning];
const HELPER: &str = "src/job/";

/// Every rule, in the order README lists them.
pub const RULES: &[Rule] = &[
    Rule {
        code: Code::MissingMigration,
        summary: "A schema-relevant model change has no migration in the change.",
        explanation: "a model edit changes the schema (a column, its type, length, nullability, defaults, keys, indexes, constraints, `__tablename__`, `__table_args__`, a mapped class, a member of an enum a column uses) and no migration in the change covers it",
        stage: Stage::Static,
        severities: E,
        home: "src/rules/missing_migration.rs",
    },
    Rule {
        code: Code::UnmatchedOperation,
        summary: "A migration operation matches no model change.",
        explanation: "a migration in the change alters the schema with no model edit behind it",
        stage: Stage::Static,
        severities: W,
        home: "src/rules/unmatched_operation.rs",
    },
    Rule {
        code: Code::MultipleHeads,
        summary: "The migration history has more than one head.",
        explanation: "the revision history has several heads (`alembic upgrade head` would fail)",
        stage: Stage::Static,
        severities: E,
        home: "src/rules/multiple_heads.rs",
    },
    Rule {
        code: Code::StaleParent,
        summary: "A new migration's parent is no longer the head of the base branch.",
        explanation: "a new revision revises a parent that is no longer the base branch's head: after merging there are two heads",
        stage: Stage::Static,
        severities: E,
        home: "src/rules/stale_parent.rs",
    },
    Rule {
        code: Code::DuplicateRevision,
        summary: "Two migration files declare the same revision id.",
        explanation: "two revision files declare the same revision id",
        stage: Stage::Static,
        severities: E,
        home: "src/rules/duplicate_revision.rs",
    },
    Rule {
        code: Code::DanglingRevision,
        summary: "A migration's down_revision names a revision that does not exist.",
        explanation: "a `down_revision` or `depends_on` names no revision",
        stage: Stage::Static,
        severities: E,
        home: "src/rules/dangling_revision.rs",
    },
    Rule {
        code: Code::RevisionCycle,
        summary: "The migration history contains a cycle.",
        explanation: "the revisions form a cycle, so Alembic cannot order them",
        stage: Stage::Static,
        severities: E,
        home: "src/rules/revision_cycle.rs",
    },
    Rule {
        code: Code::EditedMigration,
        summary: "A migration that already exists on the base branch was edited.",
        explanation: "the change edits a revision that already existed (databases that ran it never see the edit)",
        stage: Stage::Static,
        severities: W,
        home: "src/rules/edited_migration.rs",
    },
    Rule {
        code: Code::DestructiveOperation,
        summary: "A migration drops or rewrites data.",
        explanation: "a new migration drops a table or column",
        stage: Stage::Static,
        severities: W,
        home: "src/rules/destructive_operation.rs",
    },
    Rule {
        code: Code::NotNullWithoutDefault,
        summary: "A NOT NULL column is added to an existing table without a default or backfill.",
        explanation: "a NOT NULL column added to an existing table without a server default, or set NOT NULL with no backfill",
        stage: Stage::Static,
        severities: EW,
        home: "src/rules/not_null_without_default.rs",
    },
    Rule {
        code: Code::UniqueOnExistingTable,
        summary: "A unique constraint is added to a table that may already hold duplicates.",
        explanation: "a unique constraint added to a table that may hold duplicates",
        stage: Stage::Static,
        severities: W,
        home: "src/rules/unique_on_existing_table.rs",
    },
    Rule {
        code: Code::PossibleRename,
        summary: "A drop and an add look like a rename that would lose the column's data.",
        explanation: "a column dropped and one of the same type added: probably a rename that destroys data",
        stage: Stage::Both,
        severities: W,
        home: "src/rules/possible_rename.rs",
    },
    Rule {
        code: Code::EnumChange,
        summary: "A migration changes an enum type in a way the database may not apply in place.",
        explanation: "a PostgreSQL enum type altered",
        stage: Stage::Static,
        severities: W,
        home: "src/rules/enum_change.rs",
    },
    Rule {
        code: Code::EmptyDowngrade,
        summary: "A migration's downgrade() is empty or missing.",
        explanation: "a new migration's downgrade is missing, empty or raises",
        stage: Stage::Static,
        severities: W,
        home: "src/rules/empty_downgrade.rs",
    },
    Rule {
        code: Code::UpgradeFailed,
        summary: "Upgrading an empty database to head failed.",
        explanation: "upgrading an empty database fails (revision, exception, failing statement)",
        stage: Stage::Dynamic,
        severities: E,
        home: HELPER,
    },
    Rule {
        code: Code::Drift,
        summary: "The schema after upgrading to head differs from the models.",
        explanation: "after upgrading, the database differs from the models the way `alembic check` sees it; the report carries the missing operations",
        stage: Stage::Dynamic,
        severities: E,
        home: HELPER,
    },
    Rule {
        code: Code::DowngradeFailed,
        summary: "Downgrading a migration failed.",
        explanation: "a downgrade raises",
        stage: Stage::Dynamic,
        severities: E,
        home: HELPER,
    },
    Rule {
        code: Code::DowngradeDebris,
        summary: "A downgrade left tables, columns, indexes or types behind.",
        explanation: "a downgrade leaves tables, columns, indexes, constraints or enum types behind, or the re-upgrade does not restore the schema",
        stage: Stage::Dynamic,
        severities: E,
        home: HELPER,
    },
    Rule {
        code: Code::IrreversibleMigration,
        summary: "A migration cannot be downgraded.",
        explanation: "a downgrade raises `NotImplementedError` or does nothing",
        stage: Stage::Dynamic,
        severities: W,
        home: HELPER,
    },
    Rule {
        code: Code::DataUpgradeFailed,
        summary: "The change's migrations failed on a database that already holds rows.",
        explanation: "the change's migrations fail on a database holding rows (a required or unique column added to a populated table)",
        stage: Stage::Dynamic,
        severities: E,
        home: HELPER,
    },
    Rule {
        code: Code::DataTestFailed,
        summary: "A project-supplied data test for a revision failed.",
        explanation: "a project-supplied per-revision data test failed",
        stage: Stage::Dynamic,
        severities: E,
        home: HELPER,
    },
    Rule {
        code: Code::UnregisteredModel,
        summary: "A model is not part of the metadata the migrations are compared with.",
        explanation: "a mapped table that is not on the metadata env.py gives Alembic: autogenerate never sees it",
        stage: Stage::Dynamic,
        severities: E,
        home: HELPER,
    },
    Rule {
        code: Code::ProjectError,
        summary: "The project's own code failed (env.py, a model import or a migration).",
        explanation: "the project's own code failed (env.py or models cannot be imported, no env.py)",
        stage: Stage::Dynamic,
        severities: E,
        home: HELPER,
    },
];

impl Code {
    /// This code's entry in [`RULES`].
    pub fn rule(self) -> &'static Rule {
        // RULES lists the codes in declaration order, one entry each
        // (`rules_follow_the_codes` checks it).
        &RULES[self as usize]
    }
}

/// The description of `code`, or `None` for a code this build does not know
/// (a report saved by a newer alembot).
pub fn lookup(code: &str) -> Option<&'static Rule> {
    let code: Code = code.parse().ok()?;
    Some(code.rule())
}

/// Every code's string, comma-separated, for "use one of" help.
pub fn all_codes() -> String {
    RULES
        .iter()
        .map(|r| r.code.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `missing-migration` → `MissingMigration`: SARIF's convention for a rule's
/// `name`, which GitHub shows as a filter.
pub fn pascal_case(code: &str) -> String {
    code.split(['-', '_'])
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect::<String>(),
                None => String::new(),
            }
        })
        .collect()
}

/// README's "What it finds" table, rendered from [`RULES`].
pub fn readme_table() -> String {
    let mut out = String::from("| code | severity | what it means |\n|---|---|---|\n");
    for r in RULES {
        let severity = r
            .severities
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" / ");
        out.push_str(&format!(
            "| `{}` | {severity} | {} |\n",
            r.code, r.explanation
        ));
    }
    out
}

#[cfg(test)]
mod tests;
