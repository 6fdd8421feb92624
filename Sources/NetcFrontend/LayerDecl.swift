import NetcDiagnostics
import NetcIR

/// One piece of a value as written: `2` of `stride 2,1`, `1:2` of `pad 1:2`, a YAML scalar.
struct ValueItem: Sendable {
  /// The text, e.g. `3`, `$k`, `${2*c}`, `same`, `1:2`.
  var text: String
  /// Where it was written.
  var range: SourceRange
}

/// An option of a layer (`stride 2,1`) with every item of its value.
struct OptionEntry: Sendable {
  /// The option's key, lower case.
  var key: String
  /// Where the key was written.
  var keyRange: SourceRange
  /// The value's items (several for per-axis values).
  var items: [ValueItem]
}

/// A layer as written, in either form, before its values are resolved in a scope.
struct LayerDecl: Sendable {
  /// The layer kind.
  var op: LayerOp
  /// The kernel extents as written (`3x5` gives two).
  var kernel: [ValueItem] = []
  /// The count (filters, units, multiplier) as written.
  var count: ValueItem?
  /// The options in the order written.
  var options: [OptionEntry] = []
  /// The asserted output shape's text and where it was written.
  var expect: ValueItem?
  /// Asserted figures (`expect: { params: 3620 }`).
  var figures: [FigureExpectation] = []
  /// The whole layer.
  var range: SourceRange
  /// The head word (`CONV3-20`) or longhand key.
  var headRange: SourceRange

  /// The option with `key`, if given.
  func option(_ key: String) -> OptionEntry? { options.first { $0.key == key } }
}

extension SourceRange {
  /// The same range moved by whole lines and columns, for a parse reused at another place.
  func shifted(lines: Int, columns: Int) -> SourceRange {
    SourceRange(
      file: file, start: SourceLocation(line: start.line + lines, column: start.column + columns),
      end: SourceLocation(line: end.line + lines, column: end.column + columns))
  }
}

extension LayerDecl {
  /// The declaration with every range moved, as if parsed `lines` and `columns` further on.
  func shifted(lines: Int, columns: Int) -> LayerDecl {
    func move(_ item: ValueItem) -> ValueItem {
      ValueItem(text: item.text, range: item.range.shifted(lines: lines, columns: columns))
    }
    var d = self
    d.kernel = kernel.map(move)
    d.count = count.map(move)
    d.expect = expect.map(move)
    d.options = options.map {
      OptionEntry(key: $0.key, keyRange: $0.keyRange.shifted(lines: lines, columns: columns), items: $0.items.map(move))
    }
    d.range = range.shifted(lines: lines, columns: columns)
    d.headRange = headRange.shifted(lines: lines, columns: columns)
    return d
  }
}
