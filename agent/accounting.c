/* Accounting: the sampling timer, beancounter state that survives restarts (state_dir/
 * beancounters), and the outputs: run_dir/user_beancounters in OpenVZ's layout and
 * state_dir/ubc.prom for node_exporter's textfile collector. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ubc/macro.h"
#include "accounting.h"
#include "daemon.h"
#include "fileio.h"
#include "history.h"
#include "log.h"

#define STATE_FILE_MAX       (64u << 20)
#define FIRST_SWEEP_DELAY_US (1000 * 1000ULL)

static int state_cmp(const void *a, const void *b) {
        const struct bc_state *x = a, *y = b;
        return x->id < y->id ? -1 : x->id > y->id;
}

struct bc_state *accounting_state(struct accounting *a, uint32_t id) {
        struct bc_state key = {.id = id};

        return a->n_states ? bsearch(&key, a->states, a->n_states, sizeof(*a->states), state_cmp) : NULL;
}

/* The state of a guest, made on first sight; NULL when out of memory. */
static struct bc_state *state_get(struct accounting *a, uint32_t id) {
        struct bc_state *st = accounting_state(a, id), *v;
        size_t i = 0;

        if (st)
                return st;
        v = realloc(a->states, (a->n_states + 1) * sizeof(*v));
        if (!v)
                return NULL;
        a->states = v;
        while (i < a->n_states && a->states[i].id < id)
                i++;
        memmove(&a->states[i + 1], &a->states[i], (a->n_states - i) * sizeof(*v));
        bc_state_init(&a->states[i], id);
        a->n_states++;
        return &a->states[i];
}

static int entry_cmp(const void *a, const void *b) {
        const struct bc_table_entry *x = a, *y = b;
        return x->id < y->id ? -1 : x->id > y->id;
}

/* The table is sorted by id, as the guests are: `list` looks up every guest in it. */
const struct bc_table_entry *accounting_entry(const struct accounting *a, uint32_t id, size_t *ret_index) {
        struct bc_table_entry key = {.id = id};
        const struct bc_table_entry *e =
                a->n_table ? bsearch(&key, a->table, a->n_table, sizeof(*a->table), entry_cmp) : NULL;

        if (e && ret_index)
                *ret_index = (size_t) (e - a->table);
        return e;
}

static int read_whole(const char *path, char **ret) {
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        _cleanup_free_ char *buf = NULL;
        size_t n = 0, cap = 0;

        if (!f)
                return negative_errno();
        for (;;) {
                if (n + 4096 + 1 > cap) {
                        char *p;

                        cap = cap ? cap * 2 : 65536;
                        if (cap > STATE_FILE_MAX + 1)
                                return -EFBIG;
                        p = realloc(buf, cap);
                        if (!p)
                                return -ENOMEM;
                        buf = p;
                }
                size_t k = fread(buf + n, 1, cap - n - 1, f);
                n += k;
                if (k == 0)
                        break;
        }
        if (ferror(f))
                return -EIO;
        buf[n] = '\0';
        *ret = TAKE_PTR(buf);
        return 0;
}

static void load_state(struct accounting *a) {
        _cleanup_free_ char *buf = NULL;
        struct bc_state *states = NULL;
        size_t n = 0;
        unsigned line = 0;
        int r;

        r = read_whole(a->state_path, &buf);
        if (r == -ENOENT)
                return;
        if (r < 0) {
                log_warning_errno(r, "Failed to read '%s', beancounters start from zero: %m", a->state_path);
                return;
        }
        r = bc_state_parse(buf, &states, &n, &line);
        if (r < 0) {
                log_warning_errno(r, "%s:%u: unreadable beancounter state, starting from zero: %m",
                                  a->state_path, line);
                return;
        }
        a->states = states;
        a->n_states = n;
        log_info("Beancounters of %zu guest%s restored from '%s'", n, n == 1 ? "" : "s", a->state_path);
}

struct format_job {
        int (*format)(FILE *f, const struct bc_table_entry *e, size_t n);
        const struct bc_table_entry *entries;
        size_t n;
};

static int format_fill(FILE *f, void *userdata) {
        const struct format_job *job = userdata;

        return job->format(f, job->entries, job->n);
}

/* The output of a formatter, streamed into a temporary that replaces 'path' in one step: the
 * tables are some 4 MiB at 1000 guests, which need not be held in memory first. */
static int format_to_file(const char *path, bool durable,
                          int (*format)(FILE *f, const struct bc_table_entry *e, size_t n),
                          const struct bc_table_entry *entries, size_t n) {
        struct format_job job = {format, entries, n};

        return write_file_atomic_stream(path, 0644, durable, format_fill, &job);
}

int accounting_save_state(struct accounting *a) {
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        FILE *f;
        int r;

        if (!a->state_dirty)
                return 0;
        f = open_memstream(&buf, &len);
        if (!f)
                return -ENOMEM;
        r = bc_state_format(f, a->states, a->n_states);
        if (fclose(f) != 0 && r >= 0)
                r = -ENOMEM;
        if (r >= 0)
                r = write_file_atomic(a->state_path, buf, len, 0600, true);
        if (r < 0)
                return log_warning_errno(r, "Failed to save beancounters to '%s', will retry: %m",
                                         a->state_path);
        a->state_dirty = false;
        return 0;
}

static bool state_moved(const struct bc_state *before, const struct bc_state *after) {
        return memcmp(before->maxheld, after->maxheld, sizeof(before->maxheld)) != 0 ||
               memcmp(before->failcnt, after->failcnt, sizeof(before->failcnt)) != 0 ||
               memcmp(before->last_events, after->last_events, sizeof(before->last_events)) != 0;
}

/* The sweep's table and statistics live on between sweeps: allocating 2 KiB per guest anew
 * every interval showed up as page faults and zeroing in profiles. */
static int sweep_buffers(struct accounting *a, size_t n) {
        if (n <= a->cap_table)
                return 0;
        struct bc_table_entry *table = reallocarray(a->table, n, sizeof(*table));
        if (!table)
                return -ENOMEM;
        a->table = table;
        struct guest_stat *stats = reallocarray(a->stats, n, sizeof(*stats));
        if (!stats)
                return -ENOMEM;
        a->stats = stats;
        a->cap_table = n;
        return 0;
}

void accounting_sweep(struct daemon *d) {
        struct accounting *a = &d->acct;
        struct bc_table_entry *table;
        struct guest_stat *stats;
        size_t n = 0;
        int r;

        if (sweep_buffers(a, d->n_guests ? d->n_guests : 1) < 0) {
                log_error("Out of memory for the beancounter sweep, skipping it");
                return;
        }
        table = a->table;
        stats = a->stats;
        sampler_sweep_begin(a->sampler, NULL);

        for (size_t i = 0; i < d->n_guests; i++) {
                uint32_t id = d->guests[i].id;
                struct bc_sample sample = {};
                struct bc_state *st, before;
                uint32_t failed = 0;

                /* sampler_sample() writes stats[n] whole on success: no zeroing here, which
                 * touched 1.5 MiB more per sweep. */
                r = sampler_sample(a->sampler, id, &sample, &stats[n]);
                if (r == -ENOENT) {
                        drift_mark(d, id, NULL); /* its cgroup is gone: reconcile makes it again */
                        continue;
                }
                if (r < 0) {
                        log_guest_errno(LOG_DEBUG, r, id,
                                        "Guest %u: sampling failed, skipping it this time: %m", id);
                        continue;
                }
                st = state_get(a, id);
                if (!st) {
                        log_error("Out of memory for beancounters of guest %u, skipping it", id);
                        continue;
                }
                before = *st;
                table[n].id = id;
                bc_update(st, &sample, table[n].rows, &failed);
                if (state_moved(&before, st))
                        a->state_dirty = true;
                for (int k = 0; k < _BC_MAX; k++)
                        if (failed & (1u << k))
                                log_guest(LOG_WARNING, id, "Guest %u: %s failcnt rose to %llu (+%llu)", id,
                                          bc_resource_name(k), (unsigned long long) st->failcnt[k],
                                          (unsigned long long) (st->failcnt[k] - before.failcnt[k]));
                history_guest(a->history, id, &sample, &stats[n], before.failcnt, st->failcnt);
                n++;
        }
        history_sweep_done(a->history);

        a->n_table = n;

        r = format_to_file(a->table_path, false, bc_format_openvz, table, n);
        if (r < 0)
                log_warning_errno(r, "Failed to write '%s', ignoring: %m", a->table_path);
        r = format_to_file(a->metrics_path, false, bc_format_openmetrics, table, n);
        if (r < 0)
                log_warning_errno(r, "Failed to write '%s', ignoring: %m", a->metrics_path);
        (void) accounting_save_state(a);
}

static int on_sample(sd_event_source *s, uint64_t usec, void *userdata) {
        struct daemon *d = userdata;

        accounting_sweep(d);
        return sd_event_source_set_time(s, usec + d->cfg.interval_us);
}

int accounting_init(struct daemon *d) {
        struct accounting *a = &d->acct;
        struct sampler_root root = {};
        uint64_t now;
        int r;

        snprintf(a->state_path, sizeof(a->state_path), "%s/beancounters", d->cfg.state_dir);
        snprintf(a->metrics_path, sizeof(a->metrics_path), "%s/ubc.prom", d->cfg.state_dir);
        snprintf(a->table_path, sizeof(a->table_path), "%s/user_beancounters", d->cfg.run_dir);

        for (int c = 0; c < _UBC_CTRL_MAX; c++) {
                root.fd[c] = d->root.fd[c];
                root.version[c] = d->root.version[c];
        }
        r = sampler_new(&root, &a->sampler);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the sampler: %m");
        load_state(a);
        r = history_new(d->event, &d->cfg, &a->history);
        if (r < 0)
                log_warning_errno(r, "No history in RRD files: %m");

        r = sd_event_now(d->event, CLOCK_MONOTONIC, &now);
        if (r < 0)
                return log_error_errno(r, "Failed to read the clock: %m");
        /* The first sweep a second after start: the table exists early, and ubcd answers
         * before it opens the ~20 files per guest the sampler keeps. */
        r = sd_event_add_time(d->event, &a->timer, CLOCK_MONOTONIC, now + FIRST_SWEEP_DELAY_US, 0, on_sample,
                              d);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the sampling timer: %m");
        return sd_event_source_set_enabled(a->timer, SD_EVENT_ON);
}

void accounting_done(struct accounting *a) {
        (void) accounting_save_state(a);
        a->timer = sd_event_source_disable_unref(a->timer);
        sampler_free(a->sampler);
        a->sampler = NULL;
        history_free(a->history);
        free(a->states);
        free(a->table);
        free(a->stats);
        *a = (struct accounting){};
}
