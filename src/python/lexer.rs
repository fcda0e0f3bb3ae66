//! A small Python tokenizer: enough of the language to read models and
//! Alembic revision files structurally (strings, comments, brackets spanning
//! lines, indentation), without a Python interpreter.
//!
//! It is tolerant: malformed input yields [`LexError`]s next to the tokens
//! instead of stopping, so callers decide whether a broken file is fatal
//! (a revision file) or merely makes the analysis unsure (a model file).

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Name,
    Number,
    Str,
    Op,
    Comment,
    /// End of a logical line.
    Newline,
    /// A line break inside brackets, or a blank / comment-only line.
    Nl,
    Indent,
    Dedent,
    /// A character that starts no token (e.g. `$`); reported as an error too.
    Error,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token<'a> {
    pub kind: Kind,
    pub text: &'a str,
    /// 1-based line where the token starts.
    pub line: u32,
    /// 1-based line where the token ends (differs for multi-line strings).
    pub end_line: u32,
    /// 0-based byte column of the token's start within its line.
    pub col: u32,
}

impl Token<'_> {
    pub fn is_op(&self, op: &str) -> bool {
        self.kind == Kind::Op && self.text == op
    }

    pub fn is_name(&self, name: &str) -> bool {
        self.kind == Kind::Name && self.text == name
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexError {
    pub line: u32,
    pub col: u32,
    pub message: String,
}

#[derive(Debug, Clone)]
pub struct Lexed<'a> {
    pub tokens: Vec<Token<'a>>,
    pub errors: Vec<LexError>,
}

const THREE_CHAR_OPS: [&str; 6] = ["**=", "//=", ">>=", "<<=", "...", "!=="];
const TWO_CHAR_OPS: [&str; 19] = [
    "->", ":=", "==", "!=", "<=", ">=", "**", "//", "<<", ">>", "+=", "-=", "*=", "/=", "%=", "&=",
    "|=", "^=", "@=",
];
const ONE_CHAR_OPS: &str = "()[]{}:,;.+-*/%&|^~<>=@!";

pub fn tokenize(src: &str) -> Lexed<'_> {
    Lexer::new(src).run()
}

struct Lexer<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
    line: u32,
    line_start: usize,
    depth: usize,
    bracket_stack: Vec<(u8, u32, u32)>,
    indents: Vec<usize>,
    at_line_start: bool,
    tokens: Vec<Token<'a>>,
    errors: Vec<LexError>,
}

impl<'a> Lexer<'a> {
    fn new(src: &'a str) -> Self {
        // A UTF-8 byte-order mark is legal at the top of a Python file.
        let pos = if src.starts_with('\u{feff}') { 3 } else { 0 };
        Lexer {
            src,
            bytes: src.as_bytes(),
            pos,
            line: 1,
            line_start: pos,
            depth: 0,
            bracket_stack: Vec::new(),
            indents: vec![0],
            at_line_start: true,
            tokens: Vec::new(),
            errors: Vec::new(),
        }
    }

    fn col(&self, pos: usize) -> u32 {
        (pos - self.line_start) as u32
    }

    fn push(&mut self, kind: Kind, start: usize, start_line: u32, start_col: u32) {
        self.tokens.push(Token {
            kind,
            text: &self.src[start..self.pos],
            line: start_line,
            end_line: self.line,
            col: start_col,
        });
    }

    fn error(&mut self, line: u32, col: u32, message: impl Into<String>) {
        self.errors.push(LexError {
            line,
            col,
            message: message.into(),
        });
    }

    fn newline_here(&mut self) {
        // `\r\n`, `\n` and lone `\r` all end a line.
        if self.bytes[self.pos] == b'\r'
            && self.pos + 1 < self.bytes.len()
            && self.bytes[self.pos + 1] == b'\n'
        {
            self.pos += 2;
        } else {
            self.pos += 1;
        }
        self.line += 1;
        self.line_start = self.pos;
    }

    fn run(mut self) -> Lexed<'a> {
        while self.pos < self.bytes.len() {
            if self.at_line_start && self.depth == 0 {
                self.indentation();
                if self.pos >= self.bytes.len() {
                    break;
                }
            }
            let b = self.bytes[self.pos];
            match b {
                b' ' | b'\t' | b'\x0c' => self.pos += 1,
                b'\n' | b'\r' => {
                    let (start, line, col) = (self.pos, self.line, self.col(self.pos));
                    let kind = if self.depth > 0 || self.logical_line_empty() {
                        Kind::Nl
                    } else {
                        Kind::Newline
                    };
                    self.newline_here();
                    self.tokens.push(Token {
                        kind,
                        text: &self.src[start..self.pos],
                        line,
                        end_line: line,
                        col,
                    });
                    // Inside brackets a line break continues the logical
                    // line: indentation is measured only where a new one
                    // starts, never after the bracket closes mid-line.
                    self.at_line_start = self.depth == 0;
                }
                b'#' => {
                    let (start, line, col) = (self.pos, self.line, self.col(self.pos));
                    while self.pos < self.bytes.len()
                        && self.bytes[self.pos] != b'\n'
                        && self.bytes[self.pos] != b'\r'
                    {
                        self.pos += 1;
                    }
                    self.push(Kind::Comment, start, line, col);
                }
                b'\\' => {
                    // Explicit line joining.
                    let (line, col) = (self.line, self.col(self.pos));
                    self.pos += 1;
                    if self.pos < self.bytes.len()
                        && (self.bytes[self.pos] == b'\n' || self.bytes[self.pos] == b'\r')
                    {
                        self.newline_here();
                    } else {
                        self.error(line, col, "unexpected character after line continuation");
                    }
                }
                b'0'..=b'9' => self.number(),
                b'.' if self.peek_is_digit(1) => self.number(),
                b'"' | b'\'' => self.string(self.pos),
                _ if is_name_start(self.src, self.pos) => self.name_or_prefixed_string(),
                _ => self.operator(),
            }
        }
        self.finish()
    }

    /// True when nothing but comments has been emitted since the last line end.
    fn logical_line_empty(&self) -> bool {
        for t in self.tokens.iter().rev() {
            match t.kind {
                Kind::Comment => continue,
                Kind::Newline | Kind::Nl | Kind::Indent | Kind::Dedent => return true,
                _ => return false,
            }
        }
        true
    }

    fn indentation(&mut self) {
        self.at_line_start = false;
        let mut width = 0usize;
        let start = self.pos;
        while self.pos < self.bytes.len() {
            match self.bytes[self.pos] {
                b' ' => width += 1,
                b'\t' => width = (width / 8 + 1) * 8,
                b'\x0c' => width = 0,
                _ => break,
            }
            self.pos += 1;
        }
        if self.pos >= self.bytes.len() {
            return;
        }
        // Blank and comment-only lines do not change indentation.
        if matches!(self.bytes[self.pos], b'\n' | b'\r' | b'#')
            || (self.bytes[self.pos] == b'\\' && self.continuation_only_line())
        {
            return;
        }
        let current = *self.indents.last().unwrap_or(&0);
        let line = self.line;
        if width > current {
            self.indents.push(width);
            self.tokens.push(Token {
                kind: Kind::Indent,
                text: &self.src[start..self.pos],
                line,
                end_line: line,
                col: 0,
            });
        } else {
            while width < *self.indents.last().unwrap_or(&0) {
                self.indents.pop();
                self.tokens.push(Token {
                    kind: Kind::Dedent,
                    text: "",
                    line,
                    end_line: line,
                    col: width as u32,
                });
            }
            if width != *self.indents.last().unwrap_or(&0) {
                self.error(
                    line,
                    width as u32,
                    "unindent does not match any outer indentation level",
                );
            }
        }
    }

    fn continuation_only_line(&self) -> bool {
        let next = self.pos + 1;
        next < self.bytes.len() && matches!(self.bytes[next], b'\n' | b'\r')
    }

    fn peek_is_digit(&self, offset: usize) -> bool {
        self.bytes
            .get(self.pos + offset)
            .is_some_and(|b| b.is_ascii_digit())
    }

    fn number(&mut self) {
        let (start, line, col) = (self.pos, self.line, self.col(self.pos));
        let mut prev = 0u8;
        while self.pos < self.bytes.len() {
            let b = self.bytes[self.pos];
            let signed_exponent = (b == b'+' || b == b'-')
                && (prev == b'e' || prev == b'E')
                && !self.src[start..self.pos].starts_with("0x")
                && !self.src[start..self.pos].starts_with("0X");
            if b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || signed_exponent {
                prev = b;
                self.pos += 1;
            } else {
                break;
            }
        }
        self.push(Kind::Number, start, line, col);
    }

    fn name_or_prefixed_string(&mut self) {
        let (start, line, col) = (self.pos, self.line, self.col(self.pos));
        while self.pos < self.bytes.len() && is_name_continue(self.src, self.pos) {
            self.pos += char_len(self.bytes[self.pos]);
        }
        let word = &self.src[start..self.pos];
        let is_prefix = word.len() <= 2
            && word
                .chars()
                .all(|c| matches!(c.to_ascii_lowercase(), 'r' | 'b' | 'u' | 'f' | 't'));
        if is_prefix
            && self.pos < self.bytes.len()
            && (self.bytes[self.pos] == b'"' || self.bytes[self.pos] == b'\'')
        {
            self.string(start);
            return;
        }
        self.push(Kind::Name, start, line, col);
    }

    /// Scans a string literal whose prefix starts at `start`; `self.pos` is
    /// at the opening quote.
    fn string(&mut self, start: usize) {
        let line = self.line;
        let col = self.col(start);
        let raw = self.src[start..self.pos]
            .chars()
            .any(|c| c.eq_ignore_ascii_case(&'r'));
        let quote = self.bytes[self.pos];
        let triple = self.bytes.get(self.pos + 1) == Some(&quote)
            && self.bytes.get(self.pos + 2) == Some(&quote);
        self.pos += if triple { 3 } else { 1 };
        loop {
            if self.pos >= self.bytes.len() {
                self.error(line, col, "unterminated string literal");
                break;
            }
            let b = self.bytes[self.pos];
            if b == b'\\' {
                // Even raw strings cannot end on an escaped quote.
                self.pos += 1;
                if self.pos < self.bytes.len() {
                    if matches!(self.bytes[self.pos], b'\n' | b'\r') {
                        self.newline_here();
                    } else {
                        self.pos += char_len(self.bytes[self.pos]);
                    }
                }
                let _ = raw;
                continue;
            }
            if b == quote {
                if !triple {
                    self.pos += 1;
                    break;
                }
                if self.bytes.get(self.pos + 1) == Some(&quote)
                    && self.bytes.get(self.pos + 2) == Some(&quote)
                {
                    self.pos += 3;
                    break;
                }
                self.pos += 1;
                continue;
            }
            if matches!(b, b'\n' | b'\r') {
                if !triple {
                    self.error(line, col, "unterminated string literal");
                    break;
                }
                self.newline_here();
                continue;
            }
            self.pos += char_len(b);
        }
        self.tokens.push(Token {
            kind: Kind::Str,
            text: &self.src[start..self.pos],
            line,
            end_line: self.line,
            col,
        });
    }

    fn operator(&mut self) {
        let (start, line, col) = (self.pos, self.line, self.col(self.pos));
        let rest = &self.src[self.pos..];
        let len = if THREE_CHAR_OPS.iter().any(|op| rest.starts_with(op)) {
            3
        } else if TWO_CHAR_OPS.iter().any(|op| rest.starts_with(op)) {
            2
        } else if ONE_CHAR_OPS.as_bytes().contains(&self.bytes[self.pos]) {
            1
        } else {
            let len = char_len(self.bytes[self.pos]);
            self.pos += len;
            let text = self.src[start..self.pos].to_string();
            self.error(line, col, format!("invalid character {text:?}"));
            self.push(Kind::Error, start, line, col);
            return;
        };
        self.pos += len;
        let b = self.bytes[start];
        match b {
            b'(' | b'[' | b'{' => {
                self.depth += 1;
                self.bracket_stack.push((b, line, col));
            }
            b')' | b']' | b'}' if len == 1 => {
                let expected = match b {
                    b')' => b'(',
                    b']' => b'[',
                    _ => b'{',
                };
                match self.bracket_stack.pop() {
                    Some((open, _, _)) if open == expected => self.depth -= 1,
                    Some((open, oline, ocol)) => {
                        self.depth -= 1;
                        self.error(
                            line,
                            col,
                            format!(
                                "closing '{}' does not match '{}' opened on line {oline}, column {}",
                                b as char,
                                open as char,
                                ocol + 1
                            ),
                        );
                    }
                    None => self.error(line, col, format!("unmatched '{}'", b as char)),
                }
            }
            _ => {}
        }
        self.push(Kind::Op, start, line, col);
    }

    fn finish(mut self) -> Lexed<'a> {
        for (open, line, col) in std::mem::take(&mut self.bracket_stack) {
            self.error(line, col, format!("'{}' was never closed", open as char));
        }
        if !self.logical_line_empty() {
            let line = self.line;
            self.tokens.push(Token {
                kind: Kind::Newline,
                text: "",
                line,
                end_line: line,
                col: self.col(self.pos),
            });
        }
        while self.indents.len() > 1 {
            self.indents.pop();
            let line = self.line;
            self.tokens.push(Token {
                kind: Kind::Dedent,
                text: "",
                line,
                end_line: line,
                col: 0,
            });
        }
        Lexed {
            tokens: self.tokens,
            errors: self.errors,
        }
    }
}

fn char_len(first_byte: u8) -> usize {
    match first_byte {
        0x00..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        _ => 4,
    }
}

fn is_name_start(src: &str, pos: usize) -> bool {
    let b = src.as_bytes()[pos];
    if b.is_ascii() {
        return b.is_ascii_alphabetic() || b == b'_';
    }
    src[pos..].chars().next().is_some_and(char::is_alphabetic)
}

fn is_name_continue(src: &str, pos: usize) -> bool {
    let b = src.as_bytes()[pos];
    if b.is_ascii() {
        return b.is_ascii_alphanumeric() || b == b'_';
    }
    src[pos..].chars().next().is_some_and(char::is_alphanumeric)
}

/// The value of a plain string literal token (`'a'`, `"a"`, `r'a'`,
/// `"""a"""`), with the common escapes decoded. `None` for f-strings and
/// bytes, whose value is not a fixed text.
pub fn string_value(token: &str) -> Option<String> {
    let quote_at = token.find(['"', '\''])?;
    let prefix = token[..quote_at].to_ascii_lowercase();
    if prefix.contains('f') || prefix.contains('b') || prefix.contains('t') {
        return None;
    }
    let body = &token[quote_at..];
    let q = &body[..1];
    let triple = body.len() >= 6 && body.starts_with(&q.repeat(3)) && body.ends_with(&q.repeat(3));
    let inner = if triple {
        &body[3..body.len() - 3]
    } else if body.len() >= 2 && body.ends_with(q) {
        &body[1..body.len() - 1]
    } else {
        return None;
    };
    if prefix.contains('r') {
        return Some(inner.to_string());
    }
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('\\') => out.push('\\'),
            Some('\'') => out.push('\''),
            Some('"') => out.push('"'),
            Some('\n') => {}
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<(Kind, String)> {
        tokenize(src)
            .tokens
            .into_iter()
            .map(|t| (t.kind, t.text.to_string()))
            .collect()
    }

    fn significant(src: &str) -> Vec<String> {
        tokenize(src)
            .tokens
            .into_iter()
            .filter(|t| !matches!(t.kind, Kind::Nl | Kind::Comment))
            .map(|t| match t.kind {
                Kind::Newline => "NEWLINE".to_string(),
                Kind::Indent => "INDENT".to_string(),
                Kind::Dedent => "DEDENT".to_string(),
                _ => t.text.to_string(),
            })
            .collect()
    }

    #[test]
    fn brackets_spanning_lines_make_one_logical_line() {
        let toks = significant("x = Column(\n    String(30),\n    nullable=False,\n)\n");
        assert_eq!(
            toks,
            [
                "x", "=", "Column", "(", "String", "(", "30", ")", ",", "nullable", "=", "False",
                ",", ")", "NEWLINE"
            ]
        );
    }

    #[test]
    fn indentation_produces_indent_and_dedent() {
        let toks = significant("class A:\n    x = 1\n\n    # c\n    y = 2\nz = 3\n");
        assert_eq!(
            toks,
            [
                "class", "A", ":", "NEWLINE", "INDENT", "x", "=", "1", "NEWLINE", "y", "=", "2",
                "NEWLINE", "DEDENT", "z", "=", "3", "NEWLINE"
            ]
        );
    }

    #[test]
    fn strings_hide_comment_markers_and_brackets() {
        let toks = kinds("s = 'a # not (a comment'  # real\n");
        assert_eq!(toks[2], (Kind::Str, "'a # not (a comment'".to_string()));
        assert_eq!(toks[3], (Kind::Comment, "# real".to_string()));
        assert!(tokenize("s = 'a # not (a comment'\n").errors.is_empty());
    }

    #[test]
    fn triple_quoted_strings_span_lines() {
        let lexed = tokenize("\"\"\"doc\n(still doc\n\"\"\"\nx = 1\n");
        assert!(lexed.errors.is_empty());
        let s = lexed.tokens[0];
        assert_eq!((s.kind, s.line, s.end_line), (Kind::Str, 1, 3));
        assert_eq!(lexed.tokens[2].text, "x");
        assert_eq!(lexed.tokens[2].line, 4);
    }

    #[test]
    fn prefixed_strings_are_single_tokens() {
        let toks = kinds("a = rb'\\d' + f\"{x}\" + u'z'\n");
        let strs: Vec<_> = toks
            .iter()
            .filter(|(k, _)| *k == Kind::Str)
            .map(|(_, t)| t.as_str())
            .collect();
        assert_eq!(strs, ["rb'\\d'", "f\"{x}\"", "u'z'"]);
    }

    #[test]
    fn backslash_continuation_joins_lines() {
        assert_eq!(
            significant("x = 1 + \\\n    2\n"),
            ["x", "=", "1", "+", "2", "NEWLINE"]
        );
    }

    #[test]
    fn unterminated_things_are_reported_with_position() {
        let lexed = tokenize("x = (1,\ny = 'abc\n");
        let messages: Vec<_> = lexed
            .errors
            .iter()
            .map(|e| format!("{}:{} {}", e.line, e.col, e.message))
            .collect();
        assert_eq!(
            messages,
            [
                "2:4 unterminated string literal",
                "1:4 '(' was never closed"
            ]
        );
    }

    #[test]
    fn mismatched_bracket_is_reported() {
        let lexed = tokenize("x = (1]\n");
        assert_eq!(lexed.errors.len(), 1);
        assert!(lexed.errors[0].message.contains("does not match"));
    }

    #[test]
    fn numbers_with_exponents_and_underscores() {
        let toks = significant("x = 1_000 + 1e-3 + 0xFF + .5j\n");
        assert_eq!(
            toks,
            [
                "x", "=", "1_000", "+", "1e-3", "+", "0xFF", "+", ".5j", "NEWLINE"
            ]
        );
    }

    #[test]
    fn crlf_line_endings_count_lines() {
        let lexed = tokenize("a = 1\r\nb = 2\r\n");
        let b = lexed.tokens.iter().find(|t| t.text == "b").unwrap();
        assert_eq!(b.line, 2);
    }

    #[test]
    fn unicode_identifiers_and_text() {
        let toks = significant("naïve = 'héllo'\n");
        assert_eq!(toks, ["naïve", "=", "'héllo'", "NEWLINE"]);
    }

    #[test]
    fn bad_dedent_is_an_error() {
        let lexed = tokenize("if x:\n        a = 1\n    b = 2\n");
        assert!(lexed.errors[0].message.contains("unindent does not match"));
    }

    #[test]
    fn string_values_decode_quotes_and_prefixes() {
        assert_eq!(string_value("'abc'").as_deref(), Some("abc"));
        assert_eq!(string_value("\"a'b\"").as_deref(), Some("a'b"));
        assert_eq!(string_value("r'\\d'").as_deref(), Some("\\d"));
        assert_eq!(string_value("'''x\ny'''").as_deref(), Some("x\ny"));
        assert_eq!(string_value("'it\\'s'").as_deref(), Some("it's"));
        assert_eq!(string_value("f'{x}'"), None);
        assert_eq!(string_value("b'x'"), None);
    }

    /// A bracket that spans lines and closes with code after it on the
    /// same line must not make the lexer measure indentation mid-line.
    #[test]
    fn bracket_closing_mid_line_keeps_the_block() {
        for src in [
            "def f():\n    rows = conn.execute(\n        q\n    ).fetchall()\n    return rows\n",
            "class A:\n    def f(\n        self,\n    ) -> bool:\n        return True\n    x = Column(Integer)\n",
            "def g():\n    if (\n        x\n    ):\n        y = 1\n    z = 2\n",
            "t = Table(\n    'a',\n).create(bind)\nclass B:\n    y = 1\n",
        ] {
            let lexed = tokenize(src);
            assert!(lexed.errors.is_empty(), "{src:?}: {:?}", lexed.errors);
            let toks = significant(src);
            let indents = toks.iter().filter(|t| *t == "INDENT").count();
            let dedents = toks.iter().filter(|t| *t == "DEDENT").count();
            assert_eq!(indents, dedents, "{src:?}: {toks:?}");
        }
        assert_eq!(
            significant("def f():\n    a = g(\n    ).h()\n    b = 1\n"),
            [
                "def", "f", "(", ")", ":", "NEWLINE", "INDENT", "a", "=", "g", "(", ")", ".", "h",
                "(", ")", "NEWLINE", "b", "=", "1", "NEWLINE", "DEDENT"
            ]
        );
    }

    #[test]
    fn file_without_trailing_newline_still_ends_its_line() {
        let toks = significant("class A:\n    x = 1");
        assert_eq!(toks.last().map(String::as_str), Some("DEDENT"));
        assert!(toks.contains(&"NEWLINE".to_string()));
    }
}
