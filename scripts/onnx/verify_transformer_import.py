#!/usr/bin/env python3
"""Checks `netc import` on full-size transformers built from their configs with random weights
(no downloads): GPT-2 small, BERT-base (with its pooler), ViT-B/16 and a 4-layer Llama of TinyLlama-1.1B's
shapes, each exported by
torch.onnx.export (TorchScript, opset 17) at a fixed length. For each model:
  1. `netc import model.onnx -o spec.yaml --weights-out DIR` must succeed;
  2. `netc analyze spec.yaml` params must equal PyTorch's (sum of numel over parameters(),
     tied weights once);
  3. `netc run spec.yaml --weights DIR` must equal ONNX Runtime's output within 1e-5 of its
     largest magnitude.
Usage: verify_transformer_import.py NETC [--length T] [--only NAME]
"""
import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time

_find_spec = importlib.util.find_spec
importlib.util.find_spec = lambda name, *a, **k: None if name.split(".")[0] == "torchvision" else _find_spec(name, *a, **k)

import numpy as np
import onnxruntime as ort
import torch
import transformers
import transformers.masking_utils as masking_utils

# transformers 5 looks for packed sequences with aten::diff, which the TorchScript exporter
# cannot write; one unpacked sequence never needs it.
masking_utils.find_packed_sequence_indices = lambda position_ids: None


class OneOutput(torch.nn.Module):
    def __init__(self, model, index, key):
        super().__init__()
        self.model, self.index, self.key = model, index, key

    def forward(self, x):
        return self.model(**{self.key: x})[self.index]


def models():
    gpt2 = transformers.GPT2Config()
    gpt2.use_cache = False
    yield "gpt2 (GPT2LMHeadModel, GPT2Config())", transformers.GPT2LMHeadModel(gpt2), 0, "input_ids", gpt2.vocab_size
    bert = transformers.BertConfig()
    yield "bert-base (BertModel, BertConfig(), pooled output)", transformers.BertModel(bert), 1, "input_ids", bert.vocab_size
    vit = transformers.ViTConfig()
    yield "vit-b/16 (ViTModel, ViTConfig(), pooled output)", transformers.ViTModel(vit), 1, "pixel_values", None
    # TinyLlama-1.1B's shapes (GQA 32/4 heads, SwiGLU 5632, vocab 32000), 4 of its 22 layers;
    # eager attention (the TorchScript exporter cannot write SDPA with grouped heads).
    llama = transformers.LlamaConfig(hidden_size=2048, intermediate_size=5632, num_hidden_layers=4, num_attention_heads=32,
                                     num_key_value_heads=4, vocab_size=32000, max_position_embeddings=2048, rms_norm_eps=1e-5)
    llama._attn_implementation = "eager"
    llama.use_cache = False
    yield "llama (LlamaForCausalLM, TinyLlama-1.1B's shapes, 4 layers)", transformers.LlamaForCausalLM(llama), 0, "input_ids", 32000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("netc")
    ap.add_argument("--length", type=int, default=16)
    ap.add_argument("--only", help="the models whose name contains this")
    args = ap.parse_args()
    print(f"# netc import of transformers (torch {torch.__version__}, transformers {transformers.__version__}, "
          f"onnxruntime {ort.__version__}, T = {args.length})")
    failures = 0
    for name, model, index, key, vocab in models():
        if args.only and args.only not in name:
            continue
        torch.manual_seed(0)
        wrapped = OneOutput(model.eval(), index, key).eval()
        g = torch.Generator().manual_seed(1)
        if vocab:
            x = torch.randint(0, vocab, (1, args.length), generator=g)
        else:
            x = torch.randn(1, 3, 224, 224, generator=g)
        params = sum(p.numel() for p in model.parameters())
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "model.onnx")
            with torch.no_grad():
                torch.onnx.export(wrapped, (x,), path, input_names=[key], output_names=["y"], opset_version=17, dynamo=False)
            y_ort = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, {key: x.numpy()})[0][0]
            spec, weights = os.path.join(d, "spec.yaml"), os.path.join(d, "w")
            t0 = time.time()
            r = subprocess.run([args.netc, "import", path, "-o", spec, "--weights-out", weights], capture_output=True, text=True)
            if r.returncode != 0:
                print(f"{name}: import failed (exit {r.returncode}): {r.stderr.strip()[:400]}")
                failures += 1
                continue
            seconds = time.time() - t0
            a = subprocess.run([args.netc, "analyze", spec, "--format", "json"], capture_output=True, text=True)
            got = json.loads(a.stdout)["totals"]["params"] if a.returncode == 0 else None
            xin = os.path.join(d, "x.json")
            with open(xin, "w") as f:
                # netc's image is HxWxC (ONNX's CxHxW moved channels last).
                json.dump((x[0] if vocab else x[0].permute(1, 2, 0)).tolist(), f)
            save = os.path.join(d, "run")
            r = subprocess.run([args.netc, "run", spec, "--weights", weights, "--input", xin, "--save", save],
                               capture_output=True, text=True)
            if r.returncode != 0:
                print(f"{name}: run failed: {r.stderr.strip()[:400]}")
                failures += 1
                continue
            y = np.load(os.path.join(save, "output.npy"))
            y = y.reshape(y_ort.shape) if y.size == y_ort.size else y
            rel = float(np.abs(y - y_ort).max() / np.abs(y_ort).max()) if y.shape == y_ort.shape else float("inf")
            ok = got == params and rel <= 1e-5
            failures += not ok
            print(f"{name}: import {seconds:.1f} s; params netc {got:,} vs PyTorch {params:,} "
                  f"({'equal' if got == params else 'DIFFER'}); run vs ORT max |diff| / max |y| = {rel:.2e} "
                  f"({'ok' if rel <= 1e-5 else 'FAIL'})")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
