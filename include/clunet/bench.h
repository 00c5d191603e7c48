/* bench.h: `clunet bench`'s measurements (src/bench.c), apart from their
 * printing (src/cmd_bench.c): device start-up, whole training steps and
 * inference of the U-Net, then each convolution layer alone, forward and
 * backward, on the layer's own shapes. FLOPs are analytic: 2 x the
 * multiply-adds of each convolution (backward = 2 x forward, less the dx
 * GEMM of the first layer, which the network never computes). Times are
 * wall-clock, each op or step followed by a device sync; warm-up runs are
 * excluded; each figure is the median of `steps` runs with its min and
 * max. With a device list (--devices) it also times data-parallel steps
 * on all of them (replicas.h: `batch` images per device, gradients summed
 * on the host) and reports the scaling efficiency against the list's first
 * device alone. Not here: data loading, the PyTorch peer
 * (tools/bench-vs-peer), MPI (tests/bench_comm). */
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
    const char *devices;        /* or NULL: a --devices list (replicas.h); the single-device figures
                                 * are then those of its first device */
};

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
    /* --devices: k devices, each taking `batch` images of a step of k x batch */
    int n_devices;             /* 0 without --devices */
    struct cu_bench_time dp_step; /* one data-parallel step: k x batch images */
    double dp_images_per_s;    /* k x batch / dp_step.med */
    double efficiency;         /* dp_images_per_s / (k x batch / step.med of the first device) */
};

/* Runs the benchmark; r is filled on success. Fails with CU_EUSAGE on bad
 * options, and as the backend does on device errors. */
enum cu_status cu_bench_run(const struct cu_bench_opts *o, struct cu_bench_result *r, struct cu_err *err);

#endif
