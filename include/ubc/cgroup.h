/* The cgroup layer: discovery, and the subtree ubcd owns, reached only through directory fds.
 * Only cg-discover.c knows where cgroups are mounted; everything else works relative to
 * the owned root's fds, and a guest ID is the only name that reaches a path. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ubc/host.h"
#include "ubc/plan.h"

struct cg_ops;

struct cg_root {
        enum cg_mode mode;
        enum cg_version version[_UBC_CTRL_MAX];
        int fd[_UBC_CTRL_MAX];         /* the owned root in that controller's hierarchy, -EBADF if none;
                                          on v2 all are dups of one directory */
        char path[_UBC_CTRL_MAX][256]; /* absolute path of the owned root, for messages and
                                          dry-run output */
        const struct cg_ops *ops[_UBC_CTRL_MAX];
        bool create_files; /* fake roots in unit tests: create control files on write */
};

/* Fills *ret from this host without changing anything: mode, controllers, swap accounting,
 * I/O weight file, CPUs, memory, block devices. 'root' is the owned subtree name ("ubc"). */
int cg_host_discover(const char *root, struct ubc_host *ret);

/* Opens (creating if needed) the owned subtree in every hierarchy and enables the
 * controllers top-down on v2. Fills host->root_cpus/root_mems. */
int cg_root_open(const char *root, struct ubc_host *host, struct cg_root *ret);
/* The same over a fake tree in 'dir': v1 uses dir/cpu, dir/cpuset, dir/memory, dir/blkio,
 * dir/pids; v2 uses dir itself. For unit tests. */
int cg_root_open_fake(const char *dir, enum cg_version v, struct cg_root *ret);
void cg_root_close(struct cg_root *r);
/* Whether c is the first controller of its hierarchy: v2 and co-mounted v1 controllers share
 * one directory, which must be made, listed and removed once. */
bool cg_first_of_hierarchy(const struct cg_root *r, enum ubc_ctrl c);

/* Refuses names that are not a plain relative path: "", absolute, "..", "." components. */
bool cg_root_name_is_valid(const char *root);

/* 1 when the guest was made anew in every hierarchy (its files hold the kernel's defaults),
 * 0 when it existed or was only completed. */
int cg_guest_create(struct cg_root *r, const struct ubc_host *host, uint32_t id);
/* The same, for a guest that cg_apply_new() will configure with 'plan' (made for a fresh cgroup):
 * a new v1 cpuset takes its CPUs from the plan's cpuset.cpus at once, as it needs some before
 * anything joins, and each such write costs the kernel a pass over every sibling cpuset. */
int cg_guest_create_for(struct cg_root *r, const struct ubc_host *host, uint32_t id,
                        const struct cg_plan *plan);
bool cg_guest_exists(struct cg_root *r, uint32_t id);
/* -EBUSY while it still has processes; 0 if it did not exist. */
int cg_guest_remove(struct cg_root *r, uint32_t id);
/* Number of processes over all hierarchies (the largest count). */
int cg_guest_nprocs(struct cg_root *r, uint32_t id, unsigned *ret);
/* Moves pid into the guest in every hierarchy (cgroup.procs). */
int cg_guest_attach(struct cg_root *r, uint32_t id, pid_t pid);
/* Guest IDs that have a cgroup below the owned root now; sorted, caller frees. */
int cg_guest_list(struct cg_root *r, uint32_t **ret, size_t *ret_n);
/* Absolute path of the guest's cgroup in a controller's hierarchy. */
int cg_guest_path(struct cg_root *r, enum ubc_ctrl c, uint32_t id, char *buf, size_t size);

/* What the planner needs of the guest's cgroup now. */
int cg_read_current(struct cg_root *r, uint32_t id, struct cg_current *ret);
/* The value a write targets as it is now: the whole file, or the device's line. */
int cg_read_target(struct cg_root *r, uint32_t id, const struct cg_write *w, char *buf, size_t size);
/* Whether the kernel's value already is what the write would set (page rounding, "max",
 * -1, cpuset ranges, missing device lines all considered). */
bool cg_value_matches(const struct cg_write *w, const char *actual);
/* As cg_value_matches, for a guest below r: an empty cpuset.cpus (v2, all of the parent's CPUs)
 * also matches the parent's list, which is written where the kernel refuses empty. */
bool cg_target_matches(const struct cg_root *r, const struct cg_write *w, const char *actual);

struct cg_apply_result {
        unsigned n_written; /* writes that changed something */
        int failed;         /* index in the plan of the write the kernel refused, -1 if none */
        int error;          /* its -errno */
        bool restored;      /* every earlier write of this apply was put back */
};

/* Applies a plan to one guest as one step: writes only what differs; on a refusal writes
 * back what this apply changed, in reverse order, and returns the refusal's -errno. */
int cg_apply(struct cg_root *r, uint32_t id, const struct cg_plan *plan, struct cg_apply_result *ret);
/* The same for a guest cg_guest_create_for() has just made with this plan: its values are the
 * kernel's defaults, so every write is made without reading the file first, except v1's
 * cpuset.cpus, which creation already set; nothing is restored on a refusal (the caller
 * removes the still empty cgroup instead). */
int cg_apply_new(struct cg_root *r, uint32_t id, const struct cg_plan *plan, struct cg_apply_result *ret);
