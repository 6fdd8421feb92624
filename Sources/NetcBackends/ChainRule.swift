import NetcIR
import NetcPasses

/// `run --explain --grad`: the backward pass of a small network written out as a person
/// derives it, from the loss back to the input, every gradient as its formula and then in
/// the layer's numbers (`dL/dl3_1 = 2(-1 - 2) = -6`). It computes each gradient itself, in
/// the order it prints them, so the interpreter's gradients are an independent check of it.
/// Indices count from 1; a tensor is named after the layer that produces it, the network's
/// input `input`.
public enum ChainRule {
  /// The largest network it writes out: activations and parameters together.
  public static let maxScalars = 2_000

  /// Why a network cannot be written out.
  public struct Refusal: Error {
    /// The message.
    public var message: String
  }

  /// The derivation as lines of text, and the gradients it derived (parameters by
  /// `LAYER.KIND`, and `input`), for checking against the interpreter's.
  public static func derive<T: TensorScalar>(
    _ graph: Graph, _ shapes: Shapes, parameters: [LayerParameters<T>?], values: [Tensor<T>], lossText: String,
    outputGradient dy: Tensor<T>
  ) -> Result<(lines: [String], gradients: [String: [Double]]), Refusal> {
    var total = 0
    for node in graph.nodes {
      total += shapes.nodes[node.id].shape.reduce(1, *)
      total += parameters[node.id].map { p in ParameterKind.allCases.compactMap { p[$0]?.count }.reduce(0, +) } ?? 0
    }
    guard total <= maxScalars else {
      return .failure(
        Refusal(message: "--explain writes the chain rule out for small networks (at most \(maxScalars) scalars); this one has \(total)"))
    }
    func name(_ id: Int) -> String { id == 0 ? "input" : graph.nodes[id].name }
    var lines = ["the chain rule, from the loss back to the input (indices from 1)", lossText]
    var grads: [[Double]?] = Array(repeating: nil, count: graph.nodes.count)
    var out: [String: [Double]] = [:]
    grads[graph.outputID] = dy.data.map(Double.init)
    let v = values.map { $0.data.map(Double.init) }
    for node in graph.nodes.reversed() where node.op != .input {
      guard let g = grads[node.id] else { continue }
      let x = node.inputs[0], xs = shapes.nodes[x].shape, ys = shapes.nodes[node.id].shape
      var dx = Array(repeating: 0.0, count: v[x].count)
      let y = name(node.id), xn = name(x)
      switch node.op {
      case .fc:
        let w = parameters[node.id]?.weight?.data.map(Double.init) ?? [], n = xs.reduce(1, *), m = ys[0]
        lines.append("\(y) (fc \(n) -> \(m)): \(y)_i = sum_j w_ij * \(xn)_j\(node.attributes.bias ? " + b_i" : "")")
        var dw = Array(repeating: 0.0, count: m * n)
        var terms: [String] = []
        for i in 0..<m {
          for j in 0..<n {
            dw[i * n + j] = g[i] * v[x][j]
            terms.append("dL/d\(y).w_\(i + 1)_\(j + 1) = \(p(g[i])) * \(p(v[x][j])) = \(s(dw[i * n + j]))")
          }
        }
        lines.append("  dL/dw_ij = dL/d\(y)_i * \(xn)_j: " + terms.joined(separator: ", "))
        out["\(node.name).weight"] = dw
        if node.attributes.bias {
          lines.append("  dL/db_i = dL/d\(y)_i: " + (0..<m).map { "dL/d\(y).b_\($0 + 1) = \(s(g[$0]))" }.joined(separator: ", "))
          out["\(node.name).bias"] = g
        }
        var back: [String] = []
        for j in 0..<n {
          dx[j] = (0..<m).reduce(0) { $0 + g[$1] * w[$1 * n + j] }
          back.append(
            "dL/d\(xn)_\(j + 1) = " + (0..<m).map { "\(p(g[$0]))*\(p(w[$0 * n + j]))" }.joined(separator: " + ") + " = \(s(dx[j]))")
        }
        lines.append("  dL/d\(xn)_j = sum_i dL/d\(y)_i * w_ij: " + back.joined(separator: ", "))
      case .relu:
        lines.append("\(y) (relu): dL/d\(xn)_i = dL/d\(y)_i * [\(xn)_i > 0]")
        var terms: [String] = []
        for i in 0..<dx.count {
          dx[i] = v[x][i] > 0 ? g[i] : 0
          terms.append("dL/d\(xn)_\(i + 1) = \(p(g[i])) * \(v[x][i] > 0 ? 1 : 0) = \(s(dx[i]))")
        }
        lines.append("  " + terms.joined(separator: ", "))
      case .relu6, .leakyrelu, .sigmoid, .tanh:
        // Each element's derivative, from the input (relu6, leaky relu) or the output.
        let slope = node.attributes.slope
        let rule: String, factor: (Int) -> (text: String, value: Double)
        if node.op == .relu6 {
          rule = "[0 < \(xn)_i < 6]"
          factor = { i in v[x][i] > 0 && v[x][i] < 6 ? ("1", 1) : ("0", 0) }
        } else if node.op == .leakyrelu {
          rule = "(1 if \(xn)_i > 0, else \(s(slope)))"
          factor = { i in v[x][i] > 0 ? ("1", 1) : (s(slope), slope) }
        } else if node.op == .sigmoid {
          rule = "\(y)_i * (1 - \(y)_i)"
          factor = { i in
            let o = v[node.id][i]
            return ("\(p(o))*(1 - \(p(o)))", o * (1 - o))
          }
        } else {
          rule = "(1 - \(y)_i^2)"
          factor = { i in
            let o = v[node.id][i]
            return ("(1 - \(p(o))^2)", 1 - o * o)
          }
        }
        lines.append("\(y) (\(node.op.rawValue)): dL/d\(xn)_i = dL/d\(y)_i * \(rule)")
        var terms: [String] = []
        for i in 0..<dx.count {
          let f = factor(i)
          dx[i] = g[i] * f.value
          terms.append("dL/d\(xn)_\(i + 1) = \(p(g[i])) * \(f.text) = \(s(dx[i]))")
        }
        lines.append("  " + terms.joined(separator: ", "))
      case .bn:
        // At inference BN is per channel y = gamma * (x - mean) / sqrt(var + eps) + beta.
        guard let prm = parameters[node.id], let gamma = prm.gamma?.data, let mean = prm.mean?.data, let variance = prm.variance?.data
        else { return .failure(Refusal(message: "`\(node.name)` has no BN parameters to write the chain rule with")) }
        let c = gamma.count, eps = node.attributes.epsilon
        let sd = (0..<c).map { (Double(variance[$0]) + eps).squareRoot() }
        lines.append(
          "\(y) (bn, inference): \(y)_i = gamma_c * (\(xn)_i - mean_c) / sqrt(var_c + eps) + beta_c, for the channel c of i (eps = \(s(eps)))"
        )
        var dgamma = Array(repeating: 0.0, count: c), dbeta = dgamma
        var gammaParts = Array(repeating: [String](), count: c), betaParts = gammaParts
        var terms: [String] = []
        for i in 0..<dx.count {
          let ch = i % c, xhat = (v[x][i] - Double(mean[ch])) / sd[ch]
          dgamma[ch] += g[i] * xhat
          dbeta[ch] += g[i]
          gammaParts[ch].append("\(p(g[i]))*\(p(xhat))")
          betaParts[ch].append(p(g[i]))
          dx[i] = g[i] * Double(gamma[ch]) / sd[ch]
          terms.append("dL/d\(xn)_\(i + 1) = \(p(g[i])) * \(p(Double(gamma[ch])))/\(s(sd[ch])) = \(s(dx[i]))")
        }
        lines.append(
          "  dL/dgamma_c = sum_i dL/d\(y)_i * (\(xn)_i - mean_c)/sqrt(var_c + eps): "
            + (0..<c).map { "dL/d\(y).gamma_\($0 + 1) = \(gammaParts[$0].joined(separator: " + ")) = \(s(dgamma[$0]))" }
            .joined(separator: ", "))
        lines.append(
          "  dL/dbeta_c = sum_i dL/d\(y)_i: "
            + (0..<c).map { "dL/d\(y).beta_\($0 + 1) = \(betaParts[$0].joined(separator: " + ")) = \(s(dbeta[$0]))" }
            .joined(separator: ", "))
        lines.append("  dL/d\(xn)_i = dL/d\(y)_i * gamma_c / sqrt(var_c + eps): " + terms.joined(separator: ", "))
        out["\(node.name).gamma"] = dgamma
        out["\(node.name).beta"] = dbeta
      case .gap:
        let positions = xs.dropLast().reduce(1, *), c = xs.last ?? 1
        lines.append("\(y) (global average pool over \(positions) positions): dL/d\(xn)_(m,c) = dL/d\(y)_c / \(positions)")
        var terms: [String] = []
        for i in 0..<dx.count {
          dx[i] = g[i % c] / Double(positions)
        }
        for ch in 0..<c { terms.append("channel \(ch + 1): each gets \(p(g[ch]))/\(positions) = \(s(g[ch] / Double(positions)))") }
        lines.append("  " + terms.joined(separator: "; "))
      case .flatten, .identity, .dropout:
        // Flatten orders channels first, as PyTorch: dL/dx is dL/dy read back in that order.
        let order = node.op == .flatten ? flatten(Array(0..<dx.count), shape: xs) : Array(0..<dx.count)
        for (k, source) in order.enumerated() { dx[source] = g[k] }
        lines.append("\(y) (\(node.op.rawValue)): dL/d\(xn) = dL/d\(y), element by element")
      case .maxpool, .avgpool, .conv:
        guard let window = shapes.nodes[node.id].window, node.op != .conv || shapes.nodes[node.id].groups == 1 else {
          return .failure(Refusal(message: "--explain writes the chain rule for convs with one group only; `\(node.name)` has more"))
        }
        let conv = node.op == .conv
        let k = window.kernel, axes = k.count, cin = xs[axes], cout = ys[axes]
        let w = parameters[node.id]?.weight?.data.map(Double.init) ?? []
        func index(_ position: [Int], _ c: Int, _ shape: [Int]) -> Int {
          var i = 0
          for a in 0..<axes { i = i * shape[a] + position[a] }
          return i * shape[axes] + c
        }
        func label(_ position: [Int], _ c: Int, channels: Int) -> String {
          let parts = position.map { String($0 + 1) } + (channels > 1 ? [String(c + 1)] : [])
          return parts.count == 1 ? parts[0] : "(" + parts.joined(separator: ",") + ")"
        }
        let outPositions = grid(Array(ys.prefix(axes))), offsets = grid(k)
        // Input position read by output position o at kernel offset j, nil in the padding.
        func source(_ o: [Int], _ j: [Int]) -> [Int]? {
          var q: [Int] = []
          for a in 0..<axes {
            let at = o[a] * window.stride[a] + j[a] * window.dilation[a] - window.padBegin[a]
            guard at >= 0 && at < xs[a] else { return nil }
            q.append(at)
          }
          return q
        }
        let strideText = window.stride.allSatisfy { $0 == 1 } ? "i+j-1" : "(i-1)*s+j"
        let padText = window.padBegin.allSatisfy { $0 == 0 } ? "" : "-p"
        if conv {
          lines.append(
            "\(y) (conv): \(y)_i = sum_j k_j * \(xn)_(\(strideText)\(padText))\(node.attributes.bias ? " + b" : ""), j = 1..\(k.map(String.init).joined(separator: "x")), i = 1..\(ys.prefix(axes).map(String.init).joined(separator: "x"))"
          )
          lines.append("  dL/dk_j = sum_i dL/d\(y)_i * \(xn)_(\(strideText)\(padText))")
          var dw = Array(repeating: 0.0, count: w.count)
          var terms: [String] = []
          for co in 0..<cout {
            for ci in 0..<cin {
              for j in offsets {
                var sum = 0.0
                var parts: [String] = []
                for o in outPositions {
                  guard let q = source(o, j) else { continue }
                  let gi = g[index(o, co, ys)], xv = v[x][index(q, ci, xs)]
                  sum += gi * xv
                  parts.append("\(p(gi))*\(p(xv))")
                }
                var wi = co * cin + ci
                for a in 0..<axes { wi = wi * k[a] + j[a] }
                dw[wi] = sum
                let at = (cin > 1 || cout > 1 ? [co + 1, ci + 1] : []) + j.map { $0 + 1 }
                let label = at.count == 1 ? String(at[0]) : "(" + at.map(String.init).joined(separator: ",") + ")"
                terms.append("dL/d\(y).k_\(label) = \(parts.isEmpty ? "0" : parts.joined(separator: " + ")) = \(s(sum))")
              }
            }
          }
          lines.append("    " + terms.joined(separator: "\n    "))
          out["\(node.name).weight"] = dw
          if node.attributes.bias {
            let db = (0..<cout).map { co in outPositions.reduce(0.0) { $0 + g[index($1, co, ys)] } }
            lines.append(
              "  dL/db = sum_i dL/d\(y)_i: "
                + db.enumerated().map { "dL/d\(y).b_\($0.offset + 1) = \(s($0.element))" }.joined(separator: ", "))
            out["\(node.name).bias"] = db
          }
          var parts = Array(repeating: [String](), count: dx.count)
          for co in 0..<cout {
            for o in outPositions {
              for j in offsets {
                guard let q = source(o, j) else { continue }
                for ci in 0..<cin {
                  var wi = co * cin + ci
                  for a in 0..<axes { wi = wi * k[a] + j[a] }
                  let at = index(q, ci, xs), gi = g[index(o, co, ys)]
                  dx[at] += gi * w[wi]
                  parts[at].append("\(p(gi))*\(p(w[wi]))")
                }
              }
            }
          }
          lines.append("  dL/d\(xn)_m = sum of dL/d\(y)_i * k_j over the (i, j) that read \(xn)_m:")
          lines.append(
            "    "
              + grid(Array(xs.prefix(axes))).flatMap { q in
                (0..<cin).map { c in
                  let at = index(q, c, xs)
                  return
                    "dL/d\(xn)_\(label(q, c, channels: cin)) = \(parts[at].isEmpty ? "0" : parts[at].joined(separator: " + ")) = \(s(dx[at]))"
                }
              }.joined(separator: "\n    "))
        } else if node.op == .avgpool {
          lines.append(
            "\(y) (average pool): dL/d\(xn)_m = sum over the windows i that read \(xn)_m of dL/d\(y)_i / n_i, "
              + "n_i the window's taps, padding counted (PyTorch's count_include_pad)")
          var terms: [String] = []
          // The interpreter's divisor: the taps inside the padded input.
          let geometry = ConvGeometry(inShape: xs, outShape: ys, window: window, inChannels: cin, outChannels: cin, groups: cin)
          for c in 0..<cin {
            for (position, o) in outPositions.enumerated() {
              let n = geometry.paddedTapCount(position)
              let gi = g[index(o, c, ys)]
              for j in offsets {
                guard let q = source(o, j) else { continue }
                dx[index(q, c, xs)] += gi / Double(n)
              }
              terms.append("window \(label(o, c, channels: cin)): each of its inputs gets \(p(gi))/\(n) = \(s(gi / Double(n)))")
            }
          }
          lines.append("  " + terms.joined(separator: "; "))
        } else {
          lines.append("\(y) (max pool): dL/d\(xn)_m = dL/d\(y)_i for the m that holds window i's maximum (the first, on a tie), else 0")
          var terms: [String] = []
          for c in 0..<cin {
            for o in outPositions {
              var best: (value: Double, at: [Int])?
              for j in offsets {
                guard let q = source(o, j) else { continue }
                let xv = v[x][index(q, c, xs)]
                if best == nil || xv > best!.value { best = (xv, q) }
              }
              guard let best else { continue }
              let gi = g[index(o, c, ys)]
              dx[index(best.at, c, xs)] += gi
              terms.append(
                "window \(label(o, c, channels: cin)): max \(s(best.value)) at \(xn)_\(label(best.at, c, channels: cin)), gets \(s(gi))")
            }
          }
          lines.append("  " + terms.joined(separator: "; "))
        }
      case .input, .dwconv, .pwconv, .gmp, .softmax, .gelu, .add, .concat,
        .deconv, .linear, .layernorm, .rmsnorm, .silu, .hardswish, .hardsigmoid, .droppath, .layerscale, .embed, .posembed, .typeembed,
        .clstoken, .tokens, .take, .attention, .upsample, .pad, .shuffle, .mul, .router, .moe, .slice:
        return .failure(
          Refusal(
            message:
              "--explain writes the chain rule for fc, conv, max and average pool, global average pool, bn, relu, relu6, leaky relu, sigmoid, tanh and flatten layers; `\(node.name)` is \(node.op.rawValue)"
          ))
      }
      if x == 0 { out["input"] = dx } else { grads[x] = dx }
    }
    return .success((lines, out))
  }

  /// Every position of a grid of `extents`, the last axis fastest.
  static func grid(_ extents: [Int]) -> [[Int]] {
    var out: [[Int]] = [[]]
    for e in extents { out = out.flatMap { p in (0..<e).map { p + [$0] } } }
    return out
  }

  /// A number as a person writes it: integers without a point, others to six digits.
  public static func s(_ v: Double) -> String {
    if v == v.rounded(), abs(v) < 1e15 { return String(Int(v)) }
    let r = (v * 1e6).rounded() / 1e6
    return r == r.rounded() && abs(r) < 1e15 ? String(Int(r)) : "\(r)"
  }

  /// A number as a factor: negative ones in parentheses.
  static func p(_ v: Double) -> String { v < 0 ? "(\(s(v)))" : s(v) }
}
