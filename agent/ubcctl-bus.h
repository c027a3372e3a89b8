/* The client side of ubcd's control socket, shared by the commands that ask ubcd. */
#pragma once

#include <systemd/sd-bus.h>

#include "ubcctl.h"

void ubcctl_bus_unrefp(sd_bus **b);
void ubcctl_message_unrefp(sd_bus_message **m);
#define _cleanup_bus_     _cleanup_(ubcctl_bus_unrefp)
#define _cleanup_message_ _cleanup_(ubcctl_message_unrefp)
#define _cleanup_error_   _cleanup_(sd_bus_error_free)

/* Each returns 0, or the exit status to end with after printing why. */
int ubcctl_connect(const struct ubcctl *ctl, sd_bus **ret);
/* The same without a word: 0, or a negative errno for the caller to judge. */
int ubcctl_connect_errno(const struct ubcctl *ctl, sd_bus **ret);
int ubcctl_call(const struct ubcctl *ctl, sd_bus *bus, const char *method, sd_bus_message **ret_reply,
                const char *types, ...);
/* A reply that does not read as bus.h says: prints it, returns UBCCTL_EXIT_FAILED. */
int ubcctl_bad_reply(const char *method, int r);
/* A guest's state as `list` shows it ("running", "idle", ...) into buf, "" if ubcd lists no
 * such guest; an exit status. */
int ubcctl_guest_state(const struct ubcctl *ctl, sd_bus *bus, uint32_t id, char *buf, size_t size);
