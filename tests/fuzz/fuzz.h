/* fuzz.h: what the clunet fuzz targets share: the libFuzzer entry point's
 * prototype, a scratch file per process for readers that take a path,
 * and the seed writer (fuzz_seeds.c). Leaves out the targets themselves
 * (fuzz_<target>.c) and the replay driver (replay_main.c). */
#ifndef CLUNET_FUZZ_H
#define CLUNET_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Writes data to a per-process scratch file named after tag under $TMPDIR
 * (or /tmp) and returns its path (static storage); NULL when it cannot.
 * The readers under test take paths, so each input goes through a file. */
const char *fz_scratch_file(const char *tag, const uint8_t *data, size_t size);

/* A fresh empty folder per process for tag (static storage), emptied first;
 * NULL on failure. */
const char *fz_scratch_dir(const char *tag);
/* Removes everything below dir (not dir itself). */
void fz_empty_dir(const char *dir);

/* Every reading path of the image reader on the file at path: probe,
 * every page (up to 4) as raw samples, then as network input, labels and a
 * mask union. Files over 2^20 pixels are only probed (the reader allows
 * 2^28 by design; that much memory is libFuzzer's limit, not a bug). */
void fz_read_image(const char *path);

/* Writes the seed corpus of target ("safetensors", "png", "csv",
 * "dataset", "tiff", "jpeg") into the existing folder dir; returns the number of files
 * written, or -1 on failure (a message on stderr). */
int fz_make_seeds(const char *target, const char *dir);

/* The seeds of the zip and keras_config targets (fuzz_seeds_keras.c);
 * same contract as fz_make_seeds. */
int fz_seeds_keras(const char *target, const char *dir);

/* The model the safetensors target loads into: S=16, c=1/32, bilinear,
 * 3 input channels, on the ref backend (built once per process). */
struct cu_unet *fz_seed_net(void);

#endif
