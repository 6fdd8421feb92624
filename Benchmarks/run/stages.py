#!/usr/bin/env python3
"""ResNet-50, stage by stage: `netc run --profile` against ONNX Runtime's profiler, one thread.

python stages.py NETC MODEL_DIR [ROUNDS] [PASSES]

NETC is a release build of netc; MODEL_DIR the ResNet-50 directory that bench.sh exports
(model.onnx, input.npy, input_nchw.npy, weights/). Run from the repository root with the
Python of bench.sh's venv (onnxruntime). ROUNDS (default 4) alternate the two tools, each
timing PASSES (default 40) passes; each step and each ORT node keeps its best pass over all
rounds: on a shared machine a step's median moves by tens of percent between runs and its
best by a few. Prints per stage (stem, max pool, layer1-4, head) netc's and ORT's sums and
their ratio. ORT's profile files go to a temporary directory. One thread only: on two,
ORT's profiler reported nearly its one-thread time (2026-11-29), so its nodes' times there
say nothing.
"""

import collections
import json
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import onnxruntime as ort

netc, model_dir = sys.argv[1], sys.argv[2]
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 4
passes = int(sys.argv[4]) if len(sys.argv) > 4 else 40
STAGES = ["stem", "max pool", "layer1", "layer2", "layer3", "layer4", "head"]


def netc_stage(name):
    # netc names the repeats of spec `repeat` blocks repeatN.i and a stage's first block
    # bottleneckN (specs/resnet50.yaml): layer1 is repeat1, layerK (K > 1) is
    # bottleneck(K-1) then repeatK.
    if name.startswith("conv1"):
        return "stem"
    if name == "maxpool":
        return "max pool"
    m = re.match(r"repeat(\d)\.", name)
    if m:
        return "layer" + m.group(1)
    m = re.match(r"bottleneck(\d)\.", name)
    if m:
        return "layer" + str(int(m.group(1)) + 1)
    return "head"


def ort_stage(name):
    m = re.search(r"/layer(\d)/", name)
    if m:
        return "layer" + m.group(1)
    if "maxpool" in name:
        return "max pool"
    if name.startswith("/conv1") or name.startswith("/relu"):
        return "stem"
    return "head"


netc_best, ort_best = {}, {}
x = np.load(os.path.join(model_dir, "input_nchw.npy"))
with tempfile.TemporaryDirectory() as scratch:
    for _ in range(rounds):
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.enable_profiling = True
        options.profile_file_prefix = os.path.join(scratch, "ort")
        session = ort.InferenceSession(
            os.path.join(model_dir, "model.onnx"), options, providers=["CPUExecutionProvider"]
        )
        for _ in range(3):
            session.run(None, {"input": x})
        for _ in range(passes):
            session.run(None, {"input": x})
        with open(session.end_profiling()) as f:
            events = json.load(f)
        for e in events:
            if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
                node = e["name"][: -len("_kernel_time")]
                ort_best[node] = min(ort_best.get(node, float("inf")), e["dur"] / 1000)
        err = subprocess.run(
            [netc, "run", "specs/resnet50.yaml", "--input", os.path.join(model_dir, "input.npy"),
             "--weights", os.path.join(model_dir, "weights"), "--threads", "1", "--profile",
             "--repeat-count", str(passes), "--format", "json"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=True,
        ).stderr
        # step  ms  best  share  GFLOP/s  layer
        for line in err.splitlines():
            m = re.match(r"\s*(\d+)\s+([\d.]+)\s+([\d.]+)\s+\S+\s+\S+\s+(\S+)", line)
            if m:
                key = (int(m.group(1)), m.group(4))
                netc_best[key] = min(netc_best.get(key, float("inf")), float(m.group(3)))

if not netc_best or not ort_best:
    sys.exit("stages.py: no steps parsed from netc's or ORT's profile")
netc_sum, ort_sum = collections.Counter(), collections.Counter()
for (_, name), ms in netc_best.items():
    netc_sum[netc_stage(name)] += ms
for name, ms in ort_best.items():
    ort_sum[ort_stage(name)] += ms
print(f"best of {rounds} rounds x {passes} passes, one thread; ms")
print(f"{'stage':9s} {'netc':>8s} {'ORT':>8s} {'netc/ORT':>9s}")
for stage in STAGES:
    n, o = netc_sum[stage], ort_sum[stage]
    print(f"{stage:9s} {n:8.3f} {o:8.3f} {n / o if o else float('nan'):9.2f}")
n, o = sum(netc_sum.values()), sum(ort_sum.values())
print(f"{'total':9s} {n:8.3f} {o:8.3f} {n / o:9.2f}")
