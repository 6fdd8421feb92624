#!/usr/bin/env bash
# Builds the front-end fuzzer (Fuzz/FrontendFuzzer.swift with the NetcDiagnostics, NetcIR,
# NetcFrontend and NetcPasses sources, under libFuzzer and the address sanitizer) and runs
# it for SECONDS seconds (default 60) from the committed seed corpus Fuzz/corpus.
#
#   scripts/fuzz.sh [SECONDS] [extra libFuzzer flags...]
#
# New inputs go to $FUZZ_WORK/corpus (default .build/fuzz/corpus), crashes to
# $FUZZ_WORK/artifacts, libFuzzer's log to $FUZZ_WORK/fuzz-0.log; the seed corpus is
# never written to. Debian's libyaml is not
# instrumented, so coverage guides through the Swift side only.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
work="${FUZZ_WORK:-$PWD/.build/fuzz}"
build="$work/build"
mkdir -p "$build" "$work/corpus" "$work/artifacts"

flags=(-sanitize=fuzzer,address -parse-as-library -O -g -I Sources/CYAML -I "$build" -swift-version 6)
module() {
  local name="$1"
  shift
  swiftc "${flags[@]}" -module-name "$name" -emit-module -emit-module-path "$build/$name.swiftmodule" \
    -c "$@" -wmo -o "$build/$name.o"
}
echo "building the fuzzer in $build" >&2
module NetcDiagnostics Sources/NetcDiagnostics/*.swift
module NetcIR Sources/NetcIR/*.swift
module NetcFrontend Sources/NetcFrontend/*.swift
module NetcPasses Sources/NetcPasses/*.swift
swiftc "${flags[@]}" -module-name FrontendFuzzer Fuzz/FrontendFuzzer.swift \
  "$build"/NetcDiagnostics.o "$build"/NetcIR.o "$build"/NetcFrontend.o "$build"/NetcPasses.o \
  -lyaml -o "$build/frontend-fuzzer"

# Swift's backtracer would catch the crash first and libFuzzer would write no crash file.
export SWIFT_BACKTRACE=enable=no
# The 2 cores are shared: one job, one worker. 4 MB inputs and 2 GB of RSS are far above
# what a spec needs; a slow input over 10 s is a hang worth a report.
# With -jobs, libFuzzer writes its log to fuzz-0.log in the working directory: run in $work.
seeds="$PWD/Fuzz/corpus"
cd "$work"
exec "$PWD/build/frontend-fuzzer" "$PWD/corpus" "$seeds" \
  -max_total_time="$seconds" -jobs=1 -workers=1 -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
  -artifact_prefix="$PWD/artifacts/" -print_final_stats=1 "$@"
