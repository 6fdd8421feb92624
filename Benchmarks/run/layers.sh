#!/usr/bin/env bash
# netc run against ONNX Runtime on chains of 8 identical convs (layer_chains.py), one
# chain at a time, alternating ROUNDS times; prints the smallest median and the best pass
# of each and their ratios. A benchmark, never part of `swift test`.
#
#   bash Benchmarks/run/layers.sh [THREADS] [ROUNDS] [CHAIN...]
set -euo pipefail
cd "$(dirname "$0")/../.."
T=${1:-1}; ROUNDS=${2:-3}; shift $(( $# > 2 ? 2 : $# ))
BENCH_VENV=${BENCH_VENV:-/work/venv-bench-run}
WORK=${BENCH_WORK:-/tmp/netc-bench-layers}
SCRATCH=${NETC_SCRATCH:-/tmp/netc-run-release}
PY="$BENCH_VENV/bin/python"
"$PY" -c "import onnxruntime, onnx" 2>/dev/null || { python3 -m venv "$BENCH_VENV"; "$BENCH_VENV/bin/pip" install -q onnxruntime onnx numpy; }
swift build -c release --scratch-path "$SCRATCH" --product netc >/dev/null
NETC="$SCRATCH/release/netc"
[ -f "$WORK/l1_c3.onnx" ] || "$PY" Benchmarks/run/layer_chains.py "$WORK" >/dev/null
CHAINS=${*:-$(cd "$WORK" && ls *.yaml | sed 's/.yaml$//')}
echo "chain      netc median/best ms   ORT median/best ms   netc/ORT median, best"
for n in $CHAINS; do
  for r in $(seq "$ROUNDS"); do
    nl=$("$NETC" run "$WORK/$n.yaml" --input "$WORK/${n}_in.npy" --seed 1 --threads "$T" --repeat-count 20 --format json 2>&1 >/dev/null \
      | grep '^forward' | sed -E 's/forward: median ([0-9.]+) ms, best ([0-9.]+) ms.*/\1 \2/')
    ol=$(cd "$WORK" && "$PY" "$OLDPWD/Benchmarks/run/bench_ort_chain.py" "$n" "$T" 20)
    echo "$n $nl $ol"
  done | awk '{n=$1; if (NR==1 || $2<a) a=$2; if (NR==1 || $3<b) b=$3; if (NR==1 || $4<c) c=$4; if (NR==1 || $5<d) d=$5}
    END {printf "%-10s %8.3f %8.3f   %8.3f %8.3f     %.2f %.2f\n", n, a, b, c, d, a/c, b/d}'
done
