import NetcDiagnostics
import NetcIR

/// Reads `expect:` as a mapping: `{ shape: 6x6x20, params: 3620, macs: "810 * 66 * 66 * 96" }`.
/// A figure is a number (`3,620`, `3620`) or the writer's arithmetic, with or without its
/// result (`"9 x 9 x 10 x 96 + 96 = 77,856"`); `x`, `×` and `·` multiply.
enum FigureExpectationSyntax {
  /// The asserted shape (`shape:`, or `output:` at the top level) and figures of `pairs`.
  static func parse(_ pairs: [YAMLPair], shapeKey: String) throws(DiagnosticError) -> (shape: YAMLNode?, figures: [FigureExpectation]) {
    var shape: YAMLNode?
    var figures: [FigureExpectation] = []
    for pair in pairs {
      let key = pair.key.scalar?.lowercased() ?? ""
      if key == shapeKey {
        shape = pair.value
        continue
      }
      guard let figure = Figure(rawValue: key) else {
        var notes: [Diagnostic.Note] = []
        if let guess = closestMatch(to: key, in: [shapeKey] + Figure.allCases.map(\.rawValue)) {
          notes.append(.init("did you mean `\(guess)`?", at: pair.key.range))
        }
        notes.append(.init("`expect` takes `\(shapeKey)`, \(Figure.allCases.map { "`\($0.rawValue)`" }.joined(separator: ", "))"))
        throw DiagnosticError([
          .error(.unknownKey, "unknown figure `\(pair.key.scalar ?? "?")` in `expect`", at: pair.key.range, notes: notes)
        ])
      }
      guard figures.allSatisfy({ $0.figure != figure }) else {
        throw DiagnosticError([.error(.duplicateKey, "`\(key)` is expected twice", at: pair.key.range)])
      }
      figures.append(try value(pair.value, figure: figure))
    }
    return (shape, figures)
  }

  /// One figure's value.
  static func value(_ node: YAMLNode, figure: Figure) throws(DiagnosticError) -> FigureExpectation {
    guard let raw = node.scalar, !raw.trimmingSpaces.isEmpty else {
      throw DiagnosticError([
        .error(.wrongType, "expected a number or arithmetic such as \"3*3*10*20 + 20\" for `\(figure.rawValue)`", at: node.range)
      ])
    }
    let text = normalized(raw)
    func evaluate(_ part: String) throws(DiagnosticError) -> Int {
      let expr = try IntegerExpression.parse(part, at: node.range) { (name, range) throws(DiagnosticError) in
        throw DiagnosticError([.error(.invalidValue, "`\(name)`: an expected figure is written in numbers", at: range)])
      }
      do { return try expr.evaluate([:]) } catch {
        let why = error == .divisionByZero ? "divides by zero" : "overflows 64-bit integers"
        throw DiagnosticError([.error(.overflow, "the expected \(figure.title) `\(raw.trimmingSpaces)` \(why)", at: node.range)])
      }
    }
    let sides = text.split(separator: "=", omittingEmptySubsequences: false).map { String($0).trimmingSpaces }
    guard sides.count <= 2, !sides.contains(where: \.isEmpty) else {
      throw DiagnosticError([
        .error(.invalidValue, "expected `arithmetic = result` or one of them for `\(figure.rawValue)`", at: node.range)
      ])
    }
    let isNumber = sides[0].allSatisfy(\.isNumber)
    if sides.count == 1 && isNumber {
      return FigureExpectation(figure: figure, value: try evaluate(sides[0]), range: node.range)
    }
    let computed = try evaluate(sides[0])
    let claimed = sides.count == 2 ? try evaluate(sides[1]) : computed
    return FigureExpectation(
      figure: figure, value: claimed, expression: raw.split(separator: "=").first.map { String($0).trimmingSpaces },
      expressionValue: computed == claimed ? nil : computed, range: node.range)
  }

  /// The text with thousands separators dropped and every way of writing "times" as `*`.
  static func normalized(_ raw: String) -> String {
    let chars = Array(raw.trimmingSpaces)
    var out = ""
    for (i, ch) in chars.enumerated() {
      let before = chars[..<i].last { $0 != " " }, after = chars[(i + 1)...].first { $0 != " " }
      let between = (before?.isNumber ?? false || before == ")") && (after?.isNumber ?? false || after == "(")
      switch ch {
      case ","
      where i > 0 && chars[i - 1].isNumber && i + 3 < chars.count && chars[(i + 1)...(i + 3)].allSatisfy(\.isNumber)
        && (i + 4 == chars.count || !chars[i + 4].isNumber):
        continue
      case "_" where i > 0 && chars[i - 1].isNumber: continue
      case "×", "·", "⋅": out.append("*")
      case "x" where between, "X" where between: out.append("*")
      default: out.append(ch)
      }
    }
    return out
  }
}
