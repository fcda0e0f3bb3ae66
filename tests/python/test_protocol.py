"""The helper's JSON protocol: probe, fatal errors, database creation and removal,
password redaction, stdout hygiene, and projects that cannot be loaded."""

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import textwrap
import unittest

from tests.python import harness as h


class Protocol(unittest.TestCase):
    maxDiff = None

    def test_probe_reports_versions_and_drivers(self):
        final = h.result_or_fail(h.run_helper({"action": "probe"}))
        self.assertEqual(set(final["versions"]), {"python", "sqlalchemy", "alembic"})
        self.assertIn("sqlite3", final["drivers"])
        self.assertEqual(final["python"], h.python())
        self.assertEqual(final["protocol"], 1)

    def test_request_that_is_not_json(self):
        proc = subprocess.run([h.python(), h.HELPER], input=b"{nope", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        lines = proc.stdout.decode().splitlines()
        self.assertEqual(len(lines), 1)
        final = json.loads(lines[0])
        self.assertEqual((final["event"], final["kind"]), ("fatal", "request"))
        self.assertNotEqual(proc.returncode, 0)

    def test_unknown_action(self):
        final = h.run_helper({"action": "dance"}).final
        self.assertEqual((final["event"], final["kind"]), ("fatal", "request"))
        self.assertIn("dance", final["message"])

    def test_unknown_check_is_a_request_error(self):
        scenario = h.load_scenario("clean")
        req = h.project_request("clean", scenario, "sqlite:///" + tempfile.mktemp())
        req["checks"] = {"upgrade": True, "drfit": True}
        final = h.run_helper(req).final
        self.assertEqual((final["event"], final["kind"]), ("fatal", "request"))
        self.assertIn("drfit", final["message"])

    def test_without_sqlalchemy_is_an_environment_error(self):
        # -S: no site-packages, so neither SQLAlchemy nor Alembic can be imported.
        proc = subprocess.run([h.python(), "-S", h.HELPER], input=b'{"action": "probe"}',
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        final = json.loads(proc.stdout.decode().splitlines()[-1])
        self.assertEqual((final["event"], final["kind"]), ("fatal", "environment"))
        self.assertIn("pip install", final["help"])
        self.assertIn("SQLAlchemy", final["message"])

    def test_alembic_too_old_is_an_environment_error(self):
        d = tempfile.mkdtemp()
        try:
            os.makedirs(os.path.join(d, "alembic"))
            with open(os.path.join(d, "alembic", "__init__.py"), "w") as fh:
                fh.write('__version__ = "1.7.7"\n')
            env = dict(os.environ, PYTHONPATH=d)
            final = h.run_helper({"action": "probe"}, env=env).final
        finally:
            shutil.rmtree(d)
        self.assertEqual((final["event"], final["kind"]), ("fatal", "environment"))
        self.assertIn("1.7.7", final["message"])
        self.assertIn("alembic>=1.8", final["help"])

    def test_drop_refuses_names_alembot_did_not_make(self):
        for name in ("postgres", "alembot_", "alembot_ABCDEFGHIJKL", "alembot_0123456789ab; DROP", "x_alembot_0123456789ab"):
            for action in ("drop-database", "create-database"):
                final = h.run_helper({"action": action, "server_url": h.SERVER_URLS["postgresql"],
                                      "name": name}).final
                self.assertEqual((final["event"], final["kind"]), ("fatal", "request"), (action, name))

    def test_create_database_refuses_sqlite(self):
        final = h.run_helper({"action": "create-database", "server_url": "sqlite:////tmp/x.db",
                              "name": h.random_name()}).final
        self.assertEqual((final["event"], final["kind"]), ("fatal", "request"))

    def test_connection_failure_is_fatal_and_redacted(self):
        root = os.path.join(h.FIXTURES, "clean")
        scenario = h.load_scenario("clean")
        req = h.project_request("clean", scenario, "postgresql://someone:hunter2-secret@127.0.0.1:9/nowhere")
        run = h.run_helper(req)
        final = run.final
        self.assertEqual((final["event"], final["kind"]), ("fatal", "connection"))
        self.assertIn("127.0.0.1", final["message"])
        self.assertIn("9", final["message"])
        self.assertNotIn("hunter2-secret", run.stdout)
        self.assertIn("***", final["message"])
        del root

    def test_missing_env_py_is_a_project_error(self):
        d = tempfile.mkdtemp()
        try:
            os.makedirs(os.path.join(d, "migrations", "versions"))
            with open(os.path.join(d, "alembic.ini"), "w") as fh:
                fh.write("[alembic]\nscript_location = %(here)s/migrations\n")
            req = {"action": "verify", "project_root": d, "alembic_ini": os.path.join(d, "alembic.ini"),
                   "database_url": "sqlite:///" + os.path.join(d, "t.db"), "checks": {"upgrade": True}}
            final = h.result_or_fail(h.run_helper(req))
        finally:
            shutil.rmtree(d)
        self.assertEqual([f["code"] for f in final["findings"]], ["project-error"])
        self.assertIn("env.py", final["findings"][0]["message"])

    def test_no_script_location_is_a_project_error(self):
        d = tempfile.mkdtemp()
        try:
            with open(os.path.join(d, "alembic.ini"), "w") as fh:
                fh.write("[alembic]\nsqlalchemy.url = sqlite://\n")
            req = {"action": "verify", "project_root": d, "alembic_ini": os.path.join(d, "alembic.ini"),
                   "database_url": "sqlite:///" + os.path.join(d, "t.db"), "checks": {"upgrade": True}}
            final = h.result_or_fail(h.run_helper(req))
        finally:
            shutil.rmtree(d)
        self.assertEqual([f["code"] for f in final["findings"]], ["project-error"])
        self.assertIn("script_location", final["findings"][0]["message"])

    def test_stdout_stays_json_when_env_py_logs_and_prints(self):
        # clean/alembic.ini logs Alembic at INFO to sys.stdout; async-env's env.py print()s.
        for name in ("clean", "async-env"):
            scenario = h.load_scenario(name)
            with h.throwaway_database("sqlite") as url:
                run = h.run_helper(h.project_request(name, scenario, url))  # asserts every line is JSON
            h.result_or_fail(run)
            self.assertTrue(run.steps())
        self.assertIn("Running upgrade", h.run_helper(
            h.project_request("clean", h.load_scenario("clean"), "sqlite:///" + tempfile.mktemp())).stderr)

    def test_progress_events_name_revisions(self):
        scenario = h.load_scenario("clean")
        with h.throwaway_database("sqlite") as url:
            run = h.run_helper(h.project_request("clean", scenario, url))
        steps = run.steps()
        upgrades = [s["revision"] for s in steps if s["step"] == "upgrade" and s["check"] == "upgrade"
                    and "revision" in s]
        self.assertIn({"event": "step", "step": "upgrade heads", "check": "upgrade"}, steps)
        self.assertEqual(len(upgrades), 2)
        self.assertTrue(all(s["event"] == "step" for s in steps))
        final = h.result_or_fail(run)
        for key in ("findings", "checks", "skipped", "heads", "timings", "versions", "database", "notes"):
            self.assertIn(key, final)
        self.assertIn("upgrade", final["timings"])


@unittest.skipUnless(set(h.backends()) & {"postgresql", "mysql"}, "no database server among ALEMBOT_TEST_BACKENDS")
class DatabaseLifecycle(unittest.TestCase):
    def lifecycle(self, backend):
        server = h.SERVER_URLS[backend]
        name = h.random_name()
        created = h.result_or_fail(h.run_helper({"action": "create-database", "server_url": server, "name": name}))
        try:
            self.assertEqual(created["database"], name)
            self.assertTrue(created["secret_database_url"].endswith("/" + name))
            # A session left open (the project's own pool) must not stop the drop.
            code = ("import sys, time, sqlalchemy as sa\n"
                    "kw = {'future': True} if sa.__version__.startswith('1.') else {}\n"
                    "c = sa.create_engine(sys.argv[1], **kw).connect()\n"
                    "c.exec_driver_sql('SELECT 1')\n"
                    "print('ready', flush=True)\n"
                    "time.sleep(60)\n")
            holder = subprocess.Popen([h.python(), "-c", code, created["secret_database_url"]],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            try:
                self.assertEqual(holder.stdout.readline().strip(), b"ready")
                dropped = h.result_or_fail(h.run_helper({"action": "drop-database", "server_url": server,
                                                         "name": name}))
                self.assertTrue(dropped["dropped"])
            finally:
                holder.kill()
                holder.communicate()
            again = h.result_or_fail(h.run_helper({"action": "drop-database", "server_url": server, "name": name}))
            self.assertFalse(again["dropped"])
        finally:
            h.run_helper({"action": "drop-database", "server_url": server, "name": name})

    def verify_creates_and_drops(self, backend, python_exe=None):
        """verify with server_url and name (no database_url) creates the database, runs the
        checks in it, and drops it in the same process."""
        server = h.SERVER_URLS[backend]
        name = h.random_name()
        req = h.project_request("missing-column", h.load_scenario("missing-column"), None)
        del req["database_url"]
        req.update({"server_url": server, "name": name})
        try:
            run = h.run_helper(req, python_exe)
            final = h.result_or_fail(run)
            self.assertTrue(final["dropped_database"])
            self.assertEqual([e for e in run.events if e.get("event") == "gone"],
                             [{"event": "gone", "database": name}])
            self.assertIn(name, final["database"])
            self.assertEqual([(f["code"], f["column"]) for f in final["findings"]], [("drift", "nickname")])
            again = h.result_or_fail(h.run_helper({"action": "drop-database", "server_url": server, "name": name}))
            self.assertFalse(again["dropped"], "the database was left behind")
        finally:
            h.run_helper({"action": "drop-database", "server_url": server, "name": name})

    def assert_gone(self, run, name, expected=True):
        """The helper's "gone" event: nothing for the caller to drop."""
        gone = [e for e in run.events if e.get("event") == "gone"]
        if expected:
            self.assertEqual(gone, [{"event": "gone", "database": name}], run.events)
        else:
            self.assertEqual(gone, [], run.events)

    def assert_left_nothing(self, server, name):
        again = h.result_or_fail(h.run_helper({"action": "drop-database", "server_url": server, "name": name}))
        self.assertFalse(again["dropped"], "the database %s was left behind" % name)

    def own_database_request(self, backend, name, scenario="missing-column"):
        req = h.project_request(scenario, h.load_scenario(scenario), None)
        del req["database_url"]
        req.update({"server_url": h.SERVER_URLS[backend], "name": name})
        return req

    def failures_while_creating(self, backend):
        """verify creates its database in a background thread while Alembic is imported and the
        project loads: whatever fails meanwhile, the database it created is dropped, and one it
        could not create is reported (and, not being its own, left alone)."""
        server = h.SERVER_URLS[backend]
        names = []
        try:
            # The project cannot be loaded at all (a fatal request error while creating).
            name = h.random_name()
            names.append(name)
            req = self.own_database_request(backend, name)
            req["project_root"] = os.path.join(tempfile.gettempdir(), "alembot-no-such-project-" + name)
            run = h.run_helper(req)
            final = run.final
            self.assertEqual((final["event"], final["kind"]), ("fatal", "request"), final)
            self.assert_gone(run, name)
            self.assert_left_nothing(server, name)

            # The project has no env.py: a finding, and the database is dropped as usual.
            name = h.random_name()
            names.append(name)
            d = tempfile.mkdtemp()
            try:
                os.makedirs(os.path.join(d, "migrations", "versions"))
                with open(os.path.join(d, "alembic.ini"), "w") as fh:
                    fh.write("[alembic]\nscript_location = %(here)s/migrations\n")
                req = {"action": "verify", "project_root": d, "alembic_ini": os.path.join(d, "alembic.ini"),
                       "server_url": server, "name": name, "checks": {"upgrade": True}}
                run = h.run_helper(req)
                final = h.result_or_fail(run)
            finally:
                shutil.rmtree(d)
            self.assertEqual([f["code"] for f in final["findings"]], ["project-error"])
            self.assertTrue(final["dropped_database"])
            self.assert_gone(run, name)
            self.assert_left_nothing(server, name)

            # Alembic cannot be used (too old): found after the creation started.
            name = h.random_name()
            names.append(name)
            d = tempfile.mkdtemp()
            try:
                os.makedirs(os.path.join(d, "alembic"))
                with open(os.path.join(d, "alembic", "__init__.py"), "w") as fh:
                    fh.write('__version__ = "1.7.7"\n')
                run = h.run_helper(self.own_database_request(backend, name),
                                   env=dict(os.environ, PYTHONPATH=d))
                final = run.final
            finally:
                shutil.rmtree(d)
            self.assertEqual((final["event"], final["kind"]), ("fatal", "environment"), final)
            self.assert_gone(run, name)
            self.assert_left_nothing(server, name)

            # The creation itself fails (the name is taken): reported; the database is not ours.
            name = h.random_name()
            names.append(name)
            h.result_or_fail(h.run_helper({"action": "create-database", "server_url": server, "name": name}))
            run = h.run_helper(self.own_database_request(backend, name))
            final = run.final
            self.assertEqual((final["event"], final["kind"]), ("fatal", "connection"), final)
            self.assertIn("cannot create database %s" % name, final["message"])
            # CREATE DATABASE was sent: only the caller's drop can tell whether it exists.
            self.assert_gone(run, name, expected=False)
            dropped = h.result_or_fail(h.run_helper({"action": "drop-database", "server_url": server,
                                                     "name": name}))
            self.assertTrue(dropped["dropped"], "verify dropped a database it had not created")
        finally:
            for name in names:
                h.run_helper({"action": "drop-database", "server_url": server, "name": name})

    @unittest.skipUnless("postgresql" in h.backends(), "PostgreSQL not selected")
    def test_failures_while_creating_the_database_on_postgresql(self):
        self.failures_while_creating("postgresql")

    @unittest.skipUnless("mysql" in h.backends(), "MySQL not selected")
    def test_failures_while_creating_the_database_on_mysql(self):
        self.failures_while_creating("mysql")

    @unittest.skipUnless("postgresql" in h.backends(), "PostgreSQL not selected")
    def test_drop_when_the_creating_connection_is_gone_on_postgresql(self):
        """The connection that created the database stays open to drop it; if the server
        ended it meanwhile, the database is dropped on a new one."""
        server = h.SERVER_URLS["postgresql"]
        name = h.random_name()
        req = self.own_database_request("postgresql", name, scenario="clean")
        # Run on the new database first: ends the session whose last statement created it.
        req["setup_sql"] = ["SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'postgres' "
                            "AND query = 'CREATE DATABASE \"' || current_database() || '\"'"]
        try:
            final = h.result_or_fail(h.run_helper(req))
            self.assertEqual(final["findings"], [])
            self.assertTrue(final["dropped_database"])
            self.assert_left_nothing(server, name)
        finally:
            h.run_helper({"action": "drop-database", "server_url": server, "name": name})

    @unittest.skipUnless("postgresql" in h.backends(), "PostgreSQL not selected")
    def test_verify_creates_and_drops_its_database_on_postgresql(self):
        self.verify_creates_and_drops("postgresql")

    @unittest.skipUnless("mysql" in h.backends(), "MySQL not selected")
    def test_verify_creates_and_drops_its_database_on_mysql(self):
        self.verify_creates_and_drops("mysql")

    @unittest.skipUnless("postgresql" in h.backends(), "PostgreSQL not selected")
    def test_postgresql(self):
        self.lifecycle("postgresql")

    @unittest.skipUnless("mysql" in h.backends(), "MySQL not selected")
    def test_mysql(self):
        self.lifecycle("mysql")


@unittest.skipUnless("postgresql" in h.backends(), "PostgreSQL not selected")
class PasswordsNeverPrinted(unittest.TestCase):
    def test_verify_with_a_password_protected_role(self):
        role = "alembot_pw_" + secrets.token_hex(4)
        password = "Sw0rdfish-" + secrets.token_hex(6)
        server = h.SERVER_URLS["postgresql"]
        h.execute_sql(server, ["CREATE ROLE %s LOGIN PASSWORD '%s'" % (role, password)])
        try:
            with h.throwaway_database("postgresql") as url:
                db = url.rsplit("/", 1)[1]
                h.execute_sql(url, ["ALTER DATABASE %s OWNER TO %s" % (db, role),
                                    "ALTER SCHEMA public OWNER TO %s" % role])
                from sqlalchemy.engine import make_url

                secret_url = make_url(url).set(username=role, password=password).render_as_string(
                    hide_password=False)
                for name in ("migration-raises", "env-import-error", "missing-column"):
                    run = h.run_helper(h.project_request(name, h.load_scenario(name), secret_url))
                    h.result_or_fail(run)
                    self.assertNotIn(password, run.stdout, name)
                    self.assertNotIn(password, run.stderr, name)
                    self.assertIn(role + ":***@", run.final["database"])
        finally:
            h.execute_sql(server, ["DROP ROLE IF EXISTS %s" % role])


class ExampleProject(unittest.TestCase):
    """examples/blog is clean; with examples/blog-missing-migration.patch applied, drift finds posts.subtitle."""

    def copy_example(self):
        d = tempfile.mkdtemp(prefix="alembot-example-")
        shutil.copytree(os.path.join(h.REPO, "examples", "blog"), os.path.join(d, "examples", "blog"),
                        ignore=shutil.ignore_patterns("__pycache__", "*.db"))
        return d

    def request(self, root, url):
        return {"action": "verify", "project_root": root, "alembic_ini": os.path.join(root, "alembic.ini"),
                "database_url": url, "url_env_vars": ["DATABASE_URL"],
                "model_files": [os.path.join(root, "blog", "models.py")],
                "checks": {"upgrade": True, "drift": True, "roundtrip": True, "stairway": "all",
                           "unregistered": True,
                           "data_upgrade": {"base_heads": ["24a822636973"], "revisions": ["3b06dd20bf9d"]}}}

    def test_example_is_clean_everywhere(self):
        d = self.copy_example()
        try:
            root = os.path.join(d, "examples", "blog")
            for backend in h.backends():
                with h.throwaway_database(backend) as url:
                    final = h.result_or_fail(h.run_helper(self.request(root, url)))
                self.assertEqual(final["findings"], [], backend)
                self.assertEqual(final["heads"], ["3b06dd20bf9d"])
        finally:
            shutil.rmtree(d)

    def test_patch_shows_the_missing_migration(self):
        d = self.copy_example()
        try:
            subprocess.run(["git", "apply", os.path.join(h.REPO, "examples", "blog-missing-migration.patch")],
                           cwd=d, check=True)
            root = os.path.join(d, "examples", "blog")
            with h.throwaway_database("sqlite") as url:
                final = h.result_or_fail(h.run_helper(self.request(root, url)))
            self.assertEqual(len(final["findings"]), 1, final["findings"])
            f = final["findings"][0]
            self.assertEqual((f["code"], f["operation"], f["table"], f["column"]),
                             ("drift", "add_column", "posts", "subtitle"))
            self.assertEqual(f["file"], os.path.join(root, "blog", "models.py"))
            with open(f["file"]) as fh:
                self.assertIn("subtitle", fh.read().splitlines()[f["line"] - 1])
            self.assertIn("op.add_column('posts', sa.Column('subtitle', sa.String(length=200)", f["details"])
        finally:
            shutil.rmtree(d)


if __name__ == "__main__":
    unittest.main()
