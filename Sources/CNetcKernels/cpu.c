// The CPU's kernel level, found once (see `netc_kernel_level` in netc_kernels.h).
#include "netc_kernels.h"

#include <stdlib.h>
#include <string.h>

#if !defined(__x86_64__)
int netc_kernel_level(void) { return 0; }
#else
int netc_kernel_level(void) {
  static int level = -1;
  if (level < 0) {
    __builtin_cpu_init();
    int l = 0;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) l = 1;
    if (l == 1 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
      l = 2;
    const char *env = getenv("NETC_KERNELS");
    if (env && strcmp(env, "none") == 0) l = 0;
    if (env && strcmp(env, "avx2") == 0 && l > 1) l = 1;
    level = l;
  }
  return level;
}
#endif
