#!/usr/bin/env bash
# netc run vs ONNX Runtime on ResNet-50 and MobileNet v2 (batch 1, 224x224x3), 1 and 2
# threads, same weights, outputs compared. A benchmark, never part of `swift test`.
#
#   ROUNDS=5 bash Benchmarks/run/bench.sh [RUNS]   (RUNS passes per tool and round, default 10)
#
# Needs: a torch venv (TORCH_PYTHON, default /work/venv-torch/bin/python; torch + torchvision)
# for the export; it makes its own venv outside the repo (BENCH_VENV, default
# /work/venv-bench-run) with onnxruntime and onnx from PyPI. Builds netc in release mode.
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${1:-10}
TORCH_PYTHON=${TORCH_PYTHON:-/work/venv-torch/bin/python}
BENCH_VENV=${BENCH_VENV:-/work/venv-bench-run}
WORK=${BENCH_WORK:-/tmp/netc-bench-run}
SCRATCH=${NETC_SCRATCH:-/tmp/netc-run-release}

if [ ! -x "$BENCH_VENV/bin/python" ] || ! "$BENCH_VENV/bin/python" -c "import onnxruntime, onnx" 2>/dev/null; then
  python3 -m venv "$BENCH_VENV"
  "$BENCH_VENV/bin/pip" install -q onnxruntime onnx numpy
fi
SITE=$("$BENCH_VENV/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")

swift build -c release --scratch-path "$SCRATCH" --product netc >/dev/null
NETC="$SCRATCH/release/netc"
mkdir -p "$WORK"
[ -f "$WORK/mobilenet_v2/model.onnx" ] || "$TORCH_PYTHON" Benchmarks/run/export_models.py "$NETC" specs "$WORK" "$SITE"

# Rounds of netc and ORT side by side (per round and network: ORT on 1 and 2 threads, then
# netc on each): a shared machine's speed moves by tens of percent within minutes, so a
# ratio means something only between runs made next to each other. Reported per network
# and thread count: the best pass of all rounds for each tool and their ratio, and the
# median of the per-round ratios of the medians.
ROUNDS=${ROUNDS:-5}
LOG=$(mktemp)
for round in $(seq "$ROUNDS"); do
  for net in resnet50 mobilenet_v2; do
    dir="$WORK/$net"
    "$BENCH_VENV/bin/python" Benchmarks/run/bench_ort.py "$dir" "$RUNS" 1 2 | awk -v n="$net" '{ print n, $1, "ort", $2, $3 }' >>"$LOG"
    for threads in 1 2; do
      "$NETC" run "specs/$net.yaml" --input "$dir/input.npy" --weights "$dir/weights" --threads "$threads" \
        --repeat-count "$RUNS" --save "$dir/netc" --format json 2>&1 >/dev/null | grep '^forward' \
        | sed -E "s/forward: median ([0-9.]+) ms, best ([0-9.]+) ms.*/$net $threads netc \\1 \\2/" >>"$LOG"
    done
  done
done
"$BENCH_VENV/bin/python" Benchmarks/run/summarize.py "$LOG" "$WORK" resnet50 mobilenet_v2
rm -f "$LOG"
