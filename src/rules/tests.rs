//! The catalogue against its emitters and its documentation.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::*;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every file under `dir` whose name ends with `ext`, sorted.
fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display()));
        for entry in entries {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.to_string_lossy().ends_with(ext) {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The source without its inline `#[cfg(test)] mod ... {` (by convention
/// the last item of a file): code in tests emits nothing.
fn without_tests(src: &str) -> &str {
    for (i, _) in src.match_indices("#[cfg(test)]\nmod ") {
        let rest = &src[i + "#[cfg(test)]\nmod ".len()..];
        let header = rest.split('\n').next().unwrap_or_default();
        if header.trim_end().ends_with('{') {
            return &src[..i];
        }
    }
    src
}

/// Files that are test modules of their own (`#[cfg(test)] mod cases;`).
fn test_module_files() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for path in files(&root().join("src"), ".rs") {
        let src = std::fs::read_to_string(&path).expect("read source");
        let dir = path.parent().expect("a file has a directory");
        for line in src.split("#[cfg(test)]\n").skip(1) {
            let decl = line.split('\n').next().unwrap_or_default().trim();
            let name = decl
                .trim_start_matches("pub(crate) ")
                .strip_prefix("mod ")
                .and_then(|d| d.strip_suffix(';'));
            if let Some(name) = name {
                out.push(dir.join(format!("{name}.rs")));
            }
        }
    }
    out
}

/// Where Rust code outside the catalogue names `Code::Variant` in non-test
/// code. `emits` is false where it only compares (`finding.is(Code::X)`).
struct RustUse {
    code: Code,
    path: PathBuf,
    emits: bool,
}

fn rust_uses() -> Vec<RustUse> {
    let tests = test_module_files();
    let mut out = Vec::new();
    for path in files(&root().join("src"), ".rs") {
        // The catalogue itself, and test modules kept in files of their own.
        if path == root().join("src/rules/mod.rs") || tests.contains(&path) {
            continue;
        }
        let src = std::fs::read_to_string(&path).expect("read source");
        let src = without_tests(&src);
        for code in Code::ALL {
            let name = format!("Code::{code:?}");
            for (i, _) in src.match_indices(&name) {
                let whole = !src[i + name.len()..]
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_');
                if whole {
                    out.push(RustUse {
                        code: *code,
                        path: path.clone(),
                        emits: !src[..i].trim_end().ends_with(".is("),
                    });
                }
            }
        }
    }
    out
}

/// The string literals in the first argument of each `finding(...)` or
/// `step_failure_finding(...)` call in the helper's Python sources: the
/// codes the helper emits (a conditional first argument names two).
fn helper_codes() -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    for path in files(&root().join("src/job"), ".py") {
        let src = std::fs::read_to_string(&path).expect("read helper");
        for (i, _) in src.match_indices("finding(") {
            let start = i - if src[..i].ends_with("step_failure_") {
                "step_failure_".len()
            } else {
                0
            };
            // `def finding(`, `obj.finding(` and `other_finding(` are no calls
            // of the helper's finding constructors.
            let joined = src[..start]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.');
            if joined || src[..start].ends_with("def ") {
                continue;
            }
            let args = &src[i + "finding(".len()..];
            let mut depth = 0usize;
            let mut end = args.len();
            for (j, c) in args.char_indices() {
                match c {
                    '(' | '[' | '{' => depth += 1,
                    ')' | ']' | '}' if depth == 0 => {
                        end = j;
                        break;
                    }
                    ')' | ']' | '}' => depth -= 1,
                    ',' if depth == 0 => {
                        end = j;
                        break;
                    }
                    _ => {}
                }
            }
            for literal in string_literals(&args[..end]) {
                out.push((literal, path.clone()));
            }
        }
    }
    out
}

fn string_literals(expr: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = expr;
    while let Some(start) = rest.find(['"', '\'']) {
        let quote = rest.as_bytes()[start] as char;
        let body = &rest[start + 1..];
        let Some(len) = body.find(quote) else { break };
        out.push(body[..len].to_string());
        rest = &body[len + 1..];
    }
    out
}

#[test]
fn rules_follow_the_codes() {
    assert_eq!(RULES.len(), Code::ALL.len());
    for (rule, code) in RULES.iter().zip(Code::ALL) {
        assert_eq!(rule.code, *code, "RULES must list the codes in order");
        assert!(rule.summary.ends_with('.'), "{code}");
        assert!(!rule.explanation.is_empty(), "{code}");
        assert!(!rule.severities.is_empty(), "{code}");
        assert_eq!(code.rule().code, *code);
        assert_eq!(code.as_str().parse::<Code>(), Ok(*code));
    }
    assert_eq!(
        "missing-migrations".parse::<Code>(),
        Err(UnknownCode("missing-migrations".into()))
    );
}

#[test]
fn every_static_code_has_a_rust_emitter_in_its_home() {
    let uses = rust_uses();
    for rule in RULES.iter().filter(|r| r.stage.is_static()) {
        let home = root().join(rule.home);
        assert!(
            uses.iter()
                .any(|u| u.emits && u.code == rule.code && u.path == home),
            "{} is a static rule but {} does not emit it",
            rule.code,
            rule.home
        );
    }
}

#[test]
fn rust_makes_findings_only_in_rule_files_and_only_static_ones() {
    // Elsewhere code may compare findings by code (verify folds drift, a PR
    // label waives missing-migration), but it makes none.
    for u in rust_uses().into_iter().filter(|u| u.emits) {
        assert!(
            u.path.starts_with(root().join("src/rules")),
            "{} names {} outside a comparison; findings are made in src/rules/",
            u.path.display(),
            u.code
        );
        assert!(
            u.code.rule().stage.is_static(),
            "{} emits {}, which the catalogue calls dynamic",
            u.path.display(),
            u.code
        );
    }
}

#[test]
fn the_helper_emits_every_dynamic_code_and_only_declared_codes() {
    let emitted = helper_codes();
    assert!(
        !emitted.is_empty(),
        "no finding(...) calls found under src/job/: has the helper renamed `finding`?"
    );
    let mut seen = BTreeSet::new();
    for (literal, path) in &emitted {
        let code: Code = literal.parse().unwrap_or_else(|_| {
            panic!(
                "{} emits `{literal}`, which is not declared in src/rules/mod.rs",
                path.display()
            )
        });
        assert!(
            code.rule().stage.is_dynamic(),
            "{} emits {code}, which the catalogue calls static",
            path.display()
        );
        seen.insert(code);
    }
    for rule in RULES.iter().filter(|r| r.stage.is_dynamic()) {
        assert!(
            seen.contains(&rule.code),
            "{} is a dynamic rule but the helper never emits it",
            rule.code
        );
    }
}

#[test]
fn every_home_exists() {
    for rule in RULES {
        assert!(root().join(rule.home).exists(), "{}", rule.home);
    }
}

#[test]
fn readme_table_is_the_catalogue() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let table = readme_table();
    assert!(
        readme.contains(&table),
        "README.md's table under \"What it finds\" differs from src/rules/mod.rs; replace it \
         with:\n\n{table}"
    );
}

#[test]
fn string_literals_of_an_expression() {
    assert_eq!(
        string_literals("\"upgrade-failed\" if up else 'downgrade-failed'"),
        ["upgrade-failed", "downgrade-failed"]
    );
    assert!(string_literals("code").is_empty());
}

#[test]
fn pascal_case_joins_words() {
    assert_eq!(pascal_case("missing-migration"), "MissingMigration");
    assert_eq!(pascal_case("drift"), "Drift");
    assert_eq!(
        pascal_case("not-null-without-default"),
        "NotNullWithoutDefault"
    );
    assert_eq!(pascal_case("a--b"), "AB");
}
