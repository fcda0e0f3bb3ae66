"""A small local runner for action.yml's composite steps, enough to run its
install steps as GitHub's runner does: each `run:` step through
`bash --noprofile --norc -eo pipefail` in its `working-directory` (else the
workspace), with its `env:`, a fresh GITHUB_OUTPUT file, `${{ }}`
expressions of the contexts the action uses, `if:` conditions made of
`!=`/`==` comparisons joined by `&&`, and actions/cache restore/save
against a local store."""

import re
import shutil
import subprocess
from pathlib import Path

import yaml

EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


class StepFailed(AssertionError):
    pass


class Composite:
    def __init__(self, action_dir, workspace, cache_store, env, github):
        self.action_dir = Path(action_dir)
        self.workspace = Path(workspace)
        self.cache_store = Path(cache_store)
        self.env = env
        self.github = {"action_path": str(action_dir), **github}
        self.inputs = {}
        self.steps = {}
        self.log = []
        self.action = yaml.safe_load((self.action_dir / "action.yml").read_text())
        for name, spec in self.action.get("inputs", {}).items():
            self.inputs[name] = str(spec.get("default", ""))

    def value(self, expr):
        parts = expr.split(".")
        if parts[0] == "github":
            return self.github.get(parts[1], "")
        if parts[0] == "inputs":
            return self.inputs.get(parts[1], "")
        if parts[0] == "steps" and parts[2] == "outputs":
            return self.steps.get(parts[1], {}).get(parts[3], "")
        if parts[0] == "runner":
            return ""
        raise AssertionError(f"the local runner does not know `{expr}`")

    def expand(self, text):
        return EXPR.sub(lambda m: self.value(m.group(1)), str(text))

    def condition(self, cond):
        cond = EXPR.sub(lambda m: m.group(1), str(cond)).strip()
        for clause in cond.split("&&"):
            # always(): the runner's status check; every step here runs after success.
            if clause.strip() == "always()":
                continue
            m = re.fullmatch(r"\s*([\w.-]+)\s*(==|!=)\s*'([^']*)'\s*", clause)
            if not m:
                raise AssertionError(f"the local runner cannot evaluate `if: {cond}`")
            left = self.value(m.group(1))
            if (left == m.group(3)) != (m.group(2) == "=="):
                return False
        return True

    def run(self, until_id=None):
        """Runs the steps in order, stopping before the step `until_id`."""
        for index, step in enumerate(self.action["runs"]["steps"]):
            step_id = step.get("id", f"step{index}")
            if until_id is not None and step_id == until_id:
                return
            if "if" in step and not self.condition(step["if"]):
                self.log.append(("skipped", step_id))
                continue
            if "uses" in step:
                self.uses(step_id, step)
            else:
                self.run_step(step_id, step)

    def run_step(self, step_id, step):
        assert step.get("shell") == "bash", f"step {step_id}: shell: bash"
        cwd = Path(self.expand(step["working-directory"])) if "working-directory" in step else self.workspace
        output = self.workspace.parent / f"output-{step_id}"
        output.write_text("")
        env = dict(self.env, GITHUB_OUTPUT=str(output), GITHUB_WORKSPACE=str(self.workspace))
        env.update({k: self.expand(v) for k, v in step.get("env", {}).items()})
        script = self.workspace.parent / f"step-{step_id}.sh"
        script.write_text(self.expand(step["run"]))
        out = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
        )
        self.log.append(("ran", step_id, out.returncode, out.stdout + out.stderr))
        if out.returncode != 0:
            raise StepFailed(f"step {step_id} failed ({out.returncode}):\n{out.stdout}{out.stderr}")
        outputs = {}
        for line in output.read_text().splitlines():
            key, _, val = line.partition("=")
            outputs[key] = val
        self.steps[step_id] = outputs

    def uses(self, step_id, step):
        with_ = {k: self.expand(v) for k, v in step.get("with", {}).items()}
        action = step["uses"]
        stored = self.cache_store / with_.get("key", "")
        if action.startswith("actions/cache/restore@"):
            hit = stored.is_dir()
            source = stored if hit else None
            prefix = with_.get("restore-keys", "").strip()
            if not hit and prefix:
                # Like actions/cache: the newest entry whose key starts with the prefix.
                matches = [p for p in self.cache_store.iterdir() if p.name.startswith(prefix)]
                if matches:
                    source = max(matches, key=lambda p: p.stat().st_mtime)
            if source is not None:
                shutil.copytree(source, with_["path"], dirs_exist_ok=True)
            self.steps[step_id] = {"cache-hit": "true" if hit else "false"}
        elif action.startswith("actions/cache/save@"):
            # Like actions/cache/save, a missing path is a warning, not a failure.
            if Path(with_["path"]).is_dir():
                shutil.copytree(with_["path"], stored, dirs_exist_ok=True)
            self.steps[step_id] = {}
        else:
            raise AssertionError(f"the local runner does not know {action}")
        self.log.append(("used", step_id, action))
