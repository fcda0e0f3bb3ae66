//! alembot's lexer against CPython's tokenizer: the same significant tokens
//! (names, numbers, strings, operators, NEWLINE, INDENT, DEDENT), on a
//! generated corpus of black/ruff-formatted constructs always, and on every
//! Python file of the field projects at their pinned heads when the
//! snapshots are present (`ALEMBOT_FIELD_MIRRORS`, default /work/.mirror).

use std::path::{Path, PathBuf};
use std::process::Command;

use alembot::python::lexer::{Kind, tokenize};

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// CPython's tokens for each file `pytokens.py` accepts (those `ast.parse` accepts).
fn reference(args: &[&str]) -> Vec<serde_json::Value> {
    let out = Command::new("python3")
        .arg(repo_root().join("tests/field/pytokens.py"))
        .args(args)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "pytokens.py {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("JSON lines are UTF-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

fn ours(src: &str) -> Result<Vec<(String, String, u64)>, String> {
    let lexed = tokenize(src);
    if let Some(e) = lexed.errors.first() {
        return Err(format!("{}:{}: {}", e.line, e.col, e.message));
    }
    Ok(lexed
        .tokens
        .iter()
        .filter_map(|t| {
            let kind = match t.kind {
                Kind::Name => "NAME",
                Kind::Number => "NUMBER",
                Kind::Str => "STRING",
                Kind::Op => "OP",
                Kind::Newline => "NEWLINE",
                Kind::Indent => "INDENT",
                Kind::Dedent => "DEDENT",
                Kind::Error => "ERROR",
                Kind::Comment | Kind::Nl => return None,
            };
            let text = if matches!(t.kind, Kind::Newline | Kind::Indent | Kind::Dedent) {
                String::new()
            } else {
                t.text.to_string()
            };
            Some((kind.to_string(), text, u64::from(t.line)))
        })
        .collect())
}

/// The first disagreement with CPython for one file, if any. Lines are
/// compared for tokens with text; INDENT/DEDENT/NEWLINE by order only
/// (CPython dates a final DEDENT one line past the end).
fn disagreement(entry: &serde_json::Value) -> Option<String> {
    let path = entry["path"].as_str().unwrap_or("?");
    let src = entry["src"].as_str().unwrap_or_default();
    let expected: Vec<(String, String, u64)> = entry["tokens"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            (
                t[0].as_str().unwrap_or_default().to_string(),
                t[1].as_str().unwrap_or_default().to_string(),
                t[2].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    let got = match ours(src) {
        Ok(got) => got,
        Err(e) => return Some(format!("{path}: lexer error on a file Python accepts: {e}")),
    };
    for (i, (e, g)) in expected.iter().zip(&got).enumerate() {
        let same_line = e.1.is_empty() || e.2 == g.2;
        if e.0 != g.0 || e.1 != g.1 || !same_line {
            return Some(format!("{path}: token {i}: CPython {e:?}, alembot {g:?}"));
        }
    }
    (expected.len() != got.len()).then(|| {
        format!(
            "{path}: CPython has {} tokens, alembot {}",
            expected.len(),
            got.len()
        )
    })
}

#[test]
fn lexer_agrees_with_cpython_on_formatted_corpus() {
    let entries = reference(&["--corpus"]);
    assert!(
        entries.len() >= 200,
        "the corpus has {} files",
        entries.len()
    );
    let wrong: Vec<String> = entries.iter().filter_map(disagreement).collect();
    assert!(
        wrong.is_empty(),
        "{} files differ:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn lexer_agrees_with_cpython_on_field_projects() {
    let mirrors = std::env::var("ALEMBOT_FIELD_MIRRORS").unwrap_or_else(|_| "/work/.mirror".into());
    let projects: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("tests/field/projects.json"))
            .expect("tests/field/projects.json"),
    )
    .expect("projects.json is JSON");
    let mut checked = 0;
    let mut wrong = Vec::new();
    for project in projects["projects"].as_array().into_iter().flatten() {
        let repo = project["repo"]
            .as_str()
            .unwrap_or_default()
            .replace('/', "+");
        let snapshot = Path::new(&mirrors).join(repo).join("repo");
        let head = project["head"].as_str().unwrap_or_default();
        if !snapshot.exists() {
            eprintln!(
                "lexer field test: SKIPPED {}: no snapshot at {}",
                project["name"],
                snapshot.display()
            );
            continue;
        }
        let snapshot = snapshot.to_string_lossy().into_owned();
        for entry in reference(&["--git", &snapshot, head]) {
            checked += 1;
            if let Some(w) = disagreement(&entry) {
                wrong.push(format!("{}: {w}", project["name"]));
            }
        }
    }
    if checked == 0 {
        eprintln!(
            "lexer field test: SKIPPED: no field snapshot present (set ALEMBOT_FIELD_MIRRORS)"
        );
        return;
    }
    eprintln!(
        "lexer field test: {checked} files compared, {} differ",
        wrong.len()
    );
    assert!(
        wrong.is_empty(),
        "{} of {checked} files differ:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
