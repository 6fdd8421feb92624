// Shared by the window kernels (depthwise.c, pool.c); not part of the module's interface.
#ifndef NETC_WINDOW_H
#define NETC_WINDOW_H

#include <stddef.h>

/// The taps `*lo..<*hi` of a window along one axis that fall inside `0..<extent`, the
/// window starting at `origin` (negative inside the padding) with `kernel` taps
/// `dilation` apart.
static inline void netc_clip(
    ptrdiff_t origin, ptrdiff_t kernel, ptrdiff_t dilation, ptrdiff_t extent, ptrdiff_t *lo, ptrdiff_t *hi) {
  ptrdiff_t a = 0, b = kernel;
  while (a < kernel && origin + a * dilation < 0) a++;
  while (b > a && origin + (b - 1) * dilation >= extent) b--;
  *lo = a;
  *hi = b;
}

#endif
