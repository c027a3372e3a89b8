/* Where this host mounts its cgroup hierarchies, and the host facts that depend on the owned
 * root; agent/cg-discover.c is the only code that knows a mount path. */
#pragma once

#include "ubc/host.h"

#define CG_MOUNT_PATH_MAX 192

struct cg_mounts {
        enum cg_mode mode;
        enum cg_version version[_UBC_CTRL_MAX];
        char path[_UBC_CTRL_MAX][CG_MOUNT_PATH_MAX]; /* "" where the controller is absent */
};

int cg_discover_mounts(struct cg_mounts *ret);

/* CPUs, swap accounting and the I/O weight file, read from the owned root where root_fd[c]
 * is open, else from the hierarchy (mount_fd[c]); either may be -EBADF. Changes only those
 * fields of *host, and only on success. */
int cg_discover_root_facts(const enum cg_version version[_UBC_CTRL_MAX], const int mount_fd[_UBC_CTRL_MAX],
                           const int root_fd[_UBC_CTRL_MAX], struct ubc_host *host);
