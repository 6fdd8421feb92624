#!/usr/bin/env python3
"""PyTorch reference figures for specs/transformer_base.yaml: torch.nn.Transformer().

torch.nn.Transformer's defaults are the base model of "Attention is all you need"
(Vaswani et al. 2017): d_model 512, 8 heads, 6 encoder and 6 decoder layers, a
2048-wide ReLU feed-forward, post-LN, a LayerNorm after each stack, no embeddings.
This script builds it with random weights and records:

- params: sum(p.numel()) over model.parameters(); buffers: none exist (asserted);
- MACs at several (S, T): FlopCounterMode's FLOPs halved over one batch-1 forward
  (src (1, S, 512), tgt (1, T, 512), a causal tgt_mask).  Every MultiheadAttention
  runs with need_weights=True and the fast path off, so that QK^T and AV are explicit
  bmm calls FlopCounterMode counts (the fused SDPA kernels on CPU are not counted);
- per layer (one entry per counted module call, in execution order): the module,
  its type, netc's output shape (no batch), its params and MACs.

Every total is checked against the closed form written out in closed_form() below;
a mismatch fails loudly.

Output: Tests/NetcPassesTests/Fixtures/reference/transformer_base.json
Run:    /work/venv-torch/bin/python scripts/reference/generate_encoder_decoder_fixture.py
"""

import json
import os
from collections import OrderedDict

import torch
import torch.nn as nn
from torch.utils.flop_counter import FlopCounterMode

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(REPO_ROOT, "Tests/NetcPassesTests/Fixtures/reference/transformer_base.json")
SEED = 0
LENGTHS = [(1, 1), (7, 5), (16, 32), (128, 64), (512, 512)]
LAYERS_AT = (7, 5)


def closed_form(s, t, d=512, ff=2048, enc=6, dec=6):
    """MACs of nn.Transformer: per encoder layer 4 projections (4 d^2) and the MLP
    (2 d ff) per source token plus QK^T and AV (2 S^2 d); per decoder layer self-attention
    (4 d^2 T + 2 T^2 d), cross-attention (queries and output 2 d^2 T, keys and values
    2 d^2 S, products 2 T S d) and the MLP (2 d ff T)."""
    encoder = enc * ((4 * d * d + 2 * d * ff) * s + 2 * s * s * d)
    decoder = dec * ((4 * d * d + 2 * d * ff) * t + 2 * t * t * d + 2 * d * d * t + 2 * d * d * s + 2 * t * s * d)
    return encoder + decoder


def params_closed_form(d=512, ff=2048, enc=6, dec=6):
    """Attention 4 (d^2 + d), MLP 2 d ff + ff + d, LayerNorm 2 d."""
    attn, mlp, ln = 4 * (d * d + d), 2 * d * ff + ff + d, 2 * d
    return enc * (attn + mlp + 2 * ln) + ln + dec * (2 * attn + mlp + 3 * ln) + ln


def build():
    torch.manual_seed(SEED)
    model = nn.Transformer(batch_first=True).eval()
    for m in model.modules():
        if isinstance(m, nn.MultiheadAttention):
            m.register_forward_pre_hook(lambda mod, args, kwargs: (args, dict(kwargs, need_weights=True)), with_kwargs=True)
    return model


def forward(model, s, t, recorder=None):
    g = torch.Generator().manual_seed(SEED)
    src, tgt = torch.randn(1, s, 512, generator=g), torch.randn(1, t, 512, generator=g)
    mask = nn.Transformer.generate_square_subsequent_mask(t)
    counter = FlopCounterMode(display=False)
    if recorder is not None:
        recorder.counter = counter
    with torch.no_grad(), counter:
        out = model(src, tgt, tgt_mask=mask, tgt_is_causal=True)
    flops = counter.get_total_flops()
    assert flops % 2 == 0
    return out, flops // 2


class Recorder:
    """One entry per call of a Linear, MultiheadAttention or LayerNorm outside attention."""

    def __init__(self, model):
        self.entries, self.counter, self.handles = [], None, []
        inside_attention = set()
        for name, m in model.named_modules():
            if isinstance(m, nn.MultiheadAttention):
                inside_attention.update(name + "." + n for n, _ in m.named_modules() if n)
        for name, m in model.named_modules():
            if name in inside_attention or not isinstance(m, (nn.Linear, nn.MultiheadAttention, nn.LayerNorm)):
                continue
            self.handles.append(m.register_forward_pre_hook(self.pre))
            self.handles.append(m.register_forward_hook(self.post(name)))

    def flops(self):
        return self.counter.get_total_flops()

    def pre(self, mod, args):
        mod._netc_start = self.flops()

    def post(self, name):
        def hook(mod, args, output):
            out = output[0] if isinstance(output, tuple) else output
            macs = (self.flops() - mod._netc_start) // 2
            params = sum(p.numel() for p in mod.parameters())
            self.entries.append(OrderedDict([
                ("module", name), ("type", type(mod).__name__), ("output", list(out.shape[1:])), ("params", params),
                ("macs", macs)]))
        return hook


def main():
    # The encoder's fused fast path (eval, no grad) runs kernels FlopCounterMode does not count.
    torch.backends.mha.set_fastpath_enabled(False)
    model = build()
    params = sum(p.numel() for p in model.parameters())
    assert params == params_closed_form() == 44_140_544, params
    assert sum(b.numel() for b in model.buffers()) == 0
    macs_by_length = OrderedDict()
    for s, t in LENGTHS:
        _, macs = forward(model, s, t)
        assert macs == closed_form(s, t), (s, t, macs, closed_form(s, t))
        macs_by_length["%d,%d" % (s, t)] = macs
    rec = Recorder(model)
    out, macs = forward(model, *LAYERS_AT, recorder=rec)
    assert sum(e["macs"] for e in rec.entries) == macs
    assert sum(e["params"] for e in rec.entries) == params
    fixture = OrderedDict([
        ("network", "transformer_base"),
        ("source", "torch %s nn.Transformer(batch_first=True), default arguments; attention with need_weights=True"
                   % torch.__version__.split("+")[0]),
        ("S", LAYERS_AT[0]), ("T", LAYERS_AT[1]), ("output", list(out.shape[1:])), ("params", params), ("buffers", 0),
        ("macs", macs), ("macs_by_length", macs_by_length), ("layers", rec.entries)])
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        f.write("{\n" + ",\n".join("  %s: %s" % (json.dumps(k), json.dumps(v)) for k, v in fixture.items() if k != "layers"))
        f.write(',\n  "layers": [\n' + ",\n".join("    " + json.dumps(e) for e in rec.entries) + "\n  ]\n}\n")
    print("wrote %s: %d params, %d MACs at S=%d, T=%d, %d layers" % (OUT, params, macs, *LAYERS_AT, len(rec.entries)))


if __name__ == "__main__":
    main()
