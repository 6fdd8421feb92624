// OpenBLAS's CBLAS interface (Debian: libopenblas-dev), plus its thread-count control and
// the name of the kernel set it chose for this CPU.
#include <cblas.h>
void openblas_set_num_threads(int num_threads);
char *openblas_get_corename(void);
