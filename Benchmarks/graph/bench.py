#!/usr/bin/env python3
"""Times `netc graph` (layout and SVG, and the whole HTML report) on generated specs of
1k, 10k and 100k layers drawn with every layer (the same specs as Benchmarks/analyze),
and on ResNet-50 and Llama-3-8B's HTML reports. Prints medians and the 100k/10k ratio
(10.0 = linear).
Usage: python3 Benchmarks/graph/bench.py [path/to/netc]   (default: a release build)
"""
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "Benchmarks/analyze"))
from bench import spec  # noqa: E402  the analyze benchmark's generator


def median_time(args, runs=5):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(args, stdout=subprocess.DEVNULL, cwd=ROOT)
        times.append(time.perf_counter() - start)
        assert done.returncode == 0, f"netc failed: {args}"
    return statistics.median(times)


def main():
    netc = sys.argv[1] if len(sys.argv) > 1 else None
    if netc is None:
        subprocess.run(["swift", "build", "-c", "release", "--product", "netc"], cwd=ROOT, check=True)
        netc = str(ROOT / ".build/release/netc")
    for name, extra in (("resnet50", []), ("llama3_8b", []), ("llama3_8b", ["--depth", "1"])):
        t = median_time([netc, "graph", f"specs/{name}.yaml", *extra, "-o", "/dev/null", "--format", "html"])
        print(f"{name} {' '.join(extra) or '(all depths)'} html: median {t * 1000:8.1f} ms")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in (1_000, 10_000, 100_000):
            path = pathlib.Path(tmp) / f"bench-{n}.yaml"
            path.write_text(spec(n))
            results[n] = median_time([netc, "graph", "--format", "svg", str(path)], runs=3 if n == 100_000 else 5)
            html = median_time([netc, "graph", "--format", "html", str(path)], runs=3)
            print(f"{n:>7} layers: svg median {results[n] * 1000:8.1f} ms, html {html * 1000:8.1f} ms")
    print(f"100k/10k time ratio: {results[100_000] / results[10_000]:.2f} (10.00 = linear)")


if __name__ == "__main__":
    main()
