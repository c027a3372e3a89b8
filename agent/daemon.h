/* ubcd's state: the configuration, the owned cgroup root, the loaded policy and, per guest,
 * what it should have. Shared by the event loop, reconcile and the control socket. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "ubc/agent-config.h"
#include "ubc/cgroup.h"
#include "ubc/policy.h"
#include "accounting.h"
#include "drift.h"
#include "runtime.h"

struct guest {
        uint32_t id;
        enum ubc_guest_type type;
        char name[UBC_NAME_MAX];
        char class_name[UBC_NAME_MAX];
        bool onboot;
        char *file;                /* guests.d/ID.conf, for origins */
        char *class_file;          /* NULL when no class applies */
        struct ubc_limits limits;  /* resolved from the files */
        struct ubc_limits runtime; /* live changes (ubcctl set), only the keys set there */
        int apply_error;           /* last apply: 0 or -errno */
        char apply_message[320];
};

struct control_conn;

struct daemon {
        struct agent_config cfg;
        enum ubc_driver driver; /* after 'auto' was decided */
        sd_event *event;
        struct ubc_host host;
        struct cg_root root;
        struct cg_plan *plan; /* scratch, large */

        struct policy policy; /* last load, kept so a file that fails keeps its old version */
        struct guest *guests; /* sorted by id */
        size_t n_guests;
        uint32_t *orphans; /* cgroups kept after their file went, because they have processes */
        size_t n_orphans;
        char **errors; /* diagnostics of the last load: "file:line: key: message" */
        size_t n_errors;

        sd_event_source *reload_timer; /* debounces inotify bursts */
        sd_event_source *housekeeping_timer;
        unsigned ticks_since_read_back; /* housekeeping ticks since every guest was read back */
        struct drift drift;
        /* A guest was refused since the last retry: reconcile_failed() has work. Scanning
         * 1000 guest records every interval to find none showed up in profiles. */
        bool retry_pending;
        sd_event_source *watch[3]; /* config dir, policies.d, guests.d */
        sd_event_source *watchdog_timer;

        struct accounting acct;
        struct guest_run **runs; /* launched guests (containers, VMs), running or not */
        size_t n_runs;

        int listen_fd;
        char socket_path[300];
        sd_event_source *listen_source;
        struct control_conn *conns;
        unsigned n_conns;
        gid_t socket_gid; /* (gid_t) -1: root only */
};

/* daemon.c */
int daemon_init(struct daemon *d);
void daemon_done(struct daemon *d);
int daemon_load(struct daemon *d);
int daemon_run(struct daemon *d);
struct guest *daemon_find_guest(struct daemon *d, uint32_t id);
/* The limits in force: the files' values with live changes on top. */
int guest_effective_limits(const struct guest *g, struct ubc_limits *ret);
/* "file:line", "default" or "runtime" for a key of the effective limits. */
void guest_origin(const struct guest *g, const struct ubc_limits *eff, enum ubc_key key, char *buf,
                  size_t size);

/* reconcile.c */
int reconcile_guest(struct daemon *d, struct guest *g);
void reconcile_all(struct daemon *d);
/* Retries only the guests whose last apply failed, and handles stale cgroups. */
void reconcile_failed(struct daemon *d);

/* control.c */
int control_listen(struct daemon *d);
void control_close(struct daemon *d);

/* guest-file.c */
int guest_file_save(struct daemon *d, const struct guest *g, const struct ubc_limits *changes);
