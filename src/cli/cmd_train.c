/* cmd_train.c: `clunet train`: flags, --help, the SIGINT handler, and the
 * call to clunet_train (train.h). Exit codes: status.h's table; 130 after
 * Ctrl-C, 143 after SIGTERM (checkpoint written). */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/args.h"
#include "clunet/cli.h"
#include "clunet/model_file.h"
#include "clunet/model_find.h"
#include "clunet/train.h"
#include "clunet/train_fields.h"
#include "clunet/unet.h"

static volatile sig_atomic_t stop_flag, stop_signal;

/* SIGINT (Ctrl-C) and SIGTERM (SLURM, timeout, docker stop) alike: finish
 * the batch, write the checkpoint, stop. */
static void on_stop(int sig)
{
    stop_signal = sig;
    stop_flag = 1;
}

static void field_help(FILE *f, enum cu_field_section section, const char *heading);
static void resume_flags(char *buf, size_t size);

static void help(FILE *f)
{
    fprintf(f,
            "usage: clunet train --data DIR --out RUN_DIR [options]\n"
            "       clunet train --resume RUN_DIR [-e EPOCHS] [--lr LR] [--device SPEC | --devices LIST]\n"
            "\n"
            "Trains the U-Net of the DSB2018 script (Adam, He-normal initialisation) on a folder of\n"
            "images and masks, and writes a run folder:\n"
            "  model.safetensors       final weights; self-describing (predict needs no -s/-c)\n"
            "  best.safetensors        weights of the epoch with the lowest validation loss\n"
            "  checkpoint.safetensors  weights, Adam state, epoch, RNG state, configuration\n"
            "                          (written after every epoch and on Ctrl-C)\n"
            "  history.csv             epoch,train_loss,train_dice,val_loss,val_dice,seconds,images_per_second\n"
            "  history.svg             loss and Dice curves (open it in a browser)\n"
            "  train.log               configuration, device, one line per epoch\n"
            "\n");
    field_help(f, CU_FIELD_SEC_DATA, "data:");
    field_help(f, CU_FIELD_SEC_MODEL, "model and training:");
    fprintf(f, "fine-tuning:\n"
               "  --init MODEL        start from MODEL's weights instead of He's (a model file, a run\n"
               "                      folder's best.safetensors, or a NAME from `clunet models`, e.g.\n"
               "                      " CU_DEFAULT_MODEL "); Adam starts afresh. -s, -c, --upsample and --loss come\n"
               "                      from the file; giving one that differs is refused. A model trained\n"
               "                      on crops (--recipe nuclei, the shipped one) also gives --crop and\n"
               "                      --targets (refused if they differ), --scale, --grey, --normalize;\n"
               "                      the file's prediction defaults (threshold, min_size, tta, seeds) go\n"
               "                      into the run's model files. Give --recipe nuclei too for the\n"
               "                      recipe's augmentation and loss weights\n\n");
    fprintf(f, "nuclei at their own scale (each needs --crop):\n"
               "  --recipe nuclei     the nuclei recipe: --crop 256 --targets instance --channel-weights 1,1,3\n"
               "                      --scale-jitter 0.25 --grey --normalize 1,99.8 --augment --intensity-aug\n"
               "                      -c 0.5 --batch 8 -e 36 --lr-schedule cosine --loss bce+dice; other flags\n"
               "                      given as well override it wherever they stand on the line\n");
    field_help(f, CU_FIELD_SEC_NUCLEI, "");
    char resumable[256];
    resume_flags(resumable, sizeof resumable);
    fprintf(f,
            "run folder:\n"
            "  --out RUN_DIR       the run folder to create; an existing one is refused\n"
            "  --force             overwrite the run files of an existing RUN_DIR (others are kept)\n"
            "  --resume RUN_DIR    continue from RUN_DIR/checkpoint.safetensors with the run's own\n"
            "                      configuration up to -e epochs in all (default: the run's own -e);\n"
            "                      only %s, --device(s), --force, -q, -v may be given;\n"
            "                      --data holding other images than the run's is refused unless\n"
            "                      --force (then train.log notes it)\n"
            "                      without --device, --devices or CLUNET_DEVICE it runs on the devices\n"
            "                      the run chose (its --device or --devices as given, else the default)\n"
            "                      and train.log says \"from the run\"; the devices and the number of MPI\n"
            "                      processes may differ from the run's, but only the run's own continue\n"
            "                      bit-identically (ref), and a resume on others says so\n"
            "\n",
            resumable);
    fprintf(f,
            "device and output:\n"
            "  --device SPEC       ref, an OpenCL id (0:1), a name substring, gpu/cpu/accelerator\n"
            "                      (default: CLUNET_DEVICE, else on --resume the run's choice, else the\n"
            "                      first GPU, else the first OpenCL device, else ref)\n"
            "  --devices LIST      train on several devices at once (data parallel, one model replica\n"
            "                      each): ids or specs separated by commas (0:0,0:1; ref,cpu; a device\n"
            "                      may be listed twice), or all (every OpenCL device), gpu, cpu (every\n"
            "                      device of that type). Each batch of --batch images is cut into\n"
            "                      contiguous slices as equal as possible, one per device; the gradients\n"
            "                      (each the mean over its slice, weighted by its share) are summed on\n"
            "                      the host and every replica takes the same Adam step: with --loss bce\n"
            "                      the same training as one device, up to float rounding; Dice is\n"
            "                      computed per slice.\n"
            "                      See docs/SCALING.md\n"
            "  -q, --quiet         print only errors\n"
            "  -v                  verbose: add per-phase timings to each epoch line\n"
            "  -h, --help          this help\n"
            "\n"
            "On a terminal each epoch shows a one-line progress bar (batch k/n, running loss and Dice,\n"
            "images/s, ETA); otherwise one plain line per epoch. Ctrl-C or SIGTERM (what SLURM,\n"
            "timeout and docker stop send) finishes the current batch, writes the checkpoint and\n"
            "exits with 130 (Ctrl-C) or 143 (SIGTERM); resume with --resume RUN_DIR. train.log is\n"
            "written before the first epoch, so even a killed run says what it was.\n"
            "\n"
            "The union masks of a DSB2018 folder are decoded once and kept in\n"
            "$XDG_CACHE_HOME/clunet/masks (else ~/.cache/clunet/masks); later runs on the same\n"
            "files read those instead (CLUNET_NO_MASK_CACHE=1: always read the masks).\n"
            "\n"
            "A run folder is locked while a process writes it (RUN_DIR/.lock): a second train on it\n"
            "stops at once with exit 1, naming the process that holds it. Ctrl-C exits 130 and\n"
            "SIGTERM 143, both after writing the checkpoint.\n"
            "\n"
            "Under MPI (mpirun -n N clunet train ..., when built with MPI) each process takes a slice of\n"
            "every batch (--batch is the global batch, at least N) and of validation, gradients are summed\n"
            "across processes, and rank 0 alone prints and writes RUN_DIR.\n\n");
    cu_cli_exit_codes(f);
}

/* The flags of the configuration table (train_fields.h) under their
 * section's heading: "  FLAG ARG  help (default D)". */
static void field_help(FILE *f, enum cu_field_section section, const char *heading)
{
    if (heading[0])
        fprintf(f, "%s\n", heading);
    for (int i = 0; i < cu_train_nfields; i++) {
        const struct cu_train_field *fd = &cu_train_fields[i];
        if (fd->section != section)
            continue;
        char head[64];
        snprintf(head, sizeof head, "%s%s%s", fd->flag, fd->arg ? " " : "", fd->arg ? fd->arg : "");
        fprintf(f, "  %-20s", head);
        for (const char *line = fd->help; *line;) {
            size_t len = strcspn(line, "\n");
            fprintf(f, "%s%.*s", line == fd->help ? "" : "                      ", (int)len, line);
            line += len;
            if (*line)
                fprintf(f, "\n"), line++;
        }
        if (fd->def && fd->type != CU_FIELD_BOOL)
            fprintf(f, " (default %s)", fd->def);
        fprintf(f, "\n");
    }
    fprintf(f, "\n");
}

/* "-e, --lr, --data, --skip-bad": the table's flags a resume takes. */
static void resume_flags(char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < cu_train_nfields && used < size; i++)
        if (cu_train_fields[i].on_resume) {
            int n = snprintf(buf + used, size - used, "%s%s", used ? ", " : "", cu_train_fields[i].flag);
            used += n > 0 ? (size_t)n : 0;
        }
}

enum { O_FORCE = CU_ARG_LONG, O_DEVICES, O_DEVICE, O_OUT, O_RESUME, O_RECIPE, O_INIT, O_FIELD };

/* The option table: the configuration's fields (key O_FIELD + index, or
 * the letter of a short flag), then the flags of the run itself. */
static int build_opts(struct cu_opt *opts, int cap)
{
    static const struct cu_opt own[] = {
        {"force", O_FORCE, 0}, {"devices", O_DEVICES, 1}, {"device", O_DEVICE, 1}, {"out", O_OUT, 1},
        {"resume", O_RESUME, 1}, {"quiet", 'q', 0},       {NULL, 'v', 0},          {"help", 'h', 0},
        {"init", O_INIT, 1},
        {"recipe", O_RECIPE, 1},
    };
    int n = 0;
    for (int i = 0; i < cu_train_nfields && n < cap - 1; i++) {
        const struct cu_train_field *f = &cu_train_fields[i];
        int is_short = f->flag[1] != '-';
        opts[n++] = (struct cu_opt){is_short ? NULL : f->flag + 2, is_short ? f->flag[1] : O_FIELD + i,
                                    f->type != CU_FIELD_BOOL};
    }
    for (size_t i = 0; i < sizeof own / sizeof own[0] && n < cap - 1; i++)
        opts[n++] = own[i];
    opts[n] = (struct cu_opt){NULL, 0, 0};
    return n;
}

/* The configuration field of option key, or NULL. */
static const struct cu_train_field *field_of(int key)
{
    if (key >= O_FIELD && key < O_FIELD + cu_train_nfields)
        return &cu_train_fields[key - O_FIELD];
    for (int i = 0; i < cu_train_nfields; i++)
        if (cu_train_fields[i].flag[1] == key && !cu_train_fields[i].flag[2])
            return &cu_train_fields[i];
    return NULL;
}

/* Applies option key (its value in a); 0 or -1 (err set). *fixes_config
 * is set for a field a resumed run keeps from its checkpoint. */
static int apply(struct cu_args *a, int key, struct cu_train_opts *o, int *fixes_config)
{
    *fixes_config = 0;
    const struct cu_train_field *f = field_of(key);
    if (f) {
        if (cu_arg_train_field(a, f, &o->cfg))
            return -1;
        o->given |= 1ull << (f - cu_train_fields);
        *fixes_config = !f->on_resume;
        return 0;
    }
    switch (key) {
    case 'q': o->verbosity = 0; return 0;
    case 'v': o->verbosity = 2; return 0;
    case O_FORCE: o->force = 1; return 0;
    case O_DEVICES: o->devices = a->val; return 0;
    case O_DEVICE: o->device = a->val; return 0;
    case O_OUT: o->out_dir = a->val; return 0;
    case O_RESUME: o->resume_dir = a->val; return 0;
    case O_INIT: o->init_path = a->val; *fixes_config = 1; return 0;
    case O_RECIPE: /* applied before the other flags (apply_recipe); fixes the configuration */
        *fixes_config = 1;
        return strcmp(a->val, "nuclei") ? cu_arg_bad(a, "nuclei (the one recipe)") : 0;
    case CU_ARG_POS: return cu_arg_extra(a);
    }
    return 0;
}

/* --init of a crop-trained model (the nuclei recipe's, the shipped one):
 * its crops, outputs, scale and input preparation come from the file too,
 * so `train --init nuclei --data mine` fine-tunes it as it was trained.
 * --crop or --targets that differ change the network: refused; --scale,
 * --grey and --normalize given on the line win. */
static enum cu_status take_init_crop(struct cu_train_opts *o, const struct cu_st_file *f, const char *path,
                                     struct cu_err *err)
{
    const char *mode = cu_st_file_meta(f, "train_mode"), *size = cu_st_file_meta(f, "image_size"),
               *oc = cu_st_file_meta(f, "output_channels"), *scale = cu_st_file_meta(f, "scale"),
               *prep = cu_st_file_meta(f, "prep"), *norm = cu_st_file_meta(f, "normalize");
    if (!mode || strcmp(mode, "crop") || !size)
        return CU_OK;
    const char *facts[][2] = {
        {"--crop", size},
        {"--targets", oc && !strcmp(oc, "3") ? "instance" : "mask"},
        {"--scale", scale ? scale : "1"},
        {"--grey", prep && strstr(prep, "grey") ? "1" : "0"},
        {"--normalize", norm},
    };
    for (int k = 0; k < 5; k++) {
        const struct cu_train_field *fd = cu_train_field_by_flag(facts[k][0]);
        struct cu_train_config want = o->cfg;
        if (!fd || !facts[k][1] || cu_train_field_set(fd, &want, facts[k][1]))
            continue; /* a fact the file lacks or cannot hold: the line's value stays */
        int given = o->given >> (fd - cu_train_fields) & 1;
        if (given && k < 2 && !cu_train_field_equal(fd, &o->cfg, &want))
            return cu_fail(err, CU_EUSAGE,
                           "train: %s conflicts with --init %s, which was trained with %s %s; drop %s",
                           facts[k][0], path, facts[k][0], facts[k][1], facts[k][0]);
        if (!given)
            cu_train_field_copy(fd, &o->cfg, &want);
    }
    return CU_OK;
}

/* --init: the network (and loss) come from the model file; a flag that
 * asks for another is refused rather than silently ignored. On success
 * o->init_path is the resolved file (in path). */
static enum cu_status take_init(struct cu_train_opts *o, char *path, size_t len, struct cu_err *err)
{
    struct cu_st_file *f = NULL;
    struct cu_unet_config m;
    enum cu_status st = cu_model_resolve(o->init_path, path, len, NULL, err);
    st = st ? st : cu_st_file_read(path, &f, err);
    st = st ? st : cu_model_config(f, &m, err);
    if (st) {
        cu_st_file_free(f);
        return st;
    }
    struct cu_train_config want = o->cfg; /* the file's network and loss */
    want.image_size = m.image_size, want.channel_rate = m.channel_rate, want.upsample = (int)m.upsample;
    const char *floss = cu_st_file_meta(f, "loss");
    if (floss && cu_loss_parse(floss) >= 0)
        want.loss = (enum cu_loss)cu_loss_parse(floss);
    static const char *const flags[] = {"-s", "-c", "--upsample", "--loss"};
    for (int k = 0; k < 4 && !st; k++) {
        const struct cu_train_field *fd = cu_train_field_by_flag(flags[k]);
        char given[64], have[64];
        if ((o->given >> (fd - cu_train_fields) & 1) && !cu_train_field_equal(fd, &o->cfg, &want)) {
            cu_train_field_text(fd, &o->cfg, 0, given, sizeof given);
            cu_train_field_text(fd, &want, 0, have, sizeof have);
            st = cu_fail(err, CU_EUSAGE,
                         "train: %s %s conflicts with --init %s, which is %s %s; a fine-tuned model keeps the "
                         "network and loss it was trained with: drop %s",
                         flags[k], given, path, flags[k], have, flags[k]);
        }
        cu_train_field_copy(fd, &o->cfg, &want);
    }
    if (!st)
        st = take_init_crop(o, f, path, err);
    if (!st)
        o->init_path = path;
    cu_st_file_free(f);
    return st;
}

/* `--recipe nuclei` (or --recipe=nuclei) anywhere on the line sets the
 * recipe's fields before the flags are applied, so that the other flags
 * override it; a bad name is reported by apply. */
static void apply_recipe(int argc, char **argv, struct cu_train_config *c)
{
    for (int i = 1; i < argc; i++)
        if ((!strcmp(argv[i], "--recipe") && i + 1 < argc && !strcmp(argv[i + 1], "nuclei")) ||
            !strcmp(argv[i], "--recipe=nuclei"))
            cu_train_config_recipe_nuclei(c);
}

int cu_cmd_train(int argc, char **argv)
{
    struct cu_err err = {0};
    struct cu_train_opts o;
    memset(&o, 0, sizeof o);
    cu_train_config_default(&o.cfg);
    apply_recipe(argc, argv, &o.cfg);
    o.verbosity = cu_cli_quiet() ? 0 : 1;
    o.out = stdout;
    char bad_on_resume[64] = "";
    struct cu_args a;
    struct cu_opt opts[CU_ARGS_MAX];
    build_opts(opts, CU_ARGS_MAX);
    cu_args_init(&a, "train", argc, argv, opts, &err);
    int key, fixes = 0;
    while ((key = cu_args_next(&a)) > 0) {
        if (key == 'h') {
            if (cu_comm_rank(cu_cli_comm()) == 0) /* one help under mpirun */
                help(stdout);
            return 0;
        }
        if (apply(&a, key, &o, &fixes))
            break;
        if (fixes && !bad_on_resume[0])
            snprintf(bad_on_resume, sizeof bad_on_resume, "%s", a.flag);
    }
    if (!err.status && !o.device && !o.devices)
        o.device = cu_cli_device(); /* the global --device, else CLUNET_DEVICE */
    if (err.status)
        ; /* a bad option: reported below */
    else if (o.device && o.devices)
        cu_fail(&err, CU_EUSAGE, "train: give either --device SPEC or --devices LIST, not both");
    else if (o.resume_dir && o.out_dir)
        cu_fail(&err, CU_EUSAGE, "train: --resume continues the run in its own folder; drop --out");
    else if (o.resume_dir && bad_on_resume[0]) {
        char resumable[256];
        resume_flags(resumable, sizeof resumable);
        cu_fail(&err, CU_EUSAGE,
                "train: %s cannot change a resumed run (it keeps its own configuration; only %s, "
                "--device, --devices, --force, -q, -v may be given)",
                bad_on_resume, resumable);
    }
    char init_path[4096];
    if (!err.status && o.init_path && !o.resume_dir)
        take_init(&o, init_path, sizeof init_path, &err);
    if (!err.status && !o.resume_dir && !o.cfg.data_dir[0])
        cu_fail(&err, CU_EUSAGE,
                "train: no training data: give --data DIR, a folder in the DSB2018 layout "
                "(DIR/<id>/images/<id>.png and DIR/<id>/masks/*.png) or DIR/images/ + DIR/masks/; "
                "to start without a download, make a synthetic one with `clunet synth --out DIR`");
    /* Under mpirun every rank parses the same line: agreeing makes rank 0
     * print the one usage error, and keeps the ranks in step. */
    o.comm = cu_cli_comm();
    if (cu_comm_agree(o.comm, err.status, &err))
        return cu_cli_report(&err);
    /* Under mpirun stdout is the launcher's pseudo-terminal whatever the
     * user's is: no live bar there, plain per-epoch lines. */
    o.tty = isatty(fileno(stdout)) && cu_comm_size(o.comm) == 1;

    /* Ctrl-C or SIGTERM: finish the batch, write the checkpoint, exit 130
     * (143 for SIGTERM); a second one (SA_RESETHAND) kills at once. */
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    o.stop = &stop_flag;

    int interrupted = 0;
    clunet_train(&o, &interrupted, &err);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (err.status)
        return cu_cli_report(&err);
    return !interrupted ? 0 : stop_signal == SIGTERM ? CU_TRAIN_TERMINATED : CU_TRAIN_INTERRUPTED;
}
