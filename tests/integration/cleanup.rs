//! Whatever ends a `verify` run (success, findings, a failing migration,
//! the timeout, SIGINT, SIGTERM), nothing it created is left: no
//! `alembot_*` database on the servers, no temporary directory, no cluster,
//! no process.
//!
//! Each run gets a private TMPDIR, so the directories of parallel tests do
//! not mix. The ephemeral PostgreSQL cluster lives in /tmp (its socket path
//! must be short), so it is found instead through its postmaster, which
//! inherits a tag from the environment alembot was started with.
//!
//! Databases are checked by name in the server's catalog (`pg_database`,
//! `information_schema.schemata`): the project's env.py (or the slow
//! migration) records the database each run works in, because other tests
//! and other checkouts create and drop their own `alembot_*` databases on
//! the same servers at the same time.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::dynamic::*;
use crate::support::*;

const PREFIXES: &[&str] = &[
    "alembot-run-",
    "alembot-sqlite-",
    "alembot-pg-",
    "alembot-tree-",
];

/// One run's private TMPDIR and the tag its processes carry.
struct Scratch {
    tmp: TempDir,
    tag: String,
}

impl Scratch {
    fn new() -> Scratch {
        Scratch {
            tmp: tempfile::Builder::new()
                .prefix("abtest-tmpdir-")
                .tempdir()
                .unwrap(),
            tag: random_suffix(16),
        }
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("TMPDIR", self.tmp.path().display().to_string()),
            ("ALEMBOT_TEST_TAG", self.tag.clone()),
        ]
    }

    /// alembot's directories left in the private TMPDIR.
    fn leftovers(&self) -> Vec<String> {
        fs::read_dir(self.tmp.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| PREFIXES.iter().any(|p| n.starts_with(p)))
            .collect()
    }

    /// Processes still carrying this run's tag (helpers, postmasters).
    fn processes(&self) -> Vec<u32> {
        tagged_processes(&self.tag)
    }

    /// Asserts that nothing of the run is left on this machine.
    fn assert_clean(&self, context: &str) {
        assert_eq!(
            self.leftovers(),
            Vec::<String>::new(),
            "temporary directories left\n{context}"
        );
        // Processes may take a moment to be reaped after their group is killed.
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.processes().is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        assert_eq!(
            self.processes(),
            Vec::<u32>::new(),
            "processes left\n{context}"
        );
    }
}

impl Drop for Scratch {
    /// A failed test still stops what it started.
    fn drop(&mut self) {
        for pid in self.processes() {
            // SAFETY: kill(2) has no memory-safety preconditions.
            unsafe {
                libc::kill(pid as i32, libc::SIGKILL);
            }
        }
    }
}

fn tagged_processes(tag: &str) -> Vec<u32> {
    let needle = format!("ALEMBOT_TEST_TAG={tag}");
    let mut out = Vec::new();
    for entry in fs::read_dir("/proc").unwrap().filter_map(|e| e.ok()) {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(environ) = fs::read(entry.path().join("environ")) else {
            continue;
        };
        let zombie = fs::read_to_string(entry.path().join("stat")).is_ok_and(|s| {
            s.rsplit(')')
                .next()
                .is_some_and(|r| r.trim_start().starts_with('Z'))
        });
        if !zombie
            && environ
                .split(|&b| b == 0)
                .any(|var| var == needle.as_bytes())
        {
            out.push(pid);
        }
    }
    out
}

fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && !fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
            s.rsplit(')')
                .next()
                .is_some_and(|r| r.trim_start().starts_with('Z'))
        })
}

/// Whether `pid` is gone, allowing a killed process a moment to be torn
/// down (it is SIGKILLed, but the kernel may not have finished with it
/// when alembot exits).
fn ended(pid: u32) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while alive(pid) {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    true
}

/// What the slow migration wrote: its process id and its database.
struct Marker {
    helper_pid: u32,
    database: String,
}

/// Waits until the slow migration runs (its marker appears).
fn wait_for_marker(path: &Path, run: &mut Background, limit: Duration) -> Marker {
    let deadline = Instant::now() + limit;
    loop {
        if let Ok(text) = fs::read_to_string(path) {
            let mut lines = text.lines();
            return Marker {
                helper_pid: lines.next().unwrap().parse().unwrap(),
                database: lines.next().unwrap_or("").to_string(),
            };
        }
        assert!(run.running(), "alembot ended before the migration ran");
        assert!(
            Instant::now() < deadline,
            "the slow migration did not start within {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Drops a database alembot should have dropped, if a test fails.
struct DropLeak {
    backend: Backend,
    name: Option<String>,
}

impl Drop for DropLeak {
    fn drop(&mut self) {
        if let Some(name) = &self.name
            && name.starts_with("alembot_")
            && self.backend != Backend::Sqlite
        {
            let server = self.backend.server_url();
            let sql = match self.backend {
                Backend::Postgresql => format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                _ => format!("DROP DATABASE IF EXISTS {name}"),
            };
            let _ = std::panic::catch_unwind(|| execute_autocommit(&server, &[&sql]));
        }
    }
}

/// The databases a `-v` run says it dropped.
fn dropped_databases(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter_map(|l| l.split("cleanup: drop database ").nth(1))
        .filter_map(|rest| rest.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

/// Makes the project's env.py note, in `record`, the name of every
/// database it runs against: exactly the databases this run created, even
/// while other tests and checkouts create their own `alembot_*` databases
/// on the same servers.
fn record_databases(project: &Path, record: &Path) {
    let env_py = project.join("migrations/env.py");
    let text = fs::read_to_string(&env_py).unwrap();
    let snippet = format!(
        "import os as _os\nfrom sqlalchemy.engine import make_url as _make_url\n\
         with open({record:?}, \"a\") as _fh:\n    \
         _fh.write(\"%s\\n\" % _make_url(_os.environ[\"DATABASE_URL\"]).database)\n",
        record = record.display().to_string()
    );
    fs::write(&env_py, snippet + &text).unwrap();
}

fn recorded(record: &Path) -> BTreeSet<String> {
    fs::read_to_string(record)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

fn context(run: &Run) -> String {
    format!(
        "exit {}\nstdout:\n{}\nstderr:\n{}",
        run.code, run.stdout, run.stderr
    )
}

/// A run to its end: `fixture` with `verify --all -v` on `backend`.
fn complete_run(fixture: &str, backend: Backend, expect: i32) {
    let scratch = Scratch::new();
    let project = fixture_copy(fixture);
    let record = scratch.tmp.path().join("databases");
    record_databases(project.path(), &record);
    let provider = backend.provider();
    let py = python();
    let env = scratch.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let run = run_in(
        project.path(),
        &[
            "verify",
            "-v",
            "--all",
            "--database",
            &provider,
            "--python",
            &py,
        ],
        &env,
    );
    let ctx = context(&run);
    let used = recorded(&record);
    let _guards: Vec<DropLeak> = used
        .iter()
        .map(|n| DropLeak {
            backend,
            name: Some(n.clone()),
        })
        .collect();
    assert_eq!(run.code, expect, "{ctx}");
    assert_eq!(used.len(), 1, "env.py saw {used:?}\n{ctx}");
    for name in &used {
        if backend == Backend::Sqlite {
            assert!(!Path::new(name).exists(), "{name} is still there\n{ctx}");
        } else {
            assert!(name.starts_with("alembot_"), "{name}");
            assert!(
                !database_exists(backend, name),
                "{name} is still there\n{ctx}"
            );
            // And alembot says it dropped it.
            assert_eq!(
                dropped_databases(&run.stderr),
                std::slice::from_ref(name),
                "{ctx}"
            );
        }
    }
    std::fs::remove_file(&record).unwrap();
    scratch.assert_clean(&ctx);
}

#[test]
fn a_clean_run_leaves_nothing_on_sqlite() {
    complete_run("clean", Backend::Sqlite, 0);
}

#[test]
fn a_clean_run_leaves_nothing_on_postgresql() {
    complete_run("clean", Backend::Postgresql, 0);
}

#[test]
fn a_clean_run_leaves_nothing_on_mysql() {
    complete_run("clean", Backend::Mysql, 0);
}

#[test]
fn a_failing_migration_leaves_nothing_on_sqlite() {
    complete_run("migration-raises", Backend::Sqlite, 1);
}

#[test]
fn a_failing_migration_leaves_nothing_on_postgresql() {
    complete_run("migration-raises", Backend::Postgresql, 1);
}

#[test]
fn a_failing_migration_leaves_nothing_on_mysql() {
    complete_run("migration-raises", Backend::Mysql, 1);
}

/// Starts `verify --all` on the slow fixture in the background.
fn start_slow(
    scratch: &Scratch,
    project: &Path,
    provider: &str,
    extra: &[&str],
) -> (Background, PathBuf) {
    let marker = scratch.tmp.path().join("marker");
    let py = python();
    let mut args = vec![
        "verify",
        "-v",
        "--all",
        "--database",
        provider,
        "--python",
        &py,
    ];
    args.extend_from_slice(extra);
    let mut env = scratch.env();
    env.push(("SLOW_MIGRATION_MARKER", marker.display().to_string()));
    (Background::start(project, &args, &env), marker)
}

/// The job is stopped while the slow migration runs; returns the outcome.
fn interrupted_run(backend: Backend, signal: i32) -> (Run, Marker, Scratch) {
    let scratch = Scratch::new();
    let project = fixture_copy("slow-migration");
    let provider = backend.provider();
    let (mut run, marker_path) = start_slow(&scratch, project.path(), &provider, &[]);
    let marker = wait_for_marker(&marker_path, &mut run, Duration::from_secs(90));
    let _leak = DropLeak {
        backend,
        name: Some(marker.database.clone()),
    };
    assert!(alive(marker.helper_pid));
    run.signal(signal);
    let started = Instant::now();
    let outcome = run.finish(Duration::from_secs(60));
    let ctx = context(&outcome);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "cleanup took {:?}\n{ctx}",
        started.elapsed()
    );
    assert!(
        ended(marker.helper_pid),
        "the helper is still running\n{ctx}"
    );
    match backend {
        Backend::Sqlite => assert!(
            !Path::new(&marker.database).exists(),
            "{} is still there\n{ctx}",
            marker.database
        ),
        _ => {
            assert!(
                marker.database.starts_with("alembot_"),
                "{}",
                marker.database
            );
            assert!(
                !database_exists(backend, &marker.database),
                "{} is still there\n{ctx}",
                marker.database
            );
        }
    }
    scratch.assert_clean(&ctx);
    (outcome, marker, scratch)
}

fn assert_interrupted(run: &Run, code: i32, signal: &str) {
    let ctx = context(run);
    assert_eq!(run.code, code, "{ctx}");
    assert!(
        run.stderr.contains(&format!(
            "interrupted by {signal}; everything the job created was removed"
        )),
        "{ctx}"
    );
}

#[test]
fn sigint_mid_job_leaves_nothing_on_sqlite() {
    let (run, ..) = interrupted_run(Backend::Sqlite, libc::SIGINT);
    assert_interrupted(&run, 130, "SIGINT");
}

#[test]
fn sigint_mid_job_leaves_nothing_on_postgresql() {
    let (run, ..) = interrupted_run(Backend::Postgresql, libc::SIGINT);
    assert_interrupted(&run, 130, "SIGINT");
}

#[test]
fn sigint_mid_job_leaves_nothing_on_mysql() {
    let (run, ..) = interrupted_run(Backend::Mysql, libc::SIGINT);
    assert_interrupted(&run, 130, "SIGINT");
}

#[test]
fn sigterm_mid_job_leaves_nothing_on_postgresql() {
    let (run, ..) = interrupted_run(Backend::Postgresql, libc::SIGTERM);
    assert_interrupted(&run, 143, "SIGTERM");
}

#[test]
fn sigterm_mid_job_leaves_nothing_on_sqlite() {
    let (run, ..) = interrupted_run(Backend::Sqlite, libc::SIGTERM);
    assert_interrupted(&run, 143, "SIGTERM");
}

fn assert_timed_out(run: &Run, seconds: u64) {
    let ctx = context(run);
    assert_eq!(run.code, 2, "{ctx}");
    assert!(
        run.stderr.contains(&format!(
            "the job timed out after {seconds} s and was stopped; everything the job created was removed"
        )),
        "{ctx}"
    );
    assert!(run.stderr.contains("--timeout"), "{ctx}");
}

#[test]
fn a_timeout_of_one_second_stops_the_job_and_leaves_nothing() {
    let scratch = Scratch::new();
    let project = fixture_copy("slow-migration");
    let (run, _) = start_slow(&scratch, project.path(), "sqlite", &["--timeout", "1"]);
    let started = Instant::now();
    let outcome = run.finish(Duration::from_secs(60));
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_timed_out(&outcome, 1);
    scratch.assert_clean(&context(&outcome));
}

/// A timeout long enough for the slow migration to be under way: its
/// database and helper exist when the time runs out.
fn timeout_mid_migration(backend: Backend) {
    let scratch = Scratch::new();
    let project = fixture_copy("slow-migration");
    let provider = backend.provider();
    let (mut run, marker_path) =
        start_slow(&scratch, project.path(), &provider, &["--timeout", "15"]);
    let marker = wait_for_marker(&marker_path, &mut run, Duration::from_secs(15));
    let _leak = DropLeak {
        backend,
        name: Some(marker.database.clone()),
    };
    let outcome = run.finish(Duration::from_secs(60));
    let ctx = context(&outcome);
    assert_timed_out(&outcome, 15);
    assert!(
        ended(marker.helper_pid),
        "the helper is still running\n{ctx}"
    );
    if backend == Backend::Sqlite {
        assert!(!Path::new(&marker.database).exists(), "{ctx}");
    } else {
        assert!(!database_exists(backend, &marker.database), "{ctx}");
    }
    scratch.assert_clean(&ctx);
}

#[test]
fn a_timeout_mid_migration_leaves_nothing_on_sqlite() {
    timeout_mid_migration(Backend::Sqlite);
}

#[test]
fn a_timeout_mid_migration_leaves_nothing_on_postgresql() {
    timeout_mid_migration(Backend::Postgresql);
}

#[test]
fn a_timeout_mid_migration_leaves_nothing_on_mysql() {
    timeout_mid_migration(Backend::Mysql);
}

// ---------------------------------------------------------------------------
// The ephemeral PostgreSQL cluster

/// Fails (never skips) without PostgreSQL's server programs.
fn require_initdb() {
    let bindir = Command::new("pg_config")
        .arg("--bindir")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    let found = bindir.is_some_and(|d| d.join("initdb").is_file())
        || std::env::var_os("PATH")
            .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("initdb").is_file()));
    assert!(
        found,
        "the postgres-ephemeral tests need PostgreSQL's server programs (initdb, pg_ctl): install the postgresql package"
    );
}

/// The data directories of the run's running postmasters (a postgres
/// process works in its data directory).
fn cluster_dirs(scratch: &Scratch) -> BTreeSet<PathBuf> {
    scratch
        .processes()
        .into_iter()
        .filter(|pid| {
            fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == "postgres")
        })
        .filter_map(|pid| fs::read_link(format!("/proc/{pid}/cwd")).ok())
        .filter_map(|cwd| {
            cwd.ancestors()
                .find(|d| {
                    d.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with("alembot-pg-"))
                })
                .map(Path::to_path_buf)
        })
        .collect()
}

fn assert_cluster_gone(dirs: &BTreeSet<PathBuf>, scratch: &Scratch, ctx: &str) {
    assert!(!dirs.is_empty(), "no cluster was seen running\n{ctx}");
    for dir in dirs {
        assert!(
            dir.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("alembot-pg-")),
            "unexpected cluster directory {}",
            dir.display()
        );
        assert!(!dir.exists(), "{} is still there\n{ctx}", dir.display());
    }
    scratch.assert_clean(ctx);
}

/// Removes a cluster a failed test left (stopping its postmaster first).
struct ClusterGuard(BTreeSet<PathBuf>);

impl Drop for ClusterGuard {
    fn drop(&mut self) {
        for dir in &self.0 {
            if dir.starts_with("/tmp")
                && dir
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("alembot-pg-"))
            {
                let _ = fs::remove_dir_all(dir);
            }
        }
    }
}

#[test]
fn postgres_ephemeral_run_stops_and_removes_its_cluster() {
    require_initdb();
    let scratch = Scratch::new();
    let project = fixture_copy("clean");
    let py = python();
    let mut run = Background::start(
        project.path(),
        &[
            "verify",
            "--all",
            "--database",
            "postgres-ephemeral",
            "--python",
            &py,
            "--format",
            "json",
        ],
        &scratch.env(),
    );
    let mut seen = ClusterGuard(BTreeSet::new());
    while run.running() {
        seen.0.extend(cluster_dirs(&scratch));
        std::thread::sleep(Duration::from_millis(20));
    }
    let outcome = run.finish(Duration::from_secs(5));
    let ctx = context(&outcome);
    assert_eq!(outcome.code, 0, "{ctx}");
    assert!(
        outcome.json()["notes"][0]
            .as_str()
            .is_some_and(|n| n.contains("postgres-ephemeral")),
        "{ctx}"
    );
    assert_cluster_gone(&seen.0, &scratch, &ctx);
}

#[test]
fn sigint_while_the_ephemeral_cluster_runs_stops_and_removes_it() {
    require_initdb();
    let scratch = Scratch::new();
    let project = fixture_copy("slow-migration");
    let (mut run, marker_path) = start_slow(&scratch, project.path(), "postgres-ephemeral", &[]);
    let marker = wait_for_marker(&marker_path, &mut run, Duration::from_secs(120));
    let clusters = ClusterGuard(cluster_dirs(&scratch));
    assert_eq!(clusters.0.len(), 1, "{:?}", clusters.0);
    let postmasters: Vec<u32> = scratch
        .processes()
        .into_iter()
        .filter(|pid| {
            fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == "postgres")
        })
        .collect();
    run.signal(libc::SIGINT);
    let outcome = run.finish(Duration::from_secs(60));
    let ctx = context(&outcome);
    assert_interrupted(&outcome, 130, "SIGINT");
    assert!(ended(marker.helper_pid), "{ctx}");
    for pid in postmasters {
        assert!(ended(pid), "postgres {pid} still runs\n{ctx}");
    }
    assert_cluster_gone(&clusters.0, &scratch, &ctx);
}
