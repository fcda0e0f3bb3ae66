//! A project repository for the bot to check, the Actions environment a
//! run sees, and the binary set up to talk to the fake GitHub.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command as Process;

use serde_json::Value;
use tempfile::TempDir;

use super::fake::{FakeGithub, Pull, REPO, TOKEN};

const MODELS: &str = "from sqlalchemy import Column, Integer, String
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class User(Base):
    __tablename__ = \"user\"

    id = Column(Integer, primary_key=True)
    name = Column(String(50))
";

/// A git repository with one Alembic environment. `main` has a `User`
/// model and its migration; the branch adds `User.email` without one: a
/// `missing-migration` error at `app/models.py:12`.
pub struct Project {
    dir: TempDir,
    pub base: String,
    pub head: String,
}

impl Project {
    pub fn with_missing_migration() -> Project {
        let dir = tempfile::Builder::new()
            .prefix("alembot-gh-")
            .tempdir()
            .expect("temp dir");
        let mut project = Project {
            dir,
            base: String::new(),
            head: String::new(),
        };
        project.git(&["init", "-q", "-b", "main"]);
        project.write(
            "alembic.ini",
            "[alembic]\nscript_location = %(here)s/migrations\nprepend_sys_path = .\nsqlalchemy.url = sqlite:///unused.db\n",
        );
        // A project the bot's dynamic job can really run.
        project.write("migrations/env.py", crate::support::RUNNABLE_ENV_PY);
        project.write("app/__init__.py", "");
        project.write(
            "migrations/versions/0001_init.py",
            "\"\"\"init\"\"\"\nfrom alembic import op\nimport sqlalchemy as sa\n\nrevision = \"0001\"\ndown_revision = None\n\n\ndef upgrade():\n    op.create_table(\"user\", sa.Column(\"id\", sa.Integer(), primary_key=True), sa.Column(\"name\", sa.String(50)))\n\n\ndef downgrade():\n    op.drop_table(\"user\")\n",
        );
        project.write("app/models.py", MODELS);
        project.commit("init");
        project.base = project.git(&["rev-parse", "HEAD"]);
        project.git(&["checkout", "-q", "-b", "add-email"]);
        project.write(
            "app/models.py",
            &MODELS.replace(
                "    name = Column(String(50))\n",
                "    name = Column(String(50))\n    email = Column(String(120), nullable=False)\n",
            ),
        );
        project.commit("add User.email");
        project.head = project.git(&["rev-parse", "HEAD"]);
        project
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, rel: &str, content: &str) {
        let path = self.path().join(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).expect("mkdir");
        }
        fs::write(path, content).expect("write");
    }

    /// Commits everything and returns the new head.
    pub fn commit(&mut self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", message]);
        self.head = self.git(&["rev-parse", "HEAD"]);
        self.head.clone()
    }

    pub fn git(&self, args: &[&str]) -> String {
        let out = Process::new("git")
            .args(args)
            .current_dir(self.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", self.path())
            .env("GIT_AUTHOR_NAME", "Dev")
            .env("GIT_AUTHOR_EMAIL", "dev@example.com")
            .env("GIT_COMMITTER_NAME", "Dev")
            .env("GIT_COMMITTER_EMAIL", "dev@example.com")
            .output()
            .expect("git runs");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// The pull request as the fake knows it: this project's head and base,
    /// with the diff GitHub would show (the model's hunk).
    pub fn pull(&self, number: u64) -> Pull {
        Pull {
            number,
            head_sha: self.head.clone(),
            head_ref: "add-email".into(),
            base_sha: self.base.clone(),
            head_repo: REPO.into(),
            labels: Vec::new(),
            diff: BTreeMap::from([("app/models.py".to_string(), vec![(9, 15)])]),
        }
    }
}

/// The files a GitHub Actions step is given: the event payload, the step
/// summary, the outputs and the runner's temp dir.
pub struct Runner {
    dir: TempDir,
}

impl Runner {
    pub fn new() -> Runner {
        Runner {
            dir: tempfile::Builder::new()
                .prefix("alembot-runner-")
                .tempdir()
                .expect("temp dir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn event_path(&self) -> PathBuf {
        self.path().join("event.json")
    }

    /// Writes the event payload: a fixture, edited.
    pub fn event(&self, fixture_name: &str, edit: impl FnOnce(&mut Value)) {
        let mut payload = fixture(fixture_name);
        edit(&mut payload);
        fs::write(self.event_path(), payload.to_string()).expect("write event");
    }

    pub fn summary(&self) -> String {
        fs::read_to_string(self.path().join("summary.md")).unwrap_or_default()
    }

    /// The step outputs, `name=value` lines read back.
    pub fn outputs(&self) -> BTreeMap<String, String> {
        fs::read_to_string(self.path().join("output"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    pub fn report_path(&self) -> PathBuf {
        self.path().join("temp").join("alembot-report.json")
    }

    /// `alembot github`, started in `dir`, with the environment of an Actions
    /// step of event `event_name` and nothing from the test's own
    /// environment (which may itself be GitHub Actions).
    pub fn alembot(&self, dir: &Path, fake: &FakeGithub, event_name: &str) -> assert_cmd::Command {
        let mut cmd = assert_cmd::Command::cargo_bin("alembot").expect("binary");
        cmd.env_clear()
            .current_dir(dir)
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.path())
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_EVENT_NAME", event_name)
            .env("GITHUB_EVENT_PATH", self.event_path())
            .env("GITHUB_REPOSITORY", REPO)
            .env("GITHUB_TOKEN", TOKEN)
            .env("GITHUB_API_URL", &fake.url)
            .env("GITHUB_STEP_SUMMARY", self.path().join("summary.md"))
            .env("GITHUB_OUTPUT", self.path().join("output"))
            .env("RUNNER_TEMP", self.path().join("temp"))
            .env("ALEMBOT_GITHUB_RETRY_SCALE", "0")
            .env("ALEMBOT_PYTHON", crate::support::test_python())
            .env("NO_COLOR", "1")
            .arg("github");
        cmd
    }
}

pub fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/github")
        .join(name)
}

pub fn fixture(name: &str) -> Value {
    let text = fs::read_to_string(fixture_path(name)).expect("fixture exists");
    serde_json::from_str(&text).expect("fixture is JSON")
}

/// Points a pull_request payload at `project`'s commits.
pub fn aim_pull_request(payload: &mut Value, project: &Project) {
    payload["pull_request"]["head"]["sha"] = project.head.clone().into();
    payload["pull_request"]["base"]["sha"] = project.base.clone().into();
}
