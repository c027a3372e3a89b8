/* Folding samples into one row per RRD step, as rrdtool would consolidate an update per sample:
 * the same sums of value times seconds, the same unknowns, so the rows come out alike. */
#include <math.h>
#include <string.h>

#include "ubc/history-fold.h"

void history_fold_start(struct history_fold *f, time_t last_update) {
        *f = (struct history_fold){.start = last_update, .point = last_update};
}

/* Adds (point, until] at the sample's values. */
static void fold_until(struct history_fold *f, const double *rates, size_t n, time_t until) {
        double len = (double) (until - f->point);

        for (size_t i = 0; i < n; i++)
                if (!isnan(rates[i])) {
                        f->sum[i] += rates[i] * len;
                        f->known[i] += (uint32_t) (until - f->point);
                }
        f->point = until;
}

/* The window (start, point] as one row, and a new window from there. A GAUGE row carries the
 * mean of the known part, an ABSOLUTE row the increments that make that mean rate over the
 * whole window. Unknown is a window with nothing known, or one where more than half of the
 * step was unknown before its closing interval (rrdtool's test, which leaves that interval's
 * own unknown part out); 'unknown' is NULL for a row mid-step, unknown where more than half
 * of the window is. */
static void emit(struct history_fold *f, const struct history_fold_spec *spec, const uint32_t *unknown,
                 struct history_row *row) {
        double window = (double) (f->point - f->start);

        row->when = f->point;
        for (size_t i = 0; i < spec->n; i++) {
                double known = (double) f->known[i], mean;

                if (f->known[i] == 0 || (unknown ? (double) unknown[i] * 2 > (double) spec->step
                                                 : (window - known) * 2 > window)) {
                        row->v[i] = NAN;
                        continue;
                }
                mean = f->sum[i] / known;
                row->v[i] = spec->absolute & (UINT64_C(1) << i) ? mean * window : mean;
        }
        memset(f->sum, 0, sizeof(f->sum));
        memset(f->known, 0, sizeof(f->known));
        f->start = f->point;
}

size_t history_fold_add(struct history_fold *f, const struct history_fold_spec *spec, time_t wall,
                        const double *values, struct history_row rows[2]) {
        double rates[HISTORY_FOLD_MAX];
        time_t dt, first, last;
        size_t n_rows = 0;

        if (!f || !spec || !values || spec->step == 0 || spec->n > HISTORY_FOLD_MAX || wall <= f->point)
                return 0;
        dt = wall - f->point;
        for (size_t i = 0; i < spec->n; i++) {
                /* Past the heartbeat rrdtool knows nothing of the interval. */
                if ((unsigned long) dt > spec->heartbeat || isnan(values[i]))
                        rates[i] = NAN;
                else if (spec->absolute & (UINT64_C(1) << i))
                        rates[i] = values[i] / (double) dt;
                else
                        rates[i] = values[i];
        }

        first = (f->point / (time_t) spec->step + 1) * (time_t) spec->step;
        if (wall >= first) {
                uint32_t unknown[HISTORY_FOLD_MAX];

                for (size_t i = 0; i < spec->n; i++)
                        unknown[i] = (uint32_t) (f->point - f->start) - f->known[i];
                fold_until(f, rates, spec->n, first);
                emit(f, spec, unknown, &rows[n_rows++]);
                /* Steps passed whole by one interval all get its value: one row for them. */
                last = wall / (time_t) spec->step * (time_t) spec->step;
                if (last > first) {
                        memset(unknown, 0, sizeof(unknown));
                        fold_until(f, rates, spec->n, last);
                        emit(f, spec, unknown, &rows[n_rows++]);
                }
        }
        if (wall > f->point)
                fold_until(f, rates, spec->n, wall);
        return n_rows;
}

bool history_fold_flush(struct history_fold *f, const struct history_fold_spec *spec,
                        struct history_row *row) {
        if (!f || !spec || !row || f->point <= f->start)
                return false;
        emit(f, spec, NULL, row);
        return true;
}

bool history_batch_due(time_t when, unsigned long step, uint32_t id, unsigned every, size_t n_held) {
        if (every <= 1 || n_held >= every || step == 0 || when < 0)
                return true;
        return ((uint64_t) when / step + id) % every == 0;
}
