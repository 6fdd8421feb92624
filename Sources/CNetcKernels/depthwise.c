#include "netc_kernels.h"
#include "simd.h"
#include "window.h"

#if defined(__x86_64__)

/// One output position, channels `0..<c` in blocks of 64 (four independent sums), then 16,
/// then a masked tail; `x0`/`w0` are the first in-bounds tap of `rows` x `cols`.
AVX512 static void position512(
    const netc_depthwise_geometry *g, const float *x0, const float *w0, ptrdiff_t rows, ptrdiff_t cols,
    float *y, const float *bias, const float *res, int activation) {
  const ptrdiff_t c = g->channels, xj = g->dilationW * c, xi = g->dilationH * g->width * c, wi = g->kernelW * c;
  const __m512 zero = _mm512_setzero_ps();
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
      _mm512_storeu_ps(y + ch + 16 * q, act512(v[q], activation));
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
    _mm512_mask_storeu_ps(y + ch, m, act512(a, activation));
  }
}

/// Stores the `n` sums of positions `ow..<ow+n`, channels `ch` (`m` of 16), after the bias,
/// the residual and the activation.
AVX512 static inline __attribute__((always_inline)) void store_positions512(
    const int n, const __m512 *acc, const netc_depthwise_geometry *g, ptrdiff_t oh, ptrdiff_t ow, ptrdiff_t ch,
    __mmask16 m, __m512 b, float *y, const float *residual, int activation) {
  const ptrdiff_t c = g->channels;
#pragma clang loop unroll(full)
  for (int p = 0; p < n; p++) {
    ptrdiff_t o = (oh * g->outWidth + ow + p) * c + ch;
    __m512 v = _mm512_add_ps(acc[p], b);
    if (residual) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, residual + o));
    v = act512(v, activation);
    _mm512_mask_storeu_ps(y + o, m, v);
  }
}

/// `n` output positions from `ow` (1 <= n <= 8), 16 channels from `ch` (`m` of them), of a
/// row whose windows lie inside the input along W: window rows `i0..<i1` from input row
/// `ih0`. Inlined with a constant `n`, so the `n` sums stay in registers.
AVX512 static inline __attribute__((always_inline)) void positions512(
    const int n, const netc_depthwise_geometry *g, const float *x, const float *w, ptrdiff_t ih0, ptrdiff_t i0,
    ptrdiff_t i1, ptrdiff_t oh, ptrdiff_t ow, ptrdiff_t ch, __mmask16 m, __m512 b, float *y, const float *residual,
    int activation) {
  const ptrdiff_t c = g->channels, kw = g->kernelW, xs = g->strideW * c, xj = g->dilationW * c;
  const __m512 zero = _mm512_setzero_ps();
  __m512 acc[8];
#pragma clang loop unroll(full)
  for (int p = 0; p < n; p++) acc[p] = zero;
  for (ptrdiff_t i = i0; i < i1; i++) {
    const float *xr = x + ((ih0 + i * g->dilationH) * g->width + ow * g->strideW - g->padW) * c + ch;
    const float *wr = w + i * kw * c + ch;
    for (ptrdiff_t j = 0; j < kw; j++, xr += xj, wr += c) {
      const __m512 wv = _mm512_maskz_loadu_ps(m, wr);
#pragma clang loop unroll(full)
      for (int p = 0; p < n; p++) acc[p] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, xr + p * xs), wv, acc[p]);
    }
  }
  store_positions512(n, acc, g, oh, ow, ch, m, b, y, residual, activation);
}

/// `positions512` for 8 positions of a window 3 taps wide, dilation 1 and stride `S` (1 or
/// 2) along W: each input column of a window row is loaded once and feeds the positions
/// whose windows cover it: 10 loads for 24 FMAs at stride 1, 17 at stride 2, instead of 24.
AVX512 static inline __attribute__((always_inline)) void row3x8_512(
    const int S, const netc_depthwise_geometry *g, const float *x, const float *w, ptrdiff_t ih0, ptrdiff_t i0,
    ptrdiff_t i1, ptrdiff_t oh, ptrdiff_t ow, ptrdiff_t ch, __mmask16 m, __m512 b, float *y, const float *residual,
    int activation) {
  const ptrdiff_t c = g->channels;
  __m512 acc[8];
#pragma clang loop unroll(full)
  for (int p = 0; p < 8; p++) acc[p] = _mm512_setzero_ps();
  for (ptrdiff_t i = i0; i < i1; i++) {
    const float *xr = x + ((ih0 + i * g->dilationH) * g->width + ow * S - g->padW) * c + ch;
    const float *wr = w + i * 3 * c + ch;
    const __m512 wv[3] = {
        _mm512_maskz_loadu_ps(m, wr), _mm512_maskz_loadu_ps(m, wr + c), _mm512_maskz_loadu_ps(m, wr + 2 * c)};
    // Input column q (of the 7S + 3 the 8 windows cover) is tap j of position (q - j) / S.
#pragma clang loop unroll(full)
    for (int q = 0; q < 7 * S + 3; q++) {
      const __m512 v = _mm512_maskz_loadu_ps(m, xr + q * c);
#pragma clang loop unroll(full)
      for (int j = 0; j < 3; j++) {
        const int p = (q - j) / S;
        if (q >= j && (q - j) % S == 0 && p < 8) acc[p] = _mm512_fmadd_ps(v, wv[j], acc[p]);
      }
    }
  }
  store_positions512(8, acc, g, oh, ow, ch, m, b, y, residual, activation);
}

AVX512 static void row3x8_512_s1(
    const netc_depthwise_geometry *g, const float *x, const float *w, ptrdiff_t ih0, ptrdiff_t i0, ptrdiff_t i1,
    ptrdiff_t oh, ptrdiff_t ow, ptrdiff_t ch, __mmask16 m, __m512 b, float *y, const float *residual, int activation) {
  row3x8_512(1, g, x, w, ih0, i0, i1, oh, ow, ch, m, b, y, residual, activation);
}

AVX512 static void row3x8_512_s2(
    const netc_depthwise_geometry *g, const float *x, const float *w, ptrdiff_t ih0, ptrdiff_t i0, ptrdiff_t i1,
    ptrdiff_t oh, ptrdiff_t ow, ptrdiff_t ch, __mmask16 m, __m512 b, float *y, const float *residual, int activation) {
  row3x8_512(2, g, x, w, ih0, i0, i1, oh, ow, ch, m, b, y, residual, activation);
}

/// Output positions `ow0..<ow1` of a row whose windows all lie inside the input along W:
/// per 16 channels, 8 positions at once, so each weight vector is loaded once for 8 FMAs
/// and the 8 sums are independent. (One position at a time, a 32-channel layer had two
/// 9-long dependent FMA chains per position.)
AVX512 static void interior512(
    const netc_depthwise_geometry *g, const float *x, const float *w, ptrdiff_t ih0, ptrdiff_t i0, ptrdiff_t i1,
    ptrdiff_t oh, ptrdiff_t ow0, ptrdiff_t ow1, float *y, const float *bias, const float *residual, int activation) {
  const ptrdiff_t c = g->channels;
  // Groups of 64 channels outside, then blocks of positions, then the group's 16-channel
  // blocks: the windows of 8 positions (3x3: 30 taps x 256 bytes) stay in L1 while the
  // group's blocks read them. (With all channels inside, 144 or more channels overflowed
  // L1; with channels outside, each pass read one line in every position's run.) A row
  // of fewer than 8 (7x7 maps: 5 interior positions) is one block of all of them.
  const ptrdiff_t n = ow1 - ow0 >= 8 ? 8 : ow1 - ow0;
  // The stride of the column-reuse kernel for 3-wide windows, or 0 for none.
  const int row3 = g->kernelW == 3 && g->dilationW == 1 && g->strideW <= 2 ? (int)g->strideW : 0;
  for (ptrdiff_t c0 = 0; c0 < c; c0 += 64) {
    const ptrdiff_t c1 = c - c0 < 64 ? c : c0 + 64;
    for (ptrdiff_t ow = ow0; ow < ow1; ow += n) {
      // The last block moves back to end at ow1 and recomputes a few positions (the output
      // aliases neither the input nor the residual).
      if (ow + n > ow1) ow = ow1 - n;
      for (ptrdiff_t ch = c0; ch < c1; ch += 16) {
        const __mmask16 m = c - ch >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (c - ch)) - 1);
        const __m512 b = bias ? _mm512_maskz_loadu_ps(m, bias + ch) : _mm512_setzero_ps();
        if (n == 8 && row3 == 1) {
          row3x8_512_s1(g, x, w, ih0, i0, i1, oh, ow, ch, m, b, y, residual, activation);
          continue;
        }
        if (n == 8 && row3 == 2) {
          row3x8_512_s2(g, x, w, ih0, i0, i1, oh, ow, ch, m, b, y, residual, activation);
          continue;
        }
#define POSITIONS(N) \
  case N: positions512(N, g, x, w, ih0, i0, i1, oh, ow, ch, m, b, y, residual, activation); break;
        switch (n) { POSITIONS(1) POSITIONS(2) POSITIONS(3) POSITIONS(4) POSITIONS(5) POSITIONS(6) POSITIONS(7) POSITIONS(8) }
#undef POSITIONS
      }
    }
  }
}

/// `position512` with AVX2: blocks of 32 channels, then 8, then one at a time.
AVX2 static void position256(
    const netc_depthwise_geometry *g, const float *x0, const float *w0, ptrdiff_t rows, ptrdiff_t cols,
    float *y, const float *bias, const float *res, int activation) {
  const ptrdiff_t c = g->channels, xj = g->dilationW * c, xi = g->dilationH * g->width * c, wi = g->kernelW * c;
  const __m256 zero = _mm256_setzero_ps();
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
      _mm256_storeu_ps(y + ch + 8 * q, act256(v[q], activation));
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
    _mm256_storeu_ps(y + ch, act256(a, activation));
  }
  for (; ch < c; ch++) {
    float a = 0.0f;
    for (ptrdiff_t i = 0; i < rows; i++) {
      const float *xp = x0 + i * xi + ch, *wp = w0 + i * wi + ch;
      for (ptrdiff_t j = 0; j < cols; j++, xp += xj, wp += c) a = __builtin_fmaf(*xp, *wp, a);
    }
    if (bias) a = a + bias[ch];
    if (res) a = a + res[ch];
    y[ch] = act1(a, activation);
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
  // Positions whose windows lie inside the input along W: iw0 >= 0 and
  // iw0 + (kw - 1) * dilationW < width, with iw0 = ow * strideW - padW.
  ptrdiff_t lo = (g->padW + g->strideW - 1) / g->strideW;
  ptrdiff_t last = g->width - 1 - (kw - 1) * g->dilationW + g->padW;
  ptrdiff_t hi = last < 0 ? 0 : last / g->strideW + 1;
  if (hi > g->outWidth) hi = g->outWidth;
  if (lo > hi) lo = hi;
  if (level < 2 || i1 == i0) lo = hi = g->outWidth;
  if (lo < hi) interior512(g, x, w, ih0, i0, i1, oh, lo, hi, y, bias, residual, activation);
  for (ptrdiff_t ow = 0; ow < g->outWidth; ow++) {
    if (ow == lo) ow = hi;
    if (ow >= g->outWidth) break;
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
