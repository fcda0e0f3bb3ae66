//! The `docker:IMAGE` provider and the project's Python in a container, on
//! the real Docker engine with the images `scripts/test-images` builds from
//! Debian's packages (no registry is needed or used).
//!
//! These tests fail, never skip, when the engine or an image is missing:
//! `scripts/test` starts the engine (`scripts/services`) and builds the
//! images first.
//!
//! Containers are told apart by the owner label alembot gives them
//! (`alembot.owner=BOOT:PID:START`), because other tests start and remove
//! their own containers at the same time.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::dynamic::*;
use crate::support::*;

const POSTGRES: &str = "alembot-test/postgres:15";
const MARIADB: &str = "alembot-test/mariadb:10.11";
const PYTHON: &str = "alembot-test/python:3.11";

/// `docker ARGS`: stdout on success, else the panic names the command.
fn docker(args: &[&str]) -> String {
    let out = Command::new("docker")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("the docker client runs");
    assert!(
        out.status.success(),
        "docker {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Fails (never skips) without an engine and the local images.
fn require_images() {
    static CHECKED: OnceLock<()> = OnceLock::new();
    CHECKED.get_or_init(|| {
        let engine = Command::new("docker")
            .args(["version", "--format", "{{.Server.Version}}"])
            .output();
        match engine {
            Ok(out) if out.status.success() => {}
            Ok(out) => panic!(
                "no Docker engine answers ({}): start it with scripts/services; the docker tests never skip",
                String::from_utf8_lossy(&out.stderr).trim()
            ),
            Err(e) => panic!("the docker client cannot run ({e}): run scripts/services"),
        }
        for image in [POSTGRES, MARIADB, PYTHON] {
            let found = Command::new("docker")
                .args(["image", "inspect", "--format", "{{.Id}}", image])
                .output()
                .map(|o| o.status.success())
                .unwrap_or(false);
            assert!(
                found,
                "the test image {image} is missing: build it with scripts/test-images"
            );
        }
    });
}

/// The alembot containers on the engine: (name, labels) of each.
fn alembot_containers() -> Vec<(String, String)> {
    docker(&[
        "ps",
        "-a",
        "--filter",
        "label=alembot=1",
        "--format",
        "{{.Names}}\t{{.Labels}}",
    ])
    .lines()
    .filter_map(|l| l.split_once('\t'))
    .map(|(n, l)| (n.to_string(), l.to_string()))
    .collect()
}

/// The containers owned by the alembot process `pid`.
fn containers_of(pid: u32) -> Vec<String> {
    let needle = format!(":{pid}:");
    alembot_containers()
        .into_iter()
        .filter(|(_, labels)| {
            labels
                .split(',')
                .any(|l| l.starts_with("alembot.owner=") && l.contains(&needle))
        })
        .map(|(n, _)| n)
        .collect()
}

fn context(run: &Run) -> String {
    format!(
        "exit {}\nstdout:\n{}\nstderr:\n{}",
        run.code, run.stdout, run.stderr
    )
}

/// Removes containers, networks and images a test made, also when it fails.
#[derive(Default)]
struct Leftovers {
    containers: Vec<String>,
    networks: Vec<String>,
    images: Vec<String>,
}

impl Drop for Leftovers {
    fn drop(&mut self) {
        for c in &self.containers {
            let _ = Command::new("docker").args(["rm", "-f", "-v", c]).output();
        }
        for n in &self.networks {
            let _ = Command::new("docker").args(["network", "rm", n]).output();
        }
        for i in &self.images {
            let _ = Command::new("docker").args(["rmi", "-f", i]).output();
        }
    }
}

/// Waits for the slow migration's marker (its pid and its database).
fn wait_for_marker(path: &Path, run: &mut Background, limit: Duration) -> (String, String) {
    let deadline = Instant::now() + limit;
    loop {
        if let Ok(text) = fs::read_to_string(path) {
            let mut lines = text.lines();
            return (
                lines.next().unwrap_or("").to_string(),
                lines.next().unwrap_or("").to_string(),
            );
        }
        assert!(run.running(), "alembot ended before the migration ran");
        assert!(
            Instant::now() < deadline,
            "the slow migration did not start within {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn verify_docker(project: &Path, image: &str, extra: &[&str]) -> Run {
    require_images();
    let py = python();
    let provider = format!("docker:{image}");
    let mut args = vec![
        "verify",
        "--all",
        "--format",
        "json",
        "--database",
        &provider,
        "--python",
        &py,
    ];
    args.extend_from_slice(extra);
    run_in(project, &args, &[])
}

/// The scenario's expected findings, as the given backend reports them.
fn assert_scenario(run: &Run, fixture: &str, backend: &str) {
    let report = run.json();
    let problems = match_findings(
        scenario(fixture)["expected"].as_array().unwrap(),
        report["findings"].as_array().unwrap(),
        backend,
        true,
    );
    assert!(problems.is_empty(), "{problems:?}\n{}", context(run));
}

/// The run's container (named in the report's first note) is gone. Other
/// tests' containers come and go meanwhile, so only this one is looked for.
fn assert_container_removed(run: &Run) {
    let notes = run.json()["notes"].to_string();
    let name = notes
        .split("(container ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .unwrap_or_else(|| panic!("no container in the notes\n{}", context(run)));
    assert!(name.starts_with("alembot-"), "{name}");
    let left = docker(&["ps", "-a", "-q", "--filter", &format!("name=^{name}$")]);
    assert!(left.is_empty(), "container {name} left\n{}", context(run));
}

fn note_mentions(run: &Run, text: &str) -> bool {
    run.json()["notes"].to_string().contains(text)
}

// ---------------------------------------------------------------------------
// The provider: start, port, readiness, removal
// ---------------------------------------------------------------------------

#[test]
fn docker_postgres_finds_the_drift_and_removes_its_container() {
    let project = fixture_copy("missing-column");
    let run = verify_docker(project.path(), POSTGRES, &[]);
    run.assert_code(1);
    assert_scenario(&run, "missing-column", "postgresql");
    assert!(
        note_mentions(
            &run,
            "The database checks ran on docker:alembot-test/postgres:15 (container alembot-"
        ),
        "{}",
        context(&run)
    );
    assert_container_removed(&run);
}

#[test]
fn docker_mariadb_finds_the_drift_and_removes_its_container() {
    let project = fixture_copy("missing-column");
    let run = verify_docker(project.path(), MARIADB, &[]);
    run.assert_code(1);
    assert_scenario(&run, "missing-column", "mysql");
    assert_container_removed(&run);
}

#[test]
fn a_clean_project_passes_on_docker_postgres_and_leaves_no_container() {
    let project = fixture_copy("clean");
    let run = verify_docker(project.path(), POSTGRES, &[]);
    run.assert_code(0);
    assert!(run.findings().is_empty(), "{}", context(&run));
    assert_container_removed(&run);
    assert_eq!(file_list(project.path()), {
        let copy = fixture_copy("clean");
        file_list(copy.path())
    });
}

#[test]
fn a_failing_migration_on_docker_mariadb_leaves_no_container() {
    let project = fixture_copy("migration-raises");
    let run = verify_docker(project.path(), MARIADB, &[]);
    run.assert_code(1);
    assert!(
        run.findings()
            .iter()
            .any(|f| f.starts_with("upgrade-failed")),
        "{}",
        context(&run)
    );
    assert_container_removed(&run);
}

/// The slow migration under way on a container; alembot's pid and the
/// marker (the helper's pid and database).
fn slow_run_on(
    image: &str,
    extra: &[&str],
) -> (Background, tempfile::TempDir, tempfile::TempDir, String) {
    require_images();
    let project = fixture_copy("slow-migration");
    let scratch = tempfile::tempdir().unwrap();
    let marker = scratch.path().join("marker");
    let py = python();
    let provider = format!("docker:{image}");
    let mut args = vec!["verify", "--all", "--database", &provider, "--python", &py];
    args.extend_from_slice(extra);
    let marker_text = marker.display().to_string();
    let run = Background::start(
        project.path(),
        &args,
        &[("SLOW_MIGRATION_MARKER", &marker_text)],
    );
    (run, project, scratch, marker_text)
}

/// Stops alembot with `signal` while the migration runs on a container.
fn interrupted_on_docker(image: &str, signal: i32) -> Run {
    let (mut run, _project, _scratch, marker) = slow_run_on(image, &[]);
    wait_for_marker(Path::new(&marker), &mut run, Duration::from_secs(120));
    let pid = run.pid();
    let mine = containers_of(pid);
    assert_eq!(mine.len(), 1, "{mine:?}");
    // Its labels: alembot's, the run's, and the owner's.
    let labels = docker(&["inspect", "--format", "{{json .Config.Labels}}", &mine[0]]);
    let labels: serde_json::Value = serde_json::from_str(&labels).unwrap();
    assert_eq!(labels["alembot"], "1", "{labels}");
    assert!(
        labels["alembot.run"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{pid}-")),
        "{labels}"
    );
    assert!(labels["alembot.host"].as_str().is_some(), "{labels}");
    run.signal(signal);
    let outcome = run.finish(Duration::from_secs(60));
    assert!(
        containers_of(pid).is_empty(),
        "container left\n{}",
        context(&outcome)
    );
    outcome
}

#[test]
fn sigint_mid_job_removes_the_postgres_container() {
    let run = interrupted_on_docker(POSTGRES, libc::SIGINT);
    assert_eq!(run.code, 130, "{}", context(&run));
    assert!(
        run.stderr
            .contains("interrupted by SIGINT; everything the job created was removed"),
        "{}",
        context(&run)
    );
}

#[test]
fn sigterm_mid_job_removes_the_mariadb_container() {
    let run = interrupted_on_docker(MARIADB, libc::SIGTERM);
    assert_eq!(run.code, 143, "{}", context(&run));
    assert!(
        run.stderr
            .contains("interrupted by SIGTERM; everything the job created was removed"),
        "{}",
        context(&run)
    );
}

#[test]
fn a_timeout_mid_migration_removes_the_container() {
    let (mut run, _project, _scratch, marker) = slow_run_on(POSTGRES, &["--timeout", "60"]);
    wait_for_marker(Path::new(&marker), &mut run, Duration::from_secs(60));
    let pid = run.pid();
    assert_eq!(containers_of(pid).len(), 1);
    let outcome = run.finish(Duration::from_secs(120));
    assert_eq!(outcome.code, 2, "{}", context(&outcome));
    assert!(
        outcome
            .stderr
            .contains("the job timed out after 60 s and was stopped"),
        "{}",
        context(&outcome)
    );
    assert!(containers_of(pid).is_empty(), "{}", context(&outcome));
}

/// SIGKILL leaves the container (nothing can run in a killed process);
/// the next run finds it by its owner label, removes it and says so. The
/// next run here asks for an image that does not exist, which also shows
/// that message: exit 2 and the `docker pull` to run.
#[test]
fn a_killed_run_leaves_a_container_the_next_run_removes() {
    let (mut run, project, _scratch, marker) = slow_run_on(POSTGRES, &[]);
    let (helper_pid, _) = wait_for_marker(Path::new(&marker), &mut run, Duration::from_secs(120));
    let pid = run.pid();
    let mine = containers_of(pid);
    assert_eq!(mine.len(), 1, "{mine:?}");
    let mut leftovers = Leftovers::default();
    leftovers.containers = mine.clone();
    run.signal(libc::SIGKILL);
    let killed = run.finish(Duration::from_secs(30));
    assert_eq!(killed.code, -1, "{}", context(&killed));
    // The helper, in its own process group, outlives a SIGKILL of alembot.
    if let Ok(helper) = helper_pid.parse::<i32>() {
        // SAFETY: kill(2) has no memory-safety preconditions.
        unsafe {
            libc::kill(helper, libc::SIGKILL);
        }
    }
    assert_eq!(
        containers_of(pid),
        mine,
        "the container should still be there"
    );
    let py = python();
    let next = run_in(
        project.path(),
        &[
            "verify",
            "--all",
            "--database",
            "docker:alembot-test/postgres:no-such-tag",
            "--python",
            &py,
        ],
        &[],
    );
    assert_eq!(next.code, 2, "{}", context(&next));
    assert!(
        next.stderr.contains(&format!(
            "removed container {} left by alembot process {pid} (killed before it could clean up)",
            mine[0]
        )),
        "{}",
        context(&next)
    );
    assert!(containers_of(pid).is_empty(), "{}", context(&next));
    assert!(
        next.stderr.contains(
            "the image `alembot-test/postgres:no-such-tag` is not on this machine and could not be pulled"
        ) && next
            .stderr
            .contains("help: run `docker pull alembot-test/postgres:no-such-tag`"),
        "{}",
        context(&next)
    );
}

#[test]
fn no_engine_is_exit_2_naming_the_alternatives() {
    let project = fixture_copy("clean");
    let py = python();
    let run = run_in(
        project.path(),
        &[
            "verify",
            "--all",
            "--database",
            "docker:postgres:16",
            "--python",
            &py,
        ],
        &[(
            "DOCKER_HOST",
            "unix:///nonexistent/alembot-test/docker.sock",
        )],
    );
    assert_eq!(run.code, 2, "{}", context(&run));
    assert!(
        run.stderr.contains("no Docker engine is reachable"),
        "{}",
        context(&run)
    );
    for alternative in [
        "--database postgres-ephemeral",
        "--database sqlite",
        "server URL",
    ] {
        assert!(run.stderr.contains(alternative), "{}", context(&run));
    }
}

/// A server that answers with something other than "not listening yet"
/// fails at once with its own message instead of being retried until the
/// readiness limit: here an image whose cluster has no `postgres` role.
#[test]
fn a_server_that_refuses_alembot_fails_fast_with_its_message() {
    require_images();
    let tag = format!(
        "alembot-test/postgres-no-postgres-role:{}",
        random_suffix(8)
    );
    let builder = format!("alembot-test-build-{}", random_suffix(8));
    let mut leftovers = Leftovers::default();
    leftovers.containers.push(builder.clone());
    docker(&["create", "--name", &builder, POSTGRES]);
    docker(&[
        "commit",
        "--change",
        "ENV POSTGRES_USER=someone",
        &builder,
        &tag,
    ]);
    leftovers.images.push(tag.clone());
    let project = fixture_copy("clean");
    // A timeout below the readiness limit: a retried error would end in
    // "timed out" instead of the server's message.
    let run = verify_docker(project.path(), &tag, &["--timeout", "100"]);
    assert_eq!(run.code, 2, "{}", context(&run));
    assert!(
        run.stderr.contains("refused alembot")
            && (run.stderr.contains("role \"postgres\" does not exist")
                || run.stderr.contains("password authentication failed")),
        "{}",
        context(&run)
    );
    assert!(!run.stderr.contains("timed out"), "{}", context(&run));
}

// ---------------------------------------------------------------------------
// The project's Python in a container
// ---------------------------------------------------------------------------

/// A command prefix on the host (`env ... python`): the helper is streamed
/// to the interpreter, and nothing of the run directory is on its command.
#[test]
fn a_command_prefix_runs_the_streamed_helper() {
    let project = fixture_copy("missing-column");
    let py = format!("env ALEMBOT_TEST_STREAMED=1 {}", python());
    let run = run_in(
        project.path(),
        &["verify", "--all", "--format", "json", "--python", &py],
        &[],
    );
    run.assert_code(1);
    assert_scenario(&run, "missing-column", "sqlite");
}

fn write_config(project: &Path, text: &str) {
    fs::write(project.join(".alembot.yml"), text).unwrap();
}

/// The interpreter in a container that shares the host's network
/// (`docker run --network host`): a server URL on 127.0.0.1 works as it
/// is, and `container.workdir` maps the project to where it is mounted.
#[test]
fn python_in_a_container_on_the_host_network_with_a_server_url() {
    require_images();
    for backend in [Backend::Postgresql, Backend::Mysql] {
        let project = fixture_copy("missing-column");
        write_config(project.path(), "container:\n  workdir: /srv/app\n");
        let mount = format!("{}:/srv/app:ro", project.path().display());
        let py = format!("docker run --rm -i --network host -v {mount} {PYTHON} python3");
        let server = backend.server_url();
        let run = run_in(
            project.path(),
            &[
                "verify",
                "--all",
                "--format",
                "json",
                "--database",
                &server,
                "--python",
                &py,
            ],
            &[],
        );
        run.assert_code(1);
        assert_scenario(&run, "missing-column", backend.name());
        // The findings point into the project, not into the container.
        let report = run.json();
        for f in report["findings"].as_array().unwrap() {
            if let Some(file) = f["file"].as_str() {
                assert!(!file.starts_with('/'), "{f}");
            }
        }
    }
}

/// The app's container runs (here a Python image with the project mounted)
/// on a network; `docker exec -i` runs the helper in it, and the database
/// container joins the same network (`container.network`).
#[test]
fn docker_exec_into_the_app_with_a_database_on_its_network() {
    require_images();
    let project = fixture_copy("missing-column");
    let suffix = random_suffix(8);
    let network = format!("alembot-test-net-{suffix}");
    let app = format!("alembot-test-app-{suffix}");
    let mut leftovers = Leftovers::default();
    docker(&["network", "create", &network]);
    leftovers.networks.push(network.clone());
    leftovers.containers.push(app.clone());
    let mount = format!("{}:/srv/app:ro", project.path().display());
    docker(&[
        "run",
        "-d",
        "--name",
        &app,
        "--network",
        &network,
        "-v",
        &mount,
        PYTHON,
        "sleep",
        "infinity",
    ]);
    write_config(
        project.path(),
        &format!("container:\n  workdir: /srv/app\n  network: {network}\n"),
    );
    let py = format!("docker exec -i {app} python3");
    let provider = format!("docker:{POSTGRES}");
    let run = run_in(
        project.path(),
        &[
            "verify",
            "--all",
            "--format",
            "json",
            "--database",
            &provider,
            "--python",
            &py,
        ],
        &[],
    );
    run.assert_code(1);
    assert_scenario(&run, "missing-column", "postgresql");
    // Only the app is left on the network: the database container is gone.
    let attached = docker(&[
        "network",
        "inspect",
        "--format",
        "{{range .Containers}}{{.Name}} {{end}}",
        &network,
    ]);
    assert_eq!(attached.trim(), app, "{}", context(&run));
}

/// A killed alembot closes the stdin of `docker exec`; the streamed
/// helper in the container notices and exits instead of running on.
#[test]
fn the_helper_in_a_container_ends_when_alembot_is_killed() {
    require_images();
    let project = fixture_copy("slow-migration");
    let suffix = random_suffix(8);
    let app = format!("alembot-test-app-{suffix}");
    let mut leftovers = Leftovers::default();
    leftovers.containers.push(app.clone());
    let mount = format!("{}:/srv/app", project.path().display());
    docker(&[
        "run",
        "-d",
        "--name",
        &app,
        "--network",
        "host",
        "-v",
        &mount,
        PYTHON,
        "sleep",
        "infinity",
    ]);
    write_config(project.path(), "container:\n  workdir: /srv/app\n");
    let py = format!("docker exec -i -e SLOW_MIGRATION_MARKER=/srv/app/marker {app} python3");
    let server = Backend::Postgresql.server_url();
    let mut run = Background::start(
        project.path(),
        &["verify", "--all", "--database", &server, "--python", &py],
        &[] as &[(&str, &str)],
    );
    let (helper_pid, database) = wait_for_marker(
        &project.path().join("marker"),
        &mut run,
        Duration::from_secs(90),
    );
    // A killed alembot cannot drop its database, and the helper that exits
    // does not either: the test does.
    struct DropDatabase(String, String);
    impl Drop for DropDatabase {
        fn drop(&mut self) {
            if self.1.starts_with("alembot_") {
                let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.1);
                let _ = std::panic::catch_unwind(|| execute_autocommit(&self.0, &[&sql]));
            }
        }
    }
    let _drop = DropDatabase(server.clone(), database);
    let alive = |pid: &str| {
        Command::new("docker")
            .args(["exec", &app, "test", "-d", &format!("/proc/{pid}")])
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    };
    assert!(alive(&helper_pid));
    run.signal(libc::SIGKILL);
    run.finish(Duration::from_secs(30));
    let deadline = Instant::now() + Duration::from_secs(20);
    while alive(&helper_pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        !alive(&helper_pid),
        "the helper in the container outlived alembot"
    );
}

#[test]
fn a_container_workdir_must_be_absolute() {
    let project = fixture_copy("clean");
    write_config(project.path(), "container:\n  workdir: srv/app\n");
    let run = run_in(project.path(), &["verify", "--all"], &[]);
    assert_eq!(run.code, 2, "{}", context(&run));
    assert!(
        run.stderr
            .contains(".alembot.yml: `container.workdir`: `srv/app` is not an absolute path"),
        "{}",
        context(&run)
    );
}

/// A staged change is exported to a temporary directory of the host, which
/// a container does not see: said at once, with what to do instead.
#[test]
fn a_staged_change_cannot_run_in_a_container() {
    let repo = Repo::new();
    copy_fixture("missing-column", repo.path());
    repo.commit_all("init");
    repo.write(".alembot.yml", "container:\n  workdir: /srv/app\n");
    repo.append("app/models.py", "    bio = Column(String(200))\n");
    repo.git(&["add", "-A"]);
    let py = format!("env {}", python());
    let run = run_in(repo.path(), &["verify", "--staged", "--python", &py], &[]);
    assert_eq!(run.code, 2, "{}", context(&run));
    assert!(
        run.stderr.contains("which the container cannot see"),
        "{}",
        context(&run)
    );
}

/// A temporary SQLite file of the host is not in the container: said at
/// once, with the providers that work.
#[test]
fn sqlite_cannot_serve_a_python_in_a_container() {
    let project = fixture_copy("clean");
    write_config(project.path(), "container:\n  workdir: /srv/app\n");
    let py = format!("env {}", python());
    let run = run_in(project.path(), &["verify", "--all", "--python", &py], &[]);
    assert_eq!(run.code, 2, "{}", context(&run));
    assert!(
        run.stderr
            .contains("cannot see alembot's temporary SQLite file"),
        "{}",
        context(&run)
    );
}
