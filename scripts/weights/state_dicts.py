#!/usr/bin/env python3
"""Hugging Face and torchvision state dicts as netc weight directories.

`netc run --weights DIR` reads one `LAYER.KIND.npy` per tensor, named after netc's layers
(`h.1.residual1.body.attn.wq.npy`) in PyTorch's layouts. This module maps the state dict
of a model built by transformers or torchvision onto the layers of the matching spec in
specs/, and writes that directory:

    family        model                                      spec
    gpt2          transformers GPT2LMHeadModel               specs/gpt2.yaml
    bert          transformers BertModel (with pooler)       specs/bert_base.yaml
    llama         transformers LlamaForCausalLM              specs/llama3_8b.yaml
    mixtral       transformers MixtralForCausalLM            specs/mixtral_8x7b.yaml
    vit           torchvision vit_b_16                       specs/vit_b_16.yaml
    torchvision   any torchvision CNN (ConvNeXt, EfficientNet, MobileNet, ResNet, VGG, ...)

The transformer families map names by rule (the table in each function below, HF's
0-based block index i to netc's repeat copy i + 1). The torchvision CNNs map by order:
each netc layer with parameters takes the first unused module of its kind (conv, BN,
linear, layer norm, layer scale) whose tensors have its shapes, and any layer or module
left over is an error, so a spec whose layers do not line up with the model never gets
weights silently.

CLI:
    /work/venv-torch/bin/python scripts/weights/state_dicts.py FAMILY SPEC OUT_DIR \
        [--checkpoint PATH] [--netc PATH] [--set T=32]

With `--checkpoint`, the model comes from a local checkpoint (`from_pretrained(PATH)` for
the transformers families, a `torch.save`d state dict for torchvision with `--model NAME`);
nothing is downloaded. verify_whole_models.py uses `convert` directly.
"""

import argparse
import json
import os
import subprocess
import sys

import numpy as np
import torch

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

# The tensors each netc op takes (docs/spec-language.md's parameter table).
KINDS = {
    "conv": ("weight", "bias"), "dwconv": ("weight", "bias"), "pwconv": ("weight", "bias"),
    "deconv": ("weight", "bias"), "fc": ("weight", "bias"), "linear": ("weight", "bias"),
    "router": ("weight",), "bn": ("gamma", "beta", "mean", "var"), "ln": ("gamma", "beta"),
    "rmsnorm": ("gamma", "beta"), "layerscale": ("gamma",), "embed": ("weight",),
    "posembed": ("weight",), "typeembed": ("weight",), "clstoken": ("weight",),
    "attn": ("wq", "bq", "wk", "bk", "wv", "bv", "wo", "bo"),
}


def netc_layers(spec, netc, bindings=()):
    """The spec's layers with parameters, in order: [(name, op, params)]."""
    args = [netc, "analyze", spec, "--format", "json"]
    for b in bindings:
        args += ["--set", b]
    report = json.loads(subprocess.run(args, check=True, capture_output=True, text=True).stdout)
    return [(l["name"], l["op"], l["params"]) for l in report["layers"] if l["op"] in KINDS and l["params"]]


def t(x):
    return x.detach().to(torch.float32).cpu().numpy()


def gpt2(sd, layers):
    """GPT2LMHeadModel: Conv1D weights are `[in][out]`, so every projection is transposed;
    c_attn holds q, k and v side by side."""
    out = {"wte.weight": t(sd["transformer.wte.weight"]), "wpe.weight": t(sd["transformer.wpe.weight"]),
           "ln_f.gamma": t(sd["transformer.ln_f.weight"]), "ln_f.beta": t(sd["transformer.ln_f.bias"])}
    blocks = {int(k.split(".")[2]) for k in sd if k.startswith("transformer.h.")}
    for i in sorted(blocks):
        h, n = f"transformer.h.{i}.", f"h.{i + 1}."
        w, b = sd[h + "attn.c_attn.weight"], sd[h + "attn.c_attn.bias"]
        c = w.shape[0]
        a = n + "residual1.body.attn."
        for j, (wk, bk) in enumerate([("wq", "bq"), ("wk", "bk"), ("wv", "bv")]):
            out[a + wk] = t(w[:, j * c:(j + 1) * c].T)
            out[a + bk] = t(b[j * c:(j + 1) * c])
        out[a + "wo"] = t(sd[h + "attn.c_proj.weight"].T)
        out[a + "bo"] = t(sd[h + "attn.c_proj.bias"])
        out[n + "residual1.body.ln_1.gamma"] = t(sd[h + "ln_1.weight"])
        out[n + "residual1.body.ln_1.beta"] = t(sd[h + "ln_1.bias"])
        out[n + "residual2.body.ln_2.gamma"] = t(sd[h + "ln_2.weight"])
        out[n + "residual2.body.ln_2.beta"] = t(sd[h + "ln_2.bias"])
        for name in ("c_fc", "c_proj"):
            out[n + f"residual2.body.{name}.weight"] = t(sd[h + f"mlp.{name}.weight"].T)
            out[n + f"residual2.body.{name}.bias"] = t(sd[h + f"mlp.{name}.bias"])
    # lm_head shares wte's weight (`tie wte`): bound once, at wte.
    return out


def bert(sd, layers):
    """BertModel with its pooler; the keys may carry a `bert.` prefix (BertFor... heads)."""
    sd = {k[5:] if k.startswith("bert.") else k: v for k, v in sd.items()}
    e = "embeddings."
    out = {"word_embeddings.weight": t(sd[e + "word_embeddings.weight"]),
           "position_embeddings.weight": t(sd[e + "position_embeddings.weight"]),
           "token_type_embeddings.weight": t(sd[e + "token_type_embeddings.weight"]),
           "embeddings_ln.gamma": t(sd[e + "LayerNorm.weight"]), "embeddings_ln.beta": t(sd[e + "LayerNorm.bias"]),
           "pooler.weight": t(sd["pooler.dense.weight"]), "pooler.bias": t(sd["pooler.dense.bias"])}
    blocks = {int(k.split(".")[2]) for k in sd if k.startswith("encoder.layer.")}
    for i in sorted(blocks):
        h, n = f"encoder.layer.{i}.", f"layer.{i + 1}."
        a = n + "attention.body.self."
        for hf, (wk, bk) in (("query", ("wq", "bq")), ("key", ("wk", "bk")), ("value", ("wv", "bv"))):
            out[a + wk] = t(sd[h + f"attention.self.{hf}.weight"])
            out[a + bk] = t(sd[h + f"attention.self.{hf}.bias"])
        out[a + "wo"] = t(sd[h + "attention.output.dense.weight"])
        out[a + "bo"] = t(sd[h + "attention.output.dense.bias"])
        out[n + "attention_ln.gamma"] = t(sd[h + "attention.output.LayerNorm.weight"])
        out[n + "attention_ln.beta"] = t(sd[h + "attention.output.LayerNorm.bias"])
        out[n + "ffn.body.intermediate.weight"] = t(sd[h + "intermediate.dense.weight"])
        out[n + "ffn.body.intermediate.bias"] = t(sd[h + "intermediate.dense.bias"])
        out[n + "ffn.body.output.weight"] = t(sd[h + "output.dense.weight"])
        out[n + "ffn.body.output.bias"] = t(sd[h + "output.dense.bias"])
        out[n + "output_ln.gamma"] = t(sd[h + "output.LayerNorm.weight"])
        out[n + "output_ln.beta"] = t(sd[h + "output.LayerNorm.bias"])
    return out


def llama(sd, layers, mixture=False):
    """LlamaForCausalLM and MixtralForCausalLM (same attention and norms; Mixtral's MLP is
    a router and experts whose fused `gate_up_proj[e]` stacks w1's rows above w3's)."""
    out = {"embed_tokens.weight": t(sd["model.embed_tokens.weight"]), "norm.gamma": t(sd["model.norm.weight"])}
    if "lm_head.weight" in sd:
        out["lm_head.weight"] = t(sd["lm_head.weight"])
    blocks = {int(k.split(".")[2]) for k in sd if k.startswith("model.layers.")}
    for i in sorted(blocks):
        h, n = f"model.layers.{i}.", f"layers.{i + 1}."
        a = n + "attn.body.self_attn."
        for hf, wk in (("q_proj", "wq"), ("k_proj", "wk"), ("v_proj", "wv"), ("o_proj", "wo")):
            out[a + wk] = t(sd[h + f"self_attn.{hf}.weight"])
            if h + f"self_attn.{hf}.bias" in sd:
                out[a + "b" + wk[1]] = t(sd[h + f"self_attn.{hf}.bias"])
        out[n + "attn.body.input_layernorm.gamma"] = t(sd[h + "input_layernorm.weight"])
        if mixture:
            m = n + "residual2.body."
            out[m + "post_attention_layernorm.gamma"] = t(sd[h + "post_attention_layernorm.weight"])
            moe = m + "block_sparse_moe."
            out[moe + "router.weight"] = t(sd[h + "mlp.gate.weight"])
            gate_up = sd[h + "mlp.experts.gate_up_proj"]
            inner = gate_up.shape[1] // 2
            out[moe + "expert.swiglu.branch1.w1.weight"] = t(gate_up[:, :inner])
            out[moe + "expert.swiglu.branch2.w3.weight"] = t(gate_up[:, inner:])
            out[moe + "expert.w2.weight"] = t(sd[h + "mlp.experts.down_proj"])
        else:
            m = n + "mlp.body."
            out[m + "post_attention_layernorm.gamma"] = t(sd[h + "post_attention_layernorm.weight"])
            out[m + "swiglu.branch1.gate_proj.weight"] = t(sd[h + "mlp.gate_proj.weight"])
            out[m + "swiglu.branch2.up_proj.weight"] = t(sd[h + "mlp.up_proj.weight"])
            out[m + "down_proj.weight"] = t(sd[h + "mlp.down_proj.weight"])
    return out


def vit(sd, layers):
    """torchvision's VisionTransformer: nn.MultiheadAttention keeps q, k and v stacked in
    `in_proj_weight` ([3C][C])."""
    out = {"conv_proj.weight": t(sd["conv_proj.weight"]), "conv_proj.bias": t(sd["conv_proj.bias"]),
           "class_token.weight": t(sd["class_token"].reshape(-1)),
           "pos_embedding.weight": t(sd["encoder.pos_embedding"][0]),
           "ln.gamma": t(sd["encoder.ln.weight"]), "ln.beta": t(sd["encoder.ln.bias"]),
           "head.weight": t(sd["heads.head.weight"]), "head.bias": t(sd["heads.head.bias"])}
    blocks = {int(k.split(".")[2].split("_")[-1]) for k in sd if k.startswith("encoder.layers.")}
    for i in sorted(blocks):
        h, n = f"encoder.layers.encoder_layer_{i}.", f"layers.{i + 1}."
        w, b = sd[h + "self_attention.in_proj_weight"], sd[h + "self_attention.in_proj_bias"]
        c = w.shape[1]
        a = n + "attention.body.self_attention."
        for j, (wk, bk) in enumerate([("wq", "bq"), ("wk", "bk"), ("wv", "bv")]):
            out[a + wk] = t(w[j * c:(j + 1) * c])
            out[a + bk] = t(b[j * c:(j + 1) * c])
        out[a + "wo"] = t(sd[h + "self_attention.out_proj.weight"])
        out[a + "bo"] = t(sd[h + "self_attention.out_proj.bias"])
        for ln, name in (("ln_1", "attention.body.ln_1"), ("ln_2", "mlp.body.ln_2")):
            out[n + name + ".gamma"] = t(sd[h + ln + ".weight"])
            out[n + name + ".beta"] = t(sd[h + ln + ".bias"])
        for idx, name in (("0", "linear1"), ("3", "linear2")):
            out[n + f"mlp.body.{name}.weight"] = t(sd[h + f"mlp.{idx}.weight"])
            out[n + f"mlp.body.{name}.bias"] = t(sd[h + f"mlp.{idx}.bias"])
    return out


def torch_units(model):
    """A torchvision model's parameter-holding modules in registration order, as
    (kind, {netc key: array})."""
    import torch.nn as nn
    units = []
    for module in model.modules():
        own = dict(module.named_parameters(recurse=False))
        if isinstance(module, (nn.Conv2d, nn.Conv1d, nn.Conv3d)):
            units.append(("conv", {"weight": t(module.weight), **({"bias": t(module.bias)} if module.bias is not None else {})}))
        elif isinstance(module, nn.ConvTranspose2d):
            units.append(("deconv", {"weight": t(module.weight), **({"bias": t(module.bias)} if module.bias is not None else {})}))
        elif isinstance(module, (nn.BatchNorm2d, nn.BatchNorm1d)):
            units.append(("bn", {"gamma": t(module.weight), "beta": t(module.bias), "mean": t(module.running_mean),
                                 "var": t(module.running_var)}))
        elif isinstance(module, nn.Linear):
            units.append(("linear", {"weight": t(module.weight), **({"bias": t(module.bias)} if module.bias is not None else {})}))
        elif isinstance(module, nn.LayerNorm):
            units.append(("ln", {"gamma": t(module.weight), **({"beta": t(module.bias)} if module.bias is not None else {})}))
        elif "layer_scale" in own:
            # ConvNeXt's CNBlock: its own `[C][1][1]` scale, registered before its block.
            units.append(("layerscale", {"gamma": t(own["layer_scale"]).reshape(-1)}))
        elif own:
            raise SystemExit(f"{type(module).__name__} holds parameters {sorted(own)} that no netc layer takes")
    return units


UNIT_OF = {"conv": "conv", "dwconv": "conv", "pwconv": "conv", "deconv": "deconv", "fc": "linear", "linear": "linear",
           "bn": "bn", "ln": "ln", "layerscale": "layerscale"}


def unit_params(kind, tensors):
    """What netc's `params` counts of a unit: every tensor but BN's running statistics."""
    return sum(a.size for key, a in tensors.items() if not (kind == "bn" and key in ("mean", "var")))


def by_order(model, layers):
    """netc layer i takes the first unused unit of its kind with its parameter count;
    `netc run` then checks every tensor's shape as it binds it (NS401 names any that differ)."""
    units = torch_units(model)
    used = [False] * len(units)
    out = {}
    for name, op, params in layers:
        kind = UNIT_OF.get(op)
        if kind is None:
            raise SystemExit(f"`{name}` is {op.upper()}, which no torchvision module maps to")
        for u, (k, tensors) in enumerate(units):
            if not used[u] and k == kind and unit_params(k, tensors) == params:
                used[u] = True
                for key, array in tensors.items():
                    out[f"{name}.{key}"] = array
                break
        else:
            raise SystemExit(f"no unused {kind} module of the model has the {params} parameters of `{name}`")
    left = [units[u][0] for u in range(len(units)) if not used[u]]
    if left:
        raise SystemExit(f"{len(left)} modules of the model have no netc layer: {left[:5]}")
    return out


def write(tensors, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    for key, array in tensors.items():
        np.save(os.path.join(out_dir, key + ".npy"), np.ascontiguousarray(array, dtype=np.float32))


FAMILIES = {"gpt2": gpt2, "bert": bert, "llama": llama, "mixtral": lambda sd, l: llama(sd, l, mixture=True), "vit": vit}


def convert(family, model, layers):
    """netc's `LAYER.KIND` -> array for `model`, checked against the spec's layers (from
    `netc_layers`): every layer with parameters gets tensors, and every tensor names a
    tensor of a layer."""
    out = by_order(model, layers) if family == "torchvision" else FAMILIES[family](model.state_dict(), layers)
    ops = {name: op for name, op, _ in layers}
    for key in out:
        layer, kind = key.rsplit(".", 1)
        if layer not in ops or kind not in KINDS[ops[layer]]:
            raise SystemExit(f"{family}: `{key}` names no tensor of the spec (is this the spec of the model?)")
    missing = [name for name in ops if not any(k.rsplit(".", 1)[0] == name for k in out)]
    if missing:
        raise SystemExit(f"{family}: no tensors for {missing[:5]}")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("family", choices=sorted(FAMILIES) + ["torchvision"])
    ap.add_argument("spec")
    ap.add_argument("out_dir")
    ap.add_argument("--checkpoint", required=True,
                    help="a transformers checkpoint folder, or a torch.save'd torchvision state dict")
    ap.add_argument("--model", help="torchvision: the builder's name (convnext_tiny, efficientnet_b0, ...)")
    ap.add_argument("--netc", default=os.path.join(REPO_ROOT, ".build", "debug", "netc"))
    ap.add_argument("--set", action="append", default=[], help="var bindings for the spec (T=32)")
    args = ap.parse_args()
    if args.family == "torchvision":
        sys.path.insert(0, os.path.join(REPO_ROOT, "scripts", "reference"))
        import generate_fixtures  # noqa: F401  (imports torchvision with its compiled ops stubbed)
        import torchvision
        model = getattr(torchvision.models, args.model)()
        model.load_state_dict(torch.load(args.checkpoint, map_location="cpu"))
    else:
        import transformers
        model = transformers.AutoModel.from_pretrained(args.checkpoint) if args.family == "bert" else \
            transformers.AutoModelForCausalLM.from_pretrained(args.checkpoint)
    tensors = convert(args.family, model, netc_layers(args.spec, args.netc, args.set))
    write(tensors, args.out_dir)
    print(f"{args.out_dir}: {len(tensors)} tensors")


if __name__ == "__main__":
    main()
