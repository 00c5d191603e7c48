/* rle.h: Kaggle run-length encoding of nuclei and the DSB2018 submission
 * CSV: encoding a label image, decoding with validation, writing the file
 * atomically and parsing it back. Leaves out image I/O and scoring.
 *
 * The encoding (DSB2018 "EncodedPixels"): pixels are numbered 1..H*W from
 * top to bottom, then left to right (column-major: pixel (y, x) is
 * x*H + y + 1); a nucleus is a space-separated list of pairs "start length",
 * starts increasing, runs not overlapping (Kaggle's checker: sorted,
 * positive, no pixel twice; clunet writes no touching runs). A run may
 * continue from the bottom of one column to the top of the next, exactly as
 * the numbering does.
 *
 * The CSV: header `ImageId,EncodedPixels`, then one row `id,pairs` per
 * nucleus; an image with no nucleus gets one row `id,` (empty pairs). Lines
 * end in "\n" ("\r\n" is accepted when reading). Image ids hold no comma,
 * quote, control character or space. Reading rejects, with CU_EINPUT and
 * "FILE:LINE: what is wrong": a wrong header, a line without exactly one
 * comma, an empty id, anything but decimal numbers, an odd count, a zero or
 * too large number, starts that do not increase past the previous run. Runs
 * past the image or overlapping another nucleus of the same image are
 * found when decoding against the image size (cu_sub_decode). */
#ifndef CLUNET_RLE_H
#define CLUNET_RLE_H

#include <stddef.h>
#include <stdint.h>

#include "clunet/status.h"

/* *out = malloc'd pairs string of the pixels equal to label in labels
 * (H*W, row-major); "" when there is none. Labels must lie in
 * 0..max(H*W, 65535), as the instance step makes them (per-label state is
 * an array); others give CU_EUSAGE, here and in the functions below. */
enum cu_status cu_rle_encode(char **out, const int32_t *labels, int h, int w, int32_t label, struct cu_err *err);

/* All nuclei in one pass: (*out)[l] is the pairs string of label l, NULL
 * where l has no pixel ((*out)[0] is NULL); *n_out = largest label + 1.
 * Free with cu_rle_free_all(*out, *n_out). */
enum cu_status cu_rle_encode_all(char ***out, int32_t *n_out, const int32_t *labels, int h, int w,
                                 struct cu_err *err);
void cu_rle_free_all(char **strs, int32_t n);

/* Checks the syntax of a pairs string (numbers, pairs, order; not the image
 * size): CU_EINPUT with "WHERE: what is wrong". */
enum cu_status cu_rle_check(const char *rle, const char *where, struct cu_err *err);

/* Sets labels[p] = label (labels H*W, row-major) for every pixel of the
 * pairs string rle. Fails with CU_EINPUT and "WHERE: what is wrong" on bad
 * syntax (see above), a run past H*W pixels, or a pixel already non-zero in
 * labels (overlap); labels may then be partly written. where names the
 * source, e.g. "sub.csv:12". */
enum cu_status cu_rle_decode(int32_t *labels, int h, int w, int32_t label, const char *rle, const char *where,
                             struct cu_err *err);

/* A submission: rows (image id, pairs, line in the file it came from). */
struct cu_sub;

enum cu_status cu_sub_new(struct cu_sub **out, struct cu_err *err);
void cu_sub_free(struct cu_sub *s);

/* NULL when image_id can be a submission's ImageId, else what is wrong
 * with it (empty, or a comma, quote, space or control character). */
const char *cu_sub_id_problem(const char *image_id);

/* Appends the rows of one image: one per nucleus, in label order (one pass
 * over the image), or one empty row when labels holds no nucleus. */
enum cu_status cu_sub_add(struct cu_sub *s, const char *image_id, const int32_t *labels, int h, int w,
                          struct cu_err *err);

/* Writes the CSV to path atomically (PATH.tmp.PID, then rename); CU_EIO on
 * failure, with nothing left behind. */
enum cu_status cu_sub_write(const struct cu_sub *s, const char *path, struct cu_err *err);

/* Parses a submission CSV (syntax checks above). */
enum cu_status cu_sub_read(struct cu_sub **out, const char *path, struct cu_err *err);

/* Rows, and row i's image id and pairs (valid until s is freed or grown). */
size_t cu_sub_rows(const struct cu_sub *s);
const char *cu_sub_image(const struct cu_sub *s, size_t i);
const char *cu_sub_pixels(const struct cu_sub *s, size_t i);

/* Decodes every row of image_id into labels (H*W, cleared first), nuclei
 * numbered 1..n in row order (empty rows skip); *n_out = n. An id with no
 * row gives n = 0. Errors name the file and line of the offending row. */
enum cu_status cu_sub_decode(const struct cu_sub *s, const char *image_id, int h, int w, int32_t *labels,
                             int *n_out, struct cu_err *err);

#endif
