/* tools/fma_peak.c: the machine's measured fp32 FMA limit, the figure every
 * GFLOP/s of `tools/bench-vs-peer` is put against.
 *
 *   cc -O2 -pthread tools/fma_peak.c -o fma_peak && ./fma_peak [THREADS] [SECONDS]
 *
 * Each thread runs independent chains of fused multiply-adds on registers
 * (12 accumulators: enough to hide a 4-cycle FMA latency on two FMA ports)
 * for AVX2 (8 floats) and, where the CPU has it, AVX-512 (16 floats). The
 * best of 5 runs per width is printed as one JSON object:
 * {"threads":2,"avx2_gflops":...,"avx512_gflops":... or null}.
 * Functions are compiled for their ISA with target attributes and called only
 * after __builtin_cpu_supports says the CPU has it. */
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { ACC = 12, INNER = 1000 };

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Each kernel returns a sum of its accumulators so the compiler keeps the work. */
__attribute__((target("avx2,fma"))) static float fma_avx2(long outer)
{
    __m256 a[ACC], m = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
    for (int i = 0; i < ACC; i++) a[i] = _mm256_set1_ps((float)i);
    for (long o = 0; o < outer; o++)
        for (int k = 0; k < INNER; k++)
            for (int i = 0; i < ACC; i++) a[i] = _mm256_fmadd_ps(a[i], m, b);
    __m256 s = a[0];
    for (int i = 1; i < ACC; i++) s = _mm256_add_ps(s, a[i]);
    float out[8];
    _mm256_storeu_ps(out, s);
    return out[0];
}

__attribute__((target("avx512f"))) static float fma_avx512(long outer)
{
    __m512 a[ACC], m = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
    for (int i = 0; i < ACC; i++) a[i] = _mm512_set1_ps((float)i);
    for (long o = 0; o < outer; o++)
        for (int k = 0; k < INNER; k++)
            for (int i = 0; i < ACC; i++) a[i] = _mm512_fmadd_ps(a[i], m, b);
    __m512 s = a[0];
    for (int i = 1; i < ACC; i++) s = _mm512_add_ps(s, a[i]);
    return _mm512_reduce_add_ps(s);
}

struct job {
    int width; /* 8 or 16 floats */
    long outer;
    float sink;
};

static void *run_job(void *p)
{
    struct job *j = p;
    j->sink = j->width == 16 ? fma_avx512(j->outer) : fma_avx2(j->outer);
    return NULL;
}

/* GFLOP/s of THREADS threads each running OUTER x INNER x ACC FMAs of WIDTH floats. */
static double measure(int width, int threads, long outer)
{
    pthread_t tid[64];
    struct job jobs[64];
    double t0 = now_s();
    for (int t = 0; t < threads; t++) {
        jobs[t] = (struct job){.width = width, .outer = outer};
        pthread_create(&tid[t], NULL, run_job, &jobs[t]);
    }
    for (int t = 0; t < threads; t++) pthread_join(tid[t], NULL);
    double dt = now_s() - t0;
    double flops = 2.0 * width * ACC * (double)INNER * (double)outer * threads;
    return flops / dt * 1e-9;
}

/* Best of five runs of about SECONDS each, the run length calibrated once. */
static double best(int width, int threads, double seconds)
{
    long outer = 100;
    double g = measure(width, threads, outer);
    double per_outer = 2.0 * width * ACC * INNER * threads / (g * 1e9);
    outer = (long)(seconds / per_outer) + 1;
    double top = 0;
    for (int r = 0; r < 5; r++) {
        g = measure(width, threads, outer);
        if (g > top) top = g;
    }
    return top;
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 2;
    double seconds = argc > 2 ? atof(argv[2]) : 0.2;
    if (threads < 1 || threads > 64 || !(seconds > 0)) {
        fprintf(stderr, "usage: fma_peak [THREADS 1..64] [SECONDS > 0]\n");
        return 1;
    }
    __builtin_cpu_init();
    printf("{\"threads\":%d,\"avx2_gflops\":", threads);
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        printf("%.1f", best(8, threads, seconds));
    else
        printf("null");
    printf(",\"avx512_gflops\":");
    if (__builtin_cpu_supports("avx512f"))
        printf("%.1f", best(16, threads, seconds));
    else
        printf("null");
    printf("}\n");
    return 0;
}
