/* synth.h: the built-in synthetic nuclei dataset (`clunet synth`), written
 * in the DSB2018 training layout so that every loader, trainer and
 * evaluator path runs on it unchanged:
 *
 *   OUT/stage1_train/<id>/images/<id>.png   8-bit RGB
 *   OUT/stage1_train/<id>/masks/<mid>.png   one 8-bit 0/255 mask per nucleus
 *
 * Each image: ellipse-like nuclei of varied size, elongation, orientation
 * and brightness with a smooth texture; a third of them placed against an
 * earlier one so that neighbours touch or overlap (each pixel then belongs
 * to the nucleus whose centre is nearest in its own ellipse metric, so the
 * masks never overlap); uneven illumination, slight optical blur and noise.
 * About a fifth of the images are brightfield-like (dark purple nuclei on
 * a light background), the rest fluorescence (bright on dark, gray or
 * tinted).
 *
 * Deterministic: image i depends only on (seed, i, width, height), so the
 * same arguments give byte-identical files, and a larger count only adds
 * images. Ids are 16 hex digits derived from (seed, i) (sorting them mixes
 * the styles, so the last-10 % validation split sees both).
 *
 * Not here: loading (dataset.h). */
#ifndef CLUNET_SYNTH_H
#define CLUNET_SYNTH_H

#include <stdint.h>
#include <stdio.h>

#include "clunet/status.h"

struct cu_synth_opts {
    const char *out; /* folder; OUT/stage1_train must not exist yet */
    int count;       /* images */
    int width, height;
    uint64_t seed;
    FILE *progress;  /* progress bar stream, or NULL */
};

/* Image index of seed into rgb (h*w*3, interleaved) and labels (h*w,
 * 0 = background, 1..K); *count gets K (>= 1). */
enum cu_status cu_synth_sample(uint64_t seed, int index, int h, int w, uint8_t *rgb, uint16_t *labels,
                               int *count, struct cu_err *err);

/* The 16-hex-digit id of image index (17 bytes with the 0). */
void cu_synth_id(uint64_t seed, int index, char id[17]);

/* Writes the whole dataset into a temporary folder beside OUT/stage1_train
 * and renames it into place at the end: an interrupted run leaves no
 * partial dataset. CU_EIO when OUT/stage1_train exists or cannot be
 * written; CU_EUSAGE for sizes below 16 or counts below 1. */
enum cu_status clunet_synth(const struct cu_synth_opts *o, struct cu_err *err);

#endif
