//! The workflows README.md documents, run as GitHub would: each one passes
//! actionlint, and each job runs through a small local runner (its `if:`
//! conditions, checkout, the artifact hand-over between jobs and workflows)
//! whose `alembot/alembot` steps run action.yml's own step script with the
//! step's `with:` inputs, against the fake GitHub and the local PostgreSQL.
//!
//! What the README promises of them is checked on the way: every job that
//! runs the checks installs the project's Python dependencies first and uses
//! the same database; the jobs that hold a write token and run before the
//! checks (`--authorize-only`) or after them (`publish`) check out nothing;
//! a recheck on a pull request from a fork never reaches a write-token job
//! that checks out its code; and a publish job with no report to download
//! ends without an error.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value as Json, json};
use serde_yaml::Value as Yaml;
use tempfile::TempDir;

use super::fake::{FakeGithub, REPO, TOKEN};
use super::support::{Project, Runner, aim_pull_request, fixture};

const PR: u64 = 7;
/// The comment id in the issue_comment fixtures.
const COMMENT: u64 = 2_400_000_001;
/// The database every checking job uses: a `services:` PostgreSQL container
/// in Actions, the local server here.
const DATABASE: &str = "postgresql://postgres:postgres@localhost:5432/postgres";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The YAML blocks of README.md's "On pull requests" part that are workflows.
fn readme_workflows() -> Vec<(String, Yaml)> {
    let readme = fs::read_to_string(root().join("README.md")).expect("README.md");
    let start = readme
        .find("\n## On pull requests")
        .expect("README has `## On pull requests`");
    let end = start + 1 + readme[start + 1..].find("\n## ").expect("a next section");
    let part = &readme[start..end];
    let mut out = Vec::new();
    let mut rest = part;
    while let Some(open) = rest.find("```yaml\n") {
        let body_start = open + "```yaml\n".len();
        let close = body_start + rest[body_start..].find("\n```").expect("closed block");
        let text = &rest[body_start..close + 1];
        if text.contains("\njobs:\n") {
            let yaml: Yaml = serde_yaml::from_str(text).expect("a README workflow is YAML");
            out.push((text.to_string(), yaml));
        }
        rest = &rest[close + 4..];
    }
    out
}

fn actionlint() -> String {
    match std::env::var("ALEMBOT_ACTIONLINT") {
        Ok(p) if Path::new(&p).is_file() => p,
        _ => panic!(
            "ALEMBOT_ACTIONLINT is not set to actionlint: run `scripts/setup-dist` and set it to <venv>/bin/actionlint (scripts/test does)"
        ),
    }
}

fn str_of<'a>(v: &'a Yaml, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Yaml::as_str)
}

fn triggers(workflow: &Yaml) -> Vec<String> {
    // serde_yaml reads the `on` key as a string (YAML 1.2).
    workflow
        .get("on")
        .and_then(Yaml::as_mapping)
        .expect("`on:` is a mapping")
        .keys()
        .filter_map(|k| k.as_str().map(str::to_string))
        .collect()
}

/// The step and job context of the local runner.
#[derive(Default)]
struct StepState {
    outputs: BTreeMap<String, String>,
    outcome: String,
}

struct Job {
    name: String,
    result: String,
    outputs: BTreeMap<String, String>,
}

/// Where the local runner keeps what outlives a job: the artifacts.
struct Sandbox {
    artifacts: TempDir,
    /// A directory with `python` in it: what setup-python puts on PATH.
    python_dir: TempDir,
}

impl Sandbox {
    fn new() -> Sandbox {
        let python_dir = tempfile::tempdir().unwrap();
        // A wrapper, not a symlink: a venv's interpreter started through a
        // link elsewhere would not find its pyvenv.cfg (and its packages).
        let wrapper = python_dir.path().join("python");
        fs::write(
            &wrapper,
            format!(
                "#!/bin/sh\nexec '{}' \"$@\"\n",
                crate::support::test_python()
            ),
        )
        .unwrap();
        let mut perms = fs::metadata(&wrapper).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
        fs::set_permissions(&wrapper, perms).unwrap();
        Sandbox {
            artifacts: tempfile::tempdir().unwrap(),
            python_dir,
        }
    }
}

/// What happened in one run of a workflow.
#[derive(Default)]
struct RunLog {
    /// job name -> result (success, failure, skipped)
    results: BTreeMap<String, String>,
    /// (job, exit code) of each alembot step that ran
    alembot_exits: Vec<(String, i32)>,
    /// jobs that checked out the pull request's code
    checkouts: Vec<String>,
}

struct Workflow<'a> {
    yaml: &'a Yaml,
    event_name: String,
    event: Json,
    project: &'a Project,
    fake: &'a FakeGithub,
    sandbox: &'a Sandbox,
}

impl Workflow<'_> {
    /// Runs the jobs in the order of their `needs:`.
    fn run(&self) -> RunLog {
        let jobs = self
            .yaml
            .get("jobs")
            .and_then(Yaml::as_mapping)
            .expect("jobs");
        let mut done: Vec<Job> = Vec::new();
        let mut log = RunLog::default();
        let mut pending: Vec<(String, &Yaml)> = jobs
            .iter()
            .map(|(k, v)| (k.as_str().unwrap().to_string(), v))
            .collect();
        while !pending.is_empty() {
            let index = pending
                .iter()
                .position(|(_, spec)| {
                    needs(spec)
                        .iter()
                        .all(|n| done.iter().any(|j| &j.name == n))
                })
                .expect("the jobs' needs form no cycle");
            let (name, spec) = pending.remove(index);
            let job = self.run_job(name, spec, &done, &mut log);
            log.results.insert(job.name.clone(), job.result.clone());
            done.push(job);
        }
        log
    }

    fn run_job(&self, name: String, spec: &Yaml, done: &[Job], log: &mut RunLog) -> Job {
        let needed: Vec<&Job> = needs(spec)
            .iter()
            .map(|n| done.iter().find(|j| &j.name == n).unwrap())
            .collect();
        let cond = str_of(spec, "if").unwrap_or("");
        // Without always(), a job runs only when all it needs succeeded.
        let ready = cond.contains("always()") || needed.iter().all(|j| j.result == "success");
        let run = ready && (cond.is_empty() || self.eval(cond, &needed, &BTreeMap::new()));
        let mut job = Job {
            name: name.clone(),
            result: "skipped".into(),
            outputs: BTreeMap::new(),
        };
        if !run {
            return job;
        }

        let workspace = tempfile::tempdir().unwrap();
        let mut dir: PathBuf = workspace.path().to_path_buf();
        let mut checked_out = false;
        let mut python_ready = false;
        let mut deps_installed = false;
        let mut steps: BTreeMap<String, StepState> = BTreeMap::new();
        let mut failed = false;
        let runner = Runner::new();
        let steps_spec = spec
            .get("steps")
            .and_then(Yaml::as_sequence)
            .expect("steps");
        for (i, step) in steps_spec.iter().enumerate() {
            let id = str_of(step, "id")
                .map(str::to_string)
                .unwrap_or(format!("step{i}"));
            let cond = str_of(step, "if").unwrap_or("");
            let ready = cond.contains("always()") || !failed;
            let runs = ready && (cond.is_empty() || self.eval(cond, &needed, &steps));
            if !runs {
                continue;
            }
            let with = |key: &str| -> Option<String> {
                step.get("with").and_then(|w| w.get(key)).map(|v| match v {
                    Yaml::String(s) => self.expand(s, &steps),
                    other => serde_yaml::to_string(other).unwrap().trim().to_string(),
                })
            };
            let mut state = StepState {
                outcome: "success".into(),
                ..StepState::default()
            };
            let uses = str_of(step, "uses").unwrap_or("");
            if uses.starts_with("actions/checkout@") {
                // The runner's checkout: the pull request's head, the
                // project repository's working tree here.
                let reference = with("ref").unwrap_or_default();
                if self.event_name == "issue_comment" {
                    assert_eq!(
                        reference,
                        format!("refs/pull/{PR}/head"),
                        "job {name}: an issue_comment job checks out the pull request's head by ref"
                    );
                }
                assert_eq!(
                    with("fetch-depth").as_deref(),
                    Some("0"),
                    "job {name}: alembot needs the base commit (fetch-depth: 0)"
                );
                dir = self.project.path().to_path_buf();
                checked_out = true;
                log.checkouts.push(name.clone());
            } else if uses.starts_with("actions/setup-python@") {
                python_ready = true;
            } else if let Some(script) = str_of(step, "run") {
                if script.contains("pip install -r requirements.txt") {
                    assert!(python_ready, "job {name}: pip before setup-python");
                    deps_installed = true;
                }
            } else if uses.starts_with("actions/upload-artifact@") {
                let artifact = self.sandbox.artifacts.path().join(with("name").unwrap());
                let path = PathBuf::from(with("path").expect("upload path"));
                fs::create_dir_all(&artifact).unwrap();
                fs::copy(&path, artifact.join(path.file_name().unwrap())).unwrap();
            } else if uses.starts_with("actions/download-artifact@") {
                let artifact = self.sandbox.artifacts.path().join(with("name").unwrap());
                if artifact.is_dir() {
                    let dest = dir.join(with("path").unwrap());
                    fs::create_dir_all(&dest).unwrap();
                    for f in fs::read_dir(&artifact).unwrap() {
                        let f = f.unwrap();
                        fs::copy(f.path(), dest.join(f.file_name())).unwrap();
                    }
                } else {
                    state.outcome = "failure".into();
                }
            } else if uses.starts_with("alembot/alembot@") {
                let args = with("args").unwrap_or_default();
                let checks = !args.contains("--authorize-only") && !args.starts_with("publish");
                if checks {
                    assert!(
                        checked_out && python_ready && deps_installed,
                        "job {name}: the checks need the pull request checked out and the project's Python dependencies installed before alembot"
                    );
                    assert_eq!(
                        with("database").as_deref(),
                        Some(DATABASE),
                        "job {name}: every checking job uses the same database"
                    );
                    assert_eq!(with("python").as_deref(), Some("python"), "job {name}");
                } else {
                    assert!(
                        !checked_out,
                        "job {name}: `{args}` holds a write token and needs no checkout"
                    );
                }
                let code = self.alembot_step(&runner, &dir, step, &steps, python_ready);
                log.alembot_exits.push((name.clone(), code));
                state.outputs = runner.outputs();
                if code != 0 {
                    state.outcome = "failure".into();
                }
            } else {
                panic!("job {name}: the local runner does not know step {step:?}");
            }
            if state.outcome == "failure"
                && step.get("continue-on-error") != Some(&Yaml::Bool(true))
            {
                failed = true;
            }
            steps.insert(id, state);
        }
        job.result = if failed { "failure" } else { "success" }.into();
        if let Some(outputs) = spec.get("outputs").and_then(Yaml::as_mapping) {
            for (k, v) in outputs {
                job.outputs.insert(
                    k.as_str().unwrap().to_string(),
                    self.expand(v.as_str().unwrap(), &steps),
                );
            }
        }
        job
    }

    /// Runs action.yml's `run` step script as the composite action does,
    /// with the step's inputs, and returns its exit code.
    fn alembot_step(
        &self,
        runner: &Runner,
        dir: &Path,
        step: &Yaml,
        steps: &BTreeMap<String, StepState>,
        python_ready: bool,
    ) -> i32 {
        let action: Yaml =
            serde_yaml::from_str(&fs::read_to_string(root().join("action.yml")).unwrap()).unwrap();
        let inputs = action.get("inputs").and_then(Yaml::as_mapping).unwrap();
        let run_step = action["runs"]["steps"]
            .as_sequence()
            .unwrap()
            .iter()
            .find(|s| str_of(s, "id") == Some("run"))
            .expect("action.yml has the `run` step");
        let mut cmd = Command::new("bash");
        cmd.args(["--noprofile", "--norc", "-eo", "pipefail", "-c"])
            .arg(str_of(run_step, "run").unwrap())
            .current_dir(dir)
            .env_clear();
        let mut path = std::env::var("PATH").unwrap_or_default();
        if python_ready {
            path = format!("{}:{path}", self.sandbox.python_dir.path().display());
        }
        for (k, v) in run_step.get("env").and_then(Yaml::as_mapping).unwrap() {
            let key = k.as_str().unwrap();
            let template = v.as_str().unwrap();
            let value = if key == "ALEMBOT_BIN" {
                env!("CARGO_BIN_EXE_alembot").to_string()
            } else if key == "GITHUB_TOKEN" {
                TOKEN.to_string()
            } else if let Some(input) = template
                .strip_prefix("${{ inputs.")
                .and_then(|t| t.strip_suffix(" }}"))
            {
                assert!(inputs.contains_key(input), "action.yml has input {input}");
                step.get("with")
                    .and_then(|w| w.get(input))
                    .and_then(Yaml::as_str)
                    .map(|s| self.expand(s, steps))
                    .unwrap_or_default()
            } else {
                panic!("action.yml's run step: unexpected env {key}: {template}")
            };
            cmd.env(key, value);
        }
        if let Some(with) = step.get("with").and_then(Yaml::as_mapping) {
            for k in with.keys() {
                let k = k.as_str().unwrap();
                assert!(inputs.contains_key(k), "the action has no input `{k}`");
            }
        }
        fs::write(runner.event_path(), self.event.to_string()).unwrap();
        cmd.env("PATH", path)
            .env("HOME", runner.path())
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_EVENT_NAME", &self.event_name)
            .env("GITHUB_EVENT_PATH", runner.event_path())
            .env("GITHUB_REPOSITORY", REPO)
            .env("GITHUB_API_URL", &self.fake.url)
            .env("GITHUB_STEP_SUMMARY", runner.path().join("summary.md"))
            .env("GITHUB_OUTPUT", runner.path().join("output"))
            .env("RUNNER_TEMP", runner.path().join("temp"))
            .env("ALEMBOT_GITHUB_RETRY_SCALE", "0")
            .env("NO_COLOR", "1");
        let out = cmd.output().expect("bash runs");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let code = out.status.code().unwrap_or(-1);
        assert_ne!(code, 2, "alembot stopped with exit 2 in {dir:?}:\n{text}");
        code
    }

    /// `${{ expr }}` in a string.
    fn expand(&self, text: &str, steps: &BTreeMap<String, StepState>) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(open) = rest.find("${{") {
            out.push_str(&rest[..open]);
            let close = rest[open..].find("}}").expect("closed expression") + open;
            let expr = rest[open + 3..close].trim();
            out.push_str(&as_text(&self.value(expr, &[], steps)));
            rest = &rest[close + 2..];
        }
        out.push_str(rest);
        out
    }

    fn value(&self, expr: &str, needed: &[&Job], steps: &BTreeMap<String, StepState>) -> Json {
        let parts: Vec<&str> = expr.split('.').collect();
        match parts.as_slice() {
            ["github", "token"] => json!(TOKEN),
            ["github", "event", rest @ ..] => {
                let mut v = &self.event;
                for p in rest {
                    v = v.get(*p).unwrap_or(&Json::Null);
                }
                v.clone()
            }
            ["needs", job, "outputs", key] => needed
                .iter()
                .find(|j| j.name == *job)
                .and_then(|j| j.outputs.get(*key))
                .map(|s| json!(s))
                .unwrap_or(json!("")),
            ["needs", job, "result"] => json!(
                needed
                    .iter()
                    .find(|j| j.name == *job)
                    .map(|j| j.result.clone())
                    .expect("a needed job")
            ),
            ["steps", id, "outputs", key] => json!(
                steps
                    .get(*id)
                    .and_then(|s| s.outputs.get(*key))
                    .cloned()
                    .unwrap_or_default()
            ),
            ["steps", id, "outcome"] => json!(
                steps
                    .get(*id)
                    .map(|s| s.outcome.clone())
                    .unwrap_or_default()
            ),
            _ => panic!("the local runner does not know `{expr}`"),
        }
    }

    /// An `if:`: clauses joined by `&&`, each `always()`, `contains(X, 'lit')`,
    /// `X == 'lit'`, `X != 'lit'` or a value's truthiness.
    fn eval(&self, cond: &str, needed: &[&Job], steps: &BTreeMap<String, StepState>) -> bool {
        let cond = cond.trim();
        let cond = cond
            .strip_prefix("${{")
            .and_then(|c| c.strip_suffix("}}"))
            .unwrap_or(cond);
        cond.split("&&").all(|clause| {
            let clause = clause.trim();
            if clause == "always()" {
                return true;
            }
            if let Some(args) = clause
                .strip_prefix("contains(")
                .and_then(|c| c.strip_suffix(')'))
            {
                let (hay, needle) = args.split_once(',').unwrap();
                let needle = literal(needle);
                return as_text(&self.value(hay.trim(), needed, steps)).contains(&needle);
            }
            for (op, equal) in [("==", true), ("!=", false)] {
                if let Some((left, right)) = clause.split_once(op) {
                    let left = as_text(&self.value(left.trim(), needed, steps));
                    return (left == literal(right)) == equal;
                }
            }
            let v = self.value(clause, needed, steps);
            !(v.is_null() || v == json!(false) || v == json!("") || v == json!(0))
        })
    }
}

fn literal(text: &str) -> String {
    let t = text.trim();
    t.strip_prefix('\'')
        .and_then(|t| t.strip_suffix('\''))
        .unwrap_or_else(|| panic!("the local runner wants a 'string' literal, got {t}"))
        .to_string()
}

fn as_text(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        Json::Null => String::new(),
        other => other.to_string(),
    }
}

fn needs(job: &Yaml) -> Vec<String> {
    match job.get("needs") {
        Some(Yaml::String(s)) => vec![s.clone()],
        Some(Yaml::Sequence(v)) => v.iter().map(|s| s.as_str().unwrap().to_string()).collect(),
        _ => Vec::new(),
    }
}

/// The README's five workflows, by what they are.
struct Documented {
    check: Yaml,
    recheck: Yaml,
    fork_check: Yaml,
    fork_publish: Yaml,
    fork_recheck: Yaml,
}

fn documented() -> Documented {
    let workflows = readme_workflows();
    assert_eq!(workflows.len(), 5, "README.md documents five workflows");
    let mut by_kind: BTreeMap<&str, Yaml> = BTreeMap::new();
    for (_, yaml) in workflows {
        let on = triggers(&yaml);
        let jobs: Vec<String> = yaml["jobs"]
            .as_mapping()
            .unwrap()
            .keys()
            .map(|k| k.as_str().unwrap().to_string())
            .collect();
        let kind = match (on[0].as_str(), jobs.join(",").as_str()) {
            ("pull_request", "alembot") => "check",
            ("pull_request", "check") => "fork_check",
            ("workflow_run", _) => "fork_publish",
            ("issue_comment", "authorize,recheck") => "recheck",
            ("issue_comment", "authorize,check,publish") => "fork_recheck",
            other => panic!("an unexpected README workflow: {other:?}"),
        };
        assert!(by_kind.insert(kind, yaml).is_none(), "two {kind} workflows");
    }
    Documented {
        check: by_kind.remove("check").unwrap(),
        recheck: by_kind.remove("recheck").unwrap(),
        fork_check: by_kind.remove("fork_check").unwrap(),
        fork_publish: by_kind.remove("fork_publish").unwrap(),
        fork_recheck: by_kind.remove("fork_recheck").unwrap(),
    }
}

fn pull_request_event(project: &Project, fixture_name: &str) -> Json {
    let mut e = fixture(fixture_name);
    aim_pull_request(&mut e, project);
    e
}

fn setup(fork: bool) -> (Project, FakeGithub, Sandbox) {
    let project = Project::with_missing_migration();
    let fake = FakeGithub::start();
    let mut pull = project.pull(PR);
    if fork {
        pull.head_repo = "mallory/shop".into();
    }
    fake.add_pull(pull);
    fake.set_permission("alice", "write", "write");
    fake.add_issue_comment_with_id(COMMENT, PR, "alice", "/alembot recheck");
    (project, fake, Sandbox::new())
}

/// The report alembot posted ran its database checks on PostgreSQL.
fn posted_on_postgres(fake: &FakeGithub, project: &Project) {
    let state = fake.state();
    let reports = state.reports(PR);
    assert_eq!(reports.len(), 1, "one review");
    assert_eq!(reports[0].commit_id, project.head);
    assert!(reports[0].body.contains("`missing-migration`"));
    assert!(
        reports[0].body.to_lowercase().contains("postgresql"),
        "the checks ran on PostgreSQL:\n{}",
        reports[0].body
    );
}

#[test]
fn every_readme_workflow_passes_actionlint() {
    let linter = actionlint();
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (i, (text, yaml)) in readme_workflows().iter().enumerate() {
        let path = dir.path().join(format!("workflow-{i}.yml"));
        fs::write(&path, text).unwrap();
        files.push(path);
        if triggers(yaml).iter().any(|t| t == "pull_request") {
            let types = &yaml["on"]["pull_request"]["types"];
            assert!(
                types
                    .as_sequence()
                    .unwrap()
                    .contains(&Yaml::String("edited".into())),
                "a retargeted pull request (`edited`) is checked again: {types:?}"
            );
        }
    }
    assert_eq!(files.len(), 5);
    let out = Command::new(linter)
        .args(&files)
        .output()
        .expect("actionlint runs");
    assert!(
        out.status.success(),
        "actionlint:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_pull_request_check_posts_its_review_from_postgresql() {
    let (project, fake, sandbox) = setup(false);
    let w = documented();
    let log = Workflow {
        yaml: &w.check,
        event_name: "pull_request".into(),
        event: pull_request_event(&project, "pull_request.opened.json"),
        project: &project,
        fake: &fake,
        sandbox: &sandbox,
    }
    .run();
    assert_eq!(log.alembot_exits, [("alembot".to_string(), 1)]);
    posted_on_postgres(&fake, &project);
}

#[test]
fn the_recheck_authorizes_before_any_checkout_and_rechecks_on_the_same_database() {
    let (project, fake, sandbox) = setup(false);
    let w = documented();
    let log = Workflow {
        yaml: &w.recheck,
        event_name: "issue_comment".into(),
        event: fixture("issue_comment.created.pull_request.json"),
        project: &project,
        fake: &fake,
        sandbox: &sandbox,
    }
    .run();
    assert_eq!(
        log.alembot_exits,
        [("authorize".to_string(), 0), ("recheck".to_string(), 1)]
    );
    assert_eq!(log.checkouts, ["recheck"]);
    posted_on_postgres(&fake, &project);
    assert_eq!(fake.state().reactions_on(COMMENT), vec!["eyes", "+1"]);
}

#[test]
fn the_same_repository_recheck_never_checks_out_a_fork() {
    let (project, fake, sandbox) = setup(true);
    let w = documented();
    let log = Workflow {
        yaml: &w.recheck,
        event_name: "issue_comment".into(),
        event: fixture("issue_comment.created.pull_request.json"),
        project: &project,
        fake: &fake,
        sandbox: &sandbox,
    }
    .run();
    assert_eq!(log.alembot_exits, [("authorize".to_string(), 0)]);
    assert!(log.checkouts.is_empty(), "{:?}", log.checkouts);
    assert_eq!(log.results["recheck"], "skipped");
    assert!(fake.state().reports(PR).is_empty());
}

#[test]
fn a_fork_pull_request_is_checked_read_only_and_published_by_workflow_run() {
    let (project, fake, sandbox) = setup(true);
    let w = documented();
    let log = Workflow {
        yaml: &w.fork_check,
        event_name: "pull_request".into(),
        event: pull_request_event(&project, "pull_request.opened.fork.json"),
        project: &project,
        fake: &fake,
        sandbox: &sandbox,
    }
    .run();
    assert_eq!(log.alembot_exits, [("check".to_string(), 1)]);
    assert!(
        fake.log().iter().all(|l| l.method == "GET"),
        "{:?}",
        fake.log()
    );

    let mut event = fixture("workflow_run.completed.fork.json");
    event["workflow_run"]["head_sha"] = project.head.clone().into();
    let log = Workflow {
        yaml: &w.fork_publish,
        event_name: "workflow_run".into(),
        event,
        project: &project,
        fake: &fake,
        sandbox: &sandbox,
    }
    .run();
    assert_eq!(log.alembot_exits, [("publish".to_string(), 1)]);
    assert!(log.checkouts.is_empty());
    posted_on_postgres(&fake, &project);
}

#[test]
fn the_publish_job_tolerates_a_missing_report() {
    let (project, fake, sandbox) = setup(true);
    let w = documented();
    let mut event = fixture("workflow_run.completed.fork.json");
    event["workflow_run"]["head_sha"] = project.head.clone().into();
    // No check run uploaded a report (it stopped before saving one).
    let log = Workflow {
        yaml: &w.fork_publish,
        event_name: "workflow_run".into(),
        event,
        project: &project,
        fake: &fake,
        sandbox: &sandbox,
    }
    .run();
    assert!(log.alembot_exits.is_empty());
    assert_eq!(log.results["publish"], "success");
    assert!(fake.log().is_empty());
}

#[test]
fn the_fork_recheck_checks_read_only_and_publishes_from_a_job_without_checkout() {
    let (project, fake, sandbox) = setup(true);
    let w = documented();
    let log = Workflow {
        yaml: &w.fork_recheck,
        event_name: "issue_comment".into(),
        event: fixture("issue_comment.created.pull_request.json"),
        project: &project,
        fake: &fake,
        sandbox: &sandbox,
    }
    .run();
    assert_eq!(
        log.alembot_exits,
        [
            ("authorize".to_string(), 0),
            ("check".to_string(), 1),
            ("publish".to_string(), 1)
        ]
    );
    assert_eq!(log.checkouts, ["check"]);
    posted_on_postgres(&fake, &project);
    assert_eq!(fake.state().reactions_on(COMMENT), vec!["eyes", "+1"]);
}
