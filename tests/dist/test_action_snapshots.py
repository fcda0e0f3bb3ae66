"""The Action's base-snapshot cache steps (action.yml, issue 16) through the
local composite runner: a pull_request run saves the snapshots alembot left in
the git directory under a key made from their names; a later run of a fresh
checkout restores them by the key's prefix; a run with a write token
(issue_comment) never saves."""

import subprocess

from .actions import Composite
from .support import ROOT, TempDirTest

KEY = "ab" * 32


class ActionSnapshotCacheTest(TempDirTest):
    def setUp(self):
        super().setUp()
        self.cache_store = self.tmp / "actions-cache"
        self.cache_store.mkdir()
        self.env.update(RUNNER_OS="Linux")

    def checkout(self, name):
        workspace = self.tmp / name / "workspace"
        workspace.mkdir(parents=True)
        subprocess.run(["git", "init", "-q"], cwd=workspace, check=True)
        return workspace

    def composite(self, workspace, event):
        return Composite(ROOT, workspace, self.cache_store, dict(self.env),
                         {"event_name": event, "sha": "0" * 40})

    def steps(self, composite, ids):
        """Runs the steps with these ids, in the action's order, as the runner would
        (their `if:` conditions included)."""
        for index, step in enumerate(composite.action["runs"]["steps"]):
            step_id = step.get("id", "step%d" % index)
            if step_id not in ids:
                continue
            if "if" in step and not composite.condition(step["if"]):
                composite.log.append(("skipped", step_id))
                continue
            if "uses" in step:
                composite.uses(step_id, step)
            else:
                composite.run_step(step_id, step)

    def test_a_pull_request_run_saves_and_the_next_restores(self):
        first = self.checkout("first")
        c = self.composite(first, "pull_request")
        self.steps(c, {"snapshots", "snapshots-restore"})
        store = first / ".git" / "alembot" / "snapshots"
        self.assertEqual(c.steps["snapshots"]["dir"], str(store))
        self.assertEqual(c.steps["snapshots-restore"]["cache-hit"], "false")
        # What alembot's run leaves behind.
        store.mkdir(parents=True)
        (store / (KEY + ".snapshot")).write_bytes(b"alembot snapshot 1 x\n{}\n")
        self.steps(c, {"snapshots-key", "snapshots-save"})
        key = c.steps["snapshots-key"]["key"]
        self.assertTrue(key.startswith("alembot-snapshots-"), key)
        saved = self.cache_store / key
        self.assertTrue((saved / (KEY + ".snapshot")).is_file())

        # A fresh checkout (the next push) restores it by the key's prefix.
        second = self.checkout("second")
        c2 = self.composite(second, "pull_request")
        self.steps(c2, {"snapshots", "snapshots-restore"})
        restored = second / ".git" / "alembot" / "snapshots" / (KEY + ".snapshot")
        self.assertEqual(restored.read_bytes(), b"alembot snapshot 1 x\n{}\n")
        # The same snapshots give the same key: nothing new to save.
        self.steps(c2, {"snapshots-key"})
        self.assertEqual(c2.steps["snapshots-key"]["key"], key)

    def test_a_run_with_a_write_token_never_saves(self):
        workspace = self.checkout("recheck")
        c = self.composite(workspace, "issue_comment")
        self.steps(c, {"snapshots", "snapshots-restore"})
        store = workspace / ".git" / "alembot" / "snapshots"
        store.mkdir(parents=True)
        (store / (KEY + ".snapshot")).write_bytes(b"x")
        self.steps(c, {"snapshots-key", "snapshots-save"})
        self.assertIn(("skipped", "snapshots-key"), c.log)
        self.assertIn(("skipped", "snapshots-save"), c.log)
        self.assertEqual(list(self.cache_store.iterdir()), [])

    def test_no_snapshots_no_save(self):
        workspace = self.checkout("empty")
        c = self.composite(workspace, "pull_request")
        self.steps(c, {"snapshots", "snapshots-restore", "snapshots-key", "snapshots-save"})
        self.assertEqual(c.steps["snapshots-key"], {})
        self.assertIn(("skipped", "snapshots-save"), c.log)
        self.assertEqual(list(self.cache_store.iterdir()), [])


if __name__ == "__main__":
    import unittest

    unittest.main()
