/* replicas.c: the replica group of replicas.h: opening and building,
 * sharing weights, and the data-parallel step and evaluation.
 *
 * Threads: with K > 1 each phase of a step runs one host thread per
 * replica (replica 0 on the calling thread), so that several devices work
 * at once; each thread has its own error record and the lowest failing
 * replica's error is reported. Backends are opened on the calling thread
 * only. Every process calls the same collectives in the same order, and a
 * cu_comm_agree follows each phase where one replica may fail alone, so
 * that no process waits for one that has given up.
 * Leaves out: device lists and slices (device_list.c), MPI itself
 * (comm.h), the choice of images (train.c). */
#include "clunet/replicas.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct replica {
    struct cu_replicas *group;
    struct cu_backend *be;
    struct cu_unet *net;
    struct cu_tensor *x, *t;
    float *g;      /* host copy of the gradient (slow path only) */
    int off, n;    /* this step's slice */
    float s[2];    /* [loss, dice] of the slice */
    enum cu_status st;
    struct cu_err err;
};

struct cu_replicas {
    struct cu_comm *comm;
    int k, cap, in_ch, side, out_ch;
    size_t numel;  /* learned floats */
    float *gsum;   /* weighted sum of the gradients (slow path only) */
    /* the step being run */
    const float *x, *t;
    enum cu_loss kind;
    const struct cu_adam *hp;
    long step;
    struct replica rep[CU_REPLICAS_MAX];
};

/* ---- the group ---- */

/* K = 1 in a single process: the step is cu_unet_train_step itself. */
static int fast(const struct cu_replicas *r) { return r->k == 1 && cu_comm_size(r->comm) == 1; }

enum cu_status cu_replicas_open(char *const *specs, int k, struct cu_comm *comm, struct cu_replicas **out,
                                struct cu_err *err)
{
    if (k < 1 || k > CU_REPLICAS_MAX)
        return cu_fail(err, CU_EUSAGE, "replicas: %d devices (1..%d)", k, CU_REPLICAS_MAX);
    struct cu_replicas *r = calloc(1, sizeof *r);
    if (!r)
        return cu_fail(err, CU_EDEVICE, "replicas: out of host memory");
    r->comm = comm;
    r->k = k;
    for (int i = 0; i < k; i++) {
        r->rep[i].group = r;
        enum cu_status st = cu_backend_open(specs[i], &r->rep[i].be, err);
        if (st) {
            cu_replicas_free(r);
            return st;
        }
    }
    *out = r;
    return CU_OK;
}

enum cu_status cu_replicas_build(struct cu_replicas *r, const struct cu_unet_config *cfg, int max_images,
                                 struct cu_err *err)
{
    if (max_images < 1)
        return cu_fail(err, CU_EUSAGE, "replicas: a step of %d images", max_images);
    r->cap = (max_images + r->k - 1) / r->k;
    r->in_ch = cfg->input_channels;
    r->side = cfg->image_size;
    r->out_ch = cu_unet_output_channels(cfg);
    const int S = cfg->image_size;
    for (int i = 0; i < r->k; i++) {
        struct replica *p = &r->rep[i];
        CU_TRY(cu_unet_new(p->be, cfg, r->cap, &p->net, err));
        CU_TRY(cu_tensor_new(p->be, (struct cu_shape){r->cap, cfg->input_channels, S, S}, "input", &p->x, err));
        CU_TRY(cu_tensor_new(p->be, (struct cu_shape){r->cap, r->out_ch, S, S}, "target", &p->t, err));
    }
    r->numel = cu_tensor_numel(cu_unet_flat(r->rep[0].net, CU_UNET_GRADS)); /* the same layout everywhere */
    if (fast(r))
        return CU_OK;
    r->gsum = malloc(r->numel * sizeof(float));
    for (int i = 0; r->gsum && i < r->k; i++)
        if (!(r->rep[i].g = malloc(r->numel * sizeof(float))))
            break;
    for (int i = 0; i < r->k; i++)
        if (!r->gsum || !r->rep[i].g)
            return cu_fail(err, CU_EDEVICE, "replicas: out of host memory for %d gradient buffers of %.1f MiB",
                           r->k + 1, (double)r->numel * 4.0 / 1048576.0);
    return CU_OK;
}

void cu_replicas_free(struct cu_replicas *r)
{
    if (!r)
        return;
    for (int i = 0; i < r->k; i++) {
        struct replica *p = &r->rep[i];
        cu_tensor_free(p->x);
        cu_tensor_free(p->t);
        cu_unet_free(p->net);
        cu_backend_free(p->be);
        free(p->g);
    }
    free(r->gsum);
    free(r);
}

int cu_replicas_count(const struct cu_replicas *r) { return r->k; }
struct cu_backend *cu_replicas_backend(const struct cu_replicas *r, int i) { return r->rep[i].be; }
struct cu_unet *cu_replicas_net(const struct cu_replicas *r, int i) { return r->rep[i].net; }
int cu_replicas_cap(const struct cu_replicas *r) { return r->cap; }

enum cu_status cu_replicas_init_he(struct cu_replicas *r, uint64_t seed, struct cu_err *err)
{
    for (int i = 0; i < r->k; i++)
        CU_TRY(cu_unet_init_he(r->rep[i].net, seed, err));
    return CU_OK;
}

/* ---- running a phase on every replica ---- */

struct job {
    struct replica *p;
    enum cu_status (*fn)(struct replica *);
};

static void *job_main(void *arg)
{
    struct job *j = arg;
    cu_err_clear(&j->p->err);
    j->p->st = j->fn(j->p);
    return NULL;
}

/* Runs fn on every replica, in parallel when K > 1; returns the lowest
 * failing replica's status with its message in err. */
static enum cu_status run_all(struct cu_replicas *r, enum cu_status (*fn)(struct replica *), struct cu_err *err)
{
    struct job jobs[CU_REPLICAS_MAX];
    pthread_t tid[CU_REPLICAS_MAX];
    int started[CU_REPLICAS_MAX] = {0};
    for (int i = 0; i < r->k; i++)
        jobs[i] = (struct job){&r->rep[i], fn};
    for (int i = 1; i < r->k; i++) /* if a thread cannot start, its replica runs below, in turn */
        started[i] = pthread_create(&tid[i], NULL, job_main, &jobs[i]) == 0;
    job_main(&jobs[0]);
    for (int i = 1; i < r->k; i++) {
        if (started[i])
            pthread_join(tid[i], NULL);
        else
            job_main(&jobs[i]);
    }
    for (int i = 0; i < r->k; i++)
        if (r->rep[i].st) {
            *err = r->rep[i].err;
            return r->rep[i].st;
        }
    return CU_OK;
}

/* ---- the step ---- */

static size_t image_floats(const struct cu_replicas *r) { return (size_t)r->in_ch * r->side * r->side; }
static size_t mask_floats(const struct cu_replicas *r) { return (size_t)r->out_ch * r->side * r->side; }

static enum cu_status upload_slice(struct replica *p, struct cu_err *err)
{
    const struct cu_replicas *r = p->group;
    CU_TRY(cu_tensor_set_batch(p->x, p->n, err));
    CU_TRY(cu_tensor_set_batch(p->t, p->n, err));
    CU_TRY(cu_tensor_upload(p->x, r->x + (size_t)p->off * image_floats(r), err));
    return cu_tensor_upload(p->t, r->t + (size_t)p->off * mask_floats(r), err);
}

/* Forward, loss and backward of the slice; the gradient and [loss, dice]
 * come to the host. */
static enum cu_status phase_gradient(struct replica *p)
{
    const struct cu_replicas *r = p->group;
    struct cu_err *err = &p->err;
    struct cu_tensor *scalars = NULL;
    if (!p->n)
        return CU_OK;
    CU_TRY(upload_slice(p, err));
    CU_TRY(cu_unet_forward(p->net, p->x, NULL, err));
    CU_TRY(cu_unet_loss(p->net, p->t, r->kind, &scalars, err));
    CU_TRY(cu_unet_backward(p->net, p->t, r->kind, err));
    CU_TRY(cu_tensor_download(cu_unet_flat(p->net, CU_UNET_GRADS), p->g, err));
    return cu_tensor_download(scalars, p->s, err);
}

/* The summed gradient back to the device, then Adam. */
static enum cu_status phase_apply(struct replica *p)
{
    const struct cu_replicas *r = p->group;
    struct cu_err *err = &p->err;
    CU_TRY(cu_tensor_upload(cu_unet_flat(p->net, CU_UNET_GRADS), r->gsum, err));
    return cu_unet_adam_step(p->net, r->hp, r->step, err);
}

/* gsum = sum over replicas of (n_r / n_global) g_r, replicas in order (a
 * fixed order: the same inputs give the same bits). */
static void weighted_sum(struct cu_replicas *r, int n_global)
{
    int first = 1;
    for (int i = 0; i < r->k; i++) {
        const struct replica *p = &r->rep[i];
        if (!p->n)
            continue;
        const float w = (float)((double)p->n / n_global), *g = p->g;
        float *s = r->gsum;
        if (first)
            for (size_t j = 0; j < r->numel; j++)
                s[j] = w * g[j];
        else
            for (size_t j = 0; j < r->numel; j++)
                s[j] += w * g[j];
        first = 0;
    }
    if (first) /* no image here: this process adds nothing */
        memset(r->gsum, 0, r->numel * sizeof(float));
}

static void slice(struct cu_replicas *r, const float *x, const float *t, int n)
{
    r->x = x;
    r->t = t;
    for (int i = 0; i < r->k; i++)
        cu_split(n, r->k, i, &r->rep[i].off, &r->rep[i].n);
}

static enum cu_status fast_step(struct cu_replicas *r, const float *x, const float *t, int n, enum cu_loss kind,
                                const struct cu_adam *hp, long step, double out[2], struct cu_err *err)
{
    struct replica *p = &r->rep[0];
    float s[2];
    slice(r, x, t, n);
    CU_TRY(upload_slice(p, err));
    CU_TRY(cu_unet_train_step(p->net, p->x, p->t, kind, hp, step, s, err));
    out[0] = s[0];
    out[1] = s[1];
    return CU_OK;
}

enum cu_status cu_replicas_train_step(struct cu_replicas *r, const float *x, const float *t, int n, int n_global,
                                      enum cu_loss kind, const struct cu_adam *hp, long step, double out[2],
                                      struct cu_err *err)
{
    if (n < 0 || n > r->cap * r->k || n_global < 1 || n > n_global)
        return cu_fail(err, CU_EUSAGE, "replicas: a step of %d of %d images (at most %d here)", n, n_global,
                       r->cap * r->k);
    if (fast(r))
        return fast_step(r, x, t, n, kind, hp, step, out, err);
    slice(r, x, t, n);
    r->kind = kind;
    r->hp = hp;
    r->step = step;
    enum cu_status st = run_all(r, phase_gradient, err);
    CU_TRY(cu_comm_agree(r->comm, st, err));
    weighted_sum(r, n_global);
    double sums[2] = {0, 0};
    for (int i = 0; i < r->k; i++)
        if (r->rep[i].n) {
            sums[0] += (double)r->rep[i].s[0] * r->rep[i].n;
            sums[1] += (double)r->rep[i].s[1] * r->rep[i].n;
        }
    CU_TRY(cu_comm_sum_f32(r->comm, r->gsum, r->numel, err));
    CU_TRY(cu_comm_sum_f64(r->comm, sums, 2, err));
    out[0] = sums[0] / n_global;
    out[1] = sums[1] / n_global;
    return cu_comm_agree(r->comm, run_all(r, phase_apply, err), err);
}

/* ---- evaluation ---- */

static enum cu_status phase_eval(struct replica *p)
{
    const struct cu_replicas *r = p->group;
    if (!p->n)
        return CU_OK;
    CU_TRY(upload_slice(p, &p->err));
    return cu_unet_eval_step(p->net, p->x, p->t, r->kind, p->s, &p->err);
}

enum cu_status cu_replicas_eval(struct cu_replicas *r, const float *x, const float *t, int n, enum cu_loss kind,
                                double sums[2], struct cu_err *err)
{
    if (n < 0 || n > r->cap * r->k)
        return cu_fail(err, CU_EUSAGE, "replicas: an evaluation of %d images (at most %d)", n, r->cap * r->k);
    slice(r, x, t, n);
    r->kind = kind;
    CU_TRY(run_all(r, phase_eval, err));
    for (int i = 0; i < r->k; i++)
        if (r->rep[i].n) {
            sums[0] += (double)r->rep[i].s[0] * r->rep[i].n;
            sums[1] += (double)r->rep[i].s[1] * r->rep[i].n;
        }
    return CU_OK;
}

/* ---- sharing weights ---- */

/* Flat buffer which (weights, first, second Adam moment) of net from or to
 * the host buffer: one transfer. */
static enum cu_status copy_part(struct cu_replicas *r, struct cu_unet *net, int which, int up, struct cu_err *err)
{
    static const enum cu_unet_buf buf[3] = {CU_UNET_WEIGHTS, CU_UNET_ADAM_M, CU_UNET_ADAM_V};
    struct cu_tensor *t = cu_unet_flat(net, buf[which]);
    return up ? cu_tensor_upload(t, r->gsum, err) : cu_tensor_download(t, r->gsum, err);
}

enum cu_status cu_replicas_share(struct cu_replicas *r, struct cu_err *err)
{
    if (fast(r))
        return CU_OK;
    const int rank = cu_comm_rank(r->comm);
    for (int which = 0; which < 3; which++) {
        enum cu_status st = rank == 0 ? copy_part(r, r->rep[0].net, which, 0, err) : CU_OK;
        CU_TRY(cu_comm_agree(r->comm, st, err));
        CU_TRY(cu_comm_bcast(r->comm, r->gsum, r->numel * sizeof(float), err));
        for (int i = rank == 0 ? 1 : 0; !st && i < r->k; i++)
            st = copy_part(r, r->rep[i].net, which, 1, err);
        CU_TRY(cu_comm_agree(r->comm, st, err));
    }
    return CU_OK;
}
