/* Gathering a capacity report: the policy as ubcd would apply it (commitments), the host's
 * size, and each guest's RRD history over the window. Every guest counts in the host's sums,
 * also when the report shows only some. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ubc/agent-config.h"
#include "ubc/cgroup.h"
#include "ubc/history.h"
#include "ubc/macro.h"
#include "ubc/plan.h"
#include "ubc/units.h"
#include "report.h"

static double cpu_limit_of(const struct ubc_limits *l) {
        return l->cpu_quota_us > 0 ? (double) l->cpu_quota_us / UBC_CPU_PERIOD_US : 0;
}

static void host_size(const char *root, struct report *r) {
        struct ubc_host *host = calloc(1, sizeof(*host));

        if (host && cg_host_discover(root, host) >= 0) {
                r->cpus = host->ncpus;
                r->mem_total = host->mem_total;
                r->swap_total = host->swap_total;
        } else {
                /* No cgroups to look at (ubcd never ran here): the machine's own size. */
                long n = sysconf(_SC_NPROCESSORS_ONLN), pages = sysconf(_SC_PHYS_PAGES);

                r->cpus = n > 0 ? (double) n : 1;
                r->mem_total = pages > 0 ? (uint64_t) pages * (uint64_t) sysconf(_SC_PAGESIZE) : 0;
        }
        free(host);
}

/* The window's failure events of one resource: the stored rate times each row's length. */
static uint64_t events_in(const struct history_series *s, int col) {
        double sum = 0;

        if (col < 0)
                return 0;
        for (size_t i = 0; i < s->n_rows; i++) {
                double v = s->data[i * s->n_ds + (size_t) col];

                if (!isnan(v))
                        sum += v * (double) s->step;
        }
        return (uint64_t) llround(sum);
}

static double column_max(const struct history_series *s, const char *name) {
        int col = history_series_column(s, name);
        double m = NAN;

        if (col < 0)
                return NAN;
        for (size_t i = 0; i < s->n_rows; i++) {
                double v = s->data[i * s->n_ds + (size_t) col];

                if (!isnan(v) && (isnan(m) || v > m))
                        m = v;
        }
        return m;
}

static int summarize(const struct history_series *s, const char *name, struct capacity_summary *ret) {
        int col = history_series_column(s, name);

        if (col < 0) {
                *ret = (struct capacity_summary){
                        .n = s->n_rows, .p50 = NAN, .p95 = NAN, .max = NAN, .mean = NAN};
                return 0;
        }
        return capacity_summarize(s->data + col, s->n_rows, s->n_ds, ret);
}

static double nan_max(double a, double b) {
        return isnan(a) ? b : isnan(b) ? a : fmax(a, b);
}

/* A guest's history over the window. A missing file is no history; an unreadable one is said. */
static int guest_history(struct report *rep, struct report_guest *g) {
        struct history_series avg = {}, max = {};
        struct capacity_usage *u = &g->use;
        char err[512];
        int r;

        if (access(g->rrd_path, F_OK) < 0)
                return 0;
        r = history_fetch(g->rrd_path, "AVERAGE", rep->start, rep->end, &avg, err, sizeof(err));
        if (r < 0) {
                fprintf(stderr, "Guest %u: cannot read its history: %s\n", g->id, err);
                return 0;
        }
        if (history_fetch(g->rrd_path, "MAX", rep->start, rep->end, &max, err, sizeof(err)) < 0)
                max = (struct history_series){};

        if ((r = summarize(&avg, "cpu", &u->cpu)) < 0 ||
            (r = summarize(&avg, "cpu_throttled", &u->cpu_throttled)) < 0 ||
            (r = summarize(&avg, "mem", &u->mem)) < 0 || (r = summarize(&avg, "swap", &u->swap)) < 0 ||
            (r = summarize(&avg, "psi_mem", &u->psi_mem)) < 0 ||
            (r = summarize(&avg, "tasks", &u->tasks)) < 0 ||
            (r = summarize(&avg, "psi_cpu", &u->psi_cpu)) < 0 ||
            (r = summarize(&avg, "io_read", &g->io_read)) < 0 ||
            (r = summarize(&avg, "io_write", &g->io_write)) < 0 ||
            (r = summarize(&avg, "io_ops", &g->io_ops)) < 0)
                goto done;

        u->coverage = avg.n_rows ? (double) u->mem.n_known / (double) avg.n_rows : 0;
        /* The peak is the highest single sample where the MAX archive has it. */
        u->cpu_peak = nan_max(column_max(&max, "cpu"), u->cpu.max);
        u->mem_peak = nan_max(nan_max(column_max(&max, "mem_peak"), column_max(&max, "mem")), u->mem.max);
        g->io_read_peak = nan_max(column_max(&max, "io_read"), g->io_read.max);
        g->io_write_peak = nan_max(column_max(&max, "io_write"), g->io_write.max);
        for (int k = 0; k < _BC_MAX; k++)
                u->failcnt[k] = events_in(
                        &avg, history_series_column(
                                      &avg, history_ds_name(HISTORY_GUEST, HG_FAILCNT + (size_t) k)));

        g->has_history = u->mem.n_known > 0 || u->cpu.n_known > 0;
        if (g->has_history && rep->step == 0)
                rep->step = avg.step;
        r = 0;
done:
        history_series_done(&avg);
        history_series_done(&max);
        return r;
}

static void host_history(struct report *rep) {
        struct history_series s = {};
        char err[512];

        if (access(rep->host_rrd, F_OK) < 0)
                return;
        if (history_fetch(rep->host_rrd, "AVERAGE", rep->start, rep->end, &s, err, sizeof(err)) < 0) {
                fprintf(stderr, "Cannot read the host's history: %s\n", err);
                return;
        }
        if (summarize(&s, "cpu", &rep->host_cpu) >= 0 && summarize(&s, "mem", &rep->host_mem) >= 0)
                rep->host_history = rep->host_cpu.n_known > 0 || rep->host_mem.n_known > 0;
        history_series_done(&s);
}

static void guest_from_policy(struct report_guest *g, const struct policy_resolved *p) {
        const struct ubc_limits *l = &p->limits;

        g->id = p->guest->id;
        snprintf(g->name, sizeof(g->name), "%s", p->guest->name);
        snprintf(g->class_name, sizeof(g->class_name), "%s", p->class ? p->class->name : "");
        g->type = p->guest->type;
        g->cpu_units = l->cpu_units;
        g->lim = (struct capacity_limits){
                .cpu_limit = cpu_limit_of(l),
                .mem_limit = l->mem_limit,
                .swap = l->swap,
                .tasks = l->tasks,
        };
        g->mem_barrier = l->mem_barrier;
}

/* The entitlement of every guest under full contention, as `ubcctl explain` gives it. */
static int entitlements(struct report *rep, const struct policy_resolved *p, size_t n) {
        _cleanup_free_ struct share_input *in = calloc(n ? n : 1, sizeof(*in));
        _cleanup_free_ double *out = calloc(n ? n : 1, sizeof(*out));

        if (!in || !out)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                double cap = cpu_limit_of(&p[i].limits);

                if (!cpuset_is_empty(&p[i].limits.cpu_set)) {
                        double c = cpuset_count(&p[i].limits.cpu_set);
                        if (cap == 0 || c < cap)
                                cap = c;
                }
                in[i] = (struct share_input){.units = p[i].limits.cpu_units, .cap_cpus = cap};
        }
        if (share_entitled(in, n, rep->cpus, out) < 0)
                return 0; /* left unknown */
        for (size_t i = 0; i < n; i++)
                rep->guests[i].entitled_cpus = out[i];
        return 0;
}

static void commitments(struct report *rep) {
        for (size_t i = 0; i < rep->n_guests; i++) {
                const struct report_guest *g = &rep->guests[i];

                if (g->lim.mem_limit == UBC_UNLIMITED)
                        rep->n_mem_unlimited++;
                else
                        rep->mem_limits_sum += g->lim.mem_limit;
                if (g->mem_barrier != UBC_UNLIMITED)
                        rep->mem_barriers_sum += g->mem_barrier;
                if (g->lim.swap == UBC_UNLIMITED)
                        rep->n_swap_unlimited++;
                else
                        rep->swap_sum += g->lim.swap;
                if (g->lim.cpu_limit > 0)
                        rep->cpu_limits_sum += g->lim.cpu_limit;
                else
                        rep->n_cpu_uncapped++;
        }
        rep->mem_overcommit = rep->mem_total ? (double) rep->mem_limits_sum / (double) rep->mem_total : NAN;
        rep->cpu_overcommit = rep->cpus > 0 ? rep->cpu_limits_sum / rep->cpus : NAN;
}

static int classes(struct report *rep, const struct policy *p) {
        struct capacity_host host = {.cpus = rep->cpus,
                                     .mem_total = rep->mem_total,
                                     .cpu_limits_sum = rep->cpu_limits_sum,
                                     .mem_limits_sum = rep->mem_limits_sum};
        size_t n = 0;

        for (size_t i = 0; i < rep->n_guests; i++)
                if (rep->guests[i].has_history) {
                        host.cpu_p95_sum += rep->guests[i].use.cpu.p95;
                        host.mem_p95_sum += (uint64_t) rep->guests[i].use.mem.p95;
                }
        for (size_t f = 0; f < p->n_class_files; f++)
                n += p->class_files[f].n_classes;
        rep->classes = calloc(n ? n : 1, sizeof(*rep->classes));
        if (!rep->classes)
                return -ENOMEM;

        for (size_t f = 0; f < p->n_class_files; f++)
                for (size_t k = 0; k < p->class_files[f].n_classes; k++) {
                        const struct policy_class *pc = &p->class_files[f].classes[k];
                        struct report_class *c = &rep->classes[rep->n_classes++];
                        struct ubc_limits l;
                        double cpu_sum = 0, mem_sum = 0;

                        limits_init_default(&l);
                        if (limits_overlay(&l, &pc->limits, UBC_SOURCE_CLASS) < 0)
                                return -ENOMEM;
                        snprintf(c->name, sizeof(c->name), "%s", pc->name);
                        c->cap = (struct capacity_class){.cpu_limit = cpu_limit_of(&l),
                                                         .mem_limit = l.mem_limit};
                        limits_done(&l);
                        for (size_t i = 0; i < rep->n_guests; i++) {
                                const struct report_guest *g = &rep->guests[i];

                                if (!streq(g->class_name, c->name))
                                        continue;
                                c->n_guests++;
                                if (g->has_history) {
                                        c->cap.n_observed++;
                                        cpu_sum += g->use.cpu.p95;
                                        mem_sum += g->use.mem.p95;
                                }
                        }
                        if (c->cap.n_observed) {
                                c->cap.cpu_p95_mean = cpu_sum / (double) c->cap.n_observed;
                                c->cap.mem_p95_mean = mem_sum / (double) c->cap.n_observed;
                        }
                        capacity_headroom(&host, &c->cap, &c->fit);
                }
        return 0;
}

static bool asked_for(const struct report_options *o, uint32_t id) {
        if (o->n_ids == 0)
                return true;
        for (size_t i = 0; i < o->n_ids; i++)
                if (o->ids[i] == id)
                        return true;
        return false;
}

int report_gather(const struct report_options *o, struct ubc_diag_sink *diags, struct report *rep) {
        struct agent_config cfg;
        struct policy policy = {};
        struct policy_resolved *resolved = NULL;
        size_t n_resolved = 0;
        int r;

        *rep = (struct report){.end = o->now, .start = o->now - (time_t) o->since_s, .window_s = o->since_s};
        agent_config_init(&cfg);
        snprintf(cfg.config_dir, sizeof(cfg.config_dir), "%s", o->config_dir);
        (void) agent_config_load(&cfg, diags); /* reported; the defaults stand in */
        snprintf(rep->rrd_dir, sizeof(rep->rrd_dir), "%s/%s", cfg.state_dir, HISTORY_DIR);
        snprintf(rep->host_rrd, sizeof(rep->host_rrd), "%s/%s", rep->rrd_dir, HISTORY_HOST_FILE);
        if (gethostname(rep->hostname, sizeof(rep->hostname)) < 0)
                snprintf(rep->hostname, sizeof(rep->hostname), "this host");
        host_size(cfg.root, rep);

        /* A broken file is reported and left out, as ubcd leaves it out. */
        r = policy_load_dir(o->config_dir, &policy, diags);
        if (r == -ENOMEM)
                goto out;
        r = policy_resolve(&policy, &resolved, &n_resolved, diags);
        if (r == -ENOMEM)
                goto out;
        if (r < 0)
                n_resolved = 0;

        for (size_t i = 0; i < o->n_ids; i++) {
                bool found = false;

                for (size_t k = 0; k < n_resolved && !found; k++)
                        found = resolved[k].guest->id == o->ids[i];
                if (!found) {
                        fprintf(stderr, "Guest %u is not defined: no %s/guests.d/%u.conf\n", o->ids[i],
                                o->config_dir, o->ids[i]);
                        r = -ENOENT;
                        goto out;
                }
        }

        rep->guests = calloc(n_resolved ? n_resolved : 1, sizeof(*rep->guests));
        if (!rep->guests) {
                r = -ENOMEM;
                goto out;
        }
        rep->n_guests = n_resolved;
        for (size_t i = 0; i < n_resolved; i++) {
                struct report_guest *g = &rep->guests[i];

                guest_from_policy(g, &resolved[i]);
                g->entitled_cpus = -1;
                snprintf(g->rrd_path, sizeof(g->rrd_path), "%s/%u.rrd", rep->rrd_dir, g->id);
                r = guest_history(rep, g);
                if (r < 0)
                        goto out;
                if (g->has_history)
                        rep->n_with_history++;
                g->n_hints = g->has_history ? capacity_hints(&g->lim, &g->use, g->hints) : 0;
        }
        r = entitlements(rep, resolved, n_resolved);
        if (r < 0)
                goto out;
        host_history(rep);
        commitments(rep);
        r = classes(rep, &policy);
        if (r < 0)
                goto out;

        /* Only the guests asked for are shown; all of them counted above. */
        if (o->n_ids > 0) {
                size_t k = 0;

                for (size_t i = 0; i < rep->n_guests; i++)
                        if (asked_for(o, rep->guests[i].id))
                                rep->guests[k++] = rep->guests[i];
                rep->n_guests = k;
        }
        r = 0;
out:
        policy_resolved_free(resolved, n_resolved);
        policy_done(&policy);
        if (r == -ENOMEM)
                fprintf(stderr, "Out of memory\n");
        return r;
}

void report_done(struct report *r) {
        free(r->guests);
        free(r->classes);
        *r = (struct report){};
}
