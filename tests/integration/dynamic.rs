//! Support for the tests that run the project's Python and real databases:
//! the interpreter, the servers, fixture projects, throwaway databases and
//! the expected findings in each fixture's `scenario.json`.
//!
//! Nothing here skips: a missing interpreter or an unreachable server
//! fails the test with the command that fixes it.
//!
//! Environment (the same as tests/python/harness.py):
//! - `ALEMBOT_TEST_PYTHON`: the venv's python (`scripts/setup-python`),
//!   else `.venv/bin/python` in the repository;
//! - `ALEMBOT_TEST_PYTHON_SQLA14`: SQLAlchemy 1.4 (`--sqla14`), else
//!   `.venv-sqla14/bin/python`;
//! - `ALEMBOT_TEST_POSTGRES_URL`, `ALEMBOT_TEST_MYSQL_URL`: the servers.

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::Value;
use tempfile::TempDir;

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn interpreter(var: &str, venv: &str, setup: &str) -> String {
    if let Some(p) = std::env::var_os(var).filter(|p| !p.is_empty()) {
        return p.to_string_lossy().into_owned();
    }
    let fallback = repo_root().join(venv).join("bin/python");
    if fallback.exists() {
        return fallback.display().to_string();
    }
    panic!(
        "no Python environment for the job tests: run\n    export {var}=$(scripts/setup-python{setup} | tail -1)\n(or create {})",
        fallback.display()
    );
}

/// The Python with SQLAlchemy 2, Alembic and every driver the tests use.
pub fn python() -> String {
    static PY: OnceLock<String> = OnceLock::new();
    PY.get_or_init(|| interpreter("ALEMBOT_TEST_PYTHON", ".venv", ""))
        .clone()
}

/// The Python with SQLAlchemy 1.4 and Alembic 1.8.
pub fn python_sqla14() -> String {
    // The Python tests' name for it, too.
    if let Some(p) = std::env::var_os("ALEMBOT_SQLA14_PYTHON").filter(|p| !p.is_empty()) {
        return p.to_string_lossy().into_owned();
    }
    interpreter("ALEMBOT_TEST_PYTHON_SQLA14", ".venv-sqla14", " --sqla14")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgresql,
    Mysql,
}

impl Backend {
    pub fn from_name(name: &str) -> Backend {
        match name {
            "sqlite" => Backend::Sqlite,
            "postgresql" => Backend::Postgresql,
            "mysql" => Backend::Mysql,
            other => panic!("unknown backend {other}"),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgresql => "postgresql",
            Backend::Mysql => "mysql",
        }
    }

    /// The server's admin URL (a database alembot may create databases on).
    pub fn server_url(self) -> String {
        let url = match self {
            Backend::Sqlite => panic!("SQLite has no server"),
            Backend::Postgresql => std::env::var("ALEMBOT_TEST_POSTGRES_URL")
                .unwrap_or_else(|_| "postgresql://postgres@127.0.0.1:5432/postgres".into()),
            Backend::Mysql => std::env::var("ALEMBOT_TEST_MYSQL_URL")
                .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/".into()),
        };
        require_server(self, &url);
        url
    }

    /// What `verify --database` gets for this backend.
    pub fn provider(self) -> String {
        match self {
            Backend::Sqlite => "sqlite".into(),
            _ => self.server_url(),
        }
    }
}

/// Fails (never skips) when a server the tests need does not answer.
fn require_server(backend: Backend, url: &str) {
    static CHECKED: OnceLock<std::sync::Mutex<BTreeSet<String>>> = OnceLock::new();
    let checked = CHECKED.get_or_init(Default::default);
    if checked.lock().unwrap().contains(url) {
        return;
    }
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or("");
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let addr = hostport
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .unwrap_or_else(|| panic!("cannot resolve {hostport} for {}", backend.name()));
    if TcpStream::connect_timeout(&addr, Duration::from_secs(5)).is_err() {
        panic!(
            "the {} server at {hostport} is not reachable: start it with scripts/services \
             (the job tests need PostgreSQL and MariaDB/MySQL; they never skip them)",
            backend.name()
        );
    }
    checked.lock().unwrap().insert(url.to_string());
}

/// `postgresql://` / `mysql://` with the driver the test environment has,
/// for the Python snippets and `alembic` commands the tests run themselves.
pub fn with_driver(url: &str) -> String {
    if let Some(rest) = url.strip_prefix("postgresql://") {
        format!("postgresql+psycopg2://{rest}")
    } else if let Some(rest) = url.strip_prefix("mysql://") {
        format!("mysql+pymysql://{rest}")
    } else {
        url.to_string()
    }
}

/// The URL of database `name` on the server at `server`.
pub fn database_url(server: &str, name: &str) -> String {
    let (scheme, rest) = server.split_once("://").expect("a URL");
    let authority = rest.split('/').next().unwrap_or("");
    format!("{scheme}://{authority}/{name}")
}

pub fn random_suffix(n: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    (0..n)
        .map(|_| ALPHABET[fastrand::usize(..ALPHABET.len())] as char)
        .collect()
}

// Plain DBAPI cursors: SQLAlchemy's exec_driver_sql would hand the drivers
// an empty parameter tuple, and they would then read every `%` as a
// placeholder.
const SQL_SNIPPET: &str = r#"
import json, sys
import sqlalchemy as sa
url, statements, autocommit = json.loads(sys.stdin.read())
kw = {"future": True} if sa.__version__.startswith("1.") else {}
if autocommit:
    kw["isolation_level"] = "AUTOCOMMIT"
engine = sa.create_engine(url, **kw)
raw = engine.raw_connection()
out = []
try:
    cursor = raw.cursor()
    for statement in statements:
        cursor.execute(statement)
        out.append([list(row) for row in cursor.fetchall()] if cursor.description else None)
    cursor.close()
    raw.commit()
finally:
    raw.close()
engine.dispose()
print(json.dumps(out, default=str))
"#;

fn run_sql(url: &str, statements: &[&str], autocommit: bool) -> Vec<Option<Vec<Vec<Value>>>> {
    let mut child = Command::new(python())
        .args(["-c", SQL_SNIPPET])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python runs");
    let body = serde_json::to_vec(&(with_driver(url), statements, autocommit)).unwrap();
    child.stdin.take().unwrap().write_all(&body).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "SQL failed on {}: {statements:?}\n{}",
        redact_password(url),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON from the SQL snippet")
}

/// Runs statements in one transaction.
pub fn execute(url: &str, statements: &[&str]) {
    run_sql(url, statements, false);
}

/// Runs statements outside a transaction (CREATE DATABASE, roles).
pub fn execute_autocommit(url: &str, statements: &[&str]) {
    run_sql(url, statements, true);
}

/// The rows of one query.
pub fn query(url: &str, sql: &str) -> Vec<Vec<Value>> {
    run_sql(url, &[sql], true)
        .pop()
        .flatten()
        .unwrap_or_default()
}

fn redact_password(url: &str) -> String {
    match (url.split_once("://"), url.rfind('@')) {
        (Some((scheme, rest)), Some(_)) => {
            let (auth, host) = rest.rsplit_once('@').unwrap();
            match auth.split_once(':') {
                Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// A database the test itself creates (never named `alembot_*`, so the
/// cleanup tests can tell it from alembot's), dropped when the guard goes.
pub struct TestDb {
    pub backend: Backend,
    /// The URL a user would pass (no driver), with the database name.
    pub url: String,
    pub name: String,
    server: Option<String>,
    _dir: Option<TempDir>,
}

impl TestDb {
    pub fn new(backend: Backend) -> TestDb {
        let name = format!("abtest_{}", random_suffix(12));
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::Builder::new()
                    .prefix("abtest-sqlite-")
                    .tempdir()
                    .unwrap();
                let path = dir.path().join(format!("{name}.db"));
                TestDb {
                    backend,
                    url: format!("sqlite:///{}", path.display()),
                    name,
                    server: None,
                    _dir: Some(dir),
                }
            }
            _ => {
                let server = backend.server_url();
                execute_autocommit(&server, &[&format!("CREATE DATABASE {name}")]);
                TestDb {
                    backend,
                    url: database_url(&server, &name),
                    name,
                    server: Some(server),
                    _dir: None,
                }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(server) = &self.server {
            let drop = match self.backend {
                Backend::Postgresql => {
                    format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)
                }
                _ => format!("DROP DATABASE IF EXISTS {}", self.name),
            };
            let _ = std::panic::catch_unwind(|| execute_autocommit(server, &[&drop]));
        }
    }
}

/// Whether database `name` exists on the backend's server.
pub fn database_exists(backend: Backend, name: &str) -> bool {
    let server = backend.server_url();
    let sql = match backend {
        Backend::Postgresql => format!("SELECT 1 FROM pg_database WHERE datname = '{name}'"),
        Backend::Mysql => {
            format!("SELECT 1 FROM information_schema.schemata WHERE schema_name = '{name}'")
        }
        Backend::Sqlite => return false,
    };
    !query(&server, &sql).is_empty()
}

/// Runs the project's own `alembic` (to prepare a database).
pub fn alembic(project: &Path, url: &str, args: &[&str]) {
    let out = Command::new(python())
        .args(["-m", "alembic", "-c", "alembic.ini"])
        .args(args)
        .current_dir(project)
        .env("DATABASE_URL", with_driver(url))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "alembic {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Tables, columns (type, nullability, default), indexes, unique and
/// foreign-key constraints, the version rows and, on PostgreSQL, every
/// relation and type in the schema: read in a separate process, to prove a
/// command wrote nothing.
pub fn schema_fingerprint(url: &str) -> Value {
    const CODE: &str = r#"
import json, sys
import sqlalchemy as sa
kw = {"future": True} if sa.__version__.startswith("1.") else {}
engine = sa.create_engine(sys.argv[1], **kw)
out = {}
with engine.connect() as conn:
    insp = sa.inspect(conn)
    for t in sorted(insp.get_table_names()):
        out[t] = {
            "columns": [[c["name"], str(c["type"]), c["nullable"], str(c.get("default"))]
                        for c in insp.get_columns(t)],
            "indexes": sorted([i["name"], i["column_names"], bool(i["unique"])]
                              for i in insp.get_indexes(t)),
            "unique": sorted([u["name"] or "", u["column_names"]] for u in insp.get_unique_constraints(t)),
            "fks": sorted([f["constrained_columns"], f["referred_table"]]
                          for f in insp.get_foreign_keys(t)),
        }
    if "alembic_version" in out:
        out["version rows"] = sorted(r[0] for r in conn.exec_driver_sql("SELECT version_num FROM alembic_version"))
    if conn.dialect.name == "postgresql":
        out["pg_class"] = sorted(list(r) for r in conn.exec_driver_sql(
            "SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public'"))
        out["pg_type"] = sorted(r[0] for r in conn.exec_driver_sql(
            "SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
            "WHERE n.nspname = 'public'"))
engine.dispose()
print(json.dumps(out, sort_keys=True, default=str))
"#;
    let out = Command::new(python())
        .args(["-c", CODE, &with_driver(url)])
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "fingerprint failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

// ---------------------------------------------------------------------------
// Fixture projects

pub fn fixtures() -> PathBuf {
    repo_root().join("tests/fixtures/projects")
}

pub fn scenario(name: &str) -> Value {
    let path = fixtures().join(name).join("scenario.json");
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// The names of the fixtures whose scenario has this `action`.
pub fn scenarios(action: &str) -> Vec<String> {
    let mut out: Vec<String> = fs::read_dir(fixtures())
        .unwrap()
        .filter_map(|e| {
            let name = e.ok()?.file_name().to_string_lossy().into_owned();
            let s = fixtures().join(&name).join("scenario.json");
            s.is_file()
                .then(|| scenario(&name))
                .filter(|v| v["action"] == action)
                .map(|_| name)
        })
        .collect();
    out.sort();
    out
}

/// Copies a fixture project (without its scenario.json and caches) into `dest`.
pub fn copy_fixture(name: &str, dest: &Path) {
    copy_tree(&fixtures().join(name), dest, true);
}

fn copy_tree(from: &Path, to: &Path, top: bool) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        let name_str = name.to_string_lossy();
        if (top && name_str == "scenario.json") || name_str == "__pycache__" {
            continue;
        }
        let target = to.join(&name);
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target, false);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A temporary directory holding a copy of a fixture.
pub fn fixture_copy(name: &str) -> TempDir {
    let dir = tempfile::Builder::new()
        .prefix("alembot-test-")
        .tempdir()
        .unwrap();
    copy_fixture(name, dir.path());
    dir
}

/// Every file under `dir` (relative paths), to prove a run wrote nothing.
pub fn file_list(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            if entry.file_type().unwrap().is_dir() {
                if entry.file_name() != ".git" {
                    walk(root, &path, out);
                }
            } else {
                out.push(path.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Codes the dynamic job reports (the static check reports the others).
pub const DYNAMIC_CODES: &[&str] = &[
    "project-error",
    "upgrade-failed",
    "drift",
    "possible-rename",
    "unregistered-model",
    "downgrade-failed",
    "downgrade-debris",
    "irreversible-migration",
    "data-upgrade-failed",
    "data-test-failed",
];

/// Compares expected findings (scenario.json form: every key given must
/// match, `null` meaning absent; `backends` limits where one applies) with
/// the findings of a report. With `exhaustive`, findings of dynamic kinds
/// that nobody expected are problems too. Returns the problems.
pub fn match_findings(
    expected: &[Value],
    actual: &[Value],
    backend: &str,
    exhaustive: bool,
) -> Vec<String> {
    let mut problems = Vec::new();
    let mut used = vec![false; actual.len()];
    for e in expected {
        let Some(map) = e.as_object() else { continue };
        if let Some(list) = map.get("backends").and_then(Value::as_array)
            && !list.iter().any(|b| b == backend)
        {
            continue;
        }
        let hit = actual.iter().enumerate().position(|(i, a)| {
            !used[i]
                && map
                    .iter()
                    .filter(|(k, _)| *k != "backends")
                    .all(|(k, v)| a.get(k).unwrap_or(&Value::Null) == v)
        });
        match hit {
            Some(i) => used[i] = true,
            None => problems.push(format!("expected finding not reported: {e}")),
        }
    }
    if exhaustive {
        for (i, a) in actual.iter().enumerate() {
            let code = a["code"].as_str().unwrap_or("");
            if !used[i] && DYNAMIC_CODES.contains(&code) {
                problems.push(format!(
                    "unexpected finding: {} {} table={} column={} revision={} {}:{} {}",
                    code,
                    a["severity"],
                    a["table"],
                    a["column"],
                    a["revision"],
                    a["file"],
                    a["line"],
                    a["message"]
                ));
            }
        }
    }
    problems
}
