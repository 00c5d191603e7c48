/* checkpoint.c: saving and restoring a training run (see checkpoint.h). */
#include "io/checkpoint.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clunet/model_file.h"
#include "clunet/safetensors.h"
#include "clunet/train_fields.h"

#define CKPT_VERSION "1"

/* ---- writing ---- */

static enum cu_status meta_f(struct cu_st_writer *w, const char *key, double v, struct cu_err *err)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%.17g", v);
    return cu_st_writer_meta(w, key, buf, err);
}

static enum cu_status meta_i(struct cu_st_writer *w, const char *key, long long v, struct cu_err *err)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", v);
    return cu_st_writer_meta(w, key, buf, err);
}

/* The saved fields of the configuration table (train_fields.h) as
 * "train.<name>" metadata, doubles with 17 significant digits. */
static enum cu_status put_config(struct cu_st_writer *w, const struct cu_train_config *c, struct cu_err *err)
{
    enum cu_status st = cu_st_writer_meta(w, "checkpoint", CKPT_VERSION, err);
    for (int i = 0; i < cu_train_nfields && !st; i++) {
        const struct cu_train_field *f = &cu_train_fields[i];
        char key[64], text[1100];
        if (!f->saved)
            continue;
        snprintf(key, sizeof key, "train.%s", f->name);
        cu_train_field_text(f, c, 1, text, sizeof text);
        st = cu_st_writer_meta(w, key, text, err);
    }
    return st;
}

static enum cu_status put_state(struct cu_st_writer *w, const struct cu_train_state *s, struct cu_err *err)
{
    enum cu_status st = CU_OK;
    char buf[32];
    snprintf(buf, sizeof buf, "%016" PRIx64, s->rng);
    st = st ? st : cu_st_writer_meta(w, "state.rng", buf, err);
    st = st ? st : meta_i(w, "state.step", s->step, err);
    st = st ? st : meta_i(w, "state.epoch", s->epoch, err);
    st = st ? st : meta_i(w, "state.batch", s->batch, err);
    st = st ? st : meta_f(w, "state.part_loss", s->part_loss, err);
    st = st ? st : meta_f(w, "state.part_dice", s->part_dice, err);
    st = st ? st : meta_f(w, "state.part_images", s->part_images, err);
    st = st ? st : meta_f(w, "state.part_seconds", s->part_seconds, err);
    st = st ? st : meta_f(w, "state.best_loss", s->best_loss, err);
    st = st ? st : meta_i(w, "state.best_epoch", s->best_epoch, err);
    st = st ? st : meta_f(w, "state.lr_scale", s->lr_scale, err);
    st = st ? st : meta_i(w, "state.plateau_wait", s->plateau_wait, err);
    if (!st && s->devices[0])
        st = cu_st_writer_meta(w, "state.devices", s->devices, err);
    if (!st && s->has_device_spec)
        st = cu_st_writer_meta(w, "state.device_spec", s->device_spec, err);
    if (!st && s->ids_hash[0])
        st = cu_st_writer_meta(w, "state.ids_hash", s->ids_hash, err);
    if (!st && s->inherited[0])
        st = cu_st_writer_meta(w, "state.inherited", s->inherited, err);
    /* Facts for a reader of the file (not read back). */
    st = st ? st : meta_i(w, "epochs", s->epoch, err);
    if (!st && s->history.n > 0)
        st = meta_f(w, "val_dice", s->history.rows[s->history.n - 1].val_dice, err);
    if (st)
        return st;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return cu_fail(err, CU_EDEVICE, "checkpoint: out of memory");
    int bad = cu_history_write_csv(f, &s->history);
    bad |= fclose(f) != 0;
    if (!bad)
        st = cu_st_writer_meta(w, "state.history", text, err);
    free(text);
    return bad ? cu_fail(err, CU_EDEVICE, "checkpoint: out of memory") : st;
}

enum cu_status cu_checkpoint_save(const char *path, const struct cu_unet *net, const struct cu_train_config *cfg,
                                  const struct cu_train_state *state, struct cu_err *err)
{
    struct cu_st_writer *w = NULL;
    enum cu_status st = cu_st_writer_new(&w, err);
    st = st ? st : cu_model_fill(w, net, CU_MODEL_ADAM, err);
    st = st ? st : put_config(w, cfg, err);
    st = st ? st : put_state(w, state, err);
    st = st ? st : cu_st_writer_write(w, path, err);
    cu_st_writer_free(w);
    return st;
}

/* ---- reading ---- */

static enum cu_status get_s(const struct cu_st_file *f, const char *key, const char **out, struct cu_err *err)
{
    *out = cu_st_file_meta(f, key);
    if (!*out)
        return cu_fail(err, CU_EINPUT, "%s: not a clunet checkpoint (no metadata %s)", cu_st_file_path(f), key);
    return CU_OK;
}

static enum cu_status get_f(const struct cu_st_file *f, const char *key, double *out, struct cu_err *err)
{
    const char *s;
    enum cu_status st = get_s(f, key, &s, err);
    if (st)
        return st;
    char *end;
    errno = 0;
    *out = strtod(s, &end);
    if (end == s || *end)
        return cu_fail(err, CU_EINPUT, "%s: metadata %s=\"%s\" is not a number", cu_st_file_path(f), key, s);
    return CU_OK;
}

static enum cu_status get_i(const struct cu_st_file *f, const char *key, long long lo, long long hi, long long *out,
                            struct cu_err *err)
{
    const char *s;
    enum cu_status st = get_s(f, key, &s, err);
    if (st)
        return st;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end || errno || v < lo || v > hi)
        return cu_fail(err, CU_EINPUT, "%s: metadata %s=\"%s\" is not an integer in %lld..%lld", cu_st_file_path(f),
                       key, s, lo, hi);
    *out = v;
    return CU_OK;
}

static enum cu_status get_u64(const struct cu_st_file *f, const char *key, int base, uint64_t *out,
                              struct cu_err *err)
{
    const char *s;
    enum cu_status st = get_s(f, key, &s, err);
    if (st)
        return st;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, base);
    if (end == s || *end || errno || *s == '-')
        return cu_fail(err, CU_EINPUT, "%s: metadata %s=\"%s\" is not an unsigned integer", cu_st_file_path(f), key,
                       s);
    *out = v;
    return CU_OK;
}

static enum cu_status get_config(const struct cu_st_file *f, struct cu_train_config *c, struct cu_err *err)
{
    const char *s;
    enum cu_status st = get_s(f, "checkpoint", &s, err);
    if (!st && strcmp(s, CKPT_VERSION))
        return cu_fail(err, CU_EINPUT, "%s: checkpoint version %s is not supported (this clunet writes %s)",
                       cu_st_file_path(f), s, CKPT_VERSION);
    for (int i = 0; i < cu_train_nfields && !st; i++) {
        const struct cu_train_field *fd = &cu_train_fields[i];
        char key[64], range[128];
        if (!fd->saved)
            continue;
        snprintf(key, sizeof key, "train.%s", fd->name);
        if (fd->optional && !cu_st_file_meta(f, key))
            continue; /* a field newer than the checkpoint: its default (cu_checkpoint_read's caller set it) */
        st = get_s(f, key, &s, err);
        if (!st && cu_train_field_set(fd, c, s)) {
            cu_train_field_range(fd, range, sizeof range);
            st = cu_fail(err, CU_EINPUT, "%s: metadata %s=\"%.200s\" is not %s", cu_st_file_path(f), key, s, range);
        }
    }
    return st;
}

/* state.device_spec, optional (older checkpoints lack it): "", or
 * "--device SPEC" / "--devices LIST" with a non-empty value. */
static enum cu_status get_device_spec(const struct cu_st_file *f, struct cu_train_state *s, struct cu_err *err)
{
    const char *spec = cu_st_file_meta(f, "state.device_spec");
    if (!spec)
        return CU_OK;
    const char *v = !strncmp(spec, "--devices ", 10) ? spec + 10 : !strncmp(spec, "--device ", 9) ? spec + 9 : NULL;
    if ((*spec && (!v || !*v)) || strlen(spec) >= sizeof s->device_spec)
        return cu_fail(err, CU_EINPUT,
                       "%s: metadata state.device_spec=\"%.200s\" is not \"--device SPEC\", \"--devices LIST\" or "
                       "empty",
                       cu_st_file_path(f), spec);
    snprintf(s->device_spec, sizeof s->device_spec, "%s", spec);
    s->has_device_spec = 1;
    return CU_OK;
}

static enum cu_status get_state(const struct cu_st_file *f, struct cu_train_state *s, struct cu_err *err)
{
    long long v = 0;
    enum cu_status st = get_u64(f, "state.rng", 16, &s->rng, err);
    st = st ? st : get_i(f, "state.step", 0, LONG_MAX, &v, err);
    s->step = (long)v;
    st = st ? st : get_i(f, "state.epoch", 0, 1000000, &v, err);
    s->epoch = (int)v;
    st = st ? st : get_i(f, "state.batch", 0, INT_MAX, &v, err);
    s->batch = (int)v;
    st = st ? st : get_f(f, "state.part_loss", &s->part_loss, err);
    st = st ? st : get_f(f, "state.part_dice", &s->part_dice, err);
    st = st ? st : get_f(f, "state.part_images", &s->part_images, err);
    st = st ? st : get_f(f, "state.part_seconds", &s->part_seconds, err);
    st = st ? st : get_f(f, "state.best_loss", &s->best_loss, err);
    st = st ? st : get_i(f, "state.best_epoch", 0, 1000000, &v, err);
    s->best_epoch = (int)v;
    s->lr_scale = 1;
    if (!st && cu_st_file_meta(f, "state.lr_scale")) /* optional: older checkpoints lack it */
        st = get_f(f, "state.lr_scale", &s->lr_scale, err);
    if (!st && cu_st_file_meta(f, "state.plateau_wait")) {
        st = get_i(f, "state.plateau_wait", 0, 1000000, &v, err);
        s->plateau_wait = (int)v;
    }
    const char *devices = cu_st_file_meta(f, "state.devices"); /* optional: older checkpoints lack it */
    snprintf(s->devices, sizeof s->devices, "%s", devices ? devices : "");
    st = st ? st : get_device_spec(f, s, err);
    const char *ids = cu_st_file_meta(f, "state.ids_hash"); /* optional: older checkpoints lack it */
    if (!st && ids && (strlen(ids) != 16 || strspn(ids, "0123456789abcdef") != 16))
        st = cu_fail(err, CU_EINPUT, "%s: metadata state.ids_hash=\"%.40s\" is not 16 hex digits", cu_st_file_path(f),
                     ids);
    if (!st && ids)
        memcpy(s->ids_hash, ids, 17);
    const char *inh = cu_st_file_meta(f, "state.inherited"); /* optional: only fine-tuning runs have it */
    if (!st && inh && strlen(inh) >= sizeof s->inherited)
        st = cu_fail(err, CU_EINPUT, "%s: metadata state.inherited is longer than %zu characters", cu_st_file_path(f),
                     sizeof s->inherited - 1);
    if (!st)
        snprintf(s->inherited, sizeof s->inherited, "%s", inh ? inh : "");
    const char *text;
    st = st ? st : get_s(f, "state.history", &text, err);
    st = st ? st : cu_history_parse(&s->history, text, cu_st_file_path(f), err);
    if (!st && s->history.n != s->epoch)
        st = cu_fail(err, CU_EINPUT, "%s: history has %d epochs, the checkpoint says %d", cu_st_file_path(f),
                     s->history.n, s->epoch);
    return st;
}

enum cu_status cu_checkpoint_load(const char *path, struct cu_train_config *cfg, struct cu_train_state *state,
                                  struct cu_st_file **file, struct cu_err *err)
{
    struct cu_st_file *f = NULL;
    enum cu_status st = cu_st_file_read(path, &f, err);
    if (st)
        return st;
    memset(state, 0, sizeof *state);
    cu_train_config_default(cfg);
    st = get_config(f, cfg, err);
    st = st ? st : get_state(f, state, err);
    if (st) {
        cu_history_free(&state->history);
        cu_st_file_free(f);
        return st;
    }
    *file = f;
    return CU_OK;
}

enum cu_status cu_checkpoint_apply(const struct cu_st_file *file, struct cu_unet *net, struct cu_err *err)
{
    return cu_model_load_into(net, file, CU_MODEL_ADAM, err);
}
