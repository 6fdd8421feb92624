import NetcDiagnostics
import NetcIR

extension TensorLiteral {
  /// The tensor a YAML node writes: a plain number gives a scalar (shape `[]`), nested lists
  /// give their nesting as the shape. Ragged lists and non-numbers become its `problem`, at
  /// their node.
  public init(_ node: YAMLNode) {
    let shape = Self.shapeOf(node)
    var reader = Reader(shape: shape)
    // A literal of n numbers has at least n nodes: a ragged nesting whose first items
    // multiply to more reserves no more than the nodes there are.
    let (product, overflow) = shape.reduce((1, false)) { acc, n in
      let (p, o) = acc.0.multipliedReportingOverflow(by: n)
      return (p, acc.1 || o)
    }
    if !overflow && product <= node.expandedSize { reader.values.reserveCapacity(product) }
    do { try reader.collect(node, depth: 0) } catch { reader.problem = error }
    self.init(shape: shape, values: reader.values, problem: reader.problem, beyondFP32: reader.beyondFP32)
  }

  /// A number from a plain scalar: integers, decimals, exponents, `.inf`, `.nan`.
  public static func number(_ node: YAMLNode) -> Double? {
    guard node.isPlainScalar, let text = node.scalar else { return nil }
    switch text.lowercased() {
    case ".inf", "+.inf": return .infinity
    case "-.inf": return -.infinity
    case ".nan": return .nan
    default: return Double(text)
    }
  }

  static func shapeOf(_ node: YAMLNode) -> [Int] {
    var shape: [Int] = []
    var n = node
    while let items = n.sequence {
      shape.append(items.count)
      guard let first = items.first else { break }
      n = first
    }
    return shape
  }

  /// Reads the numbers depth first, stopping at the first problem.
  private struct Reader {
    let shape: [Int]
    var values: [Double] = []
    var problem: Diagnostic?
    var beyondFP32: Narrowing?

    init(shape: [Int]) { self.shape = shape }

    mutating func collect(_ node: YAMLNode, depth: Int) throws(Diagnostic) {
      if depth == shape.count {
        guard let v = TensorLiteral.number(node) else {
          throw .error(.wrongType, "expected a number, got \(node.kindDescription)", at: node.range)
        }
        if beyondFP32 == nil, v.isFinite, !Float(v).isFinite {
          beyondFP32 = Narrowing(index: values.count, value: v, text: node.scalar ?? "this number", range: node.range)
        }
        values.append(v)
        return
      }
      guard let items = node.sequence else {
        throw .error(
          .weightShape, "ragged nesting: expected a list of \(shape[depth]) at depth \(depth + 1), got \(node.kindDescription)",
          at: node.range)
      }
      guard items.count == shape[depth] else {
        throw .error(
          .weightShape, "ragged nesting: this list has \(items.count) items, its first sibling has \(shape[depth])", at: node.range)
      }
      for item in items { try collect(item, depth: depth + 1) }
    }
  }
}
