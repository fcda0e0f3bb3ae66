#!/usr/bin/env bash
# Benchmark of `alembot verify` against the same work done with separate
# `alembic` commands, on the same database provider (issue 5, "Speed").
#
#  1. Upgrade, drift and the full round trip on a generated project of
#     REVISIONS revisions (benches/gen_project.py: clean, every downgrade
#     exact):
#       alembot verify --all --checks upgrade,drift,roundtrip --database P
#     against the four commands a CI script runs for the same checks:
#       alembic upgrade head && alembic check && alembic downgrade base && alembic upgrade head
#     Target: alembot at most 0.5x the alembic commands' time.
#  2. The stairway over STAIRWAY revisions (each revision up, down to its
#     parent, up again; alembot also snapshots and compares the schema at
#     every step, the commands compare nothing):
#       alembot verify --all --checks stairway --database P
#     against, for each revision: alembic upgrade +1; alembic downgrade -1; alembic upgrade +1
#     Target: alembot at least 5x faster.
#
# Every run starts from an empty database. alembot's time includes creating
# and dropping its own throwaway database (SQLite file, or `alembot_*` on the
# server). The alembic side gets its empty database from an untimed prepare
# step, so the comparison favours alembic.
#
# The first comparison runs in interleaved rounds (alembot, then the alembic
# commands, then the floor), so that a machine or server whose speed drifts
# during the benchmark (a shared VM's disk) affects both sides alike; it
# reports the medians and the median of the per-round ratios. The floor is
# the same three passes' SQL (Alembic's own offline `--sql` output for
# `upgrade head`, `downgrade head:base`, `upgrade head`) replayed with the
# server's client (psql, mysql; Python's sqlite3 for SQLite): the database's
# own time for the statements, which both sides pay and no tool can remove.
#
# Usage: benches/verify.sh [PROVIDERS] [REVISIONS] [STAIRWAY]
#   PROVIDERS  comma-separated, default sqlite,postgresql:
#              sqlite; postgresql (server $ALEMBOT_BENCH_POSTGRES_URL, default
#              postgresql://postgres@127.0.0.1:5432/postgres); mysql (server
#              $ALEMBOT_BENCH_MYSQL_URL, default mysql://root@127.0.0.1:3306/)
#   REVISIONS  default 200          STAIRWAY  default 50
# Environment: RUNS (rounds of the first comparison and timed runs of the
#   alembot stairway, default 5), SLOW_RUNS
#   (of the per-step alembic stairway, ~3 commands per revision, default 1),
#   ALEMBOT_BIN (a built binary; default: cargo build --release),
#   PYTHON (the project's interpreter; default: scripts/setup-python's venv),
#   TIMER=python (use the Python timer even when hyperfine is installed).
# Timing: hyperfine when installed (medians; `apt-get install hyperfine`),
#   else a small Python timer with the same prepare/median logic.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
providers=${1:-sqlite,postgresql}
revisions=${2:-200}
stairway=${3:-50}
runs=${RUNS:-5}
slow_runs=${SLOW_RUNS:-1}
pg_server=${ALEMBOT_BENCH_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/postgres}
my_server=${ALEMBOT_BENCH_MYSQL_URL:-mysql://root@127.0.0.1:3306/}

python=${PYTHON:-$("$here/scripts/setup-python" | tail -n1)}
if [[ -n "${ALEMBOT_BIN:-}" ]]; then
  bin=$ALEMBOT_BIN
else
  cargo build --release --quiet --manifest-path "$here/Cargo.toml"
  bin="$here/target/release/alembot"
fi
alembic=$(dirname "$python")/alembic
[[ -x "$alembic" ]] || alembic="$python -m alembic"

work=$(mktemp -d "${TMPDIR:-/tmp}/alembot-bench-XXXXXX")
servers=()
finish() {
  # The alembic side's database, on every server used, also after a failure.
  for server in "${servers[@]}"; do
    "$python" "$work/admin.py" drop "$server" "abbench_$$" >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}
trap finish EXIT
"$python" "$here/benches/gen_project.py" --revisions "$revisions" "$work/p$revisions" >/dev/null
"$python" "$here/benches/gen_project.py" --revisions "$stairway" "$work/p$stairway" >/dev/null

# A database for the alembic commands, emptied before each run (untimed).
admin="$work/admin.py"
cat >"$admin" <<'PY'
import sys
import sqlalchemy as sa
action, server, name = sys.argv[1:4]
if server.startswith("mysql://"):
    server = "mysql+pymysql://" + server[len("mysql://"):]
engine = sa.create_engine(server, isolation_level="AUTOCOMMIT")
with engine.connect() as conn:
    q = '"' if engine.dialect.name == "postgresql" else "`"
    conn.exec_driver_sql("DROP DATABASE IF EXISTS %s%s%s" % (q, name, q))
    if action == "reset":
        conn.exec_driver_sql("CREATE DATABASE %s%s%s" % (q, name, q))
print(engine.url.set(database=name).render_as_string(hide_password=False))
PY

# The floor: the three passes' SQL, written by Alembic itself (offline mode),
# replayed with the server's client. Prints the seconds the replay took.
floor="$work/floor.py"
cat >"$floor" <<'PY'
import os, re, sqlite3, subprocess, sys, time
from sqlalchemy.engine import make_url
url, project, alembic, sql_dir = make_url(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
if not os.path.isdir(sql_dir):
    os.mkdir(sql_dir)
    env = dict(os.environ, DATABASE_URL=url.render_as_string(hide_password=False))
    def offline(*args):
        out = subprocess.run(alembic.split() + list(args) + ["--sql"], cwd=project, env=env, check=True,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout.decode()
        return out
    up = offline("upgrade", "head")
    # The second upgrade finds the version table in place (a downgrade leaves it).
    again = re.sub(r"CREATE TABLE alembic_version \(.*?\);\n", "", up, count=1, flags=re.S)
    assert again != up, "no CREATE TABLE alembic_version in the offline upgrade"
    for name, text in (("1-up.sql", up), ("2-down.sql", offline("downgrade", "head:base")), ("3-up.sql", again)):
        with open(os.path.join(sql_dir, name), "w") as fh:
            fh.write(text)
files = [os.path.join(sql_dir, n) for n in ("1-up.sql", "2-down.sql", "3-up.sql")]
backend = url.get_backend_name()
if backend == "sqlite":
    t0 = time.perf_counter()
    conn = sqlite3.connect(url.database, isolation_level=None)
    for f in files:
        conn.executescript(open(f).read())
    conn.close()
    print("%.3f" % (time.perf_counter() - t0))
    sys.exit(0)
if backend == "postgresql":
    argv = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", url.host or "localhost", "-p", str(url.port or 5432),
            "-U", url.username or os.environ.get("USER", "postgres"), "-d", url.database]
    argv += [a for f in files for a in ("-f", f)]
    env = dict(os.environ, PGPASSWORD=url.password or "")
    stdin = None
else:
    argv = ["mysql", "-h", url.host or "localhost", "-P", str(url.port or 3306), "-u", url.username or "root",
            url.database]
    env = dict(os.environ, MYSQL_PWD=url.password or "")
    stdin = "".join(open(f).read() for f in files).encode()
t0 = time.perf_counter()
subprocess.run(argv, input=stdin, env=env, check=True, stdout=subprocess.DEVNULL)
print("%.3f" % (time.perf_counter() - t0))
PY

# rounds PREPARE VERIFY CLI FLOOR N: N interleaved rounds (after one untimed
# warm-up round) of VERIFY, then PREPARE + CLI, then PREPARE + FLOOR (FLOOR
# prints its own time, or is empty to skip). Prints the medians of the three
# times, the median per-round ratio and the lowest and highest ratio.
rounds() {
  "$python" - "$@" <<'PY'
import statistics, subprocess, sys, time
prepare, verify, cli, floor, n = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
def timed(command):
    t0 = time.perf_counter()
    subprocess.run(command, shell=True, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0
a, b, f = [], [], []
for i in range(n + 1):
    ta = timed(verify)
    subprocess.run(prepare, shell=True, check=True)
    tb = timed(cli)
    tf = 0.0
    if floor:
        subprocess.run(prepare, shell=True, check=True)
        tf = float(subprocess.run(floor, shell=True, check=True, stdout=subprocess.PIPE).stdout)
    if i:
        a.append(ta), b.append(tb), f.append(tf)
ratios = [x / y for x, y in zip(a, b)]
m = statistics.median
print("%.3f %.3f %.3f %.3f %.3f %.3f" % (m(a), m(b), m(f), m(ratios), min(ratios), max(ratios)))
PY
}

# time NAME PREPARE COMMAND RUNS [WARMUP]: the median wall time of COMMAND in
# seconds, PREPARE run (untimed) before each run.
time_median() {
  local name=$1 prepare=$2 command=$3 n=$4 warmup=${5:-1}
  if [[ "${TIMER:-}" != python ]] && command -v hyperfine >/dev/null; then
    hyperfine --style none --warmup "$warmup" --runs "$n" --prepare "$prepare" \
      --export-json "$work/$name.json" "$command" >/dev/null 2>&1
    "$python" -c 'import json,sys; print("%.3f" % json.load(open(sys.argv[1]))["results"][0]["median"])' \
      "$work/$name.json"
  else
    "$python" - "$prepare" "$command" "$n" <<'PY'
import statistics, subprocess, sys, time
prepare, command, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
times = []
for _ in range(n):
    subprocess.run(prepare, shell=True, check=True)
    t0 = time.perf_counter()
    subprocess.run(command, shell=True, check=True, stdout=subprocess.DEVNULL)
    times.append(time.perf_counter() - t0)
print("%.3f" % statistics.median(times))
PY
  fi
}

echo "alembot: $bin"
echo "python:  $python ($("$python" -c 'import sqlalchemy, alembic; print("SQLAlchemy", sqlalchemy.__version__, "Alembic", alembic.__version__)'))"
if [[ "${TIMER:-}" != python ]] && command -v hyperfine >/dev/null; then timer=$(hyperfine --version); else timer=python; fi
echo "timer:   $timer; runs: $runs (alembic stairway: $slow_runs)"
echo "load:    $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || uptime)"

IFS=, read -ra list <<<"$providers"
for provider in "${list[@]}"; do
  case "$provider" in
    sqlite)
      database=sqlite
      url="sqlite:///$work/alembic.db"
      prepare="rm -f '$work/alembic.db'"
      ;;
    postgresql)
      database=$pg_server
      servers+=("$pg_server")
      url=$("$python" "$admin" reset "$pg_server" "abbench_$$")
      prepare="'$python' '$admin' reset '$pg_server' abbench_$$ >/dev/null"
      ;;
    mysql)
      database=$my_server
      servers+=("$my_server")
      url=$("$python" "$admin" reset "$my_server" "abbench_$$")
      prepare="'$python' '$admin' reset '$my_server' abbench_$$ >/dev/null"
      ;;
    *) echo "unknown provider $provider (sqlite, postgresql, mysql)" >&2; exit 2 ;;
  esac
  big="$work/p$revisions"
  small="$work/p$stairway"
  verify="cd '$big' && '$bin' verify --all --checks upgrade,drift,roundtrip --database '$database' --python '$python' >/dev/null"
  cli="cd '$big' && export DATABASE_URL='$url' && $alembic upgrade head 2>/dev/null && $alembic check >/dev/null 2>&1 && $alembic downgrade base 2>/dev/null && $alembic upgrade head 2>/dev/null"
  stair="cd '$small' && '$bin' verify --all --checks stairway --database '$database' --python '$python' >/dev/null"
  stair_cli="cd '$small' && export DATABASE_URL='$url' && for i in \$(seq $stairway); do $alembic upgrade +1 2>/dev/null && $alembic downgrade -1 2>/dev/null && $alembic upgrade +1 2>/dev/null || exit 1; done"
  # Both sides must succeed (a clean project: alembot exits 0).
  eval "$prepare"; (eval "$verify"); (eval "$cli")
  floor_cmd="'$python' '$floor' '$url' '$big' '$alembic' '$work/floor-$provider'"
  read -r a b f r rmin rmax < <(rounds "$prepare" "$verify" "$cli" "$floor_cmd" "$runs")
  c=$(time_median "stair-$provider" "true" "$stair" "$runs")
  d=$(time_median "stair-cli-$provider" "$prepare" "$stair_cli" "$slow_runs" 0)
  "$python" - "$provider" "$revisions" "$stairway" "$runs" "$a" "$b" "$f" "$r" "$rmin" "$rmax" "$c" "$d" <<'PY'
import sys
provider, revisions, stairway, runs = sys.argv[1:5]
a, b, f, r, rmin, rmax, c, d = map(float, sys.argv[5:13])
print("\n[%s]" % provider)
print("  upgrade+drift+round trip, %s revisions (%s rounds): alembot %.2f s, 4 alembic commands %.2f s: "
      "%.2fx (rounds %.2fx to %.2fx) (target <= 0.5x) %s"
      % (revisions, runs, a, b, r, rmin, rmax, "ok" if r <= 0.5 else "MISSED"))
if provider == "sqlite":
    # alembot's throwaway file skips SQLite's flushes (synchronous = OFF); the replay,
    # like the alembic commands, does not: this is the commands' floor only.
    print("    floor: the same SQL replayed with Python's sqlite3 %.2f s = %.2fx of the alembic commands "
          "(alembot's throwaway file skips the flushes: its own floor is lower)" % (f, f / b))
else:
    # a <= 0.5 b  <=>  (a - f) <= ((b - f) - f) / 2: what alembot's own work may take.
    print("    floor: the same SQL replayed with the database's client %.2f s = %.2fx of the alembic commands; "
          "beyond it alembot %.2f s, the commands %.2f s; 0.5x needs alembot's share <= %.2f s"
          % (f, f / b, a - f, b - f, max(0.0, (b - 2 * f) / 2)))
print("  stairway, %s revisions: alembot %.2f s, %d alembic commands %.2f s: %.1fx faster (target >= 5x) %s"
      % (stairway, c, 3 * int(stairway), d, d / c, "ok" if d / c >= 5 else "MISSED"))
PY
done
