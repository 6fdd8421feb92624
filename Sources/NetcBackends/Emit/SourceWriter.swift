/// Builds Swift source line by line with two-space indentation, so the emitter reads as
/// the code it writes.
struct SourceWriter {
  /// The text so far.
  private(set) var text = ""
  private var depth = 0

  /// Appends one line at the current indentation (an empty line stays empty).
  mutating func line(_ s: String = "") {
    if !s.isEmpty { text += String(repeating: "  ", count: depth) + s }
    text += "\n"
  }

  /// Appends `head {`, the lines `body` writes one level deeper, then `}` (plus `tail`).
  mutating func block(_ head: String, tail: String = "", _ body: (inout SourceWriter) -> Void) {
    line(head + " {")
    depth += 1
    body(&self)
    depth -= 1
    line("}" + tail)
  }
}
