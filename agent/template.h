/* Container templates: OpenVZ-style rootfs tarballs in state_dir/template, unpacked into a
 * folder with their owners shifted for an unprivileged container. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The tar flag that decompresses a template by its name ("-z" for .tar.gz, "" for .tar);
 * NULL for a name that is not a known tarball or not a plain file name. */
const char *template_tar_flag(const char *name);

typedef void (*template_progress_fn)(void *userdata, uint64_t done, uint64_t total);

/* Unpacks the tarball 'path' into the existing, empty folder 'dir', then adds 'shift' to the
 * owner and group of every entry (0: none). Reports bytes of the compressed file read. On
 * failure the folder may hold a part: the caller removes it. */
int template_unpack(const char *path, const char *dir, uint32_t shift, template_progress_fn progress,
                    void *userdata, char *err, size_t size);

/* Removes 'name' beneath dirfd and everything below it without following symlinks or
 * crossing into another file system (a mount left below is -EBUSY, never emptied). */
int template_rmtree_at(int dirfd, const char *name);
