// The module's headers: the fp32 kernels and BLAS.
#include "netc_blas.h"
#include "netc_kernels.h"
