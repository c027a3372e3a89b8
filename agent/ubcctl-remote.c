/* ubcctl's commands that ask ubcd: an sd-bus peer-to-peer client on the control socket, one
 * method call per command (see include/ubc/bus.h), output as text tables or JSON. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include "ubc/bus.h"
#include "ubc/capacity.h"
#include "ubc/json.h"
#include "ubc/limits.h"
#include "ubc/macro.h"
#include "ubcctl-bus.h"
#include "ubcctl-table.h"
#include "ubcctl.h"

void ubcctl_bus_unrefp(sd_bus **b) {
        sd_bus_flush_close_unref(*b);
}

void ubcctl_message_unrefp(sd_bus_message **m) {
        sd_bus_message_unref(*m);
}

/* D-Bus addresses escape everything outside a small set as %XX. */
static int address_escape(const char *s, char *buf, size_t size) {
        static const char hex[] = "0123456789abcdef";
        size_t n = 0;

        for (; *s; s++) {
                unsigned char c = (unsigned char) *s;
                bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                             strchr("-_/.\\*", c);

                if (n + (plain ? 1 : 3) >= size)
                        return -ENAMETOOLONG;
                if (plain)
                        buf[n++] = (char) c;
                else {
                        buf[n++] = '%';
                        buf[n++] = hex[c >> 4];
                        buf[n++] = hex[c & 15];
                }
        }
        buf[n] = '\0';
        return 0;
}

static int unreachable(const struct ubcctl *ctl, int error) {
        if (error == -EACCES || error == -EPERM)
                fprintf(stderr,
                        "Cannot reach ubcd on '%s': %s. Run as root or as a member of ubcd's socket_group, "
                        "or pass -s with another socket\n",
                        ctl->socket_path, strerror(-error));
        else
                fprintf(stderr, "Cannot reach ubcd on '%s': %s. Start ubcd, or pass -s with its socket\n",
                        ctl->socket_path, strerror(-error));
        return UBCCTL_EXIT_UNREACHABLE;
}

/* A started connection, or a negative errno (-ENAMETOOLONG: a path no address can hold). */
int ubcctl_connect_errno(const struct ubcctl *ctl, sd_bus **ret) {
        _cleanup_bus_ sd_bus *bus = NULL;
        char escaped[3 * sizeof(ctl->socket_path)], address[sizeof(escaped) + 16];
        int r;

        if (address_escape(ctl->socket_path, escaped, sizeof(escaped)) < 0 ||
            snprintf(address, sizeof(address), "unix:path=%s", escaped) >= (int) sizeof(address))
                return -ENAMETOOLONG;
        r = sd_bus_new(&bus);
        if (r < 0)
                return r;
        r = sd_bus_set_address(bus, address);
        if (r < 0)
                return r;
        r = sd_bus_start(bus);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(bus);
        return 0;
}

/* 0 and a started connection, or an exit status. */
int ubcctl_connect(const struct ubcctl *ctl, sd_bus **ret) {
        struct stat st;
        int r;

        /* sd-bus says only "No such file or directory" or "Connection refused"; an existing
         * path that is not a socket deserves its own words. */
        if (stat(ctl->socket_path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
                fprintf(stderr, "'%s' is not a socket. Pass -s with ubcd's socket\n", ctl->socket_path);
                return UBCCTL_EXIT_UNREACHABLE;
        }
        r = ubcctl_connect_errno(ctl, ret);
        if (r == -ENAMETOOLONG) {
                fprintf(stderr, "Socket path '%s' is too long\n", ctl->socket_path);
                return UBCCTL_EXIT_FAILED;
        }
        if (r < 0)
                return unreachable(ctl, r);
        return 0;
}

/* Sends a built call and waits; on failure prints why and returns the exit status. */
static int remote_call_message(const struct ubcctl *ctl, sd_bus *bus, sd_bus_message *m, const char *method,
                               sd_bus_message **ret_reply) {
        _cleanup_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = sd_bus_call(bus, m, 0, &error, ret_reply);
        if (r >= 0)
                return 0;

        if (r == -ETIMEDOUT) {
                fprintf(stderr, "ubcd on '%s' did not answer %s() in time\n", ctl->socket_path, method);
                return UBCCTL_EXIT_UNREACHABLE;
        }
        /* A transport failure closes the connection; a method error leaves it open. */
        if (sd_bus_is_open(bus) <= 0 || r == -ECONNRESET || r == -ENOTCONN || r == -EPIPE ||
            r == -ECONNREFUSED) {
                fprintf(stderr, "Lost the connection to ubcd on '%s': %s\n", ctl->socket_path, strerror(-r));
                return UBCCTL_EXIT_UNREACHABLE;
        }
        if (sd_bus_error_is_set(&error) && error.message && error.message[0])
                fprintf(stderr, "%s\n", error.message);
        else
                fprintf(stderr, "%s() failed: %s\n", method, strerror(-r));
        return UBCCTL_EXIT_FAILED;
}

int ubcctl_call(const struct ubcctl *ctl, sd_bus *bus, const char *method, sd_bus_message **ret_reply,
                const char *types, ...) {
        _cleanup_message_ sd_bus_message *m = NULL;
        va_list ap;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, NULL, UBC_BUS_PATH, UBC_BUS_INTERFACE, method);
        if (r >= 0 && types) {
                va_start(ap, types);
                r = sd_bus_message_appendv(m, types, ap);
                va_end(ap);
        }
        if (r < 0) {
                fprintf(stderr, "Cannot build the %s() call: %s\n", method, strerror(-r));
                return UBCCTL_EXIT_FAILED;
        }
        return remote_call_message(ctl, bus, m, method, ret_reply);
}

int ubcctl_bad_reply(const char *method, int r) {
        fprintf(stderr, "Unexpected reply to %s() from ubcd: %s\n", method, strerror(-r));
        return UBCCTL_EXIT_FAILED;
}

/* bus.h writes the replies of Status, Reload and Explain as one struct ("(sssuu)"); the bare
 * members ("sssuu") carry the same, so both are read. 1 if a struct was entered. */
static int enter_reply_struct(sd_bus_message *m, const char *contents) {
        const char *c;
        char type;
        int r;

        r = sd_bus_message_peek_type(m, &type, &c);
        if (r <= 0)
                return r < 0 ? r : -EBADMSG;
        if (type != SD_BUS_TYPE_STRUCT || !streq(c, contents))
                return 0;
        r = sd_bus_message_enter_container(m, SD_BUS_TYPE_STRUCT, contents);
        return r < 0 ? r : 1;
}

/* Errors() lines, to 'f' or into the JSON array "messages"; an exit status. */
static int print_errors(const struct ubcctl *ctl, sd_bus *bus, FILE *f, struct json *j) {
        _cleanup_message_ sd_bus_message *reply = NULL;
        const char *line;
        int r;

        r = ubcctl_call(ctl, bus, "Errors", &reply, NULL);
        if (r != 0)
                return r;
        r = sd_bus_message_enter_container(reply, SD_BUS_TYPE_ARRAY, "s");
        if (r < 0)
                return ubcctl_bad_reply("Errors", r);
        if (j)
                json_array_open(j, "messages");
        while ((r = sd_bus_message_read(reply, "s", &line)) > 0) {
                char clean[1024];

                if (j)
                        json_string(j, NULL, line);
                else {
                        table_clean(line, clean, sizeof(clean));
                        fprintf(f, "%s\n", clean);
                }
        }
        if (j)
                json_array_close(j);
        if (r < 0)
                return ubcctl_bad_reply("Errors", r);
        return 0;
}

int ubcctl_reload(struct ubcctl *ctl) {
        _cleanup_message_ sd_bus_message *reply = NULL;
        _cleanup_bus_ sd_bus *bus = NULL;
        uint32_t n_guests, n_errors;
        struct json j;
        int r, entered;

        r = ubcctl_connect(ctl, &bus);
        if (r != 0)
                return r;
        r = ubcctl_call(ctl, bus, "Reload", &reply, NULL);
        if (r != 0)
                return r;

        entered = enter_reply_struct(reply, "uu");
        r = entered < 0 ? entered : sd_bus_message_read(reply, "uu", &n_guests, &n_errors);
        if (r < 0)
                return ubcctl_bad_reply("Reload", r);

        if (ctl->json) {
                json_begin(&j, stdout);
                json_object_open(&j, NULL);
                json_uint(&j, "guests", n_guests);
                json_uint(&j, "errors", n_errors);
                r = n_errors > 0 ? print_errors(ctl, bus, NULL, &j) : 0;
                json_object_close(&j);
                json_end(&j);
        } else {
                printf("Reloaded: %" PRIu32 " guests, %" PRIu32 " errors\n", n_guests, n_errors);
                fflush(stdout);
                r = n_errors > 0 ? print_errors(ctl, bus, stderr, NULL) : 0;
        }
        if (r != 0)
                return r;
        return n_errors > 0 ? UBCCTL_EXIT_FAILED : UBCCTL_EXIT_OK;
}

int ubcctl_status(struct ubcctl *ctl) {
        _cleanup_message_ sd_bus_message *reply = NULL;
        _cleanup_bus_ sd_bus *bus = NULL;
        const char *mode, *driver, *root;
        uint32_t n_guests, n_errors;
        struct json j;
        int r, entered;

        r = ubcctl_connect(ctl, &bus);
        if (r != 0)
                return r;
        r = ubcctl_call(ctl, bus, "Status", &reply, NULL);
        if (r != 0)
                return r;

        entered = enter_reply_struct(reply, "sssuu");
        r = entered < 0 ? entered
                        : sd_bus_message_read(reply, "sssuu", &mode, &driver, &root, &n_guests, &n_errors);
        if (r < 0)
                return ubcctl_bad_reply("Status", r);

        if (ctl->json) {
                json_begin(&j, stdout);
                json_object_open(&j, NULL);
                json_string(&j, "socket", ctl->socket_path);
                json_string(&j, "mode", mode);
                json_string(&j, "driver", driver);
                json_string(&j, "root", root);
                json_uint(&j, "guests", n_guests);
                json_uint(&j, "errors", n_errors);
                r = n_errors > 0 ? print_errors(ctl, bus, NULL, &j) : 0;
                json_object_close(&j);
                json_end(&j);
                return r;
        }

        char clean[3][256];
        table_clean(mode, clean[0], sizeof(clean[0]));
        table_clean(driver, clean[1], sizeof(clean[1]));
        table_clean(root, clean[2], sizeof(clean[2]));
        printf("Socket:       %s\n"
               "Cgroup mode:  %s\n"
               "Driver:       %s\n"
               "Root:         %s\n"
               "Guests:       %" PRIu32 "\n"
               "Errors:       %" PRIu32 "\n",
               ctl->socket_path, clean[0], clean[1], clean[2], n_guests, n_errors);
        if (n_errors == 0)
                return UBCCTL_EXIT_OK;
        fflush(stdout);
        return print_errors(ctl, bus, stdout, NULL);
}

struct guest_row {
        uint32_t id;
        const char *name, *type, *class, *state, *cgroup; /* point into the reply */
        uint32_t nprocs, pid;
        uint64_t started_usec, mem_held, mem_limit;
        double cpu;
};

static int guest_row_compare(const void *a, const void *b) {
        const struct guest_row *x = a, *y = b;

        return x->id < y->id ? -1 : x->id > y->id;
}

/* "3d04h", "2h17m", "5m12s": vzlist's uptime, shortened. */
static void format_uptime(uint64_t started_usec, char *buf, size_t size) {
        uint64_t now = (uint64_t) time(NULL), s = started_usec / 1000000;

        if (started_usec == 0 || s > now) {
                snprintf(buf, size, "-");
                return;
        }
        s = now - s;
        if (s >= 86400)
                snprintf(buf, size, "%llud%02lluh", (unsigned long long) (s / 86400),
                         (unsigned long long) (s % 86400 / 3600));
        else if (s >= 3600)
                snprintf(buf, size, "%lluh%02llum", (unsigned long long) (s / 3600),
                         (unsigned long long) (s % 3600 / 60));
        else
                snprintf(buf, size, "%llum%02llus", (unsigned long long) (s / 60),
                         (unsigned long long) (s % 60));
}

static void format_memory(uint64_t held, uint64_t limit, char *buf, size_t size) {
        char h[32], l[32];

        capacity_format_bytes((double) held, h, sizeof(h));
        if (limit == UINT64_MAX)
                snprintf(l, sizeof(l), "-");
        else
                capacity_format_bytes((double) limit, l, sizeof(l));
        snprintf(buf, size, "%s/%s", h, l);
}

/* One row of ListGuests' reply: 1, 0 at the end, or -errno. */
static int list_row_read(sd_bus_message *reply, struct guest_row *g) {
        return sd_bus_message_read(reply, UBC_BUS_LIST_ROW, &g->id, &g->name, &g->type, &g->class, &g->state,
                                   &g->cgroup, &g->nprocs, &g->pid, &g->started_usec, &g->cpu, &g->mem_held,
                                   &g->mem_limit);
}

int ubcctl_guest_state(const struct ubcctl *ctl, sd_bus *bus, uint32_t id, char *buf, size_t size) {
        _cleanup_message_ sd_bus_message *reply = NULL;
        struct guest_row g;
        int r = ubcctl_call(ctl, bus, "ListGuests", &reply, NULL);

        if (r != 0)
                return r;
        buf[0] = '\0';
        r = sd_bus_message_enter_container(reply, SD_BUS_TYPE_ARRAY, UBC_BUS_LIST_ROW);
        while (r >= 0 && (r = list_row_read(reply, &g)) > 0)
                if (g.id == id)
                        snprintf(buf, size, "%s", g.state);
        return r < 0 ? ubcctl_bad_reply("ListGuests", r) : 0;
}

int ubcctl_list(struct ubcctl *ctl) {
        static const char *const headers[] = {">ID",   "NAME",    "TYPE",    "CLASS",  "STATE",
                                              ">%CPU", ">MEMORY", ">UPTIME", ">NPROC", NULL};
        _cleanup_message_ sd_bus_message *reply = NULL;
        _cleanup_bus_ sd_bus *bus = NULL;
        _cleanup_free_ struct guest_row *rows = NULL;
        size_t n = 0, allocated = 0;
        int r;

        r = ubcctl_connect(ctl, &bus);
        if (r != 0)
                return r;
        r = ubcctl_call(ctl, bus, "ListGuests", &reply, NULL);
        if (r != 0)
                return r;

        r = sd_bus_message_enter_container(reply, SD_BUS_TYPE_ARRAY, UBC_BUS_LIST_ROW);
        if (r < 0)
                return ubcctl_bad_reply("ListGuests", r);
        for (;;) {
                struct guest_row g;

                r = list_row_read(reply, &g);
                if (r < 0)
                        return ubcctl_bad_reply("ListGuests", r);
                if (r == 0)
                        break;
                if (n == allocated) {
                        size_t k = allocated ? allocated * 2 : 64;
                        struct guest_row *p = reallocarray(rows, k, sizeof(*rows));

                        if (!p)
                                return ubcctl_bad_reply("ListGuests", -ENOMEM);
                        rows = p;
                        allocated = k;
                }
                rows[n++] = g;
        }
        /* vzlist order: by ID, orphans among the rest. */
        if (n > 0)
                qsort(rows, n, sizeof(*rows), guest_row_compare);

        if (ctl->json) {
                struct json j;

                json_begin(&j, stdout);
                json_array_open(&j, NULL);
                for (size_t i = 0; i < n; i++) {
                        json_object_open(&j, NULL);
                        json_uint(&j, "id", rows[i].id);
                        json_string(&j, "name", rows[i].name);
                        json_string(&j, "type", rows[i].type);
                        json_string(&j, "class", rows[i].class);
                        json_string(&j, "state", rows[i].state);
                        json_uint(&j, "nproc", rows[i].nprocs);
                        json_string(&j, "cgroup", rows[i].cgroup);
                        if (rows[i].pid) {
                                json_uint(&j, "pid", rows[i].pid);
                                json_uint(&j, "started_usec", rows[i].started_usec);
                        }
                        json_double(&j, "cpu", rows[i].cpu);
                        json_uint(&j, "memory_held", rows[i].mem_held);
                        if (rows[i].mem_limit != UINT64_MAX)
                                json_uint(&j, "memory_limit", rows[i].mem_limit);
                        json_object_close(&j);
                }
                json_array_close(&j);
                json_end(&j);
                return UBCCTL_EXIT_OK;
        }

        struct table t;
        r = table_init(&t, headers);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                char id[16], nprocs[16], cpu[16], mem[64], up[32];

                snprintf(id, sizeof(id), "%" PRIu32, rows[i].id);
                snprintf(nprocs, sizeof(nprocs), "%" PRIu32, rows[i].nprocs);
                if (isnan(rows[i].cpu))
                        snprintf(cpu, sizeof(cpu), "-");
                else
                        snprintf(cpu, sizeof(cpu), "%.1f", rows[i].cpu * 100);
                format_memory(rows[i].mem_held, rows[i].mem_limit, mem, sizeof(mem));
                format_uptime(rows[i].started_usec, up, sizeof(up));
                r = table_add_row(&t, (const char *const[]){id, rows[i].name, rows[i].type, rows[i].class,
                                                            rows[i].state, cpu, mem, up, nprocs});
        }
        if (r >= 0)
                table_print(&t, stdout);
        table_done(&t);
        if (r < 0) {
                fprintf(stderr, "Cannot build the table: %s\n", strerror(-r));
                return UBCCTL_EXIT_FAILED;
        }
        return UBCCTL_EXIT_OK;
}

struct show_row {
        const char *key, *desired, *origin, *file, *actual, *note; /* point into the reply */
};

static const char *file_name(const char *path) {
        const char *slash = strrchr(path, '/');

        return slash ? slash + 1 : path;
}

/* Appends "file=value" to a key's ACTUAL cell: a key may set several files (memory.high and
 * memory.max), and the value alone would not say which is which. */
static void actual_append(char *buf, size_t size, const struct show_row *s) {
        size_t len = strlen(buf);

        if (!s->file[0])
                return;
        snprintf(buf + len, size - len, "%s%s=%s", len ? ", " : "", file_name(s->file),
                 s->actual[0] ? s->actual : "?");
}

static int show_text(const struct show_row *rows, size_t n) {
        static const char *const headers[] = {"KEY", "DESIRED", "ACTUAL", "ORIGIN", NULL};
        struct table t;
        bool any_note = false;
        int r;

        r = table_init(&t, headers);
        for (size_t i = 0; r >= 0 && i < n;) {
                char actual[2048] = "";
                size_t k = i;

                /* One line per key: its rows follow each other. */
                for (; k < n && streq(rows[k].key, rows[i].key); k++) {
                        actual_append(actual, sizeof(actual), &rows[k]);
                        any_note = any_note || rows[k].note[0];
                }
                r = table_add_row(
                        &t, (const char *const[]){rows[i].key, rows[i].desired, actual, rows[i].origin});
                i = k;
        }
        if (r >= 0)
                table_print(&t, stdout);
        table_done(&t);
        if (r < 0) {
                fprintf(stderr, "Cannot build the table: %s\n", strerror(-r));
                return UBCCTL_EXIT_FAILED;
        }

        if (any_note)
                printf("\nNotes:\n");
        for (size_t i = 0; i < n; i++) {
                char clean[512];

                if (!rows[i].note[0])
                        continue;
                table_clean(rows[i].note, clean, sizeof(clean));
                printf("  %s: %s\n", rows[i].key, clean);
        }
        return UBCCTL_EXIT_OK;
}

int ubcctl_show(struct ubcctl *ctl) {
        _cleanup_message_ sd_bus_message *reply = NULL;
        _cleanup_bus_ sd_bus *bus = NULL;
        _cleanup_free_ struct show_row *rows = NULL;
        size_t n = 0, allocated = 0;
        uint32_t id;
        int r;

        if (ubcctl_parse_id(ctl->args[0], &id) < 0)
                return UBCCTL_EXIT_USAGE;
        r = ubcctl_connect(ctl, &bus);
        if (r != 0)
                return r;
        r = ubcctl_call(ctl, bus, "Show", &reply, "u", id);
        if (r != 0)
                return r;

        r = sd_bus_message_enter_container(reply, SD_BUS_TYPE_ARRAY, "(ssssss)");
        if (r < 0)
                return ubcctl_bad_reply("Show", r);
        for (;;) {
                struct show_row s;

                r = sd_bus_message_read(reply, "(ssssss)", &s.key, &s.desired, &s.origin, &s.file, &s.actual,
                                        &s.note);
                if (r < 0)
                        return ubcctl_bad_reply("Show", r);
                if (r == 0)
                        break;
                if (n == allocated) {
                        size_t k = allocated ? allocated * 2 : 32;
                        struct show_row *p = reallocarray(rows, k, sizeof(*rows));

                        if (!p)
                                return ubcctl_bad_reply("Show", -ENOMEM);
                        rows = p;
                        allocated = k;
                }
                rows[n++] = s;
        }

        if (!ctl->json)
                return show_text(rows, n);

        struct json j;
        json_begin(&j, stdout);
        json_object_open(&j, NULL);
        json_uint(&j, "id", id);
        json_array_open(&j, "keys");
        for (size_t i = 0; i < n; i++) {
                json_object_open(&j, NULL);
                json_string(&j, "key", rows[i].key);
                json_string(&j, "desired", rows[i].desired);
                json_string(&j, "origin", rows[i].origin);
                json_string(&j, "file", rows[i].file);
                json_string(&j, "actual", rows[i].actual);
                json_string(&j, "note", rows[i].note);
                json_object_close(&j);
        }
        json_array_close(&j);
        json_object_close(&j);
        json_end(&j);
        return UBCCTL_EXIT_OK;
}

int ubcctl_explain(struct ubcctl *ctl) {
        _cleanup_message_ sd_bus_message *reply = NULL;
        _cleanup_bus_ sd_bus *bus = NULL;
        const char *key, *line;
        double entitled, ncpus, percent;
        struct json j;
        size_t width = 0;
        uint32_t id;
        int r, entered;

        if (ubcctl_parse_id(ctl->args[0], &id) < 0)
                return UBCCTL_EXIT_USAGE;
        r = ubcctl_connect(ctl, &bus);
        if (r != 0)
                return r;
        r = ubcctl_call(ctl, bus, "Explain", &reply, "u", id);
        if (r != 0)
                return r;

        entered = enter_reply_struct(reply, "a(ss)dd");
        if (entered < 0)
                return ubcctl_bad_reply("Explain", entered);

        /* Two passes over the array: the first finds the key column's width. */
        r = sd_bus_message_enter_container(reply, SD_BUS_TYPE_ARRAY, "(ss)");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(ss)", &key, &line)) > 0)
                if (strlen(key) > width)
                        width = strlen(key);
        if (r >= 0)
                r = sd_bus_message_rewind(reply, false);
        if (r < 0)
                return ubcctl_bad_reply("Explain", r);

        if (ctl->json) {
                json_begin(&j, stdout);
                json_object_open(&j, NULL);
                json_uint(&j, "id", id);
                json_array_open(&j, "keys");
        }
        while ((r = sd_bus_message_read(reply, "(ss)", &key, &line)) > 0) {
                char clean_key[64], clean[1024];

                if (ctl->json) {
                        json_object_open(&j, NULL);
                        json_string(&j, "key", key);
                        json_string(&j, "explanation", line);
                        json_object_close(&j);
                        continue;
                }
                table_clean(key, clean_key, sizeof(clean_key));
                table_clean(line, clean, sizeof(clean));
                printf("%-*s  %s\n", (int) (width < sizeof(clean_key) ? width : sizeof(clean_key) - 1),
                       clean_key, clean);
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(reply);
        if (r >= 0)
                r = sd_bus_message_read(reply, "dd", &entitled, &ncpus);
        if (r < 0) {
                if (ctl->json) {
                        json_array_close(&j);
                        json_object_close(&j);
                        json_end(&j);
                }
                return ubcctl_bad_reply("Explain", r);
        }

        /* ubcd sends a negative share when it could not work it out. */
        bool known = entitled >= 0 && ncpus > 0;
        percent = known ? 100.0 * entitled / ncpus : -1;

        if (ctl->json) {
                json_array_close(&j);
                json_double(&j, "entitled_cpus", known ? entitled : NAN);
                json_double(&j, "host_cpus", ncpus);
                json_double(&j, "entitled_percent", known ? percent : NAN);
                json_object_close(&j);
                json_end(&j);
        } else if (known)
                printf("Entitled under full contention: %.2f of %g CPUs (%.1f%%)\n", entitled, ncpus,
                       percent);
        else
                printf("Entitled under full contention: unknown\n");
        return UBCCTL_EXIT_OK;
}

/* "KEY=VALUE" into its key (bounded) and value; -EINVAL without '=' or key. */
static int split_setting(const char *arg, char *key, size_t size, const char **ret_value) {
        const char *eq = strchr(arg, '=');

        if (!eq || eq == arg)
                return -EINVAL;
        if ((size_t) (eq - arg) >= size)
                return -ENAMETOOLONG;
        memcpy(key, arg, (size_t) (eq - arg));
        key[eq - arg] = '\0';
        *ret_value = eq + 1;
        return 0;
}

int ubcctl_set(struct ubcctl *ctl) {
        _cleanup_message_ sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_bus_ sd_bus *bus = NULL;
        const char *names[_UBC_KEY_MAX], *value;
        char key[64];
        uint32_t id;
        int r;

        if (ubcctl_parse_id(ctl->args[0], &id) < 0)
                return UBCCTL_EXIT_USAGE;

        for (int k = 0; k < _UBC_KEY_MAX; k++)
                names[k] = ubc_key_name(k);
        /* Syntax and key names here, so a typo costs no round trip; values are ubcd's to judge. */
        for (size_t i = 1; i < ctl->n_args; i++) {
                r = split_setting(ctl->args[i], key, sizeof(key), &value);
                if (r == -EINVAL)
                        return ubcctl_usage_error("'%s' is not KEY=VALUE", ctl->args[i]);
                if (r < 0 || ubc_key_from_name(key) < 0) {
                        const char *near = r < 0 ? NULL : ubcctl_nearest(key, names, ELEMENTSOF(names));

                        if (near)
                                return ubcctl_usage_error("Unknown key '%s'; did you mean '%s'?", key, near);
                        return ubcctl_usage_error("Unknown key in '%s'", ctl->args[i]);
                }
        }

        r = ubcctl_connect(ctl, &bus);
        if (r != 0)
                return r;

        r = sd_bus_message_new_method_call(bus, &m, NULL, UBC_BUS_PATH, UBC_BUS_INTERFACE, "Set");
        if (r >= 0)
                r = sd_bus_message_append(m, "u", id);
        if (r >= 0)
                r = sd_bus_message_open_container(m, SD_BUS_TYPE_ARRAY, "(ss)");
        for (size_t i = 1; r >= 0 && i < ctl->n_args; i++) {
                r = split_setting(ctl->args[i], key, sizeof(key), &value);
                if (r >= 0)
                        r = sd_bus_message_append(m, "(ss)", key, value);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_append(m, "b", (int) ctl->save);
        if (r < 0) {
                fprintf(stderr, "Cannot build the Set() call: %s\n", strerror(-r));
                return UBCCTL_EXIT_FAILED;
        }
        return remote_call_message(ctl, bus, m, "Set", &reply);
}

/* Where execvp() would find 'cmd': 0, -ENOENT or -EACCES (found, none executable). Checked
 * before the process moves into the guest, so a typo leaves the guest alone. */
static int find_command(const char *cmd) {
        _cleanup_free_ char *path = NULL;
        const char *env;
        bool seen = false;

        if (strchr(cmd, '/'))
                return access(cmd, X_OK) < 0 ? negative_errno() : 0;

        env = getenv("PATH");
        if (!env)
                env = "/usr/local/bin:/bin:/usr/bin";
        path = strdup(env);
        if (!path)
                return -ENOMEM;
        for (char *dir = path, *next; dir; dir = next) {
                char full[4096];
                struct stat st;

                next = strchr(dir, ':');
                if (next)
                        *next++ = '\0';
                if (snprintf(full, sizeof(full), "%s%s%s", dir, dir[0] ? "/" : "", cmd) >=
                    (int) sizeof(full))
                        continue;
                if (stat(full, &st) < 0 || S_ISDIR(st.st_mode))
                        continue;
                if (access(full, X_OK) == 0)
                        return 0;
                seen = true;
        }
        return seen ? -EACCES : -ENOENT;
}

int ubcctl_run(struct ubcctl *ctl) {
        _cleanup_message_ sd_bus_message *reply = NULL;
        sd_bus *bus = NULL;
        char **argv = ctl->args + 1;
        size_t n = ctl->n_args - 1;
        uint32_t id;
        int r;

        if (ubcctl_parse_id(ctl->args[0], &id) < 0)
                return UBCCTL_EXIT_USAGE;
        if (n > 0 && streq(argv[0], "--")) {
                argv++;
                n--;
        }
        if (n == 0)
                return ubcctl_usage_error("'run' needs a command: ubcctl run ID -- CMD [ARGS...]");

        r = find_command(argv[0]);
        if (r == -ENOENT) {
                fprintf(stderr, "Command '%s' not found\n", argv[0]);
                return UBCCTL_EXIT_NOT_FOUND;
        }
        if (r < 0) {
                fprintf(stderr, "Command '%s' cannot be executed: %s\n", argv[0], strerror(-r));
                return UBCCTL_EXIT_CANNOT_EXEC;
        }

        r = ubcctl_connect(ctl, &bus);
        if (r != 0)
                return r;
        r = ubcctl_call(ctl, bus, "Attach", &reply, "uu", id, (uint32_t) getpid());
        reply = sd_bus_message_unref(reply);
        /* The command must not inherit the connection. */
        bus = sd_bus_flush_close_unref(bus);
        if (r != 0)
                return r;

        execvp(argv[0], argv);
        r = negative_errno();
        fprintf(stderr, "Cannot execute '%s': %s\n", argv[0], strerror(-r));
        return r == -ENOENT ? UBCCTL_EXIT_NOT_FOUND : UBCCTL_EXIT_CANNOT_EXEC;
}
