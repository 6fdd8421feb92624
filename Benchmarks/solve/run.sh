#!/usr/bin/env bash
# Times `netc solve` against Z3 enumerating all solutions of the same problems, whole
# process against whole process. Sets up its own venv with z3-solver (outside the repo)
# and a release build of netc. Usage: Benchmarks/solve/run.sh [timeout-seconds]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
timeout_s="${1:-60}"
venv="${NETC_BENCH_VENV:-${TMPDIR:-/tmp}/netc-bench-venv}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q z3-solver
fi
(cd "$repo" && swift build -c release --product netc >/dev/null)
netc="$repo/.build/release/netc"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$venv/bin/python" - "$work" <<PY
import sys
sys.path.insert(0, "$here")
from problems import PROBLEMS, spec
for p in PROBLEMS:
    open(f"{sys.argv[1]}/{p['name']}.yaml", "w").write(spec(p))
PY

# Wall time of a command in seconds (best of 3 for netc; one run for Z3, which is slow),
# timed around the child process alone: two `date` forks around it added 2-4 ms, a
# quarter of netc's time on the small problems.
wall() {
  "$venv/bin/python" -c 'import subprocess, sys, time
s = time.perf_counter()
subprocess.run(sys.argv[2:], stdout=open(sys.argv[1] + "/out", "w"), stderr=open(sys.argv[1] + "/err", "w"))
print(time.perf_counter() - s)' "$work" "$@"
}

printf "%-12s %14s %10s %10s %10s %10s\n" problem solutions "netc list" "netc count" z3 "z3/netc"
names=$("$venv/bin/python" -c "import sys; sys.path.insert(0, '$here'); from problems import PROBLEMS; print(' '.join(p['name'] for p in PROBLEMS))")
for name in $names; do
  spec="$work/$name.yaml"
  count=$("$netc" solve "$spec" --count --format json | sed 's/.*"count": \([0-9]*\).*/\1/')
  best_list=999; best_count=999
  for _ in 1 2 3; do
    if [ ${#count} -le 7 ]; then
      t=$(wall "$netc" solve "$spec" --format json --max 100000000); best_list=$(echo "if ($t < $best_list) $t else $best_list" | bc -l)
    fi
    t=$(wall "$netc" solve "$spec" --count); best_count=$(echo "if ($t < $best_count) $t else $best_count" | bc -l)
  done
  [ ${#count} -le 7 ] || best_list="-"
  if z3t=$(cd "$here" && wall timeout "$timeout_s" "$venv/bin/python" z3_enumerate.py "$name") \
    && z3count=$(cat "$work/out") && [ -n "$z3count" ]; then
    [ "$z3count" = "$count" ] || echo "MISMATCH on $name: netc $count, z3 $z3count" >&2
    ref=$([ "$best_list" = "-" ] && echo "$best_count" || echo "$best_list")
    ratio=$(echo "$z3t / $ref" | bc -l)
    printf "%-12s %14s %10.3f %10.3f %10.2f %9.0fx\n" "$name" "$count" "${best_list/-/0}" "$best_count" "$z3t" "$ratio"
  else
    [ "$best_list" = "-" ] || best_list=$(printf "%.3f" "$best_list")
    printf "%-12s %14s %10s %10.3f %10s %10s\n" "$name" "$count" "$best_list" "$best_count" ">${timeout_s}" "timeout"
  fi
done
