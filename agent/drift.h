/* Hand edits of guests' cgroup files, seen as they are made: a write to a cgroup file shows as
 * IN_MODIFY on its directory's inotify watch, so one watch per guest and hierarchy finds an
 * edit without reading any file, and the guest is read back and repaired shortly after. What
 * no write shows (the kernel changing a value itself, a guest that could not be watched) is
 * left to the periodic pass that reads every guest back. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "ubc/cgroup.h"

struct daemon;

struct drift_watch_entry {
        int wd;
        uint32_t id;
};

struct drift_pending {
        uint32_t id;
        char file[48]; /* the first file seen written, for the log; "" when none */
};

struct drift {
        int fd; /* inotify, -EBADF when it could not be made */
        sd_event_source *io;
        sd_event_source *timer;            /* armed while guests wait to be read back */
        struct drift_watch_entry *watches; /* sorted by wd */
        size_t n_watches, cap_watches;
        struct drift_pending *pending;
        size_t n_pending, cap_pending;
        bool overflow;   /* the kernel dropped events: the next housekeeping reads everyone back */
        bool incomplete; /* a guest has no watch: the periodic pass must stay frequent */
        bool logged_incomplete;
};

int drift_init(struct daemon *d);
void drift_done(struct drift *w);

/* Watches guest ID's directory in every hierarchy; cheap when it is watched already. */
void drift_watch(struct drift *w, const struct cg_root *r, uint32_t id);
/* Drops ID's watches: its cgroup was removed, or is about to be made anew. */
void drift_unwatch(struct drift *w, uint32_t id);
/* ubcd itself just wrote ID's files: what the queue holds for ID is its own doing. */
void drift_own_writes(struct daemon *d, uint32_t id);
/* Reads ID back soon, e.g. because the sampler found its cgroup gone. */
void drift_mark(struct daemon *d, uint32_t id, const char *file);
/* Whether every guest is watched and no event was lost since the last full pass. */
bool drift_covers_all(const struct drift *w);
/* A full pass is starting: it watches every guest again and reads everyone back. */
void drift_full_pass(struct drift *w);
