#!/usr/bin/env python3
"""Writes the encoder-decoder fixtures of Tests/NetcONNXTests/Fixtures/import/ (run in the torch venv).

A tiny translation model written in PyTorch as a person writes one (the PyTorch tutorial's
sinusoidal `PositionalEncoding` buffer for the source, a learned position table for the
target, post-LN blocks, attention as view/transpose/matmul/softmax, a causal decoder
self-attention and a cross-attention over the encoder's output, a final encoder LN), with
random weights (torch.manual_seed), exported by torch.onnx.export: the TorchScript exporter
(opset 17) with both lengths dynamic and with the example's fixed lengths (7 and 5), and the
dynamo exporter (opset 18) with both dynamic.

Beside each `NAME.onnx`: `NAME.input.json` ({"src": [...], "tgt": [...]}, the token ids),
`NAME.output.npy` (ONNX Runtime's output on them, batch dropped) and an entry in
`encoder_decoder.json` with PyTorch's parameter count (sum of numel over model.parameters():
the sinusoidal table is a buffer, no parameter). Expectations come from PyTorch and ORT only.
"""
import json
import math
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "Tests", "NetcONNXTests", "Fixtures", "import")


class Attention(nn.Module):
    def __init__(self, width, heads, causal=False):
        super().__init__()
        self.heads, self.causal = heads, causal
        self.q_proj, self.k_proj, self.v_proj, self.out_proj = (nn.Linear(width, width) for _ in range(4))

    def forward(self, x, memory=None):
        source = x if memory is None else memory
        n, t, c = x.shape
        s = source.shape[1]
        d = c // self.heads
        q = self.q_proj(x).view(n, t, self.heads, d).transpose(1, 2)
        k = self.k_proj(source).view(n, s, self.heads, d).transpose(1, 2)
        v = self.v_proj(source).view(n, s, self.heads, d).transpose(1, 2)
        scores = q @ k.transpose(-2, -1) / math.sqrt(d)
        if self.causal:
            mask = torch.triu(torch.ones(t, s, dtype=torch.bool), diagonal=1)
            scores = scores.masked_fill(mask, float("-inf"))
        context = scores.softmax(dim=-1) @ v
        return self.out_proj(context.transpose(1, 2).reshape(n, t, c))


class FeedForward(nn.Module):
    def __init__(self, width, hidden):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(width, hidden), nn.Linear(hidden, width)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


class EncoderLayer(nn.Module):
    def __init__(self, width, heads, hidden):
        super().__init__()
        self.self_attn, self.norm1 = Attention(width, heads), nn.LayerNorm(width)
        self.ff, self.norm2 = FeedForward(width, hidden), nn.LayerNorm(width)

    def forward(self, x):
        x = self.norm1(x + self.self_attn(x))
        return self.norm2(x + self.ff(x))


class DecoderLayer(nn.Module):
    def __init__(self, width, heads, hidden):
        super().__init__()
        self.self_attn, self.norm1 = Attention(width, heads, causal=True), nn.LayerNorm(width)
        self.cross_attn, self.norm2 = Attention(width, heads), nn.LayerNorm(width)
        self.ff, self.norm3 = FeedForward(width, hidden), nn.LayerNorm(width)

    def forward(self, x, memory):
        x = self.norm1(x + self.self_attn(x))
        x = self.norm2(x + self.cross_attn(x, memory))
        return self.norm3(x + self.ff(x))


class PositionalEncoding(nn.Module):
    """The PyTorch tutorial's: sin on even channels, cos on odd, a buffer of max_len rows."""

    def __init__(self, width, max_len=64):
        super().__init__()
        position = torch.arange(max_len).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, width, 2) * (-math.log(10000.0) / width))
        pe = torch.zeros(1, max_len, width)
        pe[0, :, 0::2] = torch.sin(position * div_term)
        pe[0, :, 1::2] = torch.cos(position * div_term)
        self.register_buffer("pe", pe)

    def forward(self, x):
        return x + self.pe[:, : x.size(1)]


class Translate(nn.Module):
    def __init__(self, src_vocab=30, tgt_vocab=24, width=16, heads=2, hidden=32, layers=2, positions=64):
        super().__init__()
        self.src_embed, self.src_pos = nn.Embedding(src_vocab, width), PositionalEncoding(width, positions)
        self.encoder = nn.ModuleList(EncoderLayer(width, heads, hidden) for _ in range(layers))
        self.memory_norm = nn.LayerNorm(width)
        self.tgt_embed, self.tgt_pos = nn.Embedding(tgt_vocab, width), nn.Embedding(positions, width)
        self.decoder = nn.ModuleList(DecoderLayer(width, heads, hidden) for _ in range(layers))
        self.head = nn.Linear(width, tgt_vocab)

    def forward(self, src, tgt):
        x = self.src_pos(self.src_embed(src))
        for layer in self.encoder:
            x = layer(x)
        memory = self.memory_norm(x)
        positions = torch.arange(tgt.shape[1]).unsqueeze(0)
        y = self.tgt_embed(tgt) + self.tgt_pos(positions)
        for layer in self.decoder:
            y = layer(y, memory)
        return self.head(y)


class TorchTransformer(nn.Module):
    """torch.nn.Transformer (post-LN, ReLU, encoder and decoder norms) between embeddings and
    a head, the decoder's self-attention causal by generate_square_subsequent_mask."""

    def __init__(self, width=32, heads=4, layers=2, hidden=64):
        super().__init__()
        self.src_embed, self.tgt_embed = nn.Embedding(30, width), nn.Embedding(24, width)
        self.transformer = nn.Transformer(width, heads, layers, layers, hidden, dropout=0.0, batch_first=True)
        self.head = nn.Linear(width, 24)

    def forward(self, src, tgt):
        mask = nn.Transformer.generate_square_subsequent_mask(tgt.shape[1])
        return self.head(self.transformer(self.src_embed(src), self.tgt_embed(tgt), tgt_mask=mask, tgt_is_causal=True))


class TorchTransformerOfVectors(nn.Module):
    """torch.nn.Transformer itself, on sequences of vectors (`[1, S, C]` and `[1, T, C]`, no
    embeddings), one layer each, the decoder causal."""

    def __init__(self, width=32, heads=4, hidden=64):
        super().__init__()
        self.transformer = nn.Transformer(width, heads, 1, 1, hidden, dropout=0.0, batch_first=True)

    def forward(self, src, tgt):
        mask = nn.Transformer.generate_square_subsequent_mask(tgt.shape[1])
        return self.transformer(src, tgt, tgt_mask=mask, tgt_is_causal=True)


class TorchEncoder(nn.Module):
    """torch.nn.TransformerEncoder of pre-LN GELU layers (norm_first), one input."""

    def __init__(self, width=32, heads=4, layers=2, hidden=64):
        super().__init__()
        self.embed = nn.Embedding(30, width)
        layer = nn.TransformerEncoderLayer(width, heads, hidden, dropout=0.0, activation="gelu", batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.head = nn.Linear(width, 24)

    def forward(self, src):
        return self.head(self.encoder(self.embed(src)))


def export_torch_nn(model, path, inputs, dynamo=False):
    """torch.nn's attention by the TorchScript exporter at fixed lengths (its MultiheadAttention
    writes the source length as a number into the keys' reshape even with dynamic axes: the
    model then runs at that length only), or by the dynamo exporter with every length dynamic.
    Under no_grad the fast path (_transformer_encoder_layer_fwd) cannot be exported at all, so
    the export runs with grad."""
    names = list(inputs)
    tensors = tuple(inputs.values())
    if dynamo:
        dims = {k: {1: torch.export.Dim(k.upper() + "_LEN", min=2, max=64)} for k in names}
        torch.onnx.export(model, tensors, path, input_names=names, output_names=["logits"], opset_version=18, dynamo=True,
                          external_data=False, dynamic_shapes=dims, verbose=False)
    else:
        torch.onnx.export(model, tensors, path, input_names=names, output_names=["logits"], opset_version=17, dynamo=False)
    with torch.no_grad():
        ref = model(*tensors).numpy()[0]
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    y = session.run(None, {k: v.numpy() for k, v in inputs.items()})[0][0]
    return {k: v[0].reshape(-1).tolist() for k, v in inputs.items()}, y.astype(np.float32), float(np.abs(ref - y).max())


def torchvision_fixture(path, name):
    """torchvision's models at toy size by TorchScript with a symbolic batch (32x32 images):
    `vit`, a VisionTransformer (8x8 patches, 2 layers of nn.MultiheadAttention: its grid
    computed from the image's Shape by Gather, Div and Mul, the class token, learned
    positions, the first token to the head), or `convnext`, a ConvNeXt of two stages of one
    CNBlock (its LayerNorm and Linears on the feature map made channels last, layer scale).
    Returns its entry of expected.json: PyTorch's params, MACs counted by hooks (a conv's and
    a Linear's as verify_import.py counts them, MultiheadAttention's projections and its two
    products by hand: 4 E^2 L + 2 L^2 E), the NCHW input and ORT's output."""
    register_fake = torch.library.register_fake
    torch.library.register_fake = lambda *args, **kwargs: (lambda fn: fn)
    try:
        import torchvision.models as tvm
        from torchvision.models.convnext import CNBlockConfig, ConvNeXt
    finally:
        torch.library.register_fake = register_fake
    torch.manual_seed(20 if name == "vit" else 21)
    # `convnext_opset13`: the same ConvNeXt at opset 13, where LayerNorm is spelled out.
    opset = 13 if name.endswith("opset13") else 17
    if name == "vit":
        model = tvm.VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=4, hidden_dim=32, mlp_dim=64,
                                      num_classes=10).eval()
    else:
        model = ConvNeXt([CNBlockConfig(8, 16, 1), CNBlockConfig(16, None, 1)], num_classes=10).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.02)
    x = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(3))
    torch.onnx.export(model, (x,), path, input_names=["x"], output_names=["y"], opset_version=opset, dynamo=False,
                      dynamic_axes={"x": {0: "N"}})
    macs = []
    hooks = [m.register_forward_hook(lambda m, i, o: macs.append(o.numel() * m.in_channels // m.groups * int(np.prod(m.kernel_size))))
             for m in model.modules() if isinstance(m, nn.Conv2d)]
    hooks += [m.register_forward_hook(lambda m, i, o: macs.append(m.in_features * m.out_features * (o.numel() // m.out_features)))
              for m in model.modules() if type(m) is nn.Linear]
    hooks += [m.register_forward_hook(lambda m, i, o: macs.append(4 * m.embed_dim ** 2 * i[0].shape[1] + 2 * i[0].shape[1] ** 2 * m.embed_dim))
              for m in model.modules() if isinstance(m, nn.MultiheadAttention)]
    with torch.no_grad():
        ref = model(x).numpy()
    for h in hooks:
        h.remove()
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    y = session.run(None, {"x": x.numpy()})[0]
    print(f"torchvision_{name}_tiny: {sum(p.numel() for p in model.parameters())} params, torch vs ORT {np.abs(ref - y).max():.1e}",
          file=sys.stderr)
    return dict(params=sum(p.numel() for p in model.parameters()), buffers=0, macs=sum(macs), input=x.numpy().ravel().tolist(),
                input_shape=list(x.shape), output=y.ravel().tolist(), output_shape=list(y.shape))


def export(model, path, mode):
    g = torch.Generator().manual_seed(1)
    src = torch.randint(0, 30, (1, 7), generator=g)
    tgt = torch.randint(0, 24, (1, 5), generator=g)
    with torch.no_grad():
        if mode == "dynamo":
            s, t = torch.export.Dim("S", min=2, max=64), torch.export.Dim("T", min=2, max=64)
            torch.onnx.export(model, (src, tgt), path, input_names=["src", "tgt"], output_names=["logits"], opset_version=18,
                              dynamo=True, external_data=False, dynamic_shapes={"src": {1: s}, "tgt": {1: t}}, verbose=False)
        else:
            axes = {"src": {1: "S"}, "tgt": {1: "T"}} if mode == "dynamic" else None
            torch.onnx.export(model, (src, tgt), path, input_names=["src", "tgt"], output_names=["logits"], opset_version=17,
                              dynamo=False, dynamic_axes=axes)
        ref = model(src, tgt).numpy()[0]
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    y = session.run(None, {"src": src.numpy(), "tgt": tgt.numpy()})[0][0]
    err = float(np.abs(ref - y).max())
    return {"src": src[0].tolist(), "tgt": tgt[0].tolist()}, y.astype(np.float32), err


def main():
    torch.manual_seed(0)
    model = Translate().eval()
    with torch.no_grad():
        # Random biases and norm parameters too: zeros and ones would hide a swapped β and γ.
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.02)
    params = sum(p.numel() for p in model.parameters())
    expected = {}
    for name, mode in [("translate_tiny", "dynamic"), ("translate_tiny_fixed", "fixed"), ("translate_tiny_dynamo", "dynamo")]:
        path = os.path.join(OUT, f"{name}.onnx")
        ids, y, err = export(model, path, mode)
        np.save(os.path.join(OUT, f"{name}.output.npy"), y)
        with open(os.path.join(OUT, f"{name}.input.json"), "w") as f:
            json.dump(ids, f)
        expected[name] = {"params": params, "input_shapes": {k: [len(v)] for k, v in ids.items()}, "output_shape": list(y.shape)}
        print(f"{name}: {os.path.getsize(path)} bytes, {params} params, torch vs ORT {err:.1e}", file=sys.stderr)
    g = torch.Generator().manual_seed(2)
    src, tgt = torch.randint(0, 30, (1, 7), generator=g), torch.randint(0, 24, (1, 5), generator=g)
    for k, (name, make, inputs) in enumerate([("torch_transformer", TorchTransformer, {"src": src, "tgt": tgt}),
                                              ("torch_encoder_prenorm", TorchEncoder, {"src": src}),
                                              ("torch_transformer_dynamo", TorchTransformer, {"src": src, "tgt": tgt}),
                                              ("torch_transformer_vectors", TorchTransformerOfVectors,
                                               {"src": torch.randn(1, 7, 32, generator=g), "tgt": torch.randn(1, 5, 32, generator=g)})]):
        torch.manual_seed(10 + k)
        model = make().eval()
        # Random weights, but the attention's biases left at PyTorch's zeros in the dynamo
        # export, which drops them (netc reads them back as zeros).
        with torch.no_grad():
            for n, p in model.named_parameters():
                if not (name.endswith("dynamo") and ("in_proj_bias" in n or "out_proj.bias" in n)):
                    p.add_(torch.randn_like(p) * 0.02)
        path = os.path.join(OUT, f"{name}.onnx")
        ids, y, err = export_torch_nn(model, path, inputs, dynamo=name.endswith("dynamo"))
        np.save(os.path.join(OUT, f"{name}.output.npy"), y)
        with open(os.path.join(OUT, f"{name}.input.json"), "w") as f:
            json.dump(ids, f)
        count = sum(p.numel() for p in model.parameters())
        expected[name] = {"params": count, "input_shapes": {k: list(v.shape[1:]) for k, v in inputs.items()},
                          "output_shape": list(y.shape)}
        print(f"{name}: {os.path.getsize(path)} bytes, {count} params, torch vs ORT {err:.1e}", file=sys.stderr)
        if name == "torch_encoder_prenorm":
            # With dynamic axes the keys' reshape keeps the example's length (7), which netc names.
            torch.onnx.export(model, (src,), os.path.join(OUT, "torch_encoder_dynamic.onnx"), input_names=["src"],
                              output_names=["logits"], opset_version=17, dynamo=False, dynamic_axes={"src": {1: "S"}})
    with open(os.path.join(OUT, "encoder_decoder.json"), "w") as f:
        json.dump(expected, f, indent=2, sort_keys=True)
        f.write("\n")
    refused(os.path.join(OUT, "translate_tiny.onnx"))
    # Its entry beside the CNN fixtures' (generate_import_fixtures.py writes the others).
    with open(os.path.join(OUT, "expected.json")) as f:
        cnn = json.load(f)
    for name in ["vit", "convnext", "convnext_opset13"]:
        cnn[f"torchvision_{name}_tiny"] = torchvision_fixture(os.path.join(OUT, f"torchvision_{name}_tiny.onnx"), name)
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(cnn, f, indent=1)


def refused(path):
    """Copies netc must refuse, each naming the input: a third input nothing reads, and the
    target as floats (several inputs import as token ids only)."""
    model = onnx.load(path)
    model.graph.input.append(onnx.helper.make_tensor_value_info("unused", onnx.TensorProto.INT64, [1, "U"]))
    onnx.save(model, os.path.join(OUT, "translate_unused_input.onnx"))
    model = onnx.load(path)
    model.graph.input[1].type.tensor_type.elem_type = onnx.TensorProto.FLOAT
    onnx.save(model, os.path.join(OUT, "translate_float_target.onnx"))


if __name__ == "__main__":
    main()
