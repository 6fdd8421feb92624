import NetcIR

extension Emission {
  /// BN not folded into a conv: y = x * scale + shift per channel.
  mutating func batchNorm(_ step: EmitPlan.Step, _ w: inout SourceWriter) -> (Int, Int) {
    let (scale, shift) = bnAffine(step.node)
    let sOff = store(scale), tOff = store(shift)
    let c = scale.count, positions = shapes[step.node.id].reduce(1, *) / c
    w.block("for q in 0..<\(positions)") { w in
      w.line("let xo = x + q * \(c), yo = y + q * \(c)")
      vectorLoops(c, "c", &w) { k, w in
        w.line("Self.store\(k)(yo + c, Self.load\(k)(xo + c) * Self.load\(k)(scale + c) + Self.load\(k)(shift + c))")
      } scalar: { w in
        w.line("yo[c] = xo[c] * scale[c] + shift[c]")
      }
    }
    return (sOff, tOff)
  }

  /// Element-wise sum of the inputs, in input order.
  func add(_ step: EmitPlan.Step, _ w: inout SourceWriter) {
    let n = shapes[step.node.id].reduce(1, *)
    let k = step.inputs.count
    vectorLoops(n, "i", &w) { v, w in
      w.line("Self.store\(v)(y + i, \((0..<k).map { "Self.load\(v)(x\($0) + i)" }.joined(separator: " + ")))")
    } scalar: { w in
      w.line("y[i] = \((0..<k).map { "x\($0)[i]" }.joined(separator: " + "))")
    }
  }

  /// Concatenation along channels: per position, each input's channels in turn.
  func concat(_ step: EmitPlan.Step, _ w: inout SourceWriter) {
    let total = shapes[step.node.id].last!
    let positions = shapes[step.node.id].reduce(1, *) / total
    w.block("for q in 0..<\(positions)") { w in
      var offset = 0
      for (k, v) in step.inputs.enumerated() {
        let ck = shapes[v].last!
        w.line("(y + \(indexExpr([("q", total)], offset))).update(from: x\(k) + q * \(ck), count: \(ck))")
        offset += ck
      }
    }
  }

  /// Softmax over the last axis, shifted by the maximum.
  mutating func softmax(_ step: EmitPlan.Step, _ w: inout SourceWriter) {
    uses.insert("exp")
    let c = shapes[step.node.id].last!
    let groups = shapes[step.node.id].reduce(1, *) / c
    w.block("for q in 0..<\(groups)") { w in
      w.line("let xo = x + q * \(c), yo = y + q * \(c)")
      w.line("var m = -Float.infinity")
      w.line("for j in 0..<\(c) { m = max(m, xo[j]) }")
      w.line("var sum: Float = 0")
      w.block("for j in 0..<\(c)") { w in
        w.line("let e = Float(Self.exp(Double(xo[j] - m)))")
        w.line("yo[j] = e")
        w.line("sum += e")
      }
      w.line("for j in 0..<\(c) { yo[j] /= sum }")
    }
  }

  /// `y[i] = activation(source[i])` for `count` elements, in vectors (ReLU, ReLU6,
  /// LeakyReLU); the source is `x`, or `y` itself for an activation applied in place.
  func activationLoop(_ node: Node, count: Int, from source: String, _ w: inout SourceWriter) {
    vectorLoops(count, "i", &w) { k, w in
      w.line("var r = Self.load\(k)(\(source) + i)")
      for l in vectorActivation(node) { w.line(l) }
      w.line("Self.store\(k)(y + i, r)")
    } scalar: { w in
      w.line("y[i] = \(scalarActivation(node.op, node, "\(source)[i]"))")
    }
  }

  /// ReLU, ReLU6 and LeakyReLU in vectors; sigmoid, tanh and GELU through the Double helpers.
  mutating func elementwise(_ step: EmitPlan.Step, _ w: inout SourceWriter) {
    let node = step.node
    let n = shapes[node.id].reduce(1, *)
    switch node.op {
    case .relu, .relu6, .leakyrelu:
      activationLoop(node, count: n, from: "x", &w)
    case .sigmoid, .tanh, .gelu:
      uses.insert(node.op == .gelu ? "erf" : node.op == .tanh ? "tanh" : "exp")
      w.block("for i in 0..<\(n)") { w in w.line("y[i] = \(scalarActivation(node.op, node, "x[i]"))") }
    case .identity, .dropout:
      w.line("y.update(from: x, count: \(n))")
    case .input, .conv, .dwconv, .pwconv, .maxpool, .avgpool, .gap, .gmp, .fc, .flatten, .bn, .softmax, .add, .concat, .deconv, .linear,
      .layernorm, .rmsnorm, .silu, .hardswish, .hardsigmoid, .droppath, .layerscale, .embed, .posembed, .typeembed, .clstoken, .tokens,
      .take, .attention, .upsample, .pad, .shuffle, .mul, .router, .moe, .slice:
      preconditionFailure("\(node.op) is not element-wise")
    }
  }
}
