//! Base snapshots end to end (issue 16): a pull request's second run
//! restores the base history's state instead of replaying it, and reports
//! what a full replay reports.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::dynamic::*;
use crate::support::*;

/// The revision files of a fixture: id → (file name, parents).
fn revisions(dir: &Path) -> BTreeMap<String, (String, Vec<String>)> {
    let mut out = BTreeMap::new();
    for entry in fs::read_dir(dir.join("migrations/versions")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if !name.ends_with(".py") || name == "__init__.py" {
            continue;
        }
        let text = fs::read_to_string(dir.join("migrations/versions").join(&name)).unwrap();
        let field = |key: &str| -> Option<String> {
            text.lines()
                .find(|l| l.starts_with(key))
                .map(|l| l.split_once('=').unwrap().1.trim().to_string())
        };
        let Some(id) = field("revision") else {
            continue;
        };
        let id = id.trim_matches(|c| c == '"' || c == '\'').to_string();
        let down = field("down_revision").unwrap_or_default();
        let parents = down
            .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
            .filter(|p| !p.is_empty() && *p != "None" && *p != "Union" && *p != "str")
            .map(str::to_string)
            .collect();
        out.insert(id, (name, parents));
    }
    out
}

/// The revisions a pull request adds in this test: the scenario's data
/// upgrade's when it names them, else the heads that have a parent (a
/// change on top of an existing history).
fn change_of(name: &str, dir: &Path) -> Vec<String> {
    let s = scenario(name);
    if let Some(revs) = s["checks"]["data_upgrade"]["revisions"].as_array()
        && s["checks"]["data_upgrade"]["base_heads"]
            .as_array()
            .is_some_and(|h| !h.is_empty())
    {
        return revs
            .iter()
            .map(|r| r.as_str().unwrap().to_string())
            .collect();
    }
    let revs = revisions(dir);
    let parents: Vec<&String> = revs.values().flat_map(|(_, p)| p).collect();
    revs.iter()
        .filter(|(id, (_, p))| !p.is_empty() && !parents.contains(id))
        .map(|(id, _)| id.clone())
        .collect()
}

/// A repository with the fixture's history minus `change` on `main` and
/// the change on `feature` (checked out).
fn pull_request(name: &str) -> (Repo, Vec<String>) {
    let repo = Repo::new();
    copy_fixture(name, repo.path());
    if let Some(config) = crate::verify::alembot_yml(&scenario(name)) {
        repo.write(".alembot.yml", &config);
    }
    let change = change_of(name, repo.path());
    let revs = revisions(repo.path());
    let mut moved = Vec::new();
    for id in &change {
        let file = format!("migrations/versions/{}", revs[id].0);
        moved.push((file.clone(), repo.read(&file)));
        repo.remove(&file);
    }
    repo.commit_all("base");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    if change.is_empty() {
        return (repo, change);
    }
    for (file, text) in moved {
        repo.write(&file, &text);
    }
    repo.commit_all("change");
    (repo, change)
}

fn verify(repo: &Repo, backend: Backend, extra: &[&str]) -> Value {
    let provider = backend.provider();
    let python = python();
    let mut args = vec![
        "verify",
        "--base",
        "main",
        "--head",
        "feature",
        "--database",
        &provider,
        "--format",
        "json",
        "--python",
        &python,
    ];
    args.extend_from_slice(extra);
    let run = run_in(repo.path(), &args, &[]);
    assert!(
        run.code == 0 || run.code == 1,
        "exit {}\n{}\n{}",
        run.code,
        run.stdout,
        run.stderr
    );
    run.json()
}

/// The report without what may differ between a hit and a replay.
fn comparable(report: &Value) -> Value {
    let mut r = report.clone();
    if let Some(o) = r.as_object_mut() {
        o.remove("notes");
        o.remove("timings");
    }
    r
}

fn notes(report: &Value) -> String {
    report["notes"]
        .as_array()
        .map(|n| {
            n.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

fn store_dir(repo: &Repo) -> PathBuf {
    repo.path().join(".git/alembot/snapshots")
}

fn stored(repo: &Repo) -> Vec<PathBuf> {
    match fs::read_dir(store_dir(repo)) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "snapshot"))
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// Every verify fixture on one backend: a cold run, a warm run and a run
/// with `--no-cache` give the same report (minus notes and timings); the
/// warm run used the snapshot whenever the cold one saved it.
fn hit_equals_replay(backend: Backend, only: Option<&[&str]>) {
    let mut hits = 0;
    for name in scenarios("verify") {
        if only.is_some_and(|o| !o.contains(&name.as_str())) {
            continue;
        }
        let s = scenario(&name);
        if !s["backends"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b == backend.name())
        {
            continue;
        }
        let (repo, change) = pull_request(&name);
        if change.is_empty() {
            continue;
        }
        let cold = verify(&repo, backend, &[]);
        let warm = verify(&repo, backend, &[]);
        let replay = verify(&repo, backend, &["--no-cache"]);
        let context = format!(
            "{name} on {}\ncold notes:\n{}\nwarm notes:\n{}",
            backend.name(),
            notes(&cold),
            notes(&warm)
        );
        assert_eq!(comparable(&warm), comparable(&replay), "{context}");
        assert_eq!(comparable(&cold), comparable(&replay), "{context}");
        assert!(
            !notes(&replay).contains("snapshot"),
            "--no-cache mentions no snapshot\n{context}"
        );
        if notes(&cold).contains("its base state is saved") {
            assert!(
                notes(&warm).contains("restored from a snapshot verified on"),
                "{context}"
            );
            hits += 1;
        }
    }
    assert!(hits >= 3, "only {hits} fixtures gave a snapshot");
}

/// On the servers, the scenarios whose change sits on a history (every
/// one of them runs on SQLite): the dumps and restores, an enum type, a
/// merge, two heads, a failing data upgrade, an irreversible revision.
const SERVER_SCENARIOS: &[&str] = &[
    "clean",
    "not-null-populated",
    "merge-revision",
    "two-heads",
    "downgrade-leaves-pg-enum",
    "irreversible-downgrade",
];

#[test]
fn a_hit_reports_what_a_replay_reports_sqlite() {
    hit_equals_replay(Backend::Sqlite, None);
}

#[test]
fn a_hit_reports_what_a_replay_reports_postgresql() {
    hit_equals_replay(Backend::Postgresql, Some(SERVER_SCENARIOS));
}

#[test]
fn a_hit_reports_what_a_replay_reports_mysql() {
    hit_equals_replay(Backend::Mysql, Some(SERVER_SCENARIOS));
}

#[test]
fn a_history_with_an_error_gives_no_snapshot() {
    let (repo, _) = pull_request("clean");
    // The base revision's downgrade fails: the round trip finds an error
    // in the history before the change.
    let versions = repo.path().join("migrations/versions");
    let base_file = fs::read_dir(&versions)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|f| f.starts_with("3cdb17c28ea9"))
        .unwrap();
    let rel = format!("migrations/versions/{base_file}");
    let text = repo.read(&rel);
    let downgrade = text.find("def downgrade").unwrap();
    let mut broken = text[..downgrade].to_string();
    broken.push_str("def downgrade() -> None:\n    op.execute(\"DROP TABLE no_such_table\")\n");
    repo.write(&rel, &broken);
    repo.commit_all("base revision without a downgrade");
    let first = verify(&repo, Backend::Sqlite, &[]);
    assert!(
        notes(&first).contains("the history before the change has errors"),
        "{}",
        notes(&first)
    );
    assert!(stored(&repo).is_empty());
    let second = verify(&repo, Backend::Sqlite, &[]);
    assert!(!notes(&second).contains("restored from a snapshot"));
    assert_eq!(comparable(&first), comparable(&second));
}

#[test]
fn damaged_and_foreign_snapshots_are_ignored() {
    let (repo, _) = pull_request("not-null-populated");
    let first = verify(&repo, Backend::Sqlite, &[]);
    let files = stored(&repo);
    assert_eq!(files.len(), 1, "{}", notes(&first));
    let whole = fs::read(&files[0]).unwrap();
    fs::write(&files[0], &whole[..whole.len() - 10]).unwrap();
    let truncated = verify(&repo, Backend::Sqlite, &[]);
    assert!(
        notes(&truncated).contains("the stored snapshot is damaged"),
        "{}",
        notes(&truncated)
    );
    assert_eq!(comparable(&truncated), comparable(&first));
    // The damaged file was replaced by the run's own.
    let warm = verify(&repo, Backend::Sqlite, &[]);
    assert!(notes(&warm).contains("restored from a snapshot"));
    let text = fs::read(&files[0]).unwrap();
    let newline = text.iter().position(|&b| b == b'\n').unwrap();
    let foreign = [
        b"alembot snapshot 1 0.0.0-elsewhere".as_slice(),
        &text[newline..],
    ]
    .concat();
    fs::write(&files[0], foreign).unwrap();
    let other = verify(&repo, Backend::Sqlite, &[]);
    assert!(
        notes(&other).contains("another alembot version"),
        "{}",
        notes(&other)
    );
    assert_eq!(comparable(&other), comparable(&first));
}

#[test]
fn an_edited_base_revision_or_env_py_misses() {
    let (repo, _) = pull_request("clean");
    verify(&repo, Backend::Sqlite, &[]);
    assert!(notes(&verify(&repo, Backend::Sqlite, &[])).contains("restored from a snapshot"));
    repo.append("migrations/env.py", "\n# a comment is an edit\n");
    repo.commit_all("env.py edited");
    let edited = verify(&repo, Backend::Sqlite, &[]);
    assert!(
        notes(&edited).contains("no snapshot has this key yet"),
        "{}",
        notes(&edited)
    );
    assert_eq!(stored(&repo).len(), 2);
}

#[test]
fn all_replays_everything() {
    let (repo, _) = pull_request("clean");
    verify(&repo, Backend::Sqlite, &[]);
    let python = python();
    let run = run_in(
        repo.path(),
        &["verify", "--all", "--format", "json", "--python", &python],
        &[],
    );
    assert!(!notes(&run.json()).contains("snapshot"));
}

#[test]
fn concurrent_runs_share_the_store_safely() {
    let (repo, _) = pull_request("not-null-populated");
    let path = repo.path().to_path_buf();
    let python = python();
    let runs: Vec<Run> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..3)
            .map(|_| {
                let (path, python) = (path.clone(), python.clone());
                scope.spawn(move || {
                    run_in(
                        &path,
                        &[
                            "verify", "--base", "main", "--head", "feature", "--format", "json",
                            "--python", &python,
                        ],
                        &[],
                    )
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for run in &runs {
        assert_eq!(run.code, 1, "{}", run.stderr);
    }
    let files: Vec<PathBuf> = fs::read_dir(store_dir(&repo))
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    assert_eq!(
        files.len(),
        1,
        "one snapshot, no temporary files: {files:?}"
    );
    let warm = verify(&repo, Backend::Sqlite, &[]);
    assert!(notes(&warm).contains("restored from a snapshot"));
    assert_eq!(comparable(&warm), comparable(&runs[0].json()));
}

#[test]
fn the_deep_hook_uses_the_snapshot() {
    let (repo, _) = pull_request("clean");
    // The commit before the change, with the change staged.
    repo.git(&["checkout", "-q", "main"]);
    repo.git(&["checkout", "feature", "--", "migrations/versions"]);
    let python = python();
    let staged = |repo: &Repo| {
        run_in(
            repo.path(),
            &[
                "verify", "--staged", "--format", "json", "--python", &python,
            ],
            &[],
        )
        .json()
    };
    let cold = staged(&repo);
    assert!(
        notes(&cold).contains("its base state is saved"),
        "{}",
        notes(&cold)
    );
    let warm = staged(&repo);
    assert!(
        notes(&warm).contains("restored from a snapshot"),
        "{}",
        notes(&warm)
    );
    assert_eq!(comparable(&warm), comparable(&cold));
}
