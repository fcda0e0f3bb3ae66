//! The revision cache in `.git/alembot/`: written by a check, read by the
//! next one, never trusted for content it was not written for.

use std::fs;

use crate::support::{ADD_SUBTITLE, Repo, blog_repo, revision, run_in, subtitle_revision};

const CACHE: &str = ".git/alembot/revisions";

/// a1 ← b2 ← c3, committed.
fn history() -> Repo {
    let repo = blog_repo();
    repo.write(
        "migrations/versions/b2_noop.py",
        &revision("b2", Some("a1"), "    pass", "    pass"),
    )
    .write(
        "migrations/versions/c3_noop.py",
        &revision("c3", Some("b2"), "    pass", "    pass"),
    );
    repo.commit_all("more history");
    repo
}

/// A model edit with its migration on top of c3, staged.
fn stage_subtitle(repo: &Repo) {
    repo.append("app/models.py", ADD_SUBTITLE).write(
        "migrations/versions/d4_subtitle.py",
        &subtitle_revision("d4", "c3"),
    );
    repo.git(&["add", "-A"]);
}

fn cache_lines(repo: &Repo) -> Vec<String> {
    fs::read_to_string(repo.path().join(CACHE))
        .expect("the cache was written")
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn a_check_stores_the_revisions_it_did_not_change_in_the_git_directory() {
    let repo = history();
    stage_subtitle(&repo);
    let status = repo.status();
    repo.alembot(&["check", "--staged", "--format", "json"])
        .assert_code(0);
    let lines = cache_lines(&repo);
    assert!(lines[0].starts_with("alembot revision cache "), "{lines:?}");
    let mut ids: Vec<&str> = lines[1..]
        .iter()
        .map(|l| l.split('\t').nth(1).expect("a revision field"))
        .collect();
    ids.sort();
    // The revision the change adds is read whole every time, not cached.
    assert_eq!(ids, ["a1", "b2", "c3"]);
    // Each entry is keyed by the id git gives the staged content.
    let b2_blob = repo.git(&["rev-parse", ":migrations/versions/b2_noop.py"]);
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&format!("{b2_blob}\tb2\t")))
    );
    // Invisible to git: nothing in the working tree changed.
    assert_eq!(repo.status(), status);
}

#[test]
fn the_next_run_takes_identifiers_from_the_cache_unless_told_not_to() {
    let repo = history();
    stage_subtitle(&repo);
    repo.alembot(&["check", "--staged", "--format", "json"])
        .assert_code(0);
    // Rewrite c3's stored parent: a run that reads the cache instead of
    // c3's file now sees b2 and d4 as two heads. (Only a tampered cache
    // can disagree with the content it is keyed by.)
    let text = fs::read_to_string(repo.path().join(CACHE)).expect("cache");
    let tampered: Vec<String> = text
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            if f.get(1) == Some(&"c3") {
                let mut f = f.clone();
                f[2] = "a1";
                f.join("\t")
            } else {
                l.to_string()
            }
        })
        .collect();
    fs::write(repo.path().join(CACHE), tampered.join("\n") + "\n").expect("write");

    let run = repo.alembot(&["check", "--staged", "--format", "json"]);
    run.assert_code(1);
    assert!(
        run.findings()
            .iter()
            .any(|f| f.starts_with("multiple-heads")),
        "{:?}",
        run.findings()
    );
    repo.alembot(&["check", "--staged", "--no-cache", "--format", "json"])
        .assert_code(0);
    let env_off = run_in(
        repo.path(),
        &["check", "--staged", "--format", "json"],
        &[("ALEMBOT_NO_CACHE", "1")],
    );
    env_off.assert_code(0);
    // --no-cache neither reads nor rewrites it.
    assert_eq!(
        fs::read_to_string(repo.path().join(CACHE)).expect("cache"),
        tampered.join("\n") + "\n"
    );
}

#[test]
fn an_edited_revision_is_read_again_staged_or_in_the_working_tree() {
    let repo = history();
    stage_subtitle(&repo);
    repo.alembot(&["check", "--staged", "--format", "json"])
        .assert_code(0);
    // Same length, new parent: only the content id (or the stat data) can
    // tell the file changed.
    repo.replace(
        "migrations/versions/c3_noop.py",
        "down_revision: Union[str, Sequence[str], None] = 'b2'",
        "down_revision: Union[str, Sequence[str], None] = 'a1'",
    );
    // Unstaged: the working tree differs from the index.
    let worktree = repo.alembot(&["check", "--format", "json"]);
    assert!(
        worktree
            .findings()
            .iter()
            .any(|f| f.starts_with("multiple-heads")),
        "{:?}",
        worktree.findings()
    );
    // Staged: the index has a new blob for c3.
    repo.git(&["add", "-A"]);
    let staged = repo.alembot(&["check", "--staged", "--format", "json"]);
    let findings = staged.findings();
    assert!(
        findings.iter().any(|f| f.starts_with("multiple-heads")),
        "{findings:?}"
    );
    assert!(
        findings.iter().any(|f| f.starts_with("edited-migration")),
        "{findings:?}"
    );
}

#[test]
fn a_cache_that_cannot_be_written_costs_only_speed() {
    let repo = history();
    stage_subtitle(&repo);
    // A file where the cache directory would go.
    fs::write(repo.path().join(".git/alembot"), "not a directory").expect("write");
    let run = repo.alembot(&["check", "--staged", "--format", "json"]);
    run.assert_code(0);
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    assert_eq!(
        fs::read_to_string(repo.path().join(".git/alembot")).expect("read"),
        "not a directory"
    );
    // A damaged cache file is ignored and replaced.
    fs::remove_file(repo.path().join(".git/alembot")).expect("remove");
    fs::create_dir(repo.path().join(".git/alembot")).expect("mkdir");
    fs::write(repo.path().join(CACHE), "garbage\n\u{0}\u{1}").expect("write");
    repo.alembot(&["check", "--staged", "--format", "json"])
        .assert_code(0);
    assert_eq!(cache_lines(&repo).len(), 4);
}

#[test]
fn worktrees_share_the_main_repository_cache() {
    let repo = history();
    let outside = tempfile::tempdir().expect("tempdir");
    let wt = outside.path().join("wt");
    repo.git(&["worktree", "add", "-q", wt.to_str().expect("utf-8 path")]);
    fs::write(
        wt.join("migrations/versions/d4_noop.py"),
        revision("d4", Some("c3"), "    pass", "    pass"),
    )
    .expect("write");
    // Staged, so the content ids come from the worktree's own index.
    let git_in_wt = std::process::Command::new("git")
        .args(["add", "-A"])
        .current_dir(&wt)
        .status()
        .expect("git runs");
    assert!(git_in_wt.success());
    let run = run_in(&wt, &["check", "--staged", "--format", "json"], &[]);
    run.assert_code(0);
    assert_eq!(cache_lines(&repo).len(), 4);
    assert!(!wt.join(".git").is_dir(), "a worktree's .git is a file");
    repo.git(&[
        "worktree",
        "remove",
        "--force",
        wt.to_str().expect("utf-8 path"),
    ]);
}
