/* make_train_fixture.c: writes the tiny training set of train_fixture.h
 * into a folder, for tests written in Python (check_model_py.py).
 * usage: make_train_fixture DIR [N] */
#include <stdio.h>
#include <stdlib.h>

#include "train_fixture.h"

int main(int argc, char **argv)
{
    if (argc < 2)
        return fprintf(stderr, "usage: make_train_fixture DIR [N]\n"), 1;
    int n = argc > 2 ? atoi(argv[2]) : 10;
    return tf_make_dataset(argv[1], n, 24, 20, 5) == 0 ? 0 : 1;
}
