// OpenBLAS's CBLAS interface (pkg-config openblas gives the include path) plus LAPACKE for PCA.
#pragma once
#include <cblas.h>
#include <lapacke.h>
// openblas_set_num_threads / openblas_get_num_threads are declared in OpenBLAS's cblas.h.
