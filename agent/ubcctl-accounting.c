/* ubcctl beancounters, stat and metrics: what ubcd's sampler saw at its last sweep. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ubc/beancounter.h"
#include "ubc/json.h"
#include "ubc/macro.h"
#include "ubcctl-bus.h"
#include "ubcctl.h"

/* The optional guest argument: 0 for every guest. */
static int guest_arg(const struct ubcctl *ctl, uint32_t *ret) {
        *ret = 0;
        if (ctl->n_args == 0)
                return 0;
        return ubcctl_parse_id(ctl->args[0], ret) < 0 ? UBCCTL_EXIT_USAGE : 0;
}

int ubcctl_beancounters(struct ubcctl *ctl) {
        _cleanup_message_ sd_bus_message *reply = NULL;
        _cleanup_bus_ sd_bus *bus = NULL;
        struct json j;
        uint32_t id, last = 0;
        bool any = false;
        int r;

        r = guest_arg(ctl, &id);
        if (r != 0)
                return r;
        r = ubcctl_connect(ctl, &bus);
        if (r != 0)
                return r;
        r = ubcctl_call(ctl, bus, "Beancounters", &reply, "ub", id, (int) ctl->failcnt);
        if (r != 0)
                return r;
        r = sd_bus_message_enter_container(reply, SD_BUS_TYPE_ARRAY, "(usttttt)");
        if (r < 0)
                return ubcctl_bad_reply("Beancounters", r);

        if (ctl->json) {
                json_begin(&j, stdout);
                json_array_open(&j, NULL);
        } else
                /* The columns of /proc/user_beancounters, so scripts written for OpenVZ read it. */
                bc_format_openvz_header(stdout);
        for (;;) {
                const char *resource;
                uint32_t gid;
                uint64_t held, maxheld, barrier, limit, failcnt;

                r = sd_bus_message_read(reply, "(usttttt)", &gid, &resource, &held, &maxheld, &barrier,
                                        &limit, &failcnt);
                if (r < 0)
                        return ubcctl_bad_reply("Beancounters", r);
                if (r == 0)
                        break;
                if (ctl->json) {
                        json_object_open(&j, NULL);
                        json_uint(&j, "guest", gid);
                        json_string(&j, "resource", resource);
                        json_uint(&j, "held", held);
                        json_uint(&j, "maxheld", maxheld);
                        json_uint(&j, "barrier", barrier);
                        json_uint(&j, "limit", limit);
                        json_uint(&j, "failcnt", failcnt);
                        json_object_close(&j);
                } else {
                        const struct bc_row row = {held, maxheld, barrier, limit, failcnt};

                        bc_format_openvz_row(stdout, gid, !any || gid != last, resource, &row);
                }
                any = true;
                last = gid;
        }
        if (ctl->json) {
                json_array_close(&j);
                json_end(&j);
        } else if (!any && ctl->failcnt)
                printf("No failcnt rose since the last look\n");
        return UBCCTL_EXIT_OK;
}

int ubcctl_stat(struct ubcctl *ctl) {
        _cleanup_message_ sd_bus_message *reply = NULL;
        _cleanup_bus_ sd_bus *bus = NULL;
        struct json j;
        uint32_t id, last = 0;
        bool any = false;
        int r;

        r = guest_arg(ctl, &id);
        if (r != 0)
                return r;
        r = ubcctl_connect(ctl, &bus);
        if (r != 0)
                return r;
        r = ubcctl_call(ctl, bus, "Stat", &reply, "u", id);
        if (r != 0)
                return r;
        r = sd_bus_message_enter_container(reply, SD_BUS_TYPE_ARRAY, "(usd)");
        if (r < 0)
                return ubcctl_bad_reply("Stat", r);

        if (ctl->json) {
                json_begin(&j, stdout);
                json_array_open(&j, NULL);
        }
        for (;;) {
                const char *name;
                uint32_t gid;
                double value;

                r = sd_bus_message_read(reply, "(usd)", &gid, &name, &value);
                if (r < 0)
                        return ubcctl_bad_reply("Stat", r);
                if (r == 0)
                        break;
                if (ctl->json) {
                        if (any && gid != last)
                                json_object_close(&j);
                        if (!any || gid != last) {
                                json_object_open(&j, NULL);
                                json_uint(&j, "guest", gid);
                        }
                        json_double(&j, name, value);
                } else {
                        if (!any || gid != last)
                                printf("%sguest %" PRIu32 "\n", any ? "\n" : "", gid);
                        if (strncmp(name, "psi.", 4) == 0)
                                printf("  %-28s %12.2f\n", name, value);
                        else
                                printf("  %-28s %12.0f\n", name, value);
                }
                any = true;
                last = gid;
        }
        if (ctl->json) {
                if (any)
                        json_object_close(&j);
                json_array_close(&j);
                json_end(&j);
        }
        return UBCCTL_EXIT_OK;
}

int ubcctl_metrics(struct ubcctl *ctl) {
        _cleanup_message_ sd_bus_message *reply = NULL;
        _cleanup_bus_ sd_bus *bus = NULL;
        const char *text;
        int r;

        r = ubcctl_connect(ctl, &bus);
        if (r != 0)
                return r;
        r = ubcctl_call(ctl, bus, "Metrics", &reply, NULL);
        if (r != 0)
                return r;
        r = sd_bus_message_read(reply, "s", &text);
        if (r < 0)
                return ubcctl_bad_reply("Metrics", r);
        fputs(text, stdout);
        return UBCCTL_EXIT_OK;
}
