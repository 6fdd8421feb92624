/// The name lowering gives a layer or structure that has none: its base (the op's
/// mnemonic, `residual`, a block's name) and its count among those of that base in its
/// scope. A base that ends in a digit gets `_` before the count, so that the count does not
/// run into it: `conv1`, `relu2`, but `relu6_1`, not `relu61`.
public enum DefaultName {
  /// The default name of the `count`th (from 1) of `base` in a scope.
  public static func make(_ base: String, count: Int) -> String {
    base + separator(base) + String(count)
  }

  /// Whether `name` is a default name of `base`: `make(base, count:)` for some count >= 1.
  public static func matches(_ name: String, base: String) -> Bool {
    let prefix = base + separator(base)
    guard name.hasPrefix(prefix) else { return false }
    let digits = name.utf8.dropFirst(prefix.utf8.count)
    return digits.first.map { $0 != UInt8(ascii: "0") } == true && digits.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
  }

  /// `_` after a base ending in a digit, else nothing.
  static func separator(_ base: String) -> String {
    base.utf8.last.map { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") } == true ? "_" : ""
  }
}
