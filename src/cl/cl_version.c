/* cl_version.c: the OpenCL platforms `clunet --version` lists (version.h):
 * name and CL_PLATFORM_VERSION of each. */
#include <stdio.h>
#include <string.h>

#include <CL/cl_ext.h>

#include "cl_internal.h"
#include "clunet/version.h"

void cu_cl_platforms_text(char *buf, size_t size)
{
    cl_platform_id ps[16];
    cl_uint np = 0;
    buf[0] = '\0';
    cl_int rc = clGetPlatformIDs(16, ps, &np);
    if (rc != CL_SUCCESS || np == 0) {
        snprintf(buf, size, "  none (%s)\n",
                 rc == CL_SUCCESS || rc == CL_PLATFORM_NOT_FOUND_KHR ? "no OpenCL driver (ICD) installed" : "clGetPlatformIDs failed");
        return;
    }
    size_t used = 0;
    for (cl_uint i = 0; i < np && i < 16 && used < size; i++) {
        char name[256] = "?", version[256] = "?";
        clGetPlatformInfo(ps[i], CL_PLATFORM_NAME, sizeof name, name, NULL);
        clGetPlatformInfo(ps[i], CL_PLATFORM_VERSION, sizeof version, version, NULL);
        name[sizeof name - 1] = version[sizeof version - 1] = '\0';
        int n = snprintf(buf + used, size - used, "  %u: %s: %s\n", i, name, version);
        used += n > 0 ? (size_t)n : 0;
    }
}
