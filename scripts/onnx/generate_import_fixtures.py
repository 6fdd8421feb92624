#!/usr/bin/env python3
"""Small ONNX models for the Swift tests of `netc import`, each with its expected figures
and ONNX Runtime's output, in Tests/NetcONNXTests/Fixtures/import/.

Good models come from torch.onnx.export (the TorchScript exporter, BN kept or folded) and
onnx.helper (MatMul + Add, external data); `expected.json` holds, per model, PyTorch's
params/buffers/MACs (counted as in verify_import.py) or the arithmetic beside the helper
graph, the input (NCHW, flattened) and ONNX Runtime's output on it. Broken models (an
unknown op, truncated bytes, a huge declared length, deep nesting, external data outside
the folder) are written byte by byte. Usage: generate_import_fixtures.py
"""
import json
import os
import warnings

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "Tests", "NetcONNXTests", "Fixtures", "import")
nn = torch.nn


class TinyCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(4)
        self.relu = nn.ReLU()
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(4 * 4 * 4, 5)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.relu(self.bn1(self.conv1(x)))), 1))


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU6()
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        return torch.relu(y + (x if self.downsample is None else self.downsample(x)))


class TinyResidual(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 4, 3, padding=1)
        self.block1 = Block(4, 4, 1)
        self.block2 = Block(4, 8, 2)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, 3)

    def forward(self, x):
        return self.fc(torch.flatten(self.gap(self.block2(self.block1(self.stem(x)))), 1))


class TinyRepeat(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 4, 3, padding=1)
        self.layer1 = nn.Sequential(Block(4, 4, 1), Block(4, 4, 1), Block(4, 4, 1))
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        return self.fc(torch.flatten(self.gap(self.layer1(self.stem(x))), 1))


class TinyConcat(nn.Module):
    def __init__(self):
        super().__init__()
        self.b1 = nn.Conv2d(3, 2, 1)
        self.b2 = nn.Sequential(nn.Conv2d(3, 2, 1), nn.Sigmoid(), nn.Conv2d(2, 3, 3, padding=1, groups=1))
        self.b3 = nn.AvgPool2d(3, 1, 1)
        self.dw = nn.Conv2d(8, 8, 3, padding=1, groups=8)

    def forward(self, x):
        y = torch.cat([self.b1(x), self.b2(x), self.b3(x)], 1)
        y = self.dw(y)
        return y * torch.sigmoid(y)


class TinyDecoder(nn.Module):
    """The ops of a decoder: zero padding, GELU (exact), nearest and bilinear upsampling, a
    transposed conv with output padding."""

    def __init__(self):
        super().__init__()
        self.pad = nn.ZeroPad2d((1, 2, 0, 1))  # left, right, top, bottom
        self.conv = nn.Conv2d(3, 4, 3)
        self.act = nn.GELU()
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.deconv = nn.ConvTranspose2d(4, 3, 3, stride=2, padding=1, output_padding=1)
        self.smooth = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)

    def forward(self, x):
        return self.smooth(self.deconv(self.up(self.act(self.conv(self.pad(x))))))


class TinyELU(nn.Module):
    """A CNN with ELU (one Elu node), which netc does not import."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, padding=1)
        self.relu = nn.ReLU()
        self.elu = nn.ELU()
        self.conv2 = nn.Conv2d(4, 6, 1)
        self.fc = nn.Linear(6, 2)

    def forward(self, x):
        y = self.conv2(self.elu(self.relu(self.conv1(x))))
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(y, 1), 1))


def seeded(model):
    torch.manual_seed(0)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            with torch.no_grad():
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
    return model.eval()


def torch_figures(model, x, folded):
    params = sum(p.numel() for p in model.parameters())
    buffers = sum(2 * m.num_features for m in model.modules() if isinstance(m, nn.BatchNorm2d))
    if folded:
        mods = list(model.modules())
        for prev, m in zip(mods, mods[1:]):
            if isinstance(m, nn.BatchNorm2d) and isinstance(prev, nn.Conv2d):
                params -= 2 * m.num_features - (prev.out_channels if prev.bias is None else 0)
        buffers = 0
    macs = []
    hooks = [m.register_forward_hook(lambda m, i, o: macs.append(o.numel() * m.in_channels // m.groups * int(np.prod(m.kernel_size))))
             for m in model.modules() if isinstance(m, nn.Conv2d)]
    hooks += [m.register_forward_hook(lambda m, i, o: macs.append(m.in_features * m.out_features))
              for m in model.modules() if isinstance(m, nn.Linear)]
    # A transposed conv: every input element times its Cout/groups x k filters.
    hooks += [m.register_forward_hook(lambda m, i, o: macs.append(i[0].numel() * m.out_channels // m.groups * int(np.prod(m.kernel_size))))
              for m in model.modules() if isinstance(m, nn.ConvTranspose2d)]
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    return {"params": params, "buffers": buffers, "macs": sum(macs)}


def run_ort(path, x):
    s = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    return s.run(None, {s.get_inputs()[0].name: x})[0]


def main():
    os.makedirs(OUT, exist_ok=True)
    expected = {}
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 3, 8, 8)).astype(np.float32)
    xt = torch.from_numpy(x)
    for name, model, folding in [("cnn_bn_kept", TinyCNN(), False), ("cnn_bn_folded", TinyCNN(), True),
                                 ("residual", TinyResidual(), True), ("concat", TinyConcat(), True),
                                 ("repeat", TinyRepeat(), True)]:
        model = seeded(model)
        path = os.path.join(OUT, name + ".onnx")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(model, (xt,), path, input_names=["x"], dynamo=False, opset_version=13 if folding else 17,
                              do_constant_folding=folding, dynamic_axes={"x": {0: "N"}})
        y = run_ort(path, x)
        expected[name] = dict(torch_figures(model, xt, folding), input=x.ravel().tolist(), input_shape=list(x.shape),
                              output=y.ravel().tolist(), output_shape=list(y.shape))

    # A decoder on a 4x4 input (its own generator, so the models above keep their inputs):
    # 4x4 padded to 5x7, conv 3x5, nearest 6x10, deconv (6-1)*2 - 2 + 2 + 1 + 1 = 12 by 20,
    # bilinear 24x40.
    xd = np.random.default_rng(1).standard_normal((1, 3, 4, 4)).astype(np.float32)
    model = seeded(TinyDecoder())
    path = os.path.join(OUT, "decoder.onnx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (torch.from_numpy(xd),), path, input_names=["x"], dynamo=False, opset_version=17,
                          do_constant_folding=True)
    y = run_ort(path, xd)
    expected["decoder"] = dict(torch_figures(model, torch.from_numpy(xd), False), input=xd.ravel().tolist(),
                               input_shape=list(xd.shape), output=y.ravel().tolist(), output_shape=list(y.shape))

    # An MLP as MatMul + Add (what Keras and hand-written graphs give), its weights in an
    # external data file. params = 6*4 + 4 + 4*2 + 2 = 38; MACs = 6*4 + 4*2 = 32.
    w1 = rng.standard_normal((6, 4)).astype(np.float32)
    b1 = rng.standard_normal(4).astype(np.float32)
    w2 = rng.standard_normal((4, 2)).astype(np.float32)
    b2 = rng.standard_normal(2).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w1"], ["h"], name="dense1/MatMul"),
         helper.make_node("Add", ["h", "b1"], ["hb"], name="dense1/Add"),
         helper.make_node("Relu", ["hb"], ["a"], name="act1"),
         helper.make_node("MatMul", ["a", "w2"], ["o"], name="dense2/MatMul"),
         helper.make_node("Add", ["o", "b2"], ["y"], name="dense2/Add"),
         helper.make_node("Softmax", ["y"], ["p"], name="softmax", axis=1)],
        "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 6])],
        [helper.make_tensor_value_info("p", TensorProto.FLOAT, ["N", 2])],
        [numpy_helper.from_array(a, n) for a, n in [(w1, "w1"), (b1, "b1"), (w2, "w2"), (b2, "b2")]])
    mlp = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    path = os.path.join(OUT, "mlp_external.onnx")
    onnx.save_model(mlp, path, save_as_external_data=True, all_tensors_to_one_file=True,
                    location="mlp_external.onnx.data", size_threshold=0)
    xm = rng.standard_normal((1, 6)).astype(np.float32)
    y = run_ort(path, xm)
    expected["mlp_external"] = dict(params=38, buffers=0, macs=32, input=xm.ravel().tolist(), input_shape=[1, 6],
                                    output=y.ravel().tolist(), output_shape=list(y.shape))

    # `--partial` of a model with ELU after the first conv and ReLU: the spec is the part
    # before it, whose figures and output are PyTorch's for conv1 and relu alone.
    model = seeded(TinyELU())
    path = os.path.join(OUT, "partial_elu.onnx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (xt,), path, input_names=["x"], dynamo=False, opset_version=17,
                          dynamic_axes={"x": {0: "N"}})
    head = nn.Sequential(model.conv1, model.relu)
    with torch.no_grad():
        y = head(xt).numpy()
    expected["partial_elu"] = dict(torch_figures(head, xt, False), input=x.ravel().tolist(), input_shape=list(x.shape),
                                   output=y.ravel().tolist(), output_shape=list(y.shape))

    # A dilated AveragePool (opset 19) after a 1x1 conv, on a 10x10 input: kernel 3, stride 2,
    # dilation 2, pads 1, ceil mode (5 windows, not floor's 4), padding counted; the last
    # window's taps 7, 9, 11 reach past the padding (2 of 3 counted).
    # params = 4*3 + 4 = 16; MACs = 4 * 10*10 * 3 = 1200. ONNX Runtime divides by the dilated
    # taps inside the padded input, as netc does.
    wc = rng.standard_normal((4, 3, 1, 1)).astype(np.float32)
    bc = rng.standard_normal(4).astype(np.float32)
    g = helper.make_graph([helper.make_node("Conv", ["x", "wc", "bc"], ["c"], name="conv"),
                           helper.make_node("AveragePool", ["c"], ["y"], name="pool", kernel_shape=[3, 3], strides=[2, 2],
                                            dilations=[2, 2], pads=[1, 1, 1, 1], ceil_mode=1, count_include_pad=1)],
                          "dilated", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 10, 10])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                          [numpy_helper.from_array(wc, "wc"), numpy_helper.from_array(bc, "bc")])
    path = os.path.join(OUT, "avgpool_dilated.onnx")
    onnx.save_model(helper.make_model(g, opset_imports=[helper.make_opsetid("", 19)], ir_version=9), path)
    xa = rng.standard_normal((1, 3, 10, 10)).astype(np.float32)
    y = run_ort(path, xa)
    expected["avgpool_dilated"] = dict(params=16, buffers=0, macs=1200, input=xa.ravel().tolist(), input_shape=list(xa.shape),
                                       output=y.ravel().tolist(), output_shape=list(y.shape))

    # Broken models.
    def one_node(op, inputs, **attrs):
        g = helper.make_graph([helper.make_node(op, ["x"] + inputs, ["y"], name="odd", **attrs)], "bad",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 4, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
        return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)

    onnx.save_model(one_node("LRN", [], size=3), os.path.join(OUT, "unknown_op.onnx"))
    # A branch left out: relu(conv(x)) + LRN(conv(x)); `--partial` ends the spec at the ReLU
    # and lists the LRN and the Add that reads it.
    w = numpy_helper.from_array(np.ones((4, 3, 1, 1), np.float32), "w")
    g = helper.make_graph([helper.make_node("Conv", ["x", "w"], ["c"], name="conv"),
                           helper.make_node("Relu", ["c"], ["a"], name="act"),
                           helper.make_node("LRN", ["c"], ["n"], name="norm", size=3),
                           helper.make_node("Add", ["a", "n"], ["y"], name="merge")], "branch",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 4, 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [w])
    onnx.save_model(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=8),
                    os.path.join(OUT, "partial_branch.onnx"))
    good = open(os.path.join(OUT, "cnn_bn_kept.onnx"), "rb").read()
    open(os.path.join(OUT, "truncated.onnx"), "wb").write(good[: len(good) // 2])
    # ModelProto field 7 (graph), length-delimited, declaring 2^40 bytes it does not have.
    open(os.path.join(OUT, "huge_length.onnx"), "wb").write(bytes([0x08, 0x08, 0x3A]) + bytes([0x80, 0x80, 0x80, 0x80, 0x80, 0x20]))
    # Graphs nested 200 deep: Graph.node (1) -> Node.attribute (5) -> Attribute.g (6) -> Graph ...
    inner = b""
    for _ in range(200):
        attr = b"\x32" + varint(len(inner)) + inner  # AttributeProto.g = field 6
        node = b"\x2a" + varint(len(attr)) + attr  # NodeProto.attribute = field 5
        inner = b"\x0a" + varint(len(node)) + node  # GraphProto.node = field 1
    open(os.path.join(OUT, "deep_nesting.onnx"), "wb").write(b"\x08\x08\x3a" + varint(len(inner)) + inner)
    # External data outside the model's folder.
    for name, location in [("escaping_data", "../escaping_data.bin"), ("absolute_data", "/etc/passwd")]:
        t = numpy_helper.from_array(np.ones((4, 3, 1, 1), np.float32), "w")
        t.data_location = TensorProto.EXTERNAL
        del t.external_data[:]
        t.ClearField("raw_data")
        entry = t.external_data.add()
        entry.key, entry.value = "location", location
        m = one_node("Conv", ["w"])
        m.graph.initializer.append(t)
        onnx.save_model(m, os.path.join(OUT, name + ".onnx"))

    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")


def varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


if __name__ == "__main__":
    main()
