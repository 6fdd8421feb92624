import NetcDiagnostics

/// Counts the layers a spec will lower to before lowering it, so that `repeat`s and blocks
/// that multiply past `SpecLowering.maxNodes` are refused at once instead of after building
/// millions of nodes (a block that uses another twice, 30 levels deep, took a minute and
/// 2.4 GB to reach the limit).
///
/// The count never exceeds what lowering makes for a valid spec: a `repeat` whose count is
/// not a literal counts once, a block being counted inside itself counts nothing (lowering
/// reports the recursion). Lowering still enforces the limit on what it really makes.
extension SpecLowering {
  /// Throws the expansion-limit error when the top-level `items` would lower to more
  /// layers than the limit.
  func checkExpansion(_ items: [YAMLNode]) throws(DiagnosticError) {
    var memo: [String: Int] = [:]
    var total = 0
    for item in items {
      total = Self.saturating(total, estimate(item, memo: &memo, open: []))
      if total > Self.maxNodes {
        throw DiagnosticError([
          .error(
            .expansionLimit, "the spec expands to more than \(Self.maxNodes) layers",
            at: item.range,
            notes: [
              .init(
                "`repeat` counts and blocks multiply: the layers up to this one make \(total == Int.max ? "more than 2^63" : String(total))"
              )
            ])
        ])
      }
    }
  }

  private func estimate(_ item: YAMLNode, memo: inout [String: Int], open: Set<String>) -> Int {
    switch item.kind {
    case .scalar(let text, _):
      return text.trimmingSpaces.lowercased().hasPrefix("sepconv") ? 2 : 1
    case .sequence:
      return 0
    case .mapping(let pairs):
      func value(_ key: String) -> YAMLNode? {
        pairs.first { $0.key.scalar?.lowercased() == key }?.value
      }
      func list(_ node: YAMLNode?) -> Int {
        var sum = 0
        for child in node?.sequence ?? [] {
          sum = Self.saturating(sum, estimate(child, memo: &memo, open: open))
        }
        return sum
      }
      if let count = value("repeat") {
        let n = count.scalar.flatMap { Int($0.trimmingSpaces) } ?? 1
        return Self.multiply(max(n, 0), list(value("layers")))
      }
      if let name = value("block")?.scalar {
        if let known = memo[name] { return known }
        guard !open.contains(name), let def = blocks[name] else { return 0 }
        var sum = 0
        for child in def.layers {
          sum = Self.saturating(sum, estimate(child, memo: &memo, open: open.union([name])))
        }
        memo[name] = sum
        return sum
      }
      guard pairs.count == 1, let key = pairs[0].key.scalar?.lowercased() else { return 0 }
      let body = pairs[0].value
      switch key {
      case "residual":
        let fields = body.mapping ?? []
        let shortcut = fields.first { $0.key.scalar == "shortcut" }?.value
        let shortcutCount = shortcut?.scalar?.lowercased() == "auto" ? 2 : list(shortcut)
        return Self.saturating(
          Self.saturating(list(fields.first { $0.key.scalar == "body" }?.value), shortcutCount), 1)
      case "parallel":
        var sum = 1
        for branch in body.mapping?.first(where: { $0.key.scalar == "branches" })?.value.sequence
          ?? []
        {
          sum = Self.saturating(sum, list(branch))
        }
        return sum
      case "sepconv": return 2
      default: return 1
      }
    }
  }

  private static func saturating(_ a: Int, _ b: Int) -> Int {
    let (r, o) = a.addingReportingOverflow(b)
    return o ? Int.max : r
  }

  private static func multiply(_ a: Int, _ b: Int) -> Int {
    let (r, o) = a.multipliedReportingOverflow(by: b)
    return o ? Int.max : r
  }
}
