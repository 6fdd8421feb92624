import NetcIR

/// One way a person gets a figure wrong, as a change to its working.
struct Mistake {
  /// What went wrong, in words (`the 96 filters are missing`).
  var message: String
  /// Which factor or term it changes, so that two mistakes combined touch different ones.
  var slot: String
  /// The working with the mistake made.
  var apply: ([WorkingTerm]) -> [WorkingTerm]
}

/// Names the likely mistake behind `claimed`, a wrong value of `working`'s figure: one
/// or two of a factor missing or counted twice, input channels and filters swapped, the
/// bias missing or counted without one, an output extent off by one, padding counted on
/// one side only or not at all, the stride left out; or another figure of the layer given
/// instead. Returns the wrong working's arithmetic and the message, or nil when nothing
/// known explains the value.
public func nameMistake(claimed: Int, working: Working, layer: LayerWorking, node: Node, window: Window?, input: [Int]?) -> String? {
  for other in layer.figures where other.figure != working.figure && other.value == claimed && claimed != 0 {
    return "\(grouped(claimed)) is the layer's \(other.figure.title), not its \(working.figure.title)"
  }
  let mistakes = candidateMistakes(working, layer: layer, node: node, window: window, input: input)
  func check(_ chosen: [Mistake]) -> String? {
    var terms = working.terms
    for m in chosen { terms = m.apply(terms) }
    let wrong = Working(working.figure, terms)
    guard wrong.value == claimed else { return nil }
    return "\(grouped(claimed)) = \(wrong.arithmetic): " + chosen.map(\.message).joined(separator: ", and ")
  }
  // Different mistakes can give the same value (padding counted once with pad 1 is the
  // missing `+ 1`): name each, the first with its arithmetic.
  let singles = mistakes.filter { check([$0]) != nil }
  if let first = singles.first, let found = check([first]) {
    return ([found] + singles.dropFirst().prefix(2).map(\.message)).joined(separator: "; or ")
  }
  for (i, a) in mistakes.enumerated() {
    for b in mistakes[(i + 1)...] where a.slot != b.slot {
      if let found = check([a, b]) { return found }
    }
  }
  return nil
}

private func candidateMistakes(_ working: Working, layer: LayerWorking, node: Node, window: Window?, input: [Int]?) -> [Mistake] {
  var out: [Mistake] = []
  func mapFactors(_ terms: [WorkingTerm], _ change: (WorkingFactor) -> WorkingFactor?) -> [WorkingTerm] {
    terms.map { t in WorkingTerm(t.factors.compactMap(change), t.meaning) }
  }
  var seen = Set<String>()
  for term in working.terms where term.factors.count > 1 {
    for f in term.factors where seen.insert(f.symbol).inserted {
      let plural = f.meaning.hasSuffix("s") ? "are" : "is"
      out.append(
        Mistake(message: "the \(grouped(f.value)) \(f.meaning) \(plural) missing", slot: f.symbol) { terms in
          mapFactors(terms) { $0.symbol == f.symbol ? nil : $0 }
        })
      out.append(
        Mistake(message: "the \(f.meaning) counted twice", slot: f.symbol) { terms in
          terms.map { t in
            guard let i = t.factors.firstIndex(where: { $0.symbol == f.symbol }) else { return t }
            var copy = t
            copy.factors.insert(t.factors[i], at: i)
            return copy
          }
        })
    }
  }
  let all = working.terms.flatMap(\.factors)
  if let cin = all.first(where: { $0.role == .inChannels }), let cout = all.first(where: { $0.role == .outChannels }),
    cin.value != cout.value
  {
    out.append(
      Mistake(
        message: "the input has \(grouped(cin.value)) channels, not \(grouped(cout.value)) (that is the \(cout.meaning))", slot: cin.symbol
      ) { terms in
        mapFactors(terms) { $0.role == .inChannels ? WorkingFactor(cout.value, $0.symbol, $0.role, $0.meaning, segment: $0.segment) : $0 }
      })
  }
  if working.terms.count > 1 {
    for term in working.terms where term.meaning.contains("bias") {
      out.append(Mistake(message: "the \(term.meaning) is missing", slot: term.meaning) { $0.filter { $0.meaning != term.meaning } })
    }
  }
  if working.figure == .params, !node.attributes.bias, let cout = all.first(where: { $0.role == .outChannels }),
    node.op.definition.parameters.contains(where: { $0.kind == .bias })
  {
    out.append(
      Mistake(message: "a bias of \(grouped(cout.value)) is counted, but the layer has `bias false`", slot: "bias") {
        $0 + [WorkingTerm([cout], "bias")]
      })
  }
  // Output extents: off by one, padding once or not at all, the stride left out.
  let extents = all.filter { if case .outExtent = $0.role { true } else { false } }
  if !extents.isEmpty {
    let current = layer.extents.map(\.value)
    func withExtents(_ values: [Int], _ message: String) {
      guard values.count == current.count, values != current, values.allSatisfy({ $0 >= 1 }) else { return }
      out.append(
        Mistake(message: message, slot: "extents") { terms in
          mapFactors(terms) { f in
            guard case .outExtent(let axis) = f.role, axis < values.count else { return f }
            return WorkingFactor(values[axis], f.symbol, f.role, f.meaning, segment: f.segment)
          }
        })
    }
    func shape(_ values: [Int]) -> String { values.map(String.init).joined(separator: "x") }
    let real = shape(current)
    withExtents(
      current.map { $0 - 1 }, "the output is \(real), not \(shape(current.map { $0 - 1 })) (the `+ 1` of the extent formula is missing)")
    withExtents(current.map { $0 + 1 }, "the output is \(real), not \(shape(current.map { $0 + 1 }))")
    if let window, let input, window.kernel.count == current.count {
      func recomputed(_ change: (inout Window) -> Void) -> [Int] {
        var w = window
        change(&w)
        return (0..<current.count).map { w.outputExtent(input[$0], axis: $0) ?? 0 }
      }
      let once = recomputed { w in w.padEnd = w.padEnd.map { _ in 0 } }
      withExtents(once, "padding is added on both sides: the output is \(real), not \(shape(once))")
      let none = recomputed { w in
        w.padBegin = w.padBegin.map { _ in 0 }
        w.padEnd = w.padEnd.map { _ in 0 }
      }
      if none != once { withExtents(none, "the padding is left out: the output is \(real), not \(shape(none))") }
      let strideOne = recomputed { w in w.stride = w.stride.map { _ in 1 } }
      withExtents(strideOne, "the stride is left out: the output is \(real), not \(shape(strideOne))")
    }
  }
  return out
}
