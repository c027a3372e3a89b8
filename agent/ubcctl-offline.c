/* ubcctl's commands that need no ubcd: `check` validates a configuration folder against this
 * host, `apply --dry-run` prints the cgroup writes ubcd would make. Neither writes anything. */
#include <errno.h>
#include <inttypes.h>
#include <libcgroup.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ubc/agent-config.h"
#include "ubc/cgroup.h"
#include "ubc/json.h"
#include "ubc/macro.h"
#include "ubc/plan.h"
#include "ubc/policy.h"
#include "ubcctl-cgread.h"
#include "launcher.h"
#include "ubcctl.h"

/* Problems kept for --json; beyond this many only the count grows. */
#define PROBLEMS_MAX 10000

struct problem {
        char *file, *key, *message;
        unsigned line;
};

struct problems {
        bool collect; /* keep them for JSON instead of printing */
        struct problem *items;
        size_t n, allocated;
};

static void problems_done(struct problems *p) {
        for (size_t i = 0; i < p->n; i++) {
                free(p->items[i].file);
                free(p->items[i].key);
                free(p->items[i].message);
        }
        free(p->items);
        *p = (struct problems){};
}

static void problem_report(void *userdata, const struct ubc_diag *d) {
        struct problems *p = userdata;
        struct problem *it;

        if (!p->collect) {
                ubcctl_print_diag(NULL, d);
                return;
        }
        if (p->n >= PROBLEMS_MAX)
                return;
        if (p->n == p->allocated) {
                size_t k = p->allocated ? p->allocated * 2 : 16;
                struct problem *items = reallocarray(p->items, k, sizeof(*items));

                if (!items) {
                        /* Cannot keep it: still say it, the count stays right. */
                        ubcctl_print_diag(NULL, d);
                        return;
                }
                p->items = items;
                p->allocated = k;
        }
        it = &p->items[p->n];
        *it = (struct problem){
                .file = d->file ? strdup(d->file) : NULL,
                .key = d->key && d->key[0] ? strdup(d->key) : NULL,
                .message = strdup(d->message),
                .line = d->line,
        };
        p->n++;
}

static void libcgroup_log(void *userdata, int level, const char *fmt, va_list ap) {
        /* libcgroup logs to stdout by default, which would break --json and the dry-run script. */
        vfprintf(stderr, fmt, ap);
}

/* Everything `check` looks at, kept for `apply --dry-run`. */
struct checked {
        struct agent_config cfg;
        struct policy policy;
        struct policy_resolved *guests;
        size_t n_guests;
        bool *guest_ok;        /* passed validation against this host */
        struct ubc_host *host; /* NULL if discovery failed */
        unsigned n_classes;
};

static void checked_done(struct checked *c) {
        policy_resolved_free(c->guests, c->n_guests);
        policy_done(&c->policy);
        free(c->guest_ok);
        free(c->host);
        *c = (struct checked){};
}

/* Loads and validates DIR the way ubcd would; problems go to the sink. An exit status for
 * what stops it entirely (out of memory), else 0 with sink->n_errors telling. */
static int check_dir(const char *dir, const char *root, struct checked *c, struct ubc_diag_sink *sink) {
        unsigned before;
        int r;

        *c = (struct checked){};
        agent_config_init(&c->cfg);
        if (strlen(dir) >= sizeof(c->cfg.config_dir))
                return ubcctl_usage_error("Configuration folder '%s' is too long", dir);
        snprintf(c->cfg.config_dir, sizeof(c->cfg.config_dir), "%s", dir);
        /* Reported through the sink; the defaults stand in for a broken file. */
        (void) agent_config_load(&c->cfg, sink);
        if (root) {
                if (strlen(root) >= sizeof(c->cfg.root))
                        return ubcctl_usage_error("Root '%s' is too long", root);
                snprintf(c->cfg.root, sizeof(c->cfg.root), "%s", root);
        }

        before = sink->n_errors;
        r = policy_load_dir(dir, &c->policy, sink);
        if (r == -ENOMEM)
                goto oom;
        if (r < 0 && sink->n_errors == before)
                diag_error(sink, dir, 0, NULL, "cannot load the policies: %s", strerror(-r));
        for (size_t i = 0; i < c->policy.n_class_files; i++)
                c->n_classes += (unsigned) c->policy.class_files[i].n_classes;

        r = policy_resolve(&c->policy, &c->guests, &c->n_guests, sink);
        if (r == -ENOMEM)
                goto oom;
        if (r < 0) {
                c->guests = NULL;
                c->n_guests = 0;
        }

        c->guest_ok = calloc(c->n_guests ? c->n_guests : 1, sizeof(bool));
        c->host = calloc(1, sizeof(*c->host));
        if (!c->guest_ok || !c->host)
                goto oom;

        /* A VM's settings: its files, qemu, and its RAM against the guest's memory limit. */
        for (size_t i = 0; i < c->n_guests; i++)
                if (c->guests[i].guest->type == UBC_GUEST_VM) {
                        struct launch_guest lg = {
                                .id = c->guests[i].guest->id,
                                .file = c->guests[i].guest_file,
                                .settings = c->guests[i].guest->settings,
                                .n_settings = c->guests[i].guest->n_settings,
                                .mem_limit = c->guests[i].limits.mem_limit,
                                .state_dir = c->cfg.state_dir,
                                .run_dir = c->cfg.run_dir,
                        };
                        (void) qemu_launch_validate(&lg, sink);
                }

        cgroup_set_logger(libcgroup_log, CGROUP_LOG_ERROR, NULL);
        r = cg_host_discover(c->cfg.root, c->host);
        if (r < 0) {
                diag_error(sink, NULL, 0, NULL, "Cannot discover this host's cgroups for root '%s': %s",
                           c->cfg.root, strerror(-r));
                free(c->host);
                c->host = NULL;
                return 0;
        }
        for (size_t i = 0; i < c->n_guests; i++)
                c->guest_ok[i] = policy_validate_host(&c->guests[i], c->host, sink) >= 0;
        return 0;

oom:
        fprintf(stderr, "Out of memory\n");
        return UBCCTL_EXIT_FAILED;
}

static void print_summary(const struct checked *c, unsigned n_errors) {
        if (n_errors == 0)
                printf("%zu guests, %u classes: OK\n", c->policy.n_guest_files, c->n_classes);
        else
                fprintf(stderr, "%u errors\n", n_errors);
}

int ubcctl_check(struct ubcctl *ctl) {
        const char *dir = ctl->n_args > 0 ? ctl->args[0] : ctl->config_dir;
        struct problems problems = {.collect = ctl->json};
        struct ubc_diag_sink sink = {.report = problem_report, .userdata = &problems};
        struct checked c;
        int r;

        r = check_dir(dir, ctl->root, &c, &sink);
        if (r != 0) {
                problems_done(&problems);
                checked_done(&c);
                return r;
        }

        if (ctl->json) {
                struct json j;

                json_begin(&j, stdout);
                json_object_open(&j, NULL);
                json_bool(&j, "ok", sink.n_errors == 0);
                json_array_open(&j, "errors");
                for (size_t i = 0; i < problems.n; i++) {
                        const struct problem *p = &problems.items[i];

                        json_object_open(&j, NULL);
                        json_string(&j, "file", p->file);
                        if (p->line > 0)
                                json_uint(&j, "line", p->line);
                        else
                                json_string(&j, "line", NULL);
                        json_string(&j, "key", p->key);
                        json_string(&j, "message", p->message ? p->message : "");
                        json_object_close(&j);
                }
                json_array_close(&j);
                json_uint(&j, "guests", c.policy.n_guest_files);
                json_uint(&j, "classes", c.n_classes);
                json_object_close(&j);
                json_end(&j);
        } else
                print_summary(&c, sink.n_errors);

        r = sink.n_errors > 0 ? UBCCTL_EXIT_FAILED : UBCCTL_EXIT_OK;
        problems_done(&problems);
        checked_done(&c);
        return r;
}

/* A value in single quotes for sh: ' becomes '\''. */
static void print_quoted(FILE *f, const char *s) {
        fputc('\'', f);
        for (; *s; s++)
                if (*s == '\'')
                        fputs("'\\''", f);
                else
                        fputc(*s, f);
        fputc('\'', f);
}

/* A path as sh reads it: bare when it holds only harmless characters. */
static void print_path(FILE *f, const char *s) {
        if (s[strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._,:+@%-")] == '\0')
                fputs(s, f);
        else
                print_quoted(f, s);
}

struct dry_run {
        const struct ubcctl *ctl;
        struct checked *checked;
        struct cg_root root;
        struct cg_plan *plan; /* large: on the heap */
        struct json j;
};

/* id 0: the owned root, no guest's */
static void json_guest(struct json *j, uint32_t id) {
        if (id == 0)
                json_string(j, "guest", NULL);
        else
                json_uint(j, "guest", id);
}

static void emit_mkdir(struct dry_run *d, uint32_t id, const char *path) {
        if (d->ctl->json) {
                json_object_open(&d->j, NULL);
                json_guest(&d->j, id);
                json_string(&d->j, "action", "mkdir");
                json_string(&d->j, "path", path);
                json_string(&d->j, "value", NULL);
                json_string(&d->j, "key", NULL);
                json_string(&d->j, "note", NULL);
                json_object_close(&d->j);
                return;
        }
        fputs("mkdir ", stdout);
        print_path(stdout, path);
        fputc('\n', stdout);
}

static void emit_write(struct dry_run *d, uint32_t id, const char *path, const struct cg_write *w) {
        const char *key = w->key >= 0 ? ubc_key_name((enum ubc_key) w->key) : NULL;

        if (d->ctl->json) {
                json_object_open(&d->j, NULL);
                json_guest(&d->j, id);
                json_string(&d->j, "action", "write");
                json_string(&d->j, "path", path);
                json_string(&d->j, "value", w->value);
                json_string(&d->j, "key", key);
                json_string(&d->j, "note", w->note[0] ? w->note : NULL);
                json_object_close(&d->j);
                return;
        }
        fputs("echo ", stdout);
        print_quoted(stdout, w->value);
        fputs(" > ", stdout);
        print_path(stdout, path);
        if (w->note[0])
                printf("  # %s", w->note);
        fputc('\n', stdout);
}

/* A small control file by absolute path, for directories the read-only root has no fd for. */
static int read_small_file(const char *dir, const char *file, char *buf, size_t size) {
        _cleanup_fclose_ FILE *f = NULL;
        char path[600];
        size_t n;

        if (snprintf(path, sizeof(path), "%s/%s", dir, file) >= (int) sizeof(path))
                return -ENAMETOOLONG;
        f = fopen(path, "re");
        if (!f)
                return negative_errno();
        n = fread(buf, 1, size - 1, f);
        if (ferror(f))
                return -EIO;
        buf[n] = '\0';
        return 0;
}

static bool word_in_list(const char *list, const char *word) {
        size_t n = strlen(word);

        for (const char *p = list; *p;) {
                size_t k;

                p += strspn(p, " \n");
                k = strcspn(p, " \n");
                if (k == n && strncmp(p, word, n) == 0)
                        return true;
                p += k;
        }
        return false;
}

static void emit_root_write(struct dry_run *d, const char *dir, const char *file, const char *value) {
        struct cg_write w = {.key = -1, .dev_major = -1, .dev_minor = -1};
        char path[600];

        snprintf(w.file, sizeof(w.file), "%s", file);
        snprintf(w.value, sizeof(w.value), "%s", value);
        snprintf(path, sizeof(path), "%s/%s", dir, file);
        emit_write(d, 0, path, &w);
}

/* v2: the controllers of 'ctrls' that 'dir' does not hand down yet, as one "+a +b" write. */
static void emit_enable_below(struct dry_run *d, const char *dir, bool exists, unsigned ctrls) {
        char avail[1024] = "", enabled[1024] = "", value[128] = "";

        if (exists && (read_small_file(dir, "cgroup.controllers", avail, sizeof(avail)) < 0 ||
                       read_small_file(dir, "cgroup.subtree_control", enabled, sizeof(enabled)) < 0))
                return;
        for (enum ubc_ctrl c = 0; c < _UBC_CTRL_MAX; c++) {
                const char *name = ubc_ctrl_name(c, CG_VERSION_V2);
                size_t len = strlen(value);

                if (!(ctrls & (1u << c)) || !name)
                        continue;
                /* ubcd skips what the parent lacks; a new directory has what its parent hands down */
                if (exists && (!word_in_list(avail, name) || word_in_list(enabled, name)))
                        continue;
                snprintf(value + len, sizeof(value) - len, "%s+%s", len ? " " : "", name);
        }
        if (value[0])
                emit_root_write(d, dir, "cgroup.subtree_control", value);
}

/* The owned root where it does not exist yet, as cg_root_open() would make it: each missing
 * component, v2 controllers handed down to it, v1 cpusets filled before guests can use them. */
static void dry_run_root(struct dry_run *d) {
        const char *root = d->checked->cfg.root;
        const struct ubc_host *host = d->checked->host;
        bool header = false;

        for (enum ubc_ctrl c = 0; c < _UBC_CTRL_MAX; c++) {
                const char *top = d->root.path[c];
                size_t top_len;
                unsigned ctrls = 0;
                char dir[512];

                if (!cgread_first_of_hierarchy(&d->root, c) || cgread_root_exists(&d->root, c))
                        continue;
                for (enum ubc_ctrl k = c; k < _UBC_CTRL_MAX; k++)
                        if (streq(d->root.path[k], d->root.path[c]))
                                ctrls |= 1u << k;

                if (!header && !d->ctl->json) {
                        printf("# owned root '%s': new\n", root);
                        header = true;
                }

                top_len = strlen(top) - strlen(root) - 1; /* path[c] is "<mount>/<root>" */
                snprintf(dir, sizeof(dir), "%.*s", (int) top_len, top);
                for (const char *p = root; *p;) {
                        size_t n = strcspn(p, "/");
                        size_t len = strlen(dir);
                        bool last = p[n] == '\0';
                        struct stat st;
                        bool exists;

                        if (d->root.version[c] == CG_VERSION_V2)
                                emit_enable_below(d, dir, stat(dir, &st) == 0, ctrls);
                        snprintf(dir + len, sizeof(dir) - len, "/%.*s", (int) n, p);
                        exists = stat(dir, &st) == 0;
                        if (!exists)
                                emit_mkdir(d, 0, dir);
                        if (d->root.version[c] == CG_VERSION_V2 && last)
                                emit_enable_below(d, dir, exists, ctrls);
                        if (!exists && d->root.version[c] == CG_VERSION_V1 &&
                            (ctrls & (1u << UBC_CTRL_CPUSET)) && host->root_cpus[0] && host->root_mems[0]) {
                                emit_root_write(d, dir, "cpuset.mems", host->root_mems);
                                emit_root_write(d, dir, "cpuset.cpus", host->root_cpus);
                        }
                        p += n + (last ? 0 : 1);
                }
        }
}

/* Prints what applying one guest would change; an exit status. */
static int dry_run_guest(struct dry_run *d, const struct policy_resolved *g) {
        uint32_t id = g->guest->id;
        struct cg_current cur;
        bool exists = true;
        unsigned n_changes = 0;
        int r;

        for (enum ubc_ctrl c = 0; c < _UBC_CTRL_MAX; c++)
                if (cgread_first_of_hierarchy(&d->root, c) && !cgread_guest_dir_exists(&d->root, c, id))
                        exists = false;

        cg_current_init(&cur);
        if (exists) {
                r = cg_read_current(&d->root, id, &cur);
                if (r < 0) {
                        fprintf(stderr, "Cannot read the cgroup of guest %" PRIu32 ": %s\n", id,
                                strerror(-r));
                        return UBCCTL_EXIT_FAILED;
                }
        }

        r = policy_map(&g->limits, d->checked->host, &cur, d->plan);
        if (r < 0) {
                fprintf(stderr, "Cannot map the limits of guest %" PRIu32 ": %s\n", id, strerror(-r));
                return UBCCTL_EXIT_FAILED;
        }

        /* Which writes differ from the kernel's values: the header line counts them. */
        bool differs[UBC_PLAN_MAX];
        for (unsigned i = 0; i < d->plan->n; i++) {
                char actual[4096];

                differs[i] = !exists ||
                             cg_read_target(&d->root, id, &d->plan->w[i], actual, sizeof(actual)) < 0 ||
                             !cg_target_matches(&d->root, &d->plan->w[i], actual);
                n_changes += differs[i];
        }

        if (!d->ctl->json) {
                printf("# guest %" PRIu32 "%s%s%s: ", id, g->guest->name[0] ? " (" : "", g->guest->name,
                       g->guest->name[0] ? ")" : "");
                if (!exists)
                        printf("new cgroup, %u write%s\n", n_changes, n_changes == 1 ? "" : "s");
                else if (n_changes == 0)
                        printf("up to date\n");
                else
                        printf("%u change%s\n", n_changes, n_changes == 1 ? "" : "s");
        }

        for (enum ubc_ctrl c = 0; c < _UBC_CTRL_MAX; c++) {
                char path[512];

                if (!cgread_first_of_hierarchy(&d->root, c) || cgread_guest_dir_exists(&d->root, c, id))
                        continue;
                if (cgread_guest_path(&d->root, c, id, path, sizeof(path)) < 0)
                        continue;
                emit_mkdir(d, id, path);
        }

        for (unsigned i = 0; i < d->plan->n; i++) {
                const struct cg_write *w = &d->plan->w[i];
                char dir[512], path[600];

                if (!differs[i])
                        continue;
                r = cgread_guest_path(&d->root, w->ctrl, id, dir, sizeof(dir));
                if (r < 0) {
                        fprintf(stderr, "Guest %" PRIu32 ": no hierarchy for '%s': %s\n", id, w->file,
                                strerror(-r));
                        return UBCCTL_EXIT_FAILED;
                }
                snprintf(path, sizeof(path), "%s/%s", dir, w->file);
                emit_write(d, id, path, w);
        }
        return UBCCTL_EXIT_OK;
}

static const struct policy_resolved *find_resolved(const struct checked *c, uint32_t id, size_t *ret_index) {
        for (size_t i = 0; i < c->n_guests; i++)
                if (c->guests[i].guest->id == id) {
                        *ret_index = i;
                        return &c->guests[i];
                }
        return NULL;
}

int ubcctl_apply_dry_run(struct ubcctl *ctl) {
        _cleanup_free_ uint32_t *ids = NULL;
        struct problems problems = {};
        struct ubc_diag_sink sink = {.report = problem_report, .userdata = &problems};
        struct dry_run d = {.ctl = ctl};
        struct checked c;
        int r, ret = UBCCTL_EXIT_OK;

        /* Usage first: nothing is read for a mistyped ID. */
        ids = calloc(ctl->n_args ? ctl->n_args : 1, sizeof(*ids));
        if (!ids) {
                fprintf(stderr, "Out of memory\n");
                return UBCCTL_EXIT_FAILED;
        }
        for (size_t i = 0; i < ctl->n_args; i++)
                if (ubcctl_parse_id(ctl->args[i], &ids[i]) < 0)
                        return UBCCTL_EXIT_USAGE;

        r = check_dir(ctl->config_dir, ctl->root, &c, &sink);
        if (r != 0) {
                checked_done(&c);
                return r;
        }
        if (!c.host) {
                /* Reported: without the host there is no mapping to show. */
                checked_done(&c);
                fprintf(stderr, "%u errors\n", sink.n_errors);
                return UBCCTL_EXIT_FAILED;
        }

        d.checked = &c;
        d.plan = calloc(1, sizeof(*d.plan));
        if (!d.plan) {
                checked_done(&c);
                fprintf(stderr, "Out of memory\n");
                return UBCCTL_EXIT_FAILED;
        }
        r = cgread_root_open(c.cfg.root, c.host, &d.root);
        if (r < 0) {
                fprintf(stderr, "Cannot open the cgroups of root '%s': %s\n", c.cfg.root, strerror(-r));
                free(d.plan);
                checked_done(&c);
                return UBCCTL_EXIT_FAILED;
        }

        if (ctl->json) {
                json_begin(&d.j, stdout);
                json_array_open(&d.j, NULL);
        }
        dry_run_root(&d);
        if (ctl->n_args == 0) {
                for (size_t i = 0; i < c.n_guests; i++) {
                        if (!c.guest_ok[i])
                                continue;
                        r = dry_run_guest(&d, &c.guests[i]);
                        if (r != 0)
                                ret = r;
                }
        } else
                for (size_t i = 0; i < ctl->n_args; i++) {
                        const struct policy_resolved *g;
                        size_t idx;

                        g = find_resolved(&c, ids[i], &idx);
                        if (!g) {
                                fprintf(stderr,
                                        "Guest %" PRIu32 " has no valid definition in '%s/guests.d'\n",
                                        ids[i], ctl->config_dir);
                                ret = UBCCTL_EXIT_FAILED;
                                continue;
                        }
                        if (!c.guest_ok[idx])
                                continue; /* its problems were printed */
                        r = dry_run_guest(&d, g);
                        if (r != 0)
                                ret = r;
                }
        if (ctl->json) {
                json_array_close(&d.j);
                json_end(&d.j);
        }

        if (sink.n_errors > 0) {
                fprintf(stderr, "%u errors\n", sink.n_errors);
                ret = UBCCTL_EXIT_FAILED;
        }
        cg_root_close(&d.root);
        free(d.plan);
        checked_done(&c);
        return ret;
}
