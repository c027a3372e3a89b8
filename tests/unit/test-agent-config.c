/* ubcd.conf: defaults, every key, and the file:line of each problem an operator would see. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "ubc/agent-config.h"

#define MAX_DIAGS 16

struct collected {
        unsigned n;
        char text[MAX_DIAGS][640];
};

/* "FILE:LINE: KEY: MESSAGE" with the directory cut off, as the tests compare it. */
static void collect(void *userdata, const struct ubc_diag *d) {
        struct collected *c = userdata;
        const char *file = d->file ? strrchr(d->file, '/') : NULL;

        if (c->n >= MAX_DIAGS)
                return;
        snprintf(c->text[c->n++], sizeof(c->text[0]), "%s:%u: %s: %s", file ? file + 1 : "-", d->line,
                 d->key ? d->key : "-", d->message);
}

struct fixture {
        char dir[200];
        struct agent_config cfg;
        struct collected diags;
        struct ubc_diag_sink sink;
};

static int setup(void **state) {
        struct fixture *f = calloc(1, sizeof(*f));
        const char *tmp = getenv("TMPDIR");

        assert_non_null(f);
        snprintf(f->dir, sizeof(f->dir), "%s/test-agent-config.XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
        assert_non_null(mkdtemp(f->dir));
        agent_config_init(&f->cfg);
        snprintf(f->cfg.config_dir, sizeof(f->cfg.config_dir), "%s", f->dir);
        f->sink = (struct ubc_diag_sink){.report = collect, .userdata = &f->diags};
        *state = f;
        return 0;
}

static int teardown(void **state) {
        struct fixture *f = *state;
        char path[300];

        snprintf(path, sizeof(path), "%s/ubcd.conf", f->dir);
        (void) unlink(path);
        (void) rmdir(path);
        assert_int_equal(rmdir(f->dir), 0);
        free(f);
        return 0;
}

static void write_conf(struct fixture *f, const char *text) {
        char path[300];
        FILE *file;

        snprintf(path, sizeof(path), "%s/ubcd.conf", f->dir);
        file = fopen(path, "we");
        assert_non_null(file);
        assert_int_equal(fputs(text, file) >= 0, 1);
        assert_int_equal(fclose(file), 0);
}

static int load(struct fixture *f, const char *text) {
        if (text)
                write_conf(f, text);
        return agent_config_load(&f->cfg, &f->sink);
}

static void test_defaults(void **state) {
        struct agent_config c;

        agent_config_init(&c);
        assert_string_equal(c.config_dir, UBC_CONFIG_DIR);
        assert_string_equal(c.state_dir, UBC_STATE_DIR);
        assert_string_equal(c.run_dir, UBC_RUN_DIR);
        assert_string_equal(c.root, "ubc");
        assert_int_equal(c.driver, UBC_DRIVER_AUTO);
        assert_int_equal(c.interval_us, 10000000);
        assert_string_equal(c.rrdcached, "");
        assert_int_equal(c.rrd_step, 60);
        assert_int_equal(c.rrd_batch, 5);
        assert_string_equal(c.socket_group, "");
}

static void test_missing_file(void **state) {
        struct fixture *f = *state;

        assert_int_equal(load(f, NULL), 0);
        assert_int_equal(f->sink.n_errors, 0);
        assert_string_equal(f->cfg.root, "ubc");

        /* No configuration folder at all is an empty install too. */
        snprintf(f->cfg.config_dir, sizeof(f->cfg.config_dir), "%s/none", f->dir);
        assert_int_equal(load(f, NULL), 0);
        assert_int_equal(f->sink.n_errors, 0);
}

static void test_every_key(void **state) {
        struct fixture *f = *state;

        assert_int_equal(load(f, "# ubcd settings\n"
                                 "; another comment\n"
                                 "\n"
                                 "[agent]\n"
                                 "driver = cgroupfs          # auto | cgroupfs | systemd\n"
                                 "root = ubc/guests\n"
                                 "state_dir = /srv/ubc/state\n"
                                 "  run_dir=/run/ubc-test\n"
                                 "interval = 500ms ; half a second\n"
                                 "rrdcached = unix:/run/rrdcached.sock\n"
                                 "rrd_step = 2s\n"
                                 "rrd_batch = 1\n"
                                 "socket_group = ubc-admin\n"),
                         0);
        assert_int_equal(f->sink.n_errors, 0);
        assert_int_equal(f->cfg.driver, UBC_DRIVER_CGROUPFS);
        assert_string_equal(f->cfg.root, "ubc/guests");
        assert_string_equal(f->cfg.state_dir, "/srv/ubc/state");
        assert_string_equal(f->cfg.run_dir, "/run/ubc-test");
        assert_int_equal(f->cfg.interval_us, 500000);
        assert_string_equal(f->cfg.rrdcached, "unix:/run/rrdcached.sock");
        assert_int_equal(f->cfg.rrd_step, 2);
        assert_int_equal(f->cfg.rrd_batch, 1);
        assert_string_equal(f->cfg.socket_group, "ubc-admin");
        /* The folder it was read from stays as the caller set it. */
        assert_string_equal(f->cfg.config_dir, f->dir);
}

static void test_design_example(void **state) {
        struct fixture *f = *state;

        /* The sample from the design page, with its empty value followed by a comment. */
        assert_int_equal(load(f, "[agent]\n"
                                 "driver = auto            # auto | cgroupfs | systemd\n"
                                 "root = ubc               # the subtree ubcd owns (cgroupfs driver)\n"
                                 "state_dir = /var/lib/ubc\n"
                                 "run_dir = /run/ubc\n"
                                 "interval = 10s           # accounting sample period\n"
                                 "rrdcached =              # optional rrdcached address\n"),
                         0);
        assert_int_equal(f->sink.n_errors, 0);
        assert_string_equal(f->cfg.rrdcached, "");
        assert_string_equal(f->cfg.root, "ubc");
        assert_int_equal(f->cfg.interval_us, 10000000);
}

static void test_hash_inside_value(void **state) {
        struct fixture *f = *state;

        /* Only a '#' after a blank starts a comment. */
        assert_int_equal(load(f, "[agent]\nrrdcached = host#1\n"), 0);
        assert_string_equal(f->cfg.rrdcached, "host#1");
}

static void test_crlf_and_bom(void **state) {
        struct fixture *f = *state;

        assert_int_equal(load(f, "\xEF\xBB\xBF[agent]\r\ninterval = 2m\r\ndriver = systemd\r\n"), 0);
        assert_int_equal(f->sink.n_errors, 0);
        assert_int_equal(f->cfg.interval_us, 120000000);
        assert_int_equal(f->cfg.driver, UBC_DRIVER_SYSTEMD);
}

static void test_errors_name_lines(void **state) {
        struct fixture *f = *state;

        assert_int_equal(load(f, "[agent]\n"
                                 "driver = lxc\n"
                                 "\n"
                                 "colour = blue\n"
                                 "interval = soon\n"
                                 "root = ../escape\n"
                                 "state_dir = relative/path\n"
                                 "this line has no equals sign\n"
                                 "driver = systemd\n"
                                 "socket_group = -bad\n"),
                         -EINVAL);
        assert_int_equal(f->diags.n, 8);
        assert_int_equal(f->sink.n_errors, 8);
        assert_string_equal(f->diags.text[0],
                            "ubcd.conf:2: driver: 'lxc' is not one of auto, cgroupfs, systemd");
        assert_string_equal(f->diags.text[1], "ubcd.conf:4: colour: unknown key in [agent]");
        assert_string_equal(f->diags.text[2],
                            "ubcd.conf:5: interval: 'soon' is not a duration such as 10s, 500ms, 2m or 1h");
        assert_string_equal(f->diags.text[3], "ubcd.conf:6: root: '../escape' is not a plain relative path "
                                              "(no '..', '.', '//' or spaces)");
        assert_string_equal(f->diags.text[4],
                            "ubcd.conf:7: state_dir: 'relative/path' is not an absolute path");
        assert_string_equal(f->diags.text[5], "ubcd.conf:8: -: expected 'key = value'");
        assert_string_equal(f->diags.text[6], "ubcd.conf:9: driver: already set on line 2");
        assert_string_equal(f->diags.text[7], "ubcd.conf:10: socket_group: '-bad' is not a group name");
}

static void test_errors_leave_config_unchanged(void **state) {
        struct fixture *f = *state;

        /* A good key before a bad one must not take effect: the file counts as a whole. */
        assert_int_equal(load(f, "[agent]\nroot = other\ninterval = 0\n"), -EINVAL);
        assert_string_equal(f->diags.text[0], "ubcd.conf:3: interval: '0' is out of range 100ms..1h");
        assert_string_equal(f->cfg.root, "ubc");
        assert_int_equal(f->cfg.interval_us, 10000000);
}

/* RRD steps are whole seconds; a step the file format cannot hold is refused, not rounded. */
static void test_rrd_step(void **state) {
        struct fixture *f = *state;

        assert_int_equal(load(f, "[agent]\nrrd_step = 5m\n"), 0);
        assert_int_equal(f->cfg.rrd_step, 300);
        assert_int_equal(load(f, "[agent]\nrrd_step = 1500ms\n"), -EINVAL);
        assert_string_equal(f->diags.text[0],
                            "ubcd.conf:2: rrd_step: '1500ms' is not a whole number of seconds");
        assert_int_equal(load(f, "[agent]\nrrd_step = 0\n"), -EINVAL);
        assert_string_equal(f->diags.text[1], "ubcd.conf:2: rrd_step: '0' is out of range 1s..1h");
        assert_int_equal(load(f, "[agent]\nrrd_step = 2h\n"), -EINVAL);
        assert_int_equal(load(f, "[agent]\nrrd_step =\n"), -EINVAL);
        assert_int_equal(f->cfg.rrd_step, 300);
}

/* Steps per history write: a count, 1 being every step; more than an hour's worth of default
 * steps is refused. */
static void test_rrd_batch(void **state) {
        struct fixture *f = *state;

        assert_int_equal(load(f, "[agent]\nrrd_batch = 10\n"), 0);
        assert_int_equal(f->cfg.rrd_batch, 10);
        assert_int_equal(load(f, "[agent]\nrrd_batch = 0\n"), -EINVAL);
        assert_string_equal(f->diags.text[0], "ubcd.conf:2: rrd_batch: '0' is not a number of steps 1..60");
        assert_int_equal(load(f, "[agent]\nrrd_batch = 61\n"), -EINVAL);
        assert_int_equal(load(f, "[agent]\nrrd_batch = 5m\n"), -EINVAL);
        assert_int_equal(f->cfg.rrd_batch, 10);
}

static void test_onboot_parallel(void **state) {
        struct fixture *f = *state;

        assert_int_equal(f->cfg.onboot_parallel, 4);
        assert_int_equal(load(f, "[agent]\nonboot_parallel = 1\n"), 0);
        assert_int_equal(f->cfg.onboot_parallel, 1);
        assert_int_equal(load(f, "[agent]\nonboot_parallel = 0\n"), -EINVAL);
        assert_string_equal(f->diags.text[0],
                            "ubcd.conf:2: onboot_parallel: '0' is not a number of guests 1..64");
        assert_int_equal(load(f, "[agent]\nonboot_parallel = 65\n"), -EINVAL);
        assert_int_equal(load(f, "[agent]\nonboot_parallel = -2\n"), -EINVAL);
        assert_int_equal(load(f, "[agent]\nonboot_parallel = 3x\n"), -EINVAL);
        assert_int_equal(f->cfg.onboot_parallel, 1);
}

static void test_sections(void **state) {
        struct fixture *f = *state;

        assert_int_equal(load(f, "root = early\n"
                                 "[daemon]\n"
                                 "root = x\n"
                                 "[agent\n"
                                 "[agent]\n"
                                 "root = fine\n"),
                         -EINVAL);
        assert_int_equal(f->diags.n, 3);
        assert_string_equal(f->diags.text[0], "ubcd.conf:1: -: key outside the [agent] section");
        assert_string_equal(f->diags.text[1], "ubcd.conf:2: -: unknown section 'daemon', expected [agent]");
        assert_string_equal(f->diags.text[2], "ubcd.conf:4: -: section header without ']'");
}

static void test_empty_values(void **state) {
        struct fixture *f = *state;

        assert_int_equal(load(f, "[agent]\nroot =\nsocket_group =\n"), -EINVAL);
        assert_int_equal(f->diags.n, 1);
        assert_string_equal(f->diags.text[0], "ubcd.conf:2: root: empty value");
}

static void test_root_names(void **state) {
        static const char *const bad[] = {"/ubc", "ubc/", "a//b", "./ubc", "ubc/..", "a b", "."};
        struct fixture *f = *state;
        char text[128];

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                f->sink.n_errors = 0;
                snprintf(text, sizeof(text), "[agent]\nroot = %s\n", bad[i]);
                assert_int_equal(load(f, text), -EINVAL);
                assert_int_equal(f->sink.n_errors, 1);
        }
        assert_int_equal(load(f, "[agent]\nroot = machine.slice/ubc-1.d\n"), 0);
        assert_string_equal(f->cfg.root, "machine.slice/ubc-1.d");
}

static void test_long_line(void **state) {
        struct fixture *f = *state;
        char text[1024];

        /* Refused with its line, not cut into pieces that parse as something else. */
        snprintf(text, sizeof(text), "[agent]\nstate_dir = /%0600d\ndriver = nope\n", 0);
        assert_int_equal(load(f, text), -EINVAL);
        assert_int_equal(f->diags.n, 2);
        assert_non_null(strstr(f->diags.text[0], "ubcd.conf:2: -: line longer than"));
        assert_string_equal(f->diags.text[1],
                            "ubcd.conf:3: driver: 'nope' is not one of auto, cgroupfs, systemd");
}

static void test_not_a_file(void **state) {
        struct fixture *f = *state;
        char path[300];

        snprintf(path, sizeof(path), "%s/ubcd.conf", f->dir);
        assert_int_equal(mkdir(path, 0700), 0);
        assert_true(load(f, NULL) < 0);
        assert_int_equal(f->diags.n, 1);
        assert_string_equal(f->diags.text[0], "ubcd.conf:0: -: not a regular file");
}

static void test_durations(void **state) {
        static const struct {
                const char *s;
                int r;
                uint64_t us;
        } cases[] = {
                {"10s", 0, 10000000ULL},
                {"500ms", 0, 500000ULL},
                {"2m", 0, 120000000ULL},
                {"1h", 0, 3600000000ULL},
                {"7", 0, 7000000ULL},
                {"3min", 0, 180000000ULL},
                {"250us", 0, 250ULL},
                {"", -EINVAL, 0},
                {"s", -EINVAL, 0},
                {"-1s", -EINVAL, 0},
                {"1.5s", -EINVAL, 0},
                {"10 s", -EINVAL, 0},
                {"5d", 0, 5 * 86400000000ULL},
                {"2w", 0, 2 * 604800000000ULL},
                {"5y", -EINVAL, 0},
                {"18446744073709551616", -ERANGE, 0},
                {"18446744073709h", -ERANGE, 0},
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                uint64_t us = 12345;

                assert_int_equal(agent_parse_duration(cases[i].s, &us), cases[i].r);
                assert_int_equal(us, cases[i].r == 0 ? cases[i].us : 12345);
        }
}

static void test_driver_names(void **state) {
        enum ubc_driver d;

        for (int i = UBC_DRIVER_AUTO; i <= UBC_DRIVER_SYSTEMD; i++) {
                assert_int_equal(agent_driver_from_string(agent_driver_name((enum ubc_driver) i), &d), 0);
                assert_int_equal(d, i);
        }
        assert_string_equal(agent_driver_name(UBC_DRIVER_CGROUPFS), "cgroupfs");
        assert_int_equal(agent_driver_from_string("Systemd", &d), -EINVAL);
        assert_null(agent_driver_name((enum ubc_driver) 42));
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_defaults),
                T(test_missing_file),
                T(test_every_key),
                T(test_design_example),
                T(test_hash_inside_value),
                T(test_crlf_and_bom),
                T(test_errors_name_lines),
                T(test_errors_leave_config_unchanged),
                T(test_sections),
                T(test_empty_values),
                T(test_root_names),
                T(test_long_line),
                T(test_not_a_file),
                T(test_rrd_step),
                T(test_rrd_batch),
                T(test_onboot_parallel),
                cmocka_unit_test(test_durations),
                cmocka_unit_test(test_driver_names),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
