"""The same scenarios with SQLAlchemy 1.4 and Alembic 1.8 (scripts/setup-python --sqla14).

Uses ALEMBOT_SQLA14_PYTHON, else .venv-sqla14/bin/python. A missing environment fails
the tests (run `scripts/setup-python --sqla14`); ALEMBOT_SKIP_SQLA14=1 skips them on purpose.
"""

import os
import unittest

from tests.python import harness as h
from tests.python import test_protocol, test_scenarios, test_status

SQLA14 = os.environ.get("ALEMBOT_SQLA14_PYTHON") or os.path.join(h.REPO, ".venv-sqla14", "bin", "python")
SKIP = os.environ.get("ALEMBOT_SKIP_SQLA14") == "1"


class _Needs14(object):
    python_exe = SQLA14

    def setUp(self):
        if SKIP:
            self.skipTest("ALEMBOT_SKIP_SQLA14=1")
        if not os.path.exists(SQLA14):
            self.fail("no SQLAlchemy 1.4 environment at %s: run scripts/setup-python --sqla14 "
                      "(or set ALEMBOT_SKIP_SQLA14=1)" % SQLA14)


class VerifyScenariosSqla14(_Needs14, test_scenarios.VerifyScenarios):
    def test_versions(self):
        final = h.result_or_fail(h.run_helper({"action": "probe"}, self.python_exe))
        self.assertTrue(final["versions"]["sqlalchemy"].startswith("1.4"))
        self.assertTrue(final["versions"]["alembic"].startswith("1.8"))


@unittest.skipUnless(set(h.backends()) & {"postgresql", "mysql"}, "no database server among ALEMBOT_TEST_BACKENDS")
class OwnDatabaseSqla14(_Needs14, unittest.TestCase):
    """verify creating and dropping its own database (on PostgreSQL before SQLAlchemy is
    imported, with the arguments SQLAlchemy 1.4 would use)."""

    def test_verify_creates_and_drops_its_database(self):
        for backend in ("postgresql", "mysql"):
            if backend in h.backends():
                with self.subTest(backend=backend):
                    test_protocol.DatabaseLifecycle.verify_creates_and_drops(self, backend, self.python_exe)


class StatusCasesSqla14(_Needs14, test_status.StatusCases):
    pass


class StatusAsyncEnvSqla14(_Needs14, test_status.StatusAsyncEnv):
    pass


if __name__ == "__main__":
    unittest.main()
