/* A QMP client for the few commands ubcd sends a VM's qemu: status, ACPI powerdown, quit.
 * One short blocking exchange per call, bounded by a timeout: qemu answers QMP from its main
 * loop within milliseconds, and a qemu that does not is treated as hung. */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ubc/macro.h"
#include "qmp.h"

#define QMP_TIMEOUT_MS 3000
#define QMP_REPLY_MAX  8192

static uint64_t now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

/* Reads one line (a QMP message is one JSON object per line) before the deadline. */
static int read_line(int fd, char *buf, size_t size, uint64_t deadline) {
        size_t n = 0;

        while (n + 1 < size) {
                struct pollfd p = {.fd = fd, .events = POLLIN};
                uint64_t now = now_ms();
                ssize_t k;
                char c;

                if (now >= deadline)
                        return -ETIMEDOUT;
                if (poll(&p, 1, (int) (deadline - now)) <= 0)
                        return -ETIMEDOUT;
                k = read(fd, &c, 1);
                if (k == 0)
                        return -ECONNRESET;
                if (k < 0) {
                        if (errno == EINTR || errno == EAGAIN)
                                continue;
                        return -errno;
                }
                if (c == '\n') {
                        buf[n] = '\0';
                        return (int) n;
                }
                buf[n++] = c;
        }
        return -EMSGSIZE;
}

/* The reply to the last command: events that arrive in between are skipped. */
static int read_reply(int fd, char *buf, size_t size, uint64_t deadline) {
        for (;;) {
                int r = read_line(fd, buf, size, deadline);

                if (r < 0)
                        return r;
                if (strstr(buf, "\"return\""))
                        return 0;
                if (strstr(buf, "\"error\""))
                        return -EREMOTEIO;
        }
}

static int send_command(int fd, const char *command) {
        char msg[128];
        int n = snprintf(msg, sizeof(msg), "{\"execute\": \"%s\"}\n", command);

        return write(fd, msg, (size_t) n) == n ? 0 : -EIO;
}

int qmp_open(const char *path) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        _cleanup_close_ int fd = -EBADF;
        char buf[QMP_REPLY_MAX];
        uint64_t deadline = now_ms() + QMP_TIMEOUT_MS;
        int r;

        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, path, strlen(path) + 1);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return -errno;
        /* The greeting ({"QMP": ...}), then capabilities negotiation ends the setup. */
        r = read_line(fd, buf, sizeof(buf), deadline);
        if (r < 0)
                return r;
        if (!strstr(buf, "\"QMP\""))
                return -EPROTO;
        r = send_command(fd, "qmp_capabilities");
        if (r < 0)
                return r;
        r = read_reply(fd, buf, sizeof(buf), deadline);
        if (r < 0)
                return r;
        return TAKE_FD(fd);
}

int qmp_execute(int fd, const char *command, char *reply, size_t size) {
        char buf[QMP_REPLY_MAX];
        int r = send_command(fd, command);

        if (r < 0)
                return r;
        r = read_reply(fd, buf, sizeof(buf), now_ms() + QMP_TIMEOUT_MS);
        if (r >= 0 && reply)
                snprintf(reply, size, "%s", buf);
        return r;
}

int qmp_status(const char *path, char *status, size_t size) {
        _cleanup_close_ int fd = qmp_open(path);
        char reply[QMP_REPLY_MAX];
        const char *p, *q;
        int r;

        if (fd < 0)
                return fd;
        r = qmp_execute(fd, "query-status", reply, sizeof(reply));
        if (r < 0)
                return r;
        /* {"return": {"status": "running", "singlestep": false, "running": true}} */
        p = strstr(reply, "\"status\"");
        p = p ? strchr(p + 8, '"') : NULL;
        q = p ? strchr(p + 1, '"') : NULL;
        if (!p || !q)
                return -EPROTO;
        snprintf(status, size, "%.*s", (int) (q - p - 1), p + 1);
        return 0;
}

int qmp_command(const char *path, const char *command) {
        _cleanup_close_ int fd = qmp_open(path);

        if (fd < 0)
                return fd;
        return qmp_execute(fd, command, NULL, 0);
}
