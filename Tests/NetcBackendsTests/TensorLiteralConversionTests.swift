import NetcDiagnostics
import NetcFrontend
import NetcIR
import Testing

@testable import NetcBackends

@Suite struct TensorLiteralConversionTests {
  func literal(_ text: String) throws -> TensorLiteral {
    TensorLiteral(try #require(try YAMLReader.read(SourceFile(path: "t.yaml", text: text))))
  }

  func message<T: TensorScalar>(_ text: String, as: T.Type) throws -> String? {
    do {
      _ = try Tensor<T>(literal(text))
      return nil
    } catch let e as DiagnosticError {
      return e.diagnostics.map(\.message).joined(separator: "; ")
    }
  }

  @Test func bothPrecisionsKeepShapeAndValues() throws {
    let d = try Tensor<Double>(literal("[[1, 2], [3, 0.1]]"))
    #expect(d.shape == [2, 2] && d.data == [1, 2, 3, 0.1])
    let f = try Tensor<Float>(literal("[[1, 2], [3, 0.1]]"))
    #expect(f.shape == [2, 2] && f.data == [1, 2, 3, Float(0.1)])
  }

  /// Element by element, in reading order: the first problem for the precision wins.
  @Test func theFirstProblemInReadingOrderIsReported() throws {
    // 1e40 comes first: fp32 reports it, fp64 holds it and reports the string after.
    #expect(try message("[[1e40, 2], [x, 3]]", as: Float.self) == "1e40 is out of range for fp32")
    #expect(try message("[[1e40, 2], [x, 3]]", as: Double.self) == "expected a number, got a scalar `x`")
    // The string comes first: 1e40 is never read.
    #expect(try message("[[1, x], [1e40, 2]]", as: Float.self) == "expected a number, got a scalar `x`")
    #expect(try message("[1e40]", as: Double.self) == nil)
  }
}
