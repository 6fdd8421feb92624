import NetcIR

/// A `SymExpr` compiled for the solver's inner loop: vars are slots of an array, so
/// evaluating needs no dictionary and no allocation.
indirect enum SlotExpr: Sendable {
  case const(Int)
  case slot(Int)
  case add(SlotExpr, SlotExpr)
  case sub(SlotExpr, SlotExpr)
  case mul(SlotExpr, SlotExpr)
  case floorDiv(SlotExpr, SlotExpr)
  case mod(SlotExpr, SlotExpr)
  case neg(SlotExpr)

  /// The value of a slot that holds no value yet.
  static let unbound = Int.min

  /// Compiles `expr`, mapping each var to its slot.
  init(_ expr: SymExpr, slots: [String: Int]) {
    switch expr {
    case .const(let v): self = .const(v)
    case .variable(let n): self = .slot(slots[n]!)
    case .add(let a, let b): self = .add(SlotExpr(a, slots: slots), SlotExpr(b, slots: slots))
    case .sub(let a, let b): self = .sub(SlotExpr(a, slots: slots), SlotExpr(b, slots: slots))
    case .mul(let a, let b): self = .mul(SlotExpr(a, slots: slots), SlotExpr(b, slots: slots))
    case .floorDiv(let a, let b): self = .floorDiv(SlotExpr(a, slots: slots), SlotExpr(b, slots: slots))
    case .mod(let a, let b): self = .mod(SlotExpr(a, slots: slots), SlotExpr(b, slots: slots))
    case .neg(let a): self = .neg(SlotExpr(a, slots: slots))
    }
  }

  /// The value with slots from `env`; nil when a slot is unbound, on overflow or
  /// division by zero.
  func evaluate(_ env: [Int]) -> Int? {
    switch self {
    case .const(let v): return v
    case .slot(let i):
      let v = env[i]
      return v == SlotExpr.unbound ? nil : v
    case .neg(let a):
      guard let x = a.evaluate(env) else { return nil }
      let (r, o) = 0.subtractingReportingOverflow(x)
      return o ? nil : r
    case .add(let a, let b):
      guard let x = a.evaluate(env), let y = b.evaluate(env) else { return nil }
      let (r, o) = x.addingReportingOverflow(y)
      return o ? nil : r
    case .sub(let a, let b):
      guard let x = a.evaluate(env), let y = b.evaluate(env) else { return nil }
      let (r, o) = x.subtractingReportingOverflow(y)
      return o ? nil : r
    case .mul(let a, let b):
      guard let x = a.evaluate(env), let y = b.evaluate(env) else { return nil }
      let (r, o) = x.multipliedReportingOverflow(by: y)
      return o ? nil : r
    case .floorDiv(let a, let b):
      guard let x = a.evaluate(env), let y = b.evaluate(env), y != 0, !(x == .min && y == -1) else { return nil }
      return SymExpr.floorDivide(x, y)
    case .mod(let a, let b):
      guard let x = a.evaluate(env), let y = b.evaluate(env), y != 0 else { return nil }
      if x == .min && y == -1 { return 0 }
      return x - SymExpr.floorDivide(x, y) * y
    }
  }

  /// The slot, when the expression is a bare var.
  var bareSlot: Int? {
    if case .slot(let i) = self { return i }
    return nil
  }
}
