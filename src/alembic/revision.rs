//! One Alembic revision file, read without Python: the identifiers Alembic
//! itself reads from the module (`revision`, `down_revision`,
//! `branch_labels`, `depends_on`) and the message from its docstring.

use std::path::Path;

use thiserror::Error;

use crate::findings::{Finding, code};
use crate::python::lexer::{Kind, Token};
use crate::python::syntax::{self, Stmt, literal_str, matching_close, split_top_level};

/// The identity of one revision file and its place in the revision graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevisionFile {
    /// Repository-relative path with `/` separators.
    pub path: String,
    pub revision: String,
    /// Empty for a base revision, two or more for a merge revision.
    pub down_revisions: Vec<String>,
    pub branch_labels: Vec<String>,
    /// Revision ids or branch labels this revision depends on without
    /// descending from them.
    pub depends_on: Vec<String>,
    pub revision_line: u32,
    pub down_revision_line: Option<u32>,
    pub branch_labels_line: Option<u32>,
    pub depends_on_line: Option<u32>,
    /// The first line of the module docstring: the `-m` message.
    pub message: Option<String>,
}

impl RevisionFile {
    pub fn is_merge(&self) -> bool {
        self.down_revisions.len() > 1
    }

    pub fn is_base(&self) -> bool {
        self.down_revisions.is_empty()
    }
}

/// A revision file Alembic could not load, or that alembot cannot read
/// without running Python.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{path}:{line}: {kind}")]
pub struct RevisionError {
    pub path: String,
    pub line: u32,
    pub kind: RevisionErrorKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RevisionErrorKind {
    #[error("syntax error: {message} (column {col})")]
    Syntax { col: u32, message: String },
    #[error("no module-level `revision = \"...\"` assignment")]
    MissingRevision,
    #[error("`revision` is not a string literal: `{found}`")]
    RevisionNotLiteral { found: String },
    /// `down_revision`, `branch_labels` or `depends_on` is something other
    /// than `None`, a string, or a tuple or list of strings.
    #[error("`{variable}` has an unsupported form: `{found}`")]
    Unsupported {
        variable: &'static str,
        found: String,
    },
}

impl RevisionError {
    /// How to fix it, in one sentence.
    pub fn hint(&self) -> String {
        match &self.kind {
            RevisionErrorKind::Syntax { .. } => {
                "Fix the Python syntax error; Alembic cannot import this revision either.".into()
            }
            RevisionErrorKind::MissingRevision => "Declare the revision id at module level, \
                 e.g. `revision: str = \"1a2b3c4d5e6f\"`, as `alembic revision` writes it."
                .into(),
            RevisionErrorKind::RevisionNotLiteral { .. } => {
                "Write the revision id as a plain string literal, \
                 e.g. `revision: str = \"1a2b3c4d5e6f\"`, so tools can read it without running Python."
                    .into()
            }
            RevisionErrorKind::Unsupported { variable, .. } => format!(
                "Write `{variable}` as None, a string literal or a tuple of string literals, \
                 e.g. `{variable} = (\"1a2b3c4d5e6f\", \"6f5e4d3c2b1a\")`."
            ),
        }
    }

    /// The error as an `invalid-revision` finding.
    pub fn to_finding(&self, environment: &str) -> Finding {
        Finding::error(code::INVALID_REVISION, format!("{}", self.kind))
            .at(self.path.clone(), Some(self.line))
            .in_env(environment)
            .with_help(self.hint())
    }
}

/// Whether a file in a versions directory is a revision, by the rule Alembic
/// applies: every `*.py` except `__init__*` and Emacs lock files (`.#*`).
pub fn is_revision_file(path: impl AsRef<Path>) -> bool {
    let Some(name) = path.as_ref().file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    name.ends_with(".py") && !name.starts_with(".#") && !name.starts_with("__init__")
}

/// Reads one revision file. Only module-level assignments count, as only
/// they are attributes of the module Alembic imports; when a name is assigned
/// twice the last assignment wins, as in Python.
pub fn parse_revision(path: impl Into<String>, src: &str) -> Result<RevisionFile, RevisionError> {
    let path = path.into();
    let module = syntax::parse(src);
    if let Some(e) = module.errors.iter().min_by_key(|e| (e.line, e.col)) {
        return Err(RevisionError {
            path,
            line: e.line,
            kind: RevisionErrorKind::Syntax {
                col: e.col + 1,
                message: e.message.clone(),
            },
        });
    }

    let mut revision: Option<(&[Token<'_>], u32)> = None;
    let mut down: Option<(&[Token<'_>], u32)> = None;
    let mut labels: Option<(&[Token<'_>], u32)> = None;
    let mut depends: Option<(&[Token<'_>], u32)> = None;
    for stmt in &module.body {
        // A compound statement's header is no assignment; its body is not
        // module level in any case we support.
        if !stmt.body.is_empty() {
            continue;
        }
        for simple in split_top_level(&stmt.tokens, ";") {
            let Some((name, value)) = assignment(simple) else {
                continue;
            };
            let slot = match name.text {
                "revision" => &mut revision,
                "down_revision" => &mut down,
                "branch_labels" => &mut labels,
                "depends_on" => &mut depends,
                _ => continue,
            };
            *slot = Some((value, name.line));
        }
    }

    let Some((rev_value, revision_line)) = revision else {
        return Err(RevisionError {
            path,
            line: 1,
            kind: RevisionErrorKind::MissingRevision,
        });
    };
    let Some(rev) = literal_str(rev_value) else {
        return Err(RevisionError {
            path,
            line: revision_line,
            kind: RevisionErrorKind::RevisionNotLiteral {
                found: syntax::render(rev_value),
            },
        });
    };

    let strings = |slot: Option<(&[Token<'_>], u32)>, variable: &'static str| match slot {
        None => Ok((Vec::new(), None)),
        Some((value, line)) => match string_list(value) {
            Some(list) => Ok((list, Some(line))),
            None => Err(RevisionError {
                path: path.clone(),
                line,
                kind: RevisionErrorKind::Unsupported {
                    variable,
                    found: syntax::render(value),
                },
            }),
        },
    };
    let (down_revisions, down_revision_line) = strings(down, "down_revision")?;
    let (branch_labels, branch_labels_line) = strings(labels, "branch_labels")?;
    let (depends_on, depends_on_line) = strings(depends, "depends_on")?;

    Ok(RevisionFile {
        message: docstring_summary(module.body.first()),
        path,
        revision: rev,
        down_revisions,
        branch_labels,
        depends_on,
        revision_line,
        down_revision_line,
        branch_labels_line,
        depends_on_line,
    })
}

/// `name = value` or `name: annotation = value`, with the name token.
fn assignment<'t, 'a>(tokens: &'t [Token<'a>]) -> Option<(&'t Token<'a>, &'t [Token<'a>])> {
    let name = tokens.first().filter(|t| t.kind == Kind::Name)?;
    let second = tokens.get(1)?;
    if second.is_op("=") {
        return Some((name, &tokens[2..]));
    }
    if !second.is_op(":") {
        return None;
    }
    // The annotation may hold brackets (`Union[str, Sequence[str], None]`)
    // but never a top-level `=`.
    let mut depth = 0i32;
    for (i, t) in tokens.iter().enumerate().skip(2) {
        if t.kind != Kind::Op {
            continue;
        }
        match t.text {
            "(" | "[" | "{" => depth += 1,
            ")" | "]" | "}" => depth -= 1,
            "=" if depth == 0 => return Some((name, &tokens[i + 1..])),
            _ => {}
        }
    }
    None
}

/// `None`, a string, or a tuple / list of strings, as Alembic accepts for
/// every identifier variable but `revision`.
fn string_list(value: &[Token<'_>]) -> Option<Vec<String>> {
    match value {
        [t] if t.is_name("None") => return Some(Vec::new()),
        _ => {}
    }
    if let Some(s) = literal_str(value) {
        return Some(vec![s]);
    }
    let first = value.first()?;
    if !(first.is_op("(") || first.is_op("[")) || matching_close(value, 0)? != value.len() - 1 {
        return None;
    }
    split_top_level(&value[1..value.len() - 1], ",")
        .into_iter()
        .map(literal_str)
        .collect()
}

fn docstring_summary(first: Option<&Stmt<'_>>) -> Option<String> {
    let stmt = first?;
    let text = literal_str(&stmt.tokens)?;
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(str::to_string)
}

/// Reads a revision file's identifiers cheaply, for revisions a change does
/// not touch: only the module docstring and the module-level statements
/// assigning `revision`, `down_revision`, `branch_labels` and `depends_on`
/// are lexed; every other line is blanked (keeping line numbers). Anything
/// unusual (no match, a parse error) falls back to the whole file.
pub fn parse_revision_header(
    path: impl Into<String>,
    src: &str,
) -> Result<RevisionFile, RevisionError> {
    let path = path.into();
    if let Some(skeleton) = identifier_skeleton(src)
        && let Ok(rev) = parse_revision(path.clone(), &skeleton)
    {
        return Ok(rev);
    }
    parse_revision(path, src)
}

const IDENTIFIERS: [&str; 4] = ["revision", "down_revision", "branch_labels", "depends_on"];

/// The module docstring and the identifier statements of `src`, other lines
/// emptied. `None` when no `revision` statement starts a line.
fn identifier_skeleton(src: &str) -> Option<String> {
    let mut out = String::with_capacity(src.len() / 2);
    let mut lines = src.split_inclusive('\n').peekable();
    let mut found_revision = false;
    // Keep a leading docstring whole: it carries the message.
    let trimmed = src.trim_start_matches('\u{feff}');
    if trimmed.starts_with("\"\"\"") || trimmed.starts_with("'''") {
        let quote = &trimmed[..3];
        let mut first = true;
        for line in lines.by_ref() {
            out.push_str(line);
            let body = if first {
                line.trim_start_matches('\u{feff}').get(3..).unwrap_or("")
            } else {
                line
            };
            first = false;
            if body.contains(quote) {
                break;
            }
        }
    }
    while let Some(line) = lines.next() {
        let is_identifier = IDENTIFIERS.iter().any(|name| {
            line.strip_prefix(name).is_some_and(|rest| {
                let rest = rest.trim_start_matches([' ', '\t']);
                rest.starts_with('=') || rest.starts_with(':')
            })
        });
        if !is_identifier {
            out.push('\n');
            continue;
        }
        found_revision |= line.starts_with("revision");
        out.push_str(line);
        // Continuation lines of the same statement are indented or close
        // its bracket.
        while let Some(next) = lines.peek() {
            if next.starts_with([' ', '\t', ')', ']', '}']) {
                out.push_str(next);
                lines.next();
            } else {
                break;
            }
        }
    }
    found_revision.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_fast_path_agrees_with_the_full_parse() {
        for src in [
            TEMPLATE_1_13,
            "revision = 'a'\ndown_revision = (\n    'b',\n    'c',\n)\nbranch_labels = None\n\ndef upgrade():\n    revision = 'nope'\n",
            "\"\"\"one-line message\"\"\"\nrevision: str = \"r\"\ndown_revision: Union[str, None] = None\n",
        ] {
            let full = parse_revision("v.py", src).unwrap();
            let fast = parse_revision_header("v.py", src).unwrap();
            assert_eq!(full, fast);
        }
    }

    #[test]
    fn header_fast_path_falls_back_when_unsure() {
        // The identifiers come from elsewhere: the full parse decides.
        let src = "from ._ids import *\nrevision = REV\n";
        assert_eq!(
            parse_revision_header("v.py", src).unwrap_err(),
            parse_revision("v.py", src).unwrap_err()
        );
    }

    fn parse(src: &str) -> RevisionFile {
        parse_revision("migrations/versions/x.py", src).unwrap_or_else(|e| panic!("{e}"))
    }

    fn err(src: &str) -> RevisionError {
        parse_revision("migrations/versions/x.py", src).expect_err("should fail")
    }

    const TEMPLATE_1_13: &str = r#""""add account table

Revision ID: 1975ea83b712
Revises: 3e9a2f1b7c01
Create Date: 2024-05-01 12:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '1975ea83b712'
down_revision: Union[str, None] = '3e9a2f1b7c01'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    pass
    # ### end Alembic commands ###


def downgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    pass
    # ### end Alembic commands ###
"#;

    #[test]
    fn alembic_1_13_template_is_read_whole() {
        let r = parse(TEMPLATE_1_13);
        assert_eq!(r.revision, "1975ea83b712");
        assert_eq!(r.down_revisions, ["3e9a2f1b7c01"]);
        assert!(r.branch_labels.is_empty() && r.depends_on.is_empty());
        assert_eq!(r.revision_line, 15);
        assert_eq!(r.down_revision_line, Some(16));
        assert_eq!(r.branch_labels_line, Some(17));
        assert_eq!(r.depends_on_line, Some(18));
        assert_eq!(r.message.as_deref(), Some("add account table"));
        assert_eq!(r.path, "migrations/versions/x.py");
        assert!(!r.is_merge() && !r.is_base());
    }

    #[test]
    fn identifier_forms() {
        // (source, revision, down_revisions, branch_labels, depends_on)
        type Case<'a> = (
            &'a str,
            &'a str,
            &'a [&'a str],
            &'a [&'a str],
            &'a [&'a str],
        );
        let cases: &[Case<'_>] = &[
            (
                "revision = 'abc'\ndown_revision = None\n",
                "abc",
                &[],
                &[],
                &[],
            ),
            (
                "revision = \"abc\"\ndown_revision = 'p'\n",
                "abc",
                &["p"],
                &[],
                &[],
            ),
            (
                "revision: str = \"abc\"\ndown_revision: str = 'p'\n",
                "abc",
                &["p"],
                &[],
                &[],
            ),
            (
                "revision: str = 'abc'\ndown_revision: Union[str, None] = None\n",
                "abc",
                &[],
                &[],
                &[],
            ),
            (
                "revision: str = 'abc'\ndown_revision: Optional[str] = 'p'\n",
                "abc",
                &["p"],
                &[],
                &[],
            ),
            (
                "revision: str = 'm'\ndown_revision: Union[str, Sequence[str], None] = ('a', 'b')\n",
                "m",
                &["a", "b"],
                &[],
                &[],
            ),
            (
                "revision = 'm'\ndown_revision = ['a', 'b']\n",
                "m",
                &["a", "b"],
                &[],
                &[],
            ),
            (
                "revision = 'm'\ndown_revision = (\n    'a',\n    'b',\n)\n",
                "m",
                &["a", "b"],
                &[],
                &[],
            ),
            (
                "revision = 'abc'\ndown_revision = ('p',)\n",
                "abc",
                &["p"],
                &[],
                &[],
            ),
            (
                "revision = 'abc'\ndown_revision = ('p')\n",
                "abc",
                &["p"],
                &[],
                &[],
            ),
            (
                "revision = 'abc'\ndown_revision = ()\n",
                "abc",
                &[],
                &[],
                &[],
            ),
            ("revision = 'abc'\n", "abc", &[], &[], &[]),
            (
                "revision = 'abc'\nbranch_labels = ('networking',)\n",
                "abc",
                &[],
                &["networking"],
                &[],
            ),
            (
                "revision = 'abc'\nbranch_labels = 'networking'\n",
                "abc",
                &[],
                &["networking"],
                &[],
            ),
            (
                "revision = 'abc'\nbranch_labels: Union[str, Sequence[str], None] = ['a', 'b']\n",
                "abc",
                &[],
                &["a", "b"],
                &[],
            ),
            (
                "revision = 'abc'\ndepends_on = 'def'\n",
                "abc",
                &[],
                &[],
                &["def"],
            ),
            (
                "revision = 'abc'\ndepends_on: Optional[Sequence[str]] = ('d1', 'networking')\n",
                "abc",
                &[],
                &[],
                &["d1", "networking"],
            ),
            (
                "revision = 'abc'; down_revision = 'p'\n",
                "abc",
                &["p"],
                &[],
                &[],
            ),
            (
                "revision = u'abc'\ndown_revision = r'p'\n",
                "abc",
                &["p"],
                &[],
                &[],
            ),
            // The last assignment wins, as in Python.
            ("revision = 'old'\nrevision = 'new'\n", "new", &[], &[], &[]),
        ];
        for (src, rev, down, labels, deps) in cases {
            let r = parse(src);
            assert_eq!(r.revision, *rev, "{src}");
            assert_eq!(r.down_revisions, *down, "{src}");
            assert_eq!(r.branch_labels, *labels, "{src}");
            assert_eq!(r.depends_on, *deps, "{src}");
        }
    }

    #[test]
    fn merge_revision_from_alembic_merge() {
        let src = "\"\"\"merge heads\n\nRevision ID: 9c1d\nRevises: 1a2b, 3c4d\n\"\"\"\n\
                   revision: str = '9c1d'\n\
                   down_revision: Union[str, None] = ('1a2b', '3c4d')\n";
        let r = parse(src);
        assert!(r.is_merge());
        assert_eq!(r.down_revisions, ["1a2b", "3c4d"]);
        assert_eq!(r.message.as_deref(), Some("merge heads"));
    }

    #[test]
    fn only_module_level_assignments_count() {
        let src = "revision = 'top'\n\
                   def upgrade():\n    revision = 'inner'\n    down_revision = 'x'\n\
                   class A:\n    depends_on = 'y'\n\
                   if True:\n    branch_labels = ('z',)\n";
        let r = parse(src);
        assert_eq!(r.revision, "top");
        assert!(r.down_revisions.is_empty());
        assert!(r.depends_on.is_empty() && r.branch_labels.is_empty());
    }

    #[test]
    fn annotation_without_value_is_not_an_assignment() {
        let e = err("revision: str\n");
        assert_eq!(e.kind, RevisionErrorKind::MissingRevision);
    }

    #[test]
    fn message_is_the_first_nonblank_docstring_line() {
        assert_eq!(
            parse("\"\"\"\n  rename user  \n\nRevision ID: a\n\"\"\"\nrevision = 'a'\n")
                .message
                .as_deref(),
            Some("rename user")
        );
        assert_eq!(parse("# c\nrevision = 'a'\n").message, None);
        assert_eq!(parse("revision = 'a'\n\"\"\"late\"\"\"\n").message, None);
    }

    #[test]
    fn errors_carry_their_line() {
        // (source, line, kind prefix)
        let cases: &[(&str, u32, &str)] = &[
            (
                "revision = 'abc\ndown_revision = None\n",
                1,
                "syntax error: unterminated",
            ),
            (
                "x = 1\nrevision = ('abc'\n",
                2,
                "syntax error: '(' was never closed",
            ),
            (
                "\"\"\"doc\"\"\"\ndown_revision = None\n",
                1,
                "no module-level",
            ),
            ("def f():\n    revision = 'a'\n", 1, "no module-level"),
            (
                "x = 1\nrevision = make_id()\n",
                2,
                "`revision` is not a string literal: `make_id()`",
            ),
            (
                "revision = None\n",
                1,
                "`revision` is not a string literal: `None`",
            ),
            (
                "revision = f'{x}'\n",
                1,
                "`revision` is not a string literal",
            ),
            (
                "revision = 'a'\n\ndown_revision = PREVIOUS\n",
                3,
                "`down_revision` has an unsupported form: `PREVIOUS`",
            ),
            (
                "revision = 'a'\ndown_revision = ('a', b)\n",
                2,
                "`down_revision` has an unsupported form",
            ),
            (
                "revision = 'a'\nbranch_labels = {'x'}\n",
                2,
                "`branch_labels` has an unsupported",
            ),
            (
                "revision = 'a'\ndepends_on = get()\n",
                2,
                "`depends_on` has an unsupported",
            ),
        ];
        for (src, line, prefix) in cases {
            let e = err(src);
            assert_eq!(e.line, *line, "{src}");
            assert!(e.kind.to_string().starts_with(prefix), "{src}: {}", e.kind);
            assert_eq!(e.path, "migrations/versions/x.py");
        }
    }

    #[test]
    fn error_display_and_finding_name_file_line_and_fix() {
        let e = err("revision = 'a'\ndown_revision = PREVIOUS\n");
        assert_eq!(
            e.to_string(),
            "migrations/versions/x.py:2: `down_revision` has an unsupported form: `PREVIOUS`"
        );
        let f = e.to_finding("main");
        assert_eq!(f.code, code::INVALID_REVISION);
        assert_eq!(f.location().as_deref(), Some("migrations/versions/x.py:2"));
        assert_eq!(f.environment.as_deref(), Some("main"));
        assert!(
            f.help
                .as_deref()
                .is_some_and(|h| h.contains("tuple of string literals"))
        );
    }

    #[test]
    fn revision_files_in_a_versions_directory() {
        let cases = [
            ("versions/1a2b_add_user.py", true),
            ("versions/2024_05_01_add.py", true),
            ("a.py", true),
            ("versions/__init__.py", false),
            ("versions/__init__backup.py", false),
            ("versions/.#1a2b_add_user.py", false),
            ("versions/1a2b_add_user.pyc", false),
            ("versions/README", false),
            ("versions/notes.py.txt", false),
            ("versions/", false),
        ];
        for (path, expected) in cases {
            assert_eq!(is_revision_file(path), expected, "{path}");
        }
    }
}
