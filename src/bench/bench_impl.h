/* bench_impl.h: what the files of `clunet bench` share (src/bench.c, the
 * whole network and the layers; src/bench_gemm.c, the device's GEMM on the
 * network's shapes; src/bench_startup.c, cold and warm start-up in child
 * processes). Not here: printing (src/cmd_bench.c). */
#ifndef CLUNET_BENCH_IMPL_H
#define CLUNET_BENCH_IMPL_H

#include <stdint.h>

#include "clunet/backend.h"
#include "clunet/bench.h"

/* CLOCK_MONOTONIC in seconds. */
double cu_bench_now(void);
/* Median (mean of the middle two for even n), min, max of t; sorts t. */
struct cu_bench_time cu_bench_stats(double *t, int n);
/* A new tensor of shape s filled with deterministic values in
 * [-scale, scale) (a benchmark needs no better). */
enum cu_status cu_bench_tensor_rand(struct cu_backend *be, struct cu_shape s, const char *name, uint32_t seed,
                                    float scale, struct cu_tensor **out, struct cu_err *err);

/* bench_gemm.c: times the device's GEMM (each implementation asked for by
 * o->gemm) on every layer's GEMM shapes; fills r->gemm_impl, r->ngemm and
 * each layer's gemm_fwd_s / gemm_bwd_s. Only for the cl backend. */
enum cu_status cu_bench_gemm_run(struct cu_backend *be, const struct cu_bench_opts *o, struct cu_bench_result *r,
                                 struct cu_err *err);

/* bench_startup.c: cold and warm start-up of device spec, each measured in
 * a fresh clunet process (fork + exec) sharing a new, initially empty,
 * folder of kernel caches. */
enum cu_status cu_bench_startup_run(const char *spec, struct cu_bench_result *r, struct cu_err *err);

#endif
