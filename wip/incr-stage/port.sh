#!/bin/bash
# After helperpkg lands and main is merged: the base-state module into the helper package.
set -euo pipefail
cd /work/wt-incr
cp /work/incr-stage/basestate.py src/job/alembot_helper/basestate.py
python3 /work/incr-stage/patch.py src/job/alembot_helper
python3 - <<'PY'
p = "src/job/helper.rs"
s = open(p).read()
old = '''    (
        "verifier.py",'''
assert old in s, "FILES layout changed"
s = s.replace(old, '''    (
        "basestate.py",
        include_str!("alembot_helper/basestate.py"),
    ),
''' + old, 1)
open(p, "w").write(s)
PY
cp /work/incr-stage/test_basestate.py tests/python/test_basestate.py
