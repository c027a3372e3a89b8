/* Unit tests for the beancounter rules (maxheld and failcnt never go backwards, across a
 * recreated cgroup and an ubcd restart), the persisted state file and the two outputs. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ubc/beancounter.h"

static void test_resource_names(void **state) {
        static const char *const want[_BC_MAX] = {"kmemsize",     "lockedpages", "privvmpages",
                                                  "shmpages",     "numproc",     "physpages",
                                                  "oomguarpages", "numfile",     "swappages"};

        for (int r = 0; r < _BC_MAX; r++) {
                assert_string_equal(bc_resource_name(r), want[r]);
                assert_int_equal(bc_resource_from_name(want[r]), r);
        }
        assert_null(bc_resource_name(_BC_MAX));
        assert_int_equal(bc_resource_from_name("dummy"), -ENOENT);
        assert_int_equal(bc_resource_from_name("Physpages"), -ENOENT);
        assert_int_equal(bc_resource_from_name("physpages "), -ENOENT);
        assert_int_equal(bc_resource_from_name(""), -ENOENT);
        assert_int_equal(bc_resource_from_name(NULL), -ENOENT);
}

static void test_state_init(void **state) {
        struct bc_state st, zero = {.id = 101};

        memset(&st, 0xff, sizeof(st));
        bc_state_init(&st, 101);
        assert_memory_equal(&st, &zero, sizeof(st));
}

/* A sample where no resource has a limit. */
static struct bc_sample sample_unlimited(void) {
        struct bc_sample s = {};

        for (int r = 0; r < _BC_MAX; r++)
                s.barrier[r] = s.limit[r] = BC_UNLIMITED;
        return s;
}

static void test_update_held_maxheld(void **state) {
        struct bc_sample s = sample_unlimited();
        struct bc_row rows[_BC_MAX];
        struct bc_state st;
        uint32_t failed = 77;

        bc_state_init(&st, 101);
        s.present = 1U << BC_PHYSPAGES | 1U << BC_NUMPROC;
        s.held[BC_PHYSPAGES] = 1000;
        s.held[BC_NUMPROC] = 12;
        s.held[BC_KMEMSIZE] = 555; /* not present: must not count */
        bc_update(&st, &s, rows, &failed);
        assert_int_equal(failed, 0);
        assert_int_equal(rows[BC_PHYSPAGES].held, 1000);
        assert_int_equal(rows[BC_PHYSPAGES].maxheld, 1000);
        assert_int_equal(rows[BC_NUMPROC].maxheld, 12);
        assert_int_equal(rows[BC_KMEMSIZE].held, 0);
        assert_int_equal(rows[BC_KMEMSIZE].maxheld, 0);
        assert_int_equal(rows[BC_PHYSPAGES].barrier, BC_UNLIMITED);
        assert_int_equal(rows[BC_PHYSPAGES].limit, BC_UNLIMITED);

        /* Use falls: maxheld stays. */
        s.held[BC_PHYSPAGES] = 400;
        bc_update(&st, &s, rows, &failed);
        assert_int_equal(rows[BC_PHYSPAGES].held, 400);
        assert_int_equal(rows[BC_PHYSPAGES].maxheld, 1000);

        /* The kernel saw a peak between sweeps. */
        s.peak_present = 1U << BC_PHYSPAGES;
        s.peak[BC_PHYSPAGES] = 4096;
        bc_update(&st, &s, rows, &failed);
        assert_int_equal(rows[BC_PHYSPAGES].maxheld, 4096);

        /* A recreated cgroup starts its peak again: ours does not fall with it. */
        s.peak[BC_PHYSPAGES] = 10;
        s.held[BC_PHYSPAGES] = 5;
        bc_update(&st, &s, rows, &failed);
        assert_int_equal(rows[BC_PHYSPAGES].held, 5);
        assert_int_equal(rows[BC_PHYSPAGES].maxheld, 4096);
        assert_int_equal(st.maxheld[BC_PHYSPAGES], 4096);

        /* The guest is gone this sweep: held is 0, maxheld is kept. */
        s.present = 0;
        s.peak_present = 0;
        bc_update(&st, &s, rows, NULL);
        assert_int_equal(rows[BC_PHYSPAGES].held, 0);
        assert_int_equal(rows[BC_PHYSPAGES].maxheld, 4096);
        assert_int_equal(rows[BC_NUMPROC].maxheld, 12);
}

static void test_update_limits(void **state) {
        struct bc_sample s = sample_unlimited();
        struct bc_row rows[_BC_MAX];
        struct bc_state st;

        bc_state_init(&st, 101);
        s.barrier[BC_PHYSPAGES] = 131072;
        s.limit[BC_PHYSPAGES] = 262144;
        s.limit[BC_NUMPROC] = 512;
        /* cgroup "max" read as UINT64_MAX still prints as OpenVZ's "no limit". */
        s.limit[BC_SWAPPAGES] = UINT64_MAX;
        bc_update(&st, &s, rows, NULL);
        assert_int_equal(rows[BC_PHYSPAGES].barrier, 131072);
        assert_int_equal(rows[BC_PHYSPAGES].limit, 262144);
        assert_int_equal(rows[BC_NUMPROC].barrier, BC_UNLIMITED);
        assert_int_equal(rows[BC_NUMPROC].limit, 512);
        assert_int_equal(rows[BC_SWAPPAGES].limit, BC_UNLIMITED);
}

static void test_update_failcnt_reset(void **state) {
        struct bc_sample s = sample_unlimited();
        struct bc_row rows[_BC_MAX];
        struct bc_state st;
        uint32_t failed;

        bc_state_init(&st, 101);
        s.events_present = 1U << BC_NUMPROC | 1U << BC_PHYSPAGES;
        s.events[BC_NUMPROC] = 3;
        bc_update(&st, &s, rows, &failed);
        assert_int_equal(rows[BC_NUMPROC].failcnt, 3);
        assert_int_equal(failed, 1U << BC_NUMPROC);

        /* No new failures: no bit. */
        bc_update(&st, &s, rows, &failed);
        assert_int_equal(rows[BC_NUMPROC].failcnt, 3);
        assert_int_equal(failed, 0);

        s.events[BC_NUMPROC] = 5;
        s.events[BC_PHYSPAGES] = 2;
        bc_update(&st, &s, rows, &failed);
        assert_int_equal(rows[BC_NUMPROC].failcnt, 5);
        assert_int_equal(rows[BC_PHYSPAGES].failcnt, 2);
        assert_int_equal(failed, 1U << BC_NUMPROC | 1U << BC_PHYSPAGES);

        /* The guest restarted in a new cgroup: its counter starts again at 1. */
        s.events[BC_NUMPROC] = 1;
        bc_update(&st, &s, rows, &failed);
        assert_int_equal(rows[BC_NUMPROC].failcnt, 6);
        assert_int_equal(failed, 1U << BC_NUMPROC);
        assert_int_equal(st.last_events[BC_NUMPROC], 1);

        /* ... and once more, to 0: nothing new, nothing lost. */
        s.events[BC_NUMPROC] = 0;
        bc_update(&st, &s, rows, &failed);
        assert_int_equal(rows[BC_NUMPROC].failcnt, 6);
        assert_int_equal(failed, 0);

        /* A sweep that could not read the counter changes nothing. */
        s.events_present = 0;
        s.events[BC_NUMPROC] = 1000;
        bc_update(&st, &s, rows, &failed);
        assert_int_equal(rows[BC_NUMPROC].failcnt, 6);
        assert_int_equal(st.last_events[BC_NUMPROC], 0);
        assert_int_equal(failed, 0);
}

static char *format_states(const struct bc_state *states, size_t n) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        assert_non_null(f);
        assert_int_equal(bc_state_format(f, states, n), 0);
        assert_int_equal(fclose(f), 0);
        return buf;
}

static void test_failcnt_across_restart(void **state) {
        struct bc_sample s = sample_unlimited();
        struct bc_state st, *loaded = NULL;
        struct bc_row rows[_BC_MAX];
        size_t n = 0;
        uint32_t failed;
        char *text;

        bc_state_init(&st, 101);
        s.present = 1U << BC_PHYSPAGES;
        s.held[BC_PHYSPAGES] = 2048;
        s.events_present = 1U << BC_PHYSPAGES;
        s.events[BC_PHYSPAGES] = 4;
        bc_update(&st, &s, rows, &failed);
        assert_int_equal(rows[BC_PHYSPAGES].failcnt, 4);

        /* ubcd stops and starts again; the guest and its counter are as they were. */
        text = format_states(&st, 1);
        assert_int_equal(bc_state_parse(text, &loaded, &n, NULL), 0);
        free(text);
        assert_int_equal(n, 1);
        assert_memory_equal(&loaded[0], &st, sizeof(st));

        s.held[BC_PHYSPAGES] = 100;
        bc_update(&loaded[0], &s, rows, &failed);
        /* The same kernel counter is not counted twice. */
        assert_int_equal(rows[BC_PHYSPAGES].failcnt, 4);
        assert_int_equal(rows[BC_PHYSPAGES].maxheld, 2048);
        assert_int_equal(failed, 0);

        /* Then the guest restarts too and fails twice in its new cgroup. */
        s.events[BC_PHYSPAGES] = 2;
        bc_update(&loaded[0], &s, rows, &failed);
        assert_int_equal(rows[BC_PHYSPAGES].failcnt, 6);
        assert_int_equal(failed, 1U << BC_PHYSPAGES);
        free(loaded);
}

static void test_state_format(void **state) {
        struct bc_state st[2];
        char *text;

        bc_state_init(&st[0], 202);
        bc_state_init(&st[1], 101);
        st[0].maxheld[BC_PHYSPAGES] = 65536;
        st[0].failcnt[BC_PHYSPAGES] = 7;
        st[0].last_events[BC_PHYSPAGES] = 3;
        st[0].failcnt_seen[BC_PHYSPAGES] = 5;
        st[1].maxheld[BC_SWAPPAGES] = UINT64_MAX;
        text = format_states(st, 2);
        assert_string_equal(text, "# ubc beancounters 1\n"
                                  "202 kmemsize 0 0 0 0\n"
                                  "202 lockedpages 0 0 0 0\n"
                                  "202 privvmpages 0 0 0 0\n"
                                  "202 shmpages 0 0 0 0\n"
                                  "202 numproc 0 0 0 0\n"
                                  "202 physpages 65536 7 3 5\n"
                                  "202 oomguarpages 0 0 0 0\n"
                                  "202 numfile 0 0 0 0\n"
                                  "202 swappages 0 0 0 0\n"
                                  "101 kmemsize 0 0 0 0\n"
                                  "101 lockedpages 0 0 0 0\n"
                                  "101 privvmpages 0 0 0 0\n"
                                  "101 shmpages 0 0 0 0\n"
                                  "101 numproc 0 0 0 0\n"
                                  "101 physpages 0 0 0 0\n"
                                  "101 oomguarpages 0 0 0 0\n"
                                  "101 numfile 0 0 0 0\n"
                                  "101 swappages 18446744073709551615 0 0 0\n");
        free(text);

        text = format_states(NULL, 0);
        assert_string_equal(text, "# ubc beancounters 1\n");
        free(text);
}

static void test_state_parse_merge(void **state) {
        struct bc_state *st = NULL;
        unsigned line = 0;
        size_t n = 0;

        /* Lines of one guest need not be together, rows may be missing, and a resource a later
         * version adds is skipped. The last line for a row wins. */
        assert_int_equal(bc_state_parse("# ubc beancounters 1\n"
                                        "300 physpages 10 1 1 0\n"
                                        "101 numproc 50 2 2 2\n"
                                        "\n"
                                        "# a comment\n"
                                        "300 numproc 7 0 0 0\n"
                                        "101 numtcpsock 1 1 1 1\n"
                                        "300 physpages 11 2 1 1\n"
                                        "4294967295 swappages 1 2 3 4",
                                        &st, &n, &line),
                         0);
        assert_int_equal(line, 0);
        assert_int_equal(n, 3);
        assert_int_equal(st[0].id, 101);
        assert_int_equal(st[0].maxheld[BC_NUMPROC], 50);
        assert_int_equal(st[0].failcnt_seen[BC_NUMPROC], 2);
        assert_int_equal(st[0].maxheld[BC_PHYSPAGES], 0);
        assert_int_equal(st[1].id, 300);
        assert_int_equal(st[1].maxheld[BC_PHYSPAGES], 11);
        assert_int_equal(st[1].failcnt[BC_PHYSPAGES], 2);
        assert_int_equal(st[1].failcnt_seen[BC_PHYSPAGES], 1);
        assert_int_equal(st[1].maxheld[BC_NUMPROC], 7);
        assert_int_equal(st[2].id, UINT32_MAX);
        assert_int_equal(st[2].failcnt_seen[BC_SWAPPAGES], 4);
        free(st);

        /* Only the version line: no guests yet. */
        st = (struct bc_state *) 1;
        assert_int_equal(bc_state_parse("# ubc beancounters 1\n", &st, &n, &line), 0);
        assert_int_equal(n, 0);
        assert_null(st);
}

static void assert_parse_error(const char *buf, int want_r, unsigned want_line) {
        struct bc_state *st = (struct bc_state *) 1;
        unsigned line = 0;
        size_t n = 99;
        int r = bc_state_parse(buf, &st, &n, &line);

        if (r != want_r || line != want_line)
                fail_msg("bc_state_parse(\"%s\") = %d at line %u, want %d at line %u", buf, r, line, want_r,
                         want_line);
        assert_true(st == (struct bc_state *) 1);
        assert_int_equal(n, 99);
}

static void test_state_parse_errors(void **state) {
        assert_parse_error("", -EINVAL, 1);
        assert_parse_error("101 physpages 1 2 3 4\n", -EINVAL, 1);
        assert_parse_error("# ubc beancounters 2\n101 physpages 1 2 3 4\n", -EINVAL, 1);
        assert_parse_error("# ubc beancounters 1 \n", -EINVAL, 1);
        assert_parse_error("# ubc beancounters 1\n101 physpages 1 2 3\n", -EINVAL, 2);
        assert_parse_error("# ubc beancounters 1\n101 physpages 1 2 3 4\n101 physpages 1 2 3 4 5\n", -EINVAL,
                           3);
        assert_parse_error("# ubc beancounters 1\n\n101 physpages 1 2 3 4 \n", -EINVAL, 3);
        assert_parse_error("# ubc beancounters 1\n101  physpages 1 2 3 4\n", -EINVAL, 2);
        assert_parse_error("# ubc beancounters 1\n101 physpages 1 2 x 4\n", -EINVAL, 2);
        assert_parse_error("# ubc beancounters 1\n101 physpages 1 -2 3 4\n", -EINVAL, 2);
        assert_parse_error("# ubc beancounters 1\n-1 physpages 1 2 3 4\n", -EINVAL, 2);
        assert_parse_error("# ubc beancounters 1\n101\n", -EINVAL, 2);
        assert_parse_error("# ubc beancounters 1\n101 physpages\n", -EINVAL, 2);
        assert_parse_error("# ubc beancounters 1\n 101 physpages 1 2 3 4\n", -EINVAL, 2);
        assert_parse_error("# ubc beancounters 1\n4294967296 physpages 1 2 3 4\n", -ERANGE, 2);
        assert_parse_error("# ubc beancounters 1\n101 physpages 18446744073709551616 2 3 4\n", -ERANGE, 2);
        /* An unknown resource is skipped, but its line must still be well formed. */
        assert_parse_error("# ubc beancounters 1\n101 numtcpsock 1 2\n", -EINVAL, 2);
}

static void test_state_parse_bounds(void **state) {
        const size_t guests = 100000;
        size_t size = 32 + (guests + 1) * 40, used = 0, n = 0;
        struct bc_state *st = NULL;
        unsigned line = 0;
        char *buf = malloc(size);

        assert_non_null(buf);
        used += (size_t) snprintf(buf + used, size - used, "# ubc beancounters 1\n");
        /* In descending order, to make the parser sort. */
        for (size_t i = 0; i < guests; i++)
                used += (size_t) snprintf(buf + used, size - used, "%zu numproc 1 2 3 4\n", guests - i);
        /* A guest already seen, after the limit is reached, still merges. */
        used += (size_t) snprintf(buf + used, size - used, "5 physpages 9 9 9 9\n");
        assert_int_equal(bc_state_parse(buf, &st, &n, &line), 0);
        assert_int_equal(n, guests);
        assert_int_equal(st[0].id, 1);
        assert_int_equal(st[guests - 1].id, guests);
        assert_int_equal(st[4].maxheld[BC_PHYSPAGES], 9);
        assert_int_equal(st[4].maxheld[BC_NUMPROC], 1);
        free(st);

        /* One guest more is refused, at its line. */
        snprintf(buf + used, size - used, "100001 numproc 1 2 3 4\n");
        assert_int_equal(bc_state_parse(buf, &st, &n, &line), -E2BIG);
        assert_int_equal(line, guests + 3);
        free(buf);
}

static struct bc_table_entry table_entry(uint32_t id, uint64_t base) {
        struct bc_table_entry e = {.id = id};

        for (int r = 0; r < _BC_MAX; r++)
                e.rows[r] = (struct bc_row){
                        .held = base + (uint64_t) r,
                        .maxheld = base * 2 + (uint64_t) r,
                        .barrier = r % 2 ? BC_UNLIMITED : 1000 + (uint64_t) r,
                        .limit = r % 2 ? BC_UNLIMITED : 2000 + (uint64_t) r,
                        .failcnt = (uint64_t) r,
                };
        return e;
}

static char *format_table(int (*fmt)(FILE *, const struct bc_table_entry *, size_t),
                          const struct bc_table_entry *e, size_t n) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        assert_non_null(f);
        assert_int_equal(fmt(f, e, n), 0);
        assert_int_equal(fclose(f), 0);
        return buf;
}

static void test_format_openvz(void **state) {
        /* The layout of OpenVZ's kernel/bc/proc.c on 64 bits, which vzctl and scripts read; one
         * literal line per output line, so a column out of place shows. */
        // clang-format off
        static const char want[] =
                "Version: 2.5\n"
                "       uid  resource                     held              maxheld              barrier                limit              failcnt\n"
                "      101:  kmemsize                       10                   20                 1000                 2000                    0\n"
                "            lockedpages                    11                   21  9223372036854775807  9223372036854775807                    1\n"
                "            privvmpages                    12                   22                 1002                 2002                    2\n"
                "            shmpages                       13                   23  9223372036854775807  9223372036854775807                    3\n"
                "            numproc                        14                   24                 1004                 2004                    4\n"
                "            physpages                      15                   25  9223372036854775807  9223372036854775807                    5\n"
                "            oomguarpages                   16                   26                 1006                 2006                    6\n"
                "            numfile                        17                   27  9223372036854775807  9223372036854775807                    7\n"
                "            swappages                      18                   28                 1008                 2008                    8\n"
                "999999999:  kmemsize                   123456               246912                 1000                 2000                    0\n"
                "            lockedpages                123457               246913  9223372036854775807  9223372036854775807                    1\n"
                "            privvmpages                123458               246914                 1002                 2002                    2\n"
                "            shmpages                   123459               246915  9223372036854775807  9223372036854775807                    3\n"
                "            numproc                    123460               246916                 1004                 2004                    4\n"
                "            physpages                  123461               246917  9223372036854775807  9223372036854775807                    5\n"
                "            oomguarpages               123462               246918                 1006                 2006                    6\n"
                "            numfile                    123463               246919  9223372036854775807  9223372036854775807                    7\n"
                "            swappages                  123464               246920                 1008                 2008                    8\n";
        // clang-format on
        struct bc_table_entry e[2] = {table_entry(101, 10), table_entry(999999999, 123456)};
        char *text;

        text = format_table(bc_format_openvz, e, 2);
        assert_string_equal(text, want);
        free(text);

        /* No guests: the two header lines only. */
        text = format_table(bc_format_openvz, NULL, 0);
        assert_int_equal(strlen(text), (size_t) (strchr(strchr(want, '\n') + 1, '\n') + 1 - want));
        assert_memory_equal(text, want, strlen(text));
        free(text);
}

static void test_format_openmetrics(void **state) {
        // clang-format off
        static const char want[] =
                "# TYPE ubc_beancounter_held gauge\n"
                "# HELP ubc_beancounter_held Resource in use now (bytes, pages or count, as in OpenVZ).\n"
                "ubc_beancounter_held{guest=\"101\",resource=\"kmemsize\"} 10\n"
                "ubc_beancounter_held{guest=\"101\",resource=\"lockedpages\"} 11\n"
                "ubc_beancounter_held{guest=\"101\",resource=\"privvmpages\"} 12\n"
                "ubc_beancounter_held{guest=\"101\",resource=\"shmpages\"} 13\n"
                "ubc_beancounter_held{guest=\"101\",resource=\"numproc\"} 14\n"
                "ubc_beancounter_held{guest=\"101\",resource=\"physpages\"} 15\n"
                "ubc_beancounter_held{guest=\"101\",resource=\"oomguarpages\"} 16\n"
                "ubc_beancounter_held{guest=\"101\",resource=\"numfile\"} 17\n"
                "ubc_beancounter_held{guest=\"101\",resource=\"swappages\"} 18\n"
                "# TYPE ubc_beancounter_maxheld gauge\n"
                "# HELP ubc_beancounter_maxheld Highest use over the guest's life.\n"
                "ubc_beancounter_maxheld{guest=\"101\",resource=\"kmemsize\"} 20\n"
                "ubc_beancounter_maxheld{guest=\"101\",resource=\"lockedpages\"} 21\n"
                "ubc_beancounter_maxheld{guest=\"101\",resource=\"privvmpages\"} 22\n"
                "ubc_beancounter_maxheld{guest=\"101\",resource=\"shmpages\"} 23\n"
                "ubc_beancounter_maxheld{guest=\"101\",resource=\"numproc\"} 24\n"
                "ubc_beancounter_maxheld{guest=\"101\",resource=\"physpages\"} 25\n"
                "ubc_beancounter_maxheld{guest=\"101\",resource=\"oomguarpages\"} 26\n"
                "ubc_beancounter_maxheld{guest=\"101\",resource=\"numfile\"} 27\n"
                "ubc_beancounter_maxheld{guest=\"101\",resource=\"swappages\"} 28\n"
                "# TYPE ubc_beancounter_barrier gauge\n"
                "# HELP ubc_beancounter_barrier Soft limit; 9223372036854775807 means none.\n"
                "ubc_beancounter_barrier{guest=\"101\",resource=\"kmemsize\"} 1000\n"
                "ubc_beancounter_barrier{guest=\"101\",resource=\"lockedpages\"} 9223372036854775807\n"
                "ubc_beancounter_barrier{guest=\"101\",resource=\"privvmpages\"} 1002\n"
                "ubc_beancounter_barrier{guest=\"101\",resource=\"shmpages\"} 9223372036854775807\n"
                "ubc_beancounter_barrier{guest=\"101\",resource=\"numproc\"} 1004\n"
                "ubc_beancounter_barrier{guest=\"101\",resource=\"physpages\"} 9223372036854775807\n"
                "ubc_beancounter_barrier{guest=\"101\",resource=\"oomguarpages\"} 1006\n"
                "ubc_beancounter_barrier{guest=\"101\",resource=\"numfile\"} 9223372036854775807\n"
                "ubc_beancounter_barrier{guest=\"101\",resource=\"swappages\"} 1008\n"
                "# TYPE ubc_beancounter_limit gauge\n"
                "# HELP ubc_beancounter_limit Hard limit; 9223372036854775807 means none.\n"
                "ubc_beancounter_limit{guest=\"101\",resource=\"kmemsize\"} 2000\n"
                "ubc_beancounter_limit{guest=\"101\",resource=\"lockedpages\"} 9223372036854775807\n"
                "ubc_beancounter_limit{guest=\"101\",resource=\"privvmpages\"} 2002\n"
                "ubc_beancounter_limit{guest=\"101\",resource=\"shmpages\"} 9223372036854775807\n"
                "ubc_beancounter_limit{guest=\"101\",resource=\"numproc\"} 2004\n"
                "ubc_beancounter_limit{guest=\"101\",resource=\"physpages\"} 9223372036854775807\n"
                "ubc_beancounter_limit{guest=\"101\",resource=\"oomguarpages\"} 2006\n"
                "ubc_beancounter_limit{guest=\"101\",resource=\"numfile\"} 9223372036854775807\n"
                "ubc_beancounter_limit{guest=\"101\",resource=\"swappages\"} 2008\n"
                "# TYPE ubc_beancounter_failcnt counter\n"
                "# HELP ubc_beancounter_failcnt Times the limit was hit over the guest's life.\n"
                "ubc_beancounter_failcnt_total{guest=\"101\",resource=\"kmemsize\"} 0\n"
                "ubc_beancounter_failcnt_total{guest=\"101\",resource=\"lockedpages\"} 1\n"
                "ubc_beancounter_failcnt_total{guest=\"101\",resource=\"privvmpages\"} 2\n"
                "ubc_beancounter_failcnt_total{guest=\"101\",resource=\"shmpages\"} 3\n"
                "ubc_beancounter_failcnt_total{guest=\"101\",resource=\"numproc\"} 4\n"
                "ubc_beancounter_failcnt_total{guest=\"101\",resource=\"physpages\"} 5\n"
                "ubc_beancounter_failcnt_total{guest=\"101\",resource=\"oomguarpages\"} 6\n"
                "ubc_beancounter_failcnt_total{guest=\"101\",resource=\"numfile\"} 7\n"
                "ubc_beancounter_failcnt_total{guest=\"101\",resource=\"swappages\"} 8\n"
                "# EOF\n";
        // clang-format on
        struct bc_table_entry e = table_entry(101, 10);
        char *text;

        text = format_table(bc_format_openmetrics, &e, 1);
        assert_string_equal(text, want);
        free(text);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_resource_names),       cmocka_unit_test(test_state_init),
                cmocka_unit_test(test_update_held_maxheld),  cmocka_unit_test(test_update_limits),
                cmocka_unit_test(test_update_failcnt_reset), cmocka_unit_test(test_failcnt_across_restart),
                cmocka_unit_test(test_state_format),         cmocka_unit_test(test_state_parse_merge),
                cmocka_unit_test(test_state_parse_errors),   cmocka_unit_test(test_state_parse_bounds),
                cmocka_unit_test(test_format_openvz),        cmocka_unit_test(test_format_openmetrics),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
