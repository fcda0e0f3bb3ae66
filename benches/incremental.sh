#!/usr/bin/env bash
# Benchmark of incremental verify (issue 16): a pull request that adds one
# revision with one column to a history of REVISIONS revisions
# (benches/gen_project.py), checked with
#   alembot verify --base main --head feature --database P
# in interleaved rounds (as benches/verify.sh does), each round timing:
#   warm    the run above with the base snapshot in .git/alembot/snapshots
#           (made by the untimed warm-up round);
#   cold    the same with the snapshot store removed first: the whole
#           history replayed, and its base state dumped and saved;
#   today   the same with --no-cache: the whole history replayed, nothing
#           saved (what verify did before snapshots);
#   alembic the four commands a CI script runs on the feature branch:
#           alembic upgrade head && alembic check && alembic downgrade base && alembic upgrade head
#   floor   what any tool must do to check the change once the base state
#           exists: from a database already at the base head (untimed
#           prepare), `alembic upgrade head && alembic check` (the new
#           revision's DDL, the imports, the drift comparison).
# Targets: warm <= 0.15x the alembic commands; warm at 1,000 revisions
# <= 1.3x warm at 200; cold <= 1.05x today.
#
# Usage: benches/incremental.sh [PROVIDERS] [SIZES]
#   PROVIDERS  default sqlite,postgresql,mysql (servers as in benches/verify.sh:
#              $ALEMBOT_BENCH_POSTGRES_URL, $ALEMBOT_BENCH_MYSQL_URL)
#   SIZES      default 200,1000
# Environment: RUNS (rounds, default 3), ALEMBOT_BIN (default: cargo build
#   --release), PYTHON (default: scripts/setup-python's venv).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
providers=${1:-sqlite,postgresql,mysql}
sizes=${2:-200,1000}
runs=${RUNS:-3}
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

work=$(mktemp -d "${TMPDIR:-/tmp}/alembot-incr-XXXXXX")
servers=()
finish() {
  for server in "${servers[@]}"; do
    "$python" "$work/admin.py" drop "$server" "abincr_$$" >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}
trap finish EXIT

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

# A git repository: the generated history on main, one revision adding one
# column (and the model's column) on feature, checked out.
make_repo() {
  local n=$1 dir=$2
  "$python" "$here/benches/gen_project.py" --revisions "$n" "$dir" >/dev/null
  git -C "$dir" init -q -b main
  git -C "$dir" -c user.name=bench -c user.email=bench@example.com add -A
  git -C "$dir" -c user.name=bench -c user.email=bench@example.com commit -qm base
  git -C "$dir" checkout -qb feature
  "$python" - "$dir" <<'PY'
import glob, os, re, sys
d = sys.argv[1]
files = sorted(glob.glob(os.path.join(d, "migrations", "versions", "*.py")))
head = re.search(r'^revision = "(\w+)"', open(files[-1]).read(), re.M).group(1)
with open(os.path.join(d, "migrations", "versions", "%04d_feature.py" % (len(files) + 1)), "w") as fh:
    fh.write('''"""add t0001.bench_extra

Revision ID: feature0001
Revises: %s
"""
from alembic import op
import sqlalchemy as sa

revision = "feature0001"
down_revision = "%s"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("t0001", sa.Column("bench_extra", sa.Integer(), nullable=True))


def downgrade():
    op.drop_column("t0001", "bench_extra")
''' % (head, head))
models = os.path.join(d, "app", "models.py")
text = open(models).read()
text = text.replace('__tablename__ = "t0001"\n', '__tablename__ = "t0001"\n    bench_extra = Column(Integer)\n', 1)
open(models, "w").write(text)
print(head)
PY
  git -C "$dir" -c user.name=bench -c user.email=bench@example.com add -A
  git -C "$dir" -c user.name=bench -c user.email=bench@example.com commit -qm feature
}

rounds() {
  "$python" - "$@" <<'PY'
import statistics, subprocess, sys, time
prepare, warm, cold, today, cli, floor_prepare, floor, n = sys.argv[1:8] + [int(sys.argv[8])]
def timed(command, before=None):
    if before:
        subprocess.run(before, shell=True, check=True, stdout=subprocess.DEVNULL)
    t0 = time.perf_counter()
    subprocess.run(command, shell=True, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0
cols = {k: [] for k in ("warm", "cold", "today", "cli", "floor")}
for i in range(n + 1):
    t = {"cold": timed(cold), "warm": timed(warm), "today": timed(today),
         "cli": timed(cli, prepare), "floor": timed(floor, floor_prepare)}
    if i:
        for k, v in t.items():
            cols[k].append(v)
m = statistics.median
r = [w / c for w, c in zip(cols["warm"], cols["cli"])]
print(" ".join("%.3f" % m(cols[k]) for k in ("warm", "cold", "today", "cli", "floor")),
      "%.3f %.3f %.3f" % (m(r), min(r), max(r)))
PY
}

echo "alembot: $bin"
echo "python:  $python ($("$python" -c 'import sqlalchemy, alembic; print("SQLAlchemy", sqlalchemy.__version__, "Alembic", alembic.__version__)'))"
echo "rounds:  $runs; load: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || uptime)"

IFS=, read -ra plist <<<"$providers"
IFS=, read -ra slist <<<"$sizes"
results="$work/results"
: >"$results"
for n in "${slist[@]}"; do
  repo="$work/r$n"
  base_head=$(make_repo "$n" "$repo" | tail -n1)
  for provider in "${plist[@]}"; do
    case "$provider" in
      sqlite)
        database=sqlite
        url="sqlite:///$work/alembic.db"
        prepare="rm -f '$work/alembic.db'"
        ;;
      postgresql)
        database=$pg_server
        servers+=("$pg_server")
        url=$("$python" "$admin" reset "$pg_server" "abincr_$$")
        prepare="'$python' '$admin' reset '$pg_server' abincr_$$ >/dev/null"
        ;;
      mysql)
        database=$my_server
        servers+=("$my_server")
        url=$("$python" "$admin" reset "$my_server" "abincr_$$")
        prepare="'$python' '$admin' reset '$my_server' abincr_$$ >/dev/null"
        ;;
      *) echo "unknown provider $provider (sqlite, postgresql, mysql)" >&2; exit 2 ;;
    esac
    run="cd '$repo' && '$bin' verify --base main --head feature --database '$database' --python '$python'"
    warm="$run >/dev/null 2>&1"
    cold="rm -rf '$repo/.git/alembot/snapshots' && $run >/dev/null 2>&1"
    today="$run --no-cache >/dev/null 2>&1"
    cli="cd '$repo' && export DATABASE_URL='$url' && $alembic upgrade head 2>/dev/null && $alembic check >/dev/null 2>&1 && $alembic downgrade base 2>/dev/null && $alembic upgrade head 2>/dev/null"
    floor_prepare="$prepare && cd '$repo' && DATABASE_URL='$url' $alembic upgrade $base_head 2>/dev/null"
    floor="cd '$repo' && export DATABASE_URL='$url' && $alembic upgrade head 2>/dev/null && $alembic check >/dev/null 2>&1"
    # Both sides must succeed (the change is clean: alembot exits 0), and
    # the warm run must really restore the snapshot.
    (eval "$cold")
    notes=$(cd "$repo" && "$bin" verify --base main --head feature --database "$database" --python "$python" --format json)
    grep -q "restored from a snapshot" <<<"$notes" || { echo "[$provider/$n] the warm run did not use the snapshot: $notes" >&2; exit 1; }
    eval "$prepare"; (eval "$cli")
    read -r w c t a f r rmin rmax < <(rounds "$prepare" "$warm" "$cold" "$today" "$cli" "$floor_prepare" "$floor" "$runs")
    echo "$provider $n $w $c $t $a $f $r $rmin $rmax" >>"$results"
    "$python" - "$provider" "$n" "$w" "$c" "$t" "$a" "$f" "$r" "$rmin" "$rmax" <<'PY'
import sys
p, n = sys.argv[1:3]
w, c, t, a, f, r, rmin, rmax = map(float, sys.argv[3:11])
print("\n[%s, %s revisions + 1]" % (p, n))
print("  warm verify %.2f s, 4 alembic commands %.2f s: %.3fx (rounds %.3fx to %.3fx) (target <= 0.15x) %s"
      % (w, a, r, rmin, rmax, "ok" if r <= 0.15 else "MISSED"))
print("  floor (upgrade the new revision + alembic check from the base state) %.2f s = %.3fx of the commands"
      % (f, f / a))
print("  cold verify (replay + save) %.2f s, today (--no-cache) %.2f s: %.3fx (target <= 1.05x) %s"
      % (c, t, c / t, "ok" if c / t <= 1.05 else "MISSED"))
PY
  done
done
"$python" - "$results" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
warm = {(r[0], int(r[1])): float(r[2]) for r in rows}
sizes = sorted({k[1] for k in warm})
if len(sizes) >= 2:
    lo, hi = sizes[0], sizes[-1]
    print("\nwarm verify, %d against %d revisions (target <= 1.3x):" % (hi, lo))
    for p in sorted({k[0] for k in warm}):
        if (p, lo) in warm and (p, hi) in warm:
            x = warm[(p, hi)] / warm[(p, lo)]
            print("  %s: %.2f s / %.2f s = %.2fx %s" % (p, warm[(p, hi)], warm[(p, lo)], x, "ok" if x <= 1.3 else "MISSED"))
PY
