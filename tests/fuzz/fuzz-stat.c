/* libFuzzer target: every cgroup statistics parser on the same bytes. None may read past the
 * buffer, write past its arrays, or change its outputs when it fails. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ubc/stat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define N_KEYS 10

static void fuzz_keyed(const char *s) {
        static const char *const keys[] = {"max",   "oom",        "oom_kill",   "high", "kernel",
                                           "shmem", "usage_usec", "nr_periods", "fail", "total_rss"};
        uint64_t v[N_KEYS], before[N_KEYS], found = 0;

        for (size_t i = 0; i < N_KEYS; i++)
                v[i] = before[i] = 0x5a5a5a5a00000000ULL + i;
        if (stat_parse_keyed(s, keys, N_KEYS, v, &found) < 0) {
                if (memcmp(v, before, sizeof(v)) != 0)
                        __builtin_trap();
                return;
        }
        if (found >> N_KEYS)
                __builtin_trap();
        for (size_t i = 0; i < N_KEYS; i++)
                if (!(found & (1ULL << i)) && v[i] != before[i])
                        __builtin_trap();
}

static void fuzz_u64(const char *s) {
        char buf[32];
        uint64_t v, v2;

        if (stat_parse_u64(s, &v) < 0)
                return;
        /* What was accepted reads back the same from the kernel's own spelling. */
        snprintf(buf, sizeof(buf), "%" PRIu64 "\n", v);
        if (stat_parse_u64(buf, &v2) < 0 || v != v2)
                __builtin_trap();
}

static void fuzz_io(const char *s) {
        struct stat_io_dev devs[STAT_IO_DEVS_MAX + 1];
        size_t n = 999, dropped = 999;

        /* The last slot is a canary: the parser is told there is one slot less. */
        memset(devs, 0xa5, sizeof(devs));
        if (stat_parse_io_stat(s, devs, STAT_IO_DEVS_MAX, &n, &dropped) < 0) {
                if (n != 999 || dropped != 999 || devs[0].major != 0xa5a5a5a5)
                        __builtin_trap();
        } else if (n > STAT_IO_DEVS_MAX || (dropped > 0 && n != STAT_IO_DEVS_MAX))
                __builtin_trap();
        if (devs[STAT_IO_DEVS_MAX].major != 0xa5a5a5a5)
                __builtin_trap();

        for (int bytes = 0; bytes < 2; bytes++) {
                size_t m = 2;

                memset(devs, 0, sizeof(devs));
                devs[STAT_IO_DEVS_MAX].major = 0xa5a5a5a5;
                if (stat_parse_blkio_v1(s, bytes, devs, STAT_IO_DEVS_MAX, &m) < 0) {
                        if (m != 2)
                                __builtin_trap();
                } else if (m < 2 || m > STAT_IO_DEVS_MAX)
                        __builtin_trap();
                if (devs[STAT_IO_DEVS_MAX].major != 0xa5a5a5a5)
                        __builtin_trap();
        }
}

static void fuzz_psi(const char *s) {
        struct stat_psi p = {}, zero = {};
        const struct stat_psi_line *l[2] = {&p.some, &p.full};

        if (stat_parse_psi(s, &p) < 0) {
                if (memcmp(&p, &zero, sizeof(p)) != 0)
                        __builtin_trap();
                return;
        }
        for (size_t i = 0; i < 2; i++)
                if (!isfinite(l[i]->avg10) || !isfinite(l[i]->avg60) || !isfinite(l[i]->avg300) ||
                    l[i]->avg10 < 0 || l[i]->avg60 < 0 || l[i]->avg300 < 0)
                        __builtin_trap();
        if (!p.has_full && memcmp(&p.full, &zero.full, sizeof(p.full)) != 0)
                __builtin_trap();
}

/* Never more areas than lines after the header. */
static void fuzz_swaps(const char *s) {
        int n = stat_parse_swaps(s), lines = 0;

        for (const char *p = s; *p; p++)
                lines += *p == '\n';
        if (n > lines)
                __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *s;

        /* A cgroup file is a few KiB; beyond that nothing new is reached. */
        if (size > 16384)
                return 0;
        s = malloc(size + 1);
        if (!s)
                return 0;
        memcpy(s, data, size);
        s[size] = '\0';

        fuzz_keyed(s);
        fuzz_u64(s);
        fuzz_io(s);
        fuzz_psi(s);
        fuzz_swaps(s);

        free(s);
        return 0;
}
