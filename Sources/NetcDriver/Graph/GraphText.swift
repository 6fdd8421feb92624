import NetcIR

/// Text for pictures: escaping, and widths estimated without a font (the picture must lay
/// out the same everywhere, so it cannot measure).
enum GraphText {
  /// `s` escaped for XML text and attribute values.
  static func escape(_ s: String) -> String {
    var out = ""
    out.reserveCapacity(s.utf8.count)
    for c in s {
      switch c {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&quot;"
      default: out.append(c)
      }
    }
    return out
  }

  /// A generous width of `s` at font size `size` in a sans-serif face.
  static func width(_ s: String, size: Int) -> Int { (s.count * size * 62 + 99) / 100 }

  /// `s` cut to `limit` characters with an ellipsis.
  static func clip(_ s: String, _ limit: Int) -> String {
    s.count <= limit ? s : String(s.prefix(max(limit - 1, 1))) + "…"
  }

  /// The label on a structure's frame: `layer1 · repeat × 3`.
  static func structureLabel(_ group: Group, copies: Int?) -> String {
    let local = group.name.split(separator: ".").last.map(String.init) ?? group.name
    return local + " · " + group.kind.rawValue + (copies.map { " × \($0)" } ?? "")
  }
}
