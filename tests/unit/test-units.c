/* Unit tests for the value parsers and formatters (sizes, CPU counts, CPU lists), the limit
 * defaults and overlay, key names, host lookups and the diagnostics sink. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ubc/diag.h"
#include "ubc/host.h"
#include "ubc/limits.h"
#include "ubc/units.h"

static void assert_size(const char *s, uint64_t want) {
        uint64_t v = 0;

        if (unit_parse_size(s, &v) != 0)
                fail_msg("unit_parse_size(\"%s\") failed", s);
        if (v != want)
                fail_msg("unit_parse_size(\"%s\") = %llu, want %llu", s, (unsigned long long) v,
                         (unsigned long long) want);
}

static void assert_size_error(const char *s, int want) {
        uint64_t v = 12345;
        int r = unit_parse_size(s, &v);

        if (r != want)
                fail_msg("unit_parse_size(\"%s\") = %d, want %d", s, r, want);
        /* Outputs are written only on success. */
        assert_int_equal(v, 12345);
}

static void test_size_plain_and_suffixes(void **state) {
        assert_size("0", 0);
        assert_size("1", 1);
        assert_size("1048576", 1048576);
        assert_size("007", 7);
        assert_size("1K", 1024);
        assert_size("1k", 1024);
        assert_size("512M", 512ULL << 20);
        assert_size("512m", 512ULL << 20);
        assert_size("512MB", 512ULL << 20);
        assert_size("512mb", 512ULL << 20);
        assert_size("512MiB", 512ULL << 20);
        assert_size("2G", 2ULL << 30);
        assert_size("3T", 3ULL << 40);
        assert_size("100B", 100);
        assert_size("unlimited", UBC_UNLIMITED);
        assert_size("Unlimited", UBC_UNLIMITED);
}

static void test_size_overflow(void **state) {
        /* The largest byte count: one below the "unlimited" marker. */
        assert_size("18446744073709551614", UINT64_MAX - 1);
        assert_size_error("18446744073709551615", -ERANGE);
        assert_size_error("18446744073709551616", -ERANGE);
        assert_size_error("99999999999999999999999999", -ERANGE);
        assert_size("16777215T", 16777215ULL << 40);
        assert_size_error("16777216T", -ERANGE);
        assert_size_error("17179869184G", -ERANGE);
        assert_size_error("99999999999999999999K", -ERANGE);
}

static void test_size_malformed(void **state) {
        static const char *const bad[] = {
                "",
                "M",
                "1.5G",
                "-1",
                "+1",
                " 1",
                "1 ",
                "1 M",
                "1KK",
                "1P",
                "1iB",
                "1x",
                "0x10",
                "1e3",
                "max",
                "1,5",
                "1Kib2",
                "unlimitedx",
                "99999999999999999999x",
        };

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                assert_size_error(bad[i], -EINVAL);
        assert_int_equal(unit_parse_size(NULL, &(uint64_t){0}), -EINVAL);
}

static void test_uint(void **state) {
        uint64_t v = 0;

        assert_int_equal(unit_parse_uint("8", 8, 500000, &v), 0);
        assert_int_equal(v, 8);
        assert_int_equal(unit_parse_uint("500000", 8, 500000, &v), 0);
        assert_int_equal(v, 500000);
        v = 1;
        assert_int_equal(unit_parse_uint("7", 8, 500000, &v), -ERANGE);
        assert_int_equal(unit_parse_uint("500001", 8, 500000, &v), -ERANGE);
        assert_int_equal(unit_parse_uint("99999999999999999999999", 0, UINT64_MAX, &v), -ERANGE);
        assert_int_equal(unit_parse_uint("", 0, 10, &v), -EINVAL);
        assert_int_equal(unit_parse_uint("1K", 0, 10000, &v), -EINVAL);
        assert_int_equal(unit_parse_uint("-1", 0, 10, &v), -EINVAL);
        assert_int_equal(unit_parse_uint(" 1", 0, 10, &v), -EINVAL);
        assert_int_equal(unit_parse_uint("99999999999999999999999x", 0, 10, &v), -EINVAL);
        assert_int_equal(v, 1);
}

static void assert_cpu_limit(const char *s, int want_r, uint64_t want) {
        uint64_t q = 777;
        int r = unit_parse_cpu_limit(s, &q);

        if (r != want_r)
                fail_msg("unit_parse_cpu_limit(\"%s\") = %d, want %d", s, r, want_r);
        if (q != (want_r == 0 ? want : 777))
                fail_msg("unit_parse_cpu_limit(\"%s\") gave %llu", s, (unsigned long long) q);
}

static void test_cpu_limit(void **state) {
        assert_cpu_limit("0", 0, 0);
        assert_cpu_limit("0.00", 0, 0);
        assert_cpu_limit("0.0", 0, 0);
        assert_cpu_limit("0.01", 0, 1000);
        assert_cpu_limit("0.1", 0, 10000);
        assert_cpu_limit("0.25", 0, 25000);
        assert_cpu_limit("1", 0, 100000);
        assert_cpu_limit("1.5", 0, 150000);
        assert_cpu_limit("2.05", 0, 205000);
        assert_cpu_limit("1024", 0, 102400000);
        assert_cpu_limit("1024.00", 0, 102400000);

        assert_cpu_limit("1024.01", -ERANGE, 0);
        assert_cpu_limit("1025", -ERANGE, 0);
        assert_cpu_limit("99999999999999999999999", -ERANGE, 0);

        assert_cpu_limit("0.001", -EINVAL, 0);
        assert_cpu_limit("1.", -EINVAL, 0);
        assert_cpu_limit(".5", -EINVAL, 0);
        assert_cpu_limit("1,5", -EINVAL, 0);
        assert_cpu_limit("-1", -EINVAL, 0);
        assert_cpu_limit("", -EINVAL, 0);
        assert_cpu_limit("1.5 ", -EINVAL, 0);
        assert_cpu_limit("150%", -EINVAL, 0);
        assert_cpu_limit("1e2", -EINVAL, 0);
}

static void test_format_size(void **state) {
        char buf[32];

        assert_int_equal(unit_format_size(0, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "0");
        assert_int_equal(unit_format_size(512, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "512");
        assert_int_equal(unit_format_size(1024, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "1K");
        assert_int_equal(unit_format_size(1536, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "1536");
        assert_int_equal(unit_format_size(1536ULL << 10, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "1536K");
        assert_int_equal(unit_format_size(512ULL << 20, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "512M");
        assert_int_equal(unit_format_size(1ULL << 30, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "1G");
        assert_int_equal(unit_format_size(5ULL << 40, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "5T");
        assert_int_equal(unit_format_size(UINT64_MAX - 1, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "18446744073709551614");
        assert_int_equal(unit_format_size(UBC_UNLIMITED, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "unlimited");
        assert_int_equal(unit_format_size(512ULL << 20, buf, 4), -ENOBUFS);
        assert_int_equal(unit_format_size(512ULL << 20, buf, 5), 0);
        assert_string_equal(buf, "512M");
        assert_int_equal(unit_format_size(1, buf, 0), -ENOBUFS);
}

static void test_format_size_roundtrip(void **state) {
        static const uint64_t values[] = {0,          1,          1023,       1024,          4096,
                                          1ULL << 20, 3ULL << 30, 7ULL << 40, 12345678901ULL};

        for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
                char buf[32];
                uint64_t back = 0;

                assert_int_equal(unit_format_size(values[i], buf, sizeof(buf)), 0);
                assert_int_equal(unit_parse_size(buf, &back), 0);
                assert_int_equal(back, values[i]);
        }
}

static void test_format_cpu_limit(void **state) {
        char buf[32];

        assert_int_equal(unit_format_cpu_limit(0, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "0");
        assert_int_equal(unit_format_cpu_limit(100000, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "1");
        assert_int_equal(unit_format_cpu_limit(150000, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "1.5");
        assert_int_equal(unit_format_cpu_limit(25000, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "0.25");
        assert_int_equal(unit_format_cpu_limit(1000, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "0.01");
        assert_int_equal(unit_format_cpu_limit(102400000, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "1024");
        /* Not from a policy, but exact all the same. */
        assert_int_equal(unit_format_cpu_limit(1, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "0.00001");
        assert_int_equal(unit_format_cpu_limit(150000, buf, 3), -ENOBUFS);
        assert_int_equal(unit_format_cpu_limit(150000, buf, 4), 0);
        assert_string_equal(buf, "1.5");
}

static void assert_cpuset(const char *s, const char *canonical, unsigned count) {
        struct ubc_cpuset set;
        char buf[256];

        if (cpuset_parse(s, &set) != 0)
                fail_msg("cpuset_parse(\"%s\") failed", s);
        assert_int_equal(cpuset_count(&set), count);
        assert_int_equal(cpuset_format(&set, buf, sizeof(buf)), 0);
        if (strcmp(buf, canonical) != 0)
                fail_msg("cpuset \"%s\" formats as \"%s\", want \"%s\"", s, buf, canonical);
}

static void assert_cpuset_error(const char *s, int want) {
        struct ubc_cpuset set = {.bits = {42}};
        int r = cpuset_parse(s, &set);

        if (r != want)
                fail_msg("cpuset_parse(\"%s\") = %d, want %d", s, r, want);
        assert_int_equal(set.bits[0], 42);
}

static void test_cpuset_parse(void **state) {
        assert_cpuset("0-3,6", "0-3,6", 5);
        assert_cpuset(" 0-3 , 6\n", "0-3,6", 5);
        assert_cpuset("6,0-3", "0-3,6", 5);
        assert_cpuset("0-1,2-3", "0-3", 4);
        assert_cpuset("0,1,2,3,5,7,8", "0-3,5,7-8", 7);
        assert_cpuset("1,1,1", "1", 1);
        assert_cpuset("2-2", "2", 1);
        assert_cpuset("1023", "1023", 1);
        assert_cpuset("0-1023", "0-1023", 1024);
        assert_cpuset("63-64", "63-64", 2);
        /* As the kernel writes an empty cpuset.cpus. */
        assert_cpuset("", "", 0);
        assert_cpuset("\n", "", 0);
}

static void test_cpuset_errors(void **state) {
        assert_cpuset_error("3-1", -EINVAL);
        assert_cpuset_error("0-", -EINVAL);
        assert_cpuset_error("-1", -EINVAL);
        assert_cpuset_error("0,,1", -EINVAL);
        assert_cpuset_error("0,", -EINVAL);
        assert_cpuset_error(",0", -EINVAL);
        assert_cpuset_error("a", -EINVAL);
        assert_cpuset_error("0-3:1", -EINVAL);
        assert_cpuset_error("0-1-2", -EINVAL);
        assert_cpuset_error("0 1", -EINVAL);
        assert_cpuset_error("1024", -ERANGE);
        assert_cpuset_error("0-1024", -ERANGE);
        assert_cpuset_error("99999999999999999999", -ERANGE);
        /* Bad syntax anywhere wins over a number out of range. */
        assert_cpuset_error("2000,x", -EINVAL);
        assert_cpuset_error(NULL, -EINVAL);
}

static void test_cpuset_format_bounds(void **state) {
        struct ubc_cpuset set = {};
        char buf[8], big[4096];

        assert_int_equal(cpuset_parse("0-3,6", &set), 0);
        assert_int_equal(cpuset_format(&set, buf, 5), -ENOBUFS);
        assert_string_equal(buf, "");
        assert_int_equal(cpuset_format(&set, buf, 6), 0);
        assert_string_equal(buf, "0-3,6");

        /* Every even CPU: the longest list there is. */
        memset(&set, 0, sizeof(set));
        for (unsigned c = 0; c < UBC_CPUS_MAX; c += 2)
                set.bits[c / 64] |= 1ULL << (c % 64);
        assert_int_equal(cpuset_count(&set), 512);
        assert_int_equal(cpuset_format(&set, big, sizeof(big)), 0);
        assert_int_equal(strncmp(big, "0,2,4,", 6), 0);
        assert_int_equal(strcmp(big + strlen(big) - 5, ",1022"), 0);
        assert_int_equal(cpuset_format(&set, big, 100), -ENOBUFS);
}

static void test_cpuset_sets(void **state) {
        struct ubc_cpuset a, b, empty = {};

        assert_true(cpuset_is_empty(&empty));
        assert_int_equal(cpuset_parse("0-1", &a), 0);
        assert_int_equal(cpuset_parse("0-3", &b), 0);
        assert_false(cpuset_is_empty(&a));
        assert_true(cpuset_is_subset(&a, &b));
        assert_false(cpuset_is_subset(&b, &a));
        assert_true(cpuset_is_subset(&empty, &a));
        assert_int_equal(cpuset_parse("0,900", &a), 0);
        assert_false(cpuset_is_subset(&a, &b));
}

static void test_limits_default(void **state) {
        struct ubc_limits l;

        memset(&l, 0xaa, sizeof(l));
        limits_init_default(&l);
        assert_int_equal(l.set, 0);
        assert_int_equal(l.cpu_units, 1024);
        assert_int_equal(l.cpu_quota_us, 0);
        assert_true(cpuset_is_empty(&l.cpu_set));
        assert_true(l.mem_barrier == UBC_UNLIMITED);
        assert_true(l.mem_limit == UBC_UNLIMITED);
        assert_true(l.swap == UBC_UNLIMITED);
        assert_int_equal(l.io_weight, 500);
        assert_int_equal(l.n_io_limits, 0);
        assert_null(l.io_limits);
        assert_true(l.tasks == UBC_UNLIMITED);
        for (unsigned k = 0; k < _UBC_KEY_MAX; k++) {
                assert_int_equal(l.source[k], UBC_SOURCE_DEFAULT);
                assert_int_equal(l.line[k], 0);
        }
}

static void test_limits_copy_overlay(void **state) {
        struct ubc_limits base, over, copy;

        limits_init_default(&base);
        limits_init_default(&over);

        base.set = 1u << UBC_KEY_CPU_UNITS | 1u << UBC_KEY_IO_LIMIT;
        base.cpu_units = 2048;
        base.line[UBC_KEY_CPU_UNITS] = 3;
        base.source[UBC_KEY_CPU_UNITS] = UBC_SOURCE_CLASS;
        base.io_limits = calloc(1, sizeof(*base.io_limits));
        assert_non_null(base.io_limits);
        base.n_io_limits = 1;
        strcpy(base.io_limits[0].dev, "vda");

        assert_int_equal(limits_copy(&copy, &base), 0);
        assert_ptr_not_equal(copy.io_limits, base.io_limits);
        assert_string_equal(copy.io_limits[0].dev, "vda");
        assert_int_equal(copy.cpu_units, 2048);

        over.set = 1u << UBC_KEY_MEMORY | 1u << UBC_KEY_IO_LIMIT;
        over.mem_barrier = 1ULL << 30;
        over.mem_limit = 2ULL << 30;
        over.line[UBC_KEY_MEMORY] = 7;
        over.line[UBC_KEY_IO_LIMIT] = 8;
        over.io_limits = calloc(2, sizeof(*over.io_limits));
        assert_non_null(over.io_limits);
        over.n_io_limits = 2;
        strcpy(over.io_limits[0].dev, "sda");
        strcpy(over.io_limits[1].dev, "sdb");
        /* Not set in 'over': must not leak into base. */
        over.cpu_units = 9;
        over.tasks = 5;

        assert_int_equal(limits_overlay(&base, &over, UBC_SOURCE_GUEST), 0);
        assert_int_equal(base.cpu_units, 2048);
        assert_int_equal(base.source[UBC_KEY_CPU_UNITS], UBC_SOURCE_CLASS);
        assert_int_equal(base.line[UBC_KEY_CPU_UNITS], 3);
        assert_true(base.tasks == UBC_UNLIMITED);
        assert_int_equal(base.mem_barrier, 1ULL << 30);
        assert_int_equal(base.mem_limit, 2ULL << 30);
        assert_int_equal(base.source[UBC_KEY_MEMORY], UBC_SOURCE_GUEST);
        assert_int_equal(base.line[UBC_KEY_MEMORY], 7);
        assert_int_equal(base.set, 1u << UBC_KEY_CPU_UNITS | 1u << UBC_KEY_IO_LIMIT | 1u << UBC_KEY_MEMORY);
        /* io.limit is replaced as a whole, not merged. */
        assert_int_equal(base.n_io_limits, 2);
        assert_string_equal(base.io_limits[0].dev, "sda");
        assert_string_equal(base.io_limits[1].dev, "sdb");
        assert_ptr_not_equal(base.io_limits, over.io_limits);
        assert_int_equal(base.source[UBC_KEY_IO_LIMIT], UBC_SOURCE_GUEST);
        assert_int_equal(base.line[UBC_KEY_IO_LIMIT], 8);

        /* The copy is independent of the overlay. */
        assert_int_equal(copy.n_io_limits, 1);
        assert_string_equal(copy.io_limits[0].dev, "vda");

        limits_done(&base);
        limits_done(&over);
        limits_done(&copy);
        assert_null(copy.io_limits);
        limits_done(NULL);
}

static void test_key_names(void **state) {
        static const char *const names[] = {"cpu.units", "cpu.limit", "cpu.set",  "memory",
                                            "swap",      "io.weight", "io.limit", "tasks"};

        assert_int_equal(sizeof(names) / sizeof(names[0]), _UBC_KEY_MAX);
        for (int k = 0; k < _UBC_KEY_MAX; k++) {
                assert_string_equal(ubc_key_name(k), names[k]);
                assert_int_equal(ubc_key_from_name(names[k]), k);
        }
        assert_int_equal(ubc_key_from_name("cpu.unit"), -ENOENT);
        assert_int_equal(ubc_key_from_name(""), -ENOENT);
        assert_int_equal(ubc_key_from_name(NULL), -ENOENT);
        assert_null(ubc_key_name(_UBC_KEY_MAX));
}

static void test_host_names(void **state) {
        assert_string_equal(ubc_ctrl_name(UBC_CTRL_CPU, CG_VERSION_V2), "cpu");
        assert_string_equal(ubc_ctrl_name(UBC_CTRL_CPUSET, CG_VERSION_V2), "cpuset");
        assert_string_equal(ubc_ctrl_name(UBC_CTRL_MEMORY, CG_VERSION_V1), "memory");
        assert_string_equal(ubc_ctrl_name(UBC_CTRL_IO, CG_VERSION_V2), "io");
        assert_string_equal(ubc_ctrl_name(UBC_CTRL_IO, CG_VERSION_V1), "blkio");
        assert_string_equal(ubc_ctrl_name(UBC_CTRL_PIDS, CG_VERSION_V1), "pids");
        assert_null(ubc_ctrl_name(_UBC_CTRL_MAX, CG_VERSION_V1));
        assert_string_equal(cg_mode_name(CG_MODE_LEGACY), "legacy");
        assert_string_equal(cg_mode_name(CG_MODE_HYBRID), "hybrid");
        assert_string_equal(cg_mode_name(CG_MODE_UNIFIED), "unified");
}

static void test_host_find_blockdev(void **state) {
        struct ubc_host h = {
                .n_blockdevs = 2,
                .blockdevs = {{"vda", 254, 0}, {"sda", 8, 0}},
        };

        assert_ptr_equal(host_find_blockdev(&h, "vda"), &h.blockdevs[0]);
        assert_ptr_equal(host_find_blockdev(&h, "/dev/vda"), &h.blockdevs[0]);
        assert_ptr_equal(host_find_blockdev(&h, "254:0"), &h.blockdevs[0]);
        assert_ptr_equal(host_find_blockdev(&h, "8:0"), &h.blockdevs[1]);
        assert_null(host_find_blockdev(&h, "8:1"));
        assert_null(host_find_blockdev(&h, "vdb"));
        assert_null(host_find_blockdev(&h, "/dev/sdz"));
        assert_null(host_find_blockdev(&h, "/dev/disk/vda"));
        assert_null(host_find_blockdev(&h, "254:"));
        assert_null(host_find_blockdev(&h, ":0"));
        assert_null(host_find_blockdev(&h, "254:0x"));
        assert_null(host_find_blockdev(&h, ""));
        assert_null(host_find_blockdev(&h, NULL));
        assert_null(host_find_blockdev(&h, "99999999999999:0"));
}

struct seen {
        unsigned n;
        char last[600];
};

static void record(void *userdata, const struct ubc_diag *d) {
        struct seen *s = userdata;

        s->n++;
        snprintf(s->last, sizeof(s->last), "%s:%u: %s: %s", d->file ? d->file : "-", d->line,
                 d->key ? d->key : "-", d->message);
}

static void test_diag(void **state) {
        struct seen seen = {};
        struct ubc_diag_sink sink = {.report = record, .userdata = &seen};
        char longkey[2000];

        diag_error(NULL, "f", 1, "k", "ignored %d", 1);
        diag_error(&sink, "a.policy", 3, "cpu.units", "out of range, must be %d..%d", 8, 500000);
        assert_int_equal(sink.n_errors, 1);
        assert_int_equal(seen.n, 1);
        assert_string_equal(seen.last, "a.policy:3: cpu.units: out of range, must be 8..500000");

        diag_error(&sink, NULL, 0, NULL, "host problem");
        assert_int_equal(sink.n_errors, 2);
        assert_string_equal(seen.last, "-:0: -: host problem");

        /* A sink that only counts. */
        struct ubc_diag_sink counter = {};
        diag_error(&counter, "x", 1, NULL, "y");
        assert_int_equal(counter.n_errors, 1);

        /* One line, whatever the user wrote. */
        diag_error(&sink, "f", 1, "bad\nkey", "value 'a\nb\x1b[2J'");
        assert_string_equal(seen.last, "f:1: bad?key: value 'a?b?[2J'");

        /* Huge messages are cut, not overflowed. */
        memset(longkey, 'x', sizeof(longkey) - 1);
        longkey[sizeof(longkey) - 1] = '\0';
        diag_error(&sink, "f", 1, NULL, "%s", longkey);
        assert_int_equal(sink.n_errors, 4);
        assert_true(strlen(seen.last) < sizeof(seen.last));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_size_plain_and_suffixes),
                cmocka_unit_test(test_size_overflow),
                cmocka_unit_test(test_size_malformed),
                cmocka_unit_test(test_uint),
                cmocka_unit_test(test_cpu_limit),
                cmocka_unit_test(test_format_size),
                cmocka_unit_test(test_format_size_roundtrip),
                cmocka_unit_test(test_format_cpu_limit),
                cmocka_unit_test(test_cpuset_parse),
                cmocka_unit_test(test_cpuset_errors),
                cmocka_unit_test(test_cpuset_format_bounds),
                cmocka_unit_test(test_cpuset_sets),
                cmocka_unit_test(test_limits_default),
                cmocka_unit_test(test_limits_copy_overlay),
                cmocka_unit_test(test_key_names),
                cmocka_unit_test(test_host_names),
                cmocka_unit_test(test_host_find_blockdev),
                cmocka_unit_test(test_diag),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
