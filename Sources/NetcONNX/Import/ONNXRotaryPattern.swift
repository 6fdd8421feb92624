import Foundation
import NetcDiagnostics

/// Rotary positions as netc's export and Hugging Face Llama write them:
/// `x cos + rotate_half(x) sin`, `rotate_half(x) = concat(-x2, x1)`, with cos and sin
/// tables folded at the input's length. The tables must be netc's (angles `position ·
/// theta^(-2i/D)`, the first half repeated): theta is read from them and every entry checked.
extension ONNXLayerRecognizer {
  /// Advances a rotary pattern by the current node; false when it is not a step of one.
  mutating func rotaryStep() throws(DiagnosticError) -> Bool {
    let out = node.output[0]
    func same(_ a: Heads, _ b: Heads) -> Bool {
      a.proj.linear.key == b.proj.linear.key && a.proj.offset == b.proj.offset && a.heads == b.heads && a.dim == b.dim
    }
    func lastAxis(_ axis: Int?) -> Bool { axis == -1 || axis == 3 }
    // Every step reads one input (Slice's starts and ends aside) or two.
    guard !node.input.isEmpty, ["Mul", "Add"].contains(node.opType) ? node.input.count == 2 : true else { return false }
    switch node.opType {
    case "Slice":
      guard case .heads(let h)? = seq[node.input[0]], !h.keys, !h.flat, h.groups == 1, h.theta == nil, node.input.count >= 4,
        let starts = constants[node.input[1]]?.integers, let ends = constants[node.input[2]]?.integers,
        let axes = constants[node.input[3]]?.integers, starts.count == 1, ends.count == 1, axes.count == 1, lastAxis(axes[0]),
        node.input.count < 5 || constants[node.input[4]]?.integers == [1]
      else { return false }
      let half = h.dim / 2
      if starts[0] == 0 && ends[0] == half {
        seq[out] = .rotary(h, .firstHalf)
      } else if starts[0] == half && ends[0] >= h.dim {
        seq[out] = .rotary(h, .secondHalf)
      } else {
        return false
      }
    case "Neg":
      guard case .rotary(let h, .secondHalf)? = seq[node.input[0]] else { return false }
      seq[out] = .rotary(h, .negatedSecond)
    case "Concat":
      guard node.input.count == 2, lastAxis(ONNXAttributes(node).int("axis")), case .rotary(let a, .negatedSecond)? = seq[node.input[0]],
        case .rotary(let b, .firstHalf)? = seq[node.input[1]], same(a, b)
      else { return false }
      seq[out] = .rotary(a, .rotated)
    case "Mul":
      for (v, c) in [(0, 1), (1, 0)] {
        guard let table = constants[node.input[c]], let h = seq[node.input[v]]?.rotaryHeads,
          table.floats.count == rows(h.proj) * h.dim
        else { continue }
        switch seq[node.input[v]] {
        case .heads(let h)? where !h.keys && !h.flat && h.groups == 1 && h.theta == nil:
          seq[out] = .rotary(h, .timesCos(table.floats))
          return true
        case .rotary(let h, .rotated)?:
          seq[out] = .rotary(h, .rotatedTimesSin(table.floats))
          return true
        default: continue
        }
      }
      return false
    case "Add":
      for (a, b) in [(0, 1), (1, 0)] {
        guard case .rotary(var h, .timesCos(let cos))? = seq[node.input[a]],
          case .rotary(let g, .rotatedTimesSin(let sin))? = seq[node.input[b]],
          same(h, g)
        else { continue }
        h.theta = try rotaryBase(cos: cos, sin: sin, dim: h.dim, length: rows(h.proj))
        seq[out] = .heads(h)
        return true
      }
      return false
    default:
      return false
    }
    return true
  }

  /// The base whose angles the `[T][D]` tables hold, when they are netc's rotary tables.
  func rotaryBase(cos: [Float], sin: [Float], dim d: Int, length: Int) throws(DiagnosticError) -> Double {
    let half = d / 2
    var theta = 10_000.0
    // Position 1's angle of pair 1 is theta^(-2/D) (at most 1, so its atan2 is exact).
    if half >= 2 && length >= 2 {
      let freq = atan2(Double(sin[d + 1]), Double(cos[d + 1]))
      guard freq > 0 else { throw unsupported(node: "turns heads by tables that are not rotary positions (angle \(freq) at position 1)") }
      theta = pow(freq, -Double(d) / 2)
      if abs(theta - theta.rounded()) < 1e-3 * theta { theta = theta.rounded() }
      // Float tables pin theta to about 4 digits: a round base within them is the one meant.
      for round in [10_000.0, 500_000.0, 1_000_000.0, 100_000.0, 1_000.0] where abs(theta - round) < 2e-3 * round { theta = round }
    }
    for p in 0..<length {
      for i in 0..<d {
        let angle = Double(p) * pow(theta, -Double(2 * (i % half)) / Double(d))
        let k = p * d + i
        guard abs(Double(cos[k]) - Foundation.cos(angle)) <= 1e-4, abs(Double(sin[k]) - Foundation.sin(angle)) <= 1e-4 else {
          throw unsupported(
            node:
              "turns heads by cos and sin tables that are not rotary positions of base \(Self.number(theta)) (position \(p), index \(i)); netc's rope takes only those"
          )
        }
      }
    }
    return theta
  }

  /// A number as a spec writes it: `10000`, `0.5`.
  static func number(_ v: Double) -> String {
    v == v.rounded() && abs(v) < 1e15 ? "\(Int(v))" : "\(v)"
  }
}

extension SequencePartial {
  /// The heads a tensor of heads, turned part way or not, is of.
  var rotaryHeads: Heads? {
    switch self {
    case .heads(let h): h
    case .rotary(let h, _): h
    default: nil
    }
  }
}
