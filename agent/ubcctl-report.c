/* `ubcctl report` and `ubcctl graph`: capacity from the RRD history ubcd records, against the
 * commitments of the policy files. They read files, so they work while ubcd is down; while it
 * runs they first ask it to write the rows it holds back. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "ubc/agent-config.h"
#include "ubc/bus.h"
#include "ubc/macro.h"
#include "report.h"
#include "ubcctl-bus.h"
#include "ubcctl.h"

#define SINCE_MAX_S (10ULL * 366 * 86400) /* the longest archive holds ten years */

static int parse_since(const char *s, const char *dflt, uint64_t *ret_s) {
        uint64_t us;

        if (!s)
                s = dflt;
        if (agent_parse_duration(s, &us) < 0 || us < 1000000ULL || us / 1000000ULL > SINCE_MAX_S)
                return ubcctl_usage_error(
                        "'--since %s' is not a window such as 90m, 36h, 7d or 4w (1s..10 years)", s);
        *ret_s = us / 1000000ULL;
        return 0;
}

/* ubcd writes a guest's file rrd_batch steps at a time (and rrdcached, if used, later still):
 * asked, it writes what it holds back, so the report sees every whole step. A ubcd that is not
 * running holds nothing back; one that cannot be asked is said to. */
static void ask_ubcd_to_write(const struct ubcctl *ctl, const uint32_t *ids, size_t n_ids) {
        _cleanup_bus_ sd_bus *bus = NULL;
        _cleanup_message_ sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        if (!ctl->socket_path[0])
                return;
        r = ubcctl_connect_errno(ctl, &bus);
        if (r == -ENOENT || r == -ECONNREFUSED)
                return; /* no ubcd: it wrote everything when it stopped */
        if (r >= 0)
                r = sd_bus_message_new_method_call(bus, &m, NULL, UBC_BUS_PATH, UBC_BUS_INTERFACE,
                                                   "WriteHistory");
        if (r >= 0)
                r = sd_bus_message_append_array(m, 'u', ids, n_ids * sizeof(*ids));
        if (r >= 0)
                r = sd_bus_call(bus, m, 0, &error, &reply);
        /* A ubcd before rrd_batch writes every step as it ends. */
        if (r < 0 && !sd_bus_error_has_name(&error, SD_BUS_ERROR_UNKNOWN_METHOD))
                fprintf(stderr,
                        "Note: ubcd on '%s' could not be asked to write the history it holds back (%s); "
                        "the last few steps (rrd_batch in ubcd.conf) may be missing\n",
                        ctl->socket_path, error.message ? error.message : strerror(-r));
}

static void print_diag_to_stderr(void *userdata, const struct ubc_diag *d) {
        ubcctl_print_diag(userdata, d);
}

static int gather(struct ubcctl *ctl, uint64_t since_s, const uint32_t *ids, size_t n_ids,
                  struct report *rep) {
        struct ubc_diag_sink sink = {.report = print_diag_to_stderr};
        struct report_options o = {
                .config_dir = ctl->config_dir,
                .since_s = since_s,
                .ids = ids,
                .n_ids = n_ids,
        };
        int r;

        ask_ubcd_to_write(ctl, ids, n_ids);
        o.now = time(NULL);
        r = report_gather(&o, &sink, rep);

        if (r < 0)
                return UBCCTL_EXIT_FAILED;
        if (sink.n_errors > 0)
                fprintf(stderr, "The policy has errors (above); the report leaves out what did not load.\n");
        return 0;
}

/* Writes one output file of the report into dir. */
static int write_output(const struct report *rep, const char *dir, const char *name,
                        void (*write)(const struct report *r, FILE *f)) {
        char path[1024];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        f = fopen(path, "we");
        if (!f) {
                fprintf(stderr, "Cannot write '%s': %m\n", path);
                return UBCCTL_EXIT_FAILED;
        }
        write(rep, f);
        if (fclose(f) != 0) {
                fprintf(stderr, "Cannot write '%s': %m\n", path);
                return UBCCTL_EXIT_FAILED;
        }
        printf("%s\n", path);
        return 0;
}

int ubcctl_report(struct ubcctl *ctl) {
        const char *format = ctl->format ? ctl->format : ctl->json ? "json" : "text";
        struct report rep;
        uint64_t since_s = 0;
        int r;

        r = parse_since(ctl->since, "7d", &since_s);
        if (r != 0)
                return r;
        if (!streq(format, "text") && !streq(format, "json") && !streq(format, "html"))
                return ubcctl_usage_error("'--format %s': choose text, html or json", format);
        if (streq(format, "html") && !ctl->out)
                return ubcctl_usage_error(
                        "'--format html' needs '--out DIR': its graphs are files beside it");
        if (ctl->out && mkdir(ctl->out, 0755) < 0 && errno != EEXIST) {
                fprintf(stderr, "Cannot make the folder '%s': %m\n", ctl->out);
                return UBCCTL_EXIT_FAILED;
        }

        r = gather(ctl, since_s, ctl->guest_ids, ctl->n_guest_ids, &rep);
        if (r != 0)
                return r;
        if (!ctl->out) {
                if (streq(format, "json"))
                        report_write_json(&rep, stdout);
                else
                        report_write_text(&rep, stdout);
        } else if (streq(format, "html")) {
                int failed = report_graphs(&rep, ctl->out);

                r = write_output(&rep, ctl->out, "report.html", report_write_html);
                if (r == 0 && failed > 0 && rep.n_with_history > 0) {
                        fprintf(stderr, "%d graph%s could not be drawn (above)\n", failed,
                                failed == 1 ? "" : "s");
                        r = UBCCTL_EXIT_FAILED;
                }
        } else
                r = write_output(&rep, ctl->out, streq(format, "json") ? "report.json" : "report.txt",
                                 streq(format, "json") ? report_write_json : report_write_text);
        report_done(&rep);
        return r;
}

int ubcctl_graph(struct ubcctl *ctl) {
        static const char *const kinds[] = {
                [REPORT_GRAPH_CPU] = "cpu", [REPORT_GRAPH_MEMORY] = "memory", [REPORT_GRAPH_IO] = "io"};
        const char *what = ctl->what ? ctl->what : "cpu";
        struct report rep;
        uint64_t since_s = 0;
        uint32_t id;
        int kind = -1, r;

        if (ubcctl_parse_id(ctl->args[0], &id) < 0)
                return UBCCTL_EXIT_USAGE;
        r = parse_since(ctl->since, "1d", &since_s);
        if (r != 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(kinds); i++)
                if (streq(what, kinds[i]))
                        kind = (int) i;
        if (kind < 0)
                return ubcctl_usage_error("'--what %s': choose cpu, memory or io", what);
        if (!ctl->out)
                return ubcctl_usage_error("'graph' needs '--out FILE.png'");

        r = gather(ctl, since_s, &id, 1, &rep);
        if (r != 0)
                return r;
        if (rep.n_guests != 1 || !rep.guests[0].has_history) {
                fprintf(stderr, "Guest %u has no history in the window yet (%s)\n", id,
                        rep.n_guests ? rep.guests[0].rrd_path : rep.rrd_dir);
                report_done(&rep);
                return UBCCTL_EXIT_FAILED;
        }
        r = report_graph_guest(&rep.guests[0], kind, rep.start, rep.end, ctl->out) < 0 ? UBCCTL_EXIT_FAILED
                                                                                       : 0;
        if (r == 0)
                printf("%s\n", ctl->out);
        report_done(&rep);
        return r;
}
