#!/usr/bin/env python3
"""Export ResNet-50 and MobileNet v2 (torchvision, fixed random weights) for the run benchmark.

For each network, into OUT/<net>/: `model.onnx` (the PyTorch model, batch 1, NCHW),
`weights/LAYER.KIND.npy` (the same weights under netc's layer names, a directory that
`netc run --weights` reads), `input.npy` (224x224x3, channels last, for netc) and
`input_nchw.npy` (the same input for ONNX Runtime).

netc's names come from `netc analyze --format json`; its conv, BN and FC layers run in
the same order as torchvision's modules, which is how they are paired (shapes checked).
BN running statistics and affine parameters are randomised so BN does real work.

Run with the torch venv: python export_models.py NETC SPECS_DIR OUT_DIR ONNX_SITE_PACKAGES
"""

import json
import os
import subprocess
import sys

import numpy as np
import torch

# torchvision's compiled ops may not load against this torch; its models are plain Python.
_register_fake = torch.library.register_fake
torch.library.register_fake = lambda *args, **kwargs: (lambda fn: fn)
try:
    import torchvision.models as tvm
finally:
    torch.library.register_fake = _register_fake

netc, specs, out_root, onnx_site = sys.argv[1:5]
sys.path.append(onnx_site)  # the `onnx` package the exporter needs, after torch's own numpy

NETS = {"resnet50": tvm.resnet50, "mobilenet_v2": tvm.mobilenet_v2}

for net, build in NETS.items():
    torch.manual_seed(0)
    model = build(weights=None).eval()
    modules = []
    hooks = [m.register_forward_hook(lambda m, i, o: modules.append(m))
             for m in model.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.BatchNorm2d, torch.nn.Linear))]
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.1, 0.1)
        x = torch.randn(1, 3, 224, 224)
        y = model(x)
    for h in hooks:
        h.remove()

    report = json.loads(subprocess.check_output([netc, "analyze", os.path.join(specs, f"{net}.yaml"), "--format", "json"]))
    names = [l["name"] for l in report["layers"] if l["op"] in ("conv", "dwconv", "pwconv", "fc", "bn") and l["params"] > 0]
    assert len(names) == len(modules), f"{net}: netc has {len(names)} weighted layers, torchvision {len(modules)}"

    out = os.path.join(out_root, net)
    os.makedirs(os.path.join(out, "weights"), exist_ok=True)
    for name, m in zip(names, modules):
        tensors = {"weight": m.weight, "bias": m.bias}
        if isinstance(m, torch.nn.BatchNorm2d):
            tensors = {"gamma": m.weight, "beta": m.bias, "mean": m.running_mean, "var": m.running_var}
        for kind, t in tensors.items():
            if t is not None:
                np.save(os.path.join(out, "weights", f"{name}.{kind}.npy"), t.detach().numpy().astype(np.float32))
    np.save(os.path.join(out, "input.npy"), x[0].permute(1, 2, 0).contiguous().numpy())
    np.save(os.path.join(out, "input_nchw.npy"), x.numpy())
    np.save(os.path.join(out, "torch_output.npy"), y[0].numpy())
    torch.onnx.export(model, (x,), os.path.join(out, "model.onnx"), dynamo=False, opset_version=17,
                      input_names=["input"], output_names=["output"])
    print(f"{net}: {len(names)} weighted layers paired, exported to {out}")
