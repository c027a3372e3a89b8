/* Fd-relative access to cgroup directories and control files: the only place that opens them.
 * Every name is a single path component, so nothing can climb out of the owned subtree. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The largest control file read whole; io.max or a blkio throttle file with many devices
 * still fits, a larger one is refused with -EFBIG rather than read in part. */
#define CG_FILE_MAX 8192

/* Room for "%u" of a guest ID and its NUL. */
#define CG_ID_NAME_MAX 16

/* Reads a whole file from offset 0 with pread, so persistent fds can be read again.
 * NUL-terminates; returns the length, -EFBIG if it does not fit into size - 1 bytes. */
int cg_fd_read(int fd, char *buf, size_t size);
/* Opens 'file' beneath dirfd and reads it whole, as cg_fd_read. */
int cg_file_read(int dirfd, const char *file, char *buf, size_t size);
/* As cg_file_read, without trailing whitespace: the value as one would write it. */
int cg_file_read_value(int dirfd, const char *file, char *buf, size_t size);
/* Writes 'value' in one write(), so the kernel parses it whole; returns the kernel's -errno.
 * 'create' (fake roots only) creates and truncates the file. */
int cg_file_write(int dirfd, const char *file, const char *value, bool create);
bool cg_file_exists(int dirfd, const char *file);
/* Lines of a file of any length (cgroup.procs), read in bounded chunks. */
int cg_file_count_lines(int dirfd, const char *file, unsigned *ret);
/* How deep below a guest its cgroups are followed: a container's and its own nesting. */
#define CG_BELOW_DEPTH_MAX 16
/* Calls visit with each cgroup below dir_fd (not dir_fd itself), parents first; one removed
 * meanwhile is skipped. Stops at the first error of visit, or -ELOOP below the depth limit. */
int cg_for_each_below(int dir_fd, int (*visit)(int fd, void *userdata), void *userdata);
/* The processes of the cgroup dirfd and of every cgroup below it (a container's). */
int cg_tree_count_procs(int dirfd, unsigned *ret);

/* A single path component: not empty, no '/', not "." or "..". */
bool cg_name_is_component(const char *name);
/* Opens the directory 'name' beneath dirfd without following symlinks. */
int cg_dir_open(int dirfd, const char *name);
/* Opens a relative path beneath dirfd one component at a time, each as cg_dir_open. */
int cg_dir_open_path(int dirfd, const char *path);
/* mkdirat; 1 if made, 0 if it was there already. */
int cg_dir_make(int dirfd, const char *name);

/* The directory name of a guest: "%u" of its ID; -EINVAL outside UBC_ID_MIN..UBC_ID_MAX. */
int cg_id_name(uint32_t id, char buf[static CG_ID_NAME_MAX]);
/* Opens a guest's directory below an owned root fd; -EINVAL for an invalid ID. */
int cg_guest_open_at(int root_fd, uint32_t id);
/* The ID a directory name stands for, if it is exactly "%u" of a valid ID. */
bool cg_id_from_name(const char *name, uint32_t *ret);

/* Drops trailing whitespace in place. */
void cg_strip(char *s);
