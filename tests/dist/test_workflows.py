"""The repository's own workflows under actionlint (the release workflow
cannot run here), and the release workflow building with the commands the
local tests run."""

import os
import re
import subprocess
from pathlib import Path

from .support import ROOT, TempDirTest

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def actionlint():
    path = os.environ.get("ALEMBOT_ACTIONLINT")
    if not path or not Path(path).is_file():
        raise RuntimeError("ALEMBOT_ACTIONLINT is not set: run with scripts/test-dist (scripts/setup-dist installs it)")
    return path


class WorkflowTest(TempDirTest):
    def test_actionlint_catches_a_broken_workflow(self):
        # The linter itself works: a wrong expression is reported.
        broken = self.tmp / "broken.yml"
        broken.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope }}\n")
        out = subprocess.run([actionlint(), str(broken)], capture_output=True, text=True)
        self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
        self.assertIn("broken.yml:6:", out.stdout)

    def test_every_workflow_passes_actionlint(self):
        self.assertIn(ROOT / ".github" / "workflows" / "release.yml", WORKFLOWS)
        out = subprocess.run([actionlint(), *map(str, WORKFLOWS)], capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)

    def test_the_release_builds_with_the_command_the_tests_run(self):
        release = (ROOT / ".github" / "workflows" / "release.yml").read_text()
        test_dist = (ROOT / "scripts" / "test-dist").read_text()
        self.assertIn("args: --release --strip --out dist", release)
        self.assertRegex(test_dist, r"maturin\" build --quiet --profile dev --strip --out ")
        # Its assets are made by the script the action's tests run.
        self.assertIn("python3 scripts/release-asset \"$dir\"/*.whl \"$target\" assets", release)
        self.assertIn("python3 scripts/release-asset --checksums assets", release)
        # Every runner the action maps has an asset built.
        install = (ROOT / "scripts" / "action-install").read_text()
        for target in re.findall(r"\) echo ([\w-]+) ;;", install):
            self.assertIn(f"asset: {target} }}", release, target)
