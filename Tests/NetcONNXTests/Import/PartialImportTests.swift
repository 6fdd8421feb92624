import Foundation
import NetcDiagnostics
import NetcONNX
import SwiftProtobuf
import Testing

/// `partial`: the layers netc imports become the spec, every other node is listed.
@Suite struct PartialImportTests {
  static let folder = ONNXImportTests.folder

  /// ELU after conv1 and ReLU: the spec is conv1 and relu, whose figures (PyTorch's for
  /// those two modules: 4 * 3 * 3 * 3 + 4 = 112 params, 4 * 8 * 8 * 27 = 6912 MACs) and
  /// output (PyTorch's) `check` compares; the four nodes after ELU read its output.
  @Test func theLayersBeforeAnUnknownOp() throws {
    let text = try ONNXImportTests().check("partial_elu", partial: true)
    let imported = try ONNXImport.read(Self.folder + "/partial_elu.onnx", partial: true)
    #expect(imported.layerCount == 2)
    #expect(
      imported.unimported == [
        UnimportedNode(name: "/elu/Elu", opType: "Elu", reason: "has op type `Elu`, which netc does not import"),
        UnimportedNode(
          name: "/conv2/Conv", opType: "Conv", reason: "reads the output (`/elu/Elu_output_0`) of `/elu/Elu`, which is not imported"),
        UnimportedNode(
          name: "/GlobalAveragePool", opType: "GlobalAveragePool",
          reason: "reads the output (`/conv2/Conv_output_0`) of `/conv2/Conv`, which is not imported"),
        UnimportedNode(
          name: "/Flatten", opType: "Flatten",
          reason: "reads the output (`/GlobalAveragePool_output_0`) of `/GlobalAveragePool`, which is not imported"),
        UnimportedNode(
          name: "/fc/Gemm", opType: "Gemm", reason: "reads the output (`/Flatten_output_0`) of `/Flatten`, which is not imported"),
      ])
    #expect(
      text.contains("# Partial (--partial): 5 nodes not imported:\n#   /elu/Elu (Elu) has op type `Elu`, which netc does not import\n"))
  }

  /// relu(conv(x)) + LRN(conv(x)): the Add reads the LRN, so the graph's output is lost
  /// and the spec ends at the last layer nothing reads, the ReLU.
  @Test func aBranchLeftOut() throws {
    let imported = try ONNXImport.read(Self.folder + "/partial_branch.onnx", partial: true)
    #expect(imported.layerCount == 2)
    #expect(imported.unimported.map(\.name) == ["norm", "merge"])
    #expect(imported.unimported[1].reason == "reads the output (`n`) of `norm`, which is not imported")
    #expect(imported.text.hasSuffix("layers:\n  - CONV1-4 name conv\n  - RELU name act\n"), "\(imported.text)")
  }

  /// Without `partial` the same models are errors naming the node.
  @Test func withoutPartialAnError() throws {
    for name in ["partial_elu", "partial_branch"] {
      let error = #expect(throws: DiagnosticError.self) { try ONNXImport.read(Self.folder + "/\(name).onnx") }
      #expect(error?.diagnostics.first?.code == .onnxUnsupported)
    }
  }

  /// A model none of whose nodes netc imports has no spec, even partially.
  @Test func nothingImported() throws {
    let error = #expect(throws: DiagnosticError.self) { try ONNXImport.read(Self.folder + "/unknown_op.onnx", partial: true) }
    let d = try #require(error?.diagnostics.first)
    #expect(d.message.hasSuffix("no node could be imported, so a partial import has no layer (1 left out)"), "\(d.message)")
    #expect(d.notes.first?.message == "node `odd` (LRN) has op type `LRN`, which netc does not import")
  }

  /// Token ids (an int64 input) are never read as a float vector of T features: only an
  /// embedding reads them, so a Relu on them is refused, naming the node.
  @Test func tokenIdsReadByAnythingButAnEmbeddingAreRefused() throws {
    var input = Onnx_ValueInfoProto()
    input.name = "input_ids"
    input.type.tensorType.elemType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
    for d in [Onnx_TensorShapeProto.Dimension.OneOf_Value.dimParam("N"), .dimValue(16)] {
      var dim = Onnx_TensorShapeProto.Dimension()
      dim.value = d
      input.type.tensorType.shape.dim.append(dim)
    }
    var relu = Onnx_NodeProto()
    relu.opType = "Relu"
    relu.input = ["input_ids"]
    relu.output = ["y"]
    var output = Onnx_ValueInfoProto()
    output.name = "y"
    var model = Onnx_ModelProto()
    model.irVersion = 8
    var opset = Onnx_OperatorSetIdProto()
    opset.version = 17
    model.opsetImport = [opset]
    model.graph.node = [relu]
    model.graph.input = [input]
    model.graph.output = [output]
    let bytes = [UInt8](try model.serializedBytes() as Data)
    for partial in [false, true] {
      let error = #expect(throws: DiagnosticError.self) { try ONNXImport.read(bytes: bytes, path: "/nonexistent/m.onnx", partial: partial) }
      let d = try #require(error?.diagnostics.first)
      #expect(d.code == .onnxUnsupported)
      // A partial import leaves the Relu out, and then has no layer.
      let words = partial ? "no node could be imported" : "(Relu) reads the token ids; netc reads them only through an embedding"
      #expect(d.message.contains(words), "\(d.message)")
    }
  }

  /// A corrupt file stays an error (NS601): only what netc cannot express is left out.
  @Test func aCorruptFileIsStillAnError() throws {
    let error = #expect(throws: DiagnosticError.self) { try ONNXImport.read(Self.folder + "/truncated.onnx", partial: true) }
    #expect(error?.diagnostics.first?.code == .onnxModel)
  }
}
