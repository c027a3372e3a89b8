/* Atomic file replacement (write, fsync, rename), for guest files, state and outputs. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ubc/macro.h"
#include "fileio.h"

/* The temporary beside path, and the mode the file keeps. */
static int temp_name(const char *path, char *tmp, size_t size, unsigned *mode) {
        _cleanup_free_ char *dir_copy = strdup(path), *base_copy = strdup(path);
        struct stat st;

        if (!dir_copy || !base_copy)
                return -ENOMEM;
        if (stat(path, &st) == 0)
                *mode = st.st_mode & 07777;
        if (snprintf(tmp, size, "%s/.%s.tmp", dirname(dir_copy), basename(base_copy)) >= (int) size)
                return -ENAMETOOLONG;
        return 0;
}

/* fsync (if durable) and rename the written temporary over path; removes it on failure. */
static int commit(int fd, const char *tmp, const char *path, bool durable) {
        int r;

        if ((durable && fsync(fd) < 0) || rename(tmp, path) < 0) {
                r = negative_errno();
                (void) unlink(tmp);
                return r;
        }
        if (durable) {
                /* The rename itself must reach the disk too. */
                _cleanup_free_ char *dir_copy = strdup(path);
                _cleanup_close_ int dfd = -EBADF;

                if (dir_copy)
                        dfd = open(dirname(dir_copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (dfd >= 0)
                        (void) fsync(dfd);
        }
        return 0;
}

int write_file_atomic(const char *path, const char *content, size_t len, unsigned mode, bool durable) {
        _cleanup_close_ int fd = -EBADF;
        char tmp[PATH_MAX];
        size_t off = 0;
        int r;

        r = temp_name(path, tmp, sizeof(tmp), &mode);
        if (r < 0)
                return r;
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0)
                return negative_errno();
        while (off < len) {
                ssize_t w = write(fd, content + off, len - off);

                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        r = negative_errno();
                        (void) unlink(tmp);
                        return r;
                }
                off += (size_t) w;
        }
        return commit(fd, tmp, path, durable);
}

int write_file_atomic_stream(const char *path, unsigned mode, bool durable,
                             int (*fill)(FILE *f, void *userdata), void *userdata) {
        char tmp[PATH_MAX];
        FILE *f;
        int fd, r;

        r = temp_name(path, tmp, sizeof(tmp), &mode);
        if (r < 0)
                return r;
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0)
                return negative_errno();
        f = fdopen(fd, "w");
        if (!f) {
                r = negative_errno();
                close(fd);
                (void) unlink(tmp);
                return r;
        }
        /* Larger writes than stdio's 4 KiB: a few MiB per sweep in a few hundred calls. */
        (void) setvbuf(f, NULL, _IOFBF, 64 * 1024);
        r = fill(f, userdata);
        if (fflush(f) != 0 && r >= 0)
                r = negative_errno();
        if (ferror(f) && r >= 0)
                r = -EIO;
        if (r >= 0)
                r = commit(fd, tmp, path, durable);
        else
                (void) unlink(tmp);
        (void) fclose(f); /* flushed before the rename: nothing is left to lose here */
        return r;
}
