/* predict_fixture.h: what the predict and eval tests share: a temporary
 * folder, running the clunet binary with its stdout and stderr captured,
 * a tiny He-initialised model saved through the unet/model-file API, and
 * synthetic PNGs of several flavours (libpng directly for RGBA). */
#ifndef CLUNET_PREDICT_FIXTURE_H
#define CLUNET_PREDICT_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

/* Creates a fresh temporary folder (once) and returns "<it>/<name>". */
const char *pf_path(const char *name);
/* Removes the temporary folder and everything in it. */
void pf_cleanup(void);

/* Runs "exe args"; stdout into out, stderr into err (either may be NULL);
 * returns the exit code (-1 if it did not exit normally). */
int pf_run(const char *exe, const char *args, char *out, size_t out_size, char *err, size_t err_size);
/* Lines in s (a last line without "\n" counts). */
int pf_lines(const char *s);

/* Saves a He-initialised U-Net (S, c, bilinear, 3 inputs, seed) to path;
 * 0 on success. */
int pf_make_model(const char *path, int S, double c, uint64_t seed);
/* The same with K output maps. */
int pf_make_model_k(const char *path, int S, double c, uint64_t seed, int K);

/* Synthetic images: bright blobs on a dark ramp, deterministic from seed. */
int pf_write_gray8(const char *path, int h, int w, uint64_t seed);
int pf_write_gray16(const char *path, int h, int w, uint64_t seed);
int pf_write_rgb8(const char *path, int h, int w, uint64_t seed);
int pf_write_rgba8(const char *path, int h, int w, uint64_t seed);

/* Number of regular files in dir (hidden ones included), -1 on error. */
int pf_count_files(const char *dir);

#endif
