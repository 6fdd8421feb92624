#!/usr/bin/env bash
# netc run vs ONNX Runtime on GPT-2 small (T = 128 and 1024, the logits) and ViT-B/16
# (224x224x3), batch 1, 1 and 2 threads, same weights, outputs compared. A benchmark, never
# part of `swift test`.
#
#   ROUNDS=3 bash Benchmarks/run/transformers.sh [RUNS]   (RUNS passes per tool and round, default 5)
#
# Needs the torch venv with transformers (TORCH_PYTHON, default /work/venv-torch/bin/python)
# for the export, and makes the same ONNX Runtime venv as bench.sh. Builds netc in release.
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${1:-5}
TORCH_PYTHON=${TORCH_PYTHON:-/work/venv-torch/bin/python}
BENCH_VENV=${BENCH_VENV:-/work/venv-bench-run}
WORK=${BENCH_WORK:-/tmp/netc-bench-transformers}
SCRATCH=${NETC_SCRATCH:-/tmp/netc-run-release}
CASES="gpt2_t128 gpt2_t1024 vit_b_16"

if [ ! -x "$BENCH_VENV/bin/python" ] || ! "$BENCH_VENV/bin/python" -c "import onnxruntime, onnx" 2>/dev/null; then
  python3 -m venv "$BENCH_VENV"
  "$BENCH_VENV/bin/pip" install -q onnxruntime onnx numpy
fi
SITE=$("$BENCH_VENV/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")

swift build -c release --scratch-path "$SCRATCH" --product netc >/dev/null
NETC="$SCRATCH/release/netc"
mkdir -p "$WORK"
[ -f "$WORK/vit_b_16/model.onnx" ] || "$TORCH_PYTHON" Benchmarks/run/export_transformers.py "$NETC" "$WORK" "$SITE"

# Rounds side by side, as in bench.sh: ORT on 1 and 2 threads, then netc on each.
ROUNDS=${ROUNDS:-3}
LOG=$(mktemp)
for round in $(seq "$ROUNDS"); do
  for net in $CASES; do
    dir="$WORK/$net"
    spec=$(sed -n 1p "$dir/spec")
    sets=()
    for b in $(sed -n 2p "$dir/spec"); do sets+=(--set "$b"); done
    "$BENCH_VENV/bin/python" Benchmarks/run/bench_ort.py "$dir" "$RUNS" 1 2 | awk -v n="$net" '{ print n, $1, "ort", $2, $3 }' >>"$LOG"
    for threads in 1 2; do
      "$NETC" run "$spec" "${sets[@]}" --input "$dir/input.npy" --weights "$dir/weights" --threads "$threads" \
        --repeat-count "$RUNS" --save "$dir/netc" --format json 2>&1 >/dev/null | grep '^forward' \
        | sed -E "s/forward: median ([0-9.]+) ms, best ([0-9.]+) ms.*/$net $threads netc \\1 \\2/" >>"$LOG"
    done
  done
done
"$BENCH_VENV/bin/python" Benchmarks/run/summarize.py "$LOG" "$WORK" $CASES
rm -f "$LOG"
