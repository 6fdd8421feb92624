/// A non-negative integer of any size, for solution counts: a 20-layer chain with four
/// unknowns per layer can have more solutions than 64 bits hold.
public struct BigCount: Hashable, Sendable, Comparable, CustomStringConvertible {
  /// Base-2^32 digits, least significant first, no trailing zeros (zero is empty).
  private var limbs: [UInt32]

  /// Zero.
  public static let zero = BigCount(0)

  /// The count `n`.
  public init(_ n: UInt64) {
    limbs = []
    var n = n
    while n > 0 {
      limbs.append(UInt32(truncatingIfNeeded: n))
      n >>= 32
    }
  }

  /// True for zero.
  public var isZero: Bool { limbs.isEmpty }

  /// The value, when it fits 64 bits.
  public var uint64: UInt64? {
    guard limbs.count <= 2 else { return nil }
    var v: UInt64 = 0
    for (i, l) in limbs.enumerated() { v |= UInt64(l) << (32 * UInt64(i)) }
    return v
  }

  /// Adds `other` in place.
  public mutating func add(_ other: BigCount) {
    var carry: UInt64 = 0
    if limbs.count < other.limbs.count { limbs += Array(repeating: 0, count: other.limbs.count - limbs.count) }
    for i in 0..<limbs.count {
      let s = UInt64(limbs[i]) + (i < other.limbs.count ? UInt64(other.limbs[i]) : 0) + carry
      limbs[i] = UInt32(truncatingIfNeeded: s)
      carry = s >> 32
      if carry == 0 && i >= other.limbs.count { break }
    }
    if carry > 0 { limbs.append(UInt32(carry)) }
  }

  /// The product of two counts.
  public func multiplied(by other: BigCount) -> BigCount {
    if isZero || other.isZero { return .zero }
    var out = [UInt32](repeating: 0, count: limbs.count + other.limbs.count)
    for (i, a) in limbs.enumerated() {
      var carry: UInt64 = 0
      for (j, b) in other.limbs.enumerated() {
        let t = UInt64(a) * UInt64(b) + UInt64(out[i + j]) + carry
        out[i + j] = UInt32(truncatingIfNeeded: t)
        carry = t >> 32
      }
      var k = i + other.limbs.count
      while carry > 0 {
        let t = UInt64(out[k]) + carry
        out[k] = UInt32(truncatingIfNeeded: t)
        carry = t >> 32
        k += 1
      }
    }
    while out.last == 0 { out.removeLast() }
    var r = BigCount.zero
    r.limbs = out
    return r
  }

  public static func < (a: BigCount, b: BigCount) -> Bool {
    if a.limbs.count != b.limbs.count { return a.limbs.count < b.limbs.count }
    for i in stride(from: a.limbs.count - 1, through: 0, by: -1) where a.limbs[i] != b.limbs[i] {
      return a.limbs[i] < b.limbs[i]
    }
    return false
  }

  /// Decimal digits.
  public var description: String {
    if isZero { return "0" }
    var digits: [String] = []
    var rest = limbs
    // Repeated division by 10^9 yields nine decimal digits at a time.
    while !rest.isEmpty {
      var remainder: UInt64 = 0
      for i in stride(from: rest.count - 1, through: 0, by: -1) {
        let cur = (remainder << 32) | UInt64(rest[i])
        rest[i] = UInt32(cur / 1_000_000_000)
        remainder = cur % 1_000_000_000
      }
      while rest.last == 0 { rest.removeLast() }
      digits.append(String(remainder))
    }
    var out = digits.removeLast()
    for chunk in digits.reversed() { out += String(repeating: "0", count: 9 - chunk.count) + chunk }
    return out
  }
}
