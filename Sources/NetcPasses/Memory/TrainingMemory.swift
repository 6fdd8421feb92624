import NetcIR

/// The memory of one training step, each storage counted once: the weights, their
/// gradients, the optimizer's state, under mixed precision the fp32 master copy, and what
/// the forward pass saves for backward. Under mixed precision (Micikevicius et al. 2018,
/// the ZeRO paper's accounting, Rajbhandari et al. 2020, §3.1) the weights and gradients
/// are half precision (2 + 2 bytes a parameter) and the master copy and the optimizer's
/// states fp32 (4 + 4 · states): 16 bytes a parameter with Adam. BatchNorm's running
/// statistics are counted once, in the saved tensors (PyTorch hands them to backward).
public struct TrainingMemory: Sendable {
  /// The optimizer.
  public var optimizer: Optimizer
  /// The half type of mixed-precision training, or nil for training in `storage`.
  public var mixedPrecision: StorageType?
  /// The element type of the weights, gradients and saved activations.
  public var storage: StorageType
  /// The parameters' bytes, their gradients', the optimizer states' and the master copy's.
  public var weights: Int, gradients: Int, optimizerState: Int, masterCopy: Int
  /// What the forward pass saves for backward.
  public var saved: SavedTensors
  /// The whole step: the four above and the saved tensors.
  public var total: BatchBytes
}

/// Training memory of `graph` with `params` learnable parameters. Nil on overflow.
public func trainingMemory(
  _ graph: Graph, _ shapes: Shapes, params: Int, optimizer: Optimizer, storage: StorageType, mixedPrecision: StorageType?
) -> TrainingMemory? {
  let activations = mixedPrecision ?? storage
  guard let saved = savedForBackward(graph, shapes, storage: activations) else { return nil }
  func bytes(_ n: Int) -> Int? {
    let (b, o) = params.multipliedReportingOverflow(by: n)
    return o ? nil : b
  }
  let parameterBytes = mixedPrecision?.bytes ?? storage.bytes
  let stateBytes = mixedPrecision == nil ? storage.bytes : StorageType.fp32.bytes
  guard let weights = bytes(parameterBytes), let gradients = bytes(parameterBytes),
    let state = bytes(stateBytes * optimizer.states), let master = mixedPrecision == nil ? 0 : bytes(StorageType.fp32.bytes)
  else { return nil }
  var fixed = 0
  for part in [weights, gradients, state, master] {
    let (s, o) = fixed.addingReportingOverflow(part)
    if o { return nil }
    fixed = s
  }
  guard let total = saved.total.adding(BatchBytes(constant: fixed)) else { return nil }
  return TrainingMemory(
    optimizer: optimizer, mixedPrecision: mixedPrecision, storage: activations, weights: weights, gradients: gradients,
    optimizerState: state, masterCopy: master, saved: saved, total: total)
}
