/* Read-only access to the live cgroups for `ubcctl apply --dry-run`: the owned root opened
 * where it exists and never created, so the cgroup layer's readers work without a change. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "ubc/cgroup.h"
#include "ubc/host.h"

/* Fills *ret like cg_root_open() but creates nothing: fd[c] is -EBADF where the owned root does
 * not exist (yet), path[c] is set for every controller the host has. Also fills
 * host->root_cpus/root_mems as a new guest would inherit them on v1. */
int cgread_root_open(const char *root, struct ubc_host *host, struct cg_root *ret);
/* Whether the owned root exists in controller c's hierarchy. */
bool cgread_root_exists(const struct cg_root *r, enum ubc_ctrl c);
/* Absolute path of the guest's directory in c's hierarchy, existing or not. */
int cgread_guest_path(struct cg_root *r, enum ubc_ctrl c, uint32_t id, char *buf, size_t size);
/* Whether the guest's directory exists in c's hierarchy. */
bool cgread_guest_dir_exists(const struct cg_root *r, enum ubc_ctrl c, uint32_t id);
/* Whether c is the first controller of its hierarchy (v2 and co-mounted v1 share one). */
bool cgread_first_of_hierarchy(const struct cg_root *r, enum ubc_ctrl c);
