//! One Alembic revision file, read without Python: the identifiers Alembic
//! itself reads from the module (`revision`, `down_revision`,
//! `branch_labels`, `depends_on`) and the message from its docstring.

use std::path::Path;

use thiserror::Error;

use crate::python::lexer::Token;
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
            let Some((name, value)) =
                syntax::assignment(simple).and_then(|a| Some((a.target, a.value?)))
            else {
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
/// not touch. The usual shape (a docstring, then `name[: annotation] =
/// literal` lines at the start of a line) is read by a small scanner; for
/// anything else it falls back to the full parse, so the result is always
/// the full parse's.
pub fn parse_revision_header(
    path: impl Into<String>,
    src: &str,
) -> Result<RevisionFile, RevisionError> {
    let path = path.into();
    match scan_identifiers(src) {
        Some(ids) => Ok(RevisionFile {
            path,
            revision: ids.revision.0,
            down_revisions: ids.down.0,
            down_revision_line: ids.down.1,
            branch_labels: ids.labels.0,
            branch_labels_line: ids.labels.1,
            depends_on: ids.depends.0,
            depends_on_line: ids.depends.1,
            revision_line: ids.revision.1,
            message: ids.message,
        }),
        None => parse_revision(path, src),
    }
}

/// The module-level variables Alembic reads, in the scanner's slot order.
const IDENTIFIERS: [&str; 4] = ["revision", "down_revision", "branch_labels", "depends_on"];

#[derive(Default)]
struct ScannedIds {
    revision: (String, u32),
    down: (Vec<String>, Option<u32>),
    labels: (Vec<String>, Option<u32>),
    depends: (Vec<String>, Option<u32>),
    message: Option<String>,
}

/// The scanner behind [`parse_revision_header`]; `None` means "not sure".
fn scan_identifiers(src: &str) -> Option<ScannedIds> {
    let src = src.strip_prefix('\u{feff}').unwrap_or(src);
    let mut ids = ScannedIds::default();
    let mut seen_revision = false;
    let mut seen = [false; 3];
    let mut lines = Lines {
        src,
        pos: 0,
        idx: 0,
    }
    .peekable();
    // Leading blank and comment lines, then an optional docstring.
    while let Some((_, line)) = lines.peek() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            lines.next();
        } else {
            break;
        }
    }
    if let Some((_, first)) = lines.peek() {
        let quote = if first.starts_with("\"\"\"") {
            "\"\"\""
        } else if first.starts_with("'''") {
            "'''"
        } else if first.starts_with(['"', '\'', 'r', 'R', 'u', 'U', 'b', 'B', 'f', 'F']) {
            // Another kind of string or a prefixed name: not the usual shape.
            let is_name_start = first
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .next()
                .is_some_and(|w| w.len() > 1 || !first[w.len()..].starts_with(['"', '\'']));
            if !is_name_start {
                return None;
            }
            ""
        } else {
            ""
        };
        if !quote.is_empty() {
            let start = first.as_ptr() as usize - src.as_ptr() as usize + 3;
            let end = start + src[start..].find(quote)?;
            let text = &src[start..end];
            // The docstring must end its line, and escapes need the full
            // parser's decoding.
            let after = &src[end + 3..];
            let rest_of_line = after.split('\n').next().unwrap_or("");
            if !rest_of_line.trim().is_empty() || text.contains('\\') {
                return None;
            }
            let closing_line = src.as_bytes()[..end]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            while lines.peek().is_some_and(|(i, _)| *i <= closing_line) {
                lines.next();
            }
            ids.message = text
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .map(str::to_string);
        }
    }
    while let Some((idx, line)) = lines.next() {
        // Past the first top-level function nothing is usually left to read;
        // a fast search of the rest says whether that holds here.
        if seen_revision && (line.starts_with("def ") || line.starts_with("async def ")) {
            let offset = line.as_ptr() as usize - src.as_ptr() as usize;
            if !defines_identifier_after(&src[offset..]) {
                break;
            }
        }
        let slot = IDENTIFIERS.iter().position(|name| {
            line.strip_prefix(name).is_some_and(|rest| {
                let rest = rest.trim_start_matches([' ', '\t']);
                rest.starts_with('=') || rest.starts_with(':')
            })
        });
        let Some(slot) = slot else {
            // Another statement: only a line that could hide an identifier
            // assignment (`x = revision = ...`, `;`) is a reason to give up.
            if line.contains(';') && IDENTIFIERS.iter().any(|n| line.contains(n)) {
                return None;
            }
            continue;
        };
        let mut statement = line.to_string();
        while let Some((_, next)) = lines.peek() {
            if next.starts_with([' ', '\t', ')', ']', '}']) {
                statement.push_str(next);
                lines.next();
            } else {
                break;
            }
        }
        let line_no = idx as u32 + 1;
        let value = assigned_value(&statement[IDENTIFIERS[slot].len()..])?;
        let list = literal_list(value)?;
        match slot {
            0 => {
                if seen_revision {
                    return None;
                }
                seen_revision = true;
                // `revision` must be one string, not None or a tuple.
                let v = value.trim();
                if !(v.starts_with('\'') || v.starts_with('"')) || list.len() != 1 {
                    return None;
                }
                ids.revision = (list.into_iter().next()?, line_no);
            }
            n => {
                if seen[n - 1] {
                    return None;
                }
                seen[n - 1] = true;
                let target = match n {
                    1 => &mut ids.down,
                    2 => &mut ids.labels,
                    _ => &mut ids.depends,
                };
                *target = (list, Some(line_no));
            }
        }
    }
    seen_revision.then_some(ids)
}

/// Whether a line of `rest` starts with one of the identifier names.
fn defines_identifier_after(rest: &str) -> bool {
    Lines {
        src: rest,
        pos: 0,
        idx: 0,
    }
    .skip(1)
    .any(|(_, line)| {
        line.starts_with(['r', 'd', 'b']) && IDENTIFIERS.iter().any(|n| line.starts_with(n))
    })
}

/// Lines with their 0-based index, each ending in its `\n`. A plain byte
/// loop: `str::split_inclusive` costs more than the scan it serves here.
struct Lines<'a> {
    src: &'a str,
    pos: usize,
    idx: usize,
}

impl<'a> Iterator for Lines<'a> {
    type Item = (usize, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        if self.pos >= self.src.len() {
            return None;
        }
        let rest = &self.src.as_bytes()[self.pos..];
        let len = rest
            .iter()
            .position(|&b| b == b'\n')
            .map_or(rest.len(), |i| i + 1);
        let line = &self.src[self.pos..self.pos + len];
        self.pos += len;
        self.idx += 1;
        Some((self.idx - 1, line))
    }
}

/// The text after the top-level `=` of `[: annotation] = value  # comment`.
fn assigned_value(rest: &str) -> Option<&str> {
    let mut depth = 0i32;
    for (i, c) in rest.char_indices() {
        match c {
            '[' | '(' | '{' => depth += 1,
            ']' | ')' | '}' => depth -= 1,
            '=' if depth == 0 => return Some(&rest[i + 1..]),
            '\'' | '"' | '#' if depth == 0 => return None,
            _ => {}
        }
    }
    None
}

/// `None`, `'a'`, `"a"`, `('a', 'b')`, `['a']`, with an optional trailing
/// comment; no escapes, prefixes or concatenation (the full parse has them).
fn literal_list(value: &str) -> Option<Vec<String>> {
    let value = strip_comment(value)?.trim();
    if value == "None" {
        return Some(Vec::new());
    }
    let inner = if let Some(v) = value.strip_prefix('(').and_then(|v| v.strip_suffix(')')) {
        v
    } else if let Some(v) = value.strip_prefix('[').and_then(|v| v.strip_suffix(']')) {
        v
    } else {
        return Some(vec![single_literal(value)?]);
    };
    let mut out = Vec::new();
    for part in inner.split(',') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        out.push(single_literal(part)?);
    }
    // `('a')` is a string in Python, not a tuple; let the full parse say.
    if out.len() == 1 && value.starts_with('(') && !inner.trim_end().ends_with(',') {
        return None;
    }
    Some(out)
}

fn single_literal(text: &str) -> Option<String> {
    let q = text.chars().next()?;
    if q != '\'' && q != '"' {
        return None;
    }
    let inner = text.strip_prefix(q)?.strip_suffix(q)?;
    if inner.contains(q) || inner.contains('\\') || inner.contains('\n') {
        return None;
    }
    Some(inner.to_string())
}

/// Removes a trailing `# comment`, minding quotes; `None` if a string is
/// left open (a multi-line value the scanner does not take).
fn strip_comment(value: &str) -> Option<&str> {
    let mut quote: Option<char> = None;
    for (i, c) in value.char_indices() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '#') => return Some(&value[..i]),
            _ => {}
        }
    }
    quote.is_none().then_some(value)
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
    fn alembic_templates_take_the_fast_path() {
        assert!(scan_identifiers(TEMPLATE_1_13).is_some());
        let merge = "\"\"\"merge\n\nRevision ID: m\n\"\"\"\nrevision = 'm'\ndown_revision = ('a', 'b')\nbranch_labels = None\ndepends_on = None\n";
        assert!(scan_identifiers(merge).is_some());
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

    /// Parses with the full parser and checks the fast header scanner
    /// agrees, so every form in these tables covers both.
    fn parse(src: &str) -> RevisionFile {
        let full =
            parse_revision("migrations/versions/x.py", src).unwrap_or_else(|e| panic!("{e}"));
        let fast = parse_revision_header("migrations/versions/x.py", src)
            .unwrap_or_else(|e| panic!("fast path: {e}"));
        assert_eq!(full, fast, "the fast path disagrees on:\n{src}");
        full
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
    fn error_display_and_hint_name_file_line_and_fix() {
        let e = err("revision = 'a'\ndown_revision = PREVIOUS\n");
        assert_eq!(
            e.to_string(),
            "migrations/versions/x.py:2: `down_revision` has an unsupported form: `PREVIOUS`"
        );
        assert!(
            e.hint().contains("tuple of string literals"),
            "{}",
            e.hint()
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
