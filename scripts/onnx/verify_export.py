#!/usr/bin/env python3
"""Verify `netc export --to onnx` against the onnx checker, ONNX shape inference and
ONNX Runtime, on every spec given (default: the reference CNN specs below).

For each spec: export with --seed 0, then
  1. onnx.checker.check_model(full_check=True) must pass;
  2. ONNX shape inference (with its data propagation, which follows Shape through Concat
     into Expand and Reshape), on the model stripped of netc's value_info, must give every
     dimension netc wrote; where ONNX has a fresh symbol (or none) and netc a name or a
     number, the loss is listed in the report (a loss of a *number* fails);
  3. ONNX Runtime's output on a random input must equal `netc run`'s (the same input,
     channels last, through a .npy file) within 1e-5 relative to the output's largest
     magnitude (max |ort - netc| / max |netc|).
A token input gets random ids below the smallest vocabulary that reads it (int64 for ONNX
Runtime, as float for `netc run`); a free var is bound as BINDINGS says (T = 16), and stays
a symbolic dimension in the model. The tensors' layouts come from the model's metadata
(`netc.layout.input`, `netc.layout.output`: channels first or last).
Exit 1 on any failure. Usage: verify_export.py NETC [SPEC ...] [--report FILE]
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort

REFERENCE = [
    "small-cnn", "lenet5", "mlp-mnist", "conv3x3-30x30x20", "sepconv3x3-30x30x20", "inception-block",
    "run-checkerboard", "run-mlp3", "run-conv1d", "conv1d-sequence", "alexnet", "resnet18", "mobilenet_v1",
    "mobilenet_v2", "mobilenet_v3_large", "efficientnet_b0", "convnext_tiny", "unet", "resnet50", "vgg16",
    "gpt2", "bert_base", "vit_b_16", "onnx/specs/llama_tiny", "onnx/specs/modern_ops", "pytorch/specs/mixtral_tiny",
    "pytorch/specs/moe_ops", "transformer_base", "pytorch/specs/encoder_decoder",
]
# Free vars bound for the run; they stay symbolic in the exported model.
BINDINGS = {"transformer_base": {"S": 12, "T": 9}, "gpt2": {"T": 16}, "bert_base": {"T": 16}, "llama_tiny": {"T": 16}, "mixtral_tiny": {"T": 16}}
TOLERANCE = 1e-5


def dims(value_info):
    out = []
    for d in value_info.type.tensor_type.shape.dim:
        out.append(d.dim_param if d.HasField("dim_param") else (d.dim_value if d.HasField("dim_value") else None))
    return out


def verify(netc, spec, work, report):
    name = os.path.splitext(os.path.basename(spec))[0]
    path = os.path.join(work, name + ".onnx")
    binding = BINDINGS.get(name, {})
    sets = [a for k, v in binding.items() for a in ("--set", f"{k}={v}")]
    r = subprocess.run([netc, "export", spec, "--to", "onnx", "-o", path, "--seed", "0"] + sets, capture_output=True, text=True)
    if r.returncode != 0:
        report.append(f"- `{name}`: not exported (exit {r.returncode}): {r.stderr.strip().splitlines()[0] if r.stderr else ''}")
        return "refused"  # a diagnostic, not a wrong model, but no pass either
    model = onnx.load(path)
    problems = []
    # Opset 17 (IR 8), or 19 (IR 9) for a dilated AveragePool, the first opset with its dilations.
    dilated = any(n.op_type == "AveragePool" and any(a.name == "dilations" for a in n.attribute) for n in model.graph.node)
    assert (model.ir_version, model.opset_import[0].version) == ((9, 19) if dilated else (8, 17)), "opset/IR version"
    onnx.checker.check_model(model, full_check=True)

    # Shape inference from scratch: netc's value_info removed.
    netc_shapes = {v.name: dims(v) for v in list(model.graph.value_info) + list(model.graph.output)}
    stripped = onnx.ModelProto()
    stripped.CopyFrom(model)
    del stripped.graph.value_info[:]
    for o in stripped.graph.output:
        o.type.tensor_type.ClearField("shape")
    inferred = onnx.shape_inference.infer_shapes(stripped, check_type=True, strict_mode=True, data_prop=True)
    onnx_shapes = {v.name: dims(v) for v in list(inferred.graph.value_info) + list(inferred.graph.output)}
    lost = []
    for value, want in netc_shapes.items():
        got = onnx_shapes.get(value)
        if got is None or len(got) != len(want):
            problems.append(f"shape inference gave {got} for `{value}`, netc {want}")
            continue
        for axis, (w, g) in enumerate(zip(want, got)):
            if w == g:
                continue
            if isinstance(w, int):
                problems.append(f"`{value}` axis {axis}: ONNX {g}, netc {w}")
            else:
                lost.append(f"`{value}` axis {axis}: netc `{w}`, ONNX `{g}`")
    if lost:
        report.append(f"- `{name}`: ONNX shape inference loses {len(lost)} symbolic extents netc keeps, e.g. " + "; ".join(lost[:3]))

    # Numbers: the same input through ONNX Runtime and `netc run`.
    meta = {p.key: p.value for p in model.metadata_props}
    rng = np.random.default_rng(0)
    feeds, flags = {}, []
    # Every graph input (an encoder-decoder has one per `inputs:` entry, `--input NAME=FILE` each).
    for graph_input in model.graph.input:
        shape_in = [binding[d] if isinstance(d, str) else d for d in dims(graph_input)[1:]]
        if graph_input.type.tensor_type.elem_type == onnx.TensorProto.INT64:
            tables = {i.name: i.dims[0] for i in model.graph.initializer if i.dims}
            vocab = min(tables[n.input[0]] for n in model.graph.node if n.op_type == "Gather" and n.input[1] == graph_input.name)
            x_onnx = rng.integers(0, vocab, size=[1] + shape_in, dtype=np.int64)
            x_netc = x_onnx[0].astype(np.float32)
        else:
            x_onnx = rng.standard_normal([1] + shape_in).astype(np.float32)
            layout = meta.get("netc.layout.input." + graph_input.name, meta.get("netc.layout.input", "channels first"))
            x_netc = np.moveaxis(x_onnx[0], 0, -1) if x_onnx.ndim > 2 and layout == "channels first" else x_onnx[0]
        x_path = os.path.join(work, f"{name}.{graph_input.name}.npy")
        np.save(x_path, np.ascontiguousarray(x_netc))
        feeds[graph_input.name] = x_onnx
        flags += ["--input", x_path if len(model.graph.input) == 1 else f"{graph_input.name}={x_path}"]
    save = os.path.join(work, name + ".run")
    r = subprocess.run([netc, "run", spec] + flags + ["--seed", "0", "--save", save, "--format", "json"] + sets,
                       capture_output=True, text=True)
    if r.returncode != 0:
        problems.append(f"netc run failed: {r.stderr.strip()[:200]}")
    else:
        netc_out = np.load(os.path.join(save, "output.npy"))
        session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        y = session.run(None, feeds)[0][0]
        out_first = meta.get("netc.layout.output", "channels first") == "channels first"
        y_netc_layout = np.moveaxis(y, 0, -1) if y.ndim > 1 and out_first else y
        if y_netc_layout.shape != netc_out.shape:
            problems.append(f"output shape ORT {y_netc_layout.shape} vs netc {netc_out.shape}")
        else:
            scale = float(np.max(np.abs(netc_out)))
            err = float(np.max(np.abs(y_netc_layout - netc_out))) / max(scale, 1e-30)
            status = "ok" if err <= TOLERANCE else "MISMATCH"
            report.append(f"- `{name}`: {len(model.graph.node)} nodes, output {list(netc_out.shape)}, "
                          f"max |netc| {scale:.3g}, ORT vs netc max relative error {err:.2e} ({status})")
            if err > TOLERANCE:
                problems.append(f"ORT differs from netc run by {err:.2e} relative")
    for p in problems:
        report.append(f"  - FAIL `{name}`: {p}")
    return not problems


def main():
    args = sys.argv[1:]
    report_path = None
    if "--report" in args:
        i = args.index("--report")
        report_path = args[i + 1]
        del args[i:i + 2]
    netc = args[0]
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    specs = args[1:] or [os.path.join(root, "scripts" if "/" in s else "specs", s + ".yaml") for s in REFERENCE]
    report = [f"# netc export --to onnx: verification (onnx {onnx.__version__}, onnxruntime {ort.__version__})", ""]
    failed = refused = 0
    with tempfile.TemporaryDirectory() as work:
        for spec in specs:
            try:
                ok = verify(netc, spec, work, report)
            except Exception as e:  # the checker's and ORT's errors are failures, named
                report.append(f"  - FAIL `{os.path.basename(spec)}`: {type(e).__name__}: {str(e)[:300]}")
                ok = False
            if ok is False:
                failed += 1
            elif ok == "refused":
                refused += 1
    text = "\n".join(report) + "\n"
    print(text, end="")
    if report_path:
        with open(report_path, "w") as f:
            f.write(text)
    print(f"onnx: {len(specs) - failed - refused} passed, {failed} failed, {refused} not exported")
    return 1 if failed or refused else 0


if __name__ == "__main__":
    sys.exit(main())
