/* version_print.c: the `clunet --version` text of version.h. */
#include <png.h>
#include <stdio.h>

#include "clunet/comm.h"
#include "clunet/version.h"

void cu_version_print(FILE *f)
{
    char platforms[4096];
    cu_cl_platforms_text(platforms, sizeof platforms);
    fprintf(f,
            "clunet %s (git %s)\n"
            "built with: OpenCL ICD loader %s, CLBlast %s, libpng %s, jansson %s, MPI: %s\n"
            "libpng at run time: %s\n"
            "OpenCL platforms found:\n%s",
            cu_version, cu_git_describe, cu_built_opencl, cu_built_clblast, cu_built_libpng, cu_built_jansson,
            cu_comm_library(), png_get_libpng_ver(NULL), platforms);
}
