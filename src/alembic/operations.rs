//! What a revision's `upgrade()` and `downgrade()` do, read statically: the
//! Alembic operations they call, in source order, with the tables, columns
//! and constraints they name. This is a model for lints and for the
//! cross-check with model edits, not an interpreter: an operation whose
//! table or column is not a literal is kept and marked `unsure`.

use std::collections::{HashMap, HashSet};

use super::arguments::{
    Args, bool_arg, column_spec, expression, leading_call, leading_name, name, name_list,
    optional_name, sql_text, table_items, whole_call,
};
use super::sql::{self, SqlKind, SqlStatement};
pub use super::types::{normalize_expr, normalize_type};
use crate::python::lexer::{Kind, Token};
use crate::python::syntax::{self, Call, Stmt, call_at, literal_str, split_top_level};
use crate::schema::ColumnSpec;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationOps {
    pub upgrade: Function,
    pub downgrade: Function,
}

/// One of the two migration functions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Function {
    /// Line of the `def`, when the function exists.
    pub line: Option<u32>,
    pub body: Body,
    pub ops: Vec<Operation>,
}

/// What a function's body amounts to, before looking at its operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// No module-level `def`.
    Missing,
    /// Only `pass`, `...`, docstrings and comments.
    Empty,
    /// A top-level `raise NotImplementedError` (the usual way to declare a
    /// migration irreversible).
    RaisesNotImplemented,
    Code,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    pub kind: OpKind,
    /// Line of the call.
    pub line: u32,
    /// A table or column name (or the SQL of `op.execute`) is not a literal,
    /// so the names recorded are the expressions as written.
    pub unsure: bool,
    /// Called on a `batch_alter_table` context (`batch_op.add_column(...)`).
    pub batch: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpKind {
    /// Inline constraints are also folded into the column specs they cover
    /// (single-column primary key, unique, foreign key and index), the way a
    /// model states them with `primary_key=True`, `unique=True`, ...
    CreateTable {
        table: String,
        columns: Vec<ColumnSpec>,
        constraints: Vec<Constraint>,
        indexes: Vec<IndexSpec>,
    },
    DropTable {
        table: String,
    },
    AddColumn {
        table: String,
        column: ColumnSpec,
    },
    DropColumn {
        table: String,
        column: String,
    },
    AlterColumn {
        table: String,
        column: String,
        change: ColumnChange,
    },
    RenameTable {
        from: String,
        to: String,
    },
    CreateIndex(IndexSpec),
    DropIndex {
        name: Option<String>,
        table: Option<String>,
    },
    /// `create_unique_constraint`, `create_foreign_key`,
    /// `create_check_constraint` and `create_primary_key`.
    CreateConstraint {
        table: String,
        constraint: Constraint,
    },
    DropConstraint {
        name: Option<String>,
        table: String,
        /// `type_=`: `foreignkey`, `unique`, `check`, `primary`.
        type_: Option<String>,
    },
    /// `op.execute(...)`, or `execute` on the connection from `op.get_bind()`.
    Execute {
        /// The SQL text when it is a string (for an f-string: its text
        /// around the placeholders, and the operation is unsure).
        sql: Option<String>,
        statements: Vec<SqlStatement>,
    },
    BulkInsert {
        table: Option<String>,
    },
    /// Any other `op.<name>(...)`.
    Other {
        name: String,
    },
}

/// What `alter_column` changes; `existing_*` arguments only describe the
/// column and are not recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ColumnChange {
    pub type_: Option<String>,
    pub nullable: Option<bool>,
    /// `None`: untouched; `Some(None)`: removed; `Some(Some(x))`: set.
    pub server_default: Option<Option<String>>,
    pub new_column_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Constraint {
    PrimaryKey {
        name: Option<String>,
        columns: Vec<String>,
    },
    Unique {
        name: Option<String>,
        columns: Vec<String>,
    },
    ForeignKey {
        name: Option<String>,
        columns: Vec<String>,
        referent_table: String,
        referent_columns: Vec<String>,
    },
    Check {
        name: Option<String>,
        condition: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexSpec {
    pub name: Option<String>,
    pub table: String,
    /// Column names, or the normalised expression of a functional index.
    pub columns: Vec<String>,
    pub unique: bool,
}

impl Operation {
    /// The table the operation works on, when it has one.
    pub fn table(&self) -> Option<&str> {
        match &self.kind {
            OpKind::CreateTable { table, .. }
            | OpKind::DropTable { table }
            | OpKind::AddColumn { table, .. }
            | OpKind::DropColumn { table, .. }
            | OpKind::AlterColumn { table, .. }
            | OpKind::CreateConstraint { table, .. }
            | OpKind::DropConstraint { table, .. } => Some(table),
            OpKind::RenameTable { from, .. } => Some(from),
            OpKind::CreateIndex(ix) => Some(&ix.table),
            OpKind::DropIndex { table, .. } | OpKind::BulkInsert { table } => table.as_deref(),
            OpKind::Execute { .. } | OpKind::Other { .. } => None,
        }
    }
}

/// Reads the operations of a revision file. Never fails: what cannot be
/// read is left out or marked unsure (the revision parser reports syntax
/// errors).
pub fn read_operations(src: &str) -> MigrationOps {
    let module = syntax::parse(src);
    let mut module_scope = Walker::default();
    for stmt in module.body.iter().filter(|s| s.body.is_empty()) {
        for simple in split_top_level(&stmt.tokens, ";") {
            module_scope.note_assignment(simple);
        }
    }
    // As in Python, a later definition replaces an earlier one.
    let find = |name: &str| module.body.iter().rev().find(|s| def_name(s) == Some(name));
    MigrationOps {
        upgrade: function(find("upgrade"), &module_scope.tables),
        downgrade: function(find("downgrade"), &module_scope.tables),
    }
}

fn def_name<'s>(stmt: &'s Stmt<'_>) -> Option<&'s str> {
    match stmt.tokens.as_slice() {
        [def, name, ..] if def.is_name("def") && name.kind == Kind::Name => Some(name.text),
        _ => None,
    }
}

fn function(def: Option<&Stmt<'_>>, tables: &HashMap<String, String>) -> Function {
    let Some(def) = def else {
        return Function {
            line: None,
            body: Body::Missing,
            ops: Vec::new(),
        };
    };
    let inline;
    let body: &[Stmt<'_>] = if def.body.is_empty() {
        inline = inline_body(def);
        &inline
    } else {
        &def.body
    };
    let mut walker = Walker {
        tables: tables.clone(),
        ..Walker::default()
    };
    walker.walk(body, None);
    Function {
        line: Some(def.first_line),
        body: classify(body),
        ops: walker.ops,
    }
}

/// The statements of a one-line `def downgrade() -> None: pass`.
fn inline_body<'a>(def: &Stmt<'a>) -> Vec<Stmt<'a>> {
    let mut depth = 0i32;
    let colon = def.tokens.iter().position(|t| {
        if t.kind == Kind::Op {
            match t.text {
                "(" | "[" | "{" => depth += 1,
                ")" | "]" | "}" => depth -= 1,
                ":" => return depth == 0,
                _ => {}
            }
        }
        false
    });
    let Some(colon) = colon else {
        return Vec::new();
    };
    split_top_level(&def.tokens[colon + 1..], ";")
        .into_iter()
        .filter(|part| !part.is_empty())
        .map(|part| Stmt {
            tokens: part.to_vec(),
            comments: Vec::new(),
            first_line: def.first_line,
            last_line: def.last_line,
            body: Vec::new(),
        })
        .collect()
}

fn classify(body: &[Stmt<'_>]) -> Body {
    let mut empty = true;
    for stmt in body {
        let tokens = stmt.tokens.as_slice();
        if let [raise, rest @ ..] = tokens
            && raise.is_name("raise")
            && leading_name(rest).is_some_and(|n| n.ends_with("NotImplementedError"))
        {
            return Body::RaisesNotImplemented;
        }
        let trivial = stmt.body.is_empty()
            && matches!(tokens, [t] if t.is_name("pass") || t.is_op("...") || t.kind == Kind::Str);
        empty &= trivial;
    }
    if empty { Body::Empty } else { Body::Code }
}

/// `target = value` / `target: T = value` with a single-name target, else
/// no target and the whole statement as the value.
fn split_assignment<'t, 'a>(tokens: &'t [Token<'a>]) -> (Option<&'a str>, &'t [Token<'a>]) {
    match syntax::assignment(tokens) {
        Some(syntax::Assignment {
            target,
            value: Some(value),
            ..
        }) => (Some(target.text), value),
        _ => (None, tokens),
    }
}

/// A `batch_alter_table` context in effect.
#[derive(Debug, Clone)]
struct Batch {
    alias: String,
    table: String,
    sure: bool,
}

#[derive(Default)]
struct Walker {
    /// Variables bound to table objects (`sa.table("accounts", ...)`, the
    /// result of `op.create_table`), for `bulk_insert` and Core statements.
    tables: HashMap<String, String>,
    /// Variables bound to `op.get_bind()`.
    binds: HashSet<String>,
    ops: Vec<Operation>,
}

/// Names on `op` that are helpers, not operations.
const HELPERS: &[&str] = &[
    "f",
    "get_bind",
    "get_context",
    "inline_literal",
    "batch_alter_table",
    "implementation_for",
    "register_operation",
];

impl Walker {
    fn walk(&mut self, stmts: &[Stmt<'_>], batch: Option<&Batch>) {
        for stmt in stmts {
            let Some(first) = stmt.tokens.first() else {
                continue;
            };
            // Nested definitions run only if called; we do not follow calls.
            if first.is_name("def") || first.is_name("class") || first.is_name("async") {
                continue;
            }
            if first.is_name("with") {
                let inner = self.batch_context(&stmt.tokens);
                self.walk(&stmt.body, inner.as_ref().or(batch));
                continue;
            }
            if !stmt.body.is_empty() {
                self.walk(&stmt.body, batch);
                continue;
            }
            for simple in split_top_level(&stmt.tokens, ";") {
                self.statement(simple, batch);
            }
        }
    }

    /// The batch context a `with` statement opens, if it opens one.
    fn batch_context(&self, tokens: &[Token<'_>]) -> Option<Batch> {
        let items = match tokens {
            [_with, items @ .., colon] if colon.is_op(":") => items,
            [_with, items @ ..] => items,
            [] => return None,
        };
        split_top_level(items, ",")
            .into_iter()
            .rev()
            .find_map(|item| {
                let (expr, alias) = match item {
                    [expr @ .., as_, alias] if as_.is_name("as") && alias.kind == Kind::Name => {
                        (expr, alias.text)
                    }
                    _ => return None,
                };
                let call = whole_call(expr).filter(|c| c.callee == "op.batch_alter_table")?;
                let mut sure = true;
                let table = name(
                    Args::new(&call, &["table_name"]).get("table_name"),
                    &mut sure,
                );
                Some(Batch {
                    alias: alias.to_string(),
                    table,
                    sure,
                })
            })
    }

    /// Records variables that later operations refer to.
    fn note_assignment(&mut self, tokens: &[Token<'_>]) -> bool {
        let (Some(target), value) = split_assignment(tokens) else {
            return false;
        };
        let Some(call) = whole_call(value) else {
            return false;
        };
        if call.callee == "op.get_bind" {
            self.binds.insert(target.to_string());
            return true;
        }
        if matches!(call.short_name(), "table" | "Table")
            && let Some(table) = call.positional().next().and_then(literal_str)
        {
            self.tables.insert(target.to_string(), table);
            return true;
        }
        false
    }

    fn statement(&mut self, tokens: &[Token<'_>], batch: Option<&Batch>) {
        if self.note_assignment(tokens) {
            return;
        }
        let (target, value) = split_assignment(tokens);
        let Some(call) = leading_call(value) else {
            return;
        };
        let chained_execute = call.callee == "op.get_bind"
            && value.get(call.end + 1).is_some_and(|t| t.is_op("."))
            && value
                .get(call.end + 2)
                .is_some_and(|t| t.is_name("execute"))
            && value.get(call.end + 3).is_some_and(|t| t.is_op("("));
        let (name, call, in_batch) = if chained_execute {
            let Some(exec) = call_at(value, call.end + 3) else {
                return;
            };
            ("execute".to_string(), exec, false)
        } else if let Some((object, method)) = call.callee.rsplit_once('.') {
            if object == "op" {
                (method.to_string(), call, false)
            } else if batch.is_some_and(|b| b.alias == object) {
                (method.to_string(), call, true)
            } else if method == "execute" && self.binds.contains(object) {
                ("execute".to_string(), call, false)
            } else {
                return;
            }
        } else {
            return;
        };
        if HELPERS.contains(&name.as_str()) {
            return;
        }
        let batch = if in_batch { batch } else { None };
        let (kind, sure) = self.operation(&name, &call, batch);
        if let (Some(target), OpKind::CreateTable { table, .. }) = (target, &kind) {
            self.tables.insert(target.to_string(), table.clone());
        }
        self.ops.push(Operation {
            kind,
            line: call.line,
            unsure: !sure,
            batch: in_batch,
        });
    }

    fn operation(&self, op: &str, call: &Call<'_, '_>, batch: Option<&Batch>) -> (OpKind, bool) {
        let mut sure = batch.is_none_or(|b| b.sure);
        // Batch operations take the same arguments minus the table.
        let args = |with_table: &'static [&'static str], in_batch: &'static [&'static str]| {
            Args::new(
                call,
                if batch.is_some() {
                    in_batch
                } else {
                    with_table
                },
            )
        };
        let table = |args: &Args<'_, '_, '_>, param: &str, sure: &mut bool| match batch {
            Some(b) => b.table.clone(),
            None => name(args.get(param), sure),
        };
        let kind = match op {
            "create_table" => {
                let a = args(&["table_name|name"], &["table_name|name"]);
                let table = name(a.get("table_name"), &mut sure);
                let (columns, constraints, indexes) =
                    table_items(call.positional().skip(1), &table, &mut sure);
                OpKind::CreateTable {
                    table,
                    columns,
                    constraints,
                    indexes,
                }
            }
            "drop_table" => OpKind::DropTable {
                table: name(
                    args(&["table_name|name"], &["table_name|name"]).get("table_name"),
                    &mut sure,
                ),
            },
            "add_column" => {
                let a = args(&["table_name", "column"], &["column"]);
                let table = table(&a, "table_name", &mut sure);
                let column = match a.get("column").and_then(|c| column_spec(c, &mut sure)) {
                    Some(c) => c,
                    None => {
                        sure = false;
                        ColumnSpec {
                            name: a.get("column").map_or("?".into(), syntax::render),
                            ..ColumnSpec::default()
                        }
                    }
                };
                OpKind::AddColumn { table, column }
            }
            "drop_column" => {
                let a = args(&["table_name", "column_name"], &["column_name"]);
                OpKind::DropColumn {
                    table: table(&a, "table_name", &mut sure),
                    column: name(a.get("column_name"), &mut sure),
                }
            }
            "alter_column" => {
                let a = args(&["table_name", "column_name"], &["column_name"]);
                let table = table(&a, "table_name", &mut sure);
                let column = name(a.get("column_name"), &mut sure);
                let change = ColumnChange {
                    type_: call.keyword("type_").map(normalize_type),
                    nullable: bool_arg(call.keyword("nullable")),
                    // Alembic's "unchanged" sentinel is `False`.
                    server_default: call.keyword("server_default").and_then(|t| match t {
                        [t] if t.is_name("False") => None,
                        [t] if t.is_name("None") => Some(None),
                        _ => Some(Some(normalize_expr(t))),
                    }),
                    new_column_name: call
                        .keyword("new_column_name")
                        .map(|t| name(Some(t), &mut sure)),
                };
                OpKind::AlterColumn {
                    table,
                    column,
                    change,
                }
            }
            "rename_table" => {
                let a = args(&["old_table_name", "new_table_name"], &[]);
                OpKind::RenameTable {
                    from: name(a.get("old_table_name"), &mut sure),
                    to: name(a.get("new_table_name"), &mut sure),
                }
            }
            "create_index" => {
                let a = args(
                    &["index_name|name", "table_name", "columns"],
                    &["index_name|name", "columns"],
                );
                OpKind::CreateIndex(IndexSpec {
                    name: optional_name(a.get("index_name")),
                    table: table(&a, "table_name", &mut sure),
                    columns: name_list(a.get("columns"), &mut sure),
                    unique: bool_arg(call.keyword("unique")) == Some(true),
                })
            }
            "drop_index" => {
                let a = args(&["index_name|name", "table_name"], &["index_name|name"]);
                OpKind::DropIndex {
                    name: optional_name(a.get("index_name")),
                    table: match batch {
                        Some(b) => Some(b.table.clone()),
                        None => a.get("table_name").map(|t| name(Some(t), &mut sure)),
                    },
                }
            }
            "create_unique_constraint" => {
                let a = args(
                    &[
                        "constraint_name|name",
                        "table_name|source",
                        "columns|local_cols",
                    ],
                    &["constraint_name|name", "columns|local_cols"],
                );
                OpKind::CreateConstraint {
                    table: table(&a, "table_name", &mut sure),
                    constraint: Constraint::Unique {
                        name: optional_name(a.get("constraint_name")),
                        columns: name_list(a.get("columns"), &mut sure),
                    },
                }
            }
            "create_primary_key" => {
                let a = args(
                    &["constraint_name|name", "table_name", "columns|cols"],
                    &["constraint_name|name", "columns|cols"],
                );
                OpKind::CreateConstraint {
                    table: table(&a, "table_name", &mut sure),
                    constraint: Constraint::PrimaryKey {
                        name: optional_name(a.get("constraint_name")),
                        columns: name_list(a.get("columns"), &mut sure),
                    },
                }
            }
            "create_foreign_key" => {
                let a = args(
                    &[
                        "constraint_name|name",
                        "source_table|source",
                        "referent_table|referent",
                        "local_cols",
                        "remote_cols",
                    ],
                    &[
                        "constraint_name|name",
                        "referent_table|referent",
                        "local_cols",
                        "remote_cols",
                    ],
                );
                OpKind::CreateConstraint {
                    table: table(&a, "source_table", &mut sure),
                    constraint: Constraint::ForeignKey {
                        name: optional_name(a.get("constraint_name")),
                        columns: name_list(a.get("local_cols"), &mut sure),
                        referent_table: name(a.get("referent_table"), &mut sure),
                        referent_columns: name_list(a.get("remote_cols"), &mut sure),
                    },
                }
            }
            "create_check_constraint" => {
                let a = args(
                    &["constraint_name|name", "table_name|source", "condition"],
                    &["constraint_name|name", "condition"],
                );
                OpKind::CreateConstraint {
                    table: table(&a, "table_name", &mut sure),
                    constraint: Constraint::Check {
                        name: optional_name(a.get("constraint_name")),
                        condition: a.get("condition").map_or_else(String::new, expression),
                    },
                }
            }
            "drop_constraint" => {
                let a = args(
                    &["constraint_name|name", "table_name", "type_"],
                    &["constraint_name|name", "type_"],
                );
                OpKind::DropConstraint {
                    name: optional_name(a.get("constraint_name")),
                    table: table(&a, "table_name", &mut sure),
                    type_: a.get("type_").and_then(literal_str),
                }
            }
            "execute" => self.execute(
                args(&["sqltext|sql"], &["sqltext|sql"]).get("sqltext"),
                &mut sure,
            ),
            "bulk_insert" => {
                let table = args(&["table"], &["table"])
                    .get("table")
                    .and_then(|t| self.table_object(t));
                sure &= table.is_some();
                OpKind::BulkInsert { table }
            }
            other => OpKind::Other {
                name: other.to_string(),
            },
        };
        (kind, sure)
    }

    fn execute(&self, sql_arg: Option<&[Token<'_>]>, sure: &mut bool) -> OpKind {
        let Some(tokens) = sql_arg else {
            *sure = false;
            return OpKind::Execute {
                sql: None,
                statements: Vec::new(),
            };
        };
        if let Some((text, literal)) = sql_text(tokens) {
            *sure &= literal;
            return OpKind::Execute {
                statements: sql::statements(&text),
                sql: Some(text),
            };
        }
        let statements: Vec<SqlStatement> = self.core_statement(tokens).into_iter().collect();
        *sure &= !statements.is_empty();
        OpKind::Execute {
            sql: None,
            statements,
        }
    }

    /// A SQLAlchemy Core statement on a known table: `users.update()...`,
    /// `sa.update(users)...`, and the same for insert and delete.
    fn core_statement(&self, tokens: &[Token<'_>]) -> Option<SqlStatement> {
        let kind = |verb: &str| match verb {
            "update" => Some(SqlKind::Update),
            "insert" => Some(SqlKind::InsertInto),
            "delete" => Some(SqlKind::DeleteFrom),
            _ => None,
        };
        if let [object, dot, verb, open, ..] = tokens
            && object.kind == Kind::Name
            && dot.is_op(".")
            && open.is_op("(")
            && let Some(kind) = kind(verb.text)
            && let Some(table) = self.tables.get(object.text)
        {
            return Some(SqlStatement {
                kind,
                object: table.clone(),
            });
        }
        let call = leading_call(tokens)?;
        let kind = kind(call.short_name())?;
        let table = self.table_object(call.positional().next()?)?;
        Some(SqlStatement {
            kind,
            object: table,
        })
    }

    /// The table a table object names: a variable bound to one, or an
    /// inline `sa.table("name", ...)`.
    fn table_object(&self, tokens: &[Token<'_>]) -> Option<String> {
        if let [var] = tokens
            && var.kind == Kind::Name
        {
            return self.tables.get(var.text).cloned();
        }
        let call = whole_call(tokens)?;
        if !matches!(call.short_name(), "table" | "Table") {
            return None;
        }
        call.positional().next().and_then(literal_str)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::alembic::sql::AlterTypeAction;

    /// A revision file as Alembic 1.13 writes it, with `module` code placed
    /// before the functions. The first line of `upgrade`'s body is line 22
    /// when `module` is empty.
    pub(crate) fn revision_file(module: &str, upgrade: &str, downgrade: &str) -> String {
        format!(
            r#""""change things

Revision ID: 1975ea83b712
Revises: 3e9a2f1b7c01
Create Date: 2024-05-01 12:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = '1975ea83b712'
down_revision: Union[str, None] = '3e9a2f1b7c01'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None
{module}

def upgrade() -> None:
{upgrade}

def downgrade() -> None:
{downgrade}
"#
        )
    }

    const AUTOGEN_PASS: &str = "    # ### commands auto generated by Alembic - please adjust! ###\n    pass\n    # ### end Alembic commands ###\n";

    fn column(c: &ColumnSpec) -> String {
        let mut s = format!("{}:{}", c.name, c.type_.as_deref().unwrap_or("?"));
        match c.nullable {
            Some(true) => s.push_str(" null"),
            Some(false) => s.push_str(" not null"),
            None => {}
        }
        for (flag, on) in [
            (" pk", c.primary_key),
            (" unique", c.unique),
            (" index", c.index),
        ] {
            if on {
                s.push_str(flag);
            }
        }
        if let Some(d) = &c.default {
            s.push_str(&format!(" default={d}"));
        }
        if let Some(d) = &c.server_default {
            s.push_str(&format!(" server_default={d}"));
        }
        if let Some(fk) = &c.foreign_key {
            s.push_str(&format!(" fk={fk}"));
        }
        s
    }

    fn constraint(c: &Constraint) -> String {
        let named = |n: &Option<String>| n.as_ref().map_or(String::new(), |n| format!("[{n}]"));
        match c {
            Constraint::PrimaryKey { name, columns } => {
                format!("pk{}({})", named(name), columns.join(", "))
            }
            Constraint::Unique { name, columns } => {
                format!("unique{}({})", named(name), columns.join(", "))
            }
            Constraint::ForeignKey {
                name,
                columns,
                referent_table,
                referent_columns,
            } => format!(
                "fk{}({} -> {referent_table}({}))",
                named(name),
                columns.join(", "),
                referent_columns.join(", ")
            ),
            Constraint::Check { name, condition } => format!("check{}({condition})", named(name)),
        }
    }

    /// One line per operation: `line kind details [flags]`.
    pub(crate) fn show(op: &Operation) -> String {
        let text = match &op.kind {
            OpKind::CreateTable {
                table,
                columns,
                constraints,
                indexes,
            } => {
                let mut s = format!(
                    "create_table {table} ({})",
                    columns
                        .iter()
                        .map(|c| c.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                if !constraints.is_empty() {
                    let cs: Vec<String> = constraints.iter().map(constraint).collect();
                    s.push_str(&format!(" [{}]", cs.join(", ")));
                }
                for ix in indexes {
                    s.push_str(&format!(
                        " index {}({})",
                        ix.name.as_deref().unwrap_or("-"),
                        ix.columns.join(", ")
                    ));
                }
                s
            }
            OpKind::DropTable { table } => format!("drop_table {table}"),
            OpKind::AddColumn { table, column: c } => format!("add_column {table} {}", column(c)),
            OpKind::DropColumn { table, column } => format!("drop_column {table}.{column}"),
            OpKind::AlterColumn {
                table,
                column,
                change,
            } => {
                let mut s = format!("alter_column {table}.{column}");
                if let Some(t) = &change.type_ {
                    s.push_str(&format!(" type={t}"));
                }
                if let Some(n) = change.nullable {
                    s.push_str(&format!(" nullable={n}"));
                }
                match &change.server_default {
                    Some(Some(d)) => s.push_str(&format!(" server_default={d}")),
                    Some(None) => s.push_str(" server_default=None"),
                    None => {}
                }
                if let Some(n) = &change.new_column_name {
                    s.push_str(&format!(" rename={n}"));
                }
                s
            }
            OpKind::RenameTable { from, to } => format!("rename_table {from} -> {to}"),
            OpKind::CreateIndex(ix) => format!(
                "create_index {} on {}({}){}",
                ix.name.as_deref().unwrap_or("-"),
                ix.table,
                ix.columns.join(", "),
                if ix.unique { " unique" } else { "" }
            ),
            OpKind::DropIndex { name, table } => format!(
                "drop_index {} on {}",
                name.as_deref().unwrap_or("-"),
                table.as_deref().unwrap_or("-")
            ),
            OpKind::CreateConstraint {
                table,
                constraint: c,
            } => {
                format!("create_constraint {table} {}", constraint(c))
            }
            OpKind::DropConstraint { name, table, type_ } => format!(
                "drop_constraint {} on {table} type={}",
                name.as_deref().unwrap_or("-"),
                type_.as_deref().unwrap_or("-")
            ),
            OpKind::Execute { statements, .. } => {
                let st: Vec<String> = statements
                    .iter()
                    .map(|s| format!("{:?} {}", s.kind, s.object))
                    .collect();
                format!("execute [{}]", st.join("; "))
            }
            OpKind::BulkInsert { table } => {
                format!("bulk_insert {}", table.as_deref().unwrap_or("-"))
            }
            OpKind::Other { name } => format!("other {name}"),
        };
        let mut flags = String::new();
        if op.batch {
            flags.push_str(" (batch)");
        }
        if op.unsure {
            flags.push_str(" (unsure)");
        }
        format!("{} {text}{flags}", op.line)
    }

    fn upgrade_ops(module: &str, upgrade: &str) -> Vec<String> {
        read_operations(&revision_file(module, upgrade, AUTOGEN_PASS))
            .upgrade
            .ops
            .iter()
            .map(show)
            .collect()
    }

    #[test]
    fn operations_in_upgrade() {
        // (case, module-level code, upgrade body, operations)
        let cases: &[(&str, &str, &str, &[&str])] = &[
            (
                "autogenerate create_table with a primary key and an index",
                "",
                r#"    # ### commands auto generated by Alembic - please adjust! ###
    op.create_table('account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_account_name'), 'account', ['name'], unique=False)
    # ### end Alembic commands ###"#,
                &[
                    "23 create_table account (id, name) [pk(id)]",
                    "28 create_index ix_account_name on account(name)",
                ],
            ),
            (
                "create_table with foreign key, unique, check and inline index",
                "",
                r#"    op.create_table(
        "post",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(200), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["account.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_post")),
        sa.UniqueConstraint("slug", name="uq_post_slug"),
        sa.CheckConstraint("char_length(slug) > 0", name="ck_post_slug"),
        sa.Index("ix_post_author_id", "author_id"),
    )"#,
                &[
                    "22 create_table post (id, author_id, slug) [fk(author_id -> account(id)), \
                   pk[pk_post](id), unique[uq_post_slug](slug), \
                   check[ck_post_slug](char_length(slug) > 0)] index ix_post_author_id(author_id)",
                ],
            ),
            (
                "autogenerate downgrade drops an index and a table",
                "",
                r#"    op.drop_index(op.f('ix_account_name'), table_name='account')
    op.drop_table('account')"#,
                &[
                    "22 drop_index ix_account_name on account",
                    "23 drop_table account",
                ],
            ),
            (
                "add and drop a column",
                "",
                r#"    op.add_column('user', sa.Column('email', sa.String(length=255), nullable=False))
    op.drop_column('user', 'fullname')"#,
                &[
                    "22 add_column user email:String(255) not null",
                    "23 drop_column user.fullname",
                ],
            ),
            (
                "alter_column ignores existing_* arguments",
                "",
                r#"    op.alter_column('user', 'email',
               existing_type=sa.VARCHAR(length=255),
               nullable=False)"#,
                &["22 alter_column user.email nullable=false"],
            ),
            (
                "alter_column type, server default and rename",
                "",
                r#"    op.alter_column("user", "name", new_column_name="full_name", type_=sa.String(100), server_default=sa.text("''"), existing_nullable=True)
    op.alter_column(table_name="user", column_name="bio", server_default=None)
    op.alter_column("user", "age", server_default=False, nullable=True)"#,
                &[
                    "22 alter_column user.name type=String(100) server_default=text(\"''\") rename=full_name",
                    "23 alter_column user.bio server_default=None",
                    "24 alter_column user.age nullable=true",
                ],
            ),
            (
                "rename_table positional and keyword",
                "",
                r#"    op.rename_table('user', 'account')
    op.rename_table(old_table_name="a", new_table_name="b")"#,
                &["22 rename_table user -> account", "23 rename_table a -> b"],
            ),
            (
                "create_index with keywords, unique and a functional column",
                "",
                r#"    op.create_index(index_name="ix_user_email_lower", table_name="user", columns=[sa.text("lower(email)")], unique=True)
    op.create_index("ix_user_name_org", "user", ["name", "org_id"])"#,
                &[
                    "22 create_index ix_user_email_lower on user(text('lower(email)')) unique",
                    "23 create_index ix_user_name_org on user(name, org_id)",
                ],
            ),
            (
                "constraint operations",
                "",
                r#"    op.create_unique_constraint('uq_user_email', 'user', ['email'])
    op.create_foreign_key(None, 'post', 'user', ['author_id'], ['id'], ondelete='CASCADE')
    op.create_check_constraint("ck_user_age", "user", "age >= 0")
    op.create_primary_key("pk_tag", "tag", ["id"])
    op.drop_constraint('uq_user_name', 'user', type_='unique')
    op.drop_constraint(None, 'post', type_='foreignkey')"#,
                &[
                    "22 create_constraint user unique[uq_user_email](email)",
                    "23 create_constraint post fk(author_id -> user(id))",
                    "24 create_constraint user check[ck_user_age](age >= 0)",
                    "25 create_constraint tag pk[pk_tag](id)",
                    "26 drop_constraint uq_user_name on user type=unique",
                    "27 drop_constraint - on post type=foreignkey",
                ],
            ),
            (
                "execute with a plain string",
                "",
                r#"    op.execute("UPDATE \"user\" SET active = true WHERE active IS NULL")"#,
                &["22 execute [Update user]"],
            ),
            (
                "execute with sa.text and a triple-quoted string",
                "",
                r#"    op.execute(
        sa.text(
            """
            INSERT INTO role (name) VALUES ('admin');
            UPDATE account SET role = 'admin' WHERE id = 1;
            """
        )
    )"#,
                &["22 execute [InsertInto role; Update account]"],
            ),
            (
                "execute with f-strings is unsure but still read",
                "",
                r#"    op.execute(f"UPDATE {table} SET x = 1")
    op.execute(f"ALTER TYPE status ADD VALUE '{value}'")"#,
                &[
                    "22 execute [] (unsure)",
                    "23 execute [AlterType(AddValue) status] (unsure)",
                ],
            ),
            (
                "execute with a variable is unsure",
                "",
                "    sql = build_sql()\n    op.execute(sql)",
                &["23 execute [] (unsure)"],
            ),
            (
                "execute on the connection from op.get_bind()",
                "",
                r#"    conn = op.get_bind()
    conn.execute(sa.text("UPDATE account SET plan = 'free' WHERE plan IS NULL"))
    op.get_bind().execute(sa.text("DELETE FROM session"))
    other.execute("DROP TABLE x")"#,
                &[
                    "23 execute [Update account]",
                    "24 execute [DeleteFrom session]",
                ],
            ),
            (
                "SQLAlchemy Core statements on table objects",
                "account = sa.table(\"account\", sa.column(\"active\", sa.Boolean))\n",
                r#"    op.execute(account.update().values(active=True))
    op.execute(sa.update(account).where(account.c.active.is_(None)).values(active=True))
    op.execute(sa.insert(sa.table("log")).values(msg="x"))
    op.execute(unknown.update().values(x=1))"#,
                &[
                    "23 execute [Update account]",
                    "24 execute [Update account]",
                    "25 execute [InsertInto log]",
                    "26 execute [] (unsure)",
                ],
            ),
            (
                "bulk_insert into module-level, created and inline tables",
                "role_table = sa.table(\"role\", sa.column(\"name\", sa.String))\n",
                r#"    plans = op.create_table("plan", sa.Column("id", sa.Integer(), primary_key=True))
    op.bulk_insert(role_table, [{"name": "admin"}, {"name": "member"}])
    op.bulk_insert(plans, [{"id": 1}])
    op.bulk_insert(sa.table("tier", sa.column("n")), [])
    op.bulk_insert(unknown, [])"#,
                &[
                    "23 create_table plan (id)",
                    "24 bulk_insert role",
                    "25 bulk_insert plan",
                    "26 bulk_insert tier",
                    "27 bulk_insert - (unsure)",
                ],
            ),
            (
                "autogenerate batch_alter_table block",
                "",
                r#"    # ### commands auto generated by Alembic - please adjust! ###
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('nickname', sa.String(length=30), nullable=True))
        batch_op.create_index(batch_op.f('ix_user_nickname'), ['nickname'], unique=False)
        batch_op.drop_column('legacy')

    # ### end Alembic commands ###"#,
                &[
                    "24 add_column user nickname:String(30) null (batch)",
                    "25 create_index ix_user_nickname on user(nickname) (batch)",
                    "26 drop_column user.legacy (batch)",
                ],
            ),
            (
                "batch block with another alias and table_name=",
                "",
                r#"    with op.batch_alter_table(table_name="post", recreate="always") as b:
        b.alter_column("title", existing_type=sa.VARCHAR(length=100), type_=sa.String(200), nullable=False)
        b.create_foreign_key("fk_post_author", "user", ["author_id"], ["id"])
        b.create_unique_constraint("uq_post_slug", ["slug"])
        b.drop_constraint("ck_old", type_="check")
        b.drop_index("ix_post_old")
        op.execute("UPDATE post SET title = ''")
    batch_op.drop_column("outside")"#,
                &[
                    "23 alter_column post.title type=String(200) nullable=false (batch)",
                    "24 create_constraint post fk[fk_post_author](author_id -> user(id)) (batch)",
                    "25 create_constraint post unique[uq_post_slug](slug) (batch)",
                    "26 drop_constraint ck_old on post type=check (batch)",
                    "27 drop_index ix_post_old on post (batch)",
                    "28 execute [Update post]",
                ],
            ),
            (
                "names that are not literals make operations unsure",
                "",
                r#"    op.drop_table(TABLE_NAME)
    op.add_column(f"{prefix}_user", sa.Column("x", sa.Integer()))
    op.drop_column("user", column_name)
    op.add_column("user", sa.Column(col, sa.Integer()))
    with op.batch_alter_table(name) as batch_op:
        batch_op.drop_column("y")"#,
                &[
                    "22 drop_table TABLE_NAME (unsure)",
                    "23 add_column f\"{prefix}_user\" x:Integer (unsure)",
                    "24 drop_column user.column_name (unsure)",
                    "25 add_column user col:Integer (unsure)",
                    "27 drop_column name.y (batch) (unsure)",
                ],
            ),
            (
                "other operations are kept, helpers are not operations",
                "",
                r#"    op.create_table_comment("user", "People")
    op.create_exclude_constraint("excl", "booking", ("room", "="))
    bind = op.get_bind()
    name = op.f("ix_x")
    sa.Enum("a", name="e").create(op.get_bind())
    print(op.drop_table("inside_an_expression"))"#,
                &[
                    "22 other create_table_comment",
                    "23 other create_exclude_constraint",
                ],
            ),
            (
                "operations inside conditionals, loops and autocommit blocks",
                "",
                r#"    if op.get_context().dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            op.execute("ALTER TYPE status ADD VALUE 'archived'")
    else:
        op.alter_column("post", "status", type_=sa.Enum("draft", "archived", name="status"))
    for table in ("a", "b"):
        op.drop_column(table, "legacy")"#,
                &[
                    "24 execute [AlterType(AddValue) status]",
                    "26 alter_column post.status type=Enum('draft', 'archived', name='status')",
                    "28 drop_column table.legacy (unsure)",
                ],
            ),
            (
                "nested functions are not followed; semicolons split statements",
                "",
                r#"    def helper():
        op.drop_table("x")
    op.drop_column("t", "a"); op.drop_column("t", "b")"#,
                &["24 drop_column t.a", "24 drop_column t.b"],
            ),
        ];
        for (case, module, upgrade, want) in cases {
            // Module-level code shifts the function down by its lines.
            assert_eq!(upgrade_ops(module, upgrade), *want, "{case}");
        }
    }

    #[test]
    fn column_specs_match_the_model_vocabulary() {
        let src = revision_file(
            "",
            r#"    op.create_table(
        "post",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=200), nullable=False),
        sa.Column("status", sa.Enum("draft", "published", name="post_status"), server_default="draft", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=True),
        sa.Column("meta", postgresql.JSONB(astext_type=sa.Text()), default=dict),
        sa.Column("editor_id", sa.Integer(), sa.ForeignKey("account.id", ondelete="SET NULL")),
        sa.ForeignKeyConstraint(["author_id"], ["account.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("slug"),
        sa.Index("ix_post_author_id", "author_id"),
    )
    op.add_column("post", sa.Column(name="extra", type_=postgresql.JSONB(), nullable=False, server_default=sa.text("'{}'::jsonb")))"#,
            AUTOGEN_PASS,
        );
        let ops = read_operations(&src).upgrade.ops;
        let OpKind::CreateTable { columns, .. } = &ops[0].kind else {
            panic!("{ops:?}");
        };
        let got: Vec<String> = columns.iter().map(column).collect();
        assert_eq!(
            got,
            [
                "id:BigInteger not null pk",
                "author_id:Integer not null index fk=account.id",
                "slug:String(200) not null unique",
                "status:Enum('draft', 'published', name='post_status') not null server_default='draft'",
                "created_at:DateTime(timezone=True) null server_default=text('now()')",
                "meta:JSONB(astext_type=Text) default=dict",
                "editor_id:Integer fk=account.id",
            ]
        );
        let OpKind::AddColumn { column: extra, .. } = &ops[1].kind else {
            panic!("{ops:?}");
        };
        assert_eq!(
            *extra,
            ColumnSpec {
                name: "extra".into(),
                type_: Some("JSONB".into()),
                nullable: Some(false),
                server_default: Some("text(\"'{}'::jsonb\")".into()),
                ..ColumnSpec::default()
            }
        );
    }

    #[test]
    fn function_bodies() {
        // (case, downgrade definition, body, operation count)
        let cases: &[(&str, &str, Body, usize)] = &[
            (
                "autogenerate pass with its comments",
                "def downgrade() -> None:\n    # ### commands auto generated by Alembic - please adjust! ###\n    pass\n    # ### end Alembic commands ###\n",
                Body::Empty,
                0,
            ),
            (
                "docstring only",
                "def downgrade():\n    \"\"\"Nothing to undo.\"\"\"\n",
                Body::Empty,
                0,
            ),
            ("ellipsis", "def downgrade():\n    ...\n", Body::Empty, 0),
            (
                "one-line pass",
                "def downgrade() -> None: pass\n",
                Body::Empty,
                0,
            ),
            (
                "raises NotImplementedError",
                "def downgrade():\n    raise NotImplementedError\n",
                Body::RaisesNotImplemented,
                0,
            ),
            (
                "raises NotImplementedError with a message after operations",
                "def downgrade():\n    op.drop_column('t', 'c')\n    raise NotImplementedError(\"irreversible\")\n",
                Body::RaisesNotImplemented,
                1,
            ),
            (
                "raise inside a condition is code",
                "def downgrade():\n    if True:\n        raise NotImplementedError\n",
                Body::Code,
                0,
            ),
            (
                "operations",
                "def downgrade() -> None:\n    op.drop_column('user', 'email')\n",
                Body::Code,
                1,
            ),
            ("missing", "def other():\n    pass\n", Body::Missing, 0),
            (
                "the last definition wins",
                "def downgrade():\n    op.drop_table('t')\ndef downgrade():\n    pass\n",
                Body::Empty,
                0,
            ),
            (
                "one-line definition with an operation",
                "def downgrade(): op.drop_table('t')\n",
                Body::Code,
                1,
            ),
        ];
        for (case, downgrade, body, count) in cases {
            let src = format!(
                "from alembic import op\nrevision = 'a'\ndef upgrade():\n    pass\n{downgrade}"
            );
            let ops = read_operations(&src);
            assert_eq!(ops.downgrade.body, *body, "{case}");
            assert_eq!(ops.downgrade.ops.len(), *count, "{case}");
            assert_eq!(ops.upgrade.body, Body::Empty, "{case}");
            assert_eq!(
                ops.downgrade.line.is_some(),
                *body != Body::Missing,
                "{case}"
            );
        }
    }

    #[test]
    fn upgrade_and_downgrade_are_kept_apart() {
        let src = revision_file(
            "",
            "    op.add_column('user', sa.Column('email', sa.String(255), nullable=True))\n",
            "    op.drop_column('user', 'email')\n",
        );
        let ops = read_operations(&src);
        assert_eq!(ops.upgrade.line, Some(21));
        assert_eq!(ops.downgrade.line, Some(25));
        let up: Vec<String> = ops.upgrade.ops.iter().map(show).collect();
        let down: Vec<String> = ops.downgrade.ops.iter().map(show).collect();
        assert_eq!(up, ["22 add_column user email:String(255) null"]);
        assert_eq!(down, ["26 drop_column user.email"]);
        assert_eq!(ops.upgrade.ops[0].table(), Some("user"));
    }

    #[test]
    fn enum_statement_kinds_from_execute() {
        let src = revision_file(
            "",
            "    op.execute(\"ALTER TYPE mood RENAME VALUE 'sad' TO 'blue'\")\n",
            AUTOGEN_PASS,
        );
        let ops = read_operations(&src);
        let OpKind::Execute { statements, sql } = &ops.upgrade.ops[0].kind else {
            panic!("{ops:?}");
        };
        assert_eq!(
            sql.as_deref(),
            Some("ALTER TYPE mood RENAME VALUE 'sad' TO 'blue'")
        );
        assert_eq!(
            statements[0].kind,
            SqlKind::AlterType(AlterTypeAction::RenameValue)
        );
    }
}
