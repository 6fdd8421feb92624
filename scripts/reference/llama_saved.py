#!/usr/bin/env python3
"""Bytes PyTorch saves for backward in a small Llama (transformers' LlamaModel, eager
attention, one decoder layer: hidden 64, 4 heads, 2 key/value heads, MLP 128, vocab 1000)
at T = 16, batch 1, counted as saved_tensors.py counts, per leaf module. Checks netc's
rules for RMSNorm, the SwiGLU MLP and attention with `rope` (grouped-query).

Output: Tests/NetcPassesTests/Fixtures/llama_saved.json.
Run:    /work/venv-torch/bin/python scripts/reference/llama_saved.py
"""

import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from saved_tensors import REPO_ROOT, saved  # noqa: E402  (also the torchvision import workaround)

OUT = os.path.join(REPO_ROOT, "Tests", "NetcPassesTests", "Fixtures", "llama_saved.json")


def main():
    from transformers import LlamaConfig, LlamaModel

    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=1000, hidden_size=64, intermediate_size=128, num_hidden_layers=1, num_attention_heads=4,
                         num_key_value_heads=2, attn_implementation="eager", attention_dropout=0.0)
    model = LlamaModel(config)
    ids = torch.zeros(1, 16, dtype=torch.long)
    total, per_module = saved(model, lambda: model(input_ids=ids).last_hidden_state)
    result = {"torch": torch.__version__, "T": 16, "batch": 1, "bytes": total, "per_module": dict(per_module)}
    with open(OUT, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
