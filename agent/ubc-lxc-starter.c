/* ubc-lxc-starter: makes liblxc's container starts for ubcd, from a process as small as
 * lxc-start. liblxc forks several times on the way to a running container; forked from ubcd,
 * each fork copied ubcd's mappings (librrd's graph libraries, the sampler's buffers) and a start
 * took some 3 ms longer than lxc-start's.
 *
 * ubcd runs it with a SOCK_SEQPACKET socket as fd 3 (lxc-starter.c). Each message asks for one
 * start: the container's name and lxcpath, each NUL-terminated, with the write end of a pipe
 * (SCM_RIGHTS). A child of the starter, forked ahead (a spare), takes the message, makes
 * liblxc's daemonized start, which moves its caller into the container's monitor cgroup, and
 * writes the result to the pipe (struct lxc_starter_result). The starter ends when ubcd closes
 * the socket. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lxc/lxccontainer.h>

#include "lxc-starter.h"

/* What a spare tells the starter. */
#define SPARE_TOOK_ONE     'T'
#define SPARE_SOCKET_ENDED 'E'

static void write_result(int fd, int error, pid_t init_pid) {
        struct lxc_starter_result result = {.error = error, .init_pid = init_pid};
        ssize_t n;

        do
                n = write(fd, &result, sizeof(result));
        while (n < 0 && errno == EINTR);
}

/* In the child: the start, then its result where the request's pipe now is. */
static _Noreturn void start_container(const char *name, const char *lxcpath) {
        struct lxc_container *c;
        pid_t init_pid = 0;
        int error = EIO;

        /* liblxc waits for children of its own. */
        signal(SIGCHLD, SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
        c = lxc_container_new(name, lxcpath);
        if (c) {
                c->want_daemonize(c, true);
                /* The monitor must not keep the pipe. */
                c->want_close_all_fds(c, true);
                if (c->start(c, 0, NULL)) {
                        error = 0;
                        init_pid = c->init_pid(c);
                }
        }
        write_result(LXC_STARTER_FD, error, init_pid);
        _exit(0);
}

/* One request into name, lxcpath and the pipe's fd: 1, 0 at the end of the socket, or -errno. */
static int receive_request(char *buf, size_t size, const char **ret_name, const char **ret_lxcpath,
                           int *ret_fd) {
        char control[CMSG_SPACE(sizeof(int))];
        struct iovec iov = {.iov_base = buf, .iov_len = size - 1};
        struct msghdr msg = {
                .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof(control)};
        struct cmsghdr *cmsg;
        size_t name_len;
        ssize_t n;

        *ret_fd = -1;
        n = recvmsg(LXC_STARTER_FD, &msg, MSG_CMSG_CLOEXEC);
        if (n < 0)
                return -errno;
        if (n == 0)
                return 0;
        cmsg = CMSG_FIRSTHDR(&msg);
        if (cmsg && cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS &&
            cmsg->cmsg_len == CMSG_LEN(sizeof(int)))
                memcpy(ret_fd, CMSG_DATA(cmsg), sizeof(int));
        buf[n] = '\0';
        name_len = strlen(buf);
        if (*ret_fd < 0 || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || name_len == 0 ||
            name_len + 1 >= (size_t) n || buf[n - 1] != '\0')
                return -EBADMSG;
        *ret_name = buf;
        *ret_lxcpath = buf + name_len + 1;
        return 1;
}

static void tell(int fd, char what) {
        while (write(fd, &what, 1) < 0 && errno == EINTR)
                ;
}

/* A child forked ahead of the next request, so that the fork is not part of a start. It takes
 * one request from the socket, tells the starter (which forks the next spare), and makes that
 * start; at the end of the socket it tells the starter to end. It dies with the starter until
 * it has a request: ubcd then sees the socket close and runs a new starter. */
static _Noreturn void spare(pid_t starter, int took_fd) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != starter)
                _exit(0);
        /* A starter gone between the request and the word to it is no reason to drop the start. */
        signal(SIGPIPE, SIG_IGN);
        for (;;) {
                char buf[2 * LXC_STARTER_PATH_MAX];
                const char *name = NULL, *lxcpath = NULL;
                int fd, r;

                r = receive_request(buf, sizeof(buf), &name, &lxcpath, &fd);
                if (r == -EINTR)
                        continue;
                if (r == -EBADMSG) {
                        fprintf(stderr, "ubc-lxc-starter: bad request from ubcd: %s\n", strerror(-r));
                        if (fd >= 0) {
                                write_result(fd, EINVAL, 0);
                                close(fd);
                        }
                        continue;
                }
                if (r <= 0) {
                        if (r < 0)
                                fprintf(stderr, "ubc-lxc-starter: cannot read from ubcd: %s\n",
                                        strerror(-r));
                        tell(took_fd, SPARE_SOCKET_ENDED);
                        _exit(0);
                }
                prctl(PR_SET_PDEATHSIG, 0);
                tell(took_fd, SPARE_TOOK_ONE);
                close(took_fd);
                /* The pipe takes the socket's place; besides stdio nothing else is open.
                 * Close-on-exec, lest a program liblxc runs hold it. */
                if (dup2(fd, LXC_STARTER_FD) < 0 || fcntl(LXC_STARTER_FD, F_SETFD, FD_CLOEXEC) < 0)
                        _exit(1);
                close(fd);
                start_container(name, lxcpath);
        }
}

int main(int argc, char **argv) {
        pid_t self = getpid();
        struct stat st;

        if (argc != 1 || fstat(LXC_STARTER_FD, &st) < 0 || !S_ISSOCK(st.st_mode)) {
                fprintf(stderr, "%s: starts containers for ubcd, which runs it; not a command\n",
                        argc > 0 ? argv[0] : "ubc-lxc-starter");
                return 2;
        }
        /* The children end on their own; nothing here waits for them. */
        signal(SIGCHLD, SIG_IGN);
        for (;;) {
                int took[2];
                char what = 0;
                ssize_t n;
                pid_t pid;

                if (pipe2(took, O_CLOEXEC) < 0)
                        return 1;
                pid = fork();
                if (pid < 0)
                        return 1;
                if (pid == 0) {
                        close(took[0]);
                        spare(self, took[1]);
                }
                close(took[1]);
                do
                        n = read(took[0], &what, 1);
                while (n < 0 && errno == EINTR);
                close(took[0]);
                if (n == 1 && what == SPARE_TOOK_ONE)
                        continue;
                /* The socket ended, or the spare died without a word: done, rather than fork
                 * spares that die. ubcd runs a new starter at its next start. */
                return what == SPARE_SOCKET_ENDED ? 0 : 1;
        }
}
