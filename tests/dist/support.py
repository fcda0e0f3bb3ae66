"""What the packaging tests share: the built wheel, a venv made from it, the
bundled example as a git repository, and commands run with a PATH that has no
Rust toolchain on it."""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "blog"
PATCH = ROOT / "examples" / "blog-missing-migration.patch"

# The migration the patch forgets: posts.subtitle.
SUBTITLE_REVISION = '''"""post subtitle"""
from alembic import op
import sqlalchemy as sa

revision = "5a1b2c3d4e5f"
down_revision = "3b06dd20bf9d"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("posts", sa.Column("subtitle", sa.String(length=200), nullable=True))


def downgrade():
    op.drop_column("posts", "subtitle")
'''


def cargo_version():
    text = (ROOT / "Cargo.toml").read_text()
    match = re.search(r'^version\s*=\s*"([^"]+)"', text, re.M)
    assert match, "Cargo.toml has a version"
    return match.group(1)


def require_env(name, what):
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(
            f"{name} is not set: run the packaging tests with scripts/test-dist ({what})"
        )
    return value


def wheel():
    """The wheel scripts/test-dist built (ALEMBOT_TEST_WHEEL)."""
    path = Path(require_env("ALEMBOT_TEST_WHEEL", "it builds the wheel first"))
    if not path.is_file():
        raise RuntimeError(f"ALEMBOT_TEST_WHEEL={path} does not exist")
    return path


def wheelhouse():
    """A directory with the wheel and the build backend the pre-commit mirror
    needs, so pip can install everything with --no-index."""
    return Path(require_env("ALEMBOT_TEST_WHEELHOUSE", "it fills the wheelhouse"))


def rustless_path(*first):
    """PATH with the given directories first and no directory that holds a
    Rust toolchain (cargo, rustc, rustup), as on a Python developer's machine."""
    dirs = [str(d) for d in first]
    for d in os.environ.get("PATH", "").split(os.pathsep):
        if not d or d in dirs:
            continue
        if any((Path(d) / tool).exists() for tool in ("cargo", "rustc", "rustup")):
            continue
        dirs.append(d)
    path = os.pathsep.join(dirs)
    for tool in ("cargo", "rustc", "rustup"):
        assert shutil.which(tool, path=path) is None, f"{tool} still on {path}"
    return path


def run(cmd, cwd, env, timeout=300):
    return subprocess.run(
        cmd, cwd=cwd, env=env, timeout=timeout, capture_output=True, text=True
    )


def base_env(tmp):
    """An environment that keeps nothing of the caller's Python or alembot
    settings and writes nothing outside `tmp`."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ALEMBOT_", "VIRTUAL_ENV", "PYTHON", "PIP_", "PRE_COMMIT", "CARGO", "RUSTUP"))
    }
    env.update(
        HOME=str(tmp / "home"),
        XDG_CACHE_HOME=str(tmp / "cache"),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        NO_COLOR="1",
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="Dev",
        GIT_AUTHOR_EMAIL="dev@example.com",
        GIT_COMMITTER_NAME="Dev",
        GIT_COMMITTER_EMAIL="dev@example.com",
    )
    (tmp / "home").mkdir(exist_ok=True)
    return env


def git(cwd, *args, env=None):
    out = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, f"git {args}: {out.stderr}"
    return out.stdout.strip()


def example_repo(dest, env):
    """The bundled example, committed in a fresh git repository."""
    shutil.copytree(EXAMPLE, dest, ignore=shutil.ignore_patterns("*.db", "__pycache__"))
    git(dest, "init", "-q", "-b", "main", env=env)
    git(dest, "add", "-A", env=env)
    git(dest, "commit", "-q", "--no-verify", "-m", "the example", env=env)
    return dest


def apply_patch(repo, env):
    git(repo, "apply", "-p3", str(PATCH), env=env)


def new_venv(dest, env):
    """A fresh virtual environment from the interpreter running the tests."""
    base = getattr(sys, "_base_executable", sys.executable)
    out = run([base, "-m", "venv", str(dest)], cwd=dest.parent, env=env)
    assert out.returncode == 0, out.stderr
    return dest / "bin"


class TempDirTest(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="alembot-dist-")
        self.tmp = Path(self._tmp.name)
        self.addCleanup(self._tmp.cleanup)
        self.env = base_env(self.tmp)
