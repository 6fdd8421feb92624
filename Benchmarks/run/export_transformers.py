#!/usr/bin/env python3
"""Export GPT-2 small (T = 128 and 1024) and ViT-B/16 for the run benchmark (transformers.sh).

For each case, into OUT/<case>/: `model.onnx` (transformers' GPT2LMHeadModel returning the
logits, or torchvision's vit_b_16; random weights, batch 1), `weights/` (the same weights
under netc's layer names, by scripts/weights/state_dicts.py), `input.npy` for netc (token
ids, or the image channels last) and `input_nchw.npy` for ONNX Runtime (`bench_ort.py`
feeds it as `input`), and `torch_output.npy`.

Run with the torch venv: python export_transformers.py NETC OUT_DIR ONNX_SITE_PACKAGES
"""

import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO_ROOT, "scripts", "weights"))
sys.path.insert(0, os.path.join(REPO_ROOT, "scripts", "reference"))
import state_dicts  # noqa: E402
import verify_whole_models  # noqa: E402  (builds the models as the whole-model check does)

netc, out_root, onnx_site = sys.argv[1:4]
sys.path.append(onnx_site)  # the `onnx` package the exporter needs, after torch's own numpy


class Logits(torch.nn.Module):
    """GPT2LMHeadModel's logits alone, without the KV cache outputs."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, ids):
        return self.model(ids, use_cache=False).logits


torch.manual_seed(0)
gpt2, spec, _, _, vocab = verify_whole_models.transformers_model("gpt2")
gpt2.eval()
vit = verify_whole_models.torchvision_model("vit_b_16").eval()
cases = [("gpt2_t128", gpt2, 128), ("gpt2_t1024", gpt2, 1024), ("vit_b_16", vit, None)]
for case, model, length in cases:
    out = os.path.join(out_root, case)
    os.makedirs(out, exist_ok=True)
    if length is not None:
        spec_path, bindings, family = os.path.join(REPO_ROOT, spec), [f"T={length}"], "gpt2"
        x = torch.randint(0, vocab, (1, length))
        module = Logits(model)
        np.save(os.path.join(out, "input.npy"), x[0].numpy().astype(np.int64))
    else:
        spec_path, bindings, family = os.path.join(REPO_ROOT, "specs", "vit_b_16.yaml"), [], "vit"
        x = torch.randn(1, 3, 224, 224)
        module = model
        np.save(os.path.join(out, "input.npy"), x[0].permute(1, 2, 0).contiguous().numpy())
    np.save(os.path.join(out, "input_nchw.npy"), x.numpy())
    with torch.no_grad():
        np.save(os.path.join(out, "torch_output.npy"), module(x)[0].numpy())
    layers = state_dicts.netc_layers(spec_path, netc, bindings)
    state_dicts.write(state_dicts.convert(family, model, layers), os.path.join(out, "weights"))
    with open(os.path.join(out, "spec"), "w") as f:
        f.write(spec_path + "\n" + " ".join(bindings) + "\n")
    # GPT-2's mask uses aten::diff, which the TorchScript exporter does not support.
    torch.onnx.export(module, (x,), os.path.join(out, "model.onnx"), dynamo=length is not None, opset_version=18,
                      input_names=["input"], output_names=["output"])
    print(f"{case}: exported to {out}", flush=True)
