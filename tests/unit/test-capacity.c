/* Capacity arithmetic: percentiles by nearest rank with unknown samples left out, right-sizing
 * hints at their thresholds, and headroom per class at limits and at p95. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ubc/capacity.h"

#define GIB (1024.0 * 1024 * 1024)
#define MIB (1024.0 * 1024)

static void test_percentiles_nearest_rank(void **state) {
        double v[100];
        struct capacity_summary s;

        for (int i = 0; i < 100; i++)
                v[i] = 100 - i; /* 100 .. 1, unsorted on purpose */
        assert_int_equal(capacity_summarize(v, 100, 1, &s), 0);
        assert_int_equal(s.n_known, 100);
        assert_true(s.p50 == 50 && s.p95 == 95 && s.max == 100);
        assert_true(fabs(s.mean - 50.5) < 1e-9);
}

static void test_unknown_samples_left_out(void **state) {
        /* two columns, row-major: the second column is read with stride 2 */
        double v[] = {1, NAN, 2, 10, 3, NAN, 4, 30};
        struct capacity_summary s;

        assert_int_equal(capacity_summarize(v + 1, 4, 2, &s), 0);
        assert_int_equal(s.n, 4);
        assert_int_equal(s.n_known, 2);
        assert_true(s.p50 == 10 && s.p95 == 30 && s.max == 30);

        assert_int_equal(capacity_summarize(v, 0, 1, &s), 0);
        assert_true(isnan(s.p95) && s.n_known == 0);
}

static struct capacity_usage quiet_usage(void) {
        struct capacity_usage u = {.coverage = 1};

        u.cpu = u.cpu_throttled = u.mem = u.swap = u.psi_mem = u.psi_cpu =
                (struct capacity_summary){.p50 = 0, .p95 = 0, .max = 0};
        u.tasks = (struct capacity_summary){.p50 = NAN, .p95 = NAN, .max = NAN}; /* no tasks source */
        u.cpu_peak = 0.1;
        u.mem_peak = 200 * MIB;
        return u;
}

static void test_shrink_hints_below_30_percent(void **state) {
        struct capacity_limits lim = {
                .cpu_limit = 2, .mem_limit = (uint64_t) (1 * GIB), .swap = UINT64_MAX, .tasks = UINT64_MAX};
        struct capacity_usage u = quiet_usage();
        struct capacity_hint h[CAPACITY_HINTS_MAX];
        size_t n = capacity_hints(&lim, &u, h);

        assert_int_equal(n, 2);
        assert_int_equal(h[0].kind, HINT_SHRINK_MEMORY);
        assert_true(h[0].value == 304 * MIB); /* 200M * 1.5 rounded up to 16M */
        assert_non_null(strstr(h[0].text, "could shrink memory to 304M"));
        assert_int_equal(h[1].kind, HINT_SHRINK_CPU);
        assert_true(fabs(h[1].value - 0.15) < 1e-9);

        /* At 30% and above: no shrink. */
        u.mem_peak = 0.31 * GIB;
        u.cpu_peak = 0.6;
        assert_int_equal(capacity_hints(&lim, &u, h), 0);
}

static void test_needs_more_comes_first(void **state) {
        struct capacity_limits lim = {
                .cpu_limit = 1, .mem_limit = (uint64_t) GIB, .swap = UINT64_MAX, .tasks = 100};
        struct capacity_usage u = quiet_usage();
        struct capacity_hint h[CAPACITY_HINTS_MAX];
        size_t n;

        u.failcnt[BC_PHYSPAGES] = 3;
        u.failcnt[BC_NUMPROC] = 1;
        u.cpu_throttled.p95 = 0.2;
        n = capacity_hints(&lim, &u, h);
        assert_int_equal(n, 4);
        assert_int_equal(h[0].kind, HINT_MORE_MEMORY);
        assert_non_null(strstr(h[0].text, "3 failcnt events"));
        assert_int_equal(h[1].kind, HINT_MORE_TASKS);
        assert_int_equal(h[2].kind, HINT_MORE_CPU);
        assert_int_equal(h[3].kind, HINT_SHRINK_CPU); /* peak 0.1 of 1 CPU; memory is short, not shrunk */

        u = quiet_usage();
        u.psi_mem.p95 = 25;
        n = capacity_hints(&lim, &u, h);
        assert_int_equal(h[0].kind, HINT_MORE_MEMORY);
        assert_non_null(strstr(h[0].text, "pressure p95 25%"));
}

static void test_little_history_no_shrink(void **state) {
        struct capacity_limits lim = {
                .cpu_limit = 2, .mem_limit = (uint64_t) GIB, .swap = UINT64_MAX, .tasks = UINT64_MAX};
        struct capacity_usage u = quiet_usage();
        struct capacity_hint h[CAPACITY_HINTS_MAX];

        u.coverage = 0.2;
        assert_int_equal(capacity_hints(&lim, &u, h), 1);
        assert_int_equal(h[0].kind, HINT_LITTLE_HISTORY);
}

static void test_idle_guest_is_not_sized(void **state) {
        struct capacity_limits lim = {
                .cpu_limit = 2, .mem_limit = (uint64_t) GIB, .swap = UINT64_MAX, .tasks = UINT64_MAX};
        struct capacity_usage u = quiet_usage();
        struct capacity_hint h[CAPACITY_HINTS_MAX];

        u.tasks.max = 0;
        assert_int_equal(capacity_hints(&lim, &u, h), 1);
        assert_int_equal(h[0].kind, HINT_IDLE);
        u.tasks.max = 1;
        assert_int_equal(capacity_hints(&lim, &u, h), 2);
}

static void test_headroom(void **state) {
        /* 16 GiB, 8 CPUs; guests have 10 GiB and 6 CPUs of limits, use 4 GiB and 2 CPUs at p95. */
        struct capacity_host host = {.cpus = 8,
                                     .mem_total = (uint64_t) (16 * GIB),
                                     .cpu_limits_sum = 6,
                                     .mem_limits_sum = (uint64_t) (10 * GIB),
                                     .cpu_p95_sum = 2,
                                     .mem_p95_sum = (uint64_t) (4 * GIB)};
        struct capacity_class gold = {.cpu_limit = 1,
                                      .mem_limit = (uint64_t) (2 * GIB),
                                      .n_observed = 2,
                                      .cpu_p95_mean = 0.5,
                                      .mem_p95_mean = 1 * GIB};
        struct capacity_class nolimit = {.cpu_limit = 0, .mem_limit = UINT64_MAX};
        struct capacity_fit f;

        capacity_headroom(&host, &gold, &f);
        assert_int_equal(f.at_limits, 2); /* cpu: (8-6)/1 = 2; memory: 6G/2G = 3 */
        assert_string_equal(f.at_limits_by, "cpu");
        assert_int_equal(f.at_p95, 12); /* memory: 12G/1G = 12; cpu: 6/0.5 = 12 */
        assert_string_equal(f.at_p95_by, "memory");

        capacity_headroom(&host, &nolimit, &f);
        assert_int_equal(f.at_limits, -1);
        assert_int_equal(f.at_p95, -1);

        /* Overcommitted already: none fit, never a negative count. */
        host.mem_limits_sum = (uint64_t) (20 * GIB);
        capacity_headroom(&host, &gold, &f);
        assert_int_equal(f.at_limits, 0);
        assert_string_equal(f.at_limits_by, "memory");
}

static void test_format_bytes(void **state) {
        char b[32];

        capacity_format_bytes(1.5 * GIB, b, sizeof(b));
        assert_string_equal(b, "1.5G");
        capacity_format_bytes(512 * MIB, b, sizeof(b));
        assert_string_equal(b, "512M");
        capacity_format_bytes(17, b, sizeof(b));
        assert_string_equal(b, "17B");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_percentiles_nearest_rank),
                cmocka_unit_test(test_unknown_samples_left_out),
                cmocka_unit_test(test_shrink_hints_below_30_percent),
                cmocka_unit_test(test_needs_more_comes_first),
                cmocka_unit_test(test_little_history_no_shrink),
                cmocka_unit_test(test_idle_guest_is_not_sized),
                cmocka_unit_test(test_headroom),
                cmocka_unit_test(test_format_bytes),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
