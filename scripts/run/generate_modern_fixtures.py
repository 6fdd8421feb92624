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

# This venv's torchvision does not load against its torch (`torchvision::nms does not
# exist`), and transformers imports it when present; none of these cases needs it.
import transformers.utils  # noqa: E402
import transformers.utils.import_utils  # noqa: E402

transformers.utils.is_torchvision_available = transformers.utils.import_utils.is_torchvision_available = lambda: False

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


# --- attention -----------------------------------------------------------------

def attn_params(c, heads, kv, dim, memory=None, bias=True):
    m = memory or c
    p = {"wq": rand(heads * dim, c, scale=0.5), "wk": rand(kv * dim, m, scale=0.5), "wv": rand(kv * dim, m, scale=0.5),
         "wo": rand(c, heads * dim, scale=0.5)}
    if bias:
        p.update({"bq": rand(heads * dim, scale=0.3), "bk": rand(kv * dim, scale=0.3), "bv": rand(kv * dim, scale=0.3),
                  "bo": rand(c, scale=0.3)})
    return p


def rope_cos_sin(length, dim, theta=10000.0):
    """Hugging Face Llama's rotary tables (`LlamaRotaryEmbedding`), in float64 here."""
    inv_freq = 1.0 / (theta ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim))
    freqs = torch.outer(torch.arange(length, dtype=torch.float64), inv_freq)
    emb = torch.cat([freqs, freqs], -1)
    return emb.cos()[None], emb.sin()[None]


def attention(x, m, p, heads, kv, dim, causal=False, rope=False, theta=10000.0):
    """(1, T, C) queries, (1, S, C') memory -> (1, T, C), with PyTorch's own SDPA kernel."""
    from transformers.models.llama.modeling_llama import apply_rotary_pos_emb
    t, s_len = x.shape[1], m.shape[1]
    q = F.linear(x, p["wq"], p.get("bq")).view(1, t, heads, dim).transpose(1, 2)
    k = F.linear(m, p["wk"], p.get("bk")).view(1, s_len, kv, dim).transpose(1, 2)
    v = F.linear(m, p["wv"], p.get("bv")).view(1, s_len, kv, dim).transpose(1, 2)
    if rope:
        cos, sin = rope_cos_sin(t, dim, theta)
        q, _ = apply_rotary_pos_emb(q, q, cos, sin)
        cos, sin = rope_cos_sin(s_len, dim, theta)
        _, k = apply_rotary_pos_emb(k, k, cos, sin)
    o = F.scaled_dot_product_attention(q, k, v, is_causal=causal, enable_gqa=kv != heads)
    return F.linear(o.transpose(1, 2).reshape(1, t, heads * dim), p["wo"], p.get("bo"))


@case("attention_gqa_rope", "input: 5x8\nlayers: [ATTN-4 kv 2 causal rope name a, ATTN-2 kv 1 dim 3 bias false name b]", (5, 8),
      {"a": attn_params(8, 4, 2, 2), "b": attn_params(8, 2, 1, 3, bias=False)})
def _(x, p):
    y = seq(x)
    y = attention(y, y, p["a"], 4, 2, 2, causal=True, rope=True)
    return unseq(attention(y, y, p["b"], 2, 1, 3))


@case("attention_cross", "input: 6x4\nlayers: [LINEAR-5 name mem, AVGPOOL-2, ATTN-2 dim 3 cross mem name x]", (6, 4),
      {"mem": base.fc_params(5, 4), "x": attn_params(5, 2, 2, 3)})
def _(x, p):
    m = F.linear(seq(x), p["mem"]["weight"], p["mem"]["bias"])  # (1, 6, 5)
    q = F.avg_pool1d(m.transpose(1, 2), 2).transpose(1, 2)  # (1, 3, 5)
    return unseq(attention(q, m, p["x"], 2, 2, 3))


GPT2_SPEC = """input: 4x8
layers:
  - residual: {name: attn, body: [LN, ATTN-2 causal]}
  - residual: {name: mlp, body: [LN, LINEAR-32, GELU tanh, LINEAR-8]}
"""


@case("gpt2_block", GPT2_SPEC, (4, 8), {
    "attn.body.ln1": {"gamma": rand(8, positive=True), "beta": rand(8, scale=0.3)},
    "attn.body.attn1": attn_params(8, 2, 2, 4),
    "mlp.body.ln1": {"gamma": rand(8, positive=True), "beta": rand(8, scale=0.3)},
    "mlp.body.linear1": base.fc_params(32, 8), "mlp.body.linear2": base.fc_params(8, 32)})
def _(x, p):
    # transformers' GPT2Block itself, its Conv1D weights ([in][out]) made from netc's
    # [out][in] tensors so that autograd reaches them.
    from transformers import GPT2Config
    from transformers.models.gpt2.modeling_gpt2 import GPT2Block
    config = GPT2Config(n_embd=8, n_head=2, n_inner=32, n_positions=16, activation_function="gelu_new",
                        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, layer_norm_epsilon=1e-5)
    config._attn_implementation = "eager"
    block = GPT2Block(config).double().eval()
    a, ln1, ln2 = p["attn.body.attn1"], p["attn.body.ln1"], p["mlp.body.ln1"]
    state = {
        "ln_1.weight": ln1["gamma"], "ln_1.bias": ln1["beta"], "ln_2.weight": ln2["gamma"], "ln_2.bias": ln2["beta"],
        "attn.c_attn.weight": torch.cat([a["wq"], a["wk"], a["wv"]], 0).t(),
        "attn.c_attn.bias": torch.cat([a["bq"], a["bk"], a["bv"]], 0),
        "attn.c_proj.weight": a["wo"].t(), "attn.c_proj.bias": a["bo"],
        "mlp.c_fc.weight": p["mlp.body.linear1"]["weight"].t(), "mlp.c_fc.bias": p["mlp.body.linear1"]["bias"],
        "mlp.c_proj.weight": p["mlp.body.linear2"]["weight"].t(), "mlp.c_proj.bias": p["mlp.body.linear2"]["bias"],
    }
    # The block applies the mask it is given; GPT2Model builds this causal one.
    t = x.shape[2]
    mask = torch.full((t, t), torch.finfo(torch.float64).min).triu(1)[None, None]
    out = torch.func.functional_call(block, state, (seq(x),), {"attention_mask": mask})
    return unseq(out[0] if isinstance(out, tuple) else out)


LLAMA_SPEC = """input: 5x8
layers:
  - residual: {name: attn, body: [RMSNORM eps 0.000001, ATTN-4 kv 2 causal rope bias false]}
  - residual:
      name: mlp
      body:
        - RMSNORM eps 0.000001
        - parallel:
            name: swiglu
            merge: mul
            branches: [[LINEAR-12 bias false name gate, SILU], [LINEAR-12 bias false name up]]
        - LINEAR-8 bias false name down
"""


@case("llama_block", LLAMA_SPEC, (5, 8), {
    "attn.body.rmsnorm1": {"gamma": rand(8, positive=True)},
    "attn.body.attn1": attn_params(8, 4, 2, 2, bias=False),
    "mlp.body.rmsnorm1": {"gamma": rand(8, positive=True)},
    "mlp.body.swiglu.branch1.gate": base.fc_params(12, 8, bias=False),
    "mlp.body.swiglu.branch2.up": base.fc_params(12, 8, bias=False),
    "mlp.body.down": base.fc_params(8, 12, bias=False)})
def _(x, p):
    # transformers' LlamaDecoderLayer (GQA, rotary, SwiGLU), given the causal mask LlamaModel
    # would build and the rotary tables in float64 (LlamaRotaryEmbedding's are float32).
    from transformers import LlamaConfig
    from transformers.models.llama.modeling_llama import LlamaDecoderLayer
    config = LlamaConfig(hidden_size=8, num_attention_heads=4, num_key_value_heads=2, intermediate_size=12,
                         rms_norm_eps=1e-6, attention_bias=False, mlp_bias=False, hidden_act="silu")
    # SDPA, not eager: Llama's eager path softmaxes in float32 whatever the dtype.
    config._attn_implementation = "sdpa"
    layer = LlamaDecoderLayer(config, layer_idx=0).double().eval()
    # LlamaRMSNorm computes in float32 whatever the dtype (for bf16 training), which caps a
    # float64 reference at 1e-7; nn.RMSNorm is the same formula at the input's precision.
    layer.input_layernorm = nn.RMSNorm(8, eps=1e-6)
    layer.post_attention_layernorm = nn.RMSNorm(8, eps=1e-6)
    a = p["attn.body.attn1"]
    state = {
        "input_layernorm.weight": p["attn.body.rmsnorm1"]["gamma"],
        "post_attention_layernorm.weight": p["mlp.body.rmsnorm1"]["gamma"],
        "self_attn.q_proj.weight": a["wq"], "self_attn.k_proj.weight": a["wk"], "self_attn.v_proj.weight": a["wv"],
        "self_attn.o_proj.weight": a["wo"],
        "mlp.gate_proj.weight": p["mlp.body.swiglu.branch1.gate"]["weight"],
        "mlp.up_proj.weight": p["mlp.body.swiglu.branch2.up"]["weight"],
        "mlp.down_proj.weight": p["mlp.body.down"]["weight"],
    }
    t = x.shape[2]
    mask = torch.full((t, t), torch.finfo(torch.float64).min).triu(1)[None, None]
    out = torch.func.functional_call(layer, state, (seq(x),),
                                     {"attention_mask": mask, "position_embeddings": rope_cos_sin(t, 2),
                                      "position_ids": torch.arange(t)[None]})
    return unseq(out[0] if isinstance(out, tuple) else out)


@case("lm_cross_entropy", "input: 5 tokens\nlayers: [EMBED-6 vocab 11 name wte, POSEMBED-5 name wpe, RMSNORM name n, LINEAR-11 name head]",
      {"length": 5, "vocab": 11},
      {"wte": {"weight": rand(11, 6)}, "wpe": {"weight": rand(5, 6, scale=0.3)}, "n": {"gamma": rand(6, positive=True)},
       "head": base.fc_params(11, 6)}, loss="cross-entropy", target=[3, 0, 10, 3, 7])
def _(ids, p):
    # Next-token logits `5x11` against one target per position: CrossEntropyLoss's mean.
    y = F.embedding(ids, p["wte"]["weight"]) + p["wpe"]["weight"]
    y = F.rms_norm(y, (6,), p["n"]["gamma"], eps=1e-5)
    return unseq(F.linear(y, p["head"]["weight"], p["head"]["bias"]).unsqueeze(0))


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


DECONV_SPEC = "input: 3x3x4\nlayers: [\"DECONV3-4 stride 2 pad 1 outpad 1 groups 2 name d\", RELU, \"DECONV2x3-3 stride 1,2 pad 0:1,1:0 dilation 2 bias false name e\"]"


@case("deconv", DECONV_SPEC, (3, 3, 4), {"d": base.conv_params(4, 2, 3, 3), "e": base.conv_params(4, 3, 2, 3, bias=False)})
def _(x, p):
    # ConvTranspose weights are [Cin][Cout/groups][k...]: conv_params(Cin, Cout/groups, ...).
    y = F.relu(F.conv_transpose2d(x, p["d"]["weight"], p["d"]["bias"], stride=2, padding=1, output_padding=1, groups=2))
    # Asymmetric padding: conv_transpose2d pads symmetrically, so take pad 0 and crop the
    # rows and columns netc's begin/end remove (H: 0 before, 1 after; W: 1 before, 0 after).
    z = F.conv_transpose2d(y, p["e"]["weight"], None, stride=(1, 2), dilation=2)
    return z[:, :, : z.shape[2] - 1, 1:]


@case("upsample", "input: 3x2x2\nlayers: [UPSAMPLE-2, CONV1-2 name c, UPSAMPLE size 5x7 bilinear, UPSAMPLE-2 bilinear, UPSAMPLE size 7x5]",
      (3, 2, 2), {"c": base.conv_params(2, 2, 1, 1)})
def _(x, p):
    y = F.interpolate(x, scale_factor=2, mode="nearest")
    y = base.conv(y, p["c"]["weight"], p["c"]["bias"])
    y = F.interpolate(y, size=(5, 7), mode="bilinear", align_corners=False)
    y = F.interpolate(y, scale_factor=2, mode="bilinear", align_corners=False)
    return F.interpolate(y, size=(7, 5), mode="nearest")


MOE_SPEC = """input: 5x8
layers:
  - moe:
      name: moe
      experts: 4
      top: 2
      layers:
        - parallel:
            name: swiglu
            merge: mul
            branches: [[LINEAR-12 nobias name w1, SILU], [LINEAR-12 nobias name w3]]
        - LINEAR-8 nobias name w2
"""


# Its own generator: drawing from the shared one at definition time would change every
# earlier case's input (the inputs are drawn after all the cases' weights).
MOE_GEN = torch.Generator().manual_seed(20261203)


def moe_rand(*shape, scale=1.0):
    return torch.randn(*shape, generator=MOE_GEN) * scale


@case("mixtral_moe", MOE_SPEC, (5, 8), {
    "moe.router": {"weight": moe_rand(4, 8)},
    "moe.expert.swiglu.branch1.w1": {"weight": moe_rand(4, 12, 8, scale=0.5)},
    "moe.expert.swiglu.branch2.w3": {"weight": moe_rand(4, 12, 8, scale=0.5)},
    "moe.expert.w2": {"weight": moe_rand(4, 8, 12, scale=0.5)}})
def _(x, p):
    # transformers' MixtralSparseMoeBlock: its router's softmax over the experts, top 2,
    # renormalised, and its experts' fused [E][2*12][8] gate/up and [E][8][12] down weights
    # (netc's w1 and w3 stacked, as the gate comes first in `chunk(2)`).
    from transformers import MixtralConfig
    from transformers.models.mixtral import modeling_mixtral as mixtral
    config = MixtralConfig(hidden_size=8, intermediate_size=12, num_local_experts=4, num_experts_per_tok=2,
                           router_jitter_noise=0.0, hidden_act="silu")
    block = mixtral.MixtralSparseMoeBlock(config).double().eval()

    def router_forward(self, hidden_states):
        # MixtralTopKRouter's own lines, but its softmax stays in the input's precision
        # (transformers computes it in float32 whatever the dtype, which caps a float64
        # reference at 1e-7).
        hidden_states = hidden_states.reshape(-1, self.hidden_dim)
        router_logits = F.linear(hidden_states, self.weight)
        router_probs = torch.nn.functional.softmax(router_logits, dim=-1)
        router_top_value, router_indices = torch.topk(router_probs, self.top_k, dim=-1)
        router_top_value = router_top_value / router_top_value.sum(dim=-1, keepdim=True)
        return router_logits, router_top_value, router_indices

    block.gate.forward = router_forward.__get__(block.gate)
    state = {
        "gate.weight": p["moe.router"]["weight"],
        "experts.gate_up_proj": torch.cat(
            [p["moe.expert.swiglu.branch1.w1"]["weight"], p["moe.expert.swiglu.branch2.w3"]["weight"]], dim=1),
        "experts.down_proj": p["moe.expert.w2"]["weight"],
    }
    return unseq(torch.func.functional_call(block, state, (seq(x),)))



# Llama 3's rotary base (rope_theta 500000) over a longer sequence, where the base matters.
@case("attention_rope_theta", "input: 12x8\nlayers: [ATTN-2 kv 1 causal rope theta 500000 bias false name a]", (12, 8),
      {"a": {"wq": moe_rand(8, 8, scale=0.5), "wk": moe_rand(4, 8, scale=0.5), "wv": moe_rand(4, 8, scale=0.5),
             "wo": moe_rand(8, 8, scale=0.5)}})
def _(x, p):
    y = seq(x)
    return unseq(attention(y, y, p["a"], 2, 1, 4, causal=True, rope=True, theta=500000.0))


# --- whole blocks from torchvision --------------------------------------------

def torchvision_module(path, name):
    """A class of torchvision's, imported with register_fake made a no-op: its compiled ops
    may not load against this torch (scripts/reference/README.md)."""
    import importlib
    register_fake = torch.library.register_fake
    torch.library.register_fake = lambda *args, **kwargs: (lambda fn: fn)
    try:
        return getattr(importlib.import_module(path), name)
    finally:
        torch.library.register_fake = register_fake


CONVNEXT_SPEC = """input: 6x6x8
layers:
  - residual:
      name: b
      body: [DWCONV7 pad 3 name dwconv, LN eps 0.000001 name norm, LINEAR-32 name pwconv1, GELU name act,
             LINEAR-8 name pwconv2, LAYERSCALE name layer_scale, DROPPATH name stochastic_depth]
"""


@case("convnext_block", CONVNEXT_SPEC, (6, 6, 8), {
    "b.body.dwconv": base.conv_params(8, 1, 7, 7), "b.body.norm": {"gamma": rand(8, positive=True), "beta": rand(8, scale=0.3)},
    "b.body.pwconv1": base.fc_params(32, 8), "b.body.pwconv2": base.fc_params(8, 32), "b.body.layer_scale": {"gamma": rand(8)}})
def _(x, p):
    # torchvision's CNBlock itself (dwconv 7x7, LayerNorm over channels last, 4x MLP with
    # exact GELU, layer scale, stochastic depth at inference), its state from netc's tensors.
    CNBlock = torchvision_module("torchvision.models.convnext", "CNBlock")
    block = CNBlock(8, layer_scale=1e-6, stochastic_depth_prob=0.1).double().eval()
    q = lambda k: p["b.body." + k]  # noqa: E731
    state = {
        "block.0.weight": q("dwconv")["weight"], "block.0.bias": q("dwconv")["bias"],
        "block.2.weight": q("norm")["gamma"], "block.2.bias": q("norm")["beta"],
        "block.3.weight": q("pwconv1")["weight"], "block.3.bias": q("pwconv1")["bias"],
        "block.5.weight": q("pwconv2")["weight"], "block.5.bias": q("pwconv2")["bias"],
        "layer_scale": q("layer_scale")["gamma"].reshape(8, 1, 1),
    }
    return torch.func.functional_call(block, state, (x,))


VIT_SPEC = """input: 5x8
layers:
  - residual: {name: attention, body: [LN eps 0.000001 name ln_1, ATTN-2 name self_attention, DROPOUT p 0]}
  - residual: {name: mlp, body: [LN eps 0.000001 name ln_2, LINEAR-32 name fc1, GELU, DROPOUT p 0, LINEAR-8 name fc2, DROPOUT p 0]}
"""


@case("vit_block", VIT_SPEC, (5, 8), {
    "attention.body.ln_1": {"gamma": rand(8, positive=True), "beta": rand(8, scale=0.3)},
    "attention.body.self_attention": attn_params(8, 2, 2, 4),
    "mlp.body.ln_2": {"gamma": rand(8, positive=True), "beta": rand(8, scale=0.3)},
    "mlp.body.fc1": base.fc_params(32, 8), "mlp.body.fc2": base.fc_params(8, 32)})
def _(x, p):
    # torchvision's ViT EncoderBlock itself (nn.MultiheadAttention, the MLP with exact GELU).
    from functools import partial
    EncoderBlock = torchvision_module("torchvision.models.vision_transformer", "EncoderBlock")
    block = EncoderBlock(2, 8, 32, 0.0, 0.0, partial(nn.LayerNorm, eps=1e-6)).double().eval()
    a, ln1, ln2 = p["attention.body.self_attention"], p["attention.body.ln_1"], p["mlp.body.ln_2"]
    state = {
        "ln_1.weight": ln1["gamma"], "ln_1.bias": ln1["beta"], "ln_2.weight": ln2["gamma"], "ln_2.bias": ln2["beta"],
        "self_attention.in_proj_weight": torch.cat([a["wq"], a["wk"], a["wv"]], 0),
        "self_attention.in_proj_bias": torch.cat([a["bq"], a["bk"], a["bv"]], 0),
        "self_attention.out_proj.weight": a["wo"], "self_attention.out_proj.bias": a["bo"],
        "mlp.0.weight": p["mlp.body.fc1"]["weight"], "mlp.0.bias": p["mlp.body.fc1"]["bias"],
        "mlp.3.weight": p["mlp.body.fc2"]["weight"], "mlp.3.bias": p["mlp.body.fc2"]["bias"],
    }
    return unseq(torch.func.functional_call(block, state, (seq(x),)))


# One U-Net level (Ronneberger et al. 2015; not in torchvision): a double conv, the skip
# around pool + double conv + 2x2 transposed conv up, concatenated, then a double conv.
UNET_SPEC = """input: 8x8x2
layers:
  - CONV3-4 pad 1 name enc1
  - RELU
  - CONV3-4 pad 1 name enc2
  - RELU
  - parallel:
      name: skip
      merge: concat
      branches:
        - []
        - [POOL-2, CONV3-8 pad 1 name down1, RELU, CONV3-8 pad 1 name down2, RELU, DECONV2-4 stride 2 name up]
  - CONV3-4 pad 1 name dec1
  - RELU
  - CONV1-3 name out
"""


@case("unet_stage", UNET_SPEC, (8, 8, 2), {
    "enc1": base.conv_params(4, 2, 3, 3), "enc2": base.conv_params(4, 4, 3, 3),
    "skip.branch2.down1": base.conv_params(8, 4, 3, 3), "skip.branch2.down2": base.conv_params(8, 8, 3, 3),
    "skip.branch2.up": {"weight": rand(8, 4, 2, 2, scale=0.5), "bias": rand(4, scale=0.5)}, "dec1": base.conv_params(4, 8, 3, 3), "out": base.conv_params(3, 4, 1, 1)})
def _(x, p):
    def conv(y, k, pad=1):
        return base.conv(y, p[k]["weight"], p[k]["bias"], pad=pad)
    e = F.relu(conv(F.relu(conv(x, "enc1")), "enc2"))
    d = F.relu(conv(F.relu(conv(F.max_pool2d(e, 2), "skip.branch2.down1")), "skip.branch2.down2"))
    # ConvTranspose weights are [Cin][Cout][k...].
    u = F.conv_transpose2d(d, p["skip.branch2.up"]["weight"], p["skip.branch2.up"]["bias"], stride=2)
    y = F.relu(conv(torch.cat([e, u], 1), "dec1"))
    return conv(y, "out", pad=0)


if __name__ == "__main__":
    base.main()
