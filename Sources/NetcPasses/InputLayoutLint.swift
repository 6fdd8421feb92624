import NetcDiagnostics
import NetcIR

/// NS507: an input written in PyTorch's C x H x W order (`input: 3x32x32`), which netc
/// reads as H x W x C (3 rows, 32 columns, 32 channels) and then gives plausible but wrong
/// figures for. Warned when the first of three extents is a small channel count (at most
/// 4) and both others are at least 8 times larger: 3x32x32 and 1x28x28 warn; 32x32x3 and a
/// late feature map such as 4x4x64 (its width is as small as its height) do not.
public func channelsFirstInputWarning(_ graph: Graph, _ input: [Int]) -> Diagnostic? {
  guard input.count == 3, let range = graph.nodes.first?.range else { return nil }
  let (first, second, third) = (input[0], input[1], input[2])
  guard first >= 1, first <= 4, second >= 8 * first, third >= 8 * first else { return nil }
  let written = input.map(String.init).joined(separator: "x")
  return .warning(
    .channelsFirstInput,
    "`\(written)` is read as H x W x C: \(first) \(first == 1 ? "row" : "rows"), \(second) columns, \(third) channels",
    at: range,
    notes: [
      .init("a PyTorch \(first)x\(second)x\(third) (C x H x W) tensor is written `input: \(second)x\(third)x\(first)` here"),
      .init("if \(first) \(first == 1 ? "row is" : "rows are") meant, silence this with `# netc: allow NS507` on the line"),
    ])
}
