/* Capacity arithmetic behind `ubcctl report`: window summaries, right-sizing hints and
 * headroom per class. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ubc/capacity.h"

static int double_cmp(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return x < y ? -1 : x > y;
}

/* Nearest rank: the smallest value with at least p of the samples at or below it. */
static double nearest_rank(const double *sorted, size_t n, double p) {
        size_t rank = (size_t) ceil(p * (double) n);

        if (rank < 1)
                rank = 1;
        return sorted[rank - 1];
}

int capacity_summarize(const double *values, size_t n, size_t stride, struct capacity_summary *ret) {
        double *known, sum = 0;
        size_t k = 0;

        *ret = (struct capacity_summary){.n = n, .p50 = NAN, .p95 = NAN, .max = NAN, .mean = NAN};
        if (n == 0)
                return 0;
        known = malloc(n * sizeof(*known));
        if (!known)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                double v = values[i * stride];

                if (!isnan(v)) {
                        known[k++] = v;
                        sum += v;
                }
        }
        ret->n_known = k;
        if (k > 0) {
                qsort(known, k, sizeof(*known), double_cmp);
                ret->p50 = nearest_rank(known, k, 0.50);
                ret->p95 = nearest_rank(known, k, 0.95);
                ret->max = known[k - 1];
                ret->mean = sum / (double) k;
        }
        free(known);
        return 0;
}

void capacity_format_bytes(double bytes, char *buf, size_t size) {
        static const char units[] = "BKMGTP";
        size_t u = 0;

        while (bytes >= 1024 && u + 1 < sizeof(units) - 1) {
                bytes /= 1024;
                u++;
        }
        if (u == 0 || bytes >= 100 || bytes == floor(bytes))
                snprintf(buf, size, "%.0f%c", bytes, units[u]);
        else
                snprintf(buf, size, "%.1f%c", bytes, units[u]);
}

/* A memory size to suggest: half again the peak, rounded up to 64 MiB (16 MiB for small). */
static double suggest_bytes(double peak) {
        double want = peak * 1.5,
               grain = want >= 1024.0 * 1024 * 1024 ? 64.0 * 1024 * 1024 : 16.0 * 1024 * 1024;

        return fmax(grain, ceil(want / grain - 1e-9) * grain);
}

/* A cpu.limit to suggest: half again the peak, rounded up to 0.05 CPUs. */
static double suggest_cpus(double peak) {
        /* less a hair: 0.1 * 1.5 / 0.05 is 3.0000000000000004 in binary */
        return fmax(0.05, ceil(peak * 1.5 / 0.05 - 1e-9) * 0.05);
}

static size_t add(struct capacity_hint *hints, size_t n, enum capacity_hint_kind kind, double value,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static size_t add(struct capacity_hint *hints, size_t n, enum capacity_hint_kind kind, double value,
                  const char *fmt, ...) {
        va_list ap;

        if (n >= CAPACITY_HINTS_MAX)
                return n;
        hints[n].kind = kind;
        hints[n].value = value;
        va_start(ap, fmt);
        vsnprintf(hints[n].text, sizeof(hints[n].text), fmt, ap);
        va_end(ap);
        return n + 1;
}

static uint64_t sum_failcnt(const struct capacity_usage *use, const enum bc_resource *which, size_t n) {
        uint64_t s = 0;

        for (size_t i = 0; i < n; i++)
                s += use->failcnt[which[i]];
        return s;
}

size_t capacity_hints(const struct capacity_limits *lim, const struct capacity_usage *use,
                      struct capacity_hint hints[CAPACITY_HINTS_MAX]) {
        static const enum bc_resource memory_rows[] = {BC_PHYSPAGES, BC_OOMGUARPAGES};
        uint64_t mem_fail = sum_failcnt(use, memory_rows, 2);
        bool mem_limited = lim->mem_limit != UINT64_MAX && lim->mem_limit > 0;
        char a[32], b[32];
        size_t n = 0;

        /* What is short comes first: it is what someone notices. */
        if (mem_fail > 0)
                n = add(hints, n, HINT_MORE_MEMORY, (double) mem_fail,
                        "needs more memory: %llu failcnt event%s at its limit",
                        (unsigned long long) mem_fail, mem_fail == 1 ? "" : "s");
        else if (!isnan(use->psi_mem.p95) && use->psi_mem.p95 >= CAPACITY_PSI_HIGH)
                n = add(hints, n, HINT_MORE_MEMORY, use->psi_mem.p95,
                        "needs more memory: memory pressure p95 %.0f%% (tasks stalled waiting for memory)",
                        use->psi_mem.p95);
        if (use->failcnt[BC_SWAPPAGES] > 0)
                n = add(hints, n, HINT_MORE_SWAP, (double) use->failcnt[BC_SWAPPAGES],
                        "needs more swap: %llu failcnt event%s",
                        (unsigned long long) use->failcnt[BC_SWAPPAGES],
                        use->failcnt[BC_SWAPPAGES] == 1 ? "" : "s");
        if (use->failcnt[BC_NUMPROC] > 0)
                n = add(hints, n, HINT_MORE_TASKS, (double) use->failcnt[BC_NUMPROC],
                        "needs more tasks: %llu fork%s refused at its limit",
                        (unsigned long long) use->failcnt[BC_NUMPROC],
                        use->failcnt[BC_NUMPROC] == 1 ? "" : "s");
        if (lim->cpu_limit > 0 && !isnan(use->cpu_throttled.p95) &&
            use->cpu_throttled.p95 >= CAPACITY_THROTTLED_HIGH * lim->cpu_limit)
                n = add(hints, n, HINT_MORE_CPU, use->cpu_throttled.p95,
                        "needs more CPU: throttled %.2f CPUs at p95 against cpu.limit %.2f",
                        use->cpu_throttled.p95, lim->cpu_limit);

        if (use->coverage < CAPACITY_MIN_COVERAGE)
                return add(hints, n, HINT_LITTLE_HISTORY, use->coverage,
                           "too little history to right-size (%.0f%% of the window)", use->coverage * 100);

        /* A guest nothing ran in says nothing about its size. */
        if (!isnan(use->tasks.max) && use->tasks.max == 0)
                return add(hints, n, HINT_IDLE, 0, "idle: no task ran in it the whole window");

        /* Too big: the peak stayed under 30% of the limit for the whole window. */
        if (mem_limited && mem_fail == 0 && !isnan(use->mem_peak) &&
            use->mem_peak < CAPACITY_SHRINK_BELOW * (double) lim->mem_limit) {
                double to = suggest_bytes(use->mem_peak);

                capacity_format_bytes(to, a, sizeof(a));
                capacity_format_bytes(use->mem_peak, b, sizeof(b));
                n = add(hints, n, HINT_SHRINK_MEMORY, to,
                        "could shrink memory to %s (peak %s, %.0f%% of the limit)", a, b,
                        100 * use->mem_peak / (double) lim->mem_limit);
        }
        if (lim->cpu_limit > 0 && !isnan(use->cpu_peak) &&
            use->cpu_peak < CAPACITY_SHRINK_BELOW * lim->cpu_limit) {
                double to = suggest_cpus(use->cpu_peak);

                if (to < lim->cpu_limit)
                        n = add(hints, n, HINT_SHRINK_CPU, to,
                                "could shrink cpu.limit to %.2f (peak %.2f CPUs, %.0f%% of the limit)", to,
                                use->cpu_peak, 100 * use->cpu_peak / lim->cpu_limit);
        }
        return n;
}

/* How many of 'each' fit in 'free'; -1 when there is nothing to count by. */
static long fit(double free, double each) {
        if (!(each > 0) || isnan(free))
                return -1;
        return free <= 0 ? 0 : (long) floor(free / each + 1e-9);
}

/* The smaller of two counts that may be -1 (unknown), with the name of the one that binds. */
static void tighter(long mem, long cpu, long *ret, const char **ret_by) {
        if (mem < 0 && cpu < 0) {
                *ret = -1;
                *ret_by = NULL;
        } else if (cpu < 0 || (mem >= 0 && mem <= cpu)) {
                *ret = mem;
                *ret_by = "memory";
        } else {
                *ret = cpu;
                *ret_by = "cpu";
        }
}

void capacity_headroom(const struct capacity_host *host, const struct capacity_class *cls,
                       struct capacity_fit *ret) {
        bool has_mem = cls->mem_limit != UINT64_MAX && cls->mem_limit > 0;
        double mem_each, cpu_each;

        tighter(has_mem ? fit((double) host->mem_total - (double) host->mem_limits_sum,
                              (double) cls->mem_limit)
                        : -1,
                fit(host->cpus - host->cpu_limits_sum, cls->cpu_limit), &ret->at_limits, &ret->at_limits_by);

        /* At p95: what guests of the class used, or the class limit where none has history. */
        mem_each = cls->n_observed ? cls->mem_p95_mean : (has_mem ? (double) cls->mem_limit : 0);
        cpu_each = cls->n_observed ? cls->cpu_p95_mean : cls->cpu_limit;
        tighter(fit((double) host->mem_total - (double) host->mem_p95_sum, mem_each),
                fit(host->cpus - host->cpu_p95_sum, cpu_each), &ret->at_p95, &ret->at_p95_by);
}
