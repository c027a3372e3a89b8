/* cpuhog [seconds]: spins on the CPU for 'seconds' (default or 0: until killed). Load for
 * CPU weights, quotas and cpusets: all user time, no sleeping, no memory traffic. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

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

static double now(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
        unsigned long seconds = 0;
        volatile unsigned long spin = 0;
        double end;

        if (argc > 2 || (argc == 2 && parse_ulong(argv[1], UINT_MAX, &seconds) < 0)) {
                fprintf(stderr, "usage: cpuhog [seconds]\n");
                return 2;
        }

        end = now() + (double) seconds;
        for (;;) {
                for (unsigned i = 0; i < 1000000; i++)
                        spin++;
                if (seconds > 0 && now() >= end)
                        break;
        }
        return 0;
}
