/* cl_internal.h: the state of the OpenCL backend, shared by the files of
 * src/cl/ and nothing else.
 *
 *   cl_device.c   enumerate platforms/devices, parse a device spec
 *                 (src/cmd_devices.c prints the --list-devices table)
 *   cl_error.c    OpenCL error names, cu_cl_check (the CU_CL macro)
 *   cl_program.c  build the embedded cl/ sources for the device, with the
 *                 on-disk binary cache; kernel lookup by name
 *   cl_backend.c  opens the device; fills the ops table (the one table);
 *                 tensors (cl_mem), upload/download, zero, copy, sync;
 *                 launch helpers; the im2col scratch buffer
 *   cl_ops.h      declarations of the ops, one block per cl_ops_*.c
 *   cl_ops_*.c    the ops: enqueue kernels from cl/ (and CLBlast SGEMM)
 *   cl_gemm.c     the GEMM used by the convolutions
 *   cl_policy.c   how the ops run on this device, decided once at open
 *   cl_consts.h   kernel constants, passed to every program as -D
 *
 * Everything is enqueued on one in-order queue; only downloads and
 * cu_backend_sync wait. No allocation happens inside a training step: the
 * scratch buffer grows on first use and is then reused. */
#ifndef CLUNET_CL_INTERNAL_H
#define CLUNET_CL_INTERNAL_H

#include <CL/cl.h>
#include <stdbool.h>

#include "backend_impl.h"
#include "clunet/cl.h"

#define CU_CL_MAX_KERNELS 96

struct cu_cl_kernel_entry {
    char name[64];
    cl_kernel kernel;
};

/* How the ops run on this device, decided once when it opens
 * (cu_cl_policy_fill, cl_policy.c) from the device's properties and the
 * environment overrides; the ops read it and query nothing themselves. */
enum cu_cl_wino_mode { CU_CL_WINO_OFF, CU_CL_WINO_BY_SIZE, CU_CL_WINO_ALL };
struct cu_cl_policy {
    cl_device_type type;    /* CL_DEVICE_TYPE */
    bool cpu;               /* a CPU device (PoCL, Intel's CPU runtime) */
    bool gemm_panel;        /* the panel GEMM (CPU devices) or CLBlast; CLUNET_GEMM=panel|clblast */
    enum cu_cl_wino_mode wino;/* Winograd 3x3 (with the panel GEMM only); CLUNET_NO_WINOGRAD, CLUNET_WINOGRAD=all */
    bool dw_direct;         /* the direct weight gradient (with the panel GEMM only); CLUNET_NO_DW_DIRECT */
    size_t col_bytes;       /* largest im2col band, within max_alloc; CLUNET_CL_COL_BYTES */
    size_t wino_bytes;      /* Winograd chunk workspace; CLUNET_WINO_BYTES */
    int wino_tile;          /* largest Winograd tile: 4 (F(4x4,3x3) where it fits) or 2; CLUNET_WINO_TILE=2 */
    size_t base_align;      /* CL_DEVICE_MEM_BASE_ADDR_ALIGN in bytes: where a sub-buffer may start */
    size_t max_wg;          /* CL_DEVICE_MAX_WORK_GROUP_SIZE */
    cl_uint vector_width;   /* CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT */
    bool wide_tiles;        /* 16 float16 accumulators a work-item (8 x 32 tiles): 32 vector registers,
                             * vector_width >= 16 (AVX-512); else 8 (8 x 16); CLUNET_TILES=wide|narrow */
    cl_ulong local_mem;     /* CL_DEVICE_LOCAL_MEM_SIZE */
};

struct cu_cl_backend {
    struct cu_backend base; /* first member: (struct cu_backend *) casts */
    cl_platform_id platform;
    cl_device_id device;
    cl_context ctx;
    cl_command_queue queue;
    struct cu_caps caps;
    char platform_name[128];
    char platform_version[128];
    char driver_version[64];
    char id[16]; /* "0:1" */
    char options[256];      /* build options of every program ("-cl-std=CL1.2") */
    struct cu_cl_policy policy; /* filled once at open (cu_cl_policy_fill) */
    cl_program programs[16];
    const char *program_names[16]; /* "act.cl", for messages */
    int nprograms;
    struct cu_cl_kernel_entry kernels[CU_CL_MAX_KERNELS];
    int nkernels;
    cl_mem scratch; /* im2col/col2im workspace, grown, never shrunk */
    size_t scratch_bytes;
    bool use_cache;         /* binary cache on (CLUNET_NO_KERNEL_CACHE unset) */
    char cache_dir[512];    /* "" when no cache folder could be found */
    char cache_note[256];   /* first cache problem (unwritable folder...), for `devices --open` */
    double build_seconds;   /* program build (or cache load) time */
    int cache_hits, cache_misses;
    int cache_rejected;     /* entries found but corrupt or unloadable (counted in misses too) */
};

static inline struct cu_cl_backend *cu_cl(struct cu_backend *be) { return (struct cu_cl_backend *)be; }
static inline cl_mem cu_cl_mem(const struct cu_tensor *t) { return (cl_mem)t->impl; }

/* "CL_OUT_OF_RESOURCES" for -5, etc. */
const char *cu_cl_strerror(cl_int rc);

/* On rc != CL_SUCCESS records "<device>: <call>(<what>): <CL_NAME>" with
 * CU_EDEVICE and returns it; else CU_OK. */
enum cu_status cu_cl_check(const struct cu_cl_backend *cb, cl_int rc, const char *call, const char *what,
                           struct cu_err *err);
#define CU_CL(cb, expr, what, err) cu_cl_check((cb), (expr), #expr, (what), (err))

/* The kernel of that name from the built programs (cached after the first
 * lookup); fails naming the kernel if no program has it. */
enum cu_status cu_cl_kernel(struct cu_cl_backend *cb, const char *name, cl_kernel *out, struct cu_err *err);

/* Enqueues k over a 1-, 2- or 3-D range; global sizes are rounded up to a
 * multiple of local when local is given (kernels bound-check). */
enum cu_status cu_cl_launch(struct cu_cl_backend *cb, cl_kernel k, const char *kname, cl_uint dims,
                            const size_t *global, const size_t *local, struct cu_err *err);

/* clSetKernelArg(k, i, size, value), failing with the kernel's name. */
enum cu_status cu_cl_arg(struct cu_cl_backend *cb, cl_kernel k, const char *kname, cl_uint i, size_t size,
                         const void *value, struct cu_err *err);

/* One work-item per element of an n-element range (n <= INT_MAX): a 1-D
 * launch with a work-group size that suits the device; kernels bound-check
 * (`if (i < n)`). */
enum cu_status cu_cl_launch_n(struct cu_cl_backend *cb, cl_kernel k, const char *kname, size_t n,
                              struct cu_err *err);

/* A scratch buffer of at least bytes (grown when needed, then reused). */
enum cu_status cu_cl_scratch(struct cu_cl_backend *cb, size_t bytes, cl_mem *out, struct cu_err *err);

/* Device enumeration (cl_device.c). */
struct cu_cl_device_info {
    struct cu_device_info pub; /* what `clunet devices` lists (clunet/cl.h) */
    cl_platform_id platform;
    cl_device_id device;
};

/* Every device of every platform, ids "platform:device" in enumeration
 * order. *out is malloc'd (free()); with no platform at all (no ICD) *count
 * is 0, CU_OK, and *why (when not NULL) says so in words. */
enum cu_status cu_cl_devices(struct cu_cl_device_info **out, int *count, const char **why, struct cu_err *err);
/* Chooses among devs by spec (NULL/"" = default: first GPU, else the first
 * device; "0:1"; "gpu"/"cpu"/"accelerator"; a case-insensitive substring of
 * the device name). *index = -1 only for the default spec with n == 0. An
 * unknown spec fails with CU_EUSAGE, listing what exists (why: the reason
 * there is no device, or NULL). */
enum cu_status cu_cl_device_pick(const char *spec, const struct cu_cl_device_info *devs, int n, const char *why,
                                 int *index, struct cu_err *err);

/* Fills cb->policy from the device and the environment (cl_policy.c): at
 * open, and again only where a test changed the environment on purpose. */
void cu_cl_policy_fill(struct cu_cl_backend *cb);

/* Programs (cl_program.c): builds every embedded source for the device. */
enum cu_status cu_cl_programs_build(struct cu_cl_backend *cb, struct cu_err *err);
void cu_cl_programs_release(struct cu_cl_backend *cb);

#endif
