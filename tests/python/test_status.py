"""status: read-only health checks of a live database (fixture `status`, one test per case and backend).

Each case prepares a throwaway database with the project's own `alembic upgrade` and SQL,
then runs status and checks the state, the findings, and that nothing was written.
"""

import os
import secrets
import string
import unittest

from tests.python import harness as h

ROOT = os.path.join(h.FIXTURES, "status")


def schema_fingerprint(url, python_exe=None):
    """Tables, columns and version rows, read in a subprocess, to prove status wrote nothing."""
    import json
    import subprocess

    code = (
        "import json, sys\n"
        "import sqlalchemy as sa\n"
        "kw = {'future': True} if sa.__version__.startswith('1.') else {}\n"
        "e = sa.create_engine(sys.argv[1], **kw)\n"
        "with e.connect() as c:\n"
        "    i = sa.inspect(c)\n"
        "    out = {t: [col['name'] for col in i.get_columns(t)] for t in sorted(i.get_table_names())}\n"
        "    if 'alembic_version' in out:\n"
        "        out['rows'] = sorted(r[0] for r in c.exec_driver_sql('SELECT version_num FROM alembic_version'))\n"
        "e.dispose()\n"
        "print(json.dumps(out, sort_keys=True))\n"
    )
    proc = subprocess.run([python_exe or h.python(), "-c", code, url], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, check=True)
    return json.loads(proc.stdout.decode())


class StatusCases(unittest.TestCase):
    python_exe = None
    maxDiff = None

    def prepare(self, url, case):
        prep = case["prepare"]
        h.alembic(ROOT, url, "upgrade", prep["upgrade"], python_exe=self.python_exe)
        if prep.get("sql"):
            h.execute_sql(url, prep["sql"], python_exe=self.python_exe)

    def check_result(self, final, case, backend):
        status = final["status"]
        problems = h.match_findings(case["expected"], final["findings"], backend, ROOT, case["exhaustive"])
        for key, value in case["expected_status"].items():
            if isinstance(value, dict):
                for k2, v2 in value.items():
                    if status[key].get(k2) != v2:
                        problems.append("status.%s.%s = %r, expected %r" % (key, k2, status[key].get(k2), v2))
            elif status.get(key) != value:
                problems.append("status.%s = %r, expected %r" % (key, status.get(key), value))
        for key in ("database", "dialect", "version_table", "version_table_exists", "current", "heads", "state",
                    "pending", "unknown", "summary", "drift", "findings", "read_only"):
            if key not in status:
                problems.append("status has no %s" % key)
        if problems:
            self.fail("\n".join(problems) + "\nstatus: %s" % status)

    def run_case(self, case, backend):
        scenario = h.load_scenario("status")
        with h.throwaway_database(backend, self.python_exe) as url:
            self.prepare(url, case)
            before = schema_fingerprint(url, self.python_exe)
            run = h.run_helper(h.project_request("status", scenario, url, action="status"), self.python_exe)
            after = schema_fingerprint(url, self.python_exe)
        final = h.result_or_fail(run)
        self.assertEqual(before, after, "status changed the database")
        self.check_result(final, case, backend)


def _make(case, backend):
    def test(self):
        self.run_case(case, backend)
    test.__doc__ = "status %s on %s" % (case["name"], backend)
    return test


def install(cls):
    for case in h.load_scenario("status")["cases"]:
        for backend in h.backends():
            setattr(cls, "test_%s__%s" % (case["name"].replace("-", "_"), backend), _make(case, backend))
    return cls


install(StatusCases)


class StatusAdvice(unittest.TestCase):
    """The help of a drift finding fits the database's state: a database that is merely
    behind needs `alembic upgrade head`, not a new migration; one at head does."""

    python_exe = None

    def findings_for(self, case_name):
        scenario = h.load_scenario("status")
        case = next(c for c in scenario["cases"] if c["name"] == case_name)
        with h.throwaway_database("sqlite") as url:
            StatusCases.prepare(self, url, case)
            run = h.run_helper(h.project_request("status", scenario, url, action="status"))
        return [f for f in h.result_or_fail(run)["findings"] if f["code"] == "drift"]

    def test_behind_advises_upgrading_not_a_new_migration(self):
        drift = self.findings_for("behind")
        self.assertTrue(drift)
        for f in drift:
            self.assertNotIn("Generate the missing migration", f["help"])
            self.assertIn("alembic upgrade head", f["help"])

    def test_at_head_a_missing_column_still_advises_a_migration(self):
        drift = self.findings_for("dropped")
        self.assertTrue(drift)
        for f in drift:
            self.assertNotIn("alembic upgrade head` and check again", f["help"])


class StatusAsyncEnv(unittest.TestCase):
    """status on a project whose env.py is asynchronous: the read-only guard covers the
    async driver's connections too."""

    python_exe = None

    def test_async_env_at_head(self):
        name = "async-env"
        root = os.path.join(h.FIXTURES, name)
        scenario = h.load_scenario(name)
        for backend in h.backends():
            with h.throwaway_database(backend, self.python_exe) as url:
                h.alembic(root, h.async_url(url), "upgrade", "head", python_exe=self.python_exe)
                before = schema_fingerprint(url, self.python_exe)
                run = h.run_helper(h.project_request(name, scenario, url, action="status"), self.python_exe)
                self.assertEqual(before, schema_fingerprint(url, self.python_exe))
            final = h.result_or_fail(run)
            self.assertEqual(final["status"]["state"], "up-to-date", backend)
            got = sorted((f["code"], f.get("operation"), f["column"]) for f in final["findings"])
            self.assertEqual(got, [("drift", "add_column", "nickname"), ("drift", "remove_column", "score")],
                             backend)


@unittest.skipUnless("postgresql" in h.backends(), "PostgreSQL is not among ALEMBOT_TEST_BACKENDS")
class StatusWithSelectOnlyRole(unittest.TestCase):
    """A PostgreSQL role that may only SELECT proves status never writes: Alembic would
    otherwise create the version table, and any write fails with permission denied."""

    python_exe = None

    def role(self):
        return "alembot_ro_" + "".join(secrets.choice(string.ascii_lowercase) for _ in range(8))

    def run_as_reader(self, case_name):
        scenario = h.load_scenario("status")
        case = [c for c in scenario["cases"] if c["name"] == case_name][0]
        role = self.role()
        password = "pw-" + secrets.token_hex(8)
        server = h.SERVER_URLS["postgresql"]
        h.execute_sql(server, ["CREATE ROLE %s LOGIN PASSWORD '%s'" % (role, password)])
        try:
            with h.throwaway_database("postgresql") as url:
                StatusCases.prepare(self, url, case)
                db = url.rsplit("/", 1)[1]
                h.execute_sql(url, [
                    "GRANT CONNECT ON DATABASE %s TO %s" % (db, role),
                    "GRANT USAGE ON SCHEMA public TO %s" % role,
                    "GRANT SELECT ON ALL TABLES IN SCHEMA public TO %s" % role,
                ])
                from sqlalchemy.engine import make_url

                reader = make_url(url).set(username=role, password=password).render_as_string(hide_password=False)
                before = schema_fingerprint(url)
                run = h.run_helper(h.project_request("status", scenario, reader, action="status"))
                after = schema_fingerprint(url)
                self.assertEqual(before, after)
                self.assertNotIn(password, run.stdout)
                self.assertNotIn(password, run.stderr)
                final = h.result_or_fail(run)
                StatusCases.check_result(self, final, case, "postgresql")
                self.assertIn("***", final["status"]["database"])
                for step in ("INSERT", "CREATE", "UPDATE"):
                    self.assertNotIn("permission denied", run.stderr, step)
                return final
        finally:
            h.execute_sql(server, ["DROP ROLE IF EXISTS %s" % role])

    def test_at_head(self):
        self.run_as_reader("at-head")

    def test_no_version_table(self):
        self.run_as_reader("no-version-table")

    def test_renamed(self):
        self.run_as_reader("renamed")

    maxDiff = None


if __name__ == "__main__":
    unittest.main()
