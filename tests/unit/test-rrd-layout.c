/* The RRD layout: every source and archive in a new file, no overwrite of an existing one,
 * and an old file gaining the sources it lacks without losing what it holds. Real files in a
 * temporary folder, made and read with librrd. */
#include <errno.h>
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

#include "ubc/history.h"
#include "ubc/macro.h"

#define STEP  10
#define START 1700000000

static char dir[] = "/tmp/ubc-test-rrd-XXXXXX";
static char path[sizeof(dir) + 32];

static int setup(void **state) {
        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/101.rrd", dir);
        return 0;
}

static int teardown(void **state) {
        unlink(path);
        rmdir(dir);
        return 0;
}

static int reset(void **state) {
        unlink(path);
        return 0;
}

/* The names of the sources in the file, in file order. */
static unsigned long file_sources(char ***ret_names) {
        unsigned long n = 0;
        char **names = NULL, **last = NULL;
        time_t t;

        assert_int_equal(rrd_lastupdate_r(path, &t, &n, &names, &last), 0);
        for (unsigned long i = 0; i < n; i++)
                free(last[i]);
        free(last);
        *ret_names = names;
        return n;
}

static void free_names(char **names, unsigned long n) {
        for (unsigned long i = 0; i < n; i++)
                free(names[i]);
        free(names);
}

static void test_names(void **state) {
        assert_int_equal(history_ds_count(HISTORY_GUEST), HG_FAILCNT + _BC_MAX);
        assert_string_equal(history_ds_name(HISTORY_GUEST, HG_CPU), "cpu");
        assert_string_equal(history_ds_name(HISTORY_GUEST, HG_MEM_PEAK), "mem_peak");
        assert_string_equal(history_ds_name(HISTORY_GUEST, HG_FAILCNT + BC_OOMGUARPAGES), "fc_oomguarpages");
        assert_string_equal(history_ds_name(HISTORY_HOST, HH_MEM_TOTAL), "mem_total");
        assert_null(history_ds_name(HISTORY_GUEST, _HG_MAX));
        assert_int_equal(history_ds_index(HISTORY_GUEST, "fc_numproc"), HG_FAILCNT + BC_NUMPROC);
        assert_int_equal(history_ds_index(HISTORY_GUEST, "nope"), -ENOENT);
        for (size_t i = 0; i < _HG_MAX; i++)
                assert_true(strlen(history_ds_name(HISTORY_GUEST, i)) <= 19);
}

static void test_create_has_every_source_and_archive(void **state) {
        char err[256] = "", **names;
        unsigned long n;
        rrd_info_t *info, *i;
        unsigned rras = 0;

        assert_int_equal(history_rrd_create(path, HISTORY_GUEST, STEP, 3 * STEP, START, err, sizeof(err)),
                         0);
        n = file_sources(&names);
        assert_int_equal(n, _HG_MAX);
        for (size_t k = 0; k < n; k++)
                assert_string_equal(names[k], history_ds_name(HISTORY_GUEST, k));
        free_names(names, n);

        info = rrd_info_r(path);
        assert_non_null(info);
        for (i = info; i; i = i->next) {
                if (streq(i->key, "step"))
                        assert_int_equal(i->value.u_cnt, STEP);
                if (strstr(i->key, "].cf") && strncmp(i->key, "rra[", 4) == 0)
                        rras++;
                if (streq(i->key, "rra[1].pdp_per_row"))
                        assert_int_equal(i->value.u_cnt, 30);
                if (streq(i->key, "rra[3].rows"))
                        assert_int_equal(i->value.u_cnt, 520);
                if (streq(i->key, "rra[4].cf"))
                        assert_string_equal(i->value.u_str, "MAX");
        }
        rrd_info_free(info);
        assert_int_equal(rras, 8);
}

static void test_create_never_overwrites(void **state) {
        char err[256] = "";

        assert_int_equal(history_rrd_create(path, HISTORY_HOST, STEP, 3 * STEP, START, err, sizeof(err)), 0);
        assert_int_equal(history_rrd_create(path, HISTORY_HOST, STEP, 3 * STEP, START, err, sizeof(err)),
                         -EEXIST);
        assert_int_equal(history_rrd_create(path, HISTORY_HOST, STEP, STEP - 1, START, err, sizeof(err)),
                         -EINVAL);
}

static double fetch_one(const char *ds, time_t at) {
        time_t start = at - STEP, end = at;
        unsigned long step = STEP, n_ds = 0;
        char **names = NULL;
        rrd_value_t *data = NULL;
        double v = NAN;

        assert_int_equal(rrd_fetch_r(path, "AVERAGE", &start, &end, &step, &n_ds, &names, &data), 0);
        for (unsigned long k = 0; k < n_ds; k++)
                if (streq(names[k], ds))
                        v = data[k]; /* first row: the step ending at 'at' */
        free_names(names, n_ds);
        free(data);
        return v;
}

/* A file of an older layout (the first three sources) gains the rest; its data stays. */
static void test_upgrade_appends_and_keeps_data(void **state) {
        const char *old[] = {"DS:cpu:GAUGE:30:0:U", "DS:cpu_throttled:GAUGE:30:0:U", "DS:mem:GAUGE:30:0:U",
                             "RRA:AVERAGE:0.5:1:100"};
        const char *upd[] = {"1700000010:1:0:1000", "1700000020:1:0:1000", "1700000030:1:0:1000"};
        char err[256] = "", **names;
        unsigned long n;

        assert_int_equal(rrd_create_r(path, STEP, START, 4, old), 0);
        assert_int_equal(rrd_update_r(path, NULL, 3, upd), 0);
        assert_int_equal(history_rrd_upgrade(path, HISTORY_GUEST, 30, err, sizeof(err)), _HG_MAX - 3);

        n = file_sources(&names);
        assert_int_equal(n, _HG_MAX);
        for (size_t k = 0; k < n; k++)
                assert_string_equal(names[k], history_ds_name(HISTORY_GUEST, k));
        free_names(names, n);
        assert_true(fabs(fetch_one("mem", 1700000030) - 1000) < 1e-9);
        assert_true(isnan(fetch_one("swap", 1700000030)));

        /* A file that is current gains nothing. */
        assert_int_equal(history_rrd_upgrade(path, HISTORY_GUEST, 30, err, sizeof(err)), 0);
}

static void test_upgrade_of_missing_file_says_why(void **state) {
        char err[256] = "";

        assert_int_equal(history_rrd_upgrade(path, HISTORY_GUEST, 30, err, sizeof(err)), -EIO);
        assert_non_null(strstr(err, "101.rrd"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_names),
                cmocka_unit_test_setup(test_create_has_every_source_and_archive, reset),
                cmocka_unit_test_setup(test_create_never_overwrites, reset),
                cmocka_unit_test_setup(test_upgrade_appends_and_keeps_data, reset),
                cmocka_unit_test_setup(test_upgrade_of_missing_file_says_why, reset),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
