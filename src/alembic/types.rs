//! Canonical text for SQLAlchemy type and default expressions, so that a
//! model and a migration stating the same thing compare equal: module
//! prefixes, empty call parentheses, quote style, trailing commas and the
//! keyword spelling autogenerate prefers (`String(length=30)`) are noise.

use std::borrow::Cow;

use crate::python::lexer::{Kind, Token, string_value};
use crate::python::syntax::render_parts;

/// Normalises a column type expression: `sa.String(length=30)` and
/// `String(30)` give `String(30)`, `postgresql.JSONB()` gives `JSONB`,
/// `sa.ARRAY(sa.Integer())` gives `ARRAY(Integer)`.
pub fn normalize_type(tokens: &[Token<'_>]) -> String {
    normalize(tokens, true)
}

/// Normalises any other expression (defaults, server defaults, check
/// conditions) the same way, except that calls keep their parentheses:
/// `sa.func.now()` gives `func.now()`, `sa.text("0")` gives `text('0')`.
pub fn normalize_expr(tokens: &[Token<'_>]) -> String {
    normalize(tokens, false)
}

/// Whether two normalised types mean the same column type, counting a SQL
/// type as reflected by autogenerate (`VARCHAR(100)`, `INTEGER`) and its
/// generic SQLAlchemy spelling (`String(100)`, `Integer`) as one.
pub fn same_type(a: &str, b: &str) -> bool {
    generic_type(a) == generic_type(b)
}

/// The generic SQLAlchemy spelling of a normalised type: `VARCHAR(100)`
/// gives `String(100)`, `TIMESTAMP(timezone=True)` gives
/// `DateTime(timezone=True)`; other types are returned unchanged.
pub fn generic_type(normalized: &str) -> String {
    let split = normalized.find('(').unwrap_or(normalized.len());
    let (head, args) = normalized.split_at(split);
    let generic = match head {
        "VARCHAR" | "NVARCHAR" | "Unicode" => "String",
        "TEXT" | "CLOB" | "UnicodeText" => "Text",
        "INTEGER" | "INT" => "Integer",
        "BIGINT" => "BigInteger",
        "SMALLINT" => "SmallInteger",
        "BOOLEAN" => "Boolean",
        "TIMESTAMP" | "DATETIME" => "DateTime",
        "DATE" => "Date",
        "TIME" => "Time",
        "NUMERIC" | "DECIMAL" => "Numeric",
        "FLOAT" | "REAL" | "DOUBLE" | "DOUBLE_PRECISION" | "Double" => "Float",
        "UUID" => "Uuid",
        "ENUM" => "Enum",
        "BLOB" | "BYTEA" => "LargeBinary",
        "INTERVAL" => "Interval",
        other => other,
    };
    format!("{generic}{args}")
}

/// Module aliases that qualify SQLAlchemy names without changing them.
const MODULES: &[&str] = &[
    "sa",
    "sqlalchemy",
    "db",
    "sql",
    "expression",
    "types",
    "sqltypes",
    "schema",
    "dialects",
    "postgresql",
    "postgres",
    "pg",
    "mysql",
    "mariadb",
    "sqlite",
    "mssql",
    "oracle",
];

/// Python keywords that may precede a parenthesised tuple (not a call).
const KEYWORDS: &[&str] = &[
    "in", "not", "and", "or", "is", "if", "else", "return", "yield", "lambda", "await", "assert",
];

/// Types whose leading parameters autogenerate writes as keywords
/// (`sa.String(length=30)`) and people write positionally (`String(30)`).
const POSITIONAL_PARAMS: &[(&str, &[&str])] = &[
    ("String", &["length"]),
    ("Text", &["length"]),
    ("Unicode", &["length"]),
    ("UnicodeText", &["length"]),
    ("LargeBinary", &["length"]),
    ("VARCHAR", &["length"]),
    ("NVARCHAR", &["length"]),
    ("CHAR", &["length"]),
    ("NCHAR", &["length"]),
    ("TEXT", &["length"]),
    ("CLOB", &["length"]),
    ("BINARY", &["length"]),
    ("VARBINARY", &["length"]),
    ("BLOB", &["length"]),
    ("Numeric", &["precision", "scale"]),
    ("NUMERIC", &["precision", "scale"]),
    ("DECIMAL", &["precision", "scale"]),
    ("Float", &["precision"]),
    ("FLOAT", &["precision"]),
];

fn normalize(tokens: &[Token<'_>], drop_empty_parens: bool) -> String {
    let n = tokens.len();
    let mut keep = vec![true; n];
    let opens = open_brackets(tokens);

    let mut i = 0;
    while i < n {
        if tokens[i].kind != Kind::Name || (i > 0 && tokens[i - 1].is_op(".")) {
            i += 1;
            continue;
        }
        let mut parts = vec![i];
        while let [Some(dot), Some(name)] = [
            tokens.get(parts[parts.len() - 1] + 1),
            tokens.get(parts[parts.len() - 1] + 2),
        ] && dot.is_op(".")
            && name.kind == Kind::Name
        {
            parts.push(parts[parts.len() - 1] + 2);
        }
        let names: Vec<&str> = parts.iter().map(|&p| tokens[p].text).collect();
        for &p in &parts[..dropped_prefix(&names)] {
            keep[p] = false;
            keep[p + 1] = false;
        }
        let last = parts[parts.len() - 1];
        if tokens.get(last + 1).is_some_and(|t| t.is_op("(")) {
            positional_keywords(tokens, last, &mut keep);
        }
        i = last + 1;
    }

    for i in 0..n {
        let t = &tokens[i];
        let next = tokens.get(i + 1);
        if drop_empty_parens
            && t.is_op("(")
            && i > 0
            && tokens[i - 1].kind == Kind::Name
            && next.is_some_and(|n| n.is_op(")"))
        {
            keep[i] = false;
            keep[i + 1] = false;
        }
        if t.is_op(",")
            && next.is_some_and(|n| n.kind == Kind::Op && matches!(n.text, ")" | "]" | "}"))
        {
            // `(a,)` is a one-element tuple and keeps its comma; a call's
            // or a list's trailing comma is formatting.
            let tuple_of_one = next.is_some_and(|n| n.is_op(")"))
                && opens[i + 1].is_some_and(|o| {
                    let is_call = o > 0 && {
                        let before = &tokens[o - 1];
                        before.kind == Kind::Name && !KEYWORDS.contains(&before.text)
                            || before.kind == Kind::Op && matches!(before.text, ")" | "]")
                    };
                    !is_call
                        && !tokens[o + 1..i]
                            .iter()
                            .enumerate()
                            .any(|(k, t)| t.is_op(",") && depth_zero(tokens, o + 1, o + 1 + k))
                });
            if !tuple_of_one {
                keep[i] = false;
            }
        }
    }

    let texts: Vec<(Kind, Cow<'_, str>)> = tokens
        .iter()
        .zip(&keep)
        .filter(|(_, k)| **k)
        .map(|(t, _)| {
            let text = match t.kind {
                Kind::Str => string_value(t.text)
                    .map_or(Cow::Borrowed(t.text), |v| Cow::Owned(python_repr(&v))),
                _ => Cow::Borrowed(t.text),
            };
            (t.kind, text)
        })
        .collect();
    render_parts(texts.iter().map(|(k, t)| (*k, t.as_ref())))
}

/// How many leading components of a dotted name are module qualification:
/// everything before the first capitalised component (`sa.types.String`,
/// `models.Status`), else the known module aliases (`sa.func.now`).
fn dropped_prefix(names: &[&str]) -> usize {
    if let Some(first_upper) = names
        .iter()
        .position(|n| n.chars().next().is_some_and(char::is_uppercase))
    {
        return first_upper;
    }
    names[..names.len() - 1]
        .iter()
        .take_while(|n| MODULES.contains(n))
        .count()
}

/// Marks `length=` in `String(length=30)` for removal when the keywords
/// spell the type's leading parameters in order.
fn positional_keywords(tokens: &[Token<'_>], name_at: usize, keep: &mut [bool]) {
    let Some((_, params)) = POSITIONAL_PARAMS
        .iter()
        .find(|(name, _)| *name == tokens[name_at].text)
    else {
        return;
    };
    let open = name_at + 1;
    let mut depth = 0usize;
    let mut arg_start = open + 1;
    let mut arg_index = 0usize;
    for i in open..tokens.len() {
        let t = &tokens[i];
        if t.kind != Kind::Op {
            continue;
        }
        let ends_arg = match t.text {
            "(" | "[" | "{" => {
                depth += 1;
                false
            }
            ")" | "]" | "}" => {
                depth = depth.saturating_sub(1);
                depth == 0
            }
            "," => depth == 1,
            _ => false,
        };
        if !ends_arg {
            continue;
        }
        if arg_start < i {
            let is_keyword = tokens[arg_start].kind == Kind::Name
                && tokens.get(arg_start + 1).is_some_and(|t| t.is_op("="));
            if is_keyword {
                if params.get(arg_index) != Some(&tokens[arg_start].text) {
                    return;
                }
                keep[arg_start] = false;
                keep[arg_start + 1] = false;
            }
            arg_index += 1;
        }
        if depth == 0 {
            return;
        }
        arg_start = i + 1;
    }
}

/// For each closing bracket, the index of the bracket it closes.
fn open_brackets(tokens: &[Token<'_>]) -> Vec<Option<usize>> {
    let mut out = vec![None; tokens.len()];
    let mut stack = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        if t.kind != Kind::Op {
            continue;
        }
        match t.text {
            "(" | "[" | "{" => stack.push(i),
            ")" | "]" | "}" => out[i] = stack.pop(),
            _ => {}
        }
    }
    out
}

/// Whether `tokens[at]` sits at bracket depth zero relative to `from`.
fn depth_zero(tokens: &[Token<'_>], from: usize, at: usize) -> bool {
    let mut depth = 0i32;
    for t in &tokens[from..at] {
        if t.kind == Kind::Op {
            match t.text {
                "(" | "[" | "{" => depth += 1,
                ")" | "]" | "}" => depth -= 1,
                _ => {}
            }
        }
    }
    depth == 0
}

/// A string literal as Python's `repr` writes it: single quotes unless the
/// value holds a single quote and no double quote.
fn python_repr(value: &str) -> String {
    let quote = if value.contains('\'') && !value.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(value.len() + 2);
    out.push(quote);
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::python::lexer::tokenize;

    fn significant(src: &str) -> Vec<Token<'_>> {
        tokenize(src)
            .tokens
            .into_iter()
            .filter(|t| {
                !matches!(
                    t.kind,
                    Kind::Newline | Kind::Nl | Kind::Comment | Kind::Indent | Kind::Dedent
                )
            })
            .collect()
    }

    #[test]
    fn types_normalise_like_the_model_side() {
        let cases = [
            ("sa.String(30)", "String(30)"),
            ("sa.String(length=30)", "String(30)"),
            (
                "String(length=30, collation=\"C\")",
                "String(30, collation='C')",
            ),
            ("sa.String()", "String"),
            ("sa.Integer()", "Integer"),
            ("Integer", "Integer"),
            ("sa.types.BigInteger()", "BigInteger"),
            ("postgresql.JSONB()", "JSONB"),
            (
                "postgresql.JSONB(astext_type=sa.Text())",
                "JSONB(astext_type=Text)",
            ),
            (
                "sqlalchemy.dialects.postgresql.UUID(as_uuid=True)",
                "UUID(as_uuid=True)",
            ),
            ("sa.Numeric(precision=10, scale=2)", "Numeric(10, 2)"),
            ("sa.Numeric(10, scale=2)", "Numeric(10, 2)"),
            ("sa.Numeric(scale=2)", "Numeric(scale=2)"),
            (
                "sa.Numeric(scale=2, precision=10)",
                "Numeric(scale=2, precision=10)",
            ),
            ("sa.DateTime(timezone=True)", "DateTime(timezone=True)"),
            (
                "sa.Enum(\"draft\", \"published\", name=\"post_status\")",
                "Enum('draft', 'published', name='post_status')",
            ),
            (
                "sa.Enum(\n    'draft',\n    'published',\n    name='post_status',\n)",
                "Enum('draft', 'published', name='post_status')",
            ),
            ("sa.Enum(models.Status)", "Enum(Status)"),
            (
                "postgresql.ENUM('a', name='x', create_type=False)",
                "ENUM('a', name='x', create_type=False)",
            ),
            ("sa.ARRAY(sa.String())", "ARRAY(String)"),
            (
                "sa.ARRAY(sa.Integer(), dimensions=2)",
                "ARRAY(Integer, dimensions=2)",
            ),
            (
                "sa.String(30).with_variant(mysql.VARCHAR(30), \"mysql\")",
                "String(30).with_variant(VARCHAR(30), 'mysql')",
            ),
            ("sa.VARCHAR(length=255)", "VARCHAR(255)"),
            ("db.String(80)", "String(80)"),
            (
                "sa.Enum(Status, values_callable=lambda x: [e.value for e in x])",
                "Enum(Status, values_callable=lambda x: [e.value for e in x])",
            ),
        ];
        for (src, want) in cases {
            assert_eq!(normalize_type(&significant(src)), want, "{src}");
        }
    }

    #[test]
    fn expressions_keep_calls_and_canonical_quotes() {
        let cases = [
            ("sa.text(\"now()\")", "text('now()')"),
            ("sa.func.now()", "func.now()"),
            ("func.now()", "func.now()"),
            ("\"0\"", "'0'"),
            ("sa.text(\"'active'\")", "text(\"'active'\")"),
            ("sa.false()", "false()"),
            ("datetime.datetime.utcnow", "datetime.datetime.utcnow"),
            ("sa.sql.expression.text('x')", "text('x')"),
            ("(1,)", "(1,)"),
            ("x in (1,)", "x in (1,)"),
            ("f(1,)", "f(1)"),
            ("[1, 2,]", "[1, 2]"),
        ];
        for (src, want) in cases {
            assert_eq!(normalize_expr(&significant(src)), want, "{src}");
        }
    }

    #[test]
    fn reflected_sql_types_match_generic_ones() {
        let same = [
            ("sa.VARCHAR(length=100)", "sa.String(100)"),
            ("sa.INTEGER()", "sa.Integer()"),
            ("sa.TEXT()", "Text"),
            (
                "postgresql.TIMESTAMP(timezone=True)",
                "sa.DateTime(timezone=True)",
            ),
            ("sa.BOOLEAN()", "sa.Boolean()"),
            ("postgresql.ENUM('a', name='x')", "sa.Enum('a', name='x')"),
            ("postgresql.JSONB()", "postgresql.JSONB()"),
        ];
        for (a, b) in same {
            let (a, b) = (
                normalize_type(&significant(a)),
                normalize_type(&significant(b)),
            );
            assert!(same_type(&a, &b), "{a} vs {b}");
        }
        let different = [
            ("sa.VARCHAR(length=100)", "sa.String(50)"),
            ("sa.INTEGER()", "sa.BigInteger()"),
            ("postgresql.JSONB()", "sa.JSON()"),
            ("sa.CHAR(2)", "sa.String(2)"),
        ];
        for (a, b) in different {
            let (a, b) = (
                normalize_type(&significant(a)),
                normalize_type(&significant(b)),
            );
            assert!(!same_type(&a, &b), "{a} vs {b}");
        }
    }

    #[test]
    fn repr_quotes_like_python() {
        assert_eq!(python_repr("a"), "'a'");
        assert_eq!(python_repr("it's"), "\"it's\"");
        assert_eq!(python_repr("'\""), "'\\'\"'");
        assert_eq!(python_repr("a\\b\nc"), "'a\\\\b\\nc'");
    }
}
