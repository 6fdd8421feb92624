#include "netc_kernels.h"
#include "rows512.h"

#if defined(__x86_64__)

/// Positions per block: 14 x 2 sums, the two panel vectors and the broadcast fill 31 of the
/// 32 registers. A block never spans two output rows, so rows of 28 and 56 positions go in
/// blocks of 14. (With at most 12, as 10 + 9 + 9, the direct kernel lost to im2col on
/// 28-wide rows: measurements in docs/run.md.)
#define MR_DIRECT 14

/// Output positions `0..<R` of one row block (`lda` floats apart in the padded input) times
/// one panel, `w` <= 32 valid columns: window row `i` of position `r` is the run of `run`
/// floats (kw x channels) at `x + i * rowStride + r * lda`, and it meets the panel's rows
/// `i * run ..< (i + 1) * run`, which is the im2col order the weights are packed in. The
/// 2R sums stay in registers over all `kh` window rows. `c`, `bias` and `residual` point at
/// the block's first output and column. Meanwhile the panel is prefetched 24 steps ahead
/// (`PREFETCH_PANEL`), and the `pfLines` 64-byte lines from `pf` into L2, one per step.
AVX512 static inline __attribute__((always_inline)) void direct512_rows(
    const int R, const float *x, ptrdiff_t lda, ptrdiff_t rowStride, ptrdiff_t kh, ptrdiff_t run, const float *panel,
    float *c, ptrdiff_t ldc, const float *bias, const float *residual, int activation, int w, const float *pf,
    ptrdiff_t pfLines) {
  __m512 acc[MR_DIRECT][2];
  ptrdiff_t s = 0;
#pragma clang loop unroll(full)
  for (int r = 0; r < R; r++) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
  for (ptrdiff_t i = 0; i < kh; i++) {
    const float *ar = x + i * rowStride, *pb = panel + i * run * NETC_PANEL;
    for (ptrdiff_t l = 0; l < run; l++, s++) {
      PREFETCH_PANEL(panel, s);
      if (s < pfLines) _mm_prefetch((const char *)(pf + s * 16), _MM_HINT_T1);
      fma_rows512(R, acc, ar + l, lda, _mm512_loadu_ps(pb + l * NETC_PANEL), _mm512_loadu_ps(pb + l * NETC_PANEL + 16));
    }
  }
  store_rows512(R, acc, c, ldc, bias, residual, activation, w);
}

typedef void (*direct_fn)(
    const float *, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, const float *, float *, ptrdiff_t, const float *,
    const float *, int, int, const float *, ptrdiff_t);
#define DIRECT_KERNEL(TARGET, BODY, R)                                                                               \
  TARGET static void BODY##_##R(                                                                                     \
      const float *x, ptrdiff_t lda, ptrdiff_t rowStride, ptrdiff_t kh, ptrdiff_t run, const float *panel, float *c, \
      ptrdiff_t ldc, const float *bias, const float *residual, int activation, int w, const float *pf,               \
      ptrdiff_t pfLines) {                                                                                           \
    BODY(R, x, lda, rowStride, kh, run, panel, c, ldc, bias, residual, activation, w, pf, pfLines);                  \
  }
ROWS_1_TO_14(DIRECT_KERNEL, AVX512, direct512_rows)
static const direct_fn direct512_for[MR_DIRECT + 1] = {NULL, ROWS_1_TO_14(ROW_KERNEL_REF, AVX512, direct512_rows)};

#endif

int netc_conv_direct_rows(
    const netc_depthwise_geometry *g, const float *xpad, ptrdiff_t padWidth, const float *packed, ptrdiff_t n,
    float *y, const float *bias, const float *residual, int activation, ptrdiff_t oh0, ptrdiff_t oh1) {
  return netc_conv_direct_rows_at(
      netc_kernel_level(), g, xpad, padWidth, packed, n, y, bias, residual, activation, oh0, oh1);
}

int netc_conv_direct_rows_at(
    int level, const netc_depthwise_geometry *g, const float *xpad, ptrdiff_t padWidth, const float *packed,
    ptrdiff_t n, float *y, const float *bias, const float *residual, int activation, ptrdiff_t oh0, ptrdiff_t oh1) {
  if (level > netc_kernel_level()) level = netc_kernel_level();
  if (level < 2 || g->dilationW != 1) return 0;
#if defined(__x86_64__)
  const ptrdiff_t run = g->kernelW * g->channels, k = g->kernelH * run, ow = g->outWidth;
  const ptrdiff_t row = padWidth * g->channels, lda = g->strideW * g->channels;
  // A block's positions lie in one output row, so they are `lda` apart in the input; the
  // row is cut into blocks as equal as they can be (112 = 8 x 14, 50 = 13 + 13 + 12 + 12).
  const ptrdiff_t blocks = (ow + MR_DIRECT - 1) / MR_DIRECT, base = ow / blocks, extra = ow % blocks;
  for (ptrdiff_t oh = oh0; oh < oh1; oh++) {
    const float *xr = xpad + oh * g->strideH * row;
    // Panel by panel: one panel and the row's windows stay in cache for the whole output
    // row (in L1 for a stem: 7 x 7 x 3 taps, 19 KB a panel).
    for (ptrdiff_t j = 0; j < n; j += NETC_PANEL) {
      const float *panel = packed + (j / NETC_PANEL) * k * NETC_PANEL;
      int w = (int)(n - j < NETC_PANEL ? n - j : NETC_PANEL);
      for (ptrdiff_t b = 0, q = 0, rows = 0; q < ow; b++, q += rows) {
        rows = b < extra ? base + 1 : base;
        ptrdiff_t at = (oh * ow + q) * n + j;
        // The blocks of a row share the next row's output lines (the residual's, where
        // there is one), prefetched into L2: a store that missed it stalled the kernel, and
        // a stem's output is larger than L2.
        const float *pf = NULL;
        ptrdiff_t pfLines = 0;
        if (oh + 1 < oh1) {
          const ptrdiff_t calls = ((n + NETC_PANEL - 1) / NETC_PANEL) * blocks, t = (j / NETC_PANEL) * blocks + b;
          pfLines = prefetch_share((residual ? residual : y) + (oh + 1) * ow * n, (ow * n + 15) / 16, calls, t, &pf);
        }
        direct512_for[rows](
            xr + q * lda, lda, g->dilationH * row, g->kernelH, run, panel, y + at, n, bias ? bias + j : NULL,
            residual ? residual + at : NULL, activation, w, pf, pfLines);
      }
    }
  }
  return 1;
#else
  return 0;
#endif
}
