import NetcDiagnostics

/// Reads the mapping form of a layer: `conv: { kernel: 3, filters: 20, stride: 3 }`.
enum LayerLonghand {
  /// Parses the pair `key: value` whose key names the op.
  static func parse(op: LayerOp, key: YAMLNode, value: YAMLNode) throws(DiagnosticError) -> LayerDecl {
    var decl = LayerDecl(op: op, range: key.range.merged(with: value.range), headRange: key.range)
    let pairs: [YAMLPair]
    switch value.kind {
    case .mapping(let p): pairs = p
    case .scalar(let text, .plain) where text.isEmpty || text == "~" || text == "null": pairs = []
    default:
      throw DiagnosticError([
        .error(
          .wrongType, "expected the options of \(op.name.uppercased()) as a mapping, found \(value.kindDescription)",
          at: value.range,
          notes: [.init("write `\(op.name): { \(op.requiredFirstKeys.prefix(2).map { "\($0): ..." }.joined(separator: ", ")) }`")])
      ])
    }
    for pair in pairs {
      guard let k = pair.key.scalar else {
        throw DiagnosticError([.error(.wrongType, "option keys must be words", at: pair.key.range)])
      }
      let name = k.lowercased()
      let items = name == "expect" ? [] : try valueItems(pair.value, key: name)
      switch name {
      case "kernel" where op.kernel != .none: decl.kernel = items
      case op.countName where op.count != .none:
        guard items.count == 1 else {
          throw DiagnosticError([.error(.invalidValue, "`\(name)` takes one integer", at: pair.value.range)])
        }
        decl.count = items[0]
      case "expect":
        try readExpect(pair.value, into: &decl)
      default:
        guard name == "name" || op.options.contains(name) else {
          var error = LayerShorthand.unknownOption(name, of: op, at: pair.key.range)
          error.diagnostics[0].notes[error.diagnostics[0].notes.count - 1] = .init(
            "\(op.name) accepts \(op.longhandKeys.map { "`\($0)`" }.joined(separator: ", "))")
          throw error
        }
        decl.options.append(OptionEntry(key: name, keyRange: pair.key.range, items: items))
      }
    }
    if op.kernel == .required && decl.kernel.isEmpty {
      throw DiagnosticError([.error(.missingKey, "\(op.name) needs `kernel`", at: key.range)])
    }
    if op.count == .required && decl.count == nil {
      throw DiagnosticError([.error(.missingKey, "\(op.name) needs `\(op.countName)`", at: key.range)])
    }
    return decl
  }

  /// `expect:` as a shape (`6x6x20`, `[6, 6, 20]`) or a mapping of a shape and figures.
  static func readExpect(_ value: YAMLNode, into decl: inout LayerDecl) throws(DiagnosticError) {
    var shape: YAMLNode? = value
    if case .mapping(let pairs) = value.kind {
      (shape, decl.figures) = try FigureExpectationSyntax.parse(pairs, shapeKey: "shape")
    }
    guard let shape else { return }
    if let list = shape.sequence {
      decl.expect = ValueItem(text: list.map { $0.scalar ?? "?" }.joined(separator: "x"), range: shape.range)
    } else {
      decl.expect = try valueItems(shape, key: "expect").first
    }
  }

  /// A value as items: a scalar (split at commas), a list of scalars, or a list of
  /// `[begin, end]` pairs (asymmetric padding), written `begin:end`.
  static func valueItems(_ node: YAMLNode, key: String) throws(DiagnosticError) -> [ValueItem] {
    switch node.kind {
    case .scalar(let text, _):
      let trimmed = text.trimmingSpaces
      guard !trimmed.isEmpty else {
        throw DiagnosticError([.error(.invalidValue, "`\(key)` needs a value", at: node.range)])
      }
      if trimmed.hasPrefix("${") { return [ValueItem(text: trimmed, range: node.range)] }
      return trimmed.split(separator: ",").map { ValueItem(text: String($0).trimmingSpaces, range: node.range) }
    case .sequence(let items):
      guard !items.isEmpty else {
        throw DiagnosticError([.error(.invalidValue, "`\(key)` needs at least one value", at: node.range)])
      }
      var out: [ValueItem] = []
      for item in items {
        if let text = item.scalar {
          out.append(ValueItem(text: text.trimmingSpaces, range: item.range))
        } else if let pair = item.sequence, pair.count == 2, let b = pair[0].scalar, let e = pair[1].scalar {
          out.append(ValueItem(text: "\(b.trimmingSpaces):\(e.trimmingSpaces)", range: item.range))
        } else {
          throw DiagnosticError([
            .error(.wrongType, "expected a number or a `[begin, end]` pair in `\(key)`, found \(item.kindDescription)", at: item.range)
          ])
        }
      }
      return out
    case .mapping:
      throw DiagnosticError([.error(.wrongType, "expected a value for `\(key)`, found a mapping", at: node.range)])
    }
  }
}

extension String {
  /// The string without leading and trailing spaces and tabs.
  var trimmingSpaces: String {
    var s = Substring(self)
    while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
    while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
    return String(s)
  }
}

extension LayerOp {
  /// The longhand keys with the kernel and count first, for the example in a message.
  var requiredFirstKeys: [String] {
    (kernel != .none ? ["kernel"] : []) + (count != .none ? [countName] : []) + options
  }
}
