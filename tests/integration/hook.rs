//! The pre-commit hook through real `git commit`, and `alembot hook install`.

use std::path::Path;
use std::process::Command;

use crate::support::*;

/// PATH with the alembot binary's directory first, as a user who installed it.
fn path_with_alembot() -> String {
    let bin_dir = binary().parent().unwrap().to_path_buf();
    format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// Runs `git commit` the way a developer does (hooks enabled).
fn commit(dir: &Path, message: &str, path_env: &str) -> (bool, String) {
    let out = Command::new("git")
        .args(["commit", "-q", "-m", message])
        .current_dir(dir)
        .env("PATH", path_env)
        .env("NO_COLOR", "1")
        .env_remove("ALEMBOT_HOOK_MODE")
        .output()
        .expect("git commit runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn installed(repo: &Repo, args: &[&str]) -> Run {
    let mut all = vec!["hook", "install"];
    all.extend_from_slice(args);
    repo.alembot(&all)
}

#[test]
fn blocks_a_model_edit_without_migration_and_passes_with_one() {
    let repo = blog_repo();
    installed(&repo, &[]).assert_code(0);
    repo.append("app/models.py", ADD_SUBTITLE);
    repo.git(&["add", "-A"]);
    let (ok, out) = commit(repo.path(), "subtitle", &path_with_alembot());
    assert!(!ok, "the commit should be blocked:\n{out}");
    assert!(out.contains("missing-migration"), "{out}");
    assert!(out.contains("git commit --no-verify"), "{out}");
    repo.write(
        "migrations/versions/b2_subtitle.py",
        &subtitle_revision("b2", "a1"),
    );
    repo.git(&["add", "-A"]);
    let (ok, out) = commit(repo.path(), "subtitle with migration", &path_with_alembot());
    assert!(ok, "the commit should pass:\n{out}");
}

#[test]
fn unstaged_model_edits_do_not_block() {
    let repo = blog_repo();
    installed(&repo, &[]).assert_code(0);
    repo.write("README.md", "docs\n");
    repo.git(&["add", "README.md"]);
    repo.append("app/models.py", ADD_SUBTITLE);
    let (ok, out) = commit(repo.path(), "docs only", &path_with_alembot());
    assert!(ok, "{out}");
}

#[test]
fn missing_binary_blocks_with_install_instructions() {
    let repo = blog_repo();
    installed(&repo, &[]).assert_code(0);
    repo.write("README.md", "docs\n");
    repo.git(&["add", "README.md"]);
    let (ok, out) = commit(repo.path(), "docs", "/usr/bin:/bin");
    assert!(!ok);
    assert!(out.contains("is not on PATH"), "{out}");
    assert!(out.contains("cargo install"), "{out}");
}

#[test]
fn honours_core_hooks_path() {
    let repo = blog_repo();
    repo.git(&["config", "core.hooksPath", ".githooks"]);
    let run = installed(&repo, &[]);
    run.assert_code(0);
    assert!(
        repo.path().join(".githooks/pre-commit").is_file(),
        "{}",
        run.stdout
    );
    assert!(!repo.path().join(".git/hooks/pre-commit").exists());
    repo.append("app/models.py", ADD_SUBTITLE);
    repo.git(&["add", "-A"]);
    let (ok, _) = commit(repo.path(), "x", &path_with_alembot());
    assert!(!ok, "the hook in core.hooksPath runs");
}

#[test]
fn refuses_a_foreign_hook_without_force_and_keeps_it_when_chained() {
    let repo = blog_repo();
    let hook = repo.path().join(".git/hooks/pre-commit");
    std::fs::create_dir_all(hook.parent().unwrap()).unwrap();
    std::fs::write(
        &hook,
        "#!/bin/sh\necho foreign >> \"$(git rev-parse --show-toplevel)/.git/foreign-ran\"\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();

    let run = installed(&repo, &[]);
    run.assert_code(2);
    assert!(
        run.stderr.contains("is not alembot's hook"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("--chain") && run.stderr.contains("--force"),
        "{}",
        run.stderr
    );
    assert!(
        std::fs::read_to_string(&hook).unwrap().contains("foreign"),
        "left untouched"
    );

    installed(&repo, &["--chain"]).assert_code(0);
    repo.write("README.md", "docs\n");
    repo.git(&["add", "README.md"]);
    let (ok, out) = commit(repo.path(), "docs", &path_with_alembot());
    assert!(ok, "{out}");
    assert!(
        repo.path().join(".git/foreign-ran").exists(),
        "the chained hook ran"
    );
    // Reinstalling is a no-op.
    let again = installed(&repo, &[]);
    again.assert_code(0);
    assert!(
        again.stdout.contains("already installed"),
        "{}",
        again.stdout
    );
}

#[test]
fn force_replaces_a_foreign_hook_and_keeps_a_copy() {
    let repo = blog_repo();
    let hooks = repo.path().join(".git/hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    std::fs::write(hooks.join("pre-commit"), "#!/bin/sh\nexit 0\n").unwrap();
    installed(&repo, &["--force"]).assert_code(0);
    assert!(
        std::fs::read_to_string(hooks.join("pre-commit"))
            .unwrap()
            .contains("alembot pre-commit hook")
    );
    assert_eq!(
        std::fs::read_to_string(hooks.join("pre-commit.alembot-backup")).unwrap(),
        "#!/bin/sh\nexit 0\n"
    );
}

#[test]
fn installs_for_a_worktree_into_the_common_hooks() {
    let repo = blog_repo();
    let wt = tempfile::tempdir().unwrap();
    let wt_path = wt.path().join("wt");
    repo.git(&[
        "worktree",
        "add",
        "-q",
        "-b",
        "feature",
        wt_path.to_str().unwrap(),
    ]);
    let run = run_in(&wt_path, &["hook", "install"], &[]);
    run.assert_code(0);
    assert!(
        repo.path().join(".git/hooks/pre-commit").is_file(),
        "{}",
        run.stdout
    );
    std::fs::write(
        wt_path.join("app/models.py"),
        format!("{MODELS}{ADD_SUBTITLE}"),
    )
    .unwrap();
    let add = Command::new("git")
        .args(["add", "-A"])
        .current_dir(&wt_path)
        .status()
        .unwrap();
    assert!(add.success());
    let (ok, out) = commit(&wt_path, "in worktree", &path_with_alembot());
    assert!(!ok, "blocked in the worktree too:\n{out}");
    assert!(out.contains("missing-migration"), "{out}");
    repo.git(&["worktree", "remove", "--force", wt_path.to_str().unwrap()]);
}

#[test]
fn deep_install_sets_the_default_mode() {
    let repo = blog_repo();
    installed(&repo, &["--deep"]).assert_code(0);
    let text = std::fs::read_to_string(repo.path().join(".git/hooks/pre-commit")).unwrap();
    assert!(text.contains("mode=${ALEMBOT_HOOK_MODE:-deep}"));
    // Switching back updates alembot's own hook in place.
    let run = installed(&repo, &[]);
    run.assert_code(0);
    assert!(run.stdout.contains("updated"), "{}", run.stdout);
}

#[test]
fn deep_hook_runs_the_staged_migrations() {
    let repo = blog_repo();
    repo.write("migrations/env.py", RUNNABLE_ENV_PY);
    repo.write(
        "alembic.ini",
        "[alembic]\nscript_location = %(here)s/migrations\nprepend_sys_path = .\nsqlalchemy.url = sqlite:///unused.db\n",
    );
    repo.commit_all("runnable env.py");
    installed(&repo, &["--deep"]).assert_code(0);
    // The static check passes (a revision adds the column) but the
    // migration gives it the wrong length: only running it shows that.
    repo.append("app/models.py", ADD_SUBTITLE);
    repo.write(
        "migrations/versions/b2_subtitle.py",
        &revision(
            "b2",
            Some("a1"),
            "    op.add_column('post', sa.Column('subtitle', sa.Integer(), nullable=True))",
            "    op.drop_column('post', 'subtitle')",
        ),
    );
    repo.git(&["add", "-A"]);
    let out = Command::new("git")
        .args(["commit", "-q", "-m", "subtitle"])
        .current_dir(repo.path())
        .env("PATH", path_with_alembot())
        .env("ALEMBOT_PYTHON", test_python())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "the deep hook should block:\n{text}");
    assert!(text.contains("drift"), "{text}");
    assert!(
        text.contains("post.subtitle") || text.contains("`subtitle`"),
        "{text}"
    );
    // Nothing written into the project (no bytecode caches, no databases).
    assert!(!repo.status().contains("??"), "{}", repo.status());
}
