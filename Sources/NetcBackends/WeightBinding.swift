import NetcDiagnostics
import NetcIR
import NetcPasses

/// Where a layer's weights come from, in increasing precedence: the spec's `weights:`,
/// then each `--weights` source in order. A later source replaces an earlier one tensor
/// by tensor; tensors no source gives are initialised deterministically.
public enum WeightSource: Sendable {
  /// A `weights:`-style mapping (layer name -> {weight, bias, gamma, beta, mean, var}),
  /// lowered by the frontend; string values are `.npy` paths relative to the directory of `file`.
  case mapping(WeightsDecl, file: String)
  /// A directory of `LAYER.KIND.npy` files (`conv1.weight.npy`, `bn1.var.npy`).
  case directory(String)
}

/// Binds weights to a graph's layers.
public enum WeightBinding {
  /// Every node's parameters, from `sources`, with the rest initialised from `seed`.
  ///
  /// Initialisation (documented in docs/run.md): each tensor draws from its own SplitMix64
  /// stream seeded with `seed` XOR the FNV-1a hash of its key (`conv1.weight`), so a
  /// layer's values do not depend on other layers. Conv and FC weights and biases are
  /// uniform in ±1/sqrt(fan_in), fan_in = Cin/groups * kernel taps (conv) or in (FC), the
  /// bounds of PyTorch's default initialisation; BN gets gamma 1, beta 0, mean 0, var 1.
  public static func bind<T: TensorScalar>(
    _ graph: Graph, _ shapes: Shapes, sources: [WeightSource], seed: UInt64, as: T.Type = T.self
  ) throws(DiagnosticError) -> [LayerParameters<T>?] {
    var byName: [String: Int] = [:]
    for node in graph.layers { byName[node.name] = node.id }
    var given: [Int: [ParameterKind: Tensor<T>]] = [:]
    var problems: [Diagnostic] = []

    func expected(_ id: Int) -> [(ParameterKind, [Int])] { parameterShapes(graph.nodes[id], shapes.nodes[id]) }

    func unknownLayer(_ name: String, at range: SourceRange?, file: String?) -> Diagnostic {
      if let id = byName[name] {
        let node = graph.nodes[id]
        let why =
          node.attributes.elidedShortcut
          ? "is an identity shortcut here (the shapes already match)" : "is \(node.op.mnemonic.uppercased()), which has no weights"
        return .error(.unknownWeight, "weights for `\(name)`, but `\(name)` \(why)", at: range)
      }
      let weighted = graph.layers.filter { !expected($0.id).isEmpty }.map(\.name)
      var notes: [Diagnostic.Note] = []
      if let near = closestMatch(to: name, in: weighted) { notes.append(.init("did you mean `\(near)`?")) }
      let place = file.map { " (in `\($0)`)" } ?? ""
      return .error(.unknownWeight, "weights for `\(name)`\(place), but the spec has no layer of that name", at: range, notes: notes)
    }

    /// Checks a tensor against the layer's expected shape; a scalar fills it.
    func accept(_ t: Tensor<T>, id: Int, kind: ParameterKind, at range: SourceRange?, origin: String) {
      let node = graph.nodes[id]
      guard let shape = expected(id).first(where: { $0.0 == kind })?.1 else {
        let keys = expected(id).map { $0.0.rawValue }
        problems.append(
          .error(
            .unknownWeight,
            "`\(node.name)` (\(node.op.mnemonic.uppercased())) has no `\(kind.rawValue)`; it has \(keys.map { "`\($0)`" }.joined(separator: ", "))",
            at: range))
        return
      }
      if kind == .weight, let target = node.attributes.tiedTo {
        // One tensor serves both layers: it is bound at the layer that owns it.
        let owner = graph.nodes[target].name
        problems.append(
          .error(
            .unknownWeight, "`\(node.name)` shares the weight of `\(owner)` (`tie`); give `\(owner).weight` instead", at: range,
            notes: [.init("`\(node.name)` is defined here", at: node.headRange)]))
        return
      }
      if t.shape.isEmpty {
        given[id, default: [:]][kind] = Tensor(shape: shape, repeating: t.data[0])
        return
      }
      guard t.shape == shape else {
        let layout = parameterLayout(node.op, kind, rank: shape.count, experts: shapes.nodes[id].experts)
        problems.append(
          .error(
            .weightShape,
            "`\(node.name).\(kind.rawValue)` is \(describe(t.shape)), expected \(describe(shape)) \(layout)\(origin)",
            at: range,
            notes: [.init("`\(node.name)` is defined here", at: node.headRange)]))
        return
      }
      given[id, default: [:]][kind] = t
    }

    for source in sources {
      switch source {
      case .mapping(let weights, let file):
        guard let layers = weights.layers else {
          problems.append(
            .error(
              .wrongType, "weights must be a mapping from layer names to their tensors, got \(weights.written.kind)",
              at: weights.written.range))
          continue
        }
        for layer in layers {
          let name = layer.name
          guard let id = byName[name], !expected(id).isEmpty else {
            problems.append(unknownLayer(name, at: layer.nameRange, file: nil))
            continue
          }
          guard let entries = layer.tensors else {
            let keys = expected(id).map(\.0.rawValue).joined(separator: ", ")
            problems.append(
              .error(
                .wrongType, "the weights of `\(name)` must be a mapping with \(keys), got \(layer.written.kind)",
                at: layer.written.range))
            continue
          }
          for entry in entries {
            let key = entry.key
            guard let kind = ParameterKind(rawValue: key) else {
              let keys = expected(id).map(\.0.rawValue)
              var notes: [Diagnostic.Note] = []
              if let near = closestMatch(to: key, in: keys) { notes.append(.init("did you mean `\(near)`?")) }
              problems.append(
                .error(
                  .unknownKey, "unknown weight `\(key)` for `\(name)`; it takes \(keys.map { "`\($0)`" }.joined(separator: ", "))",
                  at: entry.keyRange, notes: notes))
              continue
            }
            switch entry.value {
            case .file(let path):
              let full = FileIO.resolve(path, relativeTo: file)
              do {
                accept(try NpyFile.read(full), id: id, kind: kind, at: entry.range, origin: " (from `\(full)`)")
              } catch {
                problems.append(.error(.weightFile, error.message, at: entry.range))
              }
            case .literal(let literal):
              do {
                accept(try Tensor(literal), id: id, kind: kind, at: entry.range, origin: "")
              } catch {
                problems.append(contentsOf: error.diagnostics)
              }
            }
          }
        }
      case .directory(let dir):
        let names: [String]
        do { names = try FileIO.list(dir) } catch {
          problems.append(.error(.weightFile, error.message, at: nil))
          continue
        }
        for file in names where file.hasSuffix(".npy") {
          let stem = file.dropLast(4)
          guard let dot = stem.lastIndex(of: "."), let kind = ParameterKind(rawValue: String(stem[stem.index(after: dot)...])) else {
            let written = stem.lastIndex(of: ".").map { String(stem[stem.index(after: $0)...]) }
            let guess = written.flatMap { closestMatch(to: $0, in: ParameterKind.allCases.map(\.rawValue)) }
            problems.append(
              .error(
                .unknownWeight, "`\(dir)/\(file)` is not named LAYER.KIND.npy with KIND one of weight, bias, gamma, beta, mean, var",
                at: nil, notes: guess.map { [.init("did you mean `\(stem[..<stem.lastIndex(of: ".")!]).\($0).npy`?")] } ?? []))
            continue
          }
          let name = String(stem[..<dot])
          let path = dir.hasSuffix("/") ? dir + file : dir + "/" + file
          guard let id = byName[name], !expected(id).isEmpty else {
            problems.append(unknownLayer(name, at: nil, file: path))
            continue
          }
          do {
            accept(try NpyFile.read(path), id: id, kind: kind, at: nil, origin: " (from `\(path)`)")
          } catch {
            problems.append(.error(.weightFile, error.message, at: nil))
          }
        }
      }
    }
    if !problems.isEmpty { throw DiagnosticError(problems) }

    var result: [LayerParameters<T>?] = Array(repeating: nil, count: graph.nodes.count)
    for node in graph.layers {
      let wanted = expected(node.id)
      if wanted.isEmpty { continue }
      var p = LayerParameters<T>()
      let r = shapes.nodes[node.id]
      for (kind, shape) in wanted {
        // A tied weight is the owner's tensor, which the interpreter shares (not a copy).
        if kind == .weight, node.attributes.tiedTo != nil { continue }
        if let t = given[node.id]?[kind] {
          p[kind] = t
          continue
        }
        switch kind {
        case .gamma, .variance: p[kind] = Tensor(shape: shape, repeating: 1)
        case .beta, .mean: p[kind] = Tensor(shape: shape, repeating: 0)
        case .weight, .bias, .wq, .bq, .wk, .bk, .wv, .bv, .wo, .bo:
          let fanIn = node.op == .fc ? r.inChannels : (r.inChannels / r.groups) * (r.window?.kernel.reduce(1, *) ?? 1)
          let bound = 1 / Double(max(fanIn, 1)).squareRoot()
          var rng = SplitMix64(seed: seed ^ fnv1a("\(node.name).\(kind.rawValue)"))
          let n = shape.reduce(1, *)
          p[kind] = Tensor(shape: shape, data: (0..<n).map { _ in T(rng.uniform(-bound, bound)) })
        }
      }
      result[node.id] = p
    }
    return result
  }

  static func describe(_ shape: [Int]) -> String { shape.isEmpty ? "a scalar" : shape.map(String.init).joined(separator: "x") }
}

/// SplitMix64 (Steele, Lea and Flood 2014): a tiny, well-mixed 64-bit generator whose
/// output is the same on every platform.
public struct SplitMix64: Sendable {
  var state: UInt64

  /// A generator started at `seed`.
  public init(seed: UInt64) { state = seed }

  /// The next 64 random bits.
  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// Uniform in [a, b): the top 53 bits as a fraction.
  public mutating func uniform(_ a: Double, _ b: Double) -> Double {
    a + (b - a) * Double(next() >> 11) * 0x1p-53
  }
}

/// 64-bit FNV-1a of a string's UTF-8 bytes.
func fnv1a(_ s: String) -> UInt64 {
  var h: UInt64 = 0xcbf2_9ce4_8422_2325
  for b in s.utf8 {
    h ^= UInt64(b)
    h &*= 0x100_0000_01b3
  }
  return h
}
