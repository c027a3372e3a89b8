/* bench-sample: what one accounting sweep costs with 1000 guests, three ways in the same run:
 *   a) the sampler: descriptors kept open, pread at 0 (after a warm-up sweep that opens them),
 *      two figures: a full sweep (every file, as right after ubcd applied limits, forced with
 *      sampler_refresh) and the steady state (limits and memory.stat read every few sweeps,
 *      amortized over the sweeps; what the host's /proc says at the start of each sweep, as
 *      ubcd reads it, included);
 *   b) a naive reader: open/read/close of the same files each sweep (no parsing, so it is
 *      if anything cheaper than a real one), and b') one that reads only the files the
 *      sampler reads on that sweep (the steady state's cadence), so that the gain of kept
 *      descriptors shows apart from the gain of reading less;
 *   c) the libproc2 per-task part, per task, over sleeping tasks forked into one extra guest;
 *   d) the share of one core a sweep every 10 s would take at 1000 guests (from a).
 *
 *   bench-sample [-n GUESTS] [-s SWEEPS] [-t TASKS]
 *
 * Needs root. Finds the hierarchies in /proc/self/mounts (v1 cpu, cpuacct, memory, blkio,
 * pids, co-mounted or not; else the cgroup2 mount), makes ubc-sample-<pid>/ID in each, a
 * sleeping process in a few guests, and removes everything at the end, also on failure or
 * SIGINT/SIGTERM; kills only the processes it forked. Prints numbers, never pass/fail; exits
 * 77 when it cannot run here. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <mntent.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ubc/sampler.h"

#define FIRST_ID     1000u
#define GUESTS_MAX   5000u
#define TASKS_MAX    2000u
#define PROC_GUESTS  5u /* guests with one sleeping process each */
#define HIER_CPUACCT UBC_CTRL_CPUACCT
#define N_HIER       _UBC_CTRL_MAX

static const char *const v1_name[N_HIER] = {
        [UBC_CTRL_CPU] = "cpu",  [UBC_CTRL_CPUSET] = NULL, [UBC_CTRL_MEMORY] = "memory",
        [UBC_CTRL_IO] = "blkio", [UBC_CTRL_PIDS] = "pids", [HIER_CPUACCT] = "cpuacct",
};
static const char *const v2_name[N_HIER] = {
        [UBC_CTRL_CPU] = "cpu",
        [UBC_CTRL_MEMORY] = "memory",
        [UBC_CTRL_IO] = "io",
        [UBC_CTRL_PIDS] = "pids",
};

/* Files the sampler reads, so the naive reader reads the same (those present on the first
 * guest). */
static const char *const v1_files[N_HIER][12] = {
        [UBC_CTRL_CPU] = {"cpu.stat", "cpu.pressure"},
        [UBC_CTRL_MEMORY] = {"memory.usage_in_bytes", "memory.max_usage_in_bytes",
                             "memory.soft_limit_in_bytes", "memory.limit_in_bytes", "memory.failcnt",
                             "memory.memsw.usage_in_bytes", "memory.memsw.limit_in_bytes",
                             "memory.memsw.failcnt", "memory.stat", "memory.kmem.usage_in_bytes",
                             "memory.oom_control", "memory.pressure"},
        [UBC_CTRL_IO] = {"blkio.throttle.io_service_bytes", "blkio.throttle.io_serviced", "io.pressure"},
        [UBC_CTRL_PIDS] = {"pids.current", "pids.peak", "pids.max", "pids.events", "cgroup.procs"},
        [HIER_CPUACCT] = {"cpuacct.usage"},
};
static const char *const v2_files[N_HIER][12] = {
        [UBC_CTRL_CPU] = {"cpu.stat", "cpu.pressure"},
        [UBC_CTRL_MEMORY] = {"memory.current", "memory.peak", "memory.high", "memory.max", "memory.events",
                             "memory.swap.current", "memory.swap.peak", "memory.swap.max",
                             "memory.swap.events", "memory.stat", "memory.pressure"},
        [UBC_CTRL_IO] = {"io.stat", "io.pressure"},
        [UBC_CTRL_PIDS] = {"pids.current", "pids.peak", "pids.max", "pids.events", "cgroup.procs"},
};

struct hier {
        enum cg_version version;
        char path[PATH_MAX]; /* the mount; our root is path/ubc-sample-<pid> */
        int root_fd;
        bool made_root;
        int same_as; /* index of an earlier hier with the same mount, or -1 */
};

/* The bench's state, global only so that the exit and signal paths can clean up. */
static struct {
        struct hier h[N_HIER];
        char root_name[64];
        unsigned n_guests;
        pid_t kids[TASKS_MAX + PROC_GUESTS];
        unsigned n_kids;
        bool has_task[GUESTS_MAX + 1]; /* by guest index: a task was moved in */
        bool cleaning;
} B = {.h = {[0 ... N_HIER - 1] = {.root_fd = -1, .same_as = -1}}};

static double cpu_us(void) {
        struct timespec ts;

        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        return (double) ts.tv_sec * 1e6 + (double) ts.tv_nsec / 1e3;
}

static bool opt_has(const char *opts, const char *word) {
        size_t n = strlen(word);

        for (const char *p = opts; *p;) {
                size_t len = strcspn(p, ",");

                if (len == n && strncmp(p, word, n) == 0)
                        return true;
                p += len + (p[len] == ',');
        }
        return false;
}

static bool v2_has_controller(const char *mount, const char *name) {
        char path[PATH_MAX + 32], buf[512];
        FILE *f;
        bool found = false;

        snprintf(path, sizeof(path), "%s/cgroup.subtree_control", mount);
        f = fopen(path, "re");
        if (!f)
                return false;
        while (fscanf(f, "%511s", buf) == 1)
                if (strcmp(buf, name) == 0)
                        found = true;
        fclose(f);
        return found;
}

static int discover(void) {
        char v2_mount[PATH_MAX] = "";
        struct mntent *m;
        FILE *f = setmntent("/proc/self/mounts", "re");

        if (!f)
                return -errno;
        while ((m = getmntent(f))) {
                if (strcmp(m->mnt_type, "cgroup2") == 0 && !v2_mount[0])
                        snprintf(v2_mount, sizeof(v2_mount), "%s", m->mnt_dir);
                if (strcmp(m->mnt_type, "cgroup") != 0)
                        continue;
                for (int c = 0; c < N_HIER; c++)
                        if (v1_name[c] && opt_has(m->mnt_opts, v1_name[c]) && !B.h[c].version) {
                                B.h[c].version = CG_VERSION_V1;
                                snprintf(B.h[c].path, sizeof(B.h[c].path), "%s", m->mnt_dir);
                        }
        }
        endmntent(f);

        /* The cgroup2 mount for what v1 does not have, if its root hands the controller on. */
        for (int c = 0; c < N_HIER && v2_mount[0]; c++)
                if (!B.h[c].version && v2_name[c] && v2_has_controller(v2_mount, v2_name[c])) {
                        B.h[c].version = CG_VERSION_V2;
                        snprintf(B.h[c].path, sizeof(B.h[c].path), "%s", v2_mount);
                }
        for (int c = 0; c < N_HIER; c++)
                for (int d = 0; d < c; d++)
                        if (B.h[c].version && B.h[d].version && strcmp(B.h[c].path, B.h[d].path) == 0) {
                                B.h[c].same_as = d;
                                break;
                        }
        if (!B.h[UBC_CTRL_MEMORY].version && !B.h[UBC_CTRL_PIDS].version)
                return -ENOENT;
        return 0;
}

static int write_file(int dirfd, const char *path, const char *value) {
        int fd = openat(dirfd, path, O_WRONLY | O_CLOEXEC);
        ssize_t k;

        if (fd < 0)
                return -errno;
        k = write(fd, value, strlen(value));
        if (k < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        close(fd);
        return 0;
}

static void cleanup(void) {
        char name[16];

        if (B.cleaning)
                return;
        B.cleaning = true;
        for (unsigned i = 0; i < B.n_kids; i++)
                if (B.kids[i] > 0)
                        kill(B.kids[i], SIGKILL);
        for (unsigned i = 0; i < B.n_kids; i++)
                if (B.kids[i] > 0)
                        waitpid(B.kids[i], NULL, 0);
        B.n_kids = 0;
        for (int c = 0; c < N_HIER; c++) {
                struct hier *h = &B.h[c];

                if (!h->made_root || h->same_as >= 0)
                        continue;
                /* One more than the guests: the task guest. */
                for (unsigned i = 0; i <= B.n_guests; i++) {
                        snprintf(name, sizeof(name), "%u", FIRST_ID + i);
                        (void) unlinkat(h->root_fd, name, AT_REMOVEDIR);
                }
                close(h->root_fd);
                h->root_fd = -1;
                {
                        char path[PATH_MAX + 80];

                        snprintf(path, sizeof(path), "%s/%s", h->path, B.root_name);
                        if (rmdir(path) < 0 && errno != ENOENT)
                                fprintf(stderr, "bench-sample: could not remove '%s': %m\n", path);
                }
                h->made_root = false;
        }
}

static void on_signal(int sig) {
        cleanup();
        signal(sig, SIG_DFL);
        raise(sig);
}

static int make_tree(unsigned n_guests) {
        char name[16];

        for (int c = 0; c < N_HIER; c++) {
                struct hier *h = &B.h[c];
                char path[PATH_MAX + 80];

                if (!h->version)
                        continue;
                if (h->same_as >= 0) {
                        h->root_fd = B.h[h->same_as].root_fd;
                        continue;
                }
                snprintf(path, sizeof(path), "%s/%s", h->path, B.root_name);
                if (mkdir(path, 0755) < 0)
                        return -errno;
                h->made_root = true;
                h->root_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (h->root_fd < 0)
                        return -errno;
                if (h->version == CG_VERSION_V2)
                        for (int d = 0; d < N_HIER; d++)
                                if (B.h[d].version == CG_VERSION_V2 && v2_name[d]) {
                                        char ctl[16];

                                        snprintf(ctl, sizeof(ctl), "+%s", v2_name[d]);
                                        (void) write_file(h->root_fd, "cgroup.subtree_control", ctl);
                                }
                for (unsigned i = 0; i <= n_guests; i++) {
                        snprintf(name, sizeof(name), "%u", FIRST_ID + i);
                        if (mkdirat(h->root_fd, name, 0755) < 0)
                                return -errno;
                        B.n_guests = i > B.n_guests ? i : B.n_guests;
                }
        }
        return 0;
}

/* Forks a sleeping child and moves it into guest 'id' in every hierarchy. */
static int spawn_into(uint32_t id, pid_t *ret) {
        char path[32], pid_s[16];
        pid_t pid;

        if (B.n_kids >= TASKS_MAX + PROC_GUESTS)
                return -E2BIG;
        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                for (;;)
                        pause();
        }
        B.kids[B.n_kids++] = pid;
        if (id >= FIRST_ID && id - FIRST_ID <= GUESTS_MAX)
                B.has_task[id - FIRST_ID] = true;
        snprintf(path, sizeof(path), "%u/cgroup.procs", id);
        snprintf(pid_s, sizeof(pid_s), "%d", (int) pid);
        for (int c = 0; c < N_HIER; c++)
                if (B.h[c].version && B.h[c].same_as < 0) {
                        int r = write_file(B.h[c].root_fd, path, pid_s);
                        if (r < 0)
                                return r;
                }
        *ret = pid;
        return 0;
}

/* Kernel slab memory in KiB (/proc/meminfo), to see what open descriptors cost the kernel. */
static long slab_kib(void) {
        char line[128];
        long v = -1;
        FILE *f = fopen("/proc/meminfo", "re");

        if (!f)
                return -1;
        while (fgets(line, sizeof(line), f))
                if (sscanf(line, "Slab: %ld kB", &v) == 1)
                        break;
        fclose(f);
        return v;
}

static int count_fds(void) {
        int n = 0;

        for (int fd = 0; fd < 1 << 20; fd++) {
                if (fcntl(fd, F_GETFD) >= 0)
                        n++;
                else if (fd > 65536)
                        break;
        }
        return n;
}

/* The naive reader's file list: what exists in the first guest. */
struct naive_file {
        int root_fd;
        const char *name;
        unsigned every;      /* the sampler's steady cadence for it, here (see cadence()); 0: never */
        unsigned every_idle; /* the same in a guest without a task */
};

/* What the host said to the sampler (sampler_host_read). */
static struct sampler_host host;

/* How often the sampler reads a file at steady state on this tree, whose guests have no
 * limits, no swap limit and no CFS quota: limits every 6th sweep, memory.stat every 3rd, and
 * on v1 the failure counters and cpu.stat every 6th while no limit or quota can move them
 * (collectors/sampler.c); on v1 too memory.oom_control every 6th while the host counts no OOM
 * kill, and memsw usage never while the host has no swap area (it is usage_in_bytes then);
 * and (idle_cadence()) v1 blkio counters every 6th sweep in a guest without a task, whose CPU
 * time stands still. Every other file every sweep. */
static unsigned cadence(const char *name, enum cg_version v) {
        static const char *const limits[] = {"pids.max",
                                             "memory.high",
                                             "memory.max",
                                             "memory.swap.max",
                                             "memory.soft_limit_in_bytes",
                                             "memory.limit_in_bytes",
                                             "memory.memsw.limit_in_bytes"};
        static const char *const v1_quiet[] = {"memory.failcnt", "memory.memsw.failcnt", "cpu.stat"};

        for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++)
                if (strcmp(name, limits[i]) == 0)
                        return 6;
        if (strcmp(name, "memory.stat") == 0)
                return 3;
        for (size_t i = 0; v == CG_VERSION_V1 && i < sizeof(v1_quiet) / sizeof(v1_quiet[0]); i++)
                if (strcmp(name, v1_quiet[i]) == 0)
                        return 6;
        if (v == CG_VERSION_V1 && host.oom_kills_known && strcmp(name, "memory.oom_control") == 0)
                return 6;
        if (v == CG_VERSION_V1 && host.swap_known && host.swap_areas == 0 &&
            strcmp(name, "memory.memsw.usage_in_bytes") == 0)
                return 0;
        return 1;
}

static unsigned idle_cadence(const char *name, enum cg_version v, unsigned every) {
        if (v == CG_VERSION_V1 && B.h[UBC_CTRL_PIDS].version && B.h[HIER_CPUACCT].version &&
            strncmp(name, "blkio.throttle.", 15) == 0)
                return 6;
        return every;
}

static size_t naive_files(struct naive_file *out, size_t max) {
        char path[96];
        size_t n = 0;

        for (int c = 0; c < N_HIER; c++) {
                const char *const *files = B.h[c].version == CG_VERSION_V1 ? v1_files[c] : v2_files[c];

                if (!B.h[c].version)
                        continue;
                for (size_t i = 0; i < 12 && files[i] && n < max; i++) {
                        struct stat st;

                        snprintf(path, sizeof(path), "%u/%s", FIRST_ID, files[i]);
                        if (fstatat(B.h[c].root_fd, path, &st, 0) == 0) {
                                unsigned every = cadence(files[i], B.h[c].version);

                                out[n++] =
                                        (struct naive_file){B.h[c].root_fd, files[i], every,
                                                            idle_cadence(files[i], B.h[c].version, every)};
                        }
                }
        }
        return n;
}

/* One naive sweep: every file, or (sweep > 0) only those the sampler reads on that sweep, in
 * the same turns by guest, and cgroup.procs only of guests with a task. */
static void naive_sweep(const struct naive_file *files, size_t n_files, unsigned n_guests, unsigned sweep) {
        char path[96], buf[16384];

        for (unsigned g = 0; g < n_guests; g++)
                for (size_t i = 0; i < n_files; i++) {
                        unsigned every = B.has_task[g] ? files[i].every : files[i].every_idle;
                        int fd;

                        if (sweep > 0 && (every == 0 || (sweep + FIRST_ID + g) % every != 0))
                                continue;
                        /* The sampler leaves cgroup.procs alone where pids.current says 0. */
                        if (sweep > 0 && !B.has_task[g] && strcmp(files[i].name, "cgroup.procs") == 0)
                                continue;
                        snprintf(path, sizeof(path), "%u/%s", FIRST_ID + g, files[i].name);
                        fd = openat(files[i].root_fd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
                        if (fd < 0)
                                continue;
                        while (read(fd, buf, sizeof(buf)) > 0)
                                ;
                        close(fd);
                }
}

static int run(unsigned n_guests, unsigned sweeps, unsigned n_tasks) {
        struct sampler_root root = {};
        struct sampler *s = NULL;
        struct naive_file files[64];
        pid_t task_pids[TASKS_MAX];
        struct bc_sample bc;
        struct guest_stat st;
        double t0, sampler_us, full_us, naive_us, naive_cad_us, tasks_us, per_sweep = 0;
        size_t n_files;
        struct rlimit rl;
        unsigned slice;
        int fds;
        long slab;
        unsigned ok = 0, task_guest = FIRST_ID + n_guests;
        int r;

        r = make_tree(n_guests);
        if (r < 0) {
                fprintf(stderr, "bench-sample: making the cgroups failed: %s\n", strerror(-r));
                return 1;
        }
        for (unsigned i = 0; i < PROC_GUESTS && i < n_guests; i++) {
                pid_t pid;

                r = spawn_into(FIRST_ID + i * (n_guests / PROC_GUESTS), &pid);
                if (r < 0) {
                        fprintf(stderr, "bench-sample: attaching a process failed: %s\n", strerror(-r));
                        return 1;
                }
        }
        for (unsigned i = 0; i < n_tasks; i++) {
                r = spawn_into(task_guest, &task_pids[i]);
                if (r < 0) {
                        fprintf(stderr, "bench-sample: attaching task %u failed: %s\n", i, strerror(-r));
                        return 1;
                }
        }

        for (int c = 0; c < _UBC_CTRL_MAX; c++) {
                root.fd[c] = B.h[c].version ? B.h[c].root_fd : -1;
                root.version[c] = B.h[c].version;
        }
        /* What ubcd's sampler is told at each sweep; read once here for the cadences. */
        r = sampler_new(&root, &s);
        if (r < 0) {
                fprintf(stderr, "bench-sample: sampler_new: %s\n", strerror(-r));
                return 1;
        }
        sampler_host_read(s, &host);
        sampler_free(s);
        s = NULL;
        n_files = naive_files(files, 64);
        naive_sweep(files, n_files, n_guests, 0); /* warm-up */

        /* The sampler keeps ~n_files descriptors per guest open. Where RLIMIT_NOFILE cannot
         * hold them all for 1000 guests (an unprivileged hard limit), the guests are measured
         * in slices, one sampler each: the cost per guest does not depend on the others. */
        if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
                rl.rlim_cur = 1024;
        slice = (unsigned) ((rl.rlim_cur - rl.rlim_cur / 16 - 256) / (n_files + 1));
        if (slice == 0 || slice > n_guests)
                slice = n_guests;
        sampler_us = full_us = 0;
        for (unsigned start = 0; start < n_guests; start += slice) {
                unsigned end = start + slice < n_guests ? start + slice : n_guests;
                double cpu, full;

                r = sampler_new(&root, &s);
                if (r < 0) {
                        fprintf(stderr, "bench-sample: sampler_new: %s\n", strerror(-r));
                        return 1;
                }
                /* Warm-up: opens every descriptor. */
                slab = slab_kib();
                sampler_sweep_begin(s, NULL);
                for (unsigned g = start; g < end; g++)
                        if (sampler_sample(s, FIRST_ID + g, &bc, &st) == 0)
                                ok++;
                slab = slab_kib() - slab;
                fds = count_fds();
                t0 = cpu_us();
                for (unsigned k = 0; k < sweeps; k++) {
                        sampler_sweep_begin(s, NULL);
                        sampler_refresh(s, 0);
                        for (unsigned g = start; g < end; g++)
                                (void) sampler_sample(s, FIRST_ID + g, &bc, &st);
                }
                full = cpu_us() - t0;
                full_us += full;
                t0 = cpu_us();
                for (unsigned k = 0; k < sweeps; k++) {
                        sampler_sweep_begin(s, NULL);
                        for (unsigned g = start; g < end; g++)
                                (void) sampler_sample(s, FIRST_ID + g, &bc, &st);
                }
                cpu = cpu_us() - t0;
                sampler_us += cpu;
                printf("# slice %u..%u: %d descriptors open, kernel slab +%ld KiB, %.2f us/guest/sweep "
                       "(full sweeps %.2f)\n",
                       FIRST_ID + start, FIRST_ID + end - 1, fds, slab, cpu / sweeps / (end - start),
                       full / sweeps / (end - start));
                sampler_free(s);
                s = NULL;
        }
        sampler_us = sampler_us / sweeps / n_guests;
        full_us = full_us / sweeps / n_guests;

        r = sampler_new(&root, &s);
        if (r < 0) {
                fprintf(stderr, "bench-sample: sampler_new: %s\n", strerror(-r));
                return 1;
        }

        t0 = cpu_us();
        for (unsigned k = 0; k < sweeps; k++)
                naive_sweep(files, n_files, n_guests, 0);
        naive_us = (cpu_us() - t0) / sweeps / n_guests;
        t0 = cpu_us();
        for (unsigned k = 1; k <= sweeps; k++)
                naive_sweep(files, n_files, n_guests, k);
        naive_cad_us = (cpu_us() - t0) / sweeps / n_guests;
        for (size_t i = 0; i < n_files; i++)
                if (strcmp(files[i].name, "cgroup.procs") == 0)
                        per_sweep += (double) PROC_GUESTS / n_guests;
                else if (files[i].every > 0)
                        per_sweep += ((double) PROC_GUESTS / files[i].every +
                                      (double) (n_guests - PROC_GUESTS) / files[i].every_idle) /
                                     n_guests;

        tasks_us = 0;
        if (n_tasks > 0) {
                struct bc_sample tb = {};

                (void) sampler_tasks(s, task_pids, n_tasks, &tb);
                t0 = cpu_us();
                for (unsigned k = 0; k < sweeps; k++)
                        (void) sampler_tasks(s, task_pids, n_tasks, &tb);
                tasks_us = (cpu_us() - t0) / sweeps / n_tasks;
                printf("# task guest: numproc held via tasks: numfile=%" PRIu64 " privvmpages=%" PRIu64
                       " lockedpages=%" PRIu64 "\n",
                       tb.held[BC_NUMFILE], tb.held[BC_PRIVVMPAGES], tb.held[BC_LOCKEDPAGES]);
        }

        /* What the kernel gave for a guest with a process, to see the rows are sane. */
        if (sampler_sample(s, FIRST_ID, &bc, &st) == 0) {
                printf("# guest %u:", FIRST_ID);
                for (int i = 0; i < _BC_MAX; i++)
                        if (bc.present & (1u << i))
                                printf(" %s=%" PRIu64 "%s", bc_resource_name((enum bc_resource) i),
                                       bc.held[i], bc.peak_present & (1u << i) ? "^" : "");
                printf(" cpu_us=%" PRIu64 " io_devs=%zu psi=%d\n", st.cpu_usage_usec, st.n_io, st.has_psi);
        }

        /* A real kernel's removed-and-remade cgroup: in the pids hierarchy only, so the
         * primary directory keeps its inode and only ENODEV on the old descriptors tells. */
        if (B.h[UBC_CTRL_PIDS].version == CG_VERSION_V1 && B.h[UBC_CTRL_PIDS].same_as < 0 && s != NULL) {
                char name[16];
                int fd = B.h[UBC_CTRL_PIDS].root_fd;
                uint32_t id = FIRST_ID + 1;

                snprintf(name, sizeof(name), "%u", id);
                if (unlinkat(fd, name, AT_REMOVEDIR) == 0 && mkdirat(fd, name, 0755) == 0) {
                        r = sampler_sample(s, id, &bc, &st);
                        printf("# remade in pids only: sample=%d numproc present=%d\n", r,
                               !!(bc.present & (1u << BC_NUMPROC)));
                }
                if (unlinkat(B.h[UBC_CTRL_MEMORY].root_fd, name, AT_REMOVEDIR) == 0) {
                        r = sampler_sample(s, id, &bc, &st);
                        printf("# removed in memory: sample=%d (-ENOENT=%d)\n", r, -ENOENT);
                        (void) mkdirat(B.h[UBC_CTRL_MEMORY].root_fd, name, 0755);
                }
        }

        printf("# host: %s swap areas, OOM kills %s\n",
               host.swap_known ? (host.swap_areas ? "some" : "no") : "unknown",
               host.oom_kills_known ? "counted in /proc/vmstat" : "unknown");
        printf("guests=%u sweeps=%u files_per_guest=%zu sampled_ok=%u slice=%u versions=%s\n", n_guests,
               sweeps, n_files, ok, slice, B.h[UBC_CTRL_MEMORY].version == CG_VERSION_V2 ? "v2" : "v1");
        printf("# steady state: the sampler reads %.1f of the %zu files per guest per sweep on average "
               "(the others stand in with their last values):",
               per_sweep, n_files);
        for (size_t i = 0; i < n_files; i++)
                if (files[i].every == 0)
                        printf(" %s never", files[i].name);
                else if (files[i].every > 1)
                        printf(" %s 1/%u", files[i].name, files[i].every);
                else if (files[i].every_idle > 1)
                        printf(" %s 1/%u without a task", files[i].name, files[i].every_idle);
        printf("\n");
        printf("a) sampler      %8.2f us/guest/sweep (cpu), steady state: limits, memory.stat and "
               "quiet counters amortized\n",
               sampler_us);
        printf("a') sampler     %8.2f us/guest/sweep (cpu), full sweep: every file\n", full_us);
        printf("b) naive reader %8.2f us/guest/sweep (cpu), every file every sweep: ratio naive/sampler = "
               "%.2fx steady, %.2fx full\n",
               naive_us, naive_us / sampler_us, naive_us / full_us);
        printf("b') naive reader %7.2f us/guest/sweep (cpu), only the files the sampler reads that sweep: "
               "ratio %.2fx steady\n",
               naive_cad_us, naive_cad_us / sampler_us);
        printf("c) libproc2     %8.2f us/task (%u tasks)\n", tasks_us, n_tasks);
        printf("d) 1000 guests every 10 s: %.4f%% of one core (cgroup part)\n",
               sampler_us * 1000.0 / 10e6 * 100.0);
        printf("RESULT sampler_us=%.2f sampler_full_us=%.2f naive_us=%.2f ratio=%.2f ratio_full=%.2f "
               "naive_same_files_us=%.2f ratio_same_files=%.2f files_per_sweep=%.1f task_us=%.2f "
               "core_pct=%.4f\n",
               sampler_us, full_us, naive_us, naive_us / sampler_us, naive_us / full_us, naive_cad_us,
               naive_cad_us / sampler_us, per_sweep, tasks_us, sampler_us * 1000.0 / 10e6 * 100.0);
        sampler_free(s);
        return 0;
}

int main(int argc, char **argv) {
        unsigned n_guests = 1000, sweeps = 10, n_tasks = 200;
        struct rlimit rl;
        int opt, r;

        while ((opt = getopt(argc, argv, "n:s:t:h")) >= 0) {
                switch (opt) {
                case 'n':
                        n_guests = (unsigned) strtoul(optarg, NULL, 10);
                        break;
                case 's':
                        sweeps = (unsigned) strtoul(optarg, NULL, 10);
                        break;
                case 't':
                        n_tasks = (unsigned) strtoul(optarg, NULL, 10);
                        break;
                default:
                        fprintf(stderr, "usage: bench-sample [-n GUESTS] [-s SWEEPS] [-t TASKS]\n");
                        return 2;
                }
        }
        if (n_guests < PROC_GUESTS || n_guests > GUESTS_MAX || sweeps < 1 || n_tasks > TASKS_MAX) {
                fprintf(stderr, "bench-sample: -n %u..%u, -s >= 1, -t <= %u\n", PROC_GUESTS, GUESTS_MAX,
                        TASKS_MAX);
                return 2;
        }
        if (geteuid() != 0) {
                printf("# SKIP: needs root (it creates cgroups)\n");
                return 77;
        }
        if (discover() < 0) {
                printf("# SKIP: no memory or pids cgroup hierarchy found\n");
                return 77;
        }
        /* Some 20 descriptors per guest stay open: the sampler's cost, which ubcd needs too. */
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
                rlim_t want = (rlim_t) n_guests * 20 + 64;

                /* Root may raise the hard limit too (up to fs.nr_open). */
                rl.rlim_cur = rl.rlim_max = rl.rlim_max > want ? rl.rlim_max : want;
                if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
                        (void) getrlimit(RLIMIT_NOFILE, &rl);
                if (rl.rlim_cur < want)
                        printf("# note: RLIMIT_NOFILE %llu may be short of the ~%llu descriptors %u guests "
                               "keep open; a file that cannot be opened is opened again each sweep\n",
                               (unsigned long long) rl.rlim_cur, (unsigned long long) want, n_guests);
        }
        snprintf(B.root_name, sizeof(B.root_name), "ubc-sample-%d", (int) getpid());
        atexit(cleanup);
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
        signal(SIGHUP, on_signal);

        for (int c = 0; c < N_HIER; c++)
                if (B.h[c].version)
                        printf("# %s: %s (v%d)%s\n", v1_name[c] ? v1_name[c] : "?", B.h[c].path,
                               (int) B.h[c].version, B.h[c].same_as >= 0 ? " co-mounted" : "");
        r = run(n_guests, sweeps, n_tasks);
        cleanup();
        return r;
}
