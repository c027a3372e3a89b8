/* Unit tests for the cgroup statistics parsers, on file contents as kernel 6.1 (v2) and a
 * v1 hierarchy show them, and on malformed and overflowing input. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ubc/stat.h"

#define U64_UNTOUCHED 0x5a5a5a5aULL

static const char memory_stat_v2[] = "anon 10485760\n"
                                     "file 52428800\n"
                                     "kernel 3145728\n"
                                     "kernel_stack 262144\n"
                                     "pagetables 409600\n"
                                     "sec_pagetables 0\n"
                                     "percpu 1440\n"
                                     "sock 0\n"
                                     "vmalloc 8192\n"
                                     "shmem 1048576\n"
                                     "zswap 0\n"
                                     "zswapped 0\n"
                                     "file_mapped 8388608\n"
                                     "file_dirty 4096\n"
                                     "file_writeback 0\n"
                                     "swapcached 0\n"
                                     "anon_thp 0\n"
                                     "file_thp 0\n"
                                     "shmem_thp 0\n"
                                     "inactive_anon 11534336\n"
                                     "active_anon 0\n"
                                     "inactive_file 20971520\n"
                                     "active_file 31457280\n"
                                     "unevictable 0\n"
                                     "slab_reclaimable 1843200\n"
                                     "slab_unreclaimable 532480\n"
                                     "slab 2375680\n"
                                     "workingset_refault_anon 0\n"
                                     "workingset_refault_file 12\n"
                                     "pgfault 129873\n"
                                     "pgmajfault 11\n"
                                     "thp_fault_alloc 0\n"
                                     "thp_collapse_alloc 0\n";

static void test_keyed_memory_stat_v2(void **state) {
        static const char *const keys[] = {"kernel", "shmem", "anon", "file", "no_such_key"};
        uint64_t v[5] = {U64_UNTOUCHED, U64_UNTOUCHED, U64_UNTOUCHED, U64_UNTOUCHED, U64_UNTOUCHED};
        uint64_t found = 0;

        assert_int_equal(stat_parse_keyed(memory_stat_v2, keys, 5, v, &found), 0);
        assert_int_equal(found, 0xf);
        assert_int_equal(v[0], 3145728);
        assert_int_equal(v[1], 1048576);
        assert_int_equal(v[2], 10485760);
        assert_int_equal(v[3], 52428800);
        /* Absent keys keep what the caller had. */
        assert_int_equal(v[4], U64_UNTOUCHED);
}

static void test_keyed_memory_stat_v1(void **state) {
        static const char buf[] = "cache 53248000\n"
                                  "rss 10485760\n"
                                  "rss_huge 0\n"
                                  "shmem 1048576\n"
                                  "mapped_file 8388608\n"
                                  "dirty 4096\n"
                                  "writeback 0\n"
                                  "swap 0\n"
                                  "pgpgin 31000\n"
                                  "pgpgout 15000\n"
                                  "hierarchical_memory_limit 9223372036854771712\n"
                                  "hierarchical_memsw_limit 9223372036854771712\n"
                                  "total_cache 53248000\n"
                                  "total_rss 10485760\n"
                                  "total_shmem 1048576";
        static const char *const keys[] = {"total_rss", "total_shmem", "hierarchical_memory_limit", "shmem"};
        uint64_t v[4] = {}, found = 0;

        assert_int_equal(stat_parse_keyed(buf, keys, 4, v, &found), 0);
        assert_int_equal(found, 0xf);
        assert_int_equal(v[0], 10485760);
        /* The last line has no newline. */
        assert_int_equal(v[1], 1048576);
        assert_int_equal(v[2], 9223372036854771712ULL);
        /* "shmem" is not matched by the prefix of "total_shmem" or the other way round. */
        assert_int_equal(v[3], 1048576);
}

static void test_keyed_events(void **state) {
        static const char *const mkeys[] = {"max", "oom", "oom_kill", "high"};
        static const char *const pkeys[] = {"max"};
        static const char *const skeys[] = {"high", "max", "fail"};
        uint64_t v[4] = {}, found = 0;

        assert_int_equal(stat_parse_keyed("low 0\nhigh 12\nmax 3\noom 1\noom_kill 1\noom_group_kill 0\n",
                                          mkeys, 4, v, &found),
                         0);
        assert_int_equal(found, 0xf);
        assert_int_equal(v[0], 3);
        assert_int_equal(v[1], 1);
        assert_int_equal(v[2], 1);
        assert_int_equal(v[3], 12);

        assert_int_equal(stat_parse_keyed("max 31\n", pkeys, 1, v, &found), 0);
        assert_int_equal(found, 1);
        assert_int_equal(v[0], 31);

        assert_int_equal(stat_parse_keyed("high 0\nmax 7\nfail 2\n", skeys, 3, v, &found), 0);
        assert_int_equal(found, 7);
        assert_int_equal(v[1], 7);
        assert_int_equal(v[2], 2);
}

static void test_keyed_cpu_stat(void **state) {
        static const char buf[] = "usage_usec 123\n"
                                  "user_usec 100\n"
                                  "system_usec 23\n"
                                  "core_sched.force_idle_usec 0\n"
                                  "nr_periods 5\n"
                                  "nr_throttled 2\n"
                                  "throttled_usec 999\n"
                                  "nr_bursts 0\n"
                                  "burst_usec 0\n";
        static const char *const keys[] = {"usage_usec", "user_usec",    "system_usec",
                                           "nr_periods", "nr_throttled", "throttled_usec"};
        uint64_t v[6] = {}, found = 0;

        assert_int_equal(stat_parse_keyed(buf, keys, 6, v, &found), 0);
        assert_int_equal(found, 0x3f);
        assert_int_equal(v[0], 123);
        assert_int_equal(v[1], 100);
        assert_int_equal(v[2], 23);
        assert_int_equal(v[3], 5);
        assert_int_equal(v[4], 2);
        assert_int_equal(v[5], 999);

        /* v1 cpu.stat has the same shape. */
        static const char *const v1keys[] = {"nr_periods", "nr_throttled", "throttled_time"};
        assert_int_equal(stat_parse_keyed("nr_periods 40\nnr_throttled 4\nthrottled_time 123456789\n",
                                          v1keys, 3, v, &found),
                         0);
        assert_int_equal(found, 7);
        assert_int_equal(v[2], 123456789);
}

static void test_keyed_errors(void **state) {
        static const char *const keys[] = {"max", "oom"};
        uint64_t v[2] = {U64_UNTOUCHED, U64_UNTOUCHED}, found = 77;

        /* A requested key that is malformed fails the whole file, and changes nothing. */
        assert_int_equal(stat_parse_keyed("max 3\noom x\n", keys, 2, v, &found), -EINVAL);
        assert_int_equal(stat_parse_keyed("max 3\noom\n", keys, 2, v, &found), -EINVAL);
        assert_int_equal(stat_parse_keyed("max 3\noom 1 2\n", keys, 2, v, &found), -EINVAL);
        assert_int_equal(stat_parse_keyed("max -1\n", keys, 2, v, &found), -EINVAL);
        assert_int_equal(stat_parse_keyed("max 0x10\n", keys, 2, v, &found), -EINVAL);
        assert_int_equal(stat_parse_keyed("max 3\noom 18446744073709551616\n", keys, 2, v, &found), -ERANGE);
        assert_int_equal(stat_parse_keyed("max 99999999999999999999999999999\n", keys, 2, v, &found),
                         -ERANGE);
        assert_int_equal(v[0], U64_UNTOUCHED);
        assert_int_equal(v[1], U64_UNTOUCHED);
        assert_int_equal(found, 77);

        /* The largest value fits; a malformed key nobody asked for is ignored. */
        assert_int_equal(stat_parse_keyed("weird line here\nmax 18446744073709551615\nlow junk\n\n", keys, 2,
                                          v, &found),
                         0);
        assert_int_equal(v[0], UINT64_MAX);
        assert_int_equal(found, 1);

        /* More keys than the mask has bits. */
        static const char *many[65];
        uint64_t mv[65];
        for (size_t i = 0; i < 65; i++)
                many[i] = "x";
        assert_int_equal(stat_parse_keyed("x 1\n", many, 65, mv, &found), -EINVAL);
        assert_int_equal(stat_parse_keyed("", keys, 2, v, &found), 0);
        assert_int_equal(found, 0);
}

static void assert_u64(const char *buf, int want_r, uint64_t want) {
        uint64_t v = U64_UNTOUCHED;
        int r = stat_parse_u64(buf, &v);

        if (r != want_r)
                fail_msg("stat_parse_u64(\"%s\") = %d, want %d", buf, r, want_r);
        if (v != (want_r == 0 ? want : U64_UNTOUCHED))
                fail_msg("stat_parse_u64(\"%s\") gave %llu", buf, (unsigned long long) v);
}

static void test_u64(void **state) {
        assert_u64("0\n", 0, 0);
        assert_u64("536870912\n", 0, 536870912);
        assert_u64("536870912", 0, 536870912);
        assert_u64("max\n", 0, UINT64_MAX);
        assert_u64("max", 0, UINT64_MAX);
        assert_u64("18446744073709551615\n", 0, UINT64_MAX);
        /* v1's "unlimited" memory limit is a plain number. */
        assert_u64("9223372036854771712\n", 0, 9223372036854771712ULL);

        assert_u64("18446744073709551616\n", -ERANGE, 0);
        assert_u64("99999999999999999999999999\n", -ERANGE, 0);
        assert_u64("", -EINVAL, 0);
        assert_u64("\n", -EINVAL, 0);
        assert_u64("-1\n", -EINVAL, 0);
        assert_u64("1 2\n", -EINVAL, 0);
        assert_u64("1\n2\n", -EINVAL, 0);
        assert_u64("Max\n", -EINVAL, 0);
        assert_u64("maximum\n", -EINVAL, 0);
        assert_u64("12k\n", -EINVAL, 0);
        assert_int_equal(stat_parse_u64(NULL, &(uint64_t){0}), -EINVAL);
}

static void test_io_stat(void **state) {
        /* Kernel 6.1: dbytes/dios present; keys in an order a later kernel might use. */
        static const char buf[] = "259:0 rbytes=1634304 wbytes=8192 rios=60 wios=2 dbytes=0 dios=0\n"
                                  "8:0 wios=7 rios=3 wbytes=28672 rbytes=12288\n"
                                  "254:16 rbytes=4096 rios=1";
        struct stat_io_dev devs[STAT_IO_DEVS_MAX];
        size_t n = 99, dropped = 99;

        assert_int_equal(stat_parse_io_stat(buf, devs, STAT_IO_DEVS_MAX, &n, &dropped), 0);
        assert_int_equal(n, 3);
        assert_int_equal(dropped, 0);
        assert_int_equal(devs[0].major, 259);
        assert_int_equal(devs[0].minor, 0);
        assert_int_equal(devs[0].rbytes, 1634304);
        assert_int_equal(devs[0].wbytes, 8192);
        assert_int_equal(devs[0].rios, 60);
        assert_int_equal(devs[0].wios, 2);
        assert_int_equal(devs[1].major, 8);
        assert_int_equal(devs[1].rbytes, 12288);
        assert_int_equal(devs[1].wbytes, 28672);
        assert_int_equal(devs[1].rios, 3);
        assert_int_equal(devs[1].wios, 7);
        /* Missing keys are zero. */
        assert_int_equal(devs[2].major, 254);
        assert_int_equal(devs[2].minor, 16);
        assert_int_equal(devs[2].rbytes, 4096);
        assert_int_equal(devs[2].wbytes, 0);
        assert_int_equal(devs[2].wios, 0);

        /* An empty file: no I/O yet. */
        assert_int_equal(stat_parse_io_stat("", devs, STAT_IO_DEVS_MAX, &n, &dropped), 0);
        assert_int_equal(n, 0);
}

static void test_io_stat_bounds(void **state) {
        struct stat_io_dev devs[2] = {};
        size_t n = 99, dropped = 99;

        assert_int_equal(stat_parse_io_stat("8:0 rbytes=1\n8:16 rbytes=2\n8:32 rbytes=3\n8:48 rbytes=4\n",
                                            devs, 2, &n, &dropped),
                         0);
        assert_int_equal(n, 2);
        assert_int_equal(dropped, 2);
        assert_int_equal(devs[1].minor, 16);

        n = dropped = 99;
        memset(devs, 0, sizeof(devs));
        assert_int_equal(stat_parse_io_stat("8:0 rbytes=1\n8:16 rbytes=x\n", devs, 2, &n, &dropped),
                         -EINVAL);
        assert_int_equal(stat_parse_io_stat("8:0 rbytes=18446744073709551616\n", devs, 2, &n, &dropped),
                         -ERANGE);
        assert_int_equal(stat_parse_io_stat("8 rbytes=1\n", devs, 2, &n, &dropped), -EINVAL);
        assert_int_equal(stat_parse_io_stat("8:x rbytes=1\n", devs, 2, &n, &dropped), -EINVAL);
        assert_int_equal(stat_parse_io_stat("4294967296:0 rbytes=1\n", devs, 2, &n, &dropped), -ERANGE);
        assert_int_equal(stat_parse_io_stat("8:0 rbytes\n", devs, 2, &n, &dropped), -EINVAL);
        assert_int_equal(stat_parse_io_stat("8:0 rbytes=\n", devs, 2, &n, &dropped), -EINVAL);
        /* Failures leave every output alone. */
        assert_int_equal(n, 99);
        assert_int_equal(dropped, 99);
        assert_int_equal(devs[0].major, 0);
        assert_int_equal(devs[0].rbytes, 0);
}

static void test_blkio_v1(void **state) {
        static const char bytes[] = "8:16 Read 4096\n"
                                    "8:16 Write 0\n"
                                    "8:16 Sync 4096\n"
                                    "8:16 Async 0\n"
                                    "8:16 Discard 0\n"
                                    "8:16 Total 4096\n"
                                    "8:0 Read 1638400\n"
                                    "8:0 Write 409600\n"
                                    "8:0 Sync 2048000\n"
                                    "8:0 Async 0\n"
                                    "8:0 Discard 0\n"
                                    "8:0 Total 2048000\n"
                                    "Total 2052096\n";
        static const char ios[] = "8:0 Read 400\n8:0 Write 100\n8:0 Sync 500\n8:0 Async 0\n8:0 Total 500\n"
                                  "8:32 Read 1\n8:32 Write 2\n8:32 Total 3\nTotal 503";
        struct stat_io_dev devs[STAT_IO_DEVS_MAX];
        size_t n = 0;

        assert_int_equal(stat_parse_blkio_v1(bytes, 1, devs, STAT_IO_DEVS_MAX, &n), 0);
        assert_int_equal(n, 2);
        assert_int_equal(devs[0].major, 8);
        assert_int_equal(devs[0].minor, 16);
        assert_int_equal(devs[0].rbytes, 4096);
        assert_int_equal(devs[0].wbytes, 0);
        assert_int_equal(devs[1].minor, 0);
        assert_int_equal(devs[1].rbytes, 1638400);
        assert_int_equal(devs[1].wbytes, 409600);
        assert_int_equal(devs[1].rios, 0);

        /* io_serviced merges into the same devices and adds a new one. */
        assert_int_equal(stat_parse_blkio_v1(ios, 0, devs, STAT_IO_DEVS_MAX, &n), 0);
        assert_int_equal(n, 3);
        assert_int_equal(devs[1].rios, 400);
        assert_int_equal(devs[1].wios, 100);
        assert_int_equal(devs[1].rbytes, 1638400);
        assert_int_equal(devs[0].rios, 0);
        assert_int_equal(devs[2].minor, 32);
        assert_int_equal(devs[2].rios, 1);
        assert_int_equal(devs[2].wios, 2);
        assert_int_equal(devs[2].rbytes, 0);

        /* No device has done I/O. */
        n = 0;
        assert_int_equal(stat_parse_blkio_v1("Total 0\n", 1, devs, STAT_IO_DEVS_MAX, &n), 0);
        assert_int_equal(n, 0);
}

static void test_blkio_v1_errors(void **state) {
        struct stat_io_dev devs[1] = {{.major = 8, .minor = 0, .rbytes = 5}};
        size_t n = 1;

        assert_int_equal(stat_parse_blkio_v1("8:0 Read 7\n8:0 Write x\n", 1, devs, 1, &n), -EINVAL);
        assert_int_equal(stat_parse_blkio_v1("8:0 Read 7\n8:0 Write\n", 1, devs, 1, &n), -EINVAL);
        assert_int_equal(stat_parse_blkio_v1("8:0 Read 7 8\n", 1, devs, 1, &n), -EINVAL);
        assert_int_equal(stat_parse_blkio_v1("8:0 Read 7\nTotal x\n", 1, devs, 1, &n), -EINVAL);
        assert_int_equal(stat_parse_blkio_v1("8:0 Read 18446744073709551616\n", 1, devs, 1, &n), -ERANGE);
        /* A failed parse changes nothing it was given. */
        assert_int_equal(n, 1);
        assert_int_equal(devs[0].rbytes, 5);

        /* More devices than room: the known one is updated, the new one dropped. */
        assert_int_equal(stat_parse_blkio_v1("8:16 Read 1\n8:0 Read 9\n", 1, devs, 1, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(devs[0].minor, 0);
        assert_int_equal(devs[0].rbytes, 9);

        n = 2;
        assert_int_equal(stat_parse_blkio_v1("", 1, devs, 1, &n), -EINVAL);
}

static void test_psi(void **state) {
        struct stat_psi p = {};

        assert_int_equal(stat_parse_psi("some avg10=1.53 avg60=0.87 avg300=0.25 total=4485961\n"
                                        "full avg10=0.00 avg60=0.12 avg300=0.03 total=1234\n",
                                        &p),
                         0);
        assert_float_equal(p.some.avg10, 1.53, 1e-9);
        assert_float_equal(p.some.avg60, 0.87, 1e-9);
        assert_float_equal(p.some.avg300, 0.25, 1e-9);
        assert_int_equal(p.some.total, 4485961);
        assert_int_equal(p.has_full, 1);
        assert_float_equal(p.full.avg60, 0.12, 1e-9);
        assert_int_equal(p.full.total, 1234);

        /* cpu.pressure before 5.13 has no "full" line. */
        memset(&p, 0xff, sizeof(p));
        assert_int_equal(stat_parse_psi("some avg10=100.00 avg60=0.00 avg300=0.00 total=0", &p), 0);
        assert_float_equal(p.some.avg10, 100.0, 1e-9);
        assert_int_equal(p.has_full, 0);
        assert_int_equal(p.full.total, 0);
        assert_float_equal(p.full.avg10, 0.0, 0);
}

static void test_psi_errors(void **state) {
        static const char *const bad[] = {
                "",
                "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n",
                "some avg10=0.00 avg60=0.00 avg300=0.00\n",
                "some avg10=0.00 avg60=0.00 total=0\n",
                "some avg10=x avg60=0.00 avg300=0.00 total=0\n",
                "some avg10=-1.00 avg60=0.00 avg300=0.00 total=0\n",
                "some avg10=nan avg60=0.00 avg300=0.00 total=0\n",
                "some avg10=1e3 avg60=0.00 avg300=0.00 total=0\n",
                "some avg10=1. avg60=0.00 avg300=0.00 total=0\n",
                "some avg10=.5 avg60=0.00 avg300=0.00 total=0\n",
                "some avg10=0.00 avg60=0.00 avg300=0.00 total=0 junk\n",
                "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull avg10=0.00\n",
                "some avg10=99999999999999999999.00 avg60=0.00 avg300=0.00 total=0\n",
        };
        struct stat_psi p = {.some.total = 42};

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                if (stat_parse_psi(bad[i], &p) != -EINVAL)
                        fail_msg("stat_parse_psi(\"%s\") accepted", bad[i]);
        assert_int_equal(
                stat_parse_psi("some avg10=0.00 avg60=0.00 avg300=0.00 total=18446744073709551616\n", &p),
                -ERANGE);
        assert_int_equal(p.some.total, 42);
}

static void test_swaps(void **state) {
        assert_int_equal(stat_parse_swaps("Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"), 0);
        assert_int_equal(
                stat_parse_swaps("Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
                                 "/dev/vda2                               partition\t2097148\t\t0\t\t-2\n"
                                 "/swapfile                               file\t\t1048572\t\t512\t\t-3\n"),
                2);
        /* A last line without its newline is an area too; blank lines are none. */
        assert_int_equal(
                stat_parse_swaps("Filename Type Size Used Priority\n\n/dev/zram0 partition 4 0 100"), 1);
        assert_int_equal(stat_parse_swaps(""), -EINVAL);
        assert_int_equal(stat_parse_swaps("/dev/vda2 partition 2097148 0 -2\n"), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_keyed_memory_stat_v2),
                cmocka_unit_test(test_keyed_memory_stat_v1),
                cmocka_unit_test(test_keyed_events),
                cmocka_unit_test(test_keyed_cpu_stat),
                cmocka_unit_test(test_keyed_errors),
                cmocka_unit_test(test_u64),
                cmocka_unit_test(test_io_stat),
                cmocka_unit_test(test_io_stat_bounds),
                cmocka_unit_test(test_blkio_v1),
                cmocka_unit_test(test_blkio_v1_errors),
                cmocka_unit_test(test_psi),
                cmocka_unit_test(test_psi_errors),
                cmocka_unit_test(test_swaps),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
