/* What this host's cgroups and hardware offer: filled by discovery (agent/cg-discover.c),
 * built by hand in unit tests, read by validation and mapping. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "ubc/limits.h"

enum cg_mode {
        CG_MODE_LEGACY,  /* v1 hierarchies only */
        CG_MODE_HYBRID,  /* v1 hierarchies plus a cgroup2 mount at unified/ */
        CG_MODE_UNIFIED, /* cgroup2 only */
};

enum cg_version {
        CG_VERSION_NONE = 0, /* controller not available */
        CG_VERSION_V1 = 1,
        CG_VERSION_V2 = 2,
};

/* The controllers ubc drives; on v1 each may sit in its own hierarchy. */
enum ubc_ctrl {
        UBC_CTRL_CPU,
        UBC_CTRL_CPUSET,
        UBC_CTRL_MEMORY,
        UBC_CTRL_IO, /* "io" on v2, "blkio" on v1 */
        UBC_CTRL_PIDS,
        UBC_CTRL_CPUACCT, /* v1 only, no limits: where CPU usage is counted when not with cpu */
        _UBC_CTRL_MAX,
};

/* Which file carries a proportional I/O weight here, if any. */
enum ubc_io_weight_file {
        UBC_IO_WEIGHT_NONE,
        UBC_IO_WEIGHT_V2,     /* io.weight */
        UBC_IO_WEIGHT_V2_BFQ, /* io.bfq.weight */
        UBC_IO_WEIGHT_V1,     /* blkio.weight */
        UBC_IO_WEIGHT_V1_BFQ, /* blkio.bfq.weight */
};

#define UBC_BLOCKDEVS_MAX 256

struct ubc_blockdev {
        char name[32]; /* "vda" as in /sys/class/block */
        unsigned major, minor;
};

struct ubc_host {
        enum cg_mode mode;
        enum cg_version ctrl[_UBC_CTRL_MAX];
        bool swap_accounting; /* memory.swap.max or memory.memsw.* present */
        enum ubc_io_weight_file io_weight;
        struct ubc_cpuset cpus; /* CPUs the owned root may use */
        char root_cpus[256];    /* v1: cpuset.cpus of the owned root, copied into new guests */
        char root_mems[256];    /* v1: cpuset.mems of the owned root */
        unsigned ncpus;         /* CPUs in 'cpus' */
        uint64_t mem_total;     /* bytes */
        uint64_t swap_total;    /* bytes */
        unsigned n_blockdevs;
        struct ubc_blockdev blockdevs[UBC_BLOCKDEVS_MAX];
};

const char *ubc_ctrl_name(enum ubc_ctrl c, enum cg_version v); /* "blkio" or "io", ... */
const char *cg_mode_name(enum cg_mode m);                      /* "legacy", "hybrid", "unified" */
/* Finds a block device by "/dev/vda", "vda" or "254:0"; NULL if absent. */
const struct ubc_blockdev *host_find_blockdev(const struct ubc_host *h, const char *dev);
