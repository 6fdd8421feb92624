#include "netc_blas.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>

#include "netc_kernels.h"

// CBLAS's constants and OpenBLAS's 32-bit integers (Debian's libopenblas0 is not ILP64).
enum { RowMajor = 101, NoTrans = 111, Trans = 112 };
typedef void (*sgemm_f)(int, int, int, int, int, int, float, const float *, int, const float *, int, float, float *, int);
typedef void (*dgemm_f)(int, int, int, int, int, int, double, const double *, int, const double *, int, double, double *, int);
typedef void (*sgemv_f)(int, int, int, int, float, const float *, int, const float *, int, float, float *, int);
typedef void (*dgemv_f)(int, int, int, int, double, const double *, int, const double *, int, double, double *, int);

static struct {
  sgemm_f sgemm;
  dgemm_f dgemm;
  sgemv_f sgemv;
  dgemv_f dgemv;
  char *(*corename)(void);
} blas;
static pthread_once_t once = PTHREAD_ONCE_INIT;

const char *netc_openblas_coretype(int level) { return level == 2 ? "SKYLAKEX" : level == 1 ? "HASWELL" : NULL; }

// OpenBLAS picks its kernels by CPU model as it loads, and a release older than the CPU
// falls back to SSE3 ones: Debian 12's 0.3.21 chose "Prescott" on an Emerald Rapids Xeon
// (family 6, model 207) with AVX-512, and ResNet-50 ran 4x slower. So netc names the
// kernels by the instructions the CPU has, unless the user did. netc spreads work over
// threads itself, so OpenBLAS gets one (its idle threads would spin on the other core).
static void load(void) {
  if (!getenv("OPENBLAS_CORETYPE")) {
    const char *core = netc_openblas_coretype(netc_kernel_level());
    if (core) setenv("OPENBLAS_CORETYPE", core, 0);
  }
  setenv("OPENBLAS_NUM_THREADS", "1", 0);
  static const char *names[] = {
      "libopenblas.so.0", "libopenblas.so", "libopenblas.dylib", "/opt/homebrew/opt/openblas/lib/libopenblas.dylib",
      "/usr/local/opt/openblas/lib/libopenblas.dylib"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    void *lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    if (!lib) continue;
    sgemm_f s = (sgemm_f)dlsym(lib, "cblas_sgemm");
    dgemm_f d = (dgemm_f)dlsym(lib, "cblas_dgemm");
    sgemv_f sv = (sgemv_f)dlsym(lib, "cblas_sgemv");
    dgemv_f dv = (dgemv_f)dlsym(lib, "cblas_dgemv");
    if (!s || !d || !sv || !dv) {
      dlclose(lib);
      continue;
    }
    void (*threads)(int) = (void (*)(int))dlsym(lib, "openblas_set_num_threads");
    if (threads) threads(1);
    blas.corename = (char *(*)(void))dlsym(lib, "openblas_get_corename");
    blas.sgemm = s, blas.dgemm = d, blas.sgemv = sv, blas.dgemv = dv;
    return;
  }
}

// Leading dimensions and sizes past 2^31 - 1 do not fit OpenBLAS's ints: loops then.
static int fits(ptrdiff_t a, ptrdiff_t b, ptrdiff_t c, ptrdiff_t d, ptrdiff_t e, ptrdiff_t f) {
  const ptrdiff_t max = 2147483647;
  return a <= max && b <= max && c <= max && d <= max && e <= max && f <= max;
}

#define LOOPS(NAME, T)                                                                                          \
  void NAME(int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, T alpha, const T *a, ptrdiff_t lda, \
      const T *b, ptrdiff_t ldb, T beta, T *c, ptrdiff_t ldc) {                                                 \
    for (ptrdiff_t i = 0; i < m; i++) {                                                                         \
      for (ptrdiff_t j = 0; j < n; j++) {                                                                       \
        T sum = 0;                                                                                              \
        for (ptrdiff_t l = 0; l < k; l++)                                                                       \
          sum += (transA ? a[l * lda + i] : a[i * lda + l]) * (transB ? b[j * ldb + l] : b[l * ldb + j]);       \
        c[i * ldc + j] = alpha * sum + (beta == 0 ? 0 : beta * c[i * ldc + j]);                                 \
      }                                                                                                         \
    }                                                                                                           \
  }
LOOPS(netc_sgemm_loops, float)
static LOOPS(dgemm_loops, double)

void netc_sgemm(
    int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, const float *a, ptrdiff_t lda,
    const float *b, ptrdiff_t ldb, float beta, float *c, ptrdiff_t ldc) {
  pthread_once(&once, load);
  if (blas.sgemm && fits(m, n, k, lda, ldb, ldc))
    blas.sgemm(RowMajor, transA ? Trans : NoTrans, transB ? Trans : NoTrans, (int)m, (int)n, (int)k, alpha, a, (int)lda,
        b, (int)ldb, beta, c, (int)ldc);
  else
    netc_sgemm_loops(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void netc_dgemm(
    int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, double alpha, const double *a, ptrdiff_t lda,
    const double *b, ptrdiff_t ldb, double beta, double *c, ptrdiff_t ldc) {
  pthread_once(&once, load);
  if (blas.dgemm && fits(m, n, k, lda, ldb, ldc))
    blas.dgemm(RowMajor, transA ? Trans : NoTrans, transB ? Trans : NoTrans, (int)m, (int)n, (int)k, alpha, a, (int)lda,
        b, (int)ldb, beta, c, (int)ldc);
  else
    dgemm_loops(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void netc_sgemv(ptrdiff_t m, ptrdiff_t n, const float *a, ptrdiff_t lda, const float *x, float *y) {
  pthread_once(&once, load);
  if (blas.sgemv && fits(m, n, lda, 1, 1, 1)) {
    blas.sgemv(RowMajor, NoTrans, (int)m, (int)n, 1.0f, a, (int)lda, x, 1, 1.0f, y, 1);
    return;
  }
  for (ptrdiff_t i = 0; i < m; i++) {
    float sum = 0;
    for (ptrdiff_t l = 0; l < n; l++) sum += a[i * lda + l] * x[l];
    y[i] += sum;
  }
}

void netc_dgemv(ptrdiff_t m, ptrdiff_t n, const double *a, ptrdiff_t lda, const double *x, double *y) {
  pthread_once(&once, load);
  if (blas.dgemv && fits(m, n, lda, 1, 1, 1)) {
    blas.dgemv(RowMajor, NoTrans, (int)m, (int)n, 1.0, a, (int)lda, x, 1, 1.0, y, 1);
    return;
  }
  for (ptrdiff_t i = 0; i < m; i++) {
    double sum = 0;
    for (ptrdiff_t l = 0; l < n; l++) sum += a[i * lda + l] * x[l];
    y[i] += sum;
  }
}

const char *netc_blas_name(void) {
  static char name[64];
  pthread_once(&once, load);
  if (!blas.sgemm) return "built-in loops";
  const char *core = blas.corename ? blas.corename() : "?";
  int i = 0;
  for (const char *p = "OpenBLAS "; *p && i < 63; p++) name[i++] = *p;
  for (const char *p = core; p && *p && i < 63; p++) name[i++] = *p;
  name[i] = 0;
  return name;
}
