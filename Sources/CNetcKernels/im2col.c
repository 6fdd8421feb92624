#include "netc_kernels.h"
#include "simd.h"

#include <string.h>

#if defined(__x86_64__)

// A window row's run is short in a network's first conv (3x3 on RGB: 9 floats; 7x7: 21),
// where memmove's call and dispatch per run cost more than the copy: one masked
// load/store pair per 16 floats instead.
AVX512 static inline void run512(const float *src, float *dst, ptrdiff_t n) {
  ptrdiff_t q = 0;
  for (; q + 16 <= n; q += 16) _mm512_storeu_ps(dst + q, _mm512_loadu_ps(src + q));
  if (q < n) {
    __mmask16 m = (__mmask16)((1u << (n - q)) - 1);
    _mm512_mask_storeu_ps(dst + q, m, _mm512_maskz_loadu_ps(m, src + q));
  }
}

AVX512 static inline void zero512(float *dst, ptrdiff_t n) {
  ptrdiff_t q = 0;
  for (; q + 16 <= n; q += 16) _mm512_storeu_ps(dst + q, _mm512_setzero_ps());
  if (q < n) _mm512_mask_storeu_ps(dst + q, (__mmask16)((1u << (n - q)) - 1), _mm512_setzero_ps());
}

AVX2 static inline void run256(const float *src, float *dst, ptrdiff_t n) {
  ptrdiff_t q = 0;
  for (; q + 8 <= n; q += 8) _mm256_storeu_ps(dst + q, _mm256_loadu_ps(src + q));
  for (; q < n; q++) dst[q] = src[q];
}

AVX2 static inline void zero256(float *dst, ptrdiff_t n) {
  ptrdiff_t q = 0;
  for (; q + 8 <= n; q += 8) _mm256_storeu_ps(dst + q, _mm256_setzero_ps());
  for (; q < n; q++) dst[q] = 0.0f;
}

// One body per level: the copies inline into it.
#define IM2COL_ROWS(NAME, TARGET, RUN, ZERO)                                                   \
  TARGET static void NAME(const netc_depthwise_geometry *g, const float *x, ptrdiff_t p0, ptrdiff_t p1, float *col) { \
    const ptrdiff_t c = g->channels, kh = g->kernelH, kw = g->kernelW, run = kw * c, k = kh * run;         \
    /* The position's row and column advance by one, not by a division per position. */  \
    ptrdiff_t oh = p0 / g->outWidth, ow = p0 % g->outWidth;                                    \
    for (ptrdiff_t p = p0; p < p1; p++, ow++) {                                                \
      if (ow == g->outWidth) ow = 0, oh++;                                                     \
      float *row = col + (p - p0) * k;                                                         \
      ptrdiff_t iw0 = ow * g->strideW - g->padW;                                               \
      for (ptrdiff_t i = 0; i < kh; i++) {                                                     \
        float *dst = row + i * run;                                                            \
        ptrdiff_t ih = oh * g->strideH - g->padH + i * g->dilationH;                           \
        if (ih < 0 || ih >= g->height) {                                                       \
          ZERO(dst, run);                                                                      \
        } else if (iw0 >= 0 && iw0 + kw <= g->width) {                                         \
          RUN(x + (ih * g->width + iw0) * c, dst, run);                                        \
        } else {                                                                               \
          for (ptrdiff_t j = 0; j < kw; j++) {                                                 \
            ptrdiff_t iw = iw0 + j;                                                            \
            if (iw >= 0 && iw < g->width)                                                      \
              RUN(x + (ih * g->width + iw) * c, dst + j * c, c);                               \
            else                                                                               \
              ZERO(dst + j * c, c);                                                            \
          }                                                                                    \
        }                                                                                      \
      }                                                                                        \
    }                                                                                          \
  }
IM2COL_ROWS(rows512, AVX512, run512, zero512)
IM2COL_ROWS(rows256, AVX2, run256, zero256)
#undef IM2COL_ROWS

#endif

int netc_im2col_rows(const netc_depthwise_geometry *g, const float *x, ptrdiff_t p0, ptrdiff_t p1, float *col) {
  return netc_im2col_rows_at(netc_kernel_level(), g, x, p0, p1, col);
}

int netc_im2col_rows_at(
    int level, const netc_depthwise_geometry *g, const float *x, ptrdiff_t p0, ptrdiff_t p1, float *col) {
  if (level > netc_kernel_level()) level = netc_kernel_level();
  if (level <= 0 || g->dilationW != 1) return 0;
#if defined(__x86_64__)
  if (level == 2)
    rows512(g, x, p0, p1, col);
  else
    rows256(g, x, p0, p1, col);
  return 1;
#else
  return 0;
#endif
}
