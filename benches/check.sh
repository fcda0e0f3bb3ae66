#!/usr/bin/env bash
# Benchmark of `alembot check --staged` (the pre-commit hook's work) on a
# generated repository of 5,000 files and 400 revisions, against
# `git diff --cached --name-only` on the same repository, and of the
# installed hook itself (hooks/pre-commit: sh, then alembot).
# Targets (README): median under 50 ms, and at most 2x git's own diff.
# Also timed: the same check with --no-cache (every revision file read and
# parsed, as on the first run in a clone or after an alembot upgrade).
#
# Usage: benches/check.sh [FILES] [REVISIONS]     (needs hyperfine and python3)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
files=${1:-5000}
revisions=${2:-400}
command -v hyperfine >/dev/null || { echo "hyperfine is needed: apt-get install hyperfine (or cargo install hyperfine)" >&2; exit 2; }
cargo build --release --quiet --manifest-path "$here/Cargo.toml"
bin="$here/target/release/alembot"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 "$here/benches/gen_repo.py" "$work/repo" --files "$files" --revisions "$revisions"
cd "$work/repo"
# The staged change is a model edit with its migration: the check must pass.
# This first run also fills the revision cache (.git/alembot/).
"$bin" check --staged >/dev/null
hyperfine --warmup 10 --runs "${RUNS:-100}" -N \
  --export-json "$work/result.json" \
  "$bin check --staged" \
  "git diff --cached --name-only" \
  "env ALEMBOT=$bin sh $here/hooks/pre-commit" \
  "$bin check --staged --no-cache"
python3 - "$work/result.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
ours, git, hook, cold = (x["median"] * 1000 for x in r)
print(f"median: alembot check --staged {ours:.1f} ms, git diff --cached --name-only {git:.1f} ms, ratio {ours / git:.2f}x; the pre-commit hook {hook:.1f} ms")
print(f"without the revision cache (--no-cache): {cold:.1f} ms, ratio {cold / git:.2f}x")
PY
