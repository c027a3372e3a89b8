/* Read-only access to the live cgroups for `ubcctl apply --dry-run`. cg_root_open() makes the
 * owned root where it is missing; a dry run must change nothing, so it opens only what exists
 * and leaves the rest to the printed mkdir lines. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ubc/macro.h"
#include "cg-discover.h"
#include "cg-file.h"
#include "cg-ops.h"
#include "ubcctl-cgread.h"

/* v1 cpusets: what a guest made now would inherit, from the owned root or, before that
 * exists, from the hierarchy's top (which the owned root copies when it is made). */
static int read_cpuset_defaults(int dir_fd, struct ubc_host *host) {
        char cpus[sizeof(host->root_cpus)], mems[sizeof(host->root_mems)];
        int k;

        k = cg_file_read_value(dir_fd, "cpuset.cpus", cpus, sizeof(cpus));
        if (k >= 0)
                k = cg_file_read_value(dir_fd, "cpuset.mems", mems, sizeof(mems));
        if (k < 0)
                return k;
        if (!cpus[0] || !mems[0])
                return -ENODATA;
        memcpy(host->root_cpus, cpus, sizeof(cpus));
        memcpy(host->root_mems, mems, sizeof(mems));
        return 0;
}

int cgread_root_open(const char *root, struct ubc_host *host, struct cg_root *ret) {
        struct cg_mounts m;
        struct cg_root r = {};
        int k;

        for (enum ubc_ctrl c = 0; c < _UBC_CTRL_MAX; c++)
                r.fd[c] = -EBADF;
        if (!cg_root_name_is_valid(root))
                return -EINVAL;
        k = cg_discover_mounts(&m);
        if (k < 0)
                return k;
        r.mode = m.mode;

        for (enum ubc_ctrl c = 0; c < _UBC_CTRL_MAX; c++) {
                _cleanup_close_ int mount_fd = -EBADF;
                const struct cg_ops *ops = cg_ops_for(m.version[c]);

                if (!ops)
                        continue;
                if (snprintf(r.path[c], sizeof(r.path[c]), "%s/%s", m.path[c], root) >=
                    (int) sizeof(r.path[c])) {
                        k = -ENAMETOOLONG;
                        goto fail;
                }
                r.version[c] = m.version[c];
                r.ops[c] = ops;

                mount_fd = open(m.path[c], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (mount_fd < 0) {
                        k = negative_errno();
                        goto fail;
                }
                k = cg_dir_open_path(mount_fd, root);
                if (k < 0 && k != -ENOENT)
                        goto fail;
                r.fd[c] = k >= 0 ? k : -EBADF;

                if (c == UBC_CTRL_CPUSET && m.version[c] == CG_VERSION_V1 && host &&
                    (r.fd[c] < 0 || read_cpuset_defaults(r.fd[c], host) < 0))
                        (void) read_cpuset_defaults(mount_fd, host);
        }

        *ret = r;
        return 0;

fail:
        cg_root_close(&r);
        return k;
}

bool cgread_root_exists(const struct cg_root *r, enum ubc_ctrl c) {
        return (unsigned) c < _UBC_CTRL_MAX && r->fd[c] >= 0;
}

int cgread_guest_path(struct cg_root *r, enum ubc_ctrl c, uint32_t id, char *buf, size_t size) {
        char name[CG_ID_NAME_MAX];
        int k;

        if ((unsigned) c >= _UBC_CTRL_MAX || !r->path[c][0])
                return -EOPNOTSUPP;
        k = cg_id_name(id, name);
        if (k < 0)
                return k;
        k = snprintf(buf, size, "%s/%s", r->path[c], name);
        if (k < 0 || (size_t) k >= size)
                return -ENOBUFS;
        return 0;
}

bool cgread_guest_dir_exists(const struct cg_root *r, enum ubc_ctrl c, uint32_t id) {
        char name[CG_ID_NAME_MAX];
        struct stat st;

        if (!cgread_root_exists(r, c) || cg_id_name(id, name) < 0)
                return false;
        return fstatat(r->fd[c], name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

bool cgread_first_of_hierarchy(const struct cg_root *r, enum ubc_ctrl c) {
        if ((unsigned) c >= _UBC_CTRL_MAX || !r->path[c][0])
                return false;
        for (enum ubc_ctrl d = 0; d < c; d++)
                if (streq(r->path[d], r->path[c]))
                        return false;
        return true;
}
