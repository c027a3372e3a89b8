/* holder MiB files: locks MiB mebibytes of anonymous memory in RAM (mlock) and opens 'files'
 * descriptors of /dev/null, prints "ready" and stays until killed. Load for the per-task
 * beancounters: VmLck in /proc/PID/status and the entries of /proc/PID/fd are what it holds. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MIB (1024UL * 1024UL)

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
        unsigned long mib, files;
        long page = sysconf(_SC_PAGESIZE);

        if (argc != 3 || parse_ulong(argv[1], 1024UL * 1024UL, &mib) < 0 ||
            parse_ulong(argv[2], 1000000, &files) < 0) {
                fprintf(stderr, "usage: holder MiB files\n");
                return 2;
        }
        if (page <= 0)
                page = 4096;

        if (mib > 0) {
                char *p = mmap(NULL, mib * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                if (p == MAP_FAILED) {
                        fprintf(stderr, "holder: mmap of %lu MiB: %s\n", mib, strerror(errno));
                        return 1;
                }
                if (mlock(p, mib * MIB) < 0) {
                        fprintf(stderr, "holder: mlock of %lu MiB: %s (ulimit -l?)\n", mib, strerror(errno));
                        return 1;
                }
                /* mlock faults every page in; writing them makes each one the task's own. */
                for (unsigned long off = 0; off < mib * MIB; off += (unsigned long) page)
                        p[off] = 1;
        }
        for (unsigned long i = 0; i < files; i++)
                if (open("/dev/null", O_RDONLY) < 0) {
                        fprintf(stderr, "holder: open #%lu of /dev/null: %s\n", i + 1, strerror(errno));
                        return 1;
                }

        printf("ready\n");
        fflush(stdout);
        for (;;)
                pause();
}
