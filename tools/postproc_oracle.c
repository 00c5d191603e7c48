/* postproc_oracle.c: how well the instance step re-splits perfect masks
 * (developer tool, not part of the build). For each label image dumped by
 * postproc_oracle_dump.py, the union of its nuclei is taken as the
 * probability map (1 inside, 0 outside) and split again by plain connected
 * components and by the watershed at several h; the mean DSB2018 score
 * against the true labels is printed per setting. This is the ceiling of
 * the post-processing: with a perfect network, only splitting loses.
 *
 *   ninja -C build
 *   cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Iinclude tools/postproc_oracle.c \
 *      build/src/libclunet.a -lm -o /tmp/postproc_oracle
 *   /tmp/postproc_oracle /tmp/oracle [MIN_SIZE [DUMP_H [SIGMA]]]
 *
 * SIGMA > 0 blurs the union mask with a Gaussian of that many pixels before
 * thresholding at 0.5: a stand-in for a network's soft output, which
 * rounds corners and fills the necks between touching nuclei.
 *
 * With DUMP_H, the watershed labels at that h are also written to
 * DIR/<id>.bin.pred (raw int32, no header) and each image's score to
 * DIR/scores.txt, for tools/dsb_score_check.py to recompute independently.
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clunet/instances.h"
#include "clunet/metrics.h"

/* Separable Gaussian blur of x (h, w) in place, radius 3 sigma, edges
 * clamped. */
static void blur(float *x, int h, int w, double sigma)
{
    int r = (int)(3 * sigma + 0.5);
    double *k = malloc((size_t)(2 * r + 1) * sizeof *k), sum = 0;
    for (int i = -r; i <= r; i++)
        sum += k[i + r] = exp(-0.5 * i * i / (sigma * sigma));
    for (int i = 0; i <= 2 * r; i++)
        k[i] /= sum;
    float *t = malloc((size_t)h * w * sizeof *t);
    for (int y = 0; y < h; y++)
        for (int x0 = 0; x0 < w; x0++) {
            double a = 0;
            for (int i = -r; i <= r; i++) {
                int xx = x0 + i < 0 ? 0 : x0 + i >= w ? w - 1 : x0 + i;
                a += k[i + r] * x[(size_t)y * w + xx];
            }
            t[(size_t)y * w + x0] = (float)a;
        }
    for (int y = 0; y < h; y++)
        for (int x0 = 0; x0 < w; x0++) {
            double a = 0;
            for (int i = -r; i <= r; i++) {
                int yy = y + i < 0 ? 0 : y + i >= h ? h - 1 : y + i;
                a += k[i + r] * t[(size_t)yy * w + x0];
            }
            x[(size_t)y * w + x0] = (float)a;
        }
    free(t);
    free(k);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: postproc_oracle DIR [MIN_SIZE]\n");
        return 1;
    }
    static const float hs[] = {-1, 0, 0.5f, 1, 1.5f, 2, 2.5f, 3, 4, 6}; /* -1: components */
    enum { NH = sizeof hs / sizeof hs[0] };
    int min_size = argc > 2 ? atoi(argv[2]) : 0;
    float dump_h = argc > 3 ? (float)atof(argv[3]) : -1;
    double sigma = argc > 4 ? atof(argv[4]) : 0;
    FILE *scores = NULL;
    if (dump_h >= 0) {
        char sp[4096];
        snprintf(sp, sizeof sp, "%s/scores.txt", argv[1]);
        scores = fopen(sp, "w");
        if (!scores) {
            perror(sp);
            return 2;
        }
    }
    double sum[NH] = {0};
    int images = 0;
    DIR *d = opendir(argv[1]);
    if (!d) {
        perror(argv[1]);
        return 2;
    }
    for (struct dirent *e; (e = readdir(d));) {
        if (!ends_with(e->d_name, ".bin"))
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", argv[1], e->d_name);
        FILE *f = fopen(path, "rb");
        int hw[2];
        if (!f || fread(hw, sizeof(int), 2, f) != 2 || hw[0] <= 0 || hw[1] <= 0) {
            fprintf(stderr, "%s: bad file\n", path);
            return 2;
        }
        size_t n = (size_t)hw[0] * hw[1];
        int32_t *truth = malloc(n * sizeof *truth), *lab = malloc(n * sizeof *lab);
        float *prob = malloc(n * sizeof *prob);
        if (fread(truth, sizeof *truth, n, f) != n) {
            fprintf(stderr, "%s: short file\n", path);
            return 2;
        }
        fclose(f);
        for (size_t i = 0; i < n; i++)
            prob[i] = truth[i] ? 1.0f : 0.0f;
        if (sigma > 0)
            blur(prob, hw[0], hw[1], sigma);
        for (int k = 0; k < NH; k++) {
            struct cu_inst_opts o;
            cu_inst_opts_default(&o);
            o.watershed = hs[k] >= 0;
            o.h = hs[k] >= 0 ? hs[k] : 0;
            o.min_size = min_size;
            struct cu_err err = {0};
            struct cu_dsb_score s;
            int count;
            if (cu_instances_from_prob(lab, &count, NULL, prob, hw[0], hw[1], &o, &err) ||
                cu_dsb_score(&s, lab, truth, hw[0], hw[1], &err)) {
                fprintf(stderr, "%s: %s\n", path, err.msg);
                return 2;
            }
            sum[k] += s.score;
            if (scores && hs[k] == dump_h) {
                char pp[4200];
                snprintf(pp, sizeof pp, "%s.pred", path);
                FILE *g = fopen(pp, "wb");
                if (!g || fwrite(lab, sizeof *lab, n, g) != n) {
                    perror(pp);
                    return 2;
                }
                fclose(g);
                fprintf(scores, "%s %.12f\n", e->d_name, s.score);
            }
        }
        images++;
        free(truth);
        free(lab);
        free(prob);
    }
    closedir(d);
    if (scores)
        fclose(scores);
    for (int k = 0; k < NH; k++) {
        if (hs[k] < 0)
            printf("components          min_size %2d: mean DSB %.4f over %d images\n", min_size, sum[k] / images,
                   images);
        else
            printf("watershed h %.1f     min_size %2d: mean DSB %.4f over %d images\n", (double)hs[k], min_size,
                   sum[k] / images, images);
    }
    return 0;
}
