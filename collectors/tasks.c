/* The per-task part of the beancounters, summed over a guest's tasks: locked memory, private
 * memory and open files, which no cgroup file counts. Tasks come and go while this runs; one
 * that exits meanwhile is simply not counted. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <libproc2/pids.h>

#include "ubc/macro.h"

#include "sampler-internal.h"

/* libproc2 takes at most this many PIDs per select (FILL_ID_MAX in procps-ng 4). */
#define TASKS_SELECT_MAX 255
/* Open files counted per task; more is not plausible below the kernel's nr_open ceiling. */
#define TASKS_FILES_MAX (1u << 24)

/* OpenVZ's privvmpages counts private writable mappings. status' VmData (private writable,
 * non-stack) plus VmStk is that; VmSize would add shared and read-only mappings. */
enum { ITEM_PID, ITEM_LOCKED, ITEM_DATA, ITEM_STACK };

int sampler_tasks_init(struct sampler *s) {
        enum pids_item items[] = {PIDS_ID_PID, PIDS_VM_RSS_LOCKED, PIDS_VM_DATA, PIDS_VM_STACK};
        int r;

        s->proc_fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (s->proc_fd < 0)
                return negative_errno();
        r = procps_pids_new(&s->procs, items, (int) ELEMENTSOF(items));
        if (r < 0) {
                close(s->proc_fd);
                s->proc_fd = -EBADF;
                s->procs = NULL;
                return r;
        }
        return 0;
}

void sampler_tasks_done(struct sampler *s) {
        if (s->procs)
                procps_pids_unref(&s->procs);
        if (s->proc_fd >= 0)
                close(s->proc_fd);
        s->proc_fd = -EBADF;
}

/* Entries of /proc/PID/fd; -ENOENT if the task is gone. */
static int task_count_files(int proc_fd, pid_t pid, uint64_t *ret) {
        _cleanup_close_ int fd = -EBADF;
        char path[32], buf[4096];
        uint64_t n = 0;

        snprintf(path, sizeof(path), "%d/fd", (int) pid);
        fd = openat(proc_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return negative_errno();

        /* getdents64 rather than readdir: no allocation, and a bounded buffer on the stack. */
        for (;;) {
                long k = syscall(SYS_getdents64, fd, buf, sizeof(buf));

                if (k < 0)
                        return negative_errno();
                if (k == 0)
                        break;
                for (long off = 0; off < k;) {
                        const struct dirent64 *de = (const struct dirent64 *) (buf + off);

                        if (de->d_name[0] != '.')
                                n++;
                        off += de->d_reclen;
                }
                if (n >= TASKS_FILES_MAX)
                        break;
        }
        *ret = n;
        return 0;
}

int sampler_tasks(struct sampler *s, const pid_t *pids, size_t n, struct bc_sample *bc) {
        uint64_t locked_kib = 0, priv_kib = 0, files = 0;

        if (!s || !bc || (n > 0 && !pids))
                return -EINVAL;
        if (n > SAMPLER_TASKS_MAX)
                n = SAMPLER_TASKS_MAX;

        for (size_t done = 0; done < n;) {
                unsigned these[TASKS_SELECT_MAX];
                size_t m = n - done < TASKS_SELECT_MAX ? n - done : TASKS_SELECT_MAX;
                struct pids_fetch *fetch;

                for (size_t i = 0; i < m; i++)
                        these[i] = (unsigned) pids[done + i];
                done += m;

                /* Selected PIDs that exited are left out of the result, not an error. */
                fetch = procps_pids_select(s->procs, these, (int) m, PIDS_SELECT_PID);
                if (!fetch)
                        return errno > 0 ? -errno : -EIO;
                for (int i = 0; i < fetch->counts->total; i++) {
                        struct pids_stack *stack = fetch->stacks[i];
                        uint64_t k;

                        locked_kib += PIDS_VAL(ITEM_LOCKED, ul_int, stack, s->procs);
                        priv_kib += PIDS_VAL(ITEM_DATA, ul_int, stack, s->procs) +
                                    PIDS_VAL(ITEM_STACK, ul_int, stack, s->procs);
                        if (task_count_files(s->proc_fd, PIDS_VAL(ITEM_PID, s_int, stack, s->procs), &k) >=
                            0)
                                files += k;
                }
        }

        bc->held[BC_LOCKEDPAGES] = (locked_kib * 1024 + BC_PAGE_SIZE - 1) / BC_PAGE_SIZE;
        bc->held[BC_PRIVVMPAGES] = (priv_kib * 1024 + BC_PAGE_SIZE - 1) / BC_PAGE_SIZE;
        bc->held[BC_NUMFILE] = files;
        bc->barrier[BC_LOCKEDPAGES] = bc->limit[BC_LOCKEDPAGES] = BC_UNLIMITED;
        bc->barrier[BC_PRIVVMPAGES] = bc->limit[BC_PRIVVMPAGES] = BC_UNLIMITED;
        bc->barrier[BC_NUMFILE] = bc->limit[BC_NUMFILE] = BC_UNLIMITED;
        bc->present |= (1u << BC_LOCKEDPAGES) | (1u << BC_PRIVVMPAGES) | (1u << BC_NUMFILE);
        return 0;
}
