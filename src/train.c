/* train.c: clunet_train (train.h): set-up of a new or resumed run, the
 * epoch loop (seeded shuffle, mini-batches, training and validation loss
 * and Dice), and what each epoch leaves in the run folder.
 *
 * Order at the end of an epoch: best.safetensors (if the validation loss
 * improved), checkpoint.safetensors, history.csv, history.svg, train.log.
 * A kill between two of these writes loses nothing: a resume restarts from
 * the checkpoint and rewrites the same files. A NaN/Inf loss stops before
 * anything is written, so the last checkpoint stays the last good one.
 * Leaves out: flags (cmd_train.c), the files' formats (checkpoint.c,
 * history.c, model_file.c), reporting helpers (train_report.c). */
#include "clunet/train.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint.h"
#include "clunet/model_file.h"
#include "clunet/progress.h"
#include "history.h"
#include "run_dir.h"
#include "train_data.h"
#include "train_report.h"

struct trainer {
    const struct cu_train_opts *o;
    struct cu_train_config cfg;
    struct cu_train_state st;
    const char *dir;
    char path[4096]; /* scratch for dir/name */
    struct cu_backend *be;
    struct cu_caps caps;
    struct cu_unet *net;
    struct cu_train_data data;
    struct cu_tensor *x, *t;
    float *hx, *hy;
    int *perm;
    struct cu_text log;
    FILE *out; /* NULL when quiet */
    long batches;    /* taken by this process (stop_after_batches) */
    double t_data, t_step, t_val, t_save; /* this epoch's phases, for -v */
    int have_checkpoint, ckpt_epoch, ckpt_mid_epoch;
};

/* Prints to the terminal (unless quiet) and to train.log. */
static void say(struct trainer *tr, const char *fmt, ...) CU_PRINTF(2, 3);

static void say(struct trainer *tr, const char *fmt, ...)
{
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    cu_text_printf(&tr->log, "%s\n", line);
    if (tr->out) {
        fprintf(tr->out, "%s\n", line);
        fflush(tr->out);
    }
}

static const char *run_path(struct trainer *tr, const char *name)
{
    snprintf(tr->path, sizeof tr->path, "%s/%s", tr->dir, name);
    return tr->path;
}

/* What the checkpoint on disk holds, for the NaN message. */
static void note_checkpoint(struct trainer *tr)
{
    tr->have_checkpoint = 1;
    tr->ckpt_epoch = tr->st.batch ? tr->st.epoch + 1 : tr->st.epoch;
    tr->ckpt_mid_epoch = tr->st.batch > 0;
}

/* Out of memory on any device reads as CU_EDEVICE with the driver's or the
 * allocator's words; add what the user can do about it. */
static enum cu_status memory_hint(struct cu_err *err)
{
    static const char *const words[] = {"ALLOCATION_FAILURE", "OUT_OF_RESOURCES", "OUT_OF_HOST_MEMORY",
                                        "out of", "allocate", "memory"};
    if (err->status != CU_EDEVICE || strstr(err->msg, "--batch"))
        return err->status;
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strstr(err->msg, words[i])) {
            size_t len = strlen(err->msg);
            snprintf(err->msg + len, sizeof err->msg - len, "; try a smaller --batch or -s");
            break;
        }
    return err->status;
}

/* A rough upper bound of the training memory: parameters with gradient and
 * two moments, plus about 20 activation-sized buffers per level (forward
 * outputs, concat, up-sampling and the gradients of each). */
static double memory_estimate(const struct cu_train_config *c, double *largest)
{
    int f[CU_UNET_LEVELS];
    cu_unet_widths(c->channel_rate, f);
    struct cu_unet_config u = {c->image_size, c->channel_rate, (enum cu_upsample)c->upsample, 3};
    double bytes = 16.0 * (double)cu_unet_param_count(&u);
    for (int k = 0; k < CU_UNET_LEVELS; k++) {
        double s = (double)(c->image_size >> k);
        bytes += 20.0 * 4.0 * c->batch * f[k] * s * s;
    }
    *largest = 4.0 * c->batch * (double)(f[0] + f[1]) * c->image_size * c->image_size;
    return bytes;
}

static enum cu_status check_memory(struct trainer *tr, struct cu_err *err)
{
    double largest, need = memory_estimate(&tr->cfg, &largest);
    double have = (double)tr->caps.global_mem;
    if (!have) {
        long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
        have = pages > 0 && page > 0 ? (double)pages * (double)page : 0;
    }
    const double gib = 1024.0 * 1024.0 * 1024.0;
    if (have > 0 && need > have)
        return cu_fail(err, CU_EDEVICE,
                       "%s: out of device memory: -s %d --batch %d needs about %.1f GiB, the device has %.1f GiB; "
                       "try a smaller --batch or -s",
                       tr->caps.name, tr->cfg.image_size, tr->cfg.batch, need / gib, have / gib);
    if (tr->caps.max_alloc && largest > (double)tr->caps.max_alloc)
        return cu_fail(err, CU_EDEVICE,
                       "%s: out of device memory: one buffer of %.2f GiB exceeds the device's largest allocation "
                       "(%.2f GiB); try a smaller --batch or -s",
                       tr->caps.name, largest / gib, (double)tr->caps.max_alloc / gib);
    return CU_OK;
}

/* Backend, network and batch buffers for tr->cfg. */
static enum cu_status build(struct trainer *tr, struct cu_err *err)
{
    enum cu_status st = cu_backend_open(tr->o->device, &tr->be, err);
    if (st)
        return st;
    cu_backend_caps(tr->be, &tr->caps);
    st = check_memory(tr, err);
    if (st)
        return st;
    struct cu_unet_config u = {tr->cfg.image_size, tr->cfg.channel_rate, (enum cu_upsample)tr->cfg.upsample, 3};
    int S = u.image_size, B = tr->cfg.batch;
    st = cu_unet_new(tr->be, &u, B, &tr->net, err);
    st = st ? st : cu_tensor_new(tr->be, (struct cu_shape){B, 3, S, S}, "input", &tr->x, err);
    st = st ? st : cu_tensor_new(tr->be, (struct cu_shape){B, 1, S, S}, "target", &tr->t, err);
    if (st)
        return memory_hint(err);
    tr->hx = malloc((size_t)B * 3 * S * S * sizeof(float));
    tr->hy = malloc((size_t)B * S * S * sizeof(float));
    if (!tr->hx || !tr->hy)
        return cu_fail(err, CU_EDEVICE, "host: out of memory for a batch of %d at -s %d; try a smaller --batch or -s",
                       B, S);
    return CU_OK;
}

/* Makes a relative path absolute (from the current folder), so that the
 * checkpoint's data folder works for a resume started anywhere. */
static void absolute(char *path, size_t size)
{
    char cwd[4096], buf[4096];
    if (path[0] == '/' || !getcwd(cwd, sizeof cwd))
        return;
    int n = snprintf(buf, sizeof buf, "%s/%s", cwd, path);
    if (n > 0 && (size_t)n < size)
        memcpy(path, buf, (size_t)n + 1);
}

static enum cu_status setup_new(struct trainer *tr, struct cu_err *err)
{
    const struct cu_train_opts *o = tr->o;
    tr->cfg = o->cfg;
    enum cu_status st = cu_train_config_check(&tr->cfg, err);
    if (st)
        return st;
    if (!o->out_dir || !*o->out_dir)
        return cu_fail(err, CU_EUSAGE, "no run folder: give --out DIR (or --resume DIR)");
    struct stat sb;
    if (stat(o->out_dir, &sb) == 0 && !S_ISDIR(sb.st_mode))
        return cu_fail(err, CU_EUSAGE, "%s: exists and is not a folder; give --out a new folder", o->out_dir);
    if (!o->force && stat(o->out_dir, &sb) == 0)
        return cu_fail(err, CU_EUSAGE,
                       "%s: run folder already exists; use --force to overwrite it or --resume %s to continue",
                       o->out_dir, o->out_dir);
    absolute(tr->cfg.data_dir, sizeof tr->cfg.data_dir);
    tr->dir = o->out_dir;
    tr->st.best_loss = INFINITY;
    st = build(tr, err);
    st = st ? st : cu_unet_init_he(tr->net, tr->cfg.seed, err);
    return st;
}

static enum cu_status setup_resume(struct trainer *tr, struct cu_err *err)
{
    const struct cu_train_opts *o = tr->o;
    tr->dir = o->resume_dir;
    struct cu_st_file *file = NULL;
    enum cu_status st = cu_checkpoint_load(run_path(tr, CU_RUN_CHECKPOINT), &tr->cfg, &tr->st, &file, err);
    if (st)
        return st;
    if (o->epochs_set)
        tr->cfg.epochs = o->cfg.epochs;
    if (o->lr_set)
        tr->cfg.lr = o->cfg.lr;
    if (o->data_override) {
        snprintf(tr->cfg.data_dir, sizeof tr->cfg.data_dir, "%s", o->data_override);
        absolute(tr->cfg.data_dir, sizeof tr->cfg.data_dir);
    }
    st = cu_train_config_check(&tr->cfg, err);
    if (!st && tr->st.epoch >= tr->cfg.epochs && tr->st.batch == 0)
        st = cu_fail(err, CU_EUSAGE, "%s: already trained %d of %d epochs; give -e N with N > %d to train further",
                     tr->dir, tr->st.epoch, tr->cfg.epochs, tr->st.epoch);
    st = st ? st : build(tr, err);
    st = st ? st : cu_checkpoint_apply(file, tr->net, err);
    cu_st_file_free(file);
    if (st)
        return st;
    note_checkpoint(tr);
    char *old = NULL;
    size_t len = 0;
    struct cu_err ignore = {0};
    if (cu_run_dir_read(tr->dir, CU_RUN_LOG, &old, &len, &ignore) == CU_OK) /* a lost log is no reason to stop */
        cu_text_printf(&tr->log, "%s", old);
    free(old);
    return CU_OK;
}

static void log_config(struct trainer *tr, int resumed)
{
    const struct cu_train_config *c = &tr->cfg;
    if (resumed)
        say(tr, "resuming %s at epoch %d%s (step %ld), up to %d epochs", tr->dir, tr->st.epoch + 1,
            tr->st.batch ? " mid-epoch" : "", tr->st.step, c->epochs);
    say(tr, "configuration: data %s, -s %d, -c %g, -e %d, --batch %d, --val-split %g, --split-seed %lld, --lr %g, "
            "--loss %s, --upsample %s%s, --seed %llu",
        c->data_dir, c->image_size, c->channel_rate, c->epochs, c->batch, c->val_split, c->split_seed, c->lr,
        cu_loss_name(c->loss), cu_upsample_name((enum cu_upsample)c->upsample), c->augment ? ", --augment" : "",
        (unsigned long long)c->seed);
    if (tr->caps.global_mem)
        say(tr, "device: %s (%s backend, %.0f MiB)", tr->caps.name, cu_backend_name(tr->be),
            (double)tr->caps.global_mem / 1048576.0);
    else
        say(tr, "device: %s (%s backend)", tr->caps.name, cu_backend_name(tr->be));
    say(tr, "network: %lld parameters", cu_unet_param_total(tr->net));
}

static enum cu_status nan_stop(struct trainer *tr, int epoch, const char *phase, int batch, double loss,
                               struct cu_err *err)
{
    if (tr->out && tr->o->tty)
        cu_report_clear(tr->out);
    char kept[160];
    if (tr->have_checkpoint)
        snprintf(kept, sizeof kept, "the last good checkpoint (epoch %d%s) is kept", tr->ckpt_epoch,
                 tr->ckpt_mid_epoch ? ", mid-epoch" : "");
    else
        snprintf(kept, sizeof kept, "no checkpoint had been written yet");
    return cu_fail(err, CU_EINPUT, "%s: loss is %s at epoch %d, %s batch %d; training stopped, %s; try a smaller --lr",
                   tr->dir, isnan(loss) ? "NaN" : "infinite", epoch, phase, batch, kept);
}

/* Validation loss and Dice over the whole validation set (weighted by
 * batch size); NaN when there is none. */
static enum cu_status validate(struct trainer *tr, int epoch, double *loss, double *dice, struct cu_err *err)
{
    *loss = *dice = NAN;
    int nv = tr->data.n_val, B = tr->cfg.batch;
    if (!nv)
        return CU_OK;
    double sl = 0, sd = 0;
    struct cu_tensor *scalars = NULL, *logits = NULL;
    for (int b = 0, k = 0; b < nv; b += B, k++) {
        int n = nv - b < B ? nv - b : B;
        float s[2];
        cu_train_data_gather(&tr->data, tr->data.val_idx + b, n, NULL, tr->hx, tr->hy);
        enum cu_status st = cu_tensor_set_batch(tr->x, n, err);
        st = st ? st : cu_tensor_set_batch(tr->t, n, err);
        st = st ? st : cu_tensor_upload(tr->x, tr->hx, err);
        st = st ? st : cu_tensor_upload(tr->t, tr->hy, err);
        st = st ? st : cu_unet_forward(tr->net, tr->x, &logits, err);
        st = st ? st : cu_unet_loss(tr->net, tr->t, tr->cfg.loss, &scalars, err);
        st = st ? st : cu_tensor_download(scalars, s, err);
        if (st)
            return memory_hint(err);
        if (!isfinite(s[0]))
            return nan_stop(tr, epoch, "validation", k + 1, s[0], err);
        sl += (double)s[0] * n;
        sd += (double)s[1] * n;
    }
    *loss = sl / nv;
    *dice = sd / nv;
    return CU_OK;
}

static int stop_requested(struct trainer *tr)
{
    return (tr->o->stop && *tr->o->stop) || (tr->o->stop_after_batches && tr->batches >= tr->o->stop_after_batches);
}

static enum cu_status save_checkpoint(struct trainer *tr, struct cu_err *err)
{
    double t0 = cu_now();
    enum cu_status st = cu_checkpoint_save(run_path(tr, CU_RUN_CHECKPOINT), tr->net, &tr->cfg, &tr->st, err);
    tr->t_save += cu_now() - t0;
    if (!st)
        note_checkpoint(tr);
    return st;
}

/* The model files' facts: what a reader of model.safetensors wants to know
 * about how it was made. */
static enum cu_status save_model(struct trainer *tr, const char *name, int epoch, double val_loss, double val_dice,
                                 struct cu_err *err)
{
    char ep[32], vl[64], vd[64], lr[64], seed[32];
    snprintf(ep, sizeof ep, "%d", epoch);
    snprintf(vl, sizeof vl, "%.9g", val_loss);
    snprintf(vd, sizeof vd, "%.9g", val_dice);
    snprintf(lr, sizeof lr, "%.17g", tr->cfg.lr);
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)tr->cfg.seed);
    const struct cu_meta_kv facts[] = {
        {"epochs", ep}, {"val_loss", vl}, {"val_dice", vd}, {"loss", cu_loss_name(tr->cfg.loss)},
        {"lr", lr},     {"seed", seed},   {"data", tr->cfg.data_dir},
    };
    double t0 = cu_now();
    enum cu_status st = cu_model_save(run_path(tr, name), tr->net, 0, facts, (int)(sizeof facts / sizeof facts[0]),
                                      err);
    tr->t_save += cu_now() - t0;
    return st;
}

static int fill_csv(FILE *f, void *h) { return cu_history_write_csv(f, h); }

struct svg_ctx {
    const struct cu_history *h;
    const char *title;
};

static int fill_svg(FILE *f, void *ctx)
{
    const struct svg_ctx *c = ctx;
    return cu_history_write_svg(f, c->h, c->title);
}

static enum cu_status write_reports(struct trainer *tr, struct cu_err *err)
{
    char title[256];
    snprintf(title, sizeof title, "clunet train: -s %d -c %g --loss %s --batch %d --lr %g (%s)", tr->cfg.image_size,
             tr->cfg.channel_rate, cu_loss_name(tr->cfg.loss), tr->cfg.batch, tr->cfg.lr, tr->caps.name);
    struct svg_ctx svg = {&tr->st.history, title};
    double t0 = cu_now();
    enum cu_status st = cu_run_dir_write(tr->dir, CU_RUN_HISTORY_CSV, fill_csv, &tr->st.history, err);
    st = st ? st : cu_run_dir_write(tr->dir, CU_RUN_HISTORY_SVG, fill_svg, &svg, err);
    st = st ? st : cu_run_dir_write(tr->dir, CU_RUN_LOG, cu_text_fill, &tr->log, err);
    tr->t_save += cu_now() - t0;
    return st;
}

/* After the training batches of an epoch: validation, history, files. */
static enum cu_status end_epoch(struct trainer *tr, int epoch, double seconds_so_far, double t_start,
                                struct cu_err *err)
{
    double t0 = cu_now(), vl, vd;
    enum cu_status st = validate(tr, epoch, &vl, &vd, err);
    if (st)
        return st;
    tr->t_val = cu_now() - t0;
    struct cu_train_state *s = &tr->st;
    struct cu_history_row row = {
        .epoch = epoch,
        .train_loss = s->part_loss / s->part_images,
        .train_dice = s->part_dice / s->part_images,
        .val_loss = vl,
        .val_dice = vd,
        .seconds = seconds_so_far + (cu_now() - t_start),
        .images_per_second = s->part_seconds > 0 ? s->part_images / s->part_seconds : 0,
    };
    st = cu_history_add(&s->history, &row, err);
    if (st)
        return st;
    s->epoch = epoch;
    s->batch = 0;
    s->part_loss = s->part_dice = s->part_images = s->part_seconds = 0;
    double crit = tr->data.n_val ? vl : row.train_loss; /* no validation set: the training loss decides */
    if (crit < s->best_loss) {
        s->best_loss = crit;
        s->best_epoch = epoch;
        st = save_model(tr, CU_RUN_BEST, epoch, vl, vd, err);
    }
    st = st ? st : save_checkpoint(tr, err);
    if (st)
        return st;
    if (tr->out && tr->o->tty)
        cu_report_clear(tr->out);
    char line[512];
    int n = snprintf(line, sizeof line,
                     "epoch %d/%d  train loss %.4f dice %.4f  val loss %.4f dice %.4f  %.1f s  %.1f img/s%s", epoch,
                     tr->cfg.epochs, row.train_loss, row.train_dice, vl, vd, row.seconds, row.images_per_second,
                     s->best_epoch == epoch ? "  (best)" : "");
    if (tr->o->verbosity >= 2 && n > 0 && (size_t)n < sizeof line)
        snprintf(line + n, sizeof line - (size_t)n, "  [data %.2f s, steps %.2f s, validation %.2f s, saving %.2f s]",
                 tr->t_data, tr->t_step, tr->t_val, tr->t_save);
    say(tr, "%s", line);
    return write_reports(tr, err);
}

/* One epoch (1-based), from batch first_batch (a resumed, interrupted
 * epoch) on. Sets *stopped when a stop was requested and the checkpoint is
 * written. */
static enum cu_status run_epoch(struct trainer *tr, int epoch, int *stopped, struct cu_err *err)
{
    struct cu_train_state *s = &tr->st;
    int nt = tr->data.n_train, B = tr->cfg.batch, nb = (nt + B - 1) / B;
    uint64_t rng = cu_train_rng_for_epoch(tr->cfg.seed, epoch);
    memcpy(tr->perm, tr->data.train_idx, (size_t)nt * sizeof(int));
    cu_train_shuffle(&rng, tr->perm, nt);
    int first = 0;
    double seconds_before = 0;
    if (s->batch > 0) { /* the interrupted epoch: the same order, then the saved stream */
        first = s->batch;
        rng = s->rng;
        seconds_before = s->part_seconds;
    }
    tr->t_data = tr->t_step = tr->t_val = tr->t_save = 0;
    struct cu_adam hp = CU_ADAM_DEFAULTS;
    hp.lr = (float)tr->cfg.lr;
    double t_start = cu_now();
    struct cu_progress bar;
    char label[64];
    snprintf(label, sizeof label, "epoch %d/%d", epoch, tr->cfg.epochs);
    cu_progress_start(&bar, tr->out && tr->o->tty ? tr->out : NULL, label, nb);
    cu_progress_update(&bar, first, NULL);
    for (int b = first; b < nb; b++) {
        int n = nt - b * B < B ? nt - b * B : B;
        double t0 = cu_now();
        cu_train_data_gather(&tr->data, tr->perm + b * B, n, tr->cfg.augment ? &rng : NULL, tr->hx, tr->hy);
        enum cu_status st = cu_tensor_set_batch(tr->x, n, err);
        st = st ? st : cu_tensor_set_batch(tr->t, n, err);
        st = st ? st : cu_tensor_upload(tr->x, tr->hx, err);
        st = st ? st : cu_tensor_upload(tr->t, tr->hy, err);
        double t1 = cu_now();
        float out[2];
        st = st ? st : cu_unet_train_step(tr->net, tr->x, tr->t, tr->cfg.loss, &hp, s->step + 1, out, err);
        if (st)
            return memory_hint(err);
        double t2 = cu_now();
        tr->t_data += t1 - t0;
        tr->t_step += t2 - t1;
        if (!isfinite(out[0]))
            return nan_stop(tr, epoch, "training", b + 1, out[0], err);
        s->step++;
        s->part_loss += (double)out[0] * n;
        s->part_dice += (double)out[1] * n;
        s->part_images += n;
        s->part_seconds += t2 - t0;
        tr->batches++;
        if (tr->out && tr->o->tty) {
            char note[96], eta[32];
            cu_format_duration(eta, sizeof eta, (cu_now() - t_start) / (b + 1 - first) * (nb - b - 1));
            snprintf(note, sizeof note, "loss %.4f dice %.4f %.1f img/s ETA %s", s->part_loss / s->part_images,
                     s->part_dice / s->part_images, s->part_images / s->part_seconds, eta);
            cu_progress_update(&bar, b + 1, note);
        }
        if (stop_requested(tr) && b + 1 < nb) {
            s->batch = b + 1;
            s->rng = rng;
            st = save_checkpoint(tr, err);
            if (st)
                return st;
            if (tr->out && tr->o->tty)
                cu_report_clear(tr->out);
            say(tr, "interrupted at epoch %d, batch %d/%d; checkpoint written: resume with clunet train --resume %s",
                epoch, b + 1, nb, tr->dir);
            *stopped = 1;
            return cu_run_dir_write(tr->dir, CU_RUN_LOG, cu_text_fill, &tr->log, err);
        }
    }
    s->rng = rng;
    enum cu_status st = end_epoch(tr, epoch, seconds_before, t_start, err);
    if (!st && stop_requested(tr) && epoch < tr->cfg.epochs) {
        say(tr, "interrupted after epoch %d; resume with clunet train --resume %s", epoch, tr->dir);
        *stopped = 1;
        st = cu_run_dir_write(tr->dir, CU_RUN_LOG, cu_text_fill, &tr->log, err);
    }
    return st;
}

static enum cu_status load_data(struct trainer *tr, struct cu_err *err)
{
    double t0 = cu_now();
    enum cu_status st = cu_train_data_load(&tr->cfg, tr->out && tr->o->tty ? tr->out : NULL, &tr->data, err);
    if (st)
        return st;
    if (tr->data.n_train < 1)
        return cu_fail(err, CU_EINPUT, "%s: no training images left after the validation split of %g (%d images)",
                       tr->cfg.data_dir, tr->cfg.val_split, tr->data.n);
    tr->perm = malloc((size_t)tr->data.n_train * sizeof(int));
    if (!tr->perm)
        return cu_fail(err, CU_EIO, "out of host memory");
    say(tr, "data: %s (%s): %d images, %d for training, %d for validation, loaded in %.1f s", tr->cfg.data_dir,
        tr->data.layout, tr->data.n, tr->data.n_train, tr->data.n_val, cu_now() - t0);
    for (int i = 0; i < tr->data.ds->n_bad; i++) /* --skip-bad: never silently */
        say(tr, "data: skipped (--skip-bad): %s", tr->data.ds->bad[i]);
    return CU_OK;
}

static void trainer_free(struct trainer *tr)
{
    free(tr->hx);
    free(tr->hy);
    free(tr->perm);
    cu_tensor_free(tr->x);
    cu_tensor_free(tr->t);
    cu_unet_free(tr->net);
    cu_backend_free(tr->be);
    cu_train_data_free(&tr->data);
    cu_history_free(&tr->st.history);
    cu_text_free(&tr->log);
}

/* The fraction of foreground pixels in the training masks, for the output
 * layer's prior initialisation (unet.h). */
static double foreground_fraction(const struct cu_train_data *d, int S)
{
    size_t ss = (size_t)S * (size_t)S;
    double on = 0;
    for (int k = 0; k < d->n_train; k++) {
        const float *m = d->ds->masks + ss * (size_t)d->train_idx[k];
        for (size_t i = 0; i < ss; i++)
            on += m[i];
    }
    return d->n_train > 0 ? on / ((double)d->n_train * (double)ss) : 0.5;
}

static enum cu_status train_run(struct trainer *tr, int *interrupted, struct cu_err *err)
{
    const struct cu_train_opts *o = tr->o;
    int resumed = o->resume_dir != NULL;
    enum cu_status st = resumed ? setup_resume(tr, err) : setup_new(tr, err);
    if (st)
        return st;
    if (resumed) /* a killed run may have left half-written temp files */
        cu_run_dir_clean_tmp(tr->dir);
    if (!resumed)
        say(tr, "clunet train: run folder %s", tr->dir);
    log_config(tr, resumed);
    st = load_data(tr, err);
    if (!st && !resumed) {
        double fg = foreground_fraction(&tr->data, tr->cfg.image_size);
        st = cu_unet_init_output_prior(tr->net, fg, err);
        say(tr, "foreground: %.1f %% of the training pixels; output bias starts at its log-odds", 100 * fg);
    }
    if (!st && !resumed)
        st = cu_run_dir_create(tr->dir, o->force, err);
    for (int e = tr->st.epoch + 1; !st && e <= tr->cfg.epochs; e++) {
        int stopped = 0;
        st = run_epoch(tr, e, &stopped, err);
        if (!st && stopped) {
            *interrupted = 1;
            return CU_OK;
        }
    }
    if (st)
        return st;
    const struct cu_history_row *last = &tr->st.history.rows[tr->st.history.n - 1];
    st = save_model(tr, CU_RUN_MODEL, tr->st.epoch, last->val_loss, last->val_dice, err);
    if (st)
        return st;
    say(tr, "done: %d epochs; model %s/%s, best (epoch %d) %s/%s; curves %s/%s", tr->st.epoch, tr->dir, CU_RUN_MODEL,
        tr->st.best_epoch, tr->dir, CU_RUN_BEST, tr->dir, CU_RUN_HISTORY_SVG);
    return cu_run_dir_write(tr->dir, CU_RUN_LOG, cu_text_fill, &tr->log, err);
}

enum cu_status clunet_train(const struct cu_train_opts *opts, int *interrupted, struct cu_err *err)
{
    struct trainer tr;
    memset(&tr, 0, sizeof tr);
    tr.o = opts;
    tr.out = opts->verbosity > 0 ? opts->out : NULL;
    *interrupted = 0;
    enum cu_status st = train_run(&tr, interrupted, err);
    trainer_free(&tr);
    return st;
}
