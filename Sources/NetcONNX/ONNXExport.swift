import Foundation
import NetcBackends
import NetcDiagnostics
import NetcIR
import NetcPasses
import SwiftProtobuf

/// What an export targets: opset 17, whose matching IR version is 8
/// (`onnx.helper.find_min_ir_version_for`); a newer IR than the opset needs is what older
/// runtimes reject. A graph with a dilated average pool needs opset 19 (IR 9), the first
/// whose AveragePool takes `dilations`.
public enum ONNXVersion {
  /// The default-domain opset the nodes are written for.
  public static let opset: Int64 = 17
  /// The IR version that goes with `opset`.
  public static let irVersion: Int64 = 8
  /// The opset of AveragePool's `dilations`, and its IR version.
  public static let dilatedAveragePoolOpset: Int64 = 19
  public static let dilatedAveragePoolIRVersion: Int64 = 9
  /// The name of the symbolic batch dimension.
  public static let batch = "N"
}

extension ONNXVersion {
  /// The opset and IR version an export of `graph` writes: 17 and 8, or 19 and 9 when an
  /// average pool is dilated.
  public static func versions(_ graph: Graph, _ shapes: Shapes) -> (opset: Int64, ir: Int64) {
    let dilated = graph.layers.contains { $0.op == .avgpool && shapes.nodes[$0.id].window?.dilation.contains { $0 != 1 } == true }
    return dilated ? (dilatedAveragePoolOpset, dilatedAveragePoolIRVersion) : (opset, irVersion)
  }
}

/// Exports a graph with bound weights as an ONNX model: NCHW tensors with a symbolic batch
/// in front, weights as initializers named `LAYER.KIND`, each node named after its layer.
public enum ONNXExport {
  /// The model's serialized bytes. Every op exports; a layer in a form ONNX export cannot
  /// express (a tied LINEAR over an image's channels) is an error at its head word.
  public static func model(
    _ graph: Graph, _ shapes: Shapes, parameters: [LayerParameters<Float>?], symbolic: SymbolicAnalysis? = nil
  ) throws(DiagnosticError) -> Onnx_ModelProto {
    let (opsetVersion, irVersion) = ONNXVersion.versions(graph, shapes)
    var builder = ONNXGraphBuilder(graph: graph, shapes: shapes, parameters: parameters, symbolic: symbolic, opset: opsetVersion)
    let body = try builder.build()
    var model = Onnx_ModelProto()
    model.irVersion = irVersion
    model.producerName = "netc"
    model.producerVersion = "0.1.0"
    var opset = Onnx_OperatorSetIdProto()
    opset.domain = ""
    opset.version = opsetVersion
    model.opsetImport = [opset]
    model.graph = body
    model.metadataProps = builder.metadata.map { key, value in
      var entry = Onnx_StringStringEntryProto()
      entry.key = key
      entry.value = value
      return entry
    }
    return model
  }

  /// `model` serialized; the same graph and weights give the same bytes.
  public static func bytes(
    _ graph: Graph, _ shapes: Shapes, parameters: [LayerParameters<Float>?], symbolic: SymbolicAnalysis? = nil
  ) throws(DiagnosticError) -> [UInt8] {
    let m = try model(graph, shapes, parameters: parameters, symbolic: symbolic)
    do {
      let data: Data = try m.serializedBytes()
      return [UInt8](data)
    } catch {
      throw DiagnosticError([.error(.io, "cannot serialize the ONNX model: \(error)", at: nil)])
    }
  }
}
