/* ubcd's life: load the policy (keeping what a broken file had), reconcile, and react to
 * SIGHUP, inotify on the configuration folders, the housekeeping timer and the watchdog. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>

#include "ubc/macro.h"
#include "daemon.h"
#include "log.h"

#define RELOAD_DEBOUNCE_US (200 * 1000ULL)
#define ERRORS_MAX         1000
/* Every guest is read back this often (in housekeeping ticks, one per interval) while inotify
 * shows every write to their files, and more often while it does not. */
#define READ_BACK_WATCHED_TICKS   60
#define READ_BACK_UNWATCHED_TICKS 6

struct guest *daemon_find_guest(struct daemon *d, uint32_t id) {
        size_t lo = 0, hi = d->n_guests;

        while (lo < hi) {
                size_t mid = (lo + hi) / 2;

                if (d->guests[mid].id == id)
                        return &d->guests[mid];
                if (d->guests[mid].id < id)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return NULL;
}

int guest_effective_limits(const struct guest *g, struct ubc_limits *ret) {
        struct ubc_limits eff;
        int r;

        r = limits_copy(&eff, &g->limits);
        if (r < 0)
                return r;
        r = limits_overlay(&eff, &g->runtime, UBC_SOURCE_RUNTIME);
        if (r < 0) {
                limits_done(&eff);
                return r;
        }
        *ret = eff;
        return 0;
}

void guest_origin(const struct guest *g, const struct ubc_limits *eff, enum ubc_key key, char *buf,
                  size_t size) {
        switch (eff->source[key]) {
        case UBC_SOURCE_RUNTIME:
                snprintf(buf, size, "runtime");
                break;
        case UBC_SOURCE_GUEST:
                snprintf(buf, size, "%s:%u", g->file, eff->line[key]);
                break;
        case UBC_SOURCE_CLASS:
                snprintf(buf, size, "%s:%u", g->class_file ? g->class_file : "?", eff->line[key]);
                break;
        default:
                snprintf(buf, size, "default");
        }
}

static void guest_done(struct guest *g) {
        free(g->file);
        free(g->class_file);
        limits_done(&g->limits);
        limits_done(&g->runtime);
}

static void guests_free(struct guest *guests, size_t n) {
        for (size_t i = 0; i < n; i++)
                guest_done(&guests[i]);
        free(guests);
}

static void errors_free(char **errors, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(errors[i]);
        free(errors);
}

/* Collects diagnostics of one load as "file:line: key: message" lines. */
struct error_list {
        char **v;
        size_t n;
        bool truncated;
};

static void error_list_report(void *userdata, const struct ubc_diag *diag) {
        struct error_list *l = userdata;
        char line[1024], where[512] = "";
        char **v;

        if (diag->file && diag->line > 0)
                snprintf(where, sizeof(where), "%s:%u: ", diag->file, diag->line);
        else if (diag->file)
                snprintf(where, sizeof(where), "%s: ", diag->file);
        snprintf(line, sizeof(line), "%s%s%s%s", where, diag->key ? diag->key : "", diag->key ? ": " : "",
                 diag->message);
        log_error("%s", line);

        if (l->n >= ERRORS_MAX) {
                l->truncated = true;
                return;
        }
        v = realloc(l->v, (l->n + 1) * sizeof(*v));
        if (!v)
                return;
        l->v = v;
        l->v[l->n] = strdup(line);
        if (l->v[l->n])
                l->n++;
}

static bool policy_has_guest_file(const struct policy *p, uint32_t id) {
        for (size_t i = 0; i < p->n_guest_files; i++)
                if (p->guest_files[i].guest.id == id)
                        return true;
        return false;
}

static const struct guest *find_in(const struct guest *guests, size_t n, uint32_t id) {
        for (size_t i = 0; i < n; i++)
                if (guests[i].id == id)
                        return &guests[i];
        return NULL;
}

/* Deep copy, for carrying a guest over a load that could not replace it. */
static int guest_copy(struct guest *dst, const struct guest *src) {
        *dst = *src;
        dst->file = NULL;
        dst->class_file = NULL;
        dst->limits = (struct ubc_limits){};
        dst->runtime = (struct ubc_limits){};
        if (!(dst->file = strdup(src->file)))
                goto fail;
        if (src->class_file && !(dst->class_file = strdup(src->class_file)))
                goto fail;
        if (limits_copy(&dst->limits, &src->limits) < 0)
                goto fail;
        if (limits_copy(&dst->runtime, &src->runtime) < 0)
                goto fail;
        return 0;
fail:
        guest_done(dst);
        return -ENOMEM;
}

static int guest_from_resolved(struct guest *dst, const struct policy_resolved *r, const struct guest *old) {
        *dst = (struct guest){.id = r->guest->id, .type = r->guest->type, .onboot = r->guest->onboot};
        snprintf(dst->name, sizeof(dst->name), "%s", r->guest->name);
        snprintf(dst->class_name, sizeof(dst->class_name), "%s", r->class ? r->class->name : "");
        if (!(dst->file = strdup(r->guest_file)))
                goto fail;
        if (r->class_file && !(dst->class_file = strdup(r->class_file)))
                goto fail;
        if (limits_copy(&dst->limits, &r->limits) < 0)
                goto fail;
        if (old) {
                /* Live changes and the last outcome belong to the guest, not to its file. */
                if (limits_copy(&dst->runtime, &old->runtime) < 0)
                        goto fail;
                dst->apply_error = old->apply_error;
                memcpy(dst->apply_message, old->apply_message, sizeof(dst->apply_message));
        } else
                limits_init_default(&dst->runtime);
        return 0;
fail:
        guest_done(dst);
        return -ENOMEM;
}

static int guest_cmp(const void *a, const void *b) {
        const struct guest *x = a, *y = b;
        return x->id < y->id ? -1 : x->id > y->id;
}

int daemon_load(struct daemon *d) {
        struct error_list errs = {};
        struct ubc_diag_sink sink = {.report = error_list_report, .userdata = &errs};
        struct policy new = {};
        struct policy_resolved *res = NULL;
        size_t n_res = 0, n = 0;
        struct guest *guests = NULL;
        int r;

        r = policy_load_dir(d->cfg.config_dir, &new, &sink);
        if (r < 0) {
                /* The folder itself is unusable: keep everything as it is. */
                log_error_errno(r, "Failed to load the policy from '%s', keeping the current one: %m",
                                d->cfg.config_dir);
                policy_done(&new);
                goto keep_errors;
        }

        r = policy_keep_failed(&new, &d->policy);
        if (r < 0)
                goto oom;

        r = policy_resolve(&new, &res, &n_res, &sink);
        if (r < 0 && r != -EINVAL)
                goto oom;

        /* Room for every resolved guest plus old ones carried over. */
        guests = calloc(n_res + d->n_guests + 1, sizeof(*guests));
        if (!guests)
                goto oom;

        for (size_t i = 0; i < n_res; i++) {
                const struct guest *old = daemon_find_guest(d, res[i].guest->id);

                if (policy_validate_host(&res[i], &d->host, &sink) < 0) {
                        /* Nothing of a file that fails validation is applied. */
                        if (old) {
                                log_guest(LOG_WARNING, old->id, "Guest %u: keeping its previous limits",
                                          old->id);
                                if (guest_copy(&guests[n], old) < 0)
                                        goto oom;
                                n++;
                        }
                        continue;
                }
                if (guest_from_resolved(&guests[n], &res[i], old) < 0)
                        goto oom;
                n++;
        }

        /* A guest whose file is still there but did not resolve keeps its previous state. */
        for (size_t i = 0; i < d->n_guests; i++) {
                const struct guest *old = &d->guests[i];

                if (find_in(guests, n, old->id) || !policy_has_guest_file(&new, old->id))
                        continue;
                log_guest(LOG_WARNING, old->id, "Guest %u: keeping its previous limits", old->id);
                if (guest_copy(&guests[n], old) < 0)
                        goto oom;
                n++;
        }
        qsort(guests, n, sizeof(*guests), guest_cmp);

        policy_resolved_free(res, n_res);
        guests_free(d->guests, d->n_guests);
        d->guests = guests;
        d->n_guests = n;
        policy_done(&d->policy);
        d->policy = new;

        reconcile_all(d);
        log_info("Policy loaded: %zu guest%s, %u error%s", n, n == 1 ? "" : "s", sink.n_errors,
                 sink.n_errors == 1 ? "" : "s");
        (void) sd_notifyf(false, "STATUS=%zu guests, %u policy errors", n, sink.n_errors);

keep_errors:
        errors_free(d->errors, d->n_errors);
        d->errors = errs.v;
        d->n_errors = errs.n;
        return (int) sink.n_errors;

oom:
        log_error("Out of memory while loading the policy, keeping the current one");
        policy_resolved_free(res, n_res);
        guests_free(guests, n);
        policy_done(&new);
        errors_free(errs.v, errs.n);
        return -ENOMEM;
}

static int on_reload_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        (void) daemon_load(userdata);
        return 0;
}

/* inotify bursts (an editor's write, rename, chmod) become one reload shortly after the last. */
static int schedule_reload(struct daemon *d) {
        uint64_t now;
        int r;

        r = sd_event_now(d->event, CLOCK_MONOTONIC, &now);
        if (r < 0)
                return r;
        if (d->reload_timer) {
                r = sd_event_source_set_time(d->reload_timer, now + RELOAD_DEBOUNCE_US);
                if (r < 0)
                        return r;
                return sd_event_source_set_enabled(d->reload_timer, SD_EVENT_ONESHOT);
        }
        return sd_event_add_time(d->event, &d->reload_timer, CLOCK_MONOTONIC, now + RELOAD_DEBOUNCE_US, 0,
                                 on_reload_timer, d);
}

static int add_watches(struct daemon *d);

static int on_inotify(sd_event_source *s, const struct inotify_event *ev, void *userdata) {
        struct daemon *d = userdata;

        if (ev->mask & IN_IGNORED) {
                /* The watched folder went away; watch again if it comes back. */
                for (size_t i = 0; i < ELEMENTSOF(d->watch); i++)
                        if (d->watch[i] == s)
                                d->watch[i] = sd_event_source_disable_unref(d->watch[i]);
        }
        (void) add_watches(d);
        (void) schedule_reload(d);
        return 0;
}

static int add_watches(struct daemon *d) {
        static const char *const sub[ELEMENTSOF(((struct daemon *) 0)->watch)] = {"", "/policies.d",
                                                                                  "/guests.d"};
        const uint32_t mask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE |
                              IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;
        int r, ret = 0;

        for (size_t i = 0; i < ELEMENTSOF(d->watch); i++) {
                char path[PATH_MAX];

                if (d->watch[i])
                        continue;
                snprintf(path, sizeof(path), "%s%s", d->cfg.config_dir, sub[i]);
                r = sd_event_add_inotify(d->event, &d->watch[i], path, mask, on_inotify, d);
                if (r < 0 && r != -ENOENT)
                        ret = log_warning_errno(r, "Failed to watch '%s', changes need SIGHUP: %m", path);
        }
        return ret;
}

static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        log_info("Reloading on SIGHUP");
        (void) daemon_load(userdata);
        return 0;
}

static int on_exit_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        struct daemon *d = userdata;

        log_info("Exiting on %s; guest cgroups stay as they are", strsignal((int) si->ssi_signo));
        (void) sd_notify(false, "STOPPING=1");
        return sd_event_exit(d->event, 0);
}

/* Every interval: retry refused guests and retire orphans. Now and then: read every guest back
 * and put back what changed. A hand edit is seen at once through inotify (drift.c), and a
 * removed cgroup by the next sweep; this pass is for what neither shows, such as the kernel
 * changing a value itself. Reading all guests' files each interval would cost more than the
 * sampling itself. */
static int on_housekeeping(sd_event_source *s, uint64_t usec, void *userdata) {
        struct daemon *d = userdata;
        unsigned every = drift_covers_all(&d->drift) ? READ_BACK_WATCHED_TICKS : READ_BACK_UNWATCHED_TICKS;

        if (++d->ticks_since_read_back >= every)
                reconcile_all(d);
        else
                reconcile_failed(d);
        (void) sd_event_source_set_time(s, usec + d->cfg.interval_us);
        return 0;
}

static int on_watchdog(sd_event_source *s, uint64_t usec, void *userdata) {
        uint64_t watchdog_us = 0;

        (void) sd_notify(false, "WATCHDOG=1");
        (void) sd_watchdog_enabled(false, &watchdog_us);
        return sd_event_source_set_time(s, usec + watchdog_us / 2);
}

int daemon_init(struct daemon *d) {
        uint64_t now, watchdog_us = 0;
        sigset_t mask;
        int r;

        d->plan = calloc(1, sizeof(*d->plan));
        if (!d->plan)
                return log_error_errno(-ENOMEM, "Out of memory");

        r = sd_event_default(&d->event);
        if (r < 0)
                return log_error_errno(r, "Failed to create the event loop: %m");

        sigemptyset(&mask);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        if ((r = sd_event_add_signal(d->event, NULL, SIGHUP, on_sighup, d)) < 0 ||
            (r = sd_event_add_signal(d->event, NULL, SIGTERM, on_exit_signal, d)) < 0 ||
            (r = sd_event_add_signal(d->event, NULL, SIGINT, on_exit_signal, d)) < 0)
                return log_error_errno(r, "Failed to set up signal handling: %m");

        (void) add_watches(d);
        (void) drift_init(d); /* without it, the periodic read-back finds hand edits */

        r = sd_event_now(d->event, CLOCK_MONOTONIC, &now);
        if (r < 0)
                return log_error_errno(r, "Failed to read the clock: %m");
        r = sd_event_add_time(d->event, &d->housekeeping_timer, CLOCK_MONOTONIC, now + d->cfg.interval_us, 0,
                              on_housekeeping, d);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the housekeeping timer: %m");
        r = sd_event_source_set_enabled(d->housekeeping_timer, SD_EVENT_ON);
        if (r < 0)
                return log_error_errno(r, "Failed to enable the housekeeping timer: %m");

        if (sd_watchdog_enabled(false, &watchdog_us) > 0 && watchdog_us > 0) {
                r = sd_event_add_time(d->event, &d->watchdog_timer, CLOCK_MONOTONIC, now + watchdog_us / 2,
                                      0, on_watchdog, d);
                if (r < 0)
                        return log_error_errno(r, "Failed to set up the watchdog timer: %m");
                (void) sd_event_source_set_enabled(d->watchdog_timer, SD_EVENT_ON);
        }
        return 0;
}

int daemon_run(struct daemon *d) {
        int r;

        (void) sd_notify(false, "READY=1");
        r = sd_event_loop(d->event);
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m");
        return 0;
}

void daemon_done(struct daemon *d) {
        control_close(d);
        runtime_done(d);
        accounting_done(&d->acct);
        drift_done(&d->drift);
        for (size_t i = 0; i < ELEMENTSOF(d->watch); i++)
                d->watch[i] = sd_event_source_disable_unref(d->watch[i]);
        d->reload_timer = sd_event_source_disable_unref(d->reload_timer);
        d->housekeeping_timer = sd_event_source_disable_unref(d->housekeeping_timer);
        d->watchdog_timer = sd_event_source_disable_unref(d->watchdog_timer);
        d->event = sd_event_unref(d->event);
        guests_free(d->guests, d->n_guests);
        d->guests = NULL;
        d->n_guests = 0;
        free(d->orphans);
        errors_free(d->errors, d->n_errors);
        policy_done(&d->policy);
        cg_root_close(&d->root);
        free(d->plan);
}
