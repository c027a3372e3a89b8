/* Fd-relative helpers for cgroup control files and directories, in the manner of lxc's cgfsng:
 * names are single components checked here, so a name can never reach outside its directory. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ubc/cgroup.h"
#include "ubc/macro.h"
#include "ubc/policy.h"

#include "cg-file.h"

/* Longest owned root name: the absolute paths in struct cg_root must still fit. */
#define CG_ROOT_NAME_MAX 128

bool cg_name_is_component(const char *name) {
        if (!name || !*name)
                return false;
        if (streq(name, ".") || streq(name, ".."))
                return false;
        return !strchr(name, '/');
}

bool cg_root_name_is_valid(const char *root) {
        if (!root || !*root || root[0] == '/')
                return false;
        if (strlen(root) > CG_ROOT_NAME_MAX)
                return false;

        for (const char *p = root; *p;) {
                size_t n = strcspn(p, "/");

                /* "", "." and ".." components: "a//b", "a/", "./a", "a/../b" */
                if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
                        return false;
                for (size_t i = 0; i < n; i++)
                        if (!isprint((unsigned char) p[i]) || p[i] == ' ')
                                return false;
                p += n;
                if (*p == '/' && !*++p)
                        return false; /* "a/" */
        }
        return true;
}

int cg_fd_read(int fd, char *buf, size_t size) {
        size_t n = 0;

        if (size < 2)
                return -EINVAL;

        /* seq_file control files may return less than asked; read on until EOF. */
        for (;;) {
                ssize_t k = pread(fd, buf + n, size - 1 - n, (off_t) n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (k == 0)
                        break;
                n += (size_t) k;
                if (n == size - 1) {
                        char extra;

                        k = pread(fd, &extra, 1, (off_t) n);
                        if (k < 0)
                                return negative_errno();
                        if (k > 0)
                                return -EFBIG;
                        break;
                }
        }
        buf[n] = 0;
        return (int) n;
}

static int cg_file_open(int dirfd, const char *file, int flags) {
        int fd;

        if (!cg_name_is_component(file))
                return -EINVAL;
        fd = openat(dirfd, file, flags | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return negative_errno();
        return fd;
}

int cg_file_read(int dirfd, const char *file, char *buf, size_t size) {
        _cleanup_close_ int fd = -EBADF;

        fd = cg_file_open(dirfd, file, O_RDONLY);
        if (fd < 0)
                return fd;
        return cg_fd_read(fd, buf, size);
}

void cg_strip(char *s) {
        size_t n = strlen(s);

        while (n > 0 && isspace((unsigned char) s[n - 1]))
                s[--n] = 0;
}

int cg_file_read_value(int dirfd, const char *file, char *buf, size_t size) {
        int r = cg_file_read(dirfd, file, buf, size);
        if (r < 0)
                return r;
        cg_strip(buf);
        return (int) strlen(buf);
}

int cg_file_write(int dirfd, const char *file, const char *value, bool create) {
        _cleanup_close_ int fd = -EBADF;
        size_t len = strlen(value);
        ssize_t k;

        fd = cg_file_open(dirfd, file, O_WRONLY | (create ? O_CREAT | O_TRUNC : 0));
        if (fd < 0)
                return fd;

        /* The kernel parses what one write() brings; splitting a value would make it see
         * two values. An empty value still has to reach it (cpuset.cpus ""), as a newline. */
        if (len == 0) {
                value = "\n";
                len = 1;
        }
        do
                k = write(fd, value, len);
        while (k < 0 && errno == EINTR);
        if (k < 0)
                return negative_errno();
        if ((size_t) k != len)
                return -EIO;
        return 0;
}

bool cg_file_exists(int dirfd, const char *file) {
        struct stat st;

        if (!cg_name_is_component(file))
                return false;
        return fstatat(dirfd, file, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

int cg_file_count_lines(int dirfd, const char *file, unsigned *ret) {
        _cleanup_close_ int fd = -EBADF;
        char chunk[4096];
        unsigned lines = 0;
        bool partial = false;

        fd = cg_file_open(dirfd, file, O_RDONLY);
        if (fd < 0)
                return fd;

        for (;;) {
                ssize_t k = read(fd, chunk, sizeof(chunk));
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (k == 0)
                        break;
                for (ssize_t i = 0; i < k; i++) {
                        if (chunk[i] == '\n') {
                                if (lines == UINT32_MAX)
                                        return -EOVERFLOW;
                                lines++;
                                partial = false;
                        } else
                                partial = true;
                }
        }
        *ret = lines + (partial ? 1 : 0);
        return 0;
}

static int walk_below(int dir_fd, unsigned depth, int (*visit)(int fd, void *userdata), void *userdata) {
        struct dirent *e;
        DIR *d;
        int fd, r = 0;

        if (depth >= CG_BELOW_DEPTH_MAX)
                return -ELOOP;
        fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        d = fdopendir(fd);
        if (!d) {
                r = negative_errno();
                close(fd);
                return r;
        }
        while (r >= 0 && (e = readdir(d))) {
                _cleanup_close_ int sub = -EBADF;

                if (e->d_type != DT_DIR || e->d_name[0] == '.')
                        continue;
                sub = cg_dir_open(dirfd(d), e->d_name);
                if (sub == -ENOENT)
                        continue; /* removed meanwhile */
                r = sub < 0 ? sub : visit(sub, userdata);
                if (r >= 0)
                        r = walk_below(sub, depth + 1, visit, userdata);
        }
        closedir(d);
        return r;
}

int cg_for_each_below(int dir_fd, int (*visit)(int fd, void *userdata), void *userdata) {
        return walk_below(dir_fd, 0, visit, userdata);
}

static int count_procs(int fd, void *userdata) {
        unsigned *total = userdata, n;

        /* one that went meanwhile took its processes with it */
        if (cg_file_count_lines(fd, "cgroup.procs", &n) >= 0)
                *total += n;
        return 0;
}

int cg_tree_count_procs(int dirfd, unsigned *ret) {
        unsigned total;
        int r = cg_file_count_lines(dirfd, "cgroup.procs", &total);

        if (r < 0)
                return r;
        (void) cg_for_each_below(dirfd, count_procs, &total); /* what it could see */
        *ret = total;
        return 0;
}

int cg_dir_open(int dirfd, const char *name) {
        int fd;

        if (!cg_name_is_component(name))
                return -EINVAL;
        fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return negative_errno();
        return fd;
}

int cg_dir_open_path(int dirfd, const char *path) {
        _cleanup_close_ int fd = -EBADF;
        char name[NAME_MAX + 1];

        for (const char *p = path; *p;) {
                size_t n = strcspn(p, "/");
                int k;

                if (n == 0 || n > NAME_MAX)
                        return -EINVAL;
                memcpy(name, p, n);
                name[n] = 0;
                k = cg_dir_open(fd >= 0 ? fd : dirfd, name);
                if (k < 0)
                        return k;
                closep(&fd);
                fd = k;
                p += n;
                if (*p == '/')
                        p++;
        }
        if (fd < 0)
                return -EINVAL;
        return TAKE_FD(fd);
}

int cg_dir_make(int dirfd, const char *name) {
        if (!cg_name_is_component(name))
                return -EINVAL;
        if (mkdirat(dirfd, name, 0755) < 0)
                return errno == EEXIST ? 0 : negative_errno();
        return 1;
}

int cg_id_name(uint32_t id, char buf[static CG_ID_NAME_MAX]) {
        if (id < UBC_ID_MIN || id > UBC_ID_MAX)
                return -EINVAL;
        snprintf(buf, CG_ID_NAME_MAX, "%" PRIu32, id);
        return 0;
}

int cg_guest_open_at(int root_fd, uint32_t id) {
        char name[CG_ID_NAME_MAX];
        int r;

        r = cg_id_name(id, name);
        if (r < 0)
                return r;
        return cg_dir_open(root_fd, name);
}

bool cg_id_from_name(const char *name, uint32_t *ret) {
        uint64_t v = 0;
        size_t n = 0;

        /* Only what cg_id_name makes: no sign, no leading zero, no suffix. */
        if (!name[0] || name[0] == '0')
                return false;
        for (; name[n]; n++) {
                if (name[n] < '0' || name[n] > '9' || n >= 10)
                        return false;
                v = v * 10 + (uint64_t) (name[n] - '0');
        }
        if (v < UBC_ID_MIN || v > UBC_ID_MAX)
                return false;
        *ret = (uint32_t) v;
        return true;
}
