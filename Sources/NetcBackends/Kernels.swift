import CNetcKernels
import Dispatch

/// A pointer that may cross into the workers of `parallelFor`; each worker writes only
/// its own part of the memory, which is what makes sharing it sound.
struct SharedPointer<T>: @unchecked Sendable {
  let base: UnsafeMutablePointer<T>
}

/// Below this many multiply-adds (or element steps) a loop runs on the calling thread:
/// handing it out would cost more than the second core saves.
let parallelThreshold = 1 << 15

/// Runs `body(i)` for i in 0..<count on up to `threads` threads (the caller and the
/// persistent helpers of `WorkerPool`), a few chunks of consecutive indices per thread so
/// a thread that starts late takes fewer; serially when `threads` is 1 (so single-thread
/// timings mean what they say) or when `cost`, the loop's total work, is below
/// `parallelThreshold`.
func parallelFor(_ count: Int, threads: Int, cost: Int = .max, _ body: @Sendable (Int) -> Void) {
  let workers = min(max(1, threads), count)
  if workers <= 1 || cost < parallelThreshold {
    for i in 0..<count { body(i) }
    return
  }
  if #available(macOS 15, *) {
    WorkerPool.shared.run(count, workers: workers, chunk: max(1, count / (workers * 4)), body)
    return
  }
  DispatchQueue.concurrentPerform(iterations: workers) { w in
    var i = w
    while i < count {
      body(i)
      i += workers
    }
  }
}

/// A conv's weights rearranged for the GEMM: per group, a `[taps * Cin/g][Cout/g]` matrix
/// whose rows follow the im2col row order (tap-major, then channel), so a channels-last
/// input tile times it gives the output tile directly.
struct PackedConv<T: TensorScalar>: Sendable {
  /// `groups` matrices of `taps * groupIn` rows and `groupOut` columns, back to back.
  var matrices: [T]
  /// Depthwise weights as `[taps][Cout]` when the conv is depthwise, else empty.
  var depthwise: [T]
  /// The ungrouped fp32 matrix again in `CNetcKernels`' 32-column panels, for its
  /// AVX-512/AVX2 GEMM (packed once, where OpenBLAS repacks the weights on every call);
  /// empty for fp64, grouped convs, or a CPU without those kernels. Packed on first use
  /// for the weights as given, at once for `scaled` ones.
  var panels: [Float] { lazyPanels?.value ?? packedPanels }
  private var packedPanels: [Float] = []
  private var lazyPanels: LazyPanels?

  /// Packs PyTorch's `[Cout][Cin/g][taps]` layout.
  init(weight: [T], geometry g: ConvGeometry) {
    let taps = g.taps, gi = g.groupIn, go = g.groupOut
    // Writes in order, reads strided: for one input channel the `go` source rows (taps
    // floats each) stay in cache across the taps. Writing strided instead (a megabyte
    // apart per tap for a 512-channel 3x3 conv) and checked indexing made this loop a
    // fifth of a one-shot `netc run` of ResNet-50.
    let m = [T](unsafeUninitializedCapacity: weight.count) { mb, count in
      weight.withUnsafeBufferPointer { wb in
        var dst = mb.baseAddress!
        let rowStride = gi &* taps
        for group in 0..<g.groups {
          for t in 0..<taps {
            for ci in 0..<gi {
              var src = wb.baseAddress! + ((group &* go &* gi &+ ci) &* taps &+ t)
              for _ in 0..<go {
                dst.initialize(to: src.pointee)
                dst += 1
                src += rowStride
              }
            }
          }
        }
      }
      count = weight.count
    }
    matrices = m
    if gi == 1 && g.groups == g.inChannels {
      var d = [T](repeating: 0, count: weight.count)
      for co in 0..<g.outChannels {
        for t in 0..<taps { d[t * g.outChannels + co] = weight[co * taps + t] }
      }
      depthwise = d
    } else {
      depthwise = []
    }
    let unscaled = m
    lazyPanels = LazyPanels { Self.panels(unscaled, geometry: g) }
  }

  /// `matrices` in panels when the fast kernels apply (see `panels`).
  static func panels(_ matrices: [T], geometry g: ConvGeometry) -> [Float] {
    guard T.self == Float.self, g.groups == 1, netc_kernel_level() > 0 else { return [] }
    let k = g.taps * g.groupIn, n = g.outChannels
    return matrices.withUnsafeBufferPointer { mb in
      mb.withMemoryRebound(to: Float.self) { fb in
        [Float](unsafeUninitializedCapacity: netc_packed_size(k, n)) { pb, count in
          netc_pack_b(fb.baseAddress!, n, k, n, pb.baseAddress!)
          count = netc_packed_size(k, n)
        }
      }
    }
  }

  /// The same conv with output channel `co`'s weights multiplied by `scale[co]` (an
  /// inference BN folded in), packed now; without `matrices` when it has panels, as the
  /// fused pass reads nothing else.
  func scaled(by scale: [T], geometry g: ConvGeometry) -> PackedConv<T> {
    var copy = self
    let k = g.taps * g.groupIn, go = g.groupOut
    for group in 0..<g.groups {
      for row in 0..<k {
        let base = (group * k + row) * go
        for co in 0..<go { copy.matrices[base + co] *= scale[group * go + co] }
      }
    }
    let c = g.outChannels
    for i in 0..<copy.depthwise.count { copy.depthwise[i] *= scale[i % c] }
    copy.lazyPanels = nil
    copy.packedPanels = Self.panels(copy.matrices, geometry: g)
    if !copy.packedPanels.isEmpty { copy.matrices = [] }
    return copy
  }
}

/// The fast loops of the interpreter.
enum Kernels {
  /// Rows of the output that one GEMM call covers: large enough to amortise BLAS's packing
  /// of the weights, small enough that the im2col tile stays in cache.
  /// (Measured: 1024 rows were no faster on ResNet-50; OpenBLAS packs both operands on
  /// every call either way.)
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

  /// Global average or max pool of `positions` x `channels` channels-last values into
  /// `channels` outputs (max: NaN wins, as in the reference loop).
  static func globalPool<T: TensorScalar>(
    _ x: UnsafePointer<T>, positions: Int, channels c: Int, max isMax: Bool, into y: UnsafeMutablePointer<T>
  ) {
    // One loop per op, so the channel loop vectorises (checked indexing and the op test per
    // element took 0.4 ms of ResNet-50's 7x7x2048).
    y.update(repeating: isMax ? -T.infinity : 0, count: c)
    for q in 0..<positions {
      let row = x + q * c
      if isMax {
        for j in 0..<c where row[j] > y[j] || row[j].isNaN { y[j] = row[j] }
      } else {
        for j in 0..<c { y[j] += row[j] }
      }
    }
    if !isMax { for j in 0..<c { y[j] /= T(positions) } }
  }

  /// Copies the im2col rows of output positions `p0..<p1`, group `group`, into `col`
  /// (`(p1 - p0) x (taps * groupIn)`, zeros for padding).
  static func im2col<T: TensorScalar>(
    _ x: UnsafePointer<T>, _ g: ConvGeometry, group: Int, rows p0: Int, _ p1: Int, into col: UnsafeMutablePointer<T>
  ) {
    let gi = g.groupIn, k = g.taps * gi, cin = g.inChannels
    if g.groups == 1 && g.input[0] == 1 && g.kernel[0] == 1 && g.dilation[2] == 1 {
      if T.self == Float.self && g.outPositions == g.output[1] * g.output[2] {
        var geometry = g.window2D
        let done = netc_im2col_rows(
          &geometry, UnsafeRawPointer(x).assumingMemoryBound(to: Float.self), p0, p1,
          UnsafeMutableRawPointer(col).assumingMemoryBound(to: Float.self))
        if done == 1 { return }
      }
      im2colRows(x, g, rows: p0, p1, into: col)
      return
    }
    col.update(repeating: 0, count: (p1 - p0) * k)
    for p in p0..<p1 {
      let row = col + (p - p0) * k
      g.forEachTap(p) { tap, q in
        (row + tap * gi).update(from: x + q * cin + group * gi, count: gi)
      }
    }
  }

  /// im2col for an ungrouped 1-D or 2-D conv without horizontal dilation: channels last,
  /// a window row's taps are one contiguous run of `kw * Cin` input elements, copied at
  /// once (a tap at a time, with a zeroed tile first, took 6% of MobileNet v2's time in its
  /// 3-channel first conv).
  static func im2colRows<T: TensorScalar>(
    _ x: UnsafePointer<T>, _ g: ConvGeometry, rows p0: Int, _ p1: Int, into col: UnsafeMutablePointer<T>
  ) {
    let cin = g.inChannels, kh = g.kernel[1], kw = g.kernel[2], run = kw * cin, k = kh * run
    let H = g.input[1], W = g.input[2], OW = g.output[2]
    for p in p0..<p1 {
      let row = col + (p - p0) * k
      let oh = (p / OW) % g.output[1], ow = p % OW
      let iw0 = ow * g.stride[2] - g.padBegin[2]
      for i in 0..<kh {
        let dst = row + i * run
        let ih = oh * g.stride[1] - g.padBegin[1] + i * g.dilation[1]
        if ih < 0 || ih >= H {
          dst.update(repeating: 0, count: run)
        } else if iw0 >= 0 && iw0 + kw <= W {
          copy(x + (ih * W + iw0) * cin, to: dst, count: run)
        } else {
          for j in 0..<kw {
            let iw = iw0 + j
            if iw >= 0 && iw < W {
              copy(x + (ih * W + iw) * cin, to: dst + j * cin, count: cin)
            } else {
              (dst + j * cin).update(repeating: 0, count: cin)
            }
          }
        }
      }
    }
  }

  /// Copies `count` elements: a loop for a few (an RGB input's taps), else memmove.
  @inline(__always)
  static func copy<T>(_ src: UnsafePointer<T>, to dst: UnsafeMutablePointer<T>, count: Int) {
    if count < 16 {
      for c in 0..<count { dst[c] = src[c] }
    } else {
      dst.update(from: src, count: count)
    }
  }

  /// Adds the im2col rows in `col` back onto the input gradient `dx` (the adjoint of im2col).
  static func col2im<T: TensorScalar>(
    _ col: UnsafePointer<T>, _ g: ConvGeometry, group: Int, rows p0: Int, _ p1: Int, into dx: UnsafeMutablePointer<T>
  ) {
    let gi = g.groupIn, k = g.taps * gi, cin = g.inChannels
    for p in p0..<p1 {
      let row = col + (p - p0) * k
      g.forEachTap(p) { tap, q in
        let dst = dx + q * cin + group * gi, src = row + tap * gi
        for c in 0..<gi { dst[c] += src[c] }
      }
    }
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

  /// Fully connected: `y = W x + b` with W `[out][in]`; the rows split over `threads`
  /// (a matrix-vector product reads each weight once, so it is bound by memory and both
  /// cores' bandwidth helps).
  static func fcForward<T: TensorScalar>(_ x: [T], _ w: [T], bias: [T]?, out: Int, threads: Int = 1) -> [T] {
    var y = bias ?? [T](repeating: 0, count: out)
    let n = x.count
    let parts = max(1, min(threads, out / 16)), rows = (out + parts - 1) / max(1, parts)
    x.withUnsafeBufferPointer { xb in
      w.withUnsafeBufferPointer { wb in
        y.withUnsafeMutableBufferPointer { yb in
          let xs = SharedPointer(base: UnsafeMutablePointer(mutating: xb.baseAddress!))
          let ws = SharedPointer(base: UnsafeMutablePointer(mutating: wb.baseAddress!))
          let ys = SharedPointer(base: yb.baseAddress!)
          parallelFor(parts, threads: threads, cost: out &* n) { part in
            let o0 = part * rows, o1 = min(out, o0 + rows)
            guard o0 < o1 else { return }
            // A GEMV: sgemm with one column copied the whole weight matrix on every call
            // (5 MB for MobileNet v2's classifier; 4.6% of its time).
            T.gemv(m: o1 - o0, n: n, a: ws.base + o0 * n, lda: n, x: xs.base, y: ys.base + o0)
          }
        }
      }
    }
    return y
  }

  /// Max or average pool forward, channels last, into a new array.
  static func poolForward<T: TensorScalar>(_ x: [T], _ g: ConvGeometry, max isMax: Bool, threads: Int) -> [T] {
    let n = g.outPositions * g.inChannels
    return [T](unsafeUninitializedCapacity: n) { yb, count in
      count = n
      guard n > 0 else { return }
      x.withUnsafeBufferPointer { xb in
        poolForward(xb.baseAddress!, g, max: isMax, into: yb.baseAddress!, threads: threads)
      }
    }
  }

  /// Max or average pool forward, channels last, into `y` (every element written).
  static func poolForward<T: TensorScalar>(
    _ x: UnsafePointer<T>, _ g: ConvGeometry, max isMax: Bool, into y: UnsafeMutablePointer<T>, threads: Int
  ) {
    let c = g.inChannels, P = g.outPositions
    if isMax && T.self == Float.self && g.input[0] == 1 && g.kernel[0] == 1 && g.output[0] == 1
      && g.padBegin[0] == 0 && netc_kernel_level() > 0
    {
      // `CNetcKernels`' AVX-512/AVX2 version (this loop is SSE: 4.6% of ResNet-50's time).
      var geometry = g.window2D
      let xs = SharedPointer(base: UnsafeMutableRawPointer(mutating: x).assumingMemoryBound(to: Float.self))
      let ys = SharedPointer(base: UnsafeMutableRawPointer(y).assumingMemoryBound(to: Float.self))
      withUnsafePointer(to: &geometry) { gp in
        let gs = SharedPointer(base: UnsafeMutablePointer(mutating: gp))
        parallelFor(g.output[1], threads: threads, cost: P &* c &* g.taps) { oh in
          _ = netc_maxpool_row(gs.base, xs.base, ys.base, oh)
        }
      }
      return
    }
    y.update(repeating: isMax ? -T.infinity : 0, count: P * c)
    let xs = SharedPointer(base: UnsafeMutablePointer(mutating: x))
    let ys = SharedPointer(base: y)
    parallelFor(P, threads: threads, cost: P &* c &* g.taps) { p in
      let out = ys.base + p * c
      g.forEachTap(p) { _, q in
        let src = xs.base + q * c
        if isMax {
          for j in 0..<c where src[j] > out[j] || src[j].isNaN { out[j] = src[j] }
        } else {
          for j in 0..<c { out[j] += src[j] }
        }
      }
      if !isMax {
        let n = T(g.paddedTapCount(p))
        for j in 0..<c { out[j] /= n }
      }
    }
  }

  /// Max or average pool backward: the gradient goes to each window's first maximum (as
  /// PyTorch), or is spread evenly over the window's taps (padding taps take their share).
  static func poolBackward<T: TensorScalar>(_ x: [T], _ dy: [T], _ g: ConvGeometry, max isMax: Bool) -> [T] {
    let c = g.inChannels, P = g.outPositions
    var dx = [T](repeating: 0, count: g.inPositions * c)
    for p in 0..<P {
      if isMax {
        for j in 0..<c {
          var best = -T.infinity, at = -1
          g.forEachTap(p) { _, q in
            let v = x[q * c + j]
            if at < 0 || v > best || (v.isNaN && !best.isNaN) { best = v; at = q }
          }
          if at >= 0 { dx[at * c + j] += dy[p * c + j] }
        }
      } else {
        let n = T(g.paddedTapCount(p))
        g.forEachTap(p) { _, q in
          for j in 0..<c { dx[q * c + j] += dy[p * c + j] / n }
        }
      }
    }
    return dx
  }
}
