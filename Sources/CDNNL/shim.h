// oneDNN's C API (Debian's libdnnl-dev, headers under oneapi/dnnl/). CKernels wraps the matmul
// primitive in dnnl_gemm.c; Swift code calls those wrappers, not this API.
#pragma once
#include <oneapi/dnnl/dnnl.h>
