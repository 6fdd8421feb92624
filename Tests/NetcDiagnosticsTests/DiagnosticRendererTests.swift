import NetcDiagnostics
import Testing

struct DiagnosticRendererTests {
  let file = SourceFile(path: "net.yaml", text: "name: t\ninput: 8x8x3\nlayers:\n  - CONVV3-20 stride 2 pad 3\n")

  @Test func headerSnippetCaretAndNote() {
    let range = SourceRange(file: "net.yaml", start: SourceLocation(line: 4, column: 5), length: 5)
    let d = Diagnostic.error(.unknownOp, "unknown layer kind `CONVV`", at: range, notes: [.init("did you mean `CONV`?", at: range)])
    #expect(
      DiagnosticRenderer(sources: [file]).render([d]) == """
        net.yaml:4:5: error[NS104]: unknown layer kind `CONVV`
          - CONVV3-20 stride 2 pad 3
            ^~~~~
        net.yaml:4:5: note: did you mean `CONV`?

        """)
  }

  @Test func colourOnlyWhenAsked() {
    let d = Diagnostic.warning(.repeatedActivation, "x", at: nil)
    #expect(!DiagnosticRenderer(colored: false).render([d]).contains("\u{1B}["))
    #expect(DiagnosticRenderer(colored: true).render([d]).contains("\u{1B}["))
  }

  @Test func sortedByPositionOnePerLocation() {
    func at(_ line: Int) -> SourceRange { SourceRange(file: "net.yaml", start: SourceLocation(line: line, column: 1), length: 1) }
    let ds: [Diagnostic] = [.error(.wrongType, "b", at: at(3)), .error(.wrongType, "a", at: at(1)), .error(.wrongType, "b", at: at(3))]
    #expect(ds.sortedForDisplay().map(\.message) == ["a", "b"])
  }

  @Test(arguments: [
    ("CONVV", ["conv", "pool", "fc"], "conv" as String?), ("strid", ["stride", "pad"], "stride"),
    ("layer", ["layers", "input"], "layers"), ("xyz", ["conv", "pool"], nil),
  ])
  func didYouMean(word: String, candidates: [String], expected: String?) {
    #expect(closestMatch(to: word, in: candidates) == expected)
  }

  @Test func sourceLinesWithCRLF() {
    let f = SourceFile(path: "x", text: "a\r\nbé\r\n\nlast")
    #expect(f.line(1) == "a")
    #expect(f.line(2) == "bé")
    #expect(f.line(3) == "")
    #expect(f.line(4) == "last")
    #expect(f.line(5) == nil)
  }

  @Test func everyCodeIsDistinctAndSummarized() {
    let codes = DiagnosticCode.allCases.map(\.rawValue)
    #expect(Set(codes).count == codes.count)
    #expect(DiagnosticCode.allCases.allSatisfy { !$0.summary.isEmpty })
  }
}
