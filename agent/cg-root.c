/* The subtree ubcd owns: made in every hierarchy, guests below it named by ID only, processes
 * moved into them. Everything works relative to the owned root's directory fds. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ubc/cgroup.h"
#include "ubc/macro.h"
#include "ubc/policy.h"

#include "cg-discover.h"
#include "cg-file.h"
#include "cg-ops.h"

/* cpuset first: a v1 cpuset is the hierarchy that refuses tasks (empty cpus or mems), and
 * failing there leaves the process where it was in every other hierarchy. */
static const enum ubc_ctrl attach_order[] = {
        UBC_CTRL_CPUSET, UBC_CTRL_CPU, UBC_CTRL_MEMORY, UBC_CTRL_IO, UBC_CTRL_PIDS, UBC_CTRL_CPUACCT,
};

/* Bounds cg_guest_list against a directory someone filled by hand. */
#define CG_GUEST_LIST_MAX ((size_t) UBC_GUESTS_MAX * _UBC_CTRL_MAX)

static void root_init(struct cg_root *r) {
        *r = (struct cg_root){};
        for (enum ubc_ctrl c = 0; c < _UBC_CTRL_MAX; c++)
                r->fd[c] = -EBADF;
}

bool cg_first_of_hierarchy(const struct cg_root *r, enum ubc_ctrl c) {
        if (r->fd[c] < 0)
                return false;
        for (enum ubc_ctrl d = 0; d < c; d++)
                if (r->fd[d] >= 0 && streq(r->path[d], r->path[c]))
                        return false;
        return true;
}

void cg_root_close(struct cg_root *r) {
        for (enum ubc_ctrl c = 0; c < _UBC_CTRL_MAX; c++) {
                if (r->fd[c] >= 0)
                        close(r->fd[c]);
                r->fd[c] = -EBADF;
        }
}

int cg_root_open_fake(const char *dir, enum cg_version v, struct cg_root *ret) {
        _cleanup_close_ int dfd = -EBADF;
        const struct cg_ops *ops = cg_ops_for(v);
        struct cg_root r;
        int k;

        if (!ops)
                return -EINVAL;
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return negative_errno();

        root_init(&r);
        r.mode = v == CG_VERSION_V1 ? CG_MODE_LEGACY : CG_MODE_UNIFIED;
        r.create_files = true;

        for (enum ubc_ctrl c = 0; c < _UBC_CTRL_MAX; c++) {
                const char *name = ops->ctrl_name[c];

                if (!name) /* not a controller of this version */
                        continue;
                if (v == CG_VERSION_V1) {
                        k = cg_dir_make(dfd, name);
                        if (k >= 0)
                                k = cg_dir_open(dfd, name);
                        if (k >= 0 && snprintf(r.path[c], sizeof(r.path[c]), "%s/%s", dir, name) >=
                                              (int) sizeof(r.path[c]))
                                k = -ENAMETOOLONG;
                } else {
                        k = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
                        if (k < 0)
                                k = negative_errno();
                        else if (snprintf(r.path[c], sizeof(r.path[c]), "%s", dir) >=
                                 (int) sizeof(r.path[c]))
                                k = -ENAMETOOLONG;
                }
                if (k < 0) {
                        cg_root_close(&r);
                        return k;
                }
                r.fd[c] = k;
                r.version[c] = v;
                r.ops[c] = ops;
        }

        *ret = r;
        return 0;
}

/* What cg_root_open made in one hierarchy, to take it back when a later step fails. */
struct made {
        int mount_fd;
        int first_made; /* depth of the first component made, -1 if none */
        int depth;      /* components walked */
};

/* Makes or finds each component of 'root' below the mount, one mkdirat at a time, and lets
 * the backend prepare each before going deeper. */
static int root_walk(struct made *m, const char *root, const struct cg_ops *ops, unsigned ctrls) {
        _cleanup_close_ int parent = -EBADF;
        char name[NAME_MAX + 1];

        parent = fcntl(m->mount_fd, F_DUPFD_CLOEXEC, 3);
        if (parent < 0)
                return negative_errno();

        for (const char *p = root; *p;) {
                size_t n = strcspn(p, "/");
                bool last;
                int fd, k;

                if (n > NAME_MAX)
                        return -ENAMETOOLONG;
                memcpy(name, p, n);
                name[n] = 0;
                p += n;
                if (*p == '/')
                        p++;
                last = !*p;

                k = cg_dir_make(parent, name);
                if (k < 0)
                        return k;
                if (k > 0 && m->first_made < 0)
                        m->first_made = m->depth;
                m->depth++;

                fd = cg_dir_open(parent, name);
                if (fd < 0)
                        return fd;
                k = ops->root_prepare(parent, fd, ctrls, last);
                close(parent);
                parent = fd;
                if (k < 0)
                        return k;
        }
        return TAKE_FD(parent);
}

/* Removes, deepest first, what root_walk made. */
static void root_unwalk(const struct made *m, const char *root) {
        for (int d = m->depth - 1; m->first_made >= 0 && d >= m->first_made; d--) {
                char prefix[PATH_MAX];
                const char *p = root;

                for (int i = 0; i <= d; i++) {
                        p += strcspn(p, "/");
                        if (i < d && *p == '/')
                                p++;
                }
                snprintf(prefix, sizeof(prefix), "%.*s", (int) (p - root), root);
                (void) unlinkat(m->mount_fd, prefix, AT_REMOVEDIR);
        }
}

static int root_fill_host(const struct cg_root *r, const struct cg_mounts *m, struct ubc_host *host) {
        int no_fd[_UBC_CTRL_MAX];
        char cpus[sizeof(host->root_cpus)] = "", mems[sizeof(host->root_mems)] = "";
        int k;

        for (enum ubc_ctrl c = 0; c < _UBC_CTRL_MAX; c++)
                no_fd[c] = -EBADF;

        /* The owned root exists now, with its controllers, so this is what guests will get. */
        k = cg_discover_root_facts(m->version, no_fd, r->fd, host);
        if (k < 0)
                return k;

        if (r->version[UBC_CTRL_CPUSET] == CG_VERSION_V1) {
                k = cg_file_read_value(r->fd[UBC_CTRL_CPUSET], "cpuset.cpus", cpus, sizeof(cpus));
                if (k >= 0)
                        k = cg_file_read_value(r->fd[UBC_CTRL_CPUSET], "cpuset.mems", mems, sizeof(mems));
                if (k < 0)
                        return k;
        }
        memcpy(host->root_cpus, cpus, sizeof(cpus));
        memcpy(host->root_mems, mems, sizeof(mems));
        host->mode = m->mode;
        for (enum ubc_ctrl c = 0; c < _UBC_CTRL_MAX; c++)
                host->ctrl[c] = m->version[c];
        return 0;
}

int cg_root_open(const char *root, struct ubc_host *host, struct cg_root *ret) {
        struct made made[_UBC_CTRL_MAX];
        struct cg_mounts m;
        struct cg_root r;
        bool any = false;
        int k = 0;

        if (!cg_root_name_is_valid(root))
                return -EINVAL;
        k = cg_discover_mounts(&m);
        if (k < 0)
                return k;

        root_init(&r);
        r.mode = m.mode;
        for (enum ubc_ctrl c = 0; c < _UBC_CTRL_MAX; c++)
                made[c] = (struct made){.mount_fd = -EBADF, .first_made = -1};

        for (enum ubc_ctrl c = 0; c < _UBC_CTRL_MAX; c++) {
                const struct cg_ops *ops = cg_ops_for(m.version[c]);
                unsigned ctrls = 0;
                enum ubc_ctrl first = c;

                if (!ops)
                        continue;
                any = true;
                if (snprintf(r.path[c], sizeof(r.path[c]), "%s/%s", m.path[c], root) >=
                    (int) sizeof(r.path[c])) {
                        k = -ENAMETOOLONG;
                        goto fail;
                }
                r.version[c] = m.version[c];
                r.ops[c] = ops;

                for (enum ubc_ctrl d = 0; d < c; d++)
                        if (r.fd[d] >= 0 && streq(m.path[d], m.path[c]))
                                first = d;
                if (first != c) {
                        /* co-mounted, or v2: the directory is open already */
                        r.fd[c] = fcntl(r.fd[first], F_DUPFD_CLOEXEC, 3);
                        if (r.fd[c] < 0) {
                                k = negative_errno();
                                goto fail;
                        }
                        continue;
                }

                for (enum ubc_ctrl d = c; d < _UBC_CTRL_MAX; d++)
                        if (m.version[d] == m.version[c] && streq(m.path[d], m.path[c]))
                                ctrls |= 1u << d;

                made[c].mount_fd = open(m.path[c], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (made[c].mount_fd < 0) {
                        k = negative_errno();
                        made[c].mount_fd = -EBADF;
                        goto fail;
                }
                k = root_walk(&made[c], root, ops, ctrls);
                if (k < 0)
                        goto fail;
                r.fd[c] = k;
        }
        if (!any) {
                k = -ENOMEDIUM;
                goto fail;
        }

        if (host) {
                k = root_fill_host(&r, &m, host);
                if (k < 0)
                        goto fail;
        }

        for (enum ubc_ctrl c = 0; c < _UBC_CTRL_MAX; c++)
                if (made[c].mount_fd >= 0)
                        close(made[c].mount_fd);
        *ret = r;
        return 0;

fail:
        cg_root_close(&r);
        for (enum ubc_ctrl c = _UBC_CTRL_MAX; c-- > 0;) {
                if (made[c].mount_fd < 0)
                        continue;
                root_unwalk(&made[c], root);
                close(made[c].mount_fd);
        }
        return k;
}

int cg_guest_path(struct cg_root *r, enum ubc_ctrl c, uint32_t id, char *buf, size_t size) {
        char name[CG_ID_NAME_MAX];
        int k;

        if ((unsigned) c >= _UBC_CTRL_MAX || r->fd[c] < 0)
                return -EOPNOTSUPP;
        k = cg_id_name(id, name);
        if (k < 0)
                return k;
        k = snprintf(buf, size, "%s/%s", r->path[c], name);
        if (k < 0 || (size_t) k >= size)
                return -ENOBUFS;
        return 0;
}

/* Removes a guest's directory in one hierarchy. Fake roots hold real files, which rmdir
 * would refuse; cgroupfs removes its control files itself. */
static int guest_rmdir(struct cg_root *r, enum ubc_ctrl c, const char *name) {
        if (r->create_files) {
                _cleanup_close_ int fd = -EBADF;
                DIR *d;

                fd = cg_dir_open(r->fd[c], name);
                if (fd == -ENOENT)
                        return 0;
                if (fd < 0)
                        return fd;
                d = fdopendir(fd);
                if (!d)
                        return negative_errno();
                (void) TAKE_FD(fd);
                for (struct dirent *de; (de = readdir(d));)
                        if (de->d_type == DT_REG)
                                (void) unlinkat(dirfd(d), de->d_name, 0);
                closedir(d);
        }
        if (unlinkat(r->fd[c], name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                return negative_errno();
        return 0;
}

/* The CPUs a plan gives a v1 cpuset, NULL if it gives none. */
static const char *plan_v1_cpus(const struct cg_root *r, const struct cg_plan *plan) {
        if (!plan || r->version[UBC_CTRL_CPUSET] != CG_VERSION_V1)
                return NULL;
        for (unsigned i = 0; i < plan->n; i++)
                if (plan->w[i].ctrl == UBC_CTRL_CPUSET && streq(plan->w[i].file, "cpuset.cpus"))
                        return plan->w[i].value;
        return NULL;
}

int cg_guest_create(struct cg_root *r, const struct ubc_host *host, uint32_t id) {
        return cg_guest_create_for(r, host, id, NULL);
}

int cg_guest_create_for(struct cg_root *r, const struct ubc_host *host, uint32_t id,
                        const struct cg_plan *plan) {
        const char *cpus = plan_v1_cpus(r, plan);
        char name[CG_ID_NAME_MAX];
        bool made[_UBC_CTRL_MAX] = {}, dir_new[_UBC_CTRL_MAX] = {}, fresh = true;
        int k;

        k = cg_id_name(id, name);
        if (k < 0)
                return k;

        for (size_t i = 0; i < ELEMENTSOF(attach_order); i++) {
                enum ubc_ctrl c = attach_order[i];
                _cleanup_close_ int fd = -EBADF;

                if (r->fd[c] < 0)
                        continue;
                /* Made once per hierarchy; prepared per controller (cpu and cpuset may share
                 * one). Present already is fine: create is how a half-made guest is completed. */
                k = cg_dir_make(r->fd[c], name);
                if (k < 0)
                        goto fail;
                made[c] = k > 0;
                /* Controllers sharing a hierarchy (all of them on v2) share the new directory. */
                if (made[c])
                        for (enum ubc_ctrl d = 0; d < _UBC_CTRL_MAX; d++)
                                if (r->fd[d] >= 0 && streq(r->path[d], r->path[c]))
                                        dir_new[d] = true;
                fresh = fresh && dir_new[c];
                fd = cg_dir_open(r->fd[c], name);
                if (fd < 0) {
                        k = fd;
                        goto fail;
                }
                k = r->ops[c]->guest_prepare(r->fd[c], fd, c, host, r->create_files, dir_new[c], cpus);
                if (k < 0)
                        goto fail;
        }
        return fresh ? 1 : 0;

fail:
        for (size_t i = ELEMENTSOF(attach_order); i-- > 0;)
                if (made[attach_order[i]])
                        (void) guest_rmdir(r, attach_order[i], name);
        return k;
}

/* In every hierarchy: a guest missing in one is only half made, and cg_guest_create is what
 * completes it. cg_guest_list still shows it, so it can be removed. */
bool cg_guest_exists(struct cg_root *r, uint32_t id) {
        char name[CG_ID_NAME_MAX];
        bool any = false;

        if (cg_id_name(id, name) < 0)
                return false;
        for (enum ubc_ctrl c = 0; c < _UBC_CTRL_MAX; c++) {
                struct stat st;

                if (r->fd[c] < 0)
                        continue;
                if (fstatat(r->fd[c], name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
                        return false;
                any = true;
        }
        return any;
}

int cg_guest_nprocs(struct cg_root *r, uint32_t id, unsigned *ret) {
        unsigned most = 0;
        bool found = false;

        for (enum ubc_ctrl c = 0; c < _UBC_CTRL_MAX; c++) {
                _cleanup_close_ int fd = -EBADF;
                unsigned n;
                int k;

                if (!cg_first_of_hierarchy(r, c))
                        continue;
                fd = cg_guest_open_at(r->fd[c], id);
                if (fd == -ENOENT)
                        continue;
                if (fd < 0)
                        return fd;
                k = cg_tree_count_procs(fd, &n);
                if (k == -ENOENT && r->create_files) {
                        /* a fake guest nobody attached to */
                        n = 0;
                        k = 0;
                }
                if (k < 0)
                        return k;
                found = true;
                if (n > most)
                        most = n;
        }
        if (!found)
                return -ENOENT;
        *ret = most;
        return 0;
}

int cg_guest_remove(struct cg_root *r, uint32_t id) {
        char name[CG_ID_NAME_MAX];
        unsigned n;
        int k;

        k = cg_id_name(id, name);
        if (k < 0)
                return k;
        k = cg_guest_nprocs(r, id, &n);
        if (k == -ENOENT)
                return 0;
        if (k < 0)
                return k;
        if (n > 0)
                return -EBUSY;

        for (enum ubc_ctrl c = 0; c < _UBC_CTRL_MAX; c++) {
                if (!cg_first_of_hierarchy(r, c))
                        continue;
                /* -EBUSY if a process joined since the count */
                k = guest_rmdir(r, c, name);
                if (k < 0)
                        return k;
        }
        return 0;
}

int cg_guest_attach(struct cg_root *r, uint32_t id, pid_t pid) {
        char value[32];

        if (pid <= 0)
                return -EINVAL;
        snprintf(value, sizeof(value), "%d", (int) pid);

        for (size_t i = 0; i < ELEMENTSOF(attach_order); i++) {
                enum ubc_ctrl c = attach_order[i];
                _cleanup_close_ int fd = -EBADF;
                int k;

                if (!cg_first_of_hierarchy(r, c))
                        continue;
                fd = cg_guest_open_at(r->fd[c], id);
                if (fd < 0)
                        return fd;
                k = cg_file_write(fd, "cgroup.procs", value, r->create_files);
                if (k < 0)
                        return k;
        }
        return 0;
}

static int id_compare(const void *a, const void *b) {
        uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;

        return x < y ? -1 : x > y;
}

static int list_dir(int root_fd, uint32_t **ids, size_t *n, size_t *allocated) {
        _cleanup_close_ int fd = -EBADF;
        DIR *d;
        int k = 0;

        /* its own open file description: readdir must not move the root fd's offset */
        fd = openat(root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        d = fdopendir(fd);
        if (!d)
                return negative_errno();
        (void) TAKE_FD(fd);

        for (struct dirent *de; (de = readdir(d));) {
                uint32_t id;

                if (!cg_id_from_name(de->d_name, &id))
                        continue;
                if (de->d_type == DT_UNKNOWN) {
                        struct stat st;

                        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
                            !S_ISDIR(st.st_mode))
                                continue;
                } else if (de->d_type != DT_DIR)
                        continue;
                if (*n >= CG_GUEST_LIST_MAX) {
                        k = -E2BIG;
                        break;
                }
                if (*n == *allocated) {
                        size_t want = *allocated ? *allocated * 2 : 64;
                        uint32_t *p = reallocarray(*ids, want, sizeof(**ids));
                        if (!p) {
                                k = -ENOMEM;
                                break;
                        }
                        *ids = p;
                        *allocated = want;
                }
                (*ids)[(*n)++] = id;
        }
        closedir(d);
        return k;
}

int cg_guest_list(struct cg_root *r, uint32_t **ret, size_t *ret_n) {
        _cleanup_free_ uint32_t *ids = NULL;
        size_t n = 0, allocated = 0, unique = 0;
        int k;

        for (enum ubc_ctrl c = 0; c < _UBC_CTRL_MAX; c++) {
                if (!cg_first_of_hierarchy(r, c))
                        continue;
                k = list_dir(r->fd[c], &ids, &n, &allocated);
                if (k < 0)
                        return k;
        }

        if (n > 0) {
                qsort(ids, n, sizeof(ids[0]), id_compare);
                for (size_t i = 0; i < n; i++)
                        if (unique == 0 || ids[unique - 1] != ids[i])
                                ids[unique++] = ids[i];
        }
        *ret = TAKE_PTR(ids);
        *ret_n = unique;
        return 0;
}
