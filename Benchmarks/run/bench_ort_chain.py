#!/usr/bin/env python3
"""Time ONNX Runtime on one chain of layer_chains.py: prints "median_ms best_ms".

Run in the chains' directory: python bench_ort_chain.py NAME THREADS RUNS
"""
import sys
import time

import numpy as np
import onnxruntime as ort

name, threads, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
options = ort.SessionOptions()
options.intra_op_num_threads = threads
options.inter_op_num_threads = 1
session = ort.InferenceSession(f"{name}.onnx", options, providers=["CPUExecutionProvider"])
x = np.load(f"{name}_in_nchw.npy")
for _ in range(3):
    session.run(None, {"input": x})
times = []
for _ in range(runs):
    start = time.perf_counter()
    session.run(None, {"input": x})
    times.append(time.perf_counter() - start)
times.sort()
print(f"{times[len(times) // 2] * 1000:.3f} {times[0] * 1000:.3f}")
