/* version.h: what `clunet --version` reports: clunet's version, the git
 * description of the source it was built from, and the versions of the
 * libraries it was built with and finds at run time. */
#ifndef CLUNET_VERSION_H
#define CLUNET_VERSION_H

#include <stddef.h>
#include <stdio.h>

extern const char cu_version[];      /* meson's project version, "0.1.0" */
extern const char cu_git_describe[]; /* `git describe --always --dirty` at build time, else "unknown" */
/* pkg-config versions of the libraries at build time. */
extern const char cu_built_opencl[], cu_built_clblast[], cu_built_libpng[], cu_built_jansson[];

/* One line per OpenCL platform the ICD loader finds ("  PoCL: OpenCL 3.0
 * PoCL 3.1 ..."), or one line saying why there is none; into buf. */
void cu_cl_platforms_text(char *buf, size_t size);

/* The whole --version text. */
void cu_version_print(FILE *f);

#endif
