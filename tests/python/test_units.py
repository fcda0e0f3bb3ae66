"""Pure functions of the helper, imported directly (no database)."""

import importlib.util
import os
import tempfile
import textwrap
import unittest

from tests.python import harness as h

spec = importlib.util.spec_from_file_location("alembot_helper", h.HELPER)
helper = importlib.util.module_from_spec(spec)
spec.loader.exec_module(helper)


class Redaction(unittest.TestCase):
    def test_urls_lose_their_passwords(self):
        self.assertEqual(helper.redact("connect postgresql://app:s3cret@db:5432/prod failed"),
                         "connect postgresql://app:***@db:5432/prod failed")
        self.assertEqual(helper.redact("mysql+pymysql://root:p%40ss@h/x"), "mysql+pymysql://root:***@h/x")
        self.assertEqual(helper.redact("sqlite:////tmp/x.db"), "sqlite:////tmp/x.db")

    def test_known_secrets_are_removed_anywhere(self):
        helper._SECRETS.append("Sw0rdfish-42")
        try:
            self.assertEqual(helper.redact('password "Sw0rdfish-42" rejected'), 'password "***" rejected')
        finally:
            helper._SECRETS.remove("Sw0rdfish-42")


class EarlyConnectArgs(unittest.TestCase):
    """verify's own PostgreSQL database is created before SQLAlchemy is imported, with
    psycopg2 arguments read from the server URL: they must be SQLAlchemy's own."""

    def sqlalchemy_args(self, url):
        from sqlalchemy.dialects.postgresql.psycopg2 import PGDialect_psycopg2
        from sqlalchemy.engine import make_url

        cargs, cparams = PGDialect_psycopg2().create_connect_args(make_url(url).set(database="postgres"))
        self.assertEqual(list(cargs), [])
        cparams = dict(cparams)
        if "database" in cparams:  # SQLAlchemy 1.4: psycopg2's older name for dbname
            cparams["dbname"] = cparams.pop("database")
        return cparams

    def test_plain_postgresql_urls_get_sqlalchemys_arguments(self):
        for url in ("postgresql://postgres@127.0.0.1:5432/postgres", "postgresql+psycopg2://app:s3cret@db.example/app",
                    "postgresql://app:p:w@h:6543/x", "postgresql://u@[::1]:5433/db", "postgresql:///db",
                    "postgresql://u@/db", "postgresql://h"):
            args = helper._early_connect_args({"server_url": url, "name": "alembot_0123456789ab"})
            self.assertEqual(args, self.sqlalchemy_args(url), url)
        self.assertEqual(helper._early_connect_args({"server_url": "postgres://u@h/db", "name": "alembot_0123456789ab"}),
                         {"host": "h", "user": "u", "dbname": "postgres"})

    def test_anything_else_waits_for_sqlalchemy(self):
        name = "alembot_0123456789ab"
        for url in ("postgresql+pg8000://u@h/db", "postgresql+psycopg://u@h/db", "postgresql+asyncpg://u@h/db",
                    "postgresql://u@h/db?sslmode=require", "postgresql://u:p%40ss@h/db", "mysql://root@h/",
                    "sqlite:////tmp/x.db", "postgresql://u@h:port/db", "not a url", None):
            self.assertIsNone(helper._early_connect_args({"server_url": url, "name": name}), url)
        for bad in ("postgres", "alembot_ABCDEFGHIJKL", "alembot_0123456789ab; DROP", None):
            self.assertIsNone(helper._early_connect_args({"server_url": "postgresql://u@h/db", "name": bad}), bad)


class AsyncDetection(unittest.TestCase):
    def test_markers(self):
        self.assertTrue(helper._is_async_env("connectable = async_engine_from_config(cfg)"))
        self.assertTrue(helper._is_async_env("asyncio.run(main())"))
        self.assertTrue(helper._is_async_env("await connection.run_sync(do_run)"))
        self.assertFalse(helper._is_async_env("# asyncio.run would be nicer\nengine_from_config(cfg)"))


class Irreversible(unittest.TestCase):
    def script(self, body):
        d = tempfile.mkdtemp()
        path = os.path.join(d, "rev.py")
        with open(path, "w") as fh:
            fh.write(textwrap.dedent(body))

        class S(object):
            pass
        s = S()
        s.path = path
        s.module = None
        return s

    def test_empty_downgrades(self):
        self.assertEqual(helper.static_irreversible(self.script('def downgrade():\n    pass\n')),
                         "its downgrade() is empty")
        self.assertEqual(helper.static_irreversible(self.script('def downgrade():\n    """Nothing."""\n')),
                         "its downgrade() is empty")
        self.assertIsNone(helper.static_irreversible(self.script('def downgrade():\n    op.drop_table("x")\n')))
        self.assertIsNone(helper.static_irreversible(
            self.script('def downgrade():\n    raise NotImplementedError("no")\n')))


class ErrorParsing(unittest.TestCase):
    def check(self, text, statement, expected):
        class E(Exception):
            pass
        self.assertEqual(helper._table_column_from_error(E(text), statement), expected)

    def test_postgresql_not_null(self):
        self.check('column "age" of relation "users" contains null values',
                   "ALTER TABLE users ADD COLUMN age INTEGER NOT NULL", ("users", "age"))

    def test_sqlite_not_null(self):
        self.check("NOT NULL constraint failed: users.age", "INSERT INTO _alembic_tmp_users ...", ("users", "age"))

    def test_from_the_statement(self):
        self.check("Cannot add a NOT NULL column with default value NULL",
                   "ALTER TABLE users ADD COLUMN age INTEGER NOT NULL", ("users", "age"))
        self.check("could not create unique index", 'CREATE UNIQUE INDEX ix_u ON "users" (email)', ("users", "email"))


class Snapshots(unittest.TestCase):
    def test_a_left_table_hides_its_columns(self):
        O = helper.Obj
        before = {}
        after = {
            ("table", None, "tag"): O(("table", None, "tag"), "table `tag`", "table"),
            ("column", None, "tag", "id"): O(("column", None, "tag", "id"), "column `tag.id`", "INTEGER", "tag"),
            ("enum", None, "poststatus"): O(("enum", None, "poststatus"), "PostgreSQL enum type `poststatus`", "a"),
        }
        diff = helper.SnapshotDiff(before, after)
        self.assertEqual(diff.describe(), "left table `tag`, PostgreSQL enum type `poststatus`")
        self.assertEqual(diff.first_table_column(), ("tag", None))


if __name__ == "__main__":
    unittest.main()
