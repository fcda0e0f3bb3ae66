//! `alembot status` end to end: live SQLite, PostgreSQL and MariaDB
//! databases prepared with the project's own `alembic` and SQL (the cases
//! of the `status` fixture's scenario.json), inspected read-only.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;
use tempfile::TempDir;

use crate::dynamic::*;
use crate::support::*;

fn case(name: &str) -> Value {
    scenario("status")["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no status case {name}"))
        .clone()
}

/// A copy of the status project and a database prepared as `case` says.
fn prepare(backend: Backend, case: &Value) -> (TempDir, TestDb) {
    let project = fixture_copy("status");
    let db = TestDb::new(backend);
    let prep = &case["prepare"];
    alembic(
        project.path(),
        &db.url,
        &["upgrade", prep["upgrade"].as_str().unwrap()],
    );
    let statements: Vec<&str> = prep["sql"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if !statements.is_empty() {
        execute(&db.url, &statements);
    }
    (project, db)
}

fn status(project: &Path, databases: &[&str], extra: &[&str]) -> Run {
    let py = python();
    let mut args = vec!["status", "--python", &py];
    for d in databases {
        args.extend(["--database", d]);
    }
    args.extend_from_slice(extra);
    run_in(project, &args, &[])
}

/// Compares a status row with a case's `expected_status` and findings;
/// returns the problems.
fn check_row(row: &Value, case: &Value, backend: Backend) -> Vec<String> {
    let mut problems = Vec::new();
    for (key, want) in case["expected_status"].as_object().unwrap() {
        match want {
            Value::Object(fields) => {
                for (k, v) in fields {
                    if row[key][k] != *v {
                        problems.push(format!("{key}.{k} = {}, expected {v}", row[key][k]));
                    }
                }
            }
            _ => {
                if row[key] != *want {
                    problems.push(format!("{key} = {}, expected {want}", row[key]));
                }
            }
        }
    }
    problems.extend(match_findings(
        case["expected"].as_array().unwrap(),
        row["findings"].as_array().unwrap(),
        backend.name(),
        case["exhaustive"].as_bool().unwrap_or(true),
    ));
    problems
}

fn healthy(row: &Value) -> bool {
    row["state"] == "up-to-date"
        && row["drift"]["clean"] != Value::Bool(false)
        && row["findings"].as_array().is_some_and(Vec::is_empty)
}

fn status_case(name: &str, backend: Backend) {
    let case = case(name);
    let (project, db) = prepare(backend, &case);
    let before = schema_fingerprint(&db.url);
    let run = status(project.path(), &[&db.url], &["--format", "json"]);
    assert_eq!(
        schema_fingerprint(&db.url),
        before,
        "status changed the database"
    );
    let ctx = format!("stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    let report = run.json();
    let rows = report["databases"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{ctx}");
    let row = &rows[0];
    let problems = check_row(row, &case, backend);
    assert!(problems.is_empty(), "{}\n{ctx}", problems.join("\n"));
    assert_eq!(row["database"], db.url.as_str());
    assert_eq!(row["environment"], "main");
    assert_eq!(row["error"], Value::Null);
    assert_eq!(row["heads"], serde_json::json!(["d59c7bc9b849"]));
    // A health check: 0 only when up to date and matching the models.
    run.assert_code(if healthy(row) { 0 } else { 1 });
    // Nothing was written next to the project either.
    assert!(!project.path().join("app.db").exists());
}

macro_rules! status_cases {
    ($($module:ident: $case:literal;)+) => {
        $(
            mod $module {
                use crate::dynamic::Backend;

                #[test]
                fn sqlite() {
                    super::status_case($case, Backend::Sqlite);
                }

                #[test]
                fn postgresql() {
                    super::status_case($case, Backend::Postgresql);
                }

                #[test]
                fn mysql() {
                    super::status_case($case, Backend::Mysql);
                }
            }
        )+
        const CASES: &[&str] = &[$($case),+];
    };
}

status_cases! {
    at_head: "at-head";
    behind: "behind";
    unknown_revision: "unknown-revision";
    no_version_table: "no-version-table";
    column_added_by_hand: "column-added-by-hand";
    column_renamed_by_hand: "renamed";
    column_dropped_by_hand: "dropped";
}

#[test]
fn every_status_case_has_a_test() {
    let s = scenario("status");
    let names: BTreeSet<&str> = s["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(names, CASES.iter().copied().collect());
    assert_eq!(
        s["backends"],
        serde_json::json!(["sqlite", "postgresql", "mysql"])
    );
}

// ---------------------------------------------------------------------------
// Read-only, proved with roles that may only read

/// A PostgreSQL login role with only SELECT rights on one database,
/// dropped (with its grants) when the guard goes.
struct PgReader {
    db_url: String,
    server: String,
    role: String,
    password: String,
}

impl PgReader {
    fn new(db: &TestDb) -> PgReader {
        let server = Backend::Postgresql.server_url();
        let role = format!("abtest_ro_{}", random_suffix(8));
        let password = format!("pw-{}", random_suffix(16));
        execute_autocommit(
            &server,
            &[&format!("CREATE ROLE {role} LOGIN PASSWORD '{password}'")],
        );
        let reader = PgReader {
            db_url: db.url.clone(),
            server,
            role,
            password,
        };
        let role = &reader.role;
        execute_autocommit(
            &db.url,
            &[
                &format!("GRANT CONNECT ON DATABASE {} TO {role}", db.name),
                &format!("GRANT USAGE ON SCHEMA public TO {role}"),
                &format!("GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}"),
            ],
        );
        reader
    }

    fn url(&self) -> String {
        let (_, rest) = self.db_url.split_once('@').unwrap();
        format!("postgresql://{}:{}@{rest}", self.role, self.password)
    }
}

impl Drop for PgReader {
    fn drop(&mut self) {
        let role = &self.role;
        let _ = std::panic::catch_unwind(|| {
            execute_autocommit(&self.db_url, &[&format!("DROP OWNED BY {role}")]);
            execute_autocommit(&self.server, &[&format!("DROP ROLE IF EXISTS {role}")]);
        });
    }
}

/// A MariaDB/MySQL user with only SELECT on one database.
struct MysqlReader {
    db_url: String,
    server: String,
    user: String,
    password: String,
}

impl MysqlReader {
    fn new(db: &TestDb) -> MysqlReader {
        let server = Backend::Mysql.server_url();
        let user = format!("abtest_ro_{}", random_suffix(8));
        let password = format!("pw-{}", random_suffix(16));
        execute_autocommit(
            &server,
            &[
                &format!("CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'"),
                &format!("GRANT SELECT ON {}.* TO '{user}'@'%'", db.name),
            ],
        );
        MysqlReader {
            db_url: db.url.clone(),
            server,
            user,
            password,
        }
    }

    fn url(&self) -> String {
        let (_, rest) = self.db_url.split_once('@').unwrap();
        format!("mysql://{}:{}@{rest}", self.user, self.password)
    }
}

impl Drop for MysqlReader {
    fn drop(&mut self) {
        let sql = format!("DROP USER IF EXISTS '{}'@'%'", self.user);
        let _ = std::panic::catch_unwind(|| execute_autocommit(&self.server, &[&sql]));
    }
}

/// Runs status as a reader (JSON, human, and human with debug logs):
/// the database is unchanged, the password never shows, and the result is
/// the case's.
fn status_as_reader(
    case_name: &str,
    backend: Backend,
    db: &TestDb,
    project: &Path,
    url: &str,
    password: &str,
) {
    let case = case(case_name);
    let before = schema_fingerprint(&db.url);
    let json = status(project, &[url], &["--format", "json"]);
    let human = status(project, &[url], &[]);
    let logged = status(project, &[url], &["-vv"]);
    assert_eq!(
        schema_fingerprint(&db.url),
        before,
        "status changed the database"
    );
    for run in [&json, &human, &logged] {
        let all = format!("{}{}", run.stdout, run.stderr);
        assert!(!all.contains(password), "the password was printed:\n{all}");
        assert!(
            !all.to_lowercase().contains("permission denied") && !all.contains("command denied"),
            "status tried to write:\n{all}"
        );
    }
    let ctx = format!("stdout:\n{}\nstderr:\n{}", json.stdout, json.stderr);
    let row = &json.json()["databases"][0];
    let problems = check_row(row, &case, backend);
    assert!(problems.is_empty(), "{}\n{ctx}", problems.join("\n"));
    assert!(row["database"].as_str().unwrap().contains(":***@"), "{ctx}");
    assert!(human.stdout.contains(":***@"), "{}", human.stdout);
    json.assert_code(if healthy(row) { 0 } else { 1 });
}

fn select_only_postgres_role(case_name: &str) {
    let (project, db) = prepare(Backend::Postgresql, &case(case_name));
    let reader = PgReader::new(&db);
    status_as_reader(
        case_name,
        Backend::Postgresql,
        &db,
        project.path(),
        &reader.url(),
        &reader.password,
    );
}

#[test]
fn a_select_only_postgres_role_at_head_is_enough() {
    select_only_postgres_role("at-head");
}

#[test]
fn a_select_only_postgres_role_without_a_version_table_is_enough() {
    select_only_postgres_role("no-version-table");
}

#[test]
fn a_select_only_postgres_role_sees_a_rename_by_hand() {
    select_only_postgres_role("renamed");
}

fn select_only_mysql_user(case_name: &str) {
    let (project, db) = prepare(Backend::Mysql, &case(case_name));
    let reader = MysqlReader::new(&db);
    status_as_reader(
        case_name,
        Backend::Mysql,
        &db,
        project.path(),
        &reader.url(),
        &reader.password,
    );
}

#[test]
fn a_select_only_mysql_user_at_head_is_enough() {
    select_only_mysql_user("at-head");
}

#[test]
fn a_select_only_mysql_user_behind_is_enough() {
    select_only_mysql_user("behind");
}

#[test]
fn a_select_only_mysql_user_without_a_version_table_is_enough() {
    select_only_mysql_user("no-version-table");
}

// ---------------------------------------------------------------------------
// Unreachable servers, fleets, formats

#[test]
fn an_unreachable_server_exits_2_with_a_clear_message() {
    let project = fixture_copy("status");
    let url = "postgresql://app:hunter2secret@127.0.0.1:1/prod";
    for format in ["human", "json"] {
        let run = status(project.path(), &[url], &["--format", format]);
        run.assert_code(2);
        let all = format!("{}{}", run.stdout, run.stderr);
        assert!(!all.contains("hunter2secret"), "{all}");
        assert!(all.contains("cannot connect to the database"), "{all}");
        assert!(all.contains("127.0.0.1"), "{all}");
        if format == "human" {
            assert!(run.stdout.contains("unreachable"), "{}", run.stdout);
            assert!(
                run.stdout
                    .contains("0 healthy, 0 need attention, 1 unreachable"),
                "{}",
                run.stdout
            );
        } else {
            let report = run.json();
            let row = &report["databases"][0];
            assert_eq!(row["database"], "postgresql://app:***@127.0.0.1:1/prod");
            assert!(row["error"].as_str().unwrap().contains("cannot connect"));
            assert_eq!(report["summary"]["unreachable"], 1);
        }
    }
}

#[test]
fn one_unreachable_database_in_a_fleet_makes_it_exit_2() {
    let (project, db) = prepare(Backend::Postgresql, &case("at-head"));
    let run = status(
        project.path(),
        &[&db.url, "mysql://root:pw-hidden@127.0.0.1:1/prod"],
        &["--format", "json"],
    );
    run.assert_code(2);
    assert!(!run.stdout.contains("pw-hidden") && !run.stderr.contains("pw-hidden"));
    let report = run.json();
    assert_eq!(
        report["summary"],
        serde_json::json!({"healthy": 1, "unhealthy": 0, "unreachable": 1})
    );
}

/// The random database names, replaced by placeholders of the same length
/// (the table stays aligned).
fn redact_names(text: &str, dbs: &[&TestDb]) -> String {
    let mut out = text.to_string();
    for (i, db) in dbs.iter().enumerate() {
        let placeholder = format!("abtest_db{i}{}", "_".repeat(db.name.len() - 10));
        out = out.replace(&db.name, &placeholder);
    }
    out
}

fn default_servers() -> bool {
    Backend::Postgresql.server_url() == "postgresql://postgres@127.0.0.1:5432/postgres"
        && Backend::Mysql.server_url() == "mysql://root@127.0.0.1:3306/"
}

#[test]
fn several_databases_print_one_fleet_table() {
    let project = fixture_copy("status");
    // SQLite at head, next to the project (a relative URL keeps the
    // snapshot free of temporary paths).
    alembic(project.path(), "sqlite:///live.db", &["upgrade", "head"]);
    let (_, behind) = prepare(Backend::Postgresql, &case("behind"));
    let (_, added) = prepare(Backend::Mysql, &case("column-added-by-hand"));
    let pinned = format!("main={}", added.url);
    let databases = ["sqlite:///live.db", behind.url.as_str(), pinned.as_str()];
    let run = status(project.path(), &databases, &[]);
    run.assert_code(1);
    let text = redact_names(&run.stdout, &[&behind, &added]);
    assert_eq!(
        text.lines()
            .filter(|l| l.starts_with("main ") && !l.starts_with("main @"))
            .count(),
        3,
        "{text}"
    );
    assert!(
        text.contains("1 healthy, 2 need attention, 0 unreachable"),
        "{text}"
    );
    if default_servers() {
        insta::assert_snapshot!("status_fleet_table", text);
    } else {
        println!("status fleet snapshot not compared: the test servers are not the default URLs");
    }
    // The same fleet as JSON: one row per database, in order.
    let json = status(project.path(), &databases, &["--format", "json"]).json();
    let rows = json["databases"].as_array().unwrap();
    let states: Vec<&str> = rows.iter().filter_map(|r| r["state"].as_str()).collect();
    assert_eq!(states, ["up-to-date", "behind", "up-to-date"]);
    assert_eq!(rows[2]["database"], added.url.as_str());
}

#[test]
fn json_has_a_stable_shape() {
    let (project, db) = prepare(Backend::Postgresql, &case("behind"));
    let run = status(project.path(), &[&db.url], &["--format", "json"]);
    run.assert_code(1);
    let report = run.json();
    let keys = |v: &Value| -> BTreeSet<String> { v.as_object().unwrap().keys().cloned().collect() };
    assert_eq!(
        keys(&report),
        ["databases", "summary", "version"].map(String::from).into()
    );
    assert_eq!(report["version"], 1);
    assert_eq!(
        report["summary"],
        serde_json::json!({"healthy": 0, "unhealthy": 1, "unreachable": 0})
    );
    let row = &report["databases"][0];
    for key in [
        "environment",
        "database",
        "dialect",
        "server_version",
        "read_only",
        "version_table",
        "version_table_exists",
        "current",
        "heads",
        "state",
        "pending",
        "unknown",
        "summary",
        "drift",
        "findings",
        "error",
    ] {
        assert!(row.get(key).is_some(), "no {key} in {row}");
    }
    assert_eq!(row["dialect"], "postgresql");
    assert_eq!(row["version_table"], "alembic_version");
    assert_eq!(row["version_table_exists"], true);
    assert_eq!(row["current"], serde_json::json!(["90724b3a4370"]));
    assert_eq!(
        row["pending"],
        serde_json::json!(["c8d5bb80e90e", "d59c7bc9b849"])
    );
    assert!(row["read_only"].as_str().unwrap().contains("READ ONLY"));
    let drift = &row["drift"];
    assert_eq!(drift["checked"], true);
    assert_eq!(drift["clean"], false);
    assert_eq!(drift["differences"], 2);
    for f in row["findings"].as_array().unwrap() {
        for key in [
            "code",
            "severity",
            "file",
            "line",
            "environment",
            "message",
            "help",
        ] {
            assert!(f.get(key).is_some(), "no {key} in {f}");
        }
        assert_eq!(f["environment"], "main");
    }
    // The raw stdout has each key once per object (no flattened duplicates).
    assert_eq!(
        run.stdout.matches("\"database\":").count(),
        1,
        "{}",
        run.stdout
    );
}
