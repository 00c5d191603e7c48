/* progress.c: the progress bar of progress.h. Writes only to the stream it
 * was given; never reports errors (a failed write to a log is not worth
 * stopping a training for). */
#include "clunet/progress.h"

#include <string.h>
#include <unistd.h>

#define BAR 30

void cu_progress_start(struct cu_progress *p, FILE *f, const char *label, long total)
{
    memset(p, 0, sizeof *p);
    p->f = f;
    p->tty = f && isatty(fileno(f));
    snprintf(p->label, sizeof p->label, "%s", label ? label : "");
    p->total = total > 0 ? total : 0;
    p->t0 = cu_now();
    p->last_draw = -1;
    p->last_tenth = -1;
}

double cu_progress_elapsed(const struct cu_progress *p)
{
    return cu_now() - p->t0;
}

static void draw(struct cu_progress *p, int final)
{
    double t = cu_progress_elapsed(p);
    if (p->tty) {
        char bar[BAR + 1];
        int fill = p->total ? (int)((double)BAR * (double)p->done / (double)p->total) : BAR;
        for (int i = 0; i < BAR; i++)
            bar[i] = i < fill ? '=' : i == fill ? '>' : ' ';
        bar[BAR] = '\0';
        /* \033[K clears what a longer previous line left behind. */
        fprintf(p->f, "\r%s [%s] %ld/%ld  %.1fs%s%s\033[K%s", p->label, bar, p->done, p->total, t,
                p->note[0] ? "  " : "", p->note, final ? "\n" : "");
    } else {
        fprintf(p->f, "%s: %ld/%ld  %.1fs%s%s\n", p->label, p->done, p->total, t, p->note[0] ? "  " : "",
                p->note);
    }
    fflush(p->f);
}

void cu_progress_update(struct cu_progress *p, long done, const char *note)
{
    if (!p->f)
        return;
    p->done = done;
    if (note)
        snprintf(p->note, sizeof p->note, "%s", note);
    if (p->tty) {
        double t = cu_now();
        if (p->last_draw < 0 || t - p->last_draw >= 0.1) {
            p->last_draw = t;
            draw(p, 0);
        }
        return;
    }
    int tenth = p->total ? (int)(10 * done / p->total) : 10;
    if (tenth > p->last_tenth && done < p->total) {
        if (p->last_tenth >= 0) /* no line for 0 % */
            draw(p, 0);
        p->last_tenth = tenth;
    }
}

void cu_progress_done(struct cu_progress *p)
{
    if (!p->f)
        return;
    draw(p, 1);
}
