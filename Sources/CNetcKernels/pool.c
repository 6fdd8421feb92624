#include "netc_kernels.h"
#include "simd.h"
#include "window.h"

#include <math.h>

#if defined(__x86_64__)

/// The larger of `m` and `v`, NaN from either side winning (as the reference loop: a NaN
/// input replaces the maximum, and nothing replaces a NaN).
AVX512 static inline __m512 max512(__m512 m, __m512 v) {
  __m512 r = _mm512_max_ps(m, v);  // v when either is NaN
  return _mm512_mask_mov_ps(r, _mm512_cmp_ps_mask(m, m, _CMP_UNORD_Q), m);
}

AVX2 static inline __m256 max256(__m256 m, __m256 v) {
  __m256 r = _mm256_max_ps(m, v);
  return _mm256_blendv_ps(r, m, _mm256_cmp_ps(m, m, _CMP_UNORD_Q));
}

AVX512 static void position512(
    const netc_depthwise_geometry *g, const float *x0, ptrdiff_t rows, ptrdiff_t cols, float *y) {
  const ptrdiff_t c = g->channels, xj = g->dilationW * c, xi = g->dilationH * g->width * c;
  for (ptrdiff_t ch = 0; ch < c; ch += 16) {
    __mmask16 mask = c - ch >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (c - ch)) - 1);
    __m512 m = _mm512_set1_ps(-INFINITY);
    for (ptrdiff_t i = 0; i < rows; i++) {
      const float *xp = x0 + i * xi + ch;
      for (ptrdiff_t j = 0; j < cols; j++, xp += xj) m = max512(m, _mm512_maskz_loadu_ps(mask, xp));
    }
    _mm512_mask_storeu_ps(y + ch, mask, m);
  }
}

AVX2 static void position256(
    const netc_depthwise_geometry *g, const float *x0, ptrdiff_t rows, ptrdiff_t cols, float *y) {
  const ptrdiff_t c = g->channels, xj = g->dilationW * c, xi = g->dilationH * g->width * c;
  ptrdiff_t ch = 0;
  for (; ch + 8 <= c; ch += 8) {
    __m256 m = _mm256_set1_ps(-INFINITY);
    for (ptrdiff_t i = 0; i < rows; i++) {
      const float *xp = x0 + i * xi + ch;
      for (ptrdiff_t j = 0; j < cols; j++, xp += xj) m = max256(m, _mm256_loadu_ps(xp));
    }
    _mm256_storeu_ps(y + ch, m);
  }
  for (; ch < c; ch++) {
    float m = -INFINITY;
    for (ptrdiff_t i = 0; i < rows; i++) {
      const float *xp = x0 + i * xi + ch;
      for (ptrdiff_t j = 0; j < cols; j++, xp += xj)
        if (*xp > m || *xp != *xp) m = m != m ? m : *xp;
    }
    y[ch] = m;
  }
}

#endif

int netc_maxpool_row(const netc_depthwise_geometry *g, const float *x, float *y, ptrdiff_t oh) {
  return netc_maxpool_row_at(netc_kernel_level(), g, x, y, oh);
}

int netc_maxpool_row_at(int level, const netc_depthwise_geometry *g, const float *x, float *y, ptrdiff_t oh) {
  if (level > netc_kernel_level()) level = netc_kernel_level();
  if (level <= 0) return 0;
#if defined(__x86_64__)
  const ptrdiff_t c = g->channels, kh = g->kernelH, kw = g->kernelW;
  ptrdiff_t ih0 = oh * g->strideH - g->padH, i0, i1;
  netc_clip(ih0, kh, g->dilationH, g->height, &i0, &i1);
  for (ptrdiff_t ow = 0; ow < g->outWidth; ow++) {
    ptrdiff_t iw0 = ow * g->strideW - g->padW, j0, j1;
    netc_clip(iw0, kw, g->dilationW, g->width, &j0, &j1);
    const float *x0 = x;
    if (i1 > i0 && j1 > j0) x0 = x + ((ih0 + i0 * g->dilationH) * g->width + iw0 + j0 * g->dilationW) * c;
    float *yo = y + (oh * g->outWidth + ow) * c;
    if (level == 2)
      position512(g, x0, i1 - i0, j1 - j0, yo);
    else
      position256(g, x0, i1 - i0, j1 - j0, yo);
  }
  return 1;
#else
  return 0;
#endif
}
