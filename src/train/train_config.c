/* train_config.c: the training configuration of train.h as the table of
 * train_fields.h, and what the table gives: defaults, range checks, text
 * for the checkpoint and train.log and back, loss names. Flags and --help
 * are cmd_train.c's, the checkpoint's metadata checkpoint.c's; both walk
 * this table. */
#include "clunet/train_fields.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clunet/nuclei.h"
#include "clunet/unet.h"
#include "clunet/util.h"

_Static_assert(sizeof(enum cu_loss) == sizeof(int), "loss is read and written as an int");

static const char *const loss_names[] = {"bce", "dice", "bce+dice", NULL};       /* enum cu_loss */
static const char *const upsample_names[] = {"bilinear", "transposed", NULL};    /* enum cu_upsample */
static const char *const schedule_names[] = {"constant", "cosine", "plateau", NULL}; /* enum cu_lr_schedule */
static const char *const target_names[] = {"mask", "instance", NULL};            /* outputs 1, 3 */

#define AT(member) offsetof(struct cu_train_config, member), sizeof(((struct cu_train_config *)0)->member)

/* The order is train.log's and the checkpoint's; --help groups by section. */
static int valid_norm(const char *word)
{
    struct cu_input_opts o = {0};
    return cu_norm_parse(word, &o) == 0;
}

const struct cu_train_field cu_train_fields[] = {
    {.name = "data", .flag = "--data", .arg = "DIR", .type = CU_FIELD_TEXT, AT(data_dir), .def = NULL,
     .section = CU_FIELD_SEC_DATA, .saved = 1, .on_resume = 1,
     .help = "DSB2018 layout (DIR/<id>/images/<id>.png, DIR/<id>/masks/*.png),\n"
             "or DIR/images/ + DIR/masks/ with matching names. No data yet?\n"
             "`clunet synth --out DIR` writes a synthetic set in that layout.\n"
             "With --resume: the run's data moved there"},
    {.name = "image_size", .flag = "-s", .arg = "N", .type = CU_FIELD_INT, AT(image_size), .imin = 16,
     .imax = 16384, .def = "128", .section = CU_FIELD_SEC_MODEL, .saved = 1,
     .help = "image size, a multiple of 16: 64, 128, 256, ..."},
    {.name = "channel_rate", .flag = "-c", .arg = "R", .type = CU_FIELD_DOUBLE, AT(channel_rate), .dmin = 0,
     .dmax = 64, .lo_open = 1, .def = "0.5", .section = CU_FIELD_SEC_MODEL, .saved = 1,
     .help = "channel rate: widths 32R, 64R, ... 512R; 0.5, 1, 2"},
    {.name = "epochs", .flag = "-e", .arg = "N", .type = CU_FIELD_INT, AT(epochs), .imin = 1, .imax = 1000000,
     .def = "25", .section = CU_FIELD_SEC_MODEL, .saved = 1, .on_resume = 1,
     .help = "epochs in all; with --resume: train up to N"},
    {.name = "batch", .flag = "--batch", .arg = "N", .type = CU_FIELD_INT, AT(batch), .imin = 1, .imax = 65536,
     .def = "16", .section = CU_FIELD_SEC_MODEL, .saved = 1,
     .help = "mini-batch size; the last partial batch is kept"},
    {.name = "val_split", .flag = "--val-split", .arg = "F", .type = CU_FIELD_DOUBLE, AT(val_split), .dmin = 0,
     .dmax = 1, .hi_open = 1, .def = "0.1", .section = CU_FIELD_SEC_DATA, .saved = 1,
     .help = "fraction held out for validation: the last F of the ids in sorted\n"
             "order, as Keras's validation_split; 0: no validation\n"
             "(best.safetensors then follows the training loss)"},
    {.name = "split_seed", .flag = "--split-seed", .arg = "N", .type = CU_FIELD_I64, AT(split_seed), .imin = -1,
     .imax = INT64_MAX, .def = "-1", .section = CU_FIELD_SEC_DATA, .saved = 1,
     .help = "shuffle the ids with seed N before splitting; -1: no shuffle"},
    {.name = "lr", .flag = "--lr", .arg = "LR", .type = CU_FIELD_DOUBLE, AT(lr), .dmin = 0, .dmax = INFINITY,
     .lo_open = 1, .hi_open = 1, .def = "0.001", .section = CU_FIELD_SEC_MODEL, .saved = 1, .on_resume = 1,
     .help = "Adam learning rate; beta 0.9/0.999, eps 1e-7"},
    {.name = "loss", .flag = "--loss", .arg = "L", .type = CU_FIELD_CHOICE, AT(loss), .choices = loss_names,
     .def = "bce", .section = CU_FIELD_SEC_MODEL, .saved = 1, .help = "bce | dice | bce+dice"},
    {.name = "upsample", .flag = "--upsample", .arg = "U", .type = CU_FIELD_CHOICE, AT(upsample),
     .choices = upsample_names, .def = "bilinear", .section = CU_FIELD_SEC_MODEL, .saved = 1,
     .help = "bilinear | transposed; the original: bilinear"},
    {.name = "augment", .flag = "--augment", .type = CU_FIELD_BOOL, AT(augment), .def = "0",
     .section = CU_FIELD_SEC_DATA, .saved = 1,
     .help = "random flips and 90-degree rotations of training images"},
    {.name = "seed", .flag = "--seed", .arg = "N", .type = CU_FIELD_U64, AT(seed), .def = "1",
     .section = CU_FIELD_SEC_MODEL, .saved = 1, .help = "seed of the weights, shuffles and augmentation"},
    {.name = "patience", .flag = "--patience", .arg = "N", .type = CU_FIELD_INT, AT(patience), .imin = 0,
     .imax = 1000000, .def = "0", .section = CU_FIELD_SEC_MODEL, .saved = 1, .optional = 1,
     .help = "early stopping: stop after N epochs without a lower validation\n"
             "loss (the training loss when there is no validation) and leave\n"
             "the best epoch's weights in model.safetensors too; 0: off"},
    {.name = "lr_schedule", .flag = "--lr-schedule", .arg = "S", .type = CU_FIELD_CHOICE, AT(lr_schedule),
     .choices = schedule_names, .def = "constant", .section = CU_FIELD_SEC_MODEL, .saved = 1, .optional = 1,
     .help = "constant | cosine | plateau. cosine: from LR down to 0 along half\n"
             "a cosine over all the run's steps; plateau: halved after 3 epochs\n"
             "without a lower validation loss, down to LR/1000 (Keras's\n"
             "ReduceLROnPlateau, factor 0.5, patience 3)"},
    {.name = "input_channel", .flag = "--channel", .arg = "N", .type = CU_FIELD_INT, AT(input_channel), .imin = 0,
     .imax = 65536, .def = "0", .section = CU_FIELD_SEC_DATA, .saved = 1, .optional = 1,
     .help = "use channel N (1-based) of multi-channel images, e.g. the nuclear\n"
             "stain; 0: grey and RGB as they are, other channel counts refused"},
    {.name = "normalize", .flag = "--normalize", .arg = "LO,HI", .type = CU_FIELD_WORD, AT(normalize),
     .def = "auto", .section = CU_FIELD_SEC_DATA, .saved = 1, .optional = 1, .valid = valid_norm,
     .range = "auto, none or LO,HI percentiles (0 <= LO < HI <= 100)",
     .help = "stretch percentiles LO..HI of every image to 0..1 (8-bit too);\n"
             "none: scale by the sample type's range; auto: 8-bit and lower / 255,\n"
             "16/32-bit and float by percentiles 1,99.8. The model records\n"
             "--channel and --normalize; predict and eval repeat them"},
    {.name = "skip_bad", .flag = "--skip-bad", .type = CU_FIELD_BOOL, AT(skip_bad), .def = "0",
     .section = CU_FIELD_SEC_DATA, .on_resume = 1,
     .help = "leave out images or masks that cannot be read, listing them\n"
             "(default: stop at the first, naming the file)"},
    /* the nuclei recipe (docs/train.md); older checkpoints lack them */
    {.name = "crop", .flag = "--crop", .arg = "N", .type = CU_FIELD_INT, AT(crop), .imin = 0, .imax = 16384,
     .def = "0", .section = CU_FIELD_SEC_NUCLEI, .saved = 1, .optional = 1,
     .help = "train on random N x N crops (N a multiple of 16; the network's S = N)\n"
             "of each image at native resolution (times --scale), redrawn every\n"
             "epoch; an image appears round(area / N^2) times per epoch (1 to 4);\n"
             "images smaller than N are padded by reflection; validation on whole\n"
             "images cut into N x N tiles. predict then tiles at that scale.\n"
             "0: whole images resized to S x S (the original)"},
    {.name = "scale", .flag = "--scale", .arg = "F", .type = CU_FIELD_DOUBLE, AT(scale), .dmin = 0.05, .dmax = 20,
     .def = "1", .section = CU_FIELD_SEC_NUCLEI, .saved = 1, .optional = 1,
     .help = "rescale images and masks by F before cropping; predict does the same"},
    {.name = "scale_jitter", .flag = "--scale-jitter", .arg = "J", .type = CU_FIELD_DOUBLE, AT(scale_jitter),
     .dmin = 0, .dmax = 1, .def = "0", .section = CU_FIELD_SEC_NUCLEI, .saved = 1, .optional = 1,
     .help = "each crop's window is N*s source pixels, s log-uniform in\n[1/(1+J), 1+J]; 0: off"},
    {.name = "targets", .flag = "--targets", .arg = "T", .type = CU_FIELD_CHOICE, AT(targets),
     .choices = target_names, .def = "mask", .section = CU_FIELD_SEC_NUCLEI, .saved = 1, .optional = 1,
     .help = "mask (one output: the union of the nuclei) | instance (three outputs:\n"
             "nucleus body, its contour, the border where two nuclei touch;\n"
             "predict seeds a watershed with body - contour - border)"},
    {.name = "channel_weights", .flag = "--channel-weights", .arg = "W", .type = CU_FIELD_TEXT, AT(channel_weights),
     .def = "1,1,1", .section = CU_FIELD_SEC_NUCLEI, .saved = 1, .optional = 1,
     .help = "per-output loss weights, comma-separated: the BCE is the sum of each\n"
             "channel's mean times its weight; the Dice is channel 0's"},
    {.name = "grey", .flag = "--grey", .type = CU_FIELD_BOOL, AT(grey), .def = "0", .section = CU_FIELD_SEC_NUCLEI,
     .saved = 1, .optional = 1,
     .help = "greyscale input, inverted where the background is bright\n"
             "(brightfield, stained tissue); predict does the same"},
    {.name = "intensity", .flag = "--intensity-aug", .type = CU_FIELD_BOOL, AT(intensity), .def = "0",
     .section = CU_FIELD_SEC_NUCLEI, .saved = 1, .optional = 1,
     .help = "random brightness (+-0.1), contrast (x0.75..1.33), gamma (0.7..1.43)"},
};
const int cu_train_nfields = (int)(sizeof cu_train_fields / sizeof cu_train_fields[0]);
_Static_assert(sizeof cu_train_fields / sizeof cu_train_fields[0] <= 64, "cu_train_opts.given has 64 bits");

static void *at(const struct cu_train_field *f, struct cu_train_config *c) { return (char *)c + f->offset; }
static const void *cat(const struct cu_train_field *f, const struct cu_train_config *c)
{
    return (const char *)c + f->offset;
}

int cu_train_field_set(const struct cu_train_field *f, struct cu_train_config *c, const char *text)
{
    long long ll;
    double d;
    uint64_t u;
    switch (f->type) {
    case CU_FIELD_INT:
        if (cu_parse_ll(text, f->imin, f->imax, &ll))
            return -1;
        *(int *)at(f, c) = (int)ll;
        return 0;
    case CU_FIELD_I64:
        if (cu_parse_ll(text, f->imin, f->imax, &ll))
            return -1;
        *(long long *)at(f, c) = ll;
        return 0;
    case CU_FIELD_U64:
        if (cu_parse_u64(text, &u))
            return -1;
        *(uint64_t *)at(f, c) = u;
        return 0;
    case CU_FIELD_DOUBLE:
        if (cu_parse_double(text, f->dmin, f->dmax, f->lo_open, f->hi_open, &d))
            return -1;
        *(double *)at(f, c) = d;
        return 0;
    case CU_FIELD_BOOL:
        if (cu_parse_ll(text, 0, 1, &ll))
            return -1;
        *(int *)at(f, c) = (int)ll;
        return 0;
    case CU_FIELD_TEXT:
        if (!text || strlen(text) >= f->size)
            return -1;
        memcpy(at(f, c), text, strlen(text) + 1);
        return 0;
    case CU_FIELD_WORD:
        if (!text || strlen(text) >= f->size || !f->valid(text))
            return -1;
        memcpy(at(f, c), text, strlen(text) + 1);
        return 0;
    case CU_FIELD_CHOICE:
        for (int i = 0; text && f->choices[i]; i++)
            if (!strcmp(text, f->choices[i])) {
                *(int *)at(f, c) = i;
                return 0;
            }
        return -1;
    }
    return -1;
}

/* The shortest %.Ng text that reads back to v exactly. */
static void shortest(double v, char *buf, size_t size)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, size, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

void cu_train_field_text(const struct cu_train_field *f, const struct cu_train_config *c, int exact, char *buf,
                         size_t size)
{
    const void *p = cat(f, c);
    int i;
    switch (f->type) {
    case CU_FIELD_INT:
    case CU_FIELD_BOOL: snprintf(buf, size, "%d", *(const int *)p); return;
    case CU_FIELD_I64: snprintf(buf, size, "%lld", *(const long long *)p); return;
    case CU_FIELD_U64: snprintf(buf, size, "%" PRIu64, *(const uint64_t *)p); return;
    case CU_FIELD_DOUBLE:
        if (exact)
            snprintf(buf, size, "%.17g", *(const double *)p);
        else
            shortest(*(const double *)p, buf, size);
        return;
    case CU_FIELD_TEXT:
    case CU_FIELD_WORD: snprintf(buf, size, "%s", (const char *)p); return;
    case CU_FIELD_CHOICE:
        i = *(const int *)p;
        for (int k = 0; f->choices[k]; k++)
            if (k == i) {
                snprintf(buf, size, "%s", f->choices[k]);
                return;
            }
        snprintf(buf, size, "%d", i); /* out of range: cu_train_config_check says so */
        return;
    }
}

void cu_train_field_range(const struct cu_train_field *f, char *buf, size_t size)
{
    size_t used = 0;
    switch (f->type) {
    case CU_FIELD_INT:
    case CU_FIELD_I64: snprintf(buf, size, "an integer in %lld..%lld", f->imin, f->imax); return;
    case CU_FIELD_U64: snprintf(buf, size, "an integer in 0..%" PRIu64, UINT64_MAX); return;
    case CU_FIELD_DOUBLE:
        snprintf(buf, size, "a number in %c%g, %g%c", f->lo_open ? '(' : '[', f->dmin, f->dmax,
                 f->hi_open ? ')' : ']');
        return;
    case CU_FIELD_BOOL: snprintf(buf, size, "0 or 1"); return;
    case CU_FIELD_TEXT: snprintf(buf, size, "a path of fewer than %zu bytes", f->size); return;
    case CU_FIELD_WORD: snprintf(buf, size, "%s", f->range); return;
    case CU_FIELD_CHOICE:
        buf[0] = '\0';
        for (int k = 0; f->choices[k] && used < size; k++) {
            const char *sep = !k ? "" : f->choices[k + 1] ? ", " : " or ";
            int n = snprintf(buf + used, size - used, "%s%s", sep, f->choices[k]);
            used += n > 0 ? (size_t)n : 0;
        }
        return;
    }
}

const struct cu_train_field *cu_train_field_by_flag(const char *flag)
{
    for (int i = 0; i < cu_train_nfields; i++)
        if (!strcmp(cu_train_fields[i].flag, flag))
            return &cu_train_fields[i];
    return NULL;
}

int cu_train_field_equal(const struct cu_train_field *f, const struct cu_train_config *a,
                         const struct cu_train_config *b)
{
    if (f->type == CU_FIELD_TEXT || f->type == CU_FIELD_WORD)
        return !strcmp(cat(f, a), cat(f, b));
    return !memcmp(cat(f, a), cat(f, b), f->size);
}

void cu_train_field_copy(const struct cu_train_field *f, struct cu_train_config *dst,
                         const struct cu_train_config *src)
{
    memcpy(at(f, dst), cat(f, src), f->size);
}

void cu_train_config_default(struct cu_train_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    for (int i = 0; i < cu_train_nfields; i++)
        if (cu_train_fields[i].def)
            cu_train_field_set(&cu_train_fields[i], cfg, cu_train_fields[i].def);
}

const char *cu_lr_schedule_name(int s)
{
    return s >= CU_LR_CONSTANT && s <= CU_LR_PLATEAU ? schedule_names[s] : schedule_names[0];
}

int cu_train_outputs(const struct cu_train_config *c) { return c->targets ? 3 : 1; }

int cu_train_prep(const struct cu_train_config *c)
{
    return c->grey ? CU_PREP_GREY : 0; /* normalisation is --normalize's, at reading (image.h) */
}

int cu_train_side(const struct cu_train_config *c) { return c->crop ? c->crop : c->image_size; }

int cu_train_channel_weights(const struct cu_train_config *c, float w[4])
{
    for (int k = 0; k < 4; k++)
        w[k] = 1.0f;
    const char *p = c->channel_weights;
    for (int k = 0; *p; k++) {
        char *end;
        double v = strtod(p, &end);
        if (k >= 4 || end == p || !(v >= 0 && v <= 1000) || (*end && *end != ','))
            return -1;
        w[k] = (float)v;
        p = *end ? end + 1 : end;
        if (*end && !*p)
            return -1;
    }
    return 0;
}

void cu_train_config_recipe_nuclei(struct cu_train_config *cfg)
{
    cfg->crop = 256;
    cfg->scale = 1.0;
    cfg->scale_jitter = 0.25;
    cfg->targets = 1;
    snprintf(cfg->channel_weights, sizeof cfg->channel_weights, "1,1,3");
    cfg->grey = 1;
    snprintf(cfg->normalize, sizeof cfg->normalize, "1,99.8");
    cfg->augment = 1;
    cfg->intensity = 1;
    cfg->channel_rate = 0.5;
    cfg->batch = 8;
    cfg->epochs = 36;
    cfg->lr_schedule = CU_LR_COSINE;
    cfg->loss = CU_LOSS_BCE_DICE;
}

const char *cu_loss_name(enum cu_loss l)
{
    return (int)l >= 0 && (int)l <= CU_LOSS_BCE_DICE ? loss_names[l] : loss_names[0];
}

int cu_loss_parse(const char *s)
{
    for (int i = 0; s && loss_names[i]; i++)
        if (!strcmp(s, loss_names[i]))
            return i;
    return -1;
}

void cu_train_input(const struct cu_train_config *cfg, struct cu_input_opts *in)
{
    memset(in, 0, sizeof *in);
    cu_norm_parse(cfg->normalize, in);
    in->channel = cfg->input_channel; /* page 0: training reads the first page of a stack */
}

enum cu_status cu_train_config_check(const struct cu_train_config *cfg, struct cu_err *err)
{
    /* Each field in its range: its own text must read back. */
    for (int i = 0; i < cu_train_nfields; i++) {
        const struct cu_train_field *f = &cu_train_fields[i];
        char text[1100], range[128];
        struct cu_train_config scratch = *cfg;
        cu_train_field_text(f, cfg, 1, text, sizeof text);
        if (f->type == CU_FIELD_TEXT || !cu_train_field_set(f, &scratch, text))
            continue;
        cu_train_field_range(f, range, sizeof range);
        return cu_fail(err, CU_EUSAGE, "%s %s: expected %s", f->flag, text, range);
    }
    /* What the network needs besides (-s or --crop a multiple of 16, -c widths). */
    struct cu_unet_config ucfg = {cu_train_side(cfg), cfg->channel_rate, (enum cu_upsample)cfg->upsample, 3,
                                  cu_train_outputs(cfg)};
    enum cu_status st = cu_unet_config_check(&ucfg, err);
    if (st)
        return st;
    float w[4];
    if (cu_train_channel_weights(cfg, w))
        return cu_fail(err, CU_EUSAGE, "--channel-weights %s: expected up to 4 weights in [0, 1000], like 1,1,2",
                       cfg->channel_weights);
    if (!cfg->crop && (cfg->scale != 1.0 || cfg->scale_jitter > 0 || cfg->targets || cfg->grey || cfg->intensity))
        return cu_fail(err, CU_EUSAGE,
                       "--scale, --scale-jitter, --targets instance, --grey and --intensity-aug train on crops: add "
                       "--crop N");
    if (!cfg->data_dir[0])
        return cu_fail(err, CU_EUSAGE,
                       "no training data: give --data DIR, a folder in the DSB2018 layout "
                       "(DIR/<id>/images/<id>.png, DIR/<id>/masks/*.png); for a first run make one with "
                       "`clunet synth --out DIR`");
    return CU_OK;
}

/* train.log's label of field f: the data folder by its name, the rest by
 * their flags. */
static const char *label(const struct cu_train_field *f)
{
    return f->offset == offsetof(struct cu_train_config, data_dir) ? f->name : f->flag;
}

/* An optional field (the nuclei recipe's) at its default: left out of
 * train.log's line, so the original recipe's line reads as it always did. */
static int at_default(const struct cu_train_field *f, const struct cu_train_config *c)
{
    struct cu_train_config def;
    if (!f->optional)
        return 0;
    cu_train_config_default(&def);
    return cu_train_field_equal(f, c, &def);
}

void cu_train_config_line(const struct cu_train_config *c, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < cu_train_nfields && used < size; i++) {
        const struct cu_train_field *f = &cu_train_fields[i];
        char text[1100];
        if (!f->saved || (f->type == CU_FIELD_BOOL && !*(const int *)cat(f, c)) || at_default(f, c))
            continue;
        if (f->optional && f->def) { /* newer fields only when set: the line of older runs is unchanged */
            struct cu_train_config d;
            cu_train_config_default(&d);
            if (cu_train_field_equal(f, c, &d))
                continue;
        }
        cu_train_field_text(f, c, 0, text, sizeof text);
        const char *sep = used ? ", " : "";
        int n = f->type == CU_FIELD_BOOL ? snprintf(buf + used, size - used, "%s%s", sep, f->flag)
                                         : snprintf(buf + used, size - used, "%s%s %s", sep, label(f), text);
        used += n > 0 ? (size_t)n : 0;
    }
}

enum cu_status cu_train_config_parse_line(const char *line, struct cu_train_config *c, struct cu_err *err)
{
    cu_train_config_default(c);
    /* a bool absent from the line is off */
    for (int i = 0; i < cu_train_nfields; i++)
        if (cu_train_fields[i].saved && cu_train_fields[i].type == CU_FIELD_BOOL)
            *(int *)at(&cu_train_fields[i], c) = 0;
    const char *p = line;
    while (*p) {
        const char *end = strstr(p, ", -");
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char part[1200];
        if (len >= sizeof part)
            return cu_fail(err, CU_EINPUT, "configuration line: part too long: %.60s...", p);
        memcpy(part, p, len);
        part[len] = '\0';
        char *val = strchr(part, ' ');
        if (val)
            *val++ = '\0';
        const struct cu_train_field *f = NULL;
        for (int i = 0; i < cu_train_nfields && !f; i++) {
            const struct cu_train_field *g = &cu_train_fields[i];
            if (g->saved && !strcmp(part, label(g)))
                f = g;
        }
        if (!f || (f->type == CU_FIELD_BOOL) != !val || cu_train_field_set(f, c, val ? val : "1"))
            return cu_fail(err, CU_EINPUT, "configuration line: cannot read \"%s%s%s\"", part, val ? " " : "",
                           val ? val : "");
        p = end ? end + 2 : p + len;
    }
    return CU_OK;
}
