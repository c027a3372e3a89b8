/* Reconcile: make each guest's cgroup hold what its policy says, one guest at a time, and
 * remove the cgroups of guests whose files are gone once they are empty. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ubc/macro.h"
#include "daemon.h"
#include "log.h"

/* Records a failure and logs it only when it differs from the last one, so a periodic
 * retry does not flood the log with the same refusal. */
static void guest_set_error(struct daemon *d, struct guest *g, int error, const char *message) {
        if (error < 0)
                d->retry_pending = true;
        if (g->apply_error == error && streq(g->apply_message, message))
                return;
        g->apply_error = error;
        snprintf(g->apply_message, sizeof(g->apply_message), "%s", message);
        if (error < 0)
                log_guest_errno(LOG_ERR, error, g->id, "Guest %u: %s", g->id, message);
        else if (message[0] == '\0')
                log_guest(LOG_INFO, g->id, "Guest %u: limits applied again", g->id);
}

int reconcile_guest(struct daemon *d, struct guest *g) {
        struct ubc_limits eff;
        struct cg_current cur;
        struct cg_apply_result res = {.failed = -1};
        bool fresh = false;
        char msg[320];
        int r;

        r = guest_effective_limits(g, &eff);
        if (r < 0)
                return log_error_errno(r, "Guest %u: out of memory", g->id);

        if (!cg_guest_exists(&d->root, g->id)) {
                drift_unwatch(&d->drift, g->id); /* a watch would stay on the removed directory */
                /* Mapped before creating: a new cgroup holds the kernel's defaults, and a v1
                 * cpuset takes its CPUs from the plan as it is made. */
                cg_current_init(&cur);
                r = policy_map(&eff, &d->host, &cur, d->plan);
                if (r >= 0)
                        r = cg_guest_create_for(&d->root, &d->host, g->id, d->plan);
                if (r < 0) {
                        snprintf(msg, sizeof(msg), "failed to create its cgroup: %s", strerror(-r));
                        guest_set_error(d, g, r, msg);
                        goto finish;
                }
                fresh = r > 0;
                log_guest(LOG_INFO, g->id, "Guest %u: created its cgroup", g->id);
        }

        if (!fresh) {
                if (cg_read_current(&d->root, g->id, &cur) < 0)
                        cg_current_init(&cur);
                r = policy_map(&eff, &d->host, &cur, d->plan);
                if (r < 0) {
                        snprintf(msg, sizeof(msg), "cannot map its limits to cgroup files: %s",
                                 strerror(-r));
                        guest_set_error(d, g, r, msg);
                        goto finish;
                }
        }

        r = fresh ? cg_apply_new(&d->root, g->id, d->plan, &res) : cg_apply(&d->root, g->id, d->plan, &res);
        /* The sampler reads limits only every few sweeps: the next one shows what was written
         * (or restored) now. */
        if (res.n_written > 0 || r < 0)
                sampler_refresh(d->acct.sampler, g->id);
        if (!fresh && (res.n_written > 0 || r < 0))
                drift_own_writes(d, g->id);
        if (r < 0 && fresh) {
                /* Nothing runs in it yet: rather no cgroup than one with half a policy. The next
                 * pass makes it again. */
                (void) cg_guest_remove(&d->root, g->id);
                res.restored = true;
        } else
                drift_watch(&d->drift, &d->root, g->id); /* after a new cgroup's first values */
        if (r < 0) {
                if (res.failed >= 0 && (unsigned) res.failed < d->plan->n) {
                        const struct cg_write *w = &d->plan->w[res.failed];
                        char origin[300] = "plumbing";

                        if (w->key >= 0)
                                guest_origin(g, &eff, w->key, origin, sizeof(origin));
                        snprintf(msg, sizeof(msg), "kernel refused %s (%s) as %s = '%s': %s; %s",
                                 w->key >= 0 ? ubc_key_name(w->key) : "setup", origin, w->file, w->value,
                                 strerror(-r),
                                 !res.restored ? "some values could not be restored"
                                 : fresh       ? "its new cgroup was removed again"
                                               : "restored its previous values");
                } else
                        snprintf(msg, sizeof(msg), "failed to apply its limits: %s", strerror(-r));
                guest_set_error(d, g, r, msg);
                goto finish;
        }

        if (res.n_written > 0)
                log_guest(LOG_INFO, g->id, "Guest %u: %u cgroup value%s applied", g->id, res.n_written,
                          res.n_written == 1 ? "" : "s");
        guest_set_error(d, g, 0, "");
        r = 0;
finish:
        limits_done(&eff);
        return r;
}

static bool orphan_known(const struct daemon *d, uint32_t id) {
        for (size_t i = 0; i < d->n_orphans; i++)
                if (d->orphans[i] == id)
                        return true;
        return false;
}

/* Cgroups under the owned root with no guest file: remove when empty, else keep and say why. */
static void reconcile_stale(struct daemon *d) {
        _cleanup_free_ uint32_t *ids = NULL;
        size_t n = 0, n_orphans = 0;
        uint32_t *orphans;
        int r;

        r = cg_guest_list(&d->root, &ids, &n);
        if (r < 0) {
                log_warning_errno(r, "Failed to list guest cgroups, ignoring: %m");
                return;
        }

        orphans = calloc(n ? n : 1, sizeof(*orphans));
        if (!orphans) {
                log_error("Out of memory while checking stale cgroups, ignoring");
                return;
        }

        for (size_t i = 0; i < n; i++) {
                unsigned nprocs = 0;

                if (daemon_find_guest(d, ids[i]))
                        continue;

                drift_unwatch(&d->drift, ids[i]);
                r = cg_guest_remove(&d->root, ids[i]);
                if (r == 0) {
                        log_guest(LOG_INFO, ids[i], "Guest %u: its file is gone, removed its cgroup",
                                  ids[i]);
                        continue;
                }
                if (r != -EBUSY) {
                        log_guest_errno(LOG_WARNING, r, ids[i],
                                        "Guest %u: failed to remove its cgroup, ignoring: %m", ids[i]);
                        continue;
                }
                (void) cg_guest_nprocs(&d->root, ids[i], &nprocs);
                if (!orphan_known(d, ids[i]))
                        log_guest(LOG_WARNING, ids[i],
                                  "Guest %u: its file is gone but %u process%s still run in its cgroup; "
                                  "keeping the cgroup until they exit",
                                  ids[i], nprocs, nprocs == 1 ? "" : "es");
                orphans[n_orphans++] = ids[i];
        }

        free(d->orphans);
        d->orphans = orphans;
        d->n_orphans = n_orphans;
}

void reconcile_all(struct daemon *d) {
        d->retry_pending = false; /* set again by every guest refused now */
        d->ticks_since_read_back = 0;
        drift_full_pass(&d->drift);
        for (size_t i = 0; i < d->n_guests; i++)
                (void) reconcile_guest(d, &d->guests[i]);
        reconcile_stale(d);
}

void reconcile_failed(struct daemon *d) {
        if (d->retry_pending) {
                d->retry_pending = false;
                for (size_t i = 0; i < d->n_guests; i++)
                        if (d->guests[i].apply_error < 0)
                                (void) reconcile_guest(d, &d->guests[i]);
        }
        /* Listing every guest's directory finds new orphans; only loads and the full pass make
         * them, so in between only the known ones need a look. */
        if (d->n_orphans > 0)
                reconcile_stale(d);
}
