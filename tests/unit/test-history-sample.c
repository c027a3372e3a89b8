/* The values of history updates: CPU and I/O rates over the monotonic clock, unknown without
 * an earlier sample or after a counter reset, the memory peak between updates, failure counts
 * carried until written, the wall clock checks, and the update line librrd reads. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ubc/history-sample.h"
#include "ubc/macro.h"

#define SEC  1000000ULL
#define WALL 1700000000
#define MIB  (1024ULL * 1024ULL)

static void assert_near(double got, double want) {
        if (fabs(got - want) > 1e-9 * (fabs(want) + 1))
                fail_msg("got %.12g, want %.12g", got, want);
}

/* A guest sample: CPU usage, memory in pages, one device of I/O. */
struct fake {
        struct bc_sample bc;
        struct guest_stat st;
};

static void fake_set(struct fake *f, uint64_t cpu_usec, uint64_t mem_bytes) {
        memset(f, 0, sizeof(*f));
        f->st.has_cpu_usage = true;
        f->st.cpu_usage_usec = cpu_usec;
        f->bc.present =
                (1u << BC_PHYSPAGES) | (1u << BC_NUMPROC) | (1u << BC_KMEMSIZE) | (1u << BC_SWAPPAGES);
        f->bc.held[BC_PHYSPAGES] = mem_bytes / BC_PAGE_SIZE;
        f->bc.held[BC_NUMPROC] = 3;
        f->bc.held[BC_KMEMSIZE] = 123456;
        f->bc.held[BC_SWAPPAGES] = 2;
}

static enum history_verdict step(struct history_guest_track *t, struct fake *f, uint64_t mono, time_t wall,
                                 const uint64_t *added, double v[_HG_MAX]) {
        struct history_guest_input in = {
                .mono_usec = mono, .wall = wall, .bc = &f->bc, .st = &f->st, .failcnt_added = added};
        enum history_verdict verdict = history_guest_step(t, &in, v);

        if (verdict == HISTORY_UPDATE)
                history_guest_written(t, wall);
        return verdict;
}

static void test_first_sample_has_no_rates(void **state) {
        struct history_guest_track t = {};
        struct fake f;
        double v[_HG_MAX];

        fake_set(&f, 5 * SEC, 200 * MIB);
        assert_int_equal(step(&t, &f, 100 * SEC, WALL, NULL, v), HISTORY_UPDATE);
        assert_true(isnan(v[HG_CPU]));
        assert_true(isnan(v[HG_IO_READ]));
        assert_true(isnan(v[HG_IO_OPS]));
        assert_near(v[HG_MEM], 200.0 * MIB);
        assert_near(v[HG_MEM_PEAK], 200.0 * MIB);
        assert_near(v[HG_SWAP], 2.0 * 4096);
        assert_near(v[HG_KMEM], 123456);
        assert_near(v[HG_TASKS], 3);
        assert_true(isnan(v[HG_PSI_CPU])); /* no PSI files */
        assert_near(v[HG_FAILCNT + BC_PHYSPAGES], 0);
}

static void test_rates_use_the_monotonic_clock(void **state) {
        struct history_guest_track t = {};
        struct fake f;
        double v[_HG_MAX];

        fake_set(&f, 5 * SEC, 0);
        f.st.n_io = 2;
        f.st.io[0] = (struct stat_io_dev){.rbytes = 1000, .wbytes = 0, .rios = 1, .wios = 0};
        f.st.io[1] = (struct stat_io_dev){.rbytes = 0, .wbytes = 500, .rios = 0, .wios = 2};
        assert_int_equal(step(&t, &f, 100 * SEC, WALL, NULL, v), HISTORY_UPDATE);

        /* 4 s of monotonic time, 1 CPU-second used: half a CPU, whatever the wall clock says
         * within the slack (here 5 s, rounding). */
        f.st.cpu_usage_usec = 6 * SEC;
        f.st.cpu_throttled_usec = 2 * SEC;
        f.st.io[0].rbytes += 4000;
        f.st.io[1].wbytes += 8000;
        f.st.io[1].wios += 40;
        assert_int_equal(step(&t, &f, 104 * SEC, WALL + 5, NULL, v), HISTORY_UPDATE);
        assert_near(v[HG_CPU], 0.25);
        assert_near(v[HG_CPU_THROTTLED], 0.5);
        assert_near(v[HG_IO_READ], 1000);
        assert_near(v[HG_IO_WRITE], 2000);
        assert_near(v[HG_IO_OPS], 10);
}

static void test_counter_reset_is_unknown(void **state) {
        struct history_guest_track t = {};
        struct fake f;
        double v[_HG_MAX];

        fake_set(&f, 50 * SEC, 0);
        step(&t, &f, 100 * SEC, WALL, NULL, v);
        fake_set(&f, 1 * SEC, 0); /* the cgroup was made anew */
        assert_int_equal(step(&t, &f, 110 * SEC, WALL + 10, NULL, v), HISTORY_UPDATE);
        assert_true(isnan(v[HG_CPU]));
        fake_set(&f, 3 * SEC, 0);
        assert_int_equal(step(&t, &f, 120 * SEC, WALL + 20, NULL, v), HISTORY_UPDATE);
        assert_near(v[HG_CPU], 0.2);
}

static void test_peak_between_updates(void **state) {
        struct history_guest_track t = {};
        struct fake f;
        double v[_HG_MAX];

        fake_set(&f, 0, 100 * MIB);
        f.bc.peak_present = 1u << BC_PHYSPAGES;
        f.bc.peak[BC_PHYSPAGES] = 900 * MIB / BC_PAGE_SIZE; /* an old peak, from before */
        step(&t, &f, 100 * SEC, WALL, NULL, v);
        assert_near(v[HG_MEM_PEAK], 100.0 * MIB); /* the kernel's old peak is not this interval's */

        /* Between two samples memory went to 300M and back to 150M: only the kernel saw it. */
        fake_set(&f, 0, 150 * MIB);
        f.bc.peak_present = 1u << BC_PHYSPAGES;
        f.bc.peak[BC_PHYSPAGES] = 900 * MIB / BC_PAGE_SIZE;
        step(&t, &f, 110 * SEC, WALL + 10, NULL, v);
        assert_near(v[HG_MEM_PEAK], 150.0 * MIB); /* kernel peak unchanged: the samples' max */
        f.bc.peak[BC_PHYSPAGES] = 950 * MIB / BC_PAGE_SIZE;
        step(&t, &f, 120 * SEC, WALL + 20, NULL, v);
        assert_near(v[HG_MEM_PEAK], 950.0 * MIB); /* it rose: reached in this interval */
        step(&t, &f, 130 * SEC, WALL + 30, NULL, v);
        assert_near(v[HG_MEM_PEAK], 150.0 * MIB); /* the next interval starts afresh */

        /* Without a kernel peak (v1 without one, or absent): the max of the samples, including
         * the one at the previous update. */
        fake_set(&f, 0, 50 * MIB);
        step(&t, &f, 140 * SEC, WALL + 40, NULL, v);
        assert_near(v[HG_MEM_PEAK], 150.0 * MIB);
        step(&t, &f, 150 * SEC, WALL + 50, NULL, v);
        assert_near(v[HG_MEM_PEAK], 50.0 * MIB);
}

static void test_failcnt_increments(void **state) {
        struct history_guest_track t = {};
        struct fake f;
        double v[_HG_MAX];
        uint64_t added[_BC_MAX] = {};

        fake_set(&f, 0, 0);
        added[BC_PHYSPAGES] = 4;
        step(&t, &f, 100 * SEC, WALL, added, v);
        assert_near(v[HG_FAILCNT + BC_PHYSPAGES], 4);
        added[BC_PHYSPAGES] = 0;
        step(&t, &f, 110 * SEC, WALL + 10, added, v);
        assert_near(v[HG_FAILCNT + BC_PHYSPAGES], 0);

        /* Counted in a sample that could not be written: carried to the next update. */
        added[BC_NUMPROC] = 2;
        assert_int_equal(step(&t, &f, 110 * SEC + 300000, WALL + 10, added, v), HISTORY_SAME_SECOND);
        added[BC_NUMPROC] = 1;
        assert_int_equal(step(&t, &f, 111 * SEC, WALL + 11, added, v), HISTORY_UPDATE);
        assert_near(v[HG_FAILCNT + BC_NUMPROC], 3);
}

static void test_same_second_keeps_the_base(void **state) {
        struct history_guest_track t = {};
        struct fake f;
        double v[_HG_MAX];

        fake_set(&f, 0, 0);
        step(&t, &f, 100 * SEC, WALL, NULL, v);
        fake_set(&f, SEC / 2, 0);
        assert_int_equal(step(&t, &f, 100 * SEC + 500000, WALL, NULL, v), HISTORY_SAME_SECOND);
        fake_set(&f, 2 * SEC, 0);
        assert_int_equal(step(&t, &f, 104 * SEC, WALL + 4, NULL, v), HISTORY_UPDATE);
        assert_near(v[HG_CPU], 0.5); /* 2 s over the 4 s since the written sample */
}

static void test_clock_back(void **state) {
        struct history_guest_track t = {};
        struct fake f;
        double v[_HG_MAX];

        t.clock.last_update = WALL + 100; /* what the file holds, from before a restart */
        fake_set(&f, 0, 0);
        assert_int_equal(step(&t, &f, 100 * SEC, WALL, NULL, v), HISTORY_CLOCK_BACK);
        assert_int_equal(step(&t, &f, 110 * SEC, WALL + 10, NULL, v), HISTORY_CLOCK_BACK);
        assert_int_equal(t.clock.last_update, WALL + 100);
        /* Once past the file's last update, rates resume from the latest sample. */
        fake_set(&f, 10 * SEC, 0);
        assert_int_equal(step(&t, &f, 210 * SEC, WALL + 110, NULL, v), HISTORY_UPDATE);
        assert_near(v[HG_CPU], 0.1);
        assert_int_equal(t.clock.last_update, WALL + 110);
}

static void test_clock_jump_forward(void **state) {
        struct history_guest_track t = {};
        struct fake f;
        double v[_HG_MAX];

        fake_set(&f, 0, 0);
        step(&t, &f, 100 * SEC, WALL, NULL, v);
        fake_set(&f, 5 * SEC, 0);
        /* 10 s on the monotonic clock, an hour on the wall clock: skipped, base reset */
        assert_int_equal(step(&t, &f, 110 * SEC, WALL + 3610, NULL, v), HISTORY_CLOCK_JUMP);
        assert_int_equal(t.clock.last_update, WALL);
        fake_set(&f, 6 * SEC, 0);
        assert_int_equal(step(&t, &f, 120 * SEC, WALL + 3620, NULL, v), HISTORY_UPDATE);
        assert_near(v[HG_CPU], 0.1); /* over the 10 s after the jump only */

        /* Within the slack (late timer, whole seconds) is no jump. */
        assert_int_equal(step(&t, &f, 130 * SEC, WALL + 3620 + 10 + HISTORY_CLOCK_SLACK_SEC, NULL, v),
                         HISTORY_UPDATE);
}

static void test_host(void **state) {
        struct history_host_track t = {};
        struct history_host_input in = {
                .mono_usec = 100 * SEC,
                .wall = WALL,
                .has_cpu = true,
                .busy_ticks = 1000,
                .ticks_per_sec = 100,
                .cpus = 2,
                .has_mem = true,
                .mem_total = 4096 * MIB,
                .mem_available = 1024 * MIB,
                .swap_total = 1024 * MIB,
                .swap_free = 1000 * MIB,
        };
        double v[_HH_MAX];

        assert_int_equal(history_host_step(&t, &in, v), HISTORY_UPDATE);
        history_host_written(&t, in.wall);
        assert_true(isnan(v[HH_CPU]));
        assert_near(v[HH_CPUS], 2);
        assert_near(v[HH_MEM], 3072.0 * MIB);
        assert_near(v[HH_MEM_TOTAL], 4096.0 * MIB);
        assert_near(v[HH_SWAP], 24.0 * MIB);
        assert_near(v[HH_SWAP_TOTAL], 1024.0 * MIB);
        in.mono_usec += 10 * SEC;
        in.wall += 10;
        in.busy_ticks += 1500; /* 15 CPU-seconds in 10 s */
        assert_int_equal(history_host_step(&t, &in, v), HISTORY_UPDATE);
        assert_near(v[HH_CPU], 1.5);
}

static void test_proc_stat(void **state) {
        uint64_t busy = 0;

        assert_int_equal(history_parse_proc_stat("cpu  10 2 30 400 50 6 7 8 9 1\ncpu0 1 2 3\n", &busy), 0);
        assert_int_equal(busy, 10 + 2 + 30 + 6 + 7);
        assert_int_equal(history_parse_proc_stat("cpu0 1 2 3 4 5 6 7\n", &busy), -EINVAL);
        assert_int_equal(history_parse_proc_stat("cpu  1 2 3\n", &busy), -EINVAL);
        assert_int_equal(history_parse_proc_stat("cpu  99999999999999999999 0 0 0 0 0 0\n", &busy), -ERANGE);
}

static void test_format(void **state) {
        double v[] = {0.5, NAN, 209715200, 0};
        char buf[64];

        assert_int_equal(history_format_update(buf, sizeof(buf), WALL, v, ELEMENTSOF(v)),
                         (int) strlen("1700000000:0.5:U:209715200:0"));
        assert_string_equal(buf, "1700000000:0.5:U:209715200:0");
        assert_int_equal(history_format_update(buf, 16, WALL, v, ELEMENTSOF(v)), -ENOBUFS);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_first_sample_has_no_rates),
                cmocka_unit_test(test_rates_use_the_monotonic_clock),
                cmocka_unit_test(test_counter_reset_is_unknown),
                cmocka_unit_test(test_peak_between_updates),
                cmocka_unit_test(test_failcnt_increments),
                cmocka_unit_test(test_same_second_keeps_the_base),
                cmocka_unit_test(test_clock_back),
                cmocka_unit_test(test_clock_jump_forward),
                cmocka_unit_test(test_host),
                cmocka_unit_test(test_proc_stat),
                cmocka_unit_test(test_format),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
