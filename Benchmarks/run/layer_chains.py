#!/usr/bin/env python3
"""Chains of 8 convs (bias + ReLU each; the two stems alone) in the shapes of ResNet-50 and
MobileNet v2, as ONNX models for ONNX Runtime and as netc specs, so one layer shape can be
timed without the rest of the network; ORT's layout conversions at the ends are amortised
over the chain. The ONNX weights are random; netc draws its own (`--seed`): only the time
is compared.

python layer_chains.py OUT_DIR  -> OUT_DIR/NAME.onnx, NAME.yaml, NAME_in.npy (HxWxC), NAME_in_nchw.npy
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

# name: (H = W, input channels, [(cin, cout, kernel, stride, pad), ...])
chains = {
 "r50_conv1": (224, 3, [(3, 64, 7, 2, 3)]),
 "l1_pw": (56, 64, [(64, 256, 1, 1, 0), (256, 64, 1, 1, 0)] * 4),
 "l1_c3": (56, 64, [(64, 64, 3, 1, 1)] * 8),
 "l2_pw": (28, 128, [(128, 512, 1, 1, 0), (512, 128, 1, 1, 0)] * 4),
 "l2_c3": (28, 128, [(128, 128, 3, 1, 1)] * 8),
 "l3_pw": (14, 256, [(256, 1024, 1, 1, 0), (1024, 256, 1, 1, 0)] * 4),
 "l3_c3": (14, 256, [(256, 256, 3, 1, 1)] * 8),
 "l4_pw": (7, 512, [(512, 2048, 1, 1, 0), (2048, 512, 1, 1, 0)] * 4),
 "l4_c3": (7, 512, [(512, 512, 3, 1, 1)] * 8),
 "mb_conv1": (224, 3, [(3, 32, 3, 2, 1)]),
 "mb_pw16": (112, 32, [(32, 16, 1, 1, 0), (16, 32, 1, 1, 0)] * 4),
 "mb_pw24": (56, 144, [(144, 24, 1, 1, 0), (24, 144, 1, 1, 0)] * 4),
}
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
os.chdir(out)
rng = np.random.default_rng(0)
for name, (H, ci0, convs) in chains.items():
    nodes, inits, layers = [], [], []
    cur, h = "input", H
    for i, (ci, co, k, s, p) in enumerate(convs):
        w = (rng.standard_normal((co, ci, k, k)) * (2.0 / (ci * k * k)) ** 0.5).astype(np.float32)
        b = (rng.standard_normal(co) * 0.1).astype(np.float32)
        inits += [numpy_helper.from_array(w, f"w{i}"), numpy_helper.from_array(b, f"b{i}")]
        nodes += [helper.make_node("Conv", [cur, f"w{i}", f"b{i}"], [f"c{i}"], kernel_shape=[k, k], strides=[s, s], pads=[p] * 4),
                  helper.make_node("Relu", [f"c{i}"], [f"r{i}"])]
        cur = f"r{i}"; h = (h + 2 * p - k) // s + 1
        layers.append(f"  - CONV{k}-{co} stride {s} pad {p}\n  - RELU\n")
    x = helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, ci0, H, H])
    y = helper.make_tensor_value_info(cur, TensorProto.FLOAT, [1, convs[-1][1], h, h])
    g = helper.make_graph(nodes, name, [x], [y], inits)
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), f"{name}.onnx")
    xin = rng.standard_normal((1, ci0, H, H)).astype(np.float32)
    np.save(f"{name}_in_nchw.npy", xin); np.save(f"{name}_in.npy", xin[0].transpose(1, 2, 0).copy())
    open(f"{name}.yaml", "w").write(f"netspec: 1\nname: {name}\ninput: {H}x{H}x{ci0}\nlayers:\n" + "".join(layers))
    print(name)
