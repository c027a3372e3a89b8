/* `ubcctl set --save` rewrites: keys replaced in place, comments kept, absent keys added. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "guest-file.h"

static char *rewrite(const char *old, const char *const *keys, const char *const *lines, size_t n) {
        char *out = NULL;

        assert_int_equal(guest_file_rewrite(old, strlen(old), keys, lines, n, &out), 0);
        return out;
}

static void test_replaces_in_place(void **state) {
        const char *keys[] = {"tasks"};
        const char *lines[] = {"tasks = 250"};
        char *out = rewrite("# web tier\n[guest]\nclass = gold\ntasks = 100\nname = web\n", keys, lines, 1);

        assert_string_equal(out, "# web tier\n[guest]\nclass = gold\ntasks = 250\nname = web\n");
        free(out);
}

static void test_adds_absent_key_to_guest_section(void **state) {
        const char *keys[] = {"cpu.units"};
        const char *lines[] = {"cpu.units = 4096"};
        char *out = rewrite("[guest]\nclass = gold\n\n[container]\ntemplate = debian\n", keys, lines, 1);

        assert_string_equal(out,
                            "[guest]\nclass = gold\n\ncpu.units = 4096\n[container]\ntemplate = debian\n");
        free(out);
}

static void test_leaves_other_sections(void **state) {
        const char *keys[] = {"memory"};
        const char *lines[] = {"memory = 1G:2G"};
        char *out = rewrite("[guest]\nmemory = 512M\n[vm]\nmemory = 1024\n", keys, lines, 1);

        assert_string_equal(out, "[guest]\nmemory = 1G:2G\n[vm]\nmemory = 1024\n");
        free(out);
}

static void test_repeated_key_collapses(void **state) {
        const char *keys[] = {"io.limit"};
        const char *lines[] = {"io.limit = vda rbps=1M\nio.limit = vdb wbps=2M"};
        char *out = rewrite("[guest]\nio.limit = vda rbps=5M\ntasks = 9\nio.limit = vdc riops=7\n", keys,
                            lines, 1);

        assert_string_equal(out, "[guest]\nio.limit = vda rbps=1M\nio.limit = vdb wbps=2M\ntasks = 9\n");
        free(out);
}

static void test_empty_file_gets_section(void **state) {
        const char *keys[] = {"tasks", "cpu.units"};
        const char *lines[] = {"tasks = 5", "cpu.units = 8"};
        char *out = rewrite("", keys, lines, 2);

        assert_string_equal(out, "[guest]\ntasks = 5\ncpu.units = 8\n");
        free(out);
}

static void test_no_final_newline(void **state) {
        const char *keys[] = {"tasks"};
        const char *lines[] = {"tasks = 1"};
        char *out = rewrite("[guest]\nname = x", keys, lines, 1);

        assert_string_equal(out, "[guest]\nname = x\ntasks = 1\n");
        free(out);
}

static void test_similar_key_names_untouched(void **state) {
        const char *keys[] = {"cpu.set"};
        const char *lines[] = {"cpu.set = 0"};
        char *out = rewrite("[guest]\ncpu.setting = 3\n  cpu.set=1-2\n", keys, lines, 1);

        assert_string_equal(out, "[guest]\ncpu.setting = 3\ncpu.set = 0\n");
        free(out);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_replaces_in_place),
                cmocka_unit_test(test_adds_absent_key_to_guest_section),
                cmocka_unit_test(test_leaves_other_sections),
                cmocka_unit_test(test_repeated_key_collapses),
                cmocka_unit_test(test_empty_file_gets_section),
                cmocka_unit_test(test_no_final_newline),
                cmocka_unit_test(test_similar_key_names_untouched),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
