//! Reads one model file into what it declares: mapped classes and their
//! columns, mixins, enums, `Table(...)` objects and indexes. Structural
//! reading only; nothing is imported or executed.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::python::lexer::{Kind, Token};
use crate::python::syntax::{
    Call, Norm, Stmt, assignment, call_at, literal_str, matching_close, normalize, parse, render,
    split_top_level,
};
use crate::schema::ColumnSpec;

use super::types::{mapped_annotation, normalize_type};

pub const IGNORE_MARKER: &str = "alembot: ignore";

/// Keyword arguments of `Column` / `mapped_column` that never reach DDL.
pub const NON_DDL_KWARGS: &[&str] = &[
    // Python-side defaults: SQLAlchemy applies them, the database never
    // sees them (`server_default` / `server_onupdate` are the DDL ones).
    "default",
    "insert_default",
    "onupdate",
    "doc",
    "info",
    "init",
    "repr",
    "default_factory",
    "kw_only",
    "compare",
    "hash",
    "deferred",
    "deferred_group",
    "deferred_raiseload",
    "active_history",
    "sort_order",
    "use_existing_column",
    "key",
    "dataclass_metadata",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClassKind {
    /// A class mapped to a table of its own (or, without `__tablename__`,
    /// to its mapped parent's: single-table inheritance).
    Mapped,
    /// Columns meant to be inherited (`__abstract__ = True` or a plain mixin).
    Mixin,
    /// The declarative base itself.
    DeclarativeBase,
    /// An `enum.Enum`.
    Enum,
    /// Anything else: Pydantic models, dataclasses, TypedDicts, helpers.
    Other,
}

/// How a class names its table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TableName {
    Literal(String),
    /// `__tablename__` computed (`@declared_attr`) or not a literal.
    Dynamic,
    /// Flask-SQLAlchemy derives it from the class name.
    Derived(String),
    /// Single-table inheritance: the parent's table.
    Inherited(String),
    /// Nothing visible says which table.
    Unknown,
}

impl TableName {
    pub fn resolved(&self) -> Option<&str> {
        match self {
            TableName::Literal(n) | TableName::Derived(n) | TableName::Inherited(n) => Some(n),
            _ => None,
        }
    }
}

/// A class-body or table-level element whose change matters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    Column(ColumnSpec),
    TableName,
    TableArgs,
    /// A standalone index or constraint (in `__table_args__`, `Table(...)`
    /// or at module level).
    Constraint(ConstraintDef),
    /// Schema-relevant but not understood (metaprogramming, `__table__`).
    Opaque,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConstraintDef {
    pub kind: ConstraintKind,
    pub name: Option<String>,
    pub columns: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConstraintKind {
    Index,
    UniqueIndex,
    Unique,
    ForeignKey,
    Check,
    PrimaryKey,
}

/// One schema-relevant element with its normalised source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    /// Stable identity within its owner: `col:title`, `tablename`,
    /// `index:ix_post_title`, `unique:a,b`.
    pub key: String,
    pub role: Role,
    pub line: u32,
    pub norm: Vec<Norm>,
    /// Line of each normalised token, to point at the exact changed line.
    pub norm_lines: Vec<u32>,
    pub ignored: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassDef {
    pub name: String,
    pub bases: Vec<String>,
    pub line: u32,
    pub end_line: u32,
    pub kind: ClassKind,
    pub table: TableName,
    pub elements: Vec<Element>,
    /// Enum members, for `ClassKind::Enum`.
    pub members: Vec<(String, u32)>,
    /// The class line carries `# alembot: ignore`.
    pub ignored: bool,
    /// Why the reading of this class is unsure.
    pub unsure: Vec<String>,
    /// Decorated with `@dataclass`: a plain data holder, never mapped.
    pub plain_dataclass: bool,
}

/// An imperative `name = Table("table", metadata, ...)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableDef {
    pub variable: String,
    pub table: Option<String>,
    pub line: u32,
    pub elements: Vec<Element>,
    pub ignored: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModelFile {
    pub classes: Vec<ClassDef>,
    pub tables: Vec<TableDef>,
    /// Module-level statements that touch the schema in ways not read
    /// structurally (e.g. `Index(...)` or `setattr(Model, ...)`), keyed by
    /// their normalised text.
    pub loose: Vec<Element>,
    pub lex_errors: usize,
    /// Class name → index of its first definition, and table variable →
    /// index of its first assignment: lookups by name are constant-time,
    /// so diffing a file of thousands of classes stays linear.
    class_index: HashMap<String, usize>,
    table_index: HashMap<String, usize>,
}

impl ModelFile {
    pub fn class(&self, name: &str) -> Option<&ClassDef> {
        self.class_index.get(name).map(|&i| &self.classes[i])
    }

    /// The first `Table(...)` assigned to `variable`.
    pub fn table(&self, variable: &str) -> Option<&TableDef> {
        self.table_index.get(variable).map(|&i| &self.tables[i])
    }

    fn index(&mut self) {
        self.class_index.clear();
        for (i, c) in self.classes.iter().enumerate() {
            self.class_index.entry(c.name.clone()).or_insert(i);
        }
        self.table_index.clear();
        for (i, t) in self.tables.iter().enumerate() {
            self.table_index.entry(t.variable.clone()).or_insert(i);
        }
    }

    /// The table a class maps to, following inheritance for STI.
    pub fn table_of(&self, class: &str) -> Option<String> {
        self.class(class)
            .and_then(|c| c.table.resolved().map(str::to_string))
    }
}

pub fn extract(src: &str) -> ModelFile {
    let module = parse(src);
    let mut file = ModelFile {
        lex_errors: module.errors.len(),
        ..ModelFile::default()
    };
    let mut pending_decorators: Vec<String> = Vec::new();
    for stmt in &module.body {
        if stmt.tokens.first().is_some_and(|t| t.is_op("@")) {
            pending_decorators.push(render(&stmt.tokens[1..]));
            continue;
        }
        let decorators = std::mem::take(&mut pending_decorators);
        if stmt.starts_with_name("class") {
            if let Some(class) = read_class(stmt, &decorators) {
                file.classes.push(class);
            }
        } else if let Some(table) = read_table_assignment(stmt) {
            file.tables.push(table);
        } else if is_loose_schema_statement(stmt) {
            file.loose.push(loose_element(stmt));
        }
    }
    classify(&mut file);
    file.index();
    file
}

fn element(key: String, role: Role, stmt: &Stmt<'_>) -> Element {
    let (norm, norm_lines) = norm_with_lines(&stmt.tokens);
    Element {
        key,
        role,
        line: stmt.first_line,
        norm,
        norm_lines,
        ignored: stmt.has_comment(IGNORE_MARKER),
    }
}

fn norm_with_lines(tokens: &[Token<'_>]) -> (Vec<Norm>, Vec<u32>) {
    let norm = normalize(tokens);
    // `normalize` drops only magic trailing commas; rebuild the line list by
    // walking both streams.
    let mut lines = Vec::with_capacity(norm.len());
    let mut i = 0;
    for n in &norm {
        while i < tokens.len() {
            let t = &tokens[i];
            i += 1;
            let same = match n {
                Norm::Tok(s) => s == t.text,
                Norm::Str(_) => t.kind == Kind::Str,
            };
            if same {
                lines.push(t.line);
                break;
            }
        }
    }
    while lines.len() < norm.len() {
        lines.push(tokens.last().map_or(0, |t| t.line));
    }
    (norm, lines)
}

fn read_class(stmt: &Stmt<'_>, decorators: &[String]) -> Option<ClassDef> {
    let name = stmt.tokens.get(1).filter(|t| t.kind == Kind::Name)?.text;
    let bases: Vec<String> = match stmt.tokens.get(2) {
        Some(t) if t.is_op("(") => {
            let close = matching_close(&stmt.tokens, 2).unwrap_or(stmt.tokens.len() - 1);
            split_top_level(&stmt.tokens[3..close], ",")
                .into_iter()
                .filter(|p| !p.is_empty())
                .map(render)
                .collect()
        }
        _ => Vec::new(),
    };
    let is_dataclass_like = decorators
        .iter()
        .any(|d| d.starts_with("dataclass") || d.starts_with("dataclasses.dataclass"));
    let mut class = ClassDef {
        name: name.to_string(),
        bases,
        line: stmt.first_line,
        end_line: stmt.end_line(),
        kind: ClassKind::Other,
        table: TableName::Unknown,
        elements: Vec::new(),
        members: Vec::new(),
        ignored: stmt.has_comment(IGNORE_MARKER),
        unsure: Vec::new(),
        plain_dataclass: false,
    };
    let mut abstract_ = false;
    let mut tablename: Option<TableName> = None;
    let mut decorators_in_body: Vec<String> = Vec::new();
    for body in &stmt.body {
        if body.tokens.first().is_some_and(|t| t.is_op("@")) {
            decorators_in_body.push(render(&body.tokens[1..]));
            continue;
        }
        let decos = std::mem::take(&mut decorators_in_body);
        if body.starts_with_name("def") || body.starts_with_name("async") {
            let fn_name = body.tokens.get(1).map(|t| t.text).unwrap_or("");
            if fn_name == "__tablename__" && decos.iter().any(|d| d.contains("declared_attr")) {
                tablename = Some(TableName::Dynamic);
                class
                    .elements
                    .push(element("tablename".into(), Role::TableName, body));
            } else if fn_name == "__table_args__" {
                class.unsure.push(format!(
                    "`__table_args__` is computed (line {})",
                    body.first_line
                ));
                class
                    .elements
                    .push(element("table_args".into(), Role::TableArgs, body));
            } else if decos.iter().any(|d| d.contains("declared_attr"))
                && contains_column_call(body)
            {
                // A column declared through `@declared_attr` (mixins do this).
                class
                    .elements
                    .push(element(format!("col:{fn_name}"), Role::Opaque, body));
                class.unsure.push(format!(
                    "`{fn_name}` is a declared_attr column (line {})",
                    body.first_line
                ));
            }
            continue;
        }
        if body.starts_with_name("class") {
            // Nested classes (Meta, Config) are not columns.
            continue;
        }
        let Some((target, annotation, value)) = split_assignment(&body.tokens) else {
            if contains_column_call(body) {
                class.elements.push(element(
                    format!("stmt:{}", render(&body.tokens)),
                    Role::Opaque,
                    body,
                ));
                class.unsure.push(format!(
                    "unrecognised statement at line {}",
                    body.first_line
                ));
            }
            continue;
        };
        match target {
            "__tablename__" => {
                tablename = Some(match value.and_then(literal_str) {
                    Some(n) => TableName::Literal(n),
                    None => TableName::Dynamic,
                });
                class
                    .elements
                    .push(element("tablename".into(), Role::TableName, body));
            }
            "__abstract__" => {
                abstract_ = value.is_some_and(|v| v.len() == 1 && v[0].text == "True");
            }
            "__table_args__" => {
                read_table_args(&mut class, body, value);
            }
            "__table__" => {
                class
                    .elements
                    .push(element("table".into(), Role::Opaque, body));
                let table = value
                    .and_then(|v| first_call(v, &["Table"]))
                    .and_then(|c| c.positional().next().and_then(literal_str));
                tablename = Some(match table {
                    Some(t) => TableName::Literal(t),
                    None => TableName::Dynamic,
                });
                class.unsure.push("`__table__` is assigned directly".into());
            }
            "__mapper_args__" | "__allow_unmapped__" | "__slots__" | "__doc__" | "model_config"
            | "__table_cls__" => {}
            _ => {
                if let Some(spec) = column_from_attribute(target, annotation, value) {
                    class
                        .elements
                        .push(element(format!("col:{target}"), Role::Column(spec), body));
                } else if let Some(v) = value
                    && v.first().is_some_and(|t| t.kind != Kind::Str)
                    && is_enum_member_value(v)
                    && annotation.is_none()
                {
                    class.members.push((target.to_string(), body.first_line));
                } else if value.is_some_and(|v| v.first().is_some_and(|t| t.kind == Kind::Str))
                    && annotation.is_none()
                {
                    class.members.push((target.to_string(), body.first_line));
                }
            }
        }
    }
    if abstract_ {
        class.kind = ClassKind::Mixin;
    }
    if let Some(t) = tablename {
        class.table = t;
    }
    class.plain_dataclass = is_dataclass_like;
    Some(class)
}

fn read_table_args(class: &mut ClassDef, stmt: &Stmt<'_>, value: Option<&[Token<'_>]>) {
    class
        .elements
        .push(element("table_args".into(), Role::TableArgs, stmt));
    let Some(value) = value else { return };
    let items: Vec<&[Token<'_>]> = match value {
        [open, .., close] if open.is_op("(") && close.is_op(")") => {
            split_top_level(&value[1..value.len() - 1], ",")
        }
        [open, ..] if open.is_op("{") => return,
        _ => {
            class.unsure.push(format!(
                "`__table_args__` is not a literal tuple (line {})",
                stmt.first_line
            ));
            return;
        }
    };
    for item in items {
        if let Some(c) = constraint_from(item) {
            let (norm, norm_lines) = norm_with_lines(item);
            let key = element_key(&c, &norm);
            class.elements.push(Element {
                key,
                role: Role::Constraint(c),
                line: item.first().map_or(stmt.first_line, |t| t.line),
                norm,
                norm_lines,
                ignored: stmt.has_comment(IGNORE_MARKER),
            });
        }
    }
}

pub fn constraint_key(c: &ConstraintDef) -> String {
    let kind = match c.kind {
        ConstraintKind::Index | ConstraintKind::UniqueIndex => "index",
        ConstraintKind::Unique => "unique",
        ConstraintKind::ForeignKey => "fk",
        ConstraintKind::Check => "check",
        ConstraintKind::PrimaryKey => "pk",
    };
    match &c.name {
        Some(n) => format!("{kind}:{n}"),
        None => format!("{kind}:{}", c.columns.join(",")),
    }
}

/// The key that pairs a constraint across the two sides: its name or
/// columns; an unnamed check constraint has neither, so its text (several
/// unnamed checks must not share one key).
fn element_key(c: &ConstraintDef, norm: &[Norm]) -> String {
    if c.kind == ConstraintKind::Check && c.name.is_none() {
        let text: Vec<&str> = norm
            .iter()
            .map(|n| match n {
                Norm::Tok(t) | Norm::Str(t) => t.as_str(),
            })
            .collect();
        format!("check:{}", text.join(" "))
    } else {
        constraint_key(c)
    }
}

/// `Index("ix", "a", "b")`, `UniqueConstraint("a", name="uq")`, ...
fn constraint_from(tokens: &[Token<'_>]) -> Option<ConstraintDef> {
    let call = first_call(
        tokens,
        &[
            "Index",
            "UniqueConstraint",
            "ForeignKeyConstraint",
            "CheckConstraint",
            "PrimaryKeyConstraint",
        ],
    )?;
    if call.start != 0 && !(call.start == 2 && tokens[1].is_op(".")) {
        // Only a top-level call counts, not one nested in something else.
        if tokens.iter().take(call.start).any(|t| {
            t.kind == Kind::Name && !matches!(t.text, "sa" | "sqlalchemy" | "db" | "schema")
        }) {
            return None;
        }
    }
    let short = call.short_name().to_string();
    let mut positional: Vec<&[Token<'_>]> = call.positional().collect();
    let name_kw = call.keyword("name").and_then(literal_str);
    let (kind, name) = match short.as_str() {
        "Index" => {
            let name = positional.first().and_then(|p| literal_str(p));
            if !positional.is_empty() {
                positional.remove(0);
            }
            let unique = call
                .keyword("unique")
                .is_some_and(|v| v.len() == 1 && v[0].text == "True");
            (
                if unique {
                    ConstraintKind::UniqueIndex
                } else {
                    ConstraintKind::Index
                },
                name,
            )
        }
        "UniqueConstraint" => (ConstraintKind::Unique, name_kw),
        "ForeignKeyConstraint" => {
            // First positional: the local columns list.
            let cols = positional
                .first()
                .map(|p| list_literal(p))
                .unwrap_or_default();
            return Some(ConstraintDef {
                kind: ConstraintKind::ForeignKey,
                name: name_kw,
                columns: cols,
            });
        }
        "CheckConstraint" => {
            // `CheckConstraint(sqltext, name=None, ...)`: the name may be
            // positional.
            let name = name_kw.or_else(|| positional.get(1).and_then(|p| literal_str(p)));
            return Some(ConstraintDef {
                kind: ConstraintKind::Check,
                name,
                columns: Vec::new(),
            });
        }
        _ => (ConstraintKind::PrimaryKey, name_kw),
    };
    let columns = positional
        .iter()
        .map(|p| literal_str(p).unwrap_or_else(|| column_ref(p)))
        .collect();
    Some(ConstraintDef {
        kind,
        name,
        columns,
    })
}

/// `Post.title` → `title`; `post_table.c.title` → `title`; `"title"` stays.
fn column_ref(tokens: &[Token<'_>]) -> String {
    tokens
        .iter()
        .rev()
        .find(|t| t.kind == Kind::Name)
        .map(|t| t.text.to_string())
        .unwrap_or_else(|| render(tokens))
}

fn list_literal(tokens: &[Token<'_>]) -> Vec<String> {
    match tokens {
        [open, .., close]
            if (open.is_op("[") || open.is_op("(")) && (close.is_op("]") || close.is_op(")")) =>
        {
            split_top_level(&tokens[1..tokens.len() - 1], ",")
                .into_iter()
                .filter_map(|p| literal_str(p).or_else(|| Some(column_ref(p))))
                .collect()
        }
        _ => Vec::new(),
    }
}

/// Splits `target[: annotation] = value` (or an annotation alone).
#[allow(clippy::type_complexity)]
fn split_assignment<'t, 'a>(
    tokens: &'t [Token<'a>],
) -> Option<(&'a str, Option<&'t [Token<'a>]>, Option<&'t [Token<'a>]>)> {
    assignment(tokens).map(|a| (a.target.text, a.annotation, a.value))
}

fn first_call<'t, 'a>(tokens: &'t [Token<'a>], names: &[&str]) -> Option<Call<'t, 'a>> {
    (1..tokens.len())
        .filter(|&i| tokens[i].is_op("(") && tokens[i - 1].kind == Kind::Name)
        .filter_map(|i| call_at(tokens, i))
        .find(|c| names.contains(&c.short_name()))
}

const COLUMN_CALLS: &[&str] = &["Column", "mapped_column"];

fn contains_column_call(stmt: &Stmt<'_>) -> bool {
    first_call(&stmt.tokens, COLUMN_CALLS).is_some() || stmt.body.iter().any(contains_column_call)
}

/// The column an attribute declares, if it declares one.
fn column_from_attribute(
    attr: &str,
    annotation: Option<&[Token<'_>]>,
    value: Option<&[Token<'_>]>,
) -> Option<ColumnSpec> {
    let ann = annotation.and_then(mapped_annotation);
    let call = value.and_then(|v| {
        // Only when the value *is* the column call (possibly wrapped in
        // `deferred(...)` / `column_property(...)`), not e.g. a relationship
        // whose arguments mention a column.
        let head = v
            .iter()
            .take_while(|t| !t.is_op("("))
            .map(|t| t.text)
            .collect::<Vec<_>>();
        let callee = head.last().copied().unwrap_or("");
        match callee {
            "Column" | "mapped_column" => first_call(v, COLUMN_CALLS),
            "deferred" | "column_property" | "deferred_column" => first_call(v, COLUMN_CALLS),
            _ => None,
        }
    });
    if call.is_none() {
        // `x: Mapped[int]` alone is a column in SQLAlchemy 2.0 — unless the
        // annotation names a related class or a collection.
        let ann = ann?;
        if value.is_some() || ann.looks_like_relationship {
            return None;
        }
        return Some(ColumnSpec {
            name: attr.to_string(),
            type_: ann.sql_type.clone().or(Some(ann.inner.clone())),
            nullable: Some(ann.optional),
            ..ColumnSpec::default()
        });
    }
    let call = call?;
    let mut spec = ColumnSpec {
        name: attr.to_string(),
        ..ColumnSpec::default()
    };
    let mut positional = call.positional().peekable();
    if let Some(first) = positional.peek()
        && let Some(name) = literal_str(first)
    {
        spec.name = name;
        positional.next();
    }
    for arg in positional {
        match first_call(arg, &["ForeignKey"]) {
            Some(fk) if fk.start == 0 || (fk.start == 2 && arg[1].is_op(".")) => {
                spec.foreign_key = fk
                    .positional()
                    .next()
                    .map(|t| literal_str(t).unwrap_or_else(|| render(t)));
            }
            _ => {
                let head = arg
                    .iter()
                    .take_while(|t| !t.is_op("("))
                    .last()
                    .map(|t| t.text);
                if matches!(
                    head,
                    Some("Sequence" | "Identity" | "Computed" | "CheckConstraint")
                ) {
                    continue;
                }
                if spec.type_.is_none() {
                    spec.type_ = Some(normalize_type(arg));
                }
            }
        }
    }
    if let Some(t) = call.keyword("type_") {
        spec.type_ = Some(normalize_type(t));
    }
    if let Some(n) = call.keyword("name").and_then(literal_str) {
        spec.name = n;
    }
    let flag = |k: &str| {
        call.keyword(k)
            .map(|v| v.len() == 1 && v[0].text == "True")
            .unwrap_or(false)
    };
    spec.primary_key = flag("primary_key");
    spec.unique = flag("unique");
    spec.index = flag("index");
    spec.default = call
        .keyword("default")
        .or_else(|| call.keyword("insert_default"))
        .map(render);
    spec.server_default = call.keyword("server_default").map(render);
    spec.nullable = match call.keyword("nullable") {
        Some([t]) if t.text == "True" => Some(true),
        Some([t]) if t.text == "False" => Some(false),
        Some(_) => None,
        None if spec.primary_key => Some(false),
        None => ann.as_ref().map(|a| a.optional),
    };
    if spec.type_.is_none()
        && let Some(a) = &ann
    {
        spec.type_ = a.sql_type.clone().or(Some(a.inner.clone()));
    }
    Some(spec)
}

fn is_enum_member_value(v: &[Token<'_>]) -> bool {
    // `A = 1`, `A = auto()`, `A = "a"`: literals or auto().
    matches!(v, [t] if matches!(t.kind, Kind::Number | Kind::Str))
        || matches!(v, [n, o, c] if n.text == "auto" && o.is_op("(") && c.is_op(")"))
        || matches!(v, [n, o, c] if n.text.ends_with("auto") && o.is_op("(") && c.is_op(")"))
}

/// `name = Table("table", metadata, Column(...), ...)` at module level.
fn read_table_assignment(stmt: &Stmt<'_>) -> Option<TableDef> {
    let (target, _, value) = split_assignment(&stmt.tokens)?;
    let value = value?;
    let head = value.iter().take_while(|t| !t.is_op("(")).last()?;
    if head.text != "Table" {
        return None;
    }
    let call = first_call(value, &["Table"])?;
    let table = call.positional().next().and_then(literal_str);
    let mut def = TableDef {
        variable: target.to_string(),
        table,
        line: stmt.first_line,
        elements: Vec::new(),
        ignored: stmt.has_comment(IGNORE_MARKER),
    };
    for arg in call.args.iter().filter(|a| a.name.is_none()).skip(2) {
        let (norm, norm_lines) = norm_with_lines(arg.value);
        let line = arg.value.first().map_or(stmt.first_line, |t| t.line);
        let ignored = def.ignored || line_has_marker(stmt, line);
        if let Some(spec) = column_from_attribute("", None, Some(arg.value)) {
            if spec.name.is_empty() {
                continue;
            }
            def.elements.push(Element {
                key: format!("col:{}", spec.name),
                role: Role::Column(spec),
                line,
                norm,
                norm_lines,
                ignored,
            });
        } else if let Some(c) = constraint_from(arg.value) {
            def.elements.push(Element {
                key: element_key(&c, &norm),
                role: Role::Constraint(c),
                line,
                norm,
                norm_lines,
                ignored,
            });
        }
    }
    let options: Vec<_> = call.args.iter().filter(|a| a.name.is_some()).collect();
    if !options.is_empty() {
        let tokens: Vec<Token<'_>> = options
            .iter()
            .flat_map(|a| a.value.iter().copied())
            .collect();
        let (norm, norm_lines) = norm_with_lines(&tokens);
        def.elements.push(Element {
            key: "table_args".into(),
            role: Role::TableArgs,
            line: tokens.first().map_or(stmt.first_line, |t| t.line),
            norm,
            norm_lines,
            ignored: def.ignored,
        });
    }
    Some(def)
}

fn line_has_marker(stmt: &Stmt<'_>, line: u32) -> bool {
    stmt.comments
        .iter()
        .any(|c| c.line == line && c.text.contains(IGNORE_MARKER))
}

/// A module-level statement outside classes and `Table(...)` assignments
/// that still touches the schema: `Index(...)`, `setattr(X, "c",
/// Column(...))`, `X.__table__.append_column(...)`.
fn is_loose_schema_statement(stmt: &Stmt<'_>) -> bool {
    if stmt.starts_with_name("def")
        || stmt.starts_with_name("import")
        || stmt.starts_with_name("from")
        || stmt.starts_with_name("async")
    {
        return false;
    }
    first_call(
        &stmt.tokens,
        &[
            "Column",
            "mapped_column",
            "Index",
            "UniqueConstraint",
            "CheckConstraint",
            "ForeignKeyConstraint",
            "append_column",
            "append_constraint",
        ],
    )
    .is_some()
}

fn loose_element(stmt: &Stmt<'_>) -> Element {
    let (norm, norm_lines) = norm_with_lines(&stmt.tokens);
    let role = match constraint_from(&stmt.tokens) {
        Some(c)
            if stmt
                .tokens
                .iter()
                .take_while(|t| !t.is_op("("))
                .any(|t| t.text == "Index") =>
        {
            Role::Constraint(c)
        }
        _ => Role::Opaque,
    };
    let key = match &role {
        Role::Constraint(c) => constraint_key(c),
        _ => format!("stmt:{}", render(&stmt.tokens)),
    };
    Element {
        key,
        role,
        line: stmt.first_line,
        norm,
        norm_lines,
        ignored: stmt.has_comment(IGNORE_MARKER),
    }
}

/// Names that make a class a declarative base or mapped when it derives
/// from them, beyond the bases found in the same file.
fn is_declarative_root(base: &str) -> bool {
    let last = base.rsplit('.').next().unwrap_or(base);
    matches!(
        last,
        "DeclarativeBase" | "DeclarativeBaseNoMeta" | "MappedAsDataclass" | "AsyncAttrs"
    )
}

fn is_non_model_base(base: &str) -> bool {
    let last = base.rsplit('.').next().unwrap_or(base);
    matches!(
        last,
        "BaseModel"
            | "TypedDict"
            | "NamedTuple"
            | "Protocol"
            | "BaseSettings"
            | "Schema"
            | "SQLAlchemySchema"
            | "SQLAlchemyAutoSchema"
            | "Exception"
            | "ABC"
    ) || last.ends_with("Schema")
        || last.ends_with("Error")
}

fn is_enum_base(base: &str) -> bool {
    let last = base.rsplit('.').next().unwrap_or(base);
    matches!(last, "Enum" | "IntEnum" | "StrEnum" | "Flag" | "IntFlag")
}

/// Looks like a mapped base defined elsewhere (`Base`, `db.Model`,
/// `TimestampedBase`), not a Pydantic or other base.
fn looks_like_mapped_base(base: &str) -> bool {
    let last = base.rsplit('.').next().unwrap_or(base);
    last == "Model" || last == "Base" || (last.ends_with("Base") && !is_non_model_base(base))
}

/// Decides each class's kind and table once every class is known, since
/// a class's meaning depends on its bases.
fn classify(file: &mut ModelFile) {
    let names: HashSet<String> = file.classes.iter().map(|c| c.name.clone()).collect();
    let mut kinds: BTreeMap<String, ClassKind> = BTreeMap::new();
    let mut tables: BTreeMap<String, TableName> = BTreeMap::new();
    // Iterate to a fixed point: bases are usually defined first, but not always.
    for _ in 0..4 {
        for class in &file.classes {
            let local_kind = |b: &str| kinds.get(b).cloned();
            let has_columns = class
                .elements
                .iter()
                .any(|e| matches!(e.role, Role::Column(_)) || e.key.starts_with("col:"));
            let kind = if class.plain_dataclass {
                ClassKind::Other
            } else if class.kind == ClassKind::Mixin {
                ClassKind::Mixin
            } else if class.bases.iter().any(|b| is_enum_base(b))
                || class
                    .bases
                    .iter()
                    .any(|b| local_kind(b) == Some(ClassKind::Enum))
            {
                ClassKind::Enum
            } else if class.bases.iter().any(|b| is_non_model_base(b))
                && class.table == TableName::Unknown
            {
                ClassKind::Other
            } else if class.bases.iter().any(|b| is_declarative_root(b))
                && class.table == TableName::Unknown
                && !class.bases.iter().any(|b| {
                    local_kind(b) == Some(ClassKind::DeclarativeBase)
                        || local_kind(b) == Some(ClassKind::Mapped)
                })
            {
                ClassKind::DeclarativeBase
            } else if class.table != TableName::Unknown
                || class.bases.iter().any(|b| {
                    matches!(
                        local_kind(b),
                        Some(ClassKind::Mapped) | Some(ClassKind::DeclarativeBase)
                    )
                })
                || class
                    .bases
                    .iter()
                    .any(|b| !names.contains(b) && looks_like_mapped_base(b))
                || class.bases.iter().any(|b| b.contains("table=True"))
            {
                ClassKind::Mapped
            } else if has_columns {
                ClassKind::Mixin
            } else {
                ClassKind::Other
            };
            let table = if kind != ClassKind::Mapped {
                TableName::Unknown
            } else if class.table != TableName::Unknown {
                class.table.clone()
            } else if let Some(parent) = class
                .bases
                .iter()
                .find(|b| local_kind(b) == Some(ClassKind::Mapped))
            {
                match tables.get(parent) {
                    Some(t) => match t.resolved() {
                        Some(n) => TableName::Inherited(n.to_string()),
                        None => t.clone(),
                    },
                    None => TableName::Unknown,
                }
            } else if class
                .bases
                .iter()
                .any(|b| b == "db.Model" || b.ends_with(".Model") || b == "Model")
                || class.bases.iter().any(|b| b.contains("table=True"))
            {
                // Flask-SQLAlchemy (and SQLModel) derive the name.
                if class.bases.iter().any(|b| b.contains("table=True")) {
                    TableName::Derived(class.name.to_lowercase())
                } else {
                    TableName::Derived(camel_to_snake(&class.name))
                }
            } else {
                TableName::Unknown
            };
            kinds.insert(class.name.clone(), kind);
            tables.insert(class.name.clone(), table);
        }
    }
    for class in &mut file.classes {
        if let Some(k) = kinds.remove(&class.name) {
            class.kind = k;
        }
        if let Some(t) = tables.remove(&class.name) {
            class.table = t;
        }
    }
}

/// Flask-SQLAlchemy 3's `camel_to_snake_case`: `HTTPResponse` → `http_response`.
pub fn camel_to_snake(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() && i > 0 {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if prev.is_lowercase() || prev.is_ascii_digit() || (prev.is_uppercase() && next_lower) {
                out.push('_');
            }
        }
        out.extend(c.to_lowercase());
    }
    out.trim_start_matches('_').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_names() {
        assert_eq!(camel_to_snake("User"), "user");
        assert_eq!(camel_to_snake("UserProfile"), "user_profile");
        assert_eq!(camel_to_snake("HTTPResponse"), "http_response");
        assert_eq!(camel_to_snake("OAuth2Token"), "o_auth2_token");
    }

    const MODELS: &str = r#"
import enum
from sqlalchemy import ForeignKey, String, Table, Column, Integer, Index
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Status(enum.Enum):
    draft = "draft"
    published = "published"


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class User(TimestampMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column("email_address", String(255), unique=True)
    nickname: Mapped[Optional[str]]
    posts: Mapped[List["Post"]] = relationship(back_populates="author")

    def greet(self):
        return "hi"


class Post(Base):
    __tablename__ = "post"
    __table_args__ = (Index("ix_post_title", "title"), UniqueConstraint("slug", name="uq_slug"))

    id = Column(Integer, primary_key=True)
    title = Column(String(100), nullable=False)
    slug = Column(String(100))
    status: Mapped[Status] = mapped_column(Enum(Status))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))


class Admin(User):
    level: Mapped[int] = mapped_column(default=1)


class UserOut(BaseModel):
    id: int
    email: str


post_tags = Table(
    "post_tags",
    Base.metadata,
    Column("post_id", ForeignKey("post.id"), primary_key=True),
    Column("tag_id", ForeignKey("tag.id"), primary_key=True),
)
"#;

    #[test]
    fn reads_classes_kinds_and_tables() {
        let f = extract(MODELS);
        let kind = |n: &str| f.class(n).map(|c| c.kind.clone());
        assert_eq!(kind("Base"), Some(ClassKind::DeclarativeBase));
        assert_eq!(kind("Status"), Some(ClassKind::Enum));
        assert_eq!(kind("TimestampMixin"), Some(ClassKind::Mixin));
        assert_eq!(kind("User"), Some(ClassKind::Mapped));
        assert_eq!(kind("Post"), Some(ClassKind::Mapped));
        assert_eq!(kind("Admin"), Some(ClassKind::Mapped));
        assert_eq!(kind("UserOut"), Some(ClassKind::Other));
        assert_eq!(f.table_of("User").as_deref(), Some("users"));
        assert_eq!(f.table_of("Admin").as_deref(), Some("users"));
        let status = f.class("Status").unwrap();
        let members: Vec<_> = status.members.iter().map(|(m, _)| m.as_str()).collect();
        assert_eq!(members, ["draft", "published"]);
    }

    #[test]
    fn reads_columns_with_their_specs() {
        let f = extract(MODELS);
        let user = f.class("User").unwrap();
        let cols: BTreeMap<_, _> = user
            .elements
            .iter()
            .filter_map(|e| match &e.role {
                Role::Column(s) => Some((e.key.clone(), s.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(cols.len(), 3, "{cols:?}");
        let email = &cols["col:email"];
        assert_eq!(email.name, "email_address");
        assert_eq!(email.type_.as_deref(), Some("String(255)"));
        assert!(email.unique);
        assert_eq!(email.nullable, Some(false));
        let nick = &cols["col:nickname"];
        assert_eq!(nick.nullable, Some(true));
        assert_eq!(nick.type_.as_deref(), Some("String"));
        assert_eq!(cols["col:id"].nullable, Some(false));
        let post = f.class("Post").unwrap();
        let author = post
            .elements
            .iter()
            .find(|e| e.key == "col:author_id")
            .unwrap();
        match &author.role {
            Role::Column(s) => assert_eq!(s.foreign_key.as_deref(), Some("users.id")),
            r => panic!("{r:?}"),
        }
        let keys: Vec<_> = post.elements.iter().map(|e| e.key.as_str()).collect();
        assert!(keys.contains(&"index:ix_post_title"), "{keys:?}");
        assert!(keys.contains(&"unique:uq_slug"), "{keys:?}");
    }

    #[test]
    fn reads_imperative_tables() {
        let f = extract(MODELS);
        assert_eq!(f.tables.len(), 1);
        let t = &f.tables[0];
        assert_eq!(t.table.as_deref(), Some("post_tags"));
        let keys: Vec<_> = t.elements.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["col:post_id", "col:tag_id"]);
    }

    #[test]
    fn flask_sqlalchemy_derives_table_names() {
        let f = extract(
            "class UserProfile(db.Model):\n    id = db.Column(db.Integer, primary_key=True)\n    bio = db.Column(db.Text)\n",
        );
        let c = f.class("UserProfile").unwrap();
        assert_eq!(c.kind, ClassKind::Mapped);
        assert_eq!(c.table, TableName::Derived("user_profile".into()));
        assert_eq!(c.elements.len(), 2);
    }

    #[test]
    fn declared_attr_tablename_is_dynamic() {
        let f = extract(
            "class Thing(Base):\n    @declared_attr.directive\n    def __tablename__(cls):\n        return cls.__name__.lower()\n    id = mapped_column(Integer, primary_key=True)\n",
        );
        let c = f.class("Thing").unwrap();
        assert_eq!(c.table, TableName::Dynamic);
        assert_eq!(c.kind, ClassKind::Mapped);
    }

    #[test]
    fn abstract_base_is_a_mixin() {
        let f = extract(
            "class Base(DeclarativeBase):\n    pass\nclass Stamped(Base):\n    __abstract__ = True\n    created = mapped_column(DateTime)\n",
        );
        assert_eq!(f.class("Stamped").unwrap().kind, ClassKind::Mixin);
    }
}
