#!/usr/bin/env python3
"""PyTorch reference fixture for a spec with two inputs under `netc run`: an encoder
layer and a decoder layer of torch.nn.Transformer, forward and gradients.

A sibling of generate_fixtures.py and generate_modern_fixtures.py. The reference is
PyTorch's own nn.Transformer (d_model 8, 2 heads, one encoder and one decoder layer, a
16-wide ReLU feed-forward, post-LN, dropout 0, a causal target mask), in float64 with
random weights, called as model(src, tgt); netc's weights are cut from its state dict
(MultiheadAttention's in_proj_weight is [wq; wk; wv]). The loss is the SSE against a
random target; gradients by autograd, for every parameter and for both inputs (netc's
keys `input.src` and `input.tgt`).

Output: Tests/NetcDriverTests/Fixtures/encoder_decoder.json, with the spec, the two
inputs, netc's weights, the target, the output, the loss and the gradients.
Run:    /work/venv-torch/bin/python scripts/run/generate_encoder_decoder_fixtures.py
"""

import json
import os

import torch
import torch.nn as nn

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(REPO_ROOT, "Tests/NetcDriverTests/Fixtures/encoder_decoder.json")
D, HEADS, FF, S, T = 8, 2, 16, 5, 3

SPEC = f"""name: encoder_decoder
inputs:
  src: {S}x{D}
  tgt: {T}x{D}
layers:
  - residual: {{name: enc_attn, body: [ATTN-{HEADS} name attn]}}
  - LN name enc_norm1
  - residual: {{name: enc_ff, body: [LINEAR-{FF} name linear1, RELU, LINEAR-{D} name linear2]}}
  - LN name enc_norm2
  - LN name memory
  - from: tgt
  - residual: {{name: dec_attn, body: [ATTN-{HEADS} causal name attn]}}
  - LN name dec_norm1
  - residual: {{name: dec_cross, body: [ATTN-{HEADS} cross memory name attn]}}
  - LN name dec_norm2
  - residual: {{name: dec_ff, body: [LINEAR-{FF} name linear1, RELU, LINEAR-{D} name linear2]}}
  - LN name dec_norm3
  - LN name out_norm
"""


def nested(t):
    return t.detach().tolist()


def main():
    torch.manual_seed(20261203)
    torch.set_default_dtype(torch.float64)
    model = nn.Transformer(d_model=D, nhead=HEADS, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=FF,
                           dropout=0.0, batch_first=True).eval()
    # Random biases and norms too (PyTorch initializes them to 0 and 1).
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 1:
                p.copy_(torch.randn_like(p) * 0.3 + (1.0 if "norm" in name and name.endswith("weight") else 0.0))
    e, d = model.encoder.layers[0], model.decoder.layers[0]

    def attn(m):
        wq, wk, wv = m.in_proj_weight.chunk(3)
        bq, bk, bv = m.in_proj_bias.chunk(3)
        return {"wq": wq, "bq": bq, "wk": wk, "bk": bk, "wv": wv, "bv": bv, "wo": m.out_proj.weight, "bo": m.out_proj.bias}

    def ln(m):
        return {"gamma": m.weight, "beta": m.bias}

    def lin(m):
        return {"weight": m.weight, "bias": m.bias}

    # netc layer -> tensors, and which parameter of the model each comes from.
    weights = {
        "enc_attn.body.attn": attn(e.self_attn), "enc_norm1": ln(e.norm1),
        "enc_ff.body.linear1": lin(e.linear1), "enc_ff.body.linear2": lin(e.linear2), "enc_norm2": ln(e.norm2),
        "memory": ln(model.encoder.norm),
        "dec_attn.body.attn": attn(d.self_attn), "dec_norm1": ln(d.norm1),
        "dec_cross.body.attn": attn(d.multihead_attn), "dec_norm2": ln(d.norm2),
        "dec_ff.body.linear1": lin(d.linear1), "dec_ff.body.linear2": lin(d.linear2), "dec_norm3": ln(d.norm3),
        "out_norm": ln(model.decoder.norm),
    }
    g = torch.Generator().manual_seed(7)
    src = torch.randn(1, S, D, generator=g, requires_grad=True)
    tgt = torch.randn(1, T, D, generator=g, requires_grad=True)
    target = torch.randn(T, D, generator=g)
    mask = nn.Transformer.generate_square_subsequent_mask(T)
    y = model(src, tgt, tgt_mask=mask, tgt_is_causal=True)[0]
    loss = ((y - target) ** 2).sum()
    loss.backward()
    # The gradient of a chunk of in_proj_weight is that chunk of its gradient.
    grad = {}
    for layer, tensors in weights.items():
        for kind, t in tensors.items():
            grad[f"{layer}.{kind}"] = t
    by_id = {}
    for name, p in model.named_parameters():
        by_id[id(p)] = p

    def gradient_of(t):
        if id(t) in by_id:
            return by_id[id(t)].grad
        base = t._base
        assert base is not None and id(base) in by_id
        rows = t.shape[0]
        offset = (t.storage_offset() - base.storage_offset()) // (base[0].numel() if base.dim() > 1 else 1)
        return by_id[id(base)].grad[offset:offset + rows]

    gradients = {key: nested(gradient_of(t)) for key, t in grad.items()}
    gradients["input.src"] = nested(src.grad[0])
    gradients["input.tgt"] = nested(tgt.grad[0])
    fixture = {
        "name": "encoder_decoder", "source": "torch %s nn.Transformer(d_model=%d, nhead=%d, 1 + 1 layers, dim_feedforward=%d, "
        "dropout=0)" % (torch.__version__.split("+")[0], D, HEADS, FF),
        "spec": SPEC, "inputs": {"src": nested(src[0]), "tgt": nested(tgt[0])},
        "weights": {layer: {k: nested(v) for k, v in tensors.items()} for layer, tensors in weights.items()},
        "target": nested(target), "output": nested(y), "loss_value": loss.item(), "gradients": gradients,
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(fixture, f)
        f.write("\n")
    print(f"{OUT}: output {list(y.shape)}, loss {loss.item():.6g}")


if __name__ == "__main__":
    main()
