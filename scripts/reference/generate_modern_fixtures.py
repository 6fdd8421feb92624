#!/usr/bin/env python3
"""Generate PyTorch reference fixtures for netc's modern networks.

The transformer and modern-CNN counterpart of generate_fixtures.py: for each
network below this script builds the model from its config with random weights
(nothing is downloaded; Llama-3-8B and Mixtral-8x7B are built on the meta
device), runs batch-1 forward passes under torch.utils.flop_counter.FlopCounterMode
and records, in execution order, one entry per call of a counted module:

    {"module": "transformer.h.0.attn", "type": "Attention", "output": [1024, 768],
     "params": 2362368, "macs": 3208642560}

Shapes are netc's: channels-last without the batch axis, (1, C, H, W) -> [H, W, C],
(1, T, d) -> [T, d], (1, N) -> [N].  MACs are FlopCounterMode's FLOPs halved (it
counts mm, addmm, bmm and convolution: matrix products and convolutions only), so
attention's QK^T and AV are counted over the full T x T square; elementwise ops,
softmax, norms and embedding lookups count 0.  A layer's MACs are those counted
between the pre- and post-forward hooks of its module (or module span).

Every total is asserted against a published or closed-form figure (see
PUBLISHED and the checks in each builder): a mismatch fails loudly.

Output: Tests/NetcPassesTests/Fixtures/reference/<net>.json (one per network).
Run:    /work/venv-torch/bin/python scripts/reference/generate_modern_fixtures.py [net ...]
"""

import math
import os
import sys
import types
from collections import OrderedDict

import torch
import torch.nn as nn
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# Shared with the CNN generator: torchvision imported with register_fake made a
# no-op (its compiled ops may not load against the installed torch), the output
# folder and the fixture writer (one layer entry per line).  transformers imports
# torchvision itself, so it must come after this import.
from generate_fixtures import OUT_DIR, REPO_ROOT, channels_last, torchvision, tvm, write_fixture  # noqa: E402

import transformers  # noqa: E402
from transformers import (  # noqa: E402
    BertConfig, BertModel, GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM,
    MixtralConfig, MixtralForCausalLM)
from transformers.models.mixtral.modeling_mixtral import MixtralSparseMoeBlock  # noqa: E402
from transformers.pytorch_utils import Conv1D  # noqa: E402
from torchvision.models.convnext import CNBlock, LayerNorm2d  # noqa: E402

SEED = 0

# Published figures each fixture must reproduce (None: not published, printed only).
# Sources: /work/shared/frontier-anchors.md section 1 (torchvision model docs, the
# Mixtral announcement, onnx-tool's Llama-3-8B count, calflops' eager MACs).
PUBLISHED = {
    "gpt2": {"params": 124_439_808, "macs": 145_824_153_600},
    "bert_base": {"params": 109_482_240, "macs": 11_174_215_680},
    "vit_b_16": {"params": 86_567_656, "macs": 17_563_828_224},
    "llama3_8b": {"params": 8_030_261_248},
    "mixtral_8x7b": {"params": 46_702_792_704, "active_params": 12_879_925_248},
    "convnext_tiny": {"params": 28_589_128},
    "efficientnet_b0": {"params": 5_288_548, "buffers": 42_016},
    "mobilenet_v3_large": {"params": 5_483_032, "buffers": 24_400},
    "unet": {},
}


# --------------------------------------------------------------------------
# U-Net (not in torchvision)
# --------------------------------------------------------------------------

class DoubleConv(nn.Module):
    """Two conv3x3 (padding 1, bias) + ReLU, as in every U-Net stage."""

    def __init__(self, cin, cout):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, kernel_size=3, padding=1)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(cout, cout, kernel_size=3, padding=1)
        self.relu2 = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.relu2(self.conv2(self.relu1(self.conv1(x))))


class UNet(nn.Module):
    """U-Net (Ronneberger et al. 2015, Fig. 1) with padding-1 3x3 convs, so no cropping.

    Four down stages (64, 128, 256, 512 channels; two conv3x3+ReLU each, a 2x2
    max pool after each), a 1024-channel bottom (two conv3x3+ReLU), four up
    stages (ConvTranspose2d kernel 2 stride 2 halving the channels, concatenated
    with the skip along channels, skip first, then two conv3x3+ReLU) and a final
    1x1 conv to the classes.  Biases on, no batch norm.
    """

    WIDTHS = (64, 128, 256, 512)
    BOTTOM = 1024

    def __init__(self, in_channels=1, num_classes=2):
        super().__init__()
        cin = in_channels
        for i, width in enumerate(self.WIDTHS, 1):
            setattr(self, "enc%d" % i, DoubleConv(cin, width))
            setattr(self, "pool%d" % i, nn.MaxPool2d(kernel_size=2, stride=2))
            cin = width
        self.bottom = DoubleConv(cin, self.BOTTOM)
        cin = self.BOTTOM
        for i, width in enumerate(reversed(self.WIDTHS), 1):  # up1 is the deepest
            setattr(self, "up%d" % i, nn.ConvTranspose2d(cin, width, kernel_size=2, stride=2))
            setattr(self, "dec%d" % i, DoubleConv(2 * width, width))
            cin = width
        self.head = nn.Conv2d(cin, num_classes, kernel_size=1)

    def forward(self, x):
        skips = []
        for i in range(1, len(self.WIDTHS) + 1):
            x = getattr(self, "enc%d" % i)(x)
            skips.append(x)
            x = getattr(self, "pool%d" % i)(x)
        x = self.bottom(x)
        for i in range(1, len(self.WIDTHS) + 1):
            x = getattr(self, "up%d" % i)(x)
            x = torch.cat([skips.pop(), x], dim=1)  # skip first, then the upsampled
            x = getattr(self, "dec%d" % i)(x)
        return self.head(x)


def unet_closed_form(h, w, in_channels=1, num_classes=2):
    """Params and MACs of UNet from its layout alone (no module objects)."""
    params = macs = 0

    def conv(k, cin, cout, h, w):  # k x k, padding keeps h x w
        nonlocal params, macs
        params += k * k * cin * cout + cout
        macs += k * k * cin * cout * h * w

    cin = in_channels
    for width in UNet.WIDTHS:
        conv(3, cin, width, h, w)
        conv(3, width, width, h, w)
        cin, h, w = width, h // 2, w // 2
    conv(3, cin, UNet.BOTTOM, h, w)
    conv(3, UNet.BOTTOM, UNet.BOTTOM, h, w)
    cin = UNet.BOTTOM
    for width in reversed(UNet.WIDTHS):
        params += cin * width * 4 + width      # ConvTranspose2d k2 s2
        macs += cin * width * 4 * h * w        # on the input's h x w
        h, w = 2 * h, 2 * w
        conv(3, 2 * width, width, h, w)
        conv(3, width, width, h, w)
        cin = width
    conv(1, cin, num_classes, h, w)
    return params, macs


# --------------------------------------------------------------------------
# Recording: hooks + FlopCounterMode
# --------------------------------------------------------------------------

POOLS = (nn.modules.pooling._MaxPoolNd, nn.modules.pooling._AvgPoolNd,
         nn.modules.pooling._AdaptiveAvgPoolNd, nn.modules.pooling._AdaptiveMaxPoolNd)
# Modules whose 4-D tensors are (1, C, H, W); every other module works on the last axis.
CHANNELS_FIRST = (nn.modules.conv._ConvNd, nn.modules.batchnorm._BatchNorm, LayerNorm2d) + POOLS


def entry_type(module):
    """The fixture type of a module counted on its own, or None (no entry)."""
    if isinstance(module, nn.Embedding):
        return "Embedding"
    if isinstance(module, nn.LayerNorm):  # torchvision's LayerNorm2d too
        return "LayerNorm"
    if type(module).__name__.endswith("RMSNorm"):
        return "RMSNorm"
    if isinstance(module, (nn.Linear, Conv1D)):
        return "Linear"
    if isinstance(module, nn.ConvTranspose2d):
        return "ConvTranspose2d"
    if isinstance(module, nn.Conv2d):
        return "Conv2d"
    if isinstance(module, nn.BatchNorm2d):
        return "BatchNorm2d"
    if isinstance(module, POOLS):
        return "Pool"
    return None


def first_tensor(value):
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, (tuple, list)):
        return first_tensor(value[0])
    raise TypeError("no tensor in %r" % type(value))


def netc_shape(tensor, channels_first):
    shape = list(tensor.shape)
    assert shape[0] == 1, shape
    return channels_last(shape) if channels_first else shape[1:]


class Recorder:
    """Hooks that turn a forward pass into fixture layer entries.

    An entry spans from a start module's pre-hook to an end module's post-hook
    (usually the same module); its MACs are FlopCounterMode's FLOPs counted in
    between, halved; its params are those of its tensors not already counted by an
    earlier entry (so a shared tensor counts once, at its first user).
    """

    def __init__(self, model):
        self.model = model
        self.counter = None
        self.entries = []
        self.covers = []      # per entry: the module names whose FLOPs it spans
        self.seen = set()     # ids of parameters already counted
        self.handles = []
        self.pending = {}

    def flops(self):
        return self.counter.get_total_flops() if self.counter is not None else 0

    def _params(self, tensors):
        n = 0
        for p in tensors:
            if id(p) not in self.seen:
                self.seen.add(id(p))
                n += p.numel()
        return n

    def span(self, name, kind, start, end, tensors, cover, channels_first=False, extra=None):
        key = object()

        def pre(mod, args):
            self.pending.setdefault(key, []).append(self.flops())

        def post(mod, args, output):
            flops = self.flops() - self.pending[key].pop()
            assert flops % 2 == 0, (name, flops)
            entry = OrderedDict([
                ("module", name),
                ("type", kind),
                ("output", netc_shape(first_tensor(output), channels_first)),
                ("params", self._params(tensors)),
                ("macs", flops // 2),
            ])
            if extra:
                entry.update(extra(entry))
            self.entries.append(entry)
            self.covers.append(tuple(cover))

        self.handles.append(start.register_forward_pre_hook(pre))
        self.handles.append(end.register_forward_hook(post))

    def module(self, name, module, kind, channels_first=None, extra=None):
        if channels_first is None:
            channels_first = isinstance(module, CHANNELS_FIRST)
        self.span(name, kind, module, module, list(module.parameters()), [name],
                  channels_first, extra)

    def parameter(self, name, kind, param, before, channels_first=False):
        """An nn.Parameter used outside any module (ViT's class token, ConvNeXt's
        layer scale): an entry at the pre-hook of the module that first sees the
        result, with that module's input as the output shape and no MACs."""

        def pre(mod, args, kwargs):
            x = args[0] if args else next(v for v in kwargs.values() if isinstance(v, torch.Tensor))
            self.entries.append(OrderedDict([
                ("module", name), ("type", kind), ("output", netc_shape(x, channels_first)),
                ("params", self._params([param])), ("macs", 0)]))
            self.covers.append(())

        self.handles.append(before.register_forward_pre_hook(pre, with_kwargs=True))

    def auto(self, skip=()):
        """An entry for every module entry_type knows, outside the `skip` prefixes
        (modules already covered by an Attention or MoE entry)."""
        for name, module in self.model.named_modules():
            kind = entry_type(module)
            if kind is None or any(name == s or name.startswith(s + ".") for s in skip):
                continue
            self.module(name, module, kind)

    def remove(self):
        for handle in self.handles:
            handle.remove()
        self.handles = []


def run(model, inputs, recorder=None):
    """One batch-1 forward under FlopCounterMode: (output, MACs, counter)."""
    counter = FlopCounterMode(display=False)
    if recorder is not None:
        recorder.counter = counter
    with torch.no_grad(), counter:
        output = model(**inputs) if isinstance(inputs, dict) else model(inputs)
    flops = counter.get_total_flops()
    assert flops % 2 == 0, flops
    if recorder is not None:
        recorder.remove()
        recorder.counter = None
    return output, flops // 2, counter


def module_flops(counter, root, name):
    """FlopCounterMode's own attribution: all FLOPs inside module `name` (all calls)."""
    counts = counter.get_flop_counts().get(root + "." + name if name else root, {})
    return sum(counts.values())


def check_attribution(recorder, counter, root, skip=()):
    """Each entry's hook-measured MACs against FlopCounterMode's per-module counts."""
    by_cover = OrderedDict()
    for entry, cover in zip(recorder.entries, recorder.covers):
        if cover in skip:
            continue
        by_cover[cover] = by_cover.get(cover, 0) + entry["macs"]
    for cover, macs in by_cover.items():
        theirs = sum(module_flops(counter, root, n) for n in cover)
        assert 2 * macs == theirs, (cover, macs, theirs)


def check_formulas(model, recorder):
    """Linear = in * out * tokens, Conv2d = weight.numel() * output positions
    (the CNN generator's convention), on every such entry."""
    modules = dict(model.named_modules())
    for entry in recorder.entries:
        module = modules.get(entry["module"])
        if entry["type"] == "Linear":
            if isinstance(module, Conv1D):
                fan_in, fan_out = module.weight.shape
            else:
                fan_in, fan_out = module.in_features, module.out_features
            assert entry["output"][-1] == fan_out, entry
            expect = fan_in * fan_out * math.prod(entry["output"][:-1])
        elif entry["type"] == "Conv2d":
            expect = module.weight.numel() * math.prod(entry["output"][:-1])
        else:
            continue
        assert entry["macs"] == expect, (entry, expect)


def count_params(model):
    # model.parameters() yields a shared tensor once (GPT-2's tied head).
    return sum(p.numel() for p in model.parameters())


def count_buffers(model):
    """BN running mean + var only.  Any other buffer must be non-persistent (HF's
    position_ids, token_type_ids, rotary inv_freq): those are not counted."""
    persistent = set(model.state_dict().keys())
    n = 0
    for name, buf in model.named_buffers():
        if name.endswith(("running_mean", "running_var")):
            n += buf.numel()
        elif not name.endswith("num_batches_tracked"):
            assert name not in persistent, "persistent buffer %s: decide how to count it" % name
    return n


def fixture(net, source, versions, input_shape, output, params, buffers, macs, layers, **more):
    f = OrderedDict([("network", net), ("source", source), ("torch", torch.__version__)])
    f.update(versions)
    f.update([("input", input_shape), ("output", output), ("params", params),
              ("buffers", buffers), ("macs", macs)])
    f.update(more)
    f["layers"] = layers
    return f


def tf_versions():
    return OrderedDict([("transformers", transformers.__version__)])


def tv_versions():
    return OrderedDict([("torchvision", torchvision.__version__)])


def full_cover(net, recorder, params, macs):
    """The entries account for every parameter and every MAC."""
    assert sum(e["params"] for e in recorder.entries) == params, (net, "params")
    assert sum(e["macs"] for e in recorder.entries) == macs, (net, "macs")


def check_closed_form(net, macs_by_t, a, b, c=0):
    """The recorded MACs against a * T + b * T^2 + c from the config's dimensions."""
    for t, macs in macs_by_t.items():
        t = int(t)
        assert macs == a * t + b * t * t + c, (net, t, macs, a * t + b * t * t + c)


def decoder_closed_form(config, mlp_per_token):
    """(a, b) of a Llama-style decoder: q, k, v, o and the MLP per token per layer,
    the untied head per token; QK^T and AV over the full T x T square, all heads."""
    d, layers = config.hidden_size, config.num_hidden_layers
    heads, kv, dh = config.num_attention_heads, config.num_key_value_heads, config.hidden_size // config.num_attention_heads
    a = layers * (d * dh * (heads + 2 * kv) + heads * dh * d + mlp_per_token) + d * config.vocab_size
    return a, 2 * layers * heads * dh


def token_inputs(t, device="cpu", token_types=False):
    ids = torch.zeros(1, t, dtype=torch.long, device=device)
    inputs = {"input_ids": ids}
    if token_types:
        inputs["token_type_ids"] = torch.zeros_like(ids)
    return inputs


# --------------------------------------------------------------------------
# Builders: one per network, each returns its fixture
# --------------------------------------------------------------------------

def build_gpt2():
    torch.manual_seed(SEED)
    model = GPT2LMHeadModel(GPT2Config(attn_implementation="eager")).eval()
    assert model.config._attn_implementation == "eager"
    assert model.lm_head.weight is model.transformer.wte.weight  # tied head
    rec = Recorder(model)
    attn = [n for n, m in model.named_modules() if type(m).__name__ == "GPT2Attention"]
    for name in attn:
        rec.module(name, model.get_submodule(name), "Attention")
    rec.auto(skip=attn)
    macs_by_t = OrderedDict()
    for t in (1024, 512):
        out, macs, counter = run(model, token_inputs(t), rec if not macs_by_t else None)
        if not macs_by_t:
            output = list(out.logits.shape[1:])
            check_attribution(rec, counter, "GPT2LMHeadModel")
        macs_by_t[str(t)] = macs
    params = count_params(model)
    full_cover("gpt2", rec, params, macs_by_t["1024"])
    c = model.config
    d, f = c.n_embd, c.n_inner or 4 * c.n_embd
    check_closed_form("gpt2", macs_by_t, c.n_layer * (d * 3 * d + d * d + 2 * d * f) + d * c.vocab_size,
                      2 * c.n_layer * d)
    check_formulas(model, rec)
    return fixture("gpt2", 'transformers %s GPT2LMHeadModel(GPT2Config()), attn_implementation="eager", '
                   "random init; input_ids zeros" % transformers.__version__,
                   tf_versions(), [1024], output, params, count_buffers(model),
                   macs_by_t["1024"], rec.entries, macs_by_T=macs_by_t)


def build_bert_base():
    torch.manual_seed(SEED)
    model = BertModel(BertConfig(attn_implementation="eager")).eval()
    assert model.config._attn_implementation == "eager" and model.pooler is not None
    rec = Recorder(model)
    covered = []
    for i, layer in enumerate(model.encoder.layer):
        name = "encoder.layer.%d.attention" % i
        a = layer.attention
        # q, k, v (BertSelfAttention) and the output projection (BertSelfOutput.dense);
        # the post-attention LayerNorm gets its own entry (from auto below).
        rec.span(name, "Attention", a.self, a.output.dense,
                 list(a.self.parameters()) + list(a.output.dense.parameters()),
                 [name + ".self", name + ".output.dense"])
        covered += [name + ".self", name + ".output.dense"]
    rec.auto(skip=covered)
    macs_by_t = OrderedDict()
    for t in (128, 64):
        out, macs, counter = run(model, token_inputs(t, token_types=True), rec if not macs_by_t else None)
        if not macs_by_t:
            output = list(out.pooler_output.shape[1:])
            check_attribution(rec, counter, "BertModel")
        macs_by_t[str(t)] = macs
    params = count_params(model)
    full_cover("bert_base", rec, params, macs_by_t["128"])
    c = model.config
    d, f = c.hidden_size, c.intermediate_size
    # The pooler's dense runs on the first token only: a constant d * d, not d * d * T.
    check_closed_form("bert_base", macs_by_t, c.num_hidden_layers * (4 * d * d + 2 * d * f),
                      2 * c.num_hidden_layers * d, d * d)
    check_formulas(model, rec)
    return fixture("bert_base", 'transformers %s BertModel(BertConfig()) with pooler, attn_implementation="eager", '
                   "random init; input_ids and token_type_ids zeros, no attention mask; output = pooler_output"
                   % transformers.__version__,
                   tf_versions(), [128], output, params, count_buffers(model),
                   macs_by_t["128"], rec.entries, macs_by_T=macs_by_t)


def build_vit_b_16():
    torch.manual_seed(SEED)
    model = tvm.vit_b_16(weights=None).eval()
    rec = Recorder(model)
    attn = []
    for name, module in model.named_modules():
        if isinstance(module, nn.MultiheadAttention):
            # torchvision calls it with need_weights=False, which runs fused SDPA
            # kernels FlopCounterMode does not count on CPU.  need_weights=True (and
            # the fast path off, in run_vit) takes the explicit bmm path: QK^T and
            # AV are counted over the full 197 x 197 square.
            module.register_forward_pre_hook(
                lambda mod, args, kwargs: (args, dict(kwargs, need_weights=True)), with_kwargs=True)
            rec.module(name, module, "Attention")
            attn.append(name)
    rec.module("conv_proj", model.conv_proj, "Conv2d")
    rec.parameter("class_token", "ClassToken", model.class_token, model.encoder)
    rec.parameter("encoder.pos_embedding", "PositionEmbedding", model.encoder.pos_embedding,
                  model.encoder.dropout)  # its input is x + pos_embedding
    rec.auto(skip=attn + ["conv_proj"])
    x = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(SEED))
    fastpath = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        out, macs, counter = run(model, x, rec)
    finally:
        torch.backends.mha.set_fastpath_enabled(fastpath)
    check_attribution(rec, counter, "VisionTransformer")
    params = count_params(model)
    full_cover("vit_b_16", rec, params, macs)
    check_formulas(model, rec)
    return fixture("vit_b_16", "torchvision %s vit_b_16(weights=None); attention run with need_weights=True "
                   "and torch.backends.mha fast path off" % torchvision.__version__.split("+")[0],
                   tv_versions(), [224, 224, 3], channels_last(out.shape), params,
                   count_buffers(model), macs, rec.entries)


def build_cnn(net, make):
    torch.manual_seed(SEED)
    model = make().eval()
    rec = Recorder(model)
    root = type(model).__name__
    for name, module in model.named_modules():
        if isinstance(module, CNBlock):
            rec.parameter(name + ".layer_scale", "LayerScale", module.layer_scale,
                          module.stochastic_depth, channels_first=True)  # input: layer_scale * block(x)
    rec.auto()
    x = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(SEED))
    out, macs, counter = run(model, x, rec)
    check_attribution(rec, counter, root)
    params = count_params(model)
    full_cover(net, rec, params, macs)
    check_formulas(model, rec)
    return fixture(net, "torchvision %s %s(weights=None)" % (torchvision.__version__.split("+")[0], net),
                   tv_versions(), [224, 224, 3], channels_last(out.shape), params,
                   count_buffers(model), macs, rec.entries)


def build_unet():
    torch.manual_seed(SEED)
    model = UNet().eval()
    rec = Recorder(model)
    rec.auto()
    x = torch.randn(1, 1, 512, 512, generator=torch.Generator().manual_seed(SEED))
    out, macs, counter = run(model, x, rec)
    check_attribution(rec, counter, "UNet")
    params = count_params(model)
    full_cover("unet", rec, params, macs)
    check_formulas(model, rec)
    assert (params, macs) == unet_closed_form(512, 512), ((params, macs), unet_closed_form(512, 512))
    return fixture("unet", "UNet in scripts/reference/generate_modern_fixtures.py (Ronneberger 2015 "
                   "layout, padding-1 convs, biases, no BN)", OrderedDict(), [512, 512, 1],
                   channels_last(out.shape), params, count_buffers(model), macs, rec.entries)


# --- Llama-3-8B and Mixtral-8x7B: meta device, first decoder layer recorded ---

LLAMA3_8B = dict(vocab_size=128256, hidden_size=4096, intermediate_size=14336, num_hidden_layers=32,
                 num_attention_heads=32, num_key_value_heads=8, rope_theta=5e5,
                 max_position_embeddings=8192, tie_word_embeddings=False)
# mistralai/Mixtral-8x7B-v0.1 config.json (model card)
MIXTRAL_8X7B = dict(vocab_size=32000, hidden_size=4096, intermediate_size=14336, num_hidden_layers=32,
                    num_attention_heads=32, num_key_value_heads=8, max_position_embeddings=32768,
                    rope_theta=1e6, rms_norm_eps=1e-5, sliding_window=None, num_local_experts=8,
                    num_experts_per_tok=2, tie_word_embeddings=False)


def config_text(cls, values):
    return "%s(%s)" % (cls.__name__, ", ".join("%s=%r" % kv for kv in values.items()))


def decoder_recorder(model, attn_cls, moe_cls=None):
    """Entries for the embedding, decoder layer 0, the final norm and the head."""
    rec = Recorder(model)
    keep = lambda name: not name.startswith("model.layers.") or name.startswith("model.layers.0.")
    covered = []
    for name, module in model.named_modules():
        if not keep(name):
            continue
        if isinstance(module, attn_cls):
            rec.module(name, module, "Attention")
            covered.append(name)
        elif moe_cls is not None and isinstance(module, moe_cls):
            rec.module(name, module, "MoE", extra=lambda e, m=module: {"active_params": moe_active(m)})
            covered.append(name)
    for name, module in model.named_modules():
        kind = entry_type(module)
        if kind and keep(name) and not any(name.startswith(c + ".") for c in covered):
            rec.module(name, module, kind)
    return rec


def check_identical_layers(model, counter, root):
    """Every decoder layer has layer 0's parameters and, per submodule, its FLOPs:
    the fixture's first-layer entries stand for all of them."""
    layers = model.model.layers
    shape0 = [(n, p.shape) for n, p in layers[0].named_parameters()]
    for i, layer in enumerate(layers):
        assert [(n, p.shape) for n, p in layer.named_parameters()] == shape0, i
        for sub, _ in layer.named_modules():
            suffix = "." + sub if sub else ""
            assert module_flops(counter, root, "model.layers.%d%s" % (i, suffix)) == \
                module_flops(counter, root, "model.layers.0" + suffix), (i, sub)


def first_layer_params(model):
    """Embedding + layer 0 + final norm + head: what the first-layer entries hold."""
    layers = model.model.layers
    return count_params(model) - sum(count_params(layer) for layer in layers[1:])


def build_llama3_8b():
    config = LlamaConfig(attn_implementation="eager", **LLAMA3_8B)
    assert config.rope_parameters["rope_theta"] == 5e5, config.rope_parameters
    with torch.device("meta"):
        model = LlamaForCausalLM(config).eval()
    assert model.config._attn_implementation == "eager"
    attn_cls = type(model.model.layers[0].self_attn)
    rec = decoder_recorder(model, attn_cls)
    macs_by_t = OrderedDict()
    for t in (8, 16):
        out, macs, counter = run(model, token_inputs(t, "meta"), rec if not macs_by_t else None)
        if not macs_by_t:
            output = list(out.logits.shape[1:])
            check_attribution(rec, counter, "LlamaForCausalLM")
            check_identical_layers(model, counter, "LlamaForCausalLM")
        macs_by_t[str(t)] = macs
    params = count_params(model)
    assert sum(e["params"] for e in rec.entries) == first_layer_params(model)
    check_formulas(model, rec)
    check_closed_form("llama3_8b", macs_by_t, *decoder_closed_form(
        config, 3 * config.hidden_size * config.intermediate_size))
    return fixture("llama3_8b", "transformers %s LlamaForCausalLM(%s), attn_implementation=\"eager\", "
                   "meta device; input_ids zeros" % (transformers.__version__, config_text(LlamaConfig, LLAMA3_8B)),
                   tf_versions(), [8], output, params, count_buffers(model), macs_by_t["8"],
                   rec.entries, macs_by_T=macs_by_t, layers_cover="first decoder layer only")


def moe_expert_params(block):
    """Parameters of each expert of a Mixtral sparse block, from its own tensors
    (the experts are stored stacked: every expert tensor has a leading E axis)."""
    experts = list(block.experts.parameters())
    n_experts = block.experts.num_experts
    assert all(p.shape[0] == n_experts for p in experts)
    per = [sum(p[e].numel() for p in experts) for e in range(n_experts)]
    assert len(set(per)) == 1, per
    return per


def moe_active(block):
    """Router + the top_k experts a token runs: total minus the (E - k) unused."""
    per = moe_expert_params(block)
    return count_params(block) - (len(per) - block.top_k) * per[0]


def moe_macs(config, t):
    """MACs of one Mixtral sparse block on t tokens: every token runs exactly top_k
    experts (gate, up and down projections, 3 * d * f each) and the router (d * E).
    Verified to the unit against FlopCounterMode on real weights in verify_moe_macs."""
    d, f = config.hidden_size, config.intermediate_size
    e, k = config.num_local_experts, config.num_experts_per_tok
    return t * k * 3 * d * f + t * d * e


def stub_moe(model):
    """Replace every sparse block's forward by a shape-only stub (no FLOPs): the
    meta device cannot run data-dependent routing.  Its MACs come from moe_macs."""
    for module in model.modules():
        if isinstance(module, MixtralSparseMoeBlock):
            module.forward = types.MethodType(lambda self, x: torch.zeros_like(x), module)


def verify_moe_macs():
    """moe_macs against FlopCounterMode on real weights and real routing
    (experts_implementation="eager": one F.linear per hit expert; transformers'
    default "grouped_mm" runs torch._grouped_mm, which FlopCounterMode does not
    count, so the experts would silently vanish from the total):
    (1) a tiny random Mixtral on CPU: its measured total equals the stubbed model's
        total plus layers * moe_macs, and each block's count equals moe_macs;
    (2) one full-size 8x7B sparse block (bf16, random weights) on CPU."""
    tiny = dict(vocab_size=97, hidden_size=32, intermediate_size=56, num_hidden_layers=3,
                num_attention_heads=4, num_key_value_heads=2, num_local_experts=5, num_experts_per_tok=2)
    config = MixtralConfig(attn_implementation="eager", experts_implementation="eager", **tiny)
    for t in (8, 16, 13):
        torch.manual_seed(SEED)
        model = MixtralForCausalLM(config).eval()
        ids = torch.randint(0, tiny["vocab_size"], (1, t), generator=torch.Generator().manual_seed(SEED))
        _, real, counter = run(model, {"input_ids": ids})
        for i in range(tiny["num_hidden_layers"]):
            got = module_flops(counter, "MixtralForCausalLM", "model.layers.%d.mlp" % i)
            assert got == 2 * moe_macs(config, t), (t, i, got, moe_macs(config, t))
        stub_moe(model)
        _, stubbed, _ = run(model, {"input_ids": ids})
        assert real == stubbed + tiny["num_hidden_layers"] * moe_macs(config, t), (t, real, stubbed)
    config = MixtralConfig(experts_implementation="eager", **MIXTRAL_8X7B)
    with torch.device("meta"):
        block = MixtralSparseMoeBlock(config)
    block = block.to(torch.bfloat16).to_empty(device="cpu").eval()
    gen = torch.Generator().manual_seed(SEED)
    with torch.no_grad():
        for p in block.parameters():
            p.normal_(0.0, 0.02, generator=gen)
    for t in (8, 16):
        x = torch.randn(1, t, config.hidden_size, generator=gen).to(torch.bfloat16)
        _, got, _ = run(block, x)
        assert got == moe_macs(config, t), (t, got, moe_macs(config, t))
    del block


def build_mixtral_8x7b():
    verify_moe_macs()
    config = MixtralConfig(attn_implementation="eager", experts_implementation="eager", **MIXTRAL_8X7B)
    assert config.rope_parameters["rope_theta"] == 1e6, config.rope_parameters
    with torch.device("meta"):
        model = MixtralForCausalLM(config).eval()
    blocks = [m for m in model.modules() if isinstance(m, MixtralSparseMoeBlock)]
    assert len(blocks) == config.num_hidden_layers
    params = count_params(model)
    active = params - sum(count_params(b) - moe_active(b) for b in blocks)
    rec = decoder_recorder(model, type(model.model.layers[0].self_attn), MixtralSparseMoeBlock)
    stub_moe(model)
    macs_by_t = OrderedDict()
    for t in (8, 16):
        out, measured, counter = run(model, token_inputs(t, "meta"), rec if not macs_by_t else None)
        if not macs_by_t:
            output = list(out.logits.shape[1:])
            moe = [e for e in rec.entries if e["type"] == "MoE"]
            assert len(moe) == 1 and moe[0]["macs"] == 0
            moe[0]["macs"] = moe_macs(config, t)  # the stub counted nothing
            check_attribution(rec, counter, "MixtralForCausalLM", skip=[("model.layers.0.mlp",)])
            check_identical_layers(model, counter, "MixtralForCausalLM")
        macs_by_t[str(t)] = measured + len(blocks) * moe_macs(config, t)
    assert sum(e["params"] for e in rec.entries) == first_layer_params(model)
    check_formulas(model, rec)
    check_closed_form("mixtral_8x7b", macs_by_t, *decoder_closed_form(config, moe_macs(config, 1)))
    return fixture("mixtral_8x7b", "transformers %s MixtralForCausalLM(%s), attn_implementation=\"eager\", "
                   "experts_implementation=\"eager\", meta device; input_ids zeros"
                   % (transformers.__version__, config_text(MixtralConfig, MIXTRAL_8X7B)),
                   tf_versions(), [8], output, params, count_buffers(model), macs_by_t["8"],
                   rec.entries, macs_by_T=macs_by_t, active_params=active,
                   layers_cover="first decoder layer only",
                   macs_note="attention, norms and head: FlopCounterMode on the meta device with the "
                             "sparse blocks stubbed; each sparse block: T*k*3*d*f + T*d*E (moe_macs), "
                             "checked against FlopCounterMode on real weights (a tiny Mixtral and one "
                             "full-size block)")


NETWORKS = OrderedDict([
    ("gpt2", build_gpt2),
    ("bert_base", build_bert_base),
    ("vit_b_16", build_vit_b_16),
    ("llama3_8b", build_llama3_8b),
    ("mixtral_8x7b", build_mixtral_8x7b),
    ("convnext_tiny", lambda: build_cnn("convnext_tiny", lambda: tvm.convnext_tiny(weights=None))),
    ("efficientnet_b0", lambda: build_cnn("efficientnet_b0", lambda: tvm.efficientnet_b0(weights=None))),
    ("mobilenet_v3_large", lambda: build_cnn("mobilenet_v3_large", lambda: tvm.mobilenet_v3_large(weights=None))),
    ("unet", build_unet),
])


def check_published(f):
    for key, value in PUBLISHED[f["network"]].items():
        if f[key] != value:
            sys.exit("%s: %s is %s, published %s" % (f["network"], key, format(f[key], ","), format(value, ",")))


def main(argv):
    names = argv[1:] or list(NETWORKS)
    unknown = [n for n in names if n not in NETWORKS]
    if unknown:
        sys.exit("unknown network(s): %s; known: %s" % (", ".join(unknown), ", ".join(NETWORKS)))
    torch.use_deterministic_algorithms(True)
    print("torch %s, torchvision %s, transformers %s" % (
        torch.__version__, torchvision.__version__, transformers.__version__))
    print("%-18s %16s %8s %18s %40s %16s %6s" % (
        "network", "params", "buffers", "macs", "macs_by_T", "active_params", "layers"))
    for net in names:
        f = NETWORKS[net]()
        check_published(f)
        path = write_fixture(f)
        by_t = ", ".join("%s: %s" % (t, format(m, ",")) for t, m in f.get("macs_by_T", {}).items())
        active = format(f["active_params"], ",") if "active_params" in f else ""
        print("%-18s %16s %8s %18s %40s %16s %6d   %s" % (
            net, format(f["params"], ","), format(f["buffers"], ","), format(f["macs"], ","),
            by_t, active, len(f["layers"]), os.path.relpath(path, REPO_ROOT)))
        sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv)
