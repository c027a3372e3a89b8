/* History in RRD files: opening (or making, or bringing up to date) each guest's file and the
 * host's, and writing each sample's update through rrdcached or librrd in-process. What goes
 * into an update is computed in collectors/history-sample.c; this file logs what it skips. */
#include <errno.h>
#include <fcntl.h>
#include <libproc2/meminfo.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ubc/history-fold.h"
#include "ubc/history-sample.h"
#include "ubc/history.h"
#include "ubc/macro.h"
#include "ubc/rrd-dl.h"
#include "history.h"
#include "log.h"

#define HOST_ID 0 /* for the log: not a guest */
/* One update's text: 22 sources of at most ~24 characters each, and the time. */
#define LINE_MAX_LEN 1024

/* What is logged once per file until its next good update, so a condition that lasts (a clock
 * set back an hour, a broken file) is one line, not one per sweep. */
enum {
        LOGGED_SAME_SECOND = 1u << 0,
        LOGGED_CLOCK_BACK = 1u << 1,
        LOGGED_CLOCK_JUMP = 1u << 2,
        LOGGED_OPEN = 1u << 3,
        LOGGED_WRITE = 1u << 4,
        LOGGED_GAP = 1u << 5,
};

struct history_file {
        bool ready;         /* opened, made or brought up to date */
        unsigned long step; /* the file's own */
        unsigned logged;
        bool opened; /* once: what opening says is said once, not at each reopen */
};

struct guest_history {
        uint32_t id;
        struct history_file file;
        uint64_t last_seen_usec; /* monotonic, of the previous sample */
        uint64_t seen_sweep;     /* the sweep that last sampled it */
        struct history_guest_track track;
        struct history_fold fold; /* the sweeps since the file's last row */
        struct history_row *held; /* rows of whole steps not written yet (rrd_batch), oldest first */
        size_t n_held;
        bool daemon_dirty; /* rrdcached got updates of it since it was last told to write them */
        double cpu;        /* CPUs used over the last update's interval, NAN before one; for `list` */
};

struct history {
        char dir[300];
        unsigned step;          /* for new files */
        uint64_t interval_usec; /* of the sweeps, for the heartbeat */
        char rrdcached[256];    /* empty: in-process */
        bool daemon;            /* rrdcached named: librrd's one client connection */
        bool daemon_down;       /* logged, until it answers again */
        unsigned batch;         /* steps of rows written to a guest's file at once */
        uint64_t sweep;         /* sweeps done, to tell guests the last one did not sample */
        char *lines;            /* batch + 1 update texts of LINE_MAX_LEN, for one call */
        const char **argv;

        struct guest_history *guests; /* sorted by id; kept for removed guests too */
        size_t n_guests;

        struct history_file host_file;
        struct history_host_track host_track;
        struct meminfo_info *meminfo;
        long ticks_per_sec;
        sd_event_source *host_timer;
};

static bool log_once(struct history_file *f, unsigned kind) {
        if (f->logged & kind)
                return false;
        f->logged |= kind;
        return true;
}

/* How long a source may go without an update before it is unknown: two rows, and three
 * samples, so one late or skipped sample leaves no hole. */
static unsigned long heartbeat_for(const struct history *h, unsigned long step) {
        unsigned long interval = (unsigned long) ((h->interval_usec + 999999) / 1000000);

        return 2 * step > 3 * interval ? 2 * step : 3 * interval;
}

/* A guest file's sources as the fold needs them. */
static struct history_fold_spec guest_fold_spec(const struct history *h, unsigned long step) {
        struct history_fold_spec spec = {.step = step, .heartbeat = heartbeat_for(h, step), .n = _HG_MAX};

        for (size_t i = 0; i < _HG_MAX; i++)
                if (history_ds_absolute(HISTORY_GUEST, i))
                        spec.absolute |= UINT64_C(1) << i;
        return spec;
}

/* rrdcached's connection: made when first needed and again after it broke. */
static int daemon_connect(struct history *h) {
        char err[256];

        if (sym_rrdc_is_connected(h->rrdcached))
                return 0;
        sym_rrd_clear_error();
        if (sym_rrdc_connect(h->rrdcached) == 0 && sym_rrdc_is_connected(h->rrdcached)) {
                if (h->daemon_down)
                        log_info("rrdcached at '%s' answers again, history updates resume", h->rrdcached);
                h->daemon_down = false;
                return 0;
        }
        (void) rrd_dl_error(err, sizeof(err));
        if (!h->daemon_down)
                log_warning(
                        "Cannot reach rrdcached at '%s': %s; history updates are skipped until it answers",
                        h->rrdcached, err);
        h->daemon_down = true;
        return -ENOTCONN;
}

static void daemon_lost(struct history *h, const char *err) {
        (void) sym_rrdc_disconnect();
        if (!h->daemon_down)
                log_warning("Lost rrdcached at '%s': %s; reconnecting at the next update", h->rrdcached,
                            err);
        h->daemon_down = true;
}

/* The daemon's cached updates of a file go to disk before ubcd reads or changes the file. */
static void daemon_flush(struct history *h, const char *path) {
        if (!h->daemon || daemon_connect(h) < 0)
                return;
        sym_rrd_clear_error();
        (void) sym_rrdc_flush(path); /* a file it never saw is an error: fine */
        sym_rrd_clear_error();
}

static int write_update(struct history *h, const char *path, const char **argv, int n, char *err,
                        size_t size) {
        int r;

        sym_rrd_clear_error();
        if (!h->daemon) {
                if (sym_rrd_update_r(path, NULL, n, argv) == 0)
                        return 0;
                (void) rrd_dl_error(err, size);
                return -EIO;
        }
        r = daemon_connect(h);
        if (r < 0) {
                snprintf(err, size, "rrdcached is not reachable");
                return r;
        }
        if (sym_rrdc_update(path, n, argv) == 0)
                return 0;
        (void) rrd_dl_error(err, size);
        /* The daemon refusing this update says "rrdcached: ..."; anything else is the
         * connection, which then cannot be trusted to be in step. */
        if (strncmp(err, "rrdcached:", 10) != 0 || !sym_rrdc_is_connected(h->rrdcached)) {
                daemon_lost(h, err);
                return -ENOTCONN;
        }
        return -EIO;
}

/* The file's step and last update, read after rrdcached wrote what it holds of it. */
static int file_info(struct history *h, const char *path, unsigned long *ret_step, time_t *ret_last,
                     char *err, size_t size) {
        daemon_flush(h, path);
        return history_file_info(path, ret_step, ret_last, err, size);
}

/* Makes the file, or takes the one there (an earlier ubcd's: never made anew) and adds the
 * sources a newer layout has. Sets the clock's last update from the file. */
static int file_open(struct history *h, uint32_t id, const char *path, enum history_kind kind, time_t wall,
                     struct history_file *f, struct history_clock *clock) {
        char err[256] = "";
        unsigned long step;
        time_t last;
        int r;

        if (mkdir(h->dir, 0755) < 0 && errno != EEXIST) {
                r = negative_errno();
                if (log_once(f, LOGGED_OPEN))
                        log_guest_errno(LOG_WARNING, r, id, "Failed to make '%s', no history for now: %m",
                                        h->dir);
                return r;
        }

        if (access(path, F_OK) < 0) {
                r = history_rrd_create(path, kind, h->step, heartbeat_for(h, h->step), wall - 1, err,
                                       sizeof(err));
                if (r == 0) {
                        log_guest(LOG_INFO, id, "Made '%s', a row every %us", path, h->step);
                        f->ready = true;
                        f->opened = true;
                        f->step = h->step;
                        clock->last_update = wall - 1;
                        return 0;
                }
                if (r != -EEXIST) {
                        if (log_once(f, LOGGED_OPEN))
                                log_guest(LOG_WARNING, id, "Failed to make '%s': %s; no history for now",
                                          path, err);
                        return r;
                }
                /* made in between by someone else: take it as it is */
        }

        r = file_info(h, path, &step, &last, err, sizeof(err));
        if (r < 0) {
                /* Never replaced: the history in it is worth more than new updates. */
                if (log_once(f, LOGGED_OPEN))
                        log_guest(LOG_WARNING, id,
                                  "Cannot read '%s': %s; leaving it alone, no history for now", path, err);
                return r;
        }
        r = history_rrd_upgrade(path, kind, heartbeat_for(h, step), err, sizeof(err));
        if (r < 0) {
                if (log_once(f, LOGGED_OPEN))
                        log_guest(LOG_WARNING, id,
                                  "Failed to add the new data sources to '%s': %s; no history for now", path,
                                  err);
                return r;
        }
        if (r > 0)
                log_guest(LOG_INFO, id, "Added %d data source%s of this version to '%s'", r,
                          r == 1 ? "" : "s", path);
        if (step != h->step && !f->opened)
                log_guest(LOG_INFO, id, "'%s' keeps its own step of %lus (rrd_step is %us)", path, step,
                          h->step);
        f->ready = true;
        f->opened = true;
        f->step = step;
        f->logged &= ~LOGGED_OPEN;
        clock->last_update = last;
        return 0;
}

static void log_verdict(uint32_t id, const char *path, struct history_file *f, enum history_verdict v,
                        time_t wall, time_t last_update, int64_t wall_moved, double mono_moved) {
        char who[32] = "";

        if (id != HOST_ID)
                snprintf(who, sizeof(who), "Guest %u: ", id);
        switch (v) {
        case HISTORY_UPDATE:
                break;
        case HISTORY_SAME_SECOND:
                /* Harmless (two sweeps in a second, a restart): nothing is lost, so only debug. */
                if (log_once(f, LOGGED_SAME_SECOND))
                        log_guest(LOG_DEBUG, id,
                                  "%s'%s' has an update at %lld already, this sample goes into the next",
                                  who, path, (long long) wall);
                break;
        case HISTORY_CLOCK_BACK:
                if (log_once(f, LOGGED_CLOCK_BACK))
                        log_guest(LOG_WARNING, id,
                                  "%sThe wall clock (%lld) is not past the last update of '%s' (%lld), "
                                  "skipping "
                                  "its updates until it is",
                                  who, (long long) wall, path, (long long) last_update);
                break;
        case HISTORY_CLOCK_JUMP:
                if (log_once(f, LOGGED_CLOCK_JUMP))
                        log_guest(
                                LOG_WARNING, id,
                                "%sThe wall clock moved %llds in %.1fs, skipping this sample of '%s'; rates "
                                "start again",
                                who, (long long) wall_moved, mono_moved, path);
                break;
        }
}

/* Writes rows (n_values sources each, oldest first) in one update call; on success the log may
 * speak again of anything it held back. */
static int file_write(struct history *h, uint32_t id, const char *path, struct history_file *f,
                      const struct history_row *rows, size_t n_rows, size_t n_values) {
        char err[256] = "";
        int r;

        if (n_rows == 0)
                return 0;
        if (n_rows > h->batch + 1)
                return -E2BIG;
        for (size_t i = 0; i < n_rows; i++) {
                char *line = h->lines + i * LINE_MAX_LEN;

                r = history_format_update(line, LINE_MAX_LEN, rows[i].when, rows[i].v, n_values);
                if (r < 0)
                        return log_guest_errno(LOG_ERR, r, id, "Update of '%s' does not fit %d bytes", path,
                                               LINE_MAX_LEN);
                h->argv[i] = line;
        }
        r = write_update(h, path, h->argv, (int) n_rows, err, sizeof(err));
        if (r == -ENOTCONN)
                return r; /* logged once for all files */
        if (r < 0) {
                if (log_once(f, LOGGED_WRITE))
                        log_guest(LOG_WARNING, id, "Failed to update '%s': %s; skipping it", path, err);
                /* Next time read the file again: it may have been replaced or repaired. */
                f->ready = false;
                return r;
        }
        f->logged = 0;
        return 0;
}

/* A guest's rows held back go to its file, in one call. Rows a failed write carried are gone,
 * as a failed update of one row always lost it: the file is read again before the next. */
static void guest_write_held(struct history *h, struct guest_history *g) {
        char path[sizeof(h->dir) + 32];

        if (g->n_held == 0)
                return;
        snprintf(path, sizeof(path), "%s/%u.rrd", h->dir, g->id);
        if (file_write(h, g->id, path, &g->file, g->held, g->n_held, _HG_MAX) == 0)
                g->daemon_dirty = h->daemon;
        g->n_held = 0;
}

/* Holds a row of a whole step back; where there is no room (no memory), what is held and then
 * the row go to the file at once. */
static void guest_hold(struct history *h, struct guest_history *g, const struct history_row *row) {
        char path[sizeof(h->dir) + 32];

        if (!g->held)
                g->held = calloc(h->batch + 1, sizeof(*g->held));
        if (g->held && g->n_held <= h->batch) {
                g->held[g->n_held++] = *row;
                return;
        }
        guest_write_held(h, g);
        if (!g->file.ready)
                return;
        snprintf(path, sizeof(path), "%s/%u.rrd", h->dir, g->id);
        (void) file_write(h, g->id, path, &g->file, row, 1, _HG_MAX);
}

static int guest_cmp(const void *a, const void *b) {
        const struct guest_history *x = a, *y = b;
        return x->id < y->id ? -1 : x->id > y->id;
}

static struct guest_history *guest_find(const struct history *h, uint32_t id) {
        struct guest_history key = {.id = id};

        return h->n_guests ? bsearch(&key, h->guests, h->n_guests, sizeof(*h->guests), guest_cmp) : NULL;
}

static struct guest_history *guest_get(struct history *h, uint32_t id) {
        struct guest_history *g = guest_find(h, id), *v;
        size_t i = 0;

        if (g)
                return g;
        v = reallocarray(h->guests, h->n_guests + 1, sizeof(*v));
        if (!v)
                return NULL;
        h->guests = v;
        while (i < h->n_guests && h->guests[i].id < id)
                i++;
        memmove(&h->guests[i + 1], &h->guests[i], (h->n_guests - i) * sizeof(*v));
        h->guests[i] = (struct guest_history){.id = id, .seen_sweep = h->sweep, .cpu = NAN};
        h->n_guests++;
        return &h->guests[i];
}

static void clocks(uint64_t *ret_mono_usec, time_t *ret_wall) {
        struct timespec m, w;

        clock_gettime(CLOCK_MONOTONIC, &m);
        clock_gettime(CLOCK_REALTIME, &w);
        *ret_mono_usec = (uint64_t) m.tv_sec * 1000000ULL + (uint64_t) m.tv_nsec / 1000;
        *ret_wall = w.tv_sec;
}

void history_guest(struct history *h, uint32_t id, const struct bc_sample *bc, const struct guest_stat *st,
                   const uint64_t failcnt_before[_BC_MAX], const uint64_t failcnt_after[_BC_MAX]) {
        struct guest_history *g;
        uint64_t added[_BC_MAX], mono;
        struct history_clock before;
        struct history_fold_spec spec;
        struct history_row rows[2];
        enum history_verdict v;
        double values[_HG_MAX];
        size_t n;
        char path[sizeof(h->dir) + 32];
        time_t wall;

        if (!h)
                return;
        g = guest_get(h, id);
        if (!g) {
                log_guest(LOG_ERR, id, "Guest %u: out of memory for its history, skipping it", id);
                return;
        }
        clocks(&mono, &wall);
        snprintf(path, sizeof(path), "%s/%u.rrd", h->dir, id);

        /* A guest whose cgroup was away (the sampler found none) missed sweeps: say so once. */
        if (g->last_seen_usec > 0 && mono - g->last_seen_usec > 2 * h->interval_usec + 1000000 &&
            log_once(&g->file, LOGGED_GAP))
                log_guest(LOG_INFO, id, "Guest %u: no sample for %.0fs (its cgroup was away), a gap in '%s'",
                          id, (double) (mono - g->last_seen_usec) / 1e6, path);
        g->last_seen_usec = mono;
        g->seen_sweep = h->sweep;

        if (!g->file.ready) {
                g->n_held = 0; /* not after a failed write: those rows are gone with it */
                if (file_open(h, id, path, HISTORY_GUEST, wall, &g->file, &g->track.clock) < 0)
                        return;
                history_fold_start(&g->fold, g->track.clock.last_update);
        }

        for (size_t k = 0; k < _BC_MAX; k++)
                added[k] = failcnt_after[k] >= failcnt_before[k] ? failcnt_after[k] - failcnt_before[k] : 0;
        before = g->track.clock;
        struct history_guest_input in = {
                .mono_usec = mono, .wall = wall, .bc = bc, .st = st, .failcnt_added = added};
        v = history_guest_step(&g->track, &in, values);
        if (v != HISTORY_UPDATE) {
                log_verdict(id, path, &g->file, v, wall, before.last_update,
                            (int64_t) (wall - before.prev_wall),
                            (double) (mono - before.prev_mono_usec) / 1e6);
                return;
        }
        g->cpu = values[HG_CPU];

        /* The sample goes into the step's row, made once the step is over: one row per step
         * instead of an update per sweep, the rows the same (history-fold.c). Rows are held
         * back and written rrd_batch steps at a time, each file in its turn. */
        spec = guest_fold_spec(h, g->file.step);
        n = history_fold_add(&g->fold, &spec, wall, values, rows);
        history_guest_written(&g->track, wall);
        for (size_t i = 0; i < n; i++)
                guest_hold(h, g, &rows[i]);
        if (g->n_held > 0 &&
            history_batch_due(g->held[g->n_held - 1].when, g->file.step, id, h->batch, g->n_held))
                guest_write_held(h, g);
}

void history_sweep_done(struct history *h) {
        if (!h)
                return;
        /* A guest the sweep did not sample (taken out of the policy, its cgroup away) makes no
         * more rows for now: what it holds goes to its file instead of waiting for its turn. */
        for (size_t i = 0; i < h->n_guests; i++)
                if (h->guests[i].n_held > 0 && h->guests[i].seen_sweep != h->sweep)
                        guest_write_held(h, &h->guests[i]);
        h->sweep++;
}

int history_write_held(struct history *h, const uint32_t *ids, size_t n_ids) {
        char path[sizeof(h->dir) + 32];
        int n = 0;

        if (!h)
                return 0;
        for (size_t i = 0; i < h->n_guests; i++) {
                struct guest_history *g = &h->guests[i];
                bool wanted = n_ids == 0;

                for (size_t k = 0; k < n_ids && !wanted; k++)
                        wanted = ids[k] == g->id;
                if (!wanted)
                        continue;
                if (g->n_held > 0) {
                        guest_write_held(h, g);
                        n++;
                }
                /* What rrdcached holds of the file goes to disk too, so that a reader of the
                 * file sees every whole step. */
                if (g->daemon_dirty) {
                        snprintf(path, sizeof(path), "%s/%u.rrd", h->dir, g->id);
                        daemon_flush(h, path);
                        g->daemon_dirty = false;
                }
        }
        return n;
}

/* The rows held back and what the files hold of the current step, written before ubcd stops:
 * the rows then come out as if the sweeps had gone to the file one by one. */
static void history_flush(struct history *h) {
        for (size_t i = 0; i < h->n_guests; i++) {
                struct guest_history *g = &h->guests[i];
                struct history_fold_spec spec;
                struct history_row row;

                if (!g->file.ready)
                        continue;
                spec = guest_fold_spec(h, g->file.step);
                if (history_fold_flush(&g->fold, &spec, &row))
                        guest_hold(h, g, &row);
                guest_write_held(h, g);
        }
}

static int read_proc_stat(uint64_t *ret_busy) {
        _cleanup_close_ int fd = open("/proc/stat", O_RDONLY | O_CLOEXEC);
        char buf[1024];
        ssize_t n;

        if (fd < 0)
                return negative_errno();
        n = read(fd, buf, sizeof(buf) - 1); /* the "cpu" line is first */
        if (n < 0)
                return negative_errno();
        buf[n] = '\0';
        return history_parse_proc_stat(buf, ret_busy);
}

static void host_sample(struct history *h) {
        enum meminfo_item items[] = {MEMINFO_MEM_TOTAL, MEMINFO_MEM_AVAILABLE, MEMINFO_SWAP_TOTAL,
                                     MEMINFO_SWAP_FREE};
        struct history_host_input in = {.ticks_per_sec = (unsigned long) h->ticks_per_sec};
        struct history_clock before;
        struct meminfo_stack *m;
        struct history_row row = {};
        double values[_HH_MAX];
        char path[sizeof(h->dir) + 32];
        enum history_verdict v;
        long cpus;

        clocks(&in.mono_usec, &in.wall);
        snprintf(path, sizeof(path), "%s/%s", h->dir, HISTORY_HOST_FILE);
        if (!h->host_file.ready &&
            file_open(h, HOST_ID, path, HISTORY_HOST, in.wall, &h->host_file, &h->host_track.clock) < 0)
                return;

        in.has_cpu = h->ticks_per_sec > 0 && read_proc_stat(&in.busy_ticks) >= 0;
        cpus = sysconf(_SC_NPROCESSORS_ONLN);
        in.cpus = cpus > 0 ? (unsigned) cpus : 0;
        m = h->meminfo ? procps_meminfo_select(h->meminfo, items, (int) ELEMENTSOF(items)) : NULL;
        if (m) { /* KiB */
                in.has_mem = true;
                in.mem_total = (uint64_t) MEMINFO_VAL(0, ul_int, m, h->meminfo) * 1024;
                in.mem_available = (uint64_t) MEMINFO_VAL(1, ul_int, m, h->meminfo) * 1024;
                in.swap_total = (uint64_t) MEMINFO_VAL(2, ul_int, m, h->meminfo) * 1024;
                in.swap_free = (uint64_t) MEMINFO_VAL(3, ul_int, m, h->meminfo) * 1024;
        }

        before = h->host_track.clock;
        v = history_host_step(&h->host_track, &in, values);
        if (v != HISTORY_UPDATE) {
                log_verdict(HOST_ID, path, &h->host_file, v, in.wall, before.last_update,
                            (int64_t) (in.wall - before.prev_wall),
                            (double) (in.mono_usec - before.prev_mono_usec) / 1e6);
                return;
        }
        row.when = in.wall;
        memcpy(row.v, values, sizeof(values));
        if (file_write(h, HOST_ID, path, &h->host_file, &row, 1, _HH_MAX) == 0)
                history_host_written(&h->host_track, in.wall);
}

static int on_host_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        struct history *h = userdata;

        host_sample(h);
        return sd_event_source_set_time(s, usec + h->interval_usec);
}

int history_new(sd_event *event, const struct agent_config *cfg, struct history **ret) {
        struct history *h;
        char err[512];
        uint64_t now;
        int r;

        r = rrd_dl_open(err, sizeof(err));
        if (r < 0) {
                log_error("%s", err);
                return r;
        }
        h = calloc(1, sizeof(*h));
        if (!h)
                return -ENOMEM;
        snprintf(h->dir, sizeof(h->dir), "%s/%s", cfg->state_dir, HISTORY_DIR);
        h->step = cfg->rrd_step ? cfg->rrd_step : HISTORY_STEP_DEFAULT;
        h->interval_usec = cfg->interval_us;
        snprintf(h->rrdcached, sizeof(h->rrdcached), "%s", cfg->rrdcached);
        h->batch = cfg->rrd_batch ? cfg->rrd_batch : HISTORY_BATCH_DEFAULT;
        h->lines = malloc((size_t) (h->batch + 1) * LINE_MAX_LEN);
        h->argv = calloc(h->batch + 1, sizeof(*h->argv));
        if (!h->lines || !h->argv) {
                free(h->lines);
                free(h->argv);
                free(h);
                return -ENOMEM;
        }
        h->ticks_per_sec = sysconf(_SC_CLK_TCK);
        if (procps_meminfo_new(&h->meminfo) < 0)
                h->meminfo = NULL; /* the host file then has no memory values */

        if (h->rrdcached[0]) {
                h->daemon = true;
                /* A write to a daemon that went away must be an error to handle, not a
                 * signal that ends ubcd. */
                (void) signal(SIGPIPE, SIG_IGN);
                (void) daemon_connect(h);
        }

        r = sd_event_now(event, CLOCK_MONOTONIC, &now);
        if (r >= 0)
                r = sd_event_add_time(event, &h->host_timer, CLOCK_MONOTONIC, now + h->interval_usec, 0,
                                      on_host_timer, h);
        if (r >= 0)
                r = sd_event_source_set_enabled(h->host_timer, SD_EVENT_ON);
        if (r < 0) {
                history_free(h);
                return log_error_errno(r, "Failed to set up the host history timer: %m");
        }
        log_info("History in '%s'%s%s, %u step%s of rows per file write", h->dir,
                 h->daemon ? " through rrdcached at " : ", written in-process",
                 h->daemon ? h->rrdcached : "", h->batch, h->batch == 1 ? "" : "s");
        *ret = h;
        return 0;
}

void history_free(struct history *h) {
        if (!h)
                return;
        history_flush(h);
        h->host_timer = sd_event_source_disable_unref(h->host_timer);
        if (h->daemon)
                (void) sym_rrdc_disconnect();
        if (h->meminfo)
                procps_meminfo_unref(&h->meminfo);
        for (size_t i = 0; i < h->n_guests; i++)
                free(h->guests[i].held);
        free(h->guests);
        free(h->lines);
        free(h->argv);
        free(h);
}

double history_guest_cpu(struct history *h, uint32_t id) {
        const struct guest_history *g = h ? guest_find(h, id) : NULL;

        return g ? g->cpu : NAN;
}
