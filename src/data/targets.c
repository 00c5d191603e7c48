/* targets.c: body / contour / touching-border bits from instance labels
 * (nuclei.h). */
#include "clunet/nuclei.h"

void cu_targets_from_labels(const uint32_t *lab, int h, int w, uint8_t *bits)
{
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            size_t i = (size_t)y * (size_t)w + (size_t)x;
            uint32_t k = lab[i], other = 0;
            uint8_t b = k ? CU_T_BODY : 0;
            int rim = 0, two = 0;
            for (int dy = -2; dy <= 2; dy++) {
                int yy = y + dy;
                if (yy < 0 || yy >= h)
                    continue;
                for (int dx = -2; dx <= 2; dx++) {
                    int xx = x + dx;
                    if (xx < 0 || xx >= w)
                        continue;
                    uint32_t q = lab[(size_t)yy * (size_t)w + (size_t)xx];
                    if (k && q != k && dy >= -1 && dy <= 1 && dx >= -1 && dx <= 1)
                        rim = 1;
                    if (q && !other)
                        other = q;
                    else if (q && q != other)
                        two = 1;
                }
            }
            if (rim)
                b |= CU_T_CONTOUR;
            if (two)
                b |= CU_T_BORDER;
            bits[i] = b;
        }
}
