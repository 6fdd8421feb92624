#!/usr/bin/env python3
"""Verify `netc import` on torchvision CNNs as torch.onnx.export writes them.

Each model (random weights, BN statistics randomized so that folding matters) is exported
in several ways (biases randomized too: the dynamo exporter drops a zero bias): the TorchScript exporter (dynamo=False) with BN folded into the convs
(its default constant folding) or kept (do_constant_folding=False), and the dynamo
exporter (dynamo=True, its default optimizations fold BN; weights in model.onnx.data),
at several opsets. Then
  1. `netc import model.onnx -o spec.yaml --weights-out DIR` must succeed;
  2. `netc analyze spec.yaml --format json` totals must equal PyTorch's figures, counted
     here from the modules: params = sum of p.numel(), buffers = BN running mean and var;
     with BN folded, each BN's gamma and beta become the bias of the conv before it (Cout)
     and its buffers go; MACs from forward hooks, conv out.numel() * Cin/groups * prod(k),
     linear in * out (netc's convention);
  3. `netc analyze model.onnx` must print the same totals;
  4. `netc run spec.yaml --weights DIR` must equal ONNX Runtime's output on the same
     input within 1e-5 relative to the output's largest magnitude.
Exit 1 on any failure. Usage: verify_import.py NETC [MODEL ...] [--report FILE]
"""
import json
import os
import subprocess
import sys
import tempfile
import warnings

import numpy as np
import onnxruntime as ort
import torch

# torchvision's compiled ops may not load against this torch: import it with
# register_fake a no-op (see scripts/reference/README.md).
_register_fake = torch.library.register_fake
torch.library.register_fake = lambda *args, **kwargs: (lambda fn: fn)
try:
    import torchvision.models as tvm
finally:
    torch.library.register_fake = _register_fake

MODELS = ["resnet18", "resnet50", "mobilenet_v2", "alexnet", "efficientnet_b0", "squeezenet1_0", "mobilenet_v3_large", "vgg16",
          "vit_b_16", "convnext_tiny"]
# (label, dynamo, opset, constant folding)
EXPORTS = [("torchscript-13-folded", False, 13, True), ("torchscript-17-bn-kept", False, 17, False),
           ("dynamo-18-folded", True, 18, True), ("dynamo-20-folded", True, 20, True)]
TOLERANCE = 1e-5


def build(name):
    torch.manual_seed(0)
    model = getattr(tvm, name)(weights=None).eval()
    g = torch.Generator().manual_seed(1)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            with torch.no_grad():
                m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
                m.weight.copy_(torch.rand(m.num_features, generator=g) + 0.5)
                m.bias.copy_(torch.randn(m.num_features, generator=g) * 0.1)
        # torchvision zeroes some biases, and the dynamo exporter drops a zero bias.
        if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)) and m.bias is not None:
            with torch.no_grad():
                m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)
        # ViT's head starts at zero weights, which would make its output the bias whatever the
        # network computed.
        if isinstance(m, torch.nn.Linear) and not m.weight.any():
            with torch.no_grad():
                m.weight.copy_(torch.randn(m.weight.shape, generator=g) * 0.02)
    return model


def figures(model, x, folded):
    params = sum(p.numel() for p in model.parameters())
    buffers = sum(m.running_mean.numel() + m.running_var.numel() for m in model.modules()
                  if isinstance(m, torch.nn.BatchNorm2d))
    if folded:
        # A BN right after a conv (module order, as torchvision registers them) folds into it.
        mods = list(model.modules())
        for prev, m in zip(mods, mods[1:]):
            if isinstance(m, torch.nn.BatchNorm2d) and isinstance(prev, torch.nn.Conv2d):
                params -= 2 * m.num_features
                if prev.bias is None:
                    params += prev.out_channels
        buffers = 0
    macs = []

    def conv_hook(m, i, o):
        macs.append(o.numel() * (m.in_channels // m.groups) * int(np.prod(m.kernel_size)))

    def linear_hook(m, i, o):
        macs.append(m.in_features * m.out_features * (o.numel() // m.out_features))

    def attention_hook(m, i, o):
        # nn.MultiheadAttention computes its projections with F.linear on its own weights (no
        # Linear hook fires): q and out of E x E per query position, k and v per key
        # position, then q kᵀ and attention · v of L x S x E each.
        q, k = i[0], i[1]
        n, ell, s = (q.shape[0], q.shape[1], k.shape[1]) if m.batch_first else (q.shape[1], q.shape[0], k.shape[0])
        e = m.embed_dim
        macs.append(n * (2 * e * e * ell + 2 * e * m.kdim * s + 2 * ell * s * e))

    hooks = [m.register_forward_hook(conv_hook) for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    hooks += [m.register_forward_hook(linear_hook) for m in model.modules() if isinstance(m, torch.nn.Linear)]
    hooks += [m.register_forward_hook(attention_hook) for m in model.modules() if isinstance(m, torch.nn.MultiheadAttention)]
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    return {"params": params, "buffers": buffers, "macs": sum(macs)}


def export(model, x, path, dynamo, opset, folding):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if dynamo:
            torch.onnx.export(model, (x,), path, input_names=["x"], dynamo=True, opset_version=opset,
                              dynamic_shapes=({0: torch.export.Dim("N")},), external_data=True, verbose=False)
        else:
            torch.onnx.export(model, (x,), path, input_names=["x"], dynamo=False, opset_version=opset,
                              do_constant_folding=folding, dynamic_axes={"x": {0: "N"}})


def totals(netc, path):
    r = subprocess.run([netc, "analyze", path, "--format", "json"], capture_output=True, text=True)
    if r.returncode != 0:
        return None, r.stderr.strip()[:300]
    t = json.loads(r.stdout)["totals"]
    return {k: t[k] for k in ("params", "buffers", "macs")}, None


def verify(netc, name, work, report):
    model = build(name)
    x = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(2))
    ok = True
    for label, dynamo, opset, folding in EXPORTS:
        d = os.path.join(work, f"{name}-{label}")
        os.makedirs(d)
        path = os.path.join(d, "model.onnx")
        try:
            export(model, x, path, dynamo, opset, folding)
        except Exception as e:  # an exporter failure is not netc's
            report.append(f"- `{name}` {label}: not exported by torch ({type(e).__name__}: {str(e).splitlines()[0][:120]})")
            continue
        problems = []
        spec, weights = os.path.join(d, "spec.yaml"), os.path.join(d, "weights")
        r = subprocess.run([netc, "import", path, "-o", spec, "--weights-out", weights], capture_output=True, text=True)
        if r.returncode != 0:
            report.append(f"- `{name}` {label}: FAIL import (exit {r.returncode}): {r.stderr.strip()[:300]}")
            ok = False
            continue
        want = figures(model, x, folded=folding)
        got, err = totals(netc, spec)
        direct, err2 = totals(netc, path)
        if got != want:
            problems.append(f"analyze {got or err} != PyTorch {want}")
        if direct != got:
            problems.append(f"analyze model.onnx {direct or err2} != analyze spec.yaml {got}")
        xin = os.path.join(d, "x.npy")
        np.save(xin, np.ascontiguousarray(np.moveaxis(x[0].numpy(), 0, -1)))
        save = os.path.join(d, "run")
        r = subprocess.run([netc, "run", spec, "--weights", weights, "--input", xin, "--save", save, "--format", "json"],
                           capture_output=True, text=True)
        err = float("nan")
        if r.returncode != 0:
            problems.append(f"netc run failed: {r.stderr.strip()[:300]}")
        else:
            out = np.load(os.path.join(save, "output.npy"))
            session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
            y = session.run(None, {session.get_inputs()[0].name: x.numpy()})[0][0]
            if y.shape != out.shape:
                problems.append(f"output shape ORT {y.shape} vs netc {out.shape}")
            else:
                err = float(np.max(np.abs(y - out)) / max(float(np.max(np.abs(out))), 1e-30))
                if err > TOLERANCE:
                    problems.append(f"ORT differs from netc run by {err:.2e} relative")
        external = os.path.exists(path + ".data")
        status = "ok" if not problems else "FAIL"
        report.append(f"- `{name}` {label}{' (external data)' if external else ''}: params {want['params']:,}, "
                      f"buffers {want['buffers']:,}, MACs {want['macs']:,}; ORT vs netc {err:.2e} ({status})")
        for p in problems:
            report.append(f"  - FAIL: {p}")
        ok = ok and not problems
    return ok


def main():
    args = sys.argv[1:]
    report_path = None
    if "--report" in args:
        i = args.index("--report")
        report_path = args[i + 1]
        del args[i:i + 2]
    netc = os.path.abspath(args[0])
    names = args[1:] or MODELS
    report = [f"# netc import: verification (torch {torch.__version__}, onnxruntime {ort.__version__})", ""]
    failed = 0
    for name in names:
        with tempfile.TemporaryDirectory() as work:
            if not verify(netc, name, work, report):
                failed += 1
        print("\n".join(report[-len(EXPORTS):]), flush=True)
    text = "\n".join(report) + "\n"
    if report_path:
        with open(report_path, "w") as f:
            f.write(text)
    print(text)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
