/* Hand edits of guests' cgroup files: inotify watches on the guests' directories, and the
 * read-back of a guest whose files someone else wrote. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "ubc/macro.h"
#include "daemon.h"
#include "drift.h"
#include "log.h"

/* Editors and scripts write a few values in a row; they are read back together. The same
 * delay bounds how often a guest whose kernel files change all the time (memory.events under
 * memory.high) wakes ubcd: the queue is read at most once per delay. */
#define DRIFT_DELAY_US (200 * 1000ULL)

/* What the kernel, a launcher or ubcd's own accounting writes in a guest's directory as a
 * matter of course: the core cgroup.* files (procs, events, subtree_control, kill, freeze),
 * v1's tasks, and the *.events files the kernel updates itself. None holds a limit. */
static bool drift_file_ignored(const char *name) {
        size_t n = strlen(name);

        if (strncmp(name, "cgroup.", 7) == 0 || streq(name, "tasks"))
                return true;
        if (n >= 7 && streq(name + n - 7, ".events"))
                return true;
        return n >= 13 && streq(name + n - 13, ".events.local");
}

static int watch_cmp(const void *a, const void *b) {
        const struct drift_watch_entry *x = a, *y = b;
        return x->wd < y->wd ? -1 : x->wd > y->wd;
}

static struct drift_watch_entry *find_watch(struct drift *w, int wd) {
        const struct drift_watch_entry key = {.wd = wd};

        return w->n_watches ? bsearch(&key, w->watches, w->n_watches, sizeof(key), watch_cmp) : NULL;
}

static int add_watch_entry(struct drift *w, int wd, uint32_t id) {
        size_t i = w->n_watches;

        if (find_watch(w, wd))
                return 0;
        if (w->n_watches == w->cap_watches) {
                size_t cap = w->cap_watches ? 2 * w->cap_watches : 64;
                struct drift_watch_entry *v = reallocarray(w->watches, cap, sizeof(*v));

                if (!v)
                        return -ENOMEM;
                w->watches = v;
                w->cap_watches = cap;
        }
        /* The kernel hands out rising numbers, so this is an append but after a wrap. */
        while (i > 0 && w->watches[i - 1].wd > wd)
                i--;
        memmove(&w->watches[i + 1], &w->watches[i], (w->n_watches - i) * sizeof(*w->watches));
        w->watches[i] = (struct drift_watch_entry){wd, id};
        w->n_watches++;
        return 0;
}

static void remove_watch_entry(struct drift *w, struct drift_watch_entry *e) {
        size_t i = (size_t) (e - w->watches);

        memmove(e, e + 1, (w->n_watches - i - 1) * sizeof(*e));
        w->n_watches--;
}

static void set_incomplete(struct drift *w, uint32_t id, int error) {
        w->incomplete = true;
        if (w->logged_incomplete)
                return;
        w->logged_incomplete = true;
        log_guest_errno(LOG_WARNING, error, id,
                        "Guest %u: cannot watch its cgroup for changes made outside ubcd (%m%s); such "
                        "changes are found by the periodic read-back of every guest instead",
                        id, error == -ENOSPC ? ", see fs.inotify.max_user_watches" : "");
}

void drift_watch(struct drift *w, const struct cg_root *r, uint32_t id) {
        for (enum ubc_ctrl c = 0; c < _UBC_CTRL_MAX; c++) {
                char path[sizeof(r->path[c]) + 16];
                int wd;

                if (!cg_first_of_hierarchy(r, c))
                        continue;
                if (w->fd < 0) {
                        set_incomplete(w, id, -EBADF);
                        return;
                }
                snprintf(path, sizeof(path), "%s/%u", r->path[c], id);
                wd = inotify_add_watch(w->fd, path, IN_MODIFY | IN_ONLYDIR);
                if (wd < 0) {
                        if (errno != ENOENT) /* gone meanwhile: reconcile makes it again */
                                set_incomplete(w, id, -errno);
                        continue;
                }
                if (add_watch_entry(w, wd, id) < 0) {
                        (void) inotify_rm_watch(w->fd, wd);
                        set_incomplete(w, id, -ENOMEM);
                }
        }
}

void drift_unwatch(struct drift *w, uint32_t id) {
        for (size_t i = w->n_watches; i > 0; i--) {
                struct drift_watch_entry *e = &w->watches[i - 1];

                if (e->id != id)
                        continue;
                (void) inotify_rm_watch(w->fd, e->wd);
                remove_watch_entry(w, e);
        }
}

static int arm_timer(struct daemon *d) {
        struct drift *w = &d->drift;
        uint64_t now;
        int r;

        if (!w->timer)
                return -ESTALE;
        r = sd_event_source_get_enabled(w->timer, NULL);
        if (r != 0)
                return r; /* armed already, or an error */
        r = sd_event_now(d->event, CLOCK_MONOTONIC, &now);
        if (r < 0)
                return r;
        r = sd_event_source_set_time(w->timer, now + DRIFT_DELAY_US);
        if (r < 0)
                return r;
        return sd_event_source_set_enabled(w->timer, SD_EVENT_ONESHOT);
}

void drift_mark(struct daemon *d, uint32_t id, const char *file) {
        struct drift *w = &d->drift;

        for (size_t i = 0; i < w->n_pending; i++)
                if (w->pending[i].id == id)
                        return;
        if (w->n_pending == w->cap_pending) {
                size_t cap = w->cap_pending ? 2 * w->cap_pending : 16;
                struct drift_pending *v = reallocarray(w->pending, cap, sizeof(*v));

                if (!v) {
                        w->overflow = true; /* the next housekeeping reads everyone back */
                        return;
                }
                w->pending = v;
                w->cap_pending = cap;
        }
        w->pending[w->n_pending].id = id;
        snprintf(w->pending[w->n_pending].file, sizeof(w->pending[w->n_pending].file), "%s",
                 file ? file : "");
        w->n_pending++;
        if (arm_timer(d) < 0)
                w->overflow = true;
}

/* Everything queued so far; events for 'own' (when has_own) are ubcd's own writes. */
static void read_events(struct daemon *d, bool has_own, uint32_t own) {
        struct drift *w = &d->drift;
        char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

        if (w->fd < 0)
                return;
        for (;;) {
                ssize_t n = read(w->fd, buf, sizeof(buf));

                if (n <= 0)
                        return; /* EAGAIN: the queue is empty */
                for (char *p = buf; p < buf + n;) {
                        const struct inotify_event *ev = (const struct inotify_event *) p;
                        struct drift_watch_entry *e;
                        uint32_t id;

                        p += sizeof(*ev) + ev->len;
                        if (ev->mask & IN_Q_OVERFLOW) {
                                w->overflow = true;
                                continue;
                        }
                        e = find_watch(w, ev->wd);
                        if (!e)
                                continue; /* dropped by drift_unwatch() */
                        id = e->id;
                        if (ev->mask & IN_IGNORED) {
                                /* The kernel let go of the directory: watch and look again. */
                                remove_watch_entry(w, e);
                                drift_mark(d, id, NULL);
                                continue;
                        }
                        if (!(ev->mask & IN_MODIFY) || ev->len == 0 || drift_file_ignored(ev->name))
                                continue;
                        if (has_own && id == own)
                                continue;
                        drift_mark(d, id, ev->name);
                }
        }
}

void drift_own_writes(struct daemon *d, uint32_t id) {
        /* inotify queues an event before the write returns: all of ubcd's are in by now. */
        read_events(d, true, id);
}

static int on_drift_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        struct daemon *d = userdata;
        struct drift *w = &d->drift;
        struct drift_pending *todo;
        size_t n;

        read_events(d, false, 0);
        (void) sd_event_source_set_enabled(w->io, SD_EVENT_ON);

        /* Reading a guest back may mark others (events read after ubcd's own writes). */
        todo = TAKE_PTR(w->pending);
        n = w->n_pending;
        w->n_pending = w->cap_pending = 0;
        for (size_t i = 0; i < n; i++) {
                struct guest *g = daemon_find_guest(d, todo[i].id);

                if (!g)
                        continue; /* no longer in the policy: reconcile's stale pass has it */
                if (todo[i].file[0])
                        log_guest(LOG_NOTICE, g->id,
                                  "Guest %u: '%s' was written outside ubcd, checking its limits", g->id,
                                  todo[i].file);
                (void) reconcile_guest(d, g);
        }
        free(todo);
        return 0;
}

static int on_drift_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct daemon *d = userdata;

        read_events(d, false, 0);
        /* Quiet until the timer: a guest hitting memory.high all the time would otherwise
         * wake ubcd for each memory.events update. */
        (void) sd_event_source_set_enabled(s, SD_EVENT_OFF);
        if (arm_timer(d) < 0)
                (void) sd_event_source_set_enabled(s, SD_EVENT_ON);
        return 0;
}

int drift_init(struct daemon *d) {
        struct drift *w = &d->drift;
        int r;

        w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (w->fd < 0) {
                w->fd = -EBADF;
                w->incomplete = w->logged_incomplete = true;
                return log_warning_errno(-errno, "Failed to set up inotify for guests' cgroups (%m), "
                                                 "changes made outside ubcd are found by the periodic "
                                                 "read-back only");
        }
        r = sd_event_add_io(d->event, &w->io, w->fd, EPOLLIN, on_drift_io, d);
        if (r >= 0)
                r = sd_event_add_time(d->event, &w->timer, CLOCK_MONOTONIC, 0, 0, on_drift_timer, d);
        if (r >= 0)
                r = sd_event_source_set_enabled(w->timer, SD_EVENT_OFF);
        if (r < 0) {
                drift_done(w);
                w->incomplete = w->logged_incomplete = true;
                return log_warning_errno(r, "Failed to watch guests' cgroups (%m), changes made outside "
                                            "ubcd are found by the periodic read-back only");
        }
        return 0;
}

void drift_done(struct drift *w) {
        w->io = sd_event_source_disable_unref(w->io);
        w->timer = sd_event_source_disable_unref(w->timer);
        if (w->fd >= 0)
                close(w->fd);
        w->fd = -EBADF;
        free(w->watches);
        w->watches = NULL;
        w->n_watches = w->cap_watches = 0;
        free(w->pending);
        w->pending = NULL;
        w->n_pending = w->cap_pending = 0;
}

bool drift_covers_all(const struct drift *w) {
        return !w->incomplete && !w->overflow;
}

void drift_full_pass(struct drift *w) {
        w->overflow = false;
        w->incomplete = w->fd < 0;
}
