import NetcDiagnostics

/// Integer arithmetic on the spec's numbers that reports overflow as a diagnostic at `range`
/// instead of trapping.
struct Checked {
  /// Where the numbers came from.
  let range: SourceRange?

  func add(_ a: Int, _ b: Int) throws(DiagnosticError) -> Int {
    let (r, o) = a.addingReportingOverflow(b)
    if o { throw overflow("\(a) + \(b)") }
    return r
  }

  func sub(_ a: Int, _ b: Int) throws(DiagnosticError) -> Int {
    let (r, o) = a.subtractingReportingOverflow(b)
    if o { throw overflow("\(a) - \(b)") }
    return r
  }

  func mul(_ a: Int, _ b: Int) throws(DiagnosticError) -> Int {
    let (r, o) = a.multipliedReportingOverflow(by: b)
    if o { throw overflow("\(a) * \(b)") }
    return r
  }

  func product(_ values: some Sequence<Int>) throws(DiagnosticError) -> Int {
    var p = 1
    for v in values { p = try mul(p, v) }
    return p
  }

  private func overflow(_ what: String) -> DiagnosticError {
    DiagnosticError([.error(.overflow, "\(what) overflows 64-bit integers", at: range)])
  }
}
