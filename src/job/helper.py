"""alembot's job helper: runs a project's own Alembic environment and reports in JSON.

The alembot binary embeds this file and runs it with the project's Python:

    python helper.py < request.json

Dependencies: the standard library and the project's own SQLAlchemy (1.4 or 2.x)
and Alembic (1.8 or newer). Python 3.8+ syntax.

Protocol
========

stdin: ONE JSON object, the request. stdout: JSON lines, nothing else. Progress
events come first, then exactly one final line:

    {"event": "step", "step": "upgrade heads", "check": "upgrade"}     (a check starts)
    {"event": "step", "step": "upgrade", "revision": "1e212bc13912", "check": "upgrade"}
    {"event": "step", "step": "downgrade", "revision": "1e212bc13912", "check": "stairway"}
    {"event": "step", "step": "data test", "revision": "...", "check": "data_tests"}
    {"event": "note", "message": "..."}                     (informational)
    {"event": "gone", "database": "alembot_..."}             (verify with server_url: the
        database it was to create is dropped, or was never sent a CREATE; nothing to drop)
    {"event": "result", ...}                                 (final, success)
    {"event": "fatal", "kind": K, "message": "...", "help": "..." | null}   (final, failure)

Fatal kinds: "request" (the request is malformed or impossible), "environment"
(something to install or configure: Alembic or SQLAlchemy missing or too old, no
database driver), "connection" (the database server cannot be reached, or refuses
to create or drop a database), "internal" (a bug in this helper; traceback on
stderr). A failure of the *project's* code is never fatal: it is a finding
(`project-error`, `upgrade-failed`, ...) in a result.
Exit status: 0 after a result, 2 after a fatal, 3 after an internal error; read
the JSON, not the status.

Everything the project prints (env.py prints, logging.fileConfig handlers) goes
to stderr: file descriptor 1 is pointed at stderr before the project is
touched, and results are written to a private duplicate of the original stdout.
Database passwords never appear in the output: URLs are rendered with `***`.

Common request fields
---------------------

    {"action": "probe" | "create-database" | "drop-database" | "verify" | "status",
     "project_root": "/abs/dir",   # chdir here, sys.path[0] (like pytest)
     "alembic_ini": "/abs/alembic.ini" | null,   # .ini, or a pyproject.toml (Alembic 1.16+)
     "ini_section": "alembic",
     "script_location": "/abs/migrations" | null,  # overrides/replaces the ini's
     "database_url": "postgresql://...",          # a sync driver URL
     "url_env_vars": ["DATABASE_URL"],            # set to the database URL too
     "version_table": "alembic_version", "version_table_schema": null,
     "setup_sql": ["CREATE SCHEMA app"],          # run on the fresh database first
     "model_files": ["/abs/blog/models.py"]}

The project's env.py is pointed at the database three ways at once: the
`sqlalchemy.url` main option, `config.attributes["connection"]` (an open
Connection, Alembic's documented sharing pattern; env.py files that ignore it
connect by URL) and the environment variables. When env.py is asynchronous
(outside comments it mentions async_engine_from_config, create_async_engine,
AsyncEngine, asyncio.run, .run_sync( or `async def`) it gets the async form of the URL (postgresql+asyncpg,
sqlite+aiosqlite, mysql+aiomysql) and no connection.

A URL without a driver (`postgresql://`, `mysql://`) gets the first installed
one (psycopg2, psycopg, pg8000; mysqldb, pymysql, mysqlconnector).

Actions
-------

probe
    -> {"event": "result", "versions": {"python", "sqlalchemy", "alembic"}, "protocol": 1,
        "python": "/path/to/python", "drivers": {"psycopg2": "2.9.13", ...}}
    Fatal "environment" when SQLAlchemy < 1.4 or Alembic < 1.8 or either is missing.

create-database  {"server_url": "postgresql://u:p@h/any", "name": "alembot_0123456789ab"}
drop-database    (same fields)
    PostgreSQL, MySQL and MariaDB only; the name must match ^alembot_[a-z0-9]{12}$.
    Drop terminates other sessions first (WITH (FORCE) on PostgreSQL 13+).
    -> {"event": "result", "database": "alembot_...", "created": true,
        "database_url_redacted": "postgresql://u:***@h/alembot_...",
        "secret_database_url": "postgresql://u:p@h/alembot_..."}   (create only; never print it)
    -> {"event": "result", "database": "alembot_...", "dropped": true|false}  (false: did not exist)

verify   (database_url is a throwaway database: it is written to, emptied and refilled;
          or, instead of database_url, server_url and name as for create-database: the
          helper creates that database, verifies, drops it and says so in
          "dropped_database": true|false, after a "gone" event when true)
    "checks": {"upgrade": true, "drift": true, "roundtrip": true,
               "stairway": ["rev", ...] | "all" | null,
               "data_upgrade": {"base_heads": ["rev"], "revisions": ["new1"]} | null,
               "data_tests": "/abs/dir" | null,
               "unregistered": true}
    -> {"event": "result",
        "findings": [Finding, ...],
        "checks": ["upgrade", "drift", ...],          # the checks that ran
        "skipped": {"roundtrip": "upgrade failed"},   # requested but not run, and why
        "heads": ["3b06dd20bf9d"],                    # heads of the migration files
        "revisions": 4,                               # number of revision files
        "timings": {"setup": 0.2, "upgrade": 0.12, ...},   # seconds
        "versions": {"python", "sqlalchemy", "alembic", "dialect", "server"},
        "database": "postgresql://u:***@h/alembot_...",
        "drift": {"upgrade_code": "...", "downgrade_code": "..."} | null,
        "notes": ["..."]}

    Finding = {"code", "severity": "error"|"warning", "message", "help",
               "file": "/abs/path" | null, "line": n | null,
               "table": str | null, "column": str | null, "revision": str | null,
               "details": "multi-line text" | null}
      plus, on drift findings, "operation": Alembic's diff kind (add_table, remove_table,
      add_column, remove_column, modify_type, modify_nullable, modify_default,
      modify_comment, add_index, remove_index, add_constraint, remove_constraint,
      add_fk, remove_fk, modify_table_comment) or alembot's add_enum_value /
      remove_enum_value (PostgreSQL enum labels, which autogenerate never compares);
      on possible-rename findings "old_column" or "old_table".
      Drift findings carry the missing migration code (Alembic's rendering) in details.

    Codes: project-error, upgrade-failed, drift, possible-rename (warning),
    unregistered-model, downgrade-failed, downgrade-debris, irreversible-migration
    (warning), data-upgrade-failed, data-test-failed.

    Order of the checks: upgrade heads from empty; drift (env.py in autogenerate mode,
    like `alembic check`); unregistered (import model_files, compare with the tables
    autogenerate saw); round trip (downgrade base, upgrade heads, schema snapshots
    compared); stairway (database emptied, then per revision: up, down, up, each step's
    snapshot compared with the one before); data upgrade (database emptied, upgraded to
    base_heads, 3 rows inserted in every table, then the revisions applied); data tests
    (database emptied per test). A failed upgrade skips the checks that need it.

status   (database_url is a LIVE database: read-only, never written)
    -> {"event": "result", "status": Status, "findings": [Finding, ...],
        "versions": {...}, "timings": {...}}   # findings = status["findings"]
    see `status_action` for the Status object.
"""

from __future__ import annotations

import ast
import contextlib
import datetime as _dt
import decimal
import gc
import importlib
import importlib.util
import inspect as pyinspect
import json
import os
import re
import sys
import threading
import time
import traceback
import uuid

HELPER_PROTOCOL = 1
MIN_SQLALCHEMY = (1, 4)
MIN_ALEMBIC = (1, 8)
DATABASE_NAME_RE = re.compile(r"^alembot_[a-z0-9]{12}$")

# ---------------------------------------------------------------------------
# Output channel, secrets, errors
# ---------------------------------------------------------------------------

_SECRETS = []  # exact strings (passwords) never to print
_URL_PASSWORD_RE = re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^/\s:@]*:)([^@\s]+)(@)")


def redact(text):
    if not isinstance(text, str):
        return text
    text = _URL_PASSWORD_RE.sub(r"\1***\3", text)
    for secret in _SECRETS:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


def _redact_obj(obj, keep=()):
    if isinstance(obj, str):
        return redact(obj)
    if isinstance(obj, dict):
        return {k: (v if k in keep else _redact_obj(v, keep)) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_redact_obj(v, keep) for v in obj]
    return obj


class Channel:
    """Protocol lines go to a private copy of the original stdout; fd 1 and
    sys.stdout are pointed at stderr so nothing the project prints can corrupt
    the stream."""

    def __init__(self):
        sys.stdout.flush()
        self._out = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
        os.dup2(2, 1)
        sys.stdout = sys.stderr
        self.final_sent = False

    def send(self, obj, keep=()):
        line = json.dumps(_redact_obj(obj, keep), default=str, ensure_ascii=False)
        self._out.write(line + "\n")
        self._out.flush()
        if obj.get("event") in ("result", "fatal"):
            self.final_sent = True


CHANNEL = None


def emit(obj, keep=()):
    if CHANNEL is not None:
        CHANNEL.send(obj, keep)


def log(msg):
    sys.stderr.write("[alembot-helper] %s\n" % redact(msg))
    sys.stderr.flush()


class Fatal(Exception):
    def __init__(self, kind, message, help=None):
        Exception.__init__(self, message)
        self.kind = kind
        self.message = message
        self.help = help


class ProjectError(Exception):
    """The project's own code or layout is broken: becomes a `project-error` finding."""

    def __init__(self, finding):
        Exception.__init__(self, finding["message"])
        self.finding = finding


def finding(code, message, severity="error", help=None, file=None, line=None,
            table=None, column=None, revision=None, details=None, **extra):
    f = {
        "code": code,
        "severity": severity,
        "message": message,
        "help": help,
        "file": file,
        "line": line,
        "table": table,
        "column": column,
        "revision": revision,
        "details": details,
    }
    f.update(extra)
    return f


# ---------------------------------------------------------------------------
# Versions, drivers
# ---------------------------------------------------------------------------


def _version_tuple(text):
    parts = []
    for piece in re.split(r"[.+-]", text):
        m = re.match(r"\d+", piece)
        if not m:
            break
        parts.append(int(m.group(0)))
    return tuple(parts)


def load_stack(after_sqlalchemy=None):
    """Import SQLAlchemy and Alembic, or raise Fatal("environment") saying what to install.

    after_sqlalchemy: called once SQLAlchemy is imported (and new enough), before Alembic."""
    global SA_VERSION
    py = sys.executable
    try:
        import sqlalchemy
    except ImportError as e:
        raise Fatal(
            "environment",
            "SQLAlchemy is not installed in %s (%s)" % (py, e),
            "pip install 'SQLAlchemy>=1.4' 'alembic>=1.8' (into the Python that runs the project)",
        )
    if _version_tuple(sqlalchemy.__version__) < MIN_SQLALCHEMY:
        raise Fatal(
            "environment",
            "SQLAlchemy %s is too old: alembot supports SQLAlchemy 1.4 and 2.x" % sqlalchemy.__version__,
            "pip install --upgrade 'SQLAlchemy>=1.4' 'alembic>=1.8'",
        )
    SA_VERSION = _version_tuple(sqlalchemy.__version__)
    if after_sqlalchemy is not None:
        after_sqlalchemy()
    try:
        import alembic
    except ImportError as e:
        raise Fatal(
            "environment",
            "Alembic is not installed in %s (%s)" % (py, e),
            "pip install 'alembic>=1.8' (into the Python that runs the project)",
        )
    if _version_tuple(alembic.__version__) < MIN_ALEMBIC:
        raise Fatal(
            "environment",
            "Alembic %s is too old: alembot supports Alembic 1.8 and newer" % alembic.__version__,
            "pip install --upgrade 'alembic>=1.8'",
        )
    return {
        "python": "%d.%d.%d" % sys.version_info[:3],
        "sqlalchemy": sqlalchemy.__version__,
        "alembic": alembic.__version__,
    }


SA_VERSION = None  # tuple, set by load_stack()
_DRIVER_MODULES = [
    "psycopg2", "psycopg", "pg8000", "asyncpg",
    "pymysql", "MySQLdb", "mysql.connector", "aiomysql", "asyncmy",
    "sqlite3", "aiosqlite", "greenlet",
]


def probe_drivers():
    found = {}
    for name in _DRIVER_MODULES:
        try:
            mod = importlib.import_module(name)
        except Exception:
            continue
        version = getattr(mod, "__version__", None) or getattr(mod, "version", None)
        if name == "sqlite3":
            version = mod.sqlite_version
        if name == "MySQLdb" and not isinstance(version, str):
            version = getattr(mod, "version_info", None)
        found[name] = str(version) if version is not None else "installed"
    return found


def _importable(name):
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


_DEFAULT_DRIVERS = {
    "postgresql": [("psycopg2", "psycopg2"), ("psycopg", "psycopg"), ("pg8000", "pg8000")],
    "mysql": [("mysqldb", "MySQLdb"), ("pymysql", "pymysql"), ("mysqlconnector", "mysql.connector")],
    "mariadb": [("mysqldb", "MySQLdb"), ("pymysql", "pymysql"), ("mysqlconnector", "mysql.connector")],
}
_ASYNC_DRIVERS = {
    "postgresql": [("asyncpg", "asyncpg"), ("psycopg", "psycopg")],
    "mysql": [("aiomysql", "aiomysql"), ("asyncmy", "asyncmy")],
    "mariadb": [("aiomysql", "aiomysql"), ("asyncmy", "asyncmy")],
    "sqlite": [("aiosqlite", "aiosqlite")],
}
_PIP_NAMES = {
    "psycopg2": "psycopg2-binary", "psycopg": "'psycopg[binary]'", "pg8000": "pg8000",
    "mysqldb": "mysqlclient", "pymysql": "PyMySQL", "mysqlconnector": "mysql-connector-python",
    "asyncpg": "asyncpg", "aiomysql": "aiomysql", "asyncmy": "asyncmy", "aiosqlite": "aiosqlite",
}


def parse_url(text, what="database_url"):
    from sqlalchemy.engine import make_url

    if not isinstance(text, str) or not text:
        raise Fatal("request", "%s is missing or not a string" % what)
    try:
        url = make_url(text)
    except Exception as e:
        raise Fatal("request", "%s is not a database URL: %s" % (what, e))
    if url.password:
        _SECRETS.append(str(url.password))
    return url


def url_text(url):
    return url.render_as_string(hide_password=False)


def url_redacted(url):
    return url.render_as_string(hide_password=True)


def backend(url):
    name = url.get_backend_name()
    return "mysql" if name == "mariadb" else name


def resolve_sync_url(url):
    """Give a driverless URL the first installed driver; fail if the driver is missing."""
    if url.drivername.split("+")[0] == "postgres":  # Heroku-style URLs
        url = url.set(drivername="postgresql" + url.drivername[len("postgres"):])
    name = url.get_backend_name()
    driver = url.get_driver_name() if "+" in url.drivername else None
    if name == "sqlite":
        return url
    choices = _DEFAULT_DRIVERS.get(name)
    if choices is None:
        return url  # other backends: trust SQLAlchemy
    if driver:
        module = dict(choices).get(driver, driver)
        if not _importable(module):
            raise Fatal(
                "environment",
                "the %s driver %s is not installed in %s" % (name, driver, sys.executable),
                "pip install %s" % _PIP_NAMES.get(driver, driver),
            )
        return url
    for drv, module in choices:
        if _importable(module):
            return url.set(drivername="%s+%s" % (name, drv))
    raise Fatal(
        "environment",
        "no %s driver is installed in %s" % (name, sys.executable),
        "pip install %s" % _PIP_NAMES[choices[0][0]] if name.startswith("postgres")
        else "pip install PyMySQL",
    )


def async_url(url):
    name = url.get_backend_name()
    choices = _ASYNC_DRIVERS.get(name)
    if not choices:
        return url
    driver = url.get_driver_name() if "+" in url.drivername else None
    if driver in dict(choices) and _importable(dict(choices)[driver]):
        return url
    for drv, module in choices:
        if _importable(module):
            if not _importable("greenlet"):
                raise Fatal(
                    "environment",
                    "env.py uses an async engine but greenlet is not installed in %s" % sys.executable,
                    "pip install greenlet (or 'SQLAlchemy[asyncio]')",
                )
            new = url.set(drivername="%s+%s" % (name, drv))
            if name == "sqlite" and "uri" in url.query:
                pass
            return new
    raise Fatal(
        "environment",
        "env.py uses an async engine but no async %s driver is installed in %s" % (name, sys.executable),
        "pip install %s" % _PIP_NAMES[choices[0][0]],
    )


def create_engine(url, **kw):
    import sqlalchemy
    from sqlalchemy.pool import NullPool

    kw.setdefault("poolclass", NullPool)
    if SA_VERSION < (2, 0):
        kw.setdefault("future", True)
    return sqlalchemy.create_engine(url, **kw)


def connect_or_fatal(engine, url):
    try:
        return engine.connect()
    except Exception as e:
        raise Fatal(
            "connection",
            "cannot connect to %s%s: %s" % (url_redacted(url), _where(url), _first_line(_exc_text(e))),
            "Check that the database server is running and reachable, and the user, password "
            "and database name in the URL.",
        )


def _where(url):
    if url.get_backend_name() == "sqlite":
        return ""
    return " (host %s, port %s)" % (url.host or "localhost", url.port or _default_port(url))


def _default_port(url):
    return {"postgresql": 5432, "mysql": 3306, "mariadb": 3306}.get(url.get_backend_name(), "default")


# ---------------------------------------------------------------------------
# Exceptions and tracebacks
# ---------------------------------------------------------------------------


def _first_line(text):
    text = (text or "").strip()
    return text.splitlines()[0] if text else ""


def _exc_text(e):
    """Type and text of an exception; for DBAPI errors the driver's own error."""
    orig = getattr(e, "orig", None)
    if orig is not None:
        text = str(orig).strip()
        return "%s: %s" % (type(e).__name__, text) if text else type(e).__name__
    text = str(e).strip()
    return "%s: %s" % (type(e).__name__, text) if text else type(e).__name__


def _exc_chain(e):
    seen = set()
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        yield e
        e = e.__cause__ or e.__context__


def _statement(e):
    from sqlalchemy.exc import StatementError

    for x in _exc_chain(e):
        if isinstance(x, StatementError) and getattr(x, "statement", None):
            return str(x.statement).strip()
    return None


def _is_project_file(path, project):
    if not path or path.startswith("<"):
        return False
    path = os.path.abspath(path)
    if path == os.path.abspath(__file__):
        return False
    parts = path.split(os.sep)
    if "site-packages" in parts or "dist-packages" in parts:
        return False
    root = project.root if project is not None else os.getcwd()
    return path.startswith(root.rstrip(os.sep) + os.sep)


def _project_frames(tb, project, only_file=None):
    frames = traceback.extract_tb(tb)
    if only_file:
        only = os.path.abspath(only_file)
        return [f for f in frames if os.path.abspath(f.filename) == only]
    return [f for f in frames if _is_project_file(f.filename, project)]


def _format_frames(frames):
    return "".join(traceback.format_list(frames)).rstrip("\n")


def project_error_finding(message, exc, project, help=None):
    tb = exc.__traceback__
    frames = _project_frames(tb, project)
    file = line = None
    if frames:
        file, line = os.path.abspath(frames[-1].filename), frames[-1].lineno
    elif isinstance(exc, SyntaxError) and exc.filename:
        file, line = os.path.abspath(exc.filename), exc.lineno
    details = None
    if frames:
        details = "Traceback (project frames):\n" + _format_frames(frames) + "\n" + _exc_text(exc)
    return finding(
        "project-error",
        "%s: %s" % (message, _first_line(_exc_text(exc))),
        help=help or (
            "This is an error in the project's own code, not a schema difference. Reproduce it "
            "with `alembic upgrade head` in %s using %s." % (project.root if project else ".", sys.executable)
        ),
        file=file,
        line=line,
        details=details,
    )


# ---------------------------------------------------------------------------
# Database administration (create, drop, empty in place)
# ---------------------------------------------------------------------------


def _admin_url(server_url):
    name = server_url.get_backend_name()
    if name == "postgresql":
        return server_url.set(database="postgres")
    if name in ("mysql", "mariadb"):
        return server_url.set(database=None)
    raise Fatal(
        "request",
        "create-database and drop-database need a PostgreSQL, MySQL or MariaDB server URL, not %s"
        % name,
        "For SQLite, give verify a path to a new file instead.",
    )


def _check_name(name):
    if not isinstance(name, str) or not DATABASE_NAME_RE.match(name):
        raise Fatal(
            "request",
            "refusing database name %r: alembot only creates and drops databases named "
            "alembot_ followed by 12 lowercase letters or digits" % (name,),
        )


def create_database_action(req):
    server, name, admin, engine = _prepare_create(req)
    try:
        conn = connect_or_fatal(engine, admin)
        try:
            _create_database(conn, server, name, admin)
        finally:
            conn.close()
    finally:
        engine.dispose()
    db_url = server.set(database=name)
    return {
        "event": "result",
        "database": name,
        "created": True,
        "database_url_redacted": url_redacted(db_url),
        "secret_database_url": url_text(db_url),
    }


def _prepare_create(req):
    """Checks a create-database or drop-database request and opens (without connecting)
    the engine for the server's admin database. Imports the driver."""
    server = resolve_sync_url(parse_url(req.get("server_url"), "server_url"))
    name = req.get("name")
    _check_name(name)
    admin = _admin_url(server)
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    return server, name, admin, engine


def _create_database(conn, server, name, admin):
    try:
        if backend(server) == "postgresql":
            conn.exec_driver_sql('CREATE DATABASE "%s"' % name)
        else:
            conn.exec_driver_sql(
                "CREATE DATABASE `%s` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci" % name
            )
    except Exception as e:
        raise Fatal("connection", "cannot create database %s on %s: %s"
                    % (name, url_redacted(admin), _first_line(_exc_text(e))),
                    "The user in the URL needs the right to create databases (CREATEDB on PostgreSQL).")


def drop_database_action(req):
    server, name, admin, engine = _prepare_create(req)
    try:
        conn = connect_or_fatal(engine, admin)
        try:
            dropped = _drop_database(conn, server, name, admin)
        finally:
            conn.close()
    finally:
        engine.dispose()
    return {"event": "result", "database": name, "dropped": dropped}


def _drop_database(conn, server, name, admin):
    """Drops the database, ending other sessions in it first. False: it did not exist."""
    try:
        if backend(server) == "postgresql":
            def query(sql):
                result = conn.exec_driver_sql(sql)
                return result.first() if result.returns_rows else None
            return _drop_postgresql(query, name, conn.dialect.server_version_info[0])
        else:
            exists = conn.exec_driver_sql(
                "SELECT 1 FROM information_schema.schemata WHERE schema_name = '%s'" % name).scalar()
            if not exists:
                return False
            for (pid,) in conn.exec_driver_sql(
                    "SELECT id FROM information_schema.processlist "
                    "WHERE db = '%s' AND id <> CONNECTION_ID()" % name).fetchall():
                with contextlib.suppress(Exception):
                    conn.exec_driver_sql("KILL %d" % int(pid))
            conn.exec_driver_sql("DROP DATABASE IF EXISTS `%s`" % name)
    except Exception as e:
        raise Fatal("connection", "cannot drop database %s on %s: %s"
                    % (name, url_redacted(admin), _first_line(_exc_text(e))))
    return True


# SQLAlchemy's own URL pattern (sqlalchemy.engine.url._parse_url, the same in 1.4 and
# 2.x), for the one URL read before SQLAlchemy is imported: see OwnDatabase.start_early.
_SA_URL_RE = re.compile(
    r"""
        (?P<name>[\w\+]+)://
        (?:
            (?P<username>[^:/]*)
            (?::(?P<password>[^@]*))?
        @)?
        (?:
            (?:
                \[(?P<ipv6host>[^/\?]+)\] |
                (?P<ipv4host>[^/:\?]+)
            )?
            (?::(?P<port>[^/\?]*))?
        )?
        (?:/(?P<database>[^\?]*))?
        (?:\?(?P<query>.*))?
        """,
    re.X,
)


def _early_connect_args(spec):
    """psycopg2.connect() arguments for the admin database of a plain PostgreSQL server
    URL, exactly those SQLAlchemy's psycopg2 dialect would pass; None for anything else
    (another backend or driver, query options, percent-escapes, a refused name)."""
    url, name = spec.get("server_url"), spec.get("name")
    if not isinstance(url, str) or "%" in url or not isinstance(name, str) or not DATABASE_NAME_RE.match(name):
        return None
    m = _SA_URL_RE.match(url)
    if m is None or m.group("query") is not None or m.group("name") not in (
            "postgresql", "postgres", "postgresql+psycopg2", "postgres+psycopg2"):
        return None
    port = m.group("port")
    if port and not port.isdigit():
        return None
    args = {"host": m.group("ipv4host") or m.group("ipv6host"), "dbname": "postgres",
            "user": m.group("username"), "password": m.group("password"),
            "port": int(port) if port else None}
    return {k: v for k, v in args.items() if v}


class OwnDatabase(object):
    """The throwaway database verify creates and drops itself (request fields server_url
    and name instead of database_url).

    CREATE DATABASE takes 0.1 to 0.25 s on PostgreSQL 15 (it copies template1) and the
    driver releases the GIL while it waits, so it runs in a background thread while this
    one imports SQLAlchemy and Alembic and loads the project; `wait` joins it just
    before the first connection. On a plain PostgreSQL URL served by psycopg2 it starts
    before SQLAlchemy is imported (`start_early`, with the connection arguments
    SQLAlchemy would use); otherwise as soon as SQLAlchemy is imported (`start`), and
    if the early attempt fails, SQLAlchemy's way is tried and says what is wrong. The
    connection that created the database stays open to drop it at the end. Whatever
    fails, `abandon` waits for the creation to end and drops the database if it was
    created; the caller still drops it if this process dies first (the "gone" event)."""

    def __init__(self, req):
        self.spec = {"server_url": req["server_url"], "name": req["name"]}
        self.database_url = None  # secret: the URL of the database once created
        self.created = False
        self.dropped = False
        self._attempted = False       # CREATE DATABASE was sent (it may exist even if it failed)
        self._thread = None
        self._go = threading.Event()  # set once start() (or abandon()) has run
        self._cancelled = False
        self._prepared = None         # from start(): (server, name, admin url, engine)
        self._prepare_failure = None  # start() found the request or the driver wrong
        self._create_failure = None   # the exception that stopped the creation
        self._dbapi_conn = None       # early start: the psycopg2 connection that created it
        self._admin = None            # otherwise (server, name, admin, engine, connection)

    @staticmethod
    def wanted(req):
        return bool(not req.get("database_url") and req.get("server_url") and req.get("name"))

    def start_early(self):
        """Before SQLAlchemy is imported: PostgreSQL through psycopg2 creates now."""
        args = _early_connect_args(self.spec)
        if args is None:
            return
        try:
            import psycopg2  # noqa: F401  (here: no import runs in both threads at once)
        except Exception:
            return
        self._thread = threading.Thread(target=self._run, args=(args,), name="alembot-create-database",
                                        daemon=True)
        self._thread.start()

    def start(self):
        """Once SQLAlchemy is imported: checks the request and imports the driver here,
        then creates in the background (unless start_early did). A failure is raised
        later, by `failed_early` and `wait` (in the order of the checks)."""
        try:
            prepared = _prepare_create(self.spec)
            self.database_url = url_text(prepared[0].set(database=prepared[1]))
            self._prepared = prepared
        except Exception as e:
            self._prepare_failure = e
        finally:
            self._go.set()
        if self._thread is None and self._prepared is not None:
            self._thread = threading.Thread(target=self._run, args=(None,), name="alembot-create-database",
                                            daemon=True)
            self._thread.start()

    def _run(self, early_args):
        if early_args is not None:
            try:
                self._create_early(early_args)
                return
            except Exception:
                pass  # SQLAlchemy's way, below, reports what is wrong
        self._go.wait()
        if self._prepared is None or self._cancelled:
            return
        server, name, admin, engine = self._prepared
        conn = None
        try:
            conn = connect_or_fatal(engine, admin)
            self._attempted = True
            _create_database(conn, server, name, admin)
            self._admin = (server, name, admin, engine, conn)
            self.created = True
        except BaseException as e:
            self._create_failure = e
            with contextlib.suppress(BaseException):
                if conn is not None:
                    conn.close()
                engine.dispose()

    def _create_early(self, args):
        import psycopg2

        conn = psycopg2.connect(**args)
        try:
            conn.autocommit = True
            cur = conn.cursor()
            self._attempted = True
            cur.execute('CREATE DATABASE "%s"' % self.spec["name"])
            cur.close()
        except BaseException:
            with contextlib.suppress(Exception):
                conn.close()
            raise
        self._dbapi_conn = conn
        self.created = True

    def failed_early(self):
        """What start() found wrong (a bad request, a missing driver), or None."""
        return self._prepare_failure

    def wait(self):
        """Returns once the database exists; raises what stopped its creation."""
        if self._thread is not None:
            self._thread.join()
        if self._create_failure is not None:
            raise self._create_failure

    def _drop(self):
        """On the connection that created it; if that fails, once more on a new one."""
        dbapi_conn, self._dbapi_conn = self._dbapi_conn, None
        kept, self._admin = self._admin, None
        try:
            if dbapi_conn is not None:
                _drop_database_dbapi(dbapi_conn, self.spec["name"])
                self.dropped = True
                return
            if kept is not None:
                server, name, admin, engine, conn = kept
                _drop_database(conn, server, name, admin)
                self.dropped = True
                return
        except Exception:
            pass
        finally:
            with contextlib.suppress(Exception):
                if dbapi_conn is not None:
                    dbapi_conn.close()
                if kept is not None:
                    kept[4].close()
                    kept[3].dispose()
        drop_database_action(self.spec)
        self.dropped = True

    def _say_gone(self):
        """Tells the caller it has nothing to drop (see the "gone" event)."""
        if self.dropped or not self._attempted:
            emit({"event": "gone", "database": self.spec["name"]})

    def drop(self):
        """Drops the database (after a successful run). True if done."""
        try:
            self._drop()
        except Fatal as e:
            log("could not drop %s: %s" % (self.spec["name"], e.message))
            return False
        self._say_gone()
        return True

    def abandon(self):
        """After a failure anywhere: waits for the creation to end and drops the database
        if it was created. Never raises; returns what stopped the creation, if anything."""
        self._cancelled = True
        self._go.set()
        with contextlib.suppress(BaseException):
            if self._thread is not None:
                self._thread.join()
        if self.created and not self.dropped:
            with contextlib.suppress(BaseException):
                self._drop()
        with contextlib.suppress(BaseException):
            self._say_gone()
        return self._prepare_failure or self._create_failure


def _drop_postgresql(query, name, major):
    """Drops the database, ending other sessions in it first; False: it did not exist.
    query(sql) runs one statement and returns its first row (None if it has none)."""
    if query("SELECT 1 FROM pg_database WHERE datname = '%s'" % name) is None:
        return False
    if major >= 13:
        query('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % name)
    else:
        query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
              "WHERE datname = '%s' AND pid <> pg_backend_pid()" % name)
        query('DROP DATABASE IF EXISTS "%s"' % name)
    return True


def _drop_database_dbapi(conn, name):
    """_drop_database on PostgreSQL, on a psycopg2 connection (the early start's)."""
    cur = conn.cursor()

    def query(sql):
        cur.execute(sql)
        return cur.fetchone() if cur.description is not None else None
    try:
        return _drop_postgresql(query, name, conn.server_version // 10000)
    finally:
        cur.close()


def empty_database(conn):
    """Drop every object in the (throwaway) database the connection points at, in place.

    In place rather than DROP/CREATE DATABASE so that connections the project keeps
    in its own pools (a module-level engine env.py imports) stay valid."""
    name = conn.dialect.name
    if conn.in_transaction():
        conn.rollback()
    if name == "postgresql":
        schemas = [r[0] for r in conn.exec_driver_sql(
            "SELECT nspname FROM pg_namespace WHERE nspname !~ '^pg_' "
            "AND nspname <> 'information_schema'").fetchall()]
        for s in schemas:
            conn.exec_driver_sql('DROP SCHEMA "%s" CASCADE' % s.replace('"', '""'))
        conn.exec_driver_sql("CREATE SCHEMA public")
        conn.commit()
    elif name in ("mysql", "mariadb"):
        conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS = 0")
        rows = conn.exec_driver_sql(
            "SELECT table_name, table_type FROM information_schema.tables "
            "WHERE table_schema = DATABASE()").fetchall()
        for tname, ttype in rows:
            kind = "VIEW" if ttype == "VIEW" else "TABLE"
            conn.exec_driver_sql("DROP %s IF EXISTS `%s`" % (kind, tname.replace("`", "``")))
        conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS = 1")
        conn.commit()
    elif name == "sqlite":
        conn.exec_driver_sql("PRAGMA foreign_keys = OFF")
        rows = conn.exec_driver_sql(
            "SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
        ).fetchall()
        for kind in ("view", "trigger", "table"):
            for t, n in rows:
                if t == kind:
                    conn.exec_driver_sql('DROP %s IF EXISTS "%s"' % (kind.upper(), n.replace('"', '""')))
        conn.commit()
    else:
        raise Fatal("request", "alembot cannot empty a %s database" % name)


# ---------------------------------------------------------------------------
# Schema snapshots
# ---------------------------------------------------------------------------


class Obj:
    """One schema object in a snapshot: a stable key, a label for humans, a description
    that changes when the object does, and the table it belongs to (or None)."""

    __slots__ = ("key", "label", "desc", "table")

    def __init__(self, key, label, desc, table=None):
        self.key, self.label, self.desc, self.table = key, label, desc, table


def _type_text(type_, dialect):
    try:
        return str(type_.compile(dialect=dialect))
    except Exception:
        return repr(type_)


def _qual(schema, name):
    return "%s.%s" % (schema, name) if schema else name


def _snapshot_schemas(conn, extra=()):
    """PostgreSQL: every user schema (None = the default one). Elsewhere the default
    schema and any the request names (a MySQL "schema" is another database)."""
    name = conn.dialect.name
    if name == "postgresql":
        return [None] + [
            r[0] for r in conn.exec_driver_sql(
                "SELECT nspname FROM pg_namespace WHERE nspname !~ '^pg_' "
                "AND nspname NOT IN ('information_schema', 'public') ORDER BY nspname").fetchall()
        ]
    schemas = [None]
    for s in extra:
        if s and s not in schemas:
            schemas.append(s)
    return schemas


def snapshot(conn, version_table="alembic_version", version_table_schema=None, extra_schemas=()):
    """Everything a migration can create, keyed so two snapshots can be diffed.

    Ends the connection's transaction, so no locks are kept between steps."""
    from sqlalchemy import inspect as sa_inspect

    objs = {}

    def add(o):
        objs[o.key] = o

    dialect = conn.dialect
    try:
        insp = sa_inspect(conn)
        default_schema = insp.default_schema_name
        for schema in _snapshot_schemas(conn, extra_schemas):
            vt_schema = version_table_schema if version_table_schema != default_schema else None
            tables = [t for t in insp.get_table_names(schema=schema)
                      if not (t == version_table and (schema or None) == (vt_schema or None))]
            views = insp.get_view_names(schema=schema)
            for v in views:
                add(Obj(("view", schema, v), "view `%s`" % _qual(schema, v), "view"))
            if not tables:
                continue
            info = _reflect_tables(insp, schema, tables)
            for t in tables:
                qt = _qual(schema, t)
                add(Obj(("table", schema, t), "table `%s`" % qt, "table", None))
                cols, pk, idxs, uqs, fks, cks = info[t]
                for c in cols:
                    desc = _type_text(c["type"], dialect)
                    desc += " NULL" if c.get("nullable", True) else " NOT NULL"
                    if c.get("default") is not None:
                        desc += " DEFAULT %s" % c["default"]
                    if c.get("computed"):
                        desc += " COMPUTED %s" % (c["computed"].get("sqltext"),)
                    if c.get("identity"):
                        desc += " IDENTITY"
                    add(Obj(("column", schema, t, c["name"]), "column `%s.%s`" % (qt, c["name"]), desc, qt))
                if pk and pk.get("constrained_columns"):
                    add(Obj(("pk", schema, t), "primary key of `%s`" % qt,
                            "(%s)" % ", ".join(pk["constrained_columns"]), qt))
                for ix in idxs:
                    cols_ = ", ".join(str(x) for x in (ix.get("column_names") or []) if x is not None)
                    exprs = ix.get("expressions")
                    if exprs:
                        cols_ = ", ".join(str(x) for x in exprs)
                    desc = "%s(%s)" % ("UNIQUE " if ix.get("unique") else "", cols_)
                    add(Obj(("index", schema, t, ix.get("name")), "index `%s` on `%s`" % (ix.get("name"), qt), desc, qt))
                for uq in uqs:
                    cols_ = ", ".join(uq.get("column_names") or [])
                    key = uq.get("name") or "(%s)" % cols_
                    add(Obj(("unique", schema, t, key), "unique constraint `%s` on `%s`" % (key, qt),
                            "(%s)" % cols_, qt))
                for fk in fks:
                    cols_ = ", ".join(fk.get("constrained_columns") or [])
                    ref = "%s(%s)" % (_qual(fk.get("referred_schema"), fk.get("referred_table")),
                                      ", ".join(fk.get("referred_columns") or []))
                    key = fk.get("name") or "(%s) -> %s" % (cols_, ref)
                    opts = fk.get("options") or {}
                    desc = "(%s) -> %s %s" % (cols_, ref, " ".join("%s=%s" % kv for kv in sorted(opts.items())))
                    add(Obj(("fk", schema, t, key), "foreign key `%s` on `%s`" % (key, qt), desc.strip(), qt))
                for ck in cks:
                    key = ck.get("name") or ck.get("sqltext")
                    add(Obj(("check", schema, t, key), "check constraint `%s` on `%s`" % (key, qt),
                            str(ck.get("sqltext")), qt))
        if dialect.name == "postgresql":
            for schema, name, labels in conn.exec_driver_sql(
                "SELECT n.nspname, t.typname, "
                "array_to_string(array_agg(e.enumlabel ORDER BY e.enumsortorder), ', ') "
                "FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
                "JOIN pg_enum e ON e.enumtypid = t.oid "
                "WHERE t.typtype = 'e' GROUP BY n.nspname, t.typname"
            ).fetchall():
                s = None if schema == default_schema else schema
                add(Obj(("enum", s, name), "PostgreSQL enum type `%s`" % _qual(s, name), labels))
            for schema, name in conn.exec_driver_sql(
                "SELECT sequence_schema, sequence_name FROM information_schema.sequences"
            ).fetchall():
                s = None if schema == default_schema else schema
                add(Obj(("sequence", s, name), "sequence `%s`" % _qual(s, name), "sequence"))
            for schema, name in conn.exec_driver_sql(
                "SELECT n.nspname, t.typname FROM pg_type t JOIN pg_namespace n "
                "ON n.oid = t.typnamespace WHERE t.typtype = 'd' "
                "AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
            ).fetchall():
                s = None if schema == default_schema else schema
                add(Obj(("domain", s, name), "PostgreSQL domain `%s`" % _qual(s, name), "domain"))
    finally:
        if conn.in_transaction():
            conn.rollback()
    return objs


def _reflect_tables(insp, schema, tables):
    """Per table: columns, pk, indexes, uniques, fks, checks. Uses SQLAlchemy 2's
    batched get_multi_* when available (one query per kind on PostgreSQL)."""
    out = {}
    if hasattr(insp, "get_multi_columns"):
        kw = {"schema": schema, "filter_names": tables}

        def multi(meth, default):
            try:
                return getattr(insp, meth)(**kw)
            except NotImplementedError:
                return {}

        cols = multi("get_multi_columns", [])
        pks = multi("get_multi_pk_constraint", {})
        idxs = multi("get_multi_indexes", [])
        uqs = multi("get_multi_unique_constraints", [])
        fks = multi("get_multi_foreign_keys", [])
        cks = multi("get_multi_check_constraints", [])
        for t in tables:
            k = (schema, t)
            out[t] = (cols.get(k, []), pks.get(k, {}), idxs.get(k, []), uqs.get(k, []),
                      fks.get(k, []), cks.get(k, []))
        return out
    for t in tables:
        def one(meth, default):
            try:
                return getattr(insp, meth)(t, schema=schema)
            except NotImplementedError:
                return default

        out[t] = (one("get_columns", []), one("get_pk_constraint", {}), one("get_indexes", []),
                  one("get_unique_constraints", []), one("get_foreign_keys", []),
                  one("get_check_constraints", []))
    return out


class SnapshotDiff:
    def __init__(self, before, after):
        self.added = [after[k] for k in after if k not in before]
        self.removed = [before[k] for k in before if k not in after]
        self.changed = [(before[k], after[k]) for k in after if k in before and before[k].desc != after[k].desc]

    def __bool__(self):
        return bool(self.added or self.removed or self.changed)

    @staticmethod
    def _collapse(objs):
        """Leave out the columns, indexes and constraints of a table that is itself listed."""
        tables = set(_qual(o.key[1], o.key[2]) for o in objs if o.key[0] == "table")
        return [o for o in objs if o.table is None or o.table not in tables]

    def left(self):
        return self._collapse(self.added)

    def lost(self):
        return self._collapse(self.removed)

    def describe(self, added_word="left", removed_word="removed"):
        parts = []
        if self.added:
            parts.append("%s %s" % (added_word, ", ".join(o.label for o in self.left())))
        if self.removed:
            parts.append("%s %s" % (removed_word, ", ".join(o.label for o in self.lost())))
        if self.changed:
            parts.append("changed %s" % ", ".join(b.label for b, a in self.changed))
        return "; ".join(parts)

    def details(self):
        lines = []
        for o in self.left():
            lines.append("+ %s: %s" % (o.label, o.desc))
        for o in self.lost():
            lines.append("- %s: %s" % (o.label, o.desc))
        for b, a in self.changed:
            lines.append("~ %s: %s -> %s" % (b.label, b.desc, a.desc))
        return "\n".join(lines)

    def tables(self):
        names = []
        for o in self.left() + self.lost() + [a for b, a in self.changed]:
            if o.key[0] == "table":
                names.append(o.key[2])
            elif o.key[0] in ("column", "index", "unique", "fk", "check", "pk"):
                names.append(o.key[2])
        return names

    def first_table_column(self):
        for o in self.left() + self.lost() + [a for b, a in self.changed]:
            if o.key[0] == "table":
                return o.key[2], None
            if o.key[0] == "column":
                return o.key[2], o.key[3]
            if o.key[0] in ("index", "unique", "fk", "check", "pk"):
                return o.key[2], None
        return None, None


# ---------------------------------------------------------------------------
# The project: Alembic config, script directory, env.py runs
# ---------------------------------------------------------------------------

_ASYNC_MARKERS = re.compile(
    r"async_engine_from_config|create_async_engine|\bAsyncEngine\b|asyncio\.run\b|\.run_sync\(|\basync\s+def\b")


def _is_async_env(source):
    """Does env.py drive an async engine? (Comments do not count.)"""
    code = "\n".join(line.split("#", 1)[0] for line in source.splitlines())
    return bool(_ASYNC_MARKERS.search(code))


class StepFailure(object):
    """A migration step (or env.py around it) raised."""

    def __init__(self, exc, step, phase, last_step=None):
        self.exc = exc
        self.step = step          # the MigrationStep being applied, or None
        self.phase = phase        # "env" (before migrations ran), "step", "after"
        self.last_step = last_step


class Project(object):
    def __init__(self, req, url, read_only=False):
        from alembic.config import Config
        from alembic.script import ScriptDirectory
        from alembic.util import CommandError

        root = req.get("project_root")
        if not isinstance(root, str) or not os.path.isabs(root) or not os.path.isdir(root):
            raise Fatal("request", "project_root must be an absolute path to a directory, got %r" % (root,))
        self.root = os.path.abspath(root)
        os.chdir(self.root)
        # Like `python -m pytest` in the project: its root first on sys.path, in place of
        # the directory this helper was written to; then the ini's directory, which is
        # where people usually run `alembic` from.
        here = os.path.dirname(os.path.abspath(__file__))
        if sys.path and os.path.abspath(sys.path[0] or ".") == here:
            sys.path[0] = self.root
        elif not sys.path or sys.path[0] != self.root:
            sys.path.insert(0, self.root)
        ini_dir = os.path.dirname(os.path.abspath(req["alembic_ini"])) if req.get("alembic_ini") else None
        if ini_dir and ini_dir not in sys.path:
            sys.path.insert(1, ini_dir)
        self.req = req
        self.read_only = read_only
        self.sync_url = url
        self.version_table = req.get("version_table") or "alembic_version"
        self.version_table_schema = req.get("version_table_schema") or None
        self.model_files = [os.path.abspath(p) for p in (req.get("model_files") or [])]
        self.context_opts = None      # the opts env.py gave context.configure(), from the last run
        self.target_tables_at_first_run = None
        self.event_check = None

        ini = req.get("alembic_ini")
        section = req.get("ini_section") or "alembic"
        try:
            if ini:
                if not os.path.isfile(ini):
                    raise ProjectError(finding(
                        "project-error", "the Alembic configuration %s does not exist" % ini, file=None,
                        help="Point alembot at the project's alembic.ini (alembic_ini in .alembot.yml)."))
                if ini.endswith(".toml"):
                    try:
                        cfg = Config(toml_file=ini, ini_section=section, stdout=sys.stderr)
                    except TypeError:
                        raise Fatal("environment",
                                    "Alembic configuration in pyproject.toml needs Alembic 1.16 or newer",
                                    "pip install --upgrade 'alembic>=1.16'")
                else:
                    cfg = Config(ini, ini_section=section, stdout=sys.stderr)
                    if not cfg.file_config.has_section(section):
                        raise ProjectError(finding(
                            "project-error", "%s has no [%s] section" % (ini, section), file=ini,
                            help="Set ini_section to the section that holds script_location."))
            else:
                cfg = Config(ini_section=section, stdout=sys.stderr)
            if req.get("script_location"):
                cfg.set_main_option("script_location", req["script_location"])
            location = cfg.get_main_option("script_location")
            if not location:
                raise ProjectError(finding(
                    "project-error",
                    "no script_location: %s does not say where the migrations are" % (ini or "the request"),
                    file=ini, help="Add `script_location = %(here)s/migrations` to alembic.ini."))
            self.config = cfg
            try:
                self.script = ScriptDirectory.from_config(cfg)
            except CommandError as e:
                raise ProjectError(finding(
                    "project-error", "Alembic cannot open the migrations folder: %s" % e, file=ini,
                    help="Check script_location in %s." % (ini or "the configuration")))
            self.env_py = os.path.join(self.script.dir, "env.py")
            if not os.path.isfile(self.env_py):
                raise ProjectError(finding(
                    "project-error", "the migrations folder %s has no env.py" % self.script.dir,
                    help="Create it with `alembic init` (then keep only env.py) or fix script_location."))
            try:
                with open(self.env_py, encoding="utf-8") as fh:
                    self.env_source = fh.read()
            except (OSError, UnicodeDecodeError) as e:
                raise ProjectError(finding("project-error", "cannot read %s: %s" % (self.env_py, e),
                                           file=self.env_py))
            try:
                self.heads = list(self.script.get_heads())
                self.revisions = list(self.script.walk_revisions("base", "heads"))
            except ProjectError:
                raise
            except Exception as e:
                raise ProjectError(project_error_finding(
                    "the migration files cannot be loaded", e, self,
                    help="A revision file fails to import or the revision graph is broken; "
                         "`alembic heads` shows the same error."))
        except ProjectError:
            raise
        self.is_async = _is_async_env(self.env_source)
        self.env_url = async_url(url) if self.is_async else url
        env_url_text = url_text(self.env_url)
        cfg.set_main_option("sqlalchemy.url", env_url_text.replace("%", "%%"))
        for var in req.get("url_env_vars") or []:
            os.environ[str(var)] = env_url_text
        self._script_by_rev = {s.revision: s for s in self.revisions}

    # -- revisions ------------------------------------------------------

    def rev(self, revision):
        s = self._script_by_rev.get(revision)
        if s is None:
            s = self.script.get_revision(revision)
        return s

    def topo_order(self):
        """All revisions, parents before children."""
        return list(reversed(self.revisions))

    def parents(self, revision):
        s = self.rev(revision)
        down = s.down_revision
        if down is None:
            return ()
        return tuple(down) if isinstance(down, (tuple, list)) else (down,)

    def ancestors(self, revision):
        out = set()
        todo = list(self.parents(revision))
        s = self.rev(revision)
        deps = getattr(s, "_resolved_dependencies", None) or ()
        todo.extend(deps)
        while todo:
            r = todo.pop()
            if r in out:
                continue
            out.add(r)
            todo.extend(self.parents(r))
            todo.extend(getattr(self.rev(r), "_resolved_dependencies", None) or ())
        return out

    # -- env.py ---------------------------------------------------------

    def run_env(self, fn, connection=None, revision_context=None):
        from alembic.runtime.environment import EnvironmentContext

        self.config.attributes.pop("connection", None)
        if connection is not None and not self.is_async:
            self.config.attributes["connection"] = connection
        kw = dict(fn=fn, as_sql=False, starting_rev=None, destination_rev=None, tag=None)
        if revision_context is not None:
            kw["revision_context"] = revision_context
            kw["template_args"] = revision_context.template_args
        try:
            with EnvironmentContext(self.config, self.script, **kw):
                self.script.run_env()
        finally:
            self.config.attributes.pop("connection", None)

    def _capture(self, context):
        self.context_opts = dict(context.opts)
        if self.target_tables_at_first_run is None:
            self.target_tables_at_first_run = set(_table_keys(self.target_metadatas()))

    def target_metadatas(self):
        md = (self.context_opts or {}).get("target_metadata")
        if md is None:
            return []
        if isinstance(md, (list, tuple)):
            return list(md)
        return [md]

    def run_steps(self, build, connection, on_step=None):
        """One env.py run applying the steps build(heads, context) returns.

        Returns None on success or a StepFailure."""
        state = {"called": False, "step": None, "last": None, "done": False}

        def fn(rev, context):
            state["called"] = True
            self._capture(context)
            steps = build(rev, context)

            def gen():
                for step in steps:
                    state["step"] = step
                    if on_step is not None:
                        on_step(step)
                    yield step
                    state["last"] = step
                    state["step"] = None
                state["done"] = True
            return gen()

        try:
            self.run_env(fn, connection)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as e:
            _end(connection, ok=False)
            if not state["called"]:
                return StepFailure(e, None, "env")
            if state["step"] is not None:
                return StepFailure(e, state["step"], "step")
            return StepFailure(e, None, "after", last_step=state["last"])
        _end(connection, ok=True)
        if not state["called"]:
            return StepFailure(RuntimeError(
                "env.py finished without calling context.run_migrations()"), None, "env")
        return None

    def env_failure_finding(self, failure, doing):
        e = failure.exc
        if failure.phase == "env":
            return project_error_finding(
                "env.py failed while %s" % doing, e, self,
                help="env.py (or a module it imports) raised before any migration ran. This is an "
                     "error in the project, not a schema difference; `alembic current` in %s shows "
                     "it too." % self.root)
        step = failure.step or failure.last_step
        return step_failure_finding("upgrade-failed" if step is None or step.is_upgrade else "downgrade-failed",
                                    failure, self)


def _end(conn, ok):
    if conn is None:
        return
    try:
        if conn.in_transaction():
            if ok:
                conn.commit()
            else:
                conn.rollback()
    except Exception:
        with contextlib.suppress(Exception):
            conn.rollback()


def _table_keys(metadatas):
    out = []
    for md in metadatas:
        tables = getattr(md, "tables", None)
        if tables:
            out.extend(tables.keys())
    return out


def _step_rev(step):
    return step.revision.revision


def _script_label(script):
    doc = (script.doc or "").strip()
    return "%s (%s)" % (script.revision, _first_line(doc)) if doc else script.revision


def _def_line(path, name):
    try:
        with open(path, encoding="utf-8") as fh:
            for i, line in enumerate(fh, 1):
                if re.match(r"\s*def\s+%s\s*\(" % name, line):
                    return i
    except (OSError, UnicodeDecodeError):
        pass
    return None


def step_failure_finding(code, failure, project, extra_message="", help=None):
    e = failure.exc
    step = failure.step or failure.last_step
    script = step.revision
    direction = "upgrade" if step.is_upgrade else "downgrade"
    frames = _project_frames(e.__traceback__, project, only_file=script.path)
    line = frames[-1].lineno if frames else _def_line(script.path, direction)
    statement = _statement(e)
    when = "" if failure.phase == "step" else " (when its transaction was committed)"
    message = "%s of %s failed%s%s: %s" % (
        direction, _script_label(script), when, extra_message, _first_line(_exc_text(e)))
    if statement:
        message += " (in `%s`)" % _short_sql(statement)
    details = []
    if statement:
        details.append("SQL: %s" % statement)
    text = _exc_text(e)
    if "\n" in text:
        details.append(text)
    all_frames = _project_frames(e.__traceback__, project)
    if all_frames:
        details.append("Traceback (project frames):\n" + _format_frames(all_frames))
    if help is None:
        if direction == "upgrade":
            help = ("Fix the migration so `alembic upgrade head` works on an empty database; "
                    "the statement and the line of the migration that failed are below.")
        else:
            help = ("Fix downgrade() so it undoes upgrade() in reverse order; if the revision "
                    "cannot be undone, raise NotImplementedError and say why.")
    table, column = _table_column_from_error(e, statement)
    return finding(code, message, help=help, file=script.path, line=line, revision=script.revision,
                   table=table, column=column, details="\n\n".join(details) or None)


def _short_sql(statement, limit=160):
    text = " ".join(statement.split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


_TABLE_PATTERNS = [
    r'column "(?P<column>[^"]+)" of relation "(?P<table>[^"]+)"',
    r'relation "(?P<table>[^"]+)"',
    r"Column '(?P<column>[^']+)' cannot be null",
    r"Duplicate entry .* for key '(?:(?P<table>[^'.]+)\.)?(?P<key>[^']+)'",
    r"NOT NULL constraint failed: (?P<table>\w+)\.(?P<column>\w+)",
    r"UNIQUE constraint failed: (?P<table>\w+)\.(?P<column>\w+)",
    r"no such table: (?P<table>\w+)",
    r"table (?P<table>\w+) has no column named (?P<column>\w+)",
    r"Table '(?:[^'.]+\.)?(?P<table>[^']+)' doesn't exist",
    r"Unknown column '(?P<column>[^']+)'",
]
_STATEMENT_PATTERNS = [
    r"ALTER TABLE\s+[`\"]?(?:\w+[`\"]?\.[`\"]?)?(?P<table>\w+)[`\"]?\s+(?:ADD|ALTER|MODIFY|CHANGE)\s+(?:COLUMN\s+)?[`\"]?(?P<column>\w+)",
    r"ALTER TABLE\s+[`\"]?(?:\w+[`\"]?\.[`\"]?)?(?P<table>\w+)",
    r"CREATE\s+(?:UNIQUE\s+)?INDEX\s+\S+\s+ON\s+[`\"]?(?:\w+[`\"]?\.[`\"]?)?(?P<table>\w+)[`\"]?\s*\((?P<column>[^)]*)\)",
    r"(?:INSERT INTO|UPDATE|DELETE FROM|CREATE TABLE|DROP TABLE)\s+[`\"]?(?:\w+[`\"]?\.[`\"]?)?(?P<table>\w+)",
]


def _table_column_from_error(e, statement):
    table = column = None
    text = _exc_text(e)
    for pat in _TABLE_PATTERNS:
        m = re.search(pat, text)
        if m:
            d = m.groupdict()
            table = table or d.get("table")
            column = column or d.get("column")
            if table and column:
                break
    if statement and (not table or not column):
        for pat in _STATEMENT_PATTERNS:
            m = re.search(pat, statement, re.IGNORECASE)
            if m:
                d = m.groupdict()
                table = table or d.get("table")
                if not column and d.get("column"):
                    column = d["column"].replace('"', "").replace("`", "").split(",")[0].strip() or None
                if table:
                    break
    return table, column


# ---------------------------------------------------------------------------
# Mapped classes and where they are defined
# ---------------------------------------------------------------------------


def _registries():
    try:
        from sqlalchemy.orm import mapperlib
        return list(mapperlib._mapper_registries)
    except Exception:
        return []


def _mappers():
    out = []
    for reg in _registries():
        try:
            out.extend(reg.mappers)
        except Exception:
            continue
    return out


class ModelIndex(object):
    """Finds the source line that declares a table or a column."""

    def __init__(self, project):
        from sqlalchemy import Table

        self.project = project
        self.by_table = {}
        for mapper in _mappers():
            tbl = getattr(mapper, "local_table", None)
            if isinstance(tbl, Table) and tbl.key not in self.by_table and not mapper.inherits:
                self.by_table[tbl.key] = mapper
        self._sources = {}

    def _project_files(self):
        files = list(self.project.model_files)
        for mod in list(sys.modules.values()):
            f = getattr(mod, "__file__", None)
            if f and f.endswith(".py") and _is_project_file(f, self.project):
                f = os.path.abspath(f)
                if f not in files:
                    files.append(f)
        return files

    def _lines(self, path):
        if path not in self._sources:
            try:
                with open(path, encoding="utf-8") as fh:
                    self._sources[path] = fh.read().splitlines()
            except (OSError, UnicodeDecodeError):
                self._sources[path] = []
        return self._sources[path]

    def _class_location(self, cls):
        try:
            path = pyinspect.getsourcefile(cls)
            lines, start = pyinspect.getsourcelines(cls)
            return os.path.abspath(path), start, lines
        except (TypeError, OSError):
            return None, None, None

    def _table_call(self, name):
        pat = re.compile(r"""Table\(\s*["']%s["']""" % re.escape(name))
        start_pat = re.compile(r"""Table\($""")
        for path in self._project_files():
            lines = self._lines(path)
            for i, line in enumerate(lines):
                if pat.search(line):
                    return path, i + 1
                if start_pat.search(line.rstrip()) and i + 1 < len(lines) and re.match(
                        r"""\s*["']%s["']""" % re.escape(name), lines[i + 1]):
                    return path, i + 1
        return None, None

    def table(self, key):
        mapper = self.by_table.get(key)
        if mapper is not None:
            path, line, _ = self._class_location(mapper.class_)
            if path:
                return path, line
        name = key.split(".")[-1]
        return self._table_call(name)

    def column(self, key, column):
        mapper = self.by_table.get(key)
        if mapper is not None:
            attr = column
            try:
                col = mapper.local_table.c[column]
                attr = mapper.get_property_by_column(col).key
            except Exception:
                pass
            for cls in mapper.class_.__mro__:
                if cls is object:
                    continue
                path, start, lines = self._class_location(cls)
                if not path:
                    continue
                for i, line in enumerate(lines):
                    if re.match(r"\s+%s\s*[:=]" % re.escape(attr), line):
                        return path, start + i
                    if re.search(r"""(?:Column|mapped_column)\(\s*["']%s["']""" % re.escape(column), line):
                        return path, start + i
            return self.table(key)
        path, line = self._table_call(key.split(".")[-1])
        if path:
            lines = self._lines(path)
            for i in range(line - 1, min(len(lines), line + 200)):
                if re.search(r"""Column\(\s*["']%s["']""" % re.escape(column), lines[i]):
                    return path, i + 1
                if i > line - 1 and re.match(r"\S", lines[i]):
                    break
        return path, line

    def base_module_of(self, metadatas):
        """The project file that defines the declarative base (or the MetaData) env.py targets."""
        candidates = []
        for mapper in _mappers():
            tbl = getattr(mapper, "local_table", None)
            if getattr(tbl, "metadata", None) is None or not any(tbl.metadata is m for m in metadatas):
                continue
            for cls in mapper.class_.__mro__:
                md = cls.__dict__.get("metadata")
                if md is not None and any(md is m for m in metadatas):
                    candidates.append(cls)
                    break
        candidates.extend(metadatas)
        best = (9, None)
        for mod in list(sys.modules.values()):
            f = getattr(mod, "__file__", None)
            if not f or not _is_project_file(f, self.project) or os.path.abspath(f) == self.project.env_py:
                continue
            try:
                values = list(vars(mod).values())
            except Exception:
                continue
            for v in values:
                if any(v is c for c in candidates):
                    rank = 0          # the declarative base or the MetaData itself
                elif not isinstance(v, type) and any(getattr(v, "metadata", None) is m for m in metadatas):
                    rank = 1          # an object holding it: Flask-SQLAlchemy's `db`
                else:
                    continue
                if rank < best[0]:
                    best = (rank, os.path.abspath(f))
        return best[1]


# ---------------------------------------------------------------------------
# Drift: the autogenerate comparison inside the project's env.py
# ---------------------------------------------------------------------------


def run_autogenerate(project, connection, rev_override=None):
    """Run env.py with a RevisionContext in autogenerate mode, as `alembic check` does,
    capturing the generated directives instead of writing a file.

    Returns (migration_context, [UpgradeOps], [DowngradeOps]). Raises ProjectError."""
    from alembic import autogenerate as autogen

    command_args = dict(message=None, autogenerate=True, sql=False, head="head", splice=False,
                        branch_label=None, version_path=None, rev_id=None, depends_on=None)
    rc = autogen.RevisionContext(project.config, project.script, command_args)
    state = {"called": False, "ctx": None, "compared": False}

    def fn(rev, context):
        state["called"] = True
        state["ctx"] = context
        project._capture(context)
        rc.run_autogenerate(rev_override if rev_override is not None else rev, context)
        state["compared"] = True
        return []

    try:
        project.run_env(fn, connection, revision_context=rc)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as e:
        _end(connection, ok=False)
        if not state["called"]:
            raise ProjectError(project_error_finding(
                "env.py failed while comparing the models with the database", e, project))
        raise ProjectError(project_error_finding(
            "the autogenerate comparison failed (inside env.py's context: include_object, "
            "compare_type, process_revision_directives or a type's comparison raised)", e, project))
    _end(connection, ok=True)
    if not state["called"]:
        raise ProjectError(finding(
            "project-error", "env.py finished without calling context.run_migrations()",
            file=project.env_py, help="env.py must call context.run_migrations() in online mode."))
    ups, downs = [], []
    if rc.generated_revisions:
        ms = rc.generated_revisions[-1]
        ups = list(ms.upgrade_ops_list)
        downs = list(ms.downgrade_ops_list)
    return state["ctx"], ups, downs


def _render(ops_list, mctx, opts):
    """Alembic's rendering of operations as migration code, with the project's context
    (render_as_batch, render_item, user_module_prefix, the dialect's type rendering)."""
    from alembic.autogenerate import render_python_code
    from alembic.operations import ops as alembic_ops

    container = ops_list if isinstance(ops_list, (alembic_ops.UpgradeOps, alembic_ops.DowngradeOps)) \
        else alembic_ops.UpgradeOps(ops=list(ops_list))
    code = None
    if mctx is not None:
        try:
            from alembic.autogenerate import render as _render_mod
            from alembic.autogenerate.api import AutogenContext

            full = dict(mctx.opts)
            full.update(opts or {})
            full.setdefault("sqlalchemy_module_prefix", "sa.")
            full.setdefault("alembic_module_prefix", "op.")
            ac = AutogenContext(mctx, opts=full, autogenerate=False)
            ac.imports = set()
            code = _render_mod._indent(_render_mod._render_cmd_body(container, ac))
        except Exception as e:
            log("rendering with the project's context failed (%s); rendering plainly" % _exc_text(e))
            code = None
    if code is None:
        try:
            code = render_python_code(container, render_as_batch=bool((opts or {}).get("render_as_batch")))
        except Exception as e:
            return "# (could not render the operation: %s)" % _first_line(_exc_text(e))
    lines = [l for l in code.splitlines() if not l.strip().startswith("# ###")]
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    indent = min([len(l) - len(l.lstrip()) for l in lines if l.strip()] or [0])
    return "\n".join(l[indent:] for l in lines)


def _q(schema, name):
    return "%s.%s" % (schema, name) if schema else name


def _type_str(t, dialect):
    if t is None:
        return "?"
    try:
        return str(t.compile(dialect=dialect))
    except Exception:
        return repr(t)


def _default_str(d):
    if d is None or d is False:
        return "no default"
    arg = getattr(d, "arg", d)
    text = getattr(arg, "text", None)
    if text is not None:
        return text
    try:
        return str(arg)
    except Exception:
        return repr(arg)


_ADD_HELP = ("Generate the missing migration (`alembic revision --autogenerate -m \"...\"`), check "
             "that it contains the operations below, and commit it with the model change.")
_REMOVE_HELP = ("The database has it after `upgrade head` but the models do not: if the model change "
                "is intended, a migration must also drop it (operations below); otherwise restore the "
                "model declaration.")
_MODIFY_HELP = ("The migrations and the models disagree about this column: write a migration that "
                "alters it (below), or change the model back.")


def _elementary_ops(upgrade_ops):
    """(ModifyTableOps container or None, op) for every elementary operation."""
    from alembic.operations import ops as alembic_ops

    for op in upgrade_ops.ops:
        if isinstance(op, alembic_ops.ModifyTableOps):
            for sub in op.ops:
                yield op, sub
        else:
            yield None, op


def drift_findings(project, mctx, upgrade_ops_list, models, unregistered_tables=()):
    from alembic.operations import ops as A

    dialect = mctx.dialect if mctx is not None else None
    opts = project.context_opts or {}
    out = []
    added_cols, removed_cols, added_tables, removed_tables = [], [], [], []
    for upgrade_ops in upgrade_ops_list:
        for container, op in _elementary_ops(upgrade_ops):
            render_target = [A.ModifyTableOps(container.table_name, [op], schema=container.schema)] \
                if container is not None else [op]
            code = _render(render_target, mctx, opts)
            items = _describe_op(op, dialect)
            for kind, schema, table, column, message, help in items:
                key = _q(schema, table) if table else None
                if kind == "remove_table" and key in unregistered_tables:
                    continue
                file = line = None
                if table and kind not in ("remove_table",):
                    if column and kind != "remove_column":
                        file, line = models.column(key, column)
                    else:
                        file, line = models.table(key)
                f = finding("drift", message, help=help, file=file, line=line, table=table,
                            column=column, details=code, operation=kind)
                out.append(f)
                if kind == "add_column":
                    added_cols.append((schema, table, op.column))
                elif kind == "remove_column":
                    removed_cols.append((schema, table, _dropped_column(op)))
                elif kind == "add_table":
                    added_tables.append((schema, table, op))
                elif kind == "remove_table":
                    removed_tables.append((schema, table, op))
    out.extend(_rename_findings(added_cols, removed_cols, added_tables, removed_tables, dialect, models))
    return out


def _dropped_column(op):
    try:
        return op.to_column()
    except Exception:
        rev = getattr(op, "_reverse", None)
        return getattr(rev, "column", None)


def _cols_text(cols):
    names = []
    for c in cols or []:
        names.append(getattr(c, "name", None) or str(c))
    return ", ".join(names)


def _describe_op(op, dialect):
    """[(kind, schema, table, column, message, help)] for one elementary operation."""
    from alembic.operations import ops as A

    cls = type(op).__name__
    schema = getattr(op, "schema", None)
    if isinstance(op, A.CreateTableOp):
        t = op.table_name
        return [("add_table", schema, t, None,
                 "table `%s` is declared by the models but does not exist after `upgrade head`: "
                 "no migration creates it" % _q(schema, t), _ADD_HELP)]
    if isinstance(op, A.DropTableOp):
        t = op.table_name
        return [("remove_table", schema, t, None,
                 "table `%s` exists after `upgrade head` but no model declares it" % _q(schema, t),
                 _REMOVE_HELP)]
    if isinstance(op, A.AddColumnOp):
        t, c = op.table_name, op.column.name
        return [("add_column", schema, t, c,
                 "table `%s` has no column `%s` that the model declares" % (_q(schema, t), c), _ADD_HELP)]
    if isinstance(op, A.DropColumnOp):
        t, c = op.table_name, op.column_name
        return [("remove_column", schema, t, c,
                 "table `%s` has a column `%s` that the model does not declare" % (_q(schema, t), c),
                 _REMOVE_HELP)]
    if isinstance(op, A.AlterColumnOp):
        t, c = op.table_name, op.column_name
        qc = "%s.%s" % (_q(schema, t), c)
        out = []
        if op.modify_type is not None:
            out.append(("modify_type", schema, t, c, "column `%s` is %s in the database but %s in the model"
                        % (qc, _type_str(op.existing_type, dialect), _type_str(op.modify_type, dialect)),
                        _MODIFY_HELP))
        if op.modify_nullable is not None:
            was = "nullable" if op.existing_nullable else "NOT NULL"
            now = "nullable" if op.modify_nullable else "NOT NULL"
            out.append(("modify_nullable", schema, t, c,
                        "column `%s` is %s in the database but %s in the model" % (qc, was, now), _MODIFY_HELP))
        if op.modify_server_default is not False:
            out.append(("modify_default", schema, t, c,
                        "column `%s` has server default %s in the database but %s in the model"
                        % (qc, _default_str(op.existing_server_default), _default_str(op.modify_server_default)),
                        _MODIFY_HELP))
        if getattr(op, "modify_comment", False) is not False:
            out.append(("modify_comment", schema, t, c,
                        "column `%s` has a different comment in the database than in the model" % qc,
                        _MODIFY_HELP))
        if getattr(op, "modify_name", None):
            out.append(("modify_name", schema, t, c, "column `%s` is renamed to `%s` in the model"
                        % (qc, op.modify_name), _MODIFY_HELP))
        if not out:
            out.append(("modify_column", schema, t, c, "column `%s` differs between the database and the model" % qc,
                        _MODIFY_HELP))
        return out
    if isinstance(op, A.CreateIndexOp):
        t = op.table_name
        names = [str(getattr(c, "name", c)) for c in op.columns]
        kind = "unique index" if op.unique else "index"
        return [("add_index", schema, t, names[0] if len(names) == 1 else None,
                 "%s `%s` on `%s` (%s) is declared by the models but missing from the database"
                 % (kind, op.index_name, _q(schema, t), ", ".join(names)), _ADD_HELP)]
    if isinstance(op, A.DropIndexOp):
        t = op.table_name
        return [("remove_index", schema, t, None, "index `%s` on `%s` exists in the database but the models "
                 "do not declare it" % (op.index_name, _q(schema, t)), _REMOVE_HELP)]
    if isinstance(op, A.CreateForeignKeyOp):
        t = op.source_table
        cols = list(op.local_cols)
        return [("add_fk", getattr(op, "source_schema", None), t, cols[0] if len(cols) == 1 else None,
                 "foreign key %son `%s` (%s) -> `%s` (%s) is declared by the models but missing from the "
                 "database" % ("`%s` " % op.constraint_name if op.constraint_name else "", t, ", ".join(cols),
                               op.referent_table, ", ".join(op.remote_cols)), _ADD_HELP)]
    if isinstance(op, A.AddConstraintOp):
        t = getattr(op, "table_name", None) or getattr(op, "source_table", None)
        cols = getattr(op, "columns", None)
        what = {"unique": "unique constraint", "check": "check constraint",
                "primary": "primary key"}.get(getattr(op, "constraint_type", ""), "constraint")
        text = "%s `%s` on `%s`%s is declared by the models but missing from the database" % (
            what, op.constraint_name, _q(schema, t), " (%s)" % _cols_text(cols) if cols else "")
        return [("add_constraint", schema, t, None, text, _ADD_HELP)]
    if isinstance(op, A.DropConstraintOp):
        t = op.table_name
        if op.constraint_type == "foreignkey":
            return [("remove_fk", schema, t, None, "foreign key `%s` on `%s` exists in the database but the "
                     "models do not declare it" % (op.constraint_name, _q(schema, t)), _REMOVE_HELP)]
        what = {"unique": "unique constraint", "check": "check constraint",
                "primary": "primary key"}.get(op.constraint_type or "", "constraint")
        return [("remove_constraint", schema, t, None, "%s `%s` on `%s` exists in the database but the "
                 "models do not declare it" % (what, op.constraint_name, _q(schema, t)), _REMOVE_HELP)]
    if cls in ("CreateTableCommentOp", "DropTableCommentOp"):
        t = op.table_name
        return [("modify_table_comment", schema, t, None,
                 "table `%s` has a different comment in the database than in the model" % _q(schema, t),
                 _MODIFY_HELP)]
    t = getattr(op, "table_name", None)
    try:
        kind = op.to_diff_tuple()[0]
        if not isinstance(kind, str):
            kind = cls
    except Exception:
        kind = cls
    return [(kind, schema, t, None, "the models and the database differ: %s%s"
             % (kind, " on table `%s`" % _q(schema, t) if t else ""), _ADD_HELP)]


def _types_match(a, b, dialect):
    if a is None or b is None:
        return False
    ta, tb = _type_str(a, dialect).lower().replace(" ", ""), _type_str(b, dialect).lower().replace(" ", "")
    if ta == tb:
        return True
    try:
        return a._type_affinity is b._type_affinity and \
            getattr(a, "length", None) == getattr(b, "length", None)
    except Exception:
        return False


def _rename_findings(added_cols, removed_cols, added_tables, removed_tables, dialect, models):
    out = []
    used = set()
    for schema, table, new in added_cols:
        cands = [old for s, t, old in removed_cols
                 if s == schema and t == table and old is not None and id(old) not in used
                 and _types_match(old.type, new.type, dialect)]
        if len(cands) != 1:
            continue
        old = cands[0]
        used.add(id(old))
        key = _q(schema, table)
        file, line = models.column(key, new.name)
        code = 'op.alter_column("%s", "%s", new_column_name="%s"%s)' % (
            table, old.name, new.name, ', schema="%s"' % schema if schema else "")
        out.append(finding(
            "possible-rename",
            "column `%s.%s` in the database and `%s.%s` in the model have the same type (%s): probably a "
            "rename, which autogenerate writes as drop + add and so loses the column's data"
            % (key, old.name, key, new.name, _type_str(new.type, dialect)),
            severity="warning",
            help="If it is a rename, write the migration as `%s` instead of dropping and adding." % code,
            file=file, line=line, table=table, column=new.name, details=code, old_column=old.name))
    for schema, table, op in added_tables:
        try:
            new_cols = set(c.name for c in op.columns if hasattr(c, "name") and hasattr(c, "type"))
        except Exception:
            continue
        for s, t, dop in removed_tables:
            try:
                old_cols = set(c.name for c in dop.to_table().columns)
            except Exception:
                continue
            if s == schema and old_cols and old_cols == new_cols:
                code = 'op.rename_table("%s", "%s"%s)' % (t, table, ', schema="%s"' % schema if schema else "")
                file, line = models.table(_q(schema, table))
                out.append(finding(
                    "possible-rename",
                    "table `%s` in the database and `%s` in the models have the same columns: probably a "
                    "rename, which autogenerate writes as drop + create and so loses the table's rows"
                    % (_q(s, t), _q(schema, table)),
                    severity="warning",
                    help="If it is a rename, write the migration as `%s`." % code,
                    file=file, line=line, table=table, details=code, old_table=t))
                break
    return out


def enum_findings(conn, project, models, mctx, existing):
    """Enum values the models and the database disagree on, which autogenerate misses:
    PostgreSQL enum types (never compared) and MySQL ENUM columns (older Alembic)."""
    if conn.dialect.name == "postgresql":
        return pg_enum_findings(conn, project, models)
    if conn.dialect.name in ("mysql", "mariadb"):
        return mysql_enum_findings(conn, project, models, mctx, existing)
    return []


def _model_enum_columns(project):
    import sqlalchemy as sa

    include_object = (project.context_opts or {}).get("include_object")
    for md in project.target_metadatas():
        for table in md.tables.values():
            if include_object is not None:
                try:
                    if not include_object(table, table.name, "table", False, None):
                        continue
                except Exception:
                    pass
            for col in table.columns:
                t = col.type
                if isinstance(t, sa.types.TypeDecorator):
                    t = t.impl
                if isinstance(t, sa.Enum) and getattr(t, "native_enum", True):
                    yield table, col, t


def mysql_enum_findings(conn, project, models, mctx, existing):
    import sqlalchemy as sa

    seen = set((f.get("table"), f.get("column")) for f in existing
               if f.get("code") == "drift" and f.get("operation") == "modify_type")
    out = []
    insp = sa.inspect(conn)
    cache = {}
    try:
        for table, col, t in _model_enum_columns(project):
            if (table.name, col.name) in seen:
                continue
            key = (table.schema, table.name)
            if key not in cache:
                try:
                    cache[key] = dict((c["name"], c) for c in insp.get_columns(table.name, schema=table.schema))
                except Exception:
                    cache[key] = {}
            reflected = cache[key].get(col.name)
            db_labels = list(getattr(reflected["type"], "enums", None) or []) if reflected else []
            if not reflected or not db_labels or db_labels == list(t.enums):
                continue
            from alembic.operations import ops as A

            op = A.AlterColumnOp(table.name, col.name, schema=table.schema, modify_type=col.type,
                                 existing_type=reflected["type"], existing_nullable=reflected.get("nullable"))
            code = _render([A.ModifyTableOps(table.name, [op], schema=table.schema)], mctx, project.context_opts)
            file, line = models.column(table.key, col.name)
            out.append(finding(
                "drift",
                "column `%s.%s` is %s in the database but %s in the model" % (
                    table.name, col.name, _type_str(reflected["type"], conn.dialect), _type_str(col.type, conn.dialect)),
                help=_MODIFY_HELP, file=file, line=line, table=table.name, column=col.name, details=code,
                operation="modify_type"))
    finally:
        _end(conn, ok=True)
    return out


def pg_enum_findings(conn, project, models):
    """Alembic's autogenerate does not compare the values of PostgreSQL enum types: do it."""
    import sqlalchemy as sa

    if conn.dialect.name != "postgresql":
        return []
    out = []
    try:
        default_schema = conn.exec_driver_sql("SELECT current_schema()").scalar()
        db = {}
        for schema, name, label in conn.exec_driver_sql(
            "SELECT n.nspname, t.typname, e.enumlabel FROM pg_type t "
            "JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_enum e ON e.enumtypid = t.oid "
            "ORDER BY n.nspname, t.typname, e.enumsortorder"
        ).fetchall():
            db.setdefault((schema, name), []).append(label)
    finally:
        _end(conn, ok=True)
    include_object = (project.context_opts or {}).get("include_object")
    seen = set()
    for md in project.target_metadatas():
        for table in md.tables.values():
            if include_object is not None:
                try:
                    if not include_object(table, table.name, "table", False, None):
                        continue
                except Exception:
                    pass
            for col in table.columns:
                t = col.type
                if isinstance(t, sa.types.TypeDecorator):
                    t = t.impl
                if not isinstance(t, sa.Enum) or not getattr(t, "native_enum", True) or not t.name:
                    continue
                schema = t.schema or table.schema or default_schema
                key = (schema, t.name)
                if key in seen or key not in db:
                    continue
                seen.add(key)
                model_labels = list(t.enums)
                db_labels = db[key]
                missing = [l for l in model_labels if l not in db_labels]
                extra = [l for l in db_labels if l not in model_labels]
                qname = t.name if schema == default_schema else "%s.%s" % (schema, t.name)
                file, line = models.column(table.key, col.name)
                if missing:
                    code = "with op.get_context().autocommit_block():\n" + "\n".join(
                        "    op.execute(\"ALTER TYPE %s ADD VALUE IF NOT EXISTS '%s'\")" % (qname, l.replace("'", "''"))
                        for l in missing)
                    out.append(finding(
                        "drift",
                        "PostgreSQL enum type `%s` has no value %s that the model's enum declares (column `%s.%s`)"
                        % (qname, ", ".join("`%s`" % l for l in missing), table.name, col.name),
                        help="Alembic's autogenerate does not compare enum values, so `alembic check` "
                             "misses this: write the migration by hand (below).",
                        file=file, line=line, table=table.name, column=col.name, details=code,
                        operation="add_enum_value"))
                if extra:
                    out.append(finding(
                        "drift",
                        "PostgreSQL enum type `%s` has value %s that the model's enum no longer declares "
                        "(column `%s.%s`)" % (qname, ", ".join("`%s`" % l for l in extra), table.name, col.name),
                        severity="warning",
                        help="PostgreSQL cannot drop an enum value: a migration must create a new type, "
                             "convert the column (USING col::text::new_type) and drop the old type; or keep "
                             "the value in the model.",
                        file=file, line=line, table=table.name, column=col.name, operation="remove_enum_value"))
    return out


# ---------------------------------------------------------------------------
# Model modules the target metadata does not see
# ---------------------------------------------------------------------------


def import_project_file(path, project):
    """Import a file as a module of the project (its dotted name from sys.path), or by path."""
    path = os.path.abspath(path)
    for entry in sys.path:
        if not entry:
            continue
        entry = os.path.abspath(entry)
        if not path.startswith(entry.rstrip(os.sep) + os.sep):
            continue
        rel = os.path.relpath(path, entry)
        if not rel.endswith(".py"):
            continue
        parts = rel[:-3].split(os.sep)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if parts and all(p.isidentifier() for p in parts):
            name = ".".join(parts)
            existing = sys.modules.get(name)
            if existing is not None and os.path.abspath(getattr(existing, "__file__", "") or "") == path:
                return existing
            try:
                return importlib.import_module(name)
            except ImportError as e:
                if getattr(e, "name", None) and not name.startswith(e.name):
                    raise
                continue
    for mod in list(sys.modules.values()):
        if os.path.abspath(getattr(mod, "__file__", "") or "") == path:
            return mod
    name = "alembot_model_%d" % (abs(hash(path)) % 10 ** 8)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def unregistered_findings(project, models):
    from sqlalchemy import MetaData, Table

    targets = project.target_metadatas()
    if not targets:
        return [finding(
            "unregistered-model",
            "env.py gives Alembic no target_metadata: autogenerate compares the database with nothing",
            help="Set `target_metadata = Base.metadata` in env.py (importing the models' Base).",
            file=project.env_py)], set()
    seen_before = set(project.target_tables_at_first_run or [])
    out, errors = [], []
    modules = []
    for path in project.model_files:
        try:
            modules.append((path, import_project_file(path, project)))
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as e:
            errors.append(project_error_finding("model file %s cannot be imported" % os.path.relpath(path, project.root),
                                                e, project))
    # Every MetaData the project's models live on: registries, and module-level MetaData/Table objects.
    metadatas = []

    def add_md(md):
        if md is not None and not any(md is m for m in metadatas):
            metadatas.append(md)

    for mapper in _mappers():
        cls_file = getattr(sys.modules.get(mapper.class_.__module__), "__file__", None)
        if cls_file and _is_project_file(cls_file, project):
            add_md(getattr(mapper.local_table, "metadata", None))
    for mod in list(sys.modules.values()):
        f = getattr(mod, "__file__", None)
        if not f or not _is_project_file(f, project):
            continue
        for value in list(vars(mod).values()):
            if isinstance(value, MetaData):
                add_md(value)
            elif isinstance(value, Table):
                add_md(value.metadata)
    models = ModelIndex(project)
    target_keys = set(_table_keys(targets))
    include_object = (project.context_opts or {}).get("include_object")
    base_module = models.base_module_of(targets)
    missing_keys = set()
    for md in metadatas:
        on_target = any(md is t for t in targets)
        for key, table in md.tables.items():
            if key == project.version_table:
                continue
            if on_target and key in seen_before:
                continue
            if not on_target and key in target_keys:
                continue
            if include_object is not None:
                try:
                    if not include_object(table, table.name, "table", False, None):
                        continue
                except Exception:
                    pass
            if key in missing_keys:
                continue
            missing_keys.add(key)
            file, line = models.table(key)
            rel = os.path.relpath(file, project.root) if file else None
            where = " (%s)" % rel if rel else ""
            if on_target:
                module = _module_name_for(file) if file else None
                message = ("table `%s`%s is not on the metadata env.py gives Alembic: autogenerate never "
                           "sees it, because env.py never imports %s"
                           % (key, where, "`%s`" % module if module else "its module"))
                base_rel = os.path.relpath(base_module, project.root) if base_module else None
                help = "Import %s in env.py%s." % (
                    module or "the module that declares it",
                    " or in %s" % base_rel if base_rel and base_module != file else "")
            else:
                message = ("table `%s`%s is declared on a different MetaData than the target_metadata env.py "
                           "gives Alembic: autogenerate never sees it" % (key, where))
                help = ("Declare it on the same declarative base, or give env.py a list: "
                        "`target_metadata = [Base.metadata, other_metadata]`.")
            out.append(finding("unregistered-model", message, help=help, file=file, line=line, table=table.name))
    return errors + out, missing_keys


def _module_name_for(path):
    path = os.path.abspath(path)
    for name, mod in list(sys.modules.items()):
        f = getattr(mod, "__file__", None)
        if f and os.path.abspath(f) == path and not name.startswith("alembot_model_"):
            return name
    return None


# ---------------------------------------------------------------------------
# Downgrades that cannot run
# ---------------------------------------------------------------------------


def static_irreversible(script):
    """Why this revision's downgrade cannot undo anything (empty or missing), or None."""
    module = getattr(script, "module", None)
    if module is not None and not callable(getattr(module, "downgrade", None)):
        return "it has no downgrade() function"
    try:
        with open(script.path, encoding="utf-8") as fh:
            tree = ast.parse(fh.read())
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "downgrade":
            body = [s for s in node.body
                    if not isinstance(s, ast.Pass)
                    and not (isinstance(s, ast.Expr) and isinstance(getattr(s, "value", None), ast.Constant)
                             and isinstance(s.value.value, str))
                    and not (isinstance(s, ast.Expr) and type(getattr(s, "value", None)).__name__ == "Str")]
            if not body:
                return "its downgrade() is empty"
            return None
    return None


def _is_not_implemented(e):
    return any(isinstance(x, NotImplementedError) for x in _exc_chain(e))


def _upgrade_body_mentions(script, name):
    try:
        with open(script.path, encoding="utf-8") as fh:
            source = fh.read()
        tree = ast.parse(source)
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return False
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "upgrade":
            seg = "\n".join(source.splitlines()[node.lineno - 1:getattr(node, "end_lineno", node.lineno + 200)])
            return re.search(r"""["']%s["']""" % re.escape(name), seg) is not None
    return False


# ---------------------------------------------------------------------------
# verify
# ---------------------------------------------------------------------------


class Verifier(object):
    def __init__(self, project, engine, conn, checks, stack):
        from alembic.runtime.migration import MigrationStep

        self.MigrationStep = MigrationStep
        self.project = project
        self.engine = engine
        self.conn = conn
        self.checks = checks
        self.stack = stack
        self.findings = []
        self.ran = []
        self.skipped = {}
        self.timings = {}
        self.notes = []
        self.current_check = None
        self.drift_code = None
        self.irreversible = {}   # revision -> reason
        self._irreversible_reported = set()
        self.models = None
        self.extra_schemas = ()

    # -- plumbing -------------------------------------------------------

    def note(self, message):
        self.notes.append(message)
        emit({"event": "note", "message": message})

    def on_step(self, step):
        emit({"event": "step", "step": "upgrade" if step.is_upgrade else "downgrade",
              "revision": _step_rev(step), "check": self.current_check})

    CHECK_LABELS = {
        "upgrade": "upgrade heads",
        "drift": "compare the database with the models",
        "unregistered": "find models env.py does not import",
        "roundtrip": "downgrade base, upgrade heads",
        "stairway": "stairway (each revision down and up)",
        "data_upgrade": "data upgrade",
        "data_tests": "project data tests",
    }

    @contextlib.contextmanager
    def check(self, name):
        self.current_check = name
        emit({"event": "step", "step": self.CHECK_LABELS.get(name, name), "check": name})
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = round(time.perf_counter() - t0, 4)
            if name not in self.ran:
                self.ran.append(name)
            self.current_check = None

    def vt(self):
        opts = self.project.context_opts or {}
        return (opts.get("version_table") or self.project.version_table,
                opts.get("version_table_schema") or self.project.version_table_schema)

    def snap(self):
        vt, vts = self.vt()
        return snapshot(self.conn, vt, vts, self.extra_schemas)

    def run_setup_sql(self):
        for stmt in self.project.req.get("setup_sql") or []:
            self.conn.exec_driver_sql(stmt)
        _end(self.conn, ok=True)

    def reset(self):
        empty_database(self.conn)
        self.run_setup_sql()

    def db_heads(self):
        from alembic.runtime.migration import MigrationContext

        vt, vts = self.vt()
        try:
            ctx = MigrationContext.configure(self.conn, opts={"version_table": vt, "version_table_schema": vts})
            return tuple(ctx.get_current_heads())
        finally:
            _end(self.conn, ok=True)

    def upgrade_to(self, target):
        script = self.project.script
        return self.project.run_steps(lambda heads, ctx: script._upgrade_revs(target, heads), self.conn, self.on_step)

    def single_step(self, revision, is_upgrade):
        rmap = self.project.script.revision_map
        script = self.project.rev(revision)
        make = self.MigrationStep.upgrade_from_script if is_upgrade else self.MigrationStep.downgrade_from_script
        return self.project.run_steps(lambda heads, ctx: [make(rmap, script)], self.conn, self.on_step)

    def add(self, f):
        self.findings.append(f)

    def irreversible_finding(self, revision, reason, consequence):
        if revision in self._irreversible_reported:
            for f in self.findings:
                if f["code"] == "irreversible-migration" and f["revision"] == revision and consequence \
                        and consequence not in (f["details"] or ""):
                    f["details"] = ((f["details"] or "") + "\n" + consequence).strip()
            return
        self._irreversible_reported.add(revision)
        script = self.project.rev(revision)
        self.add(finding(
            "irreversible-migration",
            "revision %s cannot be downgraded: %s" % (_script_label(script), reason),
            severity="warning",
            help="If the change really cannot be undone, say so in downgrade() with "
                 "`raise NotImplementedError(\"why\")`; otherwise write the downgrade.",
            file=script.path, line=_def_line(script.path, "downgrade"), revision=revision,
            details=consequence or None))

    # -- the checks -----------------------------------------------------

    def run(self):
        c = self.checks
        want_drift = bool(c.get("drift"))
        want_unreg = bool(c.get("unregistered"))
        want_rt = bool(c.get("roundtrip"))
        stair = c.get("stairway")
        data_up = c.get("data_upgrade")
        data_tests = c.get("data_tests")
        need_upgrade = bool(c.get("upgrade")) or want_drift or want_unreg or want_rt

        t0 = time.perf_counter()
        self.run_setup_sql()
        self.baseline = self.snap()
        self.timings["setup"] = round(time.perf_counter() - t0, 4)
        self.models = ModelIndex(self.project)

        upgraded = False
        if need_upgrade:
            with self.check("upgrade"):
                upgraded = self.check_upgrade()
            if not upgraded:
                for name, wanted in (("drift", want_drift), ("unregistered", want_unreg), ("roundtrip", want_rt)):
                    if wanted:
                        self.skipped[name] = "upgrade from an empty database failed"
        drift_state = None
        if upgraded and want_drift:
            with self.check("drift"):
                drift_state = self.compare()
        if upgraded and (want_unreg or drift_state is not None):
            self.models = ModelIndex(self.project)
        unregistered_keys = set()
        if upgraded and want_unreg:
            with self.check("unregistered"):
                found, unregistered_keys = unregistered_findings(self.project, self.models)
                self.findings.extend(found)
                self.models = ModelIndex(self.project)
        if drift_state is not None:
            mctx, ups, downs = drift_state
            self.findings.extend(drift_findings(self.project, mctx, ups, self.models, unregistered_keys))
            self.findings.extend(enum_findings(self.conn, self.project, self.models, mctx, self.findings))
            if ups and any(u.ops for u in ups):
                from alembic.operations import ops as A
                opts = self.project.context_opts
                self.drift_code = {
                    "upgrade_code": "\n\n".join(_render(u, mctx, opts) for u in ups if u.ops),
                    "downgrade_code": "\n\n".join(_render(d, mctx, opts) for d in downs if d.ops),
                }
        if upgraded and want_rt:
            with self.check("roundtrip"):
                self.roundtrip()
        if stair:
            if need_upgrade and not upgraded:
                self.skipped["stairway"] = "upgrade from an empty database failed"
            else:
                with self.check("stairway"):
                    self.stairway(stair)
        if data_up:
            if need_upgrade and not upgraded:
                self.skipped["data_upgrade"] = "upgrade from an empty database failed"
            else:
                with self.check("data_upgrade"):
                    self.data_upgrade(data_up)
        if data_tests:
            with self.check("data_tests"):
                self.data_tests(data_tests)
        return self.dedupe()

    def dedupe(self):
        out, seen = [], {}
        for f in self.findings:
            if f["code"] in ("downgrade-debris",):
                key = (f["code"], f.get("revision"), f.get("table"), f.get("column"))
                if key in seen:
                    continue
                seen[key] = f
            out.append(f)
        # A roundtrip debris finding that a stairway finding pins to a revision is redundant.
        pinned = set((f.get("table"), f.get("column")) for f in out
                     if f["code"] == "downgrade-debris" and f.get("check") == "stairway")
        return [f for f in out if not (f["code"] == "downgrade-debris" and f.get("check") == "roundtrip"
                                       and (f.get("table"), f.get("column")) in pinned)]

    def check_upgrade(self):
        failure = self.upgrade_to("heads")
        if failure is not None:
            self.add(self.project.env_failure_finding(failure, "upgrading an empty database"))
            return False
        heads = set(self.db_heads())
        if heads != set(self.project.heads):
            vt, vts = self.vt()
            if not heads:
                self.add(finding(
                    "project-error",
                    "after `upgrade heads` the database alembot gave env.py has no version table `%s`: env.py "
                    "migrated another database" % _q(vts, vt),
                    help="env.py must connect with the URL in the sqlalchemy.url option, the connection in "
                         "config.attributes['connection'], or one of the environment variables %s."
                         % ", ".join(self.project.req.get("url_env_vars") or ["DATABASE_URL"]),
                    file=self.project.env_py))
            else:
                self.add(finding(
                    "upgrade-failed",
                    "after `upgrade heads` the database is at %s, not at the heads %s"
                    % (", ".join(sorted(heads)), ", ".join(sorted(self.project.heads))),
                    help="Check the revision graph (`alembic heads`, `alembic history`).",
                    file=self.project.env_py))
            return False
        return True

    def compare(self):
        try:
            return run_autogenerate(self.project, self.conn)
        except ProjectError as e:
            self.add(e.finding)
            return None

    # -- round trip -----------------------------------------------------

    def _downgrade_avoiding(self, destination, skip):
        script = self.project.script

        def build(heads, ctx):
            steps = script._downgrade_revs(destination, heads)
            blocked = set()
            for r in skip:
                blocked.add(r)
                blocked |= self.project.ancestors(r)
            return [s for s in steps if _step_rev(s) not in blocked]
        return self.project.run_steps(build, self.conn, self.on_step)

    def downgrade_base(self, what):
        """Downgrade to base, stepping around revisions that cannot be downgraded.
        Returns (ok, failure_finding_or_None)."""
        for script in self.project.revisions:
            reason = static_irreversible(script)
            if reason and script.revision not in self.irreversible:
                self.irreversible[script.revision] = reason
        while True:
            failure = self._downgrade_avoiding("base", set(self.irreversible))
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

    def _attribute(self, diff):
        """The revision whose upgrade mentions the first left-over object (a guess for round trips)."""
        names = []
        for o in diff.left() + [a for b, a in diff.changed]:
            names.append(o.key[-1])
        for name in names:
            for script in self.project.topo_order():
                if isinstance(name, str) and _upgrade_body_mentions(script, name):
                    return script
        return None

    def roundtrip(self):
        at_head = self.snap()
        ok, fail = self.downgrade_base("downgrading to base")
        blocked = sorted(self.irreversible)
        for rev in blocked:
            self.irreversible_finding(
                rev, self.irreversible[rev],
                "The round trip (downgrade base, upgrade head) downgraded only the revisions above it; "
                "the check that downgrade base leaves nothing behind was skipped.")
        if not ok:
            self.add(fail)
            self.skipped["roundtrip-upgrade"] = "a downgrade failed"
            return
        at_base = self.snap()
        debris = None
        if not blocked:
            diff = SnapshotDiff(self.baseline, at_base)
            if diff:
                debris = diff
                culprit = self._attribute(diff)
                table, column = diff.first_table_column()
                self.add(finding(
                    "downgrade-debris",
                    "downgrade to base %s" % diff.describe("left", "removed"),
                    help="Each downgrade() must undo its upgrade() completely: drop what it created, "
                         "including PostgreSQL enum types (sa.Enum(name=...).drop(op.get_bind())) and "
                         "sequences.%s" % (" The stairway check names the revision." if not culprit else ""),
                    file=culprit.path if culprit else None,
                    line=_def_line(culprit.path, "downgrade") if culprit else None,
                    revision=culprit.revision if culprit else None, table=table, column=column,
                    details=diff.details(), check="roundtrip"))
        failure = self.upgrade_to("heads")
        if failure is not None:
            if debris is not None:
                for f in self.findings:
                    if f["code"] == "downgrade-debris" and f.get("check") == "roundtrip":
                        f["details"] = (f["details"] or "") + "\n\nUpgrading again then fails: %s" % _first_line(
                            _exc_text(failure.exc))
                        stmt = _statement(failure.exc)
                        if stmt:
                            f["details"] += "\nSQL: %s" % stmt
                return
            f = self.project.env_failure_finding(failure, "upgrading again after downgrade base")
            if f["code"] == "upgrade-failed":
                f["message"] = f["message"].replace("failed", "failed after a downgrade to base", 1)
            self.add(f)
            return
        again = self.snap()
        diff = SnapshotDiff(at_head, again)
        if diff:
            table, column = diff.first_table_column()
            culprit = self._attribute(diff)
            self.add(finding(
                "downgrade-debris",
                "after downgrade base and upgrade head again the schema differs from the first upgrade: %s"
                % diff.describe("new", "missing"),
                help="A downgrade() left something that changed how the upgrades ran the second time; the "
                     "stairway check names the revision.",
                revision=culprit.revision if culprit else None,
                file=culprit.path if culprit else None, table=table, column=column,
                details=diff.details(), check="roundtrip"))

    # -- stairway -------------------------------------------------------

    def stairway(self, which):
        order = [s.revision for s in self.project.topo_order()]
        if which == "all" or which is True:
            revs = order
        else:
            wanted = set()
            for r in which:
                try:
                    wanted.add(self.project.rev(r).revision)
                except Exception:
                    self.note("stairway: revision %s is not in the migration files; skipped" % r)
            revs = [r for r in order if r in wanted]
        if not revs:
            return
        self.reset()
        have = None   # snapshot of the current state, when known
        for r in revs:
            script = self.project.rev(r)
            applied = set(self.db_heads())
            if r in applied or self._applied(r, applied):
                self.reset()
                have = None
            failure = self.upgrade_to_parents(r)
            if failure is not None:
                self.add(self.project.env_failure_finding(failure, "upgrading to the parents of %s" % r))
                self.reset()
                have = None
                continue
            before = have if have is not None else self.snap()
            failure = self.single_step(r, True)
            if failure is not None:
                self.add(self.project.env_failure_finding(failure, "upgrading"))
                self.reset()
                have = None
                continue
            after_up = self.snap()
            reason = static_irreversible(script)
            if reason:
                self.irreversible.setdefault(r, reason)
                self.irreversible_finding(r, self.irreversible[r], "The stairway check skipped its down-and-up step.")
                have = after_up
                continue
            failure = self.single_step(r, False)
            if failure is not None:
                if _is_not_implemented(failure.exc):
                    msg = _first_line(str(failure.exc))
                    self.irreversible.setdefault(r, "its downgrade() raises NotImplementedError%s"
                                                 % (": %s" % msg if msg else ""))
                    self.irreversible_finding(r, self.irreversible[r],
                                              "The stairway check skipped its down-and-up step.")
                    have = after_up
                    continue
                self.add(step_failure_finding("downgrade-failed", failure, self.project))
                self.reset()
                have = None
                continue
            after_down = self.snap()
            diff = SnapshotDiff(before, after_down)
            debris = None
            if diff:
                debris = diff
                table, column = diff.first_table_column()
                self.add(finding(
                    "downgrade-debris",
                    "downgrade of %s %s" % (_script_label(script), diff.describe("left", "removed")),
                    help="downgrade() must undo everything upgrade() does, in reverse order; objects it "
                         "creates implicitly (PostgreSQL enum types, sequences) must be dropped explicitly.",
                    file=script.path, line=_def_line(script.path, "downgrade"), revision=r,
                    table=table, column=column, details=diff.details(), check="stairway"))
            failure = self.single_step(r, True)
            if failure is not None:
                if debris is not None:
                    self.findings[-1]["details"] += "\n\nUpgrading it again then fails: %s" % _first_line(
                        _exc_text(failure.exc))
                else:
                    f = step_failure_finding("upgrade-failed", failure, self.project,
                                             extra_message=" after its downgrade")
                    self.add(f)
                self.reset()
                have = None
                continue
            again = self.snap()
            diff = SnapshotDiff(after_up, again)
            if diff and debris is None:
                table, column = diff.first_table_column()
                self.add(finding(
                    "downgrade-debris",
                    "after the downgrade of %s and its upgrade again, the schema differs from the first "
                    "upgrade: %s" % (_script_label(script), diff.describe("new", "missing")),
                    help="downgrade() must undo everything upgrade() does, so that upgrading again gives "
                         "the same schema.",
                    file=script.path, line=_def_line(script.path, "downgrade"), revision=r,
                    table=table, column=column, details=diff.details(), check="stairway"))
            have = again

    def _applied(self, r, applied):
        for h in applied:
            if h == r or r in self.project.ancestors(h):
                return True
        return False

    def upgrade_to_parents(self, r):
        parents = list(self.project.parents(r)) + list(
            getattr(self.project.rev(r), "_resolved_dependencies", None) or ())
        script = self.project.script
        if not parents:
            return None

        def build(heads, ctx):
            steps = []
            current = tuple(heads)
            for p in parents:
                for s in script._upgrade_revs(p, current):
                    if all(_step_rev(s) != _step_rev(x) for x in steps):
                        steps.append(s)
                current = tuple(set(current) | {p})
            return steps
        return self.project.run_steps(build, self.conn, self.on_step)

    # -- data upgrade ---------------------------------------------------

    def data_upgrade(self, spec):
        base_heads = spec.get("base_heads") or []
        revisions = spec.get("revisions") or []
        self.reset()
        for h in base_heads:
            failure = self.upgrade_to(h)
            if failure is not None:
                f = self.project.env_failure_finding(failure, "upgrading to the base branch's head %s" % h)
                f["message"] = "data upgrade: " + f["message"]
                self.add(f)
                return
        self.at_base_state()
        filler = DataFiller(self.conn, self.project, self.extra_schemas)
        filled = filler.fill()
        for n in filler.notes:
            self.note("data upgrade: %s" % n)
        self.note("data upgrade: inserted %s before applying %s" % (
            _rows_text(filled), ", ".join(revisions) or "nothing"))
        order = [s.revision for s in self.project.topo_order()]
        wanted = []
        for r in revisions:
            try:
                wanted.append(self.project.rev(r).revision)
            except Exception:
                self.note("data upgrade: revision %s is not in the migration files; skipped" % r)
        wanted.sort(key=lambda r: order.index(r) if r in order else 0)
        for r in wanted:
            if self._applied(r, set(self.db_heads())):
                continue
            failure = self.upgrade_to(r)
            if failure is None:
                continue
            step = failure.step or failure.last_step
            if failure.phase == "env" or step is None:
                self.add(self.project.env_failure_finding(failure, "the data upgrade"))
                return
            f = step_failure_finding(
                "data-upgrade-failed", failure, self.project,
                extra_message=" on a database with rows in every table (%s)" % _rows_text(filled),
                help=_data_help(failure.exc, _statement(failure.exc)))
            if filler.notes:
                f["details"] = ((f["details"] or "") + "\n\nRows inserted before the upgrade: %s"
                                % ", ".join("%s: %d" % kv for kv in sorted(filled.items()))).strip()
            self.add(f)
            return

    def at_base_state(self):
        pass

    # -- project data tests ---------------------------------------------

    def data_tests(self, directory):
        testers = load_data_tests(directory, self.project)
        for f in testers.errors:
            self.add(f)
        if not testers.items:
            self.note("data tests: no UpgradeTester/DowngradeTester found in %s" % directory)
            return
        order = [s.revision for s in self.project.topo_order()]
        items = sorted(testers.items, key=lambda t: (order.index(t.revision) if t.revision in order else -1,
                                                     t.direction != "upgrade"))
        for t in items:
            if t.revision not in order:
                self.add(finding("data-test-failed",
                                 "data test %s is for revision %s, which is not in the migration files"
                                 % (t.label, t.revision), file=t.file, line=t.line, revision=t.revision,
                                 help="Fix the revision the test names."))
                continue
            self.reset()
            emit({"event": "step", "step": "data test", "revision": t.revision, "check": self.current_check})
            if t.direction in ("upgrade", "both"):
                failure = self.upgrade_to_parents(t.revision)
            else:
                failure = self.upgrade_to(t.revision)
            if failure is not None:
                self.add(self.project.env_failure_finding(failure, "preparing data test %s" % t.label))
                continue
            if not self.run_tester(t, "load_data"):
                continue
            steps = [(True, "check_upgrade")] if t.direction == "upgrade" else \
                [(False, "check_downgrade")] if t.direction == "downgrade" else \
                [(True, "check_upgrade"), (False, "check_downgrade")]
            for is_upgrade, check in steps:
                failure = self.single_step(t.revision, is_upgrade)
                if failure is not None:
                    self.add(step_failure_finding("data-test-failed", failure, self.project,
                                                  extra_message=" with the data of %s" % t.label))
                    break
                if not self.run_tester(t, check):
                    break

    def run_tester(self, t, method):
        engine = create_engine(self.project.sync_url)
        try:
            t.call(method, engine, self.project.config)
            return True
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as e:
            frames = _project_frames(e.__traceback__, self.project, only_file=t.file) or \
                _project_frames(e.__traceback__, self.project)
            file = os.path.abspath(frames[-1].filename) if frames else t.file
            line = frames[-1].lineno if frames else t.line
            what = "loading its data" if method == "load_data" else method.replace("_", " ")
            text = str(e).strip()
            if not text and isinstance(e, AssertionError) and frames and frames[-1].line:
                text = frames[-1].line.strip()
            text = text or type(e).__name__
            self.add(finding(
                "data-test-failed",
                "data test %s for revision %s failed while %s: %s%s" % (
                    t.label, t.revision, what,
                    "" if isinstance(e, AssertionError) else type(e).__name__ + ": ",
                    _first_line(text)),
                help="The project's own data test for this migration fails; see the assertion and its line.",
                file=file, line=line, revision=t.revision,
                details=("Traceback (project frames):\n" + _format_frames(frames) + "\n" + _exc_text(e))
                if frames else _exc_text(e)))
            return False
        finally:
            engine.dispose()


def _rows_text(filled):
    rows = sum(filled.values())
    tables = len([v for v in filled.values() if v])
    return "%d row%s in %d table%s" % (rows, "" if rows == 1 else "s", tables, "" if tables == 1 else "s")


def _data_help(exc, statement):
    text = (_exc_text(exc) + " " + (statement or "")).lower()
    if "unique" in text or "duplicate" in text:
        return ("The migration adds a unique constraint or index that the existing rows violate. Deduplicate "
                "or backfill distinct values in the migration before creating the constraint.")
    if "null" in text or "not null" in text or "default" in text:
        return ("A NOT NULL column added to a table that already has rows fails. Do it in steps: add the column "
                "nullable (or with a server_default), backfill it (op.execute(\"UPDATE ...\")), then "
                "op.alter_column(..., nullable=False).")
    if "foreign key" in text:
        return ("The migration adds a foreign key that existing rows violate: fix or delete the orphan rows "
                "in the migration first.")
    return ("The migration works on an empty database but fails on one with rows: make it handle existing "
            "data (backfill, convert, or clean up rows before changing the schema).")


# ---------------------------------------------------------------------------
# Rows for every table (data upgrade)
# ---------------------------------------------------------------------------


class DataFiller(object):
    ROWS = 3

    def __init__(self, conn, project, extra_schemas=()):
        self.conn = conn
        self.project = project
        self.extra_schemas = extra_schemas
        self.notes = []

    def _model_column(self, table, column):
        for md in self.project.target_metadatas():
            t = md.tables.get(table.key)
            if t is not None and column in t.c:
                return t.c[column]
        return None

    def fill(self):
        import sqlalchemy as sa

        vt_opts = self.project.context_opts or {}
        vt = vt_opts.get("version_table") or self.project.version_table
        md = sa.MetaData()
        try:
            for schema in _snapshot_schemas(self.conn, self.extra_schemas):
                md.reflect(bind=self.conn, schema=schema)
        except Exception as e:
            self.notes.append("could not reflect the tables (%s); no rows inserted" % _first_line(_exc_text(e)))
            _end(self.conn, ok=False)
            return {}
        _end(self.conn, ok=True)
        tables = [t for t in md.sorted_tables if t.name != vt]
        filled = {}
        for table in tables:
            try:
                n = self.fill_table(table)
            except Exception as e:
                _end(self.conn, ok=False)
                self.notes.append("table %s left empty: %s" % (table.key, _first_line(_exc_text(e))))
                n = 0
            filled[table.key] = n
        return filled

    def fill_table(self, table):
        import sqlalchemy as sa

        fk_values = {}
        for fk in table.foreign_key_constraints:
            ref = fk.referred_table
            cols = [e.column for e in fk.elements]
            local = [e.parent.name for e in fk.elements]
            if ref is table:
                fk_values[tuple(local)] = None  # self reference: NULL
                continue
            rows = self.conn.execute(
                sa.select(*cols).limit(self.ROWS)).fetchall()
            _end(self.conn, ok=True)
            fk_values[tuple(local)] = [tuple(r) for r in rows]
        inserted = 0
        for i in range(self.ROWS):
            row = {}
            for local, values in fk_values.items():
                if values is None or not values:
                    nullable = all(table.c[c].nullable for c in local)
                    if not nullable:
                        raise RuntimeError("foreign key (%s) needs rows in the referenced table" % ", ".join(local))
                    for c in local:
                        row[c] = None
                else:
                    for c, v in zip(local, values[i % len(values)]):
                        row[c] = v
            for col in table.columns:
                if col.name in row:
                    continue
                if col.server_default is not None or col.computed is not None or \
                        getattr(col, "identity", None) is not None:
                    continue
                if self._auto_pk(table, col):
                    continue
                v = self.value(table, col, i)
                if v is _SKIP:
                    if col.nullable:
                        row[col.name] = None
                        continue
                    raise RuntimeError("no value for column %s of type %s" % (col.name, col.type))
                row[col.name] = v
            try:
                self.conn.execute(table.insert().values(**row))
                _end(self.conn, ok=True)
            except Exception:
                _end(self.conn, ok=False)
                # Again with NULL wherever allowed (check constraints, odd types).
                row2 = {k: (None if table.c[k].nullable and k not in _fk_cols(table) else v)
                        for k, v in row.items()}
                self.conn.execute(table.insert().values(**row2))
                _end(self.conn, ok=True)
            inserted += 1
        return inserted

    def _auto_pk(self, table, col):
        import sqlalchemy as sa

        pk = list(table.primary_key.columns)
        if len(pk) != 1 or pk[0] is not col:
            return False
        if not isinstance(col.type, sa.Integer):
            return False
        if self.conn.dialect.name == "sqlite":
            return True
        return col.autoincrement in (True, "auto") or col.server_default is not None

    def value(self, table, col, i):
        import sqlalchemy as sa

        t = col.type
        model_col = self._model_column(table, col.name)
        if model_col is not None:
            mt = model_col.type
            if isinstance(mt, sa.types.TypeDecorator):
                mt = mt.impl
            if isinstance(mt, sa.Enum) and mt.enums:
                return mt.enums[i % len(mt.enums)]
        if isinstance(t, sa.types.TypeDecorator):
            t = t.impl
        if isinstance(t, sa.Enum) and t.enums:
            return t.enums[i % len(t.enums)]
        if isinstance(t, sa.Boolean):
            return i % 2 == 0
        if isinstance(t, sa.Integer):
            return i + 1
        if isinstance(t, sa.Numeric):
            return decimal.Decimal(i + 1) if getattr(t, "asdecimal", True) else float(i + 1)
        if isinstance(t, sa.DateTime):
            v = _dt.datetime(2024, 1, 1 + i, 12, 0, 0)
            return v.replace(tzinfo=_dt.timezone.utc) if getattr(t, "timezone", False) else v
        if isinstance(t, sa.Date):
            return _dt.date(2024, 1, 1 + i)
        if isinstance(t, sa.Time):
            return _dt.time(12, 0, i)
        if isinstance(t, sa.Interval):
            return _dt.timedelta(seconds=i + 1)
        if hasattr(sa, "Uuid") and isinstance(t, sa.Uuid) or type(t).__name__ in ("UUID", "Uuid"):
            u = uuid.UUID(int=i + 1)
            return u if getattr(t, "as_uuid", False) else str(u)
        if isinstance(t, sa.JSON) or type(t).__name__ in ("JSON", "JSONB"):
            return {"n": i}
        if isinstance(t, sa.ARRAY):
            return []
        if isinstance(t, sa.LargeBinary) or type(t).__name__ in ("BYTEA", "BLOB", "VARBINARY", "BINARY"):
            return bytes([65 + i])
        name = type(t).__name__.upper()
        if name in ("INET", "CIDR"):
            return "10.0.0.%d" % (i + 1)
        if name == "MACADDR":
            return "08:00:2b:01:02:%02d" % (i + 1)
        if name == "YEAR":
            return 2020 + i
        if isinstance(t, sa.String) or name in ("TEXT", "CITEXT", "SET"):
            length = getattr(t, "length", None)
            base = col.name
            s = "%s %d" % (base, i + 1)
            if length:
                suffix = str(i + 1)
                s = (base[:max(0, length - len(suffix))] + suffix)[:length]
            return s
        try:
            py = t.python_type
        except Exception:
            return _SKIP
        if py is str:
            return "%s %d" % (col.name, i + 1)
        if py is int:
            return i + 1
        if py is float:
            return float(i + 1)
        if py is bool:
            return i % 2 == 0
        return _SKIP


_SKIP = object()


def _fk_cols(table):
    out = set()
    for fk in table.foreign_key_constraints:
        for e in fk.elements:
            out.add(e.parent.name)
    return out


# ---------------------------------------------------------------------------
# Project data tests
# ---------------------------------------------------------------------------


class _Tester(object):
    def __init__(self, revision, direction, label, file, line, obj_factory, kind):
        self.revision = revision
        self.direction = direction   # "upgrade" or "downgrade"
        self.label = label
        self.file = file
        self.line = line
        self.factory = obj_factory
        self.kind = kind              # "class" or "functions"
        self._obj = None

    def call(self, method, engine, config):
        if self.kind == "functions":
            fn = self.factory(method)
            if fn is None:
                return
            return _call_flexible(fn, engine, config)
        if self._obj is None:
            self._obj = _construct(self.factory, engine, config)
        fn = getattr(self._obj, method, None)
        if fn is None:
            return
        return _call_flexible(fn, engine, config)


def _arg_for(name, engine, config, conn_holder):
    n = (name or "").lower()
    if "config" in n or n == "cfg":
        return config
    if n in ("conn", "connection", "connectable") or n.startswith("conn"):
        if conn_holder.get("conn") is None:
            conn_holder["conn"] = engine.connect()
        return conn_holder["conn"]
    return engine


def _call_flexible(fn, engine, config):
    try:
        params = [p for p in pyinspect.signature(fn).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty]
    except (TypeError, ValueError):
        params = []
    holder = {}
    try:
        args = [_arg_for(p.name, engine, config, holder) for p in params]
        result = fn(*args)
        conn = holder.get("conn")
        if conn is not None and conn.in_transaction():
            conn.commit()
        return result
    finally:
        if holder.get("conn") is not None:
            holder["conn"].close()


def _construct(cls, engine, config):
    try:
        params = [p for p in list(pyinspect.signature(cls).parameters.values())
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty]
    except (TypeError, ValueError):
        params = []
    holder = {}
    return cls(*[_arg_for(p.name, engine, config, holder) for p in params])


class _Testers(object):
    def __init__(self):
        self.items = []
        self.errors = []


def load_data_tests(directory, project):
    """Data tests in the styles projects use:

    - classes UpgradeTester / DowngradeTester (SecureDrop style), in modules named
      migration_<rev>.py or with a `revision` attribute on the class or the module;
      constructor with no arguments or one (config/engine/connection); methods
      load_data, check_upgrade / check_downgrade taking nothing, an engine or a connection;
    - module functions on_init / on_upgrade / on_downgrade with rev_base / rev_head
      (alembic-quickstart style): on_init runs before upgrading to rev_head, on_upgrade after;
      on_downgrade after downgrading it again.
    """
    out = _Testers()
    directory = os.path.abspath(directory)
    if not os.path.isdir(directory):
        out.errors.append(finding("project-error", "data tests folder %s does not exist" % directory,
                                  help="Fix data_tests in .alembot.yml."))
        return out
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".py") or name.startswith("_"):
            continue
        path = os.path.join(directory, name)
        try:
            mod = import_project_file(path, project)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as e:
            out.errors.append(project_error_finding("data test module %s cannot be imported" % name, e, project))
            continue
        m = re.match(r"(?:test_)?migration_(\w+)\.py$", name)
        file_rev = m.group(1) if m else None
        module_rev = getattr(mod, "revision", None) or getattr(mod, "rev_head", None) or file_rev
        found = False
        for cls_name, direction in (("UpgradeTester", "upgrade"), ("DowngradeTester", "downgrade")):
            cls = getattr(mod, cls_name, None)
            if cls is None or not isinstance(cls, type):
                continue
            rev = getattr(cls, "revision", None) or module_rev
            try:
                line = pyinspect.getsourcelines(cls)[1]
            except (OSError, TypeError):
                line = None
            if not rev:
                out.errors.append(finding("data-test-failed", "%s in %s names no revision" % (cls_name, name),
                                          file=path, line=line,
                                          help="Add `revision = \"<rev>\"` to the class or module, or name the "
                                               "file migration_<rev>.py."))
                continue
            out.items.append(_Tester(str(rev), direction, "%s.%s" % (name[:-3], cls_name), path, line, cls, "class"))
            found = True
        if not found and any(hasattr(mod, f) for f in ("on_init", "on_upgrade", "on_downgrade")):
            rev = module_rev
            if not rev:
                out.errors.append(finding("data-test-failed", "%s defines on_upgrade but no rev_head" % name,
                                          file=path, help="Add `rev_head = \"<rev>\"` to the module."))
                continue

            def factory(method, _mod=mod):
                mapping = {"load_data": "on_init", "check_upgrade": "on_upgrade",
                           "check_downgrade": "on_downgrade"}
                return getattr(_mod, mapping.get(method, method), None)
            out.items.append(_Tester(str(rev), "both", name[:-3], path, 1, factory, "functions"))
    return out


# ---------------------------------------------------------------------------
# status (read-only)
# ---------------------------------------------------------------------------

_READ_ONLY_SQL = {
    "postgresql": "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY",
    "mysql": "SET SESSION TRANSACTION READ ONLY",
    "mariadb": "SET SESSION TRANSACTION READ ONLY",
    "sqlite": "PRAGMA query_only = ON",
}


def install_read_only_guard(dialect_name):
    """Every DBAPI connection any engine in this process opens (ours, env.py's, async ones)
    is switched to read-only before first use."""
    from sqlalchemy import event
    from sqlalchemy.pool import Pool

    stmt = _READ_ONLY_SQL.get(dialect_name)
    if stmt is None:
        return None

    def on_connect(dbapi_conn, record):
        cur = dbapi_conn.cursor()
        try:
            cur.execute(stmt)
        finally:
            cur.close()
        with contextlib.suppress(Exception):
            dbapi_conn.commit()

    event.listen(Pool, "connect", on_connect)

    # Alembic creates the version table when it finds none, even for a comparison.
    from alembic.runtime.migration import MigrationContext

    MigrationContext._ensure_version_table = lambda self, purge=False: None
    return stmt


def install_throwaway_speedups(url):
    """The verify database is thrown away: skip the flushes to disk that make DDL slow.

    Applies to every connection this process opens to *that* database (ours and the
    ones env.py opens): SQLite `PRAGMA synchronous = OFF`, PostgreSQL
    `SET synchronous_commit TO off`. Connections to any other database are untouched."""
    from sqlalchemy import event
    from sqlalchemy.pool import Pool

    name = backend(url)
    if name == "sqlite":
        if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
            return
        target = os.path.realpath(url.database)

        def on_connect(dbapi_conn, record):
            cur = dbapi_conn.cursor()
            try:
                cur.execute("PRAGMA database_list")
                files = [os.path.realpath(r[2]) for r in cur.fetchall() if r[1] == "main" and r[2]]
                if target in files:
                    cur.execute("PRAGMA synchronous = OFF")
            finally:
                cur.close()
    elif name == "postgresql":
        target = url.database

        def on_connect(dbapi_conn, record):
            cur = dbapi_conn.cursor()
            try:
                cur.execute("SELECT current_database()")
                row = cur.fetchone()
                if row and row[0] == target:
                    cur.execute("SET synchronous_commit TO off")
            finally:
                cur.close()
            with contextlib.suppress(Exception):
                dbapi_conn.commit()
    else:
        return

    def guarded(dbapi_conn, record):
        try:
            on_connect(dbapi_conn, record)
        except Exception as e:  # never let a speed-up break a run
            log("could not apply the throwaway-database settings: %s" % _exc_text(e))
            with contextlib.suppress(Exception):
                dbapi_conn.rollback()

    event.listen(Pool, "connect", guarded)


def _sqlite_read_only_url(url):
    path = url.database
    if not path or path == ":memory:":
        raise Fatal("request", "status needs a SQLite database file, not an in-memory database")
    if path.startswith("file:"):
        return url
    if not os.path.isfile(path):
        raise Fatal("connection", "the SQLite database file %s does not exist" % path,
                    "Give the path of the database file to inspect.")
    q = dict(url.query)
    q.update({"mode": "ro", "uri": "true"})
    return url.set(database="file:%s" % os.path.abspath(path), query=q)


def read_version_table(conn, version_table, schema):
    import sqlalchemy as sa

    try:
        insp = sa.inspect(conn)
        exists = insp.has_table(version_table, schema=schema) if hasattr(insp, "has_table") else \
            version_table in insp.get_table_names(schema=schema)
        if not exists:
            return False, []
        t = sa.Table(version_table, sa.MetaData(), sa.Column("version_num", sa.String(32)), schema=schema)
        rows = conn.execute(sa.select(t.c.version_num)).fetchall()
        return True, [r[0] for r in rows]
    finally:
        _end(conn, ok=False)


def status_action(req, stack):
    """Read-only health check of a live database.

    Result: {"event": "result", "status": Status, "findings": [...], "versions": {...}, "timings": {...}}

    Status = {
      "database": "postgresql://app:***@db:5432/prod",   # redacted
      "dialect": "postgresql", "server_version": "15.4",
      "read_only": "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY",  # how it was enforced
      "version_table": "alembic_version",                 # schema-qualified when it has a schema
      "version_table_exists": true,
      "current": ["1e212bc13912"],   # revisions in the version table (empty: none)
      "heads": ["3b06dd20bf9d"],     # heads of the migration files
      "state": "up-to-date" | "behind" | "unknown-revision" | "no-version-table",
      "pending": ["d4a79e3aa5e2", ...],   # behind: revisions `upgrade heads` would apply, in order
      "unknown": ["deadbeef0000"],        # unknown-revision: revisions the files do not have
      "summary": "behind: 3 revisions to apply (d4a79e3aa5e2 ... 3b06dd20bf9d)",
      "drift": {"checked": true, "clean": false, "differences": 2,
                "reason": null,          # why not checked / caveat (e.g. database behind)
                "upgrade_code": "op.add_column(...)" | null},
      "findings": [Finding, ...]   # drift / possible-rename / project-error, as in verify
    }

    There is no "ahead" state: a database at a revision the files do not know is
    `unknown-revision` whether it comes from a newer deployment or another branch; the
    files alone cannot tell the two apart. A version table with no row is `behind`
    (every revision pending) when there are revisions.
    """
    t0 = time.perf_counter()
    url = resolve_sync_url(parse_url(req.get("database_url")))
    dialect_name = backend(url)
    conn_url = _sqlite_read_only_url(url) if dialect_name == "sqlite" else url
    guard = install_read_only_guard(dialect_name)
    engine = create_engine(conn_url)
    conn = connect_or_fatal(engine, url)
    timings = {}
    findings = []
    status = {
        "database": url_redacted(url),
        "dialect": conn.dialect.name,
        "server_version": ".".join(str(x) for x in (conn.dialect.server_version_info or ())) or None,
        "read_only": guard,
    }
    try:
        project = None
        try:
            project = Project(req, conn_url, read_only=True)
        except ProjectError as e:
            findings.append(e.finding)
        drift = {"checked": False, "clean": None, "differences": 0, "reason": None, "upgrade_code": None}
        mctx = ups = None
        if project is not None:
            t1 = time.perf_counter()
            emit({"event": "step", "step": "compare", "check": "status"})
            try:
                mctx, ups, downs = run_autogenerate(project, conn, rev_override=tuple(project.heads))
            except ProjectError as e:
                findings.append(e.finding)
                drift["reason"] = "env.py or the comparison failed (see the project-error finding)"
            timings["compare"] = round(time.perf_counter() - t1, 4)
        opts = (project.context_opts if project is not None else None) or {}
        vt = opts.get("version_table") or req.get("version_table") or "alembic_version"
        vts = opts.get("version_table_schema") or req.get("version_table_schema") or None
        exists, current = read_version_table(conn, vt, vts)
        status.update({"version_table": _q(vts, vt), "version_table_exists": exists, "current": current})
        heads = list(project.heads) if project is not None else []
        status["heads"] = heads
        pending, unknown = [], []
        if project is not None:
            for r in current:
                try:
                    if project.script.get_revision(r) is None:
                        unknown.append(r)
                except Exception:
                    unknown.append(r)
        if project is None:
            state = "unknown"
        elif not exists:
            state = "no-version-table"
        elif unknown:
            state = "unknown-revision"
        else:
            try:
                pending = [_step_rev(s) for s in project.script._upgrade_revs("heads", tuple(current))]
            except Exception as e:
                findings.append(finding("project-error", "cannot work out the revisions to apply: %s"
                                        % _first_line(_exc_text(e))))
            state = "behind" if pending else "up-to-date"
        status.update({"state": state, "pending": pending, "unknown": unknown})
        if state == "up-to-date":
            status["summary"] = "up to date at %s" % ", ".join(current)
        elif state == "behind":
            status["summary"] = "behind: %d revision%s to apply (%s)" % (
                len(pending), "" if len(pending) == 1 else "s",
                " ... ".join([pending[0], pending[-1]]) if len(pending) > 1 else pending[0])
        elif state == "unknown-revision":
            status["summary"] = ("the database is at %s, which the migration files do not have (a newer "
                                 "deployment, or a branch not merged here)" % ", ".join(unknown))
        elif state == "no-version-table":
            status["summary"] = "no version table `%s`: Alembic has never run on this database" % _q(vts, vt)
        else:
            status["summary"] = "the project cannot be loaded"
        if mctx is not None and project is not None:
            models = ModelIndex(project)
            found = drift_findings(project, mctx, ups, models)
            found.extend(enum_findings(conn, project, models, mctx, found))
            for f in found:
                if f["code"] == "drift":
                    f["message"] = _status_wording(f)
                    if state != "up-to-date":
                        # Not a missing migration yet: the files may already hold it.
                        f["help"] = _STATUS_NOT_AT_HEAD_HELP
            findings.extend(found)
            n = len([f for f in found if f["code"] == "drift"])
            drift.update({"checked": True, "clean": n == 0, "differences": n})
            if ups and any(u.ops for u in ups):
                drift["upgrade_code"] = "\n\n".join(_render(u, mctx, project.context_opts) for u in ups if u.ops)
            if state == "behind":
                drift["reason"] = ("the database is behind: the models describe head, so some differences "
                                   "are what the pending migrations do")
            elif state in ("unknown-revision", "no-version-table"):
                drift["reason"] = "the database's revision is unknown: compared with the models at head anyway"
        status["drift"] = drift
        status["findings"] = findings
    finally:
        _end(conn, ok=False)
        conn.close()
        engine.dispose()
    timings["total"] = round(time.perf_counter() - t0, 4)
    versions = dict(stack)
    versions["dialect"] = status["dialect"]
    versions["server"] = status["server_version"]
    return {"event": "result", "status": status, "findings": findings, "versions": versions, "timings": timings}


_STATUS_NOT_AT_HEAD_HELP = (
    "The database is not at the files' head, and the models describe head: apply the pending "
    "migrations (`alembic upgrade head`) and check again. A difference that remains is a schema "
    "change made by hand or a migration that is missing.")


def _status_wording(f):
    op = f.get("operation")
    t, c = f.get("table"), f.get("column")
    if op == "remove_column":
        return "column `%s.%s` is in the database but no model declares it (added by hand, or a model " \
               "field removed without a migration)" % (t, c)
    if op == "add_column":
        return "model field `%s.%s` has no column in the database (dropped by hand, or a migration not " \
               "applied)" % (t, c)
    if op == "remove_table":
        return "table `%s` is in the database but no model declares it" % t
    if op == "add_table":
        return "table `%s` that the models declare is not in the database" % t
    return f["message"]


# ---------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------


def probe_action(req, stack):
    return {"event": "result", "versions": stack, "python": sys.executable,
            "drivers": probe_drivers(), "protocol": HELPER_PROTOCOL}


KNOWN_CHECKS = ("upgrade", "drift", "roundtrip", "stairway", "data_upgrade", "data_tests", "unregistered")


def verify_action(req, stack, own=None):
    """With "server_url" and "name" instead of "database_url", create that
    database first and drop it at the end, in this process: two interpreter
    start-ups fewer than separate create-database and drop-database calls. The
    creation overlaps loading the project (`OwnDatabase`; main() starts it before
    importing Alembic). The caller still drops it if this process dies before
    (the "gone" event)."""
    if own is None:
        if not OwnDatabase.wanted(req):
            return _verify(req, stack)
        own = OwnDatabase(req)
        own.start()
    try:
        early = own.failed_early()
        if early is not None:
            raise early
        result = _verify(dict(req, database_url=own.database_url), stack, ready=own.wait)
    except BaseException as e:
        failure = own.abandon()
        # As when the database was created before anything else: its failure comes first.
        if failure is not None and failure is not e and not isinstance(e, KeyboardInterrupt):
            raise failure
        raise
    result["dropped_database"] = own.drop()
    return result


def _verify(req, stack, ready=None):
    """ready: called before the first connection (waits for the database to exist)."""
    t0 = time.perf_counter()
    checks = req.get("checks")
    if not isinstance(checks, dict):
        raise Fatal("request", "verify needs a \"checks\" object")
    unknown = sorted(set(checks) - set(KNOWN_CHECKS))
    if unknown:
        raise Fatal("request", "unknown check%s %s (known: %s)" % (
            "" if len(unknown) == 1 else "s", ", ".join(unknown), ", ".join(KNOWN_CHECKS)))
    url = resolve_sync_url(parse_url(req.get("database_url")))
    # What needs no database is done while it is created: loading the project (its
    # revision files), and importing the ORM (ModelIndex, always, needs it).
    try:
        project, load_error = Project(req, url), None
    except ProjectError as e:
        project, load_error = None, e.finding
    with contextlib.suppress(Exception):
        import sqlalchemy.orm  # noqa: F401
    gc.freeze()  # the revision files (see main())
    if ready is not None:
        ready()
    install_throwaway_speedups(url)
    engine = create_engine(url)
    conn = connect_or_fatal(engine, url)
    versions = dict(stack)
    versions["dialect"] = conn.dialect.name
    versions["server"] = ".".join(str(x) for x in (conn.dialect.server_version_info or ())) or None
    result = {"event": "result", "findings": [], "checks": [], "skipped": {}, "heads": [], "revisions": 0,
              "timings": {}, "versions": versions, "database": url_redacted(url), "drift": None, "notes": []}
    try:
        if load_error is not None:
            result["findings"].append(load_error)
            result["skipped"] = {k: "the project cannot be loaded" for k, v in checks.items() if v}
            return result
        result["heads"] = project.heads
        result["revisions"] = len(project.revisions)
        if project.is_async:
            result["notes"].append("env.py is asynchronous: it gets %s" % url_redacted(project.env_url))
        v, base = basestate.verifier(Verifier, req, project, engine, conn, checks, stack, versions)
        v.extra_schemas = tuple(sorted(set(
            s for s in [project.version_table_schema] if s)))
        findings = v.run()
        if base is not None:
            result["snapshot"] = base.outcome(v, findings)
        result.update({"findings": findings, "checks": v.ran, "timings": v.timings,
                       "drift": v.drift_code})
        result["skipped"].update(v.skipped)
        result["notes"].extend(v.notes)
    finally:
        with contextlib.suppress(Exception):
            _end(conn, ok=False)
            conn.close()
        engine.dispose()
    result["timings"]["total"] = round(time.perf_counter() - t0, 4)
    for f in result["findings"]:
        f.pop("check", None)
    return result




class basestate(object):
    pass

# ---- basestate (incr) ----
_BASESTATE_DOC = """Base states (issue 16): verify in time proportional to the change.

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


import base64
import datetime
import decimal
import json
import os
import shutil
import subprocess


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
            reason = static_irreversible(script)
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


for _n in ('verifier', 'Session', 'dump', 'restore', 'runtime'):
    setattr(basestate, _n, staticmethod(globals()[_n]) if False else globals()[_n])


ACTIONS = {
    "probe": probe_action,
    "create-database": lambda req, stack: create_database_action(req),
    "drop-database": lambda req, stack: drop_database_action(req),
    "verify": verify_action,
    "status": status_action,
}


def main():
    global CHANNEL
    # The garbage collector: this process lives seconds, but each full collection walks
    # every object SQLAlchemy, Alembic and the project allocated (150,000 on a
    # 200-revision project), and the interpreter's exit spends 0.1 s more on them.
    # Nothing is collected while importing; the long-lived objects are then frozen
    # (gc.freeze: left out of all later collections) after the imports and again once
    # the project is loaded, and everything is frozen before exit (end of this file).
    # Young collections run every 20,000 allocations instead of 700: the migrations
    # allocate a lot, and the cycles they leave are small.
    gc.disable()
    CHANNEL = Channel()
    try:
        raw = sys.stdin.read()
        try:
            req = json.loads(raw)
        except ValueError as e:
            raise Fatal("request", "the request on stdin is not JSON: %s" % e)
        if not isinstance(req, dict):
            raise Fatal("request", "the request must be a JSON object")
        action = req.get("action")
        if action not in ACTIONS:
            raise Fatal("request", "unknown action %r (expected one of %s)" % (action, ", ".join(sorted(ACTIONS))))
        own = None
        if action == "verify" and OwnDatabase.wanted(req):
            own = OwnDatabase(req)
            own.start_early()
        try:
            # verify's own database is created while SQLAlchemy and Alembic are imported
            # and the project loads.
            stack = load_stack(after_sqlalchemy=own.start if own is not None else None)
        except BaseException:
            if own is not None:
                own.abandon()
            raise
        gc.freeze()
        gc.set_threshold(20000, 10, 10)
        gc.enable()
        if own is not None:
            result = verify_action(req, stack, own)
        else:
            result = ACTIONS[action](req, stack)
        emit(result, keep=("secret_database_url",))
        return 0
    except Fatal as f:
        emit({"event": "fatal", "kind": f.kind, "message": f.message, "help": f.help})
        return 2
    except KeyboardInterrupt:
        emit({"event": "fatal", "kind": "internal", "message": "interrupted", "help": None})
        return 130
    except BaseException as e:  # a bug in this helper
        traceback.print_exc()
        emit({"event": "fatal", "kind": "internal",
              "message": "alembot's helper failed: %s" % _first_line(_exc_text(e)),
              "help": "This is a bug in alembot; the traceback is on stderr. Please report it."})
        return 3


if __name__ == "__main__":
    status = main()
    # The result is out: spare the exit's collections (see main()). atexit handlers and
    # finalizers still run; only reference cycles still in memory are left to the OS.
    gc.freeze()
    sys.exit(status)
