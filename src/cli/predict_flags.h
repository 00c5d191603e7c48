/* predict_flags.h: the prediction flags `clunet predict` and `clunet eval`
 * share (cmd_predict.c): --mode, --tta, --no-tta, --batch, --threshold, --no-split,
 * --split-h, --min-size, --seed-threshold, --border-weight, --device, and the input flags --channel,
 * --normalize, --page, --skip-bad. A command puts CU_PREDICT_OPTS in its
 * option table and hands every key to cu_predict_flag first. */
#ifndef CLUNET_CLI_PREDICT_FLAGS_H
#define CLUNET_CLI_PREDICT_FLAGS_H

#include "cli/args.h"
#include "clunet/predict.h"

enum {
    CU_PF_MODE = CU_ARG_LONG + 128,
    CU_PF_TTA,
    CU_PF_NO_TTA,
    CU_PF_BATCH,
    CU_PF_THRESHOLD,
    CU_PF_NO_SPLIT,
    CU_PF_SPLIT_H,
    CU_PF_MIN_SIZE,
    CU_PF_DEVICE,
    CU_PF_CHANNEL,
    CU_PF_NORMALIZE,
    CU_PF_PAGE,
    CU_PF_SKIP_BAD,
    CU_PF_SEED_THRESHOLD,
    CU_PF_BORDER_WEIGHT,
};

#define CU_PREDICT_OPTS                                                                                           \
    {"mode", CU_PF_MODE, 1}, {"tta", CU_PF_TTA, 0}, {"no-tta", CU_PF_NO_TTA, 0}, {"batch", CU_PF_BATCH, 1}, {"threshold", CU_PF_THRESHOLD, 1}, \
        {"no-split", CU_PF_NO_SPLIT, 0}, {"split-h", CU_PF_SPLIT_H, 1}, {"min-size", CU_PF_MIN_SIZE, 1},          \
        {"device", CU_PF_DEVICE, 1}, {"channel", CU_PF_CHANNEL, 1}, {"normalize", CU_PF_NORMALIZE, 1},            \
        {"page", CU_PF_PAGE, 1}, {"skip-bad", CU_PF_SKIP_BAD, 0}, {"seed-threshold", CU_PF_SEED_THRESHOLD, 1},  \
        {"border-weight", CU_PF_BORDER_WEIGHT, 1}

/* The help text of those flags. */
extern const char cu_predict_flags_help[];

/* Applies option key (just returned by cu_args_next) if it is a prediction
 * flag: 1 when it was, 0 when not, -1 on a bad value (in a->err). */
int cu_predict_flag(struct cu_args *a, int key, struct cu_predict_opts *o, const char **device);

#endif
