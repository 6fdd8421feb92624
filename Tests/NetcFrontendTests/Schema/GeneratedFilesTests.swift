import Foundation
import NetcFrontend
import NetcIR
import NetcTestSupport
import Testing

/// The JSON Schema and the docs' op table are generated from the op definitions; these
/// tests regenerate both and fail on any difference, so neither can drift from what netc
/// accepts. `RECORD_GOLDENS=1 swift test --filter GeneratedFilesTests` rewrites them.
@Suite struct GeneratedFilesTests {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()

  @Test("schemas/netspec.schema.json is what `netc schema` generates")
  func schemaFile() throws {
    let url = Self.root.appendingPathComponent("schemas/netspec.schema.json")
    if Golden.recording { try SpecSchema.text.write(to: url, atomically: true, encoding: .utf8) }
    let file = try String(contentsOf: url, encoding: .utf8)
    #expect(file == SpecSchema.text, "regenerate it: netc schema > schemas/netspec.schema.json")
  }

  @Test("docs/spec-language.md's op table is what `netc schema --docs-table` generates")
  func docsTable() throws {
    let url = Self.root.appendingPathComponent("docs/spec-language.md")
    let page = try String(contentsOf: url, encoding: .utf8)
    let regenerated = try #require(OpTableDoc.replacingTable(in: page), "the page lost its op table markers")
    if Golden.recording { try regenerated.write(to: url, atomically: true, encoding: .utf8) }
    #expect(page == regenerated, "regenerate it: RECORD_GOLDENS=1 swift test --filter GeneratedFilesTests")
  }

  @Test("every spelling and option of the table is in the schema")
  func schemaNamesEveryOp() {
    let text = SpecSchema.text
    for op in LayerSpelling.all {
      for word in [op.name] + op.aliases { #expect(text.contains("\"\(word)\": {"), "`\(word)` has no longhand entry") }
      for key in op.options { #expect(text.contains("\"\(key)\": {"), "`\(key)` is not in the schema") }
    }
  }
}
