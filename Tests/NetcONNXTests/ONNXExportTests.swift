import Foundation
import NetcBackends
import NetcDiagnostics
import NetcDriver
import NetcFrontend
import NetcIR
import NetcONNX
import NetcPasses
import NetcTestSupport
import SwiftProtobuf
import Testing

/// The exported bytes decoded with swift-protobuf; the expectations are the ONNX operator
/// spec's layouts and arithmetic written beside each, not netc's own output.
@Suite struct ONNXExportTests {
  /// Exports `text` with seed 0 and decodes the bytes.
  func export(_ text: String) throws -> (model: Onnx_ModelProto, bytes: [UInt8]) {
    let spec = try parseSpec(text)
    let analysis = try analyze(spec.graph)
    let shapes = analysis.shapes
    let sources: [WeightSource] = spec.weights.map { [.mapping($0, file: "test.yaml")] } ?? []
    let params: [LayerParameters<Float>?] = try WeightBinding.bind(analysis.graph, shapes, sources: sources, seed: 0)
    let bytes = try ONNXExport.bytes(analysis.graph, shapes, parameters: params)
    return (try Onnx_ModelProto(serializedBytes: Data(bytes)), bytes)
  }

  func attribute(_ node: Onnx_NodeProto, _ name: String) -> [Int64] {
    guard let a = node.attribute.first(where: { $0.name == name }) else { return [] }
    return a.type == .int ? [a.i] : a.ints
  }

  static let cnn = specText(
    input: "32x32x3",
    layers: [
      "CONV3-8 stride 2 pad 1 name conv1", "BN name bn1", "RELU name relu1", "POOL-2 name pool1", "FLATTEN name flat", "FC-10 name fc",
    ])

  @Test func versionsAndNodes() throws {
    let m = try export(Self.cnn).model
    // Opset 17 goes with IR version 8 (onnx.helper.VERSION_TABLE: 1.12.0 -> IR 8, opset 17).
    #expect(m.irVersion == 8)
    #expect(m.opsetImport.map(\.version) == [17])
    #expect(m.opsetImport.map(\.domain) == [""])
    #expect(m.graph.node.map(\.opType) == ["Conv", "BatchNormalization", "Relu", "MaxPool", "Flatten", "Gemm"])
    #expect(m.graph.node.map(\.name) == ["conv1", "bn1", "relu1", "pool1", "flat", "fc"])
    let conv = m.graph.node[0]
    #expect(attribute(conv, "kernel_shape") == [3, 3])
    #expect(attribute(conv, "strides") == [2, 2])
    #expect(attribute(conv, "pads") == [1, 1, 1, 1])  // [top, left, bottom, right]
    #expect(attribute(conv, "group") == [1])
    #expect(attribute(m.graph.node[3], "strides") == [2, 2])  // a pool's stride defaults to its kernel
    #expect(attribute(m.graph.node[4], "axis") == [1])
    #expect(attribute(m.graph.node[5], "transB") == [1])
    #expect(m.graph.node[5].input == ["flat", "fc.weight", "fc.bias"])
  }

  /// AveragePool takes `dilations` from opset 19 (IR 9, onnx.helper.VERSION_TABLE: 1.14.0),
  /// where ReduceMean (RMSNorm's) reads its axes as an input (from opset 18).
  @Test func dilatedAveragePoolIsOpset19() throws {
    let m = try export(specText(input: "9x9x2", layers: ["AVGPOOL3 stride 2 pad 1 dilation 2 round ceil name p", "RMSNORM name n"])).model
    #expect(m.irVersion == 9)
    #expect(m.opsetImport.map(\.version) == [19])
    let pool = try #require(m.graph.node.first { $0.opType == "AveragePool" })
    #expect(attribute(pool, "dilations") == [2, 2])
    #expect(attribute(pool, "ceil_mode") == [1])
    #expect(attribute(pool, "count_include_pad") == [1])
    let mean = try #require(m.graph.node.first { $0.opType == "ReduceMean" })
    #expect(mean.input.count == 2 && attribute(mean, "axes").isEmpty)
    let axes = try #require(m.graph.initializer.first { $0.name == mean.input[1] })
    #expect(axes.int64Data == [1])  // the channel axis of NCHW
    // Undilated, the same layers are opset 17 with ReduceMean's axes attribute.
    let plain = try export(specText(input: "9x9x2", layers: ["AVGPOOL3 stride 2 pad 1 name p", "RMSNORM name n"])).model
    #expect(plain.opsetImport.map(\.version) == [17] && plain.irVersion == 8)
    #expect(attribute(try #require(plain.graph.node.first { $0.opType == "ReduceMean" }), "axes") == [1])
  }

  @Test func initializersAndShapes() throws {
    let m = try export(Self.cnn).model
    let shapes = Dictionary(uniqueKeysWithValues: m.graph.initializer.map { ($0.name, $0.dims) })
    // Conv weight M x C/group x kH x kW; conv: floor((32 + 2 - 3)/2) + 1 = 16, pool 16/2 = 8,
    // flatten 8 * 8 * 8 = 512.
    #expect(shapes["conv1.weight"] == [8, 3, 3, 3])
    #expect(shapes["conv1.bias"] == [8])
    for kind in ["gamma", "beta", "mean", "var"] { #expect(shapes["bn1.\(kind)"] == [8]) }
    #expect(shapes["fc.weight"] == [10, 512])
    #expect(shapes["fc.bias"] == [10])
    #expect(m.graph.initializer.allSatisfy { $0.rawData.count == 4 * Int($0.dims.reduce(1, *)) })
    // Initializers are not graph inputs (allowed since IR 4).
    #expect(m.graph.input.map(\.name) == ["input"])
    #expect(dims(m.graph.input[0]) == ["N", "3", "32", "32"])
    #expect(dims(m.graph.output[0]) == ["N", "10"])
    let info = Dictionary(uniqueKeysWithValues: m.graph.valueInfo.map { ($0.name, dims($0)) })
    #expect(info["conv1"] == ["N", "8", "16", "16"])
    #expect(info["pool1"] == ["N", "8", "8", "8"])
    #expect(info["flat"] == ["N", "512"])
    #expect(m.metadataProps.contains { $0.key == "netc.dim.N" && $0.value == "batch" })
  }

  @Test func weightsAreTheBoundOnes() throws {
    let text = specText(input: "2x2x1", layers: ["CONV1-1 name c"], extra: "weights:\n  c: {weight: [[[[0.5]]]], bias: [-2]}\n")
    let m = try export(text).model
    let w = m.graph.initializer.first { $0.name == "c.weight" }!
    let b = m.graph.initializer.first { $0.name == "c.bias" }!
    // 0.5 = 0x3F000000, -2 = 0xC0000000, little endian.
    #expect([UInt8](w.rawData) == [0x00, 0x00, 0x00, 0x3F])
    #expect([UInt8](b.rawData) == [0x00, 0x00, 0x00, 0xC0])
  }

  @Test func depthwiseAndDilation() throws {
    let m = try export(specText(input: "8x8x4", layers: ["DWCONV3 pad 2 dilation 2 name dw"])).model
    let dw = m.graph.node[0]
    #expect(attribute(dw, "group") == [4])
    #expect(attribute(dw, "dilations") == [2, 2])
    #expect(m.graph.initializer.first { $0.name == "dw.weight" }?.dims == [4, 1, 3, 3])
    // 8 + 4 - 2 * (3 - 1) - 1 + 1 = 8.
    #expect(dims(m.graph.output[0]) == ["N", "4", "8", "8"])
  }

  @Test func deterministicBytes() throws {
    let a = try export(Self.cnn).bytes, b = try export(Self.cnn).bytes
    #expect(a == b)
    #expect(!a.isEmpty)
  }

  @Test func commandWritesSymbolicDims() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("netc-onnx-\(getpid())")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let spec = dir.appendingPathComponent("sym.yaml").path, out = dir.appendingPathComponent("sym.onnx").path
    try "name: sym\ninput: $Hx$Wx3\nvars: {H: 8..64, W: 8..64}\nlayers:\n  - CONV3-4 stride 2 pad 1 name c\n  - GAP name g\n"
      .write(toFile: spec, atomically: true, encoding: .utf8)
    #expect(holdingStandardStreams { Netc.run(["export", spec, "--to", "onnx", "-o", out, "--set", "H=32", "--set", "W=16"]) } == 0)
    let m = try Onnx_ModelProto(serializedBytes: try Data(contentsOf: URL(fileURLWithPath: out)))
    #expect(dims(m.graph.input[0]) == ["N", "3", "H", "W"])
    let c = dims(m.graph.valueInfo.first { $0.name == "c" }!)
    // floor((H + 2 - 3)/2) + 1 depends on H: a name, not a number; GAP's 1x1 stays numbers.
    #expect(c[0] == "N" && c[1] == "4" && c[2].contains("H") && c[3].contains("W") && c[2] != "H")
    #expect(dims(m.graph.output[0]) == ["N", "4", "1", "1"])
    let keys = Set(m.metadataProps.map(\.key))
    #expect(keys.isSuperset(of: ["netc.dim.N", "netc.dim.H", "netc.dim.W", "netc.dim.\(c[2])"]))
  }

  @Test func commandRefusesWithExitOne() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("netc-onnx-r\(getpid())")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let spec = dir.appendingPathComponent("r.yaml").path
    // A LINEAR over an image's channels is a 1x1 Conv, which cannot read a tied weight.
    try "name: r\ninput: 8x8x4\nlayers:\n  - LINEAR-4 name a\n  - CONV1-4\n  - LINEAR-4 tie a\n".write(
      toFile: spec, atomically: true, encoding: .utf8)
    #expect(holdingStandardStreams { Netc.run(["export", spec, "-o", dir.appendingPathComponent("r.onnx").path]) } == 1)
    #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("r.onnx").path))
    #expect(holdingStandardStreams { Netc.run(["export", dir.appendingPathComponent("missing.yaml").path]) } == 2)
  }
}
