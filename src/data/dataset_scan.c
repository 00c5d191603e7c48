/* dataset_scan.c: finding a dataset's layout and its samples (dataset.h),
 * and the folder helpers of dataset_impl.h. Reads folder listings and file
 * metadata only, never pixels (dataset.c does that).
 *
 * Not here: loading, labels, splitting. */
#include "data/dataset_impl.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char *cu_layout_name(enum cu_layout l)
{
    switch (l) {
    case CU_LAYOUT_DSB_TRAIN: return "DSB2018 training layout (<id>/images/<id>.png + <id>/masks/*.png)";
    case CU_LAYOUT_DSB_TEST: return "DSB2018 test layout (<id>/images/<id>.png, no masks)";
    case CU_LAYOUT_PAIRS: return "images/ + masks/ layout";
    case CU_LAYOUT_FLAT: return "folder of images (no masks)";
    }
    return "?";
}

int cu_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int cu_is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

char *cu_path_join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    while (la > 1 && a[la - 1] == '/')
        la--;
    char *p = malloc(la + lb + 2);
    if (!p)
        return NULL;
    memcpy(p, a, la);
    p[la] = '/';
    memcpy(p + la + 1, b, lb + 1);
    return p;
}

/* The extensions of image files (case-insensitive), in the order a DSB
 * <id>/images/<id>.EXT is looked for. */
static const char *const image_ext[] = {"png", "tif", "tiff", "jpg", "jpeg"};
#define N_IMAGE_EXT (sizeof image_ext / sizeof image_ext[0])

int cu_is_image_name(const char *s)
{
    const char *dot = strrchr(s, '.');
    if (!dot || dot == s)
        return 0;
    for (size_t i = 0; i < N_IMAGE_EXT; i++) {
        size_t k = 0;
        while (image_ext[i][k] && tolower((unsigned char)dot[1 + k]) == image_ext[i][k])
            k++;
        if (!image_ext[i][k] && !dot[1 + k])
            return 1;
    }
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void cu_names_free(char **names, int n)
{
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

enum cu_status cu_dir_list(const char *dir, enum cu_dir_want want, char ***names, int *n, struct cu_err *err)
{
    DIR *d = opendir(dir);
    if (!d)
        return cu_fail(err, CU_EINPUT, "%s: %s", dir, strerror(errno));
    char **v = NULL;
    int k = 0, cap = 0;
    enum cu_status st = CU_OK;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        if (want == CU_DIR_IMAGES && !cu_is_image_name(e->d_name))
            continue;
        if (want == CU_DIR_OTHER_FILES && cu_is_image_name(e->d_name))
            continue;
        char *p = cu_path_join(dir, e->d_name);
        int keep = p && (want == CU_DIR_SUBDIRS ? cu_is_dir(p) : cu_is_file(p));
        free(p);
        if (!keep)
            continue;
        if (k == cap) {
            cap = cap ? 2 * cap : 64;
            char **nv = realloc(v, sizeof *v * (size_t)cap);
            if (!nv) {
                st = cu_fail(err, CU_EDEVICE, "%s: out of memory listing the folder", dir);
                break;
            }
            v = nv;
        }
        if (!(v[k] = strdup(e->d_name))) {
            st = cu_fail(err, CU_EDEVICE, "%s: out of memory listing the folder", dir);
            break;
        }
        k++;
    }
    closedir(d);
    if (st) {
        cu_names_free(v, k);
        return st;
    }
    if (k)
        qsort(v, (size_t)k, sizeof *v, cmp_str);
    *names = v, *n = k;
    return CU_OK;
}

/* ---- building the sample list ---- */

struct scan {
    struct cu_dataset *ds;
    int cap, bad_cap;
    int skip_bad;
};

static enum cu_status add_sample(struct scan *s, const char *id, char *image, char *masks, struct cu_err *err)
{
    struct cu_dataset *ds = s->ds;
    char *idc = strdup(id);
    if (!idc || !image || (masks == NULL && ds->has_masks)) {
        free(idc), free(image), free(masks);
        return cu_fail(err, CU_EDEVICE, "%s: out of memory", ds->dir);
    }
    if (ds->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 64;
        struct cu_sample *v = realloc(ds->samples, sizeof *v * (size_t)s->cap);
        if (!v) {
            free(idc), free(image), free(masks);
            return cu_fail(err, CU_EDEVICE, "%s: out of memory", ds->dir);
        }
        ds->samples = v;
    }
    ds->samples[ds->n++] = (struct cu_sample){idc, image, masks};
    return CU_OK;
}

/* A bad sample: an error, or (skip_bad) a line in ds->bad. */
static enum cu_status bad_sample(struct scan *s, const char *line, struct cu_err *err)
{
    if (!s->skip_bad)
        return cu_fail(err, CU_EINPUT, "%s", line);
    struct cu_dataset *ds = s->ds;
    if (ds->n_bad == s->bad_cap) {
        s->bad_cap = s->bad_cap ? 2 * s->bad_cap : 16;
        char **v = realloc(ds->bad, sizeof *v * (size_t)s->bad_cap);
        if (!v)
            return cu_fail(err, CU_EDEVICE, "%s: out of memory", ds->dir);
        ds->bad = v;
    }
    if (!(ds->bad[ds->n_bad] = strdup(line)))
        return cu_fail(err, CU_EDEVICE, "%s: out of memory", ds->dir);
    ds->n_bad++;
    return CU_OK;
}

/* Records the regular files of dir that are not images in ds->skipped
 * (reported once by cu_dataset_print_skipped). */
static enum cu_status note_others(struct scan *s, const char *dir, struct cu_err *err)
{
    struct cu_dataset *ds = s->ds;
    char **names = NULL;
    int n = 0;
    if (cu_dir_list(dir, CU_DIR_OTHER_FILES, &names, &n, &(struct cu_err){0}) != CU_OK)
        return CU_OK; /* the listing that matters reports an unreadable folder */
    enum cu_status st = CU_OK;
    if (n) {
        char **v = realloc(ds->skipped, sizeof *v * (size_t)(ds->n_skipped + n));
        if (!v)
            st = cu_fail(err, CU_EDEVICE, "%s: out of memory", dir);
        else
            ds->skipped = v;
    }
    for (int i = 0; i < n && !st; i++) {
        char *p = cu_path_join(dir, names[i]);
        if (!p)
            st = cu_fail(err, CU_EDEVICE, "%s: out of memory", dir);
        else
            ds->skipped[ds->n_skipped++] = p;
    }
    cu_names_free(names, n);
    return st;
}

void cu_dataset_print_skipped(const struct cu_dataset *ds, FILE *f)
{
    if (!f || !ds->n_skipped)
        return;
    fprintf(f, "data: skipped %d file%s that %s not PNG, TIFF or JPEG:", ds->n_skipped, ds->n_skipped > 1 ? "s" : "",
            ds->n_skipped > 1 ? "are" : "is");
    int show = ds->n_skipped <= 6 ? ds->n_skipped : 5;
    for (int i = 0; i < show; i++)
        fprintf(f, " %s%s", ds->skipped[i], i + 1 < show ? "," : "");
    if (show < ds->n_skipped)
        fprintf(f, " and %d more", ds->n_skipped - show);
    fputc('\n', f);
}

/* DIR/<id>/images/<id>.EXT (the first of image_ext that exists), or NULL. */
static char *dsb_image(const char *dir, const char *id)
{
    for (size_t k = 0; k < N_IMAGE_EXT; k++) {
        char rel[600];
        snprintf(rel, sizeof rel, "%s/images/%s.%s", id, id, image_ext[k]);
        char *p = cu_path_join(dir, rel);
        if (!p || cu_is_file(p))
            return p;
        free(p);
    }
    return NULL;
}

/* DSB: DIR/<id>/images/<id>.png (or .tif, .tiff, .jpg, .jpeg) and, for
 * training, DIR/<id>/masks/ with at least one image. */
static enum cu_status scan_dsb(struct scan *s, char **ids, int n, struct cu_err *err)
{
    struct cu_dataset *ds = s->ds;
    enum cu_status st = CU_OK;
    char line[1200];
    for (int i = 0; i < n && !st; i++) {
        char rel[600];
        snprintf(rel, sizeof rel, "%s/images", ids[i]);
        char *imdir = cu_path_join(ds->dir, rel);
        if (!imdir)
            return cu_fail(err, CU_EDEVICE, "%s: out of memory", ds->dir);
        if (!cu_is_dir(imdir)) { /* not a sample folder: ignored, as a README or a zip would be */
            free(imdir);
            continue;
        }
        st = note_others(s, imdir, err);
        char *image = st ? NULL : dsb_image(ds->dir, ids[i]);
        if (!st && !image) {
            snprintf(line, sizeof line, "%s/%s.png: missing (each <id>/images/ holds <id>.png, .tif or .jpg)", imdir,
                     ids[i]);
            st = bad_sample(s, line, err);
        }
        free(imdir);
        if (!image)
            continue;
        char *masks = NULL;
        if (ds->has_masks) {
            snprintf(rel, sizeof rel, "%s/masks", ids[i]);
            masks = cu_path_join(ds->dir, rel);
            char **mn = NULL;
            int nm = 0;
            struct cu_err e2 = {0};
            if (masks && !cu_is_dir(masks)) {
                snprintf(line, sizeof line, "%s: missing (image %s has no masks folder)", masks, ids[i]);
            } else if (masks && cu_dir_list(masks, CU_DIR_IMAGES, &mn, &nm, &e2) == CU_OK && nm == 0) {
                snprintf(line, sizeof line, "%s: no mask files (PNG, TIFF or JPEG)", masks);
            } else if (e2.status) {
                snprintf(line, sizeof line, "%s", e2.msg);
            } else {
                line[0] = '\0';
            }
            cu_names_free(mn, nm);
            if (!line[0] && masks)
                st = note_others(s, masks, err);
            if (line[0] || st) {
                free(image), free(masks);
                st = st ? st : bad_sample(s, line, err);
                continue;
            }
        }
        st = add_sample(s, ids[i], image, masks, err);
    }
    return st;
}

/* The stem of an image name (malloc'd): without its extension. */
static char *stem(const char *name)
{
    size_t n = (size_t)(strrchr(name, '.') - name);
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, name, n);
        s[n] = '\0';
    }
    return s;
}

/* The mask of image `name` (stem id) in mdir: the same name, else
 * <id>, <id>_mask or <id>_masks with any image extension; NULL if none. */
static char *find_mask(const char *mdir, const char *name, const char *id)
{
    char *p = cu_path_join(mdir, name);
    if (!p || cu_is_file(p))
        return p;
    free(p);
    const char *suffix[] = {"", "_mask", "_masks"};
    for (int k = 0; k < 3; k++)
        for (size_t e = 0; e < N_IMAGE_EXT; e++)
            for (int upper = 0; upper < 2; upper++) {
                char ext[8], file[600];
                for (size_t i = 0; i <= strlen(image_ext[e]); i++)
                    ext[i] = upper ? (char)toupper((unsigned char)image_ext[e][i]) : image_ext[e][i];
                snprintf(file, sizeof file, "%s%s.%s", id, suffix[k], ext);
                if (!(p = cu_path_join(mdir, file)) || cu_is_file(p))
                    return p;
                free(p);
            }
    return NULL;
}

/* Pairs (masks != NULL) or flat: images from imdir, masks by name. */
static enum cu_status scan_files(struct scan *s, const char *imdir, const char *mdir, struct cu_err *err)
{
    char **names = NULL;
    int n = 0;
    enum cu_status st = cu_dir_list(imdir, CU_DIR_IMAGES, &names, &n, err);
    if (!st)
        st = note_others(s, imdir, err);
    if (!st && mdir)
        st = note_others(s, mdir, err);
    char line[1200];
    for (int i = 0; i < n && !st; i++) {
        char *id = stem(names[i]);
        char *image = cu_path_join(imdir, names[i]);
        char *mask = NULL;
        if (id && mdir) {
            mask = find_mask(mdir, names[i], id);
            if (!mask) {
                snprintf(line, sizeof line, "%s/%s: missing (no mask for %s)", mdir, names[i], image ? image : "");
                free(id), free(image);
                st = bad_sample(s, line, err);
                continue;
            }
        }
        st = id ? add_sample(s, id, image, mask, err) : cu_fail(err, CU_EDEVICE, "%s: out of memory", imdir);
        free(id);
    }
    cu_names_free(names, n);
    return st;
}

/* Chooses the layout of ds->dir (see dataset.h); may descend once into
 * stage1_train/ or stage1_test/ (a folder holding both is refused: reading
 * either would be a guess). */
static enum cu_status detect(struct scan *s, int depth, struct cu_err *err)
{
    struct cu_dataset *ds = s->ds;
    if (!cu_is_dir(ds->dir))
        return cu_fail(err, CU_EINPUT, "%s: %s", ds->dir, cu_is_file(ds->dir) ? "not a folder" : strerror(ENOENT));
    char *imdir = cu_path_join(ds->dir, "images"), *mdir = cu_path_join(ds->dir, "masks");
    enum cu_status st = CU_OK;
    if (!imdir || !mdir) {
        st = cu_fail(err, CU_EDEVICE, "%s: out of memory", ds->dir);
        goto out;
    }
    if (cu_is_dir(imdir)) {
        ds->has_masks = cu_is_dir(mdir);
        ds->layout = ds->has_masks ? CU_LAYOUT_PAIRS : CU_LAYOUT_FLAT;
        st = scan_files(s, imdir, ds->has_masks ? mdir : NULL, err);
        goto out;
    }
    char **ids = NULL;
    int n = 0, with_images = 0, with_masks = 0;
    st = cu_dir_list(ds->dir, CU_DIR_SUBDIRS, &ids, &n, err);
    for (int i = 0; i < n && !st; i++) {
        char rel[600];
        snprintf(rel, sizeof rel, "%s/images", ids[i]);
        char *p = cu_path_join(ds->dir, rel);
        with_images += p && cu_is_dir(p);
        free(p);
        snprintf(rel, sizeof rel, "%s/masks", ids[i]);
        p = cu_path_join(ds->dir, rel);
        with_masks += p && cu_is_dir(p);
        free(p);
    }
    if (!st && with_images) {
        ds->has_masks = with_masks > 0;
        ds->layout = ds->has_masks ? CU_LAYOUT_DSB_TRAIN : CU_LAYOUT_DSB_TEST;
        st = scan_dsb(s, ids, n, err);
    } else if (!st && depth == 0) {
        const char *sub[] = {"stage1_train", "stage1_test"};
        int found = 0;
        char *both[2] = {cu_path_join(ds->dir, sub[0]), cu_path_join(ds->dir, sub[1])};
        if (both[0] && both[1] && cu_is_dir(both[0]) && cu_is_dir(both[1])) /* which one was meant? */
            st = cu_fail(err, CU_EUSAGE, "%s: holds both stage1_train/ and stage1_test/; give one of them: %s or %s",
                         ds->dir, both[0], both[1]);
        free(both[0]), free(both[1]);
        found = st != CU_OK;
        for (int k = 0; k < 2 && !found; k++) {
            char *p = cu_path_join(ds->dir, sub[k]);
            if (p && cu_is_dir(p)) {
                free(ds->dir);
                ds->dir = p;
                found = 1;
                st = detect(s, 1, err);
            } else {
                free(p);
            }
        }
        if (!found) {
            char **pngs = NULL;
            int np = 0;
            st = cu_dir_list(ds->dir, CU_DIR_IMAGES, &pngs, &np, err);
            cu_names_free(pngs, np);
            if (!st && np) {
                ds->layout = CU_LAYOUT_FLAT;
                st = scan_files(s, ds->dir, NULL, err);
            }
        }
    }
    cu_names_free(ids, n);
out:
    free(imdir), free(mdir);
    return st;
}

enum cu_status cu_dataset_scan(const char *dir, const struct cu_dataset_opts *o, struct cu_dataset **out,
                               struct cu_err *err)
{
    struct cu_dataset *ds = calloc(1, sizeof *ds);
    if (!ds || !(ds->dir = strdup(dir))) {
        free(ds);
        return cu_fail(err, CU_EDEVICE, "%s: out of memory", dir);
    }
    struct scan s = {.ds = ds, .skip_bad = o->skip_bad};
    enum cu_status st = detect(&s, 0, err);
    if (!st && ds->n == 0 && ds->n_bad == 0)
        st = cu_fail(err, CU_EINPUT,
                     "%s: no images found (expected <id>/images/<id>.png folders, images/ + masks/, or PNG, TIFF or JPEG files)",
                     ds->dir);
    else if (!st && ds->n == 0)
        st = cu_fail(err, CU_EINPUT, "%s: no usable images (%d bad)", ds->dir, ds->n_bad);
    else if (!st && o->need_masks && !ds->has_masks)
        st = cu_fail(err, CU_EINPUT, "%s: %s: masks are needed here", ds->dir, cu_layout_name(ds->layout));
    if (st) {
        cu_dataset_free(ds);
        return st;
    }
    *out = ds;
    return CU_OK;
}
