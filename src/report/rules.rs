//! What each finding code means, in one sentence, for renderers that
//! describe rules apart from results (SARIF's `tool.driver.rules`).
//!
//! This is documentation, not policy: severities stay with the checks.

use crate::findings::code;

/// The description of one finding code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleInfo {
    pub code: &'static str,
    /// One sentence: what the rule catches.
    pub summary: &'static str,
}

/// Every code alembot emits today, with its description.
pub const RULES: &[RuleInfo] = &[
    rule(
        code::MISSING_MIGRATION,
        "A schema-relevant model change has no migration in the change.",
    ),
    rule(
        code::UNMATCHED_OPERATION,
        "A migration operation matches no model change.",
    ),
    rule(
        code::MULTIPLE_HEADS,
        "The migration history has more than one head.",
    ),
    rule(
        code::STALE_PARENT,
        "A new migration's parent is no longer the head of the base branch.",
    ),
    rule(
        code::DUPLICATE_REVISION,
        "Two migration files declare the same revision id.",
    ),
    rule(
        code::DANGLING_REVISION,
        "A migration's down_revision names a revision that does not exist.",
    ),
    rule(
        code::REVISION_CYCLE,
        "The migration history contains a cycle.",
    ),
    rule(
        code::EDITED_MIGRATION,
        "A migration that already exists on the base branch was edited.",
    ),
    rule(
        code::INVALID_REVISION,
        "A migration file's revision identifiers cannot be read.",
    ),
    rule(
        code::DESTRUCTIVE_OPERATION,
        "A migration drops or rewrites data.",
    ),
    rule(
        code::NOT_NULL_WITHOUT_DEFAULT,
        "A NOT NULL column is added to an existing table without a default or backfill.",
    ),
    rule(
        code::POSSIBLE_RENAME,
        "A drop and an add look like a rename that would lose the column's data.",
    ),
    rule(
        code::ENUM_CHANGE,
        "A migration changes an enum type in a way the database may not apply in place.",
    ),
    rule(
        code::EMPTY_DOWNGRADE,
        "A migration's downgrade() is empty or missing.",
    ),
    rule(
        code::UPGRADE_FAILED,
        "Upgrading an empty database to head failed.",
    ),
    rule(
        code::DRIFT,
        "The schema after upgrading to head differs from the models.",
    ),
    rule(code::DOWNGRADE_FAILED, "Downgrading a migration failed."),
    rule(
        code::DOWNGRADE_DEBRIS,
        "A downgrade left tables, columns, indexes or types behind.",
    ),
    rule(
        code::IRREVERSIBLE_MIGRATION,
        "A migration cannot be downgraded.",
    ),
    rule(
        code::DATA_UPGRADE_FAILED,
        "The change's migrations failed on a database that already holds rows.",
    ),
    rule(
        code::DATA_TEST_FAILED,
        "A project-supplied data test for a revision failed.",
    ),
    rule(
        code::UNREGISTERED_MODEL,
        "A model is not part of the metadata the migrations are compared with.",
    ),
    rule(
        code::PROJECT_ERROR,
        "The project's own code failed (env.py, a model import or a migration).",
    ),
];

const fn rule(code: &'static str, summary: &'static str) -> RuleInfo {
    RuleInfo { code, summary }
}

/// The description of `code`, or `None` for a code this build does not know
/// (a report saved by a newer alembot).
pub fn lookup(code: &str) -> Option<&'static RuleInfo> {
    RULES.iter().find(|r| r.code == code)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_described() {
        let mut seen = std::collections::BTreeSet::new();
        for r in RULES {
            assert!(seen.insert(r.code), "duplicate {}", r.code);
            assert!(r.summary.ends_with('.'), "{}", r.code);
        }
    }

    #[test]
    fn pascal_case_joins_words() {
        assert_eq!(pascal_case("missing-migration"), "MissingMigration");
        assert_eq!(pascal_case("drift"), "Drift");
        assert_eq!(
            pascal_case("not-null-without-default"),
            "NotNullWithoutDefault"
        );
        assert_eq!(pascal_case("a--b"), "AB");
    }
}
