/* fuzz_dataset.c: libFuzzer target for the dataset layout scanner and
 * loader (dataset_scan.c, dataset.c, dataset_labels.c). The input is a
 * small folder tree, one entry per line:
 *   path/      a folder
 *   path=K     a file, K picks its content: 0 empty, 1 an 8x8 RGB image,
 *              2 an 8x8 binary mask, 3 bytes that are not a PNG, 4 a 6x5
 *              mask (wrong size), 5 an 8x8 16-bit label image
 * Paths are relative, of [A-Za-z0-9._-] components (no "." or ".."), at
 * most 6 deep and 24 entries; other lines are ignored. The tree is built
 * in a scratch folder, scanned, and when small loaded at S=16 with labels
 * and the union of sample 0. The input's length picks need_masks and
 * skip_bad, so all four option sets are reached. */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clunet/dataset.h"

#define MAX_ENTRIES 24
#define MAX_DEPTH 6

static char tmpl[6][4096]; /* template files by content kind */

static int make_templates(void)
{
    static int done;
    if (done)
        return 0;
    const char *d = fz_scratch_dir("dataset-templates");
    if (!d)
        return -1;
    uint8_t rgb[8 * 8 * 3], m8[8 * 8], m6[6 * 5];
    uint16_t l16[8 * 8];
    for (int i = 0; i < 8 * 8 * 3; i++)
        rgb[i] = (uint8_t)(i * 7);
    for (int i = 0; i < 64; i++) {
        m8[i] = (i % 8 > 2 && i / 8 > 2) ? 255 : 0;
        l16[i] = (uint16_t)(i % 8 < 4 ? 1 : 700);
    }
    memset(m6, 255, sizeof m6);
    struct cu_err err = {0};
    for (int k = 0; k < 6; k++)
        snprintf(tmpl[k], sizeof tmpl[k], "%s/t%d.png", d, k);
    FILE *f = fopen(tmpl[0], "wb");
    if (f)
        fclose(f);
    f = fopen(tmpl[3], "wb");
    if (f) {
        fputs("GIF89a not a png", f);
        fclose(f);
    }
    if (cu_png_write_rgb8(tmpl[1], rgb, 8, 8, &err) || cu_png_write_gray8(tmpl[2], m8, 8, 8, &err) ||
        cu_png_write_gray8(tmpl[4], m6, 5, 6, &err) || cu_png_write_gray16(tmpl[5], l16, 8, 8, &err))
        return -1;
    done = 1;
    return 0;
}

static int good_path(const char *p)
{
    int depth = 1;
    if (!*p || *p == '/' || strlen(p) > 200)
        return 0;
    for (const char *c = p; *c; c++) {
        if (*c == '/') {
            depth++;
            continue;
        }
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '.' ||
              *c == '_' || *c == '-'))
            return 0;
    }
    if (depth > MAX_DEPTH || strstr(p, "//"))
        return 0;
    /* no "." or ".." component */
    for (const char *c = p; c; c = strchr(c, '/'), c = c ? c + 1 : NULL) {
        size_t n = strcspn(c, "/");
        if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
            return 0;
    }
    return 1;
}

/* mkdir -p of the folders of rel (all of it when dir_too). */
static void make_parents(const char *root, const char *rel, int dir_too)
{
    char p[4096];
    int n = snprintf(p, sizeof p, "%s/%s", root, rel);
    size_t start = strlen(root) + 1;
    for (size_t i = start; i < (size_t)n; i++)
        if (p[i] == '/') {
            p[i] = 0;
            mkdir(p, 0700);
            p[i] = '/';
        }
    if (dir_too)
        mkdir(p, 0700);
}

static void build_tree(const char *root, const uint8_t *data, size_t size)
{
    char line[256];
    size_t pos = 0;
    int entries = 0;
    while (pos < size && entries < MAX_ENTRIES) {
        size_t end = pos;
        while (end < size && data[end] != '\n')
            end++;
        size_t len = end - pos;
        if (len > 0 && len < sizeof line) {
            memcpy(line, data + pos, len);
            line[len] = 0;
            char *eq = strrchr(line, '=');
            if (line[len - 1] == '/') {
                line[len - 1] = 0;
                if (good_path(line))
                    make_parents(root, line, 1), entries++;
            } else if (eq && eq[1] >= '0' && eq[1] <= '5' && !eq[2]) {
                int kind = eq[1] - '0';
                *eq = 0;
                if (good_path(line)) {
                    char p[4096];
                    make_parents(root, line, 0);
                    snprintf(p, sizeof p, "%s/%s", root, line);
                    if (link(tmpl[kind], p) == 0)
                        entries++;
                }
            }
        }
        pos = end + 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (make_templates())
        abort(); /* a broken machine, not a finding */
    /* The decoded-mask cache (mask_cache.c) is fuzzed too, in a folder of
     * its own that is emptied per input, never the user's cache (set first:
     * fz_scratch_dir's buffer is reused). */
    const char *cache = fz_scratch_dir("dataset-cache");
    if (!cache || setenv("XDG_CACHE_HOME", cache, 1))
        abort();
    const char *root = fz_scratch_dir("dataset");
    if (!root)
        abort();
    build_tree(root, data, size);
    struct cu_dataset_opts o = {.size = 16, .need_masks = (int)(size & 1), .skip_bad = (int)((size >> 1) & 1),
                                .threads = 1, .progress = NULL};
    struct cu_dataset *ds = NULL;
    struct cu_err err = {0};
    if (!cu_dataset_scan(root, &o, &ds, &err)) {
        if (ds->n <= 8 && !cu_dataset_load(ds, &o, &err) && ds->n > 0 && ds->has_masks) {
            struct cu_labels lb = {0};
            struct cu_image un = {0};
            int count = 0;
            cu_err_clear(&err);
            if (!cu_dataset_labels(ds, 0, &lb, &count, &err))
                cu_labels_free(&lb);
            cu_err_clear(&err);
            if (!cu_dataset_union(ds, 0, &un, &err))
                cu_image_free(&un);
        }
        cu_dataset_free(ds);
    }
    fz_empty_dir(root);
    return 0;
}
