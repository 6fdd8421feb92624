import Foundation
import NetcPasses
import NetcTestSupport
import Testing

/// Output shapes of convs and pools in 1-D, 2-D and 3-D (strides, dilation, groups,
/// asymmetric padding, ceil rounding) against PyTorch's functional ops; the cases come
/// from scripts/reference/generate_window_cases.py.
struct WindowShapeTests {
  struct Case: Decodable, CustomTestStringConvertible {
    var input: [Int]
    var op: String
    var kernel: [Int]
    var stride: [Int]
    var pad_begin: [Int]
    var pad_end: [Int]
    var dilation: [Int]
    var ceil: Bool
    var groups: Int
    var filters: Int
    var output: [Int]

    var testDescription: String { "\(op) \(kernel) on \(input)" }

    /// The case as a one-layer spec, in the shorthand.
    var layer: String {
      func list(_ v: [Int]) -> String { v.map(String.init).joined(separator: ",") }
      let head =
        op == "conv"
        ? "CONV\(kernel.map(String.init).joined(separator: "x"))-\(filters)"
        : "\(op.uppercased())\(kernel.map(String.init).joined(separator: "x"))"
      let pads = zip(pad_begin, pad_end).map { "\($0):\($1)" }.joined(separator: ",")
      var text = "\(head) stride \(list(stride)) pad \(pads)"
      if op != "avgpool" { text += " dilation \(list(dilation))" }
      if op == "conv" { text += " groups \(groups)" } else { text += " round \(ceil ? "ceil" : "floor")" }
      return text
    }
  }

  static let cases: [Case] = {
    struct File: Decodable { var cases: [Case] }
    let url = URL(fileURLWithPath: repositoryPath("Tests/NetcPassesTests/Fixtures/window_cases.json"))
    return (try? JSONDecoder().decode(File.self, from: Data(contentsOf: url)).cases) ?? []
  }()

  @Test func fixturesAreThere() {
    #expect(Self.cases.count >= 20)
  }

  @Test(arguments: cases)
  func outputShapeMatchesPyTorch(_ c: Case) throws {
    let input = c.input.map(String.init).joined(separator: "x")
    let analysis = try analyzeSpec(specText(input: input, layers: [c.layer]))
    #expect(analysis.shapes[1] == c.output, "\(c.layer)")
  }

  /// TensorFlow's `same`: out = ceil(in / stride); padding total
  /// max((out-1)*stride + (k-1)*dilation + 1 - in, 0), the odd unit at the end.
  @Test(arguments: [
    // in, k, stride, dilation -> out, begin, end
    (10, 3, 1, 1, 10, 1, 1),  // total = 9*1 + 2 + 1 - 10 = 2
    (10, 4, 1, 1, 10, 1, 2),  // total = 9 + 3 + 1 - 10 = 3: 1 before, 2 after
    (11, 3, 2, 1, 6, 1, 1),  // out = ceil(11/2) = 6; total = 5*2 + 2 + 1 - 11 = 2
    (10, 3, 2, 1, 5, 0, 1),  // out = 5; total = 4*2 + 3 - 10 = 1: 0 before, 1 after
    (7, 3, 1, 2, 7, 2, 2),  // total = 6 + 2*2 + 1 - 7 = 4
    (5, 1, 3, 1, 2, 0, 0),  // out = ceil(5/3) = 2; total = 3 + 0 + 1 - 5 < 0 -> 0
  ])
  func samePadding(input: Int, k: Int, stride: Int, dilation: Int, out: Int, begin: Int, end: Int) throws {
    let analysis = try analyzeSpec(
      specText(input: "\(input)x\(input)x2", layers: ["CONV\(k)-1 stride \(stride) dilation \(dilation) pad same"]))
    let window = try #require(analysis.shapes.nodes[1].window)
    #expect(analysis.shapes[1] == [out, out, 1])
    #expect(window.padBegin == [begin, begin])
    #expect(window.padEnd == [end, end])
  }
}
