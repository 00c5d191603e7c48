/* train_fixture.c: see train_fixture.h. */
#include "train_fixture.h"

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clunet/image.h"
#include "clunet/safetensors.h"
#include "testutil.h"

static int mkdirs(const char *path)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(tmp, 0777);
            *p = '/';
        }
    return mkdir(tmp, 0777) == 0 || access(tmp, F_OK) == 0 ? 0 : -1;
}

int tf_make_dataset(const char *dir, int n, int h, int w, uint64_t seed)
{
    uint64_t rng = seed ? seed : 1;
    uint8_t *rgb = malloc((size_t)h * w * 3), *mask = malloc((size_t)h * w);
    int bad = !rgb || !mask;
    for (int i = 0; i < n && !bad; i++) {
        char id[32], path[4096];
        snprintf(id, sizeof id, "img%03d", i);
        snprintf(path, sizeof path, "%s/%s/images", dir, id);
        bad |= mkdirs(path) != 0;
        snprintf(path, sizeof path, "%s/%s/masks", dir, id);
        bad |= mkdirs(path) != 0;
        /* background: dim noise */
        for (int p = 0; p < h * w; p++) {
            int v = 20 + (int)tu_rand_uniform(&rng, 0, 30);
            rgb[3 * p] = (uint8_t)v;
            rgb[3 * p + 1] = (uint8_t)(v + 5);
            rgb[3 * p + 2] = (uint8_t)v;
        }
        int discs = 2 + (int)tu_rand_uniform(&rng, 0, 2.99f);
        for (int d = 0; d < discs && !bad; d++) {
            float r = tu_rand_uniform(&rng, 3.5f, 7.0f);
            float cy = tu_rand_uniform(&rng, r, h - r), cx = tu_rand_uniform(&rng, r, w - r);
            int bright = 150 + (int)tu_rand_uniform(&rng, 0, 100);
            memset(mask, 0, (size_t)h * w);
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) {
                    float dy = y - cy, dx = x - cx;
                    if (dy * dy + dx * dx > r * r)
                        continue;
                    /* later discs may cover earlier ones: masks stay disjoint */
                    mask[y * w + x] = 255;
                    for (int c = 0; c < 3; c++)
                        rgb[3 * (y * w + x) + c] = (uint8_t)(bright - 20 * c);
                }
            snprintf(path, sizeof path, "%s/%s/masks/m%d.png", dir, id, d);
            struct cu_err err = {0};
            bad |= cu_png_write_gray8(path, mask, h, w, &err) != CU_OK;
        }
        snprintf(path, sizeof path, "%s/%s/images/%s.png", dir, id, id);
        struct cu_err err = {0};
        bad |= cu_png_write_rgb8(path, rgb, h, w, &err) != CU_OK;
    }
    free(rgb);
    free(mask);
    return bad ? -1 : 0;
}

char *tf_tmpdir(const char *tag)
{
    const char *base = getenv("TMPDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/clunet-%s-XXXXXX", base && *base ? base : "/tmp", tag);
    if (!mkdtemp(path))
        return NULL;
    return strdup(path);
}

int tf_spawn(char *const argv[], const char *log_path)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open(log_path ? log_path : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execv(argv[0], argv);
        _exit(127);
    }
    return (int)pid;
}

int tf_wait(int pid)
{
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) < 0)
        return -1;
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return -1;
}

int tf_run(char *const argv[], const char *log_path) { return tf_wait(tf_spawn(argv, log_path)); }

int tf_exists(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

char *tf_read(const char *dir, const char *name, long *len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) {
        buf[n] = '\0';
        if (len)
            *len = n;
    }
    return buf;
}

int tf_same_tensors(const char *a, const char *b)
{
    struct cu_err err = {0};
    struct cu_st_file *fa = NULL, *fb = NULL;
    int same = cu_st_file_read(a, &fa, &err) == CU_OK && cu_st_file_read(b, &fb, &err) == CU_OK;
    if (!same)
        printf("     cannot read: %s\n", err.msg);
    if (same && cu_st_file_count(fa) != cu_st_file_count(fb)) {
        printf("     %d tensors vs %d\n", cu_st_file_count(fa), cu_st_file_count(fb));
        same = 0;
    }
    for (int i = 0; same && i < cu_st_file_count(fa); i++) {
        const struct cu_st_entry *ea = cu_st_file_entry(fa, i);
        const struct cu_st_entry *eb = cu_st_file_find(fb, ea->name);
        if (!eb || eb->numel != ea->numel) {
            printf("     %s: missing or of another size\n", ea->name);
            same = 0;
        } else if (memcmp(ea->data, eb->data, ea->numel * sizeof(float)) != 0) {
            size_t k = 0;
            while (k < ea->numel && memcmp(&ea->data[k], &eb->data[k], sizeof(float)) == 0)
                k++;
            printf("     %s[%zu]: %.9g vs %.9g\n", ea->name, k, ea->data[k], eb->data[k]);
            same = 0;
        }
    }
    cu_st_file_free(fa);
    cu_st_file_free(fb);
    return same;
}

void tf_rmtree(const char *dir)
{
    if (!dir || strlen(dir) < 8 || strstr(dir, "clunet-") == NULL)
        return; /* only folders tf_tmpdir made */
    tu_rm_rf(dir);
}

struct cu_train_opts tf_lib_opts(const char *data, const char *out, int epochs)
{
    struct cu_train_opts o;
    memset(&o, 0, sizeof o);
    cu_train_config_default(&o.cfg);
    snprintf(o.cfg.data_dir, sizeof o.cfg.data_dir, "%s", data);
    o.cfg.image_size = 16;
    o.cfg.channel_rate = 0.125;
    o.cfg.batch = 4;
    o.cfg.augment = 1;
    o.cfg.seed = 7;
    o.cfg.epochs = epochs;
    o.out_dir = out;
    o.verbosity = 0;
    return o;
}
