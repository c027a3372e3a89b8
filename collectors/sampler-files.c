/* The statistics files the sampler reads, by version, and how it opens and reads them: relative
 * to the owned root's fds, the guest ID being the only name that reaches a path. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ubc/macro.h"

#include "sampler-internal.h"

const struct sampler_file_spec sampler_files[_SF_MAX] = {
        [SF_PIDS_CURRENT] = {UBC_CTRL_PIDS, "pids.current", "pids.current"},
        [SF_PIDS_PEAK] = {UBC_CTRL_PIDS, "pids.peak", "pids.peak"},
        [SF_PIDS_MAX] = {UBC_CTRL_PIDS, "pids.max", "pids.max"},
        [SF_PIDS_EVENTS] = {UBC_CTRL_PIDS, "pids.events", "pids.events"},
        [SF_MEM_CURRENT] = {UBC_CTRL_MEMORY, "memory.usage_in_bytes", "memory.current"},
        [SF_MEM_PEAK] = {UBC_CTRL_MEMORY, "memory.max_usage_in_bytes", "memory.peak"},
        [SF_MEM_HIGH] = {UBC_CTRL_MEMORY, "memory.soft_limit_in_bytes", "memory.high"},
        [SF_MEM_MAX] = {UBC_CTRL_MEMORY, "memory.limit_in_bytes", "memory.max"},
        [SF_MEM_EVENTS] = {UBC_CTRL_MEMORY, "memory.failcnt", "memory.events"},
        [SF_SWAP_CURRENT] = {UBC_CTRL_MEMORY, "memory.memsw.usage_in_bytes", "memory.swap.current"},
        [SF_SWAP_PEAK] = {UBC_CTRL_MEMORY, NULL, "memory.swap.peak"},
        [SF_SWAP_MAX] = {UBC_CTRL_MEMORY, "memory.memsw.limit_in_bytes", "memory.swap.max"},
        [SF_SWAP_EVENTS] = {UBC_CTRL_MEMORY, "memory.memsw.failcnt", "memory.swap.events"},
        [SF_MEM_STAT] = {UBC_CTRL_MEMORY, "memory.stat", "memory.stat"},
        [SF_KMEM_USAGE] = {UBC_CTRL_MEMORY, "memory.kmem.usage_in_bytes", NULL},
        [SF_OOM_CONTROL] = {UBC_CTRL_MEMORY, "memory.oom_control", NULL},
        [SF_CPU_STAT] = {UBC_CTRL_CPU, "cpu.stat", "cpu.stat"},
        [SF_CPUACCT_USAGE] = {SAMPLER_HIER_CPUACCT, "cpuacct.usage", NULL},
        [SF_IO_STAT] = {UBC_CTRL_IO, "blkio.throttle.io_service_bytes", "io.stat"},
        [SF_IO_SERVICED] = {UBC_CTRL_IO, "blkio.throttle.io_serviced", NULL},
        [SF_PSI_CPU] = {UBC_CTRL_CPU, "cpu.pressure", "cpu.pressure"},
        [SF_PSI_MEMORY] = {UBC_CTRL_MEMORY, "memory.pressure", "memory.pressure"},
        [SF_PSI_IO] = {UBC_CTRL_IO, "io.pressure", "io.pressure"},
        /* The pids hierarchy if there is one: every task of the guest is in it. */
        [SF_PROCS] = {UBC_CTRL_PIDS, "cgroup.procs", "cgroup.procs"},
};

unsigned sampler_file_every(enum sampler_file f) {
        switch (f) {
        case SF_PIDS_MAX:
        case SF_MEM_HIGH:
        case SF_MEM_MAX:
        case SF_SWAP_MAX:
                return SAMPLER_LIMITS_EVERY;
        case SF_MEM_STAT:
                return SAMPLER_MEMSTAT_EVERY;
        default:
                return 1;
        }
}

bool sampler_file_resolve(const struct sampler *s, enum sampler_file f, int *ret_dirfd,
                          const char **ret_name) {
        unsigned h = sampler_files[f].hier;
        const char *name;

        if (f == SF_PROCS && s->hier_fd[h] < 0)
                h = UBC_CTRL_MEMORY;
        if (s->hier_fd[h] < 0)
                return false;
        switch (s->hier_version[h]) {
        case CG_VERSION_V1:
                name = sampler_files[f].name_v1;
                break;
        case CG_VERSION_V2:
                name = sampler_files[f].name_v2;
                break;
        default:
                return false;
        }
        if (!name)
                return false;
        *ret_dirfd = s->hier_fd[h];
        *ret_name = name;
        return true;
}

int sampler_file_open(const struct sampler *s, uint32_t id, enum sampler_file f) {
        const char *name;
        char path[64];
        int dirfd, fd;

        if (!sampler_file_resolve(s, f, &dirfd, &name))
                return -ENOENT;
        if (snprintf(path, sizeof(path), "%" PRIu32 "/%s", id, name) >= (int) sizeof(path))
                return -ENAMETOOLONG;
        fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return negative_errno();
        return fd;
}

int sampler_fd_read(int fd, char *buf, size_t size) {
        ssize_t k;

        if (size < 2)
                return -EINVAL;

        /* One pread: a cgroup statistics file is one seq_file record, which the kernel hands
         * over whole when the buffer is larger (so a short read is the end), and pread at 0
         * makes it generate the contents afresh. A full buffer may be a cut file: refused. */
        do
                k = pread(fd, buf, size - 1, 0);
        while (k < 0 && errno == EINTR);
        if (k < 0)
                return negative_errno();
        if ((size_t) k == size - 1)
                return -EFBIG;
        buf[k] = 0;
        return (int) k;
}

int sampler_fd_read_pids(int fd, char *buf, size_t size, pid_t *pids, size_t max) {
        size_t n = 0;
        uint64_t cur = 0;
        bool in_number = false;
        off_t off = 0;

        /* cgroup.procs is one record per task, handed over a page or so at a time: read on
         * to the end, carrying a number cut between two reads. */
        for (;;) {
                ssize_t k = pread(fd, buf, size, off);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (k == 0)
                        break;
                off += k;
                for (ssize_t i = 0; i < k; i++) {
                        char c = buf[i];

                        if (c >= '0' && c <= '9') {
                                cur = cur * 10 + (uint64_t) (c - '0');
                                if (cur > INT32_MAX)
                                        return -EINVAL;
                                in_number = true;
                        } else if (c == '\n') {
                                if (in_number && n < max)
                                        pids[n++] = (pid_t) cur;
                                cur = 0;
                                in_number = false;
                        } else
                                return -EINVAL;
                }
                if (n >= max)
                        break; /* bounded: the rest of a huge guest is not looked at */
        }
        if (in_number && n < max)
                pids[n++] = (pid_t) cur;
        return (int) n;
}

/* How deep below a guest its tasks are looked for: a container's cgroups and its own nesting. */
#define PIDS_BELOW_DEPTH_MAX 16

static int read_pids_below(int dir_fd, char *buf, size_t size, pid_t *pids, size_t max, unsigned depth) {
        struct dirent *e;
        size_t n = 0;
        DIR *d;
        int fd;

        if (depth >= PIDS_BELOW_DEPTH_MAX)
                return 0;
        fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return negative_errno();
        }
        while (n < max && (e = readdir(d))) {
                int sub, procs, k;

                if (e->d_type != DT_DIR || e->d_name[0] == '.')
                        continue;
                sub = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sub < 0)
                        continue; /* removed meanwhile */
                procs = openat(sub, "cgroup.procs", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
                if (procs >= 0) {
                        k = sampler_fd_read_pids(procs, buf, size, pids + n, max - n);
                        if (k > 0)
                                n += (size_t) k;
                        close(procs);
                }
                k = read_pids_below(sub, buf, size, pids + n, max - n, depth + 1);
                if (k > 0)
                        n += (size_t) k;
                close(sub);
        }
        closedir(d);
        return (int) n;
}

int sampler_read_pids_below(int dir_fd, char *buf, size_t size, pid_t *pids, size_t max) {
        return read_pids_below(dir_fd, buf, size, pids, max, 0);
}
