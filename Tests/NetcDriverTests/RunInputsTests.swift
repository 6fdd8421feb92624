import Foundation
import Testing

@testable import NetcDriver

/// `netc run` on a spec of two inputs (`--input src=... --input tgt=...`) against
/// torch.nn.Transformer's encoder and decoder layer (scripts/run/generate_encoder_decoder_fixtures.py):
/// the output, the loss and every gradient, the two inputs' included.
@Suite(.serialized) struct RunInputsTests {
  /// The fixture's spec, weights, inputs and target written as files in a fresh directory.
  static func files() throws -> (dir: String, fixture: [String: Any]) {
    let path = "\(repoRoot)/Tests/NetcDriverTests/Fixtures/encoder_decoder.json"
    let fixture = try JSONSerialization.jsonObject(with: try Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("netc-inputs-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    try (fixture["spec"] as! String).write(toFile: "\(dir)/spec.yaml", atomically: true, encoding: .utf8)
    func write(_ value: Any, _ name: String) throws {
      try JSONSerialization.data(withJSONObject: value).write(to: URL(fileURLWithPath: "\(dir)/\(name)"))
    }
    try write(fixture["weights"]!, "weights.json")
    let inputs = fixture["inputs"] as! [String: Any]
    try write(inputs["src"]!, "src.json")
    try write(inputs["tgt"]!, "tgt.json")
    try write(fixture["target"]!, "target.json")
    return (dir, fixture)
  }

  static func flat(_ v: Any) -> [Double] {
    if let a = v as? [Any] { return a.flatMap(flat) }
    return [(v as! NSNumber).doubleValue]
  }

  static func largestDifference(_ a: Any, _ b: Any) -> Double {
    let x = flat(a), y = flat(b)
    guard x.count == y.count else { return .infinity }
    return zip(x, y).map { abs($0 - $1) }.max() ?? 0
  }

  @Test(arguments: [("f64", 1e-10), ("f32", 2e-4)])
  func forwardAndGradientsMatchPyTorch(precision: String, tolerance: Double) throws {
    let (dir, f) = try Self.files()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let r = capture([
      "run", "\(dir)/spec.yaml", "--input", "src=\(dir)/src.json", "--input", "tgt=\(dir)/tgt.json", "--weights", "\(dir)/weights.json",
      "--target", "\(dir)/target.json", "--loss", "sse", "--grad", "--format", "json", "--precision", precision,
    ])
    try #require(r.code == 0, "\(r.err)")
    let out = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as! [String: Any]
    #expect(Self.largestDifference(out["output"]!, f["output"]!) < tolerance)
    let loss = (out["loss"] as! NSNumber).doubleValue, expected = (f["loss_value"] as! NSNumber).doubleValue
    #expect(abs(loss - expected) < tolerance * max(1, abs(expected)))
    let grads = out["gradients"] as! [String: Any], want = f["gradients"] as! [String: Any]
    #expect(Set(grads.keys) == Set(want.keys))
    #expect(grads["input.src"] != nil && grads["input.tgt"] != nil)
    for (key, value) in want {
      guard let got = grads[key] else { continue }
      #expect(Self.largestDifference(got, value) < tolerance * 10, "\(key)")
    }
  }

  /// Each mistake in `--input` is a usage error (exit 2) that says what to write.
  @Test(
    arguments: [
      (["src=SRC"], "no --input for `tgt`: give each as --input src=TENSOR --input tgt=TENSOR"),
      (["SRC"], "the spec has 2 inputs; give each as --input src=TENSOR --input tgt=TENSOR"),
      (["src=SRC", "tgt=TGT", "tgt=TGT"], "--input tgt=... is given twice"),
      (["src=SRC", "tg=TGT"], "the spec has no input `tg`; did you mean `tgt`? (its inputs: src, tgt)"),
      (["src=TGT", "tgt=TGT"], "the input `src` is 3x8, the spec's `src` is 5x8"),
    ])
  func inputMistakes(arguments: [String], message: String) throws {
    let (dir, _) = try Self.files()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let given = arguments.flatMap {
      ["--input", $0.replacingOccurrences(of: "SRC", with: "\(dir)/src.json").replacingOccurrences(of: "TGT", with: "\(dir)/tgt.json")]
    }
    let r = capture(["run", "\(dir)/spec.yaml", "--weights", "\(dir)/weights.json"] + given)
    #expect(r.code == 2)
    #expect(r.err.contains(message), "\(r.err)")
  }

  /// A spec of one input keeps `--input TENSOR` and allows no second.
  @Test func oneInputTakesOne() {
    let r = capture(["run", "\(repoRoot)/specs/run-mlp3.yaml", "--input", "[1, -1]", "--input", "[1, -1]"])
    #expect(r.code == 2)
    #expect(r.err.contains("the spec has one input: give one --input, not 2"))
  }
}
