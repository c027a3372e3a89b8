/* The cgroup v2 backend: one hierarchy, controllers handed down through cgroup.subtree_control,
 * cpu.weight, cpu.max, memory.high/max, io.max. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ubc/macro.h"

#include "cg-file.h"
#include "cg-ops.h"

static const struct cg_file_kind v2_files[] = {
        {"cpu.weight", CG_VALUE_UINT},
        {"cpu.max", CG_VALUE_CPU_MAX},
        {"cpuset.cpus", CG_VALUE_CPUSET},
        {"cpuset.mems", CG_VALUE_CPUSET},
        {"memory.min", CG_VALUE_BYTES},
        {"memory.low", CG_VALUE_BYTES},
        {"memory.high", CG_VALUE_BYTES},
        {"memory.max", CG_VALUE_BYTES},
        {"memory.swap.max", CG_VALUE_BYTES},
        {"io.weight", CG_VALUE_WEIGHT_DEFAULT},
        {"io.bfq.weight", CG_VALUE_WEIGHT_DEFAULT},
        {"io.max", CG_VALUE_DEV_IO_MAX},
        {"pids.max", CG_VALUE_MAX_UINT},
};

/* Whether a space-separated list as in cgroup.controllers holds 'name'. */
static bool v2_list_has(const char *list, const char *name) {
        size_t n = strlen(name);

        for (const char *p = list; *p;) {
                size_t k;

                p += strspn(p, " \n");
                k = strcspn(p, " \n");
                if (k == n && strncmp(p, name, n) == 0)
                        return true;
                p += k;
        }
        return false;
}

/* Hands the controllers down from dir_fd to its children, each on its own so that one the
 * kernel lacks does not keep the others back. */
static int v2_enable_below(int dir_fd, unsigned ctrls) {
        char avail[1024], enabled[1024];
        int r;

        r = cg_file_read(dir_fd, "cgroup.controllers", avail, sizeof(avail));
        if (r < 0)
                return r;
        r = cg_file_read(dir_fd, "cgroup.subtree_control", enabled, sizeof(enabled));
        if (r < 0)
                return r;

        for (enum ubc_ctrl c = 0; c < _UBC_CTRL_MAX; c++) {
                char op[32];

                if (!(ctrls & (1u << c)) || !cg_v2_ops.ctrl_name[c])
                        continue;
                if (!v2_list_has(avail, cg_v2_ops.ctrl_name[c]) ||
                    v2_list_has(enabled, cg_v2_ops.ctrl_name[c]))
                        continue;
                snprintf(op, sizeof(op), "+%s", cg_v2_ops.ctrl_name[c]);
                r = cg_file_write(dir_fd, "cgroup.subtree_control", op, false);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int v2_root_prepare(int parent_fd, int dir_fd, unsigned ctrls, bool is_owned_root) {
        int r;

        /* From the mount down to the owned root, so that guests below it get the files;
         * guests are leaves and enable nothing themselves. */
        r = v2_enable_below(parent_fd, ctrls);
        if (r < 0)
                return r;
        if (is_owned_root)
                return v2_enable_below(dir_fd, ctrls);
        return 0;
}

static int v2_guest_prepare(int root_fd, int guest_fd, enum ubc_ctrl c, const struct ubc_host *host,
                            bool create_files, bool fresh, const char *cpus) {
        return 0;
}

static int v2_read_current(int guest_fd, enum ubc_ctrl c, struct cg_current *cur) {
        char buf[CG_FILE_MAX];
        int r;

        if (c != UBC_CTRL_IO)
                return 0;

        r = cg_file_read(guest_fd, "io.max", buf, sizeof(buf));
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;

        /* io.max lists only devices with some limit */
        for (char *line = buf, *next; line && *line; line = next) {
                unsigned major, minor;
                const char *rest;

                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                if (!cg_parse_dev_line(line, &major, &minor, &rest))
                        continue;
                r = cg_current_add_dev(cur, major, minor);
                if (r < 0)
                        return r;
        }
        return 0;
}

const struct cg_ops cg_v2_ops = {
        .version = CG_VERSION_V2,
        .ctrl_name =
                {
                        [UBC_CTRL_CPU] = "cpu",
                        [UBC_CTRL_CPUSET] = "cpuset",
                        [UBC_CTRL_MEMORY] = "memory",
                        [UBC_CTRL_IO] = "io",
                        [UBC_CTRL_PIDS] = "pids",
                },
        .files = v2_files,
        .n_files = ELEMENTSOF(v2_files),
        .cpus_file = "cpuset.cpus.effective",
        .swap_file = "memory.swap.max",
        .io_weight =
                {
                        {"io.weight", UBC_IO_WEIGHT_V2, false},
                        /* BFQ shows its files whenever it is built in, active on a disk or not */
                        {"io.bfq.weight", UBC_IO_WEIGHT_V2_BFQ, true},
                },
        .root_prepare = v2_root_prepare,
        .guest_prepare = v2_guest_prepare,
        .read_current = v2_read_current,
};
