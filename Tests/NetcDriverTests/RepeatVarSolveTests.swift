import Foundation
import NetcTestSupport
import Testing

/// `solve` and `check` of specs whose repeat counts are vars, against arithmetic.
@Suite struct RepeatVarSolveTests {
  /// specs/solve-gpt-family.yaml's parameters, by hand: token and position tables
  /// (50257 + 1024)·d, per block 12d² + 13d (two LNs 4d, attention 4d² + 4d, MLP 8d² + 5d),
  /// the final LN 2d; the LM head is tied.
  static func params(_ l: Int, _ d: Int) -> Int { (50257 + 1024) * d + l * (12 * d * d + 13 * d) + 2 * d }

  static var expected: [[Int]] {
    var out: [[Int]] = []
    for l in 1...48 {
      for d in [256, 384, 512, 768, 1024] {
        for h in [4, 8, 12, 16] where d % h == 0 && d / h >= 64 && params(l, d) <= 60_000_000 { out.append([l, d, h]) }
      }
    }
    return out
  }

  @Test func everyDepthWidthAndHeadCountWithinTheBudget() throws {
    let r = try NetcProcess.run(["solve", "specs/solve-gpt-family.yaml", "--format", "json", "--max", "1000"])
    #expect(r.status == 0, "\(r.stderr)")
    let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
    #expect(json["vars"] as? [String] == ["L", "d", "h"])
    #expect(json["count"] as? Int == Self.expected.count)
    let listed = (json["solutions"] as! [[String: Int]]).map { [$0["L"]!, $0["d"]!, $0["h"]!] }
    #expect(listed == Self.expected)
  }

  @Test func analyzeNeedsTheRepeatCountAndTakesItFromSet() throws {
    let unbound = try NetcProcess.run(["analyze", "specs/solve-gpt-family.yaml", "--set", "d=256", "--set", "h=4"])
    #expect(unbound.status == 1)
    #expect(unbound.stderr.contains("error[NS305]: the repeat count `L` has no value here"))
    let bound = try NetcProcess.run([
      "analyze", "specs/solve-gpt-family.yaml", "--set", "L=3", "--set", "d=256", "--set", "h=4", "--format", "json",
    ])
    #expect(bound.status == 0, "\(bound.stderr)")
    let totals = (try JSONSerialization.jsonObject(with: Data(bound.stdout.utf8)) as! [String: Any])["totals"] as! [String: Any]
    #expect(totals["params"] as? Int == Self.params(3, 256))
  }

  @Test func checkPassesWhenSomeDepthFitsAndFailsWhenNoneDoes() throws {
    #expect(try NetcProcess.run(["check", "specs/solve-gpt-family.yaml"]).status == 0)
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("netc-repeat-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let text = try String(contentsOfFile: repositoryPath("specs/solve-gpt-family.yaml"), encoding: .utf8)
      .replacingOccurrences(of: "<= 60M", with: "<= 1M")
    let file = dir.appendingPathComponent("tight.yaml")
    try text.write(to: file, atomically: true, encoding: .utf8)
    let r = try NetcProcess.run(["check", file.path])
    #expect(r.status == 1)
    #expect(r.stderr.contains("error[NS302]"))
  }
}
