/* unet_init.c: Keras he_normal initialisation of a U-Net, made on the host
 * from a documented generator (see cu_unet_init_he in unet.h) so that every
 * backend and every machine starts from the same weights. Not here: the
 * layers themselves (unet.c). */
#include "clunet/unet.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clunet/util.h"

/* Truncating a unit normal at +-2 leaves this standard deviation; Keras
 * divides it out so the kept values have std sqrt(2/fan_in). */
#define TRUNC_STD 0.87962566103423978

/* A unit normal truncated at +-2: Box-Muller's cosine branch, redrawn. */
/* The generator state of parameter i: a hash of (seed, i). Each stream then
 * starts at an unrelated point of splitmix64's 2^64 cycle. (States
 * seed + i * 0x9E3779B97F4A7C15, splitmix64's own increment, would make the
 * draws of tensor i those of tensor 0 shifted by i: layers with correlated
 * weights, which trained far worse.) */
static uint64_t stream_state(uint64_t seed, int i)
{
    uint64_t s = seed ^ ((uint64_t)(i + 1) * 0xD1B54A32D192ED03ULL);
    return cu_rand_next(&s);
}

static double trunc_normal(uint64_t *s)
{
    const double two_pi = 6.283185307179586476925286766559;
    for (;;) {
        double u1 = (double)((cu_rand_next(s) >> 11) + 1) * (1.0 / 9007199254740992.0); /* (0,1] */
        double u2 = (double)(cu_rand_next(s) >> 11) * (1.0 / 9007199254740992.0);       /* [0,1) */
        double z = sqrt(-2.0 * log(u1)) * cos(two_pi * u2);
        if (fabs(z) <= 2.0)
            return z;
    }
}

enum cu_status cu_unet_init_he(struct cu_unet *net, uint64_t seed, struct cu_err *err)
{
    size_t cap = 0;
    float *buf = NULL;
    enum cu_status st = CU_OK;
    for (int i = 0; i < cu_unet_n_params(net) && !st; i++) {
        const struct cu_unet_param *p = cu_unet_param(net, i);
        size_t n = cu_tensor_numel(p->w);
        if (n > cap) {
            float *nb = realloc(buf, n * sizeof *nb);
            if (!nb) {
                st = cu_fail(err, CU_EDEVICE, "unet init: out of host memory");
                break;
            }
            buf = nb, cap = n;
        }
        int is_bias = i % 2 == 1; /* every layer adds weight, then bias */
        if (is_bias) {
            st = cu_tensor_zero(p->w, err);
        } else {
            /* conv (Cout,Cin,k,k) and transposed (Cin,Cout,2,2) alike:
             * fan_in = dims 1..3, as Keras and PyTorch count it */
            double fan_in = (double)p->w->c * p->w->h * p->w->w;
            double sigma = sqrt(2.0 / fan_in) / TRUNC_STD;
            uint64_t s = stream_state(seed, i);
            for (size_t j = 0; j < n; j++)
                buf[j] = (float)(trunc_normal(&s) * sigma);
            if (!strcmp(p->w->name, "head.out.weight")) /* (K, Cin, 1, 1): alternating signs in each output's row (unet.h) */
                for (size_t j = 0; j < n; j++)
                    buf[j] = j % 2 == 0 ? -fabsf(buf[j]) : fabsf(buf[j]);
            st = cu_tensor_upload(p->w, buf, err);
        }
        if (!st)
            st = cu_tensor_zero(p->m, err);
        if (!st)
            st = cu_tensor_zero(p->v, err);
    }
    free(buf);
    return st;
}

