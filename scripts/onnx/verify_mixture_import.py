#!/usr/bin/env python3
"""Verify `netc import` of a mixture of experts that `netc export --to onnx` wrote, against
ONNX Runtime.

For each spec (default scripts/onnx/specs/vector_moe.yaml):
  1. `netc export SPEC --to onnx --seed 0` and `netc import` of that model with
     `--weights-out DIR` must succeed, the imported spec holding a `moe:`;
  2. `netc analyze` of the imported spec must give the original's params, active params,
     MACs and output shape;
  3. on a batch of 8 random inputs, ONNX Runtime's output of the exported model must equal
     `netc run IMPORTED --weights DIR` (each example on its own) within 1e-5 relative to
     the output's largest magnitude.
Exit 1 on any failure. Usage: verify_mixture_import.py NETC [SPEC ...]
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnxruntime as ort

TOLERANCE = 1e-5


def netc(binary, args):
    r = subprocess.run([binary] + args, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"netc {' '.join(args)}: exit {r.returncode}: {r.stderr.strip()[:300]}")
    return r.stdout


def verify(binary, spec, work):
    name = os.path.splitext(os.path.basename(spec))[0]
    model = os.path.join(work, name + ".onnx")
    imported = os.path.join(work, name + ".imported.yaml")
    weights = os.path.join(work, name + ".weights")
    netc(binary, ["export", spec, "--to", "onnx", "--seed", "0", "-o", model])
    netc(binary, ["import", model, "-o", imported, "--weights-out", weights])
    with open(imported) as f:
        if "- moe:" not in f.read():
            return f"FAIL: no moe: in {imported}"
    a = json.loads(netc(binary, ["analyze", spec, "--format", "json"]))
    b = json.loads(netc(binary, ["analyze", imported, "--format", "json"]))
    for key in ["params", "active_params", "macs", "active_macs"]:
        if a["totals"].get(key) != b["totals"].get(key):
            return f"FAIL: {key} {a['totals'].get(key)} vs imported {b['totals'].get(key)}"
    if a["output"] != b["output"]:
        return f"FAIL: output {a['output']} vs imported {b['output']}"
    rng = np.random.default_rng(0)
    x = rng.standard_normal([8] + a["input"]).astype(np.float32)
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    expected = session.run(None, {session.get_inputs()[0].name: x})[0]
    worst = 0.0
    for k in range(len(x)):
        xp = os.path.join(work, f"{name}.x{k}.npy")
        np.save(xp, x[k])
        out = os.path.join(work, f"{name}.out{k}")
        netc(binary, ["run", imported, "--weights", weights, "--input", xp, "--save", out])
        got = np.load(os.path.join(out, "output.npy"))
        scale = max(float(np.abs(expected[k]).max()), 1e-30)
        worst = max(worst, float(np.abs(got - expected[k]).max()) / scale)
    params = a["totals"]["params"]
    return f"{'ok' if worst <= TOLERANCE else 'FAIL'}: {params:,} params, max rel. error {worst:.1e} against ONNX Runtime"


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    binary = os.path.abspath(sys.argv[1])
    here = os.path.dirname(os.path.abspath(__file__))
    specs = sys.argv[2:] or [os.path.join(here, "specs", "vector_moe.yaml")]
    ok = True
    with tempfile.TemporaryDirectory() as work:
        for spec in specs:
            try:
                result = verify(binary, spec, work)
            except Exception as e:  # noqa: BLE001 - one spec's failure must not hide the rest
                result = f"FAIL: {type(e).__name__}: {e}"[:300]
            ok &= result.startswith("ok")
            print(f"{os.path.basename(spec)}: {result}", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
