import Foundation
import NetcDiagnostics
import NetcFrontend
import NetcIR
import NetcPasses
import Testing

@testable import NetcBackends

/// Specs that together use every op and option the emitter handles. Each becomes a class
/// per vector width in one Swift program, compiled once with `swiftc -O -warnings-as-errors`.
let emitterSpecs: [(name: String, yaml: String)] = [
  (
    "convs",
    """
    name: convs
    input: 9x11x5
    layers:
      - CONV3-20 pad 1
      - RELU
      - CONV3-13 stride 2 pad 1 bias false
      - BN
      - RELU6
      - CONV1-24
      - CONV2x3-7 pad 1,2 dilation 2
      - conv: { kernel: 3, filters: 35, pad: same }
      - LEAKYRELU slope 0.2
    """
  ),
  (
    "bigkernel",
    """
    name: bigkernel
    input: 20x21x3
    layers:
      - CONV7-32 stride 2 pad 3
      - BN
      - RELU
      - CONV3-19 pad 1 bias false
      - CONV5-8 stride 1,2 pad 2
    """
  ),
  (
    // Widths that are not a multiple of the 6-pixel tile: the output rows are tiled as one
    // flat run of pixels (tiles span rows), with 3x3 taps unrolled, 5x5 taps in a loop,
    // groups, stride 2, and channel counts that are not multiples of 8 or 16.
    "rowtails",
    """
    name: rowtails
    input: 7x7x20
    layers:
      - CONV3-40 pad 1
      - RELU
      - CONV5-9 pad 2
      - CONV3-18 groups 3 stride 2 pad 1
      - CONV2-17 pad 1
      - BN
      - RELU6
    """
  ),
  (
    "groups",
    """
    name: groups
    input: 10x10x16
    layers:
      - CONV3-16 groups 4 pad 1
      - DWCONV3 pad 1
      - BN
      - RELU
      - DWCONV3-2 stride 2 pad 1
      - PWCONV-40
      - LEAKYRELU
      - SEPCONV3-24 pad same stride 2
      - CONV3-6 groups 3 pad 1 bias false
      - DWCONV5 pad 2 bias false
    """
  ),
  (
    "pools",
    """
    name: pools
    input: 13x13x11
    layers:
      - POOL-3 stride 2 pad 1 round ceil
      - AVGPOOL-3 stride 2 pad 1 round ceil
      - AVGPOOL-3 stride 1 pad 2:1 dilation 2
      - AVGPOOL-2 stride 1 pad 0:1 dilation 2 round ceil
      - AVGPOOL-2
      - parallel:
          merge: concat
          branches:
            - [GAP]
            - [GMP]
      - FLATTEN
      - FC-5 bias false
      - SOFTMAX
    """
  ),
  (
    "vector",
    """
    name: vector
    input: 37
    layers:
      - FC-19
      - SIGMOID
      - FC-21
      - TANH
      - FC-17
      - GELU
      - IDENTITY
      - DROPOUT p 0.3
      - FC-40
      - RELU
      - FC-3
      - RELU6
    """
  ),
  (
    "blocks",
    """
    name: blocks
    input: 8x8x16
    layers:
      - residual:
          body: [CONV3-16 pad 1, BN, RELU, CONV3-16 pad 1, BN]
      - RELU
      - residual:
          body: [CONV3-32 stride 2 pad 1, BN]
          shortcut: auto
      - parallel:
          merge: add
          branches:
            - [CONV1-32]
            - [CONV3-32 pad 1]
      - parallel:
          merge: concat
          branches:
            - [CONV1-8]
            - [POOL-3 stride 1 pad 1]
            - [AVGPOOL-3 stride 1 pad 1, BN]
      - FLATTEN
      - FC-10
    """
  ),
  (
    "oned",
    """
    name: oned
    input: 20x4
    layers:
      - CONV3-6 pad 1
      - RELU
      - POOL-2
      - CONV3-5 dilation 2
      - AVGPOOL-2 round ceil
      - FLATTEN
      - FC-4
    """
  ),
  (
    "threed",
    """
    name: threed
    input: 5x6x7x3
    layers:
      - CONV3-4 pad 1
      - RELU
      - POOL-2
      - GAP
      - FLATTEN
      - FC-2
    """
  ),
  (
    "bnfirst",
    """
    name: bnfirst
    input: 6x6x10
    layers:
      - BN
      - RELU
      - SIGMOID
      - CONV3-9 stride 3 pad same
      - TANH
      - FLATTEN
      - SOFTMAX
    """
  ),
  (
    // Channel counts with 8 or more left over after the 16-lane vectors (27 = 16 + 8 + 3,
    // 72 = 64 + 8, 56 = 32 + 16 + 8): the 8-lane runs and tails of width 16, in standalone
    // BN, ReLU, pools, add, depthwise, GAP/GMP, conv blocks and FC (100 = 64 + 36).
    "wide",
    """
    name: wide
    input: 15x14x27
    layers:
      - BN
      - RELU
      - POOL-3 stride 1 pad 1
      - AVGPOOL-3 stride 1 pad 1
      - residual:
          body: [CONV3-27 pad 1, BN]
      - CONV3-72 pad 1
      - RELU
      - DWCONV3 pad 1
      - CONV1-56
      - parallel:
          merge: concat
          branches:
            - [GAP]
            - [GMP]
      - FLATTEN
      - FC-100
    """
  ),
  (
    // Border regions whose windows read padding only (pad as large as the kernel: the bias,
    // or 0, through the activation; -inf and 0 for pools), dilated borders, ceil-rounded
    // pools whose last windows end past the input.
    "padonly",
    """
    name: padonly
    input: 5x6x4
    layers:
      - CONV1-8 pad 1
      - RELU
      - CONV3-5 pad 3 bias false
      - DWCONV3 pad 3
      - BN
      - CONV2-9 pad 2 dilation 3
      - POOL-3 stride 2 pad 1 round ceil
      - AVGPOOL-3 pad 1 stride 3 round ceil
    """
  ),
  (
    // Emitted with a low chunk threshold, so that every conv here splits its input channels
    // into chunks: the output starts as the bias and the activation runs at the end (ReLU,
    // LeakyReLU, a window in the padding only), 3x3 taps unrolled and 5x5 in loops, flat
    // tiles with a remainder tile.
    "chunks",
    """
    name: chunks
    input: 6x7x48
    layers:
      - CONV3-32 pad 1
      - RELU
      - CONV3-32 pad 3 stride 2 bias false
      - LEAKYRELU slope 0.1
      - CONV5-32 pad 2
      - BN
    """
  ),
  (
    "identity",
    """
    name: identity
    input: 4x4x3
    layers:
      - IDENTITY
    """
  ),
  (
    "hostile",
    #"""
    name: 'a"; import Foundation //'
    input: 4x4x3
    layers:
      - conv: { kernel: 3, filters: 2, pad: 1, name: 9-lives--x }
      - RELU
    """#
  ),
]

/// A spec of `emitterSpecs` with its shapes and weights (BN statistics drawn at random so
/// that folding them is exercised, not the identity).
func emitterCase(_ yaml: String, seed: UInt64) throws -> (Graph, Shapes, [LayerParameters<Float>?]) {
  let spec = try SpecLoader.parse(SourceFile(path: "test.yaml", text: yaml))
  let analysis = try analyze(spec.graph)
  let shapes = analysis.shapes
  var params: [LayerParameters<Float>?] = try WeightBinding.bind(analysis.graph, shapes, sources: [], seed: seed)
  var rng = SplitMix64(seed: seed &+ 99)
  for node in analysis.graph.layers where node.op == .bn && params[node.id] != nil {
    let c = shapes[node.id].last!
    func draw(_ a: Double, _ b: Double) -> Tensor<Float> { Tensor(shape: [c], data: (0..<c).map { _ in Float(rng.uniform(a, b)) }) }
    params[node.id]!.gamma = draw(0.5, 1.5)
    params[node.id]!.beta = draw(-0.5, 0.5)
    params[node.id]!.mean = draw(-0.3, 0.3)
    params[node.id]!.variance = draw(0.5, 1.5)
  }
  return (analysis.graph, shapes, params)
}

/// Max |a - b| / max |b|: the error relative to the reference's scale.
func relativeError(_ a: [Float], _ b: [Float]) -> Double {
  var diff = 0.0, scale = 0.0
  for (x, y) in zip(a, b) {
    diff = max(diff, abs(Double(x) - Double(y)))
    scale = max(scale, abs(Double(y)))
  }
  return scale == 0 ? diff : diff / scale
}

func floatsToBytes(_ v: [Float]) -> [UInt8] { v.withUnsafeBytes { Array($0) } }
func bytesToFloats(_ b: [UInt8]) -> [Float] { b.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) } }

@Suite struct SwiftEmitterTests {
  /// Every spec above at both vector widths (8 and 16), compiled in one
  /// `swiftc -O -warnings-as-errors` run (AVX-512 flags when the CPU has them, so both widths
  /// run in their native registers there), agrees with the interpreter on random inputs and
  /// weights to 1e-5 relative. The first net at width 8 reads its weights file; the others
  /// embed their weights.
  @Test func emittedKernelsMatchTheInterpreter() throws {
    let swiftc = try #require(try SwiftToolchain.swiftc(), "no swiftc found ($SWIFTC, PATH, toolchain directory)")
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("netc-emit-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }

    var main = "import Foundation\nlet dir = CommandLine.arguments[1]\n"
    main +=
      "func load(_ n: String) -> [Float] { (try! Data(contentsOf: URL(fileURLWithPath: dir + \"/\" + n))).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) } }\n"
    main +=
      "func save(_ n: String, _ v: [Float]) { try! v.withUnsafeBytes { Data($0) }.write(to: URL(fileURLWithPath: dir + \"/\" + n)) }\n"
    var expected: [(String, [Float])] = []
    var sources = ["\(dir)/main.swift"]
    for (i, (name, yaml)) in emitterSpecs.enumerated() {
      let (graph, shapes, params) = try emitterCase(yaml, seed: UInt64(i))
      var rng = SplitMix64(seed: UInt64(100 + i))
      let input = (0..<shapes[0].reduce(1, *)).map { _ in Float(rng.uniform(-1, 1)) }
      try Data(floatsToBytes(input)).write(to: URL(fileURLWithPath: "\(dir)/\(name).in"))
      let reference = Interpreter(graph: graph, shapes: shapes, parameters: params, threads: 1).output(
        Tensor(shape: shapes[0], data: input))
      for width in SwiftEmitter.Options.vectorWidths {
        let useFile = i == 0 && width == 8
        let hostile = name == "hostile" && width == 8
        var options = SwiftEmitter.Options(embedWeights: !useFile, typeName: hostile ? nil : "Net\(width)_\(name)", vectorWidth: width)
        if name == "chunks" {
          options.chunkThreshold = 4096
          #expect(SwiftEmitter.emit(graph: graph, shapes: shapes, parameters: params, options: options).source.contains("chunks of"))
        }
        let net = SwiftEmitter.emit(graph: graph, shapes: shapes, parameters: params, options: options)
        if hostile {
          #expect(net.typeName == "AImportFoundation")
          // The only imports are the C library's (for libm: fmaf, round), never Foundation.
          let imports = net.source.split(separator: "\n").filter { $0.contains("import ") || $0.contains("canImport(") }
          #expect(
            imports == [
              "#if canImport(Glibc)", "import Glibc", "#elseif canImport(Musl)", "import Musl", "#elseif canImport(Darwin)",
              "import Darwin",
            ], "spec text reached the source")
          #expect(!net.source.contains("import Foundation"), "spec text reached the source")
          #expect(!net.source.contains("fatalError"), "spec text reached the source")
        }
        let path = "\(dir)/\(net.typeName).swift"
        try net.write(source: path, weights: useFile ? "\(dir)/\(name).weights" : nil)
        sources.append(path)
        let result = "\(name).w\(width)"
        expected.append((result, reference.data))
        let make = useFile ? "try! \(net.typeName)(weightsFile: dir + \"/\(name).weights\")" : "\(net.typeName)()"
        main += "do { let net = \(make); save(\"\(result).out\", net(load(\"\(name).in\"))) }\n"
      }
    }
    try main.write(toFile: "\(dir)/main.swift", atomically: true, encoding: .utf8)
    let exe = "\(dir)/nets"
    let args = [swiftc, "-O", "-warnings-as-errors"] + SwiftToolchain.targetFlags(vectorWidth: 16) + sources + ["-o", exe]
    let status = SwiftToolchain.run(args, stdout: "\(dir)/cc.out", stderr: "\(dir)/cc.err")
    let diagnostics = SwiftToolchain.readText("\(dir)/cc.err") + SwiftToolchain.readText("\(dir)/cc.out")
    #expect(status == 0, "swiftc failed:\n\(diagnostics)")
    #expect(!diagnostics.contains("warning"), "swiftc warned:\n\(diagnostics)")
    guard status == 0 else { return }
    let ran = SwiftToolchain.run([exe, dir], stdout: "\(dir)/run.out", stderr: "\(dir)/run.err")
    #expect(ran == 0, "the compiled nets failed:\n\(SwiftToolchain.readText("\(dir)/run.err"))")
    for (name, reference) in expected {
      let got = bytesToFloats(try SwiftToolchain.readBytes("\(dir)/\(name).out"))
      #expect(got.count == reference.count, "\(name): \(got.count) outputs, expected \(reference.count)")
      let error = relativeError(got, reference)
      #expect(error <= 1e-5, "\(name): relative error \(error)")
    }
  }

  /// `--embed-weights` source and a `main.swift` that imports nothing build with the plain
  /// `swiftc -O Net.swift main.swift` of the README: no `-lm`, and no target flags, so each
  /// lane of `addingProduct` is a call to `fmaf` (libm) and the exp helper's `rounded()`
  /// one to `round`. The program prints what the interpreter computes.
  @Test func embeddedSourceLinksWithPlainSwiftc() throws {
    let swiftc = try #require(try SwiftToolchain.swiftc(), "no swiftc found ($SWIFTC, PATH, toolchain directory)")
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("netc-plain-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let yaml = "name: plain\ninput: 6x6x3\nlayers: [CONV3-8 pad 1, BN, RELU6, GELU, FLATTEN, FC-5, SOFTMAX]\n"
    let (graph, shapes, params) = try emitterCase(yaml, seed: 7)
    let net = SwiftEmitter.emit(graph: graph, shapes: shapes, parameters: params, options: .init(embedWeights: true, typeName: "Plain"))
    try net.write(source: "\(dir)/Plain.swift", weights: nil)
    let main = "let out = Plain()([Float](repeating: 0.5, count: Plain.inputCount))\nfor v in out { print(v) }\n"
    try main.write(toFile: "\(dir)/main.swift", atomically: true, encoding: .utf8)
    let status = SwiftToolchain.run(
      [swiftc, "-O", "\(dir)/Plain.swift", "\(dir)/main.swift", "-o", "\(dir)/plain"], stdout: "\(dir)/cc.out", stderr: "\(dir)/cc.err")
    #expect(status == 0, "swiftc failed:\n\(SwiftToolchain.readText("\(dir)/cc.err"))")
    guard status == 0 else { return }
    #expect(SwiftToolchain.run(["\(dir)/plain"], stdout: "\(dir)/run.out", stderr: "\(dir)/run.err") == 0)
    let got = SwiftToolchain.readText("\(dir)/run.out").split(separator: "\n").compactMap { Float($0) }
    let reference = Interpreter(graph: graph, shapes: shapes, parameters: params, threads: 1).output(
      Tensor(shape: shapes[0], repeating: 0.5))
    #expect(got.count == reference.count)
    #expect(relativeError(got, reference.data) <= 1e-5)
  }

  /// The same spec, weights and options give byte-identical source and weights.
  @Test(arguments: SwiftEmitter.Options.vectorWidths)
  func emissionIsDeterministic(vectorWidth: Int) throws {
    for (i, (_, yaml)) in emitterSpecs.enumerated() {
      let (g1, s1, p1) = try emitterCase(yaml, seed: UInt64(i))
      let (g2, s2, p2) = try emitterCase(yaml, seed: UInt64(i))
      let options = SwiftEmitter.Options(embedWeights: true, vectorWidth: vectorWidth)
      let a = SwiftEmitter.emit(graph: g1, shapes: s1, parameters: p1, options: options)
      let b = SwiftEmitter.emit(graph: g2, shapes: s2, parameters: p2, options: options)
      #expect(a.source == b.source)
      #expect(a.weightsFile == b.weightsFile)
    }
  }

  /// Width 16 writes SIMD16 kernels (and width 8 none), so the option reaches the kernels.
  @Test func vectorWidthReachesTheKernels() throws {
    let (graph, shapes, params) = try emitterCase(emitterSpecs[0].yaml, seed: 0)
    let narrow = SwiftEmitter.emit(graph: graph, shapes: shapes, parameters: params, options: .init(vectorWidth: 8))
    let wide = SwiftEmitter.emit(graph: graph, shapes: shapes, parameters: params, options: .init(vectorWidth: 16))
    #expect(!narrow.source.contains("SIMD16"))
    #expect(wide.source.contains("Self.load16(") && wide.source.contains("SIMD16<Float>()"))
  }

  /// Width 16 compiles for AVX-512 only when the CPU lists every AVX-512 subset used;
  /// width 8 keeps the AVX2 flags it always had.
  @Test(arguments: [
    (["avx2", "fma", "avx512f", "avx512vl", "avx512bw", "avx512dq"], 16, SwiftToolchain.ISA.avx512, 16),
    (["avx2", "fma", "avx512f", "avx512vl", "avx512bw", "avx512dq"], 8, .avx2, 16),
    (["avx2", "fma", "avx512f"], 16, .avx2, 8),
    (["avx2", "fma"], 16, .avx2, 8),
    (["avx2"], 8, .baseline, 8),
    ([], 16, .baseline, 8),
  ])
  func instructionSets(_ features: [String], _ width: Int, _ isa: SwiftToolchain.ISA, _ preferred: Int) {
    #expect(SwiftToolchain.isa(vectorWidth: width, features: Set(features)) == isa)
    #expect(SwiftToolchain.preferredVectorWidth(features: Set(features)) == preferred)
  }

  /// Names from a spec become identifiers of letters, digits and underscores only.
  @Test(arguments: [
    ("small-cnn", "SmallCnn"), ("resnet18", "Resnet18"), ("18net", "Net18net"), ("", "Net"),
    ("a\"; import Foundation //", "AImportFoundation"), ("Any", "NetAny"), ("Self", "NetSelf"),
    ("ünïcode net", "NCodeNet"),
  ])
  func typeNames(_ name: String, _ expected: String) {
    #expect(IdentifierSanitizer.typeName(name) == expected)
  }

  /// Layer fragments and string literals cannot end early or carry code.
  @Test func fragmentsAndLiterals() {
    #expect(IdentifierSanitizer.fragment("res3.body.conv2") == "res3_body_conv2")
    #expect(IdentifierSanitizer.fragment("x\"); fatalError(\"boom") == "x_fatalError_boom")
    #expect(IdentifierSanitizer.stringLiteral("a\"b\\c\nd") == "\"a\\u{22}b\\u{5c}c\\u{a}d\"")
  }

  /// Buffers whose lifetimes do not overlap share memory; overlapping ones never do.
  /// Sizes are multiples of 16, so the expected offsets are the sums written here.
  @Test func bufferPlannerReusesDeadBuffers() {
    // A chain a(0..1) -> b(1..2) -> c(2..3): c can reuse a's space, b cannot.
    let (offsets, peak) = BufferPlanner.plan([
      .init(size: 32, first: 0, last: 1), .init(size: 16, first: 1, last: 2), .init(size: 32, first: 2, last: 3),
    ])
    #expect(offsets == [0, 32, 0])
    #expect(peak == 48)  // 32 + 16
  }
}
