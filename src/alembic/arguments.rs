//! Reading the arguments of Alembic and SQLAlchemy calls statically: names
//! (literal or not), column lists, `sa.Column(...)` as a [`ColumnSpec`],
//! and the columns, constraints and indexes given to `op.create_table`.

use super::operations::{Constraint, IndexSpec};
use super::types::{normalize_expr, normalize_type};
use crate::python::lexer::{Kind, Token};
use crate::python::syntax::{self, Call, call_at, literal_str, matching_close, split_top_level};
use crate::schema::ColumnSpec;

/// The dotted name at the start of `tokens`: `sa.text` in `sa.text("x")`.
pub(super) fn leading_name(tokens: &[Token<'_>]) -> Option<String> {
    let end = dotted_end(tokens)?;
    Some(tokens[..=end].iter().map(|t| t.text).collect())
}

/// Index of the last token of the dotted name starting `tokens`.
pub(super) fn dotted_end(tokens: &[Token<'_>]) -> Option<usize> {
    if tokens.first()?.kind != Kind::Name {
        return None;
    }
    let mut end = 0;
    while tokens.get(end + 1).is_some_and(|t| t.is_op("."))
        && tokens.get(end + 2).is_some_and(|t| t.kind == Kind::Name)
    {
        end += 2;
    }
    Some(end)
}

/// The call that starts `tokens` (`op.add_column(...)`, possibly followed
/// by more, as in `sa.text("...").bindparams(...)`).
pub(super) fn leading_call<'t, 'a>(tokens: &'t [Token<'a>]) -> Option<Call<'t, 'a>> {
    let end = dotted_end(tokens)?;
    if !tokens.get(end + 1)?.is_op("(") {
        return None;
    }
    call_at(tokens, end + 1)
}

/// The call that `tokens` consist of, and nothing else.
pub(super) fn whole_call<'t, 'a>(tokens: &'t [Token<'a>]) -> Option<Call<'t, 'a>> {
    leading_call(tokens).filter(|c| c.end + 1 == tokens.len())
}

/// Arguments bound to parameter names, positional or keyword. A parameter
/// spec lists the current name first and older spellings after `|`.
pub(super) struct Args<'c, 't, 'a> {
    call: &'c Call<'t, 'a>,
    params: &'static [&'static str],
}

impl<'c, 't, 'a> Args<'c, 't, 'a> {
    pub(super) fn new(call: &'c Call<'t, 'a>, params: &'static [&'static str]) -> Self {
        Args { call, params }
    }

    pub(super) fn get(&self, param: &str) -> Option<&'t [Token<'a>]> {
        let index = self
            .params
            .iter()
            .position(|p| p.split('|').next() == Some(param))?;
        self.call.positional().nth(index).or_else(|| {
            self.params[index]
                .split('|')
                .find_map(|alias| self.call.keyword(alias))
        })
    }
}

/// A table or column name: the literal, or the expression as written with
/// `sure` cleared.
pub(super) fn name(tokens: Option<&[Token<'_>]>, sure: &mut bool) -> String {
    match tokens.and_then(literal_name) {
        Some(name) => name,
        None => {
            *sure = false;
            match tokens {
                Some(t) if !t.is_empty() => syntax::render(t),
                _ => "?".to_string(),
            }
        }
    }
}

/// A literal name, also wrapped in `op.f(...)` / `batch_op.f(...)` /
/// `conv(...)`, which only mark a name as final.
pub(super) fn literal_name(tokens: &[Token<'_>]) -> Option<String> {
    if let Some(s) = literal_str(tokens) {
        return Some(s);
    }
    let call = whole_call(tokens)?;
    if !matches!(call.short_name(), "f" | "conv") {
        return None;
    }
    call.positional().next().and_then(literal_str)
}

/// A constraint or index name; these are optional and never make an
/// operation unsure.
pub(super) fn optional_name(tokens: Option<&[Token<'_>]>) -> Option<String> {
    let tokens = tokens?;
    if matches!(tokens, [t] if t.is_name("None")) {
        return None;
    }
    Some(literal_name(tokens).unwrap_or_else(|| syntax::render(tokens)))
}

/// A list or tuple of column names (or one name). A call in the list is a
/// functional index expression and is kept normalised.
pub(super) fn name_list(tokens: Option<&[Token<'_>]>, sure: &mut bool) -> Vec<String> {
    let Some(tokens) = tokens else {
        *sure = false;
        return Vec::new();
    };
    if let Some(s) = literal_str(tokens) {
        return vec![s];
    }
    let bracketed = tokens.first().is_some_and(|t| t.is_op("[") || t.is_op("("))
        && matching_close(tokens, 0) == Some(tokens.len() - 1);
    if !bracketed {
        *sure = false;
        return vec![syntax::render(tokens)];
    }
    split_top_level(&tokens[1..tokens.len() - 1], ",")
        .into_iter()
        .filter(|e| !e.is_empty())
        .map(|e| column_ref(e, sure))
        .collect()
}

pub(super) fn column_ref(tokens: &[Token<'_>], sure: &mut bool) -> String {
    if let Some(s) = literal_str(tokens) {
        return s;
    }
    if whole_call(tokens).is_some() {
        return normalize_expr(tokens);
    }
    *sure = false;
    syntax::render(tokens)
}

pub(super) fn bool_arg(tokens: Option<&[Token<'_>]>) -> Option<bool> {
    match tokens? {
        [t] if t.is_name("True") => Some(true),
        [t] if t.is_name("False") => Some(false),
        _ => None,
    }
}

/// A SQL or Python expression argument: the literal text, else normalised.
pub(super) fn expression(tokens: &[Token<'_>]) -> String {
    literal_str(tokens).unwrap_or_else(|| normalize_expr(tokens))
}

/// The SQL text of an `op.execute` argument, and whether it is exact (not
/// an f-string): a string, `sa.text(...)`, `textwrap.dedent(...)` or
/// `sa.DDL(...)` around one.
pub(super) fn sql_text(tokens: &[Token<'_>]) -> Option<(String, bool)> {
    if let Some(s) = literal_str(tokens) {
        return Some((s, true));
    }
    if !tokens.is_empty() && tokens.iter().all(|t| t.kind == Kind::Str) {
        return Some((tokens.iter().map(|t| string_body(t.text)).collect(), false));
    }
    let call = leading_call(tokens)?;
    if !matches!(call.short_name(), "text" | "dedent" | "DDL") {
        return None;
    }
    sql_text(call.positional().next()?)
}

/// The text between a string literal's quotes, as written.
pub(super) fn string_body(token: &str) -> &str {
    let Some(quote_at) = token.find(['"', '\'']) else {
        return token;
    };
    let body = &token[quote_at..];
    let quote_len = if body.len() >= 6 && (body.starts_with("\"\"\"") || body.starts_with("'''")) {
        3
    } else {
        1
    };
    body.get(quote_len..body.len().saturating_sub(quote_len))
        .unwrap_or("")
}

/// Columns, constraints and indexes given to `op.create_table`.
pub(super) fn table_items<'t, 'a>(
    items: impl Iterator<Item = &'t [Token<'a>]>,
    table: &str,
    sure: &mut bool,
) -> (Vec<ColumnSpec>, Vec<Constraint>, Vec<IndexSpec>)
where
    'a: 't,
{
    let mut columns = Vec::new();
    let mut constraints = Vec::new();
    let mut indexes = Vec::new();
    for item in items {
        if item.first().is_some_and(|t| t.is_op("*")) {
            // `*columns`: the table's columns are not in this file.
            *sure = false;
            continue;
        }
        let Some(call) = whole_call(item) else {
            continue;
        };
        let names = |sure: &mut bool| -> Vec<String> {
            call.positional().map(|p| column_ref(p, sure)).collect()
        };
        let constraint_name = || optional_name(call.keyword("name"));
        match call.short_name() {
            "Column" => {
                if let Some(c) = column_spec(item, sure) {
                    columns.push(c);
                }
            }
            "PrimaryKeyConstraint" => constraints.push(Constraint::PrimaryKey {
                name: constraint_name(),
                columns: names(sure),
            }),
            "UniqueConstraint" => constraints.push(Constraint::Unique {
                name: constraint_name(),
                columns: names(sure),
            }),
            "ForeignKeyConstraint" => {
                let a = Args::new(&call, &["columns", "refcolumns"]);
                let local = name_list(a.get("columns"), sure);
                let remote = name_list(a.get("refcolumns"), sure);
                let referent_table = remote
                    .first()
                    .and_then(|r| r.rsplit_once('.'))
                    .map_or_else(String::new, |(t, _)| t.to_string());
                let referent_columns = remote
                    .iter()
                    .map(|r| {
                        r.rsplit_once('.')
                            .map_or(r.as_str(), |(_, c)| c)
                            .to_string()
                    })
                    .collect();
                constraints.push(Constraint::ForeignKey {
                    name: constraint_name(),
                    columns: local,
                    referent_table,
                    referent_columns,
                });
            }
            "CheckConstraint" => constraints.push(Constraint::Check {
                name: constraint_name(),
                condition: call
                    .positional()
                    .next()
                    .map_or_else(String::new, expression),
            }),
            "Index" => {
                let mut positional = call.positional();
                let name = optional_name(positional.next());
                indexes.push(IndexSpec {
                    name,
                    table: table.to_string(),
                    columns: positional.map(|p| column_ref(p, sure)).collect(),
                    unique: bool_arg(call.keyword("unique")) == Some(true),
                });
            }
            _ => {}
        }
    }
    fold_constraints(&mut columns, &constraints, &indexes);
    (columns, constraints, indexes)
}

/// States single-column constraints on the columns themselves, as a model
/// does (`primary_key=True`, `unique=True`, `ForeignKey(...)`, `index=True`).
pub(super) fn fold_constraints(
    columns: &mut [ColumnSpec],
    constraints: &[Constraint],
    indexes: &[IndexSpec],
) {
    for constraint in constraints {
        match constraint {
            Constraint::PrimaryKey { columns: cols, .. } => {
                for c in cols {
                    if let Some(c) = column_mut(columns, c) {
                        c.primary_key = true;
                    }
                }
            }
            Constraint::Unique { columns: cols, .. } if cols.len() == 1 => {
                if let Some(c) = column_mut(columns, &cols[0]) {
                    c.unique = true;
                }
            }
            Constraint::ForeignKey {
                columns: cols,
                referent_table,
                referent_columns,
                ..
            } if cols.len() == 1 && referent_columns.len() == 1 => {
                if let Some(c) = column_mut(columns, &cols[0])
                    && c.foreign_key.is_none()
                {
                    c.foreign_key = Some(format!("{referent_table}.{}", referent_columns[0]));
                }
            }
            _ => {}
        }
    }
    for ix in indexes.iter().filter(|ix| ix.columns.len() == 1) {
        if let Some(c) = column_mut(columns, &ix.columns[0]) {
            c.index = true;
        }
    }
}

pub(super) fn column_mut<'c>(
    columns: &'c mut [ColumnSpec],
    name: &str,
) -> Option<&'c mut ColumnSpec> {
    columns.iter_mut().find(|c| c.name == name)
}

/// A `sa.Column(...)` as the model side states columns.
pub(super) fn column_spec(tokens: &[Token<'_>], sure: &mut bool) -> Option<ColumnSpec> {
    let call = whole_call(tokens).filter(|c| c.short_name() == "Column")?;
    let mut spec = ColumnSpec::default();
    let mut positional = call.positional().peekable();
    // The name comes first unless the call starts with the type
    // (`Column(Integer, ...)`, legal when `name=` is given or in a model).
    let name_tokens = call
        .keyword("name")
        .or_else(|| positional.next_if(|p| !looks_like_type(p)));
    spec.name = name(name_tokens, sure);
    for arg in positional {
        let callee = leading_call(arg);
        match callee.as_ref().map(Call::short_name) {
            Some("ForeignKey") => {
                spec.foreign_key = callee
                    .as_ref()
                    .and_then(|c| c.positional().next())
                    .map(expression);
            }
            Some(
                "Sequence" | "Identity" | "Computed" | "CheckConstraint" | "FetchedValue"
                | "DefaultClause",
            ) => {}
            _ if spec.type_.is_none() => spec.type_ = Some(normalize_type(arg)),
            _ => {}
        }
    }
    if let Some(t) = call.keyword("type_") {
        spec.type_ = Some(normalize_type(t));
    }
    spec.nullable = bool_arg(call.keyword("nullable"));
    spec.primary_key = bool_arg(call.keyword("primary_key")) == Some(true);
    spec.unique = bool_arg(call.keyword("unique")) == Some(true);
    spec.index = bool_arg(call.keyword("index")) == Some(true);
    let unless_none =
        |t: &[Token<'_>]| (!matches!(t, [x] if x.is_name("None"))).then(|| normalize_expr(t));
    spec.default = call.keyword("default").and_then(unless_none);
    spec.server_default = call.keyword("server_default").and_then(unless_none);
    Some(spec)
}

/// Whether a positional `Column` argument is a type (or other schema item)
/// rather than the column's name.
pub(super) fn looks_like_type(tokens: &[Token<'_>]) -> bool {
    if leading_call(tokens).is_some() {
        return true;
    }
    leading_name(tokens)
        .and_then(|n| n.rsplit('.').next().map(str::to_string))
        .is_some_and(|last| last.chars().next().is_some_and(char::is_uppercase))
}
