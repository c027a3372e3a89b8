/* Unit tests for CPU entitlement under full contention: weights, caps and the water-filling
 * that shares out what capped guests leave. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "ubc/plan.h"

#define EPS 1e-9

static void assert_near(double got, double want) {
        if (fabs(got - want) > EPS)
                fail_msg("got %.12f, want %.12f", got, want);
}

static void test_empty(void **state) {
        assert_int_equal(share_entitled(NULL, 0, 4, NULL), 0);
}

static void test_weights_only(void **state) {
        const struct share_input in[] = {{1024, 0}, {1024, 0}, {1024, 0}, {1024, 0}};
        const struct share_input uneven[] = {{1024, 0}, {3072, 0}};
        double out[4];

        assert_int_equal(share_entitled(in, 4, 2, out), 0);
        for (int i = 0; i < 4; i++)
                assert_near(out[i], 0.5);

        assert_int_equal(share_entitled(uneven, 2, 4, out), 0);
        assert_near(out[0], 1);
        assert_near(out[1], 3);
}

static void test_cap_shared_again(void **state) {
        const struct share_input in[] = {{1024, 0.5}, {1024, 0}, {1024, 0}};
        double out[3];

        /* 1 CPU each, but A may use only 0.5: B and C share the other 0.5. */
        assert_int_equal(share_entitled(in, 3, 3, out), 0);
        assert_near(out[0], 0.5);
        assert_near(out[1], 1.25);
        assert_near(out[2], 1.25);
}

static void test_cascade(void **state) {
        const struct share_input in[] = {{4096, 1}, {2048, 1}, {1024, 0}, {1024, 0}};
        const struct share_input late[] = {{4096, 1.8}, {1024, 0.6}, {1024, 0}};
        double out[4];

        /* A (2 CPUs by weight) and B (1) hit their caps; C and D split the remaining 2. */
        assert_int_equal(share_entitled(in, 4, 4, out), 0);
        assert_near(out[0], 1);
        assert_near(out[1], 1);
        assert_near(out[2], 1);
        assert_near(out[3], 1);

        /* A is capped in round one (2 > 1.8); only then does B's share (1.1) pass its cap. */
        assert_int_equal(share_entitled(late, 3, 3, out), 0);
        assert_near(out[0], 1.8);
        assert_near(out[1], 0.6);
        assert_near(out[2], 0.6);
}

static void test_all_capped(void **state) {
        const struct share_input in[] = {{1024, 0.5}, {8, 0.5}};
        double out[2];

        /* Caps below the host: the rest stays idle, nobody exceeds a cap. */
        assert_int_equal(share_entitled(in, 2, 4, out), 0);
        assert_near(out[0], 0.5);
        assert_near(out[1], 0.5);
}

static void test_host_bound(void **state) {
        const struct share_input one[] = {{1024, 8}};
        const struct share_input lone[] = {{1024, 0}};
        const struct share_input idle[] = {{0, 0}, {1024, 0}};
        double out[2];

        assert_int_equal(share_entitled(one, 1, 2, out), 0);
        assert_near(out[0], 2);
        assert_int_equal(share_entitled(lone, 1, 2, out), 0);
        assert_near(out[0], 2);
        /* No weight, no share. */
        assert_int_equal(share_entitled(idle, 2, 2, out), 0);
        assert_near(out[0], 0);
        assert_near(out[1], 2);
        assert_int_equal(share_entitled(lone, 1, 0, out), 0);
        assert_near(out[0], 0);
}

static void test_invalid(void **state) {
        const struct share_input neg[] = {{1024, -1}};
        const struct share_input nan_cap[] = {{1024, NAN}};
        const struct share_input ok[] = {{1024, 0}};
        double out[1] = {42};

        assert_int_equal(share_entitled(neg, 1, 2, out), -EINVAL);
        assert_int_equal(share_entitled(nan_cap, 1, 2, out), -EINVAL);
        assert_int_equal(share_entitled(ok, 1, NAN, out), -EINVAL);
        assert_int_equal(share_entitled(ok, 1, -1, out), -EINVAL);
        assert_int_equal(share_entitled(ok, 1, INFINITY, out), -EINVAL);
        assert_near(out[0], 42);
}

/* On random inputs: nobody above its cap or the host, nothing handed out twice, nothing left
 * idle while an uncapped guest wants it, and uncapped guests in the ratio of their weights. */
static void test_properties(void **state) {
        struct share_input in[40];
        double out[40];

        srand(12345);
        for (int round = 0; round < 2000; round++) {
                size_t n = 1 + (size_t) (rand() % 40);
                double ncpus = 1 + rand() % 64, sum = 0;
                bool below_cap = false;
                int ref = -1;

                for (size_t i = 0; i < n; i++) {
                        in[i].units = 8 + (uint32_t) (rand() % 10000);
                        in[i].cap_cpus = rand() % 3 == 0 ? (rand() % 400 + 1) / 100.0 : 0;
                }
                assert_int_equal(share_entitled(in, n, ncpus, out), 0);

                for (size_t i = 0; i < n; i++) {
                        double cap = in[i].cap_cpus > 0 && in[i].cap_cpus < ncpus ? in[i].cap_cpus : ncpus;

                        assert_true(out[i] >= 0);
                        assert_true(out[i] <= cap + EPS);
                        if (out[i] < cap - EPS) {
                                below_cap = true;
                                if (ref < 0)
                                        ref = (int) i;
                                else
                                        assert_near(out[i] / in[i].units, out[ref] / in[ref].units);
                        }
                        sum += out[i];
                }
                assert_true(sum <= ncpus + 1e-6);
                if (below_cap)
                        assert_true(fabs(sum - ncpus) < 1e-6);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_empty),
                cmocka_unit_test(test_weights_only),
                cmocka_unit_test(test_cap_shared_again),
                cmocka_unit_test(test_cascade),
                cmocka_unit_test(test_all_capped),
                cmocka_unit_test(test_host_bound),
                cmocka_unit_test(test_invalid),
                cmocka_unit_test(test_properties),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
