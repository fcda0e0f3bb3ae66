//! `alembot check` end to end: the binary on real git repositories.

use crate::support::*;

#[test]
fn worktree_model_edit_without_migration_fails() {
    let repo = blog_repo();
    repo.append("app/models.py", ADD_SUBTITLE);
    let run = repo.alembot(&["check", "--format", "json"]);
    run.assert_code(1);
    assert_eq!(run.findings(), ["missing-migration@app/models.py:26"]);
    let f = &run.json()["findings"][0];
    assert_eq!(f["environment"], "main");
    assert_eq!(f["table"], "post");
    assert_eq!(f["column"], "subtitle");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("post.subtitle added")
    );
    assert!(
        f["help"]
            .as_str()
            .unwrap()
            .contains("alembic revision --autogenerate")
    );
}

#[test]
fn worktree_model_edit_with_untracked_migration_passes() {
    let repo = blog_repo();
    repo.append("app/models.py", ADD_SUBTITLE);
    repo.write(
        "migrations/versions/b2_subtitle.py",
        &subtitle_revision("b2", "a1"),
    );
    repo.alembot(&["check", "--format", "json"]).assert_code(0);
}

#[test]
fn non_schema_edit_passes() {
    let repo = blog_repo();
    repo.append(
        "app/models.py",
        "\n    def summary(self) -> str:\n        return self.title[:20]\n",
    );
    let run = repo.alembot(&["check"]);
    run.assert_code(0);
    assert!(run.stdout.contains("No problems found"), "{}", run.stdout);
}

#[test]
fn reformatting_a_column_passes() {
    let repo = blog_repo();
    repo.replace(
        "app/models.py",
        "    title: Mapped[str] = mapped_column(String(200))\n",
        "    title: Mapped[str] = mapped_column(\n        String(200),\n    )\n",
    );
    repo.alembot(&["check", "--format", "json"]).assert_code(0);
}

#[test]
fn staged_checks_the_index_not_the_working_tree() {
    let repo = blog_repo();
    // Only an unstaged model edit: the next commit changes nothing.
    repo.append("app/models.py", ADD_SUBTITLE);
    repo.alembot(&["check", "--staged", "--format", "json"])
        .assert_code(0);
    // Staged model edit, migration written but not staged: blocked.
    repo.git(&["add", "app/models.py"]);
    repo.write(
        "migrations/versions/b2_subtitle.py",
        &subtitle_revision("b2", "a1"),
    );
    let run = repo.alembot(&["check", "--staged", "--format", "json"]);
    run.assert_code(1);
    assert_eq!(run.findings(), ["missing-migration@app/models.py:26"]);
    // Both staged: passes.
    repo.git(&["add", "migrations/versions/b2_subtitle.py"]);
    repo.alembot(&["check", "--staged", "--format", "json"])
        .assert_code(0);
}

#[test]
fn staged_reads_staged_content_even_when_worktree_differs() {
    let repo = blog_repo();
    repo.append("app/models.py", ADD_SUBTITLE);
    repo.git(&["add", "app/models.py"]);
    // The working tree then reverts the edit; the index still has it.
    repo.write("app/models.py", MODELS);
    repo.alembot(&["check", "--staged", "--format", "json"])
        .assert_code(1);
    // The working tree against HEAD shows no model change at all.
    repo.alembot(&["check", "--format", "json"]).assert_code(0);
}

#[test]
fn initial_commit_with_staged_project() {
    let repo = Repo::new();
    write_blog(&repo, "");
    repo.git(&["add", "-A"]);
    repo.alembot(&["check", "--staged", "--format", "json"])
        .assert_code(0);
    // The same project without its revision: the models need one.
    repo.git(&["rm", "-q", "--cached", "migrations/versions/a1_initial.py"]);
    let run = repo.alembot(&["check", "--staged", "--format", "json"]);
    run.assert_code(1);
    assert_eq!(run.findings(), ["missing-migration@app/models.py:11"]);
}

#[test]
fn pull_request_range_uses_the_merge_base() {
    let repo = blog_repo();
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.append("app/models.py", ADD_SUBTITLE);
    repo.commit_all("add subtitle");
    // main moves on with an unrelated change after the branch point.
    repo.git(&["checkout", "-q", "main"]);
    repo.write("README.md", "docs\n");
    repo.commit_all("docs");
    let run = repo.alembot(&[
        "check", "--base", "main", "--head", "feature", "--format", "json",
    ]);
    run.assert_code(1);
    assert_eq!(run.findings(), ["missing-migration@app/models.py:26"]);
    repo.git(&["checkout", "-q", "feature"]);
    repo.write(
        "migrations/versions/b2_subtitle.py",
        &subtitle_revision("b2", "a1"),
    );
    repo.commit_all("migration");
    repo.alembot(&[
        "check", "--base", "main", "--head", "HEAD", "--format", "json",
    ])
    .assert_code(0);
}

#[test]
fn range_with_unknown_revision_is_a_usage_error() {
    let repo = blog_repo();
    let run = repo.alembot(&["check", "--base", "origin/nope", "--head", "HEAD"]);
    run.assert_code(2);
    assert!(
        run.stderr.contains("cannot resolve `origin/nope`"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("fetch-depth: 0"), "{}", run.stderr);
}

#[test]
fn renamed_model_file_without_edits_passes_and_with_edits_points_at_new_path() {
    let repo = blog_repo();
    repo.git(&["mv", "app/models.py", "app/db_models.py"]);
    repo.alembot(&["check", "--staged", "--format", "json"])
        .assert_code(0);
    repo.append("app/db_models.py", ADD_SUBTITLE);
    repo.git(&["add", "-A"]);
    let run = repo.alembot(&["check", "--staged", "--format", "json"]);
    run.assert_code(1);
    assert_eq!(run.findings(), ["missing-migration@app/db_models.py:26"]);
}

#[test]
fn deleted_model_file_needs_a_migration() {
    let repo = blog_repo();
    repo.git(&["rm", "-q", "app/models.py"]);
    let run = repo.alembot(&["check", "--staged", "--format", "json"]);
    run.assert_code(1);
    let f = &run.json()["findings"][0];
    assert_eq!(f["code"], "missing-migration");
    assert_eq!(f["file"], "app/models.py");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("user table removed"),
        "{f}"
    );
}

#[test]
fn two_environments_each_need_their_own_migration() {
    let repo = Repo::new();
    write_blog(&repo, "services/blog");
    write_blog(&repo, "services/shop");
    repo.commit_all("two services");
    repo.append("services/shop/app/models.py", ADD_SUBTITLE);
    // A migration in the *other* environment does not count.
    repo.write(
        "services/blog/migrations/versions/b2_subtitle.py",
        &subtitle_revision("b2", "a1"),
    );
    let run = repo.alembot(&["check", "--format", "json"]);
    run.assert_code(1);
    // ...and the other environment's migration has no model edit behind it.
    assert_eq!(
        run.findings(),
        [
            "missing-migration@services/shop/app/models.py:26",
            "unmatched-operation@services/blog/migrations/versions/b2_subtitle.py:24"
        ]
    );
    assert_eq!(run.json()["findings"][0]["environment"], "services/shop");
    assert!(
        run.json()["findings"][0]["help"]
            .as_str()
            .unwrap()
            .contains("cd services/shop && alembic revision"),
    );
    repo.write(
        "services/shop/migrations/versions/c3_subtitle.py",
        &subtitle_revision("c3", "a1"),
    );
    repo.alembot(&["check", "--format", "json"]).assert_code(0);
    // --env limits the check to one environment.
    repo.remove("services/shop/migrations/versions/c3_subtitle.py");
    repo.alembot(&["check", "--env", "services/blog", "--format", "json"])
        .assert_code(0);
}

#[test]
fn config_file_models_glob_and_check_levels() {
    let repo = blog_repo();
    repo.write(
        ".alembot.yml",
        "environments:\n  - name: blog\n    alembic_ini: alembic.ini\n    models: [app/*.py]\nchecks:\n  missing-migration: warning\n",
    );
    repo.commit_all("config");
    repo.append("app/models.py", ADD_SUBTITLE);
    let run = repo.alembot(&["check", "--format", "json"]);
    run.assert_code(0);
    assert_eq!(run.json()["findings"][0]["severity"], "warning");
    assert_eq!(run.json()["findings"][0]["environment"], "blog");
}

#[test]
fn ignore_marker_and_ignore_globs() {
    let repo = blog_repo();
    repo.append(
        "app/models.py",
        "    legacy: Mapped[Optional[str]] = mapped_column(String(10))  # alembot: ignore\n",
    );
    repo.alembot(&["check", "--format", "json"]).assert_code(0);
    repo.append("app/models.py", ADD_SUBTITLE);
    repo.alembot(&["check", "--format", "json"]).assert_code(1);
    repo.write(".alembot.yml", "ignore: [app/models.py]\n");
    repo.alembot(&["check", "--format", "json"]).assert_code(0);
}

#[test]
fn edited_existing_migration_is_a_warning() {
    let repo = blog_repo();
    repo.replace(
        "migrations/versions/a1_initial.py",
        "sa.String(length=200)",
        "sa.String(length=300)",
    );
    let run = repo.alembot(&["check", "--format", "json"]);
    run.assert_code(0);
    assert_eq!(
        run.findings(),
        ["edited-migration@migrations/versions/a1_initial.py"]
    );
    assert_eq!(run.json()["findings"][0]["severity"], "warning");
}

#[test]
fn binary_non_utf8_and_submodule_changes_do_not_crash() {
    let repo = blog_repo();
    repo.write_bytes(
        "assets/logo.png",
        &[0x89, b'P', b'N', b'G', 0, 0, 1, 2, 0xff],
    );
    repo.write_bytes(
        "app/legacy.py",
        b"# -*- coding: latin-1 -*-\nNAME = '\xe9t\xe9'\nfrom sqlalchemy import Column\n",
    );
    // A gitlink (submodule pointer) in the index.
    let head = repo.git(&["rev-parse", "HEAD"]);
    repo.git(&[
        "update-index",
        "--add",
        "--cacheinfo",
        &format!("160000,{head},vendor/lib"),
    ]);
    repo.git(&["add", "assets", "app/legacy.py"]);
    repo.alembot(&["check", "--staged", "--format", "json"])
        .assert_code(0);
    repo.alembot(&["check", "--format", "json"]).assert_code(0);
}

#[test]
fn human_format_is_the_default_and_readable() {
    let repo = blog_repo();
    repo.append("app/models.py", ADD_SUBTITLE);
    let run = repo.alembot(&["check"]);
    run.assert_code(1);
    insta::assert_snapshot!("check_human_missing_migration", run.stdout);
    assert!(
        !run.stdout.contains('\u{1b}'),
        "no colour when not a terminal"
    );
}

#[test]
fn output_flag_writes_the_report_to_a_file() {
    let repo = blog_repo();
    repo.append("app/models.py", ADD_SUBTITLE);
    let out = repo.path().join("report.sarif");
    let run = repo.alembot(&[
        "check",
        "--format",
        "sarif",
        "--output",
        out.to_str().unwrap(),
    ]);
    run.assert_code(1);
    assert!(run.stdout.is_empty());
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out).unwrap()).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(
        sarif["runs"][0]["results"][0]["ruleId"],
        "missing-migration"
    );
}
