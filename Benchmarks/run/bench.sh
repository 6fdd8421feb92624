#!/usr/bin/env bash
# netc run vs ONNX Runtime on ResNet-50 and MobileNet v2 (batch 1, 224x224x3), 1 and 2
# threads, same weights, outputs compared. A benchmark, never part of `swift test`.
#
#   bash Benchmarks/run/bench.sh [RUNS]
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

echo "network       threads  netc ms  ORT ms  netc/ORT  max |netc-ORT| / max |ORT|"
for net in resnet50 mobilenet_v2; do
  dir="$WORK/$net"
  ort_lines=$("$BENCH_VENV/bin/python" Benchmarks/run/bench_ort.py "$dir" "$RUNS" 1 2)
  for threads in 1 2; do
    netc_line=$("$NETC" run "specs/$net.yaml" --input "$dir/input.npy" --weights "$dir/weights" \
      --threads "$threads" --repeat-count "$RUNS" --save "$dir/netc" --format json 2>&1 >/dev/null | grep '^forward')
    netc_ms=$(echo "$netc_line" | sed -E 's/forward: median ([0-9.]+) ms.*/\1/')
    ort_ms=$(echo "$ort_lines" | awk -v t="$threads" '$1 == t { print $2 }')
    diff=$("$BENCH_VENV/bin/python" -c "
import numpy as np
a = np.load('$dir/netc/output.npy'); b = np.load('$dir/ort_output.npy').reshape(a.shape)
print(f'{np.abs(a - b).max() / np.abs(b).max():.2e}')")
    ratio=$(python3 -c "print(f'{$netc_ms / $ort_ms:.2f}')")
    printf "%-13s %7s %8s %7s %9s  %s\n" "$net" "$threads" "$netc_ms" "$ort_ms" "$ratio" "$diff"
  done
done
