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

int write_file_atomic(const char *path, const char *content, size_t len, unsigned mode, bool durable) {
        _cleanup_free_ char *dir_copy = strdup(path), *base_copy = strdup(path);
        _cleanup_close_ int fd = -EBADF;
        char tmp[PATH_MAX];
        size_t off = 0;
        struct stat st;
        int r;

        if (!dir_copy || !base_copy)
                return -ENOMEM;
        if (stat(path, &st) == 0)
                mode = st.st_mode & 07777;
        if (snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dirname(dir_copy), basename(base_copy)) >=
            (int) sizeof(tmp))
                return -ENAMETOOLONG;

        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0)
                return negative_errno();
        while (off < len) {
                ssize_t w = write(fd, content + off, len - off);

                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        r = negative_errno();
                        goto fail;
                }
                off += (size_t) w;
        }
        if ((durable && fsync(fd) < 0) || rename(tmp, path) < 0) {
                r = negative_errno();
                goto fail;
        }
        if (durable) {
                /* The rename itself must reach the disk too. */
                _cleanup_close_ int dfd = open(dirname(base_copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);

                if (dfd >= 0)
                        (void) fsync(dfd);
        }
        return 0;
fail:
        (void) unlink(tmp);
        return r;
}
