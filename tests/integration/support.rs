//! Builders for real git repositories and helpers to run the binary on them.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

/// A throwaway git repository, removed when dropped.
pub struct Repo {
    dir: TempDir,
}

impl Repo {
    pub fn new() -> Repo {
        let dir = tempfile::Builder::new()
            .prefix("alembot-test-")
            .tempdir()
            .expect("temp dir");
        let repo = Repo { dir };
        repo.git(&["init", "-q", "-b", "main"]);
        repo.git(&["config", "user.email", "dev@example.com"]);
        repo.git(&["config", "user.name", "Dev"]);
        repo.git(&["config", "commit.gpgsign", "false"]);
        repo
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, rel: &str, content: &str) -> &Self {
        self.write_bytes(rel, content.as_bytes())
    }

    pub fn write_bytes(&self, rel: &str, content: &[u8]) -> &Self {
        let path = self.path().join(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).expect("mkdir");
        }
        fs::write(path, content).expect("write");
        self
    }

    pub fn append(&self, rel: &str, content: &str) -> &Self {
        let path = self.path().join(rel);
        let mut text = fs::read_to_string(&path).expect("read");
        text.push_str(content);
        fs::write(path, text).expect("write");
        self
    }

    pub fn read(&self, rel: &str) -> String {
        fs::read_to_string(self.path().join(rel)).expect("read")
    }

    pub fn replace(&self, rel: &str, from: &str, to: &str) -> &Self {
        let text = self.read(rel);
        assert!(text.contains(from), "{rel} does not contain {from:?}");
        self.write(rel, &text.replacen(from, to, 1))
    }

    pub fn remove(&self, rel: &str) -> &Self {
        fs::remove_file(self.path().join(rel)).expect("remove");
        self
    }

    pub fn git(&self, args: &[&str]) -> String {
        let out = Command::new("git")
            .args(args)
            .current_dir(self.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", self.path())
            .output()
            .expect("git runs");
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    pub fn commit_all(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--no-verify", "-m", message]);
        self.git(&["rev-parse", "HEAD"])
    }

    /// `git status --porcelain --ignored`: proves a run wrote nothing.
    pub fn status(&self) -> String {
        self.git(&[
            "status",
            "--porcelain",
            "--ignored",
            "--untracked-files=all",
        ])
    }

    pub fn alembot(&self, args: &[&str]) -> Run {
        run_in(self.path(), args, &[])
    }
}

/// The outcome of one run of the binary.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// `code@file:line` of each finding, for compact assertions.
    pub fn findings(&self) -> Vec<String> {
        let json = self.json();
        json["findings"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|f| {
                        let mut s = f["code"].as_str().unwrap_or("?").to_string();
                        if let Some(file) = f["file"].as_str() {
                            s.push('@');
                            s.push_str(file);
                            if let Some(line) = f["line"].as_u64() {
                                s.push_str(&format!(":{line}"));
                            }
                        }
                        s
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "unexpected exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_alembot"))
}

pub fn run_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(binary());
    cmd.args(args).current_dir(dir);
    // Tests must not inherit a developer's or CI's alembot settings.
    for (key, _) in std::env::vars() {
        if key.starts_with("ALEMBOT_") || key.starts_with("GITHUB_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("NO_COLOR", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out: Output = cmd.output().expect("alembot runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Replaces a temporary directory in output with a placeholder, for snapshots.
pub fn redact(text: &str, dir: &Path) -> String {
    let mut out = text.replace(&dir.display().to_string(), "[REPO]");
    if let Ok(canonical) = dir.canonicalize() {
        out = out.replace(&canonical.display().to_string(), "[REPO]");
    }
    out
}

pub const ALEMBIC_INI: &str =
    "[alembic]\nscript_location = %(here)s/migrations\nprepend_sys_path = .\n";

pub const MODELS: &str = r#"from typing import Optional

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    posts: Mapped[list["Post"]] = relationship(back_populates="author")


class Post(Base):
    __tablename__ = "post"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    author: Mapped["User"] = relationship(back_populates="posts")
"#;

/// An Alembic revision file as `alembic revision` writes it.
pub fn revision(rev: &str, down: Option<&str>, upgrade: &str, downgrade: &str) -> String {
    let down_repr = match down {
        Some(d) => format!("'{d}'"),
        None => "None".to_string(),
    };
    format!(
        r#""""{rev}

Revision ID: {rev}
Revises: {down}
Create Date: 2026-11-01 10:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '{rev}'
down_revision: Union[str, Sequence[str], None] = {down_repr}
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    # ### commands auto generated by Alembic - please adjust! ###
{upgrade}
    # ### end Alembic commands ###


def downgrade() -> None:
    """Downgrade schema."""
    # ### commands auto generated by Alembic - please adjust! ###
{downgrade}
    # ### end Alembic commands ###
"#,
        down = down.unwrap_or("")
    )
}

pub const INITIAL_UPGRADE: &str = r#"    op.create_table('user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=255), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('email')
    )
    op.create_table('post',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )"#;

pub const INITIAL_DOWNGRADE: &str = "    op.drop_table('post')\n    op.drop_table('user')";

/// A committed project: models, alembic.ini, env.py and one revision.
pub fn blog_repo() -> Repo {
    let repo = Repo::new();
    write_blog(&repo, "");
    repo.commit_all("initial project");
    repo
}

/// Writes the blog project under `prefix` (`""` for the root).
pub fn write_blog(repo: &Repo, prefix: &str) {
    let p = |rel: &str| {
        if prefix.is_empty() {
            rel.to_string()
        } else {
            format!("{prefix}/{rel}")
        }
    };
    repo.write(&p("alembic.ini"), ALEMBIC_INI)
        .write(&p("app/__init__.py"), "")
        .write(&p("app/models.py"), MODELS)
        .write(
            &p("migrations/env.py"),
            "from app.models import Base\ntarget_metadata = Base.metadata\n",
        )
        .write(&p("migrations/script.py.mako"), "# template\n")
        .write(
            &p("migrations/versions/a1_initial.py"),
            &revision("a1", None, INITIAL_UPGRADE, INITIAL_DOWNGRADE),
        );
}

pub const ADD_SUBTITLE: &str = "    subtitle: Mapped[Optional[str]] = mapped_column(String(200))\n";

pub fn subtitle_revision(rev: &str, down: &str) -> String {
    revision(
        rev,
        Some(down),
        "    op.add_column('post', sa.Column('subtitle', sa.String(length=200), nullable=True))",
        "    op.drop_column('post', 'subtitle')",
    )
}

/// The Python with alembic and SQLAlchemy the dynamic tests run:
/// `ALEMBOT_TEST_PYTHON` (set by scripts/test), else the repository's
/// `.venv`. Never skips: a missing interpreter fails the test with the fix.
pub fn test_python() -> String {
    if let Ok(p) = std::env::var("ALEMBOT_TEST_PYTHON")
        && !p.is_empty()
    {
        return p;
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    assert!(
        venv.is_file(),
        "no Python for the dynamic tests: run `scripts/setup-python` (or set ALEMBOT_TEST_PYTHON)"
    );
    venv.display().to_string()
}

/// A blog project whose env.py really runs (for verify): the example's env.py shape.
pub const RUNNABLE_ENV_PY: &str = r#"from logging.config import fileConfig
import os

from alembic import context
from sqlalchemy import engine_from_config, pool

from app.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_offline():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    connectable = config.attributes.get("connection")
    if connectable is not None:
        context.configure(connection=connectable, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = engine_from_config(config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
"#;

/// An alembot process started in the background, its pid known while it
/// runs, and stopped (SIGTERM, so its own cleanup runs) if the test fails
/// before it ends.
pub struct Background {
    child: Option<std::process::Child>,
}

impl Background {
    pub fn start<V: AsRef<std::ffi::OsStr>>(
        dir: &Path,
        args: &[&str],
        env: &[(&str, V)],
    ) -> Background {
        let mut cmd = Command::new(binary());
        cmd.args(args)
            .current_dir(dir)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        for (key, _) in std::env::vars() {
            if key.starts_with("ALEMBOT_") || key.starts_with("GITHUB_") {
                cmd.env_remove(key);
            }
        }
        cmd.env("NO_COLOR", "1");
        for (k, v) in env {
            cmd.env(k, v);
        }
        Background {
            child: Some(cmd.spawn().expect("alembot starts")),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    pub fn running(&mut self) -> bool {
        matches!(self.child.as_mut().unwrap().try_wait(), Ok(None))
    }

    pub fn signal(&self, signal: i32) {
        // SAFETY: kill(2) has no memory-safety preconditions.
        let rc = unsafe { libc::kill(self.pid() as i32, signal) };
        assert_eq!(rc, 0, "could not signal alembot");
    }

    /// Waits for the end (at most `limit`) and returns the outcome.
    pub fn finish(mut self, limit: std::time::Duration) -> Run {
        use std::io::Read;
        let mut child = self.child.take().unwrap();
        let deadline = std::time::Instant::now() + limit;
        while matches!(child.try_wait(), Ok(None)) {
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("alembot did not end within {limit:?}");
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let (mut stdout, mut stderr) = (String::new(), String::new());
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut stdout)
            .unwrap();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        let status = child.wait().unwrap();
        Run {
            code: status.code().unwrap_or(-1),
            stdout,
            stderr,
        }
    }
}

impl Drop for Background {
    /// A failed test still lets alembot clean up (SIGTERM).
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SAFETY: kill(2) has no memory-safety preconditions.
            unsafe {
                libc::kill(child.id() as i32, libc::SIGTERM);
            }
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
            while matches!(child.try_wait(), Ok(None)) && std::time::Instant::now() < deadline {
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
