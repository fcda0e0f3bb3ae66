#!/usr/bin/env bash
# How long a new user waits (issue 15's benchmark), medians of RUNS runs:
#   1. install: a fresh virtual environment, `pip install` of the built wheel
#      from a local file, and the first `alembot check` on the bundled example
#      (target: under 5 s);
#   2. pre-commit: the first commit through the pre-commit framework with the
#      mirror's `language: python` hook (environment creation included: a
#      fresh PRE_COMMIT_HOME each run);
#   3. with --rust: the same first commit with a `language: rust` hook built
#      from this source (what .pre-commit-hooks.yaml had before the wheel):
#      one run, it compiles the crate in release mode.
#
#   benches/install.sh [--rust] [WHEEL]     (default: target/wheels/alembot-*.whl,
#                                            from `maturin build --release`)
# Needs scripts/setup-dist's environment (pre-commit). Nothing is left behind.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runs="${RUNS:-5}"
rust=0
if [[ ${1:-} == --rust ]]; then rust=1; shift; fi
wheel="${1:-$(ls "$root"/target/wheels/alembot-*.whl 2>/dev/null | head -n1)}"
[[ -f $wheel ]] || { echo "install.sh: no wheel; build one: maturin build --release" >&2; exit 2; }
venv="$("$root/scripts/setup-dist" | tail -n1)"
pre_commit="$venv/bin/pre-commit"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
house="$work/wheelhouse"
mkdir -p "$house"
cp "$wheel" "$house/"
"$venv/bin/python" -m pip download -q --disable-pip-version-check --only-binary :all: -d "$house" "setuptools>=61" >/dev/null

export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com
export PIP_DISABLE_PIP_VERSION_CHECK=1 NO_COLOR=1
now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

example() {  # a fresh git repository holding the example, with the patch applied
  rm -rf "$1"
  cp -R "$root/examples/blog" "$1"
  git -C "$1" init -q -b main
  git -C "$1" add -A
  git -C "$1" commit -q --no-verify -m example
}

echo "wheel: $wheel ($(du -h "$wheel" | cut -f1))"
echo "1. fresh venv + pip install WHEEL + first alembot check (example, a model edit without migration)"
: >"$work/t1"
for i in $(seq "$runs"); do
  example "$work/blog"
  git -C "$work/blog" apply -p3 "$root/examples/blog-missing-migration.patch"
  rm -rf "$work/v"
  t0=$(now)
  python3 -m venv "$work/v"
  t1=$(now)
  "$work/v/bin/pip" install -q --no-index --no-deps "$wheel"
  t2=$(now)
  (cd "$work/blog" && "$work/v/bin/alembot" check >/dev/null) && { echo "check found nothing" >&2; exit 1; } || true
  t3=$(now)
  echo "$t0 $t1 $t2 $t3" | awk '{printf "   run: venv %.2f s, pip install %.2f s, first check %.3f s, total %.2f s\n", $2-$1, $3-$2, $4-$3, $4-$1}'
  echo "$t0 $t3" | awk '{print $2-$1}' >>"$work/t1"
done
echo "   median total: $(median <"$work/t1") s"

mirror="$work/alembot-pre-commit"
cp -R "$root/packaging/pre-commit-mirror" "$mirror"
git -C "$mirror" init -q -b main && git -C "$mirror" add -A && git -C "$mirror" commit -q -m mirror
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$root/Cargo.toml" | head -n1)
git -C "$mirror" tag "v$version"

first_commit() {  # $1: repo url, $2: rev, $3: hook id; prints seconds
  example "$work/proj"
  printf 'repos:\n  - repo: %s\n    rev: %s\n    hooks:\n      - id: %s\n' "$1" "$2" "$3" >"$work/proj/.pre-commit-config.yaml"
  git -C "$work/proj" add .pre-commit-config.yaml
  git -C "$work/proj" commit -q --no-verify -m config
  rm -rf "$work/pc-home"
  (cd "$work/proj" && PRE_COMMIT_HOME="$work/pc-home" "$pre_commit" install >/dev/null)
  echo "# touch" >>"$work/proj/blog/models.py"
  git -C "$work/proj" add -A
  local t0 t1
  t0=$(now)
  (cd "$work/proj" && PRE_COMMIT_HOME="$work/pc-home" PIP_NO_INDEX=1 PIP_FIND_LINKS="$house" git commit -q -m edit >/dev/null 2>"$work/commit.err") \
    || { echo "the commit failed:" >&2; cat "$work/commit.err" >&2; exit 1; }
  t1=$(now)
  echo "$t0 $t1" | awk '{print $2-$1}'
}

echo "2. first commit with the pre-commit framework, language: python (the wheel), fresh PRE_COMMIT_HOME"
: >"$work/t2"
for i in $(seq "$runs"); do
  s=$(first_commit "$mirror" "v$version" alembot)
  echo "   run: $s s"
  echo "$s" >>"$work/t2"
done
echo "   median: $(median <"$work/t2") s"

if [[ $rust -eq 1 ]]; then
  echo "3. first commit with language: rust (the hook compiles alembot), one run"
  src="$work/alembot-src"
  git clone -q "$root" "$src"
  sed -i 's/language: python/language: rust/' "$src/.pre-commit-hooks.yaml"
  git -C "$src" -c user.name=bench -c user.email=bench@example.com commit -qam "language: rust"
  rev=$(git -C "$src" rev-parse HEAD)
  s=$(first_commit "$src" "$rev" alembot)
  echo "   run: $s s"
fi
