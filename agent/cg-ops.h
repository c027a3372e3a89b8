/* One backend per cgroup version (agent/cg-v1.c, agent/cg-v2.c): everything that differs
 * between v1 and v2 sits behind this table, so callers never branch on the version. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "ubc/cgroup.h"
#include "ubc/host.h"
#include "ubc/plan.h"

/* How the kernel reads back what was written to a file, for cg_value_matches(). */
enum cg_value_kind {
        CG_VALUE_TEXT,           /* as written, trailing whitespace aside */
        CG_VALUE_UINT,           /* decimal */
        CG_VALUE_SHARES,         /* v1 cpu.shares: clamped by the kernel to 2..262144 */
        CG_VALUE_MAX_UINT,       /* "max" or decimal: pids.max */
        CG_VALUE_BYTES,          /* memory sizes: rounded down to pages; "-1", "max" or huge = unlimited */
        CG_VALUE_CFS_QUOTA,      /* v1 cpu.cfs_quota_us: any negative reads back as -1 */
        CG_VALUE_CPU_MAX,        /* v2 cpu.max: "QUOTA|max [PERIOD]" */
        CG_VALUE_CPUSET,         /* CPU or node lists, compared as sets */
        CG_VALUE_WEIGHT_DEFAULT, /* v2 io.weight, io.bfq.weight: "default N" on the first line */
        CG_VALUE_DEV_V1,         /* blkio.throttle.*_device: "MAJ:MIN N"; no line means 0 */
        CG_VALUE_DEV_IO_MAX,     /* io.max: "MAJ:MIN rbps=N wbps=N riops=N wiops=N"; no line means max */
};

struct cg_file_kind {
        const char *file;
        enum cg_value_kind kind;
};

/* A file whose presence shows a weight knob, and whether it only acts under BFQ. */
struct cg_io_weight_probe {
        const char *file;
        enum ubc_io_weight_file kind;
        bool needs_bfq;
};

struct cg_ops {
        enum cg_version version;
        const char *ctrl_name[_UBC_CTRL_MAX]; /* "blkio" on v1, "io" on v2 */
        const struct cg_file_kind *files;
        size_t n_files;

        /* Host facts read from the owned root (or, before it exists, the mount) */
        const char *cpus_file; /* the CPUs a cgroup may use */
        const char *swap_file; /* present where swap is accounted */
        struct cg_io_weight_probe io_weight[2];

        /* One component of the owned root, just made or found, before anything joins.
         * 'ctrls' holds a bit per enum ubc_ctrl bound to this hierarchy; 'is_owned_root' is
         * set for the last component. */
        int (*root_prepare)(int parent_fd, int dir_fd, unsigned ctrls, bool is_owned_root);
        /* A guest's directory of controller c, made ready for tasks before anything joins;
         * 'fresh' when it was just made; 'cpus' the CPUs it is to have, NULL for the root's. */
        int (*guest_prepare)(int root_fd, int guest_fd, enum ubc_ctrl c, const struct ubc_host *host,
                             bool create_files, bool fresh, const char *cpus);
        /* Adds what controller c's files say to *cur. */
        int (*read_current)(int guest_fd, enum ubc_ctrl c, struct cg_current *cur);
        /* Writes a guest's file where the cgroups below it (a container's) must change in step
         * for the kernel to take the value; 'old' is the guest's value before. NULL: a plain
         * write always does. */
        int (*write_in_step)(int guest_fd, const char *file, const char *old, const char *value,
                             bool create_files);
};

extern const struct cg_ops cg_v1_ops;
extern const struct cg_ops cg_v2_ops;

/* NULL for CG_VERSION_NONE. */
const struct cg_ops *cg_ops_for(enum cg_version v);

/* Shared by the backends (agent/cg-apply.c). */
#define CG_UINT_MAX UINT64_MAX /* "max" parsed */
/* "MAJ:MIN rest": the device and where the rest starts. */
bool cg_parse_dev_line(const char *line, unsigned *ret_major, unsigned *ret_minor, const char **ret_rest);
/* Notes a throttled device once; -E2BIG when cur has no room left. */
int cg_current_add_dev(struct cg_current *cur, unsigned major, unsigned minor);
/* "0-3,6" as the kernel prints it; -ERANGE beyond UBC_CPUS_MAX. */
int cg_cpulist_parse(const char *s, struct ubc_cpuset *ret);
/* A memory size file's value as the kernel keeps it: page-rounded, UBC_UNLIMITED for none. */
int cg_parse_bytes(const char *s, uint64_t *ret);
