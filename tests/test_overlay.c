/* test_overlay.c: outlines on a hand-made label image: interior pixels and
 * the background are the input unchanged (full brightness), outline pixels
 * carry their nucleus's colour, colours of neighbouring labels differ, bad
 * thickness is refused; and the base picture stretches a faint image to
 * the whole 0..255 range. Pixel values are exact but for +-1 of rounding. */
#include <stdlib.h>
#include <string.h>

#include "clunet/overlay.h"
#include "testutil.h"

#define H 20
#define W 24

static int near(int a, int b)
{
    return abs(a - b) <= 1;
}

int main(void)
{
    static int32_t lab[H * W];
    static uint8_t rgb[H * W * 3], out[H * W * 3];
    for (int i = 0; i < H * W * 3; i++)
        rgb[i] = (uint8_t)(37 * i);
    /* label 1: 8x8 square at (4,4); label 2: 6x6 square touching it at (4,12) */
    for (int y = 4; y < 12; y++)
        for (int x = 4; x < 12; x++)
            lab[y * W + x] = 1;
    for (int y = 4; y < 10; y++)
        for (int x = 12; x < 18; x++)
            lab[y * W + x] = 2;
    struct cu_err err = {0};
    if (!tu_ok(cu_overlay_draw(out, rgb, lab, H, W, 1, &err), &err, "overlay"))
        return tu_finish();
    uint8_t c1[3], c2[3];
    cu_overlay_colour(1, c1);
    cu_overlay_colour(2, c2);
    int dist = abs(c1[0] - c2[0]) + abs(c1[1] - c2[1]) + abs(c1[2] - c2[2]);
    TU_CHECK(dist > 150, "labels 1 and 2 get clearly different colours (L1 distance %d)", dist);
    int sat = 1;
    for (int l = 1; l <= 50; l++) {
        uint8_t c[3];
        cu_overlay_colour(l, c);
        int mx = c[0] > c[1] ? (c[0] > c[2] ? c[0] : c[2]) : (c[1] > c[2] ? c[1] : c[2]);
        int mn = c[0] < c[1] ? (c[0] < c[2] ? c[0] : c[2]) : (c[1] < c[2] ? c[1] : c[2]);
        sat &= mx == 255 && mn < 60;
    }
    TU_CHECK(sat, "colours of labels 1..50 are bright and saturated");
    int i_edge1 = 4 * W + 7, i_in1 = 7 * W + 7, i_touch1 = 6 * W + 11, i_touch2 = 6 * W + 12, i_bg = 0;
    TU_CHECK(!memcmp(out + 3 * i_edge1, c1, 3), "top edge of nucleus 1 in colour 1");
    TU_CHECK(!memcmp(out + 3 * i_touch1, c1, 3) && !memcmp(out + 3 * i_touch2, c2, 3),
             "where nuclei touch each side is outlined in its own colour");
    int dim_ok = 1;
    for (int c = 0; c < 3; c++) {
        dim_ok &= out[3 * i_in1 + c] == rgb[3 * i_in1 + c];
        dim_ok &= out[3 * i_bg + c] == rgb[3 * i_bg + c];
    }
    TU_CHECK(dim_ok, "interior and background are the input at full brightness (not dimmed)");
    /* outline pixel count of nucleus 1 with thickness 1: its 8x8 square
     * minus the 6x6 interior = 28 */
    int n1 = 0;
    for (int i = 0; i < H * W; i++)
        n1 += lab[i] == 1 && !memcmp(out + 3 * i, c1, 3);
    TU_CHECK(n1 == 28, "nucleus 1 has a 1-px outline of 28 pixels (got %d)", n1);
    tu_ok(cu_overlay_draw(out, rgb, lab, H, W, 2, &err), &err, "overlay thickness 2");
    n1 = 0;
    for (int i = 0; i < H * W; i++)
        n1 += lab[i] == 1 && !memcmp(out + 3 * i, c1, 3);
    TU_CHECK(n1 == 64 - 16, "thickness 2: 2-px outline of 48 pixels (got %d)", n1);
    /* in place */
    memcpy(out, rgb, sizeof rgb);
    tu_ok(cu_overlay_draw(out, out, lab, H, W, 1, &err), &err, "overlay in place");
    TU_CHECK(!memcmp(out + 3 * i_edge1, c1, 3) && out[3 * i_in1] == rgb[3 * i_in1],
             "in-place drawing gives the same picture");
    cu_err_clear(&err);
    TU_CHECK(cu_overlay_draw(out, rgb, lab, H, W, 3, &err) == CU_EUSAGE, "thickness 3 refused: %s", err.msg);

    /* A faint grey image (values 0.02..0.10, a dim fluorescence picture):
     * the base picture spans 0..255, linearly in between. 1000 pixels, so
     * the 0.5 % tails hold 5 samples: the ramp's 5 lowest and highest
     * values clamp to 0 and 255. */
    enum { N = 1000 };
    static float px[N];
    static uint8_t base[N * 3];
    for (int i = 0; i < N; i++)
        px[i] = 0.02f + 0.08f * (float)i / (N - 1);
    cu_overlay_base(px, 1, 1, N, base);
    int mid = N / 2, lin = 1;
    for (int i = 10; i < N - 10; i += 97) /* linear: value (i - 5) / (N - 11) of the range, +-2 for the bins */
        lin &= abs(base[3 * i] - (int)(255.0 * (i - 5) / (N - 11) + 0.5)) <= 2;
    TU_CHECK(base[0] == 0 && base[3 * (N - 1)] == 255 && near(base[3 * mid], 128) && lin && base[3 * mid] == base[3 * mid + 2],
             "a faint image (0.02..0.10) is stretched to 0..255 (%d, %d, middle %d), grey stays grey",
             base[0], base[3 * (N - 1)], base[3 * mid]);
    return tu_finish();
}
