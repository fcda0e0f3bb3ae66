"""Base states (issue 16): verify in time proportional to the change.

The Rust side keys a snapshot on the files the base state is a function of and
hands this module a stored one (or none). Here the Python side of the key is
checked (SQLAlchemy, Alembic, driver, dialect and server versions), the base
state is restored into the throwaway database, and only the change's revisions
run. On a miss the usual full run happens and the base state the data-upgrade
check builds anyway is dumped for the Rust side to store:

- SQLite: the database file (the sqlite3 backup API, into and out of the open
  connection, so every connection env.py opens later sees it);
- PostgreSQL: `pg_dump --inserts` (schema and the few rows migrations seed,
  version table included), run back in one batch;
- MySQL/MariaDB: the server's own `SHOW CREATE TABLE`/`SHOW CREATE VIEW` and
  the tables' rows.
"""

from __future__ import annotations

import base64
import datetime
import decimal
import json
import os
import shutil
import subprocess

from .downgrades import _is_not_implemented, static_irreversible as _static_irreversible
from .errors import _first_line
from .project import _step_rev, step_failure_finding

# The history checks a snapshot can vouch for.
HISTORY_CHECKS = ("upgrade", "roundtrip")
# Findings about the history before the change that make a snapshot unusable.
_HISTORY_ERRORS = ("upgrade-failed", "downgrade-failed", "downgrade-debris", "project-error")


class NoSnapshot(Exception):
    """This database cannot be snapshotted (a missing tool, an object kind the dump
    does not cover): the run replays everything, and says why."""


def runtime(conn, versions):
    """The Python side of the key: what the base state also depends on."""
    dialect = conn.dialect
    driver = getattr(dialect, "driver", None)
    module = getattr(dialect, "dbapi", None) or getattr(dialect, "loaded_dbapi", None)
    version = getattr(module, "__version__", None) or getattr(module, "version", None)
    if driver == "pysqlite":
        version = getattr(module, "sqlite_version", version)
    return {
        "python": versions.get("python"),
        "sqlalchemy": versions.get("sqlalchemy"),
        "alembic": versions.get("alembic"),
        "dialect": dialect.name,
        "driver": "%s %s" % (driver, version) if version else driver,
        "server": versions.get("server"),
    }


# ---------------------------------------------------------------------------
# Dumping and restoring the base state


def dump(conn, path, extra_schemas=()):
    """Writes the database's state to `path`; returns the payload kind."""
    name = conn.dialect.name
    if conn.in_transaction():
        conn.commit()
    if name == "sqlite":
        import sqlite3

        raw = _dbapi(conn)
        target = sqlite3.connect(path)
        try:
            raw.backup(target)
        finally:
            target.close()
        return "sqlite"
    if name == "postgresql":
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(_pg_dump(conn))
        return "sql"
    if name in ("mysql", "mariadb"):
        if [s for s in extra_schemas if s]:
            raise NoSnapshot("the environment uses another MySQL schema (database)")
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(_mysql_dump(conn), fh)
        return "mysql"
    raise NoSnapshot("alembot cannot snapshot a %s database" % name)


def restore(conn, path, kind):
    """Replaces the (throwaway) database's content with the snapshot's."""
    name = conn.dialect.name
    if conn.in_transaction():
        conn.commit()
    if kind == "sqlite" and name == "sqlite":
        import sqlite3

        source = sqlite3.connect(path)
        try:
            source.backup(_dbapi(conn))
        finally:
            source.close()
        return
    if kind == "sql" and name == "postgresql":
        with open(path, encoding="utf-8") as fh:
            script = fh.read()
        _pg_restore(conn, script)
        return
    if kind == "mysql" and name in ("mysql", "mariadb"):
        with open(path, encoding="utf-8") as fh:
            _mysql_restore(conn, json.load(fh))
        return
    raise NoSnapshot("a %s snapshot cannot be restored into %s" % (kind, name))


def _dbapi(conn):
    raw = conn.connection
    return getattr(raw, "dbapi_connection", None) or getattr(raw, "connection", raw)


def _pg_tool(name, major):
    """`pg_dump` no older than the server (it refuses newer servers)."""
    candidates = []
    found = shutil.which(name)
    if found:
        candidates.append(found)
    for base in ("/usr/lib/postgresql", "/usr/local/pgsql"):
        if os.path.isdir(base):
            for v in sorted(os.listdir(base), reverse=True):
                p = os.path.join(base, v, "bin", name)
                if os.path.isfile(p):
                    candidates.append(p)
    for c in candidates:
        try:
            out = subprocess.run([c, "--version"], capture_output=True, text=True, timeout=10).stdout
            tool_major = int(out.split()[-1].split(".")[0].split("beta")[0].split("rc")[0])
        except (OSError, ValueError, IndexError, subprocess.SubprocessError):
            continue
        if major is None or tool_major >= major:
            return c
    raise NoSnapshot("no %s for PostgreSQL %s on PATH (install the server's client tools)" % (name, major))


def _pg_dump(conn):
    url = conn.engine.url
    info = conn.dialect.server_version_info or ()
    tool = _pg_tool("pg_dump", info[0] if info else None)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    query = dict(url.query)
    host = query.get("host") or url.host
    if isinstance(host, (list, tuple)):
        host = host[0]
    if host:
        env["PGHOST"] = str(host)
    if url.port:
        env["PGPORT"] = str(url.port)
    if url.username:
        env["PGUSER"] = url.username
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    env["PGDATABASE"] = url.database
    env["PGCONNECT_TIMEOUT"] = "10"
    proc = subprocess.run(
        [tool, "--no-owner", "--no-privileges", "--inserts", "--quote-all-identifiers"],
        capture_output=True, text=True, env=env, timeout=300)
    if proc.returncode != 0:
        raise NoSnapshot("pg_dump failed: %s" % (proc.stderr.strip().splitlines() or ["?"])[-1])
    lines = []
    for line in proc.stdout.splitlines():
        # psql meta-commands (\restrict since 17.6) and comments are not SQL.
        if line.startswith("\\") or line.startswith("--"):
            continue
        if line.strip() == 'CREATE SCHEMA "public";':
            line = 'CREATE SCHEMA IF NOT EXISTS "public";'
        lines.append(line)
    return "\n".join(lines) + "\n"


def _pg_restore(conn, script):
    """Runs the dump in one batch on a connection of its own: the dump empties
    search_path for its session, which must not leak into the pool."""
    conn.exec_driver_sql("SELECT 1")  # the pool's connection is live
    schemas = [r[0] for r in conn.exec_driver_sql(
        "SELECT nspname FROM pg_namespace WHERE nspname !~ '^pg_' "
        "AND nspname <> 'information_schema'").fetchall()]
    for s in schemas:
        conn.exec_driver_sql('DROP SCHEMA "%s" CASCADE' % s.replace('"', '""'))
    # pg_dump leaves out a default public schema; one the dump recreates is made
    # IF NOT EXISTS (see _pg_dump).
    conn.exec_driver_sql("CREATE SCHEMA public")
    conn.commit()
    engine = conn.engine
    cargs, cparams = engine.dialect.create_connect_args(engine.url)
    raw = engine.dialect.connect(*cargs, **cparams)
    try:
        cur = raw.cursor()
        cur.execute(script)
        cur.close()
        raw.commit()
    finally:
        raw.close()


_MYSQL_UNSUPPORTED = (
    ("triggers", "SELECT COUNT(*) FROM information_schema.triggers WHERE trigger_schema = DATABASE()"),
    ("routines", "SELECT COUNT(*) FROM information_schema.routines WHERE routine_schema = DATABASE()"),
    ("events", "SELECT COUNT(*) FROM information_schema.events WHERE event_schema = DATABASE()"),
)


def _mysql_dump(conn):
    for what, sql in _MYSQL_UNSUPPORTED:
        if conn.exec_driver_sql(sql).scalar():
            raise NoSnapshot("the database has %s, which the snapshot does not cover" % what)
    rows = conn.exec_driver_sql(
        "SELECT table_name, table_type FROM information_schema.tables "
        "WHERE table_schema = DATABASE() ORDER BY table_name").fetchall()
    tables, views, data = [], [], []
    for name, kind in rows:
        q = "`%s`" % name.replace("`", "``")
        if kind == "VIEW":
            views.append(conn.exec_driver_sql("SHOW CREATE VIEW %s" % q).fetchone()[1])
            continue
        tables.append(conn.exec_driver_sql("SHOW CREATE TABLE %s" % q).fetchone()[1])
        result = conn.exec_driver_sql("SELECT * FROM %s" % q)
        columns = list(result.keys())
        values = [[_encode(v) for v in row] for row in result.fetchall()]
        if values:
            data.append({"table": name, "columns": columns, "rows": values})
    conn.commit()
    return {"tables": tables, "views": views, "data": data}


def _mysql_restore(conn, payload):
    raw = _dbapi(conn)
    cur = raw.cursor()
    try:
        cur.execute("SET FOREIGN_KEY_CHECKS = 0")
        cur.execute(
            "SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = DATABASE()")
        for name, kind in list(cur.fetchall()):
            cur.execute("DROP %s IF EXISTS `%s`" % ("VIEW" if kind == "VIEW" else "TABLE",
                                                   name.replace("`", "``")))
        for statement in payload["tables"] + payload["views"]:
            cur.execute(statement)
        for block in payload["data"]:
            cols = ", ".join("`%s`" % c.replace("`", "``") for c in block["columns"])
            marks = ", ".join(["%s"] * len(block["columns"]))
            cur.executemany("INSERT INTO `%s` (%s) VALUES (%s)" % (
                block["table"].replace("`", "``"), cols, marks),
                [[_decode(v) for v in row] for row in block["rows"]])
        cur.execute("SET FOREIGN_KEY_CHECKS = 1")
        raw.commit()
    finally:
        cur.close()


def _encode(v):
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, (bytes, bytearray, memoryview)):
        return {"b64": base64.b64encode(bytes(v)).decode("ascii")}
    if isinstance(v, decimal.Decimal):
        return {"decimal": str(v)}
    if isinstance(v, datetime.datetime):
        return {"datetime": v.isoformat()}
    if isinstance(v, datetime.date):
        return {"date": v.isoformat()}
    if isinstance(v, datetime.time):
        return {"time": v.isoformat()}
    if isinstance(v, datetime.timedelta):
        return {"seconds": v.total_seconds()}
    if isinstance(v, (set, frozenset)):
        return ",".join(sorted(v))
    raise NoSnapshot("a seeded row holds a %s value the snapshot cannot keep" % type(v).__name__)


def _decode(v):
    if not isinstance(v, dict):
        return v
    (kind, text), = v.items()
    if kind == "b64":
        return base64.b64decode(text)
    if kind == "decimal":
        return decimal.Decimal(text)
    if kind == "datetime":
        return datetime.datetime.fromisoformat(text)
    if kind == "date":
        return datetime.date.fromisoformat(text)
    if kind == "time":
        return datetime.time.fromisoformat(text)
    if kind == "seconds":
        return datetime.timedelta(seconds=text)
    raise ValueError(kind)


# ---------------------------------------------------------------------------
# The run


class Session(object):
    """One verify run's snapshot: the request's part, what happened to it, and the
    report's words. `req` is the request's "snapshot" object:
    {"key", "save_to", "revisions" (the change's), "base_heads",
     "restore": {"path", "kind", "runtime", "heads", "verified", "findings", "created"} | None}."""

    def __init__(self, req, project, conn, versions, checks):
        self.req = req
        self.project = project
        self.conn = conn
        self.runtime = runtime(conn, versions)
        self.added = list(req.get("revisions") or [])
        self.base_heads = list(req.get("base_heads") or [])
        self.hit = None          # the restore object, when the snapshot is used
        self.reason = None       # why it is not used / not saved
        self.saved = None        # what was dumped (a miss)
        restore = req.get("restore")
        self.checks = checks
        if restore is None:
            # The caller knows why (no file, a damaged or foreign one).
            return
        wanted = [c for c in HISTORY_CHECKS if _wants(checks, c)]
        missing = [c for c in wanted if c not in (restore.get("verified") or [])]
        if restore.get("runtime") != self.runtime:
            diff = sorted(k for k in set(self.runtime) | set(restore.get("runtime") or {})
                          if self.runtime.get(k) != (restore.get("runtime") or {}).get(k))
            self.reason = "the stored snapshot was made with another %s" % ", ".join(diff)
        elif missing:
            self.reason = "the stored snapshot was made without the %s check" % ", ".join(missing)
        elif sorted(restore.get("heads") or []) != sorted(self.base_heads):
            self.reason = "the stored snapshot is at other heads"
        else:
            self.hit = restore

    # -- a hit ------------------------------------------------------------

    def restore(self, conn):
        restore(conn, self.hit["path"], self.hit["kind"])

    def stored_findings(self):
        """The warnings the history gave when the snapshot was made, with paths
        made absolute in this run's tree."""
        out = []
        for f in self.hit.get("findings") or []:
            f = dict(f)
            if f.get("file") and not os.path.isabs(f["file"]):
                f["file"] = os.path.join(self.project.root, f["file"])
            out.append(f)
        return out

    # -- a miss -----------------------------------------------------------

    def save_base_state(self, conn, extra_schemas):
        """Called once the data upgrade has upgraded an empty database to the base
        heads: the state a later run restores."""
        if self.hit is not None or self.saved is not None or not self.req.get("save_to"):
            return
        try:
            kind = dump(conn, self.req["save_to"], extra_schemas)
        except NoSnapshot as e:
            self.reason = "no snapshot saved: %s" % e
            return
        except Exception as e:  # a snapshot is speed, never a result
            self.reason = "no snapshot saved: %s" % _first(e)
            return
        self.saved = {"kind": kind}

    def outcome(self, verifier, findings):
        """The result's "snapshot" object. A miss's dump is offered for saving only
        when the history it holds was verified and gave no error."""
        out = {"used": self.hit is not None, "reason": self.reason, "saved": None}
        if self.hit is not None or self.saved is None:
            return out
        base = set(s.revision for s in self.project.revisions) - set(self.added)
        verified = [c for c in HISTORY_CHECKS if c in verifier.ran and c not in verifier.skipped
                    and not any(k.startswith(c) for k in verifier.skipped)]
        # A new revision that cannot be downgraded stops the round trip above the
        # history: its downgrades never ran, so the snapshot does not vouch for them.
        if any(r in set(self.added) for r in verifier.irreversible):
            verified = [c for c in verified if c != "roundtrip"]
        history = []
        clean = "upgrade" in verified
        for f in findings:
            rev = f.get("revision")
            ours = rev in base or (rev is None and f.get("code") in _HISTORY_ERRORS
                                   and f.get("check") in (None, "upgrade", "roundtrip"))
            if not ours:
                continue
            if f.get("severity") == "error":
                clean = False
            elif rev in base:
                g = dict(f)
                if (g.get("file") or "").startswith(self.project.root + os.sep):
                    g["file"] = os.path.relpath(g["file"], self.project.root)
                history.append(g)
        if not clean:
            out["reason"] = "%sno snapshot saved: the history before the change has errors" % (
                self.reason + "; " if self.reason else "")
            if os.path.exists(self.req["save_to"]):
                os.remove(self.req["save_to"])
            return out
        # A snapshot the same run could not use is not worth keeping.
        unverified = [c for c in HISTORY_CHECKS if _wants(self.checks, c) and c not in verified]
        if unverified:
            out["reason"] = ("%s; no snapshot saved: the %s check did not cover the history before the change"
                             % (self.reason, ", ".join(unverified))) if self.reason else (
                "no snapshot saved: the %s check did not cover the history before the change"
                % ", ".join(unverified))
            if os.path.exists(self.req["save_to"]):
                os.remove(self.req["save_to"])
            return out
        out["saved"] = {"kind": self.saved["kind"], "runtime": self.runtime, "heads": self.base_heads,
                        "verified": verified, "clean": True, "findings": history}
        return out


def _wants(checks, name):
    return bool(checks.get(name)) if name != "upgrade" else bool(
        checks.get("upgrade") or checks.get("drift") or checks.get("unregistered") or checks.get("roundtrip"))


def _first(e):
    text = str(e).strip().splitlines()
    return "%s: %s" % (type(e).__name__, text[0]) if text else type(e).__name__


class Incremental(object):
    """Mixed in before Verifier when a run has a snapshot session: on a hit the
    database starts at the restored base state (the first setup and every reset,
    except for the project's data tests, which may start anywhere in the history),
    the round trip goes down to the base heads instead of to base, and the
    warnings the history gave when the snapshot was made are reported again. On a
    miss the run is the usual one, and the base state is dumped when the data
    upgrade has built it."""

    snapshot = None
    _emptying = False
    _base_irreversible = ()

    def _restoring(self):
        return self.snapshot is not None and self.snapshot.hit is not None and not self._emptying

    def run(self):
        if self._restoring():
            stored = self.snapshot.stored_findings()
            self.findings.extend(stored)
            self._base_irreversible = sorted(set(
                f["revision"] for f in stored if f.get("code") == "irreversible-migration" and f.get("revision")))
            for r in self._base_irreversible:
                self._irreversible_reported.add(r)
                self.irreversible.setdefault(r, "see its warning")
        return super(Incremental, self).run()

    def dedupe(self):
        # Down to the base heads, the round trip sees what the stairway pins to a
        # revision (a replay's downgrade to base may drop it with the table): the
        # stairway's finding is the one a replay reports.
        if self.snapshot is not None and self.snapshot.hit is not None:
            pinned = set((f.get("table"), f.get("column")) for f in self.findings
                         if f["code"] == "downgrade-debris" and f.get("check") == "stairway")
            self.findings = [f for f in self.findings if not (
                f["code"] == "downgrade-debris" and f.get("check") == "roundtrip"
                and (f.get("table"), f.get("column")) in pinned)]
        return super(Incremental, self).dedupe()

    def run_setup_sql(self):
        if not self._restoring():
            return super(Incremental, self).run_setup_sql()
        if self.conn.dialect.name in ("mysql", "mariadb"):
            # A MySQL snapshot holds this database's tables only.
            super(Incremental, self).run_setup_sql()
        self.snapshot.restore(self.conn)

    def at_base_state(self):
        if self.snapshot is not None and self.snapshot.hit is None:
            self.snapshot.save_base_state(self.conn, self.extra_schemas)

    def data_tests(self, directory):
        self._emptying = True
        try:
            return super(Incremental, self).data_tests(directory)
        finally:
            self._emptying = False

    def downgrade_base(self, what):
        if not self._restoring():
            return super(Incremental, self).downgrade_base(what)
        return self.downgrade_change(what)

    def downgrade_change(self, what):
        """Downgrades the change's revisions (children first) back to the base heads,
        stepping around those that cannot be downgraded, as downgrade_base does for
        the whole history."""
        from alembic.runtime.migration import MigrationStep

        added = set(self.snapshot.added)
        order = [s for s in self.project.topo_order() if s.revision in added]
        for script in order:
            reason = _static_irreversible(script)
            if reason and script.revision not in self.irreversible:
                self.irreversible[script.revision] = reason
        rmap = self.project.script.revision_map
        while True:
            blocked = set()
            for r in self.irreversible:
                blocked.add(r)
                blocked |= self.project.ancestors(r)

            def build(heads, ctx):
                applied = set()
                for h in heads:
                    applied.add(h)
                    applied |= self.project.ancestors(h)
                return [MigrationStep.downgrade_from_script(rmap, s) for s in reversed(order)
                        if s.revision in applied and s.revision not in blocked]
            failure = self.project.run_steps(build, self.conn, self.on_step)
            if failure is None:
                return True, None
            step = failure.step or failure.last_step
            if failure.phase == "env" or step is None:
                return False, self.project.env_failure_finding(failure, what)
            rev = _step_rev(step)
            if not step.is_upgrade and _is_not_implemented(failure.exc) and rev not in self.irreversible:
                msg = _first_line(str(failure.exc))
                self.irreversible[rev] = "its downgrade() raises NotImplementedError%s" % (
                    ": %s" % msg if msg else "")
                continue
            return False, step_failure_finding("downgrade-failed", failure, self.project)


def verifier(Verifier, req, project, engine, conn, checks, stack, versions):
    """The verifier for a request, and its snapshot session (None without one)."""
    spec = req.get("snapshot")
    if not isinstance(spec, dict):
        return Verifier(project, engine, conn, checks, stack), None
    session = Session(spec, project, conn, versions, checks)
    cls = type("IncrementalVerifier", (Incremental, Verifier), {})
    v = cls(project, engine, conn, checks, stack)
    v.snapshot = session
    return v, session
