/* prefetch.h: the next training batch drawn by a loader thread while the
 * device runs the current step. The batch's crops, flips, rotations and
 * intensity changes come from the same random stream, in the same order,
 * as when drawn in the training thread: weights are bit-identical. */
#ifndef CLUNET_TRAIN_PREFETCH_H
#define CLUNET_TRAIN_PREFETCH_H

#include <pthread.h>
#include <stdint.h>

#include "train/train_data.h"

struct cu_prefetch {
    pthread_t th;
    int threaded; /* a thread of its own is drawing the batch (else it was drawn at start, or joined) */
    const struct cu_train_data *d;
    const int *idx;
    int n;
    uint64_t rng; /* the stream: before the draw, then after it */
    float *x, *y;
};

/* Starts drawing samples idx[0..n) into x, y from stream rng; draws them
 * in the calling thread when no thread can be started. */
void cu_prefetch_start(struct cu_prefetch *p, const struct cu_train_data *d, const int *idx, int n, uint64_t rng,
                       float *x, float *y);
/* Waits for the batch; returns the stream as it is after the draw. */
uint64_t cu_prefetch_wait(struct cu_prefetch *p);

#endif
