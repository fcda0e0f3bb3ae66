//! Commands in pull-request comments: `/alembot recheck`, `/alembot help`.
//!
//! The comment is read as GitHub renders it (pulldown-cmark, GitHub
//! extensions on), so a command only counts where a reader sees it as one:
//! at the start of a line of ordinary text. Inside fenced or indented code,
//! inline code, block quotes (people quote a command to talk about it),
//! links, images, tables and HTML it is text, not a command. Each command
//! found yields one result, a command or an error, with its line and column
//! so a reply can point at it.
//!
//! Pure code: no I/O, no GitHub types.

use std::collections::HashMap;
use std::fmt;

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd, TextMergeWithOffset};

/// What a command asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Command {
    /// Run the checks again on the pull request's current head.
    Recheck,
    /// Reply with the list of commands.
    Help,
}

impl Command {
    pub const ALL: [Command; 2] = [Command::Recheck, Command::Help];

    pub fn name(self) -> &'static str {
        match self {
            Command::Recheck => "recheck",
            Command::Help => "help",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Command::Recheck => {
                "run the checks again on the pull request's current head and update the report"
            }
            Command::Help => "show this list",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    #[error("`{prefix}` needs a command; the commands are: {}", known())]
    Missing { prefix: String },
    #[error("unknown command `{name}`; the commands are: {}", known())]
    Unknown { name: String },
}

fn known() -> String {
    Command::ALL.map(Command::name).join(", ")
}

/// One command as written in a comment, and what it means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    pub result: Result<Command, CommandError>,
    /// 1-based line and column (in characters) of the prefix.
    pub line: usize,
    pub column: usize,
    /// The command's line as written, from the prefix on.
    pub text: String,
}

impl fmt::Display for Invocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.result {
            Ok(command) => write!(f, "line {}: {}", self.line, command.name()),
            Err(e) => write!(f, "line {}, column {}: {e}", self.line, self.column),
        }
    }
}

/// Every command in `body` that starts with `prefix` (e.g. `/alembot`), in
/// order. The prefix is matched without regard to ASCII case and must be
/// followed by white space or the end of the line.
pub fn parse(body: &str, prefix: &str) -> Vec<Invocation> {
    let prefix = prefix.trim();
    if prefix.is_empty() {
        return Vec::new();
    }
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_GFM;
    let events = TextMergeWithOffset::new(Parser::new_ext(body, options).into_offset_iter());

    let mut hidden = 0usize;
    let mut out = Vec::new();
    for (event, range) in events {
        match event {
            Event::Start(tag) if hides(&tag) => hidden += 1,
            Event::End(tag) if hides_end(tag) => hidden = hidden.saturating_sub(1),
            Event::Text(text) if hidden == 0 => {
                if let Some(invocation) = command_at(body, range.start, &text, prefix) {
                    out.push(invocation);
                }
            }
            _ => {}
        }
    }
    out
}

/// The commands an edit added: those in `new` that `old` did not have (the
/// same command line, counted, so repeating one in an edit counts once
/// more). Editing a comment must not re-run the commands it already ran.
pub fn added(old: &str, new: &str, prefix: &str) -> Vec<Invocation> {
    let mut before: HashMap<String, usize> = HashMap::new();
    for invocation in parse(old, prefix) {
        *before.entry(key(&invocation.text)).or_default() += 1;
    }
    parse(new, prefix)
        .into_iter()
        .filter(|invocation| match before.get_mut(&key(&invocation.text)) {
            Some(n) if *n > 0 => {
                *n -= 1;
                false
            }
            _ => true,
        })
        .collect()
}

fn key(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Blocks and spans whose text is never a command.
fn hides(tag: &Tag<'_>) -> bool {
    matches!(
        tag,
        Tag::CodeBlock(_)
            | Tag::BlockQuote(_)
            | Tag::Link { .. }
            | Tag::Image { .. }
            | Tag::HtmlBlock
            | Tag::Table(_)
            | Tag::MetadataBlock(_)
    )
}

fn hides_end(tag: TagEnd) -> bool {
    matches!(
        tag,
        TagEnd::CodeBlock
            | TagEnd::BlockQuote(_)
            | TagEnd::Link
            | TagEnd::Image
            | TagEnd::HtmlBlock
            | TagEnd::Table
            | TagEnd::MetadataBlock(_)
    )
}

/// The command a text run starting at byte `start` of `body` holds, if it
/// starts a line (after nothing but indentation) with the prefix.
fn command_at(body: &str, start: usize, text: &str, prefix: &str) -> Option<Invocation> {
    let line_start = body[..start].rfind('\n').map_or(0, |i| i + 1);
    let indent = &body[line_start..start];
    if !indent.chars().all(|c| c == ' ' || c == '\t') {
        return None;
    }
    // Both the source and the rendered text must start with the prefix: an
    // escaped `\/alembot` or an entity-written one is text someone quoted.
    let source_has_prefix = body
        .get(start..start + prefix.len())
        .is_some_and(|s| s.eq_ignore_ascii_case(prefix));
    let rest = text
        .get(..prefix.len())
        .filter(|p| p.eq_ignore_ascii_case(prefix))
        .map(|_| &text[prefix.len()..])?;
    if !source_has_prefix {
        return None;
    }
    let rest = rest.lines().next().unwrap_or("");
    if !rest.is_empty() && !rest.starts_with(char::is_whitespace) {
        // `/alembotx` is another word, not our prefix.
        return None;
    }
    let line = body[..start].matches('\n').count() + 1;
    let column = indent.chars().count() + 1;
    let name = rest
        .split_whitespace()
        .next()
        .map(|w| w.trim_end_matches(['.', ',', '!', '?', ':', ';']))
        .unwrap_or("");
    let result = if name.is_empty() {
        Err(CommandError::Missing {
            prefix: prefix.to_string(),
        })
    } else {
        Command::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(name))
            .ok_or_else(|| CommandError::Unknown {
                name: name.to_string(),
            })
    };
    Some(Invocation {
        result,
        line,
        column,
        text: format!("{}{}", &text[..prefix.len()], rest.trim_end()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: &str = "/alembot";

    /// `(comment, the results as "line:col name" or "line:col !error")`.
    fn run(body: &str) -> Vec<String> {
        parse(body, P)
            .into_iter()
            .map(|i| match i.result {
                Ok(c) => format!("{}:{} {}", i.line, i.column, c.name()),
                Err(CommandError::Unknown { name }) => {
                    format!("{}:{} !unknown {name}", i.line, i.column)
                }
                Err(CommandError::Missing { .. }) => format!("{}:{} !missing", i.line, i.column),
            })
            .collect()
    }

    #[test]
    fn table_of_comments() {
        let cases: &[(&str, &str, &[&str])] = &[
            ("plain", "/alembot recheck", &["1:1 recheck"]),
            ("help", "/alembot help", &["1:1 help"]),
            (
                "case of prefix and name",
                "/ALEMBOT ReCheck",
                &["1:1 recheck"],
            ),
            (
                "trailing words ignored",
                "/alembot recheck please",
                &["1:1 recheck"],
            ),
            (
                "trailing punctuation",
                "/alembot recheck.",
                &["1:1 recheck"],
            ),
            (
                "second line",
                "Thanks for the fix!\n/alembot recheck",
                &["2:1 recheck"],
            ),
            (
                "after a blank line",
                "LGTM\n\n/alembot recheck\n",
                &["3:1 recheck"],
            ),
            (
                "indented up to three",
                "   /alembot recheck",
                &["1:4 recheck"],
            ),
            ("mid-line is prose", "could someone /alembot recheck?", &[]),
            ("fenced code", "```\n/alembot recheck\n```", &[]),
            ("tilde fence", "~~~sh\n/alembot recheck\n~~~", &[]),
            ("indented code", "text\n\n    /alembot recheck\n", &[]),
            ("inline code", "`/alembot recheck`", &[]),
            ("block quote", "> /alembot recheck", &[]),
            ("nested quote", "> > /alembot recheck", &[]),
            (
                "lazy quote continuation",
                "> you said\n/alembot recheck",
                &[],
            ),
            (
                "after a quote",
                "> you said\n\n/alembot recheck",
                &["3:1 recheck"],
            ),
            ("link text", "[/alembot recheck](https://example.com)", &[]),
            ("html comment", "<!-- /alembot recheck -->", &[]),
            ("html block", "<div>\n/alembot recheck\n</div>", &[]),
            ("list item", "- /alembot recheck", &[]),
            ("heading", "# /alembot recheck", &[]),
            ("table cell", "a | b\n--|--\n/alembot recheck | x", &[]),
            ("escaped", "\\/alembot recheck", &[]),
            ("emphasis", "*/alembot recheck*", &[]),
            ("longer word", "/alembotx recheck", &[]),
            ("unknown", "/alembot rechek", &["1:1 !unknown rechek"]),
            ("missing", "/alembot", &["1:1 !missing"]),
            ("missing with spaces", "/alembot   ", &["1:1 !missing"]),
            (
                "one result per command",
                "/alembot recheck\n/alembot nope\n/alembot help",
                &["1:1 recheck", "2:1 !unknown nope", "3:1 help"],
            ),
            (
                "code then command",
                "```\n/alembot help\n```\n/alembot recheck",
                &["4:1 recheck"],
            ),
            ("crlf", "hi\r\n/alembot recheck\r\n", &["2:1 recheck"]),
        ];
        for (name, body, want) in cases {
            assert_eq!(run(body), *want, "case `{name}`: {body:?}");
        }
    }

    #[test]
    fn prefix_is_configurable() {
        let found = parse(
            "@migrations-bot recheck\n/alembot recheck",
            "@migrations-bot",
        );
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].result, Ok(Command::Recheck));
        assert!(parse("/alembot recheck", "").is_empty());
    }

    #[test]
    fn edits_count_only_new_commands() {
        let old = "/alembot recheck";
        assert!(added(old, "/alembot recheck\n\n(edited: typo)", P).is_empty());
        let new = added(old, "/alembot recheck\n/alembot help", P);
        assert_eq!(new.len(), 1);
        assert_eq!(new[0].result, Ok(Command::Help));
        // The same command written again in the edit is new.
        assert_eq!(added(old, "/alembot recheck\n/alembot recheck", P).len(), 1);
        // A typo fixed in an edit: the fixed command is new.
        let fixed = added("/alembot rechek", "/alembot recheck", P);
        assert_eq!(fixed[0].result, Ok(Command::Recheck));
    }

    #[test]
    fn errors_name_their_position() {
        let found = parse("hello\n  /alembot frobnicate", P);
        assert_eq!(
            found[0].to_string(),
            "line 2, column 3: unknown command `frobnicate`; the commands are: recheck, help"
        );
        assert_eq!(found[0].text, "/alembot frobnicate");
    }
}
