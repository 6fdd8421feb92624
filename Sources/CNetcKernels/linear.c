#include "netc_kernels.h"

#include <stdlib.h>
#include <string.h>

// The panels of the column block being multiplied: one buffer per thread, grown as needed
// and kept (a fresh allocation of this size is an mmap, and its page faults, per call).
static _Thread_local float *scratch;
static _Thread_local size_t scratchFloats;

static float *scratch_for(size_t floats) {
  if (floats > scratchFloats) {
    free(scratch);
    scratch = malloc(floats * sizeof(float));
    scratchFloats = scratch ? floats : 0;
  }
  return scratch;
}

// The caller's copy of rows for `netc_rows_apart`, kept as `scratch` is.
static _Thread_local float *spread;
static _Thread_local size_t spreadFloats;

const float *netc_rows_apart(const float *a, ptrdiff_t lda, ptrdiff_t rows, ptrdiff_t k, ptrdiff_t *ld) {
  *ld = lda;
  // Rows a multiple of 2 KB apart fall into one or two of L1's 64 sets of lines: the
  // GEMM's 14-row slice of `a` evicts itself (ViT's and GPT-2's MLP down-projection, k =
  // 3072: 93 GFLOP/s against 112 for k = 768). One line more between rows spreads them.
  if (lda % 512 != 0 || rows < 2) return a;
  const ptrdiff_t wider = lda + 16;
  const size_t floats = (size_t)rows * (size_t)wider;
  if (floats > spreadFloats) {
    free(spread);
    spread = malloc(floats * sizeof(float));
    spreadFloats = spread ? floats : 0;
  }
  if (!spread) return a;
  for (ptrdiff_t r = 0; r < rows; r++) memcpy(spread + r * wider, a + r * lda, (size_t)k * sizeof(float));
  *ld = wider;
  return spread;
}

// How far ahead in a row of `w` the pack asks for lines: 8 of them, as far as the
// pack runs in the time a line takes to come from DRAM.
#define NETC_PACK_AHEAD 128

ptrdiff_t netc_linear_block_columns(ptrdiff_t k) {
  // A block's panels (k x width floats) fit in half of a 2 MB L2 next to the rows' K slice.
  // A longer k the GEMM takes in blocks of its own, each a slab of KC x width in L2: then
  // the widest block (up to 32 MB of panels) reads the rows fewest times (at k = 3072,
  // 64 columns a block read all of x 12 times for GPT-2's c_proj).
  const ptrdiff_t budget = k > NETC_GEMM_ONE_BLOCK_K ? (ptrdiff_t)(8 << 20) : (ptrdiff_t)(768 * 1024 / sizeof(float));
  ptrdiff_t width = budget / (k > 0 ? k : 1) / NETC_PANEL * NETC_PANEL;
  return width < NETC_PANEL ? NETC_PANEL : width > 8 * NETC_PANEL ? 8 * NETC_PANEL : width;
}

void netc_pack_rows(const float *w, ptrdiff_t ldw, ptrdiff_t k, ptrdiff_t n, float *panels) {
  // Panel p holds rows 32p ... of `w` transposed: element (l, jj) is w[32p + jj][l].
  // In tiles of 16 values of l: a tile's 2 KB of panel and the 32 rows' 64-byte runs stay
  // in L1 (one row at a time across the whole panel wrote a line per value, and took as
  // long as the GEMM).
  for (ptrdiff_t p = 0; p * NETC_PANEL < n; p++) {
    float *dst = panels + p * k * NETC_PANEL;
    const ptrdiff_t cols = n - p * NETC_PANEL < NETC_PANEL ? n - p * NETC_PANEL : NETC_PANEL;
    const float *src = w + p * NETC_PANEL * ldw;
    for (ptrdiff_t l0 = 0; l0 < k; l0 += 16) {
      const ptrdiff_t l1 = k - l0 < 16 ? k : l0 + 16;
      const ptrdiff_t ahead = l0 + NETC_PACK_AHEAD < k ? NETC_PACK_AHEAD : 0;
      for (ptrdiff_t jj = 0; jj < cols; jj++) {
        const float *row = src + jj * ldw;
        // 32 rows read 64 bytes at a time are more streams than the hardware prefetcher
        // follows: ask for each row's line a few tiles ahead (W comes from DRAM).
        if (ahead) __builtin_prefetch(row + l0 + ahead);
        for (ptrdiff_t l = l0; l < l1; l++) dst[l * NETC_PANEL + jj] = row[l];
      }
      for (ptrdiff_t jj = cols; jj < NETC_PANEL; jj++) {
        for (ptrdiff_t l = l0; l < l1; l++) dst[l * NETC_PANEL + jj] = 0.0f;
      }
    }
  }
}

int netc_linear(
    const float *a, ptrdiff_t lda, const float *w, ptrdiff_t ldw, ptrdiff_t k, float *c, ptrdiff_t ldc,
    const float *bias, const float *residual, int activation, ptrdiff_t i0, ptrdiff_t i1, ptrdiff_t j0, ptrdiff_t j1) {
  return netc_linear_at(netc_kernel_level(), a, lda, w, ldw, k, c, ldc, bias, residual, activation, i0, i1, j0, j1);
}

int netc_linear_at(
    int level, const float *a, ptrdiff_t lda, const float *w, ptrdiff_t ldw, ptrdiff_t k, float *c, ptrdiff_t ldc,
    const float *bias, const float *residual, int activation, ptrdiff_t i0, ptrdiff_t i1, ptrdiff_t j0, ptrdiff_t j1) {
  if (level > netc_kernel_level()) level = netc_kernel_level();
  if (level <= 0) return 0;
  if (j1 <= j0 || i1 <= i0) return 1;
  const ptrdiff_t block = netc_linear_block_columns(k);
  float *panels = scratch_for((size_t)block * (size_t)k);
  if (!panels) return 0;
  for (ptrdiff_t jb = j0; jb < j1; jb += block) {
    const ptrdiff_t width = j1 - jb < block ? j1 - jb : block;
    netc_pack_rows(w + jb * ldw, ldw, k, width, panels);
    netc_gemm_packed_at(
        level, a, lda, panels, k, width, c + jb, ldc, bias ? bias + jb : NULL, residual ? residual + jb : NULL, activation, i0,
        i1, 0, width);
  }
  return 1;
}
