#!/usr/bin/env python3
"""What PyTorch's autograd saves for backward under bf16 autocast (CPU), next to fp32, per
leaf module, counted as saved_tensors.py counts (each storage once, parameters left out):
the small CNN of the issue at batch 32 and GPT-2 small (eager attention) at T = 128.
netc's `--mixed-precision bf16` keeps the activations in bf16 and counts half-precision
weights as the weights; autocast keeps fp32 parameters and casts a bf16 copy of each conv
and linear weight per forward pass, which autograd saves, and runs softmax and LayerNorm
in fp32 (their saved values 4 bytes, not 2). TrainingMemoryTests explains both networks'
figures to the byte.

Output: Tests/NetcPassesTests/Fixtures/autocast_saved.json.
Run:    /work/venv-torch/bin/python scripts/reference/autocast_saved.py
"""

import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from saved_tensors import REPO_ROOT, SEQUENCE, SmallCNN, saved  # noqa: E402

OUT = os.path.join(REPO_ROOT, "Tests", "NetcPassesTests", "Fixtures", "autocast_saved.json")


def both(model, call):
    def autocast():
        with torch.autocast("cpu", dtype=torch.bfloat16):
            return call()

    fp32 = saved(model, call)
    bf16 = saved(model, autocast)
    return {"fp32": fp32[0], "bf16_autocast": bf16[0], "bf16_autocast_per_module": dict(bf16[1])}


def main():
    torch.manual_seed(0)
    cnn = SmallCNN()
    x = torch.randn(32, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    result = {"torch": torch.__version__, "small_cnn_batch_32": both(cnn, lambda: cnn(x))}
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    gpt2 = GPT2LMHeadModel(GPT2Config(attn_implementation="eager", attn_pdrop=0.0))
    ids = torch.zeros(1, SEQUENCE, dtype=torch.long)
    result["gpt2_T_128"] = both(gpt2, lambda: gpt2(input_ids=ids).logits)
    with open(OUT, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    print(json.dumps({k: {kk: vv for kk, vv in v.items() if kk != "bf16_autocast_per_module"} if isinstance(v, dict) else v
                      for k, v in result.items()}, indent=1))


if __name__ == "__main__":
    main()
