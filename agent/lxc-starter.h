/* ubcd's side of ubc-lxc-starter (ubc-lxc-starter.c): container starts made by a small
 * resident process of ours instead of a fork of ubcd. */
#pragma once

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

/* The starter's socket to ubcd. */
#define LXC_STARTER_FD 3
/* A request's name and lxcpath each fit in this. */
#define LXC_STARTER_PATH_MAX PATH_MAX
#define LXC_STARTER_NAME     "ubc-lxc-starter"

/* What a start's pipe gets. */
struct lxc_starter_result {
        int error;      /* 0 once the container runs, else a positive errno */
        pid_t init_pid; /* liblxc's word for its init's PID; 0 if it had none */
};

/* Where the starter is: by default next to this process's executable (a build tree), else in
 * UBC_LIBEXEC_DIR. A test driver living elsewhere names it. */
void lxc_starter_set_path(const char *path);

/* Asks for a start of container name in lxcpath, running the starter first if it is not (or
 * no longer) running. *ret_fd gets what lxc_starter_wait() reads the result from. */
int lxc_starter_request(const char *name, const char *lxcpath, int *ret_fd, char *err, size_t size);

/* Waits for a start's result and closes fd: 0 and its init's PID (0 if it had none) once the
 * container runs, -EIO when liblxc failed (its log says why), -ECHILD when the starter's child
 * ended without an answer. */
int lxc_starter_wait(int fd, pid_t *ret_init_pid);

/* Ends the starter (at ubcd's exit); starts under way finish on their own. */
void lxc_starter_stop(void);
