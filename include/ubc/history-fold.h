/* One RRD row per step from many samples: the sweeps between two step boundaries are folded
 * the way rrdtool consolidates them (each value holds from the previous sample to its own,
 * unknown where it is NAN or the gap passed the heartbeat), so that one update per step leaves
 * the file's rows as an update per sweep would, at a fraction of the file writes. Pure code. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ubc/history.h"

#define HISTORY_FOLD_MAX _HG_MAX

/* The file a fold writes to: its step, heartbeat and which sources are ABSOLUTE (increments,
 * which rrdtool turns into a rate over the update's interval) rather than GAUGE. */
struct history_fold_spec {
        unsigned long step, heartbeat;
        size_t n;          /* sources, at most HISTORY_FOLD_MAX */
        uint64_t absolute; /* bit per source */
};

/* The part of a step folded so far: the window (start, point]. */
struct history_fold {
        time_t start, point;
        double sum[HISTORY_FOLD_MAX];     /* value (GAUGE) or rate (ABSOLUTE) times seconds */
        uint32_t known[HISTORY_FOLD_MAX]; /* seconds of the window with a known value */
};

/* One update: the values for (previous update, when], as rrd_update takes them. */
struct history_row {
        time_t when;
        double v[HISTORY_FOLD_MAX];
};

/* Starts folding after the file's last update. */
void history_fold_start(struct history_fold *f, time_t last_update);
/* Folds a sample taken at 'wall' (values as an update at 'wall' would carry them). Returns how
 * many rows are due (0..2: the step boundary it passed, and the last one if it passed several),
 * oldest first; the rest of the interval starts the next window. A sample not after the point
 * folded so far is ignored (0). */
size_t history_fold_add(struct history_fold *f, const struct history_fold_spec *spec, time_t wall,
                        const double *values, struct history_row rows[2]);
/* The window as one row at its point, for a file left mid-step (ubcd stopping): false if
 * nothing is folded since the last row. */
bool history_fold_flush(struct history_fold *f, const struct history_fold_spec *spec,
                        struct history_row *row);

/* Whether a file's rows held back (n_held of them, the newest at 'when', a step boundary) are
 * written now, when they go to the file 'every' steps at once: in one update call, which
 * opens the file and parses its header once for them all. Files take turns by their guest's
 * ID, so each step writes a share of them rather than all of them every few steps; a file
 * holding 'every' rows (a gap made two at once) is written at once. */
bool history_batch_due(time_t when, unsigned long step, uint32_t id, unsigned every, size_t n_held);
