/* `ubcctl start`, `stop` and `restart`: ubcd launches and stops containers and VMs; stop waits
 * here until the guest is down, so a script can go on once it returns. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ubc/macro.h"
#include "ubcctl-bus.h"
#include "ubcctl.h"

#define POLL_MS      200
#define STOP_SLACK_S 5 /* beyond ubcd's own deadline: its last step and the exit being noticed */

static int start(const struct ubcctl *ctl, sd_bus *bus, uint32_t id) {
        _cleanup_message_ sd_bus_message *reply = NULL;
        uint32_t pid;
        int r;

        r = ubcctl_call(ctl, bus, "Start", &reply, "u", id);
        if (r != 0)
                return r;
        r = sd_bus_message_read(reply, "u", &pid);
        if (r < 0)
                return ubcctl_bad_reply("Start", r);
        printf("Guest %" PRIu32 " started, PID %" PRIu32 "\n", id, pid);
        return UBCCTL_EXIT_OK;
}

static int stop(const struct ubcctl *ctl, sd_bus *bus, uint32_t id, bool quiet_if_stopped) {
        _cleanup_message_ sd_bus_message *reply = NULL;
        char state[32];
        uint32_t deadline;
        time_t until;
        int r;

        if (quiet_if_stopped) {
                r = ubcctl_guest_state(ctl, bus, id, state, sizeof(state));
                if (r != 0)
                        return r;
                if (streq(state, "stopped"))
                        return UBCCTL_EXIT_OK;
        }
        r = ubcctl_call(ctl, bus, "Stop", &reply, "ub", id, (int) ctl->kill);
        if (r != 0)
                return r;
        r = sd_bus_message_read(reply, "u", &deadline);
        if (r < 0)
                return ubcctl_bad_reply("Stop", r);
        until = time(NULL) + (time_t) deadline + STOP_SLACK_S;
        for (;;) {
                r = ubcctl_guest_state(ctl, bus, id, state, sizeof(state));
                if (r != 0)
                        return r;
                if (streq(state, "stopped") || !state[0])
                        break;
                if (time(NULL) > until) {
                        fprintf(stderr,
                                "Guest %" PRIu32 " is still %s after %" PRIu32 " s; see ubcd's log\n", id,
                                state, deadline + STOP_SLACK_S);
                        return UBCCTL_EXIT_FAILED;
                }
                (void) poll(NULL, 0, POLL_MS);
        }
        printf("Guest %" PRIu32 " stopped\n", id);
        return UBCCTL_EXIT_OK;
}

static int with_guest(struct ubcctl *ctl, int (*action)(struct ubcctl *ctl, sd_bus *bus, uint32_t id)) {
        _cleanup_bus_ sd_bus *bus = NULL;
        uint32_t id;
        int r;

        if (ubcctl_parse_id(ctl->args[0], &id) < 0)
                return UBCCTL_EXIT_USAGE;
        r = ubcctl_connect(ctl, &bus);
        if (r != 0)
                return r;
        return action(ctl, bus, id);
}

static int do_start(struct ubcctl *ctl, sd_bus *bus, uint32_t id) {
        return start(ctl, bus, id);
}

static int do_stop(struct ubcctl *ctl, sd_bus *bus, uint32_t id) {
        return stop(ctl, bus, id, false);
}

static int do_restart(struct ubcctl *ctl, sd_bus *bus, uint32_t id) {
        int r = stop(ctl, bus, id, true);

        return r != 0 ? r : start(ctl, bus, id);
}

int ubcctl_start(struct ubcctl *ctl) {
        return with_guest(ctl, do_start);
}

int ubcctl_stop(struct ubcctl *ctl) {
        return with_guest(ctl, do_stop);
}

int ubcctl_restart(struct ubcctl *ctl) {
        return with_guest(ctl, do_restart);
}
