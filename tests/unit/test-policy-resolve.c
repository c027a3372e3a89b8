/* Unit tests for loading a configuration folder (sorting, skipping, symlinks, failures),
 * resolving guests against classes, validating against a host, and the shipped examples. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <grp.h>
#include <unistd.h>

#include <cmocka.h>

#include "ubc/plan.h"
#include "ubc/policy.h"
#include "ubc/units.h"

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

struct fixture {
        char dir[PATH_MAX];
        struct diags d;
        struct ubc_diag_sink sink;
};

static int setup(void **state) {
        struct fixture *f = calloc(1, sizeof(*f));

        assert_non_null(f);
        snprintf(f->dir, sizeof(f->dir), "/tmp/ubc-test-policy-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        f->sink = (struct ubc_diag_sink){.report = collect, .userdata = &f->d};
        *state = f;
        return 0;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        if (flag == FTW_DP || flag == FTW_D)
                chmod(path, 0700);
        return remove(path);
}

static int teardown(void **state) {
        struct fixture *f = *state;

        nftw(f->dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
        free(f);
        return 0;
}

static void reset_diags(struct fixture *f) {
        memset(&f->d, 0, sizeof(f->d));
        f->sink.n_errors = 0;
}

static void put(struct fixture *f, const char *rel, const char *content) {
        char path[PATH_MAX * 2], dir[PATH_MAX * 2];
        FILE *fp;

        snprintf(path, sizeof(path), "%s/%s", f->dir, rel);
        snprintf(dir, sizeof(dir), "%s", path);
        /* Parent folders on the way. */
        for (char *s = dir + strlen(f->dir) + 1; (s = strchr(s, '/')); s++) {
                *s = '\0';
                mkdir(dir, 0755);
                *s = '/';
        }
        fp = fopen(path, "w");
        assert_non_null(fp);
        fputs(content, fp);
        assert_int_equal(fclose(fp), 0);
}

static void mk(struct fixture *f, const char *rel) {
        char path[PATH_MAX * 2];

        snprintf(path, sizeof(path), "%s/%s", f->dir, rel);
        assert_int_equal(mkdir(path, 0755), 0);
}

/* "@" in 'want' stands for the fixture's folder. */
static void assert_diags(struct fixture *f, const char *want) {
        char expanded[16384] = "";
        size_t used = 0;

        for (const char *s = want; *s; s++)
                if (*s == '@')
                        used += (size_t) snprintf(expanded + used, sizeof(expanded) - used, "%s", f->dir);
                else if (used + 1 < sizeof(expanded)) {
                        expanded[used++] = *s;
                        expanded[used] = '\0';
                }
        if (strcmp(f->d.text, expanded) != 0)
                fail_msg("got:\n%s\nwant:\n%s", f->d.text, expanded);
}

static void load_ok(struct fixture *f, struct policy *p) {
        reset_diags(f);
        assert_int_equal(policy_load_dir(f->dir, p, &f->sink), 0);
}

static void test_missing_folder(void **state) {
        struct fixture *f = *state;
        struct policy p, untouched;
        char path[PATH_MAX + 16];

        memset(&p, 0x5a, sizeof(p));
        memcpy(&untouched, &p, sizeof(p));
        snprintf(path, sizeof(path), "%s/nope", f->dir);
        reset_diags(f);
        assert_int_equal(policy_load_dir(path, &p, &f->sink), -ENOENT);
        assert_diags(f, "@/nope:0: -: cannot open the configuration folder: No such file or directory");
        assert_memory_equal(&p, &untouched, sizeof(p));

        put(f, "file", "");
        snprintf(path, sizeof(path), "%s/file", f->dir);
        reset_diags(f);
        assert_int_equal(policy_load_dir(path, &p, &f->sink), -ENOTDIR);
        assert_diags(f, "@/file:0: -: cannot open the configuration folder: Not a directory");
}

static void test_empty_folder(void **state) {
        struct fixture *f = *state;
        struct policy p;
        struct policy_resolved *r;
        size_t n = 99;

        /* An empty /etc/ubc is a working install. */
        load_ok(f, &p);
        assert_int_equal(f->d.n, 0);
        assert_int_equal(p.n_class_files, 0);
        assert_int_equal(p.n_guest_files, 0);
        assert_int_equal(p.n_failed, 0);
        assert_int_equal(policy_resolve(&p, &r, &n, &f->sink), 0);
        assert_int_equal(n, 0);
        policy_resolved_free(r, n);
        policy_done(&p);

        mk(f, "policies.d");
        mk(f, "guests.d");
        load_ok(f, &p);
        assert_int_equal(f->d.n, 0);
        policy_done(&p);
}

static void test_subfolder_not_a_folder(void **state) {
        struct fixture *f = *state;
        struct policy p;

        put(f, "guests.d", "oops");
        reset_diags(f);
        assert_int_equal(policy_load_dir(f->dir, &p, &f->sink), -ENOTDIR);
        assert_diags(f, "@/guests.d:0: -: cannot open folder: Not a directory");
}

static void test_unreadable_subfolder(void **state) {
        struct fixture *f = *state;
        char path[PATH_MAX + 16], want[PATH_MAX + 128];
        int status;
        pid_t pid;

        mk(f, "policies.d");
        snprintf(path, sizeof(path), "%s/policies.d", f->dir);
        assert_int_equal(chmod(path, 0), 0);
        assert_int_equal(chmod(f->dir, 0755), 0);

        /* Root reads anything: the load runs in a child that is not root. (cmocka 1.1 prints
         * skips as "not ok", so this test does not skip.) */
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                struct policy p;

                if (geteuid() == 0 && (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0))
                        _exit(77);
                reset_diags(f);
                if (policy_load_dir(f->dir, &p, &f->sink) != -EACCES)
                        _exit(2);
                snprintf(want, sizeof(want), "%s/policies.d:0: -: cannot open folder: Permission denied",
                         f->dir);
                _exit(strcmp(f->d.text, want) == 0 ? 0 : 3);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        if (WEXITSTATUS(status) == 77) {
                print_message("# cannot drop root here, permission check not exercised\n");
                return;
        }
        assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_load_sorted_and_skipped(void **state) {
        struct fixture *f = *state;
        struct policy p;
        char path[PATH_MAX + 64];

        put(f, "policies.d/b.policy", "[class b]\n");
        put(f, "policies.d/a.policy", "[class a]\n");
        put(f, "policies.d/.hidden.policy", "garbage\n");
        put(f, "policies.d/a.policy~", "garbage\n");
        put(f, "policies.d/README", "garbage\n");
        put(f, "guests.d/102.conf", "[guest]\n");
        put(f, "guests.d/101.conf", "[guest]\n");
        put(f, "guests.d/101.conf~", "garbage\n");
        put(f, "guests.d/.101.conf.swp", "garbage\n");
        put(f, "guests.d/web.conf", "[guest]\n");
        put(f, "guests.d/42.conf", "[guest]\n");

        load_ok(f, &p);
        assert_diags(f,
                     "@/guests.d/42.conf:0: -: guest ID out of range, a guest file is named ID.conf with ID "
                     "100..999999999\n"
                     "@/guests.d/web.conf:0: -: not a guest ID, a guest file is named ID.conf with ID "
                     "100..999999999");
        assert_int_equal(f->sink.n_errors, 2);
        assert_int_equal(p.n_class_files, 2);
        snprintf(path, sizeof(path), "%s/policies.d/a.policy", f->dir);
        assert_string_equal(p.class_files[0].path, path);
        assert_string_equal(p.class_files[0].classes[0].name, "a");
        assert_string_equal(p.class_files[1].classes[0].name, "b");
        assert_int_equal(p.n_guest_files, 2);
        assert_int_equal(p.guest_files[0].guest.id, 101);
        assert_int_equal(p.guest_files[1].guest.id, 102);
        assert_int_equal(p.n_failed, 2);
        snprintf(path, sizeof(path), "%s/guests.d/42.conf", f->dir);
        assert_string_equal(p.failed[0], path);
        policy_done(&p);
}

static void test_symlinks(void **state) {
        struct fixture *f = *state;
        struct policy p;
        char path[PATH_MAX + 64], target[PATH_MAX + 64];

        put(f, "secret", "[class stolen]\ncpu.units = 100\n");
        put(f, "policies.d/real/inner.txt", "[class inner]\n");
        put(f, "policies.d/plain.policy", "[class plain]\n");
        mk(f, "guests.d");

        /* Out of the folder, relative or absolute: refused. */
        snprintf(path, sizeof(path), "%s/policies.d/escape.policy", f->dir);
        assert_int_equal(symlink("../secret", path), 0);
        snprintf(path, sizeof(path), "%s/policies.d/abs.policy", f->dir);
        snprintf(target, sizeof(target), "%s/secret", f->dir);
        assert_int_equal(symlink(target, path), 0);
        /* Within the folder: fine. */
        snprintf(path, sizeof(path), "%s/policies.d/inside.policy", f->dir);
        assert_int_equal(symlink("real/inner.txt", path), 0);
        /* Dangling. */
        snprintf(path, sizeof(path), "%s/policies.d/dangling.policy", f->dir);
        assert_int_equal(symlink("real/none", path), 0);

        load_ok(f, &p);
        assert_diags(f, "@/policies.d/abs.policy:0: -: refused: a symlink leading out of '@/policies.d' "
                        "(only relative links inside it are followed)\n"
                        "@/policies.d/dangling.policy:0: -: cannot open: No such file or directory\n"
                        "@/policies.d/escape.policy:0: -: refused: a symlink leading out of '@/policies.d' "
                        "(only relative links inside it are followed)");
        assert_int_equal(p.n_class_files, 2);
        assert_string_equal(p.class_files[0].classes[0].name, "inner");
        assert_string_equal(p.class_files[1].classes[0].name, "plain");
        assert_int_equal(p.n_failed, 3);
        snprintf(path, sizeof(path), "%s/policies.d/escape.policy", f->dir);
        assert_string_equal(p.failed[2], path);
        policy_done(&p);
}

/* Makes openat2() fail with ENOSYS in this process, as on kernels before 5.6. */
static int deny_openat2(void) {
        struct sock_filter filter[] = {
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat2, 0, 1),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        struct sock_fprog prog = {.len = sizeof(filter) / sizeof(filter[0]), .filter = filter};

        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return -1;
        return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

static void test_symlinks_without_openat2(void **state) {
        struct fixture *f = *state;
        char path[PATH_MAX + 64];
        int status;
        pid_t pid;

#if !defined(__x86_64__)
        print_message("# seccomp filter written for x86-64 only, fallback not exercised\n");
        return;
#endif
        put(f, "secret", "[class stolen]\n");
        put(f, "policies.d/real/inner.txt", "[class inner]\n");
        snprintf(path, sizeof(path), "%s/policies.d/escape.policy", f->dir);
        assert_int_equal(symlink("../secret", path), 0);
        snprintf(path, sizeof(path), "%s/policies.d/inside.policy", f->dir);
        assert_int_equal(symlink("real/inner.txt", path), 0);

        /* The fallback runs in a child, which alone loses openat2(). */
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                struct policy p;
                long fd;

                if (deny_openat2() < 0)
                        _exit(77);
                fd = syscall(SYS_openat2, AT_FDCWD, "/", NULL, 0);
                if (fd >= 0 || errno != ENOSYS)
                        _exit(2);
                reset_diags(f);
                if (policy_load_dir(f->dir, &p, &f->sink) != 0)
                        _exit(3);
                if (p.n_class_files != 1 || strcmp(p.class_files[0].classes[0].name, "inner") != 0)
                        _exit(4);
                if (p.n_failed != 1 ||
                    !strstr(f->d.text, "escape.policy:0: -: refused: a symlink leading out of"))
                        _exit(5);
                policy_done(&p);
                _exit(0);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        if (WEXITSTATUS(status) == 77) {
                print_message("# seccomp not available, fallback not exercised\n");
                return;
        }
        assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_not_regular_and_too_large(void **state) {
        struct fixture *f = *state;
        struct policy p;
        char path[PATH_MAX + 64];
        FILE *fp;

        mk(f, "policies.d");
        mk(f, "policies.d/dir.policy");
        /* A FIFO must not hang the load. */
        snprintf(path, sizeof(path), "%s/policies.d/fifo.policy", f->dir);
        assert_int_equal(mkfifo(path, 0644), 0);
        snprintf(path, sizeof(path), "%s/policies.d/huge.policy", f->dir);
        fp = fopen(path, "w");
        assert_non_null(fp);
        for (unsigned i = 0; i <= UBC_POLICY_FILE_MAX / 16; i++)
                fputs("# padding line.\n", fp);
        assert_int_equal(fclose(fp), 0);
        put(f, "policies.d/ok.policy", "[class ok]\n");

        load_ok(f, &p);
        assert_diags(f, "@/policies.d/dir.policy:0: -: not a regular file\n"
                        "@/policies.d/fifo.policy:0: -: not a regular file\n"
                        "@/policies.d/huge.policy:0: -: file too large, at most 1048576 bytes");
        assert_int_equal(p.n_class_files, 1);
        assert_int_equal(p.n_failed, 3);
        policy_done(&p);
}

static void test_broken_file_left_out_and_kept(void **state) {
        struct fixture *f = *state;
        struct policy old, new;
        struct policy_resolved *r;
        size_t n;

        put(f, "policies.d/tiers.policy", "[class gold]\ncpu.units = 4000\n");
        put(f, "guests.d/101.conf", "[guest]\nclass = gold\n");
        put(f, "guests.d/102.conf", "[guest]\ntasks = 10\n");
        load_ok(f, &old);
        assert_int_equal(f->d.n, 0);

        /* A typo in one file: the load reports it and leaves that file out... */
        put(f, "policies.d/tiers.policy", "[class gold]\ncpu.units = 4000x\n");
        put(f, "guests.d/102.conf", "[guest]\ntasks = 20\n");
        load_ok(f, &new);
        assert_diags(f, "@/policies.d/tiers.policy:2: cpu.units: not a whole number, must be 8..500000");
        assert_int_equal(new.n_class_files, 0);
        assert_int_equal(new.n_failed, 1);

        /* ...and the caller keeps the old version of exactly that file. */
        assert_int_equal(policy_keep_failed(&new, &old), 0);
        assert_int_equal(new.n_class_files, 1);
        assert_int_equal(new.class_files[0].classes[0].limits.cpu_units, 4000);
        assert_int_equal(old.n_class_files, 0);
        assert_int_equal(new.n_failed, 1);

        reset_diags(f);
        assert_int_equal(policy_resolve(&new, &r, &n, &f->sink), 0);
        assert_int_equal(f->d.n, 0);
        assert_int_equal(n, 2);
        assert_int_equal(r[0].limits.cpu_units, 4000);
        /* The good file's change is taken. */
        assert_int_equal(r[1].limits.tasks, 20);
        policy_resolved_free(r, n);
        policy_done(&old);
        policy_done(&new);
}

static void test_resolve_classes(void **state) {
        struct fixture *f = *state;
        struct policy p;
        struct policy_resolved *r;
        size_t n;
        char origin[PATH_MAX + 64], want[PATH_MAX + 64];

        put(f, "policies.d/tiers.policy",
            "[class gold]\n"
            "cpu.units = 4096\n"
            "memory = 2G\n"
            "tasks = 100\n"
            "[class default]\n"
            "cpu.units = 256\n");
        put(f, "guests.d/300.conf", "[guest]\nclass = gold\ntasks = 500\nname = a\n");
        put(f, "guests.d/200.conf", "[guest]\nname = uses default\n");
        put(f, "guests.d/100.conf", "[guest]\nclass = default\ncpu.units = 8\n");
        load_ok(f, &p);
        reset_diags(f);
        assert_int_equal(policy_resolve(&p, &r, &n, &f->sink), 0);
        assert_int_equal(f->d.n, 0);
        assert_int_equal(n, 3);

        /* Sorted by ID. */
        assert_int_equal(r[0].guest->id, 100);
        assert_int_equal(r[1].guest->id, 200);
        assert_int_equal(r[2].guest->id, 300);

        /* Guest over class over defaults. */
        assert_int_equal(r[2].limits.cpu_units, 4096);
        assert_int_equal(r[2].limits.tasks, 500);
        assert_int_equal(r[2].limits.mem_limit, 2ULL << 30);
        assert_int_equal(r[2].limits.io_weight, 500);
        assert_string_equal(r[2].class->name, "gold");
        assert_int_equal(r[2].limits.source[UBC_KEY_CPU_UNITS], UBC_SOURCE_CLASS);
        assert_int_equal(r[2].limits.source[UBC_KEY_TASKS], UBC_SOURCE_GUEST);
        assert_int_equal(r[2].limits.source[UBC_KEY_IO_WEIGHT], UBC_SOURCE_DEFAULT);

        assert_int_equal(policy_origin(&r[2], UBC_KEY_CPU_UNITS, origin, sizeof(origin)), 0);
        snprintf(want, sizeof(want), "%s/policies.d/tiers.policy:2", f->dir);
        assert_string_equal(origin, want);
        assert_int_equal(policy_origin(&r[2], UBC_KEY_TASKS, origin, sizeof(origin)), 0);
        snprintf(want, sizeof(want), "%s/guests.d/300.conf:3", f->dir);
        assert_string_equal(origin, want);
        assert_int_equal(policy_origin(&r[2], UBC_KEY_SWAP, origin, sizeof(origin)), 0);
        assert_string_equal(origin, "default");
        assert_int_equal(policy_origin(&r[2], UBC_KEY_TASKS, origin, 10), -ENOBUFS);

        /* No class named: the class called "default". */
        assert_string_equal(r[1].class->name, "default");
        assert_int_equal(r[1].limits.cpu_units, 256);
        assert_int_equal(r[0].limits.cpu_units, 8);

        policy_resolved_free(r, n);
        policy_done(&p);
}

static void test_resolve_without_default_class(void **state) {
        struct fixture *f = *state;
        struct policy p;
        struct policy_resolved *r;
        size_t n;

        put(f, "policies.d/tiers.policy", "[class gold]\ncpu.units = 4096\n");
        put(f, "guests.d/101.conf", "[guest]\n");
        load_ok(f, &p);
        assert_int_equal(policy_resolve(&p, &r, &n, &f->sink), 0);
        assert_int_equal(n, 1);
        assert_null(r[0].class);
        assert_null(r[0].class_file);
        assert_int_equal(r[0].limits.cpu_units, 1024);
        assert_int_equal(r[0].limits.set, 0);
        policy_resolved_free(r, n);
        policy_done(&p);
}

static void test_missing_class(void **state) {
        struct fixture *f = *state;
        struct policy p;
        struct policy_resolved *r;
        size_t n;

        put(f, "policies.d/tiers.policy", "[class gold]\n[class bronze]\n");
        put(f, "guests.d/101.conf", "[guest]\nname = x\nclass = gld\n");
        put(f, "guests.d/102.conf", "[guest]\nclass = platinum\n");
        put(f, "guests.d/103.conf", "[guest]\nclass = gold\n");
        load_ok(f, &p);
        reset_diags(f);
        assert_int_equal(policy_resolve(&p, &r, &n, &f->sink), 0);
        assert_diags(
                f, "@/guests.d/101.conf:3: class: unknown class 'gld', did you mean 'gold'? (known classes: "
                   "bronze, gold)\n"
                   "@/guests.d/102.conf:2: class: unknown class 'platinum' (known classes: bronze, gold)");
        assert_int_equal(n, 1);
        assert_int_equal(r[0].guest->id, 103);
        policy_resolved_free(r, n);
        policy_done(&p);

        /* No classes at all. */
        teardown(state);
        setup(state);
        f = *state;
        put(f, "guests.d/101.conf", "[guest]\nclass = gold\n");
        load_ok(f, &p);
        reset_diags(f);
        assert_int_equal(policy_resolve(&p, &r, &n, &f->sink), 0);
        assert_diags(
                f,
                "@/guests.d/101.conf:2: class: unknown class 'gold', no classes are defined in policies.d");
        assert_int_equal(n, 0);
        policy_resolved_free(r, n);
        policy_done(&p);
}

static void test_duplicate_class(void **state) {
        struct fixture *f = *state;
        struct policy p;
        struct policy_resolved *r;
        size_t n;

        put(f, "policies.d/a.policy", "[class silver]\n[class gold]\ncpu.units = 100\n");
        put(f, "policies.d/b.policy", "# more\n[class gold]\ncpu.units = 200\n");
        put(f, "guests.d/101.conf", "[guest]\nclass = gold\n");
        put(f, "guests.d/102.conf", "[guest]\nclass = silver\n");
        load_ok(f, &p);
        reset_diags(f);
        assert_int_equal(policy_resolve(&p, &r, &n, &f->sink), 0);
        assert_diags(
                f, "@/policies.d/b.policy:2: -: class 'gold' is already defined at @/policies.d/a.policy:2, "
                   "guests using it are left out\n"
                   "@/guests.d/101.conf:2: class: class 'gold' is defined more than once (first at "
                   "@/policies.d/a.policy:2), guest 101 is left out");
        assert_int_equal(n, 1);
        assert_int_equal(r[0].guest->id, 102);
        policy_resolved_free(r, n);
        policy_done(&p);
}

static void test_duplicate_ids(void **state) {
        struct fixture *f = *state;
        struct policy p;
        struct policy_resolved *r;
        size_t n;

        put(f, "guests.d/101.conf", "[guest]\n");
        put(f, "guests.d/0101.conf", "[guest]\n");
        put(f, "guests.d/102.conf", "[guest]\n");
        load_ok(f, &p);
        assert_int_equal(p.n_guest_files, 3);
        reset_diags(f);
        assert_int_equal(policy_resolve(&p, &r, &n, &f->sink), 0);
        assert_diags(f, "@/guests.d/101.conf:0: -: guest 101 is also defined in @/guests.d/0101.conf, "
                        "both are left out");
        assert_int_equal(n, 1);
        assert_int_equal(r[0].guest->id, 102);
        policy_resolved_free(r, n);
        policy_done(&p);
}

/* A two-CPU v1 host like the one in TESTING.md: no swap accounting, no I/O weight. */
static void small_host(struct ubc_host *h) {
        *h = (struct ubc_host){
                .mode = CG_MODE_HYBRID,
                .ctrl = {CG_VERSION_V1, CG_VERSION_V1, CG_VERSION_V1, CG_VERSION_V1, CG_VERSION_V1},
                .swap_accounting = false,
                .io_weight = UBC_IO_WEIGHT_NONE,
                .ncpus = 2,
                .mem_total = 4ULL << 30,
                .n_blockdevs = 1,
                .blockdevs = {{"vda", 254, 0}},
        };
        assert_int_equal(cpuset_parse("0-1", &h->cpus), 0);
        snprintf(h->root_cpus, sizeof(h->root_cpus), "0-1");
        snprintf(h->root_mems, sizeof(h->root_mems), "0");
}

static void test_validate(void **state) {
        struct fixture *f = *state;
        struct policy p;
        struct policy_resolved *r;
        struct ubc_host h;
        size_t n;

        put(f, "policies.d/t.policy",
            "[class big]\n"
            "cpu.set = 0-9\n"
            "swap = 1G\n");
        put(f, "guests.d/101.conf",
            "[guest]\n"
            "class = big\n"
            "io.weight = 100\n"
            "io.limit = /dev/vda wbps=1M\n"
            "io.limit = /dev/sdz rbps=1M\n"
            "tasks = 10\n");
        put(f, "guests.d/102.conf",
            "[guest]\n"
            "io.limit = 254:0 riops=10\n"
            "io.limit = vda riops=20\n");
        put(f, "guests.d/103.conf",
            "[guest]\n"
            "cpu.set = 1\n"
            "io.limit = vda wiops=10\n");
        load_ok(f, &p);
        assert_int_equal(f->d.n, 0);
        assert_int_equal(policy_resolve(&p, &r, &n, &f->sink), 0);
        assert_int_equal(n, 3);

        small_host(&h);
        h.ctrl[UBC_CTRL_PIDS] = CG_VERSION_NONE;
        reset_diags(f);
        assert_int_equal(policy_validate_host(&r[0], &h, &f->sink), -EINVAL);
        assert_diags(
                f,
                "@/guests.d/101.conf:6: tasks: not supported on this host: no 'pids' controller\n"
                "@/policies.d/t.policy:3: swap: not supported on this host: no swap accounting in the "
                "memory cgroup\n"
                "@/guests.d/101.conf:3: io.weight: not supported on this host: no proportional I/O weight "
                "(blkio.weight/io.weight need the BFQ scheduler)\n"
                "@/policies.d/t.policy:2: cpu.set: CPUs 2-9 are not on this host (it has 0-1)\n"
                "@/guests.d/101.conf:5: io.limit: device '/dev/sdz' not found on this host");
        assert_int_equal(f->sink.n_errors, 5);
        /* The device that exists got its number all the same. */
        assert_int_equal(r[0].limits.io_limits[0].major, 254);

        reset_diags(f);
        assert_int_equal(policy_validate_host(&r[1], &h, &f->sink), -EINVAL);
        assert_diags(f, "@/guests.d/102.conf:3: io.limit: device 'vda' is '254:0' again (254:0), give each "
                        "device once");

        reset_diags(f);
        assert_int_equal(policy_validate_host(&r[2], &h, &f->sink), 0);
        assert_int_equal(f->d.n, 0);
        assert_int_equal(r[2].limits.io_limits[0].major, 254);
        assert_int_equal(r[2].limits.io_limits[0].minor, 0);

        /* One CPU too many: singular. */
        h.ctrl[UBC_CTRL_PIDS] = CG_VERSION_V1;
        assert_int_equal(cpuset_parse("0", &h.cpus), 0);
        reset_diags(f);
        assert_int_equal(policy_validate_host(&r[2], &h, &f->sink), -EINVAL);
        assert_diags(f, "@/guests.d/103.conf:2: cpu.set: CPU 1 is not on this host (it has 0)");

        /* A v1 host names the I/O controller "blkio". */
        small_host(&h);
        h.mode = CG_MODE_LEGACY;
        h.ctrl[UBC_CTRL_IO] = CG_VERSION_NONE;
        reset_diags(f);
        assert_int_equal(policy_validate_host(&r[2], &h, &f->sink), -EINVAL);
        assert_diags(f,
                     "@/guests.d/103.conf:3: io.limit: not supported on this host: no 'blkio' controller");

        policy_resolved_free(r, n);
        policy_done(&p);
}

static void test_validate_defaults_pass(void **state) {
        struct policy_resolved g = {.guest_file = "x"};
        struct ubc_host h = {};

        /* Nothing set explicitly: a host with no controllers at all is no error. */
        limits_init_default(&g.limits);
        assert_int_equal(policy_validate_host(&g, &h, NULL), 0);
}

static void strip_components(char *path, int n) {
        for (int i = 0; i < n; i++) {
                char *slash = strrchr(path, '/');

                assert_non_null(slash);
                *slash = '\0';
        }
}

/* The source tree, found from this binary's place in the build tree and __FILE__, which
 * meson gives relative to the build root. */
static void examples_dir(char *buf, size_t size) {
        char exe[PATH_MAX] = "";
        ssize_t k;

        if (__FILE__[0] == '/')
                snprintf(buf, size, "%s", __FILE__);
        else {
                k = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
                assert_true(k > 0);
                exe[k] = '\0';
                /* <build>/tests/unit/test-policy-resolve */
                strip_components(exe, 3);
                snprintf(buf, size, "%s/%s", exe, __FILE__);
        }
        /* <src>/tests/unit/test-policy-resolve.c -> <src>/policies/examples */
        strip_components(buf, 3);
        strncat(buf, "/policies/examples", size - strlen(buf) - 1);
}

static void test_examples(void **state) {
        struct fixture *f = *state;
        struct policy p;
        struct policy_resolved *r;
        struct ubc_host h;
        struct cg_plan plan;
        char dir[PATH_MAX + 64];
        size_t n;

        examples_dir(dir, sizeof(dir));
        reset_diags(f);
        assert_int_equal(policy_load_dir(dir, &p, &f->sink), 0);
        if (f->d.n > 0)
                fail_msg("%s", f->d.text);
        assert_int_equal(p.n_class_files, 1);
        assert_int_equal(p.class_files[0].n_classes, 3);
        assert_int_equal(policy_resolve(&p, &r, &n, &f->sink), 0);
        assert_int_equal(f->d.n, 0);
        assert_int_equal(n, 2);

        assert_int_equal(r[0].guest->id, 101);
        assert_string_equal(r[0].guest->name, "web");
        assert_string_equal(r[0].class->name, "gold");
        assert_int_equal(r[1].guest->id, 102);
        assert_string_equal(r[1].guest->name, "batch");
        assert_string_equal(r[1].class->name, "bronze");
        /* 102's override wins over bronze. */
        assert_int_equal(r[1].limits.source[UBC_KEY_TASKS], UBC_SOURCE_GUEST);
        assert_int_equal(r[1].limits.tasks, 2048);

        /* Valid and mappable on the smallest host: 2 CPUs, no swap accounting, no I/O weight,
         * on v1 and on v2. */
        small_host(&h);
        for (int v = 1; v <= 2; v++) {
                if (v == 2) {
                        h.mode = CG_MODE_UNIFIED;
                        for (int c = 0; c < _UBC_CTRL_MAX; c++)
                                h.ctrl[c] = CG_VERSION_V2;
                }
                for (size_t i = 0; i < n; i++) {
                        assert_int_equal(policy_validate_host(&r[i], &h, &f->sink), 0);
                        assert_int_equal(policy_map(&r[i].limits, &h, NULL, &plan), 0);
                        assert_true(plan.n > 0);
                }
        }
        assert_int_equal(f->d.n, 0);

        policy_resolved_free(r, n);
        policy_done(&p);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_missing_folder, setup, teardown),
                cmocka_unit_test_setup_teardown(test_empty_folder, setup, teardown),
                cmocka_unit_test_setup_teardown(test_subfolder_not_a_folder, setup, teardown),
                cmocka_unit_test_setup_teardown(test_unreadable_subfolder, setup, teardown),
                cmocka_unit_test_setup_teardown(test_load_sorted_and_skipped, setup, teardown),
                cmocka_unit_test_setup_teardown(test_symlinks, setup, teardown),
                cmocka_unit_test_setup_teardown(test_symlinks_without_openat2, setup, teardown),
                cmocka_unit_test_setup_teardown(test_not_regular_and_too_large, setup, teardown),
                cmocka_unit_test_setup_teardown(test_broken_file_left_out_and_kept, setup, teardown),
                cmocka_unit_test_setup_teardown(test_resolve_classes, setup, teardown),
                cmocka_unit_test_setup_teardown(test_resolve_without_default_class, setup, teardown),
                cmocka_unit_test_setup_teardown(test_missing_class, setup, teardown),
                cmocka_unit_test_setup_teardown(test_duplicate_class, setup, teardown),
                cmocka_unit_test_setup_teardown(test_duplicate_ids, setup, teardown),
                cmocka_unit_test_setup_teardown(test_validate, setup, teardown),
                cmocka_unit_test(test_validate_defaults_pass),
                cmocka_unit_test_setup_teardown(test_examples, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
