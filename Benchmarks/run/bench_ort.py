#!/usr/bin/env python3
"""Time ONNX Runtime on an exported model: median of N runs after a warm-up, per thread count.

python bench_ort.py MODEL_DIR RUNS THREADS...  -> one line per thread count: "threads ms"
Also writes MODEL_DIR/ort_output.npy.
"""

import os
import statistics
import sys
import time

import numpy as np
import onnxruntime as ort

model_dir, runs = sys.argv[1], int(sys.argv[2])
x = np.load(os.path.join(model_dir, "input_nchw.npy"))
for threads in map(int, sys.argv[3:]):
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    session = ort.InferenceSession(os.path.join(model_dir, "model.onnx"), options, providers=["CPUExecutionProvider"])
    y = session.run(None, {"input": x})[0]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        session.run(None, {"input": x})
        times.append(time.perf_counter() - start)
    np.save(os.path.join(model_dir, "ort_output.npy"), y[0])
    print(threads, f"{statistics.median(times) * 1000:.3f}", f"{min(times) * 1000:.3f}")
