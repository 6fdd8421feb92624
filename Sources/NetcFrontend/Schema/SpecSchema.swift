import NetcIR

/// The JSON Schema (2020-12) of the netspec language, generated from the op table
/// (`LayerSpelling.all`, `OptionKey`) and the shorthand's flags, so that it cannot drift
/// from what netc accepts. `netc schema` prints it; a test keeps
/// `schemas/netspec.schema.json` equal to it.
///
/// The layer shorthand is case-insensitive, and JSON Schema's regular expressions (ECMA
/// 262) have no flag for that, so the patterns spell every letter as a class: `[Cc][Oo]`.
public enum SpecSchema {
  /// The schema's text, as the file holds it (with a final newline).
  public static var text: String { schema.text() + "\n" }

  private static func ci(_ word: String) -> String {
    word.map { $0.isLetter ? "[\($0.uppercased())\($0.lowercased())]" : String($0) }.joined()
  }

  /// Alternatives, longest first, so that `relu6` is tried before `relu`.
  private static func alt(_ words: [String]) -> String {
    "(?:" + words.sorted { $0.count != $1.count ? $0.count > $1.count : $0 < $1 }.map(ci).joined(separator: "|") + ")"
  }

  // Kernel extents, counts and input extents are at least 1: no `0`, no `00`.
  private static let ext = #"(?:0*[1-9][0-9]*|\$[A-Za-z_][A-Za-z0-9_]*|\$\{[^}]*\})"#
  private static let kernelPattern = ext + #"(?:[xX×]"# + ext + ")*"
  private static let countPattern = "-" + ext
  private static let shapeExt = #"(?:0*[1-9][0-9]*|_|\$[A-Za-z_][A-Za-z0-9_]*|\$\{[^}]*\})"#
  private static let shapePattern = shapeExt + #"(?:\s*[xX×]\s*"# + shapeExt + ")*"
  private static let inputExt = shapeExt.replacingOccurrences("|_", with: "")
  private static let inputShape = inputExt + #"(?:\s*[xX×]\s*"# + inputExt + "){0,3}"
  private static let value = #"(?:\$\{[^}]*\}|[^\s,]+)(?:\s*,\s*(?:\$\{[^}]*\}|[^\s,]+))*"#

  private static var shorthand: String {
    let options = OptionKey.allCases.map(\.rawValue) + ["name"]
    // A boolean option's bare key means `true`.
    let flags = (Array(LayerShorthand.flags.keys) + OptionKey.allCases.filter { $0.valueKind == .boolean }.map(\.rawValue)).sorted()
    let option = #"(?:\s+(?:"# + alt(flags) + #"(?=\s|$)|"# + alt(options) + #"\s+"# + value + "))"
    // One alternative per head syntax, in the order the table first uses it.
    var heads: [(syntax: String, names: [String])] = []
    for op in LayerSpelling.all {
      let syntax: String
      switch (op.kernel, op.count) {
      case (.required, .required): syntax = kernelPattern + countPattern
      case (.required, .optional): syntax = kernelPattern + "(?:" + countPattern + ")?"
      case (.required, .none): syntax = "-?" + kernelPattern
      case (.none, .required): syntax = countPattern
      case (.none, .optional): syntax = "(?:" + countPattern + ")?"
      case (.none, .none): syntax = ""
      case (.optional, .required): syntax = "(?:" + kernelPattern + ")?" + countPattern
      case (.optional, .optional): syntax = "(?:" + kernelPattern + ")?(?:" + countPattern + ")?"
      case (.optional, .none): syntax = "(?:-?" + kernelPattern + ")?"
      }
      if let i = heads.firstIndex(where: { $0.syntax == syntax }) {
        heads[i].names += [op.name] + op.aliases
      } else {
        heads.append((syntax, [op.name] + op.aliases))
      }
    }
    let head = "(?:" + heads.map { alt($0.names) + $0.syntax + #"(?=\s|$)"# }.joined(separator: "|") + ")"
    return #"^\s*"# + head + option + #"*(?:\s*->\s*"# + shapePattern + #")?\s*$"#
  }

  /// An integer, or a string holding one, a `$var` or a `${expression}`.
  private static func integerOrExprForms(minimum: Int? = nil) -> [JSONTree] {
    var number: [(String, JSONTree)] = [("type", "integer")]
    if let minimum { number.append(("minimum", .integer(minimum))) }
    return [.object(number), .obj(["type": "string", "pattern": #"^\s*(?:-?[0-9]+|\$[A-Za-z_][A-Za-z0-9_]*|\$\{[^}]*\})\s*$"#])]
  }

  private static func integerOrExpr(_ description: String, minimum: Int? = nil) -> JSONTree {
    .obj(["description": .string(description), "anyOf": .array(integerOrExprForms(minimum: minimum))])
  }

  /// One value for every axis, a comma-separated list, or a list of values.
  private static func perAxis(_ description: String) -> JSONTree {
    .obj([
      "description": .string(description),
      "anyOf": .array(
        integerOrExprForms() + [
          .obj(["type": "string", "pattern": .string(#"^\s*"# + value + #"\s*$"#)]),
          .obj(["type": "array", "minItems": 1, "items": integerOrExpr(description)]),
        ]),
    ])
  }

  private static func optionSchema(_ key: OptionKey) -> JSONTree {
    let description = JSONTree.string(key.summary)
    switch key.valueKind {
    case .perAxis: return perAxis(key.summary)
    case .padding:
      return .obj([
        "description": description,
        "anyOf": [
          .obj(["type": "integer", "minimum": 0]),
          .obj(["type": "string"]),
          .obj([
            "type": "array", "minItems": 1,
            "items": .obj([
              "anyOf": [
                .obj(["type": ["integer", "string"]]),
                .obj(["type": "array", "minItems": 2, "maxItems": 2, "items": .obj(["type": ["integer", "string"]])]),
              ]
            ]),
          ]),
        ],
      ])
    case .positiveInteger: return integerOrExpr(key.summary, minimum: 1)
    case .boolean: return .obj(["description": description, "type": ["boolean", "string"]])
    case .word(let words): return .obj(["description": description, "enum": .array(words.map(JSONTree.string))])
    case .real: return .obj(["description": description, "type": ["number", "string"]])
    case .integer: return integerOrExpr(key.summary)
    case .layerName: return .obj(["description": description, "type": "string", "minLength": 1])
    }
  }

  private static let name = JSONTree.obj([
    "description":
      "The layer's name, unique in its scope: letters, digits, `_` and `-` (no dots). Default: the op in lower case and its count, as `conv1`.",
    "type": ["string", "integer"],
  ])
  private static let expect = JSONTree.obj([
    "description":
      "Asserts the layer's output shape, as `-> 6x6x20` does in shorthand, or a mapping of the shape and figures: `{ shape: 6x6x20, params: 1820 }`.",
    "anyOf": [.obj(["$ref": "#/$defs/shapePattern"]), figures(shapeKey: "shape", "The layer's output shape.")],
  ])

  /// An asserted figure: a number, or arithmetic with or without its result.
  private static let figure = JSONTree.obj([
    "type": ["integer", "string"],
    "description":
      "A number (`1820`, `\"1,820\"`) or the arithmetic that gives it (`\"3*3*10*20 + 20\"`, `\"9 x 9 x 10 x 96 + 96 = 77,856\"`).",
  ])

  /// `expect` as a mapping: the shape under `shapeKey`, and figures.
  private static func figures(shapeKey: String, _ shapeDescription: String) -> JSONTree {
    .obj([
      "type": "object", "additionalProperties": false,
      "properties": .object(
        [(shapeKey, .obj(["$ref": "#/$defs/shapePattern", "description": .string(shapeDescription)]))]
          + Figure.allCases.map { ($0.rawValue, figure) }),
    ])
  }

  /// The longhand mapping of a layer kind: its kernel, its count, its options, then `name`
  /// and `expect`.
  private static func longhand(_ op: LayerSpelling) -> JSONTree {
    var props: [(String, JSONTree)] = []
    var required: [JSONTree] = []
    if op.kernel != .none {
      props.append(("kernel", perAxis("Window extent: one integer for every axis, or one per spatial axis (`[3, 5]`).")))
      if op.kernel == .required { required.append("kernel") }
    }
    if op.count != .none {
      props.append((op.countName, integerOrExpr(op.countSummary, minimum: 1)))
      if op.count == .required { required.append(.string(op.countName)) }
    }
    props += op.optionKeys.map { ($0.rawValue, optionSchema($0)) }
    props += [("name", name), ("expect", expect)]
    required += op.requiredOptions.map { .string($0.rawValue) }
    var options: [(String, JSONTree)] = [
      ("type", "object"), ("description", .string(op.meaning)), ("properties", .object(props)), ("additionalProperties", false),
    ]
    if !required.isEmpty { options.append(("required", .array(required))) }
    return required.isEmpty ? .obj(["anyOf": [.object(options), .obj(["type": "null"])]]) : .object(options)
  }

  private static var layerVariants: [JSONTree] {
    var out: [JSONTree] = [.obj(["$ref": "#/$defs/shorthand"])]
    let spellings = LayerSpelling.all.map { ($0.name, $0) } + LayerSpelling.all.flatMap { op in op.aliases.map { ($0, op) } }
    for (word, op) in spellings {
      out.append(
        .obj([
          "type": "object", "description": .string(op.meaning), "properties": .object([(word, longhand(op))]),
          "required": [.string(word)], "additionalProperties": false,
        ]))
    }
    return out + structures
  }

  private static var structures: [JSONTree] {
    [
      .obj([
        "type": "object", "description": "A residual connection: out = body(x) + shortcut(x).",
        "properties": .obj([
          "residual": .obj([
            "type": "object", "additionalProperties": false, "required": ["body"],
            "properties": .obj([
              "name": name,
              "body": .obj(["$ref": "#/$defs/layers", "description": "The layers added to the shortcut."]),
              "shortcut": .obj([
                "description":
                  "`identity` (the default), `auto` (identity when the shapes match, else CONV1 without bias with the stride that fits, and BN), or a list of layers.",
                "anyOf": [.obj(["enum": ["identity", "auto"]]), .obj(["$ref": "#/$defs/layers"])],
              ]),
            ]),
          ])
        ]),
        "required": ["residual"], "additionalProperties": false,
      ]),
      .obj([
        "type": "object", "description": "Branches that read the same input, merged by concat (along channels) or add.",
        "properties": .obj([
          "parallel": .obj([
            "type": "object", "additionalProperties": false, "required": ["branches"],
            "properties": .obj([
              "name": name,
              "merge": .obj([
                "enum": ["concat", "add", "mul"],
                "description":
                  "How the branches' outputs are merged (default concat); `mul` multiplies, broadcasting (`1x1xC` times `HxWxC`).",
              ]),
              "split": .obj([
                "type": ["boolean", "string"],
                "description": "Each branch reads its own equal part of the channels (ShuffleNet's channel split) instead of all of them.",
              ]),
              "branches": .obj([
                "type": "array", "minItems": 1, "description": "Each branch a list of layers; an empty list passes the input through.",
                "items": .obj(["type": "array", "items": .obj(["$ref": "#/$defs/layer"])]),
              ]),
            ]),
          ])
        ]),
        "required": ["parallel"], "additionalProperties": false,
      ]),
      .obj([
        "type": "object",
        "description": "A mixture of experts: a router scores `experts` copies of `layers` and each token runs the `top` best.",
        "properties": .obj([
          "moe": .obj([
            "type": "object", "additionalProperties": false, "required": ["experts", "layers"],
            "properties": .obj([
              "name": name,
              "experts": integerOrExpr("How many experts (copies of `layers`, each with its own weights).", minimum: 1),
              "top": integerOrExpr("Experts each token is routed to (default 1).", minimum: 1),
              "layers": .obj(["$ref": "#/$defs/layers", "description": "One expert: its output has the mixture's input shape."]),
            ]),
          ])
        ]),
        "required": ["moe"], "additionalProperties": false,
      ]),
      .obj([
        "type": "object",
        "description": "In a spec with `inputs:`, at the top level of `layers`: the layers after it read the named input.",
        "properties": .obj(["from": .obj(["type": "string", "description": "One of the spec's `inputs`."])]),
        "required": ["from"], "additionalProperties": false,
      ]),
      .obj([
        "type": "object", "description": "Copies of a list of layers, each with its own weights.",
        "properties": .obj([
          "repeat": integerOrExpr("How many copies (at least 1).", minimum: 1), "layers": .obj(["$ref": "#/$defs/layers"]),
          "name": name,
        ]),
        "required": ["repeat", "layers"], "additionalProperties": false,
      ]),
      .obj([
        "type": "object", "description": "An instance of a block defined under the top-level `blocks`.",
        "properties": .obj([
          "block": .obj(["type": "string", "description": "The block's name."]),
          "with": .obj([
            "type": "object", "description": "Values of the block's parameters.",
            "additionalProperties": .obj(["type": ["integer", "string"]]),
          ]),
          "name": name,
        ]),
        "required": ["block"], "additionalProperties": false,
      ]),
    ]
  }

  /// `defaults:`: per family, the options of every layer kind that draws on it.
  private static var defaults: JSONTree {
    let families = Set(LayerSpelling.all.flatMap(\.families)).sorted()
    return .object(
      families.map { family in
        let keys = Set(LayerSpelling.all.filter { $0.families.contains(family) }.flatMap(\.optionKeys)).sorted { $0.rawValue < $1.rawValue }
        return (
          family,
          .obj([
            "type": "object", "additionalProperties": false, "properties": .object(keys.map { ($0.rawValue, optionSchema($0)) }),
            "description": .string("Options applied to every `\(family)` layer that does not give them itself."),
          ])
        )
      })
  }

  /// One input's shape: a shape, or token ids (`$T tokens`).
  private static func inputSchema(_ description: String) -> JSONTree {
    .obj([
      "description": .string(description),
      "anyOf": [
        .obj(["$ref": "#/$defs/shape"]),
        .obj(["type": "string", "pattern": .string(#"^\s*"# + inputExt + #"\s+[Tt][Oo][Kk][Ee][Nn][Ss]\s*$"#)]),
      ],
    ])
  }

  private static var schema: JSONTree {
    .obj([
      "$schema": "https://json-schema.org/draft/2020-12/schema",
      "$id": "https://github.com/netc/netc/schemas/netspec.schema.json",
      "title": "netspec",
      "description": "A neural network spec for netc: input shape, layers, and constraints. See docs/check.md and the language page.",
      "type": "object",
      "required": ["name", "layers"],
      // One input's shape, or several named ones.
      "oneOf": [.obj(["required": ["input"]]), .obj(["required": ["inputs"]])],
      "additionalProperties": false,
      "properties": .obj([
        "netspec": .obj(["description": "The language version; this netc reads version 1.", "enum": [1, "1"]]),
        "name": .obj(["description": "The network's name, shown in reports.", "type": ["string", "number"], "minLength": 1]),
        "description": .obj(["description": "Free text about the network.", "type": "string"]),
        "input": inputSchema(
          "The input shape, channels last: `32x32x3` (HxWxC), `100x16` (LxC), `784`, or `16x64x64x1` (DxHxWxC); or token ids: `1024 tokens`, `$T tokens`."
        ),
        "inputs": .obj([
          "type": "object", "minProperties": 1, "maxProperties": 64,
          "description":
            "Several named inputs, each with its shape as `input` takes it: `{src: $S tokens, tgt: $T tokens}`. The layers read the first; `- from: NAME` starts the layers that read another.",
          "propertyNames": .obj(["pattern": #"^[^.\s]{1,200}$"#]),
          "additionalProperties": inputSchema("One input's shape, as `input` takes it."),
        ]),
        "layers": .obj([
          "$ref": "#/$defs/layers",
          "description":
            "The layers, in order: shorthand strings (`CONV3-20 stride 2 pad 1`), longhand mappings (`conv: {kernel: 3, filters: 20}`) and structures (residual, parallel, repeat, block).",
        ]),
        "defaults": .obj([
          "type": "object",
          "description": "Options applied to every layer of a group that does not give them: `conv: { pad: same, bias: false }`.",
          "additionalProperties": false, "properties": defaults,
        ]),
        "vars": .obj([
          "type": "object",
          "description":
            "Unknown integers written `$name` in layers, with their domains: `k: 1..205`, `s: [1, 2]`, or empty for a default from the var's role.",
          "propertyNames": .obj(["pattern": "^[A-Za-z_][A-Za-z0-9_]*$"]),
          "additionalProperties": .obj([
            "anyOf": [
              .obj(["type": "null"]), .obj(["type": "integer"]),
              .obj([
                "type": "string", "pattern": #"^\s*-?[0-9]+\s*\.\.\s*-?[0-9]+\s*$"#, "description": "A range `lo..hi`, both included.",
              ]),
              .obj(["type": "array", "minItems": 1, "items": .obj(["type": "integer"])]),
            ]
          ]),
        ]),
        "where": .obj([
          "description": "Conditions over vars: `k % 2 == 1`, `p <= k // 2`.",
          "anyOf": [.obj(["$ref": "#/$defs/condition"]), .obj(["type": "array", "items": .obj(["$ref": "#/$defs/condition"])])],
        ]),
        "output": .obj([
          "$ref": "#/$defs/shapePattern", "description": "Asserts the network's output shape; `_` matches any extent.",
        ]),
        "expect": .obj([
          "description": "Asserts the network's totals and output shape: `{ params: 3910, macs: 343080, output: 10 }`.",
          "anyOf": [figures(shapeKey: "output", "The network's output shape.")],
        ]),
        "budget": .obj([
          "type": "object", "description": "Limits on the totals: `params: \"<= 5M\"`. K, M, G are 10^3, 10^6, 10^9.",
          "additionalProperties": false,
          "properties": .obj([
            "params": .obj(["$ref": "#/$defs/limit", "description": "Learnable parameters (PyTorch's sum(p.numel()))."]),
            "buffers": .obj(["$ref": "#/$defs/limit", "description": "Non-learnable state (BN running mean and variance)."]),
            "macs": .obj(["$ref": "#/$defs/limit", "description": "Multiply-accumulates of conv and fc layers."]),
            "activations": .obj(["$ref": "#/$defs/limit", "description": "Elements of every layer's output."]),
            "weights": .obj(["$ref": "#/$defs/byteLimit", "description": "Bytes of the parameters and buffers at `precision`."]),
            "kv_cache": .obj([
              "$ref": "#/$defs/byteLimit",
              "description": "Bytes of attention's key/value cache at `precision`, per sequence times `batch`.",
            ]),
            "memory": .obj(["$ref": "#/$defs/byteLimit", "description": "Bytes of the weights and the KV cache at `precision`."]),
            "activation_memory": .obj([
              "$ref": "#/$defs/byteLimit",
              "description": "Bytes of the inference activation arena netc's offset planner lays out, at `precision` and `batch`.",
            ]),
            "training": .obj([
              "$ref": "#/$defs/byteLimit",
              "description":
                "Bytes of one training step (weights, gradients, optimizer state, master copy, saved for backward) at `batch`.",
            ]),
            "precision": .obj([
              "enum": .array(StorageType.allCases.map { .string($0.rawValue) }),
              "description": "The storage type byte budgets count in (default fp32).",
            ]),
            "optimizer": .obj([
              "enum": .array(Optimizer.allCases.map { .string($0.rawValue) }),
              "description": "The optimizer whose state `training` counts (default adamw).",
            ]),
            "mixed_precision": .obj([
              "enum": ["fp16", "bf16"],
              "description":
                "`training` in mixed precision: half-precision weights, gradients and activations, fp32 master copy and state.",
            ]),
            "batch": integerOrExpr(
              "The batch the memory budgets count at (default 1); a var (`$B`) lets `netc solve` find the largest.", minimum: 1),
          ]),
        ]),
        "blocks": .obj([
          "type": "object", "description": "Reusable lists of layers with parameters, used with `- block: NAME`.",
          "additionalProperties": .obj([
            "type": "object", "additionalProperties": false, "required": ["layers"],
            "properties": .obj([
              "params": .obj([
                "type": "array", "description": "Parameter names, or `{name: default}`.",
                "items": .obj([
                  "anyOf": [.obj(["type": "string"]), .obj(["type": "object", "minProperties": 1, "maxProperties": 1])]
                ]),
              ]),
              "layers": .obj(["$ref": "#/$defs/layers"]),
              "description": .obj(["type": "string"]),
            ]),
          ]),
        ]),
        "weights": .obj([
          "type": "object",
          "description": "Weights by layer name (for `netc run` and `netc emit`): numbers, nested lists, or `.npy` file names.",
        ]),
      ]),
      "$defs": .obj([
        "layers": .obj(["type": "array", "minItems": 1, "items": .obj(["$ref": "#/$defs/layer"])]),
        "layer": .obj([
          "description": "A layer: a shorthand string, a longhand mapping, or a structure.", "anyOf": .array(layerVariants),
        ]),
        "shorthand": .obj([
          "type": "string", "pattern": .string(shorthand),
          "description":
            "`OP[kernel][-count] {option value} [-> shape]`, as `CONV3-20 stride 2 pad 1 -> 16x16x20`, `POOL-2`, `FC-10`, `RELU`. Op names are case-insensitive.",
        ]),
        "shape": .obj([
          "anyOf": [
            .obj(["type": "integer", "minimum": 1]),
            .obj(["type": "string", "pattern": .string(#"^\s*"# + inputShape + #"\s*$"#)]),
            .obj(["type": "array", "minItems": 1, "maxItems": 4, "items": .obj(["type": ["integer", "string"]])]),
          ]
        ]),
        "shapePattern": .obj([
          "anyOf": [
            .obj(["type": "integer", "minimum": 1]),
            .obj(["type": "string", "pattern": .string(#"^\s*"# + shapePattern + #"\s*$"#)]),
            .obj(["type": "array", "minItems": 1, "items": .obj(["type": ["integer", "string"]])]),
          ]
        ]),
        "condition": .obj([
          "type": "string", "pattern": "(==|!=|<=|>=|<|>)", "description": "A comparison of integer expressions over vars.",
        ]),
        "limit": .obj([
          "anyOf": [
            .obj(["type": "integer", "minimum": 0]),
            .obj(["type": "string", "pattern": #"^\s*(?:<=|>=|==|<|>)?\s*[0-9][0-9_]*(?:\.[0-9]+)?[KMGk]?\s*$"#]),
          ]
        ]),
        "byteLimit": .obj([
          "anyOf": [
            .obj(["type": "integer", "minimum": 0]),
            .obj([
              "type": "string",
              "pattern": #"^\s*(?:<=|>=|==|<|>)?\s*[0-9][0-9_]*(?:\.[0-9]+)?\s*(?:[KMGk]|[KMGT]i?B|B)?\s*$"#,
            ]),
          ]
        ]),
      ]),
    ])
  }
}

extension String {
  /// The string with every `target` replaced (the libraries use no Foundation).
  fileprivate func replacingOccurrences(_ target: String, with replacement: String) -> String {
    var out = ""
    var rest = Substring(self)
    while let r = rest.firstRange(of: target) {
      out += rest[..<r.lowerBound] + replacement
      rest = rest[r.upperBound...]
    }
    return out + rest
  }
}
