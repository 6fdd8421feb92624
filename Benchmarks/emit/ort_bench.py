"""ONNX Runtime, one thread, on the rows of Benchmarks/emit: prints `name seconds` lines.

Single convs are built with onnx.helper (random weights, NCHW as ONNX wants); ResNet-18
and MobileNet v2 are torchvision's, exported by export_torchvision.py (needs torch).
Timing: median of 50 runs (5 for the whole networks) after 5 warm-up runs. Models are
built with ONNX IR version 13 at most: ONNX Runtime 1.31 rejects onnx's default of 14
("max supported IR version: 13").
"""
import sys, time, os
import numpy as np
import onnx
from onnx import helper, TensorProto
import onnxruntime as ort

IR_VERSION = min(onnx.IR_VERSION, 13)


def model(graph):
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=IR_VERSION)


def conv_model(h, w, cin, cout, k, stride, pad, group=1):
    rng = np.random.default_rng(0)
    wt = rng.uniform(-0.1, 0.1, (cout, cin // group, k, k)).astype(np.float32)
    b = rng.uniform(-0.1, 0.1, (cout,)).astype(np.float32)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, cin, h, w])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    node = helper.make_node("Conv", ["x", "w", "b"], ["y"], kernel_shape=[k, k], strides=[stride, stride],
                            pads=[pad] * 4, group=group)
    g = helper.make_graph([node], "conv", [x], [y],
                          [helper.make_tensor("w", TensorProto.FLOAT, wt.shape, wt.flatten()),
                           helper.make_tensor("b", TensorProto.FLOAT, b.shape, b.flatten())])
    return model(g), (1, cin, h, w)


def sepconv_model(h, w, c, cout, k, pad):
    rng = np.random.default_rng(0)
    dw = rng.uniform(-0.1, 0.1, (c, 1, k, k)).astype(np.float32)
    pw = rng.uniform(-0.1, 0.1, (cout, c, 1, 1)).astype(np.float32)
    bd = np.zeros(c, np.float32); bp = np.zeros(cout, np.float32)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, c, h, w])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    n1 = helper.make_node("Conv", ["x", "dw", "bd"], ["t"], kernel_shape=[k, k], pads=[pad] * 4, group=c)
    n2 = helper.make_node("Conv", ["t", "pw", "bp"], ["y"], kernel_shape=[1, 1])
    inits = [helper.make_tensor(n, TensorProto.FLOAT, a.shape, a.flatten()) for n, a in
             [("dw", dw), ("pw", pw), ("bd", bd), ("bp", bp)]]
    g = helper.make_graph([n1, n2], "sep", [x], [y], inits)
    return model(g), (1, c, h, w)


def time_session(model_bytes, shape, runs):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    s = ort.InferenceSession(model_bytes, opts, providers=["CPUExecutionProvider"])
    name = s.get_inputs()[0].name
    x = np.random.default_rng(1).uniform(-1, 1, shape).astype(np.float32)
    for _ in range(5):
        s.run(None, {name: x})
    ts = []
    for _ in range(runs):
        t = time.perf_counter()
        s.run(None, {name: x})
        ts.append(time.perf_counter() - t)
    return sorted(ts)[len(ts) // 2]


rows = {
    "conv32": conv_model(32, 32, 3, 10, 3, 1, 1),
    "conv56": conv_model(56, 56, 64, 64, 3, 1, 1),
    "conv224": conv_model(224, 224, 3, 64, 7, 2, 3),
    "sep14": sepconv_model(14, 14, 256, 256, 3, 1),
}
print("onnxruntime", ort.__version__, file=sys.stderr)
for name, (m, shape) in rows.items():
    print(name, time_session(m.SerializeToString(), shape, 50), flush=True)
here = os.path.dirname(os.path.abspath(__file__))
for name in ["resnet18", "mobilenet_v2"]:
    path = os.path.join(sys.argv[1] if len(sys.argv) > 1 else "/tmp", name + ".onnx")
    if os.path.exists(path):
        print(name, time_session(open(path, "rb").read(), (1, 3, 224, 224), 5), flush=True)
