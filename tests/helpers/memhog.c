/* memhog MiB [seconds]: allocates and touches MiB mebibytes of anonymous memory, 8 MiB at a
 * time, printing its progress, then holds it for 'seconds' (default: until killed). Load for
 * memory limits: the kernel has to charge every page, so memory.max and the OOM killer see it. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MIB       (1024UL * 1024UL)
#define CHUNK_MIB 8UL

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
        unsigned long mib, seconds = 0, i;
        long page = sysconf(_SC_PAGESIZE);
        int hold_forever = argc < 3;

        if (argc < 2 || argc > 3 || parse_ulong(argv[1], 1024UL * 1024UL, &mib) < 0 ||
            (argc == 3 && parse_ulong(argv[2], UINT_MAX, &seconds) < 0)) {
                fprintf(stderr, "usage: memhog MiB [seconds]\n");
                return 2;
        }
        if (page <= 0)
                page = 4096;

        for (i = 0; i < mib;) {
                unsigned long n = mib - i < CHUNK_MIB ? mib - i : CHUNK_MIB;
                /* mmap, not malloc: fresh anonymous memory the kernel must charge. MAP_POPULATE
                 * charges a whole chunk in one call, and memory.high throttles a task once per
                 * return to user space (at most 2 s): per chunk, not per page fault, so a hog
                 * between memory.high and memory.max reaches the OOM killer in seconds. */
                char *p = mmap(NULL, n * MIB, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
                if (p == MAP_FAILED) {
                        fprintf(stderr, "memhog: mmap after %lu MiB: %s\n", i, strerror(errno));
                        return 1;
                }
                for (unsigned long off = 0; off < n * MIB; off += (unsigned long) page)
                        p[off] = (char) (off / (unsigned long) page + 1);
                i += n;
                printf("memhog: %lu MiB\n", i);
                fflush(stdout);
        }
        printf("memhog: holding %lu MiB\n", mib);
        fflush(stdout);

        if (hold_forever)
                for (;;)
                        pause();
        while (seconds > 0)
                seconds = sleep((unsigned) seconds);
        return 0;
}
