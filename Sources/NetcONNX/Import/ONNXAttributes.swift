/// A node's attributes by name, with ONNX's defaults left to the caller.
struct ONNXAttributes {
  private var byName: [String: Onnx_AttributeProto] = [:]

  init(_ node: Onnx_NodeProto) {
    for a in node.attribute { byName[a.name] = a }
  }

  func int(_ key: String) -> Int? { byName[key].map { Int(clamping: $0.i) } }
  func ints(_ key: String) -> [Int]? { byName[key].map { $0.ints.map { Int(clamping: $0) } } }
  func float(_ key: String) -> Float? { byName[key].map(\.f) }
  func string(_ key: String) -> String? { byName[key].map { String(decoding: $0.s, as: UTF8.self) } }
  func tensor(_ key: String) -> Onnx_TensorProto? { byName[key].flatMap { $0.hasT ? $0.t : nil } }
  func has(_ key: String) -> Bool { byName[key] != nil }
}
