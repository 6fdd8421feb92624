#!/bin/sh
# Emitted kernels (netc bench) against ONNX Runtime (one thread) on the rows of the issue.
# Needs: a built netc (swift build), a venv with onnx + onnxruntime ($ORT_PYTHON), and for
# the whole networks a Python with torch + torchvision + onnx ($TORCH_PYTHON) to export them.
# Run from the repository root: Benchmarks/emit/run.sh
set -e
here=$(dirname "$0")
out=${OUT:-/tmp/netc-emit-bench}
mkdir -p "$out"
ORT_PYTHON=${ORT_PYTHON:-/work/venv-emit-bench/bin/python}
if [ -n "$TORCH_PYTHON" ]; then "$TORCH_PYTHON" "$here/export_torchvision.py" "$out"; fi
for spec in conv32 conv56 conv224 sep14; do
  .build/debug/netc bench "$here/$spec.yaml" --format json > "$out/$spec.json"
done
for spec in resnet18 mobilenet_v2; do
  .build/debug/netc bench "specs/$spec.yaml" --format json > "$out/$spec.json"
done
"$ORT_PYTHON" "$here/ort_bench.py" "$out" > "$out/ort.txt"
python3 "$here/table.py" "$out"
