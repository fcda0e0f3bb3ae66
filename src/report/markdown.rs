//! `--format markdown`: what the pull-request comment and the job summary
//! show. Rendered natively from the findings (never by stripping colour from
//! the terminal text), so it holds no escape bytes.
//!
//! Layout:
//!
//! ```text
//! ### ❌ alembot: 2 errors, 1 warning
//!
//! Checks: static, drift
//!
//! **Notes**
//!
//! - The data upgrade was skipped: ...
//!
//! | # | Severity | Code | Location | Message |
//! | --: | --- | --- | --- | --- |
//! | 1 | ❌ error | `missing-migration` | `app/models.py:12` | ... |
//!
//! <details>
//! <summary>1. ❌ <code>missing-migration</code> at <code>app/models.py:12</code></summary>
//! ...
//! </details>
//! ```
//!
//! Every piece of text from a finding is escaped for where it lands: table
//! cells, a paragraph, HTML (`<summary>`) or a fenced code block. The pieces
//! are separate blocks so the size-limited rendering can drop whole rows and
//! whole `<details>` blocks and never cut through one.

use std::fmt::Write as _;

use crate::findings::{Finding, Report, Severity, Verdict};

use super::{RenderOptions, clean, counts_phrase};

/// The most characters GitHub takes in an issue or pull-request comment
/// body (the API answers 422 "Body is too long (maximum is 65536
/// characters)" beyond it).
pub const GITHUB_COMMENT_LIMIT: usize = 65_536;

/// The whole report as Markdown.
pub fn render(report: &Report, _opts: &RenderOptions) -> String {
    let parts = Parts::new(report);
    parts.assemble(parts.rows.len(), parts.rows.len(), None)
}

/// The report as Markdown in at most `max_chars` characters, and whether
/// anything was left out.
///
/// Characters are Unicode scalar values (`str::chars`), which is how GitHub
/// counts a comment body's length (a Ruby `String#length` on UTF-8, i.e.
/// code points; not UTF-16 units and not bytes). An emoji such as ⚠️ is two.
///
/// When the whole report is too long, the cut falls between blocks, never
/// inside a table row, a `<details>` block or a code fence. The verdict, the
/// checks line and the notes stay; then as many table rows as fit (in report
/// order, so errors first); then as many details blocks as still fit; and a
/// closing line says how much is missing and where the full report is.
pub fn render_markdown_limited(
    report: &Report,
    _opts: &RenderOptions,
    max_chars: usize,
) -> (String, bool) {
    let report = &*crate::redact::redact_report(report);
    let parts = Parts::new(report);
    let n = parts.rows.len();
    if parts.size(n, n, 0) <= max_chars {
        return (parts.assemble(n, n, None), false);
    }

    // Rows first: the largest table that fits with no details at all.
    let rows = (0..=n).rev().find(|&rows| {
        let note = cut_note(n - rows, parts.details_among(rows));
        parts.size(rows, 0, chars(&note)) <= max_chars
    });
    if let Some(rows) = rows {
        // Then as many details blocks of the shown rows as still fit.
        let (details, note) = (0..=rows)
            .rev()
            .map(|details| {
                let left_out = parts.details_among(rows) - parts.details_among(details);
                (details, cut_note(n - rows, left_out))
            })
            .find(|(details, note)| parts.size(rows, *details, chars(note)) <= max_chars)
            // `details == 0` is the case the row search already checked.
            .unwrap_or_else(|| (0, cut_note(n - rows, parts.details_among(rows))));
        return (parts.assemble(rows, details, Some(&note)), true);
    }

    // Not even the notes fit: the verdict and the cut note alone, and in a
    // budget too small even for that, as much of them as fits.
    let note = cut_note(n, 0);
    let text = format!("{}\n{note}", verdict_line(report));
    (text.chars().take(max_chars).collect(), true)
}

/// The headline: `### ❌ alembot: 2 errors, 1 warning`.
pub fn verdict_line(report: &Report) -> String {
    let icon = match report.verdict() {
        Verdict::Failed => "❌",
        Verdict::Warnings => "⚠️",
        Verdict::Passed => "✅",
    };
    let counts = counts_phrase(report).unwrap_or_else(|| "no problems found".to_string());
    format!("### {icon} alembot: {counts}")
}

/// The report cut into the blocks the size limit may drop. Each block but
/// the head is preceded by a blank line when assembled.
struct Parts {
    /// Verdict, checks and notes; always shown.
    head: String,
    table_head: String,
    /// One line each, ending in `\n`.
    rows: Vec<String>,
    /// The `<details>` block of each finding that has help or details.
    details: Vec<Option<String>>,
    /// `details_before[k]`: how many of the first `k` findings have a block.
    details_before: Vec<usize>,
    rows_before: Vec<usize>,
    details_chars_before: Vec<usize>,
}

impl Parts {
    fn new(report: &Report) -> Self {
        let mut head = verdict_line(report);
        head.push('\n');
        if !report.summary.checks.is_empty() {
            let checks: Vec<String> = report
                .summary
                .checks
                .iter()
                .map(|c| inline(c, false))
                .collect();
            let _ = write!(head, "\nChecks: {}\n", checks.join(", "));
        }
        if !report.notes.is_empty() {
            head.push_str("\n**Notes**\n\n");
            for note in &report.notes {
                let _ = writeln!(head, "- {}", block_start_safe(&inline(note.trim(), false)));
            }
        }

        let with_environment = report.environments().len() > 1;
        let table_head = if with_environment {
            "| # | Severity | Code | Location | Environment | Message |\n\
             | --: | --- | --- | --- | --- | --- |\n"
        } else {
            "| # | Severity | Code | Location | Message |\n| --: | --- | --- | --- | --- |\n"
        }
        .to_string();

        let rows: Vec<String> = report
            .findings
            .iter()
            .enumerate()
            .map(|(i, f)| table_row(i + 1, f, with_environment))
            .collect();
        let details: Vec<Option<String>> = report
            .findings
            .iter()
            .enumerate()
            .map(|(i, f)| details_block(i + 1, f))
            .collect();

        let mut rows_before = vec![0];
        let mut details_before = vec![0];
        let mut details_chars_before = vec![0];
        for (row, block) in rows.iter().zip(&details) {
            rows_before.push(rows_before.last().copied().unwrap_or(0) + chars(row));
            let (count, size) = match block {
                // A blank line, then the block.
                Some(block) => (1, 1 + chars(block)),
                None => (0, 0),
            };
            details_before.push(details_before.last().copied().unwrap_or(0) + count);
            details_chars_before.push(details_chars_before.last().copied().unwrap_or(0) + size);
        }

        Parts {
            head,
            table_head,
            rows,
            details,
            details_before,
            rows_before,
            details_chars_before,
        }
    }

    /// How many of the first `k` findings have a details block.
    fn details_among(&self, k: usize) -> usize {
        self.details_before[k]
    }

    /// The length of `assemble(rows, details, note)` for a note of
    /// `note_chars` characters (0: no note), without building it.
    fn size(&self, rows: usize, details: usize, note_chars: usize) -> usize {
        let mut size = chars(&self.head);
        if rows > 0 {
            size += 1 + chars(&self.table_head) + self.rows_before[rows];
        }
        size += self.details_chars_before[details];
        if note_chars > 0 {
            size += 1 + note_chars;
        }
        size
    }

    /// The head, the first `rows` table rows, the details blocks of the
    /// first `details` findings and the cut note, each after a blank line.
    fn assemble(&self, rows: usize, details: usize, note: Option<&str>) -> String {
        let mut out = self.head.clone();
        if rows > 0 {
            out.push('\n');
            out.push_str(&self.table_head);
            for row in &self.rows[..rows] {
                out.push_str(row);
            }
        }
        for block in self.details[..details].iter().flatten() {
            out.push('\n');
            out.push_str(block);
        }
        if let Some(note) = note {
            out.push('\n');
            out.push_str(note);
        }
        out
    }
}

/// The closing line of a cut report.
fn cut_note(rows_left_out: usize, details_left_out: usize) -> String {
    let findings = |n: usize| if n == 1 { "finding" } else { "findings" };
    let what = match (rows_left_out, details_left_out) {
        (0, d) => format!("…the details of {d} {} are not shown", findings(d)),
        (r, 0) => format!("…{r} more {} not shown", findings(r)),
        (r, d) => format!(
            "…{r} more {} not shown, nor the details of {d} above",
            findings(r)
        ),
    };
    format!("**{what}; the full report is in the job summary.**\n")
}

fn severity_icon(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "❌",
        Severity::Warning => "⚠️",
        Severity::Notice => "ℹ️",
    }
}

fn table_row(number: usize, f: &Finding, with_environment: bool) -> String {
    let location = f
        .location()
        .map(|l| code_span(&l, true))
        .unwrap_or_else(|| "—".to_string());
    let mut row = format!(
        "| {number} | {} {} | {} | {location} |",
        severity_icon(f.severity),
        f.severity,
        code_span(&f.code, true),
    );
    if with_environment {
        let env = f
            .environment
            .as_deref()
            .map(|e| code_span(e, true))
            .unwrap_or_else(|| "—".to_string());
        let _ = write!(row, " {env} |");
    }
    let _ = writeln!(row, " {} |", inline(&f.message, true));
    row
}

/// The collapsed block with a finding's help (a paragraph) and details (a
/// fenced code block, since they are tracebacks and Alembic operations).
fn details_block(number: usize, f: &Finding) -> Option<String> {
    if f.help.is_none() && f.details.is_none() {
        return None;
    }
    let mut summary = format!(
        "{number}. {} <code>{}</code>",
        severity_icon(f.severity),
        html(&f.code)
    );
    if let Some(location) = f.location() {
        let _ = write!(summary, " at <code>{}</code>", html(&location));
    }
    if let Some(env) = &f.environment {
        let _ = write!(summary, " in <code>{}</code>", html(env));
    }

    // The blank lines after `<summary>` and before `</details>` make GitHub
    // render the inside as Markdown rather than as raw HTML.
    let mut block = format!("<details>\n<summary>{summary}</summary>\n\n");
    if let Some(help) = &f.help {
        let _ = write!(block, "**Help:** {}\n\n", inline(help, false));
    }
    if let Some(details) = &f.details {
        block.push_str(&fenced(details));
        block.push('\n');
    }
    block.push_str("</details>\n");
    Some(block)
}

/// A fenced code block whose fence is longer than any run of backticks in
/// `text`, so nothing inside can close it.
pub fn fenced(text: &str) -> String {
    let text = clean(text);
    let text = text.trim_end_matches('\n');
    let fence = "`".repeat((longest_backtick_run(text) + 1).max(3));
    format!("{fence}text\n{text}\n{fence}\n")
}

fn longest_backtick_run(text: &str) -> usize {
    let (mut longest, mut current) = (0, 0);
    for c in text.chars() {
        if c == '`' {
            current += 1;
            longest = longest.max(current);
        } else {
            current = 0;
        }
    }
    longest
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

/// Text for a table cell (`in_table`) or a paragraph, on one source line.
///
/// Backtick spans that CommonMark would read as code stay code (rules write
/// `User.email` that way); everything else is escaped so it shows as typed:
/// emphasis, links, HTML (`<script>` shows as text), table pipes. Newlines
/// become `<br>`, since a cell cannot span lines and a new line in a
/// paragraph could start a heading or a list. `@name` gets a zero-width
/// space so a message never notifies a GitHub user.
pub fn inline(text: &str, in_table: bool) -> String {
    let text = clean(text);
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '`' {
            let run = run_length(&chars, i);
            if let Some(close) = find_closing_run(&chars, i + run, run) {
                let content: String = chars[i + run..close].iter().collect();
                if content.contains('\n') {
                    out.push_str(&code_spans_by_line(&content, in_table));
                } else {
                    // The writer's own span is already valid Markdown; kept
                    // as written so its padding means what they meant.
                    let delimiter = "`".repeat(run);
                    let body = if in_table {
                        content.replace('|', "\\|")
                    } else {
                        content
                    };
                    out.push_str(&format!("{delimiter}{body}{delimiter}"));
                }
                i = close + run;
            } else {
                // No closer: CommonMark shows the run as it is; escaping it
                // keeps it so even next to other text.
                for _ in 0..run {
                    out.push_str("\\`");
                }
                i += run;
            }
            continue;
        }
        push_text_char(&mut out, &chars, i);
        i += 1;
    }
    out
}

fn push_text_char(out: &mut String, chars: &[char], i: usize) {
    match chars[i] {
        '\n' => out.push_str("<br>"),
        '&' => out.push_str("&amp;"),
        '<' => out.push_str("&lt;"),
        '>' => out.push_str("&gt;"),
        '@' if chars.get(i + 1).is_some_and(|c| c.is_alphanumeric()) => {
            out.push_str("@&#8203;");
        }
        c @ ('\\' | '*' | '_' | '[' | ']' | '~' | '|') => {
            out.push('\\');
            out.push(c);
        }
        c => out.push(c),
    }
}

fn run_length(chars: &[char], start: usize) -> usize {
    chars[start..].iter().take_while(|&&c| c == '`').count()
}

/// The start of the next backtick run of exactly `len` after `from`, as
/// CommonMark pairs code span delimiters.
fn find_closing_run(chars: &[char], from: usize, len: usize) -> Option<usize> {
    let mut j = from;
    while j < chars.len() {
        if chars[j] == '`' {
            let run = run_length(chars, j);
            if run == len {
                return Some(j);
            }
            j += run;
        } else {
            j += 1;
        }
    }
    None
}

/// A code span that crossed a newline, as one span per line joined by
/// `<br>` (a code span cannot hold a line break).
fn code_spans_by_line(content: &str, in_table: bool) -> String {
    content
        .split('\n')
        .map(|line| {
            if line.is_empty() {
                String::new()
            } else {
                code_span(line, in_table)
            }
        })
        .collect::<Vec<_>>()
        .join("<br>")
}

/// `text` as one code span, shown exactly: the delimiter is longer than any
/// backtick run inside, and padding keeps edge backticks and spaces.
pub fn code_span(text: &str, in_table: bool) -> String {
    let text = clean(text).replace('\n', " ");
    let delimiter = "`".repeat(longest_backtick_run(&text) + 1);
    // CommonMark strips one space from each end when both ends have one, so
    // such content (and content touching a backtick) gets a space of padding.
    let pad = text.starts_with('`')
        || text.ends_with('`')
        || (text.len() >= 2
            && text.starts_with(' ')
            && text.ends_with(' ')
            && !text.chars().all(|c| c == ' '));
    let pad = if pad { " " } else { "" };
    // GitHub splits table cells on `|` before it reads code spans; `\|` is
    // the one escape it honours inside them.
    let body = if in_table {
        text.replace('|', "\\|")
    } else {
        text
    };
    format!("{delimiter}{pad}{body}{pad}{delimiter}")
}

/// Text for inside HTML tags such as `<summary>`, where Markdown is not read.
pub fn html(text: &str) -> String {
    let chars: Vec<char> = clean(text).chars().collect();
    let mut out = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\n' | '\r' => out.push(' '),
            '@' if chars.get(i + 1).is_some_and(|c| c.is_alphanumeric()) => {
                out.push_str("@&#8203;");
            }
            c => out.push(c),
        }
    }
    out
}

/// Escapes what would make a list item's text a block of its own (a nested
/// list, a heading, a thematic break). Elsewhere these characters are plain
/// text, so [`inline`] leaves them alone.
fn block_start_safe(text: &str) -> String {
    if let Some(rest) = text.strip_prefix(['-', '+', '#']) {
        let first = &text[..1];
        return format!("\\{first}{rest}");
    }
    let digits = text.chars().take_while(|c| c.is_ascii_digit()).count();
    if digits > 0 && matches!(text[digits..].chars().next(), Some('.' | ')')) {
        return format!("{}\\{}", &text[..digits], &text[digits..]);
    }
    text.to_string()
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn inline_keeps_code_spans_and_escapes_the_rest() {
        assert_eq!(inline("a `b|c` d|e", true), "a `b\\|c` d\\|e");
        assert_eq!(inline("a `b|c`", false), "a `b|c`");
        assert_eq!(inline("<script>", true), "&lt;script&gt;");
        assert_eq!(inline("`<script>`", true), "`<script>`");
        assert_eq!(inline("__tablename__", false), "\\_\\_tablename\\_\\_");
        assert_eq!(inline("one\ntwo", true), "one<br>two");
        assert_eq!(inline("open ` only", true), "open \\` only");
        assert_eq!(inline("``a ` b``", true), "``a ` b``");
        assert_eq!(inline("```` ``` ````", true), "```` ``` ````");
        assert_eq!(inline("`a``b`", true), "`a``b`");
        assert_eq!(inline("`a\nb`", true), "`a`<br>`b`");
        assert_eq!(inline("ping @octocat", false), "ping @&#8203;octocat");
        assert_eq!(inline("x@ y", false), "x@ y");
    }

    #[test]
    fn code_span_survives_edges() {
        assert_eq!(code_span("a`b", false), "``a`b``");
        assert_eq!(code_span("`a", false), "`` `a ``");
        assert_eq!(code_span(" a ", false), "`  a  `");
        assert_eq!(code_span("a|b", true), "`a\\|b`");
    }

    #[test]
    fn fence_outgrows_backticks_inside() {
        assert_eq!(fenced("x"), "```text\nx\n```\n");
        assert_eq!(fenced("a ```` b\n"), "`````text\na ```` b\n`````\n");
    }

    #[test]
    fn list_items_stay_paragraphs() {
        assert_eq!(block_start_safe("- x"), "\\- x");
        assert_eq!(block_start_safe("# x"), "\\# x");
        assert_eq!(block_start_safe("12. x"), "12\\. x");
        assert_eq!(block_start_safe("12 x"), "12 x");
    }

    #[test]
    fn size_is_the_length_of_what_assemble_builds() {
        let findings = (0..6)
            .map(|i| {
                let f = Finding::warning(crate::rules::Code::Drift, format!("ümlaut ⚠️ {i}"))
                    .at("a.py", Some(i + 1));
                if i % 2 == 0 {
                    f.with_details("x\n```\ny")
                } else {
                    f
                }
            })
            .collect();
        let report = Report::new(findings, &["static"], vec!["a note".to_string()]);
        let parts = Parts::new(&report);
        for rows in 0..=6 {
            for details in 0..=rows {
                for note in [None, Some("**…note**\n")] {
                    let text = parts.assemble(rows, details, note);
                    let size = parts.size(rows, details, note.map_or(0, chars));
                    assert_eq!(chars(&text), size, "{rows} {details} {note:?}");
                }
            }
        }
    }

    #[test]
    fn cut_note_wording() {
        assert_eq!(
            cut_note(1, 0),
            "**…1 more finding not shown; the full report is in the job summary.**\n"
        );
        assert!(cut_note(0, 2).contains("the details of 2 findings are not shown"));
        assert!(cut_note(3, 2).contains("…3 more findings not shown, nor the details of 2 above;"));
    }
}
