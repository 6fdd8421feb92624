// BLAS for the interpreter's fp64 path, FC layers and gradients: OpenBLAS, loaded on first
// use (dlopen) rather than linked, so that commands which never multiply matrices do not
// pay for loading it and for its threads spinning up, and so that netc can tell it which
// kernels to use before it loads (see blas.c). Without OpenBLAS, plain loops stand in.
#ifndef NETC_BLAS_H
#define NETC_BLAS_H

#include <stddef.h>

/// Row-major `C = alpha * op(A) * op(B) + beta * C` (`trans*` nonzero: transposed).
void netc_sgemm(
    int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, const float *a, ptrdiff_t lda,
    const float *b, ptrdiff_t ldb, float beta, float *c, ptrdiff_t ldc);
void netc_dgemm(
    int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, double alpha, const double *a, ptrdiff_t lda,
    const double *b, ptrdiff_t ldb, double beta, double *c, ptrdiff_t ldc);

/// Row-major `y += A x`, `A` being `m x n`.
void netc_sgemv(ptrdiff_t m, ptrdiff_t n, const float *a, ptrdiff_t lda, const float *x, float *y);
void netc_dgemv(ptrdiff_t m, ptrdiff_t n, const double *a, ptrdiff_t lda, const double *x, double *y);

/// What serves the calls: "OpenBLAS <core>" or "built-in loops" (loads OpenBLAS if needed).
const char *netc_blas_name(void);

/// The `OPENBLAS_CORETYPE` netc sets for a kernel level of `netc_kernel_level()` when the
/// user has not: "SKYLAKEX" (2), "HASWELL" (1), or NULL (0: OpenBLAS's own choice).
const char *netc_openblas_coretype(int level);

/// The built-in loops, whatever is loaded (for tests).
void netc_sgemm_loops(
    int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, const float *a, ptrdiff_t lda,
    const float *b, ptrdiff_t ldb, float beta, float *c, ptrdiff_t ldc);

#endif
