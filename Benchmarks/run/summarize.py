#!/usr/bin/env python3
"""The table bench.sh and transformers.sh print from their log of interleaved rounds.

python summarize.py LOG WORK NET... (with numpy: the bench venv's python). LOG lines are
`net threads tool median best` (ms); WORK/<net>/netc/output.npy and WORK/<net>/ort_output.npy
are the two tools' outputs. Per network and thread count: the best pass of each tool and
their ratio, the median of the per-round ratios of the medians, and the outputs' largest
difference over ORT's largest magnitude.
"""

import os
import statistics
import sys

import numpy as np

log, work, nets = sys.argv[1], sys.argv[2], sys.argv[3:]
rows = [line.split() for line in open(log)]
print("network       threads  netc best  ORT best  best ratio  median of per-round ratios  max |netc-ORT| / max |ORT|")
for net in nets:
    a = np.load(os.path.join(work, net, "netc", "output.npy"))
    b = np.load(os.path.join(work, net, "ort_output.npy")).reshape(a.shape)
    diff = f"{np.abs(a - b).max() / np.abs(b).max():.2e}"
    for threads in ("1", "2"):
        def pick(tool):
            return [(float(r[3]), float(r[4])) for r in rows if r[0] == net and r[1] == threads and r[2] == tool]
        netc, ort = pick("netc"), pick("ort")
        best_n, best_o = min(b for _, b in netc), min(b for _, b in ort)
        ratios = [n[0] / o[0] for n, o in zip(netc, ort)]
        print(f"{net:13s} {threads:>7s} {best_n:10.2f} {best_o:9.2f} {best_n / best_o:11.2f} "
              f"{statistics.median(ratios):27.2f}  {diff}")
