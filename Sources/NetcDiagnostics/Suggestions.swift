/// The candidate closest to `word` by edit distance, if it is close enough to be a likely typo.
public func closestMatch(to word: String, in candidates: [String]) -> String? {
  let lowered = word.lowercased()
  var best: (String, Int)?
  for candidate in candidates {
    let d = editDistance(lowered, candidate.lowercased())
    if d < (best?.1 ?? Int.max) { best = (candidate, d) }
  }
  guard let (match, distance) = best else { return nil }
  // A third of the word may be wrong, at least one character: `CONVV` -> `CONV`, not `FC` -> `GAP`.
  return distance <= max(1, lowered.count / 3) ? match : nil
}

/// Levenshtein distance between two strings, over Unicode scalars.
public func editDistance(_ a: String, _ b: String) -> Int {
  let a = Array(a.unicodeScalars)
  let b = Array(b.unicodeScalars)
  if a.isEmpty { return b.count }
  if b.isEmpty { return a.count }
  var previous = Array(0...b.count)
  var current = [Int](repeating: 0, count: b.count + 1)
  for i in 1...a.count {
    current[0] = i
    for j in 1...b.count {
      current[j] = Swift.min(
        previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
    }
    swap(&previous, &current)
  }
  return previous[b.count]
}
