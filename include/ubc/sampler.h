/* The accounting sampler: reads every guest's cgroup statistics each interval through file
 * descriptors kept open between sweeps (pread at offset 0), reopening only when a cgroup was
 * made anew; the limits and memory.stat only every few sweeps (see sampler_refresh); adds
 * per-task counters summed with libproc2. No logging, no global state. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ubc/beancounter.h"
#include "ubc/host.h"
#include "ubc/stat.h"

/* The owned root in each controller's hierarchy, as the cgroup layer opened it. */
struct sampler_root {
        int fd[_UBC_CTRL_MAX]; /* not owned by the sampler; UBC_CTRL_CPUACCT: v1's CPU usage */
        enum cg_version version[_UBC_CTRL_MAX];
};

/* Everything `ubcctl stat` shows of one guest. */
struct guest_stat {
        bool has_cpu_usage; /* v1 needs a cpuacct hierarchy ubcd owns a root in */
        uint64_t cpu_usage_usec;
        uint64_t cpu_nr_periods, cpu_nr_throttled, cpu_throttled_usec;
        size_t n_io;
        struct stat_io_dev io[STAT_IO_DEVS_MAX];
        bool has_psi;
        struct stat_psi psi_cpu, psi_memory, psi_io;
};

struct sampler;

/* What the host says of every guest at once, looked at once per sweep: it tells files that
 * cannot have moved on any guest. */
struct sampler_host {
        bool swap_known;
        unsigned swap_areas; /* /proc/swaps: areas in use; none, and no guest has swap */
        bool oom_kills_known;
        uint64_t oom_kills; /* /proc/vmstat oom_kill: every OOM kill, of any cgroup or none */
};

int sampler_new(const struct sampler_root *root, struct sampler **ret);
void sampler_free(struct sampler *s);

/* What /proc says now; fields it could not read stay unknown. */
void sampler_host_read(struct sampler *s, struct sampler_host *ret);
/* Starts a sweep with what the host says (NULL: read it from /proc). A sampler that is never
 * told reads every file as if nothing were known. On v1, while no swap area is in use,
 * memory.memsw.usage_in_bytes is not read (it equals usage_in_bytes: no swap held); while
 * oom_kill did not move over the last two sweeps, memory.oom_control is read only every
 * SAMPLER_LIMITS_EVERY sweeps (an OOM kill counts there right after it counts in vmstat). */
void sampler_sweep_begin(struct sampler *s, const struct sampler_host *host);

/* One guest's sample. A guest seen for the first time gets its descriptors opened; a guest
 * whose cgroup was removed and made again gets them reopened. -ENOENT if its cgroup is not
 * there now (a guest vanishing mid-sweep), which the caller skips without an error. */
int sampler_sample(struct sampler *s, uint32_t id, struct bc_sample *ret_bc, struct guest_stat *ret_stat);
/* Makes the next sample of a guest (id 0: of every guest) read every file, those read only
 * every few sweeps too (its limits, memory.stat), and look its directory up again: for after
 * its limits were written. Between
 * such calls a limit changed behind ubcd's back shows within SAMPLER_LIMITS_EVERY (6) sweeps,
 * shmpages (and kmemsize on v2) lag by up to 3 sweeps. */
void sampler_refresh(struct sampler *s, uint32_t id);
/* Closes what was kept open for a guest that is gone. */
void sampler_forget(struct sampler *s, uint32_t id);
/* Per-task part only (lockedpages, privvmpages, numfile), for the given PIDs; exposed for the
 * benchmark. Sets the held values and present bits of those rows. */
int sampler_tasks(struct sampler *s, const pid_t *pids, size_t n, struct bc_sample *bc);
