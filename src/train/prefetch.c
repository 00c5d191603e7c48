/* prefetch.c: one loader thread per batch (prefetch.h). A thread costs tens
 * of microseconds against a training step of a second or more. */
#include "train/prefetch.h"

static void *draw(void *arg)
{
    struct cu_prefetch *p = arg;
    cu_train_data_gather(p->d, p->idx, p->n, &p->rng, p->x, p->y);
    return NULL;
}

void cu_prefetch_start(struct cu_prefetch *p, const struct cu_train_data *d, const int *idx, int n, uint64_t rng,
                       float *x, float *y)
{
    *p = (struct cu_prefetch){.d = d, .idx = idx, .n = n, .rng = rng, .x = x, .y = y};
    p->threaded = pthread_create(&p->th, NULL, draw, p) == 0;
    if (!p->threaded)
        draw(p);
}

uint64_t cu_prefetch_wait(struct cu_prefetch *p)
{
    if (p->threaded)
        pthread_join(p->th, NULL);
    p->threaded = 0;
    return p->rng;
}
