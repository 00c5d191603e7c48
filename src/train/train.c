/* train.c: clunet_train (train.h): the epoch loop (seeded shuffle,
 * mini-batches, training and validation loss and Dice), and what each
 * epoch leaves in the run folder.
 *
 * Order at the end of an epoch: best.safetensors (if the validation loss
 * improved), checkpoint.safetensors, history.csv, history.svg, train.log.
 * A kill between two of these writes loses nothing: a resume restarts from
 * the checkpoint and rewrites the same files. A NaN/Inf loss stops before
 * anything is written, so the last checkpoint stays the last good one.
 *
 * Ranks (train.h): every rank runs this same code; rank 0 alone touches
 * the run folder and prints. Wherever one rank may fail alone (its data,
 * its device, rank 0's files, a stop request) the ranks exchange their
 * status with cu_comm_agree before the next collective, so that all stop
 * together instead of waiting for one that gave up. A NaN loss needs no
 * exchange: the loss is summed across ranks, so all see the same value.
 * With one process and one device every collective is the identity and
 * the step is cu_unet_train_step itself.
 * Leaves out: set-up of a new or resumed run (train_setup.c), flags
 * (cmd_train.c), the files' formats (checkpoint.c,
 * history.c, model_file.c), reporting helpers (train_report.c). */
#include "train/train_impl.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "clunet/model_file.h"
#include "clunet/nuclei.h"
#include "clunet/predict.h"
#include "clunet/progress.h"
#include "clunet/train_fields.h"
#include "io/history.h"
#include "io/dir_lock.h"
#include "io/remove_tree.h"
#include "io/run_dir.h"
#include "train/prefetch.h"

/* Prints to the terminal (unless quiet) and to train.log. */
static void say(struct cu_trainer *tr, const char *fmt, ...) CU_PRINTF(2, 3);

static void say(struct cu_trainer *tr, const char *fmt, ...)
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

static void log_config(struct cu_trainer *tr, int resumed)
{
    const struct cu_train_config *c = &tr->cfg;
    if (resumed)
        say(tr, "resuming %s at epoch %d%s (step %ld), up to %d epochs", tr->dir, tr->st.epoch + 1,
            tr->st.batch ? " mid-epoch" : "", tr->st.step, c->epochs);
    char line[2048];
    cu_train_config_line(c, line, sizeof line);
    say(tr, "configuration: %s", line);
    int k = cu_replicas_count(tr->reps);
    char from[sizeof tr->st.device_spec + 32] = ""; /* a resume on the run's own choice says so */
    if (tr->devices_from_run)
        snprintf(from, sizeof from, "; from the run (%s)",
                 tr->st.device_spec[0] ? tr->st.device_spec : "its default device");
    for (int i = 0; i < k; i++) {
        struct cu_caps caps;
        struct cu_backend *be = cu_replicas_backend(tr->reps, i);
        char who[32] = "";
        cu_backend_caps(be, &caps);
        if (k > 1)
            snprintf(who, sizeof who, " %d of %d", i + 1, k);
        if (caps.global_mem)
            say(tr, "device%s: %s (%s backend, %.0f MiB)%s", who, caps.name, cu_backend_name(be),
                (double)caps.global_mem / 1048576.0, from);
        else
            say(tr, "device%s: %s (%s backend)%s", who, caps.name, cu_backend_name(be), from);
    }
    if (k > 1 || tr->size > 1)
        say(tr, "data parallel: %d process%s x %d device%s; each batch of %d is split into slices of up to %d images "
                "per device",
            tr->size, tr->size > 1 ? "es" : "", k, k > 1 ? "s" : "", c->batch, cu_replicas_cap(tr->reps));
    say(tr, "network: %lld parameters", cu_unet_param_total(tr->net));
    if (tr->o->init_path && !resumed)
        say(tr, "initial weights: %s (fine-tuning: its weights instead of He's, Adam state fresh)%s%s", tr->o->init_path,
            tr->st.inherited[0] ? "; its prediction defaults go into this run's models: " : "", tr->st.inherited);
}

/* This process's devices in words, as the checkpoint records them: rank
 * 0's replicas, with the process count under MPI (another count sums the
 * gradients in another order, so it changes the floats too). */
static void describe_devices(const struct cu_trainer *tr, char *buf, size_t size)
{
    size_t at = 0;
    buf[0] = '\0';
    if (tr->size > 1)
        at = (size_t)snprintf(buf, size, "%d processes x ", tr->size);
    for (int i = 0; i < cu_replicas_count(tr->reps) && at < size; i++) {
        struct cu_caps caps;
        struct cu_backend *be = cu_replicas_backend(tr->reps, i);
        cu_backend_caps(be, &caps);
        if (caps.kind == CU_BACKEND_REF)
            at += (size_t)snprintf(buf + at, size - at, "%sref", i ? ", " : "");
        else
            at += (size_t)snprintf(buf + at, size - at, "%s%s (%s)", i ? ", " : "", caps.name, cu_backend_name(be));
    }
    for (char *p = buf; *p; p++) /* JSON metadata wants UTF-8; a name cut short may end mid-character */
        if (*p < 0x20 || *p > 0x7e)
            *p = '?';
}

/* Records the devices in the state (the next checkpoint's), and says when
 * a resume runs on others than the run's: by --device/--devices or
 * CLUNET_DEVICE, or the run's own choice finding other devices (the
 * default on another machine, an older checkpoint without
 * state.device_spec). Other devices round float sums differently; the
 * result is then close to, but not bit-identical with, an uninterrupted
 * run (as with another number of devices or processes: sums in another
 * order). */
static void note_devices(struct cu_trainer *tr, int resumed)
{
    char now[sizeof tr->st.devices];
    describe_devices(tr, now, sizeof now);
    if (resumed && tr->st.devices[0] && strcmp(now, tr->st.devices))
        say(tr, "note: the run trained on %s, this resume runs on %s: the result may differ from an uninterrupted "
                "run by float rounding (the run's devices and number of processes continue it exactly%s)",
            tr->st.devices, now, tr->run_spec_known && !tr->devices_from_run
                       ? "; a resume without --device, --devices and CLUNET_DEVICE takes the run's own"
                       : "");
    memcpy(tr->st.devices, now, sizeof now);
}

static enum cu_status nan_stop(struct cu_trainer *tr, int epoch, const char *phase, int batch, double loss,
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
 * batch size); NaN when there is none. Each batch of --batch is split as
 * a training batch is: among the ranks, then among the replicas. */
static enum cu_status validate(struct cu_trainer *tr, int epoch, double *loss, double *dice, struct cu_err *err)
{
    *loss = *dice = NAN;
    int nv = tr->data.n_val_items, B = tr->cfg.batch;
    if (!nv)
        return CU_OK;
    double sums[2] = {0, 0};
    enum cu_status st = CU_OK;
    for (int b = 0, k = 0; !st && b < nv; b += B, k++) {
        int n = nv - b < B ? nv - b : B, off, len;
        double bs[2] = {0, 0};
        cu_split(n, tr->size, tr->rank, &off, &len);
        cu_train_data_gather_val(&tr->data, b + off, len, tr->hx, tr->hy);
        st = cu_replicas_eval(tr->reps, tr->hx, tr->hy, len, tr->cfg.loss, bs, err);
        if (st)
            st = cu_train_memory_hint(err);
        else if (!isfinite(bs[0]))
            st = nan_stop(tr, epoch, "validation", k + 1, bs[0], err);
        sums[0] += bs[0];
        sums[1] += bs[1];
    }
    st = cu_comm_agree(tr->comm, st, err);
    st = st ? st : cu_comm_sum_f64(tr->comm, sums, 2, err);
    if (st)
        return st;
    *loss = sums[0] / nv;
    *dice = sums[1] / nv;
    return CU_OK;
}

/* A stop request (Ctrl-C, --stop-after) of any rank stops all of them
 * after the same batch. */
static enum cu_status stop_agreed(struct cu_trainer *tr, int *stop, struct cu_err *err)
{
    double v = (tr->o->stop && *tr->o->stop) ||
               (tr->o->stop_after_batches && tr->batches >= tr->o->stop_after_batches);
    enum cu_status st = tr->size > 1 ? cu_comm_sum_f64(tr->comm, &v, 1, err) : CU_OK;
    *stop = v > 0;
    return st;
}

/* The writers below write on rank 0 only and return CU_OK elsewhere; the
 * caller agrees on the outcome (cu_comm_agree) before the next collective. */
static enum cu_status save_checkpoint(struct cu_trainer *tr, struct cu_err *err)
{
    double t0 = cu_now();
    enum cu_status st =
        tr->rank ? CU_OK : cu_checkpoint_save(cu_train_path(tr, CU_RUN_CHECKPOINT), tr->net, &tr->cfg, &tr->st, err);
    tr->t_save += cu_now() - t0;
    if (!st)
        cu_train_note_checkpoint(tr);
    return st;
}

/* The prediction defaults a fine-tuning run inherited ("k=v k=v", state.h)
 * as facts pointing into buf (a copy of text); returns how many. */
enum { CU_MAX_INHERITED = CU_MODEL_DEFAULT_KEYS };
static int inherited_facts(const char *text, char *buf, struct cu_meta_kv *out)
{
    int n = 0;
    strcpy(buf, text);
    for (char *p = buf; *p && n < CU_MAX_INHERITED;) {
        char *end = p + strcspn(p, " "), *eq = memchr(p, '=', (size_t)(end - p));
        char next = *end;
        *end = '\0';
        if (eq) {
            *eq = '\0';
            out[n++] = (struct cu_meta_kv){p, eq + 1};
        }
        p = next ? end + 1 : end;
    }
    return n;
}

/* The model files' facts: what a reader of model.safetensors wants to know
 * about how it was made. */
static enum cu_status save_model(struct cu_trainer *tr, const char *name, int epoch, double val_loss, double val_dice,
                                 struct cu_err *err)
{
    if (tr->rank)
        return CU_OK;
    char ep[32], vl[64], vd[64], lr[64], seed[32], scale[40], prep[40];
    snprintf(ep, sizeof ep, "%d", epoch);
    snprintf(vl, sizeof vl, tr->data.n_val ? "%.9g" : "none (no validation)", val_loss);
    snprintf(vd, sizeof vd, tr->data.n_val ? "%.9g" : "none (no validation)", val_dice);
    snprintf(lr, sizeof lr, "%.17g", tr->cfg.lr);
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)tr->cfg.seed);
    char ch[32], norm[64];
    struct cu_input_opts in;
    cu_train_input(&tr->cfg, &in);
    snprintf(ch, sizeof ch, "%d", in.channel);
    cu_norm_name(&in, norm, sizeof norm);
    snprintf(scale, sizeof scale, "%.17g", tr->cfg.scale);
    cu_prep_name(cu_train_prep(&tr->cfg), prep, sizeof prep);
    /* input_channel and normalize: how training made the network's input,
     * which predict and eval repeat unless told otherwise; train_mode,
     * scale and prep: how predict feeds a crop-trained model (predict.h) */
    const struct cu_meta_kv run_facts[] = {
        {"epochs", ep}, {"val_loss", vl}, {"val_dice", vd}, {"loss", cu_loss_name(tr->cfg.loss)},
        {"lr", lr},     {"seed", seed},   {"data", tr->cfg.data_dir}, {"input_channel", ch},
        {"normalize", norm}, {"train_mode", tr->cfg.crop ? "crop" : "resize"}, {"scale", scale}, {"prep", prep},
    };
    enum { N_RUN = sizeof run_facts / sizeof run_facts[0] };
    struct cu_meta_kv facts[N_RUN + 1 + CU_MAX_INHERITED];
    memcpy(facts, run_facts, sizeof run_facts);
    int n_facts = N_RUN;
    if (tr->o->init_path) /* "init" only when fine-tuned */
        facts[n_facts++] = (struct cu_meta_kv){"init", tr->o->init_path};
    char inherited[sizeof tr->st.inherited];
    n_facts += inherited_facts(tr->st.inherited, inherited, facts + n_facts);
    double t0 = cu_now();
    enum cu_status st = cu_model_save(cu_train_path(tr, name), tr->net, 0, facts, n_facts, err);
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

static enum cu_status write_log(struct cu_trainer *tr, struct cu_err *err)
{
    return tr->rank ? CU_OK : cu_run_dir_write(tr->dir, CU_RUN_LOG, cu_text_fill, &tr->log, err);
}

static enum cu_status write_reports(struct cu_trainer *tr, struct cu_err *err)
{
    if (tr->rank)
        return CU_OK;
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

/* After the training batches of an epoch: validation, history, files.
 * The replicas first take rank 0's first replica's weights (a no-op
 * unless devices of different kinds round Adam differently). */
static enum cu_status end_epoch(struct cu_trainer *tr, int epoch, double seconds_so_far, double t_start,
                                struct cu_err *err)
{
    double t0 = cu_now(), vl, vd;
    enum cu_status st = cu_replicas_share(tr->reps, err);
    st = st ? st : validate(tr, epoch, &vl, &vd, err);
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
    int improved = crit < s->best_loss;
    if (improved) {
        s->best_loss = crit;
        s->best_epoch = epoch;
        st = save_model(tr, CU_RUN_BEST, epoch, vl, vd, err);
    }
    char lr_note[96] = "";
    if (tr->cfg.lr_schedule != CU_LR_CONSTANT)
        snprintf(lr_note, sizeof lr_note, "  lr %.3g", tr->epoch_lr);
    if (tr->cfg.lr_schedule == CU_LR_PLATEAU && (improved || ++s->plateau_wait < CU_PLATEAU_WAIT))
        s->plateau_wait = improved ? 0 : s->plateau_wait;
    else if (tr->cfg.lr_schedule == CU_LR_PLATEAU) { /* CU_PLATEAU_WAIT epochs without improvement */
        s->plateau_wait = 0;
        if (s->lr_scale > 1e-3) {
            s->lr_scale = fmax(s->lr_scale * 0.5, 1e-3);
            size_t at = strlen(lr_note);
            snprintf(lr_note + at, sizeof lr_note - at, " (plateau: %.3g from the next epoch)", tr->cfg.lr * s->lr_scale);
        }
    }
    st = st ? st : save_checkpoint(tr, err);
    if (st)
        return cu_comm_agree(tr->comm, st, err);
    if (tr->out && tr->o->tty)
        cu_report_clear(tr->out);
    char line[512], val[64];
    if (tr->data.n_val)
        snprintf(val, sizeof val, "val loss %.4f dice %.4f", vl, vd);
    else
        snprintf(val, sizeof val, "no validation");
    int n = snprintf(line, sizeof line, "epoch %d/%d  train loss %.4f dice %.4f  %s  %.1f s  %.1f img/s%s%s", epoch,
                     tr->cfg.epochs, row.train_loss, row.train_dice, val, row.seconds, row.images_per_second,
                     s->best_epoch == epoch ? "  (best)" : "", lr_note);
    if (tr->o->verbosity >= 2 && n > 0 && (size_t)n < sizeof line)
        snprintf(line + n, sizeof line - (size_t)n, "  [data %.2f s, steps %.2f s, validation %.2f s, saving %.2f s]",
                 tr->t_data, tr->t_step, tr->t_val, tr->t_save);
    say(tr, "%s", line);
    st = write_reports(tr, err);
    st = st ? st : cu_train_html_update(tr, err);
    return cu_comm_agree(tr->comm, st, err);
}

/* The size of batch b of an epoch of nt items in batches of B. */
static int batch_size(int nt, int B, int b) { return nt - b * B < B ? nt - b * B : B; }

/* The batch just drawn becomes the one to train. */
static void swap_batches(struct cu_trainer *tr)
{
    float *x = tr->hx, *y = tr->hy;
    tr->hx = tr->next_x, tr->hy = tr->next_y;
    tr->next_x = x, tr->next_y = y;
}

/* One epoch (1-based), from batch first_batch (a resumed, interrupted
 * epoch) on. Sets *stopped when a stop was requested and the checkpoint is
 * written. */
static enum cu_status run_epoch(struct cu_trainer *tr, int epoch, int *stopped, struct cu_err *err)
{
    struct cu_train_state *s = &tr->st;
    int nt = tr->data.n_items, B = tr->cfg.batch, nb = (nt + B - 1) / B;
    uint64_t rng = cu_train_rng_for_epoch(tr->cfg.seed, epoch);
    memcpy(tr->perm, tr->data.items, (size_t)nt * sizeof(int));
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
    if (tr->cfg.lr_schedule == CU_LR_PLATEAU)
        hp.lr = (float)(tr->cfg.lr * s->lr_scale);
    const long total_steps = (long)tr->cfg.epochs * nb;
    tr->epoch_lr = hp.lr;
    double t_start = cu_now();
    struct cu_progress bar;
    char label[64];
    snprintf(label, sizeof label, "epoch %d/%d", epoch, tr->cfg.epochs);
    cu_progress_start(&bar, tr->out && tr->o->tty ? tr->out : NULL, label, nb);
    cu_progress_update(&bar, first, NULL);
    const size_t img = (size_t)3 * tr->cfg.image_size * tr->cfg.image_size;
    const size_t msk = (size_t)tr->data.K * tr->cfg.image_size * tr->cfg.image_size;
    /* every rank draws each whole batch (the same stream), then takes its
     * slice; batch b + 1 is drawn by a loader thread during step b */
    struct cu_prefetch pf = {0};
    if (first < nb)
        cu_prefetch_start(&pf, &tr->data, tr->perm + first * B, batch_size(nt, B, first), rng, tr->next_x,
                          tr->next_y);
    for (int b = first; b < nb; b++) {
        int n = batch_size(nt, B, b), off, len;
        double t0 = cu_now();
        rng = cu_prefetch_wait(&pf); /* the stream after batch b */
        swap_batches(tr);
        if (b + 1 < nb)
            cu_prefetch_start(&pf, &tr->data, tr->perm + (b + 1) * B, batch_size(nt, B, b + 1), rng, tr->next_x,
                              tr->next_y);
        cu_split(n, tr->size, tr->rank, &off, &len);
        double t1 = cu_now();
        double out[2];
        if (tr->cfg.lr_schedule == CU_LR_COSINE) /* the lr of this step, 0-based, over the whole run */
            hp.lr = (float)(tr->cfg.lr * 0.5 * (1 + cos(acos(-1.0) * (double)s->step / (double)total_steps)));
        if (b == first)
            tr->epoch_lr = hp.lr;
        enum cu_status st = cu_replicas_train_step(tr->reps, tr->hx + off * img, tr->hy + off * msk, len, n,
                                                   tr->cfg.loss, &hp, s->step + 1, out, err);
        if (st) {
            cu_prefetch_wait(&pf);
            return cu_train_memory_hint(err);
        }
        double t2 = cu_now();
        tr->t_data += t1 - t0;
        tr->t_step += t2 - t1;
        if (!isfinite(out[0])) {
            cu_prefetch_wait(&pf); /* no loader thread outlives the loop */
            return nan_stop(tr, epoch, "training", b + 1, out[0], err);
        }
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
        int stop = 0;
        st = stop_agreed(tr, &stop, err);
        if (st || stop)
            cu_prefetch_wait(&pf);
        if (st)
            return st;
        if (stop && b + 1 < nb) {
            s->batch = b + 1;
            s->rng = rng;
            st = save_checkpoint(tr, err);
            if (!st) {
                if (tr->out && tr->o->tty)
                    cu_report_clear(tr->out);
                say(tr, "interrupted at epoch %d, batch %d/%d; checkpoint written: resume with clunet train --resume %s",
                    epoch, b + 1, nb, tr->dir);
                *stopped = 1;
                st = write_log(tr, err);
            }
            return cu_comm_agree(tr->comm, st, err);
        }
    }
    s->rng = rng;
    int stop = 0;
    enum cu_status st = end_epoch(tr, epoch, seconds_before, t_start, err);
    st = st ? st : stop_agreed(tr, &stop, err);
    if (!st && stop && epoch < tr->cfg.epochs) {
        say(tr, "interrupted after epoch %d; resume with clunet train --resume %s", epoch, tr->dir);
        *stopped = 1;
        st = cu_comm_agree(tr->comm, write_log(tr, err), err);
    }
    return st;
}

/* The ids hash of checkpoint.h: FNV-1a 64 over the training ids, then the
 * validation ids, each ended by a NUL, the two lists apart by a 0xff. */
static void ids_hash(const struct cu_train_data *d, char out[17])
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (int k = 0; k < d->n_train + d->n_val; k++) {
        if (k == d->n_train)
            h = (h ^ 0xffu) * 0x100000001b3ULL;
        int i = k < d->n_train ? d->train_idx[k] : d->val_idx[k - d->n_train];
        for (const unsigned char *c = (const unsigned char *)d->ds->samples[i].id;; c++) {
            h = (h ^ *c) * 0x100000001b3ULL;
            if (!*c)
                break;
        }
    }
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

/* A resume must train on the run's own images (a moved folder is fine):
 * other ids are refused without --force, and noted in train.log with it. */
static enum cu_status check_ids(struct cu_trainer *tr, struct cu_err *err)
{
    char now[17];
    ids_hash(&tr->data, now);
    int differ = tr->o->resume_dir && tr->st.ids_hash[0] && strcmp(now, tr->st.ids_hash);
    if (differ && !tr->o->force)
        return cu_fail(err, CU_EUSAGE,
                       "%s: %s holds other images than the run was trained on (%d for training, %d for validation; "
                       "ids hash %s, the run's %s); give --force to resume on them anyway",
                       tr->dir, tr->cfg.data_dir, tr->data.n_train, tr->data.n_val, now, tr->st.ids_hash);
    if (differ)
        say(tr, "note: --force: resuming on other images than the run was trained on (ids hash %s, the run's %s)", now,
            tr->st.ids_hash);
    memcpy(tr->st.ids_hash, now, sizeof now);
    return CU_OK;
}

/* Every rank loads the whole dataset (a batch may draw any image): the
 * ranks must see the same images, which the counts check. */
static enum cu_status same_data(struct cu_trainer *tr, struct cu_err *err)
{
    if (tr->size == 1)
        return CU_OK;
    int mine[3] = {tr->data.n, tr->data.n_train, tr->data.n_val}, root[3];
    memcpy(root, mine, sizeof root);
    enum cu_status st = cu_comm_bcast(tr->comm, root, sizeof root, err);
    if (st)
        return st;
    if (memcmp(root, mine, sizeof root))
        st = cu_fail(err, CU_EINPUT,
                     "%s: rank %d reads %d images (%d for training), rank 0 %d (%d); every rank needs the same data",
                     tr->cfg.data_dir, tr->rank, mine[0], mine[1], root[0], root[1]);
    return cu_comm_agree(tr->comm, st, err);
}

static enum cu_status load_data(struct cu_trainer *tr, struct cu_err *err)
{
    double t0 = cu_now();
    enum cu_status st =
        cu_train_data_load(&tr->cfg, tr->comm, tr->out && tr->o->tty ? tr->out : NULL, &tr->data, err);
    if (!st && tr->data.n_train < 1)
        st = cu_fail(err, CU_EINPUT,
                     "%s: no training images left after the validation split of %g (%d image%s); give --val-split 0 "
                     "to train on all of them without validation",
                     tr->cfg.data_dir, tr->cfg.val_split, tr->data.n, tr->data.n == 1 ? "" : "s");
    if (!st && !(tr->perm = malloc((size_t)(tr->data.n_items > 0 ? tr->data.n_items : 1) * sizeof(int))))
        st = cu_fail(err, CU_EDEVICE, "out of host memory");
    st = cu_comm_agree(tr->comm, st, err);
    st = st ? st : same_data(tr, err);
    if (st)
        return st;
    char val[96];
    if (tr->data.n_val)
        snprintf(val, sizeof val, "%d for validation", tr->data.n_val);
    else
        snprintf(val, sizeof val, "no validation (--val-split %g; best.safetensors follows the training loss)",
                 tr->cfg.val_split);
    say(tr, "data: %s (%s): %d image%s, %d for training, %s, loaded in %.1f s", tr->cfg.data_dir,
        tr->data.layout, tr->data.n, tr->data.n == 1 ? "" : "s", tr->data.n_train, val, cu_now() - t0);
    if (tr->cfg.crop)
        say(tr, "data: %d random %dx%d crops per epoch (images repeated by area), validation in %d tiles",
            tr->data.n_items, tr->cfg.image_size, tr->cfg.image_size, tr->data.n_val_items);
    for (int i = 0; i < tr->data.ds->n_bad; i++) /* --skip-bad: never silently */
        say(tr, "data: skipped (--skip-bad): %s", tr->data.ds->bad[i]);
    return check_ids(tr, err);
}

static void trainer_free(struct cu_trainer *tr)
{
    cu_dir_unlock(tr->dir, tr->lock_fd);
    free(tr->hx);
    free(tr->hy);
    free(tr->next_x);
    free(tr->next_y);
    free(tr->perm);
    cu_replicas_free(tr->reps);
    cu_train_data_free(&tr->data);
    cu_history_free(&tr->st.history);
    cu_text_free(&tr->log);
}

/* --patience: the net takes best.safetensors's weights again (rank 0 reads
 * them, every replica takes them). */
static enum cu_status restore_best(struct cu_trainer *tr, struct cu_err *err)
{
    struct cu_st_file *f = NULL;
    enum cu_status st = CU_OK;
    if (tr->rank == 0 && !(st = cu_st_file_read(cu_train_path(tr, CU_RUN_BEST), &f, err)))
        st = cu_model_load_into(tr->net, f, 0, err);
    cu_st_file_free(f);
    st = cu_comm_agree(tr->comm, st, err);
    st = st ? st : cu_replicas_share(tr->reps, err);
    if (!st)
        say(tr, "restored the weights of the best epoch (%d) for %s (--patience)", tr->st.best_epoch, CU_RUN_MODEL);
    return st;
}

static enum cu_status train_run(struct cu_trainer *tr, int *interrupted, struct cu_err *err)
{
    const struct cu_train_opts *o = tr->o;
    int resumed = o->resume_dir != NULL;
    enum cu_status st = resumed ? cu_train_setup_resume(tr, err) : cu_train_setup_new(tr, err);
    if (st)
        return st;
    if (resumed && tr->rank == 0) /* a killed run may have left half-written temp files */
        cu_run_dir_clean_tmp(tr->dir);
    if (!resumed)
        say(tr, "clunet train: run folder %s", tr->dir);
    log_config(tr, resumed);
    note_devices(tr, resumed);
    st = load_data(tr, err);
    if (!st && !resumed && tr->rank == 0)
        st = cu_run_dir_create(tr->dir, o->force, &tr->made_dir, &tr->lock_fd, err);
    /* train.log at once, so that a run killed in its first epoch still says what it was */
    st = cu_comm_agree(tr->comm, st ? st : write_log(tr, err), err);
    for (int e = tr->st.epoch + 1; !st && e <= tr->cfg.epochs; e++) {
        int stopped = 0;
        st = run_epoch(tr, e, &stopped, err);
        if (!st && stopped) {
            *interrupted = 1;
            return CU_OK;
        }
        if (!st && tr->cfg.patience && e - tr->st.best_epoch >= tr->cfg.patience && e < tr->cfg.epochs) {
            say(tr, "early stop after epoch %d: no lower %s loss for %d epochs (--patience %d); best epoch %d", e,
                tr->data.n_val ? "validation" : "training", e - tr->st.best_epoch, tr->cfg.patience,
                tr->st.best_epoch);
            tr->cfg.epochs = e; /* the run is complete: a resume needs -e to go on */
            st = cu_comm_agree(tr->comm, save_checkpoint(tr, err), err);
            break;
        }
    }
    if (!st && tr->cfg.patience)
        st = restore_best(tr, err);
    if (st)
        return st;
    const struct cu_history_row *last = &tr->st.history.rows[tr->st.history.n - 1];
    if (tr->cfg.patience) /* model.safetensors holds the best epoch's weights */
        last = &tr->st.history.rows[tr->st.best_epoch - 1];
    st = save_model(tr, CU_RUN_MODEL, tr->st.epoch, last->val_loss, last->val_dice, err);
    if (!st) {
        say(tr, "done: %d epochs; model %s/%s, best (epoch %d) %s/%s; curves %s/%s", tr->st.epoch, tr->dir,
            CU_RUN_MODEL, tr->st.best_epoch, tr->dir, CU_RUN_BEST, tr->dir, CU_RUN_HISTORY_SVG);
        st = write_log(tr, err);
    }
    return cu_comm_agree(tr->comm, st, err);
}

enum cu_status clunet_train(const struct cu_train_opts *opts, int *interrupted, struct cu_err *err)
{
    struct cu_trainer tr;
    memset(&tr, 0, sizeof tr);
    tr.o = opts;
    tr.comm = opts->comm;
    tr.rank = cu_comm_rank(opts->comm);
    tr.size = cu_comm_size(opts->comm);
    tr.out = opts->verbosity > 0 && tr.rank == 0 ? opts->out : NULL; /* other ranks stay silent */
    *interrupted = 0;
    tr.lock_fd = -1;
    enum cu_status st = train_run(&tr, interrupted, err);
    if (st && tr.made_dir && !tr.have_checkpoint) /* nothing to resume: no folder to block a re-run */
        cu_remove_tree(tr.dir);
    trainer_free(&tr);
    return st;
}
