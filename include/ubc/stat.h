/* Pure parsers for cgroup statistics files. Each reads a NUL-terminated buffer, never the
 * file system, so each is unit-tested and fuzzed on its own. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Values of selected keys of a "key value" per line file (memory.stat, memory.events,
 * memory.swap.events, pids.events, cpu.stat, v1 memory.stat). keys[i] found -> values[i] and
 * bit i of the returned mask (so at most 64 keys); absent keys leave values[i] untouched.
 * -EINVAL on a malformed line of a requested key. */
int stat_parse_keyed(const char *buf, const char *const *keys, size_t n_keys, uint64_t *values,
                     uint64_t *ret_found);

/* /proc/swaps: a header line, then one line per swap area in use. Returns how many areas it
 * lists; -EINVAL if the header is missing. */
int stat_parse_swaps(const char *buf);

/* One number or "max" (UINT64_MAX): memory.current, pids.current, memory.peak, ... */
int stat_parse_u64(const char *buf, uint64_t *ret);

#define STAT_IO_DEVS_MAX 32

struct stat_io_dev {
        unsigned major, minor;
        uint64_t rbytes, wbytes, rios, wios;
};

/* v2 io.stat: "MAJ:MIN rbytes=N wbytes=N rios=N wios=N dbytes=N dios=N" per line. Devices past
 * STAT_IO_DEVS_MAX are dropped and counted in *ret_dropped. */
int stat_parse_io_stat(const char *buf, struct stat_io_dev *devs, size_t max, size_t *ret_n,
                       size_t *ret_dropped);
/* v1 blkio.throttle.io_service_bytes or io_serviced: "MAJ:MIN Read N" / "Write N" lines (and
 * a "Total" line, ignored); 'bytes' says which fields of devs to fill. Merges into devs. */
int stat_parse_blkio_v1(const char *buf, int bytes, struct stat_io_dev *devs, size_t max, size_t *n);

struct stat_psi_line {
        double avg10, avg60, avg300;
        uint64_t total; /* µs */
};

struct stat_psi {
        struct stat_psi_line some, full; /* full absent (cpu before 5.13): all zero */
        int has_full;
};

/* cpu.pressure, memory.pressure, io.pressure. */
int stat_parse_psi(const char *buf, struct stat_psi *ret);
