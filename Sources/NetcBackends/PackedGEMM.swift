import CNetcKernels

extension Kernels {
  /// An ungrouped fp32 conv through `CNetcKernels`' AVX-512/AVX2 GEMM on the weights packed
  /// once (`PackedConv.panels`): 1x1 stride-1 convs read the channels-last input as the
  /// matrix, others go through im2col tiles; the output pass (bias, residual, activation)
  /// happens as the kernel stores each block. Row tiles are spread over the threads, or,
  /// with fewer than 64 positions a worker (ResNet-50's layer4: 49), column panels, so
  /// each worker streams only its share of the weights (the im2col matrix is then built
  /// whole, by all workers, first). With 64 or more a worker, rows win even where the
  /// channels outnumber the positions: each column unit read the whole matrix, half of it
  /// from the other core's cache (measurements: docs/run.md).
  static func packedGEMMForward<T: TensorScalar>(
    _ x: UnsafePointer<T>, _ g: ConvGeometry, _ packed: PackedConv<T>, into y: UnsafeMutablePointer<T>,
    pass: OutputPass<T>, threads: Int
  ) {
    let P = g.outPositions, n = g.outChannels, k = g.taps * g.groupIn
    let direct = g.isPointwise
    let activation = pass.activation.kernelCode
    func float(_ p: UnsafePointer<T>?) -> UnsafePointer<Float>? {
      p.map { UnsafeRawPointer($0).assumingMemoryBound(to: Float.self) }
    }
    let xs = SharedPointer(base: UnsafeMutablePointer(mutating: float(x)!))
    let ys = SharedPointer(base: UnsafeMutableRawPointer(y).assumingMemoryBound(to: Float.self))
    let bias = float(pass.bias).map { SharedPointer(base: UnsafeMutablePointer(mutating: $0)) }
    let residual = float(pass.residual).map { SharedPointer(base: UnsafeMutablePointer(mutating: $0)) }
    packed.panels.withUnsafeBufferPointer { pb in
      let ws = SharedPointer(base: UnsafeMutablePointer(mutating: pb.baseAddress!))
      // Rows i0..<i1 of `a` (whose row 0 is output position `p0`), columns j0..<j1.
      @Sendable func gemm(_ a: UnsafePointer<Float>, lda: Int, p0: Int, rows i0: Int, _ i1: Int, columns j0: Int, _ j1: Int) {
        _ = netc_gemm_packed(
          a, lda, ws.base, k, n, ys.base + p0 * n, n, bias?.base, residual.map { UnsafePointer($0.base + p0 * n) },
          activation, i0, i1, j0, j1)
      }
      let workers = max(1, threads)
      let panels = (n + 31) / 32
      if workers > 1 && P < 64 * workers && panels >= 2 * workers && P &* n &* k >= parallelThreshold {
        var a = UnsafePointer(xs.base)
        var col: UnsafeMutablePointer<Float>? = nil
        if !direct {
          let c = UnsafeMutablePointer<Float>.allocate(capacity: P * k)
          col = c
          let cs = SharedPointer(base: c), share = (P + workers - 1) / workers
          parallelFor(workers, threads: threads) { t in
            let p0 = min(P, t * share), p1 = min(P, p0 + share)
            if p0 < p1 { im2col(UnsafePointer(xs.base), g, group: 0, rows: p0, p1, into: cs.base + p0 * k) }
          }
          a = UnsafePointer(c)
        }
        defer { col?.deallocate() }
        let shared = SharedPointer(base: UnsafeMutablePointer(mutating: a))
        // Two units per worker, handed out as they finish: one worker for every half
        // stalled the layer whenever another process shared its core, and each unit reads
        // all of `a` (ResNet-50's layer3 3x3 convs: 1.8 MB), so four per worker read it
        // eight times.
        let per = max(1, panels / (2 * workers)), units = (panels + per - 1) / per
        parallelFor(units, threads: threads) { t in
          let j0 = min(n, t * per * 32), j1 = min(n, j0 + per * 32)
          if j0 < j1 { gemm(shared.base, lda: k, p0: 0, rows: 0, P, columns: j0, j1) }
        }
        return
      }
      // Four tiles per worker when each still has 48 rows (four row blocks): a helper that
      // joins late then gets an equal share. (MobileNet v2's 28x28 pointwise convs were
      // four tiles of 196 rows, so a late helper got one.) Fewer rows keep one tile per
      // worker: every tile streams all the weights.
      let most = Kernels.tileRows(positions: P, threads: threads), fine = (P + 4 * workers - 1) / (4 * workers)
      let tileRows = workers > 1 && fine >= 48 ? min(most, fine) : most
      let tiles = (P + tileRows - 1) / tileRows
      parallelFor(tiles, threads: threads, cost: P &* n &* k) { t in
        let p0 = t * tileRows, p1 = min(P, p0 + tileRows)
        if direct {
          gemm(xs.base, lda: k, p0: 0, rows: p0, p1, columns: 0, n)
        } else {
          let col = UnsafeMutablePointer<Float>.allocate(capacity: (p1 - p0) * k)
          defer { col.deallocate() }
          im2col(UnsafePointer(xs.base), g, group: 0, rows: p0, p1, into: col)
          gemm(col, lda: k, p0: p0, rows: 0, p1 - p0, columns: 0, n)
        }
      }
    }
  }
}
