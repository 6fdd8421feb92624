#!/usr/bin/env bash
# Times two netc binaries on the same solver problem, interleaved (old, new, old, new ...)
# so that a busy machine slows both alike; prints each round, the medians and new/old.
#
#   Benchmarks/solve/compare.sh OLD_NETC NEW_NETC [ROUNDS] [PROBLEM]   # 7 rounds, chain20x4
#
# PROBLEM is a name from problems.py (chain20x4: 20 convs, each with kernel, stride, pad
# and dilation unknown, 224 -> 7); each round runs `netc solve SPEC --count`.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
old="$1" new="$2" rounds="${3:-7}" name="${4:-chain20x4}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 - "$work/$name.yaml" "$name" <<PY
import sys
sys.path.insert(0, "$here")
from problems import PROBLEMS, spec
open(sys.argv[1], "w").write(spec(next(p for p in PROBLEMS if p["name"] == sys.argv[2])))
PY
python3 - "$old" "$new" "$rounds" "$work/$name.yaml" <<'PY'
import statistics, subprocess, sys, time
old, new, rounds, spec = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
def run(netc):
    s = time.perf_counter()
    out = subprocess.run([netc, "solve", spec, "--count"], capture_output=True, text=True)
    t = time.perf_counter() - s
    if out.returncode != 0:
        sys.exit(f"{netc} failed: {out.stderr}")
    return t, out.stdout.strip()
times = {old: [], new: []}
answers = set()
for r in range(rounds):
    for netc in (old, new):
        t, answer = run(netc)
        times[netc].append(t)
        answers.add(answer)
    print(f"round {r + 1}: old {times[old][-1]:.3f} s, new {times[new][-1]:.3f} s")
if len(answers) != 1:
    sys.exit(f"the two binaries disagree: {answers}")
mo, mn = statistics.median(times[old]), statistics.median(times[new])
print(f"median old {mo:.3f} s, new {mn:.3f} s, new/old {mn / mo:.3f} ({answers.pop()})")
PY
