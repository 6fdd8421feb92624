import NetcIR

/// A layer kind as the parser sees it: the IR's spelling table (`LayerSpelling`, one
/// record per op), with the lookups that parsing needs.
typealias LayerOp = LayerSpelling

extension LayerSpelling {
  /// Every spelling, lower case, mapped to its op.
  static let byName: [String: LayerSpelling] = {
    var table: [String: LayerSpelling] = [:]
    for op in all {
      table[op.name] = op
      for alias in op.aliases { table[alias] = op }
    }
    return table
  }()

  /// Every spelling in upper case, longest first, for matching the head of a shorthand.
  static let spellingsLongestFirst: [String] = byName.keys.sorted {
    $0.count != $1.count ? $0.count > $1.count : $0 < $1
  }

  /// The structure keys a layer item may have instead of an op.
  static let structures = ["residual", "parallel", "repeat", "block", "moe"]

  /// Every option key with the ops' own words, for longhand.
  var longhandKeys: [String] {
    var keys = options + ["name", "expect"]
    if kernel != .none { keys.append("kernel") }
    if count != .none { keys.append(countName) }
    return keys
  }
}
