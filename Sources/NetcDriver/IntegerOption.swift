import ArgumentParser

/// Integer option values, parsed so that a mistake names itself. ArgumentParser alone reads
/// `--batch -1` as a missing value followed by an option `-1`, and an integer beyond 64 bits
/// as an unnamed parse failure; these options are declared `parsing: .unconditional` and
/// parse through here, so that `-1` reaches the range check and is called out of range.
enum IntegerOption {
  /// `text` as an integer in `range`, else an error that ArgumentParser prints after the
  /// option's name: "The value '-1' is invalid for '--batch <batch>': out of range: ...".
  static func parse(_ text: String, in range: ClosedRange<Int>) throws -> Int {
    guard isInteger(text) else { throw ValidationError("not an integer") }
    guard let value = Int(text) else {
      throw ValidationError(text.hasPrefix("-") ? "out of range: \(describe(range))" : "too large: at most \(Int.max)")
    }
    guard range.contains(value) else { throw ValidationError("out of range: \(describe(range))") }
    return value
  }

  /// A seed: any unsigned 64-bit integer.
  static func seed(_ text: String) throws -> UInt64 {
    guard isInteger(text) else { throw ValidationError("not an integer") }
    guard let value = UInt64(text) else {
      throw ValidationError(text.hasPrefix("-") ? "out of range: a seed is at least 0" : "too large: at most \(UInt64.max)")
    }
    return value
  }

  /// `at least 1`, `at most 8`, or `1 through 8`.
  static func describe(_ range: ClosedRange<Int>) -> String {
    switch (range.lowerBound, range.upperBound) {
    case (let lo, Int.max): return "it must be at least \(lo)"
    case (Int.min, let hi): return "it must be at most \(hi)"
    case (let lo, let hi): return "it must be \(lo) through \(hi)"
    }
  }
}

/// Digits with an optional sign: an integer however large.
func isInteger(_ text: String) -> Bool {
  let digits = text.first == "-" || text.first == "+" ? text.dropFirst() : Substring(text)
  return !digits.isEmpty && digits.allSatisfy { $0.isASCII && $0.isNumber }
}
