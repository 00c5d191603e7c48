/* safetensors.h: reading and writing safetensors files of floating-point
 * tensors (https://huggingface.co/docs/safetensors/): an 8-byte little-endian
 * header length N, N bytes of JSON header, then the raw little-endian data.
 * The header maps each tensor name to {"dtype": "F32", "shape": [...],
 * "data_offsets": [begin, end]} (byte offsets into the data) and holds
 * string-to-string metadata under "__metadata__".
 *
 * The writer lays tensors out in name order, contiguous, pads the header
 * with spaces to a multiple of 8 bytes (as the Python package does) and
 * writes atomically (temporary name in the same folder, then rename). The
 * reader validates everything before use: file size against the header
 * length, JSON syntax, dtype (F32, F16 or BF16), shapes, offsets inside the
 * data and not overlapping; each failure is CU_EINPUT with one line naming
 * the file. Every tensor reads as float32 whatever it is stored as (F16 and
 * BF16 widen exactly); a writer stores all its tensors as F32 (default) or
 * F16. What a U-Net file must hold is model_file.h's business. */
#ifndef CLUNET_SAFETENSORS_H
#define CLUNET_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "clunet/backend.h"

#define CU_ST_MAX_DIMS 8
/* The largest header accepted (the Python package's limit is 100 MB). */
#define CU_ST_MAX_HEADER (100u * 1024u * 1024u)

/* How a tensor is stored in the file. */
enum cu_st_dtype { CU_ST_F32, CU_ST_F16, CU_ST_BF16 };

/* "F32", "F16", "BF16": the names in the header. */
const char *cu_st_dtype_name(enum cu_st_dtype d);
/* A dtype from its header name or lower case ("f16"), or -1. */
int cu_st_dtype_parse(const char *s);

struct cu_st_entry {
    const char *name;
    enum cu_st_dtype dtype; /* as stored; data is float32 all the same */
    int ndim;
    int64_t shape[CU_ST_MAX_DIMS];
    size_t numel;
    const float *data; /* numel floats in host order, inside the file's buffer */
};

/* ---- writing ---- */

struct cu_st_writer;

enum cu_status cu_st_writer_new(struct cu_st_writer **out, struct cu_err *err);
void cu_st_writer_free(struct cu_st_writer *w);
/* How every tensor is stored (default CU_ST_F32; CU_ST_F16 rounds to
 * nearest even, and writing refuses with CU_EINPUT a finite value beyond
 * +-65504, which F16 cannot hold). BF16 is read, never written. */
enum cu_status cu_st_writer_dtype(struct cu_st_writer *w, enum cu_st_dtype d, struct cu_err *err);
/* Adds (or replaces) a metadata string; both are copied. */
enum cu_status cu_st_writer_meta(struct cu_st_writer *w, const char *key, const char *value, struct cu_err *err);
/* Adds a tensor from host floats, copied now. */
enum cu_status cu_st_writer_add(struct cu_st_writer *w, const char *name, int ndim, const int64_t *shape,
                                const float *data, struct cu_err *err);
/* Adds a backend tensor: downloads its current numel floats now. */
enum cu_status cu_st_writer_add_tensor(struct cu_st_writer *w, const char *name, int ndim, const int64_t *shape,
                                       const struct cu_tensor *t, struct cu_err *err);
/* Writes the file atomically (items end up sorted by name); CU_EIO naming
 * path on failure. */
enum cu_status cu_st_writer_write(struct cu_st_writer *w, const char *path, struct cu_err *err);

/* ---- reading ---- */

struct cu_st_file;

/* Reads and validates the whole file. */
enum cu_status cu_st_file_read(const char *path, struct cu_st_file **out, struct cu_err *err);
void cu_st_file_free(struct cu_st_file *f);
const char *cu_st_file_path(const struct cu_st_file *f);
/* Metadata value for key, or NULL. */
const char *cu_st_file_meta(const struct cu_st_file *f, const char *key);
/* The metadata in key order: n_meta pairs, the i-th through *key, *value. */
int cu_st_file_meta_count(const struct cu_st_file *f);
void cu_st_file_meta_at(const struct cu_st_file *f, int i, const char **key, const char **value);
int cu_st_file_count(const struct cu_st_file *f);
/* Entries in name order. */
const struct cu_st_entry *cu_st_file_entry(const struct cu_st_file *f, int i);
/* The entry called name, or NULL. */
const struct cu_st_entry *cu_st_file_find(const struct cu_st_file *f, const char *name);

#endif
