/// Turns names from a spec into Swift identifiers that cannot carry code: only ASCII
/// letters, digits and underscores survive, so no quote, comment or newline gets through.
enum IdentifierSanitizer {
  /// Names of the standard library (and Foundation) that a type of ours must not shadow.
  static let reserved: Set<String> = [
    "Any", "AnyObject", "Self", "Type", "Protocol", "Never", "Float", "Double", "Int", "UInt8",
    "UInt32", "UInt64", "Bool", "String", "Array", "SIMD8", "Error", "Data", "URL", "Optional",
    "Character", "Substring", "Void", "Sendable", "Equatable", "Hashable", "Codable",
  ]

  /// A type name in UpperCamelCase: `small-cnn` -> `SmallCnn`, `resnet18` -> `Resnet18`.
  /// Empty, digit-led or reserved results get a `Net` prefix.
  static func typeName(_ name: String) -> String {
    var out = ""
    var upperNext = true
    for scalar in name.unicodeScalars {
      guard scalar.isASCII, isAlphanumeric(scalar) else {
        upperNext = true
        continue
      }
      let c = Character(scalar)
      out += upperNext ? c.uppercased() : String(c)
      upperNext = false
    }
    if out.isEmpty || out.first!.isNumber || reserved.contains(out) || out.hasPrefix("Builtin") { out = "Net" + out }
    return out
  }

  /// A lowerCamel-free snake identifier for a layer: `res3.body.conv2` -> `res3_body_conv2`.
  /// Callers prefix it (`l12_`), which keeps it clear of keywords and of other layers.
  static func fragment(_ name: String) -> String {
    var out = ""
    for scalar in name.unicodeScalars {
      if scalar.isASCII && isAlphanumeric(scalar) {
        out.unicodeScalars.append(scalar)
      } else if !out.hasSuffix("_") {
        out += "_"
      }
    }
    while out.hasSuffix("_") { out.removeLast() }
    return String(out.prefix(48))
  }

  /// A Swift string literal of `s`: printable ASCII kept except quote and backslash, every
  /// other scalar written as `\u{...}`, so the literal always ends where it should.
  static func stringLiteral(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
      if scalar.value >= 0x20 && scalar.value < 0x7F && scalar != "\"" && scalar != "\\" {
        out.unicodeScalars.append(scalar)
      } else {
        out += "\\u{" + String(scalar.value, radix: 16) + "}"
      }
    }
    return out + "\""
  }

  static func isAlphanumeric(_ s: Unicode.Scalar) -> Bool {
    ("a"..."z").contains(s) || ("A"..."Z").contains(s) || ("0"..."9").contains(s)
  }
}
