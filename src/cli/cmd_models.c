/* cmd_models.c: `clunet models`: the model folders in search order and the
 * models in them (model_find.h), each with its configuration and the
 * provenance line of its metadata. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/args.h"
#include "clunet/cli.h"
#include "clunet/model_file.h"
#include "clunet/model_find.h"

static void help(FILE *f)
{
    fprintf(f, "usage: clunet models\n\n"
               "Lists the folders where `clunet predict`, `clunet eval` and `clunet train --init`\n"
               "look up a model by NAME (NAME.safetensors), in search order, and the models\n"
               "in them: name, file, image size S, channel rate, up-sampling, storage dtype,\n"
               "and the provenance line of its metadata (how and on what it was trained).\n"
               "The first folder holding a name wins; later ones are shown as hidden.\n"
               "Folders: $CLUNET_MODELS (colon-separated), the source tree's models/ when\n"
               "clunet runs from its build tree, $XDG_DATA_HOME/clunet/models (else\n"
               "~/.local/share/clunet/models), and <prefix>/share/clunet/models (meson install).\n"
               "Default model: " CU_DEFAULT_MODEL ".\n\n"
               "exit codes: 0 done, 1 usage.\n");
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The names (without .safetensors) of the models in dir, sorted. */
static int list_dir(const char *dir, char ***out)
{
    DIR *d = opendir(dir);
    int n = 0, cap = 0;
    char **names = NULL;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (!cu_is_model_path(e->d_name) || e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            char **nn = realloc(names, (size_t)cap * sizeof *nn);
            if (!nn)
                break;
            names = nn;
        }
        if ((names[n] = strdup(e->d_name)))
            names[n++][strlen(e->d_name) - 12] = '\0';
    }
    if (d)
        closedir(d);
    if (n)
        qsort(names, (size_t)n, sizeof *names, cmp_str);
    *out = names;
    return n;
}

static void show_model(const char *dir, const char *name, int hidden)
{
    char path[4096];
    struct stat sb;
    snprintf(path, sizeof path, "%s/%s.safetensors", dir, name);
    printf("  %-16s %s%s%s\n", name, path, !hidden && !strcmp(name, CU_DEFAULT_MODEL) ? "  (default)" : "",
           hidden ? "  (hidden by the one above)" : "");
    struct cu_st_file *f = NULL;
    struct cu_unet_config c;
    struct cu_err err = {0};
    if (cu_st_file_read(path, &f, &err) || cu_model_config(f, &c, &err)) {
        printf("      unreadable: %s\n", err.msg);
        cu_st_file_free(f);
        return;
    }
    const char *prov = cu_st_file_meta(f, "provenance");
    double mb = stat(path, &sb) == 0 ? (double)sb.st_size / 1e6 : 0;
    printf("      S=%d c=%g %s, %s, %.1f MB\n", c.image_size, c.channel_rate, cu_upsample_name(c.upsample),
           cu_st_file_count(f) ? cu_st_dtype_name(cu_st_file_entry(f, 0)->dtype) : "empty", mb);
    printf("      %s\n", prov ? prov : "(no provenance recorded)");
    cu_st_file_free(f);
}

int cu_cmd_models(int argc, char **argv)
{
    static const struct cu_opt opts[] = {{"help", 'h', 0}, {NULL, 0, 0}};
    struct cu_err err = {0};
    struct cu_args a;
    int key;
    cu_args_init(&a, "models", argc, argv, opts, &err);
    while ((key = cu_args_next(&a)) > 0) {
        if (key == 'h') {
            help(stdout);
            return 0;
        }
        cu_arg_extra(&a);
        break;
    }
    if (err.status)
        return cu_cli_report(&err);
    const char *dirs[CU_MODEL_DIRS_MAX], *why[CU_MODEL_DIRS_MAX];
    int nd = cu_model_dirs(dirs, why), found = 0;
    char **seen[CU_MODEL_DIRS_MAX];
    int nseen[CU_MODEL_DIRS_MAX];
    printf("model folders, in search order:\n");
    for (int i = 0; i < nd; i++) {
        nseen[i] = list_dir(dirs[i], &seen[i]);
        struct stat sb;
        printf("  %s  (%s%s)\n", dirs[i], why[i], stat(dirs[i], &sb) ? ", missing" : "");
    }
    printf("models:\n");
    for (int i = 0; i < nd; i++)
        for (int k = 0; k < nseen[i]; k++) {
            int hidden = 0;
            for (int j = 0; j < i && !hidden; j++)
                for (int m = 0; m < nseen[j] && !hidden; m++)
                    hidden = !strcmp(seen[j][m], seen[i][k]);
            show_model(dirs[i], seen[i][k], hidden);
            found++;
        }
    if (!found)
        printf("  (none: give predict a model file, or see README.md for the shipped model)\n");
    for (int i = 0; i < nd; i++) {
        for (int k = 0; k < nseen[i]; k++)
            free(seen[i][k]);
        free(seen[i]);
    }
    return 0;
}
