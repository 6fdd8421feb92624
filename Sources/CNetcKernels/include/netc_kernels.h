// Hand-vectorised fp32 kernels of the interpreter, compiled for AVX-512 and AVX2+FMA with
// per-function target attributes and chosen at run time, so the package needs no
// target flags (unsafeFlags would make it unusable as a versioned SwiftPM dependency).
#ifndef NETC_KERNELS_H
#define NETC_KERNELS_H

#include <stddef.h>

/// Columns per packed weight panel.
#define NETC_PANEL 32

/// Which kernels this CPU runs: 2 = AVX-512 (F, BW, DQ, VL), 1 = AVX2 + FMA, 0 = none
/// (the caller uses its portable path). `NETC_KERNELS=avx2|none` lowers the choice.
int netc_kernel_level(void);

/// Floats in `k x n` weights packed into panels: ceil(n / 32) panels of `k x 32`, zero padded.
size_t netc_packed_size(ptrdiff_t k, ptrdiff_t n);

/// Packs the row-major `k x n` matrix `b` (leading dimension `ldb`) into panels.
void netc_pack_b(const float *b, ptrdiff_t ldb, ptrdiff_t k, ptrdiff_t n, float *packed);

/// The longest `k` that `netc_gemm_packed` takes in one block; a longer one goes in blocks
/// of 384, the sums of the earlier blocks kept in `c` in between.
#define NETC_GEMM_ONE_BLOCK_K 640

/// `c[i][j] = act((sum_l a[i][l] * B[l][j] + bias[j]) + residual[i][j])` for rows
/// `i0..<i1` and columns `j0..<j1` (`j0` a multiple of 32): `a` row-major with leading
/// dimension `lda`, B packed by `netc_pack_b` (`k x n`), `c` and `residual` (either may be
/// NULL for `bias`/`residual`) with leading dimension `ldc`. `activation`: 0 none,
/// 1 ReLU, 2 ReLU6 (NaN stays NaN). `residual` may be `c` itself when `k` is at most
/// `NETC_GEMM_ONE_BLOCK_K`: each element's residual is read just before its result is stored.
/// Returns 0 (and writes nothing) when `netc_kernel_level()` is 0.
int netc_gemm_packed(
    const float *a, ptrdiff_t lda, const float *packed, ptrdiff_t k, ptrdiff_t n,
    float *c, ptrdiff_t ldc, const float *bias, const float *residual, int activation,
    ptrdiff_t i0, ptrdiff_t i1, ptrdiff_t j0, ptrdiff_t j1);



/// `c[i][j] = act(sum_l a[i][l] * w[j][l] + bias[j] + residual[i][j])` for rows `i0..<i1`
/// and columns `j0..<j1`: a last-axis linear layer with `w` as PyTorch keeps it (`n x k`,
/// leading dimension `ldw`), through `netc_gemm_packed`, packing the weights block by block
/// of columns into a per-thread buffer as it goes (no packed copy of the weights is kept).
/// `residual` must not be `c`. Returns 0 (and writes nothing) when `netc_kernel_level()` is
/// 0 or the buffer cannot be allocated.
int netc_linear(
    const float *a, ptrdiff_t lda, const float *w, ptrdiff_t ldw, ptrdiff_t k, float *c, ptrdiff_t ldc,
    const float *bias, const float *residual, int activation, ptrdiff_t i0, ptrdiff_t i1, ptrdiff_t j0, ptrdiff_t j1);
/// Packs the rows of `w` (`n x k`, as PyTorch keeps a linear layer's `[out][in]` weight,
/// leading dimension `ldw`) transposed into panels, as `netc_pack_b` packs a `k x n`
/// matrix: ceil(n / 32) panels of `k x 32` (`netc_packed_size(k, n)` floats), zero padded.
/// Panel p reads only rows 32p ..< 32p + 32, so threads may pack disjoint panels at once.
void netc_pack_rows(const float *w, ptrdiff_t ldw, ptrdiff_t k, ptrdiff_t n, float *panels);
/// `a` (`rows` rows of `k` values, `lda` apart) or, when its rows are a multiple of 2 KB
/// apart (and so share L1's sets), a copy in this thread's buffer with its rows one line
/// further apart; `*ld` is the leading dimension of what it returns. The copy stays valid
/// until this thread's next call.
const float *netc_rows_apart(const float *a, ptrdiff_t lda, ptrdiff_t rows, ptrdiff_t k, ptrdiff_t *ld);
/// The columns `netc_linear` packs at a time for a given `k` (a multiple of 32): callers
/// that split the columns over threads split them in such blocks.
ptrdiff_t netc_linear_block_columns(ptrdiff_t k);

/// `y = x * sigmoid(2u)`, u = sqrt(2/pi) * (x + 0.044715 x^3): GELU's tanh form
/// (x/2 (1 + tanh u) is the same number without the cancellation near tanh u = -1), with a
/// vectorised exp within 2 ulp of libm's; `y` may be `x`.
void netc_gelu_tanh(const float *x, float *y, ptrdiff_t n);
/// `y = x/2 (1 + erf(x / sqrt 2))`, GELU's exact form (PyTorch's default), vectorised:
/// within 2 ulp for x >= 0, 14 ulp on (-1.42, 0), 1e-5 relative below (see exp.c); `y`
/// may be `x`.
void netc_gelu_erf(const float *x, float *y, ptrdiff_t n);
/// `row[j] = exp(row[j] - shift)` for j < n, returning their sum (the softmax numerators).
float netc_exp_shifted(float *row, ptrdiff_t n, float shift);

/// A 2-D window over a channels-last input: a depthwise convolution (channel multiplier 1)
/// or a max pool.
typedef struct {
  ptrdiff_t channels, height, width, outWidth;
  ptrdiff_t kernelH, kernelW, strideH, strideW, padH, padW, dilationH, dilationW;
} netc_depthwise_geometry;

/// Output row `oh` of the depthwise conv: `w` is `[kh][kw][channels]`, `y` and `residual`
/// (NULL for none) the whole channels-last output, `bias` per channel (NULL for none);
/// then the activation as in `netc_gemm_packed`. Padding taps are skipped. Returns 0 (and
/// writes nothing) when `netc_kernel_level()` is 0.
int netc_depthwise_row(
    const netc_depthwise_geometry *g, const float *x, const float *w, float *y, const float *bias,
    const float *residual, int activation, ptrdiff_t oh);
/// Output row `oh` of a 2-D max pool over the same geometry (`channels` in and out; the
/// window's padding taps skipped, -inf where it has none; NaN wins, as in the reference).
/// Returns 0 (and writes nothing) when `netc_kernel_level()` is 0.
int netc_maxpool_row(const netc_depthwise_geometry *g, const float *x, float *y, ptrdiff_t oh);

/// The im2col rows of output positions `p0..<p1` of an ungrouped conv over the same geometry
/// (`channels` = input channels, `dilationW` 1): per position `kh x kw x channels` inputs,
/// zeros for padding, into `col` (row after row). Returns 0 (and writes nothing) when
/// `netc_kernel_level()` is 0 or `dilationW` is not 1.
int netc_im2col_rows(const netc_depthwise_geometry *g, const float *x, ptrdiff_t p0, ptrdiff_t p1, float *col);

/// Output rows `oh0..<oh1` of an ungrouped 2-D conv over `g` (`channels` = input channels,
/// `dilationW` 1), computed from the input without im2col: `xpad` is the channels-last
/// input with the padding written out as zeros (`padWidth` positions a row; its position
/// (0, 0) is the input's (-padH, -padW)), covering every window. Weights packed by
/// `netc_pack_b` in im2col order (`kh * kw * channels` rows, `n` columns); `y` and
/// `residual` the whole `outHeight x outWidth x n` output; then bias, residual and
/// activation as in `netc_gemm_packed` (`residual` may be `y` itself). Returns 0 (and
/// writes nothing) below AVX-512 or with `dilationW` other than 1.
int netc_conv_direct_rows(
    const netc_depthwise_geometry *g, const float *xpad, ptrdiff_t padWidth, const float *packed, ptrdiff_t n,
    float *y, const float *bias, const float *residual, int activation, ptrdiff_t oh0, ptrdiff_t oh1);

/// `netc_gemm_packed`, `netc_depthwise_row`, `netc_maxpool_row`, `netc_im2col_rows`,
/// `netc_conv_direct_rows` and `netc_linear` with the kernels of `level` (lowered to what this CPU has), so
/// tests can check the AVX2 kernels on an AVX-512 machine.
int netc_gemm_packed_at(
    int level, const float *a, ptrdiff_t lda, const float *packed, ptrdiff_t k, ptrdiff_t n,
    float *c, ptrdiff_t ldc, const float *bias, const float *residual, int activation,
    ptrdiff_t i0, ptrdiff_t i1, ptrdiff_t j0, ptrdiff_t j1);
int netc_depthwise_row_at(
    int level, const netc_depthwise_geometry *g, const float *x, const float *w, float *y, const float *bias,
    const float *residual, int activation, ptrdiff_t oh);
int netc_maxpool_row_at(int level, const netc_depthwise_geometry *g, const float *x, float *y, ptrdiff_t oh);
int netc_im2col_rows_at(
    int level, const netc_depthwise_geometry *g, const float *x, ptrdiff_t p0, ptrdiff_t p1, float *col);
int netc_linear_at(
    int level, const float *a, ptrdiff_t lda, const float *w, ptrdiff_t ldw, ptrdiff_t k, float *c, ptrdiff_t ldc,
    const float *bias, const float *residual, int activation, ptrdiff_t i0, ptrdiff_t i1, ptrdiff_t j0, ptrdiff_t j1);
/// `netc_gelu_tanh`, `netc_gelu_erf` and `netc_exp_shifted` with the kernels of `level` (0: the
/// scalar forms, with libm's expf).
void netc_gelu_tanh_at(int level, const float *x, float *y, ptrdiff_t n);
void netc_gelu_erf_at(int level, const float *x, float *y, ptrdiff_t n);
float netc_exp_shifted_at(int level, float *row, ptrdiff_t n, float shift);
int netc_conv_direct_rows_at(
    int level, const netc_depthwise_geometry *g, const float *xpad, ptrdiff_t padWidth, const float *packed,
    ptrdiff_t n, float *y, const float *bias, const float *residual, int activation, ptrdiff_t oh0, ptrdiff_t oh1);

#endif
