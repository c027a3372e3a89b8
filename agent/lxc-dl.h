/* liblxc, loaded when a container is first touched rather than at exec. ubcctl links the
 * launchers for enter and exec; linked in, liblxc and what it brings (seccomp, selinux,
 * apparmor, pcre2) cost every ubcctl command 0.4 ms to load, and ubcd carried them on hosts
 * without containers. Starts go through ubc-lxc-starter, which links it. */
#pragma once

#include <stddef.h>

#include <lxc/lxccontainer.h>

#define LXC_SONAME "liblxc.so.1"

extern typeof(lxc_container_new) *sym_lxc_container_new;
extern typeof(lxc_container_put) *sym_lxc_container_put;

/* Loads liblxc and resolves its symbols, once per process. 0, or -ENOENT/-ENOSYS with the
 * reason and the package in err. */
int lxc_dl_open(char *err, size_t err_size);
