/* The --json writer: exact documents for nesting, commas, escaping and numbers, since scripts
 * parse what ubcctl prints. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ubc/json.h"

struct buf {
        char *data;
        size_t size;
        FILE *f;
        struct json j;
};

static void buf_open(struct buf *b) {
        b->data = NULL;
        b->size = 0;
        b->f = open_memstream(&b->data, &b->size);
        assert_non_null(b->f);
        json_begin(&b->j, b->f);
}

/* Ends the document and checks it byte for byte. */
static void buf_expect(struct buf *b, const char *expected) {
        json_end(&b->j);
        assert_int_equal(fclose(b->f), 0);
        assert_string_equal(b->data, expected);
        free(b->data);
}

static void test_empty_containers(void **state) {
        struct buf b;

        buf_open(&b);
        json_object_open(&b.j, NULL);
        json_object_close(&b.j);
        buf_expect(&b, "{}\n");

        buf_open(&b);
        json_array_open(&b.j, NULL);
        json_array_close(&b.j);
        buf_expect(&b, "[]\n");
}

static void test_commas_and_nesting(void **state) {
        struct buf b;

        buf_open(&b);
        json_object_open(&b.j, NULL);
        json_bool(&b.j, "ok", false);
        json_array_open(&b.j, "errors");
        json_object_open(&b.j, NULL);
        json_string(&b.j, "file", "/etc/ubc/guests.d/101.conf");
        json_uint(&b.j, "line", 3);
        json_string(&b.j, "key", NULL);
        json_object_close(&b.j);
        json_object_open(&b.j, NULL);
        json_object_close(&b.j);
        json_array_close(&b.j);
        json_array_open(&b.j, "empty");
        json_array_close(&b.j);
        json_uint(&b.j, "guests", 2);
        json_object_close(&b.j);
        buf_expect(&b, "{\"ok\":false,\"errors\":[{\"file\":\"/etc/ubc/guests.d/101.conf\",\"line\":3,"
                       "\"key\":null},{}],\"empty\":[],\"guests\":2}\n");
}

static void test_array_of_scalars(void **state) {
        struct buf b;

        buf_open(&b);
        json_array_open(&b.j, NULL);
        json_int(&b.j, NULL, -5);
        json_uint(&b.j, NULL, UINT64_MAX);
        json_int(&b.j, NULL, INT64_MIN);
        json_bool(&b.j, NULL, true);
        json_string(&b.j, NULL, "");
        json_array_open(&b.j, NULL);
        json_array_open(&b.j, NULL);
        json_array_close(&b.j);
        json_array_close(&b.j);
        json_array_close(&b.j);
        buf_expect(&b, "[-5,18446744073709551615,-9223372036854775808,true,\"\",[[]]]\n");
}

static void test_escaping(void **state) {
        struct buf b;

        buf_open(&b);
        json_object_open(&b.j, NULL);
        json_string(&b.j, "q\"k", "a\"b\\c/d");
        json_string(&b.j, "ctl", "\b\f\n\r\t\x01\x1f\x7f");
        json_object_close(&b.j);
        buf_expect(&b, "{\"q\\\"k\":\"a\\\"b\\\\c/d\",\"ctl\":\"\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\"}\n");
}

static void test_utf8(void **state) {
        struct buf b;

        /* Valid sequences of every length pass through unchanged. */
        buf_open(&b);
        json_string(&b.j, NULL, "h\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
        buf_expect(&b, "\"h\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"\n");

        /* Stray, truncated, overlong and surrogate bytes become \u00XX, one per byte. */
        buf_open(&b);
        json_string(&b.j, NULL, "a\xe9z");
        buf_expect(&b, "\"a\\u00e9z\"\n");

        buf_open(&b);
        json_string(&b.j, NULL, "\xe2\x82");
        buf_expect(&b, "\"\\u00e2\\u0082\"\n");

        buf_open(&b);
        json_string(&b.j, NULL, "\xc0\xaf");
        buf_expect(&b, "\"\\u00c0\\u00af\"\n");

        buf_open(&b);
        json_string(&b.j, NULL, "\xed\xa0\x80");
        buf_expect(&b, "\"\\u00ed\\u00a0\\u0080\"\n");

        buf_open(&b);
        json_string(&b.j, NULL, "\xf4\x90\x80\x80");
        buf_expect(&b, "\"\\u00f4\\u0090\\u0080\\u0080\"\n");

        buf_open(&b);
        json_string(&b.j, NULL, "\xff");
        buf_expect(&b, "\"\\u00ff\"\n");
}

static void test_doubles(void **state) {
        struct buf b;

        buf_open(&b);
        json_array_open(&b.j, NULL);
        json_double(&b.j, NULL, 1.5);
        json_double(&b.j, NULL, 0.0);
        json_double(&b.j, NULL, 2.0 / 3.0);
        json_double(&b.j, NULL, 1e20);
        json_double(&b.j, NULL, -0.25);
        json_double(&b.j, NULL, NAN);
        json_double(&b.j, NULL, INFINITY);
        json_double(&b.j, NULL, -INFINITY);
        json_array_close(&b.j);
        buf_expect(&b, "[1.5,0,0.666667,1e+20,-0.25,null,null,null]\n");
}

static void test_too_deep(void **state) {
        struct buf b;
        unsigned deep = 40;

        /* Containers beyond the limit are left out whole; the document stays valid. */
        buf_open(&b);
        json_object_open(&b.j, NULL);
        for (unsigned i = 0; i < deep; i++)
                json_array_open(&b.j, i == 0 ? "a" : NULL);
        json_uint(&b.j, NULL, 1);
        for (unsigned i = 0; i < deep; i++)
                json_array_close(&b.j);
        json_uint(&b.j, "after", 2);
        json_object_close(&b.j);

        char expected[256] = "{\"a\":";
        for (unsigned i = 0; i < 31; i++)
                strcat(expected, "[");
        for (unsigned i = 0; i < 31; i++)
                strcat(expected, "]");
        strcat(expected, ",\"after\":2}\n");
        buf_expect(&b, expected);
}

static void test_unbalanced_close(void **state) {
        struct buf b;

        /* A stray close at the top level writes nothing rather than a lone bracket. */
        buf_open(&b);
        json_array_close(&b.j);
        json_object_open(&b.j, NULL);
        json_object_close(&b.j);
        buf_expect(&b, "{}\n");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_empty_containers),
                cmocka_unit_test(test_commas_and_nesting),
                cmocka_unit_test(test_array_of_scalars),
                cmocka_unit_test(test_escaping),
                cmocka_unit_test(test_utf8),
                cmocka_unit_test(test_doubles),
                cmocka_unit_test(test_too_deep),
                cmocka_unit_test(test_unbalanced_close),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
