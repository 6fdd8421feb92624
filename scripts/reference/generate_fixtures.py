#!/usr/bin/env python3
"""Generate PyTorch/torchvision reference fixtures for netc's tests.

For each reference network this script builds the model with random weights
(`weights=None`), runs one forward pass on a batch-1 input, and records with
forward hooks on every leaf module, in execution order, one entry per call:

    {"module": "layer1.0.conv1", "type": "Conv2d", "output": [56, 56, 64],
     "params": 36864, "macs": 115605504}

Shapes are written channels-last without the batch axis, as netc writes them:
(1, C, H, W) -> [H, W, C], (1, C, L) -> [L, C], (1, N) -> [N].
MACs follow the netspec language's counting convention ("Figures"):
Conv = weight.numel() * prod(output spatial extents), Linear = in_features *
out_features, everything else 0.

Output: Tests/NetcPassesTests/Fixtures/reference/<net>.json (one per network).
Run:    /work/venv-torch/bin/python scripts/reference/generate_fixtures.py [net ...]
"""

import json
import math
import os
import sys
from collections import OrderedDict

import torch
import torch.nn as nn

# torchvision's compiled ops may not load against the installed torch (its
# fake-kernel registrations fail at import).  Its models are plain Python, so
# import it with register_fake temporarily made a no-op decorator.
_register_fake = torch.library.register_fake
torch.library.register_fake = lambda *args, **kwargs: (lambda fn: fn)
try:
    import torchvision
    import torchvision.models as tvm
finally:
    torch.library.register_fake = _register_fake

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT_DIR = os.path.join(REPO_ROOT, "Tests", "NetcPassesTests", "Fixtures", "reference")
SEED = 0


# --------------------------------------------------------------------------
# Networks not in torchvision
# --------------------------------------------------------------------------

class LeNet5(nn.Module):
    """Classic LeNet-5 on 32x32x1: tanh activations, 2x2 average pooling."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.c1 = nn.Conv2d(1, 6, kernel_size=5)
        self.tanh1 = nn.Tanh()
        self.s2 = nn.AvgPool2d(kernel_size=2)
        self.c3 = nn.Conv2d(6, 16, kernel_size=5)
        self.tanh2 = nn.Tanh()
        self.s4 = nn.AvgPool2d(kernel_size=2)
        self.c5 = nn.Conv2d(16, 120, kernel_size=5)
        self.tanh3 = nn.Tanh()
        self.flatten = nn.Flatten()
        self.f6 = nn.Linear(120, 84)
        self.tanh4 = nn.Tanh()
        self.output = nn.Linear(84, num_classes)

    def forward(self, x):
        x = self.s2(self.tanh1(self.c1(x)))
        x = self.s4(self.tanh2(self.c3(x)))
        x = self.flatten(self.tanh3(self.c5(x)))
        return self.output(self.tanh4(self.f6(x)))


def _conv_bn_relu(cin, cout, kernel, stride, groups=1):
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class DepthwiseSeparable(nn.Module):
    """MobileNet v1 block: dw3x3 + BN + ReLU, then pw1x1 + BN + ReLU."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.dw = _conv_bn_relu(cin, cin, 3, stride, groups=cin)
        self.pw = _conv_bn_relu(cin, cout, 1, 1)

    def forward(self, x):
        return self.pw(self.dw(x))


class MobileNetV1(nn.Module):
    """MobileNet v1 1.0/224 (Howard et al. 2017, Table 1)."""

    # (output channels, stride) of the 13 depthwise-separable blocks
    BLOCKS = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
              (512, 1), (512, 1), (512, 1), (512, 1), (512, 1),
              (1024, 2), (1024, 1)]

    def __init__(self, num_classes=1000):
        super().__init__()
        layers = [_conv_bn_relu(3, 32, 3, 2)]
        cin = 32
        for cout, stride in self.BLOCKS:
            layers.append(DepthwiseSeparable(cin, cout, stride))
            cin = cout
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(cin, num_classes)

    def forward(self, x):
        x = self.avgpool(self.features(x))
        return self.fc(torch.flatten(x, 1))


# --------------------------------------------------------------------------
# The reference list: name -> (constructor, source text, input HxWxC)
# --------------------------------------------------------------------------

NETWORKS = OrderedDict([
    ("lenet5", (LeNet5, "LeNet5 in scripts/reference/generate_fixtures.py", (32, 32, 1))),
    ("alexnet", (lambda: tvm.alexnet(weights=None), "torchvision {tv} alexnet(weights=None)", (224, 224, 3))),
    ("vgg16", (lambda: tvm.vgg16(weights=None), "torchvision {tv} vgg16(weights=None)", (224, 224, 3))),
    ("resnet18", (lambda: tvm.resnet18(weights=None), "torchvision {tv} resnet18(weights=None)", (224, 224, 3))),
    ("resnet50", (lambda: tvm.resnet50(weights=None), "torchvision {tv} resnet50(weights=None)", (224, 224, 3))),
    ("mobilenet_v1", (MobileNetV1, "MobileNetV1 in scripts/reference/generate_fixtures.py", (224, 224, 3))),
    ("mobilenet_v2", (lambda: tvm.mobilenet_v2(weights=None), "torchvision {tv} mobilenet_v2(weights=None)", (224, 224, 3))),
])


# --------------------------------------------------------------------------
# Recording
# --------------------------------------------------------------------------

def channels_last(shape):
    """Torch output shape with batch 1 -> netc's channels-last shape without batch."""
    shape = list(shape)
    assert shape[0] == 1, shape
    shape = shape[1:]
    if len(shape) <= 1:
        return shape
    return shape[1:] + shape[:1]  # (C, *spatial) -> (*spatial, C)


def module_macs(module, output):
    if isinstance(module, nn.modules.conv._ConvNd):
        return module.weight.numel() * math.prod(output.shape[2:])
    if isinstance(module, nn.Linear):
        return module.in_features * module.out_features
    return 0


def count_buffers(model):
    return sum(b.numel() for name, b in model.named_buffers()
               if not name.endswith("num_batches_tracked"))


def record(net):
    make, source, (h, w, c) = NETWORKS[net]
    torch.manual_seed(SEED)
    model = make().eval()
    entries = []
    hooks = []
    for name, module in model.named_modules():
        if any(True for _ in module.children()):
            continue  # not a leaf

        def hook(mod, inputs, output, name=name):
            entries.append({
                "module": name,
                "type": type(mod).__name__,
                "output": channels_last(output.shape),
                "params": sum(p.numel() for p in mod.parameters(recurse=False)),
                "macs": module_macs(mod, output),
            })

        hooks.append(module.register_forward_hook(hook))
    x = torch.randn(1, c, h, w, generator=torch.Generator().manual_seed(SEED))
    with torch.no_grad():
        y = model(x)
    for handle in hooks:
        handle.remove()

    params = sum(p.numel() for p in model.parameters())
    # Every parameter belongs to a leaf module that ran (counted once each).
    called = {e["module"]: e["params"] for e in entries}
    assert sum(called.values()) == params, (net, sum(called.values()), params)
    return OrderedDict([
        ("network", net),
        ("source", source.format(tv=torchvision.__version__.split("+")[0])),
        ("torch", torch.__version__),
        ("torchvision", torchvision.__version__),
        ("input", [h, w, c]),
        ("output", channels_last(y.shape)),
        ("params", params),
        ("buffers", count_buffers(model)),
        ("macs", sum(e["macs"] for e in entries)),
        ("layers", entries),
    ])


def write_fixture(fixture):
    os.makedirs(OUT_DIR, exist_ok=True)
    path = os.path.join(OUT_DIR, fixture["network"] + ".json")
    # One layer entry per line: readable diffs, stable bytes.
    lines = ["{"]
    for key, value in fixture.items():
        if key == "layers":
            continue
        lines.append("  %s: %s," % (json.dumps(key), json.dumps(value)))
    lines.append('  "layers": [')
    layers = fixture["layers"]
    for i, entry in enumerate(layers):
        lines.append("    " + json.dumps(entry) + ("," if i + 1 < len(layers) else ""))
    lines.append("  ]")
    lines.append("}")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    json.loads(open(path).read())  # sanity: valid JSON
    return path


def main(argv):
    names = argv[1:] or list(NETWORKS)
    unknown = [n for n in names if n not in NETWORKS]
    if unknown:
        sys.exit("unknown network(s): %s; known: %s" % (", ".join(unknown), ", ".join(NETWORKS)))
    torch.use_deterministic_algorithms(True)
    print("torch %s, torchvision %s" % (torch.__version__, torchvision.__version__))
    print("%-14s %14s %10s %16s %7s %7s" % ("network", "params", "buffers", "macs", "conv", "fc"))
    for net in names:
        fixture = record(net)
        path = write_fixture(fixture)
        convs = sum(1 for e in fixture["layers"] if e["type"].startswith("Conv"))
        fcs = sum(1 for e in fixture["layers"] if e["type"] == "Linear")
        print("%-14s %14s %10s %16s %7d %7d   %s" % (
            net, format(fixture["params"], ","), format(fixture["buffers"], ","),
            format(fixture["macs"], ","), convs, fcs, os.path.relpath(path, REPO_ROOT)))


if __name__ == "__main__":
    main(sys.argv)
