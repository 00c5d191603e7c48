/* test_train_config.c: the table of training-configuration fields
 * (train_fields.h). A short ref run with every saved field away from its
 * default: its checkpoint reads back every field, and the configuration
 * line of its train.log parses back to the same values. Also: defaults,
 * range checks naming the flag and the range, and the line's format. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clunet/predict.h"
#include "clunet/safetensors.h"
#include "clunet/train_fields.h"
#include "io/checkpoint.h"
#include "testutil.h"
#include "train_fixture.h"

static void defaults(void)
{
    struct cu_train_config c;
    cu_train_config_default(&c);
    TU_CHECK(c.image_size == 128 && c.channel_rate == 0.5 && c.epochs == 25 && c.batch == 16 && c.val_split == 0.1 &&
                 c.split_seed == -1 && c.lr == 1e-3 && c.loss == CU_LOSS_BCE && c.upsample == 0 && !c.augment &&
                 c.seed == 1 && !c.skip_bad && !c.data_dir[0],
             "defaults from the table are the documented ones");
    snprintf(c.data_dir, sizeof c.data_dir, "/d");
    char line[2048];
    cu_train_config_line(&c, line, sizeof line);
    /* train.log's format as before the table (readers grep it) */
    const char *want = "data /d, -s 128, -c 0.5, -e 25, --batch 16, --val-split 0.1, --split-seed -1, --lr 0.001, "
                       "--loss bce, --upsample bilinear, --seed 1";
    TU_CHECK(!strcmp(line, want), "default line: %s", line);
    c.augment = 1;
    cu_train_config_line(&c, line, sizeof line);
    TU_CHECK(strstr(line, "--upsample bilinear, --augment, --seed 1") != NULL, "--augment when set: %s", line);
}

static void ranges(void)
{
    struct cu_train_config base;
    cu_train_config_default(&base);
    snprintf(base.data_dir, sizeof base.data_dir, "/d");
    struct cu_err err = {0};
    TU_CHECK(cu_train_config_check(&base, &err) == CU_OK, "defaults pass the check (%s)", err.msg);
    int checked = 0;
    for (int i = 0; i < cu_train_nfields; i++) {
        const struct cu_train_field *f = &cu_train_fields[i];
        struct cu_train_config c = base;
        char text[64], range[128], want[256];
        if (f->type == CU_FIELD_INT || f->type == CU_FIELD_I64)
            snprintf(text, sizeof text, "%lld", f->imax);
        else if (f->type == CU_FIELD_DOUBLE)
            snprintf(text, sizeof text, "%.17g", f->dmin);
        else
            continue;
        /* the edge itself is in range (or, open, refused) ... */
        int edge = cu_train_field_set(f, &c, text);
        TU_CHECK(edge == (f->type == CU_FIELD_DOUBLE && f->lo_open ? -1 : 0), "%s %s at the edge", f->flag, text);
        /* ... one past it is refused, by the parser and by the check */
        if (f->type == CU_FIELD_INT)
            *(int *)((char *)&c + f->offset) = (int)f->imin - 1, snprintf(text, sizeof text, "%lld", f->imin - 1);
        else if (f->type == CU_FIELD_I64)
            *(long long *)((char *)&c + f->offset) = f->imin - 1, snprintf(text, sizeof text, "%lld", f->imin - 1);
        else
            *(double *)((char *)&c + f->offset) = f->lo_open ? f->dmin : nextafter(f->dmin, -INFINITY),
                   cu_train_field_text(f, &c, 1, text, sizeof text);
        struct cu_train_config scratch = base;
        TU_CHECK(cu_train_field_set(f, &scratch, text) == -1, "%s %s refused by the parser", f->flag, text);
        cu_err_clear(&err);
        cu_train_field_range(f, range, sizeof range);
        snprintf(want, sizeof want, "%s %s: expected %s", f->flag, text, range);
        TU_CHECK(cu_train_config_check(&c, &err) == CU_EUSAGE && !strcmp(err.msg, want), "check: \"%s\", want \"%s\"",
                 err.msg, want);
        checked++;
    }
    TU_CHECK(checked >= 7, "%d numeric fields range-checked", checked);
    struct cu_train_config c = base;
    c.loss = (enum cu_loss)7;
    cu_err_clear(&err);
    TU_CHECK(cu_train_config_check(&c, &err) == CU_EUSAGE && strstr(err.msg, "--loss 7: expected bce, dice or bce+dice"),
             "an unknown loss: %s", err.msg);
}

/* Every saved field of a and b the same; names the first that is not. */
static int same_saved(const struct cu_train_config *a, const struct cu_train_config *b, const char *what)
{
    for (int i = 0; i < cu_train_nfields; i++)
        if (cu_train_fields[i].saved && !cu_train_field_equal(&cu_train_fields[i], a, b)) {
            char x[1100], y[1100];
            cu_train_field_text(&cu_train_fields[i], a, 1, x, sizeof x);
            cu_train_field_text(&cu_train_fields[i], b, 1, y, sizeof y);
            return tu_check(0, "%s: %s is %s, want %s", what, cu_train_fields[i].name, y, x);
        }
    return tu_check(1, "%s: every saved field the same", what);
}

static void round_trip(void)
{
    char *dir = tf_tmpdir("trainconfig"), data[1100], run[1100];
    snprintf(data, sizeof data, "%s/data", dir);
    snprintf(run, sizeof run, "%s/run", dir);
    TU_CHECK(tf_make_dataset(data, 10, 20, 24, 5) == 0, "dataset written");
    struct cu_train_opts o = tf_lib_opts(data, run, 1);
    struct cu_train_config *c = &o.cfg;
    c->image_size = 32;
    c->channel_rate = 0.1875; /* widths 6, 12, ... */
    c->batch = 3;
    c->val_split = 0.3;   /* no exact binary value: 17 digits must read back */
    c->split_seed = 987654321012LL;
    c->lr = 3.3e-4;
    c->loss = CU_LOSS_BCE_DICE;
    c->upsample = 1;      /* transposed */
    c->seed = 18446744073709551557ULL; /* above INT64_MAX */
    c->patience = 4;
    c->lr_schedule = CU_LR_PLATEAU;
    c->input_channel = 2;              /* of the RGB fixture */
    snprintf(c->normalize, sizeof c->normalize, "0.5,99.5");
    c->crop = 32;         /* the nuclei recipe's fields: crops of the images scaled by 1.5 */
    c->scale = 1.5;
    c->scale_jitter = 0.1;
    c->targets = 1;
    snprintf(c->channel_weights, sizeof c->channel_weights, "1,0.5,2");
    c->grey = c->intensity = 1;
    o.device = "ref";
    struct cu_train_config def;
    cu_train_config_default(&def);
    for (int i = 0; i < cu_train_nfields; i++)
        if (cu_train_fields[i].saved)
            TU_CHECK(!cu_train_field_equal(&cu_train_fields[i], c, &def), "%s differs from its default",
                     cu_train_fields[i].name);
    struct cu_err err = {0};
    int interrupted = 0;
    if (!tu_ok(clunet_train(&o, &interrupted, &err), &err, "one ref epoch with every field set"))
        return;

    struct cu_train_config back;
    struct cu_train_state st;
    struct cu_st_file *file = NULL;
    char ck[1200];
    snprintf(ck, sizeof ck, "%s/checkpoint.safetensors", run);
    if (tu_ok(cu_checkpoint_load(ck, &back, &st, &file, &err), &err, "checkpoint read")) {
        same_saved(c, &back, "checkpoint");
        cu_history_free(&st.history);
        cu_st_file_free(file);
    }
    char *log = tf_read(run, "train.log", NULL);
    const char *p = log ? strstr(log, "configuration: ") : NULL;
    TU_CHECK(p != NULL, "train.log has a configuration line");
    if (p) {
        p += strlen("configuration: ");
        char line[2048];
        snprintf(line, sizeof line, "%.*s", (int)strcspn(p, "\n"), p);
        struct cu_train_config parsed;
        if (tu_ok(cu_train_config_parse_line(line, &parsed, &err), &err, "train.log line parsed"))
            same_saved(c, &parsed, "train.log");
        TU_CHECK(cu_train_config_parse_line("data /d, -s 20x", &parsed, &err) == CU_EINPUT &&
                     strstr(err.msg, "-s 20x"),
                 "a bad part is named: %s", err.msg);
    }
    free(log);
    /* The model records how its input was made, and predict repeats it
     * unless told otherwise. */
    char model[1200];
    snprintf(model, sizeof model, "%s/model.safetensors", run);
    struct cu_backend *be = NULL;
    struct cu_predictor *pr = NULL;
    struct cu_predict_opts po;
    cu_predict_opts_default(&po);
    if (tu_ok(cu_backend_open("ref", &be, &err), &err, "ref") &&
        tu_ok(cu_predictor_new(be, model, &po, &pr, &err), &err, "predictor on the model")) {
        struct cu_input_opts in;
        cu_predictor_input(pr, &in);
        TU_CHECK(in.channel == 2 && in.norm == CU_NORM_PERCENTILE && in.lo == 0.5 && in.hi == 99.5,
                 "predict takes --channel 2 --normalize 0.5,99.5 from the model (%d, %d, %g, %g)", in.channel,
                 (int)in.norm, in.lo, in.hi);
        cu_predictor_free(pr);
        po.channel_set = 1, po.input.channel = 1, po.norm_set = 1, po.input.norm = CU_NORM_NONE;
        if (tu_ok(cu_predictor_new(be, model, &po, &pr, &err), &err, "predictor with flags")) {
            cu_predictor_input(pr, &in);
            TU_CHECK(in.channel == 1 && in.norm == CU_NORM_NONE, "--channel and --normalize given win");
            cu_predictor_free(pr);
        }
    }
    cu_backend_free(be);
    tf_rmtree(dir);
    free(dir);
}

int main(void)
{
    defaults();
    ranges();
    round_trip();
    return tu_finish();
}
