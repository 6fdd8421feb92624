import NetcDiagnostics
import NetcIR
import Testing

@testable import NetcFrontend

/// The literal `text` writes, read as the file `t.yaml`.
private func literal(_ text: String) throws -> TensorLiteral {
  TensorLiteral(try #require(try YAMLReader.read(SourceFile(path: "t.yaml", text: text))))
}

@Suite struct TensorLiteralLoweringTests {
  @Test func nestingIsTheShapeAndNumbersAreRowMajor() throws {
    let t = try literal("[[1, 2, 3], [4, 5, -6e-1]]")
    #expect(t.shape == [2, 3])
    #expect(t.values == [1, 2, 3, 4, 5, -0.6])
    #expect(t.problem == nil && t.beyondFP32 == nil)
  }

  @Test func aPlainNumberIsAScalarAndAQuotedOneIsNot() throws {
    let inf = try literal(".inf")
    #expect(inf.shape == [] && inf.values == [.infinity])
    let quoted = try literal("\"3\"")
    #expect(quoted.values.isEmpty)
    #expect(quoted.problem?.message == "expected a number, got a scalar `3`")
    #expect(quoted.problem?.code == .wrongType)
  }

  /// The numbers read before a problem stay: reading element by element gets that far.
  @Test func raggedNestingKeepsWhatCameBefore() throws {
    let t = try literal("[[1, 2], [3]]")
    #expect(t.values == [1, 2])
    #expect(t.problem?.message == "ragged nesting: this list has 1 items, its first sibling has 2")
    #expect(t.problem?.code == .weightShape)
    #expect(t.problem?.range?.start == SourceLocation(line: 1, column: 10))
  }

  /// 1e40 is finite in Double (max about 1.8e308) but not in fp32 (max about 3.4e38).
  @Test func theFirstNumberBeyondFP32IsRecorded() throws {
    let t = try literal("[1, 1e40, 2e40]")
    #expect(t.values == [1, 1e40, 2e40])
    #expect(t.beyondFP32?.index == 1)
    #expect(t.beyondFP32?.text == "1e40")
    #expect(t.beyondFP32?.range.start == SourceLocation(line: 1, column: 5))
    #expect(try literal("[3e38, .inf]").beyondFP32 == nil)
  }

  /// Twelve levels whose first item is a list of 64 look like 64^12 = 2^72 numbers, more
  /// than an Int holds; the literal is ragged one level up from the bottom.
  @Test func aRaggedShapeBeyondIntIsAProblemNotATrap() throws {
    var text = "1"
    for _ in 0..<12 { text = "[" + text + String(repeating: ", 1", count: 63) + "]" }
    let t = try literal(text)
    #expect(t.shape == Array(repeating: 64, count: 12))
    #expect(t.values.count == 64)
    #expect(t.problem?.message == "ragged nesting: expected a list of 64 at depth 12, got a scalar `1`")
  }
}

@Suite struct WeightsLoweringTests {
  func weights(_ text: String) throws -> WeightsDecl {
    WeightsDecl(try #require(try YAMLReader.read(SourceFile(path: "w.yaml", text: text))))
  }

  @Test func namesKeysAndValuesKeepTheirRanges() throws {
    let w = try weights("c:\n  weight: c.weight.npy\n  bias: [1, 2]\n  gamma: \"1.5\"\n")
    let layer = try #require(w.layers?.first)
    #expect(layer.name == "c" && layer.nameRange.start == SourceLocation(line: 1, column: 1))
    let tensors = try #require(layer.tensors)
    #expect(tensors.map(\.key) == ["weight", "bias", "gamma"])
    #expect(tensors[1].keyRange.start == SourceLocation(line: 3, column: 3))
    guard case .file("c.weight.npy") = tensors[0].value else {
      Issue.record("a string is a path: \(tensors[0].value)")
      return
    }
    guard case .literal(let bias) = tensors[1].value else {
      Issue.record("a list is a literal")
      return
    }
    #expect(bias.shape == [2] && bias.values == [1, 2])
    #expect(tensors[1].range.start == SourceLocation(line: 3, column: 9))
    // Quoted, "1.5" is a string, so a path, as everywhere in a spec.
    guard case .file("1.5") = tensors[2].value else {
      Issue.record("a quoted number is a path: \(tensors[2].value)")
      return
    }
  }

  @Test func whatIsNotAMappingIsDescribed() throws {
    let list = try weights("[1, 2]")
    #expect(list.layers == nil && list.written.kind == "a list")
    let layer = try #require(try weights("c: 3\n").layers?.first)
    #expect(layer.tensors == nil && layer.written.kind == "a scalar `3`")
    #expect(layer.written.range.start == SourceLocation(line: 1, column: 4))
  }
}
