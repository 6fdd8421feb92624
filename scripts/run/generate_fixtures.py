#!/usr/bin/env python3
"""Generate PyTorch reference fixtures for `netc run` (forward, loss and gradients).

Each case is a small netspec (YAML text) and the same network written by hand with
PyTorch's functional ops (F.conv1d/2d/3d, F.max_pool*, F.avg_pool*, F.batch_norm, ...),
so the reference is independent of netc. Everything is computed in float64: inputs,
weights (PyTorch layouts), the output, the loss and, by autograd, the gradient of the
loss with respect to every learnable parameter and the input.

Tensors in the fixtures are channels-last without the batch axis, as netc writes them:
(1, C, H, W) -> [H, W, C], (1, C, L) -> [L, C], (1, C, D, H, W) -> [D, H, W, C], (1, N) -> [N].
Asymmetric padding (`pad same` with an odd total) is F.pad with the odd unit at the end,
followed by an unpadded conv/pool; `run` is inference, so BN uses running statistics.

Output: Tests/NetcBackendsTests/Fixtures/torch/<case>.json
Run:    /work/venv-torch/bin/python scripts/run/generate_fixtures.py
"""

import json
import os

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT_DIR = os.path.join(REPO_ROOT, "Tests", "NetcBackendsTests", "Fixtures", "torch")
GEN = torch.Generator().manual_seed(20240601)


def rand(*shape, scale=1.0, positive=False):
    t = torch.randn(*shape, generator=GEN) * scale
    return t.abs() + 0.5 if positive else t


def to_torch(x):
    """Channels-last without batch -> (1, C, ...)."""
    if x.dim() == 1:
        return x.unsqueeze(0)
    perm = [x.dim() - 1] + list(range(x.dim() - 1))
    return x.permute(*perm).unsqueeze(0)


def to_netc(y):
    """(1, C, ...) -> channels-last without batch."""
    y = y.squeeze(0)
    if y.dim() == 1:
        return y
    perm = list(range(1, y.dim())) + [0]
    return y.permute(*perm)


def conv(x, w, b=None, stride=1, pad=0, dilation=1, groups=1):
    nd = x.dim() - 2
    fn = [None, F.conv1d, F.conv2d, F.conv3d][nd]
    if isinstance(pad, tuple) and isinstance(pad[0], tuple):
        # ((begin, end) per axis) -> F.pad wants the last axis first.
        flat = []
        for begin, end in reversed(pad):
            flat += [begin, end]
        x = F.pad(x, flat)
        pad = 0
    return fn(x, w, b, stride=stride, padding=pad, dilation=dilation, groups=groups)


def bn(x, p, eps=1e-5):
    return F.batch_norm(x, p["mean"], p["var"], p["gamma"], p["beta"], training=False, eps=eps)


def conv_params(cout, cin_g, *k, bias=True, scale=0.5):
    p = {"weight": rand(cout, cin_g, *k, scale=scale)}
    if bias:
        p["bias"] = rand(cout, scale=0.5)
    return p


def bn_params(c):
    return {"gamma": rand(c, positive=True), "beta": rand(c, scale=0.3),
            "mean": rand(c, scale=0.3), "var": rand(c, positive=True)}


def fc_params(out, inp, bias=True):
    p = {"weight": rand(out, inp, scale=0.5)}
    if bias:
        p["bias"] = rand(out, scale=0.5)
    return p


CASES = []
# Every tensor key training updates (BN's running statistics are buffers).
LEARNABLE = ("weight", "bias", "gamma", "beta", "wq", "bq", "wk", "bk", "wv", "bv", "wo", "bo")


def case(name, spec, input_shape, params, loss="sse", target=None):
    def register(fn):
        CASES.append((name, spec, input_shape, params, loss, target, fn))
        return fn
    return register


# --- 2-D convolutions -------------------------------------------------------

@case("conv2d_basic", "input: 5x5x2\nlayers: [CONV3-3 pad 1 name c, RELU]", (5, 5, 2),
      {"c": conv_params(3, 2, 3, 3)})
def _(x, p):
    return F.relu(conv(x, p["c"]["weight"], p["c"]["bias"], pad=1))


@case("conv2d_strided_rect", "input: 7x6x3\nlayers: [\"CONV3x2-4 stride 2,1 pad 1,0 name c\"]", (7, 6, 3),
      {"c": conv_params(4, 3, 3, 2)})
def _(x, p):
    return conv(x, p["c"]["weight"], p["c"]["bias"], stride=(2, 1), pad=(1, 0))


@case("conv2d_same_asymmetric", "input: 6x6x2\nlayers: [CONV3-3 stride 2 pad same bias false name c]", (6, 6, 2),
      {"c": conv_params(3, 2, 3, 3, bias=False)})
def _(x, p):
    # TensorFlow's same: out 3, total pad (3-1)*2 + 3 - 6 = 1, all of it at the end.
    return conv(x, p["c"]["weight"], None, stride=2, pad=((0, 1), (0, 1)))


@case("conv2d_dilated", "input: 7x7x2\nlayers: [CONV3-2 dilation 2 pad 2 name c, TANH]", (7, 7, 2),
      {"c": conv_params(2, 2, 3, 3)})
def _(x, p):
    return torch.tanh(conv(x, p["c"]["weight"], p["c"]["bias"], pad=2, dilation=2))


@case("conv2d_grouped", "input: 5x5x4\nlayers: [CONV3-6 groups 2 pad 1 stride 2 name c]", (5, 5, 4),
      {"c": conv_params(6, 2, 3, 3)})
def _(x, p):
    return conv(x, p["c"]["weight"], p["c"]["bias"], pad=1, stride=2, groups=2)


@case("dwconv", "input: 6x6x3\nlayers: [DWCONV3 pad 1 stride 2 name d, DWCONV3-2 pad 1 name m, PWCONV-2 name pw]", (6, 6, 3),
      {"d": conv_params(3, 1, 3, 3), "m": conv_params(6, 1, 3, 3), "pw": conv_params(2, 6, 1, 1)})
def _(x, p):
    y = conv(x, p["d"]["weight"], p["d"]["bias"], pad=1, stride=2, groups=3)
    y = conv(y, p["m"]["weight"], p["m"]["bias"], pad=1, groups=3)
    return conv(y, p["pw"]["weight"], p["pw"]["bias"])


# --- 1-D and 3-D convolutions ---------------------------------------------

@case("conv1d", "input: 11x3\nlayers: [CONV3-4 stride 2 pad 1 dilation 2 name a, CONV2-4 groups 2 pad same name b, RELU6]", (11, 3),
      {"a": conv_params(4, 3, 3, scale=2.0), "b": conv_params(4, 2, 2, scale=2.0)})
def _(x, p):
    y = conv(x, p["a"]["weight"], p["a"]["bias"], stride=2, pad=1, dilation=2)
    # same with k 2, stride 1: total pad 1, at the end.
    y = conv(y, p["b"]["weight"], p["b"]["bias"], pad=((0, 1),), groups=2)
    return F.hardtanh(y, 0, 6)  # RELU6


@case("conv3d", "input: 4x5x5x2\nlayers: [\"CONV3-3 pad 1 stride 2,1,2 name c\", POOL-2 stride 1]", (4, 5, 5, 2),
      {"c": conv_params(3, 2, 3, 3, 3)})
def _(x, p):
    y = conv(x, p["c"]["weight"], p["c"]["bias"], pad=1, stride=(2, 1, 2))
    return F.max_pool3d(y, 2, stride=1)


# --- pooling ------------------------------------------------------------------

@case("maxpool_ceil", "input: 8x8x2\nlayers: [POOL-3 stride 2 round ceil, POOL-2 pad 1]", (8, 8, 2), {})
def _(x, p):
    return F.max_pool2d(F.max_pool2d(x, 3, stride=2, ceil_mode=True), 2, padding=1)


@case("avgpool_ceil_padded", "input: 7x7x2\nlayers: [AVGPOOL-3 stride 2 pad 1 round ceil, AVGPOOL-2]", (7, 7, 2), {})
def _(x, p):
    y = F.avg_pool2d(x, 3, stride=2, padding=1, ceil_mode=True)
    return F.avg_pool2d(y, 2)


@case("pool1d", "input: 9x2\nlayers: [POOL-3 stride 2 round ceil, AVGPOOL-2 stride 1 pad 1]", (9, 2), {})
def _(x, p):
    y = F.max_pool1d(x, 3, stride=2, ceil_mode=True)
    return F.avg_pool1d(y, 2, stride=1, padding=1)


@case("global_pools", "input: 4x3x3\nlayers:\n  - parallel:\n      merge: concat\n      branches: [[GAP], [GMP]]\n  - FLATTEN\n  - SIGMOID", (4, 3, 3), {})
def _(x, p):
    a = F.adaptive_avg_pool2d(x, 1)
    m = F.adaptive_max_pool2d(x, 1)
    return torch.sigmoid(torch.flatten(torch.cat([a, m], 1), 1))


# --- BN, activations, FC ------------------------------------------------------

@case("bn_activations", "input: 4x4x3\nlayers: [CONV3-3 pad 1 bias false name c, BN eps 0.001 name n, LEAKYRELU slope 0.2, GELU, DROPOUT p 0.3, IDENTITY]", (4, 4, 3),
      {"c": conv_params(3, 3, 3, 3, bias=False), "n": bn_params(3)})
def _(x, p):
    y = bn(conv(x, p["c"]["weight"], pad=1), p["n"], eps=1e-3)
    return F.gelu(F.leaky_relu(y, 0.2))


@case("flatten_fc", "input: 3x2x4\nlayers: [FLATTEN, FC-5 name f1, TANH, FC-3 bias false name f2]", (3, 2, 4),
      {"f1": fc_params(5, 24), "f2": fc_params(3, 5, bias=False)}, loss="mse")
def _(x, p):
    y = torch.flatten(x, 1)  # channel-major: C, then H, then W
    y = torch.tanh(F.linear(y, p["f1"]["weight"], p["f1"]["bias"]))
    return F.linear(y, p["f2"]["weight"])


@case("softmax_cross_entropy", "input: 5x5x2\nlayers: [CONV3-3 name c, RELU, FLATTEN, FC-4 name f]", (5, 5, 2),
      {"c": conv_params(3, 2, 3, 3), "f": fc_params(4, 27)}, loss="cross-entropy", target=2)
def _(x, p):
    y = F.relu(conv(x, p["c"]["weight"], p["c"]["bias"]))
    return F.linear(torch.flatten(y, 1), p["f"]["weight"], p["f"]["bias"])


@case("softmax_layer", "input: 3x4\nlayers: [CONV1-5 name c, SOFTMAX]", (3, 4),
      {"c": conv_params(5, 4, 1)}, loss="half-sse")
def _(x, p):
    return F.softmax(conv(x, p["c"]["weight"], p["c"]["bias"]), dim=1)  # over channels = last axis


# --- structures ---------------------------------------------------------------

RES_SPEC = """input: 6x6x3
layers:
  - residual:
      name: r1
      body: [CONV3-4 stride 2 pad 1 bias false, BN, RELU, CONV3-4 pad 1 bias false, BN]
      shortcut: auto
  - RELU
  - residual:
      name: r2
      body: [CONV3-4 pad 1, RELU]
"""


@case("residual", RES_SPEC, (6, 6, 3), {
    "r1.body.conv1": conv_params(4, 3, 3, 3, bias=False), "r1.body.bn1": bn_params(4),
    "r1.body.conv2": conv_params(4, 4, 3, 3, bias=False), "r1.body.bn2": bn_params(4),
    "r1.shortcut.conv1": conv_params(4, 3, 1, 1, bias=False), "r1.shortcut.bn1": bn_params(4),
    "r2.body.conv1": conv_params(4, 4, 3, 3)})
def _(x, p):
    b = F.relu(bn(conv(x, p["r1.body.conv1"]["weight"], stride=2, pad=1), p["r1.body.bn1"]))
    b = bn(conv(b, p["r1.body.conv2"]["weight"], pad=1), p["r1.body.bn2"])
    s = bn(conv(x, p["r1.shortcut.conv1"]["weight"], stride=2), p["r1.shortcut.bn1"])
    y = F.relu(b + s)
    return y + F.relu(conv(y, p["r2.body.conv1"]["weight"], p["r2.body.conv1"]["bias"], pad=1))


PAR_SPEC = """input: 5x5x3
layers:
  - parallel:
      name: p1
      merge: concat
      branches:
        - [CONV1-2]
        - [CONV3-3 pad 1, RELU]
  - parallel:
      name: p2
      merge: add
      branches:
        - [CONV1-2]
        - [IDENTITY, CONV3-2 pad 1]
"""


@case("parallel", PAR_SPEC, (5, 5, 3), {
    "p1.branch1.conv1": conv_params(2, 3, 1, 1), "p1.branch2.conv1": conv_params(3, 3, 3, 3),
    "p2.branch1.conv1": conv_params(2, 5, 1, 1), "p2.branch2.conv1": conv_params(2, 5, 3, 3)})
def _(x, p):
    a = conv(x, p["p1.branch1.conv1"]["weight"], p["p1.branch1.conv1"]["bias"])
    b = F.relu(conv(x, p["p1.branch2.conv1"]["weight"], p["p1.branch2.conv1"]["bias"], pad=1))
    y = torch.cat([a, b], 1)
    return (conv(y, p["p2.branch1.conv1"]["weight"], p["p2.branch1.conv1"]["bias"])
            + conv(y, p["p2.branch2.conv1"]["weight"], p["p2.branch2.conv1"]["bias"], pad=1))


# ------------------------------------------------------------------------------

def nested(t):
    return t.detach().tolist()


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    for name, spec, input_shape, params, loss, target, fn in CASES:
        tokens = isinstance(input_shape, dict)
        if tokens:
            # Token ids (`input: T tokens`): int64, passed to the case as they are.
            x = torch.randint(0, input_shape["vocab"], (input_shape["length"],), generator=GEN)
        else:
            x = rand(*input_shape).requires_grad_(True)
        for layer in params.values():
            for key, t in layer.items():
                if key in LEARNABLE:
                    t.requires_grad_(True)
        y = to_netc(fn(x if tokens else to_torch(x), params))
        if loss == "cross-entropy" and isinstance(target, list):
            # One target per position of `LxV` logits (a language model): the mean.
            value = F.cross_entropy(y, torch.tensor(target))
            target_out = target
        elif loss == "cross-entropy":
            t = torch.tensor(target)
            value = F.cross_entropy(y.reshape(1, -1), t.reshape(1))
            target_out = target
        else:
            t = rand(*y.shape)
            d = y - t
            value = {"sse": (d * d).sum(), "half-sse": 0.5 * (d * d).sum(), "mse": (d * d).mean()}[loss]
            target_out = nested(t)
        value.backward()
        gradients = {}
        for layer, tensors in params.items():
            for key in LEARNABLE:
                if key in tensors:
                    gradients[f"{layer}.{key}"] = nested(tensors[key].grad)
        if not tokens:
            gradients["input"] = nested(x.grad)
        fixture = {
            "name": name,
            "spec": f"name: {name}\n{spec}",
            "input": nested(x),
            "weights": {layer: {k: nested(v) for k, v in tensors.items()} for layer, tensors in params.items()},
            "loss": loss,
            "target": target_out,
            "output": nested(y),
            "loss_value": value.item(),
            "gradients": gradients,
        }
        path = os.path.join(OUT_DIR, f"{name}.json")
        with open(path, "w") as f:
            json.dump(fixture, f)
            f.write("\n")
        print(f"{path}: output {list(y.shape)}, loss {value.item():.6g}")


if __name__ == "__main__":
    main()
