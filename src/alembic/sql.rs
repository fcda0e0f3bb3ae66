//! Which tables (and enum types) a raw SQL string in `op.execute(...)`
//! touches, by pattern: enough to tell a backfill `UPDATE` from an enum
//! change, not a SQL parser.

use std::sync::LazyLock;

use regex::Regex;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqlKind {
    AlterTable,
    CreateTable,
    DropTable,
    /// `CREATE INDEX ... ON <table>`.
    CreateIndex,
    InsertInto,
    Update,
    DeleteFrom,
    /// `ALTER TYPE <type> ...`; the object is the type, not a table.
    AlterType(AlterTypeAction),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlterTypeAction {
    AddValue,
    RenameValue,
    Rename,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlStatement {
    pub kind: SqlKind,
    /// The table (or type) name without quotes or schema.
    pub object: String,
}

/// An identifier, quoted the ANSI, MySQL or SQL Server way, or bare.
const IDENT: &str = r#"(?:"[^"]+"|`[^`]+`|\[[^\]]+\]|[A-Za-z_][A-Za-z0-9_$]*)"#;

fn qualified() -> String {
    format!(r"({IDENT}(?:\s*\.\s*{IDENT})*)")
}

struct Pattern {
    regex: Regex,
    /// The capture group holding the object's (possibly qualified) name.
    object: usize,
    kind: fn(&regex::Captures<'_>) -> Option<SqlKind>,
}

static PATTERNS: LazyLock<Vec<Pattern>> = LazyLock::new(|| {
    let q = qualified();
    let p = |re: String, kind: fn(&regex::Captures<'_>) -> Option<SqlKind>| Pattern {
        // The patterns are constants; a typo is caught by every test run.
        regex: Regex::new(&format!("(?i){re}")).expect("valid SQL pattern"),
        object: 1,
        kind,
    };
    vec![
        p(
            format!(r"\bALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?{q}"),
            |_| Some(SqlKind::AlterTable),
        ),
        p(
            format!(
                r"\bCREATE\s+(?:OR\s+REPLACE\s+)?(?:(?:GLOBAL|LOCAL)\s+)?(?:(?:TEMPORARY|TEMP|UNLOGGED)\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?{q}"
            ),
            |_| Some(SqlKind::CreateTable),
        ),
        p(
            format!(r"\bDROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?({q}(?:\s*,\s*{q})*)"),
            |_| Some(SqlKind::DropTable),
        ),
        p(
            format!(
                r"\bCREATE\s+(?:UNIQUE\s+)?INDEX\s+(?:CONCURRENTLY\s+)?(?:IF\s+NOT\s+EXISTS\s+)?(?:{IDENT}\s+)?ON\s+(?:ONLY\s+)?{q}"
            ),
            |_| Some(SqlKind::CreateIndex),
        ),
        p(format!(r"\bINSERT\s+(?:IGNORE\s+)?INTO\s+{q}"), |_| {
            Some(SqlKind::InsertInto)
        }),
        // The word before UPDATE tells `ON UPDATE CASCADE`, `FOR UPDATE`,
        // `DO UPDATE SET` and trigger events apart from an UPDATE statement.
        Pattern {
            object: 2,
            ..p(format!(r"(?:\b(\w+)\s+)?\bUPDATE\s+(?:ONLY\s+)?{q}"), |c| {
                let before = c.get(1).map(|m| m.as_str().to_ascii_uppercase());
                match before.as_deref() {
                    Some(
                        "ON" | "FOR" | "DO" | "BEFORE" | "AFTER" | "OR" | "OF" | "KEY" | "INSTEAD",
                    ) => None,
                    _ => Some(SqlKind::Update),
                }
            })
        },
        p(format!(r"\bDELETE\s+FROM\s+(?:ONLY\s+)?{q}"), |_| {
            Some(SqlKind::DeleteFrom)
        }),
        p(
            format!(r"\bALTER\s+TYPE\s+{q}(?:\s+(ADD\s+VALUE|RENAME\s+VALUE|RENAME\s+TO))?"),
            |c| {
                let action = c.get(2).map(|m| {
                    m.as_str()
                        .split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" ")
                        .to_ascii_uppercase()
                });
                Some(SqlKind::AlterType(match action.as_deref() {
                    Some("ADD VALUE") => AlterTypeAction::AddValue,
                    Some("RENAME VALUE") => AlterTypeAction::RenameValue,
                    Some("RENAME TO") => AlterTypeAction::Rename,
                    _ => AlterTypeAction::Other,
                }))
            },
        ),
    ]
});

static IDENT_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(IDENT).expect("valid identifier pattern"));

/// The statements in `sql` that name a table (or enum type), in text order.
/// Comments and the contents of string literals are ignored.
pub fn statements(sql: &str) -> Vec<SqlStatement> {
    let code = blank_comments_and_literals(sql);
    let mut found: Vec<(usize, SqlStatement)> = Vec::new();
    for pattern in PATTERNS.iter() {
        for caps in pattern.regex.captures_iter(&code) {
            let Some(kind) = (pattern.kind)(&caps) else {
                continue;
            };
            let Some(names) = caps.get(pattern.object) else {
                continue;
            };
            let start = caps.get(0).map_or(0, |m| m.start());
            for object in split_names(names.as_str(), &kind) {
                found.push((
                    start,
                    SqlStatement {
                        kind: kind.clone(),
                        object,
                    },
                ));
            }
        }
    }
    found.sort_by_key(|(pos, _)| *pos);
    found.into_iter().map(|(_, s)| s).collect()
}

/// `a, public.b` (DROP TABLE lists several) to `["a", "b"]`.
fn split_names(text: &str, kind: &SqlKind) -> Vec<String> {
    let names: Vec<&str> = if *kind == SqlKind::DropTable {
        text.split(',').collect()
    } else {
        vec![text]
    };
    names
        .into_iter()
        .filter_map(|qualified| IDENT_RE.find_iter(qualified).last())
        .map(|m| unquote(m.as_str()))
        .collect()
}

fn unquote(ident: &str) -> String {
    let bytes = ident.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(b'"'), Some(b'"')) | (Some(b'`'), Some(b'`')) | (Some(b'['), Some(b']'))
            if ident.len() >= 2 =>
        {
            ident[1..ident.len() - 1].to_string()
        }
        _ => ident.to_string(),
    }
}

/// Replaces `--` and `/* */` comments and the insides of `'...'` literals
/// with spaces, keeping every other byte where it was.
fn blank_comments_and_literals(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '-' if chars.peek() == Some(&'-') => {
                out.push(' ');
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                    out.push(' ');
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                out.push(' ');
                let mut prev = ' ';
                for c in chars.by_ref() {
                    out.push(if c == '\n' { '\n' } else { ' ' });
                    if prev == '*' && c == '/' {
                        break;
                    }
                    prev = c;
                }
            }
            '\'' => {
                out.push('\'');
                while let Some(c) = chars.next() {
                    if c == '\'' {
                        // '' is an escaped quote inside the literal.
                        if chars.peek() == Some(&'\'') {
                            chars.next();
                            out.push_str("  ");
                            continue;
                        }
                        out.push('\'');
                        break;
                    }
                    out.push(if c == '\n' { '\n' } else { ' ' });
                }
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use AlterTypeAction::*;
    use SqlKind::*;

    fn found(sql: &str) -> Vec<(SqlKind, String)> {
        statements(sql)
            .into_iter()
            .map(|s| (s.kind, s.object))
            .collect()
    }

    fn one(kind: SqlKind, object: &str) -> Vec<(SqlKind, String)> {
        vec![(kind, object.to_string())]
    }

    #[test]
    fn tables_and_types_named_by_raw_sql() {
        let cases: Vec<(&str, Vec<(SqlKind, String)>)> = vec![
            (
                "ALTER TABLE users ADD COLUMN age int",
                one(AlterTable, "users"),
            ),
            (
                "alter table if exists only public.\"Users\" drop column x",
                one(AlterTable, "Users"),
            ),
            (
                "CREATE TABLE IF NOT EXISTS audit (id int)",
                one(CreateTable, "audit"),
            ),
            (
                "CREATE UNLOGGED TABLE tmp_x (id int)",
                one(CreateTable, "tmp_x"),
            ),
            (
                "DROP TABLE IF EXISTS a, public.b CASCADE",
                vec![(DropTable, "a".into()), (DropTable, "b".into())],
            ),
            (
                "CREATE INDEX ix_users_email ON users (email)",
                one(CreateIndex, "users"),
            ),
            (
                "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS ix ON ONLY `orders` (a)",
                one(CreateIndex, "orders"),
            ),
            (
                "CREATE INDEX ON users (lower(email))",
                one(CreateIndex, "users"),
            ),
            (
                "INSERT INTO roles (name) VALUES ('admin')",
                one(InsertInto, "roles"),
            ),
            (
                "UPDATE users SET active = true WHERE active IS NULL",
                one(Update, "users"),
            ),
            ("update [dbo].[users] set x = 1", one(Update, "users")),
            ("DELETE FROM sessions", one(DeleteFrom, "sessions")),
            (
                "ALTER TYPE status ADD VALUE 'archived'",
                one(AlterType(AddValue), "status"),
            ),
            (
                "ALTER TYPE status ADD VALUE IF NOT EXISTS 'archived' AFTER 'active'",
                one(AlterType(AddValue), "status"),
            ),
            (
                "alter type status rename value 'old' to 'new'",
                one(AlterType(RenameValue), "status"),
            ),
            (
                "ALTER TYPE status RENAME TO status_old",
                one(AlterType(Rename), "status"),
            ),
            (
                "ALTER TYPE status OWNER TO me",
                one(AlterType(Other), "status"),
            ),
            (
                "ALTER TABLE post ADD CONSTRAINT fk FOREIGN KEY (user_id) REFERENCES users (id) \
                 ON UPDATE CASCADE ON DELETE CASCADE",
                one(AlterTable, "post"),
            ),
            (
                "INSERT INTO t (a) VALUES (1) ON CONFLICT (a) DO UPDATE SET a = 2",
                one(InsertInto, "t"),
            ),
            ("SELECT * FROM t FOR UPDATE", vec![]),
            ("-- UPDATE users SET x = 1\nSELECT 1", vec![]),
            ("/* DROP TABLE users */ SELECT 1", vec![]),
            (
                "INSERT INTO notes (body) VALUES ('DROP TABLE users; it''s fine')",
                one(InsertInto, "notes"),
            ),
            (
                "UPDATE users SET role = 'member';\nALTER TABLE users ALTER COLUMN role SET NOT NULL;",
                vec![(Update, "users".into()), (AlterTable, "users".into())],
            ),
            (
                "DO $$ BEGIN ALTER TYPE mood ADD VALUE 'meh'; END $$;",
                one(AlterType(AddValue), "mood"),
            ),
            ("CREATE EXTENSION IF NOT EXISTS pg_trgm", vec![]),
        ];
        for (sql, want) in cases {
            assert_eq!(found(sql), want, "{sql}");
        }
    }
}
