//! Statements, blocks and calls on top of the token stream: the shape of a
//! Python file, not its meaning. Models and revision files are read through
//! this.

use super::lexer::{Kind, LexError, Token, string_value, tokenize};

/// One logical line, with the block it introduces (if it ends in `:`).
#[derive(Debug, Clone)]
pub struct Stmt<'a> {
    /// Significant tokens only: no comments, line breaks or indentation.
    pub tokens: Vec<Token<'a>>,
    /// Comments that sit on this statement's lines (not its body's).
    pub comments: Vec<Token<'a>>,
    pub first_line: u32,
    pub last_line: u32,
    pub body: Vec<Stmt<'a>>,
}

impl<'a> Stmt<'a> {
    pub fn first(&self) -> Option<&Token<'a>> {
        self.tokens.first()
    }

    pub fn starts_with_name(&self, name: &str) -> bool {
        self.tokens.first().is_some_and(|t| t.is_name(name))
    }

    /// The last line of the statement including its body.
    pub fn end_line(&self) -> u32 {
        self.body
            .last()
            .map_or(self.last_line, |b| b.end_line().max(self.last_line))
    }

    /// Whether a comment on the statement's own lines matches `marker`.
    pub fn has_comment(&self, marker: &str) -> bool {
        self.comments.iter().any(|c| comment_has(c.text, marker))
    }
}

fn comment_has(comment: &str, marker: &str) -> bool {
    let text = comment.trim_start_matches('#').trim();
    text.starts_with(marker) || comment.contains(&format!("# {marker}"))
}

#[derive(Debug, Clone)]
pub struct Module<'a> {
    pub body: Vec<Stmt<'a>>,
    pub errors: Vec<LexError>,
}

/// Parses `src` into nested statements. Never fails: lexical errors are
/// returned beside the best-effort structure.
pub fn parse(src: &str) -> Module<'_> {
    let lexed = tokenize(src);
    let mut pos = 0;
    let body = block(&lexed.tokens, &mut pos, false);
    Module {
        body,
        errors: lexed.errors,
    }
}

fn block<'a>(tokens: &[Token<'a>], pos: &mut usize, nested: bool) -> Vec<Stmt<'a>> {
    let mut out: Vec<Stmt<'a>> = Vec::new();
    let mut pending_comments: Vec<Token<'a>> = Vec::new();
    while *pos < tokens.len() {
        let t = tokens[*pos];
        match t.kind {
            Kind::Dedent => {
                *pos += 1;
                if nested {
                    return out;
                }
            }
            Kind::Indent => {
                // An indented block with no header (malformed input, or the
                // body of a statement we already closed): keep its statements.
                *pos += 1;
                let inner = block(tokens, pos, true);
                match out.last_mut() {
                    Some(prev) if prev.body.is_empty() => prev.body = inner,
                    _ => out.extend(inner),
                }
            }
            Kind::Nl | Kind::Newline => *pos += 1,
            Kind::Comment => {
                pending_comments.push(t);
                *pos += 1;
            }
            _ => {
                let mut stmt = logical_line(tokens, pos);
                // A comment alone on the line just above a statement belongs
                // to it only for `# alembot: ignore`-style markers; keep the
                // rest out so moving comments stays irrelevant.
                pending_comments.clear();
                // The statement's body follows when the line ends with ':'
                // and the next significant token is an INDENT.
                let mut look = *pos;
                while look < tokens.len() && matches!(tokens[look].kind, Kind::Nl | Kind::Comment) {
                    look += 1;
                }
                if stmt.tokens.last().is_some_and(|t| t.is_op(":"))
                    && look < tokens.len()
                    && tokens[look].kind == Kind::Indent
                {
                    // Comments between the header and the body's first line
                    // belong to the body.
                    *pos = look + 1;
                    stmt.body = block(tokens, pos, true);
                }
                out.push(stmt);
            }
        }
    }
    let _ = pending_comments;
    out
}

fn logical_line<'a>(tokens: &[Token<'a>], pos: &mut usize) -> Stmt<'a> {
    let mut stmt = Stmt {
        tokens: Vec::new(),
        comments: Vec::new(),
        first_line: tokens[*pos].line,
        last_line: tokens[*pos].end_line,
        body: Vec::new(),
    };
    while *pos < tokens.len() {
        let t = tokens[*pos];
        match t.kind {
            Kind::Newline => {
                *pos += 1;
                // A trailing comment comes before NEWLINE; nothing after.
                break;
            }
            Kind::Indent | Kind::Dedent => break,
            Kind::Nl => {}
            Kind::Comment => stmt.comments.push(t),
            _ => {
                stmt.last_line = stmt.last_line.max(t.end_line);
                stmt.tokens.push(t);
            }
        }
        *pos += 1;
    }
    stmt
}

/// `target = value`, `target: annotation = value`, or a bare annotation
/// `target: annotation`, at the start of a statement.
#[derive(Debug, Clone, Copy)]
pub struct Assignment<'t, 'a> {
    pub target: &'t Token<'a>,
    pub annotation: Option<&'t [Token<'a>]>,
    pub value: Option<&'t [Token<'a>]>,
}

/// Reads a single-name assignment. The annotation may hold brackets
/// (`Union[str, Sequence[str], None]`) but never a top-level `=`.
pub fn assignment<'t, 'a>(tokens: &'t [Token<'a>]) -> Option<Assignment<'t, 'a>> {
    let target = tokens.first().filter(|t| t.kind == Kind::Name)?;
    let next = tokens.get(1)?;
    if next.is_op("=") {
        return Some(Assignment {
            target,
            annotation: None,
            value: Some(&tokens[2..]),
        });
    }
    if !next.is_op(":") {
        return None;
    }
    let mut depth = 0i32;
    for (i, t) in tokens.iter().enumerate().skip(2) {
        if t.kind != Kind::Op {
            continue;
        }
        match t.text {
            "(" | "[" | "{" => depth += 1,
            ")" | "]" | "}" => depth -= 1,
            "=" if depth == 0 => {
                return Some(Assignment {
                    target,
                    annotation: Some(&tokens[2..i]),
                    value: Some(&tokens[i + 1..]),
                });
            }
            _ => {}
        }
    }
    Some(Assignment {
        target,
        annotation: Some(&tokens[2..]),
        value: None,
    })
}

/// Index of the bracket closing the one at `open`, if any.
pub fn matching_close(tokens: &[Token<'_>], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, t) in tokens.iter().enumerate().skip(open) {
        if t.kind != Kind::Op {
            continue;
        }
        match t.text {
            "(" | "[" | "{" => depth += 1,
            ")" | "]" | "}" => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Splits `tokens` on `sep` operators at bracket depth zero. A trailing
/// separator yields no empty part.
pub fn split_top_level<'t, 'a>(tokens: &'t [Token<'a>], sep: &str) -> Vec<&'t [Token<'a>]> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, t) in tokens.iter().enumerate() {
        if t.kind != Kind::Op {
            continue;
        }
        match t.text {
            "(" | "[" | "{" => depth += 1,
            ")" | "]" | "}" => depth -= 1,
            s if s == sep && depth == 0 => {
                parts.push(&tokens[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if start < tokens.len() {
        parts.push(&tokens[start..]);
    }
    parts
}

/// A call found in a token stream: `callee(args...)`.
#[derive(Debug, Clone)]
pub struct Call<'t, 'a> {
    /// The dotted name before the parenthesis, e.g. `sa.Column`, `op.add_column`.
    pub callee: String,
    pub args: Vec<Arg<'t, 'a>>,
    /// Index of the first token of the callee and of the closing parenthesis.
    pub start: usize,
    pub end: usize,
    pub line: u32,
}

#[derive(Debug, Clone)]
pub struct Arg<'t, 'a> {
    /// `Some("nullable")` for `nullable=False`; `None` for positional ones
    /// (and for `*args` / `**kwargs`, whose tokens keep their star).
    pub name: Option<&'a str>,
    pub value: &'t [Token<'a>],
}

impl<'t, 'a> Call<'t, 'a> {
    pub fn positional(&self) -> impl Iterator<Item = &'t [Token<'a>]> + '_ {
        self.args
            .iter()
            .filter(|a| a.name.is_none())
            .map(|a| a.value)
    }

    pub fn keyword(&self, name: &str) -> Option<&'t [Token<'a>]> {
        self.args
            .iter()
            .find(|a| a.name == Some(name))
            .map(|a| a.value)
    }

    /// The callee's last dotted component: `Column` for `sa.Column`.
    pub fn short_name(&self) -> &str {
        self.callee.rsplit('.').next().unwrap_or(&self.callee)
    }
}

/// Reads the dotted name ending at `tokens[end_incl]`, walking backwards.
/// Returns the name and the index of its first token.
fn dotted_name_ending_at(tokens: &[Token<'_>], end_incl: usize) -> (String, usize) {
    let mut start = end_incl;
    while start >= 2 && tokens[start - 1].is_op(".") && tokens[start - 2].kind == Kind::Name {
        start -= 2;
    }
    let name = tokens[start..=end_incl].iter().map(|t| t.text).collect();
    (name, start)
}

/// Parses the call whose opening parenthesis is at `open`.
pub fn call_at<'t, 'a>(tokens: &'t [Token<'a>], open: usize) -> Option<Call<'t, 'a>> {
    if open == 0 || !tokens[open].is_op("(") || tokens[open - 1].kind != Kind::Name {
        return None;
    }
    let close = matching_close(tokens, open)?;
    let (callee, start) = dotted_name_ending_at(tokens, open - 1);
    let inner = &tokens[open + 1..close];
    let args = split_top_level(inner, ",")
        .into_iter()
        .filter(|part| !part.is_empty())
        .map(|part| {
            if part.len() >= 2 && part[0].kind == Kind::Name && part[1].is_op("=") {
                Arg {
                    name: Some(part[0].text),
                    value: &part[2..],
                }
            } else {
                Arg {
                    name: None,
                    value: part,
                }
            }
        })
        .collect();
    Some(Call {
        callee,
        args,
        start,
        end: close,
        line: tokens[start].line,
    })
}

/// Every call in `tokens` (nested ones included), in source order.
pub fn calls<'t, 'a>(tokens: &'t [Token<'a>]) -> Vec<Call<'t, 'a>> {
    (1..tokens.len())
        .filter(|&i| tokens[i].is_op("(") && tokens[i - 1].kind == Kind::Name)
        .filter_map(|i| call_at(tokens, i))
        .collect()
}

/// The first call in `tokens` whose callee's last component is one of `names`.
pub fn find_call<'t, 'a>(tokens: &'t [Token<'a>], names: &[&str]) -> Option<Call<'t, 'a>> {
    calls(tokens)
        .into_iter()
        .find(|c| names.contains(&c.short_name()))
}

/// The literal string value of a single-token expression, if it is one.
pub fn literal_str(tokens: &[Token<'_>]) -> Option<String> {
    match tokens {
        [t] if t.kind == Kind::Str => string_value(t.text),
        // Implicit concatenation: 'a' 'b'.
        many if !many.is_empty() && many.iter().all(|t| t.kind == Kind::Str) => {
            let mut out = String::new();
            for t in many {
                out.push_str(&string_value(t.text)?);
            }
            Some(out)
        }
        _ => None,
    }
}

/// One token of a normalised stream: what two formattings of the same code
/// have in common.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Norm {
    Tok(String),
    Str(String),
}

/// Normalises tokens so that reformatting compares equal: quote style and
/// string prefixes collapse to the value, and the "magic trailing comma"
/// before a closing bracket is dropped. Comments and line breaks are already
/// absent from statement tokens.
pub fn normalize(tokens: &[Token<'_>]) -> Vec<Norm> {
    let mut out = Vec::with_capacity(tokens.len());
    for (i, t) in tokens.iter().enumerate() {
        if t.is_op(",")
            && tokens
                .get(i + 1)
                .is_some_and(|n| n.kind == Kind::Op && matches!(n.text, ")" | "]" | "}"))
        {
            // `(a,)` is a tuple and `(a)` is not; keep the comma when it is
            // the only separator in parentheses.
            let single_elem_tuple = tokens[i + 1].is_op(")") && {
                let open = open_of(tokens, i + 1);
                // `f(a,)` is a call; only a bare parenthesis makes a tuple.
                let is_call = open.is_some_and(|o| {
                    o > 0
                        && (tokens[o - 1].kind == Kind::Name
                            || tokens[o - 1].is_op(")")
                            || tokens[o - 1].is_op("]"))
                        && !matches!(
                            tokens[o - 1].text,
                            "in" | "return" | "and" | "or" | "not" | "yield" | "else" | "if"
                        )
                });
                !is_call
                    && open.is_some_and(|o| split_top_level(&tokens[o + 1..i + 1], ",").len() == 1)
            };
            if !single_elem_tuple {
                continue;
            }
        }
        match t.kind {
            Kind::Str => match string_value(t.text) {
                Some(v) => out.push(Norm::Str(v)),
                None => out.push(Norm::Tok(t.text.to_string())),
            },
            _ => out.push(Norm::Tok(t.text.to_string())),
        }
    }
    out
}

fn open_of(tokens: &[Token<'_>], close: usize) -> Option<usize> {
    let mut depth = 0i32;
    for i in (0..=close).rev() {
        let t = &tokens[i];
        if t.kind != Kind::Op {
            continue;
        }
        match t.text {
            ")" | "]" | "}" => depth += 1,
            "(" | "[" | "{" => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Keywords after which a bracket opens an expression, not a call or subscript.
const KEYWORDS: &[&str] = &[
    "in", "not", "and", "or", "is", "if", "else", "return", "yield", "lambda", "await", "assert",
    "for", "from", "import", "del", "with", "as", "elif", "while", "raise",
];

/// Joins tokens back into compact source text (for messages and keys).
pub fn render(tokens: &[Token<'_>]) -> String {
    render_parts(tokens.iter().map(|t| (t.kind, t.text)))
}

/// [`render`] for token texts that were rewritten or made up (a normalised
/// string literal, a dropped module prefix), with the same spacing.
pub fn render_parts<'s>(parts: impl IntoIterator<Item = (Kind, &'s str)>) -> String {
    let is_op = |kind: Kind, text: &str, op: &str| kind == Kind::Op && text == op;
    let mut out = String::new();
    let mut prev: Option<(Kind, &str)> = None;
    for (kind, text) in parts {
        if let Some((pk, pt)) = prev {
            let after_keyword = pk == Kind::Name && KEYWORDS.contains(&pt);
            let glue = pk == Kind::Op && matches!(pt, "(" | "[" | "{" | "." | "**" | "*")
                || kind == Kind::Op && matches!(text, ")" | "]" | "}" | "," | "." | ":")
                || kind == Kind::Op && matches!(text, "(" | "[") && !after_keyword
                || (is_op(pk, pt, "=") || is_op(kind, text, "="))
                    && !matches!(pt, "==" | "!=")
                    && !matches!(text, "==" | "!=");
            let closing = kind == Kind::Op && matches!(text, ")" | "]" | "}");
            let glue = glue && (closing || !(is_op(pk, pt, ",") || is_op(pk, pt, ":")));
            if !glue {
                out.push(' ');
            }
        }
        out.push_str(text);
        prev = Some((kind, text));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_nest_their_bodies() {
        let m = parse("class A(Base):\n    x = 1\n\n    def f(self):\n        return 2\ny = 3\n");
        assert_eq!(m.body.len(), 2);
        let class = &m.body[0];
        assert_eq!(class.body.len(), 2);
        assert_eq!(class.body[1].body.len(), 1);
        assert_eq!(class.end_line(), 5);
        assert_eq!(m.body[1].first_line, 6);
    }

    #[test]
    fn comments_stay_with_their_statement() {
        let m = parse("x = Column(  # alembot: ignore\n    Integer)\ny = 2  # note\n");
        assert!(m.body[0].has_comment("alembot: ignore"));
        assert!(!m.body[1].has_comment("alembot: ignore"));
        assert_eq!((m.body[0].first_line, m.body[0].last_line), (1, 2));
    }

    #[test]
    fn call_arguments_split_at_top_level() {
        let m = parse("c = mapped_column(String(30), ForeignKey('u.id'), nullable=False)\n");
        let call = find_call(&m.body[0].tokens, &["mapped_column"]).unwrap();
        assert_eq!(call.args.len(), 3);
        assert_eq!(render(call.args[0].value), "String(30)");
        assert_eq!(render(call.keyword("nullable").unwrap()), "False");
        let fk = find_call(call.args[1].value, &["ForeignKey"]).unwrap();
        assert_eq!(literal_str(fk.args[0].value).as_deref(), Some("u.id"));
    }

    #[test]
    fn dotted_callees_are_read_whole() {
        let m = parse("op.add_column('t', sa.Column('c', sa.Integer()))\n");
        let cs = calls(&m.body[0].tokens);
        let names: Vec<_> = cs.iter().map(|c| c.callee.as_str()).collect();
        assert_eq!(names, ["op.add_column", "sa.Column", "sa.Integer"]);
    }

    #[test]
    fn normalisation_ignores_wrapping_quotes_and_trailing_commas() {
        let a = parse("x = mapped_column(String(30), nullable=False)\n");
        let b = parse("x = mapped_column(\n    String(30),\n    nullable=False,\n)\n");
        let c = parse("x = mapped_column(String(30), nullable=True)\n");
        assert_eq!(normalize(&a.body[0].tokens), normalize(&b.body[0].tokens));
        assert_ne!(normalize(&a.body[0].tokens), normalize(&c.body[0].tokens));
        let d = parse("t = Table(\"a\", m)\n");
        let e = parse("t = Table('a', m,)\n");
        assert_eq!(normalize(&d.body[0].tokens), normalize(&e.body[0].tokens));
    }

    #[test]
    fn single_element_tuple_keeps_its_comma() {
        let a = parse("x = (1,)\n");
        let b = parse("x = (1)\n");
        assert_ne!(normalize(&a.body[0].tokens), normalize(&b.body[0].tokens));
    }

    #[test]
    fn one_argument_call_with_trailing_comma_is_the_same_call() {
        let a = parse("x = f(\n    g(1),\n)\n");
        let b = parse("x = f(g(1))\n");
        assert_eq!(normalize(&a.body[0].tokens), normalize(&b.body[0].tokens));
    }

    #[test]
    fn one_line_compound_statement_has_no_body() {
        let m = parse("class A: pass\nclass B:\n    x = 1\n");
        assert!(m.body[0].body.is_empty());
        assert_eq!(m.body[1].body.len(), 1);
    }

    #[test]
    fn rendered_parts_space_like_rendered_tokens() {
        let m = parse("f(a, b=[1, 2], *c, **d).g[0] + 1\n");
        let tokens = &m.body[0].tokens;
        let text = render(tokens);
        assert_eq!(text, "f(a, b=[1, 2], *c, **d).g[0] + 1");
        assert_eq!(render_parts(tokens.iter().map(|t| (t.kind, t.text))), text);
        assert_eq!(
            render(&parse("x[1:], (1,)\n").body[0].tokens),
            "x[1:], (1,)"
        );
        assert_eq!(
            render_parts([
                (Kind::Name, "String"),
                (Kind::Op, "("),
                (Kind::Number, "30"),
                (Kind::Op, ")")
            ]),
            "String(30)"
        );
    }
}
