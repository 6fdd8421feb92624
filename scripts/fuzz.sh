#!/usr/bin/env bash
# Builds the fuzz targets of Fuzz/ (libFuzzer entry points, with the netc modules they
# need, under libFuzzer and the address sanitizer) and runs each for SECONDS seconds
# (default 60) from its committed seed corpus Fuzz/corpus/TARGET/:
#
#   scripts/fuzz.sh [SECONDS] [TARGET...] [extra libFuzzer flags...]
#
#   frontend  Fuzz/FrontendFuzzer.swift       a spec: loader, YAML, lowering, checkSpec, renderer
#   npy       Fuzz/NpyFuzzer.swift            an .npy file: NpyFile.decode, both precisions
#   literal   Fuzz/TensorLiteralFuzzer.swift  a JSON/YAML tensor file: TensorArgument.decode
#   weights   Fuzz/WeightsFuzzer.swift        a weights: mapping and a weights directory, bound
#                                             to a small CNN and a small transformer
#   solver    Fuzz/SolverFuzzer.swift         a spec with vars: solve and the symbolic analysis,
#                                             each within a time budget
#   onnx      Fuzz/ONNXFuzzer.swift           an ONNX model: ONNXImport (protobuf, external data,
#                                             recognition, structures); what it writes must analyze
#
# With no TARGET, every target, one after the other. Per target, new inputs go to
# $FUZZ_WORK/TARGET/corpus (default .build/fuzz), crashes to $FUZZ_WORK/TARGET/artifacts,
# libFuzzer's log to $FUZZ_WORK/TARGET/fuzz.log; the seed corpora are never written to.
# Prints one line per target (executions, coverage, result); exits 1 when a target found
# something or failed to run, after running the others. Debian's libyaml is not
# instrumented, so coverage guides through the Swift side only.
set -euo pipefail
cd "$(dirname "$0")/.."
all=(frontend npy literal weights solver onnx)
seconds=60
if [ $# -gt 0 ] && [[ "$1" =~ ^[0-9]+$ ]]; then
  seconds="$1"
  shift
fi
targets=()
while [ $# -gt 0 ] && [[ " ${all[*]} " == *" $1 "* ]]; do
  targets+=("$1")
  shift
done
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")
if [ $# -gt 0 ] && [[ "$1" != -* ]]; then
  echo "fuzz.sh: unknown target \`$1\`; the targets are ${all[*]}" >&2
  exit 2
fi
work="${FUZZ_WORK:-$PWD/.build/fuzz}"
build="$work/build"
mkdir -p "$build/CNetcKernels"

flags=(-sanitize=fuzzer,address -parse-as-library -O -g -I Sources/CYAML -I "$build" -I "$build/CNetcKernels" -swift-version 6)
# The compilers' output goes to $build/build.log (the sanitizer's link warnings are many);
# a failing step prints it.
log="$build/build.log"
: >"$log"
step() {
  "$@" >>"$log" 2>&1 || {
    grep -v 'Cannot export local symbol' "$log" | tail -40 >&2
    echo "fuzz.sh: the build failed: $*" >&2
    exit 2
  }
}
# Extra flags for the next module: swift-protobuf uses `package` access, which needs its
# package name, as SwiftPM gives it.
module_flags=()
module() {
  local name="$1"
  shift
  step swiftc "${flags[@]}" "${module_flags[@]}" -module-name "$name" -emit-module -emit-module-path "$build/$name.swiftmodule" \
    -c "$@" -wmo -o "$build/$name.o"
}
needs_backends=0
for t in "${targets[@]}"; do
  case "$t" in npy | literal | weights | onnx) needs_backends=1 ;; esac
done
echo "fuzz.sh: building ${targets[*]} in $build" >&2
# Every Swift file of a target, in any folder, as SwiftPM compiles it (a file in a new
# subfolder must not be left out).
target_module() {
  local files
  mapfile -t files < <(find "Sources/$1" -name '*.swift' | sort)
  module "$1" "${files[@]}"
}
target_module NetcDiagnostics
target_module NetcIR
target_module NetcFrontend
target_module NetcPasses
base=("$build"/NetcDiagnostics.o "$build"/NetcIR.o "$build"/NetcFrontend.o "$build"/NetcPasses.o)
backends=()
if [ "$needs_backends" = 1 ]; then
  # The C kernels as SwiftPM builds them (a module of the umbrella header), uninstrumented:
  # no target calls them, NetcBackends only links against them.
  printf 'module CNetcKernels {\n  umbrella header "%s"\n  export *\n}\n' \
    "$PWD/Sources/CNetcKernels/include/CNetcKernels.h" >"$build/CNetcKernels/module.modulemap"
  for c in Sources/CNetcKernels/*.c; do
    step clang -O2 -fPIC -I Sources/CNetcKernels/include -c "$c" -o "$build/CNetcKernels/$(basename "$c" .c).o"
  done
  target_module NetcBackends
  backends=("$build"/NetcBackends.o "$build"/CNetcKernels/*.o -ldl)
fi
onnx=()
if [[ " ${targets[*]} " == *" onnx "* ]]; then
  # swift-protobuf from SwiftPM's checkout (`swift build` fetches it), then NetcONNX.
  [ -d .build/checkouts/swift-protobuf ] || step swift package resolve
  mapfile -t protobuf < <(find .build/checkouts/swift-protobuf/Sources/SwiftProtobuf -name '*.swift' | sort)
  module_flags=(-package-name SwiftProtobuf)
  module SwiftProtobuf "${protobuf[@]}"
  module_flags=()
  target_module NetcONNX
  onnx=("$build"/SwiftProtobuf.o "$build"/NetcONNX.o)
fi
source_of() {
  case "$1" in
    frontend) echo Fuzz/FrontendFuzzer.swift ;;
    npy) echo Fuzz/NpyFuzzer.swift ;;
    literal) echo Fuzz/TensorLiteralFuzzer.swift ;;
    weights) echo Fuzz/WeightsFuzzer.swift ;;
    solver) echo Fuzz/SolverFuzzer.swift ;;
    onnx) echo Fuzz/ONNXFuzzer.swift ;;
  esac
}
for t in "${targets[@]}"; do
  case "$t" in
    npy | literal | weights) linked=("${base[@]}" "${backends[@]}") ;;
    onnx) linked=("${base[@]}" "${backends[@]}" "${onnx[@]}") ;;
    *) linked=("${base[@]}") ;;
  esac
  step swiftc "${flags[@]}" -module-name "${t^}Fuzzer" "$(source_of "$t")" "${linked[@]}" -lyaml -o "$build/$t-fuzzer"
done

# Swift's backtracer would catch the crash first and libFuzzer would write no crash file.
export SWIFT_BACKTRACE=enable=no
# The 2 cores are shared: one process at a time. 2 GB of RSS is far above what any input
# needs; an input slower than 30 s of wall time is a hang worth a report (on a busy machine
# at nice 19, an input of 0.4 s once took 13 s; the solver's own budget, of CPU time, is
# tighter). Inputs up to 64 KB: a spec, a tensor file or a weights directory of that size
# reaches every branch a larger one does.
status=0
for t in "${targets[@]}"; do
  dir="$work/$t"
  mkdir -p "$dir/corpus" "$dir/artifacts"
  rc=0
  "$build/$t-fuzzer" "$dir/corpus" "$PWD/Fuzz/corpus/$t" \
    -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 -max_len=65536 \
    -artifact_prefix="$dir/artifacts/" -print_final_stats=1 "$@" >"$dir/fuzz.log" 2>&1 || rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/fuzz.log" | tail -1)
  cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$dir/fuzz.log" | tail -1)
  if [ "$rc" = 0 ]; then
    echo "fuzz.sh: $t: ${runs:-?} runs in ${seconds} s, ${cov:-no coverage line}, nothing found"
  else
    status=1
    echo "fuzz.sh: $t: FOUND SOMETHING (exit $rc) after ${runs:-?} runs; inputs in $dir/artifacts, log $dir/fuzz.log:" >&2
    grep -E '^==[0-9]+==|ERROR|Fatal error|Precondition|SUMMARY|Test unit written' "$dir/fuzz.log" | head -20 >&2 || tail -20 "$dir/fuzz.log" >&2
  fi
done
exit "$status"
