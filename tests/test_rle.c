/* test_rle.c: Kaggle run-length encoding on hand-made images (column-major
 * numbering, runs across column ends), encode -> decode round trips on odd
 * sizes (1x1, 7x3, 13x17 random label images), the submission CSV written
 * atomically and parsed back, and malformed files rejected with a message
 * naming the file and line. Files go to a fresh folder under /tmp, removed
 * at the end. Everything here is exact: no tolerances. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>

#include "clunet/rle.h"
#include "testutil.h"

static char dir[64];

static const char *path_in_dir(const char *name)
{
    static char buf[256];
    snprintf(buf, sizeof buf, "%s/%s", dir, name);
    return buf;
}

static void test_known(void)
{
    struct cu_err err = {0};
    /* H=3, W=2; rows {1,0},{1,1},{0,1}: column 0 holds pixels 1,2 (label),
     * 3 (not); column 1: 4 (not), 5, 6 -> "1 2 5 2" */
    int32_t a[6] = {1, 0, 1, 1, 0, 1};
    char *s = NULL;
    if (tu_ok(cu_rle_encode(&s, a, 3, 2, 1, &err), &err, "encode 3x2")) {
        TU_CHECK(!strcmp(s, "1 2 5 2"), "3x2 column-major encoding '%s' (want '1 2 5 2')", s);
        free(s);
    }
    /* rows {0,1},{0,0},{1,0}: pixel 3 (bottom of column 0) and 4 (top of
     * column 1) are consecutive in the numbering: one run "3 2" */
    int32_t b[6] = {0, 1, 0, 0, 1, 0};
    if (tu_ok(cu_rle_encode(&s, b, 3, 2, 1, &err), &err, "encode wrap")) {
        TU_CHECK(!strcmp(s, "3 2"), "run across a column end '%s' (want '3 2')", s);
        free(s);
    }
    if (tu_ok(cu_rle_encode(&s, b, 3, 2, 7, &err), &err, "encode absent")) {
        TU_CHECK(!strcmp(s, ""), "absent label encodes as ''");
        free(s);
    }
    int32_t c[6] = {0};
    if (tu_ok(cu_rle_decode(c, 3, 2, 4, "1 2 5 2", "test", &err), &err, "decode 3x2"))
        TU_CHECK(c[0] == 4 && c[1] == 0 && c[2] == 4 && c[3] == 4 && c[4] == 0 && c[5] == 4,
                 "decode '1 2 5 2' into 3x2");
}

/* Random labels 0..5 per pixel (salt and pepper: many short runs). */
static void random_labels(int32_t *lab, int n, uint64_t *rng)
{
    for (int i = 0; i < n; i++)
        lab[i] = (int32_t)(tu_rand_u64(rng) % 6);
}

static void round_trip(int h, int w, uint64_t *rng)
{
    struct cu_err err = {0};
    int n = h * w;
    int32_t *lab = malloc((size_t)n * sizeof *lab), *back = calloc((size_t)n, sizeof *back);
    random_labels(lab, n, rng);
    if (n == 1)
        lab[0] = 1;
    char **strs = NULL;
    int32_t ns = 0;
    int ok = tu_ok(cu_rle_encode_all(&strs, &ns, lab, h, w, &err), &err, "encode_all");
    int same_single = 1;
    for (int32_t l = 1; ok && l < ns; l++) {
        char *one = NULL;
        ok = tu_ok(cu_rle_encode(&one, lab, h, w, l, &err), &err, "encode one");
        if (ok && strcmp(one, strs[l] ? strs[l] : ""))
            same_single = 0;
        free(one);
        if (ok && strs[l])
            ok = tu_ok(cu_rle_decode(back, h, w, l, strs[l], "round trip", &err), &err, "decode");
    }
    TU_CHECK(same_single, "%dx%d: one-pass encoding equals per-label encoding", h, w);
    TU_CHECK(ok && !memcmp(lab, back, (size_t)n * sizeof *lab), "%dx%d: encode -> decode round trip", h, w);
    cu_rle_free_all(strs, ns);
    free(lab);
    free(back);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    fputs(text, f);
    fclose(f);
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    return buf;
}

static int count_files(void)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

static void test_csv(uint64_t *rng)
{
    struct cu_err err = {0};
    struct cu_sub *s = NULL;
    if (!tu_ok(cu_sub_new(&s, &err), &err, "sub new"))
        return;
    enum { H = 13, W = 17 };
    static int32_t a[H * W], none[H * W], back[H * W];
    random_labels(a, H * W, rng);
    for (int i = 0; i < H * W; i++) /* drop label 3: absent labels give no row */
        if (a[i] == 3)
            a[i] = 0;
    tu_ok(cu_sub_add(s, "img_a", a, H, W, &err), &err, "add a");
    tu_ok(cu_sub_add(s, "img_none", none, H, W, &err), &err, "add empty");
    TU_CHECK(cu_sub_rows(s) == 5, "rows: 4 nuclei + 1 empty row (got %zu)", cu_sub_rows(s));
    cu_err_clear(&err);
    enum cu_status st = cu_sub_add(s, "bad,id", a, H, W, &err);
    TU_CHECK(st == CU_EINPUT, "image id with a comma refused: %s", err.msg);
    const char *path = path_in_dir("sub.csv");
    cu_err_clear(&err);
    tu_ok(cu_sub_write(s, path, &err), &err, "write csv");
    cu_sub_free(s);
    TU_CHECK(count_files() == 1, "only sub.csv in the folder after writing (no temporary left)");
    char *text = read_text(path);
    TU_CHECK(text && !strncmp(text, "ImageId,EncodedPixels\nimg_a,", 28), "csv starts with header and img_a row");
    TU_CHECK(text && strstr(text, "\nimg_none,\n"), "empty image has a row with empty EncodedPixels");

    struct cu_sub *r = NULL;
    if (!tu_ok(cu_sub_read(&r, path, &err), &err, "read csv"))
        return;
    TU_CHECK(cu_sub_rows(r) == 5 && !strcmp(cu_sub_image(r, 4), "img_none") && !strcmp(cu_sub_pixels(r, 4), ""),
             "parsed back: 5 rows, last one img_none with empty pixels");
    int n = -1;
    if (tu_ok(cu_sub_decode(r, "img_a", H, W, back, &n, &err), &err, "decode img_a")) {
        /* rows are in label order 1,2,4,5 -> decoded 1,2,3,4 */
        static const int32_t map[6] = {0, 1, 2, -1, 3, 4};
        int same = 1;
        for (int i = 0; i < H * W; i++)
            same &= back[i] == map[a[i]];
        TU_CHECK(n == 4 && same, "img_a decoded from the file equals the original (renumbered)");
    }
    if (tu_ok(cu_sub_decode(r, "img_none", H, W, back, &n, &err), &err, "decode img_none")) {
        int zero = 1;
        for (int i = 0; i < H * W; i++)
            zero &= back[i] == 0;
        TU_CHECK(n == 0 && zero, "img_none decodes to no nucleus");
    }
    /* too small an image: img_a's runs pass the end of a 5x5 image */
    cu_err_clear(&err);
    st = cu_sub_decode(r, "img_a", 5, 5, back, &n, &err);
    TU_CHECK(st == CU_EINPUT && strstr(err.msg, "sub.csv:2:") && strstr(err.msg, "past"),
             "runs past the image size: %s", err.msg);
    cu_sub_free(r);
}

static void test_write_fail(void)
{
    struct cu_err err = {0};
    struct cu_sub *s = NULL;
    cu_sub_new(&s, &err);
    enum cu_status st = cu_sub_write(s, "/nonexistent-dir-clunet/x.csv", &err);
    TU_CHECK(st == CU_EIO && strstr(err.msg, "/nonexistent-dir-clunet/x.csv"), "unwritable folder: exit 4, %s",
             err.msg);
    cu_sub_free(s);
}

struct bad_case {
    const char *text, *what, *expect; /* expect: "FILE:LINE" suffix and a word */
};

static void test_malformed(void)
{
    static const struct bad_case cases[] = {
        {"ImageId,Pixels\na,1 2\n", "wrong header", ":1:"},
        {"ImageId,EncodedPixels\na,1 2\nb 1 2\n", "no comma", ":3: expected"},
        {"ImageId,EncodedPixels\na,1 2,3\n", "three fields", ":2: more than two"},
        {"ImageId,EncodedPixels\na,1 2 x 3\n", "a letter", ":2: EncodedPixels: unexpected character 'x'"},
        {"ImageId,EncodedPixels\na,1 2 5\n", "odd count", ":2: EncodedPixels: odd count"},
        {"ImageId,EncodedPixels\na,0 3\n", "zero start", ":2: EncodedPixels: 0 is"},
        {"ImageId,EncodedPixels\na,1 2\na,4 0\n", "zero length", ":3: EncodedPixels: 0 is"},
        {"ImageId,EncodedPixels\na,10 2 1 2\n", "unsorted", ":2: EncodedPixels: run at 1 starts before"},
        {"ImageId,EncodedPixels\na,1 5 3 2\n", "overlapping runs", ":2: EncodedPixels: run at 3"},
        {"ImageId,EncodedPixels\na,-1 2\n", "negative", ":2: EncodedPixels: unexpected character '-'"},
        {"ImageId,EncodedPixels\na,1.5 2\n", "decimal point", ":2: EncodedPixels: unexpected character '.'"},
        {"ImageId,EncodedPixels\na,1 2\n\nb,1 2\n", "empty line", ":3: empty line"},
        {"ImageId,EncodedPixels\n,1 2\n", "empty id", ":2: empty image id"},
        {"ImageId,EncodedPixels\na,99999999999999999999 1\n", "huge number", ":2: EncodedPixels: number too large"},
        {"", "empty file", "empty file"},
    };
    const char *path = path_in_dir("bad.csv");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_file(path, cases[i].text);
        struct cu_err err = {0};
        struct cu_sub *s = NULL;
        enum cu_status st = cu_sub_read(&s, path, &err);
        TU_CHECK(st == CU_EINPUT && s == NULL && strstr(err.msg, path) && strstr(err.msg, cases[i].expect),
                 "malformed (%s): %s", cases[i].what, err.msg);
        cu_sub_free(s);
    }
    /* valid syntax, wrong against the image: overlap between two rows of
     * one image, and CRLF line ends accepted */
    write_file(path, "ImageId,EncodedPixels\r\na,1 3\r\nb,2 2\r\na,3 2\r\n");
    struct cu_err err = {0};
    struct cu_sub *s = NULL;
    if (tu_ok(cu_sub_read(&s, path, &err), &err, "read CRLF file")) {
        int32_t lab[16];
        int n;
        enum cu_status st = cu_sub_decode(s, "a", 4, 4, lab, &n, &err);
        TU_CHECK(st == CU_EINPUT && strstr(err.msg, "bad.csv:4:") && strstr(err.msg, "already belongs"),
                 "overlapping nuclei of one image: %s", err.msg);
        cu_err_clear(&err);
        st = cu_sub_decode(s, "b", 4, 4, lab, &n, &err);
        TU_CHECK(st == CU_OK && n == 1 && lab[1 * 4 + 0] == 1 && lab[2 * 4 + 0] == 1 && lab[0] == 0,
                 "CRLF file decodes (b: pixels 2,3 = column 0, rows 1,2)");
        cu_sub_free(s);
    }
    struct cu_sub *none = NULL;
    cu_err_clear(&err);
    enum cu_status st = cu_sub_read(&none, path_in_dir("missing.csv"), &err);
    TU_CHECK(st == CU_EINPUT && strstr(err.msg, "missing.csv"), "missing file: %s", err.msg);
    remove(path);
}

/* 300 random corruptions of a valid file (bytes replaced, inserted or
 * removed): reading and decoding must end in CU_OK or CU_EINPUT with a
 * message naming the file, never a crash (the sanitizer build runs this). */
static void test_fuzz(uint64_t *rng)
{
    static const char good[] = "ImageId,EncodedPixels\na,1 3 20 4 40 2\na,60 5\nb,\nc,5 10 100 3\n";
    static const char alphabet[] = "0123456789 ,\n\r-abx\"\t.";
    const char *path = path_in_dir("fuzz.csv");
    int unexpected = 0, accepted = 0;
    for (int trial = 0; trial < 300; trial++) {
        char text[256];
        size_t n = strlen(good);
        memcpy(text, good, n);
        int edits = 1 + (int)(tu_rand_u64(rng) % 3);
        for (int e = 0; e < edits; e++) {
            size_t at = (size_t)(tu_rand_u64(rng) % n);
            char c = alphabet[tu_rand_u64(rng) % (sizeof alphabet - 1)];
            int op = (int)(tu_rand_u64(rng) % 3);
            if (op == 0) {
                text[at] = c;
            } else if (op == 1 && n + 1 < sizeof text) {
                memmove(text + at + 1, text + at, n - at);
                text[at] = c;
                n++;
            } else if (n > 1) {
                memmove(text + at, text + at + 1, n - at - 1);
                n--;
            }
        }
        FILE *f = fopen(path, "wb");
        fwrite(text, 1, n, f);
        fclose(f);
        struct cu_err err = {0};
        struct cu_sub *s = NULL;
        enum cu_status st = cu_sub_read(&s, path, &err);
        if (st != CU_OK && (st != CU_EINPUT || !strstr(err.msg, path)))
            unexpected++;
        if (st == CU_OK) {
            accepted++;
            int32_t lab[13 * 17];
            const char *ids[] = {"a", "b", "c"};
            for (int i = 0; i < 3; i++) {
                int cnt;
                cu_err_clear(&err);
                enum cu_status d = cu_sub_decode(s, ids[i], 13, 17, lab, &cnt, &err);
                if (d != CU_OK && (d != CU_EINPUT || !strstr(err.msg, path)))
                    unexpected++;
            }
        }
        cu_sub_free(s);
    }
    remove(path);
    TU_CHECK(unexpected == 0, "300 corrupted files: every outcome is OK or CU_EINPUT naming the file (%d accepted, "
             "%d unexpected)", accepted, unexpected);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/clunet_test_rle_XXXXXX");
    if (!mkdtemp(dir)) {
        TU_CHECK(0, "mkdtemp");
        return tu_finish();
    }
    uint64_t rng = 2024;
    test_known();
    round_trip(1, 1, &rng);
    round_trip(7, 3, &rng);
    round_trip(3, 7, &rng);
    round_trip(13, 17, &rng);
    test_csv(&rng);
    test_write_fail();
    test_malformed();
    test_fuzz(&rng);
    remove(path_in_dir("sub.csv"));
    rmdir(dir);
    return tu_finish();
}
