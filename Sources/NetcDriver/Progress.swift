import NetcBackends

#if canImport(Glibc)
  import Glibc
#endif

/// What a long command is doing, on one line of standard error that each update
/// overwrites; only when standard error is a terminal and the output is for people (never
/// with a machine format, never in a log or a pipe). The line is cleared when work ends.
final class Progress: @unchecked Sendable {
  /// Whether anything is shown.
  let enabled: Bool
  /// Updates before this many seconds from the start are not shown: short work stays quiet.
  let delay: Double
  private let start = monotonicSeconds()
  private var lastShown = -1.0
  private var shown = false

  /// Progress for a command whose output is for people when `humanFormat`.
  init(humanFormat: Bool, delay: Double = 0) {
    enabled = humanFormat && isatty(2) != 0 && String(cString: getenv("TERM") ?? strdup("")) != "dumb"
    self.delay = delay
  }

  /// Shows `text` now (a stage: compiling, running).
  func stage(_ text: String) {
    guard enabled else { return }
    show(text)
  }

  /// Shows `text()` when the delay has passed and the last update is a fifth of a second
  /// old: a search may call this millions of times.
  func update(_ text: () -> String) {
    guard enabled else { return }
    let now = monotonicSeconds()
    guard now - start >= delay, now - lastShown >= 0.2 else { return }
    show(text())
  }

  /// Clears the line, before the command's own output.
  func done() {
    guard enabled, shown else { return }
    Output.error.write("\r\u{1B}[K")
    shown = false
  }

  private func show(_ text: String) {
    lastShown = monotonicSeconds()
    shown = true
    Output.error.write("\r\u{1B}[K" + text)
  }
}
