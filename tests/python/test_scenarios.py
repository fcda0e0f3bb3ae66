"""Every verify fixture under tests/fixtures/projects, on every backend it lists.

One test per (scenario, backend): test_<scenario>__<backend>. The expected findings
live in each fixture's scenario.json so the Rust integration tests can assert the same.
"""

import os
import unittest

from tests.python import harness as h


class VerifyScenarios(unittest.TestCase):
    python_exe = None  # the interpreter under test; None = harness.python()

    maxDiff = None

    def run_scenario(self, name, backend):
        scenario = h.load_scenario(name)
        root = os.path.join(h.FIXTURES, name)
        with h.throwaway_database(backend, self.python_exe) as url:
            run = h.run_helper(h.project_request(name, scenario, url), self.python_exe)
        final = h.result_or_fail(run)
        problems = h.match_findings(scenario["expected"], final["findings"], backend, root,
                                    scenario.get("exhaustive", True))
        if "expected_heads" in scenario:
            self.assertEqual(sorted(final["heads"]), sorted(scenario["expected_heads"]))
        if problems:
            self.fail("\n".join(problems))
        requested = [k for k, v in scenario["checks"].items() if v]
        for check in requested:
            key = "unregistered" if check == "unregistered" else check
            self.assertTrue(key in final["checks"] or key in final["skipped"],
                            "check %s neither ran nor was skipped: %s" % (check, final))
        for f in final["findings"]:
            self.assertIn(f["severity"], ("error", "warning"))
            for key in ("code", "message", "help", "file", "line", "table", "column", "revision", "details"):
                self.assertIn(key, f)
            if f["file"] is not None:
                self.assertTrue(os.path.isabs(f["file"]), f["file"])
                self.assertTrue(os.path.isfile(f["file"]), f["file"])


def _make(name, backend):
    def test(self):
        self.run_scenario(name, backend)
    test.__doc__ = "%s on %s" % (name, backend)
    return test


def install(cls):
    for name in h.scenarios("verify"):
        scenario = h.load_scenario(name)
        for backend in h.backends():
            if backend in scenario["backends"]:
                setattr(cls, "test_%s__%s" % (name.replace("-", "_"), backend), _make(name, backend))
    return cls


install(VerifyScenarios)

if __name__ == "__main__":
    unittest.main()
