import ArgumentParser
import NetcFrontend

/// `netc schema`: the JSON Schema of the spec language, or the docs' op table, both
/// generated from the op definitions that netc itself parses with.
struct Schema: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Print the JSON Schema of the spec language (for editors and validators).",
    discussion: """
      The schema is generated from netc's own op table, so it accepts exactly the ops and \
      options this netc does; schemas/netspec.schema.json is this output. --docs-table \
      prints the op table of docs/spec-language.md instead.
      """
  )

  @Flag(help: "Print the docs' op table (Markdown) instead of the schema.")
  var docsTable = false

  func run() throws {
    Output.standard.write(docsTable ? OpTableDoc.markdown : SpecSchema.text)
  }
}
