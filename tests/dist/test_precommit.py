"""The hooks through the real pre-commit framework: the mirror's
`language: python` hook installs the wheel (no Rust on PATH) and blocks a
model edit without a migration; this repository's `language: system` hook
runs the alembot already on PATH."""

import re
import shutil
import sys
from pathlib import Path

import yaml  # PyYAML, a dependency of pre-commit

from .support import (
    ROOT,
    SUBTITLE_REVISION,
    TempDirTest,
    apply_patch,
    cargo_version,
    example_repo,
    git,
    new_venv,
    run,
    rustless_path,
    wheel,
    wheelhouse,
)

MIRROR = ROOT / "packaging" / "pre-commit-mirror"
PRE_COMMIT = Path(sys.executable).parent / "pre-commit"


def hooks(path):
    return {h["id"]: h for h in yaml.safe_load(path.read_text())}


class HookFilesTest(TempDirTest):
    def test_the_mirror_pins_cargos_version(self):
        text = (MIRROR / "pyproject.toml").read_text()
        version = cargo_version()
        self.assertRegex(text, rf'(?m)^version = "{re.escape(version)}"$')
        self.assertIn(f'dependencies = ["alembot=={version}"]', text)

    def test_the_mirror_and_this_repository_offer_the_same_hooks(self):
        mirror = hooks(MIRROR / ".pre-commit-hooks.yaml")
        here = hooks(ROOT / ".pre-commit-hooks.yaml")
        for hook_id, hook in mirror.items():
            self.assertEqual(hook["language"], "python")
            for key in ("entry", "files", "pass_filenames"):
                self.assertEqual(hook[key], here[hook_id][key], f"{hook_id}.{key}")
                self.assertEqual(hook[key], here[f"{hook_id}-system"][key], f"{hook_id}-system.{key}")
            self.assertEqual(here[hook_id]["language"], "python")
            self.assertEqual(here[f"{hook_id}-system"]["language"], "system")


class PreCommitFrameworkTest(TempDirTest):
    def setUp(self):
        super().setUp()
        self.assertTrue(PRE_COMMIT.is_file(), f"{PRE_COMMIT}: run with scripts/test-dist")
        self.env.update(
            PRE_COMMIT_HOME=str(self.tmp / "pre-commit-home"),
            # The wheel under test and the mirror's build backend, nothing
            # from an index: the hook must install from the wheel alone.
            PIP_NO_INDEX="1",
            PIP_FIND_LINKS=str(wheelhouse()),
        )

    def commit(self, repo, message):
        return run(["git", "commit", "-m", message], cwd=repo, env=self.env, timeout=600)

    def project(self, config):
        repo = example_repo(self.tmp / "blog", self.env)
        (repo / ".pre-commit-config.yaml").write_text(config)
        git(repo, "add", ".pre-commit-config.yaml", env=self.env)
        git(repo, "commit", "-q", "--no-verify", "-m", "pre-commit", env=self.env)
        return repo

    def test_the_mirror_hook_installs_the_wheel_and_blocks_a_missing_migration(self):
        version = cargo_version()
        mirror = self.tmp / "alembot-pre-commit"
        shutil.copytree(MIRROR, mirror)
        git(mirror, "init", "-q", "-b", "main", env=self.env)
        git(mirror, "add", "-A", env=self.env)
        git(mirror, "commit", "-q", "-m", "mirror", env=self.env)
        git(mirror, "tag", f"v{version}", env=self.env)

        self.env["PATH"] = rustless_path(PRE_COMMIT.parent)
        repo = self.project(
            f"repos:\n  - repo: {mirror}\n    rev: v{version}\n    hooks:\n      - id: alembot\n"
        )
        out = run([str(PRE_COMMIT), "install"], cwd=repo, env=self.env)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)

        apply_patch(repo, self.env)
        git(repo, "add", "-A", env=self.env)
        out = self.commit(repo, "subtitle")
        text = out.stdout + out.stderr
        self.assertNotEqual(out.returncode, 0, f"the commit should be blocked:\n{text}")
        self.assertIn("missing-migration", text)
        # The hook's environment got the wheel, not a build: its alembot is
        # the binary the wheel carries.
        envs = list((self.tmp / "pre-commit-home").glob("repo*/py_env-*/bin/alembot"))
        self.assertEqual(len(envs), 1, envs)
        self.assertEqual(
            run([str(envs[0]), "--version"], cwd=repo, env=self.env).stdout.strip(),
            f"alembot {version}",
        )

        (repo / "migrations" / "versions" / "5a1b2c3d4e5f_post_subtitle.py").write_text(
            SUBTITLE_REVISION
        )
        git(repo, "add", "-A", env=self.env)
        out = self.commit(repo, "subtitle with its migration")
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)

    def test_the_system_hook_runs_the_alembot_on_path(self):
        bin_dir = new_venv(self.tmp / "venv", self.env)
        out = run(
            [str(bin_dir / "pip"), "install", "--no-deps", str(wheel())],
            cwd=self.tmp,
            env=self.env,
        )
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.env["PATH"] = rustless_path(bin_dir)
        repo = self.project("repos: []\n")

        apply_patch(repo, self.env)
        git(repo, "add", "-A", env=self.env)
        try_repo = [str(PRE_COMMIT), "try-repo", str(ROOT), "alembot-system"]
        out = run(try_repo, cwd=repo, env=self.env)
        self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
        self.assertIn("missing-migration", out.stdout)

        (repo / "migrations" / "versions" / "5a1b2c3d4e5f_post_subtitle.py").write_text(
            SUBTITLE_REVISION
        )
        git(repo, "add", "-A", env=self.env)
        out = run(try_repo, cwd=repo, env=self.env)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
