#!/usr/bin/env python3
"""Times `netc analyze --format json` on generated specs of 1k, 10k and 100k layers.

The specs mix plain layers, residual blocks and a repeat, so the front end, shape
inference, the cost model and the JSON writer all scale with the layer count. Prints the
median of several runs for each size and the 100k/10k ratio (10.0 = linear).
Usage: python3 Benchmarks/analyze/bench.py [path/to/netc]   (default: a release build)
"""
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]


def spec(layers: int) -> str:
    lines = ["name: bench-%d" % layers, "input: 8x8x16", "layers:"]
    count = 0
    while count < layers:
        if count % 10 == 0 and layers - count >= 5:
            lines += [
                "  - residual:",
                "      body: [CONV3-16 pad 1 bias false, BN, RELU]",
                "      shortcut: auto",
            ]
            count += 4  # conv, bn, relu, add (the auto shortcut is the identity here)
        else:
            lines.append("  - CONV3-16 pad 1" if count % 2 else "  - RELU")
            count += 1
    return "\n".join(lines) + "\n"


def main():
    netc = sys.argv[1] if len(sys.argv) > 1 else None
    if netc is None:
        subprocess.run(["swift", "build", "-c", "release", "--product", "netc"], cwd=ROOT, check=True)
        netc = str(ROOT / ".build/release/netc")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in (1_000, 10_000, 100_000):
            path = pathlib.Path(tmp) / f"bench-{n}.yaml"
            path.write_text(spec(n))
            times = []
            for _ in range(7):
                start = time.perf_counter()
                done = subprocess.run([netc, "analyze", "--format", "json", str(path)], stdout=subprocess.DEVNULL)
                times.append(time.perf_counter() - start)
                assert done.returncode == 0, f"netc failed on {n} layers"
            results[n] = statistics.median(times)
            print(f"{n:>7} layers: median {results[n] * 1000:8.1f} ms over {len(times)} runs")
    print(f"100k/10k time ratio: {results[100_000] / results[10_000]:.2f} (10.00 = linear)")


if __name__ == "__main__":
    main()
