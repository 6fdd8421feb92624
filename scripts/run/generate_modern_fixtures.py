#!/usr/bin/env python3
"""PyTorch reference fixtures for the netc 0.2 ops under `netc run` (forward and gradients).

A sibling of generate_fixtures.py with the same fixture format (its `main` writes them):
each case is a netspec and the same network written with PyTorch's own modules and
functions (F.silu, F.hardswish, F.gelu(approximate='tanh'), F.layer_norm, nn.RMSNorm,
F.linear, nn.ChannelShuffle, F.interpolate, F.pad, nn.Embedding's F.embedding, ...), so the
reference is independent of netc. Float64 throughout; gradients by autograd.

Sequences `LxC` are PyTorch's `(1, L, C)` (batch first, channels last), so they need no
permutation; grids `HxWxC` are permuted to `(1, C, H, W)` where a PyTorch op wants NCHW.
Token inputs are int64 ids and have no gradient (the fixture omits `input` then).

Run:    /work/venv-torch/bin/python scripts/run/generate_modern_fixtures.py
"""

import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
import generate_fixtures as base  # noqa: E402
from generate_fixtures import rand  # noqa: E402

torch.set_default_dtype(torch.float64)
base.GEN.manual_seed(20261202)
base.CASES.clear()
case = base.case


def nchw(x):
    """(1, H, W, C) -> (1, C, H, W)."""
    return x.permute(0, 3, 1, 2)


def nhwc(y):
    return y.permute(0, 2, 3, 1)


# Sequences and grids arrive here as (1, ...) with channels last: `to_torch` of the base
# script permutes to channels-first, which sequence ops do not want, so each case undoes
# it with `seq` / `grid` helpers below.
def seq(x):
    """(1, C, L) as base.to_torch gives -> (1, L, C)."""
    return x.transpose(1, 2)


def unseq(y):
    return y.transpose(1, 2)


# --- element-wise -------------------------------------------------------------

@case("modern_activations", "input: 4x4x3\nlayers: [CONV1-3 name c, SILU, HARDSWISH, GELU tanh, HARDSIGMOID, DROPPATH p 0.2]",
      (4, 4, 3), {"c": base.conv_params(3, 3, 1, 1, scale=2.0)})
def _(x, p):
    y = base.conv(x, p["c"]["weight"], p["c"]["bias"])
    return F.hardsigmoid(F.gelu(F.hardswish(F.silu(y)), approximate="tanh"))


@case("layerscale_ln_grid", "input: 3x3x4\nlayers: [LN eps 0.001 name n, LAYERSCALE name s, LN bias false name m]", (3, 3, 4),
      {"n": {"gamma": rand(4, positive=True), "beta": rand(4, scale=0.3)}, "s": {"gamma": rand(4)},
       "m": {"gamma": rand(4, positive=True)}})
def _(x, p):
    y = nhwc(x)  # ConvNeXt's LN: over the channels of HxWxC
    y = F.layer_norm(y, (4,), p["n"]["gamma"], p["n"]["beta"], eps=1e-3)
    y = y * p["s"]["gamma"]
    y = F.layer_norm(y, (4,), p["m"]["gamma"], None, eps=1e-5)
    return nchw(y)


@case("rmsnorm_linear", "input: 5x6\nlayers: [RMSNORM eps 0.000001 name r, LINEAR-4 name a, RMSNORM bias true name b, LINEAR-3 bias false name o]",
      (5, 6), {"r": {"gamma": rand(6, positive=True)}, "a": base.fc_params(4, 6),
               "b": {"gamma": rand(4, positive=True), "beta": rand(4, scale=0.3)}, "o": base.fc_params(3, 4, bias=False)})
def _(x, p):
    y = seq(x)
    y = F.rms_norm(y, (6,), p["r"]["gamma"], eps=1e-6)  # nn.RMSNorm's function
    y = F.linear(y, p["a"]["weight"], p["a"]["bias"])
    y = F.rms_norm(y, (4,), p["b"]["gamma"], eps=1e-5) + p["b"]["beta"]
    return unseq(F.linear(y, p["o"]["weight"]))


@case("linear_grid", "input: 2x3x4\nlayers: [LINEAR-5 name l, GELU]", (2, 3, 4), {"l": base.fc_params(5, 4)})
def _(x, p):
    return nchw(F.gelu(F.linear(nhwc(x), p["l"]["weight"], p["l"]["bias"])))


SE_SPEC = """input: 4x4x4
layers:
  - parallel:
      name: se
      merge: mul
      branches:
        - []
        - [GAP, CONV1-2 name down, RELU, CONV1-4 name up, HARDSIGMOID]
  - parallel:
      name: glu
      merge: mul
      branches:
        - [CONV1-3 name gate, SILU]
        - [CONV1-3 name value]
"""


@case("mul_broadcast", SE_SPEC, (4, 4, 4), {
    "se.branch2.down": base.conv_params(2, 4, 1, 1), "se.branch2.up": base.conv_params(4, 2, 1, 1),
    "glu.branch1.gate": base.conv_params(3, 4, 1, 1), "glu.branch2.value": base.conv_params(3, 4, 1, 1)})
def _(x, p):
    s = F.adaptive_avg_pool2d(x, 1)
    s = F.relu(base.conv(s, p["se.branch2.down"]["weight"], p["se.branch2.down"]["bias"]))
    s = F.hardsigmoid(base.conv(s, p["se.branch2.up"]["weight"], p["se.branch2.up"]["bias"]))
    y = x * s
    g = F.silu(base.conv(y, p["glu.branch1.gate"]["weight"], p["glu.branch1.gate"]["bias"]))
    return g * base.conv(y, p["glu.branch2.value"]["weight"], p["glu.branch2.value"]["bias"])


# --- sequences ----------------------------------------------------------------

@case("vit_tokens", "input: 4x4x3\nlayers: [CONV2-6 stride 2 name patch, TOKENS, CLSTOKEN name cls, POSEMBED-8 name pos, TYPEEMBED-2 name type, LN name n, TAKE]",
      (4, 4, 3), {"patch": base.conv_params(6, 3, 2, 2), "cls": {"weight": rand(6)}, "pos": {"weight": rand(8, 6)},
                  "type": {"weight": rand(2, 6)}, "n": {"gamma": rand(6, positive=True), "beta": rand(6, scale=0.3)}})
def _(x, p):
    y = base.conv(x, p["patch"]["weight"], p["patch"]["bias"], stride=2)
    y = y.flatten(2).transpose(1, 2)  # (1, H*W, C), row by row as ViT's patch embedding
    y = torch.cat([p["cls"]["weight"].reshape(1, 1, 6), y], 1)
    y = y + p["pos"]["weight"][: y.shape[1]]
    y = y + F.embedding(torch.zeros(y.shape[1], dtype=torch.long), p["type"]["weight"])  # token types all 0
    y = F.layer_norm(y, (6,), p["n"]["gamma"], p["n"]["beta"])
    return y[:, 0]


def sinusoidal_table(length, c):
    """Vaswani et al. 2017, section 3.5 (the Annotated Transformer's code): interleaved."""
    pe = torch.zeros(length, c)
    position = torch.arange(length, dtype=torch.float64).unsqueeze(1)
    div = torch.exp(torch.arange(0, c, 2, dtype=torch.float64) * (-math.log(10000.0) / c))
    pe[:, 0::2] = torch.sin(position * div)
    pe[:, 1::2] = torch.cos(position * div)[:, : c // 2]
    return pe


@case("sinusoidal_take_last", "input: 6x5\nlayers: [POSEMBED sinusoidal, LINEAR-4 name l, TAKE index -2]", (6, 5),
      {"l": base.fc_params(4, 5)})
def _(x, p):
    y = seq(x) + sinusoidal_table(6, 5)
    return F.linear(y, p["l"]["weight"], p["l"]["bias"])[:, -2]


# --- token inputs and tied weights --------------------------------------------

@case("tied_lm_head", "input: 6 tokens\nlayers: [EMBED-4 vocab 9 name wte, POSEMBED-8 name wpe, LN name ln, LINEAR-9 bias false tie wte name head]",
      {"length": 6, "vocab": 9},
      {"wte": {"weight": rand(9, 4)}, "wpe": {"weight": rand(8, 4, scale=0.3)},
       "ln": {"gamma": rand(4, positive=True), "beta": rand(4, scale=0.3)}})
def _(ids, p):
    # GPT-2's LM head is the token embedding's table (`lm_head.weight is wte.weight`): one
    # tensor, so autograd sums both uses into its gradient.
    y = F.embedding(ids, p["wte"]["weight"]) + p["wpe"]["weight"][: ids.shape[0]]
    y = F.layer_norm(y, (4,), p["ln"]["gamma"], p["ln"]["beta"])
    return unseq(F.linear(y, p["wte"]["weight"]).unsqueeze(0))


# --- CNN layers ---------------------------------------------------------------

SHUFFLE_SPEC = """input: 3x3x4
layers:
  - PAD pad 0:1,1:0
  - parallel:
      name: s
      split: true
      branches:
        - []
        - [CONV1-2 name c, RELU]
  - SHUFFLE-2
  - PAD-1
"""


@case("shuffle_split_pad", SHUFFLE_SPEC, (3, 3, 4), {"s.branch2.c": base.conv_params(2, 2, 1, 1)})
def _(x, p):
    y = F.pad(x, (1, 0, 0, 1))  # F.pad lists the last axis (W) first
    a, b = y.chunk(2, dim=1)
    b = F.relu(base.conv(b, p["s.branch2.c"]["weight"], p["s.branch2.c"]["bias"]))
    y = nn.ChannelShuffle(2)(torch.cat([a, b], 1))
    return F.pad(y, (1, 1, 1, 1))


@case("upsample", "input: 3x2x2\nlayers: [UPSAMPLE-2, CONV1-2 name c, UPSAMPLE size 5x7 bilinear, UPSAMPLE-2 bilinear, UPSAMPLE size 7x5]",
      (3, 2, 2), {"c": base.conv_params(2, 2, 1, 1)})
def _(x, p):
    y = F.interpolate(x, scale_factor=2, mode="nearest")
    y = base.conv(y, p["c"]["weight"], p["c"]["bias"])
    y = F.interpolate(y, size=(5, 7), mode="bilinear", align_corners=False)
    y = F.interpolate(y, scale_factor=2, mode="bilinear", align_corners=False)
    return F.interpolate(y, size=(7, 5), mode="nearest")


if __name__ == "__main__":
    base.main()
