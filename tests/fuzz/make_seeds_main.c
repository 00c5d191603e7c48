/* make_seeds_main.c: `fuzz_make_seeds TARGET DIR` writes the seed corpus
 * of one fuzz target into DIR (made if missing); tools/fuzz and .ci/run
 * call it before fuzzing. */
#include <stdio.h>
#include <sys/stat.h>

#include "fuzz.h"

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s safetensors|png|csv|dataset DIR\n", argv[0]);
        return 1;
    }
    mkdir(argv[2], 0700);
    int n = fz_make_seeds(argv[1], argv[2]);
    if (n < 0)
        return 1;
    printf("%s: %d seeds in %s\n", argv[1], n, argv[2]);
    return 0;
}
