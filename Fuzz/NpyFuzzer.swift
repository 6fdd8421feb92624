import NetcBackends

/// libFuzzer's entry point: one input as the bytes of an `.npy` file, decoded at both
/// precisions (each has its own specialised reader). Any error is fine; a crash, a trap, a
/// hang or memory beyond what the input's data bytes hold is a finding. A decoded tensor
/// holds as many elements as its shape says, and an `f4` or `f8` array encodes back to
/// bytes that decode to the same tensor.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNpy(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
  let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
  if let t = try? NpyFile.decode(bytes, path: "fuzz.npy") as Tensor<Float> {
    check(t, bytes: bytes)
  }
  if let t = try? NpyFile.decode(bytes, path: "fuzz.npy") as Tensor<Double> {
    check(t, bytes: bytes)
  }
  return 0
}

func check<T: TensorScalar>(_ t: Tensor<T>, bytes: [UInt8]) {
  precondition(t.data.count == t.shape.reduce(1, *), "shape \(t.shape) but \(t.data.count) elements")
  // Every element came from at least one byte of the input.
  precondition(t.data.count <= bytes.count, "\(t.data.count) elements from \(bytes.count) bytes")
  guard let again = try? NpyFile.decode(NpyFile.encode(t), path: "again.npy") as Tensor<T> else {
    preconditionFailure("the encoding of a decoded tensor does not decode")
  }
  precondition(again.shape == t.shape, "shape \(t.shape) came back as \(again.shape)")
  for (a, b) in zip(again.data, t.data) where !(a == b || (a.isNaN && b.isNaN)) {
    preconditionFailure("\(b) came back as \(a)")
  }
}
