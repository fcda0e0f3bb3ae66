//! Hostile or odd input (issue 13): credentials in every URL form, a
//! configuration that is not a file, model files that are not text, and
//! symbolic links out of the repository.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::dynamic::fixture_copy;
use crate::support::*;

/// Runs alembot in `dir` and fails the test (instead of hanging it) when
/// the run takes longer than `limit`.
fn run_bounded(dir: &Path, args: &[&str], limit: Duration) -> Run {
    let mut cmd = Command::new(binary());
    cmd.args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, _) in std::env::vars() {
        if key.starts_with("ALEMBOT_") || key.starts_with("GITHUB_") {
            cmd.env_remove(key);
        }
    }
    let mut child = cmd.spawn().expect("alembot starts");
    let started = Instant::now();
    loop {
        if child.try_wait().expect("waits").is_some() {
            break;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("alembot {args:?} still ran after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("output");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

// ---------------------------------------------------------------------------
// 8. Credentials

/// Passwords in the query string and with a raw `@` in the userinfo: a
/// helper connection error quotes the URL, and every format prints rows.
#[test]
fn credentials_in_every_url_form_are_redacted_in_status_output() {
    let project = fixture_copy("status");
    let python = test_python();
    let urls = [
        "postgresql://app@127.0.0.1:1/prod?password=QZleakA1",
        "postgresql://app:pa@QZleakB2@127.0.0.1:1/prod",
        "postgresql://app@127.0.0.1:1/prod?sslmode=disable&sslpassword=QZleakC3",
        "mysql+pymysql://root:QZ%40leakD4@127.0.0.1:1/prod",
    ];
    for url in urls {
        for format in ["human", "json", "markdown"] {
            let run = run_in(
                project.path(),
                &[
                    "status",
                    "--python",
                    &python,
                    "--database",
                    url,
                    "--format",
                    format,
                ],
                &[],
            );
            run.assert_code(2);
            let all = format!("{}{}", run.stdout, run.stderr);
            assert!(
                !all.contains("QZ"),
                "{url} leaked in the {format} output:\n{all}"
            );
            assert!(all.contains("127.0.0.1"), "{all}");
        }
    }
}

/// The helper's connection error quotes the URL SQLAlchemy renders, which
/// keeps the query string.
#[test]
fn a_password_in_the_query_is_redacted_in_verify_errors() {
    let repo = blog_repo();
    let python = test_python();
    let run = repo.alembot(&[
        "verify",
        "--all",
        "--python",
        &python,
        "--database",
        "postgresql://app@127.0.0.1:1/db?password=QZleakE5",
    ]);
    run.assert_code(2);
    let all = format!("{}{}", run.stdout, run.stderr);
    assert!(all.contains("cannot connect to postgresql"), "{all}");
    assert!(!all.contains("QZleak"), "{all}");
}

// ---------------------------------------------------------------------------
// 15. --config on something that is not a file

#[test]
fn config_on_a_device_or_fifo_is_refused_at_once() {
    let repo = blog_repo();
    let run = run_bounded(
        repo.path(),
        &["check", "--config", "/dev/zero"],
        Duration::from_secs(30),
    );
    run.assert_code(2);
    assert!(
        run.stderr.contains("/dev/zero") && run.stderr.contains("not a regular file"),
        "{}",
        run.stderr
    );

    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("alembot.yml");
    let status = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(status.success());
    let run = run_bounded(
        repo.path(),
        &["check", "--config", fifo.to_str().unwrap()],
        Duration::from_secs(30),
    );
    run.assert_code(2);
    assert!(
        run.stderr.contains("FIFO") && run.stderr.contains("alembot.yml"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_oversize_config_is_refused() {
    let repo = blog_repo();
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.yml");
    std::fs::write(&big, "#".repeat(2 << 20)).unwrap();
    let run = repo.alembot(&["check", "--config", big.to_str().unwrap()]);
    run.assert_code(2);
    assert!(
        run.stderr.contains("big.yml") && run.stderr.contains("too large"),
        "{}",
        run.stderr
    );
}

// ---------------------------------------------------------------------------
// 16. Model files that are not UTF-8 text

#[test]
fn a_model_file_with_a_nul_byte_or_invalid_utf8_is_named_in_the_notes() {
    for (bad, why) in [
        (&b"\0"[..], "it holds a NUL byte"),
        (&b"\xff\xfe"[..], "it is not valid UTF-8"),
    ] {
        let repo = blog_repo();
        let mut bytes = MODELS.replace(
            "class Post(Base):",
            "class Post(Base):\n    subtitle = mapped_column(String(10))",
        );
        bytes.push_str("# ");
        let mut bytes = bytes.into_bytes();
        bytes.extend_from_slice(bad);
        bytes.push(b'\n');
        repo.write_bytes("app/models.py", &bytes);
        let run = repo.alembot(&["check", "--format", "json"]);
        let report = run.json();
        let notes: Vec<&str> = report["notes"]
            .as_array()
            .map(|a| a.iter().filter_map(|n| n.as_str()).collect())
            .unwrap_or_default();
        assert!(
            notes
                .iter()
                .any(|n| n.contains("app/models.py: not read as a model file") && n.contains(why)),
            "no note saying {why:?}: {notes:?}\n{}",
            run.stdout
        );
        let human = repo.alembot(&["check"]);
        assert!(
            human
                .stdout
                .contains("app/models.py: not read as a model file"),
            "{}",
            human.stdout
        );
    }
}

// ---------------------------------------------------------------------------
// 17. Symbolic links out of the repository

#[cfg(unix)]
#[test]
fn a_symlink_out_of_the_repository_is_read_in_no_mode() {
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("models.py");
    std::fs::write(
        &secret,
        "from sqlalchemy import Column, Integer\nfrom app.models import Base\n\n\nclass Secret(Base):\n    __tablename__ = \"outside_secret\"\n    id = Column(Integer, primary_key=True)\n",
    )
    .unwrap();
    let repo = blog_repo();
    repo.git(&["checkout", "-q", "-b", "link"]);
    std::os::unix::fs::symlink(&secret, repo.path().join("app/extra_models.py")).unwrap();
    // In-repository links are read on every side alike.
    std::fs::create_dir_all(repo.path().join("app/alias")).unwrap();
    std::os::unix::fs::symlink("../models.py", repo.path().join("app/alias/models.py")).unwrap();

    let worktree = repo.alembot(&["check", "--format", "json"]);
    repo.commit_all("link models from outside");
    let range = repo.alembot(&[
        "check", "--base", "main", "--head", "link", "--format", "json",
    ]);
    for (mode, run) in [("working tree", &worktree), ("range", &range)] {
        assert!(
            !run.stdout.contains("outside_secret") && !run.stdout.contains("Secret"),
            "{mode} mode read a file outside the repository:\n{}",
            run.stdout
        );
    }
    assert_eq!(
        worktree.findings(),
        range.findings(),
        "the working tree and the range read the links differently"
    );
}

// ---------------------------------------------------------------------------
// 18. Messages

#[test]
fn a_list_key_of_the_wrong_shape_names_the_key_and_the_fix() {
    let repo = blog_repo();
    repo.write(
        ".alembot.yml",
        "environments:\n  - name: main\n    alembic_ini: alembic.ini\n    models: {app: models.py}\n",
    );
    let run = repo.alembot(&["check"]);
    run.assert_code(2);
    for needle in [
        ".alembot.yml:4:",
        "models",
        "expected a string or a list of strings",
        "help: write one string",
    ] {
        assert!(
            run.stderr.contains(needle),
            "no {needle:?}:\n{}",
            run.stderr
        );
    }
    assert!(!run.stderr.contains("untagged"), "{}", run.stderr);
    assert!(!run.stderr.contains(":0:0"), "{}", run.stderr);
}

#[test]
fn a_revision_syntax_error_is_not_told_to_fetch() {
    let repo = blog_repo();
    let run = repo.alembot(&["check", "--base", "main..HEAD", "--head", "HEAD"]);
    run.assert_code(2);
    assert!(
        run.stderr.contains("not a revision git can read") && !run.stderr.contains("Fetch"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_unborn_head_says_there_is_no_commit_yet() {
    let repo = Repo::new();
    write_blog(&repo, "");
    let run = repo.alembot(&["check", "--base", "HEAD", "--head", "HEAD"]);
    run.assert_code(2);
    assert!(
        run.stderr.contains("no commit yet") && !run.stderr.contains("Fetch"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_shallow_clone_without_the_merge_base_says_to_deepen_it() {
    let repo = blog_repo();
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.append("app/models.py", "# feature\n");
    repo.commit_all("feature");
    repo.git(&["checkout", "-q", "main"]);
    repo.write("NOTES", "main moves on\n");
    repo.commit_all("main");
    let clone = tempfile::tempdir().unwrap();
    let url = format!("file://{}", repo.path().display());
    let status = Command::new("git")
        .args(["clone", "-q", "--depth", "1", "--no-single-branch", &url])
        .arg(clone.path().join("c"))
        .status()
        .unwrap();
    assert!(status.success());
    let run = run_in(
        &clone.path().join("c"),
        &["check", "--base", "origin/main", "--head", "origin/feature"],
        &[],
    );
    run.assert_code(2);
    assert!(
        run.stderr.contains("shallow clone") && !run.stderr.contains("share no history"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_reversed_range_says_it_is_empty() {
    let repo = blog_repo();
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.append("app/models.py", ADD_SUBTITLE);
    repo.commit_all("subtitle without a migration");
    let forward = repo.alembot(&["check", "--base", "main", "--head", "feature"]);
    forward.assert_code(1);
    let reversed = repo.alembot(&["check", "--base", "feature", "--head", "main"]);
    reversed.assert_code(0);
    assert!(
        reversed.stdout.contains("The range is empty")
            && reversed.stdout.contains("Were --base and --head swapped?"),
        "{}",
        reversed.stdout
    );
}

#[cfg(unix)]
#[test]
fn a_crashed_helper_shows_its_exit_status_once() {
    let repo = blog_repo();
    let dir = tempfile::tempdir().unwrap();
    let python = dir.path().join("python");
    std::fs::write(&python, "#!/bin/sh\nexit 3\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&python, std::fs::Permissions::from_mode(0o755)).unwrap();
    let run = repo.alembot(&[
        "verify",
        "--all",
        "--database",
        "sqlite",
        "--python",
        python.to_str().unwrap(),
    ]);
    assert!(
        run.stderr.contains("exit status: 3") && !run.stderr.contains("exit status exit status"),
        "{}",
        run.stderr
    );
}

// ---------------------------------------------------------------------------
// 1 and 10. The helper's environment and the processes project code starts

/// The blog project with an env.py that runs, with `prelude` at its top.
fn runnable_blog(prelude: &str, config: &str) -> Repo {
    let repo = blog_repo();
    repo.write(
        "migrations/env.py",
        &format!("{prelude}\n{RUNNABLE_ENV_PY}"),
    );
    repo.write(
        "alembic.ini",
        "[alembic]\nscript_location = %(here)s/migrations\nprepend_sys_path = .\nsqlalchemy.url = sqlite:///unused.db\n",
    );
    repo.write(".alembot.yml", config);
    repo.commit_all("runnable env.py");
    repo
}

fn verify_env(repo: &Repo, env: &[(&str, String)], limit: Duration) -> Run {
    let python = test_python();
    let mut cmd = Command::new(binary());
    cmd.args([
        "verify",
        "--all",
        "--database",
        "sqlite",
        "--timeout",
        "300",
        "--python",
        &python,
        "--format",
        "json",
    ])
    .current_dir(repo.path())
    .env("NO_COLOR", "1")
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    for (key, _) in std::env::vars() {
        if key.starts_with("ALEMBOT_") || key.starts_with("GITHUB_") {
            cmd.env_remove(key);
        }
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = cmd.spawn().expect("alembot starts");
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(limit) {
        Ok(out) => {
            let out = out.expect("output");
            Run {
                code: out.status.code().unwrap_or(-1),
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            }
        }
        Err(_) => {
            // SAFETY-free: kill(1) by pid; the test fails right after.
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            panic!("verify still ran after {limit:?}");
        }
    }
}

#[test]
fn project_code_sees_no_runner_secrets() {
    let record = tempfile::tempdir().unwrap();
    let file = record.path().join("env.json");
    let repo = runnable_blog(
        "import json as _json, os as _os\nwith open(_os.environ['RECORD_TO'], 'w') as _f:\n    _json.dump(dict(_os.environ), _f)\n",
        "pass_env: [RECORD_TO, APP_*]\n",
    );
    let env = [
        ("RECORD_TO", file.display().to_string()),
        ("GITHUB_TOKEN", "ghs_QZsecret".to_string()),
        ("ALEMBOT_WEBHOOK_SECRET", "QZwebhook".to_string()),
        ("GITHUB_OUTPUT", "/tmp/QZoutput".to_string()),
        ("GITHUB_ENV", "/tmp/QZenv".to_string()),
        ("GITHUB_STEP_SUMMARY", "/tmp/QZsummary".to_string()),
        ("ACTIONS_RUNTIME_TOKEN", "QZruntime".to_string()),
        ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "QZoidc".to_string()),
        ("AWS_SECRET_ACCESS_KEY", "QZaws".to_string()),
        ("APP_SETTINGS", "ci".to_string()),
        ("LC_ALL", "C.UTF-8".to_string()),
    ];
    let run = verify_env(&repo, &env, Duration::from_secs(240));
    run.assert_code(0);
    let seen: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("env.py ran")).unwrap();
    let text = seen.to_string();
    assert!(!text.contains("QZ"), "project code saw a secret: {text}");
    for name in ["PATH", "RECORD_TO", "APP_SETTINGS", "LC_ALL"] {
        assert!(seen.get(name).is_some(), "{name} was withheld: {text}");
    }
}

#[test]
fn a_secret_cannot_be_passed_by_configuration() {
    let repo = blog_repo();
    repo.write(".alembot.yml", "pass_env: [PATH, GITHUB_TOKEN]\n");
    let run = repo.alembot(&["check"]);
    run.assert_code(2);
    assert!(
        run.stderr.contains("pass_env") && run.stderr.contains("`GITHUB_TOKEN` is a secret"),
        "{}",
        run.stderr
    );
}

/// env.py forks a child that keeps the helper's pipes open (once plain,
/// once after `setsid()`, which leaves the process group): verify must
/// finish when the helper does, and no child may survive it.
#[cfg(target_os = "linux")]
#[test]
fn background_processes_of_project_code_end_with_the_helper() {
    for setsid in [false, true] {
        let record = tempfile::tempdir().unwrap();
        let pids = record.path().join("pids");
        let prelude = format!(
            "import os as _os, time as _time\n_pid = _os.fork()\nif _pid == 0:\n    {}\n    _time.sleep(600)\n    _os._exit(0)\nwith open(_os.environ['RECORD_TO'], 'a') as _f:\n    _f.write('%d\\n' % _pid)\n",
            if setsid { "_os.setsid()" } else { "pass" }
        );
        let repo = runnable_blog(&prelude, "pass_env: [RECORD_TO]\n");
        let started = Instant::now();
        let run = verify_env(
            &repo,
            &[("RECORD_TO", pids.display().to_string())],
            Duration::from_secs(200),
        );
        run.assert_code(0);
        assert!(
            started.elapsed() < Duration::from_secs(150),
            "setsid={setsid}: verify waited for the background child: {:?}",
            started.elapsed()
        );
        assert!(run.json()["summary"]["checks"].as_array().unwrap().len() > 1);
        let children: Vec<u32> = std::fs::read_to_string(&pids)
            .expect("env.py ran")
            .lines()
            .map(|l| l.parse().unwrap())
            .collect();
        assert!(!children.is_empty());
        let deadline = Instant::now() + Duration::from_secs(10);
        let alive = |pid: &u32| {
            std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
                !s.rsplit(')')
                    .next()
                    .unwrap_or("")
                    .trim_start()
                    .starts_with('Z')
            })
        };
        while children.iter().any(alive) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        let left: Vec<&u32> = children.iter().filter(|p| alive(p)).collect();
        for pid in &left {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
        assert!(
            left.is_empty(),
            "setsid={setsid}: children survived: {left:?}"
        );
    }
}

// ---------------------------------------------------------------------------
// 9. A server that accepts connections and never answers

/// A tarpit: accepts TCP connections and never says a word. Lives as long
/// as the returned listener thread's socket (the test process).
fn tarpit() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    port
}

#[test]
fn verify_against_a_tarpit_ends_within_the_timeout_and_the_grace() {
    let port = tarpit();
    let repo = blog_repo();
    let python = test_python();
    let url = format!("postgresql://app@127.0.0.1:{port}/db");
    let started = Instant::now();
    let run = run_bounded(
        repo.path(),
        &[
            "verify",
            "--all",
            "--timeout",
            "5",
            "--python",
            &python,
            "--database",
            &url,
        ],
        Duration::from_secs(5 + 15 + 25),
    );
    let took = started.elapsed();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        took < Duration::from_secs(5 + 15 + 10),
        "took {took:?}:\n{}",
        run.stderr
    );
    assert!(run.stderr.contains("timed out after 5 s"), "{}", run.stderr);
}
