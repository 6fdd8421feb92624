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

/// One factor of a figure: its value, its symbol in the formula and what it is.
public struct WorkingFactor: Hashable, Sendable {
  /// The value.
  public var value: Int
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
  public init(_ value: Int, _ symbol: String, _ role: FactorRole, _ meaning: String, text: String? = nil, segment: String? = nil) {
    self.value = value
    self.symbol = symbol
    self.role = role
    self.meaning = meaning
    self.text = text
    self.segment = segment
  }
}

/// A product of factors, one summand of a figure (`3*3*10*20` weights, `20` bias).
public struct WorkingTerm: Hashable, Sendable {
  /// The factors; none is the constant 1.
  public var factors: [WorkingFactor]
  /// What the term counts (`weights`, `bias`, `gamma and beta`).
  public var meaning: String

  /// Creates a term.
  public init(_ factors: [WorkingFactor], _ meaning: String) {
    self.factors = factors
    self.meaning = meaning
  }

  /// The product, or nil on overflow.
  public var value: Int? {
    var p = 1
    for f in factors {
      let (r, o) = p.multipliedReportingOverflow(by: f.value)
      if o { return nil }
      p = r
    }
    return p
  }
}

/// How a figure of a layer is computed: a sum of products, with each factor named.
public struct Working: Hashable, Sendable {
  /// The figure.
  public var figure: Figure
  /// The summands.
  public var terms: [WorkingTerm]
  /// A remark that belongs to the formula (`depthwise: each filter reads one channel`).
  public var remark: String?

  /// Creates a working.
  public init(_ figure: Figure, _ terms: [WorkingTerm], remark: String? = nil) {
    self.figure = figure
    self.terms = terms
    self.remark = remark
  }

  /// The sum of the terms, or nil on overflow.
  public var value: Int? {
    var s = 0
    for t in terms {
      guard let v = t.value else { return nil }
      let (r, o) = s.addingReportingOverflow(v)
      if o { return nil }
      s = r
    }
    return s
  }

  /// The formula in symbols: `kh*kw*Cin*Cout + Cout`.
  public var formula: String { render { $0.symbol } }

  /// The formula in the layer's numbers: `3*3*10*20 + 20`.
  public var arithmetic: String { render { $0.text.map { "(\($0))" } ?? String($0.value) } }

  private func render(_ factor: (WorkingFactor) -> String) -> String {
    guard !terms.isEmpty else { return "0" }
    return terms.map { term in
      guard !term.factors.isEmpty else { return "1" }
      var parts: [String] = []
      var run: [WorkingFactor] = []
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
public struct ExtentWorking: Hashable, Sendable {
  /// The axis's name (`height`).
  public var axis: String
  /// The formula in the layer's numbers, with its result.
  public var arithmetic: String
  /// The formula in symbols.
  public var formula: String
  /// The extent.
  public var value: Int
}

/// A layer's working: its output extents and each of its figures.
public struct LayerWorking: Hashable, Sendable {
  /// The node's id.
  public var node: Int
  /// The output extents of a windowed op, one per spatial axis.
  public var extents: [ExtentWorking]
  /// The figures the layer has (none for an activation).
  public var figures: [Working]
  /// Why it has none, in words (`an elementwise activation: no params, no MACs`).
  public var remark: String?

  /// The working of `figure`, if the layer has it.
  public func working(_ figure: Figure) -> Working? { figures.first { $0.figure == figure } }
}
