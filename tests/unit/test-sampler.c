/* The sampler against fake v1 and v2 trees in a temporary folder: every beancounter row and
 * `ubcctl stat` value from known file contents, files the kernel lacks, a guest removed and
 * made again, contents re-read each sweep; the per-task part with this test's own PID. */
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
#include <dirent.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ubc/macro.h"
#include "ubc/sampler.h"

#define V1_UNLIMITED "9223372036854771712"

struct fake {
        char dir[PATH_MAX];
        enum cg_version version;
        bool comounted; /* v1: cpuacct files in the cpu hierarchy */
        struct sampler_root root;
        struct sampler *sampler;
};

static const char *const v1_hier[] = {
        [UBC_CTRL_CPU] = "cpu",  [UBC_CTRL_CPUSET] = "cpuset", [UBC_CTRL_MEMORY] = "memory",
        [UBC_CTRL_IO] = "blkio", [UBC_CTRL_PIDS] = "pids",
};

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(path);
}

static void rm_tree(const char *path) {
        nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* The folder of a hierarchy in the fake tree: "" on v2, "cpu", "cpuacct", ... on v1. */
static const char *hier(const struct fake *f, int c) {
        if (f->version == CG_VERSION_V2)
                return "";
        if (c == UBC_CTRL_CPUACCT)
                return f->comounted ? "cpu" : "cpuacct";
        return v1_hier[c];
}

static void fake_path(const struct fake *f, int c, const char *rel, char *buf, size_t size) {
        int n = snprintf(buf, size, "%s/%s%s%s", f->dir, hier(f, c), *hier(f, c) ? "/" : "", rel);
        assert_true(n > 0 && (size_t) n < size);
}

/* Writes a file of guest 'id' in hierarchy c, truncating it in place (same inode). */
static void put(const struct fake *f, int c, uint32_t id, const char *file, const char *content) {
        char path[PATH_MAX], rel[64];
        FILE *fp;

        snprintf(rel, sizeof(rel), "%u", id);
        fake_path(f, c, rel, path, sizeof(path));
        (void) mkdir(path, 0755);
        snprintf(rel, sizeof(rel), "%u/%s", id, file);
        fake_path(f, c, rel, path, sizeof(path));
        fp = fopen(path, "we");
        assert_non_null(fp);
        assert_true(fputs(content, fp) >= 0);
        assert_int_equal(fclose(fp), 0);
}

static void drop(const struct fake *f, int c, uint32_t id, const char *file) {
        char path[PATH_MAX], rel[64];

        snprintf(rel, sizeof(rel), "%u/%s", id, file);
        fake_path(f, c, rel, path, sizeof(path));
        assert_int_equal(unlink(path), 0);
}

static void remove_guest(const struct fake *f, uint32_t id) {
        char path[PATH_MAX], rel[64];

        snprintf(rel, sizeof(rel), "%u", id);
        for (int c = 0; c < _UBC_CTRL_MAX; c++) {
                fake_path(f, c, rel, path, sizeof(path));
                rm_tree(path);
        }
}

static int fake_setup(void **state, enum cg_version v, bool comounted) {
        struct fake *f = calloc(1, sizeof(*f));
        const char *tmp = getenv("TMPDIR");

        if (!f)
                return -1;
        snprintf(f->dir, sizeof(f->dir), "%s/ubc-sampler-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(f->dir)) {
                free(f);
                return -1;
        }
        f->version = v;
        f->comounted = comounted;
        for (int c = 0; c < _UBC_CTRL_MAX; c++) {
                char path[PATH_MAX];
                int fd;

                fake_path(f, c, "", path, sizeof(path));
                (void) mkdir(path, 0755);
                fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0)
                        return -1;
                if (c == UBC_CTRL_CPUACCT && (v != CG_VERSION_V1 || comounted)) {
                        f->root.fd[c] = -1; /* v2 has none; co-mounted it is the cpu hierarchy */
                        close(fd);
                } else {
                        f->root.fd[c] = fd;
                        f->root.version[c] = v;
                }
        }
        if (sampler_new(&f->root, &f->sampler) < 0)
                return -1;
        *state = f;
        return 0;
}

static int setup_v1(void **state) {
        return fake_setup(state, CG_VERSION_V1, false);
}

static int setup_v1_comounted(void **state) {
        return fake_setup(state, CG_VERSION_V1, true);
}

static int setup_v2(void **state) {
        return fake_setup(state, CG_VERSION_V2, false);
}

static int teardown(void **state) {
        struct fake *f = *state;

        sampler_free(f->sampler);
        for (int c = 0; c < _UBC_CTRL_MAX; c++)
                close(f->root.fd[c]);
        rm_tree(f->dir);
        free(f);
        return 0;
}

static void put_procs_self(const struct fake *f, uint32_t id) {
        char line[32];

        snprintf(line, sizeof(line), "%d\n", (int) getpid());
        put(f, UBC_CTRL_PIDS, id, "cgroup.procs", line);
        put(f, UBC_CTRL_MEMORY, id, "cgroup.procs", line);
}

/* A v2 guest with every file, memory.stat with or without the "kernel" line. */
static void put_v2_guest(const struct fake *f, uint32_t id, bool with_peaks) {
        put(f, UBC_CTRL_PIDS, id, "pids.current", "5\n");
        put(f, UBC_CTRL_PIDS, id, "pids.max", "max\n");
        put(f, UBC_CTRL_PIDS, id, "pids.events", "max 3\n");
        put(f, UBC_CTRL_MEMORY, id, "memory.current", "8192\n");
        put(f, UBC_CTRL_MEMORY, id, "memory.high", "max\n");
        put(f, UBC_CTRL_MEMORY, id, "memory.max", "1073741824\n");
        put(f, UBC_CTRL_MEMORY, id, "memory.events", "low 0\nhigh 1\nmax 4\noom 2\noom_kill 1\n");
        put(f, UBC_CTRL_MEMORY, id, "memory.swap.current", "4096\n");
        put(f, UBC_CTRL_MEMORY, id, "memory.swap.max", "max\n");
        put(f, UBC_CTRL_MEMORY, id, "memory.swap.events", "high 0\nmax 2\nfail 5\n");
        put(f, UBC_CTRL_CPU, id, "cpu.stat",
            "usage_usec 1000\nuser_usec 600\nsystem_usec 400\nnr_periods 10\nnr_throttled 2\n"
            "throttled_usec 300\n");
        put(f, UBC_CTRL_IO, id, "io.stat", "8:0 rbytes=100 wbytes=200 rios=3 wios=4 dbytes=0 dios=0\n");
        if (with_peaks) {
                put(f, UBC_CTRL_PIDS, id, "pids.peak", "7\n");
                put(f, UBC_CTRL_MEMORY, id, "memory.peak", "12289\n");
                put(f, UBC_CTRL_MEMORY, id, "memory.swap.peak", "40960\n");
                put(f, UBC_CTRL_MEMORY, id, "memory.stat",
                    "anon 4096\nfile 0\nkernel 123456\nkernel_stack 100\nshmem 8193\n");
                put(f, UBC_CTRL_CPU, id, "cpu.pressure",
                    "some avg10=1.50 avg60=0.00 avg300=0.00 total=50\n"
                    "full avg10=0.00 avg60=0.00 avg300=0.00 total=7\n");
        } else {
                /* Before 5.18: no "kernel" line, its parts listed one by one. */
                put(f, UBC_CTRL_MEMORY, id, "memory.stat",
                    "anon 4096\nkernel_stack 1000\npagetables 200\npercpu 30\nsock 4\nshmem 0\nslab "
                    "50000\n");
        }
        put_procs_self(f, id);
}

static void assert_row(const struct bc_sample *bc, enum bc_resource r, uint64_t held, uint64_t barrier,
                       uint64_t limit) {
        assert_true(bc->present & (1u << r));
        assert_int_equal(bc->held[r], held);
        assert_int_equal(bc->barrier[r], barrier);
        assert_int_equal(bc->limit[r], limit);
}

static void assert_peak(const struct bc_sample *bc, enum bc_resource r, uint64_t peak) {
        assert_true(bc->peak_present & (1u << r));
        assert_int_equal(bc->peak[r], peak);
}

static void assert_events(const struct bc_sample *bc, enum bc_resource r, uint64_t events) {
        assert_true(bc->events_present & (1u << r));
        assert_int_equal(bc->events[r], events);
}

static void assert_tasks_rows(const struct bc_sample *bc) {
        /* This process: nothing locked, some private memory, at least stdin/out/err open. */
        assert_row(bc, BC_LOCKEDPAGES, 0, BC_UNLIMITED, BC_UNLIMITED);
        assert_true(bc->present & (1u << BC_PRIVVMPAGES));
        assert_true(bc->held[BC_PRIVVMPAGES] > 0);
        assert_true(bc->present & (1u << BC_NUMFILE));
        assert_true(bc->held[BC_NUMFILE] >= 3);
}

static void test_v2_rows(void **state) {
        struct fake *f = *state;
        struct bc_sample bc;
        struct guest_stat st;

        put_v2_guest(f, 101, true);
        assert_int_equal(sampler_sample(f->sampler, 101, &bc, &st), 0);

        assert_row(&bc, BC_NUMPROC, 5, BC_UNLIMITED, BC_UNLIMITED);
        assert_peak(&bc, BC_NUMPROC, 7);
        assert_events(&bc, BC_NUMPROC, 3);

        assert_row(&bc, BC_PHYSPAGES, 2, BC_UNLIMITED, 262144);
        assert_peak(&bc, BC_PHYSPAGES, 4); /* 12289 bytes: rounded up */
        assert_events(&bc, BC_PHYSPAGES, 4);

        assert_row(&bc, BC_SWAPPAGES, 1, BC_UNLIMITED, BC_UNLIMITED);
        assert_peak(&bc, BC_SWAPPAGES, 10);
        assert_events(&bc, BC_SWAPPAGES, 7); /* max + fail */

        assert_row(&bc, BC_KMEMSIZE, 123456, BC_UNLIMITED, BC_UNLIMITED); /* bytes */
        assert_row(&bc, BC_SHMPAGES, 3, BC_UNLIMITED, BC_UNLIMITED);
        assert_row(&bc, BC_OOMGUARPAGES, 2, BC_UNLIMITED, BC_UNLIMITED);
        assert_events(&bc, BC_OOMGUARPAGES, 1);
        assert_false(bc.peak_present & (1u << BC_KMEMSIZE));
        assert_tasks_rows(&bc);

        assert_true(st.has_cpu_usage);
        assert_int_equal(st.cpu_usage_usec, 1000);
        assert_int_equal(st.cpu_nr_periods, 10);
        assert_int_equal(st.cpu_nr_throttled, 2);
        assert_int_equal(st.cpu_throttled_usec, 300);
        assert_int_equal(st.n_io, 1);
        assert_int_equal(st.io[0].major, 8);
        assert_int_equal(st.io[0].rbytes, 100);
        assert_int_equal(st.io[0].wbytes, 200);
        assert_int_equal(st.io[0].rios, 3);
        assert_int_equal(st.io[0].wios, 4);
        assert_true(st.has_psi);
        assert_int_equal(st.psi_cpu.some.total, 50);
        assert_int_equal(st.psi_cpu.full.total, 7);
}

static void test_v2_absent_files(void **state) {
        struct fake *f = *state;
        struct bc_sample bc;
        struct guest_stat st;

        put_v2_guest(f, 102, false);
        for (int i = 0; i < 2; i++) { /* the second sweep works from what the first learnt */
                assert_int_equal(sampler_sample(f->sampler, 102, &bc, &st), 0);
                assert_false(bc.peak_present & (1u << BC_NUMPROC));
                assert_false(bc.peak_present & (1u << BC_PHYSPAGES));
                assert_false(bc.peak_present & (1u << BC_SWAPPAGES));
                assert_row(&bc, BC_PHYSPAGES, 2, BC_UNLIMITED, 262144);
                assert_row(&bc, BC_KMEMSIZE, 1000 + 200 + 30 + 4 + 50000, BC_UNLIMITED, BC_UNLIMITED);
                assert_row(&bc, BC_SHMPAGES, 0, BC_UNLIMITED, BC_UNLIMITED);
                assert_false(st.has_psi);
        }

        /* A file appearing later on the same cgroup is not looked for again: remembered
         * absent until the cgroup is made anew. */
        put(f, UBC_CTRL_PIDS, 102, "pids.peak", "9\n");
        assert_int_equal(sampler_sample(f->sampler, 102, &bc, NULL), 0);
        assert_false(bc.peak_present & (1u << BC_NUMPROC));

        /* No memory.current: the rows it gives are not present, the others still are. */
        drop(f, UBC_CTRL_MEMORY, 102, "memory.current");
        sampler_forget(f->sampler, 102);
        assert_int_equal(sampler_sample(f->sampler, 102, &bc, NULL), 0);
        assert_false(bc.present & (1u << BC_PHYSPAGES));
        assert_false(bc.present & (1u << BC_OOMGUARPAGES));
        assert_row(&bc, BC_NUMPROC, 5, BC_UNLIMITED, BC_UNLIMITED);
        assert_peak(&bc, BC_NUMPROC, 9); /* forgotten, so looked for afresh */
}

static void test_second_sweep_rereads(void **state) {
        struct fake *f = *state;
        struct bc_sample bc;

        put_v2_guest(f, 103, true);
        assert_int_equal(sampler_sample(f->sampler, 103, &bc, NULL), 0);
        assert_int_equal(bc.held[BC_PHYSPAGES], 2);

        /* Same inode, new contents (longer, then shorter): pread at 0 sees each whole. */
        put(f, UBC_CTRL_MEMORY, 103, "memory.current", "1048576000\n");
        put(f, UBC_CTRL_PIDS, 103, "pids.current", "42\n");
        put(f, UBC_CTRL_MEMORY, 103, "memory.events", "low 0\nhigh 1\nmax 9\noom 2\noom_kill 3\n");
        assert_int_equal(sampler_sample(f->sampler, 103, &bc, NULL), 0);
        assert_int_equal(bc.held[BC_PHYSPAGES], 256000);
        assert_int_equal(bc.held[BC_NUMPROC], 42);
        assert_events(&bc, BC_PHYSPAGES, 9);
        assert_events(&bc, BC_OOMGUARPAGES, 3);

        put(f, UBC_CTRL_MEMORY, 103, "memory.current", "4096\n");
        assert_int_equal(sampler_sample(f->sampler, 103, &bc, NULL), 0);
        assert_int_equal(bc.held[BC_PHYSPAGES], 1);
}

static void test_limits_read_every_few_sweeps(void **state) {
        struct fake *f = *state;
        struct bc_sample bc;
        unsigned n;

        put_v2_guest(f, 105, true);
        assert_int_equal(sampler_sample(f->sampler, 105, &bc, NULL), 0);
        assert_int_equal(bc.limit[BC_PHYSPAGES], 262144);

        /* A limit written behind the sampler's back shows within SAMPLER_LIMITS_EVERY sweeps,
         * shmem within 3; the counters meanwhile are read every sweep. */
        put(f, UBC_CTRL_MEMORY, 105, "memory.max", "4096000\n");
        put(f, UBC_CTRL_MEMORY, 105, "memory.stat", "anon 1\nkernel 9\nshmem 40960\n");
        for (n = 1; n <= 6; n++) {
                put(f, UBC_CTRL_MEMORY, 105, "memory.current", n % 2 ? "4096\n" : "8192\n");
                assert_int_equal(sampler_sample(f->sampler, 105, &bc, NULL), 0);
                assert_int_equal(bc.held[BC_PHYSPAGES], n % 2 ? 1 : 2);
                assert_row(&bc, BC_NUMPROC, 5, BC_UNLIMITED, BC_UNLIMITED); /* kept, still there */
                if (n >= 3)
                        assert_int_equal(bc.held[BC_SHMPAGES], 10);
                if (bc.limit[BC_PHYSPAGES] == 1000)
                        break;
        }
        assert_true(n <= 6);
        assert_int_equal(bc.limit[BC_PHYSPAGES], 1000);

        /* After sampler_refresh (ubcd applied limits), the next sweep shows them. */
        put(f, UBC_CTRL_MEMORY, 105, "memory.max", "8192000\n");
        put(f, UBC_CTRL_PIDS, 105, "pids.max", "77\n");
        sampler_refresh(f->sampler, 105);
        assert_int_equal(sampler_sample(f->sampler, 105, &bc, NULL), 0);
        assert_int_equal(bc.limit[BC_PHYSPAGES], 2000);
        assert_int_equal(bc.limit[BC_NUMPROC], 77);

        /* The same for every guest at once. */
        put(f, UBC_CTRL_PIDS, 105, "pids.max", "max\n");
        sampler_refresh(f->sampler, 0);
        assert_int_equal(sampler_sample(f->sampler, 105, &bc, NULL), 0);
        assert_int_equal(bc.limit[BC_NUMPROC], BC_UNLIMITED);
}

static void test_no_tasks_no_procs(void **state) {
        struct fake *f = *state;
        struct bc_sample bc;

        /* pids.current 0: an empty guest, whose task rows are present and 0 without a look at
         * cgroup.procs (here, inconsistently, listing this process). */
        put_v2_guest(f, 106, true);
        put(f, UBC_CTRL_PIDS, 106, "pids.current", "0\n");
        assert_int_equal(sampler_sample(f->sampler, 106, &bc, NULL), 0);
        assert_row(&bc, BC_NUMPROC, 0, BC_UNLIMITED, BC_UNLIMITED);
        assert_row(&bc, BC_NUMFILE, 0, BC_UNLIMITED, BC_UNLIMITED);
        assert_row(&bc, BC_PRIVVMPAGES, 0, BC_UNLIMITED, BC_UNLIMITED);

        /* A task: cgroup.procs is read again. */
        put(f, UBC_CTRL_PIDS, 106, "pids.current", "1\n");
        assert_int_equal(sampler_sample(f->sampler, 106, &bc, NULL), 0);
        assert_tasks_rows(&bc);
}

static void test_guest_removed_and_remade(void **state) {
        struct fake *f = *state;
        struct bc_sample bc, untouched;
        struct guest_stat st;

        put_v2_guest(f, 104, true);
        assert_int_equal(sampler_sample(f->sampler, 104, &bc, &st), 0);
        assert_int_equal(bc.held[BC_NUMPROC], 5);

        /* Removed and made again between two sweeps: the old descriptors would still read
         * the removed files here (a kernel would say ENODEV at once), so only the directory's
         * identity tells, looked at every SAMPLER_IDENTITY_EVERY (6) sweeps and right after
         * sampler_refresh(). */
        char path[PATH_MAX];
        int old_dir;
        unsigned n;

        fake_path(f, UBC_CTRL_MEMORY, "104", path, sizeof(path));
        old_dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC); /* its inode is not reused */
        assert_true(old_dir >= 0);
        remove_guest(f, 104);
        put_v2_guest(f, 104, true);
        put(f, UBC_CTRL_PIDS, 104, "pids.current", "6\n");
        close(old_dir);
        for (n = 1; n <= 6; n++) {
                assert_int_equal(sampler_sample(f->sampler, 104, &bc, &st), 0);
                if (bc.held[BC_NUMPROC] == 6)
                        break;
                assert_int_equal(bc.held[BC_NUMPROC], 5);
        }
        assert_true(n <= 6);
        assert_int_equal(bc.held[BC_NUMPROC], 6);

        remove_guest(f, 104);
        sampler_refresh(f->sampler, 104);
        memset(&untouched, 0x5a, sizeof(untouched));
        bc = untouched;
        assert_int_equal(sampler_sample(f->sampler, 104, &bc, &st), -ENOENT);
        assert_memory_equal(&bc, &untouched, sizeof(bc)); /* ret_* only on success */

        /* Made again with other values and without pids.peak. */
        put_v2_guest(f, 104, true);
        put(f, UBC_CTRL_PIDS, 104, "pids.current", "11\n");
        put(f, UBC_CTRL_MEMORY, 104, "memory.current", "40960\n");
        drop(f, UBC_CTRL_PIDS, 104, "pids.peak");
        assert_int_equal(sampler_sample(f->sampler, 104, &bc, &st), 0);
        assert_int_equal(bc.held[BC_NUMPROC], 11);
        assert_int_equal(bc.held[BC_PHYSPAGES], 10);
        assert_false(bc.peak_present & (1u << BC_NUMPROC));

        /* Removed while the sampler holds its descriptors, not made again. */
        remove_guest(f, 104);
        sampler_refresh(f->sampler, 104);
        assert_int_equal(sampler_sample(f->sampler, 104, &bc, &st), -ENOENT);
        sampler_forget(f->sampler, 104);
        assert_int_equal(sampler_sample(f->sampler, 104, &bc, &st), -ENOENT);
        assert_int_equal(sampler_sample(f->sampler, 99, &bc, &st), -EINVAL); /* not an ID */
}

static void put_v1_guest(const struct fake *f, uint32_t id) {
        put(f, UBC_CTRL_PIDS, id, "pids.current", "3\n");
        put(f, UBC_CTRL_PIDS, id, "pids.max", "64\n");
        put(f, UBC_CTRL_PIDS, id, "pids.events", "max 1\n");
        put(f, UBC_CTRL_MEMORY, id, "memory.usage_in_bytes", "8192\n");
        put(f, UBC_CTRL_MEMORY, id, "memory.max_usage_in_bytes", "16384\n");
        put(f, UBC_CTRL_MEMORY, id, "memory.soft_limit_in_bytes", V1_UNLIMITED "\n");
        put(f, UBC_CTRL_MEMORY, id, "memory.limit_in_bytes", "1048576\n");
        put(f, UBC_CTRL_MEMORY, id, "memory.failcnt", "3\n");
        put(f, UBC_CTRL_MEMORY, id, "memory.memsw.usage_in_bytes", "20480\n");
        put(f, UBC_CTRL_MEMORY, id, "memory.memsw.limit_in_bytes", "2097152\n");
        put(f, UBC_CTRL_MEMORY, id, "memory.memsw.failcnt", "6\n");
        put(f, UBC_CTRL_MEMORY, id, "memory.kmem.usage_in_bytes", "50000\n");
        put(f, UBC_CTRL_MEMORY, id, "memory.stat", "cache 0\nrss 8192\nshmem 4096\nmapped_file 0\n");
        put(f, UBC_CTRL_MEMORY, id, "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
        put(f, UBC_CTRL_CPUACCT, id, "cpuacct.usage", "5000000\n");
        put(f, UBC_CTRL_CPU, id, "cpu.stat", "nr_periods 4\nnr_throttled 1\nthrottled_time 2000000\n");
        put(f, UBC_CTRL_IO, id, "blkio.throttle.io_service_bytes",
            "8:0 Read 100\n8:0 Write 200\n8:0 Sync 300\n8:0 Async 0\n8:0 Discard 0\n8:0 Total 300\nTotal "
            "300\n");
        put(f, UBC_CTRL_IO, id, "blkio.throttle.io_serviced",
            "8:0 Read 3\n8:0 Write 4\n8:0 Sync 7\n8:0 Async 0\n8:0 Discard 0\n8:0 Total 7\nTotal 7\n");
        put_procs_self(f, id);
}

static void test_v1_rows(void **state) {
        struct fake *f = *state;
        struct bc_sample bc;
        struct guest_stat st;

        put_v1_guest(f, 201);
        assert_int_equal(sampler_sample(f->sampler, 201, &bc, &st), 0);

        assert_row(&bc, BC_NUMPROC, 3, BC_UNLIMITED, 64);
        assert_false(bc.peak_present & (1u << BC_NUMPROC)); /* v1 has no pids.peak */
        assert_events(&bc, BC_NUMPROC, 1);

        assert_row(&bc, BC_PHYSPAGES, 2, BC_UNLIMITED, 256);
        assert_peak(&bc, BC_PHYSPAGES, 4);
        assert_events(&bc, BC_PHYSPAGES, 3);

        assert_row(&bc, BC_SWAPPAGES, 3, BC_UNLIMITED, 256); /* memsw - mem */
        assert_false(bc.peak_present & (1u << BC_SWAPPAGES));
        assert_events(&bc, BC_SWAPPAGES, 6);

        assert_row(&bc, BC_KMEMSIZE, 50000, BC_UNLIMITED, BC_UNLIMITED);
        assert_row(&bc, BC_SHMPAGES, 1, BC_UNLIMITED, BC_UNLIMITED);
        assert_row(&bc, BC_OOMGUARPAGES, 2, BC_UNLIMITED, BC_UNLIMITED);
        assert_events(&bc, BC_OOMGUARPAGES, 2);
        assert_tasks_rows(&bc);

        assert_true(st.has_cpu_usage);
        assert_int_equal(st.cpu_usage_usec, 5000);
        assert_int_equal(st.cpu_nr_periods, 4);
        assert_int_equal(st.cpu_nr_throttled, 1);
        assert_int_equal(st.cpu_throttled_usec, 2000);
        assert_int_equal(st.n_io, 1);
        assert_int_equal(st.io[0].rbytes, 100);
        assert_int_equal(st.io[0].wbytes, 200);
        assert_int_equal(st.io[0].rios, 3);
        assert_int_equal(st.io[0].wios, 4);
        assert_false(st.has_psi);

        /* Swap: usage below memory (a race between the two reads) is 0, not a wrap; an
         * unlimited memsw limit is no swap limit. */
        put(f, UBC_CTRL_MEMORY, 201, "memory.memsw.usage_in_bytes", "4096\n");
        put(f, UBC_CTRL_MEMORY, 201, "memory.memsw.limit_in_bytes", V1_UNLIMITED "\n");
        put(f, UBC_CTRL_MEMORY, 201, "memory.limit_in_bytes", V1_UNLIMITED "\n");
        sampler_refresh(f->sampler, 201); /* limits written: what ubcd says after applying */
        assert_int_equal(sampler_sample(f->sampler, 201, &bc, &st), 0);
        assert_row(&bc, BC_SWAPPAGES, 0, BC_UNLIMITED, BC_UNLIMITED);
        assert_row(&bc, BC_PHYSPAGES, 2, BC_UNLIMITED, BC_UNLIMITED);
}

static void test_v1_remade(void **state) {
        struct fake *f = *state;
        struct bc_sample bc;

        put_v1_guest(f, 202);
        assert_int_equal(sampler_sample(f->sampler, 202, &bc, NULL), 0);
        remove_guest(f, 202);
        assert_int_equal(sampler_sample(f->sampler, 202, &bc, NULL), -ENOENT);
        put_v1_guest(f, 202);
        put(f, UBC_CTRL_MEMORY, 202, "memory.usage_in_bytes", "409600\n");
        put(f, UBC_CTRL_MEMORY, 202, "memory.memsw.usage_in_bytes", "409600\n");
        assert_int_equal(sampler_sample(f->sampler, 202, &bc, NULL), 0);
        assert_int_equal(bc.held[BC_PHYSPAGES], 100);
        assert_int_equal(bc.held[BC_SWAPPAGES], 0);
}

static void test_v1_failcnt_far_from_the_limit(void **state) {
        struct fake *f = *state;
        struct bc_sample bc;
        struct guest_stat st;
        unsigned n;

        /* 1 GiB limit, peak 16 KiB, no memsw limit, no CFS quota: memory.failcnt,
         * memory.memsw.failcnt and cpu.stat cannot move, and are read every 6th sweep. */
        put_v1_guest(f, 204);
        put(f, UBC_CTRL_MEMORY, 204, "memory.limit_in_bytes", "1073741824\n");
        put(f, UBC_CTRL_MEMORY, 204, "memory.memsw.limit_in_bytes", V1_UNLIMITED "\n");
        put(f, UBC_CTRL_CPU, 204, "cpu.stat", "nr_periods 0\nnr_throttled 0\nthrottled_time 0\n");
        assert_int_equal(sampler_sample(f->sampler, 204, &bc, &st), 0);
        assert_events(&bc, BC_PHYSPAGES, 3);
        assert_events(&bc, BC_SWAPPAGES, 6);
        assert_int_equal(st.cpu_nr_periods, 0);

        /* Changed behind the sampler's back (as no kernel would change them so far from a
         * limit): the last values stand in, and the new ones show within 6 sweeps. */
        put(f, UBC_CTRL_MEMORY, 204, "memory.failcnt", "4\n");
        put(f, UBC_CTRL_MEMORY, 204, "memory.memsw.failcnt", "7\n");
        put(f, UBC_CTRL_CPU, 204, "cpu.stat", "nr_periods 5\nnr_throttled 2\nthrottled_time 0\n");
        assert_int_equal(sampler_sample(f->sampler, 204, &bc, &st), 0);
        assert_events(&bc, BC_PHYSPAGES, 3);
        assert_events(&bc, BC_SWAPPAGES, 6);
        assert_int_equal(st.cpu_nr_periods, 0);
        assert_int_equal(st.cpu_throttled_usec, 0);
        for (n = 1; n < 6 && bc.events[BC_PHYSPAGES] == 3; n++) /* n: sweeps since the change */
                assert_int_equal(sampler_sample(f->sampler, 204, &bc, &st), 0);
        assert_events(&bc, BC_PHYSPAGES, 4);
        assert_events(&bc, BC_SWAPPAGES, 7);
        assert_int_equal(st.cpu_nr_periods, 5);

        /* The peak near the limit: failcnt is read the same sweep; a quota counting periods
         * keeps cpu.stat read every sweep. */
        put(f, UBC_CTRL_MEMORY, 204, "memory.max_usage_in_bytes", "1073737728\n");
        put(f, UBC_CTRL_MEMORY, 204, "memory.failcnt", "5\n");
        put(f, UBC_CTRL_CPU, 204, "cpu.stat", "nr_periods 6\nnr_throttled 2\nthrottled_time 0\n");
        for (n = 0; n < 6; n++) {
                assert_int_equal(sampler_sample(f->sampler, 204, &bc, &st), 0);
                assert_events(&bc, BC_PHYSPAGES, 5);
                assert_int_equal(st.cpu_nr_periods, 6);
        }

        /* After sampler_refresh (ubcd wrote a limit), everything is read at once. */
        put(f, UBC_CTRL_MEMORY, 204, "memory.max_usage_in_bytes", "16384\n");
        put(f, UBC_CTRL_MEMORY, 204, "memory.memsw.failcnt", "8\n");
        sampler_refresh(f->sampler, 204);
        assert_int_equal(sampler_sample(f->sampler, 204, &bc, &st), 0);
        assert_events(&bc, BC_SWAPPAGES, 8);
}

/* What the host says once per sweep: with no swap area in use, memsw is memory and is not
 * read; with the host's oom_kill count still, memory.oom_control is read every 6th sweep, and
 * the sweep the count moves and the next. */
static void test_v1_host_says(void **state) {
        struct fake *f = *state;
        struct sampler_host host = {
                .swap_known = true, .swap_areas = 0, .oom_kills_known = true, .oom_kills = 7};
        struct bc_sample bc;
        unsigned n;

        put_v1_guest(f, 205);
        put(f, UBC_CTRL_MEMORY, 205, "memory.memsw.usage_in_bytes", "409600\n"); /* 100 pages more */
        sampler_sweep_begin(f->sampler, &host);
        assert_int_equal(sampler_sample(f->sampler, 205, &bc, NULL), 0);
        assert_row(&bc, BC_SWAPPAGES, 0, BC_UNLIMITED, 256); /* not memsw - mem: no swap here */
        assert_events(&bc, BC_OOMGUARPAGES, 2);

        /* A swap area: memsw is read again, the same sweep. */
        host.swap_areas = 1;
        sampler_sweep_begin(f->sampler, &host);
        assert_int_equal(sampler_sample(f->sampler, 205, &bc, NULL), 0);
        assert_row(&bc, BC_SWAPPAGES, 98, BC_UNLIMITED, 256);
        host.swap_areas = 0;

        /* oom_kill the same three sweeps in a row: an OOM kill written behind the host's back
         * (as no kernel would) shows only within 6 sweeps. */
        sampler_sweep_begin(f->sampler, &host);
        put(f, UBC_CTRL_MEMORY, 205, "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n");
        for (n = 0; n < 6; n++) {
                sampler_sweep_begin(f->sampler, &host);
                assert_int_equal(sampler_sample(f->sampler, 205, &bc, NULL), 0);
                if (bc.events[BC_OOMGUARPAGES] == 3)
                        break;
        }
        assert_true(n > 0 && n < 6);
        assert_events(&bc, BC_OOMGUARPAGES, 3);

        /* The host's count moves: read that sweep, and the next, then every 6th again. */
        for (n = 0; n < 6; n++) { /* six more sweeps, the count standing still */
                sampler_sweep_begin(f->sampler, &host);
                assert_int_equal(sampler_sample(f->sampler, 205, &bc, NULL), 0);
        }
        put(f, UBC_CTRL_MEMORY, 205, "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 4\n");
        host.oom_kills++;
        sampler_sweep_begin(f->sampler, &host);
        assert_int_equal(sampler_sample(f->sampler, 205, &bc, NULL), 0);
        assert_events(&bc, BC_OOMGUARPAGES, 4);
        put(f, UBC_CTRL_MEMORY, 205, "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 5\n");
        sampler_sweep_begin(f->sampler, &host);
        assert_int_equal(sampler_sample(f->sampler, 205, &bc, NULL), 0);
        assert_events(&bc, BC_OOMGUARPAGES, 5); /* counted in the cgroup a moment after vmstat */

        /* Nothing known of the host: every file every sweep, as before. */
        put(f, UBC_CTRL_MEMORY, 205, "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 6\n");
        sampler_sweep_begin(f->sampler, &(struct sampler_host){});
        assert_int_equal(sampler_sample(f->sampler, 205, &bc, NULL), 0);
        assert_events(&bc, BC_OOMGUARPAGES, 6);
        assert_row(&bc, BC_SWAPPAGES, 98, BC_UNLIMITED, 256);
}

/* A v1 guest with no task now nor at its last sample, and no CPU time between, has its I/O
 * counters read every 6th sweep, the last ones standing in; a task or CPU time, and they are
 * read that sweep. */
static void test_v1_idle_io(void **state) {
        struct fake *f = *state;
        struct guest_stat st;
        unsigned n;

        put_v1_guest(f, 206);
        put(f, UBC_CTRL_PIDS, 206, "pids.current", "0\n");
        assert_int_equal(sampler_sample(f->sampler, 206, NULL, &st), 0);
        assert_int_equal(sampler_sample(f->sampler, 206, NULL, &st), 0);
        assert_int_equal(st.n_io, 1);

        put(f, UBC_CTRL_IO, 206, "blkio.throttle.io_service_bytes",
            "8:0 Read 150\n8:0 Write 200\nTotal 350\n");
        for (n = 0; n < 6; n++) {
                assert_int_equal(sampler_sample(f->sampler, 206, NULL, &st), 0);
                assert_int_equal(st.n_io, 1); /* the kept counters, not none */
                assert_int_equal(st.io[0].rios, 3);
                if (st.io[0].rbytes == 150)
                        break;
                assert_int_equal(st.io[0].rbytes, 100);
        }
        assert_true(n > 0 && n < 6);

        /* CPU time: read the same sweep. */
        put(f, UBC_CTRL_IO, 206, "blkio.throttle.io_service_bytes",
            "8:0 Read 170\n8:0 Write 200\nTotal 370\n");
        put(f, UBC_CTRL_CPUACCT, 206, "cpuacct.usage", "6000000\n");
        assert_int_equal(sampler_sample(f->sampler, 206, NULL, &st), 0);
        assert_int_equal(st.io[0].rbytes, 170);

        /* A task: read every sweep while it is there and the sweep after. */
        put(f, UBC_CTRL_PIDS, 206, "pids.current", "1\n");
        for (n = 0; n < 3; n++) {
                char buf[64];

                snprintf(buf, sizeof(buf), "8:0 Read %u\n8:0 Write 200\nTotal 0\n", 200 + n);
                put(f, UBC_CTRL_IO, 206, "blkio.throttle.io_service_bytes", buf);
                if (n == 2)
                        put(f, UBC_CTRL_PIDS, 206, "pids.current", "0\n");
                assert_int_equal(sampler_sample(f->sampler, 206, NULL, &st), 0);
                assert_int_equal(st.io[0].rbytes, 200 + n);
        }
}

/* This machine's /proc: both are there (oom_kill since Linux 4.13). */
static void test_host_read(void **state) {
        struct fake *f = *state;
        struct sampler_host host;

        sampler_host_read(f->sampler, &host);
        assert_true(host.swap_known);
        assert_true(host.oom_kills_known);
}

static void test_v1_comounted_cpuacct(void **state) {
        struct fake *f = *state;
        struct guest_stat st;

        put_v1_guest(f, 203); /* cpuacct.usage lands in cpu/ here */
        assert_int_equal(sampler_sample(f->sampler, 203, NULL, &st), 0);
        assert_true(st.has_cpu_usage);
        assert_int_equal(st.cpu_usage_usec, 5000);
        assert_int_equal(st.cpu_throttled_usec, 2000);
}

static void test_tasks(void **state) {
        struct fake *f = *state;
        struct bc_sample bc = {};
        pid_t pids[3], gone;
        int status;

        /* A PID that was reaped is skipped without an error. */
        gone = fork();
        assert_true(gone >= 0);
        if (gone == 0)
                _exit(0);
        assert_int_equal(waitpid(gone, &status, 0), gone);

        pids[0] = getpid();
        pids[1] = gone;
        pids[2] = getpid();
        assert_int_equal(sampler_tasks(f->sampler, pids, 1, &bc), 0);
        assert_tasks_rows(&bc);

        struct bc_sample twice = {};
        assert_int_equal(sampler_tasks(f->sampler, pids, 3, &twice), 0);
        assert_int_equal(twice.held[BC_NUMFILE], 2 * bc.held[BC_NUMFILE]);
        assert_int_equal(twice.held[BC_PRIVVMPAGES], 2 * bc.held[BC_PRIVVMPAGES]);

        /* Every task gone by the time it is looked at: nothing, not an error. */
        struct bc_sample gone_only = {};
        assert_int_equal(sampler_tasks(f->sampler, &gone, 1, &gone_only), 0);
        assert_row(&gone_only, BC_NUMFILE, 0, BC_UNLIMITED, BC_UNLIMITED);
        assert_row(&gone_only, BC_PRIVVMPAGES, 0, BC_UNLIMITED, BC_UNLIMITED);

        struct bc_sample none = {};
        assert_int_equal(sampler_tasks(f->sampler, NULL, 0, &none), 0);
        assert_row(&none, BC_NUMFILE, 0, BC_UNLIMITED, BC_UNLIMITED);
}

static unsigned count_open_fds(void) {
        DIR *d = opendir("/proc/self/fd");
        struct dirent *de;
        unsigned n = 0;

        assert_non_null(d);
        while ((de = readdir(d)))
                if (de->d_name[0] != '.')
                        n++;
        closedir(d);
        return n;
}

static struct rlimit saved_nofile;

/* A low RLIMIT_NOFILE: the sampler keeps only part of it (150 of 300) for itself. */
static int setup_v2_few_fds(void **state) {
        struct rlimit rl;

        if (getrlimit(RLIMIT_NOFILE, &saved_nofile) < 0)
                return -1;
        rl = saved_nofile;
        rl.rlim_cur = 300;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
                return -1;
        return setup_v2(state);
}

static int teardown_few_fds(void **state) {
        teardown(state);
        return setrlimit(RLIMIT_NOFILE, &saved_nofile);
}

static void test_fd_budget(void **state) {
        struct fake *f = *state;
        unsigned before = count_open_fds();
        struct bc_sample bc;

        /* 15 guests of some 16 files each would need 240 descriptors: past the budget the
         * files are opened for one read, so values stay right and the daemon keeps room. */
        for (uint32_t id = 300; id < 315; id++)
                put_v2_guest(f, id, true);
        for (int sweep = 0; sweep < 2; sweep++)
                for (uint32_t id = 300; id < 315; id++) {
                        char v[16];

                        snprintf(v, sizeof(v), "%u\n", id * 4096 + sweep);
                        put(f, UBC_CTRL_MEMORY, id, "memory.current", v);
                        assert_int_equal(sampler_sample(f->sampler, id, &bc, NULL), 0);
                        assert_int_equal(bc.held[BC_PHYSPAGES], id + (sweep ? 1 : 0));
                        assert_int_equal(bc.held[BC_NUMPROC], 5);
                        assert_true(count_open_fds() <= before + 150);
                }
        assert_true(count_open_fds() >= before + 100); /* and it does keep most open */
}

#define FAKE_TEST(fn, setup) \
        { #fn, fn, setup, teardown, NULL }

int main(void) {
        const struct CMUnitTest tests[] = {
                FAKE_TEST(test_v2_rows, setup_v2),
                FAKE_TEST(test_v2_absent_files, setup_v2),
                FAKE_TEST(test_second_sweep_rereads, setup_v2),
                FAKE_TEST(test_limits_read_every_few_sweeps, setup_v2),
                FAKE_TEST(test_no_tasks_no_procs, setup_v2),
                FAKE_TEST(test_guest_removed_and_remade, setup_v2),
                FAKE_TEST(test_v1_rows, setup_v1),
                FAKE_TEST(test_v1_remade, setup_v1),
                FAKE_TEST(test_v1_failcnt_far_from_the_limit, setup_v1),
                FAKE_TEST(test_v1_host_says, setup_v1),
                FAKE_TEST(test_host_read, setup_v1),
                FAKE_TEST(test_v1_idle_io, setup_v1),
                FAKE_TEST(test_v1_comounted_cpuacct, setup_v1_comounted),
                FAKE_TEST(test_tasks, setup_v2),
                {"test_fd_budget", test_fd_budget, setup_v2_few_fds, teardown_few_fds, NULL},
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
