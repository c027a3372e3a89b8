/* Applying a plan to one guest as one step, and the rules that tell whether a control file
 * already holds what a write would set (the kernel rounds, clamps and reformats values). */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ubc/cgroup.h"
#include "ubc/macro.h"

#include "cg-file.h"
#include "cg-ops.h"

/* Bounds of v1 cpu.shares (MIN_SHARES, MAX_SHARES in the scheduler). */
#define V1_SHARES_MIN 2
#define V1_SHARES_MAX 262144

const struct cg_ops *cg_ops_for(enum cg_version v) {
        switch (v) {
        case CG_VERSION_V1:
                return &cg_v1_ops;
        case CG_VERSION_V2:
                return &cg_v2_ops;
        default:
                return NULL;
        }
}

/* File names differ between the versions where their meaning differs (pids.max and
 * cpuset.* read the same on both), so the name alone says how to compare. */
static enum cg_value_kind cg_value_kind_of(const char *file) {
        static const struct cg_ops *const all[] = {&cg_v1_ops, &cg_v2_ops};

        for (size_t i = 0; i < ELEMENTSOF(all); i++)
                for (size_t j = 0; j < all[i]->n_files; j++)
                        if (streq(all[i]->files[j].file, file))
                                return all[i]->files[j].kind;
        return CG_VALUE_TEXT;
}

static const char *skip_space(const char *s) {
        while (isspace((unsigned char) *s))
                s++;
        return s;
}

/* Compares a and b as text, leading and trailing whitespace aside. */
static bool text_equal(const char *a, const char *b) {
        size_t na, nb;

        a = skip_space(a);
        b = skip_space(b);
        na = strlen(a);
        nb = strlen(b);
        while (na > 0 && isspace((unsigned char) a[na - 1]))
                na--;
        while (nb > 0 && isspace((unsigned char) b[nb - 1]))
                nb--;
        return na == nb && memcmp(a, b, na) == 0;
}

/* A decimal of [s, s + n), or of all of s when n is SIZE_MAX; nothing else allowed. */
static bool parse_u64_n(const char *s, size_t n, uint64_t *ret) {
        uint64_t v = 0;
        size_t i;

        for (i = 0; i < n && s[i]; i++) {
                unsigned d;

                if (s[i] < '0' || s[i] > '9')
                        return false;
                d = (unsigned) (s[i] - '0');
                if (v > (UINT64_MAX - d) / 10)
                        return false;
                v = v * 10 + d;
        }
        if (i == 0)
                return false;
        *ret = v;
        return true;
}

/* One token, surrounded by nothing but whitespace; its length in *ret_n. */
static const char *single_token(const char *s, size_t *ret_n) {
        size_t n;

        s = skip_space(s);
        n = strcspn(s, " \t\n");
        if (*skip_space(s + n))
                return NULL;
        *ret_n = n;
        return s;
}

static bool parse_u64(const char *s, uint64_t *ret) {
        size_t n;

        s = single_token(s, &n);
        return s && parse_u64_n(s, n, ret);
}

/* "max" or a decimal. */
static bool parse_max_u64_n(const char *s, size_t n, uint64_t *ret) {
        if (n == 3 && strncmp(s, "max", 3) == 0) {
                *ret = CG_UINT_MAX;
                return true;
        }
        return parse_u64_n(s, n, ret);
}

static bool parse_max_u64(const char *s, uint64_t *ret) {
        size_t n;

        s = single_token(s, &n);
        return s && parse_max_u64_n(s, n, ret);
}

bool cg_parse_dev_line(const char *line, unsigned *ret_major, unsigned *ret_minor, const char **ret_rest) {
        const char *p = skip_space(line);
        size_t n = strspn(p, "0123456789");
        uint64_t major, minor;

        if (!parse_u64_n(p, n, &major) || major > UINT_MAX || p[n] != ':')
                return false;
        p += n + 1;
        n = strspn(p, "0123456789");
        if (!parse_u64_n(p, n, &minor) || minor > UINT_MAX)
                return false;
        p += n;
        if (*p && !isspace((unsigned char) *p))
                return false;

        *ret_major = (unsigned) major;
        *ret_minor = (unsigned) minor;
        *ret_rest = skip_space(p);
        return true;
}

int cg_current_add_dev(struct cg_current *cur, unsigned major, unsigned minor) {
        for (unsigned i = 0; i < cur->n_io_devs; i++)
                if (cur->io_devs[i].major == major && cur->io_devs[i].minor == minor)
                        return 0;
        if (cur->n_io_devs >= ELEMENTSOF(cur->io_devs))
                return -E2BIG;
        cur->io_devs[cur->n_io_devs].major = major;
        cur->io_devs[cur->n_io_devs].minor = minor;
        cur->n_io_devs++;
        return 0;
}

int cg_cpulist_parse(const char *s, struct ubc_cpuset *ret) {
        struct ubc_cpuset set = {};
        const char *p = skip_space(s);

        while (*p && !isspace((unsigned char) *p)) {
                size_t n = strspn(p, "0123456789");
                uint64_t lo, hi;

                if (!parse_u64_n(p, n, &lo))
                        return -EINVAL;
                p += n;
                hi = lo;
                if (*p == '-') {
                        p++;
                        n = strspn(p, "0123456789");
                        if (!parse_u64_n(p, n, &hi))
                                return -EINVAL;
                        p += n;
                }
                if (hi < lo)
                        return -EINVAL;
                if (hi >= UBC_CPUS_MAX)
                        return -ERANGE;
                for (uint64_t c = lo; c <= hi; c++)
                        set.bits[c / 64] |= UINT64_C(1) << (c % 64);
                if (*p == ',')
                        p++;
                else if (*p && !isspace((unsigned char) *p))
                        return -EINVAL;
        }
        if (*skip_space(p))
                return -EINVAL;

        *ret = set;
        return 0;
}

int cg_parse_bytes(const char *s, uint64_t *ret) {
        static const char suffixes[] = "KkMmGgTt";
        long page = sysconf(_SC_PAGESIZE);
        uint64_t v, mult = 1, max_pages;
        const char *suffix;
        size_t n;

        s = single_token(s, &n);
        if (!s || n == 0)
                return -EINVAL;

        /* v1 takes "-1", v2 "max" for no limit */
        if ((n == 3 && strncmp(s, "max", 3) == 0) || (n == 2 && strncmp(s, "-1", 2) == 0)) {
                *ret = UBC_UNLIMITED;
                return 0;
        }

        /* the kernel's memparse suffixes, powers of 1024 */
        suffix = memchr(suffixes, s[n - 1], sizeof(suffixes) - 1);
        if (suffix) {
                mult = UINT64_C(1) << (10 * (1 + (suffix - suffixes) / 2));
                n--;
        }
        if (!parse_u64_n(s, n, &v))
                return -EINVAL;
        if (page <= 0)
                page = 4096;

        /* The kernel keeps whole pages, rounding down, and caps at PAGE_COUNTER_MAX
         * (LONG_MAX / PAGE_SIZE pages), which it treats and shows as no limit. */
        max_pages = (uint64_t) LONG_MAX / (uint64_t) page;
        if (v > UINT64_MAX / mult || (v * mult) / (uint64_t) page >= max_pages) {
                *ret = UBC_UNLIMITED;
                return 0;
        }
        *ret = (v * mult) / (uint64_t) page * (uint64_t) page;
        return 0;
}

/* v1 cpu.cfs_quota_us: any negative value means no quota and reads back as -1. */
static bool parse_cfs_quota(const char *s, int64_t *ret) {
        uint64_t v;

        s = skip_space(s);
        if (*s == '-') {
                if (!parse_u64(s + 1, &v))
                        return false;
                *ret = -1;
                return true;
        }
        if (!parse_u64(s, &v) || v > INT64_MAX)
                return false;
        *ret = (int64_t) v;
        return true;
}

/* v2 cpu.max: "QUOTA|max [PERIOD]"; ret_period is 0 when not given. */
static bool parse_cpu_max(const char *s, uint64_t *ret_quota, uint64_t *ret_period) {
        size_t n;
        uint64_t quota, period = 0;

        s = skip_space(s);
        n = strcspn(s, " \t\n");
        if (!parse_max_u64_n(s, n, &quota))
                return false;
        s = skip_space(s + n);
        if (*s) {
                n = strcspn(s, " \t\n");
                if (!parse_u64_n(s, n, &period) || *skip_space(s + n))
                        return false;
        }
        *ret_quota = quota;
        *ret_period = period;
        return true;
}

/* io.weight reads "default N" and then per-device lines; a write may say "N" or "default N". */
static bool parse_default_weight(const char *s, uint64_t *ret) {
        s = skip_space(s);
        if (strncmp(s, "default", 7) == 0 && isspace((unsigned char) s[7]))
                s = skip_space(s + 7);
        return parse_u64_n(s, strcspn(s, " \t\n"), ret);
}

/* The value of key=... in an io.max rest of line; a key that is not there is max. */
static bool io_max_lookup(const char *rest, const char *key, size_t key_len, uint64_t *ret) {
        for (const char *p = skip_space(rest); *p; p = skip_space(p)) {
                size_t n = strcspn(p, " \t\n");
                const char *eq = memchr(p, '=', n);

                if (eq && (size_t) (eq - p) == key_len && strncmp(p, key, key_len) == 0)
                        return parse_max_u64_n(eq + 1, n - (size_t) (eq + 1 - p), ret);
                p += n;
        }
        *ret = CG_UINT_MAX;
        return true;
}

/* Every key the write names holds that value already. */
static bool io_max_matches(const char *want, const char *actual) {
        for (const char *p = skip_space(want); *p; p = skip_space(p)) {
                size_t n = strcspn(p, " \t\n");
                const char *eq = memchr(p, '=', n);
                uint64_t w, a;

                if (!eq || !parse_max_u64_n(eq + 1, n - (size_t) (eq + 1 - p), &w))
                        return false;
                if (!io_max_lookup(actual ?: "", p, (size_t) (eq - p), &a) || a != w)
                        return false;
                p += n;
        }
        return true;
}

static bool dev_line_matches(enum cg_value_kind kind, const char *want, const char *actual) {
        unsigned wmaj, wmin, amaj, amin;
        const char *wrest, *arest = NULL;
        uint64_t w, a;

        if (!cg_parse_dev_line(want, &wmaj, &wmin, &wrest))
                return text_equal(want, actual);
        if (*skip_space(actual)) {
                if (!cg_parse_dev_line(actual, &amaj, &amin, &arest) || amaj != wmaj || amin != wmin)
                        return false;
        }

        switch (kind) {
        case CG_VALUE_DEV_V1:
                /* a missing line is the same as "MAJ:MIN 0" */
                if (!parse_u64(wrest, &w))
                        return false;
                if (!arest)
                        return w == 0;
                return parse_u64(arest, &a) && a == w;
        case CG_VALUE_DEV_IO_MAX:
                /* a missing line is the same as every limit at max */
                return io_max_matches(wrest, arest);
        default:
                return arest && text_equal(wrest, arest);
        }
}

static bool value_matches(enum cg_value_kind kind, const char *want, const char *actual) {
        struct ubc_cpuset ws, as;
        uint64_t w, a, wp, ap;
        int64_t wq, aq;

        switch (kind) {
        case CG_VALUE_UINT:
                if (parse_u64(want, &w) && parse_u64(actual, &a))
                        return w == a;
                break;
        case CG_VALUE_SHARES:
                if (parse_u64(want, &w) && parse_u64(actual, &a)) {
                        w = w < V1_SHARES_MIN ? V1_SHARES_MIN : w > V1_SHARES_MAX ? V1_SHARES_MAX : w;
                        return w == a;
                }
                break;
        case CG_VALUE_MAX_UINT:
                if (parse_max_u64(want, &w) && parse_max_u64(actual, &a))
                        return w == a;
                break;
        case CG_VALUE_BYTES:
                if (cg_parse_bytes(want, &w) >= 0 && cg_parse_bytes(actual, &a) >= 0)
                        return w == a;
                break;
        case CG_VALUE_CFS_QUOTA:
                if (parse_cfs_quota(want, &wq) && parse_cfs_quota(actual, &aq))
                        return wq == aq;
                break;
        case CG_VALUE_CPU_MAX:
                if (parse_cpu_max(want, &w, &wp) && parse_cpu_max(actual, &a, &ap))
                        return w == a && (wp == 0 || wp == ap);
                break;
        case CG_VALUE_CPUSET:
                if (cg_cpulist_parse(want, &ws) >= 0 && cg_cpulist_parse(actual, &as) >= 0)
                        return memcmp(&ws, &as, sizeof(ws)) == 0;
                break;
        case CG_VALUE_WEIGHT_DEFAULT:
                if (parse_default_weight(want, &w) && parse_default_weight(actual, &a))
                        return w == a;
                break;
        default:
                break;
        }
        return text_equal(want, actual);
}

bool cg_value_matches(const struct cg_write *w, const char *actual) {
        enum cg_value_kind kind = cg_value_kind_of(w->file);

        if (!actual)
                return false;
        if (w->dev_major >= 0)
                return dev_line_matches(kind, w->value, actual);
        return value_matches(kind, w->value, actual);
}

/* The guest's directory of controller c, opened once per apply. */
static int guest_fd_get(struct cg_root *r, int gfd[static _UBC_CTRL_MAX], enum ubc_ctrl c, uint32_t id) {
        if ((unsigned) c >= _UBC_CTRL_MAX || r->fd[c] < 0)
                return -EOPNOTSUPP;
        if (gfd[c] < 0)
                gfd[c] = cg_guest_open_at(r->fd[c], id);
        return gfd[c];
}

static void guest_fds_close(int (*gfd)[_UBC_CTRL_MAX]) {
        for (size_t i = 0; i < _UBC_CTRL_MAX; i++)
                if ((*gfd)[i] >= 0)
                        close((*gfd)[i]);
}

static int read_target_at(int guest_fd, const struct cg_write *w, bool create_files, char *buf,
                          size_t size) {
        char file[CG_FILE_MAX];
        const char *v = file;
        size_t n;
        int r;

        r = cg_file_read(guest_fd, w->file, file, sizeof(file));
        if (r == -ENOENT && create_files) {
                /* a fake root has only the files a test or an earlier write made */
                file[0] = 0;
                r = 0;
        }
        if (r < 0)
                return r;

        if (w->dev_major >= 0) {
                v = "";
                for (char *line = file, *next; line && *line; line = next) {
                        unsigned major, minor;
                        const char *rest;

                        next = strchr(line, '\n');
                        if (next)
                                *next++ = 0;
                        if (cg_parse_dev_line(line, &major, &minor, &rest) &&
                            major == (unsigned) w->dev_major && minor == (unsigned) w->dev_minor) {
                                v = skip_space(line);
                                break;
                        }
                }
        }

        n = strlen(v);
        if (n >= size)
                return -ENOBUFS;
        memcpy(buf, v, n + 1);
        cg_strip(buf);
        return 0;
}

int cg_read_target(struct cg_root *r, uint32_t id, const struct cg_write *w, char *buf, size_t size) {
        _cleanup_close_ int fd = -EBADF;

        if ((unsigned) w->ctrl >= _UBC_CTRL_MAX || r->fd[w->ctrl] < 0)
                return -EOPNOTSUPP;
        fd = cg_guest_open_at(r->fd[w->ctrl], id);
        if (fd < 0)
                return fd;
        return read_target_at(fd, w, r->create_files, buf, size);
}

int cg_read_current(struct cg_root *r, uint32_t id, struct cg_current *ret) {
        struct cg_current cur = {
                .v1_mem_limit = UBC_UNLIMITED,
                .v1_memsw_limit = UBC_UNLIMITED,
        };
        int k;

        for (enum ubc_ctrl c = 0; c < _UBC_CTRL_MAX; c++) {
                _cleanup_close_ int fd = -EBADF;

                if (r->fd[c] < 0 || !r->ops[c])
                        continue;
                fd = cg_guest_open_at(r->fd[c], id);
                if (fd < 0)
                        return fd;
                k = r->ops[c]->read_current(fd, c, &cur);
                if (k < 0)
                        return k;
        }
        *ret = cur;
        return 0;
}

/* What puts a target back as it was: the old device line, or the line that clears the
 * device when there was none; else the file's first line (io.weight lists devices after
 * "default N", and only that line was written). */
static int restore_value(const struct cg_write *w, const char *old, char *buf, size_t size) {
        int n;

        if (w->dev_major >= 0 && !*old) {
                switch (cg_value_kind_of(w->file)) {
                case CG_VALUE_DEV_V1:
                        n = snprintf(buf, size, "%d:%d 0", w->dev_major, w->dev_minor);
                        break;
                case CG_VALUE_DEV_IO_MAX:
                        n = snprintf(buf, size, "%d:%d rbps=max wbps=max riops=max wiops=max", w->dev_major,
                                     w->dev_minor);
                        break;
                default:
                        return -EOPNOTSUPP;
                }
        } else
                n = snprintf(buf, size, "%.*s", (int) strcspn(old, "\n"), old);
        if (n < 0 || (size_t) n >= size)
                return -ENOBUFS;
        return 0;
}

/* An empty cpuset.cpus stands for all of the parent's CPUs (v2), and the kernel refuses it for
 * a cgroup with processes (ENOSPC). There the parent's list is written instead, which counts as
 * empty for as long as it is the parent's. */
static bool is_parent_cpus(const char *file, const char *value) {
        return streq(file, "cpuset.cpus") && value[0] == '\0';
}

static int read_parent_cpus(const struct cg_root *r, enum ubc_ctrl c, char *buf, size_t size) {
        if (r->fd[c] < 0 || !r->ops[c] || !r->ops[c]->cpus_file)
                return -EOPNOTSUPP;
        return cg_file_read_value(r->fd[c], r->ops[c]->cpus_file, buf, size);
}

bool cg_target_matches(const struct cg_root *r, const struct cg_write *w, const char *actual) {
        char parent[CG_FILE_MAX];

        if (cg_value_matches(w, actual))
                return true;
        if (!actual || !is_parent_cpus(w->file, w->value) || !actual[0] ||
            read_parent_cpus(r, w->ctrl, parent, sizeof(parent)) < 0)
                return false;
        return value_matches(CG_VALUE_CPUSET, parent, actual);
}

/* A guest's value, with the cgroups below it brought along where the hierarchy needs that. */
static int guest_write(const struct cg_root *r, enum ubc_ctrl c, int fd, const char *file, const char *old,
                       const char *value) {
        const struct cg_ops *ops = cg_ops_for(r->version[c]);
        char parent[CG_FILE_MAX];
        int k;

        if (ops && ops->write_in_step)
                k = ops->write_in_step(fd, file, old, value, r->create_files);
        else
                k = cg_file_write(fd, file, value, r->create_files);
        if (k == -ENOSPC && is_parent_cpus(file, value) &&
            read_parent_cpus(r, c, parent, sizeof(parent)) > 0)
                k = cg_file_write(fd, file, parent, r->create_files);
        return k;
}

struct undo {
        unsigned index; /* in the plan */
        char *value;
};

static void undo_free(struct undo *u, size_t n) {
        for (size_t i = 0; u && i < n; i++)
                free(u[i].value);
        free(u);
}

static int apply_plan(struct cg_root *r, uint32_t id, const struct cg_plan *plan, bool fresh,
                      struct cg_apply_result *ret) {
        /* One guest's apply is one step (DESIGN.md, reconcile): when the kernel refuses a
         * value, the guest goes back to the limits it had, instead of running with half a
         * policy that nobody wrote; other guests are not touched either way. */
        _cleanup_(guest_fds_close) int gfd[_UBC_CTRL_MAX];
        struct cg_apply_result res = {.failed = -1};
        struct undo *undo = NULL;
        size_t n_undo = 0;
        unsigned i;
        int k = 0;

        for (size_t c = 0; c < _UBC_CTRL_MAX; c++)
                gfd[c] = -EBADF;

        /* The result tells what happened on every return, a refusal above all. */
        if (plan->n > UBC_PLAN_MAX)
                k = -EINVAL;
        else if (plan->n > 0 && !fresh) {
                undo = calloc(plan->n, sizeof(*undo));
                if (!undo)
                        k = -ENOMEM;
        }
        if (k < 0) {
                res.error = k;
                res.restored = true;
                *ret = res;
                return k;
        }

        for (i = 0; i < plan->n; i++) {
                const struct cg_write *w = &plan->w[i];
                char old[CG_FILE_MAX], back[CG_FILE_MAX];
                int fd;

                fd = guest_fd_get(r, gfd, w->ctrl, id);
                if (fd < 0) {
                        k = fd;
                        goto fail;
                }
                if (fresh) {
                        /* cg_guest_create_for() set a new v1 cpuset's CPUs from this plan. */
                        if (w->ctrl == UBC_CTRL_CPUSET && r->version[UBC_CTRL_CPUSET] == CG_VERSION_V1 &&
                            streq(w->file, "cpuset.cpus"))
                                continue;
                        k = cg_file_write(fd, w->file, w->value, r->create_files);
                        if (k < 0)
                                goto fail;
                        res.n_written++;
                        continue;
                }
                k = read_target_at(fd, w, r->create_files, old, sizeof(old));
                if (k < 0)
                        goto fail;
                if (cg_target_matches(r, w, old))
                        continue;

                k = restore_value(w, old, back, sizeof(back));
                if (k < 0)
                        goto fail;
                undo[n_undo].value = strdup(back);
                if (!undo[n_undo].value) {
                        k = -ENOMEM;
                        goto fail;
                }
                undo[n_undo].index = i;

                k = guest_write(r, w->ctrl, fd, w->file, old, w->value);
                n_undo++; /* also when refused: a write in step may have changed some of it */
                if (k < 0)
                        goto fail;
                res.n_written++;
        }

        undo_free(undo, n_undo);
        *ret = res;
        return 0;

fail:
        res.failed = (int) i;
        res.error = k;
        res.restored = !fresh;
        /* Newest first, so each step returns to a state the kernel accepted before (v1
         * memory.limit_in_bytes <= memory.memsw.limit_in_bytes holds throughout). */
        while (n_undo > 0) {
                const struct undo *u = &undo[--n_undo];
                const struct cg_write *w = &plan->w[u->index];

                if (guest_write(r, w->ctrl, gfd[w->ctrl], w->file, w->value, u->value) < 0)
                        res.restored = false;
        }
        undo_free(undo, plan->n);
        *ret = res;
        return k;
}

int cg_apply(struct cg_root *r, uint32_t id, const struct cg_plan *plan, struct cg_apply_result *ret) {
        return apply_plan(r, id, plan, false, ret);
}

int cg_apply_new(struct cg_root *r, uint32_t id, const struct cg_plan *plan, struct cg_apply_result *ret) {
        return apply_plan(r, id, plan, true, ret);
}
