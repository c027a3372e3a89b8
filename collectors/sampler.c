/* The accounting sampler: per guest, descriptors of its statistics files kept open between
 * sweeps and read again with pread at offset 0; the beancounter rows and `ubcctl stat` values
 * made from them. A cgroup made anew under the same ID is noticed and its files reopened. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ubc/macro.h"
#include "ubc/policy.h"

#include "sampler-internal.h"

/* v1 reports "no limit" as PAGE_COUNTER_MAX pages in bytes (9223372036854771712 with 4 KiB
 * pages); anything this large is no limit in practice. */
#define V1_UNLIMITED_FROM (UINT64_C(1) << 62)

static const char *const pids_events_keys[] = {"max"};
static const char *const mem_events_keys[] = {"max", "oom_kill"};
static const char *const swap_events_keys[] = {"max", "fail"};
enum { MS_KERNEL, MS_SHMEM, MS_KERNEL_STACK, MS_SLAB, MS_PERCPU, MS_SOCK, MS_PAGETABLES };
static const char *const mem_stat_keys[] = {"kernel", "shmem", "kernel_stack", "slab",
                                            "percpu", "sock",  "pagetables"};
static const char *const oom_control_keys[] = {"oom_kill"};
enum { CS_USAGE, CS_NR_PERIODS, CS_NR_THROTTLED, CS_THROTTLED };
static const char *const cpu_stat_v2_keys[] = {"usage_usec", "nr_periods", "nr_throttled", "throttled_usec"};
/* v1 has no usage in cpu.stat (it is cpuacct.usage): its keys fill from CS_NR_PERIODS on. */
static const char *const cpu_stat_v1_keys[] = {"nr_periods", "nr_throttled", "throttled_time"};

#define BIT(f) (UINT64_C(1) << (f))

static uint64_t bytes_to_pages(uint64_t bytes) {
        return bytes / BC_PAGE_SIZE + (bytes % BC_PAGE_SIZE ? 1 : 0);
}

/* A memory limit in pages; "max" (UINT64_MAX) and v1's huge values are no limit. */
static uint64_t limit_to_pages(uint64_t bytes) {
        if (bytes >= V1_UNLIMITED_FROM)
                return BC_UNLIMITED;
        return bytes_to_pages(bytes);
}

static uint64_t count_limit(uint64_t v) {
        return v >= BC_UNLIMITED ? BC_UNLIMITED : v;
}

int sampler_new(const struct sampler_root *root, struct sampler **ret) {
        static const unsigned primary_order[] = {UBC_CTRL_MEMORY, UBC_CTRL_PIDS, UBC_CTRL_CPU, UBC_CTRL_IO,
                                                 UBC_CTRL_CPUSET};
        _cleanup_free_ struct sampler *s = NULL;
        struct rlimit rl;
        rlim_t reserve;
        long page;
        int r;

        if (!root || !ret)
                return -EINVAL;
        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->root = *root;
        s->proc_fd = -EBADF;
        s->vmstat_fd = s->swaps_fd = -EBADF;
        for (enum ubc_ctrl c = 0; c < _UBC_CTRL_MAX; c++) {
                bool have = root->fd[c] >= 0 && root->version[c] != CG_VERSION_NONE;

                s->hier_fd[c] = have ? root->fd[c] : -EBADF;
                s->hier_version[c] = have ? root->version[c] : CG_VERSION_NONE;
        }
        /* cpuacct co-mounted with cpu ("cpu,cpuacct") has its files in the cpu hierarchy. */
        if (s->hier_fd[SAMPLER_HIER_CPUACCT] < 0 && s->hier_version[UBC_CTRL_CPU] == CG_VERSION_V1) {
                s->hier_fd[SAMPLER_HIER_CPUACCT] = s->hier_fd[UBC_CTRL_CPU];
                s->hier_version[SAMPLER_HIER_CPUACCT] = CG_VERSION_V1;
        }

        s->primary = _SAMPLER_HIER_MAX;
        for (size_t i = 0; i < ELEMENTSOF(primary_order); i++)
                if (s->hier_fd[primary_order[i]] >= 0) {
                        s->primary = primary_order[i];
                        break;
                }
        if (s->primary == _SAMPLER_HIER_MAX)
                return -EINVAL;

        /* The largest single charge: a PMD-sized folio (a page table's worth of pages) or a
         * large kmalloc (2^13 pages covers MAX_PAGE_ORDER on common configurations). */
        page = sysconf(_SC_PAGESIZE);
        if (page <= 0)
                page = 4096;
        s->charge_max = (uint64_t) page * ((uint64_t) page / 8);
        if (s->charge_max < (uint64_t) page << 13)
                s->charge_max = (uint64_t) page << 13;

        if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
                rl.rlim_cur = 1024;
        reserve = rl.rlim_cur / 16 > 256 ? rl.rlim_cur / 16 : 256;
        s->fd_budget = rl.rlim_cur > 2 * reserve ? rl.rlim_cur - reserve : rl.rlim_cur / 2;

        s->pids = calloc(SAMPLER_TASKS_MAX, sizeof(pid_t));
        if (!s->pids)
                return -ENOMEM;
        r = sampler_tasks_init(s);
        if (r < 0) {
                free(s->pids);
                return r;
        }
        *ret = TAKE_PTR(s);
        return 0;
}

static void guest_close(struct sampler *s, struct sampler_guest *g) {
        for (size_t f = 0; f < _SF_MAX; f++)
                if (g->fd[f] >= 0) {
                        close(g->fd[f]);
                        g->fd[f] = -EBADF;
                        s->n_fds--;
                }
        g->open = false;
        g->absent = 0;
        g->opened = 0;
        g->refresh = true;
        g->sweeps = 0;
        free(g->io);
        g->io = NULL;
        g->n_io = g->io_cap = 0;
}

void sampler_free(struct sampler *s) {
        if (!s)
                return;
        for (size_t i = 0; i < s->n_guests; i++)
                guest_close(s, &s->guests[i]);
        free(s->guests);
        if (s->vmstat_fd >= 0)
                close(s->vmstat_fd);
        if (s->swaps_fd >= 0)
                close(s->swaps_fd);
        sampler_tasks_done(s);
        free(s->pids);
        free(s);
}

/* Index of the first guest with an id >= id. */
static size_t guest_index(const struct sampler *s, uint32_t id) {
        size_t lo = 0, hi = s->n_guests;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (s->guests[mid].id < id)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

static int guest_get(struct sampler *s, uint32_t id, struct sampler_guest **ret) {
        size_t i = guest_index(s, id);
        struct sampler_guest *g;

        if (i < s->n_guests && s->guests[i].id == id) {
                *ret = &s->guests[i];
                return 0;
        }
        if (s->n_guests == s->n_alloc) {
                size_t n = s->n_alloc ? s->n_alloc * 2 : 64;
                struct sampler_guest *p;

                if (n > UBC_ID_MAX)
                        return -E2BIG;
                p = reallocarray(s->guests, n, sizeof(*p));
                if (!p)
                        return -ENOMEM;
                s->guests = p;
                s->n_alloc = n;
        }
        memmove(&s->guests[i + 1], &s->guests[i], (s->n_guests - i) * sizeof(*g));
        s->n_guests++;
        g = &s->guests[i];
        *g = (struct sampler_guest){.id = id, .refresh = true};
        for (size_t f = 0; f < _SF_MAX; f++)
                g->fd[f] = -EBADF;
        *ret = g;
        return 0;
}

void sampler_refresh(struct sampler *s, uint32_t id) {
        size_t i;

        if (!s)
                return;
        if (id == 0) {
                for (i = 0; i < s->n_guests; i++)
                        s->guests[i].refresh = true;
                return;
        }
        i = guest_index(s, id);
        if (i < s->n_guests && s->guests[i].id == id)
                s->guests[i].refresh = true;
}

void sampler_forget(struct sampler *s, uint32_t id) {
        size_t i = guest_index(s, id);

        if (i >= s->n_guests || s->guests[i].id != id)
                return;
        guest_close(s, &s->guests[i]);
        memmove(&s->guests[i], &s->guests[i + 1], (s->n_guests - i - 1) * sizeof(s->guests[0]));
        s->n_guests--;
}

static enum cg_version file_version(const struct sampler *s, enum sampler_file f) {
        return s->hier_version[sampler_files[f].hier];
}

/* Reads a /proc file whose descriptor is kept in *fd (opened on first use) into s->buf. */
static int proc_read(struct sampler *s, int *fd, const char *name) {
        int r;

        if (*fd < 0) {
                if (s->proc_fd < 0)
                        return -EBADF;
                *fd = openat(s->proc_fd, name, O_RDONLY | O_CLOEXEC);
                if (*fd < 0)
                        return negative_errno();
        }
        r = sampler_fd_read(*fd, s->buf, sizeof(s->buf));
        if (r < 0) {
                close(*fd);
                *fd = -EBADF;
        }
        return r;
}

void sampler_host_read(struct sampler *s, struct sampler_host *ret) {
        static const char *const vmstat_keys[] = {"oom_kill"};
        uint64_t found = 0;
        int r;

        *ret = (struct sampler_host){};
        if (proc_read(s, &s->swaps_fd, "swaps") >= 0) {
                r = stat_parse_swaps(s->buf);
                if (r >= 0) {
                        ret->swap_known = true;
                        ret->swap_areas = (unsigned) r;
                }
        }
        if (proc_read(s, &s->vmstat_fd, "vmstat") >= 0 &&
            stat_parse_keyed(s->buf, vmstat_keys, 1, &ret->oom_kills, &found) >= 0 && found)
                ret->oom_kills_known = true;
}

void sampler_sweep_begin(struct sampler *s, const struct sampler_host *host) {
        struct sampler_host now;

        if (!s)
                return;
        if (!host) {
                sampler_host_read(s, &now);
                host = &now;
        }
        s->no_swap = host->swap_known && host->swap_areas == 0;
        if (!host->oom_kills_known) {
                s->oom_seen = false;
                s->oom_steady = 0;
                return;
        }
        if (s->oom_seen && host->oom_kills == s->oom_kills)
                s->oom_steady += s->oom_steady < UINT_MAX;
        else
                s->oom_steady = 0;
        s->oom_kills = host->oom_kills;
        s->oom_seen = true;
}

/* Reads a file of the guest into s->buf, opening it on first use. -ENOENT for a file this
 * kernel (or this tree) lacks: remembered until the guest is reopened, so not retried. */
static int guest_read(struct sampler *s, struct sampler_guest *g, enum sampler_file f) {
        int r;

        _cleanup_close_ int once = -EBADF;
        int fd = g->fd[f];

        if (g->absent & (UINT32_C(1) << f))
                return -ENOENT;
        if (fd < 0) {
                r = sampler_file_open(s, g->id, f);
                /* A file opened before and gone now (one not kept open) is a cgroup removed
                 * since, as ENODEV from a kept descriptor would say. */
                if (r == -ENOENT && (g->opened & (UINT32_C(1) << f)))
                        return -ENODEV;
                if (r == -ENOENT) {
                        g->absent |= UINT32_C(1) << f;
                        return r;
                }
                if (r < 0)
                        return r;
                fd = r;
                g->opened |= UINT32_C(1) << f;
                /* v1 serves cgroup.procs from a pid list cached per cgroup and rebuilt only on
                 * a fresh open: re-reading a kept descriptor can show tasks long gone and miss
                 * new ones for as long as anyone keeps reading. */
                if (s->n_fds < s->fd_budget && !(f == SF_PROCS && file_version(s, f) == CG_VERSION_V1)) {
                        g->fd[f] = fd;
                        s->n_fds++;
                } else
                        once = fd;
        }
        if (f == SF_PROCS)
                return sampler_fd_read_pids(fd, s->buf, sizeof(s->buf), s->pids, SAMPLER_TASKS_MAX);
        return sampler_fd_read(fd, s->buf, sizeof(s->buf));
}

static int keyed(const char *buf, const char *const *keys, size_t n, uint64_t *values, uint64_t *found) {
        uint64_t mask = 0;
        int r;

        r = stat_parse_keyed(buf, keys, n, values, &mask);
        if (r < 0)
                return r;
        *found = mask;
        return 0;
}

/* Parses s->buf as file f into raw and st. */
static int parse_file(struct sampler *s, enum sampler_file f, struct sampler_raw *raw,
                      struct guest_stat *st) {
        bool v1 = file_version(s, f) == CG_VERSION_V1;
        const char *buf = s->buf;
        uint64_t found = 0, vals[2] = {};
        size_t n;
        int r;

        switch (f) {
        case SF_PIDS_EVENTS:
                r = keyed(buf, pids_events_keys, ELEMENTSOF(pids_events_keys), vals, &found);
                if (r < 0)
                        return r;
                if (!(found & 1))
                        return -ENOMSG;
                raw->pids_events_max = vals[0];
                return 0;
        case SF_MEM_EVENTS:
                if (v1)
                        break; /* memory.failcnt: one number */
                r = keyed(buf, mem_events_keys, ELEMENTSOF(mem_events_keys), vals, &found);
                if (r < 0)
                        return r;
                raw->mem_events_max = vals[0];
                raw->mem_events_oom_kill = vals[1];
                raw->mem_events_found = found;
                return 0;
        case SF_SWAP_EVENTS:
                if (v1)
                        break; /* memory.memsw.failcnt */
                r = keyed(buf, swap_events_keys, ELEMENTSOF(swap_events_keys), raw->swap_events, &found);
                if (r < 0)
                        return r;
                raw->swap_events_found = found;
                return 0;
        case SF_MEM_STAT:
                return keyed(buf, mem_stat_keys, ELEMENTSOF(mem_stat_keys), raw->mem_stat,
                             &raw->mem_stat_found);
        case SF_OOM_CONTROL:
                r = keyed(buf, oom_control_keys, ELEMENTSOF(oom_control_keys), vals, &found);
                if (r < 0)
                        return r;
                if (!(found & 1))
                        return -ENOMSG; /* kernels before 4.13 have no oom_kill line */
                raw->oom_kill = vals[0];
                return 0;
        case SF_CPU_STAT:
                if (!v1)
                        return keyed(buf, cpu_stat_v2_keys, ELEMENTSOF(cpu_stat_v2_keys), raw->cpu_stat,
                                     &raw->cpu_stat_found);
                r = keyed(buf, cpu_stat_v1_keys, ELEMENTSOF(cpu_stat_v1_keys), raw->cpu_stat + CS_NR_PERIODS,
                          &found);
                raw->cpu_stat_found = found << CS_NR_PERIODS;
                return r;
        case SF_IO_STAT:
                if (v1)
                        r = stat_parse_blkio_v1(buf, 1, st->io, STAT_IO_DEVS_MAX, &st->n_io);
                else
                        r = stat_parse_io_stat(buf, st->io, STAT_IO_DEVS_MAX, &st->n_io, &n);
                return r < 0 ? r : 0;
        case SF_IO_SERVICED:
                r = stat_parse_blkio_v1(buf, 0, st->io, STAT_IO_DEVS_MAX, &st->n_io);
                return r < 0 ? r : 0;
        case SF_PSI_CPU:
                r = stat_parse_psi(buf, &st->psi_cpu);
                return r < 0 ? r : 0;
        case SF_PSI_MEMORY:
                r = stat_parse_psi(buf, &st->psi_memory);
                return r < 0 ? r : 0;
        case SF_PSI_IO:
                r = stat_parse_psi(buf, &st->psi_io);
                return r < 0 ? r : 0;
        default:
                break;
        }
        r = stat_parse_u64(buf, &raw->v[f]);
        return r < 0 ? r : 0;
}

/* Whether a v1 guest ran nothing since its last sample: no task in it now nor then, and no CPU
 * time between. I/O is counted where a task submits it (v1 has no writeback by cgroup), so its
 * I/O counters cannot have moved but for a task moved out less than a scheduler tick after it
 * submitted I/O, or one moved into the blkio hierarchy alone by hand: such counts show at its
 * next periodic read. */
static bool guest_idle(const struct sampler *s, const struct sampler_guest *g,
                       const struct sampler_raw *raw) {
        const uint64_t both = BIT(SF_PIDS_CURRENT) | BIT(SF_CPUACCT_USAGE);

        return g->io && s->hier_fd[UBC_CTRL_PIDS] >= 0 && s->hier_fd[SAMPLER_HIER_CPUACCT] >= 0 &&
               (raw->have & both) == both && (g->last.have & both) == both && raw->v[SF_PIDS_CURRENT] == 0 &&
               g->last.v[SF_PIDS_CURRENT] == 0 && raw->v[SF_CPUACCT_USAGE] == g->last.v[SF_CPUACCT_USAGE];
}

/* v1 files that cannot have moved while what this sweep read before them says so, read only
 * every SAMPLER_LIMITS_EVERY sweeps then (and after sampler_refresh()): memory.failcnt while
 * max_usage_in_bytes is further below the limit than the most the kernel charges at once (a
 * charge fails only past limit - charge, and every charge that succeeds moves the peak);
 * memory.memsw.failcnt while memsw has no limit; cpu.stat while no CFS quota ever counted a
 * period. A limit or quota written by hand is seen within those sweeps, and so is what it made
 * fail. memory.oom_control while the host's oom_kill count stood still over this sweep and the
 * one before: the kernel counts a kill there just before it counts it in the cgroups, so a
 * kill shows in vmstat at the latest the sweep after it did in a cgroup, and the cgroups are
 * read that sweep and the next. */
static bool file_quiet(const struct sampler *s, const struct sampler_guest *g, enum sampler_file f,
                       const struct sampler_raw *raw) {
        if (file_version(s, f) != CG_VERSION_V1)
                return false;
        switch (f) {
        case SF_MEM_EVENTS: {
                uint64_t peak = raw->v[SF_MEM_PEAK], limit = raw->v[SF_MEM_MAX];

                /* The peak of this sweep, the limit as last read. */
                return (raw->have & BIT(SF_MEM_PEAK)) && (raw->have & BIT(SF_MEM_MAX)) &&
                       (limit >= V1_UNLIMITED_FROM || (peak < limit && limit - peak > s->charge_max));
        }
        case SF_SWAP_EVENTS:
                return (raw->have & BIT(SF_SWAP_MAX)) && raw->v[SF_SWAP_MAX] >= V1_UNLIMITED_FROM;
        case SF_CPU_STAT:
                return (g->last.have & BIT(SF_CPU_STAT)) && (raw->cpu_stat_found & BIT(CS_NR_PERIODS)) &&
                       raw->cpu_stat[CS_NR_PERIODS] == 0;
        case SF_OOM_CONTROL:
                return s->oom_steady >= 2;
        case SF_IO_STAT:
        case SF_IO_SERVICED:
                return guest_idle(s, g, raw);
        default:
                return false;
        }
}

/* Whether file f of the guest is read this sweep. Guests take turns by ID, so that each sweep
 * reads the slow files of a share of them rather than all of them every few sweeps. raw holds
 * what this sweep read of the files before f, and the last values of the others. */
static bool file_due(const struct sampler *s, const struct sampler_guest *g, enum sampler_file f,
                     const struct sampler_raw *raw) {
        unsigned every = sampler_file_every(f);

        if (every <= 1 && file_quiet(s, g, f, raw))
                every = SAMPLER_LIMITS_EVERY;
        return every <= 1 || g->refresh || (g->sweeps + g->id) % every == 0;
}

/* Whether pids.current, read this sweep in the hierarchy that holds cgroup.procs, says the
 * guest has no task: then cgroup.procs is empty and need not be opened (on v1 it is opened
 * afresh each sweep, which costs several reads of a kept descriptor). A task that moves in
 * meanwhile is seen next sweep, as if it had come a moment later. */
static bool no_tasks(const struct sampler *s, const struct sampler_raw *raw) {
        return s->hier_fd[UBC_CTRL_PIDS] >= 0 && (raw->have & BIT(SF_PIDS_CURRENT)) &&
               raw->v[SF_PIDS_CURRENT] == 0;
}

/* A container's processes live in cgroups below the guest's (ROOT/ID/lxc, ...): appended to
 * the n PIDs of the guest's own cgroup.procs, so per-task rows count all of the guest. */
static size_t pids_below(struct sampler *s, const struct sampler_guest *g, size_t n) {
        int dirfd, k;
        const char *name;
        char dir[16];

        if (!g->nested || n >= SAMPLER_TASKS_MAX || !sampler_file_resolve(s, SF_PROCS, &dirfd, &name))
                return 0;
        snprintf(dir, sizeof(dir), "%" PRIu32, g->id);
        _cleanup_close_ int fd = openat(dirfd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return 0;
        k = sampler_read_pids_below(fd, s->buf, sizeof(s->buf), s->pids + n, SAMPLER_TASKS_MAX - n);
        return k > 0 ? (size_t) k : 0;
}

/* Whether v1's memory.memsw.usage_in_bytes is usage_in_bytes, read this sweep: with no swap
 * area in use memory + swap is memory. */
static bool swap_is_memory(const struct sampler *s, const struct sampler_raw *raw) {
        return s->no_swap && file_version(s, SF_SWAP_CURRENT) == CG_VERSION_V1 &&
               (raw->have & BIT(SF_MEM_CURRENT));
}

/* The I/O counters read this sweep are kept for sweeps that leave them alone; on those, the
 * kept ones stand in. */
static void io_keep(struct sampler_guest *g, bool read, struct guest_stat *st) {
        if (!read) {
                if (g->io) {
                        memcpy(st->io, g->io, g->n_io * sizeof(*st->io));
                        st->n_io = g->n_io;
                }
                return;
        }
        if (!g->io || st->n_io > g->io_cap) {
                size_t cap = st->n_io ? st->n_io : 1;
                struct stat_io_dev *io = reallocarray(g->io, cap, sizeof(*io));

                if (!io) { /* none kept: read every sweep */
                        free(g->io);
                        g->io = NULL;
                        g->n_io = g->io_cap = 0;
                        return;
                }
                g->io = io;
                g->io_cap = cap;
        }
        memcpy(g->io, st->io, st->n_io * sizeof(*st->io));
        g->n_io = st->n_io;
}

/* One pass over the guest's files. -ENODEV if a descriptor belongs to a removed cgroup. */
static int sample_files(struct sampler *s, struct sampler_guest *g, struct sampler_raw *raw,
                        struct guest_stat *st) {
        bool io_read = false;

        for (enum sampler_file f = 0; f < _SF_MAX; f++) {
                int r;

                if (!file_due(s, g, f, raw)) {
                        raw->have |= g->last.have & BIT(f);
                        if (f == SF_IO_STAT)
                                io_keep(g, false, st);
                        continue;
                }
                io_read |= f == SF_IO_STAT || f == SF_IO_SERVICED;
                if (f == SF_PROCS && no_tasks(s, raw)) {
                        raw->n_pids = 0;
                        raw->have |= BIT(f);
                        continue;
                }
                if (f == SF_SWAP_CURRENT && swap_is_memory(s, raw)) {
                        raw->v[f] = raw->v[SF_MEM_CURRENT];
                        raw->have |= BIT(f);
                        continue;
                }
                r = guest_read(s, g, f);

                if (r == -ENODEV)
                        return r;
                if (r < 0)
                        continue; /* absent or unreadable: its rows are not present this sweep */
                if (f == SF_PROCS) {
                        raw->n_pids = (size_t) r + pids_below(s, g, (size_t) r);
                        raw->have |= BIT(f);
                        continue;
                }
                if (parse_file(s, f, raw, st) >= 0)
                        raw->have |= BIT(f);
        }
        if (io_read && file_version(s, SF_IO_STAT) == CG_VERSION_V1)
                io_keep(g, true, st);
        return 0;
}

static void rows_pids(const struct sampler_raw *raw, struct bc_sample *bc) {
        if (raw->have & BIT(SF_PIDS_CURRENT)) {
                bc->held[BC_NUMPROC] = raw->v[SF_PIDS_CURRENT];
                bc->present |= 1u << BC_NUMPROC;
        }
        if (raw->have & BIT(SF_PIDS_PEAK)) {
                bc->peak[BC_NUMPROC] = raw->v[SF_PIDS_PEAK];
                bc->peak_present |= 1u << BC_NUMPROC;
        }
        if (raw->have & BIT(SF_PIDS_MAX))
                bc->limit[BC_NUMPROC] = count_limit(raw->v[SF_PIDS_MAX]);
        if (raw->have & BIT(SF_PIDS_EVENTS)) {
                bc->events[BC_NUMPROC] = raw->pids_events_max;
                bc->events_present |= 1u << BC_NUMPROC;
        }
}

static void rows_swap(const struct sampler_raw *raw, bool v1, struct bc_sample *bc) {
        const uint64_t have = raw->have;

        if (!v1) {
                if (have & BIT(SF_SWAP_CURRENT)) {
                        bc->held[BC_SWAPPAGES] = bytes_to_pages(raw->v[SF_SWAP_CURRENT]);
                        bc->present |= 1u << BC_SWAPPAGES;
                }
                if (have & BIT(SF_SWAP_PEAK)) {
                        bc->peak[BC_SWAPPAGES] = bytes_to_pages(raw->v[SF_SWAP_PEAK]);
                        bc->peak_present |= 1u << BC_SWAPPAGES;
                }
                if (have & BIT(SF_SWAP_MAX))
                        bc->limit[BC_SWAPPAGES] = limit_to_pages(raw->v[SF_SWAP_MAX]);
                if ((have & BIT(SF_SWAP_EVENTS)) && raw->swap_events_found) {
                        bc->events[BC_SWAPPAGES] = (raw->swap_events_found & 1 ? raw->swap_events[0] : 0) +
                                                   (raw->swap_events_found & 2 ? raw->swap_events[1] : 0);
                        bc->events_present |= 1u << BC_SWAPPAGES;
                }
                return;
        }

        /* v1 counts memory + swap together: swap is the difference. */
        if ((have & BIT(SF_SWAP_CURRENT)) && (have & BIT(SF_MEM_CURRENT))) {
                uint64_t memsw = raw->v[SF_SWAP_CURRENT], mem = raw->v[SF_MEM_CURRENT];

                bc->held[BC_SWAPPAGES] = bytes_to_pages(memsw > mem ? memsw - mem : 0);
                bc->present |= 1u << BC_SWAPPAGES;
        }
        if ((have & BIT(SF_SWAP_MAX)) && (have & BIT(SF_MEM_MAX))) {
                uint64_t memsw = raw->v[SF_SWAP_MAX], mem = raw->v[SF_MEM_MAX];

                if (memsw < V1_UNLIMITED_FROM && mem < V1_UNLIMITED_FROM)
                        bc->limit[BC_SWAPPAGES] = bytes_to_pages(memsw > mem ? memsw - mem : 0);
        }
        if (have & BIT(SF_SWAP_EVENTS)) {
                bc->events[BC_SWAPPAGES] = raw->v[SF_SWAP_EVENTS];
                bc->events_present |= 1u << BC_SWAPPAGES;
        }
}

static void rows_kmem(const struct sampler_raw *raw, bool v1, struct bc_sample *bc) {
        static const unsigned parts[] = {MS_KERNEL_STACK, MS_SLAB, MS_PERCPU, MS_SOCK, MS_PAGETABLES};
        uint64_t found = raw->have & BIT(SF_MEM_STAT) ? raw->mem_stat_found : 0;
        uint64_t sum = 0;
        bool any = false;

        if (v1) {
                /* v1 memory.stat has no kernel line; the kmem counter is the kernel memory. */
                if (raw->have & BIT(SF_KMEM_USAGE)) {
                        bc->held[BC_KMEMSIZE] = raw->v[SF_KMEM_USAGE];
                        bc->present |= 1u << BC_KMEMSIZE;
                }
                return;
        }
        if (found & BIT(MS_KERNEL)) {
                bc->held[BC_KMEMSIZE] = raw->mem_stat[MS_KERNEL];
                bc->present |= 1u << BC_KMEMSIZE;
                return;
        }
        /* "kernel" came with 5.18; before, the kernel's parts are listed one by one. */
        for (size_t i = 0; i < ELEMENTSOF(parts); i++)
                if (found & BIT(parts[i])) {
                        sum += raw->mem_stat[parts[i]];
                        any = true;
                }
        if (any) {
                bc->held[BC_KMEMSIZE] = sum;
                bc->present |= 1u << BC_KMEMSIZE;
        }
}

static void rows_memory(const struct sampler_raw *raw, bool v1, struct bc_sample *bc) {
        const uint64_t have = raw->have;

        if (have & BIT(SF_MEM_CURRENT)) {
                bc->held[BC_PHYSPAGES] = bytes_to_pages(raw->v[SF_MEM_CURRENT]);
                bc->held[BC_OOMGUARPAGES] = bc->held[BC_PHYSPAGES];
                bc->present |= (1u << BC_PHYSPAGES) | (1u << BC_OOMGUARPAGES);
        }
        if (have & BIT(SF_MEM_PEAK)) {
                bc->peak[BC_PHYSPAGES] = bytes_to_pages(raw->v[SF_MEM_PEAK]);
                bc->peak_present |= 1u << BC_PHYSPAGES;
        }
        if (have & BIT(SF_MEM_HIGH))
                bc->barrier[BC_PHYSPAGES] = limit_to_pages(raw->v[SF_MEM_HIGH]);
        if (have & BIT(SF_MEM_MAX))
                bc->limit[BC_PHYSPAGES] = limit_to_pages(raw->v[SF_MEM_MAX]);
        if (have & BIT(SF_MEM_EVENTS)) {
                if (v1) {
                        bc->events[BC_PHYSPAGES] = raw->v[SF_MEM_EVENTS];
                        bc->events_present |= 1u << BC_PHYSPAGES;
                } else {
                        if (raw->mem_events_found & 1) {
                                bc->events[BC_PHYSPAGES] = raw->mem_events_max;
                                bc->events_present |= 1u << BC_PHYSPAGES;
                        }
                        if (raw->mem_events_found & 2) {
                                bc->events[BC_OOMGUARPAGES] = raw->mem_events_oom_kill;
                                bc->events_present |= 1u << BC_OOMGUARPAGES;
                        }
                }
        }
        if (v1 && (have & BIT(SF_OOM_CONTROL))) {
                bc->events[BC_OOMGUARPAGES] = raw->oom_kill;
                bc->events_present |= 1u << BC_OOMGUARPAGES;
        }
        if ((have & BIT(SF_MEM_STAT)) && (raw->mem_stat_found & BIT(MS_SHMEM))) {
                bc->held[BC_SHMPAGES] = bytes_to_pages(raw->mem_stat[MS_SHMEM]);
                bc->present |= 1u << BC_SHMPAGES;
        }
        rows_swap(raw, v1, bc);
        rows_kmem(raw, v1, bc);
}

static void stat_cpu(const struct sampler *s, const struct sampler_raw *raw, struct guest_stat *st) {
        bool v1 = file_version(s, SF_CPU_STAT) == CG_VERSION_V1;
        uint64_t found = raw->have & BIT(SF_CPU_STAT) ? raw->cpu_stat_found : 0;

        if (raw->have & BIT(SF_CPUACCT_USAGE)) {
                st->cpu_usage_usec = raw->v[SF_CPUACCT_USAGE] / 1000; /* ns */
                st->has_cpu_usage = true;
        } else if (!v1 && (found & BIT(CS_USAGE))) {
                st->cpu_usage_usec = raw->cpu_stat[CS_USAGE];
                st->has_cpu_usage = true;
        }
        if (found & BIT(CS_NR_PERIODS))
                st->cpu_nr_periods = raw->cpu_stat[CS_NR_PERIODS];
        if (found & BIT(CS_NR_THROTTLED))
                st->cpu_nr_throttled = raw->cpu_stat[CS_NR_THROTTLED];
        if (found & BIT(CS_THROTTLED))
                st->cpu_throttled_usec =
                        v1 ? raw->cpu_stat[CS_THROTTLED] / 1000 : raw->cpu_stat[CS_THROTTLED];
}

int sampler_sample(struct sampler *s, uint32_t id, struct bc_sample *ret_bc, struct guest_stat *ret_stat) {
        struct sampler_guest *g;
        struct bc_sample bc;
        struct guest_stat st;
        struct sampler_raw raw;
        char name[16];
        int r;

        if (!s || id < UBC_ID_MIN || id > UBC_ID_MAX)
                return -EINVAL;
        snprintf(name, sizeof(name), "%" PRIu32, id);
        r = guest_get(s, id, &g);
        if (r < 0)
                return r;

        for (unsigned attempt = 0;; attempt++) {
                struct stat dir;

                /* The directory's identity tells a cgroup made anew even where old
                 * descriptors would still read (a fake tree): then everything is reopened.
                 * Looked up when (re)opening, after sampler_refresh(), after a read said the
                 * cgroup went away, and every few sweeps. */
                if (!g->open || g->refresh || attempt > 0 ||
                    (g->sweeps + id) % SAMPLER_IDENTITY_EVERY == 0) {
                        if (fstatat(s->hier_fd[s->primary], name, &dir, AT_SYMLINK_NOFOLLOW) < 0) {
                                r = negative_errno();
                                if (r == -ENOENT)
                                        sampler_forget(s, id); /* a guest that is gone keeps nothing */
                                else
                                        guest_close(s, g);
                                return r;
                        }
                        if (!S_ISDIR(dir.st_mode)) {
                                sampler_forget(s, id);
                                return -ENOENT;
                        }
                        if (!g->open || dir.st_ino != g->dir_ino || dir.st_dev != g->dir_dev) {
                                guest_close(s, g);
                                g->open = true;
                                g->dir_dev = dir.st_dev;
                                g->dir_ino = dir.st_ino;
                        }
                        /* A directory's link count is 2 plus its subdirectories, cgroups too. */
                        g->nested = dir.st_nlink > 2;
                }

                /* Files not due this sweep keep what they last read. */
                raw = g->last;
                raw.have = 0;
                st = (struct guest_stat){};
                r = sample_files(s, g, &raw, &st);
                if (r != -ENODEV)
                        break;
                /* Descriptors of a removed cgroup: reopen once; if it is still not readable,
                 * it is on its way out. */
                guest_close(s, g);
                if (attempt > 0) {
                        sampler_forget(s, id);
                        return -ENOENT;
                }
        }
        if (r < 0)
                return r;
        g->last = raw;
        g->sweeps++;
        g->refresh = false;

        bc = (struct bc_sample){};
        for (size_t i = 0; i < _BC_MAX; i++)
                bc.barrier[i] = bc.limit[i] = BC_UNLIMITED;
        rows_pids(&raw, &bc);
        rows_memory(&raw, file_version(s, SF_MEM_CURRENT) == CG_VERSION_V1, &bc);
        if (raw.have & BIT(SF_PROCS))
                (void) sampler_tasks(s, s->pids, raw.n_pids, &bc); /* rows stay absent on failure */

        stat_cpu(s, &raw, &st);
        st.has_psi = raw.have & (BIT(SF_PSI_CPU) | BIT(SF_PSI_MEMORY) | BIT(SF_PSI_IO));

        if (ret_bc)
                *ret_bc = bc;
        if (ret_stat)
                *ret_stat = st;
        return 0;
}
