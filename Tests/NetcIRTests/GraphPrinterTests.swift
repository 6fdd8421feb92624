import NetcDiagnostics
import NetcIR
import Testing

struct GraphPrinterTests {
  @Test func printsOneNodeALine() {
    let r = SourceRange(file: "t.yaml", start: SourceLocation(line: 4, column: 5), length: 8)
    var conv = Attributes()
    conv.kernel = [.const(3, at: r)]
    conv.count = .const(20, at: r)
    conv.stride = [.const(3, at: r)]
    conv.padding = .explicit(begin: [.const(2, at: r)], end: [.const(2, at: r)])
    let graph = Graph(
      name: "g", inputShape: [.const(16, at: r), .const(16, at: r), .const(10, at: r)],
      nodes: [
        Node(id: 0, name: "input", op: .input, inputs: [], range: r, depth: 0),
        Node(id: 1, name: "conv1", op: .conv, inputs: [0], attributes: conv, range: r, depth: 0),
      ], file: "t.yaml")
    #expect(
      GraphPrinter.print(graph, shapes: [[16, 16, 10], [6, 6, 20]]) == """
        graph "g" input 16x16x10
        %1 = conv(%0) kernel=3 count=20 stride=3 pad=2:2 : 6x6x20  "conv1"  @4:5

        """)
  }
}
