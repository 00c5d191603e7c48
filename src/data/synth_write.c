/* synth_write.c: writing the synthetic dataset to disk (synth.h:
 * clunet_synth). Everything goes into OUT/.stage1_train.tmp.XXXXXX first
 * and is renamed to OUT/stage1_train at the end; on any failure the
 * temporary folder is removed, so OUT never holds half a dataset. Two
 * threads write images in parallel; the files do not depend on which.
 *
 * Not here: the image model (synth.c). */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clunet/image.h"
#include "io/remove_tree.h"
#include "clunet/progress.h"
#include "clunet/synth.h"
#include "clunet/util.h"

/* One image folder: <root>/<id>/images/<id>.png and masks/m<k>.png. */
static enum cu_status write_one(const char *root, const struct cu_synth_opts *o, int i, uint8_t *rgb,
                                uint16_t *lab, uint8_t *mask, struct cu_err *err)
{
    int h = o->height, w = o->width, k = 0;
    enum cu_status st = cu_synth_sample(o->seed, i, h, w, rgb, lab, &k, err);
    if (st)
        return st;
    char id[17], path[8192]; /* root is under 4096 */
    cu_synth_id(o->seed, i, id);
    const char *sub[] = {"images", "masks"};
    for (int j = 0; j < 2; j++) {
        snprintf(path, sizeof path, "%s/%s/%s", root, id, sub[j]);
        CU_TRY(cu_mkdir_p(path, 0777, err));
    }
    snprintf(path, sizeof path, "%s/%s/images/%s.png", root, id, id);
    st = cu_png_write_rgb8(path, rgb, h, w, err);
    size_t np = (size_t)h * (size_t)w;
    for (int l = 1; l <= k && !st; l++) {
        for (size_t p = 0; p < np; p++)
            mask[p] = lab[p] == l ? 255 : 0;
        snprintf(path, sizeof path, "%s/%s/masks/m%04d.png", root, id, l);
        st = cu_png_write_gray8(path, mask, h, w, err);
    }
    return st;
}

/* Images are independent: two threads take the next index in turn. The
 * reported failure is the lowest failing index (all lower ones were taken
 * and finish), so the message does not depend on timing. */
struct job {
    const struct cu_synth_opts *o;
    const char *root;
    pthread_mutex_t lock;
    int next, done, failed_at;
    struct cu_err err; /* of failed_at */
    struct cu_progress bar;
};

static void *worker(void *arg)
{
    struct job *j = arg;
    size_t np = (size_t)j->o->width * (size_t)j->o->height;
    uint8_t *rgb = malloc(np * 3), *mask = malloc(np);
    uint16_t *lab = malloc(sizeof *lab * np);
    for (;;) {
        pthread_mutex_lock(&j->lock);
        int i = j->failed_at < j->o->count ? j->o->count : j->next++;
        pthread_mutex_unlock(&j->lock);
        if (i >= j->o->count)
            break;
        struct cu_err e = {0};
        if (!rgb || !mask || !lab)
            cu_fail(&e, CU_EDEVICE, "synth: out of memory for %dx%d", j->o->width, j->o->height);
        else
            write_one(j->root, j->o, i, rgb, lab, mask, &e);
        pthread_mutex_lock(&j->lock);
        if (e.status && i < j->failed_at) {
            j->failed_at = i;
            j->err = e;
        }
        cu_progress_update(&j->bar, ++j->done, NULL);
        pthread_mutex_unlock(&j->lock);
    }
    free(rgb), free(mask), free(lab);
    return NULL;
}

enum cu_status clunet_synth(const struct cu_synth_opts *o, struct cu_err *err)
{
    if (o->count < 1 || o->count > 1000000)
        return cu_fail(err, CU_EUSAGE, "synth: --count %d: must be 1..1000000", o->count);
    if (o->width < 16 || o->height < 16 || o->width > 8192 || o->height > 8192)
        return cu_fail(err, CU_EUSAGE, "synth: --size %dx%d: each side must be 16..8192", o->width, o->height);
    char final[4096], tmp[4096];
    if (snprintf(final, sizeof final, "%s/stage1_train", o->out) >= (int)sizeof final)
        return cu_fail(err, CU_EUSAGE, "synth: --out path too long");
    snprintf(tmp, sizeof tmp, "%s/.stage1_train.tmp.XXXXXX", o->out);
    struct stat sb;
    CU_TRY(cu_mkdir_p(o->out, 0777, err));
    if (stat(final, &sb) == 0)
        return cu_fail(err, CU_EUSAGE, "%s: already exists (remove it or choose another --out)", final);
    if (!mkdtemp(tmp))
        return cu_fail(err, CU_EIO, "%s: cannot create a folder: %s", o->out, strerror(errno));
    struct job j = {.o = o, .root = tmp, .failed_at = o->count};
    pthread_mutex_init(&j.lock, NULL);
    cu_progress_start(&j.bar, o->progress, "synth", o->count);
    pthread_t th[2];
    int started = 0;
    for (int t = 0; t < 2; t++)
        started += pthread_create(&th[started], NULL, worker, &j) == 0;
    if (!started)
        worker(&j);
    for (int t = 0; t < started; t++)
        pthread_join(th[t], NULL);
    pthread_mutex_destroy(&j.lock);
    enum cu_status st = CU_OK;
    if (j.failed_at < o->count)
        st = cu_fail(err, j.err.status, "%s", j.err.msg);
    if (!st && chmod(tmp, 0755) != 0) /* mkdtemp made it 0700 */
        st = cu_fail(err, CU_EIO, "%s: %s", tmp, strerror(errno));
    if (!st && rename(tmp, final) != 0)
        st = cu_fail(err, CU_EIO, "%s: cannot rename %s into place: %s", final, tmp, strerror(errno));
    if (st)
        cu_remove_tree(tmp);
    else
        cu_progress_done(&j.bar);
    return st;
}
