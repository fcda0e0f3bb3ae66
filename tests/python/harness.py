"""Drives src/job/helper.py through its JSON protocol, as the Rust binary does.

Backends (each test gets a fresh throwaway database, dropped even when the test fails):

    sqlite      a temporary file
    postgresql  ALEMBOT_TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/postgres)
    mysql       ALEMBOT_TEST_MYSQL_URL    (default mysql://root@127.0.0.1:3306/), MySQL or MariaDB

ALEMBOT_TEST_BACKENDS=sqlite,postgresql,mysql chooses which run (default: all three).
A chosen server that is not reachable fails the tests; it is never skipped silently.
ALEMBOT_TEST_PYTHON runs the helper with another interpreter (default: this one).
"""

import contextlib
import json
import os
import secrets
import shutil
import string
import subprocess
import sys
import tempfile

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HELPER = os.path.join(REPO, "src", "job", "helper.py")
FIXTURES = os.path.join(REPO, "tests", "fixtures", "projects")

SERVER_URLS = {
    "postgresql": os.environ.get("ALEMBOT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
    "mysql": os.environ.get("ALEMBOT_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/"),
}
ALL_BACKENDS = ("sqlite", "postgresql", "mysql")


def backends():
    chosen = os.environ.get("ALEMBOT_TEST_BACKENDS")
    if not chosen:
        return list(ALL_BACKENDS)
    out = [b.strip() for b in chosen.split(",") if b.strip()]
    unknown = set(out) - set(ALL_BACKENDS)
    if unknown:
        raise SystemExit("ALEMBOT_TEST_BACKENDS: unknown backend(s) %s" % ", ".join(sorted(unknown)))
    return out


def python():
    exe = os.environ.get("ALEMBOT_TEST_PYTHON") or sys.executable
    return os.path.abspath(exe) if os.sep in exe else exe


class HelperRun(object):
    def __init__(self, returncode, events, stdout, stderr, elapsed):
        self.returncode = returncode
        self.events = events
        self.stdout = stdout
        self.stderr = stderr
        self.elapsed = elapsed

    @property
    def final(self):
        return self.events[-1] if self.events else None

    def steps(self):
        return [e for e in self.events if e.get("event") == "step"]


def run_helper(request, python_exe=None, timeout=600, env=None):
    """Run the helper with one request; every stdout line must be JSON."""
    import time

    t0 = time.perf_counter()
    proc = subprocess.run(
        [python_exe or python(), HELPER],
        input=json.dumps(request).encode(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        timeout=timeout,
        env=env,
    )
    elapsed = time.perf_counter() - t0
    stdout = proc.stdout.decode()
    stderr = proc.stderr.decode()
    events = []
    for line in stdout.splitlines():
        try:
            events.append(json.loads(line))
        except ValueError:
            raise AssertionError("helper wrote a non-JSON line to stdout: %r\nstderr:\n%s" % (line, stderr))
    if not events or events[-1].get("event") not in ("result", "fatal"):
        raise AssertionError("helper ended without a result or fatal line (rc=%s)\nstdout:\n%s\nstderr:\n%s"
                             % (proc.returncode, stdout, stderr))
    finals = [e for e in events if e.get("event") in ("result", "fatal")]
    if len(finals) != 1:
        raise AssertionError("helper wrote %d final lines" % len(finals))
    return HelperRun(proc.returncode, events, stdout, stderr, elapsed)


def result_or_fail(run):
    final = run.final
    if final.get("event") != "result":
        raise AssertionError("helper failed: %s\nstderr:\n%s" % (json.dumps(final, indent=2), run.stderr[-4000:]))
    return final


def random_name():
    alphabet = string.ascii_lowercase + string.digits
    return "alembot_" + "".join(secrets.choice(alphabet) for _ in range(12))


@contextlib.contextmanager
def throwaway_database(backend, python_exe=None):
    """Yields the URL of a new, empty database; removes it afterwards, whatever happens."""
    if backend == "sqlite":
        d = tempfile.mkdtemp(prefix="alembot-test-")
        try:
            yield "sqlite:///" + os.path.join(d, "test.db")
        finally:
            shutil.rmtree(d, ignore_errors=True)
        return
    server = SERVER_URLS[backend]
    name = random_name()
    created = run_helper({"action": "create-database", "server_url": server, "name": name}, python_exe)
    final = created.final
    if final.get("event") != "result":
        raise AssertionError("cannot create a %s database on %s: %s (%s)\nStart the server, or leave %s out of "
                             "ALEMBOT_TEST_BACKENDS." % (backend, server, final.get("message"), final.get("help"),
                                                         backend))
    try:
        yield final["secret_database_url"]
    finally:
        dropped = run_helper({"action": "drop-database", "server_url": server, "name": name}, python_exe)
        if dropped.final.get("event") != "result":
            sys.stderr.write("warning: could not drop %s: %s\n" % (name, dropped.final))


def load_scenario(name):
    with open(os.path.join(FIXTURES, name, "scenario.json")) as fh:
        return json.load(fh)


def scenarios(action=None):
    out = []
    for name in sorted(os.listdir(FIXTURES)):
        path = os.path.join(FIXTURES, name, "scenario.json")
        if os.path.isfile(path):
            s = load_scenario(name)
            if action is None or s.get("action") == action:
                out.append(name)
    return out


def project_request(name, scenario, database_url, action=None):
    root = os.path.join(FIXTURES, name)
    req = {
        "action": action or scenario.get("action", "verify"),
        "project_root": root,
        "alembic_ini": os.path.join(root, scenario.get("alembic_ini", "alembic.ini")),
        "ini_section": "alembic",
        "script_location": None,
        "database_url": database_url,
        "url_env_vars": scenario.get("url_env_vars", ["DATABASE_URL"]),
        "version_table": scenario.get("version_table", "alembic_version"),
        "version_table_schema": scenario.get("version_table_schema"),
        "setup_sql": scenario.get("setup_sql", []),
        "model_files": [os.path.join(root, p) for p in scenario.get("model_files", [])],
    }
    if req["action"] == "verify":
        checks = dict(scenario.get("checks") or {})
        if checks.get("data_tests"):
            checks["data_tests"] = os.path.join(root, checks["data_tests"])
        req["checks"] = checks
    return req


def relative(finding, root):
    f = dict(finding)
    if f.get("file"):
        f["file"] = os.path.relpath(f["file"], root).replace(os.sep, "/")
    return f


def match_findings(expected, actual, backend, root, exhaustive):
    """Returns a list of problems (empty when the findings are as expected)."""
    problems = []
    actual = [relative(f, root) for f in actual]
    wanted = [e for e in expected if backend in e.get("backends", [backend])]
    used = set()
    for e in wanted:
        keys = [k for k in e if k != "backends"]
        hit = None
        for i, a in enumerate(actual):
            if i in used:
                continue
            if all(a.get(k) == e[k] for k in keys):
                hit = i
                break
        if hit is None:
            problems.append("expected finding not reported: %s" % json.dumps(e, sort_keys=True))
        else:
            used.add(hit)
    if exhaustive:
        for i, a in enumerate(actual):
            if i not in used:
                problems.append("unexpected finding: %s" % json.dumps(
                    {k: a.get(k) for k in ("code", "severity", "operation", "table", "column", "revision", "file",
                                           "line", "message")}, sort_keys=True))
    if problems:
        problems.append("all findings:\n" + json.dumps(actual, indent=2))
    return problems


def async_url(url):
    """The async-driver form of a sync test URL (for preparing async fixture projects)."""
    for sync, asyn in (("sqlite:///", "sqlite+aiosqlite:///"), ("postgresql+psycopg2://", "postgresql+asyncpg://"),
                       ("postgresql://", "postgresql+asyncpg://"), ("mysql+pymysql://", "mysql+aiomysql://"),
                       ("mysql://", "mysql+aiomysql://")):
        if url.startswith(sync):
            return asyn + url[len(sync):]
    return url


def alembic(project_root, database_url, *args, python_exe=None):
    """Run the project's own `alembic` command (to prepare databases for status tests)."""
    env = dict(os.environ)
    env["DATABASE_URL"] = database_url
    proc = subprocess.run(
        [python_exe or python(), "-m", "alembic", "-c", os.path.join(project_root, "alembic.ini")] + list(args),
        cwd=project_root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if proc.returncode != 0:
        raise AssertionError("alembic %s failed:\n%s" % (" ".join(args), proc.stderr.decode()[-3000:]))
    return proc


def execute_sql(database_url, statements, python_exe=None):
    """Run SQL statements in a subprocess with the test Python's SQLAlchemy."""
    code = (
        "import json, sys\n"
        "import sqlalchemy as sa\n"
        "url, stmts = json.loads(sys.stdin.read())\n"
        "kw = {'future': True} if sa.__version__.startswith('1.') else {}\n"
        "e = sa.create_engine(url, **kw)\n"
        "with e.begin() as c:\n"
        "    for s in stmts:\n"
        "        c.exec_driver_sql(s)\n"
        "e.dispose()\n"
    )
    proc = subprocess.run([python_exe or python(), "-c", code], input=json.dumps([database_url, statements]).encode(),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if proc.returncode != 0:
        raise AssertionError("SQL failed: %s\n%s" % (statements, proc.stderr.decode()[-3000:]))
