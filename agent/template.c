/* Container templates: unpacking a rootfs tarball (OpenVZ style) with the tar program, shifting
 * its owners for an unprivileged container, and removing a tree without leaving it.
 *
 * Why the tar program and not libarchive: GNU tar and the decompressors it runs (gzip, xz,
 * zstd) are on every host that makes such templates, they are what produced them (debootstrap
 * trees packed with tar), and GNU tar already refuses members that climb out of the folder
 * ("../", absolute names, links through symlinks); libarchive would be one more library in
 * both programs for the one step ubcd does rarely. We feed tar its input ourselves, so the
 * bytes of the compressed file read are the progress. */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "template.h"
#include "ubc/macro.h"

/* A container's ids: what an unprivileged one maps (u/g 0 SHIFT 65536). */
#define TEMPLATE_IDS       65536u
#define TEMPLATE_DEPTH     256
#define TEMPLATE_CAP_XATTR "security.capability"

static const struct {
        const char *suffix;
        const char *flag;
} tar_suffixes[] = {
        {".tar.gz", "-z"},      {".tgz", "-z"},     {".tar.xz", "-J"},
        {".tar.zst", "--zstd"}, {".tar.bz2", "-j"}, {".tar", ""},
};

static bool ends_with(const char *s, const char *suffix) {
        size_t n = strlen(s), m = strlen(suffix);
        return n > m && streq(s + n - m, suffix);
}

const char *template_tar_flag(const char *name) {
        if (!name || !*name || name[0] == '.' || strchr(name, '/') || strlen(name) > 200)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(tar_suffixes); i++)
                if (ends_with(name, tar_suffixes[i].suffix))
                        return tar_suffixes[i].flag;
        return NULL;
}

/* The first line tar or its decompressor wrote, for the error message. */
static void first_line(int fd, char *buf, size_t size) {
        ssize_t n;

        if (size == 0)
                return;
        buf[0] = '\0';
        n = pread(fd, buf, size - 1, 0);
        if (n <= 0)
                return;
        buf[n] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
}

static int run_tar(const char *path, const char *dir, const char *flag, template_progress_fn progress,
                   void *userdata, char *err, size_t size) {
        _cleanup_close_ int in = -EBADF, log = -EBADF;
        int sv[2] = {-EBADF, -EBADF};
        struct stat st;
        uint64_t done = 0;
        char buf[128 * 1024], msg[256];
        bool write_failed = false;
        int status, r;
        pid_t pid;

        in = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (in < 0) {
                r = negative_errno();
                snprintf(err, size, "cannot open template '%s': %s", path, strerror(-r));
                return r;
        }
        if (fstat(in, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode)) {
                snprintf(err, size, "template '%s' is not a regular file", path);
                return -EINVAL;
        }
        log = memfd_create("ubc-tar-stderr", MFD_CLOEXEC);
        if (log < 0)
                return negative_errno();
        /* A socket, not a pipe: send() with MSG_NOSIGNAL reports a tar that stopped reading
         * as EPIPE without a SIGPIPE the caller may not have ignored. */
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
                return negative_errno();

        pid = fork();
        if (pid < 0) {
                r = negative_errno();
                close(sv[0]);
                close(sv[1]);
                return r;
        }
        if (pid == 0) {
                sigset_t none;
                int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);

                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                signal(SIGPIPE, SIG_DFL);
                if (dup2(sv[1], STDIN_FILENO) < 0 || devnull < 0 || dup2(devnull, STDOUT_FILENO) < 0 ||
                    dup2(log, STDERR_FILENO) < 0)
                        _exit(127);
                /* Owners as numbers (the host's names mean nothing in the rootfs), modes with
                 * setuid bits, file capabilities; nothing outside 'dir'. */
                const char *argv[] = {"tar",
                                      "--extract",
                                      "--file=-",
                                      "--directory",
                                      dir,
                                      "--numeric-owner",
                                      "--same-owner",
                                      "--same-permissions",
                                      "--xattrs",
                                      "--xattrs-include=" TEMPLATE_CAP_XATTR,
                                      *flag ? flag : NULL,
                                      NULL};
                execvp("tar", (char **) argv);
                dprintf(STDERR_FILENO, "cannot run tar: %s\n", strerror(errno));
                _exit(127);
        }
        close(sv[1]);

        if (progress)
                progress(userdata, 0, (uint64_t) st.st_size);
        for (;;) {
                ssize_t n = read(in, buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                for (ssize_t off = 0; off < n;) {
                        ssize_t k = send(sv[0], buf + off, (size_t) (n - off), MSG_NOSIGNAL);
                        if (k < 0 && errno == EINTR)
                                continue;
                        if (k < 0) {
                                /* tar stopped reading: its exit status says whether that is an error. */
                                write_failed = true;
                                break;
                        }
                        off += k;
                }
                if (write_failed)
                        break;
                done += (uint64_t) n;
                if (progress)
                        progress(userdata, done, (uint64_t) st.st_size);
        }
        close(sv[0]);

        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return negative_errno();
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                first_line(log, msg, sizeof(msg));
                if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
                        snprintf(err, size, "cannot unpack template '%s': %s", path,
                                 *msg ? msg : "tar could not run");
                else
                        snprintf(err, size, "template '%s' is not a valid tarball: %s", path,
                                 *msg ? msg : "tar failed");
                return -EINVAL;
        }
        if (progress && done < (uint64_t) st.st_size)
                progress(userdata, (uint64_t) st.st_size, (uint64_t) st.st_size);
        return 0;
}

struct shift_ctx {
        uint32_t shift;
        char *err;
        size_t size;
};

static int shift_id(const struct shift_ctx *s, const struct stat *st, const char *name, uid_t *uid,
                    gid_t *gid) {
        /* A hard link's inode was shifted when its first name was seen. The shift is beyond
         * the template's ids, so a shifted id cannot be an original one. */
        if (st->st_nlink > 1 && !S_ISDIR(st->st_mode) && st->st_uid >= s->shift &&
            st->st_uid - s->shift < TEMPLATE_IDS && st->st_gid >= s->shift &&
            st->st_gid - s->shift < TEMPLATE_IDS)
                return 0;
        if (st->st_uid >= TEMPLATE_IDS || st->st_gid >= TEMPLATE_IDS) {
                snprintf(s->err, s->size,
                         "'%s' in the template is owned by %u:%u, outside the %u ids an unprivileged "
                         "container maps",
                         name, (unsigned) st->st_uid, (unsigned) st->st_gid, TEMPLATE_IDS);
                return -ERANGE;
        }
        *uid = st->st_uid + s->shift;
        *gid = st->st_gid + s->shift;
        return 1;
}

/* Shifts one entry beneath dirfd; chown clears setuid/setgid bits and file capabilities,
 * which are put back as they were. */
static int shift_entry(const struct shift_ctx *s, int dirfd, const char *name, const struct stat *st) {
        char cap[256];
        ssize_t cap_len = -1;
        uid_t uid;
        gid_t gid;
        int r;

        r = shift_id(s, st, name, &uid, &gid);
        if (r <= 0)
                return r;
        if (S_ISREG(st->st_mode)) {
                char proc[64];
                _cleanup_close_ int fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return negative_errno();
                snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
                cap_len = getxattr(proc, TEMPLATE_CAP_XATTR, cap, sizeof(cap));
        }
        if (fchownat(dirfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
                return negative_errno();
        if (S_ISREG(st->st_mode) && (st->st_mode & (S_ISUID | S_ISGID)))
                if (fchmodat(dirfd, name, st->st_mode & 07777, 0) < 0)
                        return negative_errno();
        if (cap_len > 0) {
                char proc[64];
                _cleanup_close_ int fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return negative_errno();
                snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
                if (setxattr(proc, TEMPLATE_CAP_XATTR, cap, (size_t) cap_len, 0) < 0)
                        return negative_errno();
        }
        return 0;
}

/* Walks a directory by fds, never following a symlink and staying on its file system. */
static int shift_dir(const struct shift_ctx *s, int fd, dev_t dev, unsigned depth) {
        DIR *d;
        struct dirent *de;
        int r = 0;

        if (depth > TEMPLATE_DEPTH)
                return -ELOOP;
        d = fdopendir(fd);
        if (!d) {
                r = negative_errno();
                close(fd);
                return r;
        }
        while ((errno = 0, de = readdir(d))) {
                struct stat st;

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        r = negative_errno();
                        break;
                }
                if (S_ISDIR(st.st_mode) && st.st_dev == dev) {
                        int sub = openat(dirfd(d), de->d_name,
                                         O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (sub < 0) {
                                r = negative_errno();
                                break;
                        }
                        r = shift_dir(s, sub, dev, depth + 1);
                        if (r < 0)
                                break;
                }
                r = shift_entry(s, dirfd(d), de->d_name, &st);
                if (r < 0)
                        break;
        }
        if (r == 0 && errno != 0)
                r = negative_errno();
        closedir(d);
        return r;
}

int template_unpack(const char *path, const char *dir, uint32_t shift, template_progress_fn progress,
                    void *userdata, char *err, size_t size) {
        const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
        const char *flag = template_tar_flag(name);
        struct shift_ctx s = {.shift = shift, .err = err, .size = size};
        struct stat st;
        int fd, r;

        if (!flag) {
                snprintf(err, size,
                         "template '%s' is not a .tar, .tar.gz, .tar.xz, .tar.zst or .tar.bz2 file", name);
                return -EINVAL;
        }
        if (shift != 0 && shift < TEMPLATE_IDS)
                return -EINVAL;
        r = run_tar(path, dir, flag, progress, userdata, err, size);
        if (r < 0 || shift == 0)
                return r;

        fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        if (fstat(fd, &st) < 0) {
                r = negative_errno();
                close(fd);
                return r;
        }
        r = shift_dir(&s, fd, st.st_dev, 0);
        if (r == 0) {
                /* The root folder itself: tar set its owner from the "./" member. */
                if (st.st_uid >= TEMPLATE_IDS || st.st_gid >= TEMPLATE_IDS)
                        r = -ERANGE;
                else if (chown(dir, st.st_uid + shift, st.st_gid + shift) < 0)
                        r = negative_errno();
        }
        if (r < 0 && !*err)
                snprintf(err, size, "cannot shift the owners of '%s' by %u: %s", dir, shift, strerror(-r));
        return r;
}

static int rmtree_dir(int fd, dev_t dev, unsigned depth) {
        DIR *d;
        struct dirent *de;
        int r = 0;

        if (depth > TEMPLATE_DEPTH) {
                close(fd);
                return -ELOOP;
        }
        d = fdopendir(fd);
        if (!d) {
                r = negative_errno();
                close(fd);
                return r;
        }
        while ((errno = 0, de = readdir(d))) {
                struct stat st;

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno == ENOENT)
                                continue;
                        r = negative_errno();
                        break;
                }
                if (S_ISDIR(st.st_mode)) {
                        int sub;

                        if (st.st_dev != dev) {
                                r = -EBUSY;
                                break;
                        }
                        sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (sub < 0) {
                                r = negative_errno();
                                break;
                        }
                        r = rmtree_dir(sub, dev, depth + 1);
                        if (r < 0)
                                break;
                        if (unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) < 0) {
                                r = negative_errno();
                                break;
                        }
                } else if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT) {
                        r = negative_errno();
                        break;
                }
        }
        if (r == 0 && errno != 0)
                r = negative_errno();
        closedir(d);
        return r;
}

int template_rmtree_at(int dirfd, const char *name) {
        struct stat st, parent;
        int fd, r;

        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : negative_errno();
        if (!S_ISDIR(st.st_mode))
                return unlinkat(dirfd, name, 0) < 0 ? negative_errno() : 0;
        if (fstat(dirfd, &parent) < 0)
                return negative_errno();
        if (parent.st_dev != st.st_dev)
                return -EBUSY;
        fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        r = rmtree_dir(fd, st.st_dev, 0);
        if (r < 0)
                return r;
        return unlinkat(dirfd, name, AT_REMOVEDIR) < 0 ? negative_errno() : 0;
}
