// Shared by the blocked kernels (gemm.c, direct.c); not part of the module's interface.
#ifndef NETC_ROWS512_H
#define NETC_ROWS512_H

#include "simd.h"

#include <stddef.h>

#if defined(__x86_64__)

/// Rows per AVX-512 GEMM block: 14 rows x 32 columns, 28 of the 32 zmm registers
/// accumulating. Against 12, fewer row blocks meet each panel, which counts where the
/// weights stream from memory (measurements: docs/run.md).
#define MR512 14

// The panel streams from L2 (or, for the first row block, from memory) while the rows
// stay in L1, and the hardware prefetchers fell behind: the load of the panel was a fifth
// of the kernel's samples. 24 steps (3 KB) ahead was the best distance tried. The direct
// conv's panels (a 3x3 conv's: 576 or 1152 steps) stream alike (measurements: docs/run.md).
#define PANEL_AHEAD 24
#define PREFETCH_PANEL(panel, l)                                                                \
  do {                                                                                          \
    _mm_prefetch((const char *)((panel) + ((l) + PANEL_AHEAD) * NETC_PANEL), _MM_HINT_T0);      \
    _mm_prefetch((const char *)((panel) + ((l) + PANEL_AHEAD) * NETC_PANEL + 16), _MM_HINT_T0); \
  } while (0)

/// Call `t` of `calls` that together prefetch `lines` 64-byte lines from `from`, in equal
/// consecutive shares (the last may be shorter): sets `*pf` to its first line and returns
/// how many lines it takes, or returns 0 and leaves `*pf` alone when its share is past the
/// end.
static inline ptrdiff_t prefetch_share(
    const float *from, ptrdiff_t lines, ptrdiff_t calls, ptrdiff_t t, const float **pf) {
  const ptrdiff_t part = (lines + calls - 1) / calls, start = t * part;
  if (start >= lines) return 0;
  *pf = from + start * 16;
  return lines - start < part ? lines - start : part;
}

/// One K step of a block: row r's value at `ar[r * lda]` times the panel's two vectors `b0`
/// and `b1`, into the row's two sums.
AVX512 static inline __attribute__((always_inline)) void fma_rows512(
    const int R, __m512 (*acc)[2], const float *ar, ptrdiff_t lda, __m512 b0, __m512 b1) {
#pragma clang loop unroll(full)
  for (int r = 0; r < R; r++) {
    __m512 x = _mm512_set1_ps(ar[r * lda]);
    acc[r][0] = _mm512_fmadd_ps(x, b0, acc[r][0]);
    acc[r][1] = _mm512_fmadd_ps(x, b1, acc[r][1]);
  }
}

/// Stores the sums of rows `0..<R` (two vectors each, `w` <= 32 valid columns) at `c`, `ldc`
/// apart, after the bias, the residual (same layout as `c`; NULL for none) and the
/// activation. The bias and the masks are loaded once: with a store per vector loading its
/// own bias (gemm.c's `store512`), the compiler reloaded the bias for every row, as the
/// stores may alias it, which shows in short-K convs.
AVX512 static inline __attribute__((always_inline)) void store_rows512(
    const int R, __m512 (*acc)[2], float *c, ptrdiff_t ldc, const float *bias, const float *residual, int activation,
    int w) {
  const __mmask16 m0 = w >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << w) - 1);
  const __mmask16 m1 = w >= 32 ? (__mmask16)0xFFFF : w > 16 ? (__mmask16)((1u << (w - 16)) - 1) : 0;
  const __m512 b0 = bias ? _mm512_maskz_loadu_ps(m0, bias) : _mm512_setzero_ps();
  const __m512 b1 = bias ? _mm512_maskz_loadu_ps(m1, bias + 16) : _mm512_setzero_ps();
#pragma clang loop unroll(full)
  for (int r = 0; r < R; r++) {
    __m512 v0 = acc[r][0], v1 = acc[r][1];
    if (bias) {
      v0 = _mm512_add_ps(v0, b0);
      v1 = _mm512_add_ps(v1, b1);
    }
    if (residual) {
      v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, residual + r * ldc));
      v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, residual + r * ldc + 16));
    }
    _mm512_mask_storeu_ps(c + r * ldc, m0, act512(v0, activation));
    if (w > 16) _mm512_mask_storeu_ps(c + r * ldc + 16, m1, act512(v1, activation));
  }
}

// A block body is inlined into one function per row count R, in which R is a constant,
// and called through a table indexed by R: `ROWS_1_TO_12(M, TARGET, BODY)` expands
// `M(TARGET, BODY, R)` for each R, `ROW_KERNEL_REF` names the function of one.
#define ROW_KERNEL_REF(TARGET, BODY, R) BODY##_##R,
#define ROWS_1_TO_6(M, T, B) M(T, B, 1) M(T, B, 2) M(T, B, 3) M(T, B, 4) M(T, B, 5) M(T, B, 6)
#define ROWS_1_TO_12(M, T, B) ROWS_1_TO_6(M, T, B) M(T, B, 7) M(T, B, 8) M(T, B, 9) M(T, B, 10) M(T, B, 11) M(T, B, 12)
#define ROWS_1_TO_14(M, T, B) ROWS_1_TO_12(M, T, B) M(T, B, 13) M(T, B, 14)
#define ROWS_1_TO_24(M, T, B)                                                                                    \
  ROWS_1_TO_12(M, T, B) M(T, B, 13) M(T, B, 14) M(T, B, 15) M(T, B, 16) M(T, B, 17) M(T, B, 18) M(T, B, 19)     \
  M(T, B, 20) M(T, B, 21) M(T, B, 22) M(T, B, 23) M(T, B, 24)

#endif

#endif
