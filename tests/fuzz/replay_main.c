/* replay_main.c: runs a fuzz target without libFuzzer, as a normal meson
 * test in every build (plain and ASan/UBSan): each seed of the target
 * (written fresh by fz_make_seeds) and each regression input committed
 * under tests/fuzz/regress/ whose name starts with "<target>-" goes
 * through LLVMFuzzerTestOneInput once. A check passes when the call
 * returns; a crash or a sanitizer report fails the test.
 * Usage: fuzz_replay_<target> TARGET REGRESS_DIR [FILE...] */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "testutil.h"

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return TU_CHECK(0, "replay %s: cannot open", path);
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? 2 * cap : 4096;
            uint8_t *nb = realloc(buf, cap);
            if (!nb)
                break;
            buf = nb;
        }
        size_t r = fread(buf + len, 1, cap - len, f);
        if (!r)
            break;
        len += r;
    }
    fclose(f);
    LLVMFuzzerTestOneInput(buf ? buf : (const uint8_t *)"", len);
    free(buf);
    return TU_CHECK(1, "replay %s (%zu bytes): returned", path, len);
}

/* Replays every regular file of dir whose name starts with prefix
 * (all when prefix is ""); returns how many. */
static int replay_dir(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    int n = 0;
    if (!d)
        return 0;
    struct dirent *e;
    char **names = NULL;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || strncmp(e->d_name, prefix, strlen(prefix)) != 0)
            continue;
        char **nn = realloc(names, (size_t)(n + 1) * sizeof *names);
        if (!nn)
            break;
        names = nn;
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    for (int i = 0; i < n; i++) {
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        replay_file(p);
        free(names[i]);
    }
    free(names);
    return n;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s TARGET REGRESS_DIR [FILE...]\n", argv[0]);
        return 1;
    }
    const char *target = argv[1];
    char seeds[4096];
    const char *t = getenv("TMPDIR");
    snprintf(seeds, sizeof seeds, "%s/clunet-seeds-%s-XXXXXX", t && *t ? t : "/tmp", target);
    if (!mkdtemp(seeds))
        return TU_CHECK(0, "temporary folder"), tu_finish();
    int made = fz_make_seeds(target, seeds);
    TU_CHECK(made >= 4, "%s: %d seeds written", target, made);
    TU_CHECK(replay_dir(seeds, "") == made, "%s: every seed replayed", target);
    char prefix[64];
    snprintf(prefix, sizeof prefix, "%s-", target);
    int reg = replay_dir(argv[2], prefix);
    printf("%s: %d regression inputs replayed\n", target, reg);
    for (int i = 3; i < argc; i++)
        replay_file(argv[i]);
    fz_empty_dir(seeds);
    rmdir(seeds);
    return tu_finish();
}
