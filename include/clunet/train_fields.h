/* train_fields.h: the fields of the training configuration (struct
 * cu_train_config, train.h) as one table: name, flag, type, range,
 * default, help. The table drives `clunet train`'s flags and --help, the
 * checkpoint's "train.<name>" metadata (written and read), the
 * "configuration:" line of train.log, the defaults and the range checks.
 * A new field is one row here (src/train/train_config.c) plus its member
 * in struct cu_train_config. */
#ifndef CLUNET_TRAIN_FIELDS_H
#define CLUNET_TRAIN_FIELDS_H

#include <stddef.h>

#include "clunet/status.h"
#include "clunet/train.h"

enum cu_field_type {
    CU_FIELD_INT,    /* int, in imin..imax */
    CU_FIELD_I64,    /* long long, in imin..imax */
    CU_FIELD_U64,    /* uint64_t, any */
    CU_FIELD_DOUBLE, /* double, in dmin..dmax; lo_open / hi_open exclude an end */
    CU_FIELD_BOOL,   /* int 0/1; a flag without a value */
    CU_FIELD_TEXT,   /* char[size]: a path */
    CU_FIELD_CHOICE, /* int: the index of its name in choices */
    CU_FIELD_WORD,   /* char[size]: a word that valid() accepts, shown as "FLAG word" */
};

/* The --help sections of `clunet train` a field belongs to. */
enum cu_field_section { CU_FIELD_SEC_DATA, CU_FIELD_SEC_MODEL, CU_FIELD_SEC_NUCLEI };

struct cu_train_field {
    const char *name; /* checkpoint key "train.<name>"; train.log's label of a text field */
    const char *flag; /* "-s", "--batch" */
    const char *arg;  /* the value's name in --help ("N"); NULL for a plain flag */
    enum cu_field_type type;
    size_t offset, size; /* of the member in struct cu_train_config */
    long long imin, imax;
    double dmin, dmax;
    int lo_open, hi_open;
    const char *const *choices; /* NULL-terminated */
    const char *def;            /* the default as it would be typed; NULL: none (--data) */
    enum cu_field_section section;
    int saved;     /* in the checkpoint and the train.log line */
    int on_resume; /* may be given with --resume, overriding the run's own */
    int optional;  /* may be missing from older checkpoints (the default then);
                    * in the train.log line only when not the default */
    int (*valid)(const char *word); /* CU_FIELD_WORD: 1 when word is a value */
    const char *range;              /* CU_FIELD_WORD: what it takes, for messages */
    const char *help; /* lines separated by '\n', without the default */
};

extern const struct cu_train_field cu_train_fields[];
extern const int cu_train_nfields;

/* Sets field f of c from text (a bool takes "0" or "1"); 0, or -1 when
 * the text is not a value in the field's range (c unchanged). */
int cu_train_field_set(const struct cu_train_field *f, struct cu_train_config *c, const char *text);
/* The value of field f in c as text that cu_train_field_set reads back to
 * the same value: doubles with 17 significant digits when exact, else the
 * shortest text that reads back exactly (0.001, not 0.00100000000000000002). */
void cu_train_field_text(const struct cu_train_field *f, const struct cu_train_config *c, int exact, char *buf,
                         size_t size);
/* What field f takes: "an integer in 16..16384", "a number in (0, 64]",
 * "bce, dice or bce+dice", "a folder", "0 or 1". */
void cu_train_field_range(const struct cu_train_field *f, char *buf, size_t size);
/* The field whose flag is flag, or NULL. */
const struct cu_train_field *cu_train_field_by_flag(const char *flag);
/* Whether field f of a and b hold the same value. */
int cu_train_field_equal(const struct cu_train_field *f, const struct cu_train_config *a,
                         const struct cu_train_config *b);
/* Copies field f's value from src to dst. */
void cu_train_field_copy(const struct cu_train_field *f, struct cu_train_config *dst,
                         const struct cu_train_config *src);

/* train.log's configuration (without the "configuration: " prefix):
 * "data DIR, -s 128, -c 0.5, ..., --seed 1": every saved field in table
 * order, a bool's flag only when set, an optional field (the nuclei
 * recipe's) only when it is not at its default. cu_train_config_parse_line reads it
 * back (a data folder must not hold ", -"); CU_EINPUT naming the part. */
void cu_train_config_line(const struct cu_train_config *c, char *buf, size_t size);
enum cu_status cu_train_config_parse_line(const char *line, struct cu_train_config *c, struct cu_err *err);

#endif
