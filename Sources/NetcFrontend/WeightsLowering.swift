import NetcDiagnostics
import NetcIR

extension WeightsDecl {
  /// A `weights:` mapping as written: names and keys with their ranges, and each value a
  /// tensor literal, or a path when it is a string that is not a number.
  public init(_ root: YAMLNode) {
    let layers = root.mapping?.map { pair in
      WeightsDecl.Layer(
        name: pair.key.scalar ?? "", nameRange: pair.key.range,
        tensors: pair.value.mapping?.map { entry in
          let value = entry.value
          let lowered: Entry.Value
          if let path = value.scalar, TensorLiteral.number(value) == nil {
            lowered = .file(path)
          } else {
            lowered = .literal(TensorLiteral(value))
          }
          return Entry(key: entry.key.scalar ?? "", keyRange: entry.key.range, value: lowered, range: value.range)
        },
        written: Written(pair.value))
    }
    self.init(layers: layers, written: Written(root))
  }
}

extension WeightsDecl.Written {
  /// What `node` was written as.
  init(_ node: YAMLNode) { self.init(kind: node.kindDescription, range: node.range) }
}
