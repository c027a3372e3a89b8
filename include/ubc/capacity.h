/* Capacity arithmetic for `ubcctl report`: percentiles of a history window, right-sizing
 * hints, and how many more guests of a class fit. Pure: numbers in, numbers out. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ubc/beancounter.h"

/* One data source over a window. Unknown samples (NaN) are left out. */
struct capacity_summary {
        size_t n, n_known;    /* samples in the window, and those with a value */
        double p50, p95, max; /* nearest-rank percentiles; NaN when n_known == 0 */
        double mean;
};

/* Summarizes values[0], values[stride], ... (n of them). -ENOMEM. */
int capacity_summarize(const double *values, size_t n, size_t stride, struct capacity_summary *ret);

/* What one guest is promised; UINT64_MAX / 0 where it has no limit. */
struct capacity_limits {
        double cpu_limit;   /* CPUs, 0 = none */
        uint64_t mem_limit; /* bytes */
        uint64_t swap;      /* bytes */
        uint64_t tasks;
};

/* What one guest used over the window. */
struct capacity_usage {
        double coverage; /* share of the window with samples, 0..1 */
        struct capacity_summary cpu, cpu_throttled, mem, swap, psi_mem, psi_cpu, tasks;
        double cpu_peak, mem_peak; /* from the MAX archives: the highest single sample */
        uint64_t failcnt[_BC_MAX]; /* events in the window */
};

enum capacity_hint_kind {
        HINT_LITTLE_HISTORY, /* too little data to judge */
        HINT_IDLE,           /* no task ran all window: nothing to size by */
        HINT_SHRINK_MEMORY,
        HINT_SHRINK_CPU,
        HINT_MORE_MEMORY,
        HINT_MORE_CPU,
        HINT_MORE_TASKS,
        HINT_MORE_SWAP,
};

struct capacity_hint {
        enum capacity_hint_kind kind;
        double value; /* the suggested limit (bytes or CPUs) where one is given, else a measure */
        char text[192];
};

#define CAPACITY_HINTS_MAX      8
#define CAPACITY_SHRINK_BELOW   0.30 /* peak under this share of the limit all window: too big */
#define CAPACITY_MIN_COVERAGE   0.50 /* less history than this: no shrink hint */
#define CAPACITY_PSI_HIGH       10.0 /* percent, p95 of "some" avg10 */
#define CAPACITY_THROTTLED_HIGH 0.10 /* p95 throttled CPU as a share of the limit */

/* The hints for one guest, most urgent first; returns how many (<= CAPACITY_HINTS_MAX). */
size_t capacity_hints(const struct capacity_limits *lim, const struct capacity_usage *use,
                      struct capacity_hint hints[CAPACITY_HINTS_MAX]);

/* How many more guests of a class fit on the host: at their limits, and at what guests of the
 * class used at p95. */
struct capacity_host {
        double cpus;
        uint64_t mem_total;
        double cpu_limits_sum;   /* of the guests that have one */
        uint64_t mem_limits_sum; /* of the guests that have one */
        double cpu_p95_sum;      /* observed, every guest */
        uint64_t mem_p95_sum;
};

struct capacity_class {
        double cpu_limit;   /* 0 = none */
        uint64_t mem_limit; /* UINT64_MAX = none */
        size_t n_observed;  /* guests of the class with history */
        double cpu_p95_mean;
        double mem_p95_mean;
};

struct capacity_fit {
        long at_limits;           /* -1: the class has no limit to count by */
        const char *at_limits_by; /* "memory" or "cpu": what runs out first */
        long at_p95;
        const char *at_p95_by;
};

void capacity_headroom(const struct capacity_host *host, const struct capacity_class *cls,
                       struct capacity_fit *ret);

/* "1.5G", "512M", "300K", "17B": the shortest policy-style size that reads back near the value. */
void capacity_format_bytes(double bytes, char *buf, size_t size);
