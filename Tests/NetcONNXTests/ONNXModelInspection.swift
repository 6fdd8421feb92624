import Foundation
import NetcONNX

/// Reading an exported model back in tests: nodes, attributes, initializers and shapes by name.

/// The node named `name`.
func node(_ m: Onnx_ModelProto, _ name: String) -> Onnx_NodeProto? { m.graph.node.first { $0.name == name } }

/// An integer attribute's values (one for an `int`, the list for `ints`), or none.
func ints(_ node: Onnx_NodeProto?, _ name: String) -> [Int64] {
  guard let a = node?.attribute.first(where: { $0.name == name }) else { return [] }
  return a.type == .int ? [a.i] : a.ints
}

/// The initializer named `name`.
func initializer(_ m: Onnx_ModelProto, _ name: String) -> Onnx_TensorProto? { m.graph.initializer.first { $0.name == name } }

/// A float tensor's raw data.
func floats(_ t: Onnx_TensorProto?) -> [Float] {
  guard let t else { return [] }
  return t.rawData.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
}

/// A value's dims: a symbol's name, a number, or `?`.
func dims(_ v: Onnx_ValueInfoProto) -> [String] {
  v.type.tensorType.shape.dim.map { d in
    switch d.value {
    case .dimParam(let p): p
    case .dimValue(let n): String(n)
    case nil: "?"
    }
  }
}
