#!/usr/bin/env python3
"""Whole reference networks under `netc run`, against transformers and torchvision.

Each case builds the model with random weights (nothing is downloaded), writes its state
dict as a netc weight directory with state_dicts.py, runs the spec of specs/ with `netc
run --weights DIR` on the same input and compares the output (and for language models the
cross-entropy loss over random next tokens) with PyTorch's, in fp32:

    gpt2          GPT2LMHeadModel(GPT2Config()), all 12 layers, T = 32: logits and loss
    bert          BertModel(BertConfig()) with its pooler, T = 16
    vit           torchvision vit_b_16, one 224x224 image
    llama         LlamaForCausalLM, Llama-3's spec scaled down (2 layers, width 64, GQA 4/2,
                  rope_theta 500000), T = 16: logits and loss
    mixtral       MixtralForCausalLM likewise (8 experts, top 2, rope_theta 1e6)
    convnext_tiny, efficientnet_b0, mobilenet_v3_large, resnet50, resnet18, mobilenet_v2,
    alexnet, vgg16: torchvision, one image,
                  BN's running statistics randomised (fresh ones are 0 and 1)

The error is the largest absolute difference over the largest magnitude of PyTorch's
output; the check is 1e-5. Run (about ten minutes with a debug build):
    /work/venv-torch/bin/python scripts/weights/verify_whole_models.py [case ...] [--netc PATH]
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO_ROOT, "scripts", "reference"))
import state_dicts  # noqa: E402

torch.manual_seed(0)
TOLERANCE = 1e-5


def scaled_spec(path, replacements):
    """A reference spec with its sizes scaled down, the layer names kept."""
    text = open(path).read()
    for a, b in replacements:
        assert re.search(a, text), (path, a)
        text = re.sub(a, b, text)
    return text


def transformers_model(case):
    import transformers.utils
    import transformers.utils.import_utils
    transformers.utils.is_torchvision_available = transformers.utils.import_utils.is_torchvision_available = \
        lambda: False
    import transformers as tf
    if case == "gpt2":
        return tf.GPT2LMHeadModel(tf.GPT2Config()), "specs/gpt2.yaml", None, 32, 50257
    if case == "bert":
        return tf.BertModel(tf.BertConfig()), "specs/bert_base.yaml", None, 16, 30522
    if case == "llama":
        config = tf.LlamaConfig(hidden_size=64, num_attention_heads=4, num_key_value_heads=2, intermediate_size=96,
                                vocab_size=300, num_hidden_layers=2, rope_theta=500000.0, rms_norm_eps=1e-5,
                                tie_word_embeddings=False, attention_bias=False, mlp_bias=False)
        spec = scaled_spec(os.path.join(REPO_ROOT, "specs/llama3_8b.yaml"), [
            (r"EMBED-4096 vocab 128256", "EMBED-64 vocab 300"), (r"repeat: 32", "repeat: 2"),
            (r"ATTN-32 kv 8", "ATTN-4 kv 2"), (r"LINEAR-14336", "LINEAR-96"), (r"LINEAR-4096", "LINEAR-64"),
            (r"LINEAR-128256", "LINEAR-300")])
        return tf.LlamaForCausalLM(config), None, spec, 16, 300
    if case == "mixtral":
        config = tf.MixtralConfig(hidden_size=64, num_attention_heads=4, num_key_value_heads=2, intermediate_size=96,
                                  vocab_size=300, num_hidden_layers=2, rope_theta=1e6, rms_norm_eps=1e-5,
                                  num_local_experts=8, num_experts_per_tok=2, router_jitter_noise=0.0,
                                  tie_word_embeddings=False)
        spec = scaled_spec(os.path.join(REPO_ROOT, "specs/mixtral_8x7b.yaml"), [
            (r"EMBED-4096 vocab 32000", "EMBED-64 vocab 300"), (r"repeat: 32", "repeat: 2"),
            (r"ATTN-32 kv 8", "ATTN-4 kv 2"), (r"LINEAR-14336", "LINEAR-96"), (r"LINEAR-4096", "LINEAR-64"),
            (r"LINEAR-32000", "LINEAR-300")])
        return tf.MixtralForCausalLM(config), None, spec, 16, 300
    raise KeyError(case)


def torchvision_model(case):
    import generate_fixtures  # noqa: F401  (torchvision imported with its compiled ops stubbed)
    import torchvision
    model = getattr(torchvision.models, case)()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.normal_(0, 0.2)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0, 0.2)
            elif isinstance(m, torch.nn.Linear) and not m.weight.any():
                # ViT's head starts at zero, which would compare zeros with zeros.
                m.weight.normal_(0, 0.02)
    return model


def netc_run(netc, spec, bindings, weights, x, target=None):
    with tempfile.TemporaryDirectory() as tmp:
        xin = os.path.join(tmp, "input.npy")
        np.save(xin, x)
        args = [netc, "run", spec, "--weights", weights, "--input", xin, "--format", "json"]
        for b in bindings:
            args += ["--set", b]
        if target is not None:
            with open(os.path.join(tmp, "target.json"), "w") as f:
                json.dump(target, f)
            args += ["--loss", "cross-entropy", "--target", os.path.join(tmp, "target.json")]
        out = subprocess.run(args, capture_output=True, text=True)
        if out.returncode != 0:
            raise SystemExit(f"netc run failed:\n{out.stderr}")
        result = json.loads(out.stdout)
    return np.array(result["output"], dtype=np.float64), result.get("loss")


def error(ours, theirs):
    theirs = np.asarray(theirs, dtype=np.float64)
    assert ours.shape == theirs.shape, (ours.shape, theirs.shape)
    return float(np.abs(ours - theirs).max() / np.abs(theirs).max())


def check(case, netc):
    with tempfile.TemporaryDirectory() as tmp:
        weights = os.path.join(tmp, "weights")
        if case in ("gpt2", "bert", "llama", "mixtral"):
            model, spec_path, spec_text, length, vocab = transformers_model(case)
            model.eval()
            if spec_text is not None:
                spec_path = os.path.join(tmp, f"{case}.yaml")
                with open(spec_path, "w") as f:
                    f.write(spec_text)
            else:
                spec_path = os.path.join(REPO_ROOT, spec_path)
            bindings = [f"T={length}"]
            family = case
            ids = torch.randint(0, vocab, (length,))
            target = torch.randint(0, vocab, (length,))
            with torch.no_grad():
                out = model(ids[None])
            if case == "bert":
                reference, loss = out.pooler_output[0], None
            else:
                reference = out.logits[0]
                loss = F.cross_entropy(reference, target).item()
            x = ids.numpy().astype(np.int64)
        else:
            model = torchvision_model(case).eval()
            spec_path = os.path.join(REPO_ROOT, "specs", f"{case}.yaml")
            bindings, family, loss = [], ("vit" if case == "vit_b_16" else "torchvision"), None
            image = torch.randn(1, 3, 224, 224)
            with torch.no_grad():
                reference = model(image)[0]
            x = image[0].permute(1, 2, 0).contiguous().numpy()
        layers = state_dicts.netc_layers(spec_path, netc, bindings)
        state_dicts.write(state_dicts.convert(family, model, layers), weights)
        ours, our_loss = netc_run(netc, spec_path, bindings, weights, x,
                                  target=target.tolist() if loss is not None else None)
        e = error(ours, reference.numpy())
        line = f"{case:20s} output {list(ours.shape)!s:14s} error {e:.2e}"
        ok = e <= TOLERANCE
        if loss is not None:
            le = abs(our_loss - loss) / abs(loss)
            line += f"   loss {our_loss:.6f} vs {loss:.6f} (error {le:.2e})"
            ok = ok and le <= TOLERANCE
        print(line + ("" if ok else "   FAILED"), flush=True)
        return ok


CASES = ["gpt2", "bert", "vit_b_16", "llama", "mixtral", "convnext_tiny", "efficientnet_b0", "mobilenet_v3_large",
         "resnet50", "resnet18", "mobilenet_v2", "alexnet", "vgg16"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cases", nargs="*", default=CASES)
    ap.add_argument("--netc", default=os.path.join(REPO_ROOT, ".build", "debug", "netc"))
    args = ap.parse_args()
    failed = [c for c in args.cases if not check(c, args.netc)]
    if failed:
        raise SystemExit(f"failed: {failed}")


if __name__ == "__main__":
    main()
