//! `alembot verify` end to end: the binary, the project's own Python and
//! Alembic, and real SQLite, PostgreSQL and MariaDB databases.
//!
//! The scenario tests are driven by each fixture's `scenario.json` (the
//! same expectations the Python-level tests assert): one test per fixture,
//! one function per backend the scenario lists, e.g.
//! `verify::missing_column::postgresql`.

use std::fs;
use std::path::Path;

use serde_json::Value;

use crate::dynamic::*;
use crate::support::*;

/// How a scenario's project is laid out for the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// A plain directory (not git), `verify --all`.
    All,
    /// A git repository whose `main` lacks the revisions the scenario's
    /// data upgrade applies, and whose `feature` branch adds them:
    /// `verify --base main --head feature`.
    Range,
}

/// Runs one scenario on one backend with the test Python; returns each
/// run's JSON report (a range run first when the scenario needs one).
fn verify_scenario(name: &str, backend: Backend) -> Vec<Value> {
    verify_scenario_with(name, backend, &python())
}

fn verify_scenario_with(name: &str, backend: Backend, python: &str) -> Vec<Value> {
    let s = scenario(name);
    assert_eq!(s["action"], "verify", "{name} is not a verify scenario");
    assert!(
        s["backends"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b == backend.name()),
        "{name} does not list {}",
        backend.name()
    );
    let checks = &s["checks"];
    // A data upgrade needs rows, so a history before the change: from an
    // empty base there is nothing to run it over.
    let data_upgrade = checks.get("data_upgrade").filter(|v| {
        v["base_heads"]
            .as_array()
            .is_some_and(|heads| !heads.is_empty())
    });
    let mut shapes = Vec::new();
    if data_upgrade.is_some() {
        shapes.push(Shape::Range);
    }
    if data_upgrade.is_none() || checks["stairway"] == "all" {
        shapes.push(Shape::All);
    }
    let repo = Repo::new();
    copy_fixture(name, repo.path());
    if let Some(config) = alembot_yml(&s) {
        repo.write(".alembot.yml", &config);
    }
    let mut reports = Vec::new();
    for shape in shapes {
        let args: Vec<&str> = match shape {
            Shape::Range => {
                let revisions: Vec<String> = data_upgrade.unwrap()["revisions"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r.as_str().unwrap().to_string())
                    .collect();
                split_history(&repo, &revisions);
                vec!["--base", "main", "--head", "feature"]
            }
            Shape::All => {
                // `--all` needs no repository: run it in a plain directory
                // unless a range run came first.
                if reports.is_empty() {
                    fs::remove_dir_all(repo.path().join(".git")).unwrap();
                }
                vec!["--all"]
            }
        };
        let report = run_scenario(name, &s, &repo, backend, python, shape, &args);
        reports.push(report);
    }
    reports
}

/// The configuration a scenario's environment needs beyond discovery
/// (data tests, setup SQL, the version table's schema), if any.
pub(crate) fn alembot_yml(s: &Value) -> Option<String> {
    let mut env = String::new();
    if let Some(dir) = s["checks"]["data_tests"].as_str() {
        env.push_str(&format!("    data_tests: {dir}\n"));
    }
    if let Some(statements) = s["setup_sql"].as_array().filter(|a| !a.is_empty()) {
        env.push_str("    setup_sql:\n");
        for statement in statements {
            env.push_str(&format!("      - {statement}\n"));
        }
    }
    if let Some(schema) = s["version_table_schema"].as_str() {
        env.push_str(&format!("    version_table_schema: {schema}\n"));
    }
    (!env.is_empty()).then(|| {
        format!(
            "environments:\n  - name: main\n    alembic_ini: {}\n{env}",
            s["alembic_ini"].as_str().unwrap_or("alembic.ini")
        )
    })
}

/// Commits the project without `revisions` on `main`, then adds them on
/// `feature` (checked out afterwards, as in a pull request's CI).
fn split_history(repo: &Repo, revisions: &[String]) {
    let versions = repo.path().join("migrations/versions");
    let mut moved = Vec::new();
    for rev in revisions {
        let file = fs::read_dir(&versions)
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .find(|f| f.starts_with(&format!("{rev}_")))
            .unwrap_or_else(|| panic!("no revision file for {rev}"));
        let text = fs::read_to_string(versions.join(&file)).unwrap();
        fs::remove_file(versions.join(&file)).unwrap();
        moved.push((file, text));
    }
    repo.commit_all("base: the history before the change");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    for (file, text) in moved {
        repo.write(&format!("migrations/versions/{file}"), &text);
    }
    repo.commit_all("change: new revisions");
}

fn run_scenario(
    name: &str,
    s: &Value,
    repo: &Repo,
    backend: Backend,
    python: &str,
    shape: Shape,
    range: &[&str],
) -> Value {
    let provider = backend.provider();
    let before = file_list(repo.path());
    let mut args = vec!["verify"];
    args.extend_from_slice(range);
    args.extend([
        "--database",
        &provider,
        "--format",
        "json",
        "--python",
        python,
    ]);
    let run = run_in(repo.path(), &args, &[]);
    let context = format!(
        "{name} on {} ({shape:?})\nstdout:\n{}\nstderr:\n{}",
        backend.name(),
        run.stdout,
        run.stderr
    );
    assert!(
        run.code == 0 || run.code == 1,
        "exit {} for {context}",
        run.code
    );
    let report = run.json();
    let findings = report["findings"].as_array().unwrap();
    let problems = match_findings(
        s["expected"].as_array().unwrap(),
        findings,
        backend.name(),
        s["exhaustive"].as_bool().unwrap_or(true),
    );
    assert!(problems.is_empty(), "{}\n{context}", problems.join("\n"));
    // Exit 1 exactly when something is at error severity.
    let errors = report["summary"]["errors"].as_u64().unwrap();
    assert_eq!(run.code, i32::from(errors > 0), "{context}");
    // Every check the scenario asks for ran, or a note says why not.
    let ran: Vec<&str> = report["summary"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let notes: Vec<&str> = report["notes"]
        .as_array()
        .map(|n| n.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    for (check, wanted) in s["checks"].as_object().unwrap() {
        let wanted = !(wanted.is_null() || *wanted == Value::Bool(false));
        if !wanted || (check == "data_upgrade" && shape == Shape::All) {
            continue;
        }
        assert!(
            ran.contains(&check.as_str())
                || notes
                    .iter()
                    .any(|n| n.contains(&format!("the {check} check did not run"))),
            "check {check} neither ran nor was explained\n{context}"
        );
    }
    assert!(
        notes
            .first()
            .is_some_and(|n| n.starts_with("The database checks ran on ")),
        "{context}"
    );
    // Locations are repository-relative files that exist.
    for f in findings {
        if let Some(file) = f["file"].as_str() {
            assert!(!file.starts_with('/'), "absolute path in {f}\n{context}");
            assert!(repo.path().join(file).is_file(), "no file {file}");
        }
    }
    // The run left nothing in the project (no database file, no caches).
    assert_eq!(file_list(repo.path()), before, "{context}");
    report
}

fn findings_of<'a>(report: &'a Value, code: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == code)
        .collect()
}

fn text<'a>(finding: &'a Value, key: &str) -> &'a str {
    finding[key].as_str().unwrap_or("")
}

// ---------------------------------------------------------------------------
// The scenarios

macro_rules! scenario_tests {
    ($($module:ident: $fixture:literal on [$($backend:ident),+] $(then $extra:ident)?;)+) => {
        $(
            mod $module {
                use crate::dynamic::Backend;

                /// Checks beyond scenario.json, on every report.
                #[allow(unused_variables)]
                fn extra(report: &serde_json::Value, backend: Backend) {
                    $(super::$extra(report, backend);)?
                }

                $(
                    #[test]
                    fn $backend() {
                        let backend = Backend::from_name(stringify!($backend));
                        for report in &super::verify_scenario($fixture, backend) {
                            extra(report, backend);
                        }
                    }
                )+
            }
        )+
        /// Each verify fixture and the backends its tests run on.
        const COVERED: &[(&str, &[&str])] = &[$(($fixture, &[$(stringify!($backend)),+])),+];
    };
}

scenario_tests! {
    clean: "clean" on [sqlite, postgresql, mysql];
    missing_column: "missing-column" on [sqlite, postgresql, mysql] then shows_the_missing_operation;
    missing_table: "missing-table" on [sqlite, postgresql, mysql];
    type_change: "type-change" on [sqlite, postgresql, mysql];
    nullable_change: "nullable-change" on [sqlite, postgresql, mysql];
    server_default: "server-default" on [sqlite, postgresql, mysql];
    index: "index" on [sqlite, postgresql, mysql];
    unique_constraint: "unique-constraint" on [sqlite, postgresql, mysql];
    foreign_key: "foreign-key" on [sqlite, postgresql, mysql];
    pg_enum_value_added: "pg-enum-value-added" on [sqlite, postgresql, mysql];
    downgrade_leaves_column: "downgrade-leaves-column" on [sqlite, postgresql, mysql];
    downgrade_leaves_pg_enum: "downgrade-leaves-pg-enum" on [sqlite, postgresql, mysql] then names_the_enum_type;
    not_null_populated: "not-null-populated" on [sqlite, postgresql, mysql] then explains_the_safe_steps;
    rename_as_drop_add: "rename-as-drop-add" on [sqlite, postgresql, mysql] then suggests_a_rename;
    downgrade_renames_table: "downgrade-renames-table" on [sqlite, postgresql, mysql];
    two_heads: "two-heads" on [sqlite, postgresql, mysql] then reports_both_heads;
    merge_revision: "merge-revision" on [sqlite, postgresql, mysql];
    async_env: "async-env" on [sqlite, postgresql, mysql];
    unregistered_model: "unregistered-model" on [sqlite, postgresql, mysql];
    env_import_error: "env-import-error" on [sqlite, postgresql, mysql] then blames_env_py;
    migration_raises: "migration-raises" on [sqlite, postgresql, mysql] then shows_the_statement;
    irreversible_downgrade: "irreversible-downgrade" on [sqlite, postgresql, mysql] then only_warns;
    data_tests_pass: "data-tests-pass" on [sqlite, postgresql, mysql];
    data_tests_fail: "data-tests-fail" on [sqlite, postgresql, mysql];
    flask_sqlalchemy: "flask-sqlalchemy" on [sqlite, postgresql, mysql];
    pg_schema: "pg-schema" on [postgresql];
}

#[test]
fn every_verify_fixture_has_a_test_on_each_backend_it_lists() {
    let mut missing = Vec::new();
    for name in scenarios("verify") {
        let s = scenario(&name);
        let covered = COVERED.iter().find(|(f, _)| *f == name);
        for b in s["backends"].as_array().unwrap() {
            let b = b.as_str().unwrap();
            if !covered.is_some_and(|(_, list)| list.contains(&b)) {
                missing.push(format!("{name} on {b}"));
            }
        }
    }
    assert!(missing.is_empty(), "no test for: {missing:?}");
}

fn shows_the_missing_operation(report: &Value, _: Backend) {
    let drift = findings_of(report, "drift");
    assert!(
        text(drift[0], "details").contains("op.add_column('users', sa.Column('nickname'"),
        "{report}"
    );
}

fn names_the_enum_type(report: &Value, backend: Backend) {
    if backend == Backend::Postgresql {
        let debris = findings_of(report, "downgrade-debris");
        let all = format!(
            "{} {}",
            text(debris[0], "message"),
            text(debris[0], "details")
        );
        assert!(all.contains("poststatus"), "{report}");
    }
}

fn explains_the_safe_steps(report: &Value, backend: Backend) {
    if backend == Backend::Mysql {
        return;
    }
    for f in findings_of(report, "data-upgrade-failed") {
        let help = text(f, "help");
        assert!(
            help.contains("nullable") && help.contains("backfill"),
            "{help}"
        );
    }
}

fn suggests_a_rename(report: &Value, _: Backend) {
    let rename = findings_of(report, "possible-rename");
    assert!(
        text(rename[0], "help")
            .contains(r#"op.alter_column("users", "name", new_column_name="full_name")"#),
        "{report}"
    );
}

fn reports_both_heads(report: &Value, _: Backend) {
    let heads = findings_of(report, "multiple-heads");
    assert_eq!(heads.len(), 1, "{report}");
    let message = text(heads[0], "message");
    assert!(
        message.contains("d10027889f3e") && message.contains("e7d56d8e7901"),
        "{message}"
    );
}

fn blames_env_py(report: &Value, _: Backend) {
    let f = &findings_of(report, "project-error")[0];
    let all = format!("{} {}", text(f, "message"), text(f, "details"));
    assert!(all.contains("No module named"), "{all}");
    assert!(findings_of(report, "drift").is_empty());
}

fn shows_the_statement(report: &Value, _: Backend) {
    let f = &findings_of(report, "upgrade-failed")[0];
    let all = format!("{} {}", text(f, "message"), text(f, "details"));
    assert!(all.contains("UPDATE"), "{all}");
}

fn only_warns(report: &Value, _: Backend) {
    assert_eq!(report["summary"]["errors"], 0, "{report}");
}

// ---------------------------------------------------------------------------
// Ranges, the index, environments, interpreters, providers

const NICKNAME_REVISION: &str = r#""""add users.nickname

Revision ID: 5b2d7c1e9f00
Revises: 4a0bcfcf0723
Create Date: 2025-01-03 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


revision = "5b2d7c1e9f00"
down_revision = "4a0bcfcf0723"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("users", sa.Column("nickname", sa.String(length=50), nullable=True))


def downgrade():
    op.drop_column("users", "nickname")
"#;

const NICKNAME_FILE: &str = "migrations/versions/5b2d7c1e9f00_add_users_nickname.py";
const EMAIL_LINE: &str = "    email = Column(String(255))\n";
const NICKNAME_LINE: &str = "    nickname = Column(String(50))\n";

/// The `clean` fixture committed on `main`.
fn clean_repo() -> Repo {
    let repo = Repo::new();
    copy_fixture("clean", repo.path());
    repo.commit_all("project");
    repo
}

fn verify_json(repo_dir: &Path, extra: &[&str], database: &str) -> Run {
    let py = python();
    let mut args = vec![
        "verify",
        "--database",
        database,
        "--format",
        "json",
        "--python",
        &py,
    ];
    args.extend_from_slice(extra);
    run_in(repo_dir, &args, &[])
}

#[test]
fn a_change_outside_models_and_migrations_skips_the_database() {
    let repo = clean_repo();
    repo.write("README.md", "# the app\n");
    repo.append("app/__init__.py", "VERSION = '1.1'\n");
    // Neither the interpreter nor the server is touched: both are bogus.
    let run = run_in(
        repo.path(),
        &[
            "verify",
            "--database",
            "postgresql://nobody@127.0.0.1:1/none",
            "--python",
            "/nonexistent/python3",
            "--format",
            "json",
        ],
        &[],
    );
    run.assert_code(0);
    let report = run.json();
    assert_eq!(report["summary"]["checks"], serde_json::json!(["static"]));
    let notes = report["notes"].to_string();
    assert!(
        notes.contains(
            "The database checks were skipped: the change touches neither models nor migrations"
        ),
        "{notes}"
    );
    // The human report says so too.
    let human = run_in(
        repo.path(),
        &["verify", "--python", "/nonexistent/python3"],
        &[],
    );
    human.assert_code(0);
    assert!(
        human.stdout.contains("database checks were skipped"),
        "{}",
        human.stdout
    );
}

#[test]
fn staged_runs_the_index_not_the_working_tree() {
    let repo = clean_repo();
    repo.replace(
        "app/models.py",
        EMAIL_LINE,
        &format!("{EMAIL_LINE}{NICKNAME_LINE}"),
    );
    repo.write(NICKNAME_FILE, NICKNAME_REVISION);
    repo.git(&["add", "-A"]);
    // The working-tree copy of the staged migration adds another column.
    repo.replace(
        NICKNAME_FILE,
        "\"nickname\", sa.String",
        "\"nick\", sa.String",
    );
    repo.replace(
        NICKNAME_FILE,
        "\"users\", \"nickname\"",
        "\"users\", \"nick\"",
    );
    let status_before = repo.status();

    let staged = verify_json(repo.path(), &["--staged"], "sqlite");
    staged.assert_code(0);
    let report = staged.json();
    assert!(
        report["findings"].as_array().unwrap().is_empty(),
        "{report}"
    );
    // The staged revision is the one the stairway and the data upgrade ran.
    let checks = report["summary"]["checks"].to_string();
    assert!(
        checks.contains("stairway") && checks.contains("data_upgrade"),
        "{checks}"
    );

    // The working tree, checked the same way, has the wrong column.
    let worktree = verify_json(repo.path(), &[], "sqlite");
    worktree.assert_code(1);
    let report = worktree.json();
    let problems = match_findings(
        &serde_json::from_str::<Vec<Value>>(
            r#"[{"code": "drift", "operation": "remove_column", "table": "users", "column": "nick"},
                {"code": "possible-rename", "table": "users", "column": "nickname"}]"#,
        )
        .unwrap(),
        report["findings"].as_array().unwrap(),
        "sqlite",
        true,
    );
    assert!(problems.is_empty(), "{problems:?}\n{report}");
    // The static check already says the model's column has no migration;
    // the database confirms it in that finding rather than in a second one.
    let missing = findings_of(&report, "missing-migration");
    assert_eq!(missing.len(), 1, "{report}");
    assert_eq!(missing[0]["line"], 13);
    assert!(
        text(missing[0], "details").contains("Running the migrations confirms it"),
        "{report}"
    );
    // Neither run touched the index or the working tree.
    assert_eq!(repo.status(), status_before);
}

#[test]
fn pull_request_range_checks_what_the_branch_adds() {
    let repo = clean_repo();
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.replace(
        "app/models.py",
        EMAIL_LINE,
        &format!("{EMAIL_LINE}    nickname = Column(String(50), index=True)\n"),
    );
    // The downgrade drops the index but forgets the column: only the
    // stairway over the new revision sees it (downgrade base drops the
    // whole table anyway).
    repo.write(
        NICKNAME_FILE,
        &NICKNAME_REVISION
            .replace(
                "nullable=True))\n",
                "nullable=True))\n    op.create_index(\"ix_users_nickname\", \"users\", [\"nickname\"])\n",
            )
            .replace(
                "    op.drop_column(\"users\", \"nickname\")",
                "    op.drop_index(\"ix_users_nickname\", table_name=\"users\")",
            ),
    );
    repo.commit_all("add users.nickname");
    // main moves on with an unrelated change; CI has main checked out.
    repo.git(&["checkout", "-q", "main"]);
    repo.write("README.md", "# the app\n");
    repo.commit_all("docs");

    let backend = Backend::Postgresql;
    let run = verify_json(
        repo.path(),
        &["--base", "main", "--head", "feature"],
        &backend.provider(),
    );
    let report = run.json();
    let problems = match_findings(
        &serde_json::from_str::<Vec<Value>>(&format!(
            r#"[{{"code": "downgrade-debris", "table": "users", "column": "nickname",
                  "revision": "5b2d7c1e9f00", "file": "{NICKNAME_FILE}"}}]"#
        ))
        .unwrap(),
        report["findings"].as_array().unwrap(),
        "postgresql",
        true,
    );
    assert!(problems.is_empty(), "{problems:?}\n{report}");
    run.assert_code(1);
    let checks = report["summary"]["checks"].to_string();
    assert!(checks.contains("data_upgrade"), "{checks}");
    // The head was exported: the working tree (main) never had the file.
    assert!(!repo.path().join(NICKNAME_FILE).exists());
    assert_eq!(repo.status(), "");
}

/// Waits, at env.py's first import in a helper, until the other
/// environment's helper has started: if the two ran one after the other,
/// the first would give up after a minute and fail its upgrade.
fn rendezvous_env_py(me: &str, other: &str) -> String {
    format!(
        r#"import os as _os, time as _time
_here = _os.environ["RENDEZVOUS_DIR"]
if not _os.environ.get("RENDEZVOUS_DONE"):
    _os.environ["RENDEZVOUS_DONE"] = "1"
    open(_os.path.join(_here, "{me}"), "w").close()
    _deadline = _time.time() + 60
    while not _os.path.exists(_os.path.join(_here, "{other}")):
        if _time.time() > _deadline:
            raise RuntimeError("environment {other} never started while {me} ran: not in parallel")
        _time.sleep(0.05)
"#
    )
}

#[test]
fn two_environments_run_in_parallel() {
    let dir = tempfile::Builder::new()
        .prefix("alembot-test-")
        .tempdir()
        .unwrap();
    let rendezvous = tempfile::tempdir().unwrap();
    copy_fixture("clean", &dir.path().join("shop"));
    copy_fixture("missing-column", &dir.path().join("billing"));
    for (me, other) in [("shop", "billing"), ("billing", "shop")] {
        let env_py = dir.path().join(me).join("migrations/env.py");
        let text = fs::read_to_string(&env_py).unwrap();
        fs::write(&env_py, rendezvous_env_py(me, other) + &text).unwrap();
    }
    fs::write(
        dir.path().join(".alembot.yml"),
        "environments:\n  - name: shop\n    alembic_ini: shop/alembic.ini\n  - name: billing\n    alembic_ini: billing/alembic.ini\njobs: 2\npass_env: [RENDEZVOUS_DIR]\n",
    )
    .unwrap();
    let py = python();
    let provider = Backend::Postgresql.provider();
    let run = run_in(
        dir.path(),
        &[
            "verify",
            "--all",
            "--database",
            &provider,
            "--format",
            "json",
            "--python",
            &py,
        ],
        &[("RENDEZVOUS_DIR", rendezvous.path().to_str().unwrap())],
    );
    let report = run.json();
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{report}\n{}", run.stderr);
    assert_eq!(findings[0]["code"], "drift");
    assert_eq!(findings[0]["environment"], "billing");
    assert_eq!(findings[0]["file"], "billing/app/models.py");
    assert_eq!(findings[0]["column"], "nickname");
    run.assert_code(1);
    assert!(rendezvous.path().join("shop").exists() && rendezvous.path().join("billing").exists());
}

#[test]
fn sqlalchemy_1_4_and_alembic_1_8() {
    let py = python_sqla14();
    verify_scenario_with("missing-column", Backend::Sqlite, &py);
    verify_scenario_with("downgrade-leaves-column", Backend::Postgresql, &py);
}

/// An interpreter without Alembic: the system python3 (outside any venv),
/// or a bare venv if the system one happens to have it.
fn python_without_alembic(scratch: &Path) -> String {
    let has = std::process::Command::new("python3")
        .args(["-c", "import alembic"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or_else(|e| panic!("python3 is required for this test: {e}"));
    if !has {
        return "python3".into();
    }
    let venv = scratch.join("bare");
    let ok = std::process::Command::new("python3")
        .args(["-m", "venv", "--without-pip"])
        .arg(&venv)
        .status()
        .unwrap()
        .success();
    assert!(ok, "python3 -m venv failed");
    venv.join("bin/python").display().to_string()
}

#[test]
fn missing_alembic_is_an_environment_error_with_the_install_command() {
    let project = fixture_copy("missing-column");
    let scratch = tempfile::tempdir().unwrap();
    let py = python_without_alembic(scratch.path());
    let run = run_in(project.path(), &["verify", "--all", "--python", &py], &[]);
    run.assert_code(2);
    assert!(run.stderr.contains("is not installed in"), "{}", run.stderr);
    assert!(
        run.stderr.contains("pip install") && run.stderr.contains("alembic>=1.8"),
        "{}",
        run.stderr
    );
}

/// On a server, the helper creates the database itself; when it cannot
/// even start (no SQLAlchemy), it says nothing was created, so alembot does
/// not try a drop with the same broken interpreter and warn about a database
/// that never existed.
#[test]
fn a_helper_without_sqlalchemy_on_a_server_warns_of_no_leftover() {
    let project = fixture_copy("missing-column");
    let scratch = tempfile::tempdir().unwrap();
    let py = python_without_alembic(scratch.path());
    for backend in [Backend::Postgresql, Backend::Mysql] {
        let server = backend.server_url();
        let run = run_in(
            project.path(),
            &["verify", "--all", "--python", &py, "--database", &server],
            &[],
        );
        run.assert_code(2);
        assert!(run.stderr.contains("is not installed in"), "{}", run.stderr);
        assert!(
            !run.stderr.contains("could not drop"),
            "{}: {}",
            backend.name(),
            run.stderr
        );
    }
}

#[test]
fn alembic_older_than_1_8_is_refused() {
    let project = fixture_copy("missing-column");
    let fake = tempfile::tempdir().unwrap();
    fs::create_dir(fake.path().join("alembic")).unwrap();
    fs::write(
        fake.path().join("alembic/__init__.py"),
        "__version__ = '1.7.7'\n",
    )
    .unwrap();
    let py = python();
    let run = run_in(
        project.path(),
        &["verify", "--all", "--python", &py],
        &[("PYTHONPATH", fake.path().to_str().unwrap())],
    );
    run.assert_code(2);
    assert!(
        run.stderr.contains("Alembic 1.7.7 is too old"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("pip install --upgrade 'alembic>=1.8'"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_unknown_provider_is_a_usage_error() {
    let project = fixture_copy("missing-column");
    let py = python();
    let run = run_in(
        project.path(),
        &[
            "verify",
            "--all",
            "--python",
            &py,
            "--database",
            "oracle://scott:tiger@db/orcl",
        ],
        &[],
    );
    run.assert_code(2);
    assert!(
        run.stderr.contains("is not a database provider"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("tiger"), "{}", run.stderr);
    assert_eq!(run.stdout, "");
}

#[test]
fn an_existing_sqlite_file_is_refused_and_left_alone() {
    let project = fixture_copy("missing-column");
    let db = project.path().join("existing.db");
    fs::write(&db, b"not touched").unwrap();
    let py = python();
    let run = run_in(
        project.path(),
        &[
            "verify",
            "--all",
            "--python",
            &py,
            "--database",
            "sqlite:///existing.db",
        ],
        &[],
    );
    run.assert_code(2);
    assert!(
        run.stderr
            .contains("alembot never writes to a database it did not create"),
        "{}",
        run.stderr
    );
    assert_eq!(fs::read(&db).unwrap(), b"not touched");
}

#[test]
fn checks_picks_the_database_checks_that_run() {
    let project = fixture_copy("downgrade-leaves-column");
    // Upgrade, drift and the round trip alone: the column the downgrade
    // leaves is seen only by the stairway.
    let run = verify_json(
        project.path(),
        &["--all", "--checks", "upgrade,drift,roundtrip"],
        "sqlite",
    );
    run.assert_code(0);
    let report = run.json();
    assert_eq!(
        report["summary"]["checks"],
        serde_json::json!(["static", "upgrade", "drift", "roundtrip"])
    );
    assert!(
        report["notes"].to_string().contains(
            "Only the database checks chosen with --checks ran: upgrade, drift, roundtrip."
        ),
        "{report}"
    );
    // The stairway alone finds it (ALEMBOT_CHECKS works the same).
    let py = python();
    let run = run_in(
        project.path(),
        &["verify", "--all", "--format", "json", "--python", &py],
        &[("ALEMBOT_CHECKS", "stairway")],
    );
    run.assert_code(1);
    let report = run.json();
    assert_eq!(
        report["summary"]["checks"],
        serde_json::json!(["static", "stairway"])
    );
    assert_eq!(
        run.findings(),
        ["downgrade-debris@migrations/versions/6b171530253b_add_users_bio.py:24"]
    );
    // An unknown check is a usage error that lists the names.
    let run = run_in(
        project.path(),
        &["verify", "--all", "--checks", "upgrade,speed"],
        &[],
    );
    run.assert_code(2);
    assert!(
        run.stderr.contains("invalid value 'speed'") && run.stderr.contains("data_upgrade"),
        "{}",
        run.stderr
    );
}

/// A job that cannot run does not take the static report with it: the
/// `missing-migration` `check` finds is still printed (and returned in
/// JSON) next to the environment error, and the exit code is 2.
#[test]
fn a_job_that_cannot_run_keeps_the_static_findings() {
    let repo = blog_repo();
    repo.append("app/models.py", ADD_SUBTITLE);
    repo.git(&["add", "-A"]);
    let scratch = tempfile::tempdir().unwrap();
    let py = python_without_alembic(scratch.path());
    let run = repo.alembot(&["verify", "--staged", "--python", &py, "--format", "json"]);
    run.assert_code(2);
    assert!(run.stderr.contains("is not installed in"), "{}", run.stderr);
    assert!(
        run.findings()
            .iter()
            .any(|f| f.starts_with("missing-migration@app/models.py")),
        "{:?}",
        run.findings()
    );
    let notes = run.json()["notes"].to_string();
    assert!(
        notes.contains("The database checks could not run")
            && notes.contains("is not installed in"),
        "{notes}"
    );
}
