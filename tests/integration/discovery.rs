//! Zero-config discovery on real git repositories: the layouts the field
//! projects use (Flask-Migrate, configs under other names, package
//! locations, per-dialect version trees), and exit 2 for locations that do
//! not exist. Each test builds the project, commits it, then checks a
//! second commit with `--base/--head` as a pull request would.

use crate::support::*;

const FLASK_MIGRATE_INI: &str = "# A generic, single database configuration.\n\n[alembic]\n# template used to generate migration files\n# file_template = %%(rev)s_%%(slug)s\n\n[loggers]\nkeys = root\n\n[handlers]\nkeys = console\n\n[formatters]\nkeys = generic\n\n[logger_root]\nlevel = WARN\nhandlers = console\n\n[handler_console]\nclass = StreamHandler\nargs = (sys.stderr,)\nformatter = generic\n\n[formatter_generic]\nformat = %(levelname)-5.5s [%(name)s] %(message)s\n";

const FLASK_ENV_PY: &str = "from flask import current_app\nfrom alembic import context\n\nconfig = context.config\ntarget_metadata = current_app.extensions['migrate'].db.metadata\n";

/// A Flask-Migrate project: `flask db init` wrote migrations/ with its own
/// alembic.ini (no script_location) and the models live in app/.
fn flask_migrate_repo() -> Repo {
    let repo = Repo::new();
    repo.write("migrations/alembic.ini", FLASK_MIGRATE_INI)
        .write("migrations/env.py", FLASK_ENV_PY)
        .write("migrations/script.py.mako", "# template\n")
        .write(
            "migrations/versions/a1_initial.py",
            &revision("a1", None, INITIAL_UPGRADE, INITIAL_DOWNGRADE),
        )
        .write("app/__init__.py", "")
        .write("app/models.py", MODELS);
    repo.commit_all("flask db init");
    repo
}

fn check_head(repo: &Repo) -> Run {
    repo.alembot(&[
        "check",
        "--base",
        "HEAD~1",
        "--head",
        "HEAD",
        "--format",
        "json",
        "--no-cache",
    ])
}

#[test]
fn flask_migrate_layout_is_found_and_its_models_checked() {
    let repo = flask_migrate_repo();
    repo.append("app/models.py", ADD_SUBTITLE);
    repo.commit_all("subtitle, no migration");
    let run = check_head(&repo);
    run.assert_code(1);
    assert_eq!(run.findings(), ["missing-migration@app/models.py:26"]);

    repo.write(
        "migrations/versions/b2_subtitle.py",
        &subtitle_revision("b2", "a1"),
    );
    repo.commit_all("its migration");
    check_head(&repo).assert_code(0);
}

#[test]
fn flask_migrate_edit_with_its_migration_passes() {
    let repo = flask_migrate_repo();
    repo.append("app/models.py", ADD_SUBTITLE).write(
        "migrations/versions/b2_subtitle.py",
        &subtitle_revision("b2", "a1"),
    );
    repo.commit_all("subtitle with its migration");
    let run = check_head(&repo);
    run.assert_code(0);
    assert!(run.findings().is_empty(), "{:?}", run.findings());
}

/// Item 5: a bracket closing mid-line (`).fetchall()`) once made the lexer
/// dedent there, so a column after such a method was outside its class and
/// its edit passed silently.
#[test]
fn column_after_a_method_with_a_multiline_call_is_seen() {
    let repo = blog_repo();
    repo.append(
        "app/models.py",
        "\n    def recent(self, conn):\n        return conn.execute(\n            select(Post)\n        ).fetchall()\n\n    def check(\n        self,\n    ) -> bool:\n        return True\n\n    rating: Mapped[int] = mapped_column(Integer, default=0)\n",
    );
    repo.commit_all("rating after methods, no migration");
    let run = check_head(&repo);
    run.assert_code(1);
    let findings = run.findings();
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert!(
        findings[0].starts_with("missing-migration@app/models.py:"),
        "{findings:?}"
    );
    assert_eq!(run.json()["findings"][0]["column"], "rating");
}

#[test]
fn an_alembic_config_under_another_name_is_an_environment() {
    let repo = blog_repo();
    repo.write(
        "alembic_reports.ini",
        "[alembic]\nscript_location = reports_db\n",
    )
    .write("reports_db/env.py", "from app.models import Base\n")
    .write(
        "reports_db/versions/r1_initial.py",
        &revision("r1", None, "    pass", "    pass"),
    );
    repo.commit_all("second environment");
    repo.write(
        "reports_db/versions/r2_second_head.py",
        &revision("r2", Some("r1"), "    pass", "    pass"),
    )
    .write(
        "reports_db/versions/r3_third_head.py",
        &revision("r3", Some("r1"), "    pass", "    pass"),
    );
    repo.commit_all("two heads in the second environment");
    let run = check_head(&repo);
    run.assert_code(1);
    assert!(
        run.findings()
            .iter()
            .any(|f| f.starts_with("multiple-heads")),
        "{:?}",
        run.findings()
    );
}

#[test]
fn a_script_location_that_names_no_folder_is_exit_2() {
    let repo = blog_repo();
    repo.write(
        "alembic.ini",
        "[alembic]\nscript_location = myapp:migrations\n",
    );
    repo.commit_all("a package location that does not exist");
    let run = check_head(&repo);
    run.assert_code(2);
    assert!(
        run.stderr
            .contains("alembic.ini:1: `[alembic] script_location`"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("names no folder"), "{}", run.stderr);
}

#[test]
fn configured_paths_outside_or_missing_are_exit_2() {
    for (extra, needle) in [
        (
            "    migrations: ../../x\n",
            "`environments[0].migrations`: `../../x` is outside the repository",
        ),
        (
            "    models: app/nothing/*.py\n",
            "`environments[0].models`: `app/nothing/*.py` matches no file",
        ),
        (
            "    script_location: gone\n",
            "`environments[0].script_location`: `gone` does not exist",
        ),
    ] {
        let repo = blog_repo();
        repo.write(
            ".alembot.yml",
            &format!("environments:\n  - name: main\n    alembic_ini: alembic.ini\n{extra}"),
        );
        repo.commit_all("configuration");
        repo.append("app/models.py", ADD_SUBTITLE);
        repo.commit_all("edit");
        let run = check_head(&repo);
        run.assert_code(2);
        assert!(run.stderr.contains(needle), "{extra}: {}", run.stderr);
    }
}

/// One revision tree per dialect under versions/ (picked by dialect in
/// env.py): each tree is an environment with its own history, so two roots
/// are not two heads, and the model edit is checked against them.
#[test]
fn per_dialect_version_trees_are_environments_of_their_own() {
    let repo = Repo::new();
    repo.write(
        "src/app/db/alembic.ini",
        "[alembic]\nscript_location = app:db:_migrations\n",
    )
    .write("src/app/__init__.py", "")
    .write("src/app/db/__init__.py", "")
    .write("src/app/db/models.py", MODELS)
    .write(
        "src/app/db/_migrations/env.py",
        "from app.db.models import Base\n",
    )
    .write(
        "src/app/db/_migrations/versions/postgresql/p1_initial.py",
        &revision("p1", None, INITIAL_UPGRADE, INITIAL_DOWNGRADE),
    )
    .write(
        "src/app/db/_migrations/versions/sqlite/s1_initial.py",
        &revision("s1", None, INITIAL_UPGRADE, INITIAL_DOWNGRADE),
    );
    repo.commit_all("initial");
    repo.append("src/app/db/models.py", ADD_SUBTITLE);
    repo.commit_all("subtitle, no migration");
    let run = check_head(&repo);
    run.assert_code(1);
    let f = &run.json()["findings"][0];
    assert_eq!(f["code"], "missing-migration");
    assert!(
        f["environment"]
            .as_str()
            .unwrap()
            .starts_with("src/app/db/"),
        "{f}"
    );

    repo.write(
        "src/app/db/_migrations/versions/postgresql/p2_subtitle.py",
        &subtitle_revision("p2", "p1"),
    )
    .write(
        "src/app/db/_migrations/versions/sqlite/s2_subtitle.py",
        &subtitle_revision("s2", "s1"),
    );
    repo.commit_all("both trees");
    let run = repo.alembot(&[
        "check",
        "--base",
        "HEAD~2",
        "--head",
        "HEAD",
        "--format",
        "json",
        "--no-cache",
    ]);
    run.assert_code(0);
    assert!(run.findings().is_empty(), "{:?}", run.findings());
}
