import CNetcKernels

extension Kernels {
  /// Rows of the output that one GEMM call covers: large enough to amortise BLAS's packing
  /// of the weights, small enough that the im2col tile stays in cache. (More rows gained
  /// nothing: OpenBLAS packs both operands on every call either way.)
  static let tileRows = 256

  /// Rows per forward GEMM tile for `P` output positions on `threads` workers: at most
  /// `tileRows`, and tiles a multiple of the workers so each gets an equal share (with
  /// fixed 256-row tiles ResNet-50's layer3 and layer4, P = 196 and 49, ran on one thread).
  static func tileRows(positions P: Int, threads: Int) -> Int {
    let workers = max(1, threads)
    var tiles = max(workers, (P + tileRows - 1) / tileRows)
    tiles = (tiles + workers - 1) / workers * workers
    return max(1, (P + tiles - 1) / tiles)
  }

  /// Convolution forward: `y[p][co] = bias[co] + sum x[q][ci] * w[co][ci][tap]`, channels
  /// last, into a new array (see the pointer form).
  static func convForward<T: TensorScalar>(
    _ x: [T], _ g: ConvGeometry, _ packed: PackedConv<T>, bias: [T]?, threads: Int
  ) -> [T] {
    let n = g.outPositions * g.outChannels
    return [T](unsafeUninitializedCapacity: n) { yb, count in
      count = n
      guard n > 0 else { return }
      x.withUnsafeBufferPointer { xb in
        if let bias {
          bias.withUnsafeBufferPointer { bb in
            convForward(xb.baseAddress!, g, packed, into: yb.baseAddress!, pass: OutputPass(bias: bb.baseAddress), threads: threads)
          }
        } else {
          convForward(xb.baseAddress!, g, packed, into: yb.baseAddress!, pass: OutputPass(), threads: threads)
        }
      }
    }
  }

  /// Whether `convForward` may write its output over its pass's residual: true where each
  /// residual element is read just before the result that replaces it is stored, that is
  /// on netc's fp32 kernels, the direct one and the GEMM with K in one block (with more,
  /// the GEMM keeps the sums of the earlier K blocks in the output).
  static func writesOverResidual<T: TensorScalar>(_ g: ConvGeometry, _ packed: PackedConv<T>) -> Bool {
    guard T.self == Float.self, netc_kernel_level() >= 1, !packed.panels.isEmpty, packed.depthwise.isEmpty else {
      return false
    }
    return directConvApplies(g, packed) || g.taps * g.groupIn <= Int(NETC_GEMM_ONE_BLOCK_K)
  }

  /// Convolution forward into `y` (every element written), then `pass` on each tile while
  /// it is in cache: im2col tiles times the packed weights (BLAS GEMM), tiles spread over
  /// threads; 1x1 stride-1 convs use the channels-last input as the matrix directly;
  /// depthwise convs use a direct kernel instead (a GEMM with one column per group is slow).
  static func convForward<T: TensorScalar>(
    _ x: UnsafePointer<T>, _ g: ConvGeometry, _ packed: PackedConv<T>, into y: UnsafeMutablePointer<T>,
    pass: OutputPass<T>, threads: Int
  ) {
    let P = g.outPositions, cout = g.outChannels
    if !packed.depthwise.isEmpty {
      packed.depthwise.withUnsafeBufferPointer { wb in
        if cout == g.inChannels && g.input[0] == 1 && g.kernel[0] == 1 {
          depthwise2D(x, g, wb.baseAddress!, into: y, pass: pass, threads: threads)
        } else {
          y.update(repeating: 0, count: P * cout)
          depthwiseForward(x, g, wb.baseAddress!, into: y, threads: threads)
          pass.apply(y, rows: 0, P, channels: cout)
        }
      }
      return
    }
    if !packed.panels.isEmpty {
      if !directConvForward(x, g, packed, into: y, pass: pass, threads: threads) {
        packedGEMMForward(x, g, packed, into: y, pass: pass, threads: threads)
      }
      return
    }
    let tileRows = Kernels.tileRows(positions: P, threads: threads)
    let tiles = (P + tileRows - 1) / tileRows
    let gi = g.groupIn, go = g.groupOut, k = g.taps * gi
    packed.matrices.withUnsafeBufferPointer { wb in
      let xs = SharedPointer(base: UnsafeMutablePointer(mutating: x))
      let ws = SharedPointer(base: UnsafeMutablePointer(mutating: wb.baseAddress!))
      let ys = SharedPointer(base: y)
      let direct = g.isPointwise && g.groups == 1
      let workers = max(1, threads)
      if workers > 1 && g.groups == 1 && P < cout && cout >= 32 * workers && P &* cout &* k >= parallelThreshold {
        // Few positions, many channels (ResNet-50's layer3 and layer4): split the output
        // columns instead of its rows, so each thread packs its share of the weights
        // rather than all of them; the im2col matrix (P x k) is the smaller operand.
        var a = xs.base
        var col: UnsafeMutablePointer<T>? = nil
        if !direct {
          let c = UnsafeMutablePointer<T>.allocate(capacity: P * k)
          col = c
          let cs = SharedPointer(base: c)
          let rows = (P + workers - 1) / workers
          parallelFor(workers, threads: threads, cost: P &* k &* 8) { t in
            let p0 = min(P, t * rows), p1 = min(P, p0 + rows)
            if p0 < p1 { im2col(xs.base, g, group: 0, rows: p0, p1, into: cs.base + p0 * k) }
          }
          a = c
        }
        defer { col?.deallocate() }
        let as_ = SharedPointer(base: a)
        // Column parts a multiple of 16 wide (the AVX-512 kernel's width).
        let width = (cout / workers + 15) / 16 * 16
        parallelFor(workers, threads: threads) { t in
          let c0 = min(cout, t * width), c1 = t == workers - 1 ? cout : min(cout, c0 + width)
          guard c0 < c1 else { return }
          T.gemm(
            transA: false, transB: false, m: P, n: c1 - c0, k: k, alpha: 1,
            a: as_.base, lda: k, b: ws.base + c0, ldb: cout, beta: 0, c: ys.base + c0, ldc: cout)
        }
        let rows = (P + workers - 1) / workers
        parallelFor(workers, threads: threads, cost: pass.isEmpty ? 0 : P &* cout) { t in
          let p0 = min(P, t * rows), p1 = min(P, p0 + rows)
          if p0 < p1 { pass.apply(ys.base, rows: p0, p1, channels: cout) }
        }
        return
      }
      parallelFor(tiles, threads: threads, cost: P &* cout &* k) { t in
        let p0 = t * tileRows, p1 = min(P, p0 + tileRows)
        if direct {
          T.gemm(
            transA: false, transB: false, m: p1 - p0, n: cout, k: gi, alpha: 1,
            a: xs.base + p0 * gi, lda: gi, b: ws.base, ldb: cout, beta: 0,
            c: ys.base + p0 * cout, ldc: cout)
        } else {
          let col = UnsafeMutablePointer<T>.allocate(capacity: (p1 - p0) * k)
          defer { col.deallocate() }
          for group in 0..<g.groups {
            im2col(xs.base, g, group: group, rows: p0, p1, into: col)
            T.gemm(
              transA: false, transB: false, m: p1 - p0, n: go, k: k, alpha: 1,
              a: col, lda: k, b: ws.base + group * k * go, ldb: go, beta: 0,
              c: ys.base + p0 * cout + group * go, ldc: cout)
          }
        }
        pass.apply(ys.base, rows: p0, p1, channels: cout)
      }
    }
  }

  /// Depthwise convolution by direct loops over output rows, accumulating into `y` (which
  /// must be zero); the innermost loop runs over contiguous channels. Any rank and channel
  /// multiplier (`depthwise2D` is the fast path for the common case).
  static func depthwiseForward<T: TensorScalar>(
    _ x: UnsafePointer<T>, _ g: ConvGeometry, _ w: UnsafePointer<T>, into y: UnsafeMutablePointer<T>, threads: Int
  ) {
    let cout = g.outChannels, cin = g.inChannels, m = cout / cin
    let rows = g.output[0] * g.output[1], ow = g.output[2]
    let xs = SharedPointer(base: UnsafeMutablePointer(mutating: x))
    let ws = SharedPointer(base: UnsafeMutablePointer(mutating: w))
    let ys = SharedPointer(base: y)
    parallelFor(rows, threads: threads, cost: g.outPositions &* cout &* g.taps) { r in
      for p in (r * ow)..<(r * ow + ow) {
        let out = ys.base + p * cout
        g.forEachTap(p) { tap, q in
          let src = xs.base + q * cin, wt = ws.base + tap * cout
          if m == 1 {
            for c in 0..<cout { out[c] += src[c] * wt[c] }
          } else {
            for c in 0..<cout { out[c] += src[c / m] * wt[c] }
          }
        }
      }
    }
  }
}
