/* Unit tests for the policy parser: class and guest files, every key's good and bad values
 * with the exact file:line and message, comments, long and cut-off lines, live settings. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ubc/policy.h"
#include "ubc/units.h"

/* Every diagnostic as "file:line: key: message", one per line. */
struct diags {
        unsigned n;
        char text[16384];
};

static void collect(void *userdata, const struct ubc_diag *d) {
        struct diags *c = userdata;
        size_t used = strlen(c->text);

        c->n++;
        snprintf(c->text + used, sizeof(c->text) - used, "%s%s:%u: %s: %s", used ? "\n" : "",
                 d->file ? d->file : "-", d->line, d->key ? d->key : "-", d->message);
}

static int parse_classes(const char *text, struct policy_file *f, struct diags *d) {
        struct ubc_diag_sink sink = {.report = collect, .userdata = d};
        int r;

        memset(d, 0, sizeof(*d));
        r = policy_parse_classes("p.policy", text, strlen(text), f, &sink);
        assert_int_equal(sink.n_errors, d->n);
        return r;
}

static int parse_guest(const char *text, struct policy_file *f, struct diags *d) {
        struct ubc_diag_sink sink = {.report = collect, .userdata = d};
        int r;

        memset(d, 0, sizeof(*d));
        r = policy_parse_guest("101.conf", 101, text, strlen(text), f, &sink);
        assert_int_equal(sink.n_errors, d->n);
        return r;
}

/* The file must fail with exactly these diagnostics, and leave *ret alone. */
static void expect_errors(bool guest, const char *text, const char *want) {
        struct policy_file f, untouched;
        struct diags d;
        int r;

        memset(&f, 0x5a, sizeof(f));
        memcpy(&untouched, &f, sizeof(f));
        r = guest ? parse_guest(text, &f, &d) : parse_classes(text, &f, &d);
        if (r != -EINVAL)
                fail_msg("parse returned %d for:\n%s", r, text);
        if (strcmp(d.text, want) != 0)
                fail_msg("for:\n%s\ngot:\n%s\nwant:\n%s", text, d.text, want);
        assert_memory_equal(&f, &untouched, sizeof(f));
}

static void expect_class_error(const char *text, const char *want) {
        expect_errors(false, text, want);
}

static void expect_guest_error(const char *text, const char *want) {
        expect_errors(true, text, want);
}

static void parse_classes_ok(const char *text, struct policy_file *f) {
        struct diags d;

        if (parse_classes(text, f, &d) != 0)
                fail_msg("parse failed for:\n%s\n%s", text, d.text);
        assert_int_equal(d.n, 0);
}

static void parse_guest_ok(const char *text, struct policy_file *f) {
        struct diags d;

        if (parse_guest(text, f, &d) != 0)
                fail_msg("parse failed for:\n%s\n%s", text, d.text);
        assert_int_equal(d.n, 0);
}

/* One class "c" with one key line, on line 2. */
static void class_value(const char *key, const char *value, struct policy_file *f) {
        char text[512];

        snprintf(text, sizeof(text), "[class c]\n%s = %s\n", key, value);
        parse_classes_ok(text, f);
        assert_int_equal(f->n_classes, 1);
        assert_int_equal(f->classes[0].limits.line[ubc_key_from_name(key)], 2);
}

static void class_value_error(const char *key, const char *value, const char *message) {
        char text[512], want[1024];

        snprintf(text, sizeof(text), "[class c]\n%s = %s\n", key, value);
        snprintf(want, sizeof(want), "p.policy:2: %s: %s", key, message);
        expect_class_error(text, want);
}

static void test_classes_basic(void **state) {
        struct policy_file f;
        const struct ubc_limits *l;

        parse_classes_ok("# tiers\n"
                         "[class gold]\n"
                         "cpu.units = 2048\n"
                         "cpu.limit = 1.5\n"
                         "memory = 1G:2G\n"
                         "tasks = 512\n"
                         "\n"
                         "[class bronze]\n"
                         "cpu.units = 256\n",
                         &f);
        assert_int_equal(f.kind, POLICY_FILE_CLASSES);
        assert_string_equal(f.path, "p.policy");
        assert_int_equal(f.n_classes, 2);

        assert_string_equal(f.classes[0].name, "gold");
        assert_int_equal(f.classes[0].line, 2);
        l = &f.classes[0].limits;
        assert_int_equal(l->set, 1u << UBC_KEY_CPU_UNITS | 1u << UBC_KEY_CPU_LIMIT | 1u << UBC_KEY_MEMORY |
                                         1u << UBC_KEY_TASKS);
        assert_int_equal(l->cpu_units, 2048);
        assert_int_equal(l->cpu_quota_us, 150000);
        assert_int_equal(l->mem_barrier, 1ULL << 30);
        assert_int_equal(l->mem_limit, 2ULL << 30);
        assert_int_equal(l->tasks, 512);
        assert_int_equal(l->line[UBC_KEY_CPU_UNITS], 3);
        assert_int_equal(l->line[UBC_KEY_TASKS], 6);
        assert_int_equal(l->source[UBC_KEY_CPU_UNITS], UBC_SOURCE_CLASS);
        /* Keys the class does not set keep their defaults and source. */
        assert_int_equal(l->io_weight, 500);
        assert_int_equal(l->source[UBC_KEY_IO_WEIGHT], UBC_SOURCE_DEFAULT);

        assert_string_equal(f.classes[1].name, "bronze");
        assert_int_equal(f.classes[1].line, 8);
        assert_int_equal(f.classes[1].limits.cpu_units, 256);
        assert_int_equal(f.classes[1].limits.set, 1u << UBC_KEY_CPU_UNITS);
        policy_file_done(&f);
        assert_null(f.path);
}

static void test_good_values(void **state) {
        struct policy_file f;
        const struct ubc_limits *l;

        class_value("cpu.units", "8", &f);
        assert_int_equal(f.classes[0].limits.cpu_units, 8);
        policy_file_done(&f);
        class_value("cpu.units", "500000", &f);
        assert_int_equal(f.classes[0].limits.cpu_units, 500000);
        policy_file_done(&f);

        class_value("cpu.limit", "0", &f);
        assert_int_equal(f.classes[0].limits.cpu_quota_us, 0);
        assert_true(f.classes[0].limits.set & (1u << UBC_KEY_CPU_LIMIT));
        policy_file_done(&f);
        class_value("cpu.limit", "0.01", &f);
        assert_int_equal(f.classes[0].limits.cpu_quota_us, 1000);
        policy_file_done(&f);
        class_value("cpu.limit", "1024", &f);
        assert_int_equal(f.classes[0].limits.cpu_quota_us, 102400000);
        policy_file_done(&f);

        class_value("cpu.set", "0-3,6", &f);
        assert_int_equal(cpuset_count(&f.classes[0].limits.cpu_set), 5);
        policy_file_done(&f);
        /* Empty: explicitly all of the parent's CPUs, so a guest can undo its class's set. */
        class_value("cpu.set", "", &f);
        assert_true(cpuset_is_empty(&f.classes[0].limits.cpu_set));
        assert_true(f.classes[0].limits.set & (1u << UBC_KEY_CPU_SET));
        policy_file_done(&f);

        class_value("memory", "512M", &f);
        l = &f.classes[0].limits;
        assert_int_equal(l->mem_barrier, 512ULL << 20);
        assert_int_equal(l->mem_limit, 512ULL << 20);
        policy_file_done(&f);
        class_value("memory", "1M", &f);
        assert_int_equal(f.classes[0].limits.mem_limit, 1ULL << 20);
        policy_file_done(&f);
        class_value("memory", "unlimited", &f);
        assert_true(f.classes[0].limits.mem_barrier == UBC_UNLIMITED);
        assert_true(f.classes[0].limits.mem_limit == UBC_UNLIMITED);
        policy_file_done(&f);
        class_value("memory", "1G:unlimited", &f);
        assert_int_equal(f.classes[0].limits.mem_barrier, 1ULL << 30);
        assert_true(f.classes[0].limits.mem_limit == UBC_UNLIMITED);
        policy_file_done(&f);
        class_value("memory", "1G:1G", &f);
        assert_int_equal(f.classes[0].limits.mem_barrier, 1ULL << 30);
        policy_file_done(&f);

        class_value("swap", "0", &f);
        assert_int_equal(f.classes[0].limits.swap, 0);
        policy_file_done(&f);
        class_value("swap", "2G", &f);
        assert_int_equal(f.classes[0].limits.swap, 2ULL << 30);
        policy_file_done(&f);
        class_value("swap", "unlimited", &f);
        assert_true(f.classes[0].limits.swap == UBC_UNLIMITED);
        policy_file_done(&f);

        class_value("io.weight", "10", &f);
        assert_int_equal(f.classes[0].limits.io_weight, 10);
        policy_file_done(&f);
        class_value("io.weight", "1000", &f);
        assert_int_equal(f.classes[0].limits.io_weight, 1000);
        policy_file_done(&f);

        class_value("io.limit", "/dev/vda rbps=50M wbps=20M riops=1000 wiops=500", &f);
        l = &f.classes[0].limits;
        assert_int_equal(l->n_io_limits, 1);
        assert_string_equal(l->io_limits[0].dev, "/dev/vda");
        assert_int_equal(l->io_limits[0].rbps, 50ULL << 20);
        assert_int_equal(l->io_limits[0].wbps, 20ULL << 20);
        assert_int_equal(l->io_limits[0].riops, 1000);
        assert_int_equal(l->io_limits[0].wiops, 500);
        policy_file_done(&f);
        class_value("io.limit", "254:0   wiops=4294967294  rbps=max", &f);
        l = &f.classes[0].limits;
        assert_string_equal(l->io_limits[0].dev, "254:0");
        assert_true(l->io_limits[0].rbps == UBC_UNLIMITED);
        assert_true(l->io_limits[0].wbps == UBC_UNLIMITED);
        assert_true(l->io_limits[0].riops == UBC_UNLIMITED);
        assert_int_equal(l->io_limits[0].wiops, 4294967294ULL);
        policy_file_done(&f);

        class_value("tasks", "1", &f);
        assert_int_equal(f.classes[0].limits.tasks, 1);
        policy_file_done(&f);
        class_value("tasks", "4194304", &f);
        assert_int_equal(f.classes[0].limits.tasks, 4194304);
        policy_file_done(&f);
        class_value("tasks", "unlimited", &f);
        assert_true(f.classes[0].limits.tasks == UBC_UNLIMITED);
        policy_file_done(&f);
}

static void test_bad_values(void **state) {
        class_value_error("cpu.units", "7", "out of range, must be 8..500000");
        class_value_error("cpu.units", "500001", "out of range, must be 8..500000");
        class_value_error("cpu.units", "1k", "not a whole number, must be 8..500000");
        class_value_error("cpu.units", "", "missing value, must be 8..500000");
        class_value_error("cpu.units", "-5", "not a whole number, must be 8..500000");

        class_value_error("cpu.limit", "1024.5", "out of range, must be 0.01..1024 CPUs, or 0 for no limit");
        class_value_error("cpu.limit", "2000", "out of range, must be 0.01..1024 CPUs, or 0 for no limit");
        class_value_error(
                "cpu.limit", "0.005",
                "not a CPU count, must be CPUs with at most 2 decimals (e.g. 1.5), or 0 for no limit");
        class_value_error(
                "cpu.limit", "50%",
                "not a CPU count, must be CPUs with at most 2 decimals (e.g. 1.5), or 0 for no limit");

        class_value_error("cpu.set", "3-1", "not a CPU list, must be like '0-3,6' with ascending ranges");
        class_value_error("cpu.set", "0-2048", "CPU numbers must be below 1024");

        class_value_error("memory", "2G:1G", "barrier 2G is above limit 1G");
        class_value_error("memory", "unlimited:1G", "barrier unlimited is above limit 1G");
        class_value_error("memory", "512K", "memory '512K' is below the minimum of 1M");
        class_value_error("memory", "1048575", "memory '1048575' is below the minimum of 1M");
        class_value_error("memory", "2M:512K", "limit '512K' is below the minimum of 1M");
        class_value_error("memory", "0:1G", "barrier '0' is below the minimum of 1M");
        class_value_error("memory", "1G:2G:3G",
                          "must be BARRIER[:LIMIT], each a number with K, M, G or T, or unlimited");
        class_value_error("memory", "lots",
                          "memory 'lots' is not a size, must be a number with K, M, G or T, or unlimited");
        class_value_error("memory",
                          "1G:", "missing limit, must be a number with K, M, G or T, or unlimited");
        class_value_error("memory", "", "missing memory, must be a number with K, M, G or T, or unlimited");
        class_value_error("memory", "99999999999T", "memory '99999999999T' is too large");

        class_value_error("swap", "1.5G",
                          "swap '1.5G' is not a size, must be a number with K, M, G or T, or unlimited");
        class_value_error("swap", "-1",
                          "swap '-1' is not a size, must be a number with K, M, G or T, or unlimited");

        class_value_error("io.weight", "9", "out of range, must be 10..1000");
        class_value_error("io.weight", "1001", "out of range, must be 10..1000");

        class_value_error("io.limit", "",
                          "missing value, must be 'DEV rbps=SIZE wbps=SIZE riops=N wiops=N'");
        class_value_error("io.limit", "vda",
                          "no limit for device 'vda', must be 'DEV rbps=SIZE wbps=SIZE riops=N wiops=N'");
        class_value_error("io.limit", "rbps=1M",
                          "missing device, must be 'DEV rbps=SIZE wbps=SIZE riops=N wiops=N'");
        class_value_error("io.limit", "vda rbps=1M rbps=2M", "'rbps' given twice for device 'vda'");
        class_value_error("io.limit", "vda rps=1M",
                          "unknown field 'rps', must be rbps, wbps, riops or wiops");
        class_value_error("io.limit", "vda rbps",
                          "'rbps' is not NAME=VALUE, must be 'DEV rbps=SIZE wbps=SIZE riops=N wiops=N'");
        class_value_error("io.limit", "vda rbps=fast",
                          "rbps=fast: not a size, must be at least 1 byte with K, M, G or T, or max");
        class_value_error("io.limit", "vda wbps=0",
                          "wbps=0: out of range, must be at least 1 byte with K, M, G or T, or max");
        class_value_error("io.limit", "vda riops=0", "riops=0: out of range, must be 1..4294967294 or max");
        class_value_error("io.limit", "vda wiops=4294967295",
                          "wiops=4294967295: out of range, must be 1..4294967294 or max");
        class_value_error("io.limit", "vda riops=1.5",
                          "riops=1.5: not a whole number, must be 1..4294967294 or max");
        class_value_error(
                "io.limit",
                "/dev/disk/by-id/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa rbps=1M",
                "device name too long, at most 63 characters");

        class_value_error("tasks", "0", "out of range, must be 1..4194304 or unlimited");
        class_value_error("tasks", "4194305", "out of range, must be 1..4194304 or unlimited");
        class_value_error("tasks", "many", "not a whole number, must be 1..4194304 or unlimited");
}

static void test_unknown_keys(void **state) {
        expect_class_error("[class gold]\ncpu.unit = 100\n",
                           "p.policy:2: cpu.unit: unknown key 'cpu.unit', did you mean 'cpu.units'?");
        expect_class_error("[class gold]\ncpu.uints = 100\n",
                           "p.policy:2: cpu.uints: unknown key 'cpu.uints', did you mean 'cpu.units'?");
        expect_class_error("[class gold]\nmem = 1G\n",
                           "p.policy:2: mem: unknown key 'mem', did you mean 'memory'?");
        expect_class_error("[class gold]\nio.limits = vda rbps=1M\n",
                           "p.policy:2: io.limits: unknown key 'io.limits', did you mean 'io.limit'?");
        expect_class_error(
                "[class gold]\nbandwidth = 1\n",
                "p.policy:2: bandwidth: unknown key 'bandwidth', valid keys: cpu.units, cpu.limit, "
                "cpu.set, memory, swap, io.weight, io.limit, tasks");
        /* Guest keys are known, but not in a class. */
        expect_class_error("[class gold]\ntype = vm\n",
                           "p.policy:2: type: 'type' is a guest setting, it belongs in guests.d/ID.conf");
        /* In [guest], guest keys are candidates too. */
        expect_guest_error("[guest]\nonbot = yes\n",
                           "101.conf:2: onbot: unknown key 'onbot', did you mean 'onboot'?");
        expect_guest_error("[guest]\nclas = gold\n",
                           "101.conf:2: clas: unknown key 'clas', did you mean 'class'?");
        expect_guest_error("[guest]\nfoo = 1\n",
                           "101.conf:2: foo: unknown key 'foo', valid keys: type, class, name, onboot, id, "
                           "cpu.units, cpu.limit, cpu.set, memory, swap, io.weight, io.limit, tasks");
}

static void test_duplicates(void **state) {
        expect_class_error("[class gold]\ncpu.units = 100\nmemory = 1G\ncpu.units = 200\n",
                           "p.policy:4: cpu.units: given twice, first at line 2");
        expect_class_error("[class gold]\ncpu.units = 100\n[class silver]\n[class gold]\ncpu.units = 1\n",
                           "p.policy:4: -: class 'gold' defined twice, first at line 1");
        expect_guest_error("[guest]\ntype = vm\nname = a\ntype = vm\n[vm]\n",
                           "101.conf:4: type: given twice, first at line 2");
        expect_guest_error("[guest]\n[guest]\n",
                           "101.conf:2: -: section [guest] given twice, first at line 1");
        expect_guest_error("[guest]\ntype = vm\n[vm]\nkernel = /a\nkernel = /b\n",
                           "101.conf:5: kernel: given twice, first at line 4");
}

static void test_io_limit_repeats(void **state) {
        struct policy_file f;
        char text[4096];
        size_t used;

        parse_classes_ok("[class c]\n"
                         "io.limit = vda rbps=1M\n"
                         "cpu.units = 100\n"
                         "io.limit = sda wiops=10\n",
                         &f);
        assert_int_equal(f.classes[0].limits.n_io_limits, 2);
        assert_string_equal(f.classes[0].limits.io_limits[0].dev, "vda");
        assert_string_equal(f.classes[0].limits.io_limits[1].dev, "sda");
        assert_int_equal(f.classes[0].limits.io_limits[1].wiops, 10);
        /* Each device keeps its own line for later messages. */
        assert_int_equal(f.classes[0].limits.io_limits[0].line, 2);
        assert_int_equal(f.classes[0].limits.io_limits[1].line, 4);
        /* The key's line is where it starts. */
        assert_int_equal(f.classes[0].limits.line[UBC_KEY_IO_LIMIT], 2);
        policy_file_done(&f);

        expect_class_error("[class c]\nio.limit = /dev/vda rbps=1M\nio.limit = vda wbps=1M\n",
                           "p.policy:3: io.limit: device 'vda' given twice, first at line 2");

        used = (size_t) snprintf(text, sizeof(text), "[class c]\n");
        for (int i = 0; i < UBC_IO_LIMITS_MAX + 1; i++)
                used += (size_t) snprintf(text + used, sizeof(text) - used, "io.limit = sd%c rbps=1M\n",
                                          'a' + i);
        expect_class_error(text, "p.policy:18: io.limit: too many devices, at most 16 io.limit lines");
}

static void test_sections(void **state) {
        expect_class_error("cpu.units = 100\n[class gold]\n",
                           "p.policy:1: cpu.units: key outside a section, it belongs under [class NAME]");
        expect_class_error(
                "[klass gold]\ncpu.units = 100\n",
                "p.policy:1: -: unknown section '[klass gold]', a policy file holds only [class NAME] "
                "sections");
        expect_class_error("[guest]\n",
                           "p.policy:1: -: unknown section '[guest]', a policy file holds only [class "
                           "NAME] sections");
        expect_class_error("[class]\n",
                           "p.policy:1: -: unknown section '[class]', a policy file holds only [class "
                           "NAME] sections");
        expect_class_error("[class go/ld]\n",
                           "p.policy:1: -: invalid class name 'go/ld', must be 1..63 of A-Z a-z 0-9 _ . -");
        expect_class_error(
                "[class "
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa]\n",
                "p.policy:1: -: invalid class name "
                "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', must be 1..63 of A-Z "
                "a-z 0-9 _ . -");
        expect_class_error("[class gold\ncpu.units = 1\n",
                           "p.policy:1: -: section header without closing ']'");
        expect_class_error("[class gold] x\n", "p.policy:1: -: unexpected text after ']' in section header");
        expect_class_error("[class gold]\njust words\n",
                           "p.policy:2: -: expected 'key = value' or '[section]'");
        expect_class_error("[class gold]\n= 5\n", "p.policy:2: -: missing key name before '='");

        expect_guest_error("type = vm\n",
                           "101.conf:1: type: key outside a section, it belongs under [guest]");
        expect_guest_error(
                "[class gold]\n",
                "101.conf:1: -: unknown section '[class gold]', classes belong in policies.d/*.policy");
        expect_guest_error("[lxc]\nfoo = 1\n",
                           "101.conf:1: -: unknown section '[lxc]', expected [guest], [container] or [vm]");
}

static void test_long_class_name(void **state) {
        struct policy_file f;
        const char *name = "a123456789b123456789c123456789d123456789e123456789f123456789xyz";

        /* 63 characters: longer than inih's own section buffer, which would cut it at 49. */
        assert_int_equal(strlen(name), 63);
        char text[128];
        snprintf(text, sizeof(text), "[class %s]\ncpu.units = 100\n", name);
        parse_classes_ok(text, &f);
        assert_string_equal(f.classes[0].name, name);
        policy_file_done(&f);
}

static void test_all_errors_reported(void **state) {
        expect_class_error("[class a]\n"
                           "cpu.units = 1\n"
                           "memory = 1G\n"
                           "tasks = 0\n"
                           "[class b]\n"
                           "io.weight = 5\n"
                           "cpu.limit = 1.5\n",
                           "p.policy:2: cpu.units: out of range, must be 8..500000\n"
                           "p.policy:4: tasks: out of range, must be 1..4194304 or unlimited\n"
                           "p.policy:6: io.weight: out of range, must be 10..1000");
}

static void test_comments_and_whitespace(void **state) {
        struct policy_file f;

        parse_classes_ok("# a comment\n"
                         "; another\n"
                         "   # indented comment\n"
                         "[class gold]   # the best\n"
                         "cpu.units = 2048   # twice the default\n"
                         "  memory = 1G:2G ; indented key, ';' comment\n"
                         "tasks=100\n"
                         "cpu.limit:2\n"
                         "\t\n",
                         &f);
        assert_int_equal(f.classes[0].limits.cpu_units, 2048);
        assert_int_equal(f.classes[0].limits.mem_limit, 2ULL << 30);
        assert_int_equal(f.classes[0].limits.line[UBC_KEY_MEMORY], 6);
        assert_int_equal(f.classes[0].limits.tasks, 100);
        assert_int_equal(f.classes[0].limits.cpu_quota_us, 200000);
        policy_file_done(&f);

        /* CRLF line ends and a UTF-8 byte order mark. */
        parse_classes_ok("\xEF\xBB\xBF[class gold]\r\ncpu.units = 300\r\n", &f);
        assert_string_equal(f.classes[0].name, "gold");
        assert_int_equal(f.classes[0].limits.cpu_units, 300);
        policy_file_done(&f);

        /* '#' inside a word is text, not a comment. */
        parse_guest_ok("[guest]\nname = web#1   # the first web server\n", &f);
        assert_string_equal(f.guest.name, "web#1");
        policy_file_done(&f);

        /* An indented line is a key of its own, not a continuation of the one before. */
        expect_class_error("[class gold]\ncpu.units = 100\n    cpu.units = 200\n",
                           "p.policy:3: cpu.units: given twice, first at line 2");
}

static void test_long_lines(void **state) {
        struct policy_file f;
        char *text, *value;
        size_t n;

        /* Far past inih's 200-byte buffer, within UBC_POLICY_LINE_MAX: taken whole. */
        value = malloc(3000);
        assert_non_null(value);
        memset(value, 'x', 2999);
        value[2999] = '\0';
        n = 4096 + 3000;
        text = malloc(n);
        assert_non_null(text);
        snprintf(text, n, "[guest]\ntype = vm\n[vm]\nappend = %s\nkernel = /boot/vmlinuz\n", value);
        parse_guest_ok(text, &f);
        assert_int_equal(f.guest.n_settings, 2);
        assert_string_equal(f.guest.settings[0].key, "append");
        assert_string_equal(f.guest.settings[0].value, value);
        assert_int_equal(f.guest.settings[0].line, 4);
        assert_string_equal(f.guest.settings[1].key, "kernel");
        assert_int_equal(f.guest.settings[1].line, 5);
        policy_file_done(&f);

        /* A long limit value goes through the same path. */
        {
                char cpus[1200];
                size_t used = 0;

                for (unsigned c = 0; c < 300; c += 2)
                        used += (size_t) snprintf(cpus + used, sizeof(cpus) - used, "%s%u", c ? "," : "", c);
                snprintf(text, n, "[class c]\ncpu.set = %s\ntasks = 5\n", cpus);
                parse_classes_ok(text, &f);
                assert_int_equal(cpuset_count(&f.classes[0].limits.cpu_set), 150);
                assert_int_equal(f.classes[0].limits.tasks, 5);
                policy_file_done(&f);
        }

        /* Exactly UBC_POLICY_LINE_MAX bytes is fine, one more is not; either way the line
         * numbers after it stay right. */
        {
                size_t prefix = strlen("append = ");
                char *line = malloc(UBC_POLICY_LINE_MAX + 2);

                assert_non_null(line);
                memcpy(line, "append = ", prefix);
                memset(line + prefix, 'y', UBC_POLICY_LINE_MAX - prefix);
                line[UBC_POLICY_LINE_MAX] = '\0';
                free(text);
                n = 2 * UBC_POLICY_LINE_MAX;
                text = malloc(n);
                assert_non_null(text);
                snprintf(text, n, "[guest]\ntype = vm\n[vm]\n%s\n", line);
                parse_guest_ok(text, &f);
                assert_int_equal(strlen(f.guest.settings[0].value), UBC_POLICY_LINE_MAX - prefix);
                policy_file_done(&f);

                line[UBC_POLICY_LINE_MAX] = 'y';
                line[UBC_POLICY_LINE_MAX + 1] = '\0';
                snprintf(text, n, "[guest]\ntype = vm\n[vm]\n%s\nbogus\n", line);
                expect_guest_error(text, "101.conf:4: -: line too long, at most 4096 bytes\n"
                                         "101.conf:5: -: expected 'key = value' or '[section]'");
                free(line);
        }

        /* A key name that does not fit anywhere. */
        {
                char key[300];

                memset(key, 'k', sizeof(key) - 1);
                key[sizeof(key) - 1] = '\0';
                snprintf(text, n, "[guest]\n%s = 1\n", key);
                expect_guest_error(text, "101.conf:2: -: key name too long");
                snprintf(text, n, "[guest]\n%.80s = 1\n", key);
                expect_guest_error(text, "101.conf:2: -: key name too long, at most 63 characters");
        }

        free(text);
        free(value);
}

static void test_truncated_files(void **state) {
        struct policy_file f;
        struct diags d;
        const char *full = "[class gold]\ncpu.units = 1000\n";

        parse_classes_ok(full, &f);
        assert_int_equal(f.classes[0].limits.cpu_units, 1000);
        policy_file_done(&f);

        /* Cut mid-line, the rest would read as "cpu.units = 10": refused, not taken. */
        expect_class_error("[class gold]\ncpu.units = 10",
                           "p.policy:2: -: last line has no newline at its end, the file may be cut short");
        expect_class_error("[class gold]\ncpu.uni",
                           "p.policy:2: -: last line has no newline at its end, the file may be cut short");
        expect_class_error("[class go",
                           "p.policy:1: -: last line has no newline at its end, the file may be cut short");

        /* Every prefix of a file either is the good file at a line boundary or fails. */
        for (size_t cut = 0; cut < strlen(full); cut++) {
                struct ubc_diag_sink sink = {.report = collect, .userdata = &d};
                int r;

                memset(&d, 0, sizeof(d));
                r = policy_parse_classes("p.policy", full, cut, &f, &sink);
                if (cut == 0 || full[cut - 1] == '\n') {
                        assert_int_equal(r, 0);
                        if (cut > 0)
                                assert_int_equal(f.n_classes, 1);
                        /* Cut before the value: the class has no cpu.units at all. */
                        if (f.n_classes > 0)
                                assert_false(f.classes[0].limits.set & (1u << UBC_KEY_CPU_UNITS));
                        policy_file_done(&f);
                } else
                        assert_int_equal(r, -EINVAL);
        }

        /* A trailing comment without a newline harms nothing. */
        parse_classes_ok("[class gold]\ncpu.units = 1000\n# end", &f);
        policy_file_done(&f);

        expect_class_error("[class gold]\ncpu.units = 1\x1b[2J\n",
                           "p.policy:2: -: line contains a control character (byte 27)");
        expect_class_error("[class gold]\ncpu.units = 1\r0\n",
                           "p.policy:2: -: line contains a control character (byte 13)");

        /* Preallocated or corrupted files: NUL bytes. */
        {
                const char nul[] = "[class gold]\ncpu.units = 1\0000\n";
                struct ubc_diag_sink sink = {.report = collect, .userdata = &d};

                memset(&d, 0, sizeof(d));
                assert_int_equal(policy_parse_classes("p.policy", nul, sizeof(nul) - 1, &f, &sink), -EINVAL);
                assert_string_equal(d.text, "p.policy:2: -: line contains a control character (byte 0)");
        }
}

static void test_empty_and_large(void **state) {
        struct policy_file f;
        struct diags d;
        struct ubc_diag_sink sink = {.report = collect, .userdata = &d};
        char *big;

        parse_classes_ok("", &f);
        assert_int_equal(f.n_classes, 0);
        policy_file_done(&f);

        /* An empty guest file is a slice with the default class and limits. */
        parse_guest_ok("", &f);
        assert_int_equal(f.kind, POLICY_FILE_GUEST);
        assert_int_equal(f.guest.id, 101);
        assert_int_equal(f.guest.type, UBC_GUEST_SLICE);
        assert_string_equal(f.guest.class_name, "");
        assert_false(f.guest.onboot);
        assert_int_equal(f.guest.limits.set, 0);
        policy_file_done(&f);

        big = calloc(1, UBC_POLICY_FILE_MAX + 2);
        assert_non_null(big);
        memset(big, '\n', UBC_POLICY_FILE_MAX + 1);
        memset(&d, 0, sizeof(d));
        assert_int_equal(policy_parse_classes("p.policy", big, UBC_POLICY_FILE_MAX + 1, &f, &sink), -EINVAL);
        assert_string_equal(d.text, "p.policy:0: -: file too large, at most 1048576 bytes");
        memset(&d, 0, sizeof(d));
        assert_int_equal(policy_parse_classes("p.policy", big, UBC_POLICY_FILE_MAX, &f, &sink), 0);
        policy_file_done(&f);
        free(big);
}

static void test_guest_full(void **state) {
        struct policy_file f;
        const struct policy_guest *g;

        parse_guest_ok("[guest]\n"
                       "type = vm\n"
                       "class = gold\n"
                       "name = web server\n"
                       "onboot = yes\n"
                       "id = 101\n"
                       "memory = 2G\n"
                       "io.limit = vda rbps=10M\n"
                       "\n"
                       "[vm]\n"
                       "kernel = /boot/vmlinuz\n"
                       "append = console=ttyS0 root=/dev/vda   # serial console\n"
                       "cpus = 2\n",
                       &f);
        g = &f.guest;
        assert_string_equal(f.path, "101.conf");
        assert_int_equal(g->id, 101);
        assert_int_equal(g->type, UBC_GUEST_VM);
        assert_string_equal(g->class_name, "gold");
        assert_int_equal(g->class_line, 3);
        assert_string_equal(g->name, "web server");
        assert_true(g->onboot);
        assert_int_equal(g->limits.set, 1u << UBC_KEY_MEMORY | 1u << UBC_KEY_IO_LIMIT);
        assert_int_equal(g->limits.mem_barrier, 2ULL << 30);
        assert_int_equal(g->limits.source[UBC_KEY_MEMORY], UBC_SOURCE_GUEST);
        assert_int_equal(g->limits.line[UBC_KEY_MEMORY], 7);
        assert_int_equal(g->limits.n_io_limits, 1);

        assert_int_equal(g->n_settings, 3);
        assert_string_equal(g->settings[0].section, "vm");
        assert_string_equal(g->settings[0].key, "kernel");
        assert_string_equal(g->settings[0].value, "/boot/vmlinuz");
        assert_int_equal(g->settings[0].line, 11);
        /* '=' inside a value is kept; the comment is not. */
        assert_string_equal(g->settings[1].value, "console=ttyS0 root=/dev/vda");
        assert_string_equal(g->settings[2].key, "cpus");
        assert_string_equal(g->settings[2].value, "2");
        policy_file_done(&f);

        parse_guest_ok("[guest]\ntype = container\nonboot = 0\n[container]\ntemplate = debian\n", &f);
        assert_int_equal(f.guest.type, UBC_GUEST_CONTAINER);
        assert_false(f.guest.onboot);
        assert_string_equal(f.guest.settings[0].section, "container");
        policy_file_done(&f);

        static const char *const truthy[] = {"yes", "true", "1", "YES"};
        for (size_t i = 0; i < 4; i++) {
                char text[64];

                snprintf(text, sizeof(text), "[guest]\nonboot = %s\n", truthy[i]);
                parse_guest_ok(text, &f);
                assert_true(f.guest.onboot);
                policy_file_done(&f);
        }
}

static void test_guest_errors(void **state) {
        expect_guest_error("[guest]\ntype = lxc\n",
                           "101.conf:2: type: unknown type 'lxc', must be slice, container or vm");
        expect_guest_error(
                "[guest]\nclass = gold silver\n",
                "101.conf:2: class: invalid class name 'gold silver', must be 1..63 of A-Z a-z 0-9 _ . -");
        expect_guest_error("[guest]\nclass =\n",
                           "101.conf:2: class: invalid class name '', must be 1..63 of A-Z a-z 0-9 _ . -");
        expect_guest_error("[guest]\nname = caf\xc3\xa9\n",
                           "101.conf:2: name: must be printable ASCII, at most 63 characters");
        expect_guest_error("[guest]\nname = "
                           "0123456789012345678901234567890123456789012345678901234567890123\n",
                           "101.conf:2: name: must be printable ASCII, at most 63 characters");
        expect_guest_error("[guest]\nonboot = maybe\n",
                           "101.conf:2: onboot: 'maybe' is not a boolean, must be yes or no");
        expect_guest_error("[guest]\nid = 102\n",
                           "101.conf:2: id: id 102 does not match the file name's ID 101");
        expect_guest_error("[guest]\nid = 99\n",
                           "101.conf:2: id: '99' is not a guest ID, must be 100..999999999");
        expect_guest_error(
                "[guest]\ntype = container\n[vm]\nkernel = /k\n",
                "101.conf:3: -: [vm] section in a guest of type 'container', it needs 'type = vm'");
        expect_guest_error("[guest]\nname = x\n[container]\ntemplate = debian\n",
                           "101.conf:3: -: [container] section in a guest of type 'slice', it needs 'type = "
                           "container'");
        /* Even an empty launch section is a sign of a wrong type. */
        expect_guest_error("[vm]\n",
                           "101.conf:1: -: [vm] section in a guest of type 'slice', it needs 'type = vm'");
        expect_guest_error("[guest]\ntype = vm\n[vm]\nbad key! = 1\n",
                           "101.conf:4: bad key!: invalid setting name, must be 1..63 of A-Z a-z 0-9 _ . -");
        expect_guest_error("[guest]\ntype = vm\ncpu.units = 5\n",
                           "101.conf:3: cpu.units: out of range, must be 8..500000");
}

static void test_parse_setting(void **state) {
        struct ubc_limits l, before;
        struct diags d = {};
        struct ubc_diag_sink sink = {.report = collect, .userdata = &d};

        limits_init_default(&l);
        assert_int_equal(policy_parse_setting(&l, "cpu.units", " 4096 ", &sink), 0);
        assert_int_equal(l.cpu_units, 4096);
        assert_true(l.set & (1u << UBC_KEY_CPU_UNITS));
        assert_int_equal(l.source[UBC_KEY_CPU_UNITS], UBC_SOURCE_GUEST);
        /* A live change may change a key again. */
        assert_int_equal(policy_parse_setting(&l, "cpu.units", "100", &sink), 0);
        assert_int_equal(l.cpu_units, 100);
        assert_int_equal(d.n, 0);

        memcpy(&before, &l, sizeof(l));
        assert_int_equal(policy_parse_setting(&l, "cpu.units", "1", &sink), -EINVAL);
        assert_string_equal(d.text, "-:0: cpu.units: out of range, must be 8..500000");
        assert_memory_equal(&l, &before, sizeof(l));

        /* What a user typed is quoted on one line. */
        memset(&d, 0, sizeof(d));
        assert_int_equal(policy_parse_setting(&l, "swap", "1\n2", &sink), -EINVAL);
        assert_string_equal(
                d.text,
                "-:0: swap: swap '1?2' is not a size, must be a number with K, M, G or T, or unlimited");

        memset(&d, 0, sizeof(d));
        assert_int_equal(policy_parse_setting(&l, "memroy", "1G", &sink), -EINVAL);
        assert_string_equal(d.text, "-:0: -: unknown key 'memroy', did you mean 'memory'?");

        /* io.limit sets one device: the same device again replaces it, another adds. */
        assert_int_equal(policy_parse_setting(&l, "io.limit", "vda rbps=1M", &sink), 0);
        assert_int_equal(policy_parse_setting(&l, "io.limit", "sda riops=5", &sink), 0);
        assert_int_equal(policy_parse_setting(&l, "io.limit", "/dev/vda wbps=2M", &sink), 0);
        assert_int_equal(l.n_io_limits, 2);
        assert_string_equal(l.io_limits[0].dev, "/dev/vda");
        assert_true(l.io_limits[0].rbps == UBC_UNLIMITED);
        assert_int_equal(l.io_limits[0].wbps, 2ULL << 20);
        assert_string_equal(l.io_limits[1].dev, "sda");
        limits_done(&l);
}

static void test_format_value(void **state) {
        struct policy_file f;
        char buf[256];
        const struct ubc_limits *l;

        parse_classes_ok("[class c]\n"
                         "cpu.units = 2048\n"
                         "cpu.limit = 1.50\n"
                         "cpu.set = 6,0-3\n"
                         "memory = 512M:1G\n"
                         "swap = 1536M\n"
                         "io.weight = 100\n"
                         "io.limit = vda rbps=50M wbps=20M riops=1000 wiops=500\n"
                         "io.limit = 8:0 wiops=7\n"
                         "tasks = 64\n",
                         &f);
        l = &f.classes[0].limits;
        static const char *const want[_UBC_KEY_MAX] = {
                "2048",
                "1.5",
                "0-3,6",
                "512M:1G",
                "1536M",
                "100",
                "vda rbps=50M wbps=20M riops=1000 wiops=500, 8:0 wiops=7",
                "64",
        };
        for (int k = 0; k < _UBC_KEY_MAX; k++) {
                assert_int_equal(policy_format_value(l, k, buf, sizeof(buf)), 0);
                assert_string_equal(buf, want[k]);
        }
        assert_int_equal(policy_format_value(l, UBC_KEY_IO_LIMIT, buf, 10), -ENOBUFS);
        assert_int_equal(policy_format_value(l, UBC_KEY_MEMORY, buf, 4), -ENOBUFS);
        policy_file_done(&f);

        struct ubc_limits d;
        limits_init_default(&d);
        static const char *const defaults[_UBC_KEY_MAX] = {
                "1024", "0", "", "unlimited", "unlimited", "500", "", "unlimited",
        };
        for (int k = 0; k < _UBC_KEY_MAX; k++) {
                assert_int_equal(policy_format_value(&d, k, buf, sizeof(buf)), 0);
                assert_string_equal(buf, defaults[k]);
        }
        d.mem_barrier = d.mem_limit = 1ULL << 30;
        assert_int_equal(policy_format_value(&d, UBC_KEY_MEMORY, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "1G");
        assert_int_equal(policy_format_value(&d, _UBC_KEY_MAX, buf, sizeof(buf)), -EINVAL);
}

static void test_guest_id_from_filename(void **state) {
        uint32_t id = 7;

        assert_int_equal(policy_guest_id_from_filename("101.conf", &id), 0);
        assert_int_equal(id, 101);
        assert_int_equal(policy_guest_id_from_filename("0101.conf", &id), 0);
        assert_int_equal(id, 101);
        assert_int_equal(policy_guest_id_from_filename("100.conf", &id), 0);
        assert_int_equal(id, 100);
        assert_int_equal(policy_guest_id_from_filename("999999999.conf", &id), 0);
        assert_int_equal(id, 999999999);

        id = 7;
        assert_int_equal(policy_guest_id_from_filename("99.conf", &id), -ERANGE);
        assert_int_equal(policy_guest_id_from_filename("0.conf", &id), -ERANGE);
        assert_int_equal(policy_guest_id_from_filename("1000000000.conf", &id), -ERANGE);
        assert_int_equal(policy_guest_id_from_filename("99999999999999999999999999.conf", &id), -ERANGE);
        assert_int_equal(policy_guest_id_from_filename("web.conf", &id), -EINVAL);
        assert_int_equal(policy_guest_id_from_filename("101.conf~", &id), -EINVAL);
        assert_int_equal(policy_guest_id_from_filename("101", &id), -EINVAL);
        assert_int_equal(policy_guest_id_from_filename(".conf", &id), -EINVAL);
        assert_int_equal(policy_guest_id_from_filename("101.policy", &id), -EINVAL);
        assert_int_equal(policy_guest_id_from_filename("-101.conf", &id), -EINVAL);
        assert_int_equal(policy_guest_id_from_filename("1 01.conf", &id), -EINVAL);
        assert_int_equal(policy_guest_id_from_filename(NULL, &id), -EINVAL);
        assert_int_equal(id, 7);

        assert_string_equal(ubc_guest_type_name(UBC_GUEST_SLICE), "slice");
        assert_string_equal(ubc_guest_type_name(UBC_GUEST_CONTAINER), "container");
        assert_string_equal(ubc_guest_type_name(UBC_GUEST_VM), "vm");
}

static void test_null_sink(void **state) {
        struct policy_file f;

        /* The verdict does not depend on anyone listening. */
        assert_int_equal(policy_parse_classes("p", "[class a]\ncpu.units = 1\n", 24, &f, NULL), -EINVAL);
        assert_int_equal(policy_parse_classes(NULL, NULL, 0, &f, NULL), 0);
        policy_file_done(&f);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_classes_basic),
                cmocka_unit_test(test_good_values),
                cmocka_unit_test(test_bad_values),
                cmocka_unit_test(test_unknown_keys),
                cmocka_unit_test(test_duplicates),
                cmocka_unit_test(test_io_limit_repeats),
                cmocka_unit_test(test_sections),
                cmocka_unit_test(test_long_class_name),
                cmocka_unit_test(test_all_errors_reported),
                cmocka_unit_test(test_comments_and_whitespace),
                cmocka_unit_test(test_long_lines),
                cmocka_unit_test(test_truncated_files),
                cmocka_unit_test(test_empty_and_large),
                cmocka_unit_test(test_guest_full),
                cmocka_unit_test(test_guest_errors),
                cmocka_unit_test(test_parse_setting),
                cmocka_unit_test(test_format_value),
                cmocka_unit_test(test_guest_id_from_filename),
                cmocka_unit_test(test_null_sink),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
