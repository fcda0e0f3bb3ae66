//! Column types and `Mapped[...]` annotations, normalised so that two
//! spellings of the same type compare equal (`sa.String(length=30)` and
//! `String(30)`).

pub use crate::alembic::types::normalize_type;
use crate::python::lexer::{Kind, Token};
use crate::python::syntax::{render, split_top_level};

/// `sa.Integer` → `Integer`, `'abc'` stays.
fn strip_qualifiers(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let mut in_string: Option<char> = None;
    for c in text.chars() {
        if let Some(q) = in_string {
            out.push(c);
            if c == q {
                in_string = None;
            }
            continue;
        }
        if c == '\'' || c == '"' {
            out.push_str(&word);
            word.clear();
            in_string = Some(c);
            out.push(c);
        } else if c.is_alphanumeric() || c == '_' {
            word.push(c);
        } else if c == '.' && !word.is_empty() && !word.chars().all(|ch| ch.is_ascii_digit()) {
            word.clear();
        } else {
            out.push_str(&word);
            word.clear();
            out.push(c);
        }
    }
    out.push_str(&word);
    out
}

/// What a `Mapped[...]` annotation says about a column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Annotation {
    /// The inner Python type, normalised (`str`, `int`, `Post`, `list[Post]`).
    pub inner: String,
    /// `Optional[...]`, `... | None`, `Union[..., None]`.
    pub optional: bool,
    /// The SQL type SQLAlchemy derives from the Python type, when it is a
    /// plain one (`str` → `String`).
    pub sql_type: Option<String>,
    /// The inner type is a collection or a quoted class name: the
    /// attribute is a relationship, not a column.
    pub looks_like_relationship: bool,
}

/// Parses the annotation tokens between `:` and `=` of a class attribute.
/// Returns `None` when it is not `Mapped[...]` (or `so.Mapped[...]`).
pub fn mapped_annotation(tokens: &[Token<'_>]) -> Option<Annotation> {
    let open = tokens.iter().position(|t| t.is_op("["))?;
    let head = &tokens[..open];
    let is_mapped = head.last().is_some_and(|t| {
        matches!(
            t.text,
            "Mapped" | "WriteOnlyMapped" | "DynamicMapped" | "MappedColumn"
        )
    });
    if !is_mapped {
        return None;
    }
    let collection_wrapper = head
        .last()
        .is_some_and(|t| matches!(t.text, "WriteOnlyMapped" | "DynamicMapped"));
    let close = crate::python::syntax::matching_close(tokens, open)?;
    let inner = &tokens[open + 1..close];
    let (inner, optional) = strip_optional(inner);
    let text = strip_qualifiers(&render(inner));
    let first = inner.first();
    let quoted = first.is_some_and(|t| t.kind == Kind::Str);
    let collection = first.is_some_and(|t| {
        matches!(
            t.text,
            "List" | "list" | "Set" | "set" | "Sequence" | "Dict" | "dict" | "Collection"
        )
    }) && inner.get(1).is_some_and(|t| t.is_op("["));
    let sql_type = python_to_sql(&text);
    Some(Annotation {
        looks_like_relationship: collection_wrapper || quoted || (collection && sql_type.is_none()),
        inner: text,
        optional,
        sql_type,
    })
}

/// Removes `Optional[...]`, `Union[X, None]` and `X | None`, reporting
/// whether the type was optional.
fn strip_optional<'t, 'a>(tokens: &'t [Token<'a>]) -> (&'t [Token<'a>], bool) {
    if let [first, open, .., last] = tokens
        && matches!(first.text, "Optional")
        && open.is_op("[")
        && last.is_op("]")
    {
        return (&tokens[2..tokens.len() - 1], true);
    }
    if let [first, open, .., last] = tokens
        && first.text == "Union"
        && open.is_op("[")
        && last.is_op("]")
    {
        let inner = &tokens[2..tokens.len() - 1];
        let parts = split_top_level(inner, ",");
        let non_none: Vec<_> = parts
            .iter()
            .filter(|p| !(p.len() == 1 && p[0].text == "None"))
            .collect();
        if non_none.len() < parts.len() && non_none.len() == 1 {
            return (non_none[0], true);
        }
        return (tokens, false);
    }
    let parts = split_top_level(tokens, "|");
    if parts.len() > 1 {
        let non_none: Vec<_> = parts
            .iter()
            .filter(|p| !(p.len() == 1 && p[0].text == "None"))
            .collect();
        if non_none.len() == 1 && non_none.len() < parts.len() {
            return (non_none[0], true);
        }
    }
    (tokens, false)
}

/// SQLAlchemy 2.0's default type map for `Mapped[T]` annotations.
fn python_to_sql(python: &str) -> Option<String> {
    let t = match python {
        "int" => "Integer",
        "str" => "String",
        "bool" => "Boolean",
        "float" => "Float",
        "bytes" => "LargeBinary",
        "Decimal" => "Numeric",
        "datetime" => "DateTime",
        "date" => "Date",
        "time" => "Time",
        "timedelta" => "Interval",
        "UUID" => "Uuid",
        "dict" | "list" => "JSON",
        _ => return None,
    };
    Some(t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::python::lexer::tokenize;

    fn sig(src: &str) -> Vec<Token<'_>> {
        tokenize(src)
            .tokens
            .into_iter()
            .filter(|t| !matches!(t.kind, Kind::Newline | Kind::Nl | Kind::Comment))
            .collect()
    }

    #[test]
    fn type_spellings_normalise_alike() {
        let cases = [
            ("sa.String(length=30)", "String(30)"),
            ("String(30)", "String(30)"),
            ("sqlalchemy.types.Integer()", "Integer"),
            ("Integer", "Integer"),
            ("postgresql.JSONB()", "JSONB"),
            ("sa.Numeric(precision=10, scale=2)", "Numeric(10, 2)"),
            ("Numeric(10, 2)", "Numeric(10, 2)"),
            (
                "sa.Enum(PostStatus, name='poststatus')",
                "Enum(PostStatus, name='poststatus')",
            ),
            ("sa.DateTime(timezone=True)", "DateTime(timezone=True)"),
            ("sa.ARRAY(sa.String())", "ARRAY(String)"),
        ];
        for (input, want) in cases {
            assert_eq!(normalize_type(&sig(input)), want, "{input}");
        }
    }

    #[test]
    fn mapped_annotations() {
        let a = mapped_annotation(&sig("Mapped[Optional[str]]")).unwrap();
        assert_eq!((a.inner.as_str(), a.optional), ("str", true));
        assert_eq!(a.sql_type.as_deref(), Some("String"));
        let b = mapped_annotation(&sig("so.Mapped[str | None]")).unwrap();
        assert!(b.optional);
        let c = mapped_annotation(&sig("Mapped[int]")).unwrap();
        assert!(!c.optional && !c.looks_like_relationship);
        let d = mapped_annotation(&sig("Mapped[List['Post']]")).unwrap();
        assert!(d.looks_like_relationship);
        let e = mapped_annotation(&sig("Mapped['User']")).unwrap();
        assert!(e.looks_like_relationship);
        let f = mapped_annotation(&sig("Mapped[datetime.datetime]")).unwrap();
        assert_eq!(f.sql_type.as_deref(), Some("DateTime"));
        let g = mapped_annotation(&sig("Mapped[Union[int, None]]")).unwrap();
        assert!(g.optional);
        assert!(mapped_annotation(&sig("Optional[str]")).is_none());
        let h = mapped_annotation(&sig("WriteOnlyMapped[Post]")).unwrap();
        assert!(h.looks_like_relationship);
    }
}
