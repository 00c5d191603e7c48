/* cl_policy.c: the OpenCL backend's policy (struct cu_cl_policy in
 * cl_internal.h), decided once when the device opens: which GEMM the
 * convolutions use, when Winograd and the direct weight gradient run, the
 * workspace limits, and the device facts the launches need. The
 * environment overrides (documented in docs/cl-ops.md) are read here and
 * nowhere else in src/cl/. */
#include "cl_internal.h"

#include <stdlib.h>
#include <string.h>

#define COL_BYTES_DEFAULT ((size_t)256 << 20)
/* Winograd chunk workspace (docs/perf-winograd.md): an eighth of the
 * device's cache (PoCL reports the last level), between 4 and 16 MiB.
 * On an AMD EPYC (Zen 4, 32 MiB L3) 16 MiB gained nothing at two threads
 * and cost at one (docs/perf-threads.md); on an Intel Xeon whose cache
 * reads 480 MiB, 16 MiB took a U-Net training step at S=128 c=0.5 from
 * 371-388 ms to 358-372, 32 and 64 MiB were slower again
 * (docs/PERFORMANCE.md). */
#define WINO_BYTES_MIN ((size_t)4 << 20)
#define WINO_BYTES_MAX ((size_t)16 << 20)

static size_t wino_bytes_default(cl_device_id dev)
{
    cl_ulong cache = 0;
    if (clGetDeviceInfo(dev, CL_DEVICE_GLOBAL_MEM_CACHE_SIZE, sizeof cache, &cache, NULL) != CL_SUCCESS)
        cache = 0;
    size_t b = (size_t)(cache / 8);
    return b < WINO_BYTES_MIN ? WINO_BYTES_MIN : b > WINO_BYTES_MAX ? WINO_BYTES_MAX : b;
}

/* A positive byte count from the environment, else dflt. */
static size_t env_bytes(const char *name, size_t dflt)
{
    const char *env = getenv(name);
    if (env && *env) {
        char *end;
        unsigned long long v = strtoull(env, &end, 10);
        if (*end == '\0' && v > 0)
            return (size_t)v;
    }
    return dflt;
}

/* Set to anything but "" or "0". */
static bool env_on(const char *name)
{
    const char *v = getenv(name);
    return v && *v && strcmp(v, "0") != 0;
}

void cu_cl_policy_fill(struct cu_cl_backend *cb)
{
    struct cu_cl_policy *p = &cb->policy;
    memset(p, 0, sizeof *p);
    clGetDeviceInfo(cb->device, CL_DEVICE_TYPE, sizeof p->type, &p->type, NULL);
    p->cpu = (p->type & CL_DEVICE_TYPE_CPU) != 0;
    const char *gemm = getenv("CLUNET_GEMM");
    p->gemm_panel = gemm && !strcmp(gemm, "panel") ? true : gemm && !strcmp(gemm, "clblast") ? false : p->cpu;
    const char *wino = getenv("CLUNET_WINOGRAD");
    /* both run only beside the panel GEMM (the ops check gemm_panel too) */
    p->wino = env_on("CLUNET_NO_WINOGRAD")   ? CU_CL_WINO_OFF
              : wino && !strcmp(wino, "all") ? CU_CL_WINO_ALL
                                             : CU_CL_WINO_BY_SIZE;
    p->dw_direct = !env_on("CLUNET_NO_DW_DIRECT");
    p->col_bytes = env_bytes("CLUNET_CL_COL_BYTES", COL_BYTES_DEFAULT);
    if (cb->caps.max_alloc && p->col_bytes > cb->caps.max_alloc)
        p->col_bytes = (size_t)cb->caps.max_alloc;
    p->wino_bytes = env_bytes("CLUNET_WINO_BYTES", wino_bytes_default(cb->device));
    const char *tile = getenv("CLUNET_WINO_TILE");
    p->wino_tile = tile && !strcmp(tile, "2") ? 2 : 4;
    cl_uint bits = 0;
    if (clGetDeviceInfo(cb->device, CL_DEVICE_MEM_BASE_ADDR_ALIGN, sizeof bits, &bits, NULL) != CL_SUCCESS ||
        bits < 8 * sizeof(float))
        bits = 4096 * 8; /* unknown: the largest alignment devices ask for */
    p->base_align = bits / 8;
    size_t max_wg = 0;
    clGetDeviceInfo(cb->device, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof max_wg, &max_wg, NULL);
    p->max_wg = max_wg ? max_wg : 1;
    clGetDeviceInfo(cb->device, CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT, sizeof p->vector_width, &p->vector_width,
                    NULL);
    clGetDeviceInfo(cb->device, CL_DEVICE_LOCAL_MEM_SIZE, sizeof p->local_mem, &p->local_mem, NULL);
    /* sixteen float16 accumulators fill AVX-512's 32 registers; with AVX2
     * (16 registers of 8 floats: preferred width 8) each is two registers,
     * so the narrow tiles, which already need all 16 */
    const char *tiles = getenv("CLUNET_TILES");
    p->wide_tiles = tiles && !strcmp(tiles, "wide")     ? true
                    : tiles && !strcmp(tiles, "narrow") ? false
                                                        : p->vector_width >= 16;
    cb->base.view_align = p->base_align;
}
