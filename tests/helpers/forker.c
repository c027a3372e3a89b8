/* forker N seconds: forks N children that each sleep 'seconds', prints how many forks
 * succeeded and how many failed with EAGAIN (what pids.max makes fork return), waits for
 * the children and exits 0. Load for task limits. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int parse_ulong(const char *s, unsigned long max, unsigned long *ret) {
        char *end;
        unsigned long v;

        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v > max)
                return -EINVAL;
        *ret = v;
        return 0;
}

int main(int argc, char **argv) {
        unsigned long n, seconds, forked = 0, eagain = 0, other = 0;

        if (argc != 3 || parse_ulong(argv[1], 1000000, &n) < 0 ||
            parse_ulong(argv[2], UINT_MAX, &seconds) < 0) {
                fprintf(stderr, "usage: forker N seconds\n");
                return 2;
        }

        for (unsigned long i = 0; i < n; i++) {
                pid_t pid = fork();
                if (pid == 0) {
                        unsigned left = (unsigned) seconds;
                        while (left > 0)
                                left = sleep(left);
                        _exit(0);
                }
                if (pid > 0)
                        forked++;
                else if (errno == EAGAIN)
                        eagain++;
                else
                        other++;
        }
        printf("forker: forked=%lu eagain=%lu other=%lu\n", forked, eagain, other);
        fflush(stdout);

        /* Children end on their own; the parent stays until they have, so the cgroup holds
         * the whole family while a test looks at it. */
        while (wait(NULL) > 0 || errno == EINTR)
                ;
        return 0;
}
