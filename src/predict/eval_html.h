/* eval_html.h: `clunet eval --report DIR`: per image, the picture and its
 * fate overlay written to DIR/img/, and at the end DIR/index.html
 * (html_eval.h). Leaves out the scoring (eval_report.c) and the page's
 * layout (html_eval.c). */
#ifndef CLUNET_EVAL_HTML_H
#define CLUNET_EVAL_HTML_H

#include <stdint.h>

#include "clunet/eval_report.h"
#include "clunet/html_eval.h"
#include "clunet/image.h"

struct cu_eval_html {
    const char *dir;
    int n, cap;
    struct cu_html_image *im;
};

/* Makes DIR and DIR/img (CU_EIO when they cannot be made or written). */
enum cu_status cu_eval_html_begin(struct cu_eval_html *h, const char *dir, struct cu_err *err);

/* Adds one scored image: rgb is the image (planar floats in [0, 1], 1 or 3
 * planes, the size of the label images); pred and truth its label images. */
enum cu_status cu_eval_html_add(struct cu_eval_html *h, const struct cu_eval_row *row, const struct cu_image *rgb,
                                const int32_t *pred, const int32_t *truth, struct cu_err *err);

/* Writes DIR/index.html with the dataset summary s. */
enum cu_status cu_eval_html_finish(struct cu_eval_html *h, const char *model, const char *pred_dir,
                                   const char *data, const struct cu_eval_summary *s, struct cu_err *err);

void cu_eval_html_free(struct cu_eval_html *h);

#endif
