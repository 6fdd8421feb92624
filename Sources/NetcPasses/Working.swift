import NetcIR

/// What a factor of a figure stands for: the mistakes a person makes are named by it.
public enum FactorRole: Hashable, Sendable {
  /// A kernel extent along a spatial axis.
  case kernel(axis: Int)
  /// The input channels one filter reads (`Cin / groups`).
  case inChannels
  /// Output channels: the filters, units or width.
  case outChannels
  /// An output extent along a spatial axis (or the positions of a sequence).
  case outExtent(axis: Int)
  /// An input extent (a transposed conv's MACs run over them).
  case inExtent(axis: Int)
  /// Anything else (heads, head width, a constant 2).
  case other
}

/// One factor of a figure in a layer's numbers.
public typealias WorkingFactor = WorkingFactorOf<Int>
/// A summand of a figure in a layer's numbers.
public typealias WorkingTerm = WorkingTermOf<Int>
/// A figure's working in a layer's numbers.
public typealias Working = WorkingOf<Int>
/// A layer's working in its numbers.
public typealias LayerWorking = LayerWorkingOf<Int>
/// An output extent's working in a layer's numbers.
public typealias ExtentWorking = ExtentWorkingOf<Int>
/// A layer's working with vars left free: the values are expressions in them.
public typealias SymbolicLayerWorking = LayerWorkingOf<SymExpr>

/// One factor of a figure: its value, its symbol in the formula and what it is. The value
/// is a number, or an expression in the spec's free vars.
public struct WorkingFactorOf<N: RuleNumber>: Hashable, Sendable {
  /// The value.
  public var value: N
  /// The symbol in the formula (`kh`, `Cin`, `Hout`).
  public var symbol: String
  /// The role, for naming mistakes.
  public var role: FactorRole
  /// The words for it in a message (`filters`, `input channels`).
  public var meaning: String
  /// How the value is written when it is not a plain number (`32/4` for grouped channels).
  public var text: String?
  /// The group it is printed in (`per output`, `positions`, `filters`); nil for none.
  public var segment: String?

  /// Creates a factor.
  public init(_ value: N, _ symbol: String, _ role: FactorRole, _ meaning: String, text: String? = nil, segment: String? = nil) {
    self.value = value
    self.symbol = symbol
    self.role = role
    self.meaning = meaning
    self.text = text
    self.segment = segment
  }
}

/// A product of factors, one summand of a figure (`3*3*10*20` weights, `20` bias).
public struct WorkingTermOf<N: RuleNumber>: Hashable, Sendable {
  /// The factors; none is the constant 1.
  public var factors: [WorkingFactorOf<N>]
  /// What the term counts (`weights`, `bias`, `gamma and beta`).
  public var meaning: String

  /// Creates a term.
  public init(_ factors: [WorkingFactorOf<N>], _ meaning: String) {
    self.factors = factors
    self.meaning = meaning
  }

  /// The product, or nil on overflow.
  public var value: N? { factors.map(\.value).ruleProduct().value?.normalized }
}

/// How a figure of a layer is computed: a sum of products, with each factor named.
public struct WorkingOf<N: RuleNumber>: Hashable, Sendable {
  /// The figure.
  public var figure: Figure
  /// The summands.
  public var terms: [WorkingTermOf<N>]
  /// A remark that belongs to the formula (`depthwise: each filter reads one channel`).
  public var remark: String?

  /// Creates a working.
  public init(_ figure: Figure, _ terms: [WorkingTermOf<N>], remark: String? = nil) {
    self.figure = figure
    self.terms = terms
    self.remark = remark
  }

  /// The sum of the terms, or nil on overflow.
  public var value: N? {
    var s = N.constant(0)
    for t in terms {
      guard let v = t.value, let next = s.plus(v) else { return nil }
      s = next
    }
    return s.normalized
  }

  /// The formula in symbols: `kh*kw*Cin*Cout + Cout`.
  public var formula: String { render { $0.symbol } }

  /// The formula in the layer's numbers: `3*3*10*20 + 20`.
  public var arithmetic: String { render { $0.text.map { "(\($0))" } ?? $0.value.factorText } }

  /// Each term in the layer's numbers with what it counts (`query projection`), for a sum
  /// of several kinds of term.
  public var labelledTerms: [(meaning: String, arithmetic: String, value: N?)] {
    terms.map { ($0.meaning, WorkingOf(figure, [$0]).arithmetic, $0.value) }
  }

  private func render(_ factor: (WorkingFactorOf<N>) -> String) -> String {
    guard !terms.isEmpty else { return "0" }
    return terms.map { term in
      guard !term.factors.isEmpty else { return "1" }
      var parts: [String] = []
      var run: [WorkingFactorOf<N>] = []
      func flush() {
        guard let first = run.first else { return }
        let product = run.map(factor).joined(separator: "*")
        if let segment = first.segment {
          parts.append((run.count > 1 && segment == "per output" ? "(\(product))" : product) + " " + segment)
        } else {
          parts.append(product)
        }
        run = []
      }
      for f in term.factors {
        if let last = run.last, last.segment != f.segment { flush() }
        run.append(f)
      }
      flush()
      return parts.joined(separator: term.factors.contains { $0.segment != nil } ? " x " : "*")
    }.joined(separator: " + ")
  }
}

/// How a spatial output extent is computed: `floor((16 + 2*2 - 3) / 3) + 1 = 6`.
public struct ExtentWorkingOf<N: RuleNumber>: Hashable, Sendable {
  /// The axis's name (`height`).
  public var axis: String
  /// The formula in the layer's numbers, with its result.
  public var arithmetic: String
  /// The formula in symbols.
  public var formula: String
  /// The extent.
  public var value: N
}

/// A layer's working: its output extents and each of its figures.
public struct LayerWorkingOf<N: RuleNumber>: Hashable, Sendable {
  /// The node's id.
  public var node: Int
  /// The output extents of a windowed op, one per spatial axis.
  public var extents: [ExtentWorkingOf<N>]
  /// The figures the layer has (none for an activation).
  public var figures: [WorkingOf<N>]
  /// Why it has none, in words (`an elementwise activation: no params, no MACs`).
  public var remark: String?

  /// Creates a layer's working.
  public init(node: Int, extents: [ExtentWorkingOf<N>], figures: [WorkingOf<N>], remark: String?) {
    (self.node, self.extents, self.figures, self.remark) = (node, extents, figures, remark)
  }

  /// The working of `figure`, if the layer has it.
  public func working(_ figure: Figure) -> WorkingOf<N>? { figures.first { $0.figure == figure } }
}
