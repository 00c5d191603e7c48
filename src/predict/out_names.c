/* out_names.c: cu_out_names_check (predict_impl.h): the names predict
 * would write, checked before anything is written. Two outputs with one
 * name (x_labels.png: the labels of x and the mask of an input named
 * x_labels) would overwrite each other; an output that is an input image
 * (--out the input folder) would replace the image with its mask, and a
 * second run would predict on the masks. Both are refused, as is an image
 * id the submission CSV cannot hold. Files are compared by device and
 * inode, so links and other spellings of a path count as the same file. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clunet/rle.h"
#include "predict/predict_impl.h"

struct out_name {
    char *name;     /* file name inside the output folder */
    const char *id; /* the image it belongs to */
    int what;       /* index into the suffixes */
};

struct file_id {
    dev_t dev;
    ino_t ino;
    const char *path;
};

static int cmp_name(const void *a, const void *b)
{
    return strcmp(((const struct out_name *)a)->name, ((const struct out_name *)b)->name);
}

static int cmp_file(const void *a, const void *b)
{
    const struct file_id *x = a, *y = b;
    if (x->dev != y->dev)
        return x->dev < y->dev ? -1 : 1;
    return x->ino < y->ino ? -1 : x->ino > y->ino;
}

/* The input whose file is path, or NULL. */
static const struct file_id *input_at(const struct file_id *in, int n, const char *path)
{
    struct stat sb;
    if (stat(path, &sb) != 0)
        return NULL;
    struct file_id key = {sb.st_dev, sb.st_ino, NULL};
    return bsearch(&key, in, (size_t)n, sizeof *in, cmp_file);
}

static enum cu_status check(const struct cu_item *items, int n, const char *out_dir,
                            const struct cu_out_kind *kinds, int nk, const char *submission, struct out_name *names,
                            struct file_id *in, struct cu_err *err)
{
    int m = 0, ni = 0;
    for (int i = 0; i < n; i++) {
        struct stat sb;
        if (stat(items[i].path, &sb) == 0)
            in[ni++] = (struct file_id){sb.st_dev, sb.st_ino, items[i].path};
        if (submission && cu_sub_id_problem(items[i].id))
            return cu_fail(err, CU_EUSAGE, "%s: image id \"%s\" cannot go into the submission CSV (%s); rename the "
                                           "file or leave out --submission",
                           items[i].path, items[i].id, cu_sub_id_problem(items[i].id));
        for (int k = 0; k < nk; k++) {
            size_t len = strlen(items[i].id) + strlen(kinds[k].suffix) + 1;
            if (!(names[m].name = malloc(len)))
                return cu_fail(err, CU_EUSAGE, "%s: out of memory", out_dir);
            snprintf(names[m].name, len, "%s%s", items[i].id, kinds[k].suffix);
            names[m].id = items[i].id;
            names[m++].what = k;
        }
    }
    qsort(in, (size_t)ni, sizeof *in, cmp_file);
    qsort(names, (size_t)m, sizeof *names, cmp_name);
    char path[4096];
    for (int j = 0; j < m; j++) {
        const struct out_name *a = &names[j];
        snprintf(path, sizeof path, "%s/%s", out_dir, a->name);
        if (j > 0 && !strcmp(names[j - 1].name, a->name)) {
            const struct out_name *b = &names[j - 1];
            return cu_fail(err, CU_EUSAGE,
                           "%s: two outputs would have this name, the %s of %s and the %s of %s; rename one of the "
                           "inputs or predict them into separate --out folders",
                           path, kinds[b->what].what, b->id, kinds[a->what].what, a->id);
        }
        const struct file_id *hit = input_at(in, ni, path);
        if (hit)
            return cu_fail(err, CU_EUSAGE,
                           "%s: is an input image and would be overwritten by the %s of %s; give --out another folder",
                           hit->path, kinds[a->what].what, a->id);
    }
    if (submission) {
        const struct file_id *hit = input_at(in, ni, submission);
        if (hit)
            return cu_fail(err, CU_EUSAGE, "%s: --submission names an input image; give the CSV another name",
                           hit->path);
        struct stat sb, ob;
        const char *slash = strrchr(submission, '/');
        const char *base = slash ? slash + 1 : submission;
        char folder[4096];
        snprintf(folder, sizeof folder, "%.*s", slash ? (int)(slash - submission) + (slash == submission) : 1,
                 slash ? submission : ".");
        int same_dir = stat(folder, &sb) == 0 && stat(out_dir, &ob) == 0 && sb.st_dev == ob.st_dev &&
                       sb.st_ino == ob.st_ino;
        struct out_name key = {(char *)base, NULL, 0};
        const struct out_name *o = same_dir ? bsearch(&key, names, (size_t)m, sizeof *names, cmp_name) : NULL;
        if (o)
            return cu_fail(err, CU_EUSAGE, "%s: --submission would overwrite the %s of %s; give the CSV another name",
                           submission, kinds[o->what].what, o->id);
    }
    return CU_OK;
}

enum cu_status cu_out_names_check(const struct cu_item *items, int n, const char *out_dir,
                                  const struct cu_out_kind *kinds, int nk, const char *submission, struct cu_err *err)
{
    struct out_name *names = calloc((size_t)n * (size_t)nk + 1, sizeof *names);
    struct file_id *in = calloc((size_t)n + 1, sizeof *in);
    enum cu_status st = names && in ? check(items, n, out_dir, kinds, nk, submission, names, in, err)
                                    : cu_fail(err, CU_EUSAGE, "%s: out of memory", out_dir);
    for (int j = 0; names && j < n * nk; j++)
        free(names[j].name);
    free(names), free(in);
    return st;
}
