extension Kernels {
  /// Convolution backward: the weight gradient (PyTorch layout), the bias gradient and the
  /// input gradient, by the same im2col tiles: dW = col^T dY, dcol = dY W^T then col2im.
  static func convBackward<T: TensorScalar>(
    _ x: [T], _ dy: [T], _ g: ConvGeometry, _ packed: PackedConv<T>, hasBias: Bool
  ) -> (dx: [T], dw: [T], db: [T]?) {
    let P = g.outPositions, cout = g.outChannels
    let gi = g.groupIn, go = g.groupOut, taps = g.taps, k = taps * gi
    var dx = [T](repeating: 0, count: g.inPositions * g.inChannels)
    var dwPacked = [T](repeating: 0, count: packed.matrices.count)
    let tile = min(P, tileRows)
    let col = UnsafeMutablePointer<T>.allocate(capacity: tile * k)
    defer { col.deallocate() }
    x.withUnsafeBufferPointer { xb in
      dy.withUnsafeBufferPointer { db in
        packed.matrices.withUnsafeBufferPointer { wb in
          dwPacked.withUnsafeMutableBufferPointer { dwb in
            dx.withUnsafeMutableBufferPointer { dxb in
              var p0 = 0
              while p0 < P {
                let p1 = min(P, p0 + tile)
                for group in 0..<g.groups {
                  im2col(xb.baseAddress!, g, group: group, rows: p0, p1, into: col)
                  T.gemm(
                    transA: true, transB: false, m: k, n: go, k: p1 - p0, alpha: 1,
                    a: col, lda: k, b: db.baseAddress! + p0 * cout + group * go, ldb: cout, beta: 1,
                    c: dwb.baseAddress! + group * k * go, ldc: go)
                  T.gemm(
                    transA: false, transB: true, m: p1 - p0, n: k, k: go, alpha: 1,
                    a: db.baseAddress! + p0 * cout + group * go, lda: cout, b: wb.baseAddress! + group * k * go, ldb: go,
                    beta: 0, c: col, ldc: k)
                  col2im(col, g, group: group, rows: p0, p1, into: dxb.baseAddress!)
                }
                p0 = p1
              }
            }
          }
        }
      }
    }
    // Back from the packed layout to PyTorch's [Cout][Cin/g][taps].
    var dw = [T](repeating: 0, count: dwPacked.count)
    for group in 0..<g.groups {
      let base = group * k * go
      for co in 0..<go {
        for ci in 0..<gi {
          for t in 0..<taps { dw[((group * go + co) * gi + ci) * taps + t] = dwPacked[base + (t * gi + ci) * go + co] }
        }
      }
    }
    let dbias: [T]? = hasBias ? channelSums(dy, channels: cout) : nil
    return (dx, dw, dbias)
  }

  /// Per channel (last axis) sums.
  static func channelSums<T: TensorScalar>(_ y: [T], channels c: Int) -> [T] {
    var s = [T](repeating: 0, count: c)
    var i = 0
    while i < y.count {
      for j in 0..<c { s[j] += y[i + j] }
      i += c
    }
    return s
  }
}
