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
