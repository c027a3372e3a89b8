/* The control socket: sd-bus peer-to-peer server on run_dir/ubcd.sock (mode 0660). Mutating
 * calls are allowed to uid 0 and the configured group, judged by SO_PEERCRED. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-bus.h>

#include "ubc/bus.h"
#include "ubc/macro.h"
#include "ubc/units.h"
#include "daemon.h"
#include "history.h"
#include "log.h"

#define CONNECTIONS_MAX 256

struct control_conn {
        struct daemon *d;
        sd_bus *bus;
        sd_event_source *close_source;
        struct control_conn *next;
};

static void conn_free(struct control_conn *c) {
        struct control_conn **p;

        c->d->n_conns--;
        for (p = &c->d->conns; *p; p = &(*p)->next)
                if (*p == c) {
                        *p = c->next;
                        break;
                }
        sd_bus_flush_close_unref(c->bus);
        sd_event_source_disable_unref(c->close_source);
        free(c);
}

/* Root, or a member (by primary gid) of socket_group. */
static int check_mutating(struct daemon *d, sd_bus_message *m, sd_bus_error *error) {
        struct ucred cred;
        socklen_t len = sizeof(cred);
        int fd = sd_bus_get_fd(sd_bus_message_get_bus(m));

        if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
                return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED, "Cannot identify the caller");
        if (cred.uid == 0 || (d->socket_gid != (gid_t) -1 && cred.gid == d->socket_gid))
                return 0;
        return sd_bus_error_setf(
                error, SD_BUS_ERROR_ACCESS_DENIED, "Changing ubcd needs root%s%s (caller uid %u)",
                d->socket_gid != (gid_t) -1 ? " or group " : "",
                d->socket_gid != (gid_t) -1 ? d->cfg.socket_group : "", (unsigned) cred.uid);
}

static struct guest *find_guest_or_error(struct daemon *d, uint32_t id, sd_bus_error *error) {
        struct guest *g = daemon_find_guest(d, id);

        if (!g)
                sd_bus_error_setf(error, UBC_BUS_ERROR_NO_SUCH_GUEST, "No guest %u is defined%s", id,
                                  id < UBC_ID_MIN || id > UBC_ID_MAX ? " (IDs are 100..999999999)" : "");
        return g;
}

static const char *guest_state(struct daemon *d, const struct guest *g, unsigned *ret_nprocs) {
        const struct guest_run *run = runtime_get(d, g->id);
        unsigned nprocs = 0;

        (void) cg_guest_nprocs(&d->root, g->id, &nprocs);
        *ret_nprocs = nprocs;
        if (g->apply_error < 0)
                return "error";
        /* A container or VM is running or not; a slice is whatever is put into it. */
        if (g->type != UBC_GUEST_SLICE)
                return run_state_name(run ? run->state : RUN_STOPPED);
        return nprocs > 0 ? "active" : "idle";
}

/* Memory held and its limit in bytes, from the last sweep; 0 and UINT64_MAX when not known. */
static void guest_memory(struct daemon *d, uint32_t id, uint64_t *ret_held, uint64_t *ret_limit) {
        const struct bc_table_entry *e = accounting_entry(&d->acct, id, NULL);
        const struct bc_row *row = e ? &e->rows[BC_PHYSPAGES] : NULL;

        *ret_held = row ? row->held * BC_PAGE_SIZE : 0;
        *ret_limit = row && row->limit != BC_UNLIMITED ? row->limit * BC_PAGE_SIZE : UINT64_MAX;
}

static int method_status(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        struct daemon *d = userdata;

        return sd_bus_reply_method_return(m, "sssuu", cg_mode_name(d->host.mode),
                                          agent_driver_name(d->driver), d->cfg.root, (uint32_t) d->n_guests,
                                          (uint32_t) d->n_errors);
}

static int method_reload(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        struct daemon *d = userdata;
        int r;

        r = check_mutating(d, m, error);
        if (r < 0)
                return r;
        log_info("Reloading on request");
        r = daemon_load(d);
        if (r < 0 && r != -EINVAL)
                return sd_bus_error_set_errnof(error, -r, "Reload failed: %s", strerror(-r));
        return sd_bus_reply_method_return(m, "uu", (uint32_t) d->n_guests, (uint32_t) d->n_errors);
}

static int method_errors(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        struct daemon *d = userdata;
        int r;

        r = sd_bus_message_new_method_return(m, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "s");
        for (size_t i = 0; r >= 0 && i < d->n_errors; i++)
                r = sd_bus_message_append(reply, "s", d->errors[i]);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_list(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        struct daemon *d = userdata;
        int r;

        r = sd_bus_message_new_method_return(m, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', UBC_BUS_LIST_ROW);
        for (size_t i = 0; r >= 0 && i < d->n_guests; i++) {
                const struct guest *g = &d->guests[i];
                const struct guest_run *run = runtime_get(d, g->id);
                bool up = run && run->state != RUN_STOPPED;
                char path[512] = "";
                unsigned nprocs;
                const char *state = guest_state(d, g, &nprocs);
                uint64_t held, limit;

                (void) cg_guest_path(&d->root, UBC_CTRL_MEMORY, g->id, path, sizeof(path));
                guest_memory(d, g->id, &held, &limit);
                r = sd_bus_message_append(reply, UBC_BUS_LIST_ROW, g->id, g->name,
                                          ubc_guest_type_name(g->type), g->class_name, state, path, nprocs,
                                          up ? (uint32_t) run->pid : 0, up ? run->started_usec : 0,
                                          history_guest_cpu(d->acct.history, g->id), held, limit);
        }
        for (size_t i = 0; r >= 0 && i < d->n_orphans; i++) {
                char path[512] = "";
                unsigned nprocs = 0;
                uint64_t held, limit;

                (void) cg_guest_path(&d->root, UBC_CTRL_MEMORY, d->orphans[i], path, sizeof(path));
                (void) cg_guest_nprocs(&d->root, d->orphans[i], &nprocs);
                guest_memory(d, d->orphans[i], &held, &limit);
                r = sd_bus_message_append(reply, UBC_BUS_LIST_ROW, d->orphans[i], "", "", "", "orphan", path,
                                          nprocs, (uint32_t) 0, (uint64_t) 0,
                                          history_guest_cpu(d->acct.history, d->orphans[i]), held, limit);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/* Why a key has no cgroup write: nothing to limit, or the host lacks the file. */
static const char *unmapped_note(const struct ubc_limits *eff, enum ubc_key k) {
        if (k == UBC_KEY_IO_LIMIT && eff->n_io_limits == 0)
                return "no device limited";
        return "not applied: not supported on this host";
}

/* Maps the guest's effective limits against its cgroup as it is now. */
static int guest_plan(struct daemon *d, const struct guest *g, struct ubc_limits *ret_eff) {
        struct cg_current cur;
        int r;

        r = guest_effective_limits(g, ret_eff);
        if (r < 0)
                return r;
        if (cg_read_current(&d->root, g->id, &cur) < 0)
                cg_current_init(&cur);
        r = policy_map(ret_eff, &d->host, &cur, d->plan);
        if (r < 0)
                limits_done(ret_eff);
        return r;
}

/* Show and Explain: the guest named by the call, its limits mapped, and a reply whose array
 * of 'contents' is open. */
static int guest_reply_begin(struct daemon *d, sd_bus_message *m, const char *contents, sd_bus_error *error,
                             struct guest **ret_guest, struct ubc_limits *ret_eff,
                             sd_bus_message **ret_reply) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        struct ubc_limits eff;
        struct guest *g;
        uint32_t id;
        int r;

        r = sd_bus_message_read(m, "u", &id);
        if (r < 0)
                return r;
        g = find_guest_or_error(d, id, error);
        if (!g)
                return -ENOENT;
        r = guest_plan(d, g, &eff);
        if (r < 0)
                return sd_bus_error_set_errnof(error, -r, "Cannot map guest %u: %s", id, strerror(-r));
        r = sd_bus_message_new_method_return(m, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', contents);
        if (r < 0) {
                limits_done(&eff);
                return r;
        }
        *ret_guest = g;
        *ret_eff = eff;
        *ret_reply = TAKE_PTR(reply);
        return 0;
}

static int method_show(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        struct daemon *d = userdata;
        struct ubc_limits eff;
        struct guest *g;
        int r;

        r = guest_reply_begin(d, m, "(ssssss)", error, &g, &eff, &reply);
        if (r < 0)
                return r;
        for (int k = 0; r >= 0 && k < _UBC_KEY_MAX; k++) {
                char desired[512] = "", origin[300];
                bool any = false;

                (void) policy_format_value(&eff, k, desired, sizeof(desired));
                guest_origin(g, &eff, k, origin, sizeof(origin));
                for (unsigned i = 0; r >= 0 && i < d->plan->n; i++) {
                        const struct cg_write *w = &d->plan->w[i];
                        char dir[512] = "", path[600], actual[512] = "";

                        if (w->key != k)
                                continue;
                        any = true;
                        (void) cg_guest_path(&d->root, w->ctrl, g->id, dir, sizeof(dir));
                        snprintf(path, sizeof(path), "%s/%s", dir, w->file);
                        if (cg_read_target(&d->root, g->id, w, actual, sizeof(actual)) < 0)
                                snprintf(actual, sizeof(actual), "(unreadable)");
                        r = sd_bus_message_append(reply, "(ssssss)", ubc_key_name(k), desired, origin, path,
                                                  actual, w->note);
                }
                if (r >= 0 && !any)
                        r = sd_bus_message_append(reply, "(ssssss)", ubc_key_name(k), desired, origin, "",
                                                  "", unmapped_note(&eff, k));
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        limits_done(&eff);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/* Entitled CPUs of every guest under full contention, from all guests' weights and caps. */
static double guest_entitlement(struct daemon *d, const struct guest *target) {
        _cleanup_free_ struct share_input *in = calloc(d->n_guests ? d->n_guests : 1, sizeof(*in));
        _cleanup_free_ double *out = calloc(d->n_guests ? d->n_guests : 1, sizeof(*out));
        size_t idx = 0;

        if (!in || !out)
                return -1;
        for (size_t i = 0; i < d->n_guests; i++) {
                struct ubc_limits eff;
                double cap = 0;

                if (guest_effective_limits(&d->guests[i], &eff) < 0)
                        return -1;
                if (eff.cpu_quota_us > 0)
                        cap = (double) eff.cpu_quota_us / UBC_CPU_PERIOD_US;
                if (!cpuset_is_empty(&eff.cpu_set)) {
                        double n = cpuset_count(&eff.cpu_set);
                        if (cap == 0 || n < cap)
                                cap = n;
                }
                in[i] = (struct share_input){.units = eff.cpu_units, .cap_cpus = cap};
                if (&d->guests[i] == target)
                        idx = i;
                limits_done(&eff);
        }
        if (share_entitled(in, d->n_guests, d->host.ncpus, out) < 0)
                return -1;
        return out[idx];
}

static int method_explain(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        struct daemon *d = userdata;
        struct ubc_limits eff;
        struct guest *g;
        int r;

        r = guest_reply_begin(d, m, "(ss)", error, &g, &eff, &reply);
        if (r < 0)
                return r;
        for (int k = 0; r >= 0 && k < _UBC_KEY_MAX; k++) {
                char desired[512] = "", origin[300], line[1024];
                bool any = false;

                (void) policy_format_value(&eff, k, desired, sizeof(desired));
                guest_origin(g, &eff, k, origin, sizeof(origin));
                for (unsigned i = 0; r >= 0 && i < d->plan->n; i++) {
                        const struct cg_write *w = &d->plan->w[i];

                        if (w->key != k)
                                continue;
                        any = true;
                        snprintf(line, sizeof(line), "%s (%s) -> %s %s = %s%s%s", desired, origin,
                                 ubc_ctrl_name(w->ctrl, d->host.ctrl[w->ctrl]), w->file, w->value,
                                 w->note[0] ? "; " : "", w->note);
                        r = sd_bus_message_append(reply, "(ss)", ubc_key_name(k), line);
                }
                if (r >= 0 && !any) {
                        snprintf(line, sizeof(line), "%s (%s) -> %s", desired, origin,
                                 unmapped_note(&eff, k));
                        r = sd_bus_message_append(reply, "(ss)", ubc_key_name(k), line);
                }
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_message_append(reply, "dd", guest_entitlement(d, g), (double) d->host.ncpus);
        limits_done(&eff);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

struct diag_text {
        char buf[1024];
};

static void diag_to_text(void *userdata, const struct ubc_diag *diag) {
        struct diag_text *t = userdata;
        size_t len = strlen(t->buf);

        snprintf(t->buf + len, sizeof(t->buf) - len, "%s%s%s%s", len ? "; " : "", diag->key ? diag->key : "",
                 diag->key ? ": " : "", diag->message);
}

static int method_set(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        struct daemon *d = userdata;
        struct diag_text text = {};
        struct ubc_diag_sink sink = {.report = diag_to_text, .userdata = &text};
        struct ubc_limits changes, old_runtime, new_runtime;
        struct policy_resolved check = {};
        struct policy_guest check_guest = {};
        struct guest *g;
        uint32_t id;
        int save, r;

        r = check_mutating(d, m, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "u", &id);
        if (r < 0)
                return r;
        g = find_guest_or_error(d, id, error);
        if (!g)
                return -ENOENT;

        limits_init_default(&changes);
        r = sd_bus_message_enter_container(m, 'a', "(ss)");
        if (r < 0)
                goto finish;
        for (;;) {
                const char *key, *value;

                r = sd_bus_message_read(m, "(ss)", &key, &value);
                if (r < 0)
                        goto finish;
                if (r == 0)
                        break;
                (void) policy_parse_setting(&changes, key, value, &sink);
        }
        r = sd_bus_message_exit_container(m);
        if (r >= 0)
                r = sd_bus_message_read(m, "b", &save);
        if (r < 0)
                goto finish;
        if (sink.n_errors > 0) {
                r = sd_bus_error_setf(error, UBC_BUS_ERROR_INVALID, "Guest %u: %s", id, text.buf);
                goto finish;
        }

        /* The live keys as they would be, checked against this host before the kernel sees
         * them; validation also resolves io.limit devices to their numbers. */
        r = limits_copy(&new_runtime, &g->runtime);
        if (r < 0)
                goto finish;
        r = limits_overlay(&new_runtime, &changes, UBC_SOURCE_RUNTIME);
        if (r < 0) {
                limits_done(&new_runtime);
                goto finish;
        }
        check_guest.id = id;
        check_guest.type = g->type;
        check.guest = &check_guest;
        check.guest_file = "ubcctl set";
        check.class_file = g->class_file;
        check.limits = new_runtime; /* shares new_runtime's io_limits, freed once below */
        if (policy_validate_host(&check, &d->host, &sink) < 0) {
                limits_done(&new_runtime);
                r = sd_bus_error_setf(error, UBC_BUS_ERROR_INVALID, "Guest %u: %s", id, text.buf);
                goto finish;
        }

        old_runtime = g->runtime;
        g->runtime = new_runtime;
        r = reconcile_guest(d, g);
        if (r < 0) {
                char why[sizeof(g->apply_message)];

                memcpy(why, g->apply_message, sizeof(why));
                limits_done(&g->runtime);
                g->runtime = old_runtime;
                (void) reconcile_guest(d, g);
                r = sd_bus_error_setf(error, UBC_BUS_ERROR_KERNEL, "Guest %u: %s", id, why);
                goto finish;
        }
        limits_done(&old_runtime);
        log_guest(LOG_INFO, id, "Guest %u: limits changed at runtime%s", id, save ? " and saved" : "");

        if (save) {
                r = guest_file_save(d, g, &changes);
                if (r < 0) {
                        r = sd_bus_error_setf(error, SD_BUS_ERROR_IO_ERROR,
                                              "Guest %u: applied, but saving '%s' failed: %s", id, g->file,
                                              strerror(-r));
                        goto finish;
                }
                /* The file holds them now: read it at once, so they come from it, not from
                 * the live changes (and no pass in between puts the old file values back). */
                g->runtime.set &= ~changes.set;
                (void) daemon_load(d);
        }
        r = sd_bus_reply_method_return(m, "");
finish:
        limits_done(&changes);
        return r;
}

static int method_attach(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        struct daemon *d = userdata;
        uint32_t id, pid;
        int r;

        r = check_mutating(d, m, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "uu", &id, &pid);
        if (r < 0)
                return r;
        if (!find_guest_or_error(d, id, error))
                return -ENOENT;
        if (pid == 0)
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "PID 0 is not a process");
        r = cg_guest_attach(&d->root, id, (pid_t) pid);
        if (r < 0)
                return sd_bus_error_set_errnof(error, -r, "Guest %u: cannot move PID %u into its cgroup: %s",
                                               id, pid, strerror(-r));
        log_guest(LOG_INFO, id, "Guest %u: PID %u moved into its cgroup", id, pid);
        return sd_bus_reply_method_return(m, "");
}

/* Start(u id) -> u pid: the container or VM runs once this returns. */
static int method_start(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        struct daemon *d = userdata;
        char err[512];
        uint32_t id;
        pid_t pid = 0;
        int r;

        r = check_mutating(d, m, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "u", &id);
        if (r < 0)
                return r;
        if (!find_guest_or_error(d, id, error))
                return -ENOENT;
        r = runtime_start(d, id, &pid, err, sizeof(err));
        if (r < 0)
                return sd_bus_error_set(error, r == -EALREADY ? UBC_BUS_ERROR_STATE : UBC_BUS_ERROR_LAUNCH,
                                        err);
        r = sd_bus_reply_method_return(m, "u", (uint32_t) pid);
        runtime_record_start(d, id);
        return r;
}

/* Stop(u id, b kill) -> u seconds: the stop sequence has begun and ends within that long. */
static int method_stop(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        struct daemon *d = userdata;
        char err[512];
        unsigned deadline = 0;
        uint32_t id;
        int kill, r;

        r = check_mutating(d, m, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "ub", &id, &kill);
        if (r < 0)
                return r;
        if (!find_guest_or_error(d, id, error) && !runtime_get(d, id))
                return -ENOENT;
        r = runtime_stop(d, id, kill, &deadline, err, sizeof(err));
        if (r < 0)
                return sd_bus_error_set(error,
                                        r == -EALREADY || r == -EINPROGRESS ? UBC_BUS_ERROR_STATE
                                                                            : UBC_BUS_ERROR_LAUNCH,
                                        err[0] ? err : strerror(-r));
        return sd_bus_reply_method_return(m, "u", (uint32_t) deadline);
}

/* Beancounters(u id, b failed_only): id 0 = every guest. failed_only lists the rows whose
 * failcnt rose since the last such look and marks them seen, as vzubc -i does. */
static int method_beancounters(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        struct daemon *d = userdata;
        uint32_t id;
        int failed_only, r;

        r = sd_bus_message_read(m, "ub", &id, &failed_only);
        if (r < 0)
                return r;
        if (failed_only && (r = check_mutating(d, m, error)) < 0)
                return r;
        if (id != 0 && !daemon_find_guest(d, id) && !accounting_entry(&d->acct, id, NULL))
                return sd_bus_error_setf(error, UBC_BUS_ERROR_NO_SUCH_GUEST, "No guest %u is defined", id);

        r = sd_bus_message_new_method_return(m, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(usttttt)");
        for (size_t i = 0; r >= 0 && i < d->acct.n_table; i++) {
                const struct bc_table_entry *e = &d->acct.table[i];
                struct bc_state *st = accounting_state(&d->acct, e->id);

                if (id != 0 && e->id != id)
                        continue;
                for (int k = 0; r >= 0 && k < _BC_MAX; k++) {
                        const struct bc_row *row = &e->rows[k];

                        if (failed_only) {
                                if (!st || st->failcnt[k] <= st->failcnt_seen[k])
                                        continue;
                                st->failcnt_seen[k] = st->failcnt[k];
                                d->acct.state_dirty = true;
                        }
                        r = sd_bus_message_append(reply, "(usttttt)", e->id, bc_resource_name(k), row->held,
                                                  row->maxheld, row->barrier, row->limit, row->failcnt);
                }
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        if (failed_only)
                (void) accounting_save_state(&d->acct);
        return sd_bus_send(NULL, reply, NULL);
}

static int append_stat(sd_bus_message *reply, uint32_t id, const char *name, double value) {
        return sd_bus_message_append(reply, "(usd)", id, name, value);
}

static int append_psi(sd_bus_message *reply, uint32_t id, const char *what, const struct stat_psi *p) {
        const struct {
                const char *kind;
                const struct stat_psi_line *line;
        } lines[] = {{"some", &p->some}, {"full", &p->full}};
        int r = 0;

        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(lines); i++) {
                char name[64];

                if (i == 1 && !p->has_full)
                        break;
                snprintf(name, sizeof(name), "psi.%s.%s.avg10", what, lines[i].kind);
                r = append_stat(reply, id, name, lines[i].line->avg10);
                snprintf(name, sizeof(name), "psi.%s.%s.avg60", what, lines[i].kind);
                if (r >= 0)
                        r = append_stat(reply, id, name, lines[i].line->avg60);
                snprintf(name, sizeof(name), "psi.%s.%s.avg300", what, lines[i].kind);
                if (r >= 0)
                        r = append_stat(reply, id, name, lines[i].line->avg300);
        }
        return r;
}

/* Stat(u id) -> a(usd): guest, metric, value; flat names ("cpu.usage_usec",
 * "io.254:0.rbytes", "psi.memory.some.avg10") so new metrics need no new signature. */
static int method_stat(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        struct daemon *d = userdata;
        uint32_t id;
        int r;

        r = sd_bus_message_read(m, "u", &id);
        if (r < 0)
                return r;
        if (id != 0 && !accounting_entry(&d->acct, id, NULL))
                return sd_bus_error_setf(error, UBC_BUS_ERROR_NO_SUCH_GUEST,
                                         "No statistics for guest %u: it is not defined or not sampled yet",
                                         id);

        r = sd_bus_message_new_method_return(m, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(usd)");
        for (size_t i = 0; r >= 0 && i < d->acct.n_table; i++) {
                const struct guest_stat *st = &d->acct.stats[i];
                uint32_t gid = d->acct.table[i].id;

                if (id != 0 && gid != id)
                        continue;
                /* Unknown is left out rather than shown as 0 CPU used. */
                if (st->has_cpu_usage)
                        r = append_stat(reply, gid, "cpu.usage_usec", (double) st->cpu_usage_usec);
                if (r >= 0)
                        r = append_stat(reply, gid, "cpu.nr_periods", (double) st->cpu_nr_periods);
                if (r >= 0)
                        r = append_stat(reply, gid, "cpu.nr_throttled", (double) st->cpu_nr_throttled);
                if (r >= 0)
                        r = append_stat(reply, gid, "cpu.throttled_usec", (double) st->cpu_throttled_usec);
                for (size_t k = 0; r >= 0 && k < st->n_io; k++) {
                        const struct stat_io_dev *io = &st->io[k];
                        const struct {
                                const char *name;
                                uint64_t v;
                        } f[] = {{"rbytes", io->rbytes},
                                 {"wbytes", io->wbytes},
                                 {"rios", io->rios},
                                 {"wios", io->wios}};

                        for (size_t j = 0; r >= 0 && j < ELEMENTSOF(f); j++) {
                                char name[64];

                                snprintf(name, sizeof(name), "io.%u:%u.%s", io->major, io->minor, f[j].name);
                                r = append_stat(reply, gid, name, (double) f[j].v);
                        }
                }
                if (r >= 0 && st->has_psi) {
                        r = append_psi(reply, gid, "cpu", &st->psi_cpu);
                        if (r >= 0)
                                r = append_psi(reply, gid, "memory", &st->psi_memory);
                        if (r >= 0)
                                r = append_psi(reply, gid, "io", &st->psi_io);
                }
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_metrics(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        struct daemon *d = userdata;
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        int r;

        if (!f)
                return -ENOMEM;
        r = bc_format_openmetrics(f, d->acct.table, d->acct.n_table);
        if (fclose(f) != 0 && r >= 0)
                r = -ENOMEM;
        if (r < 0)
                return sd_bus_error_set_errnof(error, -r, "Cannot format the metrics: %s", strerror(-r));
        return sd_bus_reply_method_return(m, "s", buf);
}

/* Unprivileged like the reads it serves: once written, a file holds nothing back until its
 * next step, so asking again costs a walk over the guests and no file write. */
static int method_write_history(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        struct daemon *d = userdata;
        const void *ids = NULL;
        size_t size = 0;
        int r;

        r = sd_bus_message_read_array(m, 'u', &ids, &size);
        if (r < 0)
                return r;
        r = history_write_held(d->acct.history, ids, size / sizeof(uint32_t));
        return sd_bus_reply_method_return(m, "u", (uint32_t) r);
}

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("Status", "", "sssuu", method_status, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Reload", "", "uu", method_reload, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Errors", "", "as", method_errors, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("ListGuests", "", "a" UBC_BUS_LIST_ROW, method_list, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Start", "u", "u", method_start, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Stop", "ub", "u", method_stop, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Show", "u", "a(ssssss)", method_show, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Explain", "u", "a(ss)dd", method_explain, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Set", "ua(ss)b", "", method_set, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Attach", "uu", "", method_attach, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Beancounters", "ub", "a(usttttt)", method_beancounters, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Stat", "u", "a(usd)", method_stat, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Metrics", "", "s", method_metrics, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("WriteHistory", "au", "u", method_write_history, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

static int on_close(sd_event_source *s, void *userdata) {
        conn_free(userdata);
        return 0;
}

/* The bus is still dispatching this signal: free it from the loop, not from here. */
static int on_disconnect(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        struct control_conn *c = userdata;

        if (!c->close_source && sd_event_add_defer(c->d->event, &c->close_source, on_close, c) < 0)
                log_warning("Failed to schedule closing a control connection, ignoring");
        return 0;
}

static int on_connection(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct daemon *d = userdata;
        _cleanup_close_ int nfd = -EBADF;
        struct control_conn *c;
        sd_id128_t id;
        int r;

        nfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (nfd < 0) {
                if (errno != EAGAIN && errno != EINTR)
                        log_warning_errno(errno, "Failed to accept a control connection, ignoring: %m");
                return 0;
        }
        if (d->n_conns >= CONNECTIONS_MAX) {
                log_warning("Too many control connections, refusing one");
                return 0;
        }

        c = calloc(1, sizeof(*c));
        if (!c)
                return 0;
        c->d = d;
        if ((r = sd_id128_randomize(&id)) < 0 || (r = sd_bus_new(&c->bus)) < 0 ||
            (r = sd_bus_set_fd(c->bus, nfd, nfd)) < 0)
                goto fail;
        TAKE_FD(nfd);
        if ((r = sd_bus_set_server(c->bus, 1, id)) < 0 ||
            (r = sd_bus_add_object_vtable(c->bus, NULL, UBC_BUS_PATH, UBC_BUS_INTERFACE, manager_vtable,
                                          d)) < 0 ||
            (r = sd_bus_match_signal(c->bus, NULL, NULL, "/org/freedesktop/DBus/Local",
                                     "org.freedesktop.DBus.Local", "Disconnected", on_disconnect, c)) < 0 ||
            (r = sd_bus_attach_event(c->bus, d->event, SD_EVENT_PRIORITY_NORMAL)) < 0 ||
            (r = sd_bus_start(c->bus)) < 0)
                goto fail;

        c->next = d->conns;
        d->conns = c;
        d->n_conns++;
        return 0;
fail:
        log_warning_errno(r, "Failed to set up a control connection, ignoring: %m");
        sd_bus_flush_close_unref(c->bus);
        free(c);
        return 0;
}

/* A live ubcd answering on the socket must not be displaced by a second one. */
static bool socket_is_live(const struct sockaddr_un *sa) {
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        return fd >= 0 && connect(fd, (const struct sockaddr *) sa, sizeof(*sa)) == 0;
}

int control_listen(struct daemon *d) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        _cleanup_close_ int fd = -EBADF;
        int r;

        r = snprintf(d->socket_path, sizeof(d->socket_path), "%s/%s", d->cfg.run_dir, UBC_SOCKET_NAME);
        if (r < 0 || (size_t) r >= sizeof(sa.sun_path))
                return log_error_errno(-ENAMETOOLONG, "Socket path '%s/%s' is too long", d->cfg.run_dir,
                                       UBC_SOCKET_NAME);
        memcpy(sa.sun_path, d->socket_path, strlen(d->socket_path) + 1);

        if (socket_is_live(&sa))
                return log_error_errno(-EADDRINUSE, "Another ubcd already answers on '%s'", d->socket_path);
        (void) unlink(d->socket_path);

        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return log_error_errno(errno, "Failed to create the control socket: %m");
        if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return log_error_errno(errno, "Failed to bind '%s': %m", d->socket_path);
        if (chmod(d->socket_path, 0660) < 0)
                return log_error_errno(errno, "Failed to set the mode of '%s': %m", d->socket_path);
        if (d->socket_gid != (gid_t) -1 && chown(d->socket_path, 0, d->socket_gid) < 0)
                return log_error_errno(errno, "Failed to give '%s' to group '%s': %m", d->socket_path,
                                       d->cfg.socket_group);
        if (listen(fd, 64) < 0)
                return log_error_errno(errno, "Failed to listen on '%s': %m", d->socket_path);

        r = sd_event_add_io(d->event, &d->listen_source, fd, EPOLLIN, on_connection, d);
        if (r < 0)
                return log_error_errno(r, "Failed to watch the control socket: %m");
        d->listen_fd = TAKE_FD(fd);
        return 0;
}

void control_close(struct daemon *d) {
        while (d->conns)
                conn_free(d->conns);
        d->listen_source = sd_event_source_disable_unref(d->listen_source);
        if (d->listen_fd >= 0) {
                close(d->listen_fd);
                d->listen_fd = -EBADF;
                (void) unlink(d->socket_path);
        }
}
