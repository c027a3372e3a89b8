/* Mapping: resolved limits become the ordered cgroup file writes for this host's cgroup
 * version. Every key is written, set or default, so that removing a key from a policy puts
 * the kernel's value back; where the kernel cannot hold a value exactly, the write says so. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ubc/macro.h"
#include "ubc/plan.h"
#include "ubc/units.h"

#define V2_CPU_WEIGHT_MAX 10000u
#define V1_CPU_SHARES_MIN 2u
#define V1_CPU_SHARES_MAX 262144u
#define V2_IO_WEIGHT_MAX  10000u

static uint32_t clamp_u32(uint64_t v, uint32_t lo, uint32_t hi) {
        return v < lo ? lo : v > hi ? hi : (uint32_t) v;
}

uint32_t map_cpu_units_to_weight(uint32_t units) {
        /* Rounded to nearest: 1024 units (the default) is the kernel's default weight 100. */
        return clamp_u32(((uint64_t) units * 100 + 512) / 1024, 1, V2_CPU_WEIGHT_MAX);
}

uint32_t map_cpu_units_to_shares(uint32_t units) {
        return clamp_u32(units, V1_CPU_SHARES_MIN, V1_CPU_SHARES_MAX);
}

uint32_t map_io_weight_v2(uint32_t weight) {
        return clamp_u32(((uint64_t) weight * 100 + 250) / 500, 1, V2_IO_WEIGHT_MAX);
}

void cg_current_init(struct cg_current *ret) {
        *ret = (struct cg_current){
                .v1_mem_limit = UBC_UNLIMITED,
                .v1_memsw_limit = UBC_UNLIMITED,
        };
}

/* Appends one write; -E2BIG when the plan is full. */
static int emit(struct cg_plan *plan, enum ubc_ctrl ctrl, int key, const char *file, int dev_major,
                int dev_minor, const char *fmt, ...) __attribute__((format(printf, 7, 8)));
static int emit(struct cg_plan *plan, enum ubc_ctrl ctrl, int key, const char *file, int dev_major,
                int dev_minor, const char *fmt, ...) {
        struct cg_write *w;
        va_list ap;
        int n;

        if (plan->n >= UBC_PLAN_MAX)
                return -E2BIG;
        w = &plan->w[plan->n];
        *w = (struct cg_write){
                .ctrl = ctrl,
                .key = key,
                .dev_major = dev_major,
                .dev_minor = dev_minor,
        };
        snprintf(w->file, sizeof(w->file), "%s", file);

        va_start(ap, fmt);
        n = vsnprintf(w->value, sizeof(w->value), fmt, ap);
        va_end(ap);
        if (n < 0 || (size_t) n >= sizeof(w->value))
                return -ENOBUFS;

        plan->n++;
        return 0;
}

static struct cg_write *last(struct cg_plan *plan) {
        return &plan->w[plan->n - 1];
}

/* "max" (v2) or "-1" (v1) for no limit, else the number. */
static const char *limit_str(uint64_t v, const char *none, char *buf, size_t size) {
        if (v == UBC_UNLIMITED)
                return none;
        snprintf(buf, size, "%llu", (unsigned long long) v);
        return buf;
}

/* The note for a weight the kernel holds only approximately: clamped to its range, or
 * rounded by more than 1% (small values: 8 units are weight 0.78, written as 1). 'num/den'
 * is the exact weight. */
static void weight_note(struct cg_write *w, const char *key, uint32_t value, const char *file, uint32_t got,
                        uint64_t num, uint64_t den, uint32_t max) {
        uint64_t exact_centi = (num * 100 + den / 2) / den;
        uint64_t got_scaled = (uint64_t) got * den;
        uint64_t diff = got_scaled > num ? got_scaled - num : num - got_scaled;

        if (got == max && num > (uint64_t) max * den)
                snprintf(w->note, sizeof(w->note),
                         "%s %u -> %s %u (the kernel's maximum, exact %llu.%02llu)", key, value, file, got,
                         (unsigned long long) (exact_centi / 100), (unsigned long long) (exact_centi % 100));
        else if (diff * 100 > num)
                snprintf(w->note, sizeof(w->note), "%s %u -> %s %u (exact %llu.%02llu)", key, value, file,
                         got, (unsigned long long) (exact_centi / 100),
                         (unsigned long long) (exact_centi % 100));
}

static bool dev_in_limits(const struct ubc_limits *l, unsigned major, unsigned minor) {
        for (uint32_t i = 0; i < l->n_io_limits; i++)
                if (l->io_limits[i].major == major && l->io_limits[i].minor == minor)
                        return true;
        return false;
}

/* Devices throttled now but not in the policy: each gets its reset once. */
typedef int (*reset_fn)(struct cg_plan *plan, unsigned major, unsigned minor);

static int reset_stale_devices(struct cg_plan *plan, const struct ubc_limits *l,
                               const struct cg_current *cur, reset_fn reset) {
        unsigned n = cur->n_io_devs < ELEMENTSOF(cur->io_devs) ? cur->n_io_devs : ELEMENTSOF(cur->io_devs);
        int r;

        for (unsigned i = 0; i < n; i++) {
                unsigned major = cur->io_devs[i].major, minor = cur->io_devs[i].minor;
                bool seen = false;

                if (dev_in_limits(l, major, minor))
                        continue;
                for (unsigned j = 0; j < i && !seen; j++)
                        seen = cur->io_devs[j].major == major && cur->io_devs[j].minor == minor;
                if (seen)
                        continue;

                r = reset(plan, major, minor);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int check_devices(const struct ubc_limits *l) {
        /* Validation fills major:minor; no block device is 0:0, so that means it did not run. */
        for (uint32_t i = 0; i < l->n_io_limits; i++)
                if (l->io_limits[i].major == 0 && l->io_limits[i].minor == 0)
                        return -ENODEV;
        return 0;
}

/* --- cgroup v2 --- */

static int v2_io_reset(struct cg_plan *plan, unsigned major, unsigned minor) {
        return emit(plan, UBC_CTRL_IO, UBC_KEY_IO_LIMIT, "io.max", (int) major, (int) minor,
                    "%u:%u rbps=max wbps=max riops=max wiops=max", major, minor);
}

static int map_v2(const struct ubc_limits *l, const struct ubc_host *host, const struct cg_current *cur,
                  struct cg_plan *plan) {
        char a[32], b[32], c[32], d[32];
        int r;

        if (host->ctrl[UBC_CTRL_CPU] == CG_VERSION_V2) {
                uint32_t weight = map_cpu_units_to_weight(l->cpu_units);

                r = emit(plan, UBC_CTRL_CPU, UBC_KEY_CPU_UNITS, "cpu.weight", -1, -1, "%u", weight);
                if (r < 0)
                        return r;
                weight_note(last(plan), "cpu.units", l->cpu_units, "cpu.weight", weight,
                            (uint64_t) l->cpu_units * 100, 1024, V2_CPU_WEIGHT_MAX);

                r = emit(plan, UBC_CTRL_CPU, UBC_KEY_CPU_LIMIT, "cpu.max", -1, -1, "%s %llu",
                         l->cpu_quota_us > 0 ? limit_str(l->cpu_quota_us, "max", a, sizeof(a)) : "max",
                         UBC_CPU_PERIOD_US);
                if (r < 0)
                        return r;
        }

        if (host->ctrl[UBC_CTRL_CPUSET] == CG_VERSION_V2) {
                char cpus[160];

                /* "" hands the parent's CPUs down, which is what an empty cpu.set means. */
                r = cpuset_format(&l->cpu_set, cpus, sizeof(cpus));
                if (r < 0)
                        return r;
                r = emit(plan, UBC_CTRL_CPUSET, UBC_KEY_CPU_SET, "cpuset.cpus", -1, -1, "%s", cpus);
                if (r < 0)
                        return r;
        }

        if (host->ctrl[UBC_CTRL_MEMORY] == CG_VERSION_V2) {
                r = emit(plan, UBC_CTRL_MEMORY, UBC_KEY_MEMORY, "memory.high", -1, -1, "%s",
                         limit_str(l->mem_barrier, "max", a, sizeof(a)));
                if (r < 0)
                        return r;
                r = emit(plan, UBC_CTRL_MEMORY, UBC_KEY_MEMORY, "memory.max", -1, -1, "%s",
                         limit_str(l->mem_limit, "max", a, sizeof(a)));
                if (r < 0)
                        return r;
                if (host->swap_accounting) {
                        r = emit(plan, UBC_CTRL_MEMORY, UBC_KEY_SWAP, "memory.swap.max", -1, -1, "%s",
                                 limit_str(l->swap, "max", a, sizeof(a)));
                        if (r < 0)
                                return r;
                }
        }

        if (host->ctrl[UBC_CTRL_IO] == CG_VERSION_V2) {
                if (host->io_weight == UBC_IO_WEIGHT_V2) {
                        uint32_t w = map_io_weight_v2(l->io_weight);

                        r = emit(plan, UBC_CTRL_IO, UBC_KEY_IO_WEIGHT, "io.weight", -1, -1, "default %u", w);
                        if (r < 0)
                                return r;
                        weight_note(last(plan), "io.weight", l->io_weight, "io.weight", w,
                                    (uint64_t) l->io_weight * 100, 500, V2_IO_WEIGHT_MAX);
                } else if (host->io_weight == UBC_IO_WEIGHT_V2_BFQ) {
                        /* BFQ's own weight has the policy's range. */
                        r = emit(plan, UBC_CTRL_IO, UBC_KEY_IO_WEIGHT, "io.bfq.weight", -1, -1, "%u",
                                 l->io_weight);
                        if (r < 0)
                                return r;
                }

                r = check_devices(l);
                if (r < 0)
                        return r;
                for (uint32_t i = 0; i < l->n_io_limits; i++) {
                        const struct ubc_io_limit *io = &l->io_limits[i];

                        r = emit(plan, UBC_CTRL_IO, UBC_KEY_IO_LIMIT, "io.max", (int) io->major,
                                 (int) io->minor, "%u:%u rbps=%s wbps=%s riops=%s wiops=%s", io->major,
                                 io->minor, limit_str(io->rbps, "max", a, sizeof(a)),
                                 limit_str(io->wbps, "max", b, sizeof(b)),
                                 limit_str(io->riops, "max", c, sizeof(c)),
                                 limit_str(io->wiops, "max", d, sizeof(d)));
                        if (r < 0)
                                return r;
                }
                r = reset_stale_devices(plan, l, cur, v2_io_reset);
                if (r < 0)
                        return r;
        }

        if (host->ctrl[UBC_CTRL_PIDS] == CG_VERSION_V2) {
                r = emit(plan, UBC_CTRL_PIDS, UBC_KEY_TASKS, "pids.max", -1, -1, "%s",
                         limit_str(l->tasks, "max", a, sizeof(a)));
                if (r < 0)
                        return r;
        }

        return 0;
}

/* --- cgroup v1 --- */

static const char *const v1_throttle_files[] = {
        "blkio.throttle.read_bps_device",
        "blkio.throttle.write_bps_device",
        "blkio.throttle.read_iops_device",
        "blkio.throttle.write_iops_device",
};

static int v1_io_reset(struct cg_plan *plan, unsigned major, unsigned minor) {
        for (size_t f = 0; f < ELEMENTSOF(v1_throttle_files); f++) {
                int r = emit(plan, UBC_CTRL_IO, UBC_KEY_IO_LIMIT, v1_throttle_files[f], (int) major,
                             (int) minor, "%u:%u 0", major, minor);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int map_v1_memory(const struct ubc_limits *l, const struct ubc_host *host,
                         const struct cg_current *cur, struct cg_plan *plan) {
        uint64_t memsw;
        char a[32];
        int r;

        r = emit(plan, UBC_CTRL_MEMORY, UBC_KEY_MEMORY, "memory.soft_limit_in_bytes", -1, -1, "%s",
                 limit_str(l->mem_barrier, "-1", a, sizeof(a)));
        if (r < 0)
                return r;

        if (!host->swap_accounting)
                return emit(plan, UBC_CTRL_MEMORY, UBC_KEY_MEMORY, "memory.limit_in_bytes", -1, -1, "%s",
                            limit_str(l->mem_limit, "-1", a, sizeof(a)));

        /* memsw counts memory plus swap, so it is the limit plus the swap allowance. */
        if (l->mem_limit == UBC_UNLIMITED || l->swap == UBC_UNLIMITED ||
            __builtin_add_overflow(l->mem_limit, l->swap, &memsw) || memsw == UBC_UNLIMITED)
                memsw = UBC_UNLIMITED;

        /* The kernel refuses limit > memsw at every moment: raise memsw first when the new
         * limit would pass the current memsw, else lower the limit first. */
        if (l->mem_limit <= cur->v1_memsw_limit) {
                r = emit(plan, UBC_CTRL_MEMORY, UBC_KEY_MEMORY, "memory.limit_in_bytes", -1, -1, "%s",
                         limit_str(l->mem_limit, "-1", a, sizeof(a)));
                if (r < 0)
                        return r;
                return emit(plan, UBC_CTRL_MEMORY, UBC_KEY_SWAP, "memory.memsw.limit_in_bytes", -1, -1, "%s",
                            limit_str(memsw, "-1", a, sizeof(a)));
        }

        r = emit(plan, UBC_CTRL_MEMORY, UBC_KEY_SWAP, "memory.memsw.limit_in_bytes", -1, -1, "%s",
                 limit_str(memsw, "-1", a, sizeof(a)));
        if (r < 0)
                return r;
        return emit(plan, UBC_CTRL_MEMORY, UBC_KEY_MEMORY, "memory.limit_in_bytes", -1, -1, "%s",
                    limit_str(l->mem_limit, "-1", a, sizeof(a)));
}

static int map_v1(const struct ubc_limits *l, const struct ubc_host *host, const struct cg_current *cur,
                  struct cg_plan *plan) {
        char a[32];
        int r;

        if (host->ctrl[UBC_CTRL_CPU] == CG_VERSION_V1) {
                uint32_t shares = map_cpu_units_to_shares(l->cpu_units);

                r = emit(plan, UBC_CTRL_CPU, UBC_KEY_CPU_UNITS, "cpu.shares", -1, -1, "%u", shares);
                if (r < 0)
                        return r;
                if (shares != l->cpu_units)
                        snprintf(last(plan)->note, sizeof(last(plan)->note),
                                 "cpu.units %u -> cpu.shares %u (the kernel's %s)", l->cpu_units, shares,
                                 shares > l->cpu_units ? "minimum" : "maximum");

                /* The period first: the quota is read against it. */
                r = emit(plan, UBC_CTRL_CPU, UBC_KEY_CPU_LIMIT, "cpu.cfs_period_us", -1, -1, "%llu",
                         UBC_CPU_PERIOD_US);
                if (r < 0)
                        return r;
                r = emit(plan, UBC_CTRL_CPU, UBC_KEY_CPU_LIMIT, "cpu.cfs_quota_us", -1, -1, "%s",
                         l->cpu_quota_us > 0 ? limit_str(l->cpu_quota_us, "-1", a, sizeof(a)) : "-1");
                if (r < 0)
                        return r;
        }

        if (host->ctrl[UBC_CTRL_CPUSET] == CG_VERSION_V1) {
                char cpus[sizeof(host->root_cpus)];

                /* A v1 cpuset with no mems or cpus takes no tasks: both come from the parent. */
                if (host->root_mems[0] != '\0') {
                        r = emit(plan, UBC_CTRL_CPUSET, -1, "cpuset.mems", -1, -1, "%s", host->root_mems);
                        if (r < 0)
                                return r;
                }
                r = cpuset_format(&l->cpu_set, cpus, sizeof(cpus));
                if (r < 0)
                        return r;
                if (cpus[0] == '\0')
                        snprintf(cpus, sizeof(cpus), "%s", host->root_cpus);
                if (cpus[0] != '\0') {
                        r = emit(plan, UBC_CTRL_CPUSET, UBC_KEY_CPU_SET, "cpuset.cpus", -1, -1, "%s", cpus);
                        if (r < 0)
                                return r;
                }
        }

        if (host->ctrl[UBC_CTRL_MEMORY] == CG_VERSION_V1) {
                r = map_v1_memory(l, host, cur, plan);
                if (r < 0)
                        return r;
        }

        if (host->ctrl[UBC_CTRL_IO] == CG_VERSION_V1) {
                const char *file = host->io_weight == UBC_IO_WEIGHT_V1       ? "blkio.weight"
                                   : host->io_weight == UBC_IO_WEIGHT_V1_BFQ ? "blkio.bfq.weight"
                                                                             : NULL;

                if (file) {
                        r = emit(plan, UBC_CTRL_IO, UBC_KEY_IO_WEIGHT, file, -1, -1, "%u", l->io_weight);
                        if (r < 0)
                                return r;
                }

                r = check_devices(l);
                if (r < 0)
                        return r;
                for (uint32_t i = 0; i < l->n_io_limits; i++) {
                        const struct ubc_io_limit *io = &l->io_limits[i];
                        const uint64_t values[] = {io->rbps, io->wbps, io->riops, io->wiops};

                        /* All four, so that a field dropped from the policy is reset too. */
                        for (size_t f = 0; f < ELEMENTSOF(v1_throttle_files); f++) {
                                r = emit(plan, UBC_CTRL_IO, UBC_KEY_IO_LIMIT, v1_throttle_files[f],
                                         (int) io->major, (int) io->minor, "%u:%u %llu", io->major,
                                         io->minor,
                                         values[f] == UBC_UNLIMITED ? 0ULL : (unsigned long long) values[f]);
                                if (r < 0)
                                        return r;
                        }
                }
                r = reset_stale_devices(plan, l, cur, v1_io_reset);
                if (r < 0)
                        return r;
        }

        if (host->ctrl[UBC_CTRL_PIDS] == CG_VERSION_V1) {
                r = emit(plan, UBC_CTRL_PIDS, UBC_KEY_TASKS, "pids.max", -1, -1, "%s",
                         limit_str(l->tasks, "max", a, sizeof(a)));
                if (r < 0)
                        return r;
        }

        return 0;
}

int policy_map(const struct ubc_limits *l, const struct ubc_host *host, const struct cg_current *cur,
               struct cg_plan *ret) {
        _cleanup_free_ struct cg_plan *plan = NULL;
        struct cg_current none;
        int r;

        if (!l || !host || !ret)
                return -EINVAL;
        if (!cur) {
                cg_current_init(&none);
                cur = &none;
        }

        /* Built aside, so *ret is only written when the whole plan is good. */
        plan = calloc(1, sizeof(*plan));
        if (!plan)
                return -ENOMEM;

        /* On a hybrid host a controller may sit in either hierarchy: each is mapped by the
         * version it has. */
        r = map_v2(l, host, cur, plan);
        if (r < 0)
                return r;
        r = map_v1(l, host, cur, plan);
        if (r < 0)
                return r;

        memcpy(ret, plan, sizeof(*plan));
        return 0;
}
