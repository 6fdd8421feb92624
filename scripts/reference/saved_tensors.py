#!/usr/bin/env python3
"""Count the bytes PyTorch's autograd saves for backward, as netc's `analyze --train` should.

Each network runs one training-mode forward pass (model.train(), eager, CPU, fp32) inside
`torch.autograd.graph.saved_tensors_hooks`; the pack hook sees every tensor an op keeps for
its backward. Counting convention (the one netc's docs state):

- each storage counted once (a view such as flatten's, or a tensor two ops save, is
  deduplicated by `untyped_storage().data_ptr()`), at the storage's full `nbytes()`;
- parameters (`nn.Parameter`) are not counted: they are the weights, held anyway;
- everything else is: the input batch, intermediate values, max-pool's int64 indices,
  BatchNorm's batch statistics and the running statistics it hands to backward, dropout's
  noise (on CPU a tensor of the activations' type).

Attention dropout is set to 0 in GPT-2 and BERT (netc's ATTN has none); the other dropouts
keep their configured p. Each saved storage is also attributed to the leaf module running
when it was first saved (or "(functional)" between modules), to find which op differs.

Output: Tests/NetcPassesTests/Fixtures/saved_tensors.json.
Run:    /work/venv-torch/bin/python scripts/reference/saved_tensors.py [net ...]
"""

import json
import os
import sys
from collections import OrderedDict

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from generate_fixtures import REPO_ROOT, torchvision, tvm  # noqa: E402  (register_fake workaround)

OUT = os.path.join(REPO_ROOT, "Tests", "NetcPassesTests", "Fixtures", "saved_tensors.json")
BATCH = 32
SEQUENCE = 128


class SmallCNN(nn.Module):
    """CONV3-32 pad 1, BN, RELU, POOL2, CONV3-64 pad 1, BN, RELU, POOL2, FLATTEN, FC-10 on
    32x32x3: the hand-worked case of the issue (17,696,256 bytes at batch 32)."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2))
        self.fc = nn.Linear(64 * 8 * 8, 10)

    def forward(self, x):
        return self.fc(torch.flatten(self.features(x), 1))


def saved(model, call):
    """(total bytes, {module: bytes}) of the storages saved for backward by `call()`."""
    model.train()
    params = {p.untyped_storage().data_ptr() for p in model.parameters()}
    seen = set()
    current = ["(functional)"]
    per_module = OrderedDict()
    handles = []
    for name, module in model.named_modules():
        if any(True for _ in module.children()):
            continue

        def pre(mod, args, name=name):
            current[0] = name

        def post(mod, args, out):
            current[0] = "(functional)"

        handles.append(module.register_forward_pre_hook(pre))
        handles.append(module.register_forward_hook(post))
    kept = []  # the saved tensors stay alive, so no data_ptr is reused while counting

    def pack(t):
        storage = t.untyped_storage()
        ptr = storage.data_ptr()
        if ptr not in params and ptr not in seen:
            seen.add(ptr)
            per_module[current[0]] = per_module.get(current[0], 0) + storage.nbytes()
        kept.append(t)
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = call()
    for h in handles:
        h.remove()
    del out, kept
    return sum(per_module.values()), per_module


def step_macs(model, call):
    """MACs of forward plus backward (FlopCounterMode's FLOPs / 2) of a training step: the
    output summed and back-propagated; the input needs no gradient."""
    from torch.utils.flop_counter import FlopCounterMode

    model.train()
    counter = FlopCounterMode(display=False)
    with counter:
        call().float().sum().backward()
    model.zero_grad(set_to_none=True)
    return counter.get_total_flops() // 2


def image(h=224, w=224, c=3):
    return torch.randn(BATCH, c, h, w, generator=torch.Generator().manual_seed(0))


def cnn(net, make, hw=(224, 224, 3)):
    torch.manual_seed(0)
    model = make()
    x = image(*hw)
    result = saved(model, lambda: model(x))
    x2 = x[:2].clone()
    return result, {"batch": BATCH, "input": list(hw), "macs_batch": 2, "step_macs": step_macs(model, lambda: model(x2))}


def gpt2():
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(attn_implementation="eager", attn_pdrop=0.0))
    ids = torch.zeros(1, SEQUENCE, dtype=torch.long)
    result = saved(model, lambda: model(input_ids=ids).logits)
    return result, {"batch": 1, "T": SEQUENCE, "macs_batch": 1, "step_macs": step_macs(model, lambda: model(input_ids=ids).logits)}


def gpt2_one_block_t64():
    """One GPT-2 block at T = 64: the probabilities (H x T x T) and the KV cache's copies of
    the keys and values (2 x T x C) differ in size here, where at T = 128 they agree."""
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(attn_implementation="eager", attn_pdrop=0.0, n_layer=1))
    ids = torch.zeros(1, 64, dtype=torch.long)
    return saved(model, lambda: model(input_ids=ids).logits), {"batch": 1, "T": 64}


def bert_base():
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    model = BertModel(BertConfig(attn_implementation="eager", attention_probs_dropout_prob=0.0))
    ids = torch.zeros(1, SEQUENCE, dtype=torch.long)
    def call():
        return model(input_ids=ids, token_type_ids=torch.zeros_like(ids)).pooler_output

    return saved(model, call), {"batch": 1, "T": SEQUENCE, "macs_batch": 1, "step_macs": step_macs(model, call)}


NETWORKS = OrderedDict([
    ("small-cnn-bn", lambda: cnn("small-cnn-bn", SmallCNN, (32, 32, 3))),
    ("alexnet", lambda: cnn("alexnet", lambda: tvm.alexnet(weights=None))),
    ("vgg16", lambda: cnn("vgg16", lambda: tvm.vgg16(weights=None))),
    ("resnet18", lambda: cnn("resnet18", lambda: tvm.resnet18(weights=None))),
    ("resnet50", lambda: cnn("resnet50", lambda: tvm.resnet50(weights=None))),
    ("mobilenet_v2", lambda: cnn("mobilenet_v2", lambda: tvm.mobilenet_v2(weights=None))),
    ("mobilenet_v3_large", lambda: cnn("mobilenet_v3_large", lambda: tvm.mobilenet_v3_large(weights=None))),
    ("efficientnet_b0", lambda: cnn("efficientnet_b0", lambda: tvm.efficientnet_b0(weights=None))),
    ("convnext_tiny", lambda: cnn("convnext_tiny", lambda: tvm.convnext_tiny(weights=None))),
    ("vit_b_16", lambda: cnn("vit_b_16", lambda: tvm.vit_b_16(weights=None))),
    ("gpt2", gpt2),
    ("gpt2-1-block-T64", gpt2_one_block_t64),
    ("bert_base", bert_base),
])


def main(argv):
    names = argv[1:] or list(NETWORKS)
    old = json.load(open(OUT)) if os.path.exists(OUT) else {}
    result = OrderedDict(old.get("networks", {}))
    for net in names:
        (total, per_module), where = NETWORKS[net]()
        result[net] = OrderedDict(where, saved_bytes=total, modules=per_module)
        print("%-20s %16s" % (net, format(total, ",")))
    fixture = OrderedDict([
        ("source", "scripts/reference/saved_tensors.py: saved_tensors_hooks, training mode, eager, CPU, fp32"),
        ("torch", torch.__version__), ("torchvision", torchvision.__version__),
        ("networks", OrderedDict((n, result[n]) for n in NETWORKS if n in result)),
    ])
    with open(OUT, "w") as f:
        json.dump(fixture, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv)
