#!/usr/bin/env python3
"""Writes schemas/netspec.schema.json, the JSON Schema (2020-12) of the netspec language.

The layer shorthand is case-insensitive, and JSON Schema's regular expressions (ECMA 262)
have no flag for that, so the patterns spell every letter as a class: `[Cc][Oo][Nn][Vv]`.
Generating them keeps them right. Run it after changing the language:

    python3 scripts/check/generate_schema.py
"""
import json
import os

def ci(word):
    return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else c for c in word)

def alt(words):
    # Longest first, so `relu6` is tried before `relu`.
    return "(?:" + "|".join(ci(w) for w in sorted(words, key=lambda w: (-len(w), w))) + ")"

# Kernel extents, counts and input extents are at least 1: no `0`, no `00`.
EXT = r"(?:0*[1-9][0-9]*|\$[A-Za-z_][A-Za-z0-9_]*|\$\{[^}]*\})"
KERNEL = EXT + r"(?:[xX×]" + EXT + r")*"
COUNT = "-" + EXT
SHAPE_EXT = r"(?:0*[1-9][0-9]*|_|\$[A-Za-z_][A-Za-z0-9_]*|\$\{[^}]*\})"
SHAPE = SHAPE_EXT + r"(?:\s*[xX×]\s*" + SHAPE_EXT + r")*"
INPUT_EXT = SHAPE_EXT.replace("|_", "")
INPUT_SHAPE = INPUT_EXT + r"(?:\s*[xX×]\s*" + INPUT_EXT + r"){0,3}"
VALUE = r"(?:\$\{[^}]*\}|[^\s,]+)(?:\s*,\s*(?:\$\{[^}]*\}|[^\s,]+))*"
OPTIONS = ["stride", "pad", "dilation", "groups", "bias", "round", "name", "eps", "slope", "p"]
FLAGS = ["same", "valid", "ceil", "floor", "nobias"]
OPTION = r"(?:\s+(?:" + alt(FLAGS) + r"(?=\s|$)|" + alt(OPTIONS) + r"\s+" + VALUE + r"))"

HEADS = [
    (["conv", "sepconv"], KERNEL + COUNT),
    (["dwconv", "depthwise"], KERNEL + "(?:" + COUNT + ")?"),
    (["pwconv", "pointwise", "fc", "dense", "linear"], COUNT),
    (["pool", "maxpool", "avgpool"], "-?" + KERNEL),
    (["gap", "globalavgpool", "gmp", "globalmaxpool", "flatten", "bn", "batchnorm", "relu", "relu6",
      "sigmoid", "tanh", "softmax", "gelu", "identity", "leakyrelu", "dropout"], ""),
]
HEAD = "(?:" + "|".join(alt(names) + rest + "(?=\\s|$)" for names, rest in HEADS) + ")"
SHORTHAND = r"^\s*" + HEAD + OPTION + r"*(?:\s*->\s*" + SHAPE + r")?\s*$"

def integer_or_expr(description, minimum=None):
    number = {"type": "integer"}
    if minimum is not None:
        number["minimum"] = minimum
    return {
        "description": description,
        "anyOf": [
            number,
            {"type": "string", "pattern": r"^\s*(?:-?[0-9]+|\$[A-Za-z_][A-Za-z0-9_]*|\$\{[^}]*\})\s*$"},
        ],
    }

def per_axis(description):
    one = integer_or_expr(description)
    return {
        "description": description,
        "anyOf": one["anyOf"] + [
            {"type": "string", "pattern": r"^\s*" + VALUE + r"\s*$"},
            {"type": "array", "minItems": 1, "items": one},
        ],
    }

PAD = {
    "description": "Padding: an integer, one per spatial axis, `begin:end`, `valid` (0, the default) or `same` (TensorFlow's: output = ceil(input / stride)).",
    "anyOf": [
        {"type": "integer", "minimum": 0},
        {"type": "string"},
        {"type": "array", "minItems": 1, "items": {"anyOf": [
            {"type": ["integer", "string"]},
            {"type": "array", "minItems": 2, "maxItems": 2, "items": {"type": ["integer", "string"]}},
        ]}},
    ],
}
BIAS = {"description": "Whether the layer adds a bias (default true).", "type": ["boolean", "string"]}
NAME = {"description": "The layer's name, unique in its scope: letters, digits, `_` and `-` (no dots). Default: the op in lower case and its count, as `conv1`.",
        "type": ["string", "integer"]}
EXPECT = {"$ref": "#/$defs/shapePattern", "description": "Asserts the layer's output shape, as `-> 6x6x20` does in shorthand."}

COMMON_KEYS = {"name": NAME, "expect": EXPECT}
OPTION_SCHEMAS = {
    "kernel": per_axis("Window extent: one integer for every axis, or one per spatial axis (`[3, 5]`)."),
    "stride": per_axis("Step between windows: one integer, or one per spatial axis (default 1; pools: the kernel)."),
    "dilation": per_axis("Spacing of the kernel's taps: one integer, or one per spatial axis (default 1)."),
    "pad": PAD,
    "groups": integer_or_expr("Groups of a grouped convolution: input channels and filters must both divide by it.", minimum=1),
    "bias": BIAS,
    "round": {"description": "Rounding of a pool's output extent: `floor` (default) or `ceil` (Caffe).", "enum": ["floor", "ceil"]},
    "eps": {"description": "Batch norm epsilon (default 1e-5).", "type": ["number", "string"]},
    "slope": {"description": "LeakyReLU negative slope (default 0.01).", "type": ["number", "string"]},
    "p": {"description": "Dropout probability (no effect at inference).", "type": ["number", "string"]},
    "filters": integer_or_expr("Number of output channels.", minimum=1),
    "units": integer_or_expr("Number of outputs of the fully connected layer.", minimum=1),
    "multiplier": integer_or_expr("Depth multiplier: output channels = input channels x multiplier (default 1).", minimum=1),
}

# op: (summary, keys, required)
CONV = ["kernel", "filters", "stride", "pad", "dilation", "groups", "bias"]
POOL = ["kernel", "stride", "pad", "round"]
OPS = {
    "conv": ("Convolution, 1-D/2-D/3-D by the input's rank.", CONV, ["kernel", "filters"]),
    "dwconv": ("Depthwise convolution: groups = channels, output channels = channels x multiplier.", ["kernel", "multiplier", "stride", "pad", "dilation", "bias"], ["kernel"]),
    "pwconv": ("Pointwise (1x1) convolution.", ["filters", "stride", "bias"], ["filters"]),
    "sepconv": ("Depthwise-separable convolution: DWCONV then PWCONV, named NAME.dw and NAME.pw.", ["kernel", "filters", "stride", "pad", "dilation", "bias"], ["kernel", "filters"]),
    "pool": ("Max pooling; the stride defaults to the kernel.", POOL, ["kernel"]),
    "avgpool": ("Average pooling; the stride defaults to the kernel.", POOL, ["kernel"]),
    "gap": ("Global average pooling to 1x1xC.", [], []),
    "gmp": ("Global max pooling to 1x1xC.", [], []),
    "fc": ("Fully connected layer; its input must be a vector (add FLATTEN before it).", ["units", "bias"], ["units"]),
    "flatten": ("To a vector, channel-major (C, then H, then W), as PyTorch and ONNX.", [], []),
    "bn": ("Batch normalization over channels.", ["eps"], []),
    "relu": ("max(x, 0).", [], []), "relu6": ("min(max(x, 0), 6).", [], []),
    "sigmoid": ("1 / (1 + exp(-x)).", [], []), "tanh": ("Hyperbolic tangent.", [], []),
    "softmax": ("Softmax over the last axis.", [], []), "gelu": ("Gaussian error linear unit.", [], []),
    "identity": ("The input unchanged.", [], []),
    "leakyrelu": ("x for x > 0, slope * x otherwise.", ["slope"], []),
    "dropout": ("Identity at inference.", ["p"], []),
}
ALIASES = {"depthwise": "dwconv", "pointwise": "pwconv", "maxpool": "pool", "globalavgpool": "gap",
           "globalmaxpool": "gmp", "dense": "fc", "linear": "fc", "batchnorm": "bn"}

def longhand(op):
    summary, keys, required = OPS[op]
    props = {k: OPTION_SCHEMAS[k] for k in keys}
    props.update(COMMON_KEYS)
    options = {"type": "object", "description": summary, "properties": props, "additionalProperties": False}
    if required:
        options["required"] = required
    value = {"anyOf": [options, {"type": "null"}]} if not required else options
    return value

layer_variants = [{"$ref": "#/$defs/shorthand"}]
for name in list(OPS) + list(ALIASES):
    op = ALIASES.get(name, name)
    layer_variants.append({
        "type": "object", "description": OPS[op][0],
        "properties": {name: longhand(op)}, "required": [name], "additionalProperties": False,
    })
layer_variants += [
    {"type": "object", "description": "A residual connection: out = body(x) + shortcut(x).",
     "properties": {"residual": {"type": "object", "additionalProperties": False, "required": ["body"], "properties": {
         "name": NAME,
         "body": {"$ref": "#/$defs/layers", "description": "The layers added to the shortcut."},
         "shortcut": {"description": "`identity` (the default), `auto` (identity when the shapes match, else CONV1 without bias with the stride that fits, and BN), or a list of layers.",
                      "anyOf": [{"enum": ["identity", "auto"]}, {"$ref": "#/$defs/layers"}]}}}},
     "required": ["residual"], "additionalProperties": False},
    {"type": "object", "description": "Branches that read the same input, merged by concat (along channels) or add.",
     "properties": {"parallel": {"type": "object", "additionalProperties": False, "required": ["branches"], "properties": {
         "name": NAME,
         "merge": {"enum": ["concat", "add"], "description": "How the branches' outputs are merged (default concat)."},
         "branches": {"type": "array", "minItems": 1, "description": "Each branch a list of layers; an empty list passes the input through.",
                      "items": {"type": "array", "items": {"$ref": "#/$defs/layer"}}}}}},
     "required": ["parallel"], "additionalProperties": False},
    {"type": "object", "description": "Copies of a list of layers, each with its own weights.",
     "properties": {"repeat": integer_or_expr("How many copies (at least 1).", minimum=1), "layers": {"$ref": "#/$defs/layers"}, "name": NAME},
     "required": ["repeat", "layers"], "additionalProperties": False},
    {"type": "object", "description": "An instance of a block defined under the top-level `blocks`.",
     "properties": {"block": {"type": "string", "description": "The block's name."},
                    "with": {"type": "object", "description": "Values of the block's parameters.",
                             "additionalProperties": {"type": ["integer", "string"]}},
                    "name": NAME},
     "required": ["block"], "additionalProperties": False},
]

FAMILIES = sorted({"conv", "dwconv", "pwconv", "sepconv", "pool", "avgpool", "fc", "bn", "leakyrelu", "dropout",
                   "gap", "gmp", "flatten", "relu", "relu6", "sigmoid", "tanh", "softmax", "gelu", "identity"})
def family_options(family):
    members = [op for op in OPS if op == family or (family == "conv" and op in ("conv", "dwconv", "pwconv", "sepconv")) or (family == "pool" and op in ("pool", "avgpool"))]
    keys = sorted({k for op in members for k in OPS[op][1] if k not in ("kernel", "filters", "units", "multiplier")})
    return {"type": "object", "additionalProperties": False, "properties": {k: OPTION_SCHEMAS[k] for k in keys},
            "description": f"Options applied to every `{family}` layer that does not give them itself."}

schema = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://github.com/netc/netc/schemas/netspec.schema.json",
    "title": "netspec",
    "description": "A neural network spec for netc: input shape, layers, and constraints. See docs/check.md and the language page.",
    "type": "object",
    "required": ["name", "input", "layers"],
    "additionalProperties": False,
    "properties": {
        "netspec": {"description": "The language version; this netc reads version 1.", "enum": [1, "1"]},
        "name": {"description": "The network's name, shown in reports.", "type": ["string", "number"], "minLength": 1},
        "description": {"description": "Free text about the network.", "type": "string"},
        "input": {"$ref": "#/$defs/shape", "description": "The input shape, channels last: `32x32x3` (HxWxC), `100x16` (LxC), `784`, or `16x64x64x1` (DxHxWxC)."},
        "layers": {"$ref": "#/$defs/layers", "description": "The layers, in order: shorthand strings (`CONV3-20 stride 2 pad 1`), longhand mappings (`conv: {kernel: 3, filters: 20}`) and structures (residual, parallel, repeat, block)."},
        "defaults": {"type": "object", "description": "Options applied to every layer of a group that does not give them: `conv: { pad: same, bias: false }`.",
                     "additionalProperties": False, "properties": {f: family_options(f) for f in FAMILIES}},
        "vars": {"type": "object", "description": "Unknown integers written `$name` in layers, with their domains: `k: 1..205`, `s: [1, 2]`, or empty for a default from the var's role.",
                 "propertyNames": {"pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
                 "additionalProperties": {"anyOf": [
                     {"type": "null"}, {"type": "integer"},
                     {"type": "string", "pattern": r"^\s*-?[0-9]+\s*\.\.\s*-?[0-9]+\s*$", "description": "A range `lo..hi`, both included."},
                     {"type": "array", "minItems": 1, "items": {"type": "integer"}}]}},
        "where": {"description": "Conditions over vars: `k % 2 == 1`, `p <= k // 2`.",
                  "anyOf": [{"$ref": "#/$defs/condition"}, {"type": "array", "items": {"$ref": "#/$defs/condition"}}]},
        "output": {"$ref": "#/$defs/shapePattern", "description": "Asserts the network's output shape; `_` matches any extent."},
        "budget": {"type": "object", "description": "Limits on the totals: `params: \"<= 5M\"`. K, M, G are 10^3, 10^6, 10^9.",
                   "additionalProperties": False,
                   "properties": {m: {"$ref": "#/$defs/limit", "description": d} for m, d in [
                       ("params", "Learnable parameters (PyTorch's sum(p.numel()))."),
                       ("buffers", "Non-learnable state (BN running mean and variance)."),
                       ("macs", "Multiply-accumulates of conv and fc layers."),
                       ("activations", "Elements of every layer's output.")]}},
        "blocks": {"type": "object", "description": "Reusable lists of layers with parameters, used with `- block: NAME`.",
                   "additionalProperties": {"type": "object", "additionalProperties": False, "required": ["layers"], "properties": {
                       "params": {"type": "array", "description": "Parameter names, or `{name: default}`.",
                                  "items": {"anyOf": [{"type": "string"}, {"type": "object", "minProperties": 1, "maxProperties": 1}]}},
                       "layers": {"$ref": "#/$defs/layers"},
                       "description": {"type": "string"}}}},
        "weights": {"type": "object", "description": "Weights by layer name (for `netc run` and `netc emit`): numbers, nested lists, or `.npy` file names."},
    },
    "$defs": {
        "layers": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/layer"}},
        "layer": {"description": "A layer: a shorthand string, a longhand mapping, or a structure.", "anyOf": layer_variants},
        "shorthand": {"type": "string", "pattern": SHORTHAND,
                      "description": "`OP[kernel][-count] {option value} [-> shape]`, as `CONV3-20 stride 2 pad 1 -> 16x16x20`, `POOL-2`, `FC-10`, `RELU`. Op names are case-insensitive."},
        "shape": {"anyOf": [
            {"type": "integer", "minimum": 1},
            {"type": "string", "pattern": r"^\s*" + INPUT_SHAPE + r"\s*$"},
            {"type": "array", "minItems": 1, "maxItems": 4, "items": {"type": ["integer", "string"]}}]},
        "shapePattern": {"anyOf": [
            {"type": "integer", "minimum": 1},
            {"type": "string", "pattern": r"^\s*" + SHAPE + r"\s*$"},
            {"type": "array", "minItems": 1, "items": {"type": ["integer", "string"]}}]},
        "condition": {"type": "string", "pattern": "(==|!=|<=|>=|<|>)", "description": "A comparison of integer expressions over vars."},
        "limit": {"anyOf": [
            {"type": "integer", "minimum": 0},
            {"type": "string", "pattern": r"^\s*(?:<=|>=|==|<|>)?\s*[0-9][0-9_]*(?:\.[0-9]+)?[KMGk]?\s*$"}]},
    },
}

path = os.path.join(os.path.dirname(__file__), "..", "..", "schemas", "netspec.schema.json")
with open(path, "w", encoding="utf-8") as f:
    json.dump(schema, f, indent=2, ensure_ascii=False)
    f.write("\n")
