"""Base states (issue 16): the Python side of a snapshot's key, and dumps that
restore to the same schema on every backend."""

import os
import tempfile
import unittest

from tests.python import harness as h


class FakeDialect(object):
    def __init__(self, name="sqlite", driver="pysqlite"):
        import sqlite3

        self.name = name
        self.driver = driver
        self.dbapi = sqlite3


class FakeConn(object):
    def __init__(self, **kw):
        self.dialect = FakeDialect(**kw)


class FakeProject(object):
    root = "/p"
    revisions = ()


VERSIONS = {"python": "3.12.1", "sqlalchemy": "2.0.36", "alembic": "1.14.0", "server": "3.45.0"}
CHECKS = {"upgrade": True, "drift": True, "roundtrip": True}


class RuntimeKey(unittest.TestCase):
    """The part of the key only the project's Python knows: each input, changed
    alone, makes a stored snapshot a miss that names it."""

    def session(self, stored_runtime, versions=VERSIONS, conn=None, verified=("upgrade", "roundtrip")):
        b = h.helper_module("basestate")
        conn = conn or FakeConn()
        req = {"key": "k", "save_to": "/nonexistent", "revisions": ["b"], "base_heads": ["a"],
               "restore": {"path": "/nonexistent", "kind": "sqlite", "runtime": stored_runtime,
                           "heads": ["a"], "verified": list(verified), "findings": []}}
        return b.Session(req, FakeProject(), conn, versions, CHECKS)

    def stored(self):
        return h.helper_module("basestate").runtime(FakeConn(), VERSIONS)

    def test_the_same_runtime_is_a_hit(self):
        s = self.session(self.stored())
        self.assertIsNotNone(s.hit)
        self.assertIsNone(s.reason)

    def test_each_runtime_input_is_part_of_the_key(self):
        for key, value in (("python", "3.13.0"), ("sqlalchemy", "2.1.0"), ("alembic", "1.15.0"),
                           ("server", "3.46.0")):
            with self.subTest(key):
                s = self.session(self.stored(), versions=dict(VERSIONS, **{key: value}))
                self.assertIsNone(s.hit)
                self.assertIn(key, s.reason)
        with self.subTest("dialect"):
            s = self.session(self.stored(), conn=FakeConn(name="postgresql"))
            self.assertIsNone(s.hit)
            self.assertIn("dialect", s.reason)
        with self.subTest("driver"):
            s = self.session(self.stored(), conn=FakeConn(driver="other"))
            self.assertIsNone(s.hit)
            self.assertIn("driver", s.reason)

    def test_a_snapshot_without_the_round_trip_does_not_vouch_for_it(self):
        s = self.session(self.stored(), verified=("upgrade",))
        self.assertIsNone(s.hit)
        self.assertIn("roundtrip", s.reason)


class DumpAndRestore(unittest.TestCase):
    """A dump restored into an emptied database gives back the schema, the seeded
    rows and the version table, on every backend."""

    SETUP = [
        "CREATE TABLE parent (id INTEGER PRIMARY KEY, name VARCHAR(20) NOT NULL UNIQUE)",
        "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id))",
        "CREATE INDEX ix_child_parent ON child (parent_id)",
        "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)",
        "INSERT INTO alembic_version VALUES ('abc123')",
        "INSERT INTO parent VALUES (1, 'seed')",
    ]

    def test_dump_and_restore(self):
        import sqlalchemy as sa

        b = h.helper_module("basestate")
        snapshots = h.helper_module("snapshots")
        for backend in h.backends():
            with self.subTest(backend), h.throwaway_database(backend) as url:
                engine = sa.create_engine(url)
                try:
                    with engine.connect() as conn:
                        for statement in self.SETUP:
                            conn.exec_driver_sql(statement)
                        conn.commit()
                        before = snapshots.snapshot(conn)
                        with tempfile.TemporaryDirectory() as tmp:
                            path = os.path.join(tmp, "dump")
                            kind = b.dump(conn, path)
                            h.helper_module("dbadmin").empty_database(conn)
                            b.restore(conn, path, kind)
                        after = snapshots.snapshot(conn)
                        self.assertFalse(snapshots.SnapshotDiff(before, after), backend)
                        self.assertEqual(conn.exec_driver_sql(
                            "SELECT version_num FROM alembic_version").fetchall(), [("abc123",)])
                        self.assertEqual(conn.exec_driver_sql("SELECT id, name FROM parent").fetchall(),
                                         [(1, "seed")])
                        conn.commit()
                finally:
                    engine.dispose()


if __name__ == "__main__":
    unittest.main()
