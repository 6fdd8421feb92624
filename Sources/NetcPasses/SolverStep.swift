import NetcIR

/// Why a candidate fails at a node, ordered by how far the candidate got: the diagnostic
/// for "no solution" names the furthest stage any candidate reached.
enum StepFailure: Int, Comparable, Error {
  case domain, structure, invalid, sizeOverflow, overflow, extent, groups, expect, condition, budget, outputExpect, finalBudget

  static func < (a: StepFailure, b: StepFailure) -> Bool { a.rawValue < b.rawValue }
}

/// A node's output and the facts costs need: the solver's counterpart of `ResolvedNode`,
/// from the same rule as concrete inference (`shapeRule`), its failures ranked instead of
/// rendered.
extension SolverPlan {
  /// Infers node `node` on `inputs` with vars from `env`.
  func step(_ node: Int, _ inputs: [ResolvedNode], target: [Int]?, env: [Int]) -> Result<ResolvedNode, StepFailure> {
    let p = nodes[node]
    var a = p.constant
    var inputShape: [Int] = []
    if p.op == .input {
      for e in inputShapes[node] ?? [] {
        guard let v = e.evaluate(env) else { return .failure(.invalid) }
        inputShape.append(v)
      }
    }
    // A window value without a value is a structural failure; a count or groups, invalid.
    // One value for every spatial axis is written out here, as the rule would repeat it.
    let axes = (inputs.first?.shape.count ?? 0) - 1
    guard let kernel = evaluate(p.kernel, env, axes: axes), let stride = evaluate(p.stride, env, axes: axes),
      let dilation = evaluate(p.dilation, env, axes: axes), let padBegin = evaluate(p.padBegin, env, axes: axes),
      let padEnd = evaluate(p.padEnd, env, axes: axes)
    else { return .failure(.structure) }
    (a.kernel, a.stride, a.dilation, a.same, a.padBegin, a.padEnd) = (kernel, stride, dilation, p.same, padBegin, padEnd)
    if let g = p.groups {
      guard let v = g.evaluate(env) else { return .failure(.invalid) }
      a.groups = v
    }
    if let c = p.count {
      guard let v = c.evaluate(env) else { return .failure(.invalid) }
      a.count = v
    }
    for (key, values) in p.integers {
      guard let v = evaluate(values, env) else { return .failure(.invalid) }
      a.integers[key] = v
    }
    let result = shapeRule(
      p.op, a, inputs: inputs.map(\.shape), inputShape: inputShape, target: target, inputElided: inputs.first?.elided ?? false,
      inputTokens: inputs.first?.tokens ?? false, tokenInput: tokenInputs.contains(node))
    switch result {
    case .success(let r): return .success(ResolvedNode(r))
    case .failure(let failure):
      switch failure {
      case .rank, .axisCount, .mergeMismatch, .missingTarget, .projectionRank, .projectionStride, .noClosedForm, .tokenIDs, .notTokens,
        .broadcastMismatch, .unsupported:
        return .failure(.structure)
      case .windowBelowOne, .negativePadding, .inputBelowOne, .countBelowOne, .indexOutOfRange, .outputPaddingTooLarge,
        .topKAboveExperts:
        return .failure(.invalid)
      case .sequenceTooLong, .transposedExtentBelowOne: return .failure(.extent)
      case .headsMismatch, .kvHeadsMismatch, .channelSplit: return .failure(.groups)
      case .samePaddingOverflow: return .failure(.overflow)
      case .overflow: return .failure(.sizeOverflow)
      case .extentOverflow, .extentBelowOne: return .failure(.extent)
      case .groupsMismatch: return .failure(.groups)
      }
    }
  }

  /// The values of slot expressions; nil when one has none. With `axes` of at least 1, a
  /// single value is repeated for each axis.
  private func evaluate(_ values: [SlotExpr], _ env: [Int], axes: Int) -> [Int]? {
    if values.count == 1 && axes >= 1 {
      guard let n = values[0].evaluate(env) else { return nil }
      // Appended rather than `Array(repeating:)`, whose generic path looks up metadata on
      // every call: this runs for every candidate.
      var out: [Int] = []
      out.reserveCapacity(axes)
      for _ in 0..<axes { out.append(n) }
      return out
    }
    return evaluate(values, env)
  }

  /// The values of slot expressions; nil when one has none.
  private func evaluate(_ values: [SlotExpr], _ env: [Int]) -> [Int]? {
    if values.isEmpty { return [] }
    var out: [Int] = []
    out.reserveCapacity(values.count)
    for v in values {
      guard let n = v.evaluate(env) else { return nil }
      out.append(n)
    }
    return out
  }
}
