/* dataset_shard.c: loading a dataset across the ranks of a group (comm.h):
 * rank r of p reads and decodes only samples i % p == r (its shard), then
 * the group shares what each decoded, so that every rank holds the whole
 * dataset, the same as cu_dataset_open gives one process: the same samples
 * in the same order, the same bad-sample lines (--skip-bad), and on a bad
 * sample the error of the first one in sorted order.
 *
 * Sharing without a gather: every rank fills a zero array with its own
 * samples and the group sums it (cu_comm_sum_f32). Each element has one
 * non-zero term at most, and x + 0 = x exactly, so this is an exact
 * all-gather. Message text travels the same way, one char per float.
 *
 * Every rank makes the same collective calls in the same order whatever
 * happened locally; local failures go through cu_comm_agree first.
 *
 * Leaves out: the single-process loader (dataset.c, which reads each shard
 * here), the split (train_data.c). */
#include <stdlib.h>
#include <string.h>

#include "clunet/comm.h"
#include "data/dataset_impl.h"
#include "train/train_data.h"

/* A dataset of samples rank, rank + size, ... of ds (copies of their
 * names, so that loading may drop and free them). */
static struct cu_dataset *shard_of(const struct cu_dataset *ds, int rank, int size)
{
    struct cu_dataset *sh = calloc(1, sizeof *sh);
    int n = ds->n > rank ? (ds->n - rank - 1) / size + 1 : 0;
    if (!sh)
        return NULL;
    sh->layout = ds->layout;
    sh->has_masks = ds->has_masks;
    sh->dir = strdup(ds->dir);
    sh->samples = calloc((size_t)(n > 0 ? n : 1), sizeof *sh->samples);
    if (!sh->dir || !sh->samples) {
        cu_dataset_free(sh);
        return NULL;
    }
    for (int k = 0; k < n; k++) {
        const struct cu_sample *s = &ds->samples[rank + k * size];
        struct cu_sample *d = &sh->samples[k];
        sh->n = k + 1;
        d->id = strdup(s->id);
        d->image = strdup(s->image);
        d->masks = s->masks ? strdup(s->masks) : NULL;
        if (!d->id || !d->image || (s->masks && !d->masks)) {
            cu_dataset_free(sh);
            return NULL;
        }
    }
    return sh;
}

/* Loads shard sh (samples rank + k * size of ds) with skip_bad on, whatever
 * the caller asked, so that every bad sample of the shard is known:
 * bad[g] = 1 and msg[g] = its line (malloc'd) for each bad global index g.
 * Returns only failures other than bad samples (out of memory). */
static enum cu_status load_shard(const struct cu_dataset *ds, struct cu_dataset *sh, const struct cu_dataset_opts *o,
                                 int rank, int size, float *bad, char **msg, struct cu_err *err)
{
    int n = sh->n;
    if (n == 0)
        return CU_OK;
    struct cu_dataset_opts so = *o;
    so.skip_bad = 1;
    struct cu_err e = {0};
    int b = sh->n_bad;
    enum cu_status st = cu_dataset_load(sh, &so, &e);
    /* dataset.c refuses a load where every sample was bad; for a shard
     * that is only a fact to share. */
    if (st == CU_EINPUT && sh->n == 0 && sh->n_bad - b == n)
        st = CU_OK;
    if (st)
        return cu_fail(err, st, "%s", e.msg);
    /* The samples left are a subsequence of the shard's, in order; the bad
     * lines follow the dropped ones, in order. */
    for (int k = 0, j = 0; k < n; k++) {
        int g = rank + k * size;
        if (j < sh->n && !strcmp(sh->samples[j].id, ds->samples[g].id)) {
            j++;
            continue;
        }
        bad[g] = 1.0f;
        msg[g] = sh->bad[b++];
        sh->bad[b - 1] = NULL;
    }
    return CU_OK;
}

/* Lines of the bad samples to every rank: slot q of a zero array holds the
 * q-th bad sample's line as one float per char, filled by its owner. */
static enum cu_status share_lines(struct cu_comm *comm, int n, const float *bad, char **msg, struct cu_err *err)
{
    enum { L = sizeof err->msg };
    int nb = 0;
    for (int g = 0; g < n; g++)
        nb += bad[g] != 0.0f;
    if (nb == 0)
        return CU_OK;
    float *buf = calloc((size_t)nb * L, sizeof *buf);
    enum cu_status st = buf ? CU_OK : cu_fail(err, CU_EDEVICE, "out of host memory");
    st = cu_comm_agree(comm, st, err);
    if (st) {
        free(buf);
        return st;
    }
    for (int g = 0, q = 0; g < n; g++) {
        if (bad[g] == 0.0f)
            continue;
        for (int i = 0; msg[g] && msg[g][i] && i < L - 1; i++)
            buf[(size_t)q * L + (size_t)i] = (float)(unsigned char)msg[g][i];
        q++;
    }
    st = cu_comm_sum_f32(comm, buf, (size_t)nb * L, err);
    for (int g = 0, q = 0; g < n && !st; g++) {
        if (bad[g] == 0.0f)
            continue;
        char *m = malloc(L);
        if (!m) {
            st = cu_fail(err, CU_EDEVICE, "out of host memory");
            break;
        }
        free(msg[g]);
        msg[g] = m;
        for (int i = 0; i < L; i++)
            m[i] = (char)(unsigned char)buf[(size_t)q * L + (size_t)i];
        m[L - 1] = '\0';
        q++;
    }
    free(buf);
    return cu_comm_agree(comm, st, err);
}

/* Drops the bad samples of ds (their lines appended to ds->bad, in
 * order), as dataset.c does for one process. */
static enum cu_status drop_bad(struct cu_dataset *ds, const float *bad, char **msg, struct cu_err *err)
{
    int nb = 0, k = 0;
    for (int g = 0; g < ds->n; g++)
        nb += bad[g] != 0.0f;
    if (nb == 0)
        return CU_OK;
    char **all = realloc(ds->bad, sizeof *all * (size_t)(ds->n_bad + nb));
    if (!all)
        return cu_fail(err, CU_EDEVICE, "%s: out of memory", ds->dir);
    ds->bad = all;
    for (int g = 0; g < ds->n; g++) {
        if (bad[g] != 0.0f) {
            ds->bad[ds->n_bad++] = msg[g];
            msg[g] = NULL;
            free(ds->samples[g].id), free(ds->samples[g].image), free(ds->samples[g].masks);
            continue;
        }
        ds->samples[k++] = ds->samples[g];
    }
    ds->n = k;
    if (k == 0)
        return cu_fail(err, CU_EINPUT, "%s: no usable images (%d bad)", ds->dir, ds->n_bad);
    return CU_OK;
}

/* The arrays of the whole (kept) dataset: each rank copies in its own
 * samples, zeros elsewhere, and the group sums. Original sizes travel as
 * floats (exact: below 2^24). keep[g]: index in ds of global sample g,
 * or -1 if dropped. */
static enum cu_status gather(struct cu_comm *comm, struct cu_dataset *ds, const struct cu_dataset *sh, int n_all,
                             const int *keep, int rank, int size, int s, struct cu_err *err)
{
    size_t ss = (size_t)s * (size_t)s, n = (size_t)ds->n;
    ds->size = s;
    ds->images = calloc(3 * ss * n, sizeof(float));
    ds->masks = ds->has_masks ? calloc(ss * n, sizeof(float)) : NULL;
    ds->height = calloc(n, sizeof(int));
    ds->width = calloc(n, sizeof(int));
    float *hw = calloc(2 * n, sizeof(float));
    enum cu_status st = CU_OK;
    if (!ds->images || (ds->has_masks && !ds->masks) || !ds->height || !ds->width || !hw)
        st = cu_fail(err, CU_EDEVICE, "%s: out of memory for %zu images at %dx%d", ds->dir, n, s, s);
    st = cu_comm_agree(comm, st, err);
    for (int g = rank, j = 0; g < n_all && !st; g += size) {
        if (keep[g] < 0)
            continue; /* dropped: not in sh either */
        size_t i = (size_t)keep[g];
        memcpy(ds->images + 3 * ss * i, sh->images + 3 * ss * (size_t)j, 3 * ss * sizeof(float));
        if (ds->masks)
            memcpy(ds->masks + ss * i, sh->masks + ss * (size_t)j, ss * sizeof(float));
        hw[2 * i] = (float)sh->height[j], hw[2 * i + 1] = (float)sh->width[j];
        j++;
    }
    st = st ? st : cu_comm_sum_f32(comm, ds->images, 3 * ss * n, err);
    if (!st && ds->masks)
        st = cu_comm_sum_f32(comm, ds->masks, ss * n, err);
    st = st ? st : cu_comm_sum_f32(comm, hw, 2 * n, err);
    for (size_t i = 0; i < n && !st; i++)
        ds->height[i] = (int)hw[2 * i], ds->width[i] = (int)hw[2 * i + 1];
    free(hw);
    return st;
}

static void print_found(const struct cu_dataset *ds, FILE *f)
{
    if (f)
        fprintf(f, "data: %s: %s, %d images%s\n", ds->dir, cu_layout_name(ds->layout), ds->n,
                ds->n_bad ? " (some bad ones skipped, listed below)" : "");
}

static void print_skipped(const struct cu_dataset *ds, FILE *f)
{
    if (!f || !ds->n_bad)
        return;
    fprintf(f, "data: skipped %d bad image%s (--skip-bad):\n", ds->n_bad, ds->n_bad > 1 ? "s" : "");
    for (int i = 0; i < ds->n_bad; i++)
        fprintf(f, "  %s\n", ds->bad[i]);
}

/* After the scan: load the shards, agree on the bad samples, share. */
static enum cu_status load_all(struct cu_comm *comm, struct cu_dataset *ds, const struct cu_dataset_opts *o,
                               struct cu_err *err)
{
    int rank = cu_comm_rank(comm), size = cu_comm_size(comm), n = ds->n;
    float *bad = calloc((size_t)n + 1, sizeof *bad);
    char **msg = calloc((size_t)n + 1, sizeof *msg);
    int *keep = calloc((size_t)n + 1, sizeof *keep);
    struct cu_dataset *sh = bad && msg && keep ? shard_of(ds, rank, size) : NULL;
    enum cu_status st = sh ? CU_OK : cu_fail(err, CU_EDEVICE, "%s: out of memory", ds->dir);
    st = st ? st : load_shard(ds, sh, o, rank, size, bad, msg, err);
    st = cu_comm_agree(comm, st, err);
    st = st ? st : cu_comm_sum_f32(comm, bad, (size_t)n, err);
    if (!st && !o->skip_bad) {
        /* The first bad sample's owner fails; the others relay it. */
        int first = 0;
        while (first < n && bad[first] == 0.0f)
            first++;
        if (first < n && first % size == rank)
            st = cu_fail(err, CU_EINPUT, "%s", msg[first]);
        st = cu_comm_agree(comm, st, err);
    }
    st = st ? st : share_lines(comm, n, bad, msg, err);
    for (int g = 0, k = 0; g < n; g++)
        keep[g] = bad[g] != 0.0f ? -1 : k++;
    st = st ? st : drop_bad(ds, bad, msg, err);
    st = st ? st : gather(comm, ds, sh, n, keep, rank, size, o->size, err);
    for (int g = 0; msg && g < n; g++)
        free(msg[g]);
    free(msg);
    free(bad);
    free(keep);
    cu_dataset_free(sh);
    return st;
}

enum cu_status cu_dataset_open_shared(const char *dir, const struct cu_dataset_opts *o, struct cu_comm *comm,
                                      struct cu_dataset **out, struct cu_err *err)
{
    if (cu_comm_size(comm) == 1)
        return cu_dataset_open(dir, o, out, err);
    struct cu_dataset *ds = NULL;
    struct cu_dataset_opts lo = *o;
    if (cu_comm_rank(comm) != 0)
        lo.progress = NULL;
    if (o->size < 1 || o->size > 8192)
        return cu_fail(err, CU_EUSAGE, "image size %d: must be 1..8192", o->size);
    enum cu_status st = cu_dataset_scan(dir, &lo, &ds, err);
    st = cu_comm_agree(comm, st, err);
    if (!st) {
        print_found(ds, lo.progress);
        st = load_all(comm, ds, &lo, err);
    }
    if (st) {
        cu_dataset_free(ds);
        return st;
    }
    print_skipped(ds, lo.progress);
    *out = ds;
    return CU_OK;
}
