/* The runtime of launched guests (containers and VMs): start, the stop sequence, noticing a
 * guest that ends on its own (pidfd), and taking running guests over again after ubcd
 * restarts. What runs is persisted in state_dir/launched/ID, so a restarted ubcd knows its
 * guests' processes; ubcd never stops a guest because ubcd stopped. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "ubc/policy.h"

struct daemon;

enum run_state {
        RUN_STOPPED,
        RUN_RUNNING,
        RUN_STOPPING,
};

struct guest_run {
        struct daemon *daemon;
        uint32_t id;
        enum ubc_guest_type type;
        enum run_state state;
        pid_t pid; /* container init or qemu */
        int pidfd;
        bool child;                     /* started by this ubcd: its exit status is ours to read */
        unsigned long long start_ticks; /* /proc/PID/stat starttime: tells a reused PID apart */
        uint64_t started_usec;          /* CLOCK_REALTIME */
        sd_event_source *exit_source;
        sd_event_source *stop_timer;
        unsigned stop_phase; /* 1: asked to shut down, 2: told to quit, 3: killed */
};

/* Takes over what state_dir/launched lists and still runs, then starts onboot guests. */
int runtime_init(struct daemon *d);
/* Frees the watches; every guest keeps running. */
void runtime_done(struct daemon *d);

const struct guest_run *runtime_get(struct daemon *d, uint32_t id);
const char *run_state_name(enum run_state s);

/* Errors: -errno and a message for the user in err. Once it runs and is watched, the caller
 * answers whoever asked, then calls runtime_record_start(): the record and the log line need not
 * hold up the answer. */
int runtime_start(struct daemon *d, uint32_t id, pid_t *ret_pid, char *err, size_t size);
/* The record a restarted ubcd takes a running guest over by, and the log line. */
void runtime_record_start(struct daemon *d, uint32_t id);
/* Starts the stop sequence (or kills at once) and returns; *ret_deadline_s says how long the
 * whole sequence may take. */
int runtime_stop(struct daemon *d, uint32_t id, bool kill, unsigned *ret_deadline_s, char *err, size_t size);
/* Checks a guest's launch settings; problems go to diags. */
int runtime_validate(struct daemon *d, uint32_t id, struct ubc_diag_sink *diags);
