//! Credentials never reach output: every text alembot prints, writes or
//! posts passes through [`redact`] first.
//!
//! Pure code. It knows the credential forms of SQLAlchemy and libpq URLs:
//! the password in a URL's userinfo (`user:pa@ss@host`, where the last `@`
//! before the host ends it, so a raw `@`, `:` or `/` in the password is
//! covered), `password=` style keys in a query string, a libpq
//! `key=value` connection string (quoted or not), an environment
//! assignment (`PGPASSWORD=...`) and a Python repr (`'password': '...'`).
//! It errs on the side of hiding too much: a value runs to the next
//! whitespace, so a password with `&`, `;` or a quote in it is hidden whole.
//! On top of the forms, the passwords of the URLs alembot was given are
//! registered ([`register_url`]) and hidden wherever they appear verbatim,
//! whatever text a driver wrapped them in.

use std::borrow::Cow;
use std::sync::{LazyLock, Mutex};

use regex::{Captures, Regex};

use crate::findings::Report;

/// What a hidden value shows as.
pub const MASK: &str = "***";

/// `scheme://` then the rest of the whitespace-delimited token.
static URL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b([A-Za-z][A-Za-z0-9+.\-]*://)(\S+)").expect("valid URL pattern")
});

/// A credential key: `password`, `sslpassword`, `PGPASSWORD`, `db_passwd`,
/// `pwd`, `secret`, `token`, `api_key` ... with `=` (query strings, libpq,
/// environment) or, quoted, with `:` (a Python or JSON mapping).
const KEY: &str = r"[A-Za-z0-9_\-]*(?:password|passwd|pwd|secret|token|api_?key)";
const VALUE: &str = r#"'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|\S+"#;

static ASSIGNED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(r"(?i)(\b{KEY}\s*=\s*)({VALUE})")).expect("valid key pattern")
});

static MAPPED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(r#"(?i)(['"]{KEY}['"]\s*:\s*)({VALUE})"#)).expect("valid mapping pattern")
});

/// Passwords of the URLs alembot was given, hidden wherever they appear.
/// Process-wide because output is made in many places (reports, errors,
/// logs, GitHub calls) and each must hide the same secrets.
static KNOWN: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Shorter known secrets are not replaced verbatim: `abc` would mangle
/// ordinary words. The URL forms above still hide them in place.
const MIN_KNOWN_LEN: usize = 4;

/// Registers the credentials of `url` (userinfo password and credential
/// query values, raw and percent-decoded) as known secrets.
pub fn register_url(url: &str) {
    let mut found = Vec::new();
    if let Some(caps) = URL.captures(url) {
        let rest = &caps[2];
        if let Some(at) = rest.rfind('@') {
            if let Some((_, password)) = rest[..at].split_once(':') {
                found.push(password.to_string());
                // A driver may split `pa@ss` at its first `@` and quote the
                // rest as a host name (`could not translate host name
                // "ss@db"`): each piece is a secret of its own.
                if password.contains('@') {
                    found.extend(password.split('@').map(str::to_string));
                }
            }
        }
    }
    for caps in ASSIGNED.captures_iter(url) {
        let value = caps[2].trim_matches(['\'', '"']);
        // The query value runs to the next `&` in a well-formed URL.
        found.push(value.split('&').next().unwrap_or(value).to_string());
    }
    let mut known = match KNOWN.lock() {
        Ok(k) => k,
        Err(poisoned) => poisoned.into_inner(),
    };
    for secret in found {
        let decoded = percent_decode(&secret);
        for s in [secret, decoded] {
            if s.len() >= MIN_KNOWN_LEN && !known.contains(&s) {
                known.push(s);
            }
        }
    }
    // Longest first, so a secret that contains another is hidden whole.
    known.sort_by_key(|s| std::cmp::Reverse(s.len()));
}

/// `text` with every credential it carries replaced by `***`.
pub fn redact(text: &str) -> Cow<'_, str> {
    let mut out = Cow::Borrowed(text);
    let known = match KNOWN.lock() {
        Ok(k) => k.clone(),
        Err(poisoned) => poisoned.into_inner().clone(),
    };
    for secret in &known {
        if out.contains(secret.as_str()) {
            if let Some(replaced) = replace_whole(&out, secret) {
                out = Cow::Owned(replaced);
            }
        }
    }
    // Keyed values first: a raw `@` in a query password would otherwise
    // look like the end of the userinfo, and hide the key that marks it.
    if let Cow::Owned(s) = replace(&out, &ASSIGNED, value) {
        out = Cow::Owned(s);
    }
    if let Cow::Owned(s) = replace(&out, &MAPPED, value) {
        out = Cow::Owned(s);
    }
    if let Cow::Owned(s) = replace(&out, &URL, userinfo) {
        out = Cow::Owned(s);
    }
    out
}

/// `text` with each whole occurrence of `secret` masked, `None` when there
/// is none. Whole means not part of a longer word: a password that is also
/// a word of the output (`postgres`, `alembot`) must not mangle
/// `postgresql://` or a temporary path, while a password a driver quotes
/// (`"pa55word"`, `(pa55word)`) is still hidden.
fn replace_whole(text: &str, secret: &str) -> Option<String> {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let starts_word = secret.chars().next().is_some_and(is_word);
    let ends_word = secret.chars().next_back().is_some_and(is_word);
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    let mut changed = false;
    for (at, _) in text.match_indices(secret) {
        if at < last {
            continue;
        }
        let end = at + secret.len();
        let before_ok = !starts_word || !text[..at].chars().next_back().is_some_and(is_word);
        let after_ok = !ends_word || !text[end..].chars().next().is_some_and(is_word);
        if before_ok && after_ok {
            out.push_str(&text[last..at]);
            out.push_str(MASK);
            last = end;
            changed = true;
        }
    }
    if !changed {
        return None;
    }
    out.push_str(&text[last..]);
    Some(out)
}

/// `report` with every text it carries redacted: what every renderer
/// starts from, so no format (terminal, JSON, Markdown, SARIF, workflow
/// commands, the pull-request comment) can show a credential, even in a
/// saved report written by an older alembot.
pub fn redact_report(report: &Report) -> Cow<'_, Report> {
    let mut out: Option<Report> = None;
    let mut fix = |get: &dyn Fn(&Report) -> Option<&str>, set: &dyn Fn(&mut Report, String)| {
        let current = out.as_ref().unwrap_or(report);
        if let Some(Cow::Owned(clean)) = get(current).map(redact) {
            let r = out.get_or_insert_with(|| report.clone());
            set(r, clean);
        }
    };
    for i in 0..report.notes.len() {
        fix(&|r| r.notes.get(i).map(String::as_str), &|r, s| {
            r.notes[i] = s
        });
    }
    for i in 0..report.findings.len() {
        fix(&|r| Some(r.findings[i].message.as_str()), &|r, s| {
            r.findings[i].message = s
        });
        fix(&|r| r.findings[i].help.as_deref(), &|r, s| {
            r.findings[i].help = Some(s)
        });
        fix(&|r| r.findings[i].details.as_deref(), &|r, s| {
            r.findings[i].details = Some(s)
        });
        fix(&|r| r.findings[i].operation.as_deref(), &|r, s| {
            r.findings[i].operation = Some(s)
        });
    }
    match out {
        Some(r) => Cow::Owned(r),
        None => Cow::Borrowed(report),
    }
}

/// Like [`redact`], for an owned string.
pub fn redact_string(text: String) -> String {
    match redact(&text) {
        Cow::Borrowed(_) => text,
        Cow::Owned(s) => s,
    }
}

fn replace<'t>(text: &'t str, re: &Regex, f: fn(&Captures<'_>) -> String) -> Cow<'t, str> {
    let replaced = re.replace_all(text, f);
    if replaced == text {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(replaced.into_owned())
    }
}

/// `scheme://user:secret@host...` → `scheme://user:***@host...`. The userinfo
/// ends at the token's last `@`: a password may hold a raw `@`, `/` or `?`,
/// and hiding a host by mistake is better than showing a password.
fn userinfo(caps: &Captures<'_>) -> String {
    let scheme = &caps[1];
    let rest = &caps[2];
    let Some(at) = rest.rfind('@') else {
        return caps[0].to_string();
    };
    let (auth, host) = rest.split_at(at);
    match auth.split_once(':') {
        Some((user, password)) if password != MASK => format!("{scheme}{user}:{MASK}{host}"),
        _ => caps[0].to_string(),
    }
}

fn value(caps: &Captures<'_>) -> String {
    let v = &caps[2];
    let masked = match v.chars().next() {
        Some(q @ ('\'' | '"')) if v.len() >= 2 && v.ends_with(q) => format!("{q}{MASK}{q}"),
        _ => MASK.to_string(),
    };
    if v == masked {
        return caps[0].to_string();
    }
    format!("{}{masked}", &caps[1])
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((hi * 16 + lo) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_listed_forms() {
        let cases = [
            (
                "postgresql://app:s3cr@t@db:5432/x",
                "postgresql://app:***@db:5432/x",
            ),
            ("postgresql://app@db/x", "postgresql://app@db/x"),
            ("sqlite:///tmp/a.db", "sqlite:///tmp/a.db"),
            (
                "postgresql://u@h/db?password=hunter2&sslmode=require",
                "postgresql://u@h/db?password=***",
            ),
            (
                "host=h password='a b' dbname=x",
                "host=h password='***' dbname=x",
            ),
            ("PGPASSWORD=hunter2 psql", "PGPASSWORD=*** psql"),
            (
                "connect_args={'password': 'hunter2'}",
                "connect_args={'password': '***'}",
            ),
            (
                "cannot connect to mysql+pymysql://root:***@h/",
                "cannot connect to mysql+pymysql://root:***@h/",
            ),
            (
                "password authentication failed for user \"app\"",
                "password authentication failed for user \"app\"",
            ),
        ];
        for (given, want) in cases {
            assert_eq!(redact(given), want, "{given}");
        }
    }

    #[test]
    fn registered_secrets_are_hidden_anywhere() {
        register_url("postgresql://u:Reg%2Fistered1@h/db");
        let text = "driver said: bad password Reg/istered1 (Reg%2Fistered1)";
        let out = redact(text);
        assert!(!out.contains("istered1"), "{out}");
    }

    #[test]
    fn a_password_that_is_also_a_word_leaves_longer_words_alone() {
        register_url("postgresql://postgres:postgres@localhost:5432/app");
        let out = redact("ran on postgresql at /tmp/postgres_x; password postgres rejected");
        assert!(
            out.contains("ran on postgresql at /tmp/postgres_x"),
            "{out}"
        );
        assert!(out.contains("password *** rejected"), "{out}");
    }

    /// Fuzz-style: random passwords of every character a URL may carry,
    /// in every credential form, embedded in the kinds of text drivers and
    /// alembot print. Each password is made of `QZ`-marked pieces between
    /// separators, so a partial leak (`pa@ss` cut at the first `@`) shows.
    #[test]
    fn no_credential_form_leaks() {
        const SPECIAL: &[char] = &[
            '@', ':', '/', '?', '#', '&', '=', '%', ';', '\'', '"', '!', '$', '(', ')', '*', '+',
            ',', '[', ']', '~', '.', '-', '_', '\\',
        ];
        let mut rng = fastrand::Rng::with_seed(0x5ec7e7);
        let alnum: Vec<char> = ('A'..='Z').chain('0'..='9').collect();
        for round in 0..5000 {
            let pieces = 1 + rng.usize(..4);
            let mut pw = String::new();
            for i in 0..pieces {
                if i > 0 {
                    pw.push(SPECIAL[rng.usize(..SPECIAL.len())]);
                }
                pw.push_str("QZ");
                for _ in 0..rng.usize(1..5) {
                    pw.push(alnum[rng.usize(..alnum.len())]);
                }
            }
            let encoded = encode(&pw);
            let scheme = [
                "postgresql",
                "postgresql+psycopg2",
                "postgresql+asyncpg",
                "postgres",
                "mysql+pymysql",
                "mariadb+mariadbconnector",
                "mssql+pyodbc",
            ][rng.usize(..7)];
            let host = ["db", "db:5432", "10.0.0.1:3306", "[::1]:5432", ""][rng.usize(..5)];
            let key = [
                "password",
                "PASSWORD",
                "Password",
                "sslpassword",
                "passwd",
                "pwd",
                "PGPASSWORD",
                "db_password",
            ][rng.usize(..8)];
            let quoted = pw.replace('\\', "\\\\").replace('\'', "\\'");
            let form = match rng.usize(..8) {
                0 => format!("{scheme}://app:{pw}@{host}/shop"),
                1 => format!("{scheme}://app:{encoded}@{host}/shop?sslmode=require"),
                2 => format!("{scheme}://:{pw}@{host}"),
                3 => format!("{scheme}://app@{host}/shop?{key}={encoded}&x=1"),
                4 => format!("{scheme}://app@{host}/shop?charset=utf8&{key}={pw}"),
                5 => format!("host={host} port=5432 {key}='{quoted}' dbname=shop"),
                6 => format!("{key}={pw} alembic upgrade head"),
                _ => format!("create_engine(url, connect_args={{'{key}': '{quoted}'}})"),
            };
            let text = match rng.usize(..6) {
                0 => form.clone(),
                1 => format!("cannot connect to {form}: timeout expired"),
                2 => format!("Could not parse SQLAlchemy URL from string '{form}'"),
                3 => format!("(psycopg2.OperationalError) \"{form}\"\n  next line"),
                4 => format!("| `{form}` |"),
                _ => format!("({form})"),
            };
            let out = redact(&text);
            assert!(
                !out.contains("QZ"),
                "round {round}: a password leaked\n  text: {text}\n  out:  {out}"
            );
        }
    }

    fn encode(s: &str) -> String {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    }
}
