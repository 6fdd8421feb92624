#!/usr/bin/env python3
"""Bytes PyTorch saves for backward in one decoder layer with cross-attention, counted as
saved_tensors.py counts (saved_tensors_hooks, each storage once, parameters left out).

The layer is transformers' BartDecoderLayer with eager attention (netc's attention rule is
Hugging Face's eager one): width 64, 4 heads, a ReLU MLP of 128, post-LN, dropout 0.1 after
each attention and the MLP and inside it (`activation_dropout`), no attention dropout, as a
decoder layer of torch.nn.Transformer is written in specs/transformer_base.yaml. The target
has T = 5 positions and the encoder's memory S = 7, so the keys, values and probabilities of
the cross-attention (S long) differ in size from the self-attention's (T long). It runs once
without a cache and once with the EncoderDecoderCache BartDecoder builds in training
(`use_cache` is on by default): the cache's concatenations copy the keys and values, and
the copies, not the projections' outputs, are what the products keep.

Output: Tests/NetcPassesTests/Fixtures/cross_attention_saved.json.
Run:    /work/venv-torch/bin/python scripts/reference/cross_attention_saved.py
"""

import json
import os
import sys
from collections import OrderedDict

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from saved_tensors import REPO_ROOT, saved  # noqa: E402  (also the torchvision import workaround)

OUT = os.path.join(REPO_ROOT, "Tests", "NetcPassesTests", "Fixtures", "cross_attention_saved.json")
T, S, WIDTH = 5, 7, 64


def main():
    from transformers import BartConfig
    from transformers.cache_utils import DynamicCache, EncoderDecoderCache
    from transformers.models.bart.modeling_bart import BartDecoderLayer

    torch.manual_seed(0)
    config = BartConfig(d_model=WIDTH, decoder_attention_heads=4, decoder_ffn_dim=128, activation_function="relu",
                        dropout=0.1, activation_dropout=0.1, attention_dropout=0.0, attn_implementation="eager")
    layer = BartDecoderLayer(config, layer_idx=0)
    target = torch.randn(1, T, WIDTH, generator=torch.Generator().manual_seed(0))
    memory = torch.randn(1, S, WIDTH, generator=torch.Generator().manual_seed(1))
    causal = torch.full((T, T), float("-inf")).triu(1)[None, None]
    result = OrderedDict(torch=torch.__version__, T=T, S=S, width=WIDTH, heads=4, batch=1)
    for name, cache in (("no_cache", lambda: None),
                        ("cache", lambda: EncoderDecoderCache(DynamicCache(), DynamicCache()))):
        def call():
            return layer(target, attention_mask=causal, encoder_hidden_states=memory, cache=cache())[0]

        total, per_module = saved(layer, call)
        result[name] = OrderedDict(bytes=total, per_module=per_module)
    with open(OUT, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
