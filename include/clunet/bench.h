/* bench.h: `clunet bench`'s measurements (src/bench.c), apart from their
 * printing (src/cmd_bench.c): device start-up, whole training steps and
 * inference of the U-Net, then each convolution layer alone, forward and
 * backward, on the layer's own shapes. FLOPs are analytic: 2 x the
 * multiply-adds of each convolution (backward = 2 x forward, less the dx
 * GEMM of the first layer, which the network never computes). Times are
 * wall-clock, each op or step followed by a device sync; warm-up runs are
 * excluded; each figure is the median of `steps` runs with its min and
 * max. Also (cl backend): the device's GEMM alone on the network's own
 * GEMM shapes, the ceiling of an im2col convolution; cold and warm
 * start-up to the first kernel, each in a child process with its own
 * kernel caches. With a device list (--devices) it also times
 * data-parallel steps on all of them (replicas.h: `batch` images per
 * device, gradients summed on the host) and reports the scaling
 * efficiency against the list's first device alone. Not here: the
 * PyTorch peer and OpenBLAS (tools/bench-vs-peer, tests/bench_openblas.c),
 * MPI (tests/bench_comm). */
#ifndef CLUNET_BENCH_H
#define CLUNET_BENCH_H

#include <stdint.h>

#include "clunet/status.h"
#include "clunet/unet.h"

struct cu_bench_opts {
    const char *device;         /* spec as cu_backend_open takes it; NULL = default */
    struct cu_unet_config cfg;  /* image size, channel rate, up-sampling */
    int batch;                  /* images per step, >= 1 */
    int steps;                  /* timed runs per figure, >= 1 */
    int warmup;                 /* untimed runs before them, >= 0 */
    int layers;                 /* time each convolution layer alone too */
    const char *data;           /* or NULL: also time loading this dataset at S x S */
    int gemm;                   /* CU_BENCH_GEMM_*: which GEMMs to time alone */
    int startup;                /* measure cold and warm start-up (child processes) */
    int cpu_time;               /* times in CPU-seconds of the process, not wall-clock */
    const char *devices;        /* or NULL: a --devices list (replicas.h); the single-device figures
                                 * are then those of its first device */
};

/* Which GEMM implementations `clunet bench` times alone (cl backend). */
enum { CU_BENCH_GEMM_NONE, CU_BENCH_GEMM_DEVICE, CU_BENCH_GEMM_ALL };
#define CU_BENCH_GEMMS 2

/* Median, min and max of a set of times, in seconds. */
struct cu_bench_time {
    double med, min, max;
};

#define CU_BENCH_MAX_LAYERS 32

struct cu_bench_layer {
    char name[32];      /* "enc1.conv1", "dec2.up" */
    int cin, cout, k, side; /* k = 2: the transposed 2x2 up-convolution */
    double fwd_flop, bwd_flop; /* per batch */
    struct cu_bench_time fwd, bwd;
    /* The GEMMs of an im2col convolution of this layer alone, per
     * implementation (r->gemm_impl): batch x the median time of one
     * image's GEMM (forward; dW + dx for backward). */
    double gemm_fwd_s[CU_BENCH_GEMMS], gemm_bwd_s[CU_BENCH_GEMMS];
};

/* One GEMM of a layer, as the cl backend's convolution ops call
 * cu_cl_gemm for one image: C (m x n) = op(A) op(B), row-major. */
struct cu_bench_gemm_shape {
    const char *what; /* "forward", "dW", "dx" */
    int trans_a, trans_b, m, n, k, lda, ldb;
    float beta; /* dW accumulates */
};

struct cu_bench_result {
    char device[128];          /* the device's name ("ref" for the reference backend) */
    char backend[8];           /* "ref" or "cl" */
    char gemm[16];             /* "panel", "clblast" or "" (ref) */
    double open_s;             /* cu_backend_open: context + kernel build or cache load */
    double first_step_s;       /* the first training step (first-use compiles, e.g. CLBlast's) */
    double fwd_flop_img;       /* forward FLOPs per image (convolutions) */
    struct cu_bench_time step; /* forward + loss + backward + Adam, one batch */
    struct cu_bench_time infer;/* forward + sigmoid, one batch */
    uint64_t device_peak;      /* peak bytes of device tensors + workspaces */
    long peak_rss_kib;         /* peak host resident set (getrusage) */
    double load_s;             /* --data: loading + resizing the dataset (2 threads) */
    int load_n;                /* --data: images loaded */
    int nlayers;
    struct cu_bench_layer layer[CU_BENCH_MAX_LAYERS];
    int ngemm;                 /* GEMM implementations timed alone (0: none) */
    char gemm_impl[CU_BENCH_GEMMS][16]; /* "panel", "clblast" */
    int startup;               /* the four start-up times below were measured */
    double cold_open_s, cold_first_s; /* empty kernel caches: open; open to first kernel done */
    double warm_open_s, warm_first_s; /* the same in a second fresh process, caches filled */
    /* --devices: k devices, each taking `batch` images of a step of k x batch */
    int n_devices;             /* 0 without --devices */
    struct cu_bench_time dp_step; /* one data-parallel step: k x batch images */
    double dp_images_per_s;    /* k x batch / dp_step.med */
    double efficiency;         /* dp_images_per_s / (k x batch / step.med of the first device) */
};

/* The convolution layers of the network for cfg, in forward order, with
 * their FLOPs for batch images (fills r->layer, r->nlayers). */
void cu_bench_layers(const struct cu_unet_config *cfg, int batch, struct cu_bench_result *r);
/* The GEMMs of layer l for one image (forward, dW, then dx unless first:
 * the network's first layer needs no dx); returns their count. */
int cu_bench_gemm_shapes(const struct cu_bench_layer *l, int first, struct cu_bench_gemm_shape out[3]);

/* The child side of the cold/warm start-up measurement, run by
 * cu_bench_run as `clunet bench --startup-child SPEC` (not for users):
 * opens SPEC ("" = default), runs the first kernel, writes its report to
 * stdout; returns the exit code. */
int cu_bench_startup_child(const char *spec);

/* Runs the benchmark; r is filled on success. Fails with CU_EUSAGE on bad
 * options, and as the backend does on device errors. */
enum cu_status cu_bench_run(const struct cu_bench_opts *o, struct cu_bench_result *r, struct cu_err *err);

#endif
