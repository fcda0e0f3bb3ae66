#!/usr/bin/env python3
"""Generate an Alembic project with N revisions whose models match head.

    python benches/gen_project.py --revisions 200 /tmp/bench-200

The project (alembic.ini, migrations/env.py as `alembic init` writes it reading
DATABASE_URL, migrations/versions/*.py, app/models.py) is deterministic for a
given N and clean on SQLite, PostgreSQL and MySQL/MariaDB: `alembic upgrade head
&& alembic check` reports nothing, and every downgrade undoes its upgrade.
The revisions cycle through four kinds of change, like a real history:
create a table (with a foreign key to the previous one), add a nullable column,
index that column, add a NOT NULL column with a server default.
Standard library only; the generated project needs SQLAlchemy 1.4+ and Alembic 1.8+.
"""

import argparse
import hashlib
import os
import shutil
import sys

INI = """\
[alembic]
script_location = %(here)s/migrations
prepend_sys_path = .
sqlalchemy.url = sqlite:///bench.db

[loggers]
keys = root,sqlalchemy,alembic

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARNING
handlers = console
qualname =

[logger_sqlalchemy]
level = WARNING
handlers =
qualname = sqlalchemy.engine

[logger_alembic]
level = WARNING
handlers =
qualname = alembic

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %(levelname)-5.5s [%(name)s] %(message)s
"""

ENV = '''\
import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy import engine_from_config, pool

from app.models import Base

config = context.config

if config.config_file_name is not None:
    fileConfig(config.config_file_name)

if os.environ.get("DATABASE_URL"):
    config.set_main_option("sqlalchemy.url", os.environ["DATABASE_URL"].replace("%", "%%"))

target_metadata = Base.metadata


def run_migrations_offline():
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    connectable = engine_from_config(
        config.get_section(config.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
'''

REVISION = '''\
"""{message}

Revision ID: {rev}
Revises: {down_doc}
Create Date: 2025-01-01 00:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "{rev}"
down_revision = {down}
branch_labels = None
depends_on = None


def upgrade():
{upgrade}


def downgrade():
{downgrade}
'''


def rev_id(n):
    return hashlib.sha1(("alembot-bench-%d" % n).encode()).hexdigest()[:12]


def plan(n):
    """[(message, upgrade_lines, downgrade_lines)], and the final tables for the models."""
    revisions = []
    tables = []  # [{"name", "parent", "columns": [(name, kind)], "indexed": set()}]
    for i in range(n):
        kind = i % 4 if tables else 0
        if kind == 0:
            name = "t%04d" % (len(tables) + 1)
            parent = tables[-1]["name"] if tables else None
            up = [
                "op.create_table(",
                '    "%s",' % name,
                '    sa.Column("id", sa.Integer(), nullable=False),',
                '    sa.Column("name", sa.String(length=100), nullable=False),',
                '    sa.Column("created_at", sa.DateTime(), nullable=True),',
            ]
            if parent:
                up.append('    sa.Column("parent_id", sa.Integer(), nullable=True),')
                up.append('    sa.ForeignKeyConstraint(["parent_id"], ["%s.id"]),' % parent)
            up.append('    sa.PrimaryKeyConstraint("id"),')
            up.append(")")
            tables.append({"name": name, "parent": parent, "columns": [], "indexed": set()})
            revisions.append(("create %s" % name, up, ['op.drop_table("%s")' % name]))
        elif kind == 1:
            t = tables[-1]
            col = "c%04d" % i
            t["columns"].append((col, "int"))
            revisions.append(("add %s.%s" % (t["name"], col),
                              ['op.add_column("%s", sa.Column("%s", sa.Integer(), nullable=True))' % (t["name"], col)],
                              ['op.drop_column("%s", "%s")' % (t["name"], col)]))
        elif kind == 2:
            t = tables[-1]
            col = t["columns"][-1][0]
            ix = "ix_%s_%s" % (t["name"], col)
            t["indexed"].add(col)
            revisions.append(("index %s.%s" % (t["name"], col),
                              ['op.create_index("%s", "%s", ["%s"])' % (ix, t["name"], col)],
                              ['op.drop_index("%s", table_name="%s")' % (ix, t["name"])]))
        else:
            t = tables[-1]
            col = "s%04d" % i
            t["columns"].append((col, "str"))
            revisions.append((
                "add %s.%s with a default" % (t["name"], col),
                ['op.add_column("%s", sa.Column("%s", sa.String(length=20), nullable=False, '
                 'server_default="x"))' % (t["name"], col)],
                ['op.drop_column("%s", "%s")' % (t["name"], col)]))
    return revisions, tables


def models(tables):
    out = [
        '"""Models matching the head of the generated migrations."""',
        "from sqlalchemy import Column, DateTime, ForeignKey, Integer, String",
        "from sqlalchemy.orm import declarative_base",
        "",
        "Base = declarative_base()",
    ]
    for t in tables:
        out += ["", "", "class %s(Base):" % t["name"].capitalize(), '    __tablename__ = "%s"' % t["name"], "",
                "    id = Column(Integer, primary_key=True)",
                "    name = Column(String(100), nullable=False)",
                "    created_at = Column(DateTime)"]
        if t["parent"]:
            out.append('    parent_id = Column(Integer, ForeignKey("%s.id"))' % t["parent"])
        for col, kind in t["columns"]:
            index = ", index=True" if col in t["indexed"] else ""
            if kind == "int":
                out.append("    %s = Column(Integer%s)" % (col, index))
            else:
                out.append('    %s = Column(String(20), nullable=False, server_default="x"%s)' % (col, index))
    return "\n".join(out) + "\n"


def generate(directory, n, force=False):
    if os.path.exists(directory):
        if not force and os.listdir(directory):
            raise SystemExit("%s exists and is not empty (use --force)" % directory)
        shutil.rmtree(directory)
    versions = os.path.join(directory, "migrations", "versions")
    os.makedirs(versions)
    os.makedirs(os.path.join(directory, "app"))
    with open(os.path.join(directory, "alembic.ini"), "w") as fh:
        fh.write(INI)
    with open(os.path.join(directory, "migrations", "env.py"), "w") as fh:
        fh.write(ENV)
    with open(os.path.join(directory, "app", "__init__.py"), "w") as fh:
        fh.write("")
    revisions, tables = plan(n)
    down = None
    for i, (message, up, dn) in enumerate(revisions):
        rev = rev_id(i)
        text = REVISION.format(
            message=message, rev=rev, down_doc=down or "", down='"%s"' % down if down else "None",
            upgrade="\n".join("    " + line for line in up), downgrade="\n".join("    " + line for line in dn))
        with open(os.path.join(versions, "%04d_%s.py" % (i + 1, rev)), "w") as fh:
            fh.write(text)
        down = rev
    with open(os.path.join(directory, "app", "models.py"), "w") as fh:
        fh.write(models(tables))
    return [rev_id(i) for i in range(n)]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("directory")
    p.add_argument("--revisions", "-n", type=int, default=200)
    p.add_argument("--force", action="store_true", help="replace the directory if it exists")
    args = p.parse_args(argv)
    if args.revisions < 1:
        p.error("--revisions must be at least 1")
    revs = generate(args.directory, args.revisions, args.force)
    print("%d revisions in %s (head %s)" % (len(revs), args.directory, revs[-1]))


if __name__ == "__main__":
    sys.exit(main())
