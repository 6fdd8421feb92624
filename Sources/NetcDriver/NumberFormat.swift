/// Numbers for people: grouped digits and scaled figures.
enum NumberFormat {
  /// `25557032` as `25,557,032`.
  static func grouped(_ n: Int) -> String {
    let digits = Array(String(n.magnitude))
    var out = ""
    for (i, d) in digits.enumerated() {
      if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
      out.append(d)
    }
    return n < 0 ? "-" + out : out
  }

  /// `25557032` as `25.56M`; below 1,000 the number itself. Decimal suffixes K, M, G, T.
  static func scaled(_ n: Int) -> String {
    let m = n.magnitude
    guard m >= 1000 else { return String(n) }
    let units: [(UInt, String)] = [
      (1_000_000_000_000_000, "P"), (1_000_000_000_000, "T"), (1_000_000_000, "G"), (1_000_000, "M"), (1_000, "K"),
    ]
    for (scale, suffix) in units where m >= scale {
      return (n < 0 ? "-" : "") + fixed(Double(m) / Double(scale), digits: 2) + suffix
    }
    return String(n)
  }

  /// Bytes in binary units: `97.07 KiB`.
  static func bytes(_ n: Int) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
    var value = Double(n)
    var unit = 0
    while value >= 1024 && unit < units.count - 1 {
      value /= 1024
      unit += 1
    }
    return unit == 0 ? "\(n) B" : fixed(value, digits: 2) + " " + units[unit]
  }

  /// A ratio: `0.136x`, `7.35x`.
  static func ratio(_ a: Int, over b: Int) -> String {
    // 0/0 and n/0 have no ratio; a dash says so rather than inventing one.
    guard b != 0 else { return "-" }
    let r = Double(a) / Double(b)
    return fixed(r, digits: r < 10 ? 3 : 1) + "x"
  }

  /// A percentage with one decimal: `80.6%`.
  static func percent(_ part: Int, of whole: Int) -> String {
    guard whole > 0 else { return "" }
    return fixed(100 * Double(part) / Double(whole), digits: 1) + "%"
  }

  /// `value` with exactly `digits` decimals, rounded half away from zero; no Foundation.
  static func fixed(_ value: Double, digits: Int) -> String {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let scaled = (abs(value) * scale).rounded(.toNearestOrAwayFromZero)
    guard scaled < 9e18 else { return String(value) }
    let whole = Int(scaled)
    let p = Int(scale)
    var frac = String(whole % p)
    while frac.count < digits { frac = "0" + frac }
    let sign = value < 0 && whole != 0 ? "-" : ""
    return digits == 0 ? sign + String(whole) : sign + String(whole / p) + "." + frac
  }
}
