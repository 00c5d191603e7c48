/* test_train_hash.c: training on `ref` is bit-identical to the committed
 * digests. Two tiny runs of 3 epochs each (16 synthetic 48x48 images read
 * at S=32, c=0.125): bilinear up-sampling with --augment, batch 4 and bce;
 * transposed up-sampling, batch 3 (a partial last batch) and bce+dice.
 * For each, the SHA-256 over the final weights (model.safetensors) and
 * over the Adam moments (checkpoint.safetensors) must equal the digests
 * below, computed by this test from the code before the network became a
 * layer table with flat parameter buffers. Any change to what `ref`
 * computes, in what order, shows here: a refactoring must keep them; a
 * deliberate change of the numbers must say so and update them.
 *
 * What is hashed, per tensor in name order: the name and a NUL, the rank
 * and each dimension as 8-byte little-endian integers, then the float32
 * data bytes as stored in the file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clunet/safetensors.h"
#include "clunet/train.h"
#include "clunet/unet.h"
#include "sha256.h"
#include "testutil.h"
#include "train_fixture.h"

struct run {
    const char *what;
    int upsample, batch, augment;
    enum cu_loss loss;
    uint64_t seed;
    const char *weights, *moments; /* expected digests */
};

static const struct run runs[] = {
    {"bilinear, augment, batch 4, bce", CU_UPSAMPLE_BILINEAR, 4, 1, CU_LOSS_BCE, 5,
     "5e234c120f50025c794d6211b8b0cb1b00c882218592c22ac87be91f3929d8c6",
     "0a4f11ac38a1bb69dd3338a1474ad1e22566f9f488a09d5a8a8da5367b93031a"},
    {"transposed, batch 3, bce+dice", CU_UPSAMPLE_TRANSPOSED, 3, 0, CU_LOSS_BCE_DICE, 11,
     "c95388f7d39ec49d3145b72a48714d2b21f26d32336896a6a99f75d7c7d1ddb8",
     "e7c491f333c856c13c117003cd2e53d1c2cb7181466e2ffb229ebbf969d7e63a"},
};

static void put_u64(struct sha256 *s, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    sha256_update(s, b, 8);
}

/* Digest of the tensors of path whose name starts with prefix ("" = all
 * but those starting with "adam."); 0 when the file cannot be read. */
static int digest(const char *path, const char *prefix, char hex[65])
{
    struct cu_st_file *f = NULL;
    struct cu_err err = {0};
    if (!tu_ok(cu_st_file_read(path, &f, &err), &err, path))
        return 0;
    struct sha256 s;
    sha256_init(&s);
    int n = 0;
    for (int i = 0; i < cu_st_file_count(f); i++) {
        const struct cu_st_entry *e = cu_st_file_entry(f, i);
        int is_adam = strncmp(e->name, "adam.", 5) == 0;
        if (*prefix ? strncmp(e->name, prefix, strlen(prefix)) != 0 : is_adam)
            continue;
        sha256_update(&s, e->name, strlen(e->name) + 1);
        put_u64(&s, (uint64_t)e->ndim);
        for (int d = 0; d < e->ndim; d++)
            put_u64(&s, (uint64_t)e->shape[d]);
        sha256_update(&s, e->data, e->numel * sizeof(float));
        n++;
    }
    cu_st_file_free(f);
    sha256_hex(&s, hex);
    return n > 0;
}

static void check_sha256(void)
{
    /* FIPS 180-4's examples: "abc" and the 448-bit two-block message. */
    static const char *msg[2] = {"abc", "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"};
    static const char *want[2] = {"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                                  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"};
    for (int i = 0; i < 2; i++) {
        struct sha256 s;
        char hex[65];
        sha256_init(&s);
        sha256_update(&s, msg[i], strlen(msg[i]));
        sha256_hex(&s, hex);
        TU_CHECK(strcmp(hex, want[i]) == 0, "SHA-256 of FIPS 180-4 example %d: %s", i + 1, hex);
    }
}

int main(void)
{
    unsetenv("CLUNET_DEVICE");
    check_sha256();
    char *tmp = tf_tmpdir("train-hash");
    char data[1000], out[4096], path[4200];
    snprintf(data, sizeof data, "%s/data", tmp);
    TU_CHECK(tf_make_dataset(data, 16, 48, 48, 21) == 0, "16 images of 48x48 written");
    for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
        const struct run *run = &runs[r];
        snprintf(out, sizeof out, "%s/run%zu", tmp, r);
        struct cu_train_opts o = tf_lib_opts(data, out, 3);
        o.cfg.image_size = 32;
        o.cfg.channel_rate = 0.125;
        o.cfg.upsample = run->upsample;
        o.cfg.batch = run->batch;
        o.cfg.augment = run->augment;
        o.cfg.loss = run->loss;
        o.cfg.seed = run->seed;
        o.device = "ref";
        struct cu_err err = {0};
        int interrupted = 0;
        if (!tu_ok(clunet_train(&o, &interrupted, &err), &err, run->what))
            continue;
        char hex[65];
        snprintf(path, sizeof path, "%s/model.safetensors", out);
        if (TU_CHECK(digest(path, "", hex), "%s: weights read", run->what))
            TU_CHECK(strcmp(hex, run->weights) == 0, "%s: weights' SHA-256 %s, expected %s", run->what, hex,
                     run->weights);
        snprintf(path, sizeof path, "%s/checkpoint.safetensors", out);
        if (TU_CHECK(digest(path, "adam.", hex), "%s: Adam moments read", run->what))
            TU_CHECK(strcmp(hex, run->moments) == 0, "%s: Adam moments' SHA-256 %s, expected %s", run->what, hex,
                     run->moments);
    }
    tf_rmtree(tmp);
    free(tmp);
    return tu_finish();
}
