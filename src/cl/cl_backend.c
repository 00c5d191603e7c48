/* cl_backend.c: PLACEHOLDER until the OpenCL backend lands. */
#include "cl_internal.h"

enum cu_status cu_cl_backend_new(const char *spec, struct cu_backend **out, struct cu_err *err)
{
    if (!spec || !*spec) {
        *out = NULL;
        return CU_OK;
    }
    return cu_fail(err, CU_EUSAGE, "device %s: the OpenCL backend is not built yet", spec);
}
