#!/usr/bin/env python3
"""Writes the transformer fixtures of Tests/NetcONNXTests/Fixtures/import/ (run in the torch venv).

Each model is a tiny Hugging Face `transformers` config with random weights (torch.manual_seed),
exported by torch.onnx.export (TorchScript exporter, dynamo=False, opset 17) at a fixed length.
Beside each `NAME.onnx`: `NAME.input.json` (the token ids), `NAME.output.npy` (ONNX Runtime's
output on them, batch dropped) and an entry in `transformers.json` with PyTorch's parameter
count (sum of numel over model.parameters(), which counts tied weights once). Expectations come
from PyTorch and ORT only, never from netc.

transformers 5 builds its masks with aten::diff when it looks for packed sequences, which the
TorchScript exporter cannot write; a single unpacked sequence never needs it, so the check is
turned off for the export (the model's arithmetic is unchanged).
"""
import importlib.util
import json
import os
import sys

# A torchvision built for another torch breaks transformers' imports; none of these models needs it.
_find_spec = importlib.util.find_spec
importlib.util.find_spec = lambda name, *a, **k: None if name.split(".")[0] == "torchvision" else _find_spec(name, *a, **k)

import numpy as np
import onnx
import onnxruntime as ort
import torch
import transformers
import transformers.masking_utils as masking_utils

masking_utils.find_packed_sequence_indices = lambda position_ids: None

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "Tests", "NetcONNXTests", "Fixtures", "import")


class OneOutput(torch.nn.Module):
    """One of the model's outputs (GPT-2's logits, BERT's pooled first token) as a plain tensor."""

    def __init__(self, model, index=0):
        super().__init__()
        self.model = model
        self.index = index

    def forward(self, x):
        if x.is_floating_point():
            return self.model(pixel_values=x)[self.index]
        return self.model(input_ids=x, use_cache=False)[self.index]


def gpt2(attn="eager", n_layer=2, n_embd=32, n_head=4, vocab=100, positions=32):
    cfg = transformers.GPT2Config(n_layer=n_layer, n_embd=n_embd, n_head=n_head, vocab_size=vocab, n_positions=positions)
    cfg._attn_implementation = attn
    cfg.use_cache = False
    return transformers.GPT2LMHeadModel(cfg).eval(), vocab, 0


def bert(attn="eager", layers=2, hidden=32, heads=4, intermediate=64, vocab=100, positions=32):
    """BertModel with its pooler (the output: the first token through a tanh dense layer);
    token_type_ids left out, so every token is of type 0."""
    cfg = transformers.BertConfig(vocab_size=vocab, hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads,
                                  intermediate_size=intermediate, max_position_embeddings=positions, type_vocab_size=2)
    cfg._attn_implementation = attn
    return transformers.BertModel(cfg).eval(), vocab, 1


def vit(attn="eager", layers=2, hidden=32, heads=4, intermediate=64, image=32, patch=8):
    """ViTModel with its pooler: 8x8 patches of a 32x32 image by a strided conv, the class
    token, 17 learned positions, pre-LN blocks, erf GELU."""
    cfg = transformers.ViTConfig(image_size=image, patch_size=patch, hidden_size=hidden, num_hidden_layers=layers,
                                 num_attention_heads=heads, intermediate_size=intermediate)
    cfg._attn_implementation = attn
    return transformers.ViTModel(cfg).eval(), None, 1


def llama(layers=2, hidden=32, heads=4, kv_heads=2, intermediate=48, vocab=100, positions=32):
    """LlamaForCausalLM: RMSNorm as transformers writes it (x * rsqrt(mean(x^2) + eps), in
    float32 by Casts), rotary positions applied after the heads are transposed, grouped-query
    attention by repeat_kv (Unsqueeze, Expand, Reshape), SwiGLU, an untied head. Eager
    attention: the TorchScript exporter cannot write SDPA with enable_gqa."""
    cfg = transformers.LlamaConfig(vocab_size=vocab, hidden_size=hidden, intermediate_size=intermediate, num_hidden_layers=layers,
                                   num_attention_heads=heads, num_key_value_heads=kv_heads, max_position_embeddings=positions,
                                   rms_norm_eps=1e-6, tie_word_embeddings=False)
    cfg._attn_implementation = "eager"
    cfg.use_cache = False
    return transformers.LlamaForCausalLM(cfg).eval(), vocab, 0


def export(model, vocab, length, path, seed=1, opset=17, dynamo=False, dynamic=False):
    """Token ids of `length` (or, without a vocabulary, a 3x32x32 image): ORT's output on them."""
    g = torch.Generator().manual_seed(seed)
    if vocab:
        ids = torch.randint(0, vocab, (1, length), generator=g)
        name = "input_ids"
    else:
        ids = torch.randn(1, 3, 32, 32, generator=g)
        name = "pixel_values"
    with torch.no_grad():
        if dynamo:
            # The dynamo exporter folds wpe[0:T] into a constant at a fixed length (the table's
            # other rows, PyTorch parameters, would be lost): T stays symbolic.
            length_dim = torch.export.Dim("T", min=2, max=32)
            torch.onnx.export(model, (ids,), path, input_names=[name], output_names=["y"], opset_version=18, dynamo=True,
                              external_data=False, dynamic_shapes={"x": {1: length_dim}}, verbose=False)
        else:
            torch.onnx.export(model, (ids,), path, input_names=[name], output_names=["y"], opset_version=opset,
                              dynamo=False, dynamic_axes={name: {1: "T"}} if dynamic else None)
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    y = session.run(None, {name: ids.numpy()})[0][0]
    with torch.no_grad():
        ref = model(ids)
    err = float(np.abs(ref.numpy()[0] - y).max())
    params = sum(p.numel() for p in model.parameters())  # tied weights once
    return ids[0].tolist(), y.astype(np.float32), params, err


class WithOptionalInputs(torch.nn.Module):
    """A model's output `index` of input_ids and the optional inputs Hugging Face's exports
    (optimum's too) give it: attention_mask, and token_type_ids for BERT."""

    def __init__(self, model, index, types):
        super().__init__()
        self.model, self.index, self.types = model, index, types

    def forward(self, input_ids, attention_mask, token_type_ids=None):
        extra = {"token_type_ids": token_type_ids} if self.types else {"use_cache": False}
        return self.model(input_ids=input_ids, attention_mask=attention_mask, **extra)[self.index]


def with_optional_inputs(path, made, types, seed=1):
    """A model (eager attention) exported with its optional inputs by TorchScript, the length
    dynamic (so that its shape arithmetic stays in the graph): ORT's output with the mask all
    ones and every token of type 0, the defaults netc reads them as."""
    model, vocab, index = made
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.02)
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, vocab, (1, 8), generator=g)
    inputs = {"input_ids": ids, "attention_mask": torch.ones(1, 8, dtype=torch.long)}
    if types:
        inputs["token_type_ids"] = torch.zeros(1, 8, dtype=torch.long)
    names = list(inputs)
    wrapped = WithOptionalInputs(model, index, types).eval()
    with torch.no_grad():
        torch.onnx.export(wrapped, tuple(inputs.values()), path, input_names=names, output_names=["y"], opset_version=17,
                          dynamo=False, dynamic_axes={n: {1: "T"} for n in names})
        ref = wrapped(*inputs.values()).numpy()[0]
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    y = session.run(None, {k: v.numpy() for k, v in inputs.items()})[0][0]
    params = sum(p.numel() for p in model.parameters())
    return ids[0].tolist(), y.astype(np.float32), params, float(np.abs(ref - y).max())


def refused(path):
    """Copies of the GPT-2 fixture netc must refuse, each naming the node: an additive mask on
    the first attention's scores that is neither causal nor zero, and an op netc does not know."""
    model = onnx.load(path)
    g = model.graph
    rng = np.random.default_rng(3)
    mask = onnx.numpy_helper.from_array(rng.standard_normal((1, 1, 8, 8)).astype(np.float32), "odd_mask")
    g.initializer.append(mask)
    add = next(n for n in g.node if n.name.endswith("h.0/attn/Add"))
    add.input[1] = "odd_mask"
    onnx.save(model, os.path.join(OUT, "gpt2_odd_mask.onnx"))
    model = onnx.load(path)
    tanh = next(n for n in model.graph.node if n.op_type == "Tanh")
    tanh.op_type = "Softsign"
    onnx.save(model, os.path.join(OUT, "gpt2_unknown_op.onnx"))


def main(only):
    """Writes every fixture, or only the models named in `only` (the others' files and
    entries stay as they are)."""
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    expected = {}
    if only:
        with open(os.path.join(OUT, "transformers.json")) as f:
            expected = json.load(f)
    models = {"gpt2_tiny": gpt2("eager"), "gpt2_tiny_sdpa": gpt2("sdpa"), "bert_tiny": bert("eager"), "vit_tiny": vit("eager"),
              # Before opset 17 LayerNorm is spelled out: ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div, Mul, Add.
              "gpt2_tiny_opset16": gpt2("eager"),
              "gpt2_tiny_dynamo": gpt2("eager")}
    # Built after the others, each from a seed of its own, so that adding one changed no other's
    # weights: transformers' Llama (eager attention: the TorchScript exporter cannot write SDPA
    # with grouped heads), multi-query too; transformers' default SDPA attention by torch's
    # default (dynamo) exporter, decomposed (keys transposed in 3-D, a NaN guard after the
    # softmax), for GPT-2 and BERT (its GELU's halves in another order); ViT's SDPA by TorchScript.
    late = {"llama_tiny_hf": llama, "llama_tiny_hf_dynamo": llama, "gpt2_tiny_sdpa_dynamo": lambda: gpt2("sdpa"),
            "bert_tiny_sdpa_dynamo": lambda: bert("sdpa"), "vit_tiny_sdpa": lambda: vit("sdpa"),
            "llama_tiny_hf_mqa": lambda: llama(kv_heads=1),
            # TorchScript with T dynamic: the shape arithmetic stays, reading the norms' and
            # the rotated heads' extents.
            "llama_tiny_hf_dynamic": llama}
    for k, name in enumerate(late):
        torch.manual_seed(1000 + k)
        models[name] = late[name]()
    for name, (model, vocab, index) in models.items():
        if only and name not in only:
            continue
        # Random biases and norm parameters too: zeros and ones would hide a swapped β and γ
        # (and the dynamo exporter drops a zero bias, a parameter PyTorch counts).
        if name in late:
            torch.manual_seed(2000 + list(late).index(name))
        with torch.no_grad():
            for p in model.parameters():
                p.add_(torch.randn_like(p) * 0.02)
        path = os.path.join(OUT, f"{name}.onnx")
        opset = 16 if name.endswith("opset16") else 17
        ids, y, params, err = export(OneOutput(model, index).eval(), vocab, 8, path, opset=opset, dynamo=name.endswith("dynamo"),
                                     dynamic=name.endswith("dynamic"))
        np.save(os.path.join(OUT, f"{name}.output.npy"), y)
        with open(os.path.join(OUT, f"{name}.input.json"), "w") as f:
            json.dump(np.asarray(ids).reshape(-1).tolist(), f)
        expected[name] = {"params": params, "input_shape": list(np.asarray(ids).shape), "output_shape": list(y.shape)}
        print(f"{name}: {os.path.getsize(path)} bytes, {params} params, torch vs ORT {err:.1e}", file=sys.stderr)
    for k, name in enumerate(["bert_tiny_inputs", "gpt2_tiny_inputs"]):
        if only and name not in only:
            continue
        # Seeded apart, after the others, so that it changed no other fixture's weights.
        torch.manual_seed(3000 + k)
        made = bert("eager") if name.startswith("bert") else gpt2("eager")
        ids, y, params, err = with_optional_inputs(os.path.join(OUT, f"{name}.onnx"), made, types=name.startswith("bert"))
        np.save(os.path.join(OUT, f"{name}.output.npy"), y)
        with open(os.path.join(OUT, f"{name}.input.json"), "w") as f:
            json.dump(ids, f)
        expected[name] = {"params": params, "input_shape": [len(ids)], "output_shape": list(y.shape)}
        print(f"{name}: {params} params, torch vs ORT {err:.1e}", file=sys.stderr)
    if not only:
        refused(os.path.join(OUT, "gpt2_tiny.onnx"))
    with open(os.path.join(OUT, "transformers.json"), "w") as f:
        json.dump(expected, f, indent=2, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1:])
