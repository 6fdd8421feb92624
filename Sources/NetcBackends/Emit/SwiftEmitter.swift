import NetcIR
import NetcPasses

/// What `SwiftEmitter.emit` produces: the source, the packed weights it reads, and the
/// schedule (for `bench`'s per-layer report).
public struct EmittedNetwork: Sendable {
  /// One kernel call of `forward`.
  public struct Step: Sendable {
    /// The layers it computes (a conv, its folded BN and its activation), dotted names.
    public var layers: [String]
    /// The op of its first layer (`conv`, `pool`, ...).
    public var op: String
    /// Multiply-accumulates (conv and FC), for GFLOP/s.
    public var macs: Int
  }

  /// The Swift type's name.
  public var typeName: String
  /// The Swift source.
  public var source: String
  /// The weights in the kernels' layouts, as `init(weightsFile:)` reads them.
  public var weights: [Float]
  /// The kernel calls of `forward`, in order.
  public var steps: [Step]
  /// Elements of the activation arena (the peak of intermediate memory), and what the
  /// same buffers would take if none were shared.
  public var arenaElements: Int
  public var unsharedElements: Int
  /// The input and output shapes (channels last).
  public var inputShape: [Int], outputShape: [Int]

  /// The weights file's bytes: `NETCW001`, the element count (UInt64 little endian), then
  /// the elements as little-endian Float32.
  public var weightsFile: [UInt8] {
    var out = Array("NETCW001".utf8)
    withUnsafeBytes(of: UInt64(weights.count).littleEndian) { out += $0 }
    out.reserveCapacity(16 + weights.count * 4)
    for w in weights { withUnsafeBytes(of: w.bitPattern.littleEndian) { out += $0 } }
    return out
  }
}

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

  /// Emits `graph` with `parameters` (PyTorch layouts; repacked here).
  public static func emit(graph: Graph, shapes: Shapes, parameters: [LayerParameters<Float>?], options: Options = .init()) -> EmittedNetwork
  {
    precondition(Options.vectorWidths.contains(options.vectorWidth), "vector width \(options.vectorWidth) is not 8 or 16")
    // Projections of `shortcut: auto` are emitted as what they resolved to.
    let (graph, shapes) = resolveShortcuts(graph, shapes)
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
    var out = SourceWriter()
    header(&out, embed: embed)
    let source = out.text
    return EmittedNetwork(
      typeName: typeName, source: source, weights: blob, steps: steps,
      arenaElements: plan.arenaSize, unsharedElements: plan.unsharedSize,
      inputShape: shapes[0], outputShape: shapes[graph.outputID])
  }

  /// Everything around the kernels: the class, its buffers, `forward`, the helpers.
  func header(_ w: inout SourceWriter, embed: Bool) {
    let inCount = shapes[0].reduce(1, *), outCount = shapes[graph.outputID].reduce(1, *)
    w.line("// Generated by netc emit. Do not edit: regenerate from the spec instead.")
    w.line(
      "// Layout: channels last (HxWxC), Float32. Steps: \(plan.steps.count); arena: \(plan.arenaSize) floats (\(plan.unsharedSize) without sharing)."
    )
    if lanes == 16 {
      w.line("// Vectors: SIMD16<Float>, one zmm register with AVX-512 (swiftc -Xcc -mavx512f -Xcc -mfma ...).")
    }
    if !embed { w.line("import Foundation") }
    w.line()
    w.line("/// A network compiled by netc: `forward` maps an input of `inputShape` to `outputShape`.")
    w.block("public final class \(typeName)") { w in
      w.line("/// The input's shape, channels last.")
      w.line("public static let inputShape: [Int] = \(shapes[0])")
      w.line("/// The output's shape, channels last.")
      w.line("public static let outputShape: [Int] = \(shapes[graph.outputID])")
      w.line("/// Elements of the input and of the output.")
      w.line("public static let inputCount = \(inCount)")
      w.line("public static let outputCount = \(outCount)")
      w.line("/// Elements of the packed weights, and of the activation arena.")
      w.line("public static let weightCount = \(blob.count)")
      w.line("public static let arenaCount = \(plan.arenaSize)")
      w.line("/// The layers each step of `forward` computes.")
      let names = steps.map { "[" + $0.layers.map(IdentifierSanitizer.stringLiteral).joined(separator: ", ") + "]" }
      w.line("public static let stepLayers: [[String]] = [\(names.joined(separator: ", "))]")
      w.line()
      w.line("let weights: UnsafeMutablePointer<Float>")
      w.line("let arena: UnsafeMutablePointer<Float>")
      w.line()
      w.line("/// Takes `packed` (weightCount elements, in the kernels' layouts) as the weights.")
      w.block("public init(packedWeights packed: [Float])") { w in
        w.line("precondition(packed.count == Self.weightCount, \"expected \\(Self.weightCount) packed weights, got \\(packed.count)\")")
        w.line(
          "weights = UnsafeMutableRawPointer.allocate(byteCount: max(1, Self.weightCount) * 4, alignment: 64).bindMemory(to: Float.self, capacity: max(1, Self.weightCount))"
        )
        w.line(
          "arena = UnsafeMutableRawPointer.allocate(byteCount: max(1, Self.arenaCount) * 4, alignment: 64).bindMemory(to: Float.self, capacity: max(1, Self.arenaCount))"
        )
        w.line("packed.withUnsafeBufferPointer { weights.update(from: $0.baseAddress!, count: Self.weightCount) }")
        w.line("arena.update(repeating: 0, count: max(1, Self.arenaCount))")
      }
      w.line()
      if embed {
        w.line("/// The weights embedded in this file.")
        w.block("public convenience init()") { w in
          w.line("var packed = [Float](repeating: 0, count: Self.weightCount)")
          w.line("var i = 0, word: UInt32 = 0, digits = 0")
          w.block("for c in Self.embedded.utf8") { w in
            w.line("let d: UInt32")
            w.line("if c >= 48 && c <= 57 { d = UInt32(c - 48) } else if c >= 97 && c <= 102 { d = UInt32(c - 87) } else { continue }")
            w.line("word = word << 4 | d")
            w.line("digits += 1")
            w.block("if digits == 8") { w in
              w.line("packed[i] = Float(bitPattern: word)")
              w.line("i += 1")
              w.line("digits = 0")
              w.line("word = 0")
            }
          }
          w.line("self.init(packedWeights: packed)")
        }
        w.line()
        w.line("/// The packed weights: each element's IEEE bits as 8 hex digits.")
        w.line("static let embedded = \"\"\"")
        var line = ""
        for (i, v) in blob.enumerated() {
          let h = String(v.bitPattern, radix: 16)
          line += String(repeating: "0", count: 8 - h.count) + h
          if i % 16 == 15 || i == blob.count - 1 {
            w.line(line)
            line = ""
          }
        }
        w.line("\"\"\"")
      } else {
        w.line("/// A weights file could not be used.")
        w.block("public struct WeightsFileError: Error, CustomStringConvertible") { w in
          w.line("public let description: String")
        }
        w.line()
        w.line("/// Reads the weights file `netc emit` wrote beside this source.")
        w.block("public convenience init(weightsFile path: String) throws") { w in
          w.line("let data = try Data(contentsOf: URL(fileURLWithPath: path))")
          w.line("let expected = 16 + Self.weightCount * 4")
          w.block("guard data.count == expected, data.prefix(8).elementsEqual(\"NETCW001\".utf8) else") { w in
            w.line(
              "throw WeightsFileError(description: \"\\(path): not a netc weights file of \\(Self.weightCount) elements (\\(data.count) bytes, expected \\(expected))\")"
            )
          }
          w.line("var packed = [Float](repeating: 0, count: Self.weightCount)")
          w.line("data.withUnsafeBytes { raw in")
          w.line("  for i in 0..<Self.weightCount {")
          w.line("    packed[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 16 + 4 * i, as: UInt32.self)))")
          w.line("  }")
          w.line("}")
          w.line("self.init(packedWeights: packed)")
        }
      }
      w.line()
      w.block("deinit") { w in
        w.line("weights.deallocate()")
        w.line("arena.deallocate()")
      }
      w.line()
      w.line("/// Runs the network: reads `inputCount` elements at `input`, writes `outputCount` at `output`.")
      w.block("public func forward(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>)") { w in
        w.line("run(input, output, nil)")
      }
      w.line()
      w.line("/// As `forward`, calling `afterStep(k)` when step k ends (for per-layer timing).")
      w.block("public func forward(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, afterStep: (Int) -> Void)") { w in
        w.line("withoutActuallyEscaping(afterStep) { run(input, output, $0) }")
      }
      w.line()
      w.line("/// The output for `input` (`inputCount` elements).")
      w.block("public func callAsFunction(_ input: [Float]) -> [Float]") { w in
        w.line("precondition(input.count == Self.inputCount, \"expected \\(Self.inputCount) input elements, got \\(input.count)\")")
        w.line("var output = [Float](repeating: 0, count: Self.outputCount)")
        w.line(
          "input.withUnsafeBufferPointer { i in output.withUnsafeMutableBufferPointer { o in forward(i.baseAddress!, o.baseAddress!) } }")
        w.line("return output")
      }
      w.line()
      w.line("@inline(__always)")
      w.block("func run(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ hook: ((Int) -> Void)?)") { w in
        w.line("let a = arena, w = UnsafePointer(weights)")
        w.line("_ = a")
        w.line("_ = w")
        for (k, call) in calls.enumerated() {
          w.line(call)
          w.line("hook?(\(k))")
        }
        if plan.outputValue == 0 {
          w.line("y.update(from: x, count: \(outCount))")
        }
      }
      w.line()
      w.line(
        "@inline(__always) static func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> { UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self) }"
      )
      w.line(
        "@inline(__always) static func store8(_ p: UnsafeMutablePointer<Float>, _ v: SIMD8<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self) }"
      )
      if lanes == 16 {
        w.line(
          "@inline(__always) static func load16(_ p: UnsafePointer<Float>) -> SIMD16<Float> { UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self) }"
        )
        w.line(
          "@inline(__always) static func store16(_ p: UnsafeMutablePointer<Float>, _ v: SIMD16<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self) }"
        )
      }
      if !uses.intersection(["exp", "tanh", "erf"]).isEmpty { mathHelpers(&w) }
      w.line()
      for l in kernels.text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
        w.line(l.isEmpty ? "" : "  " + l)
      }
    }
  }

  /// exp, tanh and erf in Double from the standard library alone (no libm): accurate to a
  /// few units in the last place of Double, far below Float's rounding.
  func mathHelpers(_ w: inout SourceWriter) {
    w.line()
    w.line("/// e^x: x = n ln2 + r, |r| <= ln2/2, e^r by its Taylor series to the 13th power.")
    w.block("static func exp(_ x: Double) -> Double") { w in
      w.line("if x.isNaN { return x }")
      w.line("if x > 709.7 { return .infinity }")
      w.line("if x < -745.2 { return 0 }")
      w.line("let n = (x * 1.4426950408889634).rounded()")
      w.line("let r = (x - n * 6.93147180369123816490e-01) - n * 1.90821492927058770002e-10")
      var fact = 1.0
      var coeffs: [Double] = [1]
      for k in 1...13 {
        fact *= Double(k)
        coeffs.append(1 / fact)
      }
      w.line("var p = \(coeffs[13])")
      for k in stride(from: 12, through: 0, by: -1) { w.line("p = p * r + \(coeffs[k])") }
      w.line("return Double(sign: .plus, exponent: Int(n), significand: p)")
    }
    w.line()
    w.line("/// tanh from exp, with the odd series near 0 where 1 - 2/(e^2x + 1) would cancel.")
    w.block("static func tanh(_ x: Double) -> Double") { w in
      w.line("let a = abs(x)")
      w.line("if a < 1e-3 { return x - x * x * x / 3 + 2 * x * x * x * x * x / 15 }")
      w.line("if a > 20 { return x < 0 ? -1 : 1 }")
      w.line("let t = 1 - 2 / (exp(2 * a) + 1)")
      w.line("return x < 0 ? -t : t")
    }
    w.line()
    w.line("/// erf: its Maclaurin series below 3, the continued fraction of erfc above.")
    w.block("static func erf(_ x: Double) -> Double") { w in
      w.line("if x.isNaN { return x }")
      w.line("let a = abs(x)")
      w.line("var e: Double")
      w.block("if a < 3") { w in
        w.line("var term = a, sum = a, n = 0.0")
        w.block("while n < 120") { w in
          w.line("n += 1")
          w.line("term = -term * a * a / n")
          w.line("let t = term / (2 * n + 1)")
          w.line("sum += t")
          w.line("if abs(t) < 1e-17 * abs(sum) { break }")
        }
        w.line("e = sum * 1.1283791670955126")
      }
      w.block("else") { w in
        w.line("var t = a")
        w.line("var k = 60.0")
        w.block("while k >= 1") { w in
          w.line("t = a + (k / 2) / t")
          w.line("k -= 1")
        }
        w.line("e = 1 - exp(-a * a) / (1.7724538509055159 * t)")
      }
      w.line("return x < 0 ? -e : e")
    }
  }
}

/// Float literals that survive any formatting: the exact bits.
func floatLiteral(_ v: Float) -> String {
  if v == 0 { return "0" }
  if v == Float(Int(v)) && abs(v) < 1e6 { return "\(Int(v))" }
  return "Float(bitPattern: 0x\(String(v.bitPattern, radix: 16)))"
}

extension EmittedNetwork {
  /// Writes the source to `sourcePath` and, unless nil, the weights file to `weightsPath`.
  public func write(source sourcePath: String, weights weightsPath: String?) throws(FileError) {
    try FileIO.write(Array(source.utf8), to: sourcePath)
    if let weightsPath { try FileIO.write(weightsFile, to: weightsPath) }
  }

  /// The weights file's path beside a source path: `Net.swift` -> `Net.weights`.
  public static func weightsPath(besides sourcePath: String) -> String {
    (sourcePath.hasSuffix(".swift") ? String(sourcePath.dropLast(6)) : sourcePath) + ".weights"
  }
}
