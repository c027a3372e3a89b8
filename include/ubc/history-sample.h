/* The values of one history update, from samples: rates over the monotonic clock, the memory
 * peak and the failure counts between two updates, and the checks that keep a wall clock that
 * stepped out of the RRD files. Pure code; ubcd's agent/history.c does the writing. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ubc/beancounter.h"
#include "ubc/history.h"
#include "ubc/sampler.h"

/* How far the wall clock may run ahead of the monotonic clock between two samples before it
 * counts as stepped: whole seconds on one side, rounding and timer slack on the other. */
#define HISTORY_CLOCK_SLACK_SEC 5

enum history_verdict {
        HISTORY_UPDATE,      /* the values are ready for this timestamp */
        HISTORY_SAME_SECOND, /* the file has this second already: carried over to the next update */
        HISTORY_CLOCK_BACK,  /* the wall clock is behind the file's last update */
        HISTORY_CLOCK_JUMP,  /* the wall clock moved far more than the monotonic clock */
};

const char *history_verdict_name(enum history_verdict v);

/* The clocks of one file: what it holds, and the previous sample. */
struct history_clock {
        time_t last_update; /* of the file; an update must come after it */
        bool have_prev;
        uint64_t prev_mono_usec;
        time_t prev_wall;
};

/* Where a sample taken at (mono_usec, wall) may go; remembers it as the previous sample. */
enum history_verdict history_clock_check(struct history_clock *c, uint64_t mono_usec, time_t wall);

/* What one guest's file needs carried between samples. Zero it for a new file, then set
 * clock.last_update to the file's. */
struct history_guest_track {
        struct history_clock clock;
        bool have_base; /* counters of an earlier sample, for rates */
        uint64_t base_mono_usec;
        bool base_has_cpu;
        uint64_t base_cpu_usec, base_throttled_usec;
        uint64_t base_io_rbytes, base_io_wbytes, base_io_ops;
        bool have_kernel_peak;
        uint64_t kernel_peak; /* bytes, at the previous sample */
        bool have_peak;
        uint64_t peak; /* bytes: the highest since the previous update */
        bool have_mem;
        uint64_t mem;              /* bytes, the latest sample */
        uint64_t failcnt[_BC_MAX]; /* increments not written yet */
};

struct history_guest_input {
        uint64_t mono_usec;
        time_t wall;
        const struct bc_sample *bc;
        const struct guest_stat *st;
        const uint64_t *failcnt_added; /* _BC_MAX increments of this sweep, or NULL */
};

/* Folds one sample in. On HISTORY_UPDATE, ret_values gets every source of the guest's file
 * (NAN: unknown) as an update at the sample's time would carry them; the caller writes them
 * (ubcd folds them into the step's row, history-fold.h) and then calls
 * history_guest_written(). On any other verdict nothing is to be written, and what the sample
 * carried waits for the next update. */
enum history_verdict history_guest_step(struct history_guest_track *t, const struct history_guest_input *in,
                                        double ret_values[_HG_MAX]);
/* The update of 'wall' is taken (in the file, or in the step's row): failure counts and the
 * peak start again. */
void history_guest_written(struct history_guest_track *t, time_t wall);

struct history_host_track {
        struct history_clock clock;
        bool have_base;
        uint64_t base_mono_usec, base_busy_ticks;
};

struct history_host_input {
        uint64_t mono_usec;
        time_t wall;
        bool has_cpu;
        uint64_t busy_ticks; /* /proc/stat, all CPUs */
        unsigned long ticks_per_sec;
        unsigned cpus; /* online; 0: unknown */
        bool has_mem;
        uint64_t mem_total, mem_available, swap_total, swap_free; /* bytes */
};

enum history_verdict history_host_step(struct history_host_track *t, const struct history_host_input *in,
                                       double ret_values[_HH_MAX]);
void history_host_written(struct history_host_track *t, time_t wall);

/* The busy ticks of /proc/stat's "cpu" line: user, nice, system, irq and softirq (guest time
 * is inside user; idle, iowait and steal are not work this host did). */
int history_parse_proc_stat(const char *buf, uint64_t *ret_busy_ticks);

/* "TIME:V:V:U..." as rrd_update takes it; NAN becomes U. -ENOBUFS if it does not fit. */
int history_format_update(char *buf, size_t size, time_t wall, const double *values, size_t n);
