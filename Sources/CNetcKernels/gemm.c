#include "netc_kernels.h"
#include "rows512.h"

#include <string.h>

size_t netc_packed_size(ptrdiff_t k, ptrdiff_t n) {
  return (size_t)((n + NETC_PANEL - 1) / NETC_PANEL) * (size_t)k * NETC_PANEL;
}

void netc_pack_b(const float *b, ptrdiff_t ldb, ptrdiff_t k, ptrdiff_t n, float *packed) {
  for (ptrdiff_t p = 0; p * NETC_PANEL < n; p++) {
    float *dst = packed + p * k * NETC_PANEL;
    ptrdiff_t j0 = p * NETC_PANEL, w = n - j0 < NETC_PANEL ? n - j0 : NETC_PANEL;
    for (ptrdiff_t l = 0; l < k; l++) {
      for (ptrdiff_t j = 0; j < NETC_PANEL; j++) dst[l * NETC_PANEL + j] = j < w ? b[l * ldb + j0 + j] : 0.0f;
    }
  }
}

#if defined(__x86_64__)

// ---- AVX-512: 14 rows x 32 columns (28 of the 32 zmm registers accumulate) per block ----

// The next chunk of panels streams from memory into L2 while this one is reused from L2:
// the row blocks after the first each fetch a share of it (`pfLines` 64-byte lines from
// `pf`, at most two per step). Otherwise the first row block meets every panel in memory,
// as in a layer whose weights come from memory on every pass. Where there is no next
// chunk, the lines are the next row block's rows instead (`netc_gemm_packed_at`).
#define PREFETCH_NEXT(pf, pfLines, l, k)                                                  \
  do {                                                                                    \
    if ((l) < (pfLines)) _mm_prefetch((const char *)((pf) + (l) * 16), _MM_HINT_T1);       \
    if ((l) + (k) < (pfLines)) _mm_prefetch((const char *)((pf) + ((l) + (k)) * 16), _MM_HINT_T1); \
  } while (0)

/// Stores 16 sums at `c` (the first `w` of them when w < 16) after the epilogue.
AVX512 static inline void store512(
    __m512 v, float *c, const float *bias, const float *res, int activation, int w) {
  __mmask16 m = w >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << w) - 1);
  if (bias) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, bias));
  if (res) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, res));
  _mm512_mask_storeu_ps(c, m, act512(v, activation));
}

/// Rows `i..<i+R` times one panel, `w` <= 32 valid columns at `j`. Always inlined into
/// one function per row count (`block512_rows_1` ... `_14`), where every index is a
/// constant: the 2R sums stay in registers. (With a variable row count they lived in a
/// stack array, loaded and stored around every FMA.)
AVX512 static inline __attribute__((always_inline)) void block512_rows(
    const int R, const float *a, ptrdiff_t lda, const float *panel, ptrdiff_t k, float *c, ptrdiff_t ldc,
    const float *bias, const float *residual, int activation, ptrdiff_t i, ptrdiff_t j, int w, int first, int last,
    const float *pf, ptrdiff_t pfLines) {
  __m512 acc[MR512][2];
  if (first) {
#pragma clang loop unroll(full)
    for (int r = 0; r < R; r++) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
  } else {
    __mmask16 m0 = w >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << w) - 1);
    __mmask16 m1 = w >= 32 ? (__mmask16)0xFFFF : w > 16 ? (__mmask16)((1u << (w - 16)) - 1) : 0;
#pragma clang loop unroll(full)
    for (int r = 0; r < R; r++) {
      acc[r][0] = _mm512_maskz_loadu_ps(m0, c + (i + r) * ldc + j);
      acc[r][1] = _mm512_maskz_loadu_ps(m1, c + (i + r) * ldc + j + 16);
    }
  }
  const float *ar = a + i * lda;
  for (ptrdiff_t l = 0; l < k; l++) {
    PREFETCH_PANEL(panel, l);
    PREFETCH_NEXT(pf, pfLines, l, k);
    fma_rows512(R, acc, ar + l, lda, _mm512_loadu_ps(panel + l * NETC_PANEL), _mm512_loadu_ps(panel + l * NETC_PANEL + 16));
  }
  if (!last) {
    bias = NULL;
    residual = NULL;
    activation = 0;
  }
  store_rows512(
      R, acc, c + i * ldc + j, ldc, bias ? bias + j : NULL, residual ? residual + i * ldc + j : NULL, activation, w);
}

// Each block body is inlined into one function per row count R, in which R is a constant
// (`ROW_KERNEL`), and called through a table indexed by R (`ROW_KERNEL_REF`, rows512.h).
typedef void (*block_fn)(
    const float *, ptrdiff_t, const float *, ptrdiff_t, float *, ptrdiff_t, const float *, const float *, int, ptrdiff_t,
    ptrdiff_t, int, int, int, const float *, ptrdiff_t);
#define ROW_KERNEL(TARGET, BODY, R)                                                                              \
  TARGET static void BODY##_##R(                                                                                 \
      const float *a, ptrdiff_t lda, const float *panel, ptrdiff_t k, float *c, ptrdiff_t ldc, const float *bias, \
      const float *residual, int activation, ptrdiff_t i, ptrdiff_t j, int w, int first, int last, const float *pf, \
      ptrdiff_t pfLines) {                                                                                       \
    BODY(R, a, lda, panel, k, c, ldc, bias, residual, activation, i, j, w, first, last, pf, pfLines);           \
  }
ROWS_1_TO_14(ROW_KERNEL, AVX512, block512_rows)
static const block_fn block512_for[MR512 + 1] = {NULL, ROWS_1_TO_14(ROW_KERNEL_REF, AVX512, block512_rows)};

/// Rows `i..<i+R` (R <= 24) times the first 16 columns of a panel (`w` <= 16 valid): one
/// register per row, so a layer with at most 16 output channels (MobileNet v2's first
/// projection, 32 -> 16) does not spend half of every FMA on a panel's zero columns.
#define MR512_16 24
AVX512 static inline __attribute__((always_inline)) void block512_16_rows(
    const int R, const float *a, ptrdiff_t lda, const float *panel, ptrdiff_t k, float *c, ptrdiff_t ldc,
    const float *bias, const float *residual, int activation, ptrdiff_t i, ptrdiff_t j, int w, int first, int last,
    const float *pf, ptrdiff_t pfLines) {
  const __mmask16 m = w >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << w) - 1);
  __m512 acc[MR512_16];
#pragma clang loop unroll(full)
  for (int r = 0; r < R; r++) acc[r] = first ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(m, c + (i + r) * ldc + j);
  const float *ar = a + i * lda;
  for (ptrdiff_t l = 0; l < k; l++) {
    PREFETCH_PANEL(panel, l);
    PREFETCH_NEXT(pf, pfLines, l, k);
    __m512 b0 = _mm512_loadu_ps(panel + l * NETC_PANEL);
#pragma clang loop unroll(full)
    for (int r = 0; r < R; r++) acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(ar[r * lda + l]), b0, acc[r]);
  }
  if (!last) {
    bias = NULL;
    residual = NULL;
    activation = 0;
  }
#pragma clang loop unroll(full)
  for (int r = 0; r < R; r++)
    store512(acc[r], c + (i + r) * ldc + j, bias ? bias + j : NULL, residual ? residual + (i + r) * ldc + j : NULL,
             activation, w);
}

ROWS_1_TO_24(ROW_KERNEL, AVX512, block512_16_rows)
static const block_fn block512_16_for[MR512_16 + 1] = {NULL, ROWS_1_TO_24(ROW_KERNEL_REF, AVX512, block512_16_rows)};

// ---- AVX2 + FMA: 6 rows x 16 columns (12 ymm accumulators) per block, half a panel ----

AVX2 static inline void store256(
    __m256 v, float *c, const float *bias, const float *res, int activation, int w) {
  if (w >= 8) {
    if (bias) v = _mm256_add_ps(v, _mm256_loadu_ps(bias));
    if (res) v = _mm256_add_ps(v, _mm256_loadu_ps(res));
    _mm256_storeu_ps(c, act256(v, activation));
    return;
  }
  float t[8];
  _mm256_storeu_ps(t, v);
  for (int q = 0; q < w; q++) {
    float s = t[q];
    if (bias) s = s + bias[q];
    if (res) s = s + res[q];
    c[q] = act1(s, activation);
  }
}

/// Rows `i..<i+R` (R <= 6) times 16 columns of a panel, `w` <= 16 valid columns at `j`;
/// one function per row count, as for AVX-512.
AVX2 static inline __attribute__((always_inline)) void block256_rows(
    const int R, const float *a, ptrdiff_t lda, const float *panel, ptrdiff_t k, float *c, ptrdiff_t ldc,
    const float *bias, const float *residual, int activation, ptrdiff_t i, ptrdiff_t j, int w, int first, int last,
    const float *pf, ptrdiff_t pfLines) {
  __m256 acc[6][2];
#pragma clang loop unroll(full)
  for (int r = 0; r < R; r++) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
  if (!first) {
    for (int r = 0; r < R; r++) {
      float t[16] = {0};
      memcpy(t, c + (i + r) * ldc + j, (size_t)w * sizeof(float));
      acc[r][0] = _mm256_loadu_ps(t);
      acc[r][1] = _mm256_loadu_ps(t + 8);
    }
  }
  const float *ar = a + i * lda;
  for (ptrdiff_t l = 0; l < k; l++) {
    PREFETCH_NEXT(pf, pfLines, l, k);
    __m256 b0 = _mm256_loadu_ps(panel + l * NETC_PANEL), b1 = _mm256_loadu_ps(panel + l * NETC_PANEL + 8);
#pragma clang loop unroll(full)
    for (int r = 0; r < R; r++) {
      __m256 x = _mm256_broadcast_ss(ar + r * lda + l);
      acc[r][0] = _mm256_fmadd_ps(x, b0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(x, b1, acc[r][1]);
    }
  }
  if (!last) {
    bias = NULL;
    residual = NULL;
    activation = 0;
  }
#pragma clang loop unroll(full)
  for (int r = 0; r < R; r++) {
    float *cr = c + (i + r) * ldc + j;
    const float *rr = residual ? residual + (i + r) * ldc + j : NULL;
    const float *bb = bias ? bias + j : NULL;
    store256(acc[r][0], cr, bb, rr, activation, w);
    if (w > 8) store256(acc[r][1], cr + 8, bb ? bb + 8 : NULL, rr ? rr + 8 : NULL, activation, w - 8);
  }
}

ROWS_1_TO_6(ROW_KERNEL, AVX2, block256_rows)
static const block_fn block256_for[6 + 1] = {NULL, ROWS_1_TO_6(ROW_KERNEL_REF, AVX2, block256_rows)};

#endif

int netc_gemm_packed(
    const float *a, ptrdiff_t lda, const float *packed, ptrdiff_t k, ptrdiff_t n,
    float *c, ptrdiff_t ldc, const float *bias, const float *residual, int activation,
    ptrdiff_t i0, ptrdiff_t i1, ptrdiff_t j0, ptrdiff_t j1) {
  return netc_gemm_packed_at(
      netc_kernel_level(), a, lda, packed, k, n, c, ldc, bias, residual, activation, i0, i1, j0, j1);
}

int netc_gemm_packed_at(
    int level, const float *a, ptrdiff_t lda, const float *packed, ptrdiff_t k, ptrdiff_t n,
    float *c, ptrdiff_t ldc, const float *bias, const float *residual, int activation,
    ptrdiff_t i0, ptrdiff_t i1, ptrdiff_t j0, ptrdiff_t j1) {
  if (level > netc_kernel_level()) level = netc_kernel_level();
  if (level <= 0) return 0;
#if defined(__x86_64__)
  if (j1 > n) j1 = n;
  // GotoBLAS's order: a row block's `14 x KC` slice of `a` stays in L1 while the `KC x 32`
  // blocks of a chunk of panels (48 KB each, prefetched) stream past it from L2; the sums
  // of a row block carry over between K blocks in `c`, and the output pass runs with the
  // last one. (KC 384 beat 192, 256 and 512 with the prefetch; but a K of up to 640 in one
  // block beat 384 + the rest: measurements in docs/run.md.)
  const ptrdiff_t KC = k <= NETC_GEMM_ONE_BLOCK_K ? k : 384;
  // At most 16 columns in all: the 16-column kernel, 24 rows a block.
  const int narrow = level == 2 && j1 - j0 <= 16;
  const int mr = narrow ? MR512_16 : level == 2 ? MR512 : 6;
  // Panels per pass over the rows: their K block (384 KB in all) stays in L2 meanwhile,
  // next to the next chunk's, which the pass prefetches (`PREFETCH_NEXT`); 8 panels beat
  // 16. (Packing each row block's K slice, so the broadcasts walk one pointer, gained
  // nothing and cost up to a panel's worth of work: the rows are read in place.)
  const ptrdiff_t chunk = 8;
  // Row blocks as equal as they can be: 49 rows as 13+12+12+12, not 3 x 14 + 7, whose
  // short block streams every panel for few FMAs per step.
  ptrdiff_t blocks = (i1 - i0 + mr - 1) / mr;
  ptrdiff_t base = blocks ? (i1 - i0) / blocks : 0, extra = blocks ? (i1 - i0) % blocks : 0;
  for (ptrdiff_t l0 = 0; l0 < k; l0 += KC) {
    ptrdiff_t kc = k - l0 < KC ? k - l0 : KC;
    int first = l0 == 0, last = l0 + kc == k;
    for (ptrdiff_t q0 = j0 / NETC_PANEL; q0 * NETC_PANEL < j1; q0 += chunk) {
      // The next chunk in this order (the next K block's first when this is the last); row
      // block b >= 1 prefetches share b - 1 of each of its panels' 2 * nkc lines.
      ptrdiff_t nq0 = q0 + chunk, nl0 = l0;
      if (nq0 * NETC_PANEL >= j1) nq0 = j0 / NETC_PANEL, nl0 = l0 + KC;
      const ptrdiff_t nkc = nl0 < k ? (k - nl0 < KC ? k - nl0 : KC) : 0;
      const ptrdiff_t panelsEnd = (j1 + NETC_PANEL - 1) / NETC_PANEL;
      const ptrdiff_t inChunk = panelsEnd - q0 < chunk ? panelsEnd - q0 : chunk;
      for (ptrdiff_t b = 0, i = i0, rows = 0; i < i1; b++, i += rows) {
        rows = b < extra ? base + 1 : base;
        for (ptrdiff_t p = q0; p < q0 + chunk && p * NETC_PANEL < j1; p++) {
          const float *panel = packed + p * k * NETC_PANEL + l0 * NETC_PANEL;
          ptrdiff_t j = p * NETC_PANEL;
          int w = (int)(j1 - j < NETC_PANEL ? j1 - j : NETC_PANEL);
          const float *pf = NULL;
          ptrdiff_t pfLines = 0, np = nq0 + (p - q0);
          if (b >= 1 && nkc > 0 && np * NETC_PANEL < j1)
            pfLines = prefetch_share(packed + np * k * NETC_PANEL + nl0 * NETC_PANEL, 2 * nkc, blocks - 1, b - 1, &pf);
          // With no next chunk to fetch, and rows read in place in one K block (so a row
          // block's rows are one run of floats), the panels share the next row block's rows
          // instead: a 1x1 conv's input larger than L2 otherwise met every row block in L3.
          // Where the block's output rows are one run too (all the columns), they take the
          // output's share, or the residual's, in proportion to the lines: a store or a
          // residual read that misses L2 stalled the kernel as much (measurements:
          // docs/run.md).
          if (!pf && kc == k && lda == k && i + rows < i1) {
            const ptrdiff_t next = b + 1 < extra ? base + 1 : base, t = p - q0;
            const ptrdiff_t aLines = (next * k + 15) / 16, cLines = (next * n + 15) / 16;
            ptrdiff_t aCalls = inChunk;
            if (ldc == n && j0 == 0 && j1 == n && inChunk >= 2) {
              aCalls = (inChunk * aLines + (aLines + cLines) / 2) / (aLines + cLines);
              aCalls = aCalls < 1 ? 1 : aCalls > inChunk - 1 ? inChunk - 1 : aCalls;
            }
            if (t < aCalls)
              pfLines = prefetch_share(a + (i + rows) * lda, aLines, aCalls, t, &pf);
            else
              pfLines = prefetch_share(
                  (residual ? residual : c) + (i + rows) * ldc, cLines, inChunk - aCalls, t - aCalls, &pf);
          }
          if (narrow) {
            block512_16_for[rows](a + l0, lda, panel, kc, c, ldc, bias, residual, activation, i, j, w, first, last, pf, pfLines);
          } else if (level == 2) {
            block512_for[rows](a + l0, lda, panel, kc, c, ldc, bias, residual, activation, i, j, w, first, last, pf, pfLines);
          } else {
            block256_for[rows](a + l0, lda, panel, kc, c, ldc, bias, residual, activation, i, j, w < 16 ? w : 16, first, last, pf, pfLines);
            if (w > 16)
              block256_for[rows](a + l0, lda, panel + 16, kc, c, ldc, bias, residual, activation, i, j + 16, w - 16, first, last, NULL, 0);
          }
        }
      }
    }
  }
  return 1;
#else
  return 0;
#endif
}
