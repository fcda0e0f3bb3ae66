#!/usr/bin/env python3
"""Time the job helper against the equivalent `alembic` commands.

    .venv/bin/python benches/measure_python.py [--backends sqlite,postgresql] [--revisions 200] [--stairway 50]

1. verify (upgrade + drift + round trip) on a generated N-revision project, one helper
   process, against `alembic upgrade head && alembic check && alembic downgrade base &&
   alembic upgrade head` (four processes);
2. the stairway over M revisions (each revision up, down, up, with schema snapshots
   compared at every step), one helper process, against `alembic upgrade +1`,
   `alembic downgrade -1`, `alembic upgrade +1` per revision (3*M processes, no comparison).

Every run gets a fresh throwaway database (the helper's own create/drop on servers).
Wall-clock times include process start-up, as the Rust binary will see them.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, REPO)
sys.path.insert(0, HERE)

import gen_project  # noqa: E402
from tests.python import harness as h  # noqa: E402


def alembic(root, url, *args):
    env = dict(os.environ, DATABASE_URL=url)
    subprocess.run([h.python(), "-m", "alembic", "-c", os.path.join(root, "alembic.ini")] + list(args),
                   cwd=root, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def helper_verify(root, url, checks):
    req = {"action": "verify", "project_root": root, "alembic_ini": os.path.join(root, "alembic.ini"),
           "database_url": url, "url_env_vars": ["DATABASE_URL"],
           "model_files": [os.path.join(root, "app", "models.py")], "checks": checks}
    t0 = time.perf_counter()
    run = h.run_helper(req)
    elapsed = time.perf_counter() - t0
    final = h.result_or_fail(run)
    if final["findings"]:
        raise SystemExit("the generated project should be clean: %s" % final["findings"])
    return elapsed, final["timings"]


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def measure(backend, revisions, stairway):
    work = tempfile.mkdtemp(prefix="alembot-bench-")
    big = os.path.join(work, "p%d" % revisions)
    small = os.path.join(work, "p%d" % stairway)
    gen_project.generate(big, revisions)
    gen_project.generate(small, stairway)
    out = {}
    with h.throwaway_database(backend) as url:
        out["verify"], out["verify_timings"] = helper_verify(
            big, url, {"upgrade": True, "drift": True, "roundtrip": True})
    with h.throwaway_database(backend) as url:
        out["verify_cli"] = timed(lambda: [alembic(big, url, *a) for a in
                                           (["upgrade", "head"], ["check"], ["downgrade", "base"],
                                            ["upgrade", "head"])])
    with h.throwaway_database(backend) as url:
        out["stairway"], out["stairway_timings"] = helper_verify(small, url, {"stairway": "all"})

    def per_step(url):
        for _ in range(stairway):
            alembic(small, url, "upgrade", "+1")
            alembic(small, url, "downgrade", "-1")
            alembic(small, url, "upgrade", "+1")
    with h.throwaway_database(backend) as url:
        out["stairway_cli"] = timed(lambda: per_step(url))
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--backends", default="sqlite,postgresql")
    p.add_argument("--revisions", type=int, default=200)
    p.add_argument("--stairway", type=int, default=50)
    args = p.parse_args()
    print("python %s, helper %s" % (h.python(), h.HELPER))
    for backend in args.backends.split(","):
        r = measure(backend, args.revisions, args.stairway)
        print("\n[%s]" % backend)
        print("  verify upgrade+drift+roundtrip, %d revisions: helper %.2fs  vs  4 alembic commands %.2fs  "
              "(%.1fx)" % (args.revisions, r["verify"], r["verify_cli"], r["verify_cli"] / r["verify"]))
        print("    helper phases: %s" % r["verify_timings"])
        print("  stairway, %d revisions: helper %.2fs  vs  %d alembic commands %.2fs  (%.1fx)"
              % (args.stairway, r["stairway"], 3 * args.stairway, r["stairway_cli"],
                 r["stairway_cli"] / r["stairway"]))
        print("    helper phases: %s" % r["stairway_timings"])


if __name__ == "__main__":
    main()
