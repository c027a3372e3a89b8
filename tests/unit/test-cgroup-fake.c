/* The cgroup layer against fake v1 and v2 trees in a temporary folder: guests, plans, the
 * kernel's value formats, rollback when a write is refused. No root needed. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "ubc/cgroup.h"
#include "ubc/macro.h"

struct fake {
        char dir[PATH_MAX];
        enum cg_version version;
        struct cg_root root;
};

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(path);
}

static int fake_setup(void **state, enum cg_version v) {
        struct fake *f = calloc(1, sizeof(*f));
        const char *tmp = getenv("TMPDIR");

        if (!f)
                return -1;
        snprintf(f->dir, sizeof(f->dir), "%s/ubc-cg-fake-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(f->dir)) {
                free(f);
                return -1;
        }
        f->version = v;
        if (cg_root_open_fake(f->dir, v, &f->root) < 0) {
                nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
                free(f);
                return -1;
        }
        *state = f;
        return 0;
}

static int setup_v1(void **state) {
        return fake_setup(state, CG_VERSION_V1);
}

static int setup_v2(void **state) {
        return fake_setup(state, CG_VERSION_V2);
}

static int teardown(void **state) {
        struct fake *f = *state;

        cg_root_close(&f->root);
        nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        free(f);
        return 0;
}

/* The folder a controller's hierarchy uses in the fake tree. */
static const char *hier(const struct fake *f, enum ubc_ctrl c) {
        static const char *const v1[] = {
                [UBC_CTRL_CPU] = "/cpu",  [UBC_CTRL_CPUSET] = "/cpuset", [UBC_CTRL_MEMORY] = "/memory",
                [UBC_CTRL_IO] = "/blkio", [UBC_CTRL_PIDS] = "/pids",     [UBC_CTRL_CPUACCT] = "/cpuacct",
        };
        return f->version == CG_VERSION_V1 ? v1[c] : "";
}

static void fake_path(const struct fake *f, enum ubc_ctrl c, const char *rel, char *buf, size_t size) {
        int n = snprintf(buf, size, "%s%s%s%s", f->dir, hier(f, c), *rel ? "/" : "", rel);
        assert_true(n > 0 && (size_t) n < size);
}

static void put(const struct fake *f, enum ubc_ctrl c, const char *rel, const char *content) {
        char path[PATH_MAX];
        FILE *fp;

        fake_path(f, c, rel, path, sizeof(path));
        fp = fopen(path, "we");
        assert_non_null(fp);
        assert_int_equal(fputs(content, fp) >= 0, 1);
        assert_int_equal(fclose(fp), 0);
}

/* The file's content without a trailing newline; "<absent>" if there is no such file. */
static const char *get(const struct fake *f, enum ubc_ctrl c, const char *rel, char *buf, size_t size) {
        char path[PATH_MAX];
        FILE *fp;
        size_t n;

        fake_path(f, c, rel, path, sizeof(path));
        fp = fopen(path, "re");
        if (!fp)
                return "<absent>";
        n = fread(buf, 1, size - 1, fp);
        fclose(fp);
        buf[n] = 0;
        while (n > 0 && buf[n - 1] == '\n')
                buf[--n] = 0;
        return buf;
}

static bool is_dir(const struct fake *f, enum ubc_ctrl c, const char *rel) {
        char path[PATH_MAX];
        struct stat st;

        fake_path(f, c, rel, path, sizeof(path));
        return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void mkdir_in(const struct fake *f, enum ubc_ctrl c, const char *rel) {
        char path[PATH_MAX];

        fake_path(f, c, rel, path, sizeof(path));
        assert_int_equal(mkdir(path, 0755), 0);
}

static struct cg_write wr(enum ubc_ctrl c, const char *file, const char *value) {
        struct cg_write w = {.ctrl = c, .key = -1, .dev_major = -1, .dev_minor = -1};

        snprintf(w.file, sizeof(w.file), "%s", file);
        snprintf(w.value, sizeof(w.value), "%s", value);
        return w;
}

static struct cg_write wr_dev(enum ubc_ctrl c, const char *file, int major, int minor, const char *value) {
        struct cg_write w = wr(c, file, value);

        w.dev_major = major;
        w.dev_minor = minor;
        return w;
}

static void plan_add(struct cg_plan *p, struct cg_write w) {
        assert_true(p->n < UBC_PLAN_MAX);
        p->w[p->n++] = w;
}

static void test_root_name_is_valid(void **state) {
        static const char *const good[] = {"ubc", "ubc-test-123", "a/b", "ubc.slice", "a/b/c"};
        static const char *const bad[] = {
                "", "../x", "/abs", "a/../b", "a/./b", "a//b", "a/", ".", "..", "x/..", "a b", "a\nb",
        };

        for (size_t i = 0; i < ELEMENTSOF(good); i++)
                assert_true(cg_root_name_is_valid(good[i]));
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_false(cg_root_name_is_valid(bad[i]));
        assert_false(cg_root_name_is_valid(NULL));
}

/* A bad name is refused before anything on the host is looked at or made. */
static void test_bad_root_refused(void **state) {
        static const char *const bad[] = {"../x", "/abs", "a/../b"};

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                struct ubc_host host;
                struct cg_root r;

                assert_int_equal(cg_host_discover(bad[i], &host), -EINVAL);
                assert_int_equal(cg_root_open(bad[i], &host, &r), -EINVAL);
        }
}

static void test_guest_lifecycle(void **state) {
        struct fake *f = *state;
        static const uint32_t ids[] = {999999999, 101, 100000};
        _cleanup_free_ uint32_t *list = NULL;
        char path[PATH_MAX], want[PATH_MAX];
        size_t n;

        for (size_t i = 0; i < ELEMENTSOF(ids); i++) {
                assert_false(cg_guest_exists(&f->root, ids[i]));
                assert_int_equal(cg_guest_create(&f->root, NULL, ids[i]), 1);
                assert_true(cg_guest_exists(&f->root, ids[i]));
        }
        /* idempotent: an existing guest is not new */
        assert_int_equal(cg_guest_create(&f->root, NULL, 101), 0);

        for (enum ubc_ctrl c = 0; c < _UBC_CTRL_MAX; c++)
                assert_true(is_dir(f, c, "101"));

        /* IDs outside 100..999999999 never become names */
        assert_int_equal(cg_guest_create(&f->root, NULL, 99), -EINVAL);
        assert_int_equal(cg_guest_create(&f->root, NULL, 1000000000), -EINVAL);
        assert_int_equal(cg_guest_create(&f->root, NULL, 0), -EINVAL);

        /* not guests: other names, a leading zero, out of range */
        mkdir_in(f, UBC_CTRL_MEMORY, "foo");
        mkdir_in(f, UBC_CTRL_MEMORY, "0102");
        mkdir_in(f, UBC_CTRL_MEMORY, "99");
        mkdir_in(f, UBC_CTRL_MEMORY, "1000000000");
        put(f, UBC_CTRL_MEMORY, "103", "a file, not a cgroup");

        assert_int_equal(cg_guest_list(&f->root, &list, &n), 0);
        assert_int_equal(n, 3);
        assert_int_equal(list[0], 101);
        assert_int_equal(list[1], 100000);
        assert_int_equal(list[2], 999999999);
        free(TAKE_PTR(list));

        assert_int_equal(cg_guest_path(&f->root, UBC_CTRL_IO, 101, path, sizeof(path)), 0);
        fake_path(f, UBC_CTRL_IO, "101", want, sizeof(want));
        assert_string_equal(path, want);
        assert_int_equal(cg_guest_path(&f->root, UBC_CTRL_IO, 101, path, 8), -ENOBUFS);

        assert_int_equal(cg_guest_remove(&f->root, 100000), 0);
        assert_false(cg_guest_exists(&f->root, 100000));
        for (enum ubc_ctrl c = 0; c < _UBC_CTRL_MAX; c++)
                assert_false(is_dir(f, c, "100000"));
        /* absent: nothing to do */
        assert_int_equal(cg_guest_remove(&f->root, 100000), 0);

        assert_int_equal(cg_guest_list(&f->root, &list, &n), 0);
        assert_int_equal(n, 2);
        assert_int_equal(list[0], 101);
        assert_int_equal(list[1], 999999999);
}

/* A guest present in one hierarchy only is listed (so it can be removed) but does not
 * count as existing, so create completes it. */
static void test_guest_half_made(void **state) {
        struct fake *f = *state;
        _cleanup_free_ uint32_t *list = NULL;
        size_t n;

        mkdir_in(f, UBC_CTRL_PIDS, "555");
        assert_false(cg_guest_exists(&f->root, 555));
        assert_int_equal(cg_guest_list(&f->root, &list, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(list[0], 555);

        /* completed, not new: one hierarchy had it already */
        assert_int_equal(cg_guest_create(&f->root, NULL, 555), 0);
        assert_true(cg_guest_exists(&f->root, 555));
        assert_int_equal(cg_guest_remove(&f->root, 555), 0);
        assert_false(is_dir(f, UBC_CTRL_PIDS, "555"));
}

static void test_v1_cpuset_inherit(void **state) {
        struct fake *f = *state;
        char buf[256];

        put(f, UBC_CTRL_CPUSET, "cpuset.cpus", "0-3\n");
        put(f, UBC_CTRL_CPUSET, "cpuset.mems", "0\n");
        assert_int_equal(cg_guest_create(&f->root, NULL, 101), 1);
        assert_string_equal(get(f, UBC_CTRL_CPUSET, "101/cpuset.cpus", buf, sizeof(buf)), "0-3");
        assert_string_equal(get(f, UBC_CTRL_CPUSET, "101/cpuset.mems", buf, sizeof(buf)), "0");

        /* a value set since is kept when create runs again */
        put(f, UBC_CTRL_CPUSET, "101/cpuset.cpus", "2\n");
        assert_int_equal(cg_guest_create(&f->root, NULL, 101), 0);
        assert_string_equal(get(f, UBC_CTRL_CPUSET, "101/cpuset.cpus", buf, sizeof(buf)), "2");
}

static void build_v1_plan(struct cg_plan *p) {
        *p = (struct cg_plan){};
        plan_add(p, wr(UBC_CTRL_CPU, "cpu.shares", "512"));
        plan_add(p, wr(UBC_CTRL_CPU, "cpu.cfs_period_us", "100000"));
        plan_add(p, wr(UBC_CTRL_CPU, "cpu.cfs_quota_us", "150000"));
        plan_add(p, wr(UBC_CTRL_CPUSET, "cpuset.cpus", "0-1"));
        plan_add(p, wr(UBC_CTRL_MEMORY, "memory.soft_limit_in_bytes", "268435456"));
        plan_add(p, wr(UBC_CTRL_MEMORY, "memory.memsw.limit_in_bytes", "805306368"));
        plan_add(p, wr(UBC_CTRL_MEMORY, "memory.limit_in_bytes", "536870912"));
        plan_add(p, wr(UBC_CTRL_PIDS, "pids.max", "100"));
        plan_add(p, wr_dev(UBC_CTRL_IO, "blkio.throttle.read_bps_device", 254, 0, "254:0 1048576"));
}

static void test_apply_v1(void **state) {
        struct fake *f = *state;
        struct cg_apply_result res;
        struct cg_plan plan;
        char buf[256];

        assert_int_equal(cg_guest_create(&f->root, NULL, 101), 1);
        build_v1_plan(&plan);

        assert_int_equal(cg_apply(&f->root, 101, &plan, &res), 0);
        assert_int_equal(res.n_written, plan.n);
        assert_int_equal(res.failed, -1);
        assert_string_equal(get(f, UBC_CTRL_CPU, "101/cpu.shares", buf, sizeof(buf)), "512");
        assert_string_equal(get(f, UBC_CTRL_CPU, "101/cpu.cfs_quota_us", buf, sizeof(buf)), "150000");
        assert_string_equal(get(f, UBC_CTRL_CPUSET, "101/cpuset.cpus", buf, sizeof(buf)), "0-1");
        assert_string_equal(get(f, UBC_CTRL_MEMORY, "101/memory.limit_in_bytes", buf, sizeof(buf)),
                            "536870912");
        assert_string_equal(get(f, UBC_CTRL_MEMORY, "101/memory.memsw.limit_in_bytes", buf, sizeof(buf)),
                            "805306368");
        assert_string_equal(get(f, UBC_CTRL_PIDS, "101/pids.max", buf, sizeof(buf)), "100");
        assert_string_equal(get(f, UBC_CTRL_IO, "101/blkio.throttle.read_bps_device", buf, sizeof(buf)),
                            "254:0 1048576");
        /* only the guest's own files */
        assert_string_equal(get(f, UBC_CTRL_CPU, "cpu.shares", buf, sizeof(buf)), "<absent>");

        /* the same plan again writes nothing */
        assert_int_equal(cg_apply(&f->root, 101, &plan, &res), 0);
        assert_int_equal(res.n_written, 0);

        /* what the kernel reads back for these values still matches */
        put(f, UBC_CTRL_CPUSET, "101/cpuset.cpus", "1,0\n");
        put(f, UBC_CTRL_IO, "101/blkio.throttle.read_bps_device", "8:0 5\n254:0 1048576\n");
        assert_int_equal(cg_apply(&f->root, 101, &plan, &res), 0);
        assert_int_equal(res.n_written, 0);

        /* one value changed behind our back: one write */
        put(f, UBC_CTRL_PIDS, "101/pids.max", "max\n");
        assert_int_equal(cg_apply(&f->root, 101, &plan, &res), 0);
        assert_int_equal(res.n_written, 1);
        assert_string_equal(get(f, UBC_CTRL_PIDS, "101/pids.max", buf, sizeof(buf)), "100");
}

static void test_apply_v2(void **state) {
        struct fake *f = *state;
        struct cg_apply_result res;
        struct cg_plan plan = {};
        char buf[256];

        assert_int_equal(cg_guest_create(&f->root, NULL, 4242), 1);
        /* v2: one directory, made once */
        assert_true(is_dir(f, UBC_CTRL_CPU, "4242"));

        put(f, UBC_CTRL_CPU, "4242/cpu.weight", "100\n");
        put(f, UBC_CTRL_CPU, "4242/cpu.max", "max 100000\n");
        put(f, UBC_CTRL_MEMORY, "4242/memory.max", "max\n");
        put(f, UBC_CTRL_IO, "4242/io.weight", "default 100\n");

        plan_add(&plan, wr(UBC_CTRL_CPU, "cpu.weight", "100"));       /* matches */
        plan_add(&plan, wr(UBC_CTRL_CPU, "cpu.max", "max 100000"));   /* matches */
        plan_add(&plan, wr(UBC_CTRL_MEMORY, "memory.max", "max"));    /* matches */
        plan_add(&plan, wr(UBC_CTRL_IO, "io.weight", "default 100")); /* matches */
        plan_add(&plan, wr(UBC_CTRL_MEMORY, "memory.high", "1073741824"));
        plan_add(&plan,
                 wr_dev(UBC_CTRL_IO, "io.max", 254, 0, "254:0 rbps=52428800 wbps=max riops=max wiops=max"));

        assert_int_equal(cg_apply(&f->root, 4242, &plan, &res), 0);
        assert_int_equal(res.n_written, 2);
        assert_string_equal(get(f, UBC_CTRL_MEMORY, "4242/memory.high", buf, sizeof(buf)), "1073741824");
        assert_string_equal(get(f, UBC_CTRL_IO, "4242/io.max", buf, sizeof(buf)),
                            "254:0 rbps=52428800 wbps=max riops=max wiops=max");

        assert_int_equal(cg_apply(&f->root, 4242, &plan, &res), 0);
        assert_int_equal(res.n_written, 0);
}

/* Makes the write of 'file' fail: a directory in its place gives EISDIR. */
static void block_file(const struct fake *f, enum ubc_ctrl c, const char *guest, const char *file) {
        char rel[PATH_MAX];

        snprintf(rel, sizeof(rel), "%s/%s", guest, file);
        mkdir_in(f, c, rel);
}

static void test_apply_rollback(void **state) {
        struct fake *f = *state;
        struct cg_apply_result res;
        struct cg_plan plan = {};
        char buf[256];

        assert_int_equal(cg_guest_create(&f->root, NULL, 101), 1);
        put(f, UBC_CTRL_CPU, "101/cpu.shares", "1024\n");
        put(f, UBC_CTRL_CPU, "101/cpu.cfs_quota_us", "-1\n");
        put(f, UBC_CTRL_MEMORY, "101/memory.limit_in_bytes", "9223372036854771712\n");
        put(f, UBC_CTRL_IO, "101/blkio.throttle.read_bps_device", "");
        put(f, UBC_CTRL_IO, "101/blkio.throttle.write_bps_device", "254:0 500\n");
        put(f, UBC_CTRL_PIDS, "101/pids.max", "max\n");
        block_file(f, UBC_CTRL_MEMORY, "101", "memory.memsw.limit_in_bytes");

        plan_add(&plan, wr(UBC_CTRL_CPU, "cpu.shares", "512"));
        plan_add(&plan, wr(UBC_CTRL_CPU, "cpu.cfs_quota_us", "-1")); /* matches: skipped */
        plan_add(&plan, wr(UBC_CTRL_MEMORY, "memory.limit_in_bytes", "536870912"));
        plan_add(&plan, wr_dev(UBC_CTRL_IO, "blkio.throttle.read_bps_device", 254, 0, "254:0 1048576"));
        plan_add(&plan, wr_dev(UBC_CTRL_IO, "blkio.throttle.write_bps_device", 254, 0, "254:0 2097152"));
        plan_add(&plan, wr(UBC_CTRL_MEMORY, "memory.memsw.limit_in_bytes", "805306368"));
        plan_add(&plan, wr(UBC_CTRL_PIDS, "pids.max", "100"));

        assert_int_equal(cg_apply(&f->root, 101, &plan, &res), -EISDIR);
        assert_int_equal(res.failed, 5);
        assert_int_equal(res.error, -EISDIR);
        assert_true(res.restored);
        assert_int_equal(res.n_written, 4);

        assert_string_equal(get(f, UBC_CTRL_CPU, "101/cpu.shares", buf, sizeof(buf)), "1024");
        assert_string_equal(get(f, UBC_CTRL_CPU, "101/cpu.cfs_quota_us", buf, sizeof(buf)), "-1");
        assert_string_equal(get(f, UBC_CTRL_MEMORY, "101/memory.limit_in_bytes", buf, sizeof(buf)),
                            "9223372036854771712");
        /* no line before: the line that clears the device; else the old line */
        assert_string_equal(get(f, UBC_CTRL_IO, "101/blkio.throttle.read_bps_device", buf, sizeof(buf)),
                            "254:0 0");
        assert_string_equal(get(f, UBC_CTRL_IO, "101/blkio.throttle.write_bps_device", buf, sizeof(buf)),
                            "254:0 500");
        /* after the refusal nothing more is written */
        assert_string_equal(get(f, UBC_CTRL_PIDS, "101/pids.max", buf, sizeof(buf)), "max");
}

static void test_apply_rollback_v2_device(void **state) {
        struct fake *f = *state;
        struct cg_apply_result res;
        struct cg_plan plan = {};
        char buf[256];

        assert_int_equal(cg_guest_create(&f->root, NULL, 101), 1);
        put(f, UBC_CTRL_IO, "101/io.max", "8:0 rbps=max wbps=10 riops=max wiops=max\n");
        block_file(f, UBC_CTRL_PIDS, "101", "pids.max");

        plan_add(&plan, wr_dev(UBC_CTRL_IO, "io.max", 254, 0, "254:0 rbps=1048576"));
        plan_add(&plan, wr(UBC_CTRL_PIDS, "pids.max", "100"));

        assert_int_equal(cg_apply(&f->root, 101, &plan, &res), -EISDIR);
        assert_int_equal(res.failed, 1);
        assert_true(res.restored);
        assert_string_equal(get(f, UBC_CTRL_IO, "101/io.max", buf, sizeof(buf)),
                            "254:0 rbps=max wbps=max riops=max wiops=max");
}

static void test_apply_missing_guest(void **state) {
        struct fake *f = *state;
        struct cg_apply_result res;
        struct cg_plan plan = {};
        char buf[64];

        plan_add(&plan, wr(UBC_CTRL_PIDS, "pids.max", "100"));
        assert_int_equal(cg_apply(&f->root, 101, &plan, &res), -ENOENT);
        assert_int_equal(res.failed, 0);
        assert_int_equal(res.n_written, 0);
        assert_true(res.restored);

        /* a file name is one component, never a path */
        assert_int_equal(cg_guest_create(&f->root, NULL, 101), 1);
        plan.w[0] = wr(UBC_CTRL_PIDS, "../pids.max", "100");
        assert_int_equal(cg_apply(&f->root, 101, &plan, &res), -EINVAL);
        assert_string_equal(get(f, UBC_CTRL_PIDS, "pids.max", buf, sizeof(buf)), "<absent>");
}

static void test_nprocs_and_busy(void **state) {
        struct fake *f = *state;
        unsigned n;

        assert_int_equal(cg_guest_nprocs(&f->root, 101, &n), -ENOENT);
        assert_int_equal(cg_guest_create(&f->root, NULL, 101), 1);
        assert_int_equal(cg_guest_nprocs(&f->root, 101, &n), 0);
        assert_int_equal(n, 0);

        put(f, UBC_CTRL_MEMORY, "101/cgroup.procs", "11\n12\n13\n");
        put(f, UBC_CTRL_CPU, "101/cgroup.procs", "11\n");
        assert_int_equal(cg_guest_nprocs(&f->root, 101, &n), 0);
        assert_int_equal(n, f->version == CG_VERSION_V1 ? 3 : 1);

        assert_int_equal(cg_guest_remove(&f->root, 101), -EBUSY);
        assert_true(cg_guest_exists(&f->root, 101));

        put(f, UBC_CTRL_MEMORY, "101/cgroup.procs", "");
        put(f, UBC_CTRL_CPU, "101/cgroup.procs", "");
        assert_int_equal(cg_guest_remove(&f->root, 101), 0);
        assert_false(cg_guest_exists(&f->root, 101));
}

static void test_attach(void **state) {
        struct fake *f = *state;
        char buf[64];

        assert_int_equal(cg_guest_attach(&f->root, 101, 4321), -ENOENT);
        assert_int_equal(cg_guest_create(&f->root, NULL, 101), 1);
        assert_int_equal(cg_guest_attach(&f->root, 101, 0), -EINVAL);
        assert_int_equal(cg_guest_attach(&f->root, 101, 4321), 0);
        for (enum ubc_ctrl c = 0; c < _UBC_CTRL_MAX; c++)
                assert_string_equal(get(f, c, "101/cgroup.procs", buf, sizeof(buf)), "4321");
}

static void test_read_current_v1(void **state) {
        struct fake *f = *state;
        struct cg_current cur;

        assert_int_equal(cg_guest_create(&f->root, NULL, 101), 1);
        assert_int_equal(cg_read_current(&f->root, 101, &cur), 0);
        assert_true(cur.v1_mem_limit == UBC_UNLIMITED);
        assert_true(cur.v1_memsw_limit == UBC_UNLIMITED);
        assert_int_equal(cur.n_io_devs, 0);

        put(f, UBC_CTRL_MEMORY, "101/memory.limit_in_bytes", "1073741824\n");
        put(f, UBC_CTRL_MEMORY, "101/memory.memsw.limit_in_bytes", "9223372036854771712\n");
        put(f, UBC_CTRL_IO, "101/blkio.throttle.read_bps_device", "254:0 1048576\n8:0 100\n");
        put(f, UBC_CTRL_IO, "101/blkio.throttle.write_iops_device", "254:0 10\n");
        put(f, UBC_CTRL_IO, "101/blkio.throttle.read_iops_device", "7:0 0\n");
        assert_int_equal(cg_read_current(&f->root, 101, &cur), 0);
        assert_true(cur.v1_mem_limit == 1073741824);
        assert_true(cur.v1_memsw_limit == UBC_UNLIMITED);
        assert_int_equal(cur.n_io_devs, 2);
        assert_int_equal(cur.io_devs[0].major, 254);
        assert_int_equal(cur.io_devs[0].minor, 0);
        assert_int_equal(cur.io_devs[1].major, 8);
        assert_int_equal(cur.io_devs[1].minor, 0);

        assert_int_equal(cg_read_current(&f->root, 102, &cur), -ENOENT);
}

static void test_read_current_v2(void **state) {
        struct fake *f = *state;
        struct cg_current cur;

        assert_int_equal(cg_guest_create(&f->root, NULL, 101), 1);
        put(f, UBC_CTRL_IO, "101/io.max",
            "254:0 rbps=max wbps=1000 riops=max wiops=max\n253:1 rbps=1 wbps=max riops=max wiops=max\n");
        assert_int_equal(cg_read_current(&f->root, 101, &cur), 0);
        assert_true(cur.v1_mem_limit == UBC_UNLIMITED);
        assert_int_equal(cur.n_io_devs, 2);
        assert_int_equal(cur.io_devs[1].major, 253);
        assert_int_equal(cur.io_devs[1].minor, 1);
}

static void test_read_target(void **state) {
        struct fake *f = *state;
        struct cg_write w = wr_dev(UBC_CTRL_IO, "blkio.throttle.read_bps_device", 8, 16, "8:16 1");
        char buf[64];

        assert_int_equal(cg_guest_create(&f->root, NULL, 101), 1);
        put(f, UBC_CTRL_IO, "101/blkio.throttle.read_bps_device", "8:1 5\n8:16 1048576\n");
        assert_int_equal(cg_read_target(&f->root, 101, &w, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "8:16 1048576");

        w.dev_minor = 17;
        assert_int_equal(cg_read_target(&f->root, 101, &w, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "");

        w = wr(UBC_CTRL_CPUSET, "cpuset.cpus", "0");
        put(f, UBC_CTRL_CPUSET, "101/cpuset.cpus", "0-3\n");
        assert_int_equal(cg_read_target(&f->root, 101, &w, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "0-3");
        assert_int_equal(cg_read_target(&f->root, 101, &w, buf, 3), -ENOBUFS);
}

struct match_case {
        const char *file;
        int major, minor;
        const char *want, *actual;
        bool matches;
};

static void test_value_matches(void **state) {
        static const struct match_case cases[] = {
                /* memory: the kernel keeps whole pages, rounding down */
                {"memory.limit_in_bytes", -1, -1, "100000001", "99999744", true},
                {"memory.limit_in_bytes", -1, -1, "100000001", "100003840", false},
                {"memory.soft_limit_in_bytes", -1, -1, "100000001", "99999744\n", true},
                {"memory.limit_in_bytes", -1, -1, "1G", "1073741824", true},
                /* v1 "no limit": -1 in, PAGE_COUNTER_MAX pages out */
                {"memory.limit_in_bytes", -1, -1, "-1", "9223372036854771712", true},
                {"memory.memsw.limit_in_bytes", -1, -1, "9223372036854775807", "9223372036854771712", true},
                {"memory.limit_in_bytes", -1, -1, "-1", "1073741824", false},
                {"memory.max", -1, -1, "max", "max", true},
                {"memory.high", -1, -1, "max", "9223372036854771712", true},
                {"memory.swap.max", -1, -1, "0", "0", true},
                {"memory.max", -1, -1, "4097", "4096", true},
                {"memory.max", -1, -1, "max", "4096", false},
                /* cpu */
                {"cpu.cfs_quota_us", -1, -1, "-1", "-1", true},
                {"cpu.cfs_quota_us", -1, -1, "-5", "-1", true},
                {"cpu.cfs_quota_us", -1, -1, "50000", "-1", false},
                {"cpu.cfs_period_us", -1, -1, "100000", "100000\n", true},
                {"cpu.shares", -1, -1, "1", "2", true},
                {"cpu.shares", -1, -1, "300000", "262144", true},
                {"cpu.shares", -1, -1, "1024", "1000", false},
                {"cpu.max", -1, -1, "max 100000", "max 100000", true},
                {"cpu.max", -1, -1, "max", "max 100000", true},
                {"cpu.max", -1, -1, "150000 100000", "150000 100000", true},
                {"cpu.max", -1, -1, "150000 100000", "max 100000", false},
                {"cpu.max", -1, -1, "150000 100000", "150000 200000", false},
                {"cpu.weight", -1, -1, "100", "100", true},
                /* cpusets are sets */
                {"cpuset.cpus", -1, -1, "0-3,6", "0,1,2,3,6", true},
                {"cpuset.cpus", -1, -1, "1,0", "0-1", true},
                {"cpuset.cpus", -1, -1, "0-1", "0-2", false},
                {"cpuset.cpus", -1, -1, "", "", true},
                {"cpuset.mems", -1, -1, "0", "0\n", true},
                /* io weight */
                {"io.weight", -1, -1, "default 100", "default 100\n8:0 200", true},
                {"io.weight", -1, -1, "100", "default 100", true},
                {"io.weight", -1, -1, "default 200", "default 100", false},
                {"io.bfq.weight", -1, -1, "default 500", "default 500", true},
                {"blkio.bfq.weight", -1, -1, "500", "500", true},
                /* pids */
                {"pids.max", -1, -1, "max", "max", true},
                {"pids.max", -1, -1, "100", "max", false},
                {"pids.max", -1, -1, "100", "100", true},
                /* per-device lines: a missing line is "0" on v1, all max on v2 */
                {"blkio.throttle.read_bps_device", 254, 0, "254:0 0", "", true},
                {"blkio.throttle.read_bps_device", 254, 0, "254:0 1048576", "", false},
                {"blkio.throttle.read_bps_device", 254, 0, "254:0 1048576", "254:0 1048576", true},
                {"blkio.throttle.write_iops_device", 254, 0, "254:0 100", "254:0 200", false},
                {"blkio.throttle.write_iops_device", 254, 0, "254:0 100", "8:0 100", false},
                {"io.max", 254, 0, "254:0 rbps=max wbps=max riops=max wiops=max", "", true},
                {"io.max", 254, 0, "254:0 rbps=1048576", "", false},
                {"io.max", 254, 0, "254:0 rbps=1048576", "254:0 rbps=1048576 wbps=max riops=max wiops=max",
                 true},
                {"io.max", 254, 0, "254:0 rbps=1048576 wiops=max",
                 "254:0 rbps=1048576 wbps=max riops=max wiops=10", false},
                /* anything else: text */
                {"cpu.idle", -1, -1, "0", "0\n", true},
                {"cpu.idle", -1, -1, "0", "1", false},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const struct match_case *m = &cases[i];
                struct cg_write w = wr_dev(UBC_CTRL_CPU, m->file, m->major, m->minor, m->want);

                if (cg_value_matches(&w, m->actual) != m->matches)
                        fail_msg("%s: '%s' vs '%s' should %smatch", m->file, m->want, m->actual,
                                 m->matches ? "" : "not ");
        }
}

/* A guest just made: every write goes out without reading first (a matching value too), and a
 * refusal restores nothing, since the caller removes the new cgroup. */
static void test_apply_new(void **state) {
        struct fake *f = *state;
        struct cg_apply_result res;
        struct cg_plan plan = {};
        char buf[256];

        assert_int_equal(cg_guest_create(&f->root, NULL, 101), 1);
        put(f, UBC_CTRL_PIDS, "101/pids.max", "max\n");
        plan_add(&plan, wr(UBC_CTRL_CPU, f->version == CG_VERSION_V1 ? "cpu.shares" : "cpu.weight", "512"));
        plan_add(&plan, wr(UBC_CTRL_PIDS, "pids.max", "max"));
        assert_int_equal(cg_apply_new(&f->root, 101, &plan, &res), 0);
        assert_int_equal(res.n_written, 2);
        assert_int_equal(res.failed, -1);
        assert_string_equal(get(f, UBC_CTRL_PIDS, "101/pids.max", buf, sizeof(buf)), "max");

        block_file(f, UBC_CTRL_MEMORY, "101", "memory.max");
        plan_add(&plan, wr(UBC_CTRL_MEMORY, "memory.max", "1048576"));
        plan_add(&plan, wr(UBC_CTRL_PIDS, "pids.max", "7"));
        assert_int_equal(cg_apply_new(&f->root, 101, &plan, &res), -EISDIR);
        assert_int_equal(res.failed, 2);
        assert_false(res.restored);
        assert_int_equal(res.n_written, 2);
        /* nothing after the refusal */
        assert_string_equal(get(f, UBC_CTRL_PIDS, "101/pids.max", buf, sizeof(buf)), "max");
}

/* Named per tree, so a TAP line says which one failed. */
#define FAKE_TEST(fn, version) \
        { #fn "_" #version, fn, setup_##version, teardown, NULL }

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_root_name_is_valid),
                cmocka_unit_test(test_bad_root_refused),
                cmocka_unit_test(test_value_matches),
                FAKE_TEST(test_guest_lifecycle, v1),
                FAKE_TEST(test_guest_lifecycle, v2),
                FAKE_TEST(test_guest_half_made, v1),
                FAKE_TEST(test_v1_cpuset_inherit, v1),
                FAKE_TEST(test_apply_v1, v1),
                FAKE_TEST(test_apply_v2, v2),
                FAKE_TEST(test_apply_rollback, v1),
                FAKE_TEST(test_apply_rollback_v2_device, v2),
                FAKE_TEST(test_apply_missing_guest, v1),
                FAKE_TEST(test_apply_new, v1),
                FAKE_TEST(test_apply_new, v2),
                FAKE_TEST(test_nprocs_and_busy, v1),
                FAKE_TEST(test_nprocs_and_busy, v2),
                FAKE_TEST(test_attach, v1),
                FAKE_TEST(test_attach, v2),
                FAKE_TEST(test_read_current_v1, v1),
                FAKE_TEST(test_read_current_v2, v2),
                FAKE_TEST(test_read_target, v1),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
