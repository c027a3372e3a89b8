/* Launchers: the type-specific steps of running a guest's payload inside its cgroup, for
 * containers (liblxc, launch-lxc.c) and VMs (qemu, launch-qemu.c). ubcd's runtime (runtime.c)
 * owns the rest: guest states, watching the payload's pidfd, what is persisted, onboot.
 *
 * Every function returns 0 (or a count) or a negative errno, and on failure puts a message a
 * user can act on in err ("template 'x.tar.gz' not found in /var/lib/ubc/template"). No
 * function leaves a half-made guest behind when it fails. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ubc/cgroup.h"
#include "ubc/diag.h"
#include "ubc/policy.h"

struct launch_guest {
        uint32_t id;
        const char *file;                      /* guests.d/ID.conf, for messages */
        const struct policy_setting *settings; /* all of the guest file's [container]/[vm] settings */
        size_t n_settings;
        uint64_t mem_limit;    /* the guest's memory limit: bytes or UBC_UNLIMITED */
        const char *state_dir; /* ubcd's: templates in state_dir/template, guests' files below */
        const char *run_dir;   /* ubcd's: sockets, pid files */
        struct cg_root *root;  /* the owned root; cg_guest_path() names the guest's cgroup */
        const char *root_name; /* the owned root below each hierarchy's mount, e.g. "ubc" */
};

/* A start under way. Its slow part (a container getting to RUNNING, a VM's qemu to answer on
 * QMP) goes on while the caller begins others: onboot starts several guests at once. */
struct launch_pending {
        pid_t pid;        /* VM: qemu */
        int pidfd;        /* VM: qemu's; -EBADF for a container */
        int result_fd;    /* container: where the start's result comes (lxc-starter.h) */
        off_t log_offset; /* container: where this start's lines begin in its log */
};

/* The value of a setting of a section, or NULL; *ret_line gets its line if not NULL. */
const char *launch_setting(const struct launch_guest *g, const char *section, const char *key,
                           unsigned *ret_line);

/* Containers (launch-lxc.c). The container "ID" lives in state_dir/lxc/ID (config, rootfs);
 * its processes in the guest's cgroup subtree (ROOT/ID/lxc, monitor in ROOT/ID/lxc.monitor,
 * and in ROOT/ID/lxc.pivot while it ends). */
int lxc_launch_validate(const struct launch_guest *g, struct ubc_diag_sink *diags);
typedef void (*launch_progress_fn)(void *userdata, uint64_t done, uint64_t total);
/* Unpacks state_dir/template/TEMPLATE into the container's rootfs (ids shifted for an
 * unprivileged one). -EEXIST if the container exists. */
int lxc_launch_create(const struct launch_guest *g, const char *template_name, launch_progress_fn progress,
                      void *userdata, char *err, size_t size);
/* Starts it: begin returns once its start is under way (-EALREADY if it runs), finish once it
 * runs, with its init's PID; a failed finish leaves nothing running. start is both. */
int lxc_launch_begin(const struct launch_guest *g, struct launch_pending *ret, char *err, size_t size);
int lxc_launch_finish(const struct launch_guest *g, struct launch_pending *pending, pid_t *ret_pid,
                      char *err, size_t size);
int lxc_launch_start(const struct launch_guest *g, pid_t *ret_pid, char *err, size_t size);
/* 1 and its init's PID when it runs (after a ubcd restart too), 0 when not. */
int lxc_launch_find(const struct launch_guest *g, pid_t *ret_pid);
/* Asks its init to halt (as lxc-stop without -k); returns at once. */
int lxc_launch_shutdown(const struct launch_guest *g, char *err, size_t size);
/* Kills every process of it now and waits until they are gone. */
int lxc_launch_kill(const struct launch_guest *g, char *err, size_t size);
/* After its init exited: removes what is left (its cgroups below the guest's, mounts). */
int lxc_launch_cleanup(const struct launch_guest *g);
/* Removes its rootfs and config; -EBUSY while it runs. */
int lxc_launch_destroy(const struct launch_guest *g, char *err, size_t size);
/* Runs argv inside it (enter: a shell) on the caller's terminal; the command's exit status. */
int lxc_launch_attach(const struct launch_guest *g, char *const *argv, char *err, size_t size);

/* VMs (launch-qemu.c). qemu runs directly in the guest's cgroup; its QMP socket is
 * run_dir/vm-ID.qmp, its serial console state_dir/vm/ID.console, its own messages
 * state_dir/vm/ID.log. */
struct qemu_paths {
        char dir[512], qmp[512], console[600], log[600];
};
void qemu_launch_paths(const struct launch_guest *g, struct qemu_paths *ret);
/* [vm] settings, files that must exist, qemu on PATH, and the guest's memory limit against
 * the VM's RAM plus qemu's own overhead. */
int qemu_launch_validate(const struct launch_guest *g, struct ubc_diag_sink *diags);
/* Starts qemu in the guest's cgroup (a child of the caller): begin returns once qemu runs its
 * own code, finish once its QMP socket answers, or after killing a qemu that did not. */
int qemu_launch_begin(const struct launch_guest *g, struct launch_pending *ret, char *err, size_t size);
int qemu_launch_finish(const struct launch_guest *g, struct launch_pending *pending, char *err, size_t size);
/* ACPI powerdown: the guest OS may shut down. */
int qemu_launch_shutdown(const struct launch_guest *g, char *err, size_t size);
/* qemu exits now. */
int qemu_launch_quit(const struct launch_guest *g, char *err, size_t size);
/* "running", "paused", ... from QMP. */
int qemu_launch_status(const struct launch_guest *g, char *status, size_t size);
/* After qemu exited: its socket. */
void qemu_launch_cleanup(const struct launch_guest *g);
