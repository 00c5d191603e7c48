/* train_fixture.h: helpers of the training tests: a tiny deterministic
 * dataset in the DSB2018 layout (bright discs on a noisy background, one
 * mask file per disc), running the clunet binary, and comparing the
 * tensors of two safetensors files. */
#ifndef CLUNET_TRAIN_FIXTURE_H
#define CLUNET_TRAIN_FIXTURE_H

#include <stdint.h>

#include "clunet/train.h"

/* Writes n images of h x w into dir/<id>/images/<id>.png with their disc
 * masks in dir/<id>/masks/; returns 0 on success. */
int tf_make_dataset(const char *dir, int n, int h, int w, uint64_t seed);
/* A fresh folder under $TMPDIR (malloc'd path; the caller frees). */
char *tf_tmpdir(const char *tag);
/* Runs argv (argv[0] a path, NULL-terminated) with stdout+stderr into
 * log_path (may be NULL: /dev/null); returns the exit status, 128+sig when
 * killed, -1 when it could not start. */
int tf_run(char *const argv[], const char *log_path);
/* Starts argv in the background (output to log_path); returns the pid. */
int tf_spawn(char *const argv[], const char *log_path);
/* Waits for pid; returns as tf_run. */
int tf_wait(int pid);
/* 1 when the file exists. */
int tf_exists(const char *dir, const char *name);
/* Reads a whole file (malloc'd, NUL-terminated); NULL if missing. */
char *tf_read(const char *dir, const char *name, long *len);
/* 1 when both safetensors files hold the same tensor names with
 * bit-identical data; prints the first difference. */
int tf_same_tensors(const char *a, const char *b);
/* Library options of the small resume runs: data, S=16, c=0.125, batch 4,
 * --augment, seed 7, the given run folder (NULL on resume) and epochs;
 * quiet, no device chosen (the caller sets device or devices). */
struct cu_train_opts tf_lib_opts(const char *data, const char *out, int epochs);
/* Removes a folder tree made by a test. */
void tf_rmtree(const char *dir);

#endif
