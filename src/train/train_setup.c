/* train_setup.c: the set-up of a training run (train_impl.h): the devices
 * and replicas with a memory check per device, a new run's checks and He
 * init, a resumed run's checkpoint handed from rank 0 to every rank.
 * Every function is called by every rank in the same order; where one rank
 * may fail alone, cu_comm_agree makes all return the same status.
 * Leaves out: the epoch loop and the run folder's files (train.c). */
#include "train/train_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clunet/model_file.h"
#include "clunet/predict.h"
#include "clunet/safetensors.h"
#include "clunet/train_fields.h"
#include "io/dir_lock.h"
#include "io/run_dir.h"
#include "train/mem_check.h"

const char *cu_train_path(struct cu_trainer *tr, const char *name)
{
    snprintf(tr->path, sizeof tr->path, "%s/%s", tr->dir, name);
    return tr->path;
}

/* What the checkpoint on disk holds, for the NaN message. */
void cu_train_note_checkpoint(struct cu_trainer *tr)
{
    tr->have_checkpoint = 1;
    tr->ckpt_epoch = tr->st.batch ? tr->st.epoch + 1 : tr->st.epoch;
    tr->ckpt_mid_epoch = tr->st.batch > 0;
}

/* Out of memory on any device reads as CU_EDEVICE with the driver's or the
 * allocator's words; add what the user can do about it. */
enum cu_status cu_train_memory_hint(struct cu_err *err)
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

/* For `copies` replicas of batch images each on a device with caps (a
 * device listed several times in --devices holds several). */
static enum cu_status check_memory(struct cu_trainer *tr, const struct cu_caps *caps, int batch, int copies,
                                   struct cu_err *err)
{
    struct cu_unet_config u = {tr->cfg.image_size, tr->cfg.channel_rate, (enum cu_upsample)tr->cfg.upsample, 3,
                               cu_train_outputs(&tr->cfg)};
    double largest, need = copies * cu_train_mem_estimate(&u, batch, &largest);
    double have = (double)caps->global_mem;
    if (!have) {
        long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
        have = pages > 0 && page > 0 ? (double)pages * (double)page : 0;
    }
    const double gib = 1024.0 * 1024.0 * 1024.0;
    if (have > 0 && need > have)
        return cu_fail(err, CU_EDEVICE,
                       "%s: out of device memory: -s %d with %d images per replica (%d on this device) needs about "
                       "%.1f GiB, the device has %.1f GiB; try a smaller --batch or -s",
                       caps->name, tr->cfg.image_size, batch, copies, need / gib, have / gib);
    if (caps->max_alloc && largest > (double)caps->max_alloc)
        return cu_fail(err, CU_EDEVICE,
                       "%s: out of device memory: one buffer of %.2f GiB exceeds the device's largest allocation "
                       "(%.2f GiB); try a smaller --batch or -s",
                       caps->name, largest / gib, (double)caps->max_alloc / gib);
    return CU_OK;
}

/* Records how the devices were chosen, for the next checkpoint: "--device
 * SPEC", "--devices LIST" or "" (the default). A spec that does not fit or
 * is not printable ASCII (JSON metadata wants UTF-8) stays unrecorded: a
 * resume then chooses anew, as for an older checkpoint. */
static void record_spec(struct cu_train_state *s, const char *flag, const char *spec)
{
    int n = spec ? snprintf(s->device_spec, sizeof s->device_spec, "%s %s", flag, spec)
                 : snprintf(s->device_spec, sizeof s->device_spec, "%s", "");
    s->has_device_spec = n >= 0 && (size_t)n < sizeof s->device_spec;
    for (const char *p = s->device_spec; s->has_device_spec && *p; p++)
        s->has_device_spec = *p >= 0x20 && *p <= 0x7e;
    if (!s->has_device_spec)
        s->device_spec[0] = '\0';
}

/* Which devices to open: the user's (--devices, else --device, else
 * CLUNET_DEVICE), else on a resume the run's own (state.device_spec, which
 * every rank has from rank 0), else the default (*one and *list NULL).
 * *one and *list point into buf or the options. */
static void choose_devices(struct cu_trainer *tr, char *buf, size_t size, const char **one, const char **list)
{
    const char *env = getenv("CLUNET_DEVICE");
    *list = tr->o->devices;
    *one = *list ? NULL : tr->o->device ? tr->o->device : env && *env ? env : NULL;
    tr->run_spec_known = tr->o->resume_dir && tr->st.has_device_spec;
    if (!*one && !*list && tr->run_spec_known) {
        tr->devices_from_run = 1;
        snprintf(buf, size, "%s", tr->st.device_spec); /* checked when read: "", --device X, --devices X */
        if (!strncmp(buf, "--devices ", 10))
            *list = buf + 10;
        else if (!strncmp(buf, "--device ", 9))
            *one = buf + 9;
    }
    if (*list)
        record_spec(&tr->st, "--devices", *list);
    else
        record_spec(&tr->st, "--device", *one);
}

/* The devices (choose_devices) and a network on each for this rank's share
 * of a global batch, and host buffers for a global batch. */
static enum cu_status build(struct cu_trainer *tr, struct cu_err *err)
{
    char saved[sizeof tr->st.device_spec];
    const char *spec = NULL, *list = NULL;
    choose_devices(tr, saved, sizeof saved, &spec, &list);
    char **specs = NULL, *one[1] = {(char *)spec};
    int k = 1;
    enum cu_status st = list ? cu_device_list_parse(list, &specs, &k, err) : CU_OK;
    st = st ? st : cu_replicas_open(specs ? specs : one, k, tr->comm, &tr->reps, err);
    cu_device_list_free(specs, k);
    if (st && tr->devices_from_run) { /* the run's devices may be gone: say whose they were */
        size_t len = strlen(err->msg);
        snprintf(err->msg + len, sizeof err->msg - len,
                 " (the run's %s; give --device or --devices to resume on others)",
                 saved[0] ? saved : "default device");
    }
    if (st)
        return st;
    int B = tr->cfg.batch, S = tr->cfg.image_size;
    int share = (B + tr->size - 1) / tr->size, per = (share + k - 1) / k;
    for (int i = 0; i < k; i++) {
        struct cu_caps caps, other;
        int copies = 0;
        cu_backend_caps(cu_replicas_backend(tr->reps, i), &caps);
        for (int j = 0; j < k; j++) { /* the same device by name: a rough but safe guess */
            cu_backend_caps(cu_replicas_backend(tr->reps, j), &other);
            copies += other.kind == caps.kind && !strcmp(other.name, caps.name);
        }
        if (i == 0)
            tr->caps = caps;
        st = check_memory(tr, &caps, per, copies, err);
        if (st)
            return st;
    }
    /* Under an address-space limit an OpenCL driver's buffers must fit too
     * (ref's are plain mallocs, which fail cleanly). */
    double need = 0, largest;
    struct cu_unet_config uc = {S, tr->cfg.channel_rate, (enum cu_upsample)tr->cfg.upsample, 3,
                                cu_train_outputs(&tr->cfg)};
    for (int i = 0; i < k; i++)
        if (cu_backend_kind(cu_replicas_backend(tr->reps, i)) == CU_BACKEND_CL)
            need += cu_train_mem_estimate(&uc, per, &largest);
    char what[96];
    snprintf(what, sizeof what, "training at -s %d with --batch %d", S, B);
    if (need > 0 && (st = cu_as_limit_check(need, what, err)))
        return st;
    tr->be = cu_replicas_backend(tr->reps, 0);
    struct cu_unet_config u = {S, tr->cfg.channel_rate, (enum cu_upsample)tr->cfg.upsample, 3,
                               cu_train_outputs(&tr->cfg)};
    st = cu_replicas_build(tr->reps, &u, share, err);
    if (st)
        return cu_train_memory_hint(err);
    float w[4];
    cu_train_channel_weights(&tr->cfg, w); /* checked with the configuration */
    for (int i = 0; i < cu_replicas_count(tr->reps); i++)
        cu_unet_set_loss_weights(cu_replicas_net(tr->reps, i), w);
    tr->net = cu_replicas_net(tr->reps, 0);
    tr->hx = malloc((size_t)B * 3 * S * S * sizeof(float));
    tr->hy = malloc((size_t)B * cu_train_outputs(&tr->cfg) * S * S * sizeof(float));
    tr->next_x = malloc((size_t)B * 3 * S * S * sizeof(float));
    tr->next_y = malloc((size_t)B * cu_train_outputs(&tr->cfg) * S * S * sizeof(float));
    if (!tr->hx || !tr->hy || !tr->next_x || !tr->next_y)
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

/* The run folder of a new run may be made (rank 0 looks). */
static enum cu_status check_out_dir(const struct cu_train_opts *o, struct cu_err *err)
{
    if (!o->out_dir || !*o->out_dir)
        return cu_fail(err, CU_EUSAGE, "no run folder: give --out DIR (or --resume DIR)");
    struct stat sb;
    if (stat(o->out_dir, &sb) == 0 && !S_ISDIR(sb.st_mode))
        return cu_fail(err, CU_EUSAGE, "%s: exists and is not a folder; give --out a new folder", o->out_dir);
    char ck[4200];
    snprintf(ck, sizeof ck, "%s/%s", o->out_dir, CU_RUN_CHECKPOINT);
    if (!o->force && stat(o->out_dir, &sb) == 0 && stat(ck, &sb) == 0)
        return cu_fail(err, CU_EUSAGE,
                       "%s: run folder already exists; use --force to overwrite it or --resume %s to continue",
                       o->out_dir, o->out_dir);
    if (!o->force && stat(o->out_dir, &sb) == 0)
        return cu_fail(err, CU_EUSAGE,
                       "%s: already exists and holds no run to resume; give --out a new folder, or --force to write "
                       "the run's files into it (its other files are kept)",
                       o->out_dir);
    return CU_OK;
}

/* Every rank must take at least one image of a full batch. */
static enum cu_status check_ranks(const struct cu_trainer *tr, struct cu_err *err)
{
    if (tr->cfg.batch < tr->size)
        return cu_fail(err, CU_EUSAGE, "--batch %d is smaller than the %d processes; give --batch >= %d (it is the "
                                       "global batch, shared among the processes)",
                       tr->cfg.batch, tr->size, tr->size);
    return CU_OK;
}

/* The --init file's prediction defaults (cu_model_default_keys: the
 * threshold, min size, tta and seeds chosen for those weights), as
 * "key=value ..." for the run's model files: a fine-tuned model predicts
 * the way the model it came from does unless told otherwise. Values that
 * are not one short token are left out (predict checks the rest). */
static void inherit_defaults(const struct cu_st_file *f, char *out, size_t size)
{
    size_t n = 0;
    out[0] = '\0';
    for (int i = 0; i < CU_MODEL_DEFAULT_KEYS; i++) {
        const char *key = cu_model_default_keys[i], *v = cu_st_file_meta(f, key);
        if (!v || !*v || strlen(v) > 32 || strcspn(v, " =") != strlen(v))
            continue;
        int k = snprintf(out + n, size - n, "%s%s=%s", n ? " " : "", key, v);
        if (k < 0 || (size_t)k >= size - n) {
            out[n] = '\0';
            break;
        }
        n += (size_t)k;
    }
}

enum cu_status cu_train_setup_new(struct cu_trainer *tr, struct cu_err *err)
{
    const struct cu_train_opts *o = tr->o;
    tr->cfg = o->cfg;
    if (tr->cfg.crop) /* crop training: the network works on N x N crops */
        tr->cfg.image_size = tr->cfg.crop;
    enum cu_status st = cu_train_config_check(&tr->cfg, err);
    st = st ? st : check_ranks(tr, err);
    st = st || tr->rank ? st : check_out_dir(o, err);
    st = cu_comm_agree(tr->comm, st, err);
    if (st)
        return st;
    absolute(tr->cfg.data_dir, sizeof tr->cfg.data_dir);
    tr->dir = o->out_dir;
    tr->st.best_loss = INFINITY;
    tr->st.lr_scale = 1;
    st = build(tr, err);
    st = st ? st : cu_replicas_init_he(tr->reps, tr->cfg.seed, err);
    if (o->init_path) { /* fine-tuning: rank 0 reads the weights, every replica takes them */
        struct cu_st_file *f = NULL;
        if (!st && tr->rank == 0 && !(st = cu_st_file_read(o->init_path, &f, err)))
            st = cu_model_load_into(tr->net, f, 0, err);
        if (!st && f)
            inherit_defaults(f, tr->st.inherited, sizeof tr->st.inherited);
        cu_st_file_free(f);
        st = cu_comm_agree(tr->comm, st, err);
        st = st ? st : cu_replicas_share(tr->reps, err);
    }
    return cu_comm_agree(tr->comm, st, err);
}

/* Rank 0 reads the checkpoint's configuration and state. */
static enum cu_status read_checkpoint(struct cu_trainer *tr, struct cu_st_file **file, struct cu_err *err)
{
    const struct cu_train_opts *o = tr->o;
    enum cu_status st = cu_checkpoint_load(cu_train_path(tr, CU_RUN_CHECKPOINT), &tr->cfg, &tr->st, file, err);
    if (st)
        return st;
    for (int i = 0; i < cu_train_nfields; i++)
        if (cu_train_fields[i].on_resume && (o->given >> i & 1))
            cu_train_field_copy(&cu_train_fields[i], &tr->cfg, &o->cfg);
    absolute(tr->cfg.data_dir, sizeof tr->cfg.data_dir); /* moved data (--data) given relative */
    st = cu_train_config_check(&tr->cfg, err);
    if (!st && tr->st.epoch >= tr->cfg.epochs && tr->st.batch == 0)
        st = cu_fail(err, CU_EUSAGE, "%s: the run has trained %d epoch%s (-e %d asks for no more); give -e N with N > %d "
                     "to train further",
                     tr->dir, tr->st.epoch, tr->st.epoch == 1 ? "" : "s", tr->cfg.epochs, tr->st.epoch);
    return st;
}

/* Rank 0's configuration and state (history included) to every rank. */
static enum cu_status share_state(struct cu_trainer *tr, struct cu_err *err)
{
    if (tr->size == 1)
        return CU_OK;
    struct cu_history h = tr->st.history;
    memset(&tr->st.history, 0, sizeof tr->st.history);
    enum cu_status st = cu_comm_bcast(tr->comm, &tr->cfg, sizeof tr->cfg, err);
    st = st ? st : cu_comm_bcast(tr->comm, &tr->st, sizeof tr->st, err);
    int n = h.n;
    st = st ? st : cu_comm_bcast(tr->comm, &n, sizeof n, err);
    if (tr->rank == 0)
        tr->st.history = h;
    if (st || n == 0)
        return st;
    if (tr->rank) {
        tr->st.history.rows = calloc((size_t)n, sizeof *h.rows);
        tr->st.history.n = tr->st.history.cap = tr->st.history.rows ? n : 0;
        st = tr->st.history.rows ? CU_OK : cu_fail(err, CU_EDEVICE, "out of host memory");
    }
    st = cu_comm_agree(tr->comm, st, err);
    return st ? st : cu_comm_bcast(tr->comm, tr->st.history.rows, (size_t)n * sizeof *h.rows, err);
}

/* Resume: rank 0 reads the checkpoint and hands its configuration, state,
 * weights and moments to every rank and replica; the checkpoint holds only
 * global state, so any number of ranks and devices may continue it. */
/* Rank 0: the folder is a run with a checkpoint (else one line saying what
 * it is instead), locked for this process. */
static enum cu_status open_run(struct cu_trainer *tr, struct cu_err *err)
{
    struct stat sb;
    const char *dir = tr->dir;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return cu_fail(err, CU_EINPUT,
                       "%s: %s, so no checkpoint.safetensors to resume; --resume takes the run folder of an earlier "
                       "clunet train --out",
                       dir, stat(dir, &sb) != 0 ? "no such folder" : "not a folder");
    CU_TRY(cu_dir_lock(dir, &tr->lock_fd, err));
    if (stat(cu_train_path(tr, CU_RUN_CHECKPOINT), &sb) == 0)
        return CU_OK;
    if (stat(cu_train_path(tr, CU_RUN_LOG), &sb) == 0)
        return cu_fail(err, CU_EINPUT,
                       "%s: the run stopped before its first checkpoint (no checkpoint.safetensors), so there is "
                       "nothing to resume; start it again with --out %s --force (train.log has its configuration)",
                       dir, dir);
    return cu_fail(err, CU_EINPUT,
                   "%s: not a run folder (no checkpoint.safetensors); --resume takes the run folder of an earlier "
                   "clunet train --out",
                   dir);
}

enum cu_status cu_train_setup_resume(struct cu_trainer *tr, struct cu_err *err)
{
    tr->dir = tr->o->resume_dir;
    struct cu_st_file *file = NULL;
    enum cu_status st = tr->rank ? CU_OK : open_run(tr, err);
    st = st || tr->rank ? st : read_checkpoint(tr, &file, err);
    st = cu_comm_agree(tr->comm, st, err);
    st = st ? st : share_state(tr, err);
    st = st ? st : check_ranks(tr, err);
    st = st ? st : build(tr, err);
    if (!st && tr->rank == 0)
        st = cu_checkpoint_apply(file, tr->net, err);
    cu_st_file_free(file);
    st = cu_comm_agree(tr->comm, st, err);
    st = st ? st : cu_replicas_share(tr->reps, err);
    if (st)
        return st;
    cu_train_note_checkpoint(tr);
    char *old = NULL;
    size_t len = 0;
    struct cu_err ignore = {0};
    if (tr->rank == 0 && cu_run_dir_read(tr->dir, CU_RUN_LOG, &old, &len, &ignore) == CU_OK) /* a lost log is no reason to stop */
        cu_text_printf(&tr->log, "%s", old);
    free(old);
    return CU_OK;
}

