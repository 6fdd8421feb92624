#!/usr/bin/env python3
"""Bytes PyTorch saves for backward in transformers' Mixtral mixture of experts, counted as
saved_tensors.py counts (saved_tensors_hooks, each storage once, parameters left out).

Cases (hidden 64, SwiGLU experts of 128, 4 experts, each token routed to 2):
- `block`: MixtralSparseMoeBlock alone on a 3 x 16 x 64 input, `experts_implementation`
  "eager" (the loop over the experts hit, as MixtralExperts.forward is written), fp32 and
  with the block cast to bf16, for two seeds: the routing differs (the tokens per expert
  are recorded), the bytes do not, as every saved tensor of an expert has one row per token
  routed to it;
- `grouped_mm`: the same block with the default on this machine (`grouped_mm`, one sorted
  batch of all routed tokens), which keeps other tensors;
- `model`: MixtralModel with one decoder layer (4 heads, 2 key/value heads, eager attention
  and experts) on 16 token ids, batch 1.

Output: Tests/NetcPassesTests/Fixtures/mixtral_saved.json.
Run:    /work/venv-torch/bin/python scripts/reference/mixtral_saved.py
"""

import json
import os
import sys
from collections import OrderedDict

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from saved_tensors import REPO_ROOT, saved  # noqa: E402  (also the torchvision import workaround)

OUT = os.path.join(REPO_ROOT, "Tests", "NetcPassesTests", "Fixtures", "mixtral_saved.json")
HIDDEN, INTERMEDIATE, EXPERTS, TOP = 64, 128, 4, 2


def config(experts_implementation):
    from transformers import MixtralConfig

    return MixtralConfig(vocab_size=1000, hidden_size=HIDDEN, intermediate_size=INTERMEDIATE, num_hidden_layers=1,
                         num_attention_heads=4, num_key_value_heads=2, num_local_experts=EXPERTS,
                         num_experts_per_tok=TOP, attn_implementation="eager", attention_dropout=0.0,
                         experts_implementation=experts_implementation)


def block(seed, dtype, experts_implementation="eager", batch=3, T=16):
    from transformers.models.mixtral.modeling_mixtral import MixtralSparseMoeBlock

    torch.manual_seed(seed)
    cfg = config(experts_implementation)
    moe = MixtralSparseMoeBlock(cfg)
    moe.experts.config = cfg  # a standalone block: the model would hand its config down
    for p in moe.parameters():
        torch.nn.init.normal_(p, std=0.1)
    moe.to(dtype)
    x = torch.randn(batch, T, HIDDEN, generator=torch.Generator().manual_seed(seed)).to(dtype).requires_grad_()
    with torch.no_grad():
        _, _, indices = moe.gate(x.view(-1, HIDDEN))
    per_expert = torch.bincount(indices.reshape(-1), minlength=EXPERTS).tolist()
    total, per_module = saved(moe, lambda: moe(x))
    return OrderedDict(seed=seed, dtype=str(dtype).replace("torch.", ""), experts_implementation=experts_implementation,
                       batch=batch, T=T, tokens_per_expert=per_expert, bytes=total, per_module=per_module)


def model():
    from transformers.models.mixtral.modeling_mixtral import MixtralModel

    torch.manual_seed(0)
    m = MixtralModel(config("eager"))
    assert m.config._experts_implementation == "eager"
    ids = torch.arange(16).reshape(1, 16)
    total, per_module = saved(m, lambda: m(input_ids=ids).last_hidden_state)
    return OrderedDict(batch=1, T=16, bytes=total, per_module=per_module)


def main():
    blocks = [block(seed, dtype) for seed in (0, 1) for dtype in (torch.float32, torch.bfloat16)]
    result = OrderedDict(torch=torch.__version__, hidden=HIDDEN, intermediate=INTERMEDIATE, experts=EXPERTS, top=TOP,
                         block=blocks, grouped_mm=block(0, torch.float32, "grouped_mm"), model=model())
    with open(OUT, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
