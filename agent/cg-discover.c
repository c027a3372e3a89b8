/* Discovery: the cgroup mode, which hierarchy carries each controller, and what this host's
 * CPUs, memory, swap accounting and block devices offer. Reads only; changes nothing.
 *
 * libcgroup answers where each controller is mounted, including co-mounted v1 hierarchies
 * ("cpu,cpuacct") and v2 controllers listed in a cgroup2 mount; that is what it knows best.
 * Creating, attaching, removing and every read or write of a control file go directly through
 * directory fds instead (agent/cg-file.c): relative to the owned root, a name can never climb
 * out of the owned subtree; the same code runs on a fake root in unit tests; and the hot
 * paths (sampling, reconcile) need no new discovery per call. libcgroup prints its errors on
 * stdout unless a logger was installed (cgroup_set_logger) before this first runs, so the
 * program using this library installs one. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libcgroup.h>
#include <libproc2/meminfo.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "ubc/cgroup.h"
#include "ubc/macro.h"

#include "cg-discover.h"
#include "cg-file.h"
#include "cg-ops.h"

#define CG_MOUNT_ROOT   "/sys/fs/cgroup"
#define CG_HYBRID_V2    CG_MOUNT_ROOT "/unified"
#define SYS_CPU_DIR     "/sys/devices/system/cpu"
#define SYS_CLASS_BLOCK "/sys/class/block"

/* A hierarchy may hold many cgroups; looking into this many for a file is enough to know
 * whether the kernel offers it. */
#define CG_PROBE_CHILDREN_MAX 64

static int fs_type(const char *path, long *ret) {
        struct statfs sfs;

        if (statfs(path, &sfs) < 0)
                return negative_errno();
        *ret = (long) sfs.f_type;
        return 0;
}

static enum cg_mode detect_mode(void) {
        long t;

        if (fs_type(CG_MOUNT_ROOT, &t) >= 0 && t == CGROUP2_SUPER_MAGIC)
                return CG_MODE_UNIFIED;
        if (fs_type(CG_HYBRID_V2, &t) >= 0 && t == CGROUP2_SUPER_MAGIC)
                return CG_MODE_HYBRID;
        return CG_MODE_LEGACY;
}

static int lookup_mount(const char *name, char *buf, size_t size) {
        char *mnt = NULL;
        int r;

        r = cgroup_get_subsys_mount_point(name, &mnt);
        if (r != 0 || !mnt) {
                free(mnt);
                return -ENOENT;
        }
        if (strlen(mnt) >= size) {
                free(mnt);
                return -ENAMETOOLONG;
        }
        strcpy(buf, mnt);
        free(mnt);
        return 0;
}

/* A v2 controller counts only where the mount lists it: it may be bound to v1 instead. */
static bool v2_lists(const char *mount, const char *name) {
        _cleanup_close_ int fd = -EBADF;
        char buf[1024];
        size_t n = strlen(name);

        fd = open(mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || cg_file_read(fd, "cgroup.controllers", buf, sizeof(buf)) < 0)
                return false;
        for (const char *p = buf; *p;) {
                size_t k;

                p += strspn(p, " \n");
                k = strcspn(p, " \n");
                if (k == n && strncmp(p, name, n) == 0)
                        return true;
                p += k;
        }
        return false;
}

int cg_discover_mounts(struct cg_mounts *ret) {
        struct cg_mounts m = {};
        const char *v2_mount;
        int r;

        m.mode = detect_mode();
        v2_mount = m.mode == CG_MODE_UNIFIED  ? CG_MOUNT_ROOT
                   : m.mode == CG_MODE_HYBRID ? CG_HYBRID_V2
                                              : NULL;

        /* Re-reads the mount table, so a remount since the last call is seen. */
        r = cgroup_init();
        if (r != 0 && !v2_mount)
                return -ENOMEDIUM;

        for (enum ubc_ctrl c = 0; c < _UBC_CTRL_MAX; c++) {
                char path[CG_MOUNT_PATH_MAX];
                long t;

                /* v1 first: a controller bound to a v1 hierarchy is not in any v2 mount */
                if (r == 0 && lookup_mount(cg_v1_ops.ctrl_name[c], path, sizeof(path)) >= 0 &&
                    fs_type(path, &t) >= 0 && t == CGROUP_SUPER_MAGIC) {
                        m.version[c] = CG_VERSION_V1;
                        strcpy(m.path[c], path);
                        continue;
                }

                if (!cg_v2_ops.ctrl_name[c]) /* v1 only: cpuacct */
                        continue;
                if (r == 0 && lookup_mount(cg_v2_ops.ctrl_name[c], path, sizeof(path)) >= 0 &&
                    fs_type(path, &t) >= 0 && t == CGROUP2_SUPER_MAGIC) {
                        if (!v2_lists(path, cg_v2_ops.ctrl_name[c]))
                                continue;
                } else if (v2_mount && v2_lists(v2_mount, cg_v2_ops.ctrl_name[c]))
                        /* an older libcgroup that does not know cgroup2 */
                        snprintf(path, sizeof(path), "%s", v2_mount);
                else
                        continue;
                m.version[c] = CG_VERSION_V2;
                strcpy(m.path[c], path);
        }

        *ret = m;
        return 0;
}

static void cpuset_count(const struct ubc_cpuset *set, unsigned *ret) {
        unsigned n = 0;

        for (size_t i = 0; i < ELEMENTSOF(set->bits); i++)
                n += (unsigned) __builtin_popcountll(set->bits[i]);
        *ret = n;
}

static int read_path_value(const char *dir, const char *file, char *buf, size_t size) {
        _cleanup_close_ int fd = -EBADF;

        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        return cg_file_read_value(fd, file, buf, size);
}

/* Whether BFQ is the active scheduler of some block device. BFQ shows its cgroup files
 * whenever it is built in; its weight acts only on disks it schedules. */
static bool bfq_active(void) {
        _cleanup_close_ int fd = -EBADF;
        DIR *d;
        bool found = false;

        fd = open(SYS_CLASS_BLOCK, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return false;
        d = fdopendir(fd);
        if (!d)
                return false;
        (void) TAKE_FD(fd);

        for (struct dirent *de; !found && (de = readdir(d));) {
                _cleanup_close_ int dev_fd = -EBADF, queue_fd = -EBADF;
                char sched[256];

                if (de->d_name[0] == '.')
                        continue;
                /* entries are symlinks into /sys/devices: follow them */
                dev_fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (dev_fd < 0)
                        continue;
                queue_fd = cg_dir_open(dev_fd, "queue");
                if (queue_fd < 0)
                        continue;
                if (cg_file_read(queue_fd, "scheduler", sched, sizeof(sched)) >= 0 && strstr(sched, "[bfq]"))
                        found = true;
        }
        closedir(d);
        return found;
}

/* Whether a cgroup of this hierarchy offers 'file': the owned root if it exists, else the
 * mount's root or one of its children (some files are never shown in a root cgroup). */
static bool probe_file(int root_fd, int mount_fd, const char *file) {
        _cleanup_close_ int fd = -EBADF;
        DIR *d;
        bool found = false;
        unsigned seen = 0;

        if (root_fd >= 0)
                return cg_file_exists(root_fd, file);
        if (mount_fd < 0)
                return false;
        if (cg_file_exists(mount_fd, file))
                return true;

        fd = openat(mount_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return false;
        d = fdopendir(fd);
        if (!d)
                return false;
        (void) TAKE_FD(fd);

        for (struct dirent *de; !found && seen < CG_PROBE_CHILDREN_MAX && (de = readdir(d));) {
                _cleanup_close_ int child = -EBADF;

                if (de->d_type != DT_DIR || !cg_name_is_component(de->d_name))
                        continue;
                seen++;
                child = cg_dir_open(dirfd(d), de->d_name);
                if (child >= 0 && cg_file_exists(child, file))
                        found = true;
        }
        closedir(d);
        return found;
}

int cg_discover_root_facts(const enum cg_version version[_UBC_CTRL_MAX], const int mount_fd[_UBC_CTRL_MAX],
                           const int root_fd[_UBC_CTRL_MAX], struct ubc_host *host) {
        const struct cg_ops *ops;
        struct ubc_cpuset cpus;
        enum ubc_io_weight_file io_weight = UBC_IO_WEIGHT_NONE;
        bool swap = false;
        char buf[CG_FILE_MAX];
        unsigned ncpus;
        int r = -ENOENT;

        ops = cg_ops_for(version[UBC_CTRL_CPUSET]);
        if (ops && root_fd[UBC_CTRL_CPUSET] >= 0)
                r = cg_file_read_value(root_fd[UBC_CTRL_CPUSET], ops->cpus_file, buf, sizeof(buf));
        if (r <= 0)
                /* no cpuset controller, no owned root yet, or a v1 cpuset still empty */
                r = read_path_value(SYS_CPU_DIR, "online", buf, sizeof(buf));
        if (r < 0)
                return r;
        r = cg_cpulist_parse(buf, &cpus);
        if (r < 0)
                return r;
        cpuset_count(&cpus, &ncpus);

        ops = cg_ops_for(version[UBC_CTRL_MEMORY]);
        if (ops)
                swap = probe_file(root_fd[UBC_CTRL_MEMORY], mount_fd[UBC_CTRL_MEMORY], ops->swap_file);

        ops = cg_ops_for(version[UBC_CTRL_IO]);
        for (size_t i = 0; ops && i < ELEMENTSOF(ops->io_weight); i++) {
                const struct cg_io_weight_probe *p = &ops->io_weight[i];

                if (!probe_file(root_fd[UBC_CTRL_IO], mount_fd[UBC_CTRL_IO], p->file))
                        continue;
                if (p->needs_bfq && !bfq_active())
                        continue;
                io_weight = p->kind;
                break;
        }

        host->cpus = cpus;
        host->ncpus = ncpus;
        host->swap_accounting = swap;
        host->io_weight = io_weight;
        return 0;
}

/* One item at a time: procps_meminfo_get() answers in a slot the next call reuses. */
static int meminfo_kib(struct meminfo_info *info, enum meminfo_item item, uint64_t *ret) {
        struct meminfo_result *res = procps_meminfo_get(info, item);

        if (!res)
                return -EIO;
        *ret = (uint64_t) res->result.ul_int;
        return 0;
}

static int host_memory(uint64_t *ret_mem, uint64_t *ret_swap) {
        struct meminfo_info *info = NULL;
        uint64_t mem, swap;
        int r;

        r = procps_meminfo_new(&info);
        if (r < 0)
                return r;
        r = meminfo_kib(info, MEMINFO_MEM_TOTAL, &mem);
        if (r >= 0)
                r = meminfo_kib(info, MEMINFO_SWAP_TOTAL, &swap);
        procps_meminfo_unref(&info);
        if (r < 0)
                return r;
        /* /proc/meminfo counts KiB */
        *ret_mem = mem * 1024;
        *ret_swap = swap * 1024;
        return 0;
}

static int blockdev_compare(const void *a, const void *b) {
        const struct ubc_blockdev *x = a, *y = b;

        return strcmp(x->name, y->name);
}

/* Whole disks only: the kernel refuses I/O limits on a partition. */
static int host_blockdevs(struct ubc_host *h) {
        _cleanup_close_ int fd = -EBADF;
        DIR *d;

        h->n_blockdevs = 0;
        fd = open(SYS_CLASS_BLOCK, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : negative_errno();
        d = fdopendir(fd);
        if (!d)
                return negative_errno();
        (void) TAKE_FD(fd);

        for (struct dirent *de; h->n_blockdevs < UBC_BLOCKDEVS_MAX && (de = readdir(d));) {
                _cleanup_close_ int dev_fd = -EBADF;
                struct ubc_blockdev *b = &h->blockdevs[h->n_blockdevs];
                char buf[64];
                unsigned major, minor;
                char end;

                if (de->d_name[0] == '.' || strlen(de->d_name) >= sizeof(b->name))
                        continue;
                dev_fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (dev_fd < 0 || cg_file_exists(dev_fd, "partition"))
                        continue;
                if (cg_file_read_value(dev_fd, "dev", buf, sizeof(buf)) < 0 ||
                    sscanf(buf, "%u:%u%c", &major, &minor, &end) != 2)
                        continue;
                strcpy(b->name, de->d_name);
                b->major = major;
                b->minor = minor;
                h->n_blockdevs++;
        }
        closedir(d);
        qsort(h->blockdevs, h->n_blockdevs, sizeof(h->blockdevs[0]), blockdev_compare);
        return 0;
}

static void close_all(int fds[_UBC_CTRL_MAX]) {
        for (size_t i = 0; i < _UBC_CTRL_MAX; i++)
                if (fds[i] >= 0)
                        close(fds[i]);
}

int cg_host_discover(const char *root, struct ubc_host *ret) {
        _cleanup_free_ struct ubc_host *h = NULL;
        struct cg_mounts m;
        int mount_fd[_UBC_CTRL_MAX], root_fd[_UBC_CTRL_MAX];
        int r;

        if (!cg_root_name_is_valid(root))
                return -EINVAL;

        h = calloc(1, sizeof(*h));
        if (!h)
                return -ENOMEM;

        r = cg_discover_mounts(&m);
        if (r < 0)
                return r;
        h->mode = m.mode;

        for (enum ubc_ctrl c = 0; c < _UBC_CTRL_MAX; c++) {
                h->ctrl[c] = m.version[c];
                mount_fd[c] = root_fd[c] = -EBADF;
                if (m.version[c] == CG_VERSION_NONE)
                        continue;
                mount_fd[c] = open(m.path[c], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (mount_fd[c] < 0) {
                        mount_fd[c] = -EBADF;
                        continue;
                }
                /* The owned root, only if it is there already: discovery creates nothing. */
                root_fd[c] = cg_dir_open_path(mount_fd[c], root);
                if (root_fd[c] < 0)
                        root_fd[c] = -EBADF;
        }

        r = cg_discover_root_facts(m.version, mount_fd, root_fd, h);
        close_all(mount_fd);
        close_all(root_fd);
        if (r < 0)
                return r;

        r = host_memory(&h->mem_total, &h->swap_total);
        if (r < 0)
                return r;
        r = host_blockdevs(h);
        if (r < 0)
                return r;

        *ret = *h;
        return 0;
}
