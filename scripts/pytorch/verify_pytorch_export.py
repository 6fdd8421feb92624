#!/usr/bin/env python3
"""Verify `netc export --to pytorch` against PyTorch itself, on every spec given (default:
every spec in specs/ whose vars can be bound small, below).

For each spec:
  1. export it (`--set` binds T = 16 and S = 12 for the transformers) and import the file in PyTorch;
  2. the module's parameter count, shared tensors once (sum of numel over
     model.parameters(), which yields a tied weight once), must equal `netc analyze`'s;
  3. random weights for every entry of the module's NETC_TENSORS (BN variances positive)
     are written as LAYER.KIND.npy, read by `netc run --weights DIR` and by
     load_netc_weights; on a batch of two random inputs (token ids for a token input; one
     tensor per input of a spec of several, `run --input NAME=FILE` and `forward`'s
     arguments in the spec's order),
     the module in eval mode must give `netc run`'s outputs, each example run by netc on
     its own, within 1e-5 relative to the output's largest magnitude
     (max |torch - netc| / max |netc|), in fp32. A tensor the spec's `weights:` gives as
     one number keeps it (a zero router: every logit ties, and netc picks the lower experts).
A spec the export refuses must be refused with exit 1 and a message. Specs too large
to hold twice in this machine's memory have their parameters counted on the meta device
and are not run.
Exit 1 on any failure. Usage: verify_pytorch_export.py NETC [SPEC ...]; NETC_RUN=PATH runs
`netc run` with another build (a release one: the debug build's runs take minutes).
"""
import importlib.util
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
import yaml

TOLERANCE = 1e-5
# A spec whose length is a var runs at T = 16 (an encoder-decoder's source at S = 12, so
# the two lengths differ and a mix-up of the inputs cannot pass).
BINDINGS = [("T", "T=16"), ("S", "S=12")]
# Parameters above this are not run: netc's and PyTorch's copies of 8 billion fp32 weights
# (32 GB each) do not fit this machine.
MAX_PARAMS = 400_000_000


def specs_in(folder):
    out = []
    for f in sorted(os.listdir(folder)):
        if f.endswith(".yaml") and not f.startswith("solve-"):
            out.append(os.path.join(folder, f))
    return out


def netc_json(netc, args):
    r = subprocess.run([netc] + args, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"netc {' '.join(args)}: exit {r.returncode}: {r.stderr.strip()}")
    return json.loads(r.stdout)


def load_module(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def spec_constants(spec):
    """The tensors a spec's `weights:` gives as one number (`tied.router: {weight: 0}`), by
    netc name: they keep that number, so a constant router makes every logit tie."""
    with open(spec) as f:
        weights = (yaml.safe_load(f) or {}).get("weights") or {}
    return {f"{layer}.{kind}": float(v) for layer, kinds in weights.items() for kind, v in (kinds or {}).items()
            if isinstance(v, (int, float))}


def random_weights(module, folder, rng, constants):
    os.makedirs(folder, exist_ok=True)
    for name, (_, shape) in module.NETC_TENSORS.items():
        if name in constants:
            a = np.full(shape, constants[name])
        elif name.endswith(".var"):
            a = rng.uniform(0.5, 1.5, size=shape)
        else:
            fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else shape[0]
            a = rng.uniform(-1, 1, size=shape) / np.sqrt(max(fan_in, 1))
        np.save(os.path.join(folder, name + ".npy"), a.astype(np.float32))


def to_torch(x, channels_first):
    t = torch.from_numpy(x)
    if channels_first and t.dim() > 1:
        t = t.movedim(-1, 0)
    return t


def verify(netc, spec, work, rows):
    name = os.path.splitext(os.path.basename(spec))[0]
    sets = []
    with open(spec) as f:
        text = f.read()
    for var, binding in BINDINGS:
        if "$" + var in text:
            sets += ["--set", binding]
    path = os.path.join(work, name.replace("-", "_") + ".py")
    r = subprocess.run([netc, "export", spec, "--to", "pytorch", "-o", path] + sets, capture_output=True, text=True)
    if r.returncode != 0:
        message = r.stderr.strip().splitlines()[0] if r.stderr else ""
        ok = r.returncode == 1 and "cannot write" in message
        rows.append((name, "-", "-", "-", f"refused: {message.split('error[NS405]: ')[-1]}" if ok else f"FAIL: exit {r.returncode} {message}"))
        return ok
    analysis = netc_json(netc, ["analyze", spec, "--format", "json"] + sets)
    netc_params = analysis["totals"]["params"]
    module = load_module(path, name.replace("-", "_"))
    classes = [v for k, v in vars(module).items() if isinstance(v, type) and issubclass(v, torch.nn.Module)
               and v.__module__ == module.__name__]
    if netc_params > MAX_PARAMS:
        # Built on the meta device: shapes without storage, so the count is still checked.
        with torch.device("meta"):
            meta_params = sum(p.numel() for p in classes[-1]().parameters())
        ok = meta_params == netc_params
        rows.append((name, f"{netc_params:,}", f"{meta_params:,}", "-",
                     f"{'ok' if ok else 'FAIL'}: params only (meta device); outputs not run above {MAX_PARAMS:,} params"))
        return ok
    model = classes[-1]()
    model.eval()
    torch_params = sum(p.numel() for p in model.parameters())

    rng = np.random.default_rng(0)
    weights = os.path.join(work, name + ".weights")
    random_weights(module, weights, rng, spec_constants(spec))
    module.load_netc_weights(model, weights)

    # A spec of several inputs (`inputs:`) gives each by name, to `run` as `--input
    # NAME=FILE` and to `forward` as one argument each, in the spec's order (module.INPUTS).
    embeddings = [m for m in model.modules() if isinstance(m, torch.nn.Embedding)]
    vocabulary = min((m.num_embeddings for m in embeddings), default=0)
    if "inputs" in analysis:
        described = [(n, d["shape"], d["kind"]) for n, d in analysis["inputs"].items()]
        channels_first = [module.INPUT_CHANNELS_FIRST[n] for n in module.INPUTS]
    else:
        described = [(None, analysis["input"], analysis.get("input_kind", "tensor"))]
        channels_first = [module.CHANNELS_FIRST["input"]]
    examples = []
    for k in range(2):
        example = []
        for _, shape, kind in described:
            if kind == "tokens":
                example.append(rng.integers(0, vocabulary, size=shape).astype(np.float32))
            else:
                example.append(rng.standard_normal(shape).astype(np.float32))
        examples.append(example)
    expected = []
    for k, example in enumerate(examples):
        given = []
        for (input_name, _, _), x in zip(described, example):
            xp = os.path.join(work, f"{name}.input{k}.{input_name or 'input'}.npy")
            np.save(xp, x)
            given += ["--input", xp if input_name is None else f"{input_name}={xp}"]
        out = os.path.join(work, f"{name}.out{k}")
        r = subprocess.run([os.environ.get("NETC_RUN", netc), "run", spec, "--weights", weights, "--save", out] + given + sets,
                           capture_output=True, text=True)
        if r.returncode != 0:
            rows.append((name, f"{netc_params:,}", f"{torch_params:,}", "-", f"FAIL: netc run exit {r.returncode}: {r.stderr.strip()[:200]}"))
            return False
        expected.append(np.load(os.path.join(out, "output.npy")))
    layouts = module.CHANNELS_FIRST
    batches = []
    for j, (_, _, kind) in enumerate(described):
        batch = torch.stack([to_torch(example[j], channels_first[j]) for example in examples])
        batches.append(batch.long() if kind == "tokens" else batch)
    with torch.no_grad():
        y = model(*batches)
    worst = 0.0
    for k in range(2):
        got = y[k]
        if layouts["output"] and got.dim() > 1:
            got = got.movedim(0, -1)
        got = got.numpy()
        if got.shape != expected[k].shape:
            rows.append((name, f"{netc_params:,}", f"{torch_params:,}", "-", f"FAIL: shape {got.shape} vs netc {expected[k].shape}"))
            return False
        scale = max(float(np.abs(expected[k]).max()), 1e-30)
        worst = max(worst, float(np.abs(got - expected[k]).max()) / scale)
    ok = torch_params == netc_params and worst <= TOLERANCE
    rows.append((name, f"{netc_params:,}", f"{torch_params:,}", f"{worst:.1e}", "ok" if ok else "FAIL"))
    return ok


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    netc = os.path.abspath(sys.argv[1])
    here = os.path.dirname(os.path.abspath(__file__))
    specs = sys.argv[2:] or specs_in(os.path.join(here, "..", "..", "specs")) + specs_in(os.path.join(here, "specs"))
    torch.manual_seed(0)
    rows, ok = [], True
    with tempfile.TemporaryDirectory() as work:
        for spec in specs:
            try:
                ok &= verify(netc, spec, work, rows)
            except Exception as e:  # noqa: BLE001 - one spec's failure must not hide the rest
                rows.append((os.path.basename(spec), "-", "-", "-", f"FAIL: {type(e).__name__}: {e}"[:300]))
                ok = False
            print(" | ".join(rows[-1]), flush=True)
    print()
    print("| spec | netc params | torch params | max rel. error | result |")
    print("|---|---:|---:|---:|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
