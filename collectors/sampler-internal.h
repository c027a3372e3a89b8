/* What sampler.c, sampler-files.c and tasks.c share: the file table, the per-guest descriptors
 * and the sampler itself. Private to the collectors library. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ubc/sampler.h"
#include "ubc/stat.h"

/* Where a file lives: one of the controllers' hierarchies (v1's cpuacct may be co-mounted
 * with cpu, or separate). */
enum sampler_hier {
        SAMPLER_HIER_CPUACCT = UBC_CTRL_CPUACCT,
        _SAMPLER_HIER_MAX = _UBC_CTRL_MAX,
};

/* Every statistics file the sampler reads. Names differ by version; a file without a name in
 * the hierarchy's version is never opened. */
enum sampler_file {
        SF_PIDS_CURRENT,
        SF_PIDS_PEAK,
        SF_PIDS_MAX,
        SF_PIDS_EVENTS,
        SF_MEM_CURRENT,  /* v1 usage_in_bytes */
        SF_MEM_PEAK,     /* v1 max_usage_in_bytes */
        SF_MEM_HIGH,     /* v1 soft_limit_in_bytes */
        SF_MEM_MAX,      /* v1 limit_in_bytes */
        SF_MEM_EVENTS,   /* v1 failcnt */
        SF_SWAP_CURRENT, /* v1 memsw.usage_in_bytes (memory + swap) */
        SF_SWAP_PEAK,
        SF_SWAP_MAX,    /* v1 memsw.limit_in_bytes (memory + swap) */
        SF_SWAP_EVENTS, /* v1 memsw.failcnt */
        SF_MEM_STAT,
        SF_KMEM_USAGE,  /* v1 only */
        SF_OOM_CONTROL, /* v1 only */
        SF_CPU_STAT,
        SF_CPUACCT_USAGE, /* v1 only */
        SF_IO_STAT,       /* v1 blkio.throttle.io_service_bytes */
        SF_IO_SERVICED,   /* v1 only */
        SF_PSI_CPU,
        SF_PSI_MEMORY,
        SF_PSI_IO,
        SF_PROCS,
        _SF_MAX,
};

_Static_assert(_SF_MAX <= 32, "absent is a 32-bit mask");

struct sampler_file_spec {
        unsigned hier; /* enum ubc_ctrl, or SAMPLER_HIER_CPUACCT */
        const char *name_v1, *name_v2;
};

extern const struct sampler_file_spec sampler_files[_SF_MAX];

/* What one sweep read of one guest, before it becomes rows; kept per guest, since files read
 * only every few sweeps (sampler_file_every) stand in with their last values between reads. */
struct sampler_raw {
        uint64_t v[_SF_MAX]; /* single-number files */
        uint64_t have;       /* bit per enum sampler_file read and parsed (this sweep or kept) */
        uint64_t pids_events_max;
        uint64_t mem_events_max, mem_events_oom_kill;
        uint64_t mem_events_found;
        uint64_t swap_events[2]; /* max, fail */
        uint64_t swap_events_found;
        uint64_t mem_stat[7];
        uint64_t mem_stat_found;
        uint64_t oom_kill;
        uint64_t cpu_stat[4];
        uint64_t cpu_stat_found;
        size_t n_pids;
};

/* One guest's open files. fd[] is -EBADF where not opened (yet) or absent. */
struct sampler_guest {
        uint32_t id;
        bool open;
        bool refresh;    /* the next sample reads every file, whatever its period */
        uint32_t sweeps; /* samples taken since the guest was (re)opened */
        dev_t dir_dev;   /* the guest's directory in the primary hierarchy when opened */
        ino_t dir_ino;
        uint32_t absent; /* bit per enum sampler_file the kernel (or the tree) does not have */
        uint32_t opened; /* bit per enum sampler_file opened since the guest was (re)opened */
        bool nested;     /* cgroups below its own (a container's): their tasks are its too */
        int fd[_SF_MAX];
        struct sampler_raw last; /* the previous sample, for files not read this time */
        struct stat_io_dev *io;  /* the I/O counters last read, for sweeps that do not read them */
        size_t n_io, io_cap;
};

/* Files read only every so many sweeps, their last values standing in between: the limits
 * (ubcd wrote them, and says so with sampler_refresh(); only someone writing the cgroup files by
 * hand is seen late) and memory.stat (the kernel walks the hierarchy to make it on v1 and
 * flushes per-CPU statistics on v2, several times the cost of a one-number file; shmpages and
 * v2 kmemsize come from it). Returns 1 for a file read every sweep. */
#define SAMPLER_LIMITS_EVERY  6
#define SAMPLER_MEMSTAT_EVERY 3
unsigned sampler_file_every(enum sampler_file f);

/* How often the guest's directory is looked up to see that its cgroup is the one the
 * descriptors belong to. On a kernel a removed cgroup's descriptors say ENODEV at the next
 * read, which reopens at once; the lookup is for descriptors that outlive their files (a fake
 * tree), and costs a path walk per guest. */
#define SAMPLER_IDENTITY_EVERY 6

/* Largest statistics file read whole: v1 blkio files grow by five lines per device. */
#define SAMPLER_BUF_MAX 16384
/* Tasks of one guest looked at per sweep; a guest with more is summed over the first ones. */
#define SAMPLER_TASKS_MAX 32768

struct sampler {
        struct sampler_root root;
        int hier_fd[_SAMPLER_HIER_MAX]; /* root fds by hierarchy (borrowed), -EBADF if none */
        enum cg_version hier_version[_SAMPLER_HIER_MAX];
        unsigned primary; /* a hierarchy; where a guest's presence and identity are checked */

        /* Descriptors kept open, and how many may be: the rest of RLIMIT_NOFILE stays free
         * for the daemon (its socket, clients, state files). Past it, files are opened for
         * one read only. */
        size_t n_fds, fd_budget;

        struct sampler_guest *guests; /* sorted by id */
        size_t n_guests, n_alloc;

        char buf[SAMPLER_BUF_MAX];
        pid_t *pids; /* SAMPLER_TASKS_MAX */

        uint64_t charge_max; /* bytes: the most the kernel charges to a memory cgroup at once */

        /* What the host said at the start of this sweep (sampler_sweep_begin). */
        bool no_swap;            /* no swap area in use */
        bool oom_seen;           /* oom_kills holds a value read at an earlier sweep */
        uint64_t oom_kills;      /* /proc/vmstat oom_kill, as last read */
        unsigned oom_steady;     /* sweeps in a row it was the same as at the one before */
        int vmstat_fd, swaps_fd; /* kept open below /proc; -EBADF until first needed */

        struct pids_info *procs; /* libproc2 */
        int proc_fd;             /* /proc, for counting a task's open files */
};

/* Resolves a file's hierarchy fd and name for this sampler; false if it has none here. */
bool sampler_file_resolve(const struct sampler *s, enum sampler_file f, int *ret_dirfd,
                          const char **ret_name);
/* Opens "ID/name" beneath the hierarchy's root fd. */
int sampler_file_open(const struct sampler *s, uint32_t id, enum sampler_file f);
/* Reads a statistics file from offset 0 into buf, NUL-terminated; returns the length. */
int sampler_fd_read(int fd, char *buf, size_t size);
/* Reads the PIDs of cgroup.procs from offset 0; returns how many were stored (at most max). */
int sampler_fd_read_pids(int fd, char *buf, size_t size, pid_t *pids, size_t max);
/* The PIDs of every cgroup.procs below the directory dir_fd (not its own), depth first; returns
 * how many were stored (at most max). */
int sampler_read_pids_below(int dir_fd, char *buf, size_t size, pid_t *pids, size_t max);

/* libproc2 state of tasks.c, made once per sampler. */
int sampler_tasks_init(struct sampler *s);
void sampler_tasks_done(struct sampler *s);
