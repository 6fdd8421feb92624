extension Emission {
  /// FC as a blocked GEMV: 4 vectors of outputs (32 at width 8, 64 at width 16) per pass
  /// over the input; weights [block][in][lane].
  mutating func fullyConnected(_ step: EmitPlan.Step, _ w: inout SourceWriter) -> (Int, Int) {
    let r = shapes.nodes[step.node.id]
    let n = r.inChannels, m = r.outChannels
    let p = parameters[step.node.id]!
    let weight = p.weight!.data
    let L = lanes, B = 4 * lanes
    let mp = (m + L - 1) / L * L
    var packed = [Float](repeating: 0, count: mp * n)
    for o in 0..<m {
      let blk = o / B, lane = o % B, bw = min(B, mp - blk * B)
      for i in 0..<n { packed[blk * B * n + i * bw + lane] = weight[o * n + i] }
    }
    var bias = [Float](repeating: 0, count: mp)
    if let b = p.bias?.data { for o in 0..<m { bias[o] = b[o] } }
    let wOff = store(packed), bOff = store(bias)
    let act = vectorActivation(step.activation)
    func block(_ blk: String, _ bw: Int, _ valid: Int, _ w: inout SourceWriter) {
      let nv = bw / L
      w.block("do") { w in
        w.line("let wb = w + \(blk == "0" ? "0" : "\(blk) * \(B * n)")")
        w.line("let base = \(blk == "0" ? "0" : "\(blk) * \(B)")")
        for v in 0..<nv { w.line("var a\(v) = Self.load\(L)(b + base + \(v * L))") }
        w.block("for i in 0..<\(n)") { w in
          w.line("let xv = SIMD\(L)<Float>(repeating: x[i])")
          for v in 0..<nv { w.line("a\(v) = a\(v).addingProduct(xv, Self.load\(L)(wb + i * \(bw) + \(v * L)))") }
        }
        for v in 0..<nv {
          let live = min(L, valid - v * L)
          if live <= 0 { continue }
          w.line("\(act.isEmpty ? "let" : "var") r\(v) = a\(v)")
          for l in vectorActivation(step.activation, "r\(v)") { w.line(l) }
          if live == L {
            w.line("Self.store\(L)(y + base + \(v * L), r\(v))")
          } else {
            w.line("for l in 0..<\(live) { y[base + \(v * L) + l] = r\(v)[l] }")
          }
        }
      }
    }
    if m / B > 0 {
      w.block("for k in 0..<\(m / B)") { w in block("k", B, B, &w) }
    }
    if m % B > 0 { block("\(m / B)", mp - m / B * B, m % B, &w) }
    return (wOff, bOff)
  }
}
