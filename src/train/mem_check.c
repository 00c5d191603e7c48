/* mem_check.c: see mem_check.h. */
#include "train/mem_check.h"

#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

/* What an OpenCL driver maps beside the buffers (kernel launches, worker
 * scratch): a share of the need and a fixed amount. A safety allowance,
 * not a measurement: PoCL itself starts in under 400 MB here, and -s 256
 * --batch 16 at c=0.5 (2.6 GiB estimated) aborted inside PoCL under a
 * 1.9 GiB limit before this check. */
#define MARGIN_SHARE 0.25
#define MARGIN_BYTES (256.0 * 1024 * 1024)

double cu_train_mem_estimate(const struct cu_unet_config *u, int batch, double *largest)
{
    int f[CU_UNET_LEVELS];
    cu_unet_widths(u->channel_rate, f);
    double bytes = 16.0 * (double)cu_unet_param_count(u);
    for (int k = 0; k < CU_UNET_LEVELS; k++) {
        double s = (double)(u->image_size >> k);
        bytes += 20.0 * 4.0 * batch * f[k] * s * s;
    }
    *largest = 4.0 * batch * (double)(f[0] + f[1]) * u->image_size * u->image_size;
    return bytes;
}

double cu_as_headroom(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return -1;
    double mapped = 0;
    long pages = 0, page = sysconf(_SC_PAGE_SIZE);
    FILE *f = fopen("/proc/self/statm", "r");
    if (f && fscanf(f, "%ld", &pages) == 1 && page > 0)
        mapped = (double)pages * (double)page;
    if (f)
        fclose(f);
    double left = (double)rl.rlim_cur - mapped;
    return left > 0 ? left : 0;
}

enum cu_status cu_as_limit_check(double need, const char *what, struct cu_err *err)
{
    double left = cu_as_headroom();
    double want = need * (1 + MARGIN_SHARE) + MARGIN_BYTES;
    if (left < 0 || want <= left)
        return CU_OK;
    struct rlimit rl;
    getrlimit(RLIMIT_AS, &rl);
    const double gib = 1024.0 * 1024.0 * 1024.0;
    return cu_fail(err, CU_EDEVICE,
                   "%s needs about %.1f GiB of address space, the address-space limit (ulimit -v) leaves %.1f GiB "
                   "of its %.1f GiB; try a smaller --batch or -s",
                   what, want / gib, left / gib, (double)rl.rlim_cur / gib);
}
