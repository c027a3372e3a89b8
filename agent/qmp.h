/* A minimal QMP client (qemu's machine protocol over a unix socket): enough for a VM's status
 * and its shutdown. Each call is bounded by a few seconds. */
#pragma once

#include <stddef.h>

/* Connects and negotiates capabilities; the socket, or -errno. */
int qmp_open(const char *path);
/* Runs a command without arguments; the reply line into reply if not NULL. -EREMOTEIO when
 * qemu answers with an error. */
int qmp_execute(int fd, const char *command, char *reply, size_t size);

/* One connection for one question: "running", "paused", "shutdown", ... */
int qmp_status(const char *path, char *status, size_t size);
/* One connection for one command: "system_powerdown", "quit". */
int qmp_command(const char *path, const char *command);
