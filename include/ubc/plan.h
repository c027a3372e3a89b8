/* Mapping: resolved limits become an ordered list of cgroup file writes for this host.
 * Pure: the same limits, host and current state give the same plan (tested, and printed
 * by `ubcctl apply --dry-run`). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "ubc/host.h"
#include "ubc/limits.h"

#define UBC_PLAN_MAX 160

struct cg_write {
        enum ubc_ctrl ctrl;       /* which hierarchy's guest directory holds the file */
        int key;                  /* enum ubc_key it realizes, or -1 for plumbing (cpuset.mems) */
        char file[40];            /* "cpu.weight" */
        char value[160];          /* exactly what is written */
        int dev_major, dev_minor; /* >= 0: a per-device line; compare and restore that line only */
        char note[120];           /* non-empty when the kernel cannot take the value exactly */
};

struct cg_plan {
        unsigned n;
        struct cg_write w[UBC_PLAN_MAX];
};

/* What the planner needs to know of the guest's cgroup as it is now. */
struct cg_current {
        uint64_t v1_mem_limit;   /* memory.limit_in_bytes, UBC_UNLIMITED if none or unknown */
        uint64_t v1_memsw_limit; /* memory.memsw.limit_in_bytes, likewise */
        unsigned n_io_devs;      /* devices with a throttle now, to reset those no longer limited */
        struct {
                unsigned major, minor;
        } io_devs[UBC_IO_LIMITS_MAX * 2];
};

/* A fresh cgroup: nothing limited. */
void cg_current_init(struct cg_current *ret);

/* Every key, set or default, becomes writes, so removing a key from a policy resets it.
 * A default for something the host lacks (io.weight without a weight file) is skipped;
 * an explicit one was refused by validation. On v1 memory.limit_in_bytes and
 * memory.memsw.limit_in_bytes are ordered so that limit <= memsw holds after each write. */
int policy_map(const struct ubc_limits *l, const struct ubc_host *host, const struct cg_current *cur,
               struct cg_plan *ret);

/* v2 cpu.weight from cpu.units, and whether that is exact. */
uint32_t map_cpu_units_to_weight(uint32_t units);
/* v1 cpu.shares from cpu.units. */
uint32_t map_cpu_units_to_shares(uint32_t units);
/* v2 io.weight from the policy's io.weight (10..1000, default 500). */
uint32_t map_io_weight_v2(uint32_t weight);

/* CPU share under full contention: weights with caps (cpu.limit, cpu.set size) shared out over
 * ncpus by water-filling. Pure; ret_cpus[i] in CPUs. */
struct share_input {
        uint32_t units;
        double cap_cpus; /* 0 = uncapped */
};
int share_entitled(const struct share_input *in, size_t n, double ncpus, double *ret_cpus);
