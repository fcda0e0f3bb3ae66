//! `--format sarif`: SARIF 2.1.0 in the subset GitHub code scanning reads
//! ("SARIF support for code scanning" in GitHub's docs).
//!
//! Choices GitHub's ingestion forces, and what this renderer does:
//!
//! - **Every result needs a location.** GitHub marks `locations[]` required
//!   and rejects the *whole* upload ("locationFromSarifResult: expected at
//!   least one location") if one result has none, although SARIF itself
//!   allows it (§3.27.12). A finding without a file (multiple heads, a
//!   failed upgrade) is anchored to its environment's file from
//!   [`RenderOptions::environment_files`] (its `alembic.ini`), else to
//!   [`RenderOptions::fallback_file`]. Dropping such findings would hide the
//!   most serious ones. Only when the caller knows no file at all is the
//!   result left without a location: valid SARIF, but GitHub will refuse it,
//!   so callers uploading to GitHub must set a fallback.
//! - **Every location needs `region.startLine`.** GitHub's table marks it
//!   required (the Microsoft validator's GitHub rule GH1003 enforces it). A
//!   finding with a file but no line (an edited migration) points at line 1,
//!   as the whole file; its own examples show `startLine` alone is enough,
//!   so no columns are invented.
//! - **Fingerprints.** GitHub matches results across runs only by
//!   `partialFingerprints.primaryLocationLineHash`. Ours is an FNV-1a 64 hash
//!   of code, file and message (not of the line's text, which alembot does
//!   not read here), so an alert survives lines moving above it, with a
//!   `:n` occurrence suffix as CodeQL writes it, so two equal findings in
//!   one file stay two alerts.
//! - **Rules** need `shortDescription`, `fullDescription` and `help` text;
//!   they come from [`crate::rules`], so they do not change between runs.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value, json};

use crate::findings::{Finding, Report, Severity};

use super::RenderOptions;
use crate::rules;

pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";
pub const SARIF_VERSION: &str = "2.1.0";
/// The base every artifact URI is relative to: the repository root.
pub const SOURCE_ROOT: &str = "%SRCROOT%";
/// Where people learn what alembot is (SARIF `informationUri`).
pub const INFORMATION_URI: &str = env!("CARGO_PKG_REPOSITORY");

pub fn render(report: &Report, opts: &RenderOptions) -> String {
    let value = to_value(report, opts);
    // A `Value` built from strings and numbers always serialises.
    let mut out = serde_json::to_string_pretty(&value).expect("a JSON value always serialises");
    out.push('\n');
    out
}

/// The SARIF log as a JSON value.
pub fn to_value(report: &Report, opts: &RenderOptions) -> Value {
    // One rule per distinct code, in order of first use, so `ruleIndex`
    // follows the report's own order.
    let mut rule_order: Vec<&str> = Vec::new();
    let mut rule_level: HashMap<&str, Severity> = HashMap::new();
    for f in &report.findings {
        match rule_level.get_mut(f.code.as_str()) {
            Some(level) => *level = (*level).max(f.severity),
            None => {
                rule_order.push(&f.code);
                rule_level.insert(&f.code, f.severity);
            }
        }
    }
    let rule_index: HashMap<&str, usize> = rule_order
        .iter()
        .enumerate()
        .map(|(i, code)| (*code, i))
        .collect();

    let rules: Vec<Value> = rule_order
        .iter()
        .map(|code| rule(code, rule_level[code]))
        .collect();

    let mut occurrences: HashMap<u64, usize> = HashMap::new();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let hash = fingerprint(f);
            let n = occurrences.entry(hash).or_insert(0);
            *n += 1;
            result(f, rule_index[f.code.as_str()], hash, *n, opts)
        })
        .collect();

    let mut run = Map::new();
    run.insert(
        "tool".into(),
        json!({
            "driver": {
                "name": "alembot",
                "informationUri": INFORMATION_URI,
                "semanticVersion": opts.tool_version,
                "rules": rules,
            }
        }),
    );
    if let Some(root) = &opts.source_root_uri {
        run.insert(
            "originalUriBaseIds".into(),
            json!({ SOURCE_ROOT: { "uri": root } }),
        );
    }
    run.insert("results".into(), Value::Array(results));

    json!({
        "$schema": SCHEMA_URI,
        "version": SARIF_VERSION,
        "runs": [Value::Object(run)],
    })
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Notice => "note",
    }
}

/// `defaultConfiguration.level` is the most severe level the code has in
/// this report: a rule's own default is the checks' business, not ours.
fn rule(code: &str, worst: Severity) -> Value {
    let text = match rules::lookup(code) {
        Some(info) => info.summary.to_string(),
        // A code from a newer alembot: GitHub rejects empty descriptions.
        None => format!("alembot finding `{code}`."),
    };
    json!({
        "id": code,
        "name": rules::pascal_case(code),
        "shortDescription": { "text": text },
        "fullDescription": { "text": text },
        "help": { "text": text },
        "defaultConfiguration": { "level": level(worst) },
    })
}

fn result(
    f: &Finding,
    rule_index: usize,
    hash: u64,
    occurrence: usize,
    opts: &RenderOptions,
) -> Value {
    let mut text = f.message.clone();
    if let Some(help) = &f.help {
        text.push_str("\n\n");
        text.push_str(help);
    }

    let mut result = Map::new();
    result.insert("ruleId".into(), json!(f.code));
    result.insert("ruleIndex".into(), json!(rule_index));
    result.insert("level".into(), json!(level(f.severity)));
    result.insert("message".into(), json!({ "text": text }));
    if let Some(uri) = anchor(f, opts) {
        // Line 1 stands for the whole file (see the module comment).
        let line = f.file.as_ref().and(f.line).unwrap_or(1).max(1);
        result.insert(
            "locations".into(),
            json!([{
                "physicalLocation": {
                    "artifactLocation": { "uri": encode_uri_path(uri), "uriBaseId": SOURCE_ROOT },
                    "region": { "startLine": line },
                }
            }]),
        );
    }
    result.insert(
        "partialFingerprints".into(),
        json!({ "primaryLocationLineHash": format!("{hash:016x}:{occurrence}") }),
    );

    // Ignored by GitHub, kept for other SARIF readers.
    let mut properties = BTreeMap::new();
    for (key, value) in [
        ("environment", &f.environment),
        ("table", &f.table),
        ("column", &f.column),
        ("revision", &f.revision),
        ("details", &f.details),
    ] {
        if let Some(value) = value {
            properties.insert(key, value.clone());
        }
    }
    if !properties.is_empty() {
        result.insert("properties".into(), json!(properties));
    }
    Value::Object(result)
}

/// The file a result is shown in: its own, its environment's, or the
/// fallback.
fn anchor<'a>(f: &'a Finding, opts: &'a RenderOptions) -> Option<&'a str> {
    f.file
        .as_deref()
        .filter(|file| !file.is_empty())
        .or_else(|| {
            f.environment
                .as_ref()
                .and_then(|env| opts.environment_files.get(env))
                .map(String::as_str)
        })
        .or(opts.fallback_file.as_deref())
        .filter(|file| !file.is_empty())
}

/// FNV-1a 64 of code, file and message: the same on every machine and in
/// every build, unlike std's randomly seeded hasher.
pub fn fingerprint(f: &Finding) -> u64 {
    let mut hash = Fnv1a64::new();
    hash.write(f.code.as_bytes());
    hash.write(&[0]);
    hash.write(f.file.as_deref().unwrap_or("").as_bytes());
    hash.write(&[0]);
    hash.write(f.message.as_bytes());
    hash.finish()
}

/// The 64-bit FNV-1a hash (Fowler, Noll, Vo).
#[derive(Debug, Clone, Copy)]
pub struct Fnv1a64(u64);

impl Fnv1a64 {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;

    pub fn new() -> Self {
        Fnv1a64(Self::OFFSET_BASIS)
    }

    pub fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(Self::PRIME);
        }
    }

    pub fn finish(self) -> u64 {
        self.0
    }
}

impl Default for Fnv1a64 {
    fn default() -> Self {
        Self::new()
    }
}

/// A repository path as a relative URI reference: `/` stays, unreserved
/// and sub-delimiter characters stay, everything else (spaces, `%`, `#`,
/// `?`, non-ASCII) is percent-encoded as UTF-8, as CodeQL writes its paths.
pub fn encode_uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for &b in path.as_bytes() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'/' | b'-'
                    | b'.'
                    | b'_'
                    | b'~'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b'@'
            );
        if keep {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Checks a SARIF log against the properties SARIF 2.1.0's schema requires
/// and those GitHub's code scanning documents as required, returning one
/// message per violation. Written by hand (no schema download) for tests and
/// for anyone who wants to check a file before uploading it.
pub fn validate(log: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    let mut err = |path: &str, what: &str| errors.push(format!("{path}: {what}"));

    match log.get("$schema").and_then(Value::as_str) {
        Some(s) if !s.is_empty() => {}
        _ => err("$schema", "required by GitHub, a non-empty string"),
    }
    if log.get("version").and_then(Value::as_str) != Some(SARIF_VERSION) {
        err("version", "must be \"2.1.0\"");
    }
    let Some(runs) = log.get("runs").and_then(Value::as_array) else {
        err("runs", "required, an array");
        return errors;
    };
    for (r, run) in runs.iter().enumerate() {
        let at = format!("runs[{r}]");
        let driver = run.pointer("/tool/driver");
        let Some(driver) = driver.filter(|d| d.is_object()) else {
            err(&at, "tool.driver is required");
            continue;
        };
        if !non_empty_str(driver.get("name")) {
            err(&format!("{at}.tool.driver.name"), "required, non-empty");
        }
        let rules = match driver.get("rules").and_then(Value::as_array) {
            Some(rules) => rules.as_slice(),
            None => {
                err(&format!("{at}.tool.driver.rules"), "required by GitHub");
                &[]
            }
        };
        let mut ids = std::collections::BTreeSet::new();
        for (i, rule) in rules.iter().enumerate() {
            let at = format!("{at}.tool.driver.rules[{i}]");
            match rule.get("id").and_then(Value::as_str) {
                Some(id) if !id.is_empty() => {
                    if !ids.insert(id.to_string()) {
                        err(&at, "duplicate rule id");
                    }
                }
                _ => err(&format!("{at}.id"), "required, non-empty"),
            }
            if let Some(name) = rule.get("name")
                && name.as_str().is_none_or(|n| n.chars().count() > 255)
            {
                err(&format!("{at}.name"), "a string of at most 255 characters");
            }
            for (field, limit) in [
                ("shortDescription", Some(1024)),
                ("fullDescription", Some(1024)),
                ("help", None),
            ] {
                match rule
                    .pointer(&format!("/{field}/text"))
                    .and_then(Value::as_str)
                {
                    Some(t) if !t.is_empty() => {
                        if limit.is_some_and(|l| t.chars().count() > l) {
                            err(&format!("{at}.{field}.text"), "longer than GitHub allows");
                        }
                    }
                    _ => err(&format!("{at}.{field}.text"), "required by GitHub"),
                }
            }
            if let Some(level) = rule.pointer("/defaultConfiguration/level")
                && !matches!(level.as_str(), Some("note" | "warning" | "error"))
            {
                err(
                    &format!("{at}.defaultConfiguration.level"),
                    "one of note, warning, error",
                );
            }
        }

        let Some(results) = run.get("results").and_then(Value::as_array) else {
            err(&format!("{at}.results"), "required by GitHub, an array");
            continue;
        };
        for (i, result) in results.iter().enumerate() {
            let at = format!("{at}.results[{i}]");
            if !non_empty_str(result.pointer("/message/text")) {
                err(&format!("{at}.message.text"), "required, non-empty");
            }
            if let Some(level) = result.get("level")
                && !matches!(level.as_str(), Some("none" | "note" | "warning" | "error"))
            {
                err(&format!("{at}.level"), "one of none, note, warning, error");
            }
            let rule_id = result.get("ruleId").and_then(Value::as_str);
            if let Some(index) = result.get("ruleIndex") {
                let rule = index
                    .as_u64()
                    .and_then(|i| usize::try_from(i).ok())
                    .and_then(|i| rules.get(i));
                match rule {
                    Some(rule) if rule.get("id").and_then(Value::as_str) == rule_id => {}
                    _ => err(
                        &format!("{at}.ruleIndex"),
                        "must index the rule named by ruleId",
                    ),
                }
            } else if let Some(id) = rule_id
                && !ids.contains(id)
            {
                err(&format!("{at}.ruleId"), "names no rule");
            }
            match result.get("locations").and_then(Value::as_array) {
                Some(locations) if !locations.is_empty() && locations.len() <= 10 => {
                    for (l, location) in locations.iter().enumerate() {
                        validate_location(location, &format!("{at}.locations[{l}]"), &mut err);
                    }
                }
                _ => err(
                    &format!("{at}.locations"),
                    "GitHub requires 1 to 10 locations",
                ),
            }
            if !non_empty_str(result.pointer("/partialFingerprints/primaryLocationLineHash")) {
                err(
                    &format!("{at}.partialFingerprints.primaryLocationLineHash"),
                    "required by GitHub (the only fingerprint it reads)",
                );
            }
        }
    }
    errors
}

fn validate_location(location: &Value, at: &str, err: &mut impl FnMut(&str, &str)) {
    let Some(physical) = location.get("physicalLocation") else {
        err(at, "physicalLocation is required by GitHub");
        return;
    };
    match physical
        .pointer("/artifactLocation/uri")
        .and_then(Value::as_str)
    {
        Some(uri) if !uri.is_empty() => {
            // Relative (to the repository) or `file:`; GitHub refuses other
            // schemes ("unrecognized SARIF location URI scheme").
            let scheme = uri.split_once(':').map(|(s, _)| s).filter(|s| {
                !s.is_empty() && !s.contains('/') && s.chars().all(|c| c.is_ascii_alphanumeric())
            });
            if scheme.is_some_and(|s| s != "file") {
                err(
                    &format!("{at}.physicalLocation.artifactLocation.uri"),
                    "must be repository-relative or file:",
                );
            }
            if uri.contains(' ') || uri.contains('\\') {
                err(
                    &format!("{at}.physicalLocation.artifactLocation.uri"),
                    "not a valid URI reference",
                );
            }
        }
        _ => err(
            &format!("{at}.physicalLocation.artifactLocation.uri"),
            "required by GitHub, non-empty",
        ),
    }
    match physical
        .pointer("/region/startLine")
        .and_then(Value::as_u64)
    {
        Some(line) if line >= 1 => {}
        _ => err(
            &format!("{at}.physicalLocation.region.startLine"),
            "required by GitHub, an integer >= 1",
        ),
    }
}

fn non_empty_str(value: Option<&Value>) -> bool {
    value.and_then(Value::as_str).is_some_and(|s| !s.is_empty())
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn fnv1a_64_matches_reference_vectors() {
        // From the FNV reference test suite.
        let hash = |s: &str| {
            let mut h = Fnv1a64::new();
            h.write(s.as_bytes());
            h.finish()
        };
        assert_eq!(hash(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(hash("a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(hash("foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn uri_paths_are_encoded() {
        assert_eq!(encode_uri_path("app/models.py"), "app/models.py");
        assert_eq!(encode_uri_path("my app/a#b.py"), "my%20app/a%23b.py");
        assert_eq!(encode_uri_path("é.py"), "%C3%A9.py");
        assert_eq!(encode_uri_path("100%.py"), "100%25.py");
    }
}
