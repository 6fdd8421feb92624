#include "netc_kernels.h"
#include "simd.h"

#include <math.h>

// Cephes' expf: x = n ln 2 + r with |r| <= ln 2 / 2 (ln 2 in two parts, so r is exact), a
// degree-6 polynomial for e^r, and 2^n put into the exponent bits. Within 2 ulp of libm's
// expf over the clamped range; a NaN stays NaN (max and min return their second operand
// when one is NaN, so the NaN goes second); below -87.3 the result is about 1e-38, not a
// subnormal, and above 88 it is e^88 (about 1.7e38: 2^n must stay a finite float), both
// beyond anything a softmax or a GELU keeps.
#define EXP_HI 88.0f
#define EXP_LO -87.3365478515625f
#define LOG2E 1.44269504088896341f
#define LN2_HI 0.693359375f
#define LN2_LO -2.12194440e-4f
#define P0 1.9875691500e-4f
#define P1 1.3981999507e-3f
#define P2 8.3334519073e-3f
#define P3 4.1665795894e-2f
#define P4 1.6666665459e-1f
#define P5 5.0000001201e-1f

static inline float exp1(float x) { return expf(x); }

// GELU's exact form x/2 (1 + erf(x / sqrt 2)), polynomials fitted by
// scripts/kernels/fit_gelu_erf.py (which prints the errors below, simulated in fp32):
// erf(z) = z p(z^2) for |z| <= 1; else erfc(|z|) = e^q(|z|), and 1 + erf(z) is 2 - erfc
// for z > 0 and erfc itself for z < 0 (the form 1 + erf(z) cancels there: PyTorch's keeps
// about 3 digits at z = -2.8). Within 2 ulp of the exact value for x >= 0, 14 ulp on
// (-1.42, 0), 1e-5 relative below (values under 0.11 in size, the exponent's argument
// rounded); past |z| = 6 erfc is taken as 0.
#define ERF_P0 1.128379226e+00f
#define ERF_P1 -3.761262894e-01f
#define ERF_P2 1.128363460e-01f
#define ERF_P3 -2.685607038e-02f
#define ERF_P4 5.192957819e-03f
#define ERF_P5 -8.053751080e-04f
#define ERF_P6 8.006874123e-05f
#define ERFC_Q0 5.206341157e-04f
#define ERFC_Q1 -1.131124616e+00f
#define ERFC_Q2 -6.301209331e-01f
#define ERFC_Q3 -1.119226590e-01f
#define ERFC_Q4 2.765950747e-02f
#define ERFC_Q5 -5.295237526e-03f
#define ERFC_Q6 7.449113182e-04f
#define ERFC_Q7 -7.072974404e-05f
#define ERFC_Q8 3.654360853e-06f
#define ERFC_Q9 5.077377185e-09f
#define ERFC_Q10 -1.187713128e-08f
#define ERFC_Q11 4.731384173e-10f
#define SQRT1_2 0.70710678118654752f

// The two polynomials by Horner's rule: p in s = z^2, q in r = min(|z|, 6).
#define GELU_ERF_HORNER(V, FMA, SET, r, s)                                                                                 \
  V p = SET(ERF_P6);                                                                                                      \
  p = FMA(p, s, SET(ERF_P5)), p = FMA(p, s, SET(ERF_P4)), p = FMA(p, s, SET(ERF_P3)), p = FMA(p, s, SET(ERF_P2));         \
  p = FMA(p, s, SET(ERF_P1)), p = FMA(p, s, SET(ERF_P0));                                                                 \
  V q = SET(ERFC_Q11);                                                                                                    \
  q = FMA(q, r, SET(ERFC_Q10)), q = FMA(q, r, SET(ERFC_Q9)), q = FMA(q, r, SET(ERFC_Q8)), q = FMA(q, r, SET(ERFC_Q7));    \
  q = FMA(q, r, SET(ERFC_Q6)), q = FMA(q, r, SET(ERFC_Q5)), q = FMA(q, r, SET(ERFC_Q4)), q = FMA(q, r, SET(ERFC_Q3));     \
  q = FMA(q, r, SET(ERFC_Q2)), q = FMA(q, r, SET(ERFC_Q1)), q = FMA(q, r, SET(ERFC_Q0));

static inline float same(float v) { return v; }

static float gelu_erf1(float x) {
  const float z = x * SQRT1_2, t = fabsf(z), s = z * z, u = t < 6.0f ? t : 6.0f;
  GELU_ERF_HORNER(float, fmaf, same, u, s)
  if (t <= 1.0f) return 0.5f * x * fmaf(z, p, 1.0f);
  const float erfc = t < 6.0f ? expf(q) : 0.0f;
  return 0.5f * x * (z > 0 ? 2.0f - erfc : erfc);
}

#if defined(__x86_64__)
AVX512 static inline __m512 exp512(__m512 x) {
  x = _mm512_min_ps(_mm512_set1_ps(EXP_HI), _mm512_max_ps(_mm512_set1_ps(EXP_LO), x));
  __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(LOG2E)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(LN2_HI), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(LN2_LO), r);
  __m512 p = _mm512_set1_ps(P0);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(P1));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(P2));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(P3));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(P4));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(P5));
  p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  __m512i e = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
  return _mm512_mul_ps(p, _mm512_castsi512_ps(e));
}

AVX2 static inline __m256 exp256(__m256 x) {
  x = _mm256_min_ps(_mm256_set1_ps(EXP_HI), _mm256_max_ps(_mm256_set1_ps(EXP_LO), x));
  __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(LOG2E)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(LN2_HI), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(LN2_LO), r);
  __m256 p = _mm256_set1_ps(P0);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(P1));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(P2));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(P3));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(P4));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(P5));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

#define GELU_K 0.7978845608028654f
#define GELU_C 0.044715f

// x * sigmoid(2u) = x / (1 + e^(-2u)).
AVX512 static void gelu_tanh512(const float *x, float *y, ptrdiff_t n) {
  for (ptrdiff_t i = 0; i < n; i += 16) {
    __mmask16 m = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
    __m512 v = _mm512_maskz_loadu_ps(m, x + i);
    __m512 u = _mm512_mul_ps(_mm512_set1_ps(-2.0f * GELU_K),
        _mm512_fmadd_ps(_mm512_mul_ps(_mm512_set1_ps(GELU_C), _mm512_mul_ps(v, v)), v, v));
    __m512 d = _mm512_add_ps(_mm512_set1_ps(1.0f), exp512(u));
    _mm512_mask_storeu_ps(y + i, m, _mm512_div_ps(v, d));
  }
}

AVX2 static void gelu_tanh256(const float *x, float *y, ptrdiff_t n) {
  ptrdiff_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 v = _mm256_loadu_ps(x + i);
    __m256 u = _mm256_mul_ps(_mm256_set1_ps(-2.0f * GELU_K),
        _mm256_fmadd_ps(_mm256_mul_ps(_mm256_set1_ps(GELU_C), _mm256_mul_ps(v, v)), v, v));
    __m256 d = _mm256_add_ps(_mm256_set1_ps(1.0f), exp256(u));
    _mm256_storeu_ps(y + i, _mm256_div_ps(v, d));
  }
  for (; i < n; i++) {
    float v = x[i];
    y[i] = v / (1.0f + exp1(-2.0f * GELU_K * (v + GELU_C * v * v * v)));
  }
}

AVX512 static void gelu_erf512(const float *x, float *y, ptrdiff_t n) {
  const __m512 one = _mm512_set1_ps(1.0f), six = _mm512_set1_ps(6.0f);
  for (ptrdiff_t i = 0; i < n; i += 16) {
    __mmask16 m = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
    const __m512 v = _mm512_maskz_loadu_ps(m, x + i), z = _mm512_mul_ps(v, _mm512_set1_ps(SQRT1_2));
    const __m512 t = _mm512_abs_ps(z), s = _mm512_mul_ps(z, z), u = _mm512_min_ps(t, six);
    GELU_ERF_HORNER(__m512, _mm512_fmadd_ps, _mm512_set1_ps, u, s)
    const __m512 small = _mm512_fmadd_ps(z, p, one);
    // Past 6 erfc is 0 (a NaN fails every compare and stays NaN through x/2).
    const __m512 erfc = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(t, six, _CMP_LT_OQ), exp512(q));
    const __mmask16 positive = _mm512_cmp_ps_mask(z, _mm512_setzero_ps(), _CMP_GT_OQ);
    const __m512 large = _mm512_mask_sub_ps(erfc, positive, _mm512_set1_ps(2.0f), erfc);
    const __m512 onePlus = _mm512_mask_mov_ps(large, _mm512_cmp_ps_mask(t, one, _CMP_LE_OQ), small);
    _mm512_mask_storeu_ps(y + i, m, _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), v), onePlus));
  }
}

AVX2 static void gelu_erf256(const float *x, float *y, ptrdiff_t n) {
  const __m256 one = _mm256_set1_ps(1.0f), six = _mm256_set1_ps(6.0f), sign = _mm256_set1_ps(-0.0f);
  ptrdiff_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i), z = _mm256_mul_ps(v, _mm256_set1_ps(SQRT1_2));
    const __m256 t = _mm256_andnot_ps(sign, z), s = _mm256_mul_ps(z, z), u = _mm256_min_ps(t, six);
    GELU_ERF_HORNER(__m256, _mm256_fmadd_ps, _mm256_set1_ps, u, s)
    const __m256 small = _mm256_fmadd_ps(z, p, one);
    const __m256 erfc = _mm256_and_ps(_mm256_cmp_ps(t, six, _CMP_LT_OQ), exp256(q));
    const __m256 positive = _mm256_cmp_ps(z, _mm256_setzero_ps(), _CMP_GT_OQ);
    const __m256 large = _mm256_blendv_ps(erfc, _mm256_sub_ps(_mm256_set1_ps(2.0f), erfc), positive);
    const __m256 onePlus = _mm256_blendv_ps(large, small, _mm256_cmp_ps(t, one, _CMP_LE_OQ));
    _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), v), onePlus));
  }
  for (; i < n; i++) y[i] = gelu_erf1(x[i]);
}

AVX512 static float exp_shifted512(float *row, ptrdiff_t n, float shift) {
  __m512 s = _mm512_setzero_ps(), c = _mm512_set1_ps(shift);
  for (ptrdiff_t i = 0; i < n; i += 16) {
    __mmask16 m = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
    __m512 e = exp512(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, row + i), c));
    e = _mm512_maskz_mov_ps(m, e);
    _mm512_mask_storeu_ps(row + i, m, e);
    s = _mm512_add_ps(s, e);
  }
  return _mm512_reduce_add_ps(s);
}

AVX2 static float exp_shifted256(float *row, ptrdiff_t n, float shift) {
  __m256 s = _mm256_setzero_ps(), c = _mm256_set1_ps(shift);
  ptrdiff_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 e = exp256(_mm256_sub_ps(_mm256_loadu_ps(row + i), c));
    _mm256_storeu_ps(row + i, e);
    s = _mm256_add_ps(s, e);
  }
  float lanes[8], sum = 0.0f;
  _mm256_storeu_ps(lanes, s);
  for (int l = 0; l < 8; l++) sum += lanes[l];
  for (; i < n; i++) {
    row[i] = exp1(row[i] - shift);
    sum += row[i];
  }
  return sum;
}
#endif

void netc_gelu_tanh(const float *x, float *y, ptrdiff_t n) { netc_gelu_tanh_at(netc_kernel_level(), x, y, n); }

void netc_gelu_tanh_at(int level, const float *x, float *y, ptrdiff_t n) {
  if (level > netc_kernel_level()) level = netc_kernel_level();
#if defined(__x86_64__)
  if (level == 2) {
    gelu_tanh512(x, y, n);
    return;
  }
  if (level == 1) {
    gelu_tanh256(x, y, n);
    return;
  }
#endif
  for (ptrdiff_t i = 0; i < n; i++) {
    float v = x[i];
    y[i] = v / (1.0f + exp1(-2.0f * 0.7978845608028654f * (v + 0.044715f * v * v * v)));
  }
}

void netc_gelu_erf(const float *x, float *y, ptrdiff_t n) { netc_gelu_erf_at(netc_kernel_level(), x, y, n); }

void netc_gelu_erf_at(int level, const float *x, float *y, ptrdiff_t n) {
  if (level > netc_kernel_level()) level = netc_kernel_level();
#if defined(__x86_64__)
  if (level == 2) {
    gelu_erf512(x, y, n);
    return;
  }
  if (level == 1) {
    gelu_erf256(x, y, n);
    return;
  }
#endif
  for (ptrdiff_t i = 0; i < n; i++) y[i] = gelu_erf1(x[i]);
}

float netc_exp_shifted(float *row, ptrdiff_t n, float shift) {
  return netc_exp_shifted_at(netc_kernel_level(), row, n, shift);
}

float netc_exp_shifted_at(int level, float *row, ptrdiff_t n, float shift) {
  if (level > netc_kernel_level()) level = netc_kernel_level();
#if defined(__x86_64__)
  if (level == 2) return exp_shifted512(row, n, shift);
  if (level == 1) return exp_shifted256(row, n, shift);
#endif
  float sum = 0.0f;
  for (ptrdiff_t i = 0; i < n; i++) {
    row[i] = exp1(row[i] - shift);
    sum += row[i];
  }
  return sum;
}
