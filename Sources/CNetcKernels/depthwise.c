#include "netc_kernels.h"
#include "window.h"

#include <immintrin.h>

#if defined(__x86_64__)

#define AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")))
#define AVX2 __attribute__((target("avx2,fma")))

/// One output position, channels `0..<c` in blocks of 64 (four independent sums), then 16,
/// then a masked tail; `x0`/`w0` are the first in-bounds tap of `rows` x `cols`.
AVX512 static void position512(
    const netc_depthwise_geometry *g, const float *x0, const float *w0, ptrdiff_t rows, ptrdiff_t cols,
    float *y, const float *bias, const float *res, int activation) {
  const ptrdiff_t c = g->channels, xj = g->dilationW * c, xi = g->dilationH * g->width * c, wi = g->kernelW * c;
  const __m512 zero = _mm512_setzero_ps(), six = _mm512_set1_ps(6.0f);
  ptrdiff_t ch = 0;
  for (; ch + 64 <= c; ch += 64) {
    __m512 a0 = zero, a1 = zero, a2 = zero, a3 = zero;
    for (ptrdiff_t i = 0; i < rows; i++) {
      const float *xp = x0 + i * xi + ch, *wp = w0 + i * wi + ch;
      for (ptrdiff_t j = 0; j < cols; j++, xp += xj, wp += c) {
        a0 = _mm512_fmadd_ps(_mm512_loadu_ps(xp), _mm512_loadu_ps(wp), a0);
        a1 = _mm512_fmadd_ps(_mm512_loadu_ps(xp + 16), _mm512_loadu_ps(wp + 16), a1);
        a2 = _mm512_fmadd_ps(_mm512_loadu_ps(xp + 32), _mm512_loadu_ps(wp + 32), a2);
        a3 = _mm512_fmadd_ps(_mm512_loadu_ps(xp + 48), _mm512_loadu_ps(wp + 48), a3);
      }
    }
    __m512 v[4] = {a0, a1, a2, a3};
    for (int q = 0; q < 4; q++) {
      if (bias) v[q] = _mm512_add_ps(v[q], _mm512_loadu_ps(bias + ch + 16 * q));
      if (res) v[q] = _mm512_add_ps(v[q], _mm512_loadu_ps(res + ch + 16 * q));
      if (activation >= 1) v[q] = _mm512_max_ps(zero, v[q]);
      if (activation == 2) v[q] = _mm512_min_ps(six, v[q]);
      _mm512_storeu_ps(y + ch + 16 * q, v[q]);
    }
  }
  for (; ch < c; ch += 16) {
    __mmask16 m = c - ch >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (c - ch)) - 1);
    __m512 a = zero;
    for (ptrdiff_t i = 0; i < rows; i++) {
      const float *xp = x0 + i * xi + ch, *wp = w0 + i * wi + ch;
      for (ptrdiff_t j = 0; j < cols; j++, xp += xj, wp += c)
        a = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, xp), _mm512_maskz_loadu_ps(m, wp), a);
    }
    if (bias) a = _mm512_add_ps(a, _mm512_maskz_loadu_ps(m, bias + ch));
    if (res) a = _mm512_add_ps(a, _mm512_maskz_loadu_ps(m, res + ch));
    if (activation >= 1) a = _mm512_max_ps(zero, a);
    if (activation == 2) a = _mm512_min_ps(six, a);
    _mm512_mask_storeu_ps(y + ch, m, a);
  }
}

/// `position512` with AVX2: blocks of 32 channels, then 8, then one at a time.
AVX2 static void position256(
    const netc_depthwise_geometry *g, const float *x0, const float *w0, ptrdiff_t rows, ptrdiff_t cols,
    float *y, const float *bias, const float *res, int activation) {
  const ptrdiff_t c = g->channels, xj = g->dilationW * c, xi = g->dilationH * g->width * c, wi = g->kernelW * c;
  const __m256 zero = _mm256_setzero_ps(), six = _mm256_set1_ps(6.0f);
  ptrdiff_t ch = 0;
  for (; ch + 32 <= c; ch += 32) {
    __m256 a0 = zero, a1 = zero, a2 = zero, a3 = zero;
    for (ptrdiff_t i = 0; i < rows; i++) {
      const float *xp = x0 + i * xi + ch, *wp = w0 + i * wi + ch;
      for (ptrdiff_t j = 0; j < cols; j++, xp += xj, wp += c) {
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(xp), _mm256_loadu_ps(wp), a0);
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(xp + 8), _mm256_loadu_ps(wp + 8), a1);
        a2 = _mm256_fmadd_ps(_mm256_loadu_ps(xp + 16), _mm256_loadu_ps(wp + 16), a2);
        a3 = _mm256_fmadd_ps(_mm256_loadu_ps(xp + 24), _mm256_loadu_ps(wp + 24), a3);
      }
    }
    __m256 v[4] = {a0, a1, a2, a3};
    for (int q = 0; q < 4; q++) {
      if (bias) v[q] = _mm256_add_ps(v[q], _mm256_loadu_ps(bias + ch + 8 * q));
      if (res) v[q] = _mm256_add_ps(v[q], _mm256_loadu_ps(res + ch + 8 * q));
      if (activation >= 1) v[q] = _mm256_max_ps(zero, v[q]);
      if (activation == 2) v[q] = _mm256_min_ps(six, v[q]);
      _mm256_storeu_ps(y + ch + 8 * q, v[q]);
    }
  }
  for (; ch + 8 <= c; ch += 8) {
    __m256 a = zero;
    for (ptrdiff_t i = 0; i < rows; i++) {
      const float *xp = x0 + i * xi + ch, *wp = w0 + i * wi + ch;
      for (ptrdiff_t j = 0; j < cols; j++, xp += xj, wp += c)
        a = _mm256_fmadd_ps(_mm256_loadu_ps(xp), _mm256_loadu_ps(wp), a);
    }
    if (bias) a = _mm256_add_ps(a, _mm256_loadu_ps(bias + ch));
    if (res) a = _mm256_add_ps(a, _mm256_loadu_ps(res + ch));
    if (activation >= 1) a = _mm256_max_ps(zero, a);
    if (activation == 2) a = _mm256_min_ps(six, a);
    _mm256_storeu_ps(y + ch, a);
  }
  for (; ch < c; ch++) {
    float a = 0.0f;
    for (ptrdiff_t i = 0; i < rows; i++) {
      const float *xp = x0 + i * xi + ch, *wp = w0 + i * wi + ch;
      for (ptrdiff_t j = 0; j < cols; j++, xp += xj, wp += c) a = __builtin_fmaf(*xp, *wp, a);
    }
    if (bias) a = a + bias[ch];
    if (res) a = a + res[ch];
    // NaN stays NaN, as `max(x, 0)` in the reference.
    if (activation >= 1) a = a > 0.0f || a != a ? a : 0.0f;
    if (activation == 2) a = a < 6.0f || a != a ? a : 6.0f;
    y[ch] = a;
  }
}

#endif

int netc_depthwise_row(
    const netc_depthwise_geometry *g, const float *x, const float *w, float *y, const float *bias,
    const float *residual, int activation, ptrdiff_t oh) {
  return netc_depthwise_row_at(netc_kernel_level(), g, x, w, y, bias, residual, activation, oh);
}

int netc_depthwise_row_at(
    int level, const netc_depthwise_geometry *g, const float *x, const float *w, float *y, const float *bias,
    const float *residual, int activation, ptrdiff_t oh) {
  if (level > netc_kernel_level()) level = netc_kernel_level();
  if (level <= 0) return 0;
#if defined(__x86_64__)
  const ptrdiff_t c = g->channels, kh = g->kernelH, kw = g->kernelW;
  // The window rows i0..<i1 that fall inside the input.
  ptrdiff_t ih0 = oh * g->strideH - g->padH, i0, i1;
  netc_clip(ih0, kh, g->dilationH, g->height, &i0, &i1);
  for (ptrdiff_t ow = 0; ow < g->outWidth; ow++) {
    // And the window columns j0..<j1.
    ptrdiff_t iw0 = ow * g->strideW - g->padW, j0, j1;
    netc_clip(iw0, kw, g->dilationW, g->width, &j0, &j1);
    ptrdiff_t o = (oh * g->outWidth + ow) * c;
    const float *x0 = x + ((ih0 + i0 * g->dilationH) * g->width + iw0 + j0 * g->dilationW) * c;
    const float *w0 = w + (i0 * kw + j0) * c;
    const float *res = residual ? residual + o : NULL;
    if (i1 == i0 || j1 == j0) x0 = x, w0 = w;  // the window is all padding: no tap is read
    if (level == 2)
      position512(g, x0, w0, i1 - i0, j1 - j0, y + o, bias, res, activation);
    else
      position256(g, x0, w0, i1 - i0, j1 - j0, y + o, bias, res, activation);
  }
  return 1;
#else
  return 0;
#endif
}
