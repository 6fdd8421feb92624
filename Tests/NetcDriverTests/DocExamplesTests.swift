import Foundation
import NetcTestSupport
import Testing

/// The command examples of README.md and docs/*.md, run and compared with their text, so
/// that the docs cannot go stale unseen. Every fenced block whose first line is `$ netc ...`
/// is checked: each `$ ` command runs in the repository root and its standard output then
/// standard error must be the lines under it (a line `...`, however indented, ends the comparison there;
/// `$ echo $?` compares the exit code). A block that cannot be checked (timings, files not
/// in the repository) carries `<!-- docs-check: skip: REASON -->` on the line above its
/// fence; a block with neither a passing run nor that marker fails.
@Suite(.serialized) struct DocExamplesTests {
  struct Block: CustomTestStringConvertible, Sendable {
    var file: String
    var line: Int
    var lines: [String]
    var skipReason: String?
    var testDescription: String { "\(file):\(line)" }
  }

  static let blocks: [Block] = {
    let files =
      ["README.md"]
      + ((try? FileManager.default.contentsOfDirectory(atPath: repositoryPath("docs"))) ?? [])
      .filter { $0.hasSuffix(".md") }.sorted().map { "docs/" + $0 }
    var out: [Block] = []
    for file in files {
      guard let text = try? String(contentsOfFile: repositoryPath(file), encoding: .utf8) else { continue }
      let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
      var i = 0
      while i < lines.count {
        guard lines[i].hasPrefix("```") else { i += 1; continue }
        let start = i
        var end = i + 1
        while end < lines.count, !lines[end].hasPrefix("```") { end += 1 }
        let body = Array(lines[(start + 1)..<min(end, lines.count)])
        if body.first?.hasPrefix("$ netc ") == true {
          let above = start > 0 ? lines[start - 1] : ""
          let marker = "<!-- docs-check: skip: "
          let reason = above.hasPrefix(marker) ? String(above.dropFirst(marker.count).dropLast(" -->".count)) : nil
          out.append(Block(file: file, line: start + 2, lines: body, skipReason: reason))
        }
        i = end + 1
      }
    }
    return out
  }()

  /// `a "b c" d` as three arguments; a `#` after blanks starts a comment.
  static func words(_ command: String) -> [String] {
    var words: [String] = [], current = "", quoted = false, started = false
    for c in command {
      if c == "\"" { quoted.toggle(); started = true; continue }
      if !quoted && c == "#" && current.isEmpty { break }
      if !quoted && c == " " {
        if started { words.append(current) }
        current = ""
        started = false
        continue
      }
      current.append(c)
      started = true
    }
    if started { words.append(current) }
    return words
  }

  @Test("the docs hold command examples to check")
  func found() {
    #expect(Self.blocks.filter { $0.skipReason == nil }.count >= 10)
  }

  @Test("every skipped example says why", arguments: blocks.filter { $0.skipReason != nil })
  func skipped(_ block: Block) {
    #expect(!(block.skipReason ?? "").trimmingCharacters(in: .whitespaces).isEmpty)
  }

  @Test("a command example prints what the docs show", arguments: blocks.filter { $0.skipReason == nil })
  func example(_ block: Block) throws {
    var k = 0
    var lastStatus: Int32 = 0
    while k < block.lines.count {
      let command = block.lines[k]
      k += 1
      var expected: [String] = []
      while k < block.lines.count, !block.lines[k].hasPrefix("$ ") {
        expected.append(block.lines[k])
        k += 1
      }
      while expected.last == "" { expected.removeLast() }
      var actual: [String]
      if command == "$ echo $?" {
        actual = [String(lastStatus)]
      } else {
        let words = Self.words(String(command.dropFirst(2)))
        try #require(words.first == "netc", "\(block.file):\(block.line): only netc commands run: `\(command)`")
        let result = try NetcProcess.run(Array(words.dropFirst()))
        lastStatus = result.status
        actual = (result.stdout + result.stderr).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
      }
      while actual.last == "" { actual.removeLast() }
      if let cut = expected.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == "..." }) {
        expected = Array(expected[..<cut])
        actual = Array(actual.prefix(expected.count))
      }
      #expect(actual == expected, "\(block.file):\(block.line): `\(command)`:\n\(actual.joined(separator: "\n"))")
    }
  }
}
