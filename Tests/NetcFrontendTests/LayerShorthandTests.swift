import NetcDiagnostics
import NetcIR
import NetcTestSupport
import Testing

@testable import NetcFrontend

/// The shorthand grammar: heads, kernels, counts, options, flags and the asserted shape.
struct LayerShorthandTests {
  let origin = SourceRange(file: "t.yaml", start: SourceLocation(line: 3, column: 5), length: 1)

  func parse(_ text: String) throws -> LayerDecl { try LayerShorthand.parse(text, at: origin) }

  @Test(
    arguments: [
      // text, op, kernel, count
      ("CONV3-20", "conv", ["3"], "20"),
      ("conv3x5-64", "conv", ["3", "5"], "64"),
      ("CONV3×3×3-8", "conv", ["3", "3", "3"], "8"),
      ("CONV$k-96", "conv", ["$k"], "96"),
      ("CONV${k}x${2*k}-${c+1}", "conv", ["${k}", "${2*k}"], "${c+1}"),
      ("FC-10", "fc", [], "10"),
      ("Dense-10", "fc", [], "10"),
      ("LINEAR-$n", "linear", [], "$n"), ("DENSE-$n", "fc", [], "$n"),
      ("POOL-2", "pool", ["2"], nil),
      ("POOL2", "pool", ["2"], nil),
      ("MAXPOOL3", "pool", ["3"], nil),
      ("AVGPOOL-3", "avgpool", ["3"], nil),
      ("DWCONV3", "dwconv", ["3"], nil),
      ("DEPTHWISE3-2", "dwconv", ["3"], "2"),
      ("PWCONV-64", "pwconv", [], "64"),
      ("POINTWISE-64", "pwconv", [], "64"),
      ("SEPCONV3-128", "sepconv", ["3"], "128"),
      ("RELU6", "relu6", [], nil),
      ("relu", "relu", [], nil),
      ("GlobalAvgPool", "gap", [], nil),
      ("BATCHNORM", "bn", [], nil),
    ] as [(String, String, [String], String?)])
  func heads(text: String, op: String, kernel: [String], count: String?) throws {
    let d = try parse(text)
    #expect(d.op.name == op)
    #expect(d.kernel.map(\.text) == kernel)
    #expect(d.count?.text == count)
  }

  @Test func optionsAndArrow() throws {
    let d = try parse("CONV3-20 stride 2,1 pad 1:2, 0 name c1 bias false -> 6x6x20")
    #expect(d.option("stride")?.items.map(\.text) == ["2", "1"])
    #expect(d.option("pad")?.items.map(\.text) == ["1:2", "0"])
    #expect(d.option("name")?.items.map(\.text) == ["c1"])
    #expect(d.option("bias")?.items.map(\.text) == ["false"])
    #expect(d.expect?.text == "6x6x20")
  }

  @Test func wordsKeepTheirColumns() throws {
    // "CONV3-20 stride 2": `stride` starts 9 characters in, so at column 5 + 9 = 14.
    let d = try parse("CONV3-20 stride 2 -> 7x7x20")
    #expect(d.option("stride")?.keyRange.start == SourceLocation(line: 3, column: 14))
    #expect(d.option("stride")?.items[0].range.start.column == 21)
    #expect(d.expect?.range.start.column == 5 + 21)
    #expect(d.count?.range.start.column == 5 + 6)
  }

  @Test(arguments: [("same", "pad", "same"), ("ceil", "round", "ceil"), ("nobias", "bias", "false")])
  func flags(flag: String, key: String, value: String) throws {
    let d = try parse((key == "round" ? "POOL2 " : "CONV3-8 ") + flag)
    #expect(d.option(key)?.items.map(\.text) == [value])
  }

  @Test func arrowInsideAnExpressionIsNotAnArrow() throws {
    let d = try parse("FC-${n-1} -> 9")
    #expect(d.count?.text == "${n-1}")
    #expect(d.expect?.text == "9")
  }

  @Test(
    arguments: [
      // text, column offset of the error, message
      ("CONVV3-20", 0, "unknown layer kind `CONVV`"),
      ("CONV-20", 0, "CONV needs a kernel size, as in `CONV3-20`"),
      ("CONV3", 0, "CONV needs the number of filters, as in `CONV3-20`"),
      ("FC10", 2, "FC takes no kernel; write the units after `-`, as in `FC-10`"),
      ("RELU-3", 4, "RELU takes no count after `-`"),
      ("POOL2-3", 5, "POOL takes no count after `-`"),
      ("CONV3-20 strid 2", 9, "unknown option `strid` for CONV"),
      ("CONV3-20 stride", 9, "option `stride` needs a value"),
      ("CONV3-20 stride 2 stride 3", 18, "option `stride` is given twice"),
      ("FC-10 pad 1", 6, "unknown option `pad` for FC"),
      ("CONV3x-8", 6, "expected a kernel extent after `x`"),
      ("CONV3-20 ->", 9, "expected a shape after `->`, such as `6x6x20`"),
      ("CONV${k-20", 0, "unclosed `${`"),
      ("CONV3-20 stride 2,,1", 16, "empty value between commas"),
    ] as [(String, Int, String)])
  func errorsPointAtTheWord(text: String, offset: Int, message: String) {
    #expect {
      try parse(text)
    } throws: { error in
      guard let d = (error as? DiagnosticError)?.diagnostics.first else { return false }
      return d.message == message && d.range?.start.column == 5 + offset
    }
  }

  @Test func didYouMean() {
    do {
      _ = try parse("CONVV3-20")
      Issue.record("expected an error")
    } catch let error as DiagnosticError {
      #expect(error.diagnostics[0].notes.map(\.message) == ["did you mean `CONV`?"])
    } catch {
      Issue.record(error)
    }
    do {
      _ = try parse("CONV3-20 strid 2")
      Issue.record("expected an error")
    } catch let error as DiagnosticError {
      #expect(error.diagnostics[0].notes.first?.message == "did you mean `stride`?")
    } catch {
      Issue.record(error)
    }
  }
}
