/* test_dataset_shard.c: cu_dataset_open_shared under `mpirun -n N`: each
 * rank decodes its shard, and every rank must end with exactly what
 * cu_dataset_open gives one process (bit-identical arrays, same ids, same
 * original sizes), also with fewer images than ranks, with a bad image
 * (the same first error, relayed as "rank R: ..." by the ranks that did
 * not read it) and with --skip-bad (the same samples and bad lines).
 * Each rank runs the single-process loader itself as the reference.
 * Leaves out: training (test_train_mpi), the collectives (test_comm). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clunet/comm.h"
#include "clunet/dataset.h"
#include "train/train_data.h"
#include "train_fixture.h"
#include "testutil.h"

static struct cu_comm *comm;
static int rank, size;

/* Rank 0 makes a folder with n images; every rank gets its path. */
static void make_data(char *dir, size_t cap, int n)
{
    struct cu_err err = {0};
    memset(dir, 0, cap);
    if (rank == 0) {
        char *d = tf_tmpdir("shard");
        snprintf(dir, cap, "%s", d);
        free(d);
        TU_CHECK(tf_make_dataset(dir, n, 32, 40, 7) == 0, "dataset of %d images in %s", n, dir);
    }
    tu_ok(cu_comm_bcast(comm, dir, cap, &err), &err, "bcast path");
}

static int same_ds(const struct cu_dataset *a, const struct cu_dataset *b)
{
    if (a->n != b->n || a->size != b->size || a->n_bad != b->n_bad || a->has_masks != b->has_masks)
        return 0;
    size_t ss = (size_t)a->size * (size_t)a->size, n = (size_t)a->n;
    for (int i = 0; i < a->n; i++)
        if (strcmp(a->samples[i].id, b->samples[i].id) || a->height[i] != b->height[i] ||
            a->width[i] != b->width[i])
            return 0;
    for (int i = 0; i < a->n_bad; i++)
        if (strcmp(a->bad[i], b->bad[i]))
            return 0;
    return !memcmp(a->images, b->images, 3 * ss * n * sizeof(float)) &&
           !memcmp(a->masks, b->masks, ss * n * sizeof(float));
}

static void check_same(const char *dir, int skip_bad, const char *what)
{
    struct cu_dataset_opts o = {.size = 32, .need_masks = 1, .skip_bad = skip_bad, .threads = 2};
    struct cu_dataset *ref = NULL, *got = NULL;
    struct cu_err e1 = {0}, e2 = {0};
    tu_ok(cu_dataset_open(dir, &o, &ref, &e1), &e1, "reference load");
    tu_ok(cu_dataset_open_shared(dir, &o, comm, &got, &e2), &e2, "shared load");
    TU_CHECK(ref && got && same_ds(ref, got), "%s: rank %d holds the single-process dataset (n=%d, bad=%d)",
             what, rank, got ? got->n : -1, got ? got->n_bad : -1);
    cu_dataset_free(ref);
    cu_dataset_free(got);
}

/* Overwrites the image of sorted sample i with bytes that are no PNG. */
static void spoil(const char *dir, int i)
{
    struct cu_err err = {0};
    if (rank == 0) {
        char path[4096];
        snprintf(path, sizeof path, "%s/img%03d/images/img%03d.png", dir, i, i);
        FILE *f = fopen(path, "wb");
        TU_CHECK(f && fputs("not a png", f) >= 0 && fclose(f) == 0, "spoiled %s", path);
    }
    tu_ok(cu_comm_agree(comm, CU_OK, &err), &err, "sync");
}

static void check_bad(const char *dir)
{
    struct cu_dataset_opts o = {.size = 32, .need_masks = 1, .threads = 2};
    struct cu_dataset *ref = NULL, *got = NULL;
    struct cu_err e1 = {0}, e2 = {0};
    enum cu_status s1 = cu_dataset_open(dir, &o, &ref, &e1);
    enum cu_status s2 = cu_dataset_open_shared(dir, &o, comm, &got, &e2);
    TU_CHECK(s1 == CU_EINPUT && s2 == CU_EINPUT && !got, "bad image: CU_EINPUT on rank %d (%d, %d)", rank, s1, s2);
    /* The first bad sample (sorted) is 3; rank 3 % size read it. */
    int owner = 3 % size;
    char want[2048];
    if (rank == owner)
        snprintf(want, sizeof want, "%s", e1.msg);
    else
        snprintf(want, sizeof want, "rank %d: %s", owner, e1.msg);
    TU_CHECK(!strcmp(e2.msg, want), "rank %d: error \"%s\" (want \"%s\")", rank, e2.msg, want);
    TU_CHECK(cu_comm_failed_rank(comm) == owner, "the agreed failure is rank %d's", cu_comm_failed_rank(comm));
    cu_dataset_free(ref);
    cu_dataset_free(got);
}

int main(int argc, char **argv)
{
    struct cu_err err = {0};
    tu_ok(cu_comm_open(&argc, &argv, &comm, &err), &err, "cu_comm_open");
    rank = cu_comm_rank(comm), size = cu_comm_size(comm);
    TU_CHECK(size >= 2, "run by mpirun with 2 or more ranks (%d)", size);
    char dir[1024], one[1024];
    make_data(dir, sizeof dir, 7);
    check_same(dir, 0, "7 images");
    make_data(one, sizeof one, 1);
    check_same(one, 0, "1 image, fewer than ranks");
    spoil(dir, 5);
    spoil(dir, 3);
    check_bad(dir);
    check_same(dir, 1, "--skip-bad with 2 bad images");
    tu_ok(cu_comm_agree(comm, CU_OK, &err), &err, "sync before cleanup");
    if (rank == 0) {
        tf_rmtree(dir);
        tf_rmtree(one);
    }
    int rc = tu_finish();
    cu_comm_close(comm);
    return rc;
}
