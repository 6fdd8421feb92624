/// `1 shape`, `2 shapes`: a count with its noun in the right number, for every message.
public func counted(_ n: Int, _ singular: String, plural: String? = nil) -> String {
  "\(n) \(n == 1 ? singular : plural ?? singular + "s")"
}
