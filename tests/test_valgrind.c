/* test_valgrind.c: memcheck on the two long-running paths, with the ref
 * backend: one `clunet train` step (4 images, half held out, batch 2: one
 * training batch and one validation batch, S=16, c=0.125) and one predict
 * (`clunet predict` of one image: model load, PNG read, resize, forward,
 * watershed, mask, labels and submission writes).
 * valgrind --error-exitcode=99: any invalid read/write, use of
 * uninitialised memory or definite leak fails the check. PoCL is never
 * loaded (--device ref). Runs only in builds without sanitizers.
 * Usage: test_valgrind VALGRIND CLUNET */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "train_fixture.h"

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: test_valgrind VALGRIND CLUNET\n");
        return 1;
    }
    char *tmp = tf_tmpdir("valgrind");
    char data[1000], run[1000], model[2000], image[2000], out[2000], logp[2000];
    snprintf(data, sizeof data, "%s/data", tmp);
    snprintf(run, sizeof run, "%s/run", tmp);
    snprintf(model, sizeof model, "%s/model.safetensors", run);
    snprintf(image, sizeof image, "%s/img000/images/img000.png", data);
    snprintf(out, sizeof out, "%s/pred", tmp);
    snprintf(logp, sizeof logp, "%s/valgrind.log", tmp);
    TU_CHECK(tf_make_dataset(data, 4, 24, 20, 5) == 0, "tiny dataset written");

    char *vg[] = {argv[1], "--error-exitcode=99", "-q", "--leak-check=full", "--errors-for-leak-kinds=definite",
                  NULL};
    char *train[] = {argv[2], "train", "--device", "ref", "--data", data, "--out", run, "-s", "16", "-c", "0.125",
                     "-e", "1", "--batch", "2", "--val-split", "0.5", "-q", NULL};
    char *argv_t[32], *argv_p[16];
    int k = 0;
    for (int i = 0; vg[i]; i++)
        argv_t[k++] = vg[i];
    for (int i = 0; train[i]; i++)
        argv_t[k++] = train[i];
    argv_t[k] = NULL;
    int rc = tf_run(argv_t, logp);
    char *log = tf_read(tmp, "valgrind.log", NULL);
    TU_CHECK(rc == 0 && tf_exists(run, "model.safetensors"), "valgrind clunet train (one ref step): rc %d%s%s", rc,
             rc ? "\n" : "", rc && log ? log : "");
    free(log);

    char sub[2100];
    snprintf(sub, sizeof sub, "%s/sub.csv", tmp);
    char *pred[] = {argv[2], "predict", model, image, "--out", out, "--device", "ref", "--instances", "--submission",
                    sub, "-q", NULL};
    k = 0;
    for (int i = 0; vg[i]; i++)
        argv_p[k++] = vg[i];
    for (int i = 0; pred[i]; i++)
        argv_p[k++] = pred[i];
    argv_p[k] = NULL;
    rc = tf_run(argv_p, logp);
    log = tf_read(tmp, "valgrind.log", NULL);
    TU_CHECK(rc == 0 && tf_exists(out, "img000.png") && tf_exists(tmp, "sub.csv"),
             "valgrind clunet predict (one image, mask + labels + submission): rc %d%s%s", rc,
             rc ? "\n" : "", rc && log ? log : "");
    free(log);
    tf_rmtree(tmp);
    free(tmp);
    return tu_finish();
}
