/* cl.h: what the OpenCL backend offers beyond backend.h, for the commands
 * and the benchmark: the devices there are, what opening one did (kernel
 * builds, the cache, the policy it chose), and its GEMM alone (`clunet
 * bench`). The OpenCL state itself stays inside src/cl/; nothing outside it
 * (and its own tests) includes its headers. Calls taking a backend answer
 * CU_EUSAGE (or 0) for the ref backend. */
#ifndef CLUNET_CL_H
#define CLUNET_CL_H

#include <stddef.h>
#include <stdint.h>

#include "clunet/backend.h"

/* One OpenCL device, as `clunet devices` lists it. */
struct cu_device_info {
    char id[16];             /* "platform:device", e.g. "0:1" */
    char platform_name[128];
    char name[128];
    char type[16];           /* "gpu", "cpu", "accelerator", "other" */
    char version[64];        /* OpenCL C version */
    char driver[64];
    unsigned compute_units, max_clock_mhz;
    uint64_t global_mem, max_alloc, local_mem; /* bytes */
    int fp16, fp64;
};

/* Every device of every platform in enumeration order; *out is malloc'd
 * (free()). With no OpenCL platform at all *count is 0, CU_OK, and *why
 * (when not NULL) says so in words. */
enum cu_status cu_device_list(struct cu_device_info **out, int *count, const char **why, struct cu_err *err);

/* What opening an OpenCL device did and chose. */
struct cu_cl_report {
    char id[16], name[128], platform[128];
    int programs;            /* kernel programs built or loaded */
    double build_seconds;    /* their build (or cache load) time */
    int cache_on;            /* the binary cache is in use */
    char cache_dir[512];     /* "" when no folder could be found */
    int cache_hits, cache_misses, cache_rejected;
    char cache_note[256];    /* the first cache problem, or "" */
    char options[256];       /* the programs' build options (with the kernel constants) */
    char gemm[16];           /* the convolutions' GEMM: "panel" or "clblast" */
    int winograd;            /* Winograd 3x3 layers (with the panel GEMM): 0 off, 1 by size, 2 all */
    int wino_tile;           /* its largest tile: 4 (F(4x4,3x3) where it pays) or 2 (F(2x2,3x3) only) */
    int dw_direct;           /* the direct weight gradient of small layers (with the panel GEMM) */
    unsigned vector_width;   /* preferred float vector width */
    int wide_tiles;          /* 8 x 32 register tiles (16 accumulators), else 8 x 16 */
    size_t max_work_group;
    uint64_t local_mem;
    uint64_t workspace_bytes; /* the ops' scratch buffer now (it only grows: its size is its peak) */
};

/* Fills out and returns 1 for an OpenCL backend; 0 (out zeroed) for ref. */
int cu_cl_report(const struct cu_backend *be, struct cu_cl_report *out);

/* Switches the GEMM behind the convolutions to "panel" or "clblast" (what
 * CLUNET_GEMM chooses when the device opens): the benchmark times both. */
enum cu_status cu_cl_set_gemm(struct cu_backend *be, const char *impl, struct cu_err *err);

/* The device's GEMM alone, as the convolutions call it: C (m x n, row
 * stride n) = alpha op(A) op(B) + beta C on float32 tensors holding
 * row-major matrices (row strides lda, ldb), with a workspace tensor of at
 * least cu_cl_gemm_workspace floats (NULL when that is 0). */
size_t cu_cl_gemm_workspace(struct cu_backend *be, int trans_a, int trans_b, int m, int n, int k, int lda, int ldb);
enum cu_status cu_cl_gemm_run(struct cu_backend *be, int trans_a, int trans_b, int m, int n, int k, float alpha,
                              const struct cu_tensor *a, int lda, const struct cu_tensor *b, int ldb, float beta,
                              struct cu_tensor *c, struct cu_tensor *ws, const char *what, struct cu_err *err);

#endif
