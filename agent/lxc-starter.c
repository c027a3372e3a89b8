/* ubcd's side of ubc-lxc-starter: runs it once, on the first container start, and hands it
 * each start after that. It is a child of ubcd in ubcd's cgroup, in a process group of its own
 * (a terminal's ^C for ubcd is not for it), and ends when ubcd closes its socket. When it has
 * died, the next request runs a new one. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "lxc-starter.h"
#include "ubc/macro.h"

extern char **environ;

static char starter_path[PATH_MAX];
static pid_t starter_pid;
static int starter_fd = -EBADF;

void lxc_starter_set_path(const char *path) {
        snprintf(starter_path, sizeof(starter_path), "%s", path);
}

static int find_starter(char *err, size_t size) {
        char self[PATH_MAX];
        ssize_t n;

        if (starter_path[0])
                return 0;
        n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (n > 0) {
                char *slash;

                self[n] = '\0';
                slash = strrchr(self, '/');
                if (slash) {
                        *slash = '\0';
                        if (snprintf(starter_path, sizeof(starter_path), "%s/" LXC_STARTER_NAME, self) <
                                    (int) sizeof(starter_path) &&
                            access(starter_path, X_OK) == 0)
                                return 0;
                }
        }
        snprintf(starter_path, sizeof(starter_path), "%s/%s", UBC_LIBEXEC_DIR, LXC_STARTER_NAME);
        if (access(starter_path, X_OK) == 0)
                return 0;
        snprintf(err, size, "cannot find %s next to this program nor in %s: is ubc fully installed?",
                 LXC_STARTER_NAME, UBC_LIBEXEC_DIR);
        starter_path[0] = '\0';
        return -ENOENT;
}

static void forget_starter(void) {
        if (starter_fd >= 0)
                close(starter_fd);
        starter_fd = -EBADF;
        if (starter_pid > 0)
                while (waitpid(starter_pid, NULL, 0) < 0 && errno == EINTR)
                        ;
        starter_pid = 0;
}

static int run_starter(char *err, size_t size) {
        char *argv[] = {(char *) LXC_STARTER_NAME, NULL};
        posix_spawn_file_actions_t actions;
        posix_spawnattr_t attr;
        sigset_t none, all;
        int sv[2], r;

        r = find_starter(err, size);
        if (r < 0)
                return r;
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
                r = negative_errno();
                snprintf(err, size, "cannot make a socket for %s: %s", LXC_STARTER_NAME, strerror(-r));
                return r;
        }
        /* A clean slate: ubcd blocks signals for its event loop and ignores SIGPIPE. */
        sigemptyset(&none);
        sigfillset(&all);
        posix_spawnattr_init(&attr);
        posix_spawnattr_setflags(&attr,
                                 POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
        posix_spawnattr_setsigmask(&attr, &none);
        posix_spawnattr_setsigdefault(&attr, &all);
        posix_spawnattr_setpgroup(&attr, 0);
        posix_spawn_file_actions_init(&actions);
        /* dup2 clears close-on-exec, also when the socket already is fd 3. */
        posix_spawn_file_actions_adddup2(&actions, sv[1], LXC_STARTER_FD);
        r = -posix_spawn(&starter_pid, starter_path, &actions, &attr, argv, environ);
        posix_spawn_file_actions_destroy(&actions);
        posix_spawnattr_destroy(&attr);
        close(sv[1]);
        if (r < 0) {
                close(sv[0]);
                starter_pid = 0;
                snprintf(err, size, "cannot run %s: %s", starter_path, strerror(-r));
                return r;
        }
        starter_fd = sv[0];
        return 0;
}

static int send_request(const char *name, const char *lxcpath, int result_fd) {
        char control[CMSG_SPACE(sizeof(int))] = {0};
        struct iovec iov[] = {
                {.iov_base = (char *) name, .iov_len = strlen(name) + 1},
                {.iov_base = (char *) lxcpath, .iov_len = strlen(lxcpath) + 1},
        };
        struct msghdr msg = {
                .msg_iov = iov, .msg_iovlen = 2, .msg_control = control, .msg_controllen = sizeof(control)};
        struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);

        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cmsg), &result_fd, sizeof(int));
        while (sendmsg(starter_fd, &msg, MSG_NOSIGNAL) < 0)
                if (errno != EINTR)
                        return negative_errno();
        return 0;
}

int lxc_starter_request(const char *name, const char *lxcpath, int *ret_fd, char *err, size_t size) {
        int p[2], r = -EPIPE;

        if (strlen(name) >= LXC_STARTER_PATH_MAX || strlen(lxcpath) >= LXC_STARTER_PATH_MAX) {
                snprintf(err, size, "container path '%s/%s' is too long", lxcpath, name);
                return -ENAMETOOLONG;
        }
        /* Twice: a starter that has died since the last start shows as a closed socket. */
        for (int attempt = 0; attempt < 2 && r == -EPIPE; attempt++) {
                if (starter_fd < 0) {
                        r = run_starter(err, size);
                        if (r < 0)
                                return r;
                }
                if (pipe2(p, O_CLOEXEC) < 0) {
                        r = negative_errno();
                        snprintf(err, size, "cannot make a pipe: %s", strerror(-r));
                        return r;
                }
                r = send_request(name, lxcpath, p[1]);
                close(p[1]);
                if (r == 0) {
                        *ret_fd = p[0];
                        return 0;
                }
                close(p[0]);
                if (r == -EPIPE || r == -ECONNRESET) {
                        forget_starter();
                        r = -EPIPE;
                }
        }
        snprintf(err, size, "cannot hand container %s to %s: %s", name, LXC_STARTER_NAME, strerror(-r));
        return r;
}

int lxc_starter_wait(int fd, pid_t *ret_init_pid) {
        struct lxc_starter_result result;
        ssize_t n;

        do
                n = read(fd, &result, sizeof(result));
        while (n < 0 && errno == EINTR);
        close(fd);
        if (n != (ssize_t) sizeof(result))
                return -ECHILD;
        if (result.error != 0)
                return -EIO;
        *ret_init_pid = result.init_pid;
        return 0;
}

void lxc_starter_stop(void) {
        forget_starter();
}
