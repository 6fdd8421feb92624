import NetcDiagnostics
import NetcIR

/// The spec's inputs: one `input:` shape, or several named ones under `inputs:`, and the
/// `from: NAME` items that start a chain of layers at a named input.
extension SpecLowering {
  /// The most inputs one spec may name.
  static let maxInputs = 64

  /// One input shape: `32x32x3`, `$T x 512`, or token ids `1024 tokens`.
  func inputShape(_ value: YAMLNode, scope: Scope) throws(DiagnosticError) -> (shape: [SymValue], tokens: Bool) {
    var items = try ShapeSyntax.items(of: value, what: "the input shape")
    var tokens = false
    // `1024 tokens`, `$T tokens`: token ids, one extent, the length.
    if items.count == 1, let last = items[0].text.split(separator: " ").last, last.lowercased() == "tokens" {
      let text = String(items[0].text.dropLast(last.count)).trimmingSpaces
      guard !text.isEmpty else {
        throw DiagnosticError([.error(.invalidValue, "expected the number of tokens, as in `input: 1024 tokens`", at: items[0].range)])
      }
      items = [ValueItem(text: text, range: items[0].range.slice(offset: 0, length: text.unicodeScalars.count))]
      tokens = true
    }
    var shape: [SymValue] = []
    for item in items {
      let v = try intValue(item, scope: scope, what: "an input extent")
      if let c = v.expr.constant, c < 1 {
        throw DiagnosticError([.error(.invalidValue, "an input extent must be at least 1, got \(c)", at: v.range)])
      }
      shape.append(v)
    }
    if shape.count > 4 {
      throw DiagnosticError([.error(.invalidValue, "an input has at most 4 axes (D x H x W x C), got \(shape.count)", at: value.range)])
    }
    return (shape, tokens)
  }

  /// `inputs: {src: $S tokens, tgt: $T tokens}`: each name with its shape, in the order
  /// written. The first is node 0, which the layers read first.
  func lowerInputs(_ value: YAMLNode, scope: inout Scope) throws(DiagnosticError) {
    guard let pairs = value.mapping else {
      throw DiagnosticError([
        .error(
          .wrongType,
          "`inputs` is a mapping of names to shapes, such as `{src: $S tokens, tgt: $T tokens}`, found \(value.kindDescription)",
          at: value.range)
      ])
    }
    guard !pairs.isEmpty else {
      throw DiagnosticError([
        .error(.wrongType, "`inputs` names no input: give at least one, such as `{src: $S tokens, tgt: $T tokens}`", at: value.range)
      ])
    }
    guard pairs.count <= Self.maxInputs else {
      throw DiagnosticError([
        .error(.sizeLimit, "`inputs` names \(pairs.count) inputs; netc accepts at most \(Self.maxInputs)", at: value.range)
      ])
    }
    var errors: [Diagnostic] = []
    for pair in pairs {
      do throws(DiagnosticError) {
        guard let key = pair.key.scalar else {
          throw DiagnosticError([.error(.wrongType, "an input's name is a word, found \(pair.key.kindDescription)", at: pair.key.range)])
        }
        let name = try validName(ValueItem(text: key, range: pair.key.range))
        if let previous = namedInputs.first(where: { $0.name == name }) {
          throw DiagnosticError([
            .error(
              .duplicateName, "the input `\(name)` is named twice", at: pair.key.range,
              notes: [.init("first named here", at: previous.range)])
          ])
        }
        let (shape, tokens) = try inputShape(pair.value, scope: scope)
        namedInputs.append(GraphInput(name: name, shape: shape, tokens: tokens, node: namedInputs.isEmpty ? 0 : -1, range: pair.key.range))
        // Input names are names of the top scope: a layer may not take one, and `cross`
        // or `tie` may name one.
        scope.names[name] = pair.key.range
      } catch {
        errors += error.diagnostics
      }
    }
    if !errors.isEmpty { throw DiagnosticError(errors) }
  }

  /// `- from: tgt`: the layers after it read the input `tgt` instead of the layer before.
  /// Returns the input's node, made at its first `from:`.
  func lowerFrom(_ pair: YAMLPair, scope: Scope) throws(DiagnosticError) -> Int {
    guard let text = pair.value.scalar?.trimmingSpaces, !text.isEmpty else {
      throw DiagnosticError([
        .error(
          .wrongType, "`from` names one of the spec's `inputs`, such as `from: tgt`, found \(pair.value.kindDescription)",
          at: pair.value.range)
      ])
    }
    guard !namedInputs.isEmpty else {
      throw DiagnosticError([
        .error(
          .invalidValue, "`from: \(text.prefix(40))` needs named inputs: this spec has one `input`", at: pair.key.range,
          notes: [
            .init(
              "name several under `inputs:`, such as `inputs: {src: $S tokens, tgt: $T tokens}`, and start each one's layers with `from: NAME`"
            )
          ])
      ])
    }
    guard scope.depth == 0 else {
      throw DiagnosticError([
        .error(
          .invalidValue, "`from` starts a chain of layers at the top level of `layers`, not inside a structure", at: pair.key.range,
          notes: [.init("a structure reads the layer before it; put `from: \(text.prefix(40))` before the structure")])
      ])
    }
    guard let index = namedInputs.firstIndex(where: { $0.name == text }) else {
      var notes: [Diagnostic.Note] = []
      if let guess = closestMatch(to: text, in: namedInputs.map(\.name)) {
        notes.append(.init("did you mean `\(guess)`?", at: pair.value.range))
      }
      notes.append(.init("the inputs are \(namedInputs.map { "`\($0.name)`" }.joined(separator: ", "))"))
      throw DiagnosticError([.error(.undefinedVar, "no input is named `\(text.prefix(40))`", at: pair.value.range, notes: notes)])
    }
    if namedInputs[index].node >= 0 { return namedInputs[index].node }
    let id = try emit(namedInputs[index].name, .input, inputs: [], Attributes(), range: pair.value.range, head: pair.key.range, depth: 0)
    namedInputs[index].node = id
    return id
  }

  /// Every named input is read by some layer: an input nothing reads would be a tensor the
  /// caller must give (to `run`, to an exported graph) that changes nothing, which is a
  /// mistake in the spec (a `from:` left out or misplaced), not a choice.
  func checkInputsRead() {
    for input in namedInputs {
      let read = input.node >= 0 && nodes.contains { $0.inputs.contains(input.node) }
      guard !read else { continue }
      record(
        .error(
          .invalidValue, "no layer reads the input `\(input.name)`", at: input.range,
          notes: [
            .init(
              input.node == 0
                ? "the layers read the first input until a `from:`; put the layers that read `\(input.name)` first"
                : "start the layers that read it with `- from: \(input.name)`")
          ]))
    }
  }
}
