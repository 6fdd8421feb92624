/// A conv's GEMM panels packed on first use. The unscaled panels of a conv whose BN the
/// inference plan folds are read only by the unfused pass (`--trace`, gradients), so a
/// plain `netc run` never packs them: ResNet-50's 25.5 M weights were packed into panels
/// twice at load.
final class LazyPanels: @unchecked Sendable {
  private let lock = Lock()
  private var built: [Float]?
  private let build: @Sendable () -> [Float]

  init(_ build: @escaping @Sendable () -> [Float]) { self.build = build }

  /// The panels, packed by the first caller (others wait for it).
  var value: [Float] {
    lock.lock()
    defer { lock.unlock() }
    if let built { return built }
    let panels = build()
    built = panels
    return panels
  }
}
