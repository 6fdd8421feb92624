// Shared by every kernel file; not part of the module's interface.
#ifndef NETC_SIMD_H
#define NETC_SIMD_H

#include <immintrin.h>

#if defined(__x86_64__)

// Each kernel is compiled for its instruction set alone and chosen at run time by
// `netc_kernel_level`, so the library needs no compile flags beyond the defaults.
#define AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")))
#define AVX2 __attribute__((target("avx2,fma")))

// The fused activation of every store, `activation` 0 (none), 1 (ReLU) or 2 (ReLU6).
// max(0, v) returns v when v is NaN (the second operand), as ReLU must.

AVX512 static inline __m512 act512(__m512 v, int activation) {
  if (activation >= 1) v = _mm512_max_ps(_mm512_setzero_ps(), v);
  if (activation == 2) v = _mm512_min_ps(_mm512_set1_ps(6.0f), v);
  return v;
}

AVX2 static inline __m256 act256(__m256 v, int activation) {
  if (activation >= 1) v = _mm256_max_ps(_mm256_setzero_ps(), v);
  if (activation == 2) v = _mm256_min_ps(_mm256_set1_ps(6.0f), v);
  return v;
}

#endif

/// One value's activation: NaN stays NaN, as `max(x, 0)` in the reference.
static inline float act1(float s, int activation) {
  if (activation >= 1) s = s > 0.0f || s != s ? s : 0.0f;
  if (activation == 2) s = s < 6.0f || s != s ? s : 6.0f;
  return s;
}

#endif
