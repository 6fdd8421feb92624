import NetcIR
import NetcPasses

/// Turns a graph whose every shape is known into one self-contained Swift file: a final
/// class named after the spec whose `forward` runs kernels written for this network alone
/// (every extent, stride and padding a literal), channels last, Float32.
public enum SwiftEmitter {
  /// Choices of `emit`.
  public struct Options: Sendable {
    /// Put the weights in the source (hex text) instead of a file read at run time.
    public var embedWeights = false
    /// The type name (sanitized); nil = from the spec's name.
    public var typeName: String?
    /// Lanes of the kernels' vectors: 8 (`SIMD8<Float>`, one AVX2 ymm register) or 16
    /// (`SIMD16<Float>`, one AVX-512 zmm register). Any width runs on any x86; a width the
    /// compile flags do not support is split into narrower instructions.
    public var vectorWidth: Int

    /// Bytes of a conv block's weights above which its input channels are chunked
    /// (`ConvTile.inputChunk`); nil keeps the tuned default. Tests lower it to reach the
    /// chunked kernels with small layers.
    var chunkThreshold: Int?

    /// The vector widths the kernels can be written for.
    public static let vectorWidths = [8, 16]

    /// Default options.
    public init(embedWeights: Bool = false, typeName: String? = nil, vectorWidth: Int = 8) {
      self.embedWeights = embedWeights
      self.typeName = typeName
      self.vectorWidth = vectorWidth
    }
  }

  /// Whether the emitter writes kernels for `op`; `unexecutableLayers` turns a refusal into
  /// a diagnostic before any emission starts.
  public static func emits(_ op: OpKind) -> Bool {
    switch op {
    case .input, .conv, .dwconv, .pwconv, .maxpool, .avgpool, .gap, .gmp, .fc, .flatten, .bn, .relu, .relu6, .sigmoid, .tanh,
      .softmax, .gelu, .identity, .leakyrelu, .dropout, .add, .concat:
      true
    case .deconv, .linear, .layernorm, .rmsnorm, .silu, .hardswish, .hardsigmoid, .droppath, .layerscale, .embed, .posembed, .typeembed,
      .clstoken, .tokens, .take, .attention, .upsample, .pad, .shuffle, .mul, .router, .moe, .slice:
      false
    }
  }

  /// Emits `graph` with `parameters` (PyTorch layouts; repacked here).
  public static func emit(graph: Graph, shapes: Shapes, parameters: [LayerParameters<Float>?], options: Options = .init()) -> EmittedNetwork
  {
    precondition(Options.vectorWidths.contains(options.vectorWidth), "vector width \(options.vectorWidth) is not 8 or 16")
    precondition(shortcutsResolved(graph), "a backend takes the graph `analyze` resolved, not the spec's")
    var e = Emission(graph: graph, shapes: shapes, parameters: parameters, lanes: options.vectorWidth)
    e.chunkThreshold = options.chunkThreshold
    e.typeName = IdentifierSanitizer.typeName(options.typeName ?? graph.name)
    return e.run(embed: options.embedWeights)
  }
}

/// The state of one emission: the plan, the weights blob being filled, the source.
struct Emission {
  let graph: Graph
  let shapes: Shapes
  let parameters: [LayerParameters<Float>?]
  let plan: EmitPlan
  /// The vector width (8 or 16): see `SwiftEmitter.Options.vectorWidth`.
  let lanes: Int
  var chunkThreshold: Int?
  var typeName = "Net"
  var blob: [Float] = []
  var kernels = SourceWriter()
  var calls: [String] = []
  var steps: [EmittedNetwork.Step] = []
  var uses = Set<String>()  // helpers the kernels call

  init(graph: Graph, shapes: Shapes, parameters: [LayerParameters<Float>?], lanes: Int) {
    self.lanes = lanes
    self.graph = graph
    self.shapes = shapes
    self.parameters = parameters
    plan = EmitPlan(graph: graph, shapes: shapes)
  }

  /// Appends `values` to the weights blob at a 16-element boundary; returns the offset.
  mutating func store(_ values: [Float]) -> Int {
    while blob.count % 16 != 0 { blob.append(0) }
    let at = blob.count
    blob += values
    return at
  }

  /// The pointer expression of a value inside `run`.
  func pointer(_ value: Int, mutable: Bool) -> String {
    switch plan.storage[value] {
    case .input: return "x"
    case .output: return "y"
    case .arena(let o): return mutable ? "(a + \(o))" : "UnsafePointer(a + \(o))"
    }
  }

  mutating func run(embed: Bool) -> EmittedNetwork {
    for (k, step) in plan.steps.enumerated() {
      let name = "s\(k)_" + IdentifierSanitizer.fragment(step.node.name)
      var args = step.inputs.map { pointer($0, mutable: false) }
      args.append(pointer(step.output, mutable: true))
      var macs = 0
      let extra = emitKernel(step, name: name, macs: &macs)
      args += extra
      calls.append("Self.\(name)(\(args.joined(separator: ", ")))")
      steps.append(.init(layers: step.nodes.map(\.name), op: step.node.op.mnemonic, macs: macs))
    }
    return EmittedNetwork(
      typeName: typeName, source: source(embed: embed), weights: blob, steps: steps,
      arenaElements: plan.arenaSize, unsharedElements: plan.unsharedSize,
      inputShape: shapes[0], outputShape: shapes[graph.outputID])
  }
}
