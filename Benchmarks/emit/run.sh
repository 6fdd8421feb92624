#!/bin/sh
# Emitted kernels (netc bench) against ONNX Runtime (one thread) on the rows of the issue.
# Needs: a built netc (swift build), a venv with onnx + onnxruntime ($ORT_PYTHON), and for
# the whole networks a Python with torch + torchvision + onnx ($TORCH_PYTHON) to export them.
# Run from the repository root: Benchmarks/emit/run.sh
# VECTOR_WIDTH=8|16 forces netc bench's vector width (default auto: 16 with AVX-512);
# NETC=path picks the netc binary (default .build/debug/netc).
set -e
here=$(dirname "$0")
out=${OUT:-/tmp/netc-emit-bench}
mkdir -p "$out"
ORT_PYTHON=${ORT_PYTHON:-/work/venv-emit-bench/bin/python}
netc=${NETC:-.build/debug/netc}
width=${VECTOR_WIDTH:-auto}
if [ -n "$TORCH_PYTHON" ]; then "$TORCH_PYTHON" "$here/export_torchvision.py" "$out"; fi
for spec in conv32 conv56 conv224 sep14; do
  "$netc" bench "$here/$spec.yaml" --vector-width "$width" --format json > "$out/$spec.json"
done
for spec in resnet18 mobilenet_v2; do
  "$netc" bench "specs/$spec.yaml" --vector-width "$width" --format json > "$out/$spec.json"
done
"$ORT_PYTHON" "$here/ort_bench.py" "$out" > "$out/ort.txt"
python3 "$here/table.py" "$out"
