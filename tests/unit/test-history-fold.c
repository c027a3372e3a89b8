/* Folding sweeps into one update per step: two real files in a temporary folder, one given an
 * update per sample as ubcd used to write, the other only the folded rows, held back and
 * written several steps per update call as ubcd does (rrd_batch); every row of every archive
 * must read the same, through jittered intervals, unknown values, failure counts, a gap past
 * the heartbeat, an interval over a step boundary and a stop mid-step. */
#include <math.h>
#include <rrd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "ubc/history-fold.h"
#include "ubc/history-sample.h"
#include "ubc/history.h"
#include "ubc/macro.h"

#define STEP      60
#define HEARTBEAT 120
#define START     1700000040 /* a step boundary */
#define BATCH     5
#define GUEST_ID  107

static char dir[] = "/tmp/ubc-test-fold-XXXXXX";
static char path_each[sizeof(dir) + 32], path_fold[sizeof(dir) + 32];

static int setup(void **state) {
        assert_non_null(mkdtemp(dir));
        snprintf(path_each, sizeof(path_each), "%s/each.rrd", dir);
        snprintf(path_fold, sizeof(path_fold), "%s/fold.rrd", dir);
        return 0;
}

static int teardown(void **state) {
        unlink(path_each);
        unlink(path_fold);
        rmdir(dir);
        return 0;
}

static void update(const char *path, time_t when, const double *v) {
        char line[1024];
        const char *argv[] = {line, NULL};

        assert_true(history_format_update(line, sizeof(line), when, v, _HG_MAX) > 0);
        if (rrd_update_r(path, NULL, 1, argv) != 0)
                fail_msg("rrd_update %s: %s", line, rrd_get_error());
}

/* Folded rows not written yet, as ubcd holds them. */
static struct history_row held[BATCH + 1];
static size_t n_held, n_calls;

static void write_held(void) {
        char lines[BATCH + 1][1024];
        const char *argv[BATCH + 1];

        if (n_held == 0)
                return;
        for (size_t i = 0; i < n_held; i++) {
                assert_true(history_format_update(lines[i], sizeof(lines[i]), held[i].when, held[i].v,
                                                  _HG_MAX) > 0);
                argv[i] = lines[i];
        }
        if (rrd_update_r(path_fold, NULL, (int) n_held, argv) != 0)
                fail_msg("rrd_update of %zu rows from %s: %s", n_held, lines[0], rrd_get_error());
        n_held = 0;
        n_calls++;
}

static void hold(const struct history_row *row) {
        assert_true(n_held <= BATCH);
        held[n_held++] = *row;
}

static struct history_fold_spec guest_spec(void) {
        struct history_fold_spec spec = {.step = STEP, .heartbeat = HEARTBEAT, .n = _HG_MAX};

        for (size_t i = 0; i < _HG_MAX; i++)
                if (history_ds_absolute(HISTORY_GUEST, i))
                        spec.absolute |= UINT64_C(1) << i;
        return spec;
}

static void fold_in(struct history_fold *f, time_t wall, const double *v) {
        struct history_fold_spec spec = guest_spec();
        struct history_row rows[2];
        size_t n = history_fold_add(f, &spec, wall, v, rows);

        for (size_t i = 0; i < n; i++)
                hold(&rows[i]);
        if (n_held > 0 && history_batch_due(held[n_held - 1].when, STEP, GUEST_ID, BATCH, n_held))
                write_held();
}

/* A sample's values: a few sources moving, unknown rates at the start and after 'reset'. */
static void sample_values(unsigned k, bool rates_known, double *v) {
        for (size_t i = 0; i < _HG_MAX; i++)
                v[i] = NAN;
        v[HG_CPU] = rates_known ? 0.1 * (double) (k % 7) : NAN;
        v[HG_IO_READ] = rates_known ? 1000.0 * (double) ((k * 5) % 11) : NAN;
        v[HG_MEM] = 1048576.0 * (double) (100 + (k * 37) % 50);
        v[HG_MEM_PEAK] = v[HG_MEM] + 4096.0 * (double) (k % 3);
        v[HG_TASKS] = (double) (k % 4);
        for (size_t r = 0; r < _BC_MAX; r++)
                v[HG_FAILCNT + r] = (k % 9 == 4 && r == BC_PHYSPAGES) ? (double) (k % 5) : 0;
}

static void compare(const char *cf) {
        time_t start = START, end = START + 200 * STEP;
        time_t s2 = start, e2 = end;
        unsigned long step = STEP, step2 = STEP, n_ds = 0, n_ds2 = 0;
        char **names = NULL, **names2 = NULL;
        rrd_value_t *a = NULL, *b = NULL;
        size_t rows, compared = 0, known = 0;

        assert_int_equal(rrd_fetch_r(path_each, cf, &start, &end, &step, &n_ds, &names, &a), 0);
        assert_int_equal(rrd_fetch_r(path_fold, cf, &s2, &e2, &step2, &n_ds2, &names2, &b), 0);
        assert_int_equal(start, s2);
        assert_int_equal(end, e2);
        assert_int_equal(n_ds, n_ds2);
        rows = (size_t) ((end - start) / (time_t) step);
        for (size_t i = 0; i < rows * n_ds; i++) {
                compared++;
                if (isnan(a[i]) || isnan(b[i])) {
                        if (isnan(a[i]) != isnan(b[i]))
                                fail_msg("%s row %zu %s: %g per sample, %g folded", cf, i / n_ds,
                                         names[i % n_ds], a[i], b[i]);
                        continue;
                }
                known++;
                if (fabs(a[i] - b[i]) > 1e-9 * fmax(1.0, fabs(a[i])))
                        fail_msg("%s row %zu %s: %.12g per sample, %.12g folded", cf, i / n_ds,
                                 names[i % n_ds], a[i], b[i]);
        }
        /* Not a comparison of two empty files. */
        assert_true(known > compared / 8);
        for (unsigned long i = 0; i < n_ds; i++) {
                free(names[i]);
                free(names2[i]);
        }
        free(names);
        free(names2);
        free(a);
        free(b);
}

static void test_rows_as_an_update_per_sample(void **state) {
        struct history_fold f;
        struct history_fold_spec spec = guest_spec();
        struct history_row last;
        char err[256] = "";
        double v[_HG_MAX];
        time_t wall = START;

        assert_int_equal(
                history_rrd_create(path_each, HISTORY_GUEST, STEP, HEARTBEAT, START, err, sizeof(err)), 0);
        assert_int_equal(
                history_rrd_create(path_fold, HISTORY_GUEST, STEP, HEARTBEAT, START, err, sizeof(err)), 0);
        history_fold_start(&f, START);
        n_held = n_calls = 0;
        for (unsigned k = 0; k < 600; k++) {
                /* 9..11 s apart, with a 250 s gap (past the heartbeat) and a 100 s interval (over
                 * a boundary, within it). */
                wall += k == 200 ? 250 : k == 300 ? 100 : 9 + (time_t) (k % 3);
                sample_values(k, k > 0 && k != 201 && k != 420, v);
                update(path_each, wall, v);
                fold_in(&f, wall, v);
                /* ubcd stopping mid-step and starting again: the rest of the window written,
                 * folding on from the file's last update. */
                if (k == 450) {
                        assert_true(history_fold_flush(&f, &spec, &last));
                        hold(&last);
                        write_held();
                        history_fold_start(&f, last.when);
                }
        }
        write_held();
        /* Some 100 steps in about a fifth of the calls: the rows did go several at a time. */
        assert_true(n_calls > 15 && n_calls < 30);
        compare("AVERAGE");
        compare("MAX");
}

static void test_one_row_per_step(void **state) {
        struct history_fold f;
        struct history_fold_spec spec = guest_spec();
        struct history_row rows[2];
        double v[_HG_MAX];
        size_t n_rows = 0;

        sample_values(3, true, v);
        history_fold_start(&f, START);
        for (time_t wall = START + 10; wall <= START + 10 * STEP; wall += 10) {
                size_t n = history_fold_add(&f, &spec, wall, v, rows);

                for (size_t i = 0; i < n; i++)
                        assert_int_equal(rows[i].when % STEP, START % STEP);
                n_rows += n;
        }
        assert_int_equal(n_rows, 10);
        assert_int_equal(history_fold_add(&f, &spec, START + 10 * STEP, v, rows), 0); /* not after */
        assert_false(history_fold_flush(&f, &spec, &rows[0]));                        /* nothing new */
        assert_int_equal(history_fold_add(&f, &spec, START + 10 * STEP + 5, v, rows), 0);
        assert_true(history_fold_flush(&f, &spec, &rows[0]));
        assert_int_equal(rows[0].when, START + 10 * STEP + 5);
        assert_true(fabs(rows[0].v[HG_CPU] - 0.3) < 1e-12);
}

/* Each file is written once in BATCH steps, and each step writes a fifth of the files. */
static void test_batch_turns(void **state) {
        unsigned per_id[BATCH] = {0};

        for (time_t step = 0; step < 10 * BATCH; step++) {
                unsigned due = 0;

                for (uint32_t id = 100; id < 100 + BATCH; id++)
                        if (history_batch_due(START + step * STEP, STEP, id, BATCH, 1)) {
                                due++;
                                per_id[id - 100]++;
                        }
                assert_int_equal(due, 1);
        }
        for (size_t i = 0; i < BATCH; i++)
                assert_int_equal(per_id[i], 10);
        /* Full, or no batching: at once. */
        for (uint32_t id = 100; id < 100 + BATCH; id++) {
                assert_true(history_batch_due(START, STEP, id, BATCH, BATCH));
                assert_true(history_batch_due(START, STEP, id, 1, 1));
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_rows_as_an_update_per_sample),
                cmocka_unit_test(test_one_row_per_step),
                cmocka_unit_test(test_batch_turns),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
