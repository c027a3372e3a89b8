/* The cgroup v1 backend: a hierarchy per controller (or a few co-mounted), cpu.shares,
 * memory.limit_in_bytes, blkio.throttle.*, and cpusets that must be filled before use. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ubc/macro.h"
#include "ubc/units.h"

#include "cg-file.h"
#include "cg-ops.h"

/* memory.limit_in_bytes of an unlimited cgroup reads back as PAGE_COUNTER_MAX pages
 * (9223372036854771712 with 4 KiB pages); anything this large is no limit in practice. */
#define V1_UNLIMITED_FROM (UINT64_C(1) << 62)

static const struct cg_file_kind v1_files[] = {
        {"cpu.shares", CG_VALUE_SHARES},
        {"cpu.cfs_period_us", CG_VALUE_UINT},
        {"cpu.cfs_quota_us", CG_VALUE_CFS_QUOTA},
        {"cpuset.cpus", CG_VALUE_CPUSET},
        {"cpuset.mems", CG_VALUE_CPUSET},
        {"memory.limit_in_bytes", CG_VALUE_BYTES},
        {"memory.soft_limit_in_bytes", CG_VALUE_BYTES},
        {"memory.memsw.limit_in_bytes", CG_VALUE_BYTES},
        {"blkio.weight", CG_VALUE_UINT},
        {"blkio.bfq.weight", CG_VALUE_UINT},
        {"blkio.throttle.read_bps_device", CG_VALUE_DEV_V1},
        {"blkio.throttle.write_bps_device", CG_VALUE_DEV_V1},
        {"blkio.throttle.read_iops_device", CG_VALUE_DEV_V1},
        {"blkio.throttle.write_iops_device", CG_VALUE_DEV_V1},
        {"pids.max", CG_VALUE_MAX_UINT},
};

static const char *const v1_throttle_files[] = {
        "blkio.throttle.read_bps_device",
        "blkio.throttle.write_bps_device",
        "blkio.throttle.read_iops_device",
        "blkio.throttle.write_iops_device",
};

/* A v1 cpuset starts with empty cpus and mems and refuses tasks until both are set, so a
 * new cgroup takes its parent's (or the given) values; values already set are kept. */
static int v1_cpuset_inherit(int src_fd, int dst_fd, const char *cpus, const char *mems, bool create_files) {
        static const char *const files[] = {"cpuset.mems", "cpuset.cpus"};
        const char *given[] = {mems, cpus};

        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                char cur[CG_FILE_MAX], val[CG_FILE_MAX];
                int r;

                r = cg_file_read_value(dst_fd, files[i], cur, sizeof(cur));
                if (r > 0)
                        continue;
                if (r < 0 && !(r == -ENOENT && create_files))
                        return r;

                r = cg_file_read_value(src_fd, files[i], val, sizeof(val));
                if (r == -ENOENT && create_files) {
                        r = 0;
                        val[0] = 0;
                }
                if (r < 0)
                        return r;
                if (!val[0] && given[i] && given[i][0])
                        snprintf(val, sizeof(val), "%s", given[i]);
                if (!val[0])
                        continue; /* a fake root without cpusets */

                r = cg_file_write(dst_fd, files[i], val, create_files);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int v1_root_prepare(int parent_fd, int dir_fd, unsigned ctrls, bool is_owned_root) {
        if (!(ctrls & (1u << UBC_CTRL_CPUSET)))
                return 0;
        return v1_cpuset_inherit(parent_fd, dir_fd, NULL, NULL, false);
}

static int v1_guest_prepare(int root_fd, int guest_fd, enum ubc_ctrl c, const struct ubc_host *host,
                            bool create_files, bool fresh, const char *cpus) {
        if (c != UBC_CTRL_CPUSET)
                return 0;
        /* A new cpuset refuses tasks until it has mems and cpus. When it was just made, the
         * owned root's values known since start-up serve without reading anything back. */
        if (fresh && host && host->root_mems[0] && host->root_cpus[0]) {
                int r = cg_file_write(guest_fd, "cpuset.mems", host->root_mems, create_files);
                if (r < 0)
                        return r;
                return cg_file_write(guest_fd, "cpuset.cpus", cpus && cpus[0] ? cpus : host->root_cpus,
                                     create_files);
        }
        /* The owned root as it is now; what discovery saw only stands in on fake roots. */
        return v1_cpuset_inherit(root_fd, guest_fd, host ? host->root_cpus : NULL,
                                 host ? host->root_mems : NULL, create_files);
}

struct file_value {
        const char *file, *value;
};

static int write_file_value(int fd, void *userdata) {
        const struct file_value *fv = userdata;
        return cg_file_write(fd, fv->file, fv->value, false);
}

/* A v1 cpuset's children must stay within it and do not follow it: a running container's
 * cgroups (ROOT/ID/lxc, ...) make the kernel refuse a smaller set for the guest, and keep their
 * CPUs on a larger one. They follow the guest here as they would on v2: the guest widened to
 * old and new together, every cgroup below it given the new set, parents first, then the guest
 * the new set. A container's own narrower set below is not kept. */
static int v1_write_in_step(int guest_fd, const char *file, const char *old, const char *value,
                            bool create_files) {
        struct ubc_cpuset was, want, both;
        char wider[CG_FILE_MAX];
        int r;

        if ((!streq(file, "cpuset.cpus") && !streq(file, "cpuset.mems")) || create_files ||
            cg_cpulist_parse(old, &was) < 0 || cg_cpulist_parse(value, &want) < 0)
                return cg_file_write(guest_fd, file, value, create_files);
        for (size_t i = 0; i < ELEMENTSOF(both.bits); i++)
                both.bits[i] = was.bits[i] | want.bits[i];
        if (memcmp(&both, &was, sizeof(both)) != 0) {
                r = cpuset_format(&both, wider, sizeof(wider));
                if (r >= 0)
                        r = cg_file_write(guest_fd, file, wider, false);
                if (r < 0)
                        return r;
        }
        r = cg_for_each_below(guest_fd, write_file_value, &(struct file_value){file, value});
        if (r < 0)
                return r;
        return cg_file_write(guest_fd, file, value, false);
}

static int v1_read_limit(int guest_fd, const char *file, uint64_t *ret) {
        char buf[64];
        char *end;
        unsigned long long v;
        int r;

        r = cg_file_read_value(guest_fd, file, buf, sizeof(buf));
        if (r == -ENOENT) {
                *ret = UBC_UNLIMITED;
                return 0;
        }
        if (r < 0)
                return r;
        if (buf[0] == '-') {
                *ret = UBC_UNLIMITED;
                return 0;
        }
        errno = 0;
        v = strtoull(buf, &end, 10);
        if (errno != 0 || end == buf || *end)
                return -EBADMSG;
        *ret = v >= V1_UNLIMITED_FROM ? UBC_UNLIMITED : (uint64_t) v;
        return 0;
}

static int v1_read_throttles(int guest_fd, struct cg_current *cur) {
        for (size_t i = 0; i < ELEMENTSOF(v1_throttle_files); i++) {
                char buf[CG_FILE_MAX];
                int r;

                r = cg_file_read(guest_fd, v1_throttle_files[i], buf, sizeof(buf));
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        return r;

                for (char *line = buf, *next; line && *line; line = next) {
                        unsigned major, minor;
                        const char *rest;

                        next = strchr(line, '\n');
                        if (next)
                                *next++ = 0;
                        if (!cg_parse_dev_line(line, &major, &minor, &rest))
                                continue;
                        /* "MAJ:MIN 0" clears a rule, so the kernel never lists one */
                        if (streq(rest, "0"))
                                continue;
                        r = cg_current_add_dev(cur, major, minor);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static int v1_read_current(int guest_fd, enum ubc_ctrl c, struct cg_current *cur) {
        int r;

        switch (c) {
        case UBC_CTRL_MEMORY:
                r = v1_read_limit(guest_fd, "memory.limit_in_bytes", &cur->v1_mem_limit);
                if (r < 0)
                        return r;
                return v1_read_limit(guest_fd, "memory.memsw.limit_in_bytes", &cur->v1_memsw_limit);
        case UBC_CTRL_IO:
                return v1_read_throttles(guest_fd, cur);
        default:
                return 0;
        }
}

const struct cg_ops cg_v1_ops = {
        .version = CG_VERSION_V1,
        .ctrl_name =
                {
                        [UBC_CTRL_CPU] = "cpu",
                        [UBC_CTRL_CPUSET] = "cpuset",
                        [UBC_CTRL_MEMORY] = "memory",
                        [UBC_CTRL_IO] = "blkio",
                        [UBC_CTRL_PIDS] = "pids",
                        [UBC_CTRL_CPUACCT] = "cpuacct",
                },
        .files = v1_files,
        .n_files = ELEMENTSOF(v1_files),
        .cpus_file = "cpuset.cpus",
        .swap_file = "memory.memsw.limit_in_bytes",
        .io_weight =
                {
                        {"blkio.weight", UBC_IO_WEIGHT_V1, false},
                        /* BFQ shows its files whenever it is built in, active on a disk or not */
                        {"blkio.bfq.weight", UBC_IO_WEIGHT_V1_BFQ, true},
                },
        .root_prepare = v1_root_prepare,
        .guest_prepare = v1_guest_prepare,
        .read_current = v1_read_current,
        .write_in_step = v1_write_in_step,
};
