/* The numbers of a history update: rates over the monotonic clock, the memory peak and failure
 * counts between updates, and the wall clock checks that keep an RRD file from being written
 * out of order. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ubc/history-sample.h"
#include "ubc/macro.h"

const char *history_verdict_name(enum history_verdict v) {
        switch (v) {
        case HISTORY_UPDATE:
                return "update";
        case HISTORY_SAME_SECOND:
                return "same second";
        case HISTORY_CLOCK_BACK:
                return "clock back";
        case HISTORY_CLOCK_JUMP:
                return "clock jump";
        }
        return "?";
}

enum history_verdict history_clock_check(struct history_clock *c, uint64_t mono_usec, time_t wall) {
        enum history_verdict v = HISTORY_UPDATE;

        if (wall < c->last_update)
                v = HISTORY_CLOCK_BACK;
        else if (wall == c->last_update)
                v = HISTORY_SAME_SECOND;
        else if (c->have_prev && mono_usec >= c->prev_mono_usec) {
                /* Whole seconds of wall clock against microseconds of monotonic: compare in
                 * microseconds, with the slack covering the rounding. */
                int64_t wall_us = ((int64_t) wall - (int64_t) c->prev_wall) * 1000000;
                int64_t mono_us = (int64_t) (mono_usec - c->prev_mono_usec);

                if (wall_us > mono_us + (int64_t) HISTORY_CLOCK_SLACK_SEC * 1000000)
                        v = HISTORY_CLOCK_JUMP;
        }
        c->have_prev = true;
        c->prev_mono_usec = mono_usec;
        c->prev_wall = wall;
        return v;
}

/* Per second over dt, or NAN where there is no earlier value or the counter went back (a
 * cgroup made anew counts from zero). */
static double rate(bool have_base, uint64_t base, uint64_t now, double dt) {
        if (!have_base || dt <= 0 || now < base)
                return NAN;
        return (double) (now - base) / dt;
}

static void io_sums(const struct guest_stat *st, uint64_t *ret_r, uint64_t *ret_w, uint64_t *ret_ops) {
        uint64_t r = 0, w = 0, ops = 0;

        for (size_t i = 0; st && i < st->n_io && i < STAT_IO_DEVS_MAX; i++) {
                r += st->io[i].rbytes;
                w += st->io[i].wbytes;
                ops += st->io[i].rios + st->io[i].wios;
        }
        *ret_r = r;
        *ret_w = w;
        *ret_ops = ops;
}

static bool present(const struct bc_sample *bc, enum bc_resource r) {
        return bc && (bc->present & (1u << r));
}

static double held_pages(const struct bc_sample *bc, enum bc_resource r) {
        return present(bc, r) ? (double) (bc->held[r] * BC_PAGE_SIZE) : NAN;
}

static void track_peak(struct history_guest_track *t, const struct bc_sample *bc) {
        bool has_kernel = bc && (bc->peak_present & (1u << BC_PHYSPAGES));
        uint64_t kernel = has_kernel ? bc->peak[BC_PHYSPAGES] * BC_PAGE_SIZE : 0;

        t->have_mem = present(bc, BC_PHYSPAGES);
        t->mem = t->have_mem ? bc->held[BC_PHYSPAGES] * BC_PAGE_SIZE : 0;
        if (t->have_mem && (!t->have_peak || t->mem > t->peak)) {
                t->peak = t->mem;
                t->have_peak = true;
        }
        /* The kernel's peak is over the cgroup's life: only a rise since the previous sample
         * happened in this interval, between two samples where ours could not see it. */
        if (has_kernel && t->have_kernel_peak && kernel > t->kernel_peak &&
            (!t->have_peak || kernel > t->peak)) {
                t->peak = kernel;
                t->have_peak = true;
        }
        t->have_kernel_peak = has_kernel;
        t->kernel_peak = kernel;
}

static void set_base(struct history_guest_track *t, const struct history_guest_input *in) {
        const struct guest_stat *st = in->st;

        t->have_base = true;
        t->base_mono_usec = in->mono_usec;
        t->base_has_cpu = st && st->has_cpu_usage;
        t->base_cpu_usec = st ? st->cpu_usage_usec : 0;
        t->base_throttled_usec = st ? st->cpu_throttled_usec : 0;
        io_sums(st, &t->base_io_rbytes, &t->base_io_wbytes, &t->base_io_ops);
}

enum history_verdict history_guest_step(struct history_guest_track *t, const struct history_guest_input *in,
                                        double v[_HG_MAX]) {
        const struct bc_sample *bc = in->bc;
        const struct guest_stat *st = in->st;
        enum history_verdict verdict;
        uint64_t io_r, io_w, io_ops;
        bool have_base = t->have_base;
        double dt;

        /* What happened in this interval counts whether or not this sample is written. */
        for (size_t k = 0; in->failcnt_added && k < _BC_MAX; k++)
                t->failcnt[k] += in->failcnt_added[k];
        track_peak(t, bc);

        verdict = history_clock_check(&t->clock, in->mono_usec, in->wall);
        if (verdict == HISTORY_SAME_SECOND)
                return verdict; /* the base stays: the next rate spans both intervals */
        if (verdict != HISTORY_UPDATE) {
                set_base(t, in);
                return verdict;
        }

        dt = have_base && in->mono_usec > t->base_mono_usec
                     ? (double) (in->mono_usec - t->base_mono_usec) / 1e6
                     : 0;
        io_sums(st, &io_r, &io_w, &io_ops);
        for (size_t i = 0; i < _HG_MAX; i++)
                v[i] = NAN;
        if (st && st->has_cpu_usage && t->base_has_cpu)
                v[HG_CPU] = rate(have_base, t->base_cpu_usec, st->cpu_usage_usec, dt) / 1e6;
        if (st) /* cpu.stat's throttled time, also where usage comes from elsewhere (v1 cpuacct) */
                v[HG_CPU_THROTTLED] =
                        rate(have_base, t->base_throttled_usec, st->cpu_throttled_usec, dt) / 1e6;
        v[HG_IO_READ] = rate(have_base, t->base_io_rbytes, io_r, dt);
        v[HG_IO_WRITE] = rate(have_base, t->base_io_wbytes, io_w, dt);
        v[HG_IO_OPS] = rate(have_base, t->base_io_ops, io_ops, dt);
        v[HG_MEM] = held_pages(bc, BC_PHYSPAGES);
        v[HG_MEM_PEAK] = t->have_peak ? (double) t->peak : NAN;
        v[HG_SWAP] = held_pages(bc, BC_SWAPPAGES);
        v[HG_KMEM] = present(bc, BC_KMEMSIZE) ? (double) bc->held[BC_KMEMSIZE] : NAN;
        v[HG_TASKS] = present(bc, BC_NUMPROC) ? (double) bc->held[BC_NUMPROC] : NAN;
        if (st && st->has_psi) {
                v[HG_PSI_CPU] = st->psi_cpu.some.avg10;
                v[HG_PSI_MEM] = st->psi_memory.some.avg10;
                v[HG_PSI_IO] = st->psi_io.some.avg10;
        }
        for (size_t k = 0; k < _BC_MAX; k++)
                v[HG_FAILCNT + k] = (double) t->failcnt[k];
        set_base(t, in);
        return verdict;
}

void history_guest_written(struct history_guest_track *t, time_t wall) {
        t->clock.last_update = wall;
        memset(t->failcnt, 0, sizeof(t->failcnt));
        /* The next interval starts at what memory holds now. */
        t->have_peak = t->have_mem;
        t->peak = t->mem;
}

enum history_verdict history_host_step(struct history_host_track *t, const struct history_host_input *in,
                                       double v[_HH_MAX]) {
        enum history_verdict verdict = history_clock_check(&t->clock, in->mono_usec, in->wall);
        double dt;

        if (verdict == HISTORY_SAME_SECOND)
                return verdict;
        if (verdict == HISTORY_UPDATE) {
                for (size_t i = 0; i < _HH_MAX; i++)
                        v[i] = NAN;
                dt = t->have_base && in->mono_usec > t->base_mono_usec
                             ? (double) (in->mono_usec - t->base_mono_usec) / 1e6
                             : 0;
                if (in->has_cpu && in->ticks_per_sec > 0)
                        v[HH_CPU] = rate(t->have_base, t->base_busy_ticks, in->busy_ticks, dt) /
                                    (double) in->ticks_per_sec;
                if (in->cpus > 0)
                        v[HH_CPUS] = in->cpus;
                if (in->has_mem) {
                        v[HH_MEM_TOTAL] = (double) in->mem_total;
                        v[HH_MEM] = (double) (in->mem_total > in->mem_available
                                                      ? in->mem_total - in->mem_available
                                                      : 0);
                        v[HH_SWAP_TOTAL] = (double) in->swap_total;
                        v[HH_SWAP] =
                                (double) (in->swap_total > in->swap_free ? in->swap_total - in->swap_free
                                                                         : 0);
                }
        }
        t->have_base = in->has_cpu;
        t->base_mono_usec = in->mono_usec;
        t->base_busy_ticks = in->busy_ticks;
        return verdict;
}

void history_host_written(struct history_host_track *t, time_t wall) {
        t->clock.last_update = wall;
}

int history_parse_proc_stat(const char *buf, uint64_t *ret_busy_ticks) {
        /* user nice system idle iowait irq softirq: the fields that count here */
        static const bool busy[] = {true, true, true, false, false, true, true};
        uint64_t sum = 0;
        const char *p;

        if (!buf || strncmp(buf, "cpu ", 4) != 0)
                return -EINVAL;
        p = buf + 4;
        for (size_t i = 0; i < ELEMENTSOF(busy); i++) {
                uint64_t n = 0;

                while (*p == ' ')
                        p++;
                if (*p < '0' || *p > '9')
                        return -EINVAL;
                for (; *p >= '0' && *p <= '9'; p++) {
                        if (n > (UINT64_MAX - 9) / 10)
                                return -ERANGE;
                        n = n * 10 + (uint64_t) (*p - '0');
                }
                if (busy[i]) {
                        if (sum > UINT64_MAX - n)
                                return -ERANGE;
                        sum += n;
                }
        }
        *ret_busy_ticks = sum;
        return 0;
}

int history_format_update(char *buf, size_t size, time_t wall, const double *values, size_t n) {
        size_t len;
        int k;

        k = snprintf(buf, size, "%" PRId64, (int64_t) wall);
        if (k < 0 || (size_t) k >= size)
                return -ENOBUFS;
        len = (size_t) k;
        for (size_t i = 0; i < n; i++) {
                if (isnan(values[i]))
                        k = snprintf(buf + len, size - len, ":U");
                else
                        k = snprintf(buf + len, size - len, ":%.15g", values[i]);
                if (k < 0 || (size_t) k >= size - len)
                        return -ENOBUFS;
                len += (size_t) k;
        }
        return (int) len;
}
