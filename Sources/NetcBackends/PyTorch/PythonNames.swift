/// Python spellings of netc's names and numbers for the generated PyTorch source.
enum PythonNames {
  /// Python's keywords and the names the generated code itself uses, which a layer's
  /// attribute or variable must not shadow.
  static let reserved: Set<String> = [
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del", "elif",
    "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is", "lambda", "nonlocal", "not", "or",
    "pass", "raise", "return", "try", "while", "with", "yield", "self", "torch", "nn", "F", "np", "os", "block", "forward",
    "training", "rotate", "sinusoidal_positions", "load_netc_weights",
  ]

  /// A valid identifier for a netc name part: anything but letters, digits and `_`
  /// becomes `_`, a leading digit gets a `_` in front, a reserved word a `_` behind.
  static func identifier(_ name: String) -> String {
    var out = String(name.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") ? $0 : "_" })
    if out.isEmpty { out = "_" }
    if out.first!.isNumber { out = "_" + out }
    if reserved.contains(out) { out += "_" }
    return out
  }

  /// A class name from a dotted path: each part capitalised, copy numbers left out
  /// (`h.1.residual1` is `HResidual1`).
  static func className(_ path: String) -> String {
    let parts = path.split(separator: ".").filter { !$0.allSatisfy(\.isNumber) }
    var out = ""
    for part in parts {
      for word in part.split(whereSeparator: { !($0.isASCII && ($0.isLetter || $0.isNumber)) }) {
        out += word.prefix(1).uppercased() + word.dropFirst()
      }
    }
    if out.isEmpty || out.first!.isNumber { out = "Block" + out }
    return out
  }

  /// An extent per axis as PyTorch's constructors take it: one integer when every axis
  /// has the same, else a tuple.
  static func extents(_ v: [Int]) -> String {
    if let first = v.first, v.allSatisfy({ $0 == first }) { return String(first) }
    return tuple(v)
  }

  /// A Python tuple of integers.
  static func tuple(_ v: [Int]) -> String {
    v.count == 1 ? "(\(v[0]),)" : "(" + v.map(String.init).joined(separator: ", ") + ")"
  }

  /// A float literal: `1e-05`, `0.1`, `2.0`.
  static func float(_ v: Double) -> String {
    if v == v.rounded(), abs(v) < 1e15 { return String(Int(v)) + ".0" }
    return "\(v)"
  }

  /// A Python string literal.
  static func string(_ s: String) -> String {
    var out = "\""
    for ch in s.unicodeScalars {
      switch ch {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      default:
        if ch.value < 0x20 || ch.value == 0x7f {
          out += "\\x" + String(ch.value, radix: 16).leftPadded(2)
        } else {
          out.unicodeScalars.append(ch)
        }
      }
    }
    return out + "\""
  }
}

extension String {
  fileprivate func leftPadded(_ n: Int) -> String { String(repeating: "0", count: Swift.max(0, n - count)) + self }
}
