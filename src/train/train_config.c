/* train_config.c: the training configuration of train.h: defaults, checks,
 * loss names. Saving it to and reading it from checkpoint metadata is in
 * checkpoint.c. */
#include "clunet/train.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "clunet/unet.h"

void cu_train_config_default(struct cu_train_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->image_size = 128;
    cfg->channel_rate = 0.5;
    cfg->epochs = 25;
    cfg->batch = 16;
    cfg->val_split = 0.1;
    cfg->split_seed = -1;
    cfg->lr = 1e-3;
    cfg->loss = CU_LOSS_BCE;
    cfg->upsample = CU_UPSAMPLE_BILINEAR;
    cfg->augment = 0;
    cfg->seed = 1; /* seed 42 stalls the original head at S=128 c=0.5 (docs/train.md) */
}

const char *cu_lr_schedule_name(int s)
{
    return s == CU_LR_COSINE ? "cosine" : s == CU_LR_PLATEAU ? "plateau" : "constant";
}

int cu_lr_schedule_parse(const char *s)
{
    for (int k = CU_LR_CONSTANT; s && k <= CU_LR_PLATEAU; k++)
        if (!strcmp(s, cu_lr_schedule_name(k)))
            return k;
    return -1;
}

const char *cu_loss_name(enum cu_loss l)
{
    switch (l) {
    case CU_LOSS_DICE: return "dice";
    case CU_LOSS_BCE_DICE: return "bce+dice";
    default: return "bce";
    }
}

int cu_loss_parse(const char *s)
{
    if (!s)
        return -1;
    if (!strcmp(s, "bce"))
        return CU_LOSS_BCE;
    if (!strcmp(s, "dice"))
        return CU_LOSS_DICE;
    if (!strcmp(s, "bce+dice"))
        return CU_LOSS_BCE_DICE;
    return -1;
}

enum cu_status cu_train_config_check(const struct cu_train_config *cfg, struct cu_err *err)
{
    struct cu_unet_config ucfg = {cfg->image_size, cfg->channel_rate, (enum cu_upsample)cfg->upsample, 3};
    enum cu_status st = cu_unet_config_check(&ucfg, err);
    if (st)
        return st;
    if (cfg->epochs < 1 || cfg->epochs > 1000000)
        return cu_fail(err, CU_EUSAGE, "epochs (-e) %d must be between 1 and 1000000", cfg->epochs);
    if (cfg->batch < 1 || cfg->batch > 65536)
        return cu_fail(err, CU_EUSAGE, "batch size (--batch) %d must be between 1 and 65536", cfg->batch);
    if (!(cfg->val_split >= 0 && cfg->val_split < 1))
        return cu_fail(err, CU_EUSAGE, "validation split (--val-split) %g must be in [0, 1)", cfg->val_split);
    if (!(cfg->lr > 0) || !isfinite(cfg->lr))
        return cu_fail(err, CU_EUSAGE, "learning rate (--lr) %g must be a positive number", cfg->lr);
    if (cfg->patience < 0 || cfg->patience > 1000000)
        return cu_fail(err, CU_EUSAGE, "patience (--patience) %d must be between 0 (off) and 1000000", cfg->patience);
    if (cfg->lr_schedule < CU_LR_CONSTANT || cfg->lr_schedule > CU_LR_PLATEAU)
        return cu_fail(err, CU_EUSAGE, "unknown learning-rate schedule %d", cfg->lr_schedule);
    if (cfg->loss != CU_LOSS_BCE && cfg->loss != CU_LOSS_DICE && cfg->loss != CU_LOSS_BCE_DICE)
        return cu_fail(err, CU_EUSAGE, "unknown loss %d", (int)cfg->loss);
    if (!cfg->data_dir[0])
        return cu_fail(err, CU_EUSAGE,
                       "no training data: give --data DIR, a folder in the DSB2018 layout "
                       "(DIR/<id>/images/<id>.png, DIR/<id>/masks/*.png); for a first run make one with "
                       "`clunet synth --out DIR`");
    return CU_OK;
}
