//! Bad input gets a clear message naming the file, line or key, exit code 2,
//! and nothing written.

use crate::support::*;

fn assert_usage_error(repo: &Repo, args: &[&str], needles: &[&str]) {
    let before = repo.status();
    let run = repo.alembot(args);
    run.assert_code(2);
    assert!(
        run.stdout.is_empty(),
        "no report on a usage error: {}",
        run.stdout
    );
    for needle in needles {
        assert!(
            run.stderr.contains(needle),
            "stderr lacks {needle:?}:\n{}",
            run.stderr
        );
    }
    assert_eq!(repo.status(), before, "the run wrote files");
}

#[test]
fn malformed_yaml() {
    let repo = blog_repo();
    repo.write(".alembot.yml", "environments:\n  - name: [unclosed\n");
    assert_usage_error(&repo, &["check"], &[".alembot.yml:", "help:"]);
}

#[test]
fn unknown_key() {
    let repo = blog_repo();
    repo.write(
        ".alembot.yml",
        "environments:\n  - name: main\n    alembic_ini: alembic.ini\n    modles: [app/*.py]\n",
    );
    assert_usage_error(
        &repo,
        &["check"],
        &[
            ".alembot.yml:4:5",
            "environments[0]: unknown field `modles`",
            "expected one of",
        ],
    );
}

#[test]
fn wrong_type() {
    let repo = blog_repo();
    repo.write(".alembot.yml", "timeout: soon\n");
    assert_usage_error(
        &repo,
        &["check"],
        &[".alembot.yml:1:", "timeout", "invalid type"],
    );
}

#[test]
fn unknown_check_code() {
    let repo = blog_repo();
    repo.write(".alembot.yml", "checks:\n  missing-migrations: off\n");
    assert_usage_error(
        &repo,
        &["check"],
        &["checks.missing-migrations", "not a finding code"],
    );
}

#[test]
fn missing_directory() {
    let repo = blog_repo();
    assert_usage_error(
        &repo,
        &["check", "-C", "no/such/dir"],
        &["no/such/dir: no such directory", "-C"],
    );
}

#[test]
fn not_a_git_repository() {
    let dir = tempfile::tempdir().unwrap();
    let run = run_in(dir.path(), &["check"], &[]);
    run.assert_code(2);
    insta::assert_snapshot!("not_a_git_repository", redact(&run.stderr, dir.path()));
}

#[test]
fn no_alembic_environment() {
    let repo = Repo::new();
    repo.write("app/models.py", MODELS);
    repo.commit_all("models only");
    assert_usage_error(&repo, &["check"], &["no Alembic environment found"]);
}

#[test]
fn explicit_config_that_does_not_exist() {
    let repo = blog_repo();
    assert_usage_error(
        &repo,
        &["check", "--config", "nope.yml"],
        &["nope.yml", "--config"],
    );
}

#[test]
fn bad_format_lists_the_choices() {
    let repo = blog_repo();
    let run = repo.alembot(&["check", "--format", "xml"]);
    run.assert_code(2);
    assert!(run.stderr.contains("human"), "{}", run.stderr);
}

#[test]
fn revision_with_a_syntax_error() {
    let repo = blog_repo();
    repo.append("app/models.py", ADD_SUBTITLE);
    repo.write(
        "migrations/versions/b2_subtitle.py",
        &subtitle_revision("b2", "a1")
            .replace("def upgrade() -> None:", "def upgrade() -> None\n    (\n"),
    );
    assert_usage_error(
        &repo,
        &["check"],
        &[
            "migrations/versions/b2_subtitle.py:",
            "syntax error",
            "help:",
        ],
    );
}

#[test]
fn revision_without_a_revision_id() {
    let repo = blog_repo();
    repo.append("app/models.py", ADD_SUBTITLE);
    repo.write(
        "migrations/versions/b2_subtitle.py",
        &subtitle_revision("b2", "a1").replace("revision: str = 'b2'\n", ""),
    );
    assert_usage_error(
        &repo,
        &["check"],
        &[
            "migrations/versions/b2_subtitle.py:1",
            "no module-level `revision",
            "revision: str = ",
        ],
    );
}

/// The command line is a public contract: its help is snapshotted so a
/// change to it is a deliberate one.
#[test]
fn help_texts() {
    let dir = tempfile::tempdir().unwrap();
    for (name, args) in [
        ("help_top", vec!["--help"]),
        ("help_check", vec!["check", "--help"]),
        ("help_verify", vec!["verify", "--help"]),
        ("help_status", vec!["status", "--help"]),
        ("help_hook_install", vec!["hook", "install", "--help"]),
    ] {
        let run = run_in(dir.path(), &args, &[("COLUMNS", "100")]);
        run.assert_code(0);
        insta::assert_snapshot!(name, run.stdout);
    }
}
