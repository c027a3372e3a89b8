/* bench-floor: the least work that creates and configures N guest cgroups, as a yardstick for
 * ubcd. It makes the owned root and N guest directories in every hierarchy, and writes the
 * given per-guest values with one open/write/close each: no reads, no checks, no rollback.
 *
 *   bench-floor [-n N] [-i FIRST_ID] [-k] -w WRITES MOUNT ROOT
 *
 * MOUNT is where cgroups are mounted: a cgroup2 mount (one hierarchy), or a folder holding one
 * v1 hierarchy per controller (MOUNT/cpu, MOUNT/cpuset, MOUNT/memory, MOUNT/blkio,
 * MOUNT/pids). ROOT is a new subtree name; it must not exist (a cold start).
 *
 * WRITES lists what each guest gets, in order, one "CONTROLLER FILE VALUE" a line (controller
 * cpu, cpuset, memory, io or blkio, pids; the value is the rest of the line; '#' comments).
 *
 * The setup ubcd makes too is timed with the guests: the root's directories, on v1 the root's
 * cpuset.cpus and cpuset.mems copied from the mount (a v1 cpuset is empty until written), on
 * v2 "+controller" in cgroup.subtree_control down to the root. Everything made is removed at
 * the end (after the clock stopped), also on failure, unless -k.
 *
 * Prints a line for people and one for scripts:
 *   RESULT guests=N writes=W mkdirs=M total_us=T per_guest_us=P cpu_us=C remove_us=R
 * (cpu_us: the time this process ran on a CPU meanwhile, from /proc/self/schedstat; on a busy
 * host it shows the work without the waiting for a CPU.) */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

enum ctrl { CTRL_CPU, CTRL_CPUSET, CTRL_MEMORY, CTRL_IO, CTRL_PIDS, CTRL_MAX };

static const char *const v1_dir[CTRL_MAX] = {"cpu", "cpuset", "memory", "blkio", "pids"};
static const char *const v2_name[CTRL_MAX] = {"cpu", "cpuset", "memory", "io", "pids"};

#define WRITES_MAX 64

struct write {
        enum ctrl ctrl;
        char file[64];
        char value[256];
        size_t len;
};

/* One directory per distinct hierarchy (v2: one for all; v1: co-mounted controllers share). */
struct hier {
        int mount_fd; /* the mount (v1: MOUNT/<ctrl>) */
        int root_fd;  /* MOUNT[/<ctrl>]/ROOT once made */
        dev_t dev;
        ino_t ino;
        bool made_root;
};

static struct hier hiers[CTRL_MAX];
static unsigned n_hiers;
static int hier_of[CTRL_MAX] = {-1, -1, -1, -1, -1}; /* index in hiers, -1: controller absent */
static bool v2;
static const char *root_name;

static uint64_t now_ns(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

/* CPU time this process ran, from /proc/self/schedstat (ns, precise), 0 if unknown. */
static uint64_t cpu_ns(void) {
        unsigned long long ns = 0;
        FILE *f = fopen("/proc/self/schedstat", "re");

        if (f) {
                if (fscanf(f, "%llu", &ns) != 1)
                        ns = 0;
                fclose(f);
        }
        return ns;
}

static int parse_ctrl(const char *s, enum ctrl *ret) {
        for (int c = 0; c < CTRL_MAX; c++)
                if (strcmp(s, v1_dir[c]) == 0 || strcmp(s, v2_name[c]) == 0) {
                        *ret = (enum ctrl) c;
                        return 0;
                }
        return -EINVAL;
}

static int load_writes(const char *path, struct write *w, size_t *ret_n) {
        char line[512];
        size_t n = 0;
        unsigned lineno = 0;
        FILE *f = fopen(path, "re");

        if (!f) {
                fprintf(stderr, "bench-floor: %s: %s\n", path, strerror(errno));
                return -1;
        }
        while (fgets(line, sizeof(line), f)) {
                char ctrl[32], file[64];
                int off = 0;
                size_t len;

                lineno++;
                line[strcspn(line, "\n")] = 0;
                if (line[strspn(line, " \t")] == 0 || line[strspn(line, " \t")] == '#')
                        continue;
                if (sscanf(line, " %31s %63s %n", ctrl, file, &off) != 2 || off == 0 || !line[off] ||
                    strchr(file, '/')) {
                        fprintf(stderr, "bench-floor: %s:%u: expected 'CONTROLLER FILE VALUE'\n", path,
                                lineno);
                        goto fail;
                }
                if (n >= WRITES_MAX) {
                        fprintf(stderr, "bench-floor: %s:%u: more than %d writes\n", path, lineno,
                                WRITES_MAX);
                        goto fail;
                }
                if (parse_ctrl(ctrl, &w[n].ctrl) < 0) {
                        fprintf(stderr, "bench-floor: %s:%u: unknown controller '%s'\n", path, lineno, ctrl);
                        goto fail;
                }
                len = strlen(line + off);
                if (len >= sizeof(w[n].value)) {
                        fprintf(stderr, "bench-floor: %s:%u: value too long\n", path, lineno);
                        goto fail;
                }
                strcpy(w[n].file, file);
                memcpy(w[n].value, line + off, len + 1);
                w[n].len = len;
                n++;
        }
        fclose(f);
        *ret_n = n;
        return 0;
fail:
        fclose(f);
        return -1;
}

/* Which hierarchies exist, and which controllers share one. */
static int open_mounts(const char *mount) {
        struct statfs sfs;

        if (statfs(mount, &sfs) < 0) {
                fprintf(stderr, "bench-floor: %s: %s\n", mount, strerror(errno));
                return -1;
        }
        v2 = sfs.f_type == CGROUP2_SUPER_MAGIC;

        for (int c = 0; c < CTRL_MAX; c++) {
                char path[PATH_MAX];
                struct stat st;
                int fd;

                if (v2 && n_hiers > 0) {
                        hier_of[c] = 0;
                        continue;
                }
                snprintf(path, sizeof(path), v2 ? "%s" : "%s/%s", mount, v1_dir[c]);
                fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0)
                        continue; /* this controller is not mounted here */
                if (!v2 && (fstatfs(fd, &sfs) < 0 || sfs.f_type != CGROUP_SUPER_MAGIC)) {
                        close(fd);
                        continue;
                }
                if (fstat(fd, &st) < 0) {
                        close(fd);
                        continue;
                }
                for (unsigned h = 0; h < n_hiers; h++)
                        if (hiers[h].dev == st.st_dev && hiers[h].ino == st.st_ino) {
                                hier_of[c] = (int) h;
                                break;
                        }
                if (hier_of[c] >= 0) {
                        close(fd);
                        continue;
                }
                hiers[n_hiers] =
                        (struct hier){.mount_fd = fd, .root_fd = -1, .dev = st.st_dev, .ino = st.st_ino};
                hier_of[c] = (int) n_hiers++;
        }
        if (n_hiers == 0) {
                fprintf(stderr, "bench-floor: no cgroup hierarchy under %s\n", mount);
                return -1;
        }
        return 0;
}

/* open + write + close, the value in one write() as the kernel wants it. */
static int write_at(int dirfd, const char *path, const char *value, size_t len) {
        int fd = openat(dirfd, path, O_WRONLY | O_CLOEXEC);
        ssize_t k;

        if (fd < 0)
                return -errno;
        k = write(fd, value, len);
        if (k < 0) {
                int e = -errno;
                close(fd);
                return e;
        }
        close(fd);
        return (size_t) k == len ? 0 : -EIO;
}

static int read_at(int dirfd, const char *path, char *buf, size_t size) {
        int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
        ssize_t k;

        if (fd < 0)
                return -errno;
        k = read(fd, buf, size - 1);
        close(fd);
        if (k < 0)
                return -errno;
        buf[k] = 0;
        buf[strcspn(buf, "\n")] = 0;
        return (int) k;
}

static unsigned n_mkdirs, n_writes;

static int setup_root(void) {
        for (unsigned h = 0; h < n_hiers; h++) {
                if (mkdirat(hiers[h].mount_fd, root_name, 0755) < 0) {
                        fprintf(stderr, "bench-floor: mkdir %s: %s%s\n", root_name, strerror(errno),
                                errno == EEXIST ? " (not a cold start)" : "");
                        return -1;
                }
                hiers[h].made_root = true;
                n_mkdirs++;
                hiers[h].root_fd = openat(hiers[h].mount_fd, root_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (hiers[h].root_fd < 0) {
                        fprintf(stderr, "bench-floor: open %s: %s\n", root_name, strerror(errno));
                        return -1;
                }
        }

        if (v2) {
                /* Hand the controllers down from the mount to the root and from it to the guests. */
                int fds[2] = {hiers[0].mount_fd, hiers[0].root_fd};

                for (int i = 0; i < 2; i++) {
                        char avail[512], enabled[512];

                        if (read_at(fds[i], "cgroup.controllers", avail, sizeof(avail)) < 0 ||
                            read_at(fds[i], "cgroup.subtree_control", enabled, sizeof(enabled)) < 0) {
                                fprintf(stderr, "bench-floor: cannot read cgroup.controllers: %s\n",
                                        strerror(errno));
                                return -1;
                        }
                        for (int c = 0; c < CTRL_MAX; c++) {
                                char op[16];
                                size_t len = strlen(v2_name[c]);
                                bool have = false, on = false;

                                for (char *p = avail; (p = strstr(p, v2_name[c])); p += len)
                                        if ((p == avail || p[-1] == ' ') && (p[len] == ' ' || !p[len]))
                                                have = true;
                                for (char *p = enabled; (p = strstr(p, v2_name[c])); p += len)
                                        if ((p == enabled || p[-1] == ' ') && (p[len] == ' ' || !p[len]))
                                                on = true;
                                if (!have || on)
                                        continue;
                                snprintf(op, sizeof(op), "+%s", v2_name[c]);
                                if (write_at(fds[i], "cgroup.subtree_control", op, strlen(op)) < 0) {
                                        fprintf(stderr, "bench-floor: +%s: %s\n", v2_name[c],
                                                strerror(errno));
                                        return -1;
                                }
                                n_writes++;
                        }
                }
        } else if (hier_of[CTRL_CPUSET] >= 0) {
                /* A v1 cpuset takes no CPUs of its own: the root gets the mount's. */
                static const char *const files[] = {"cpuset.mems", "cpuset.cpus"};
                const struct hier *h = &hiers[hier_of[CTRL_CPUSET]];

                for (size_t i = 0; i < 2; i++) {
                        char val[512];
                        int r = read_at(h->mount_fd, files[i], val, sizeof(val));

                        if (r < 0 || write_at(h->root_fd, files[i], val, strlen(val)) < 0) {
                                fprintf(stderr, "bench-floor: root %s: %s\n", files[i], strerror(errno));
                                return -1;
                        }
                        n_writes++;
                }
        }
        return 0;
}

static int make_guests(uint32_t first, unsigned n, const struct write *w, size_t n_w) {
        for (unsigned i = 0; i < n; i++) {
                char name[16], path[128];
                uint32_t id = first + i;

                snprintf(name, sizeof(name), "%" PRIu32, id);
                for (unsigned h = 0; h < n_hiers; h++) {
                        if (mkdirat(hiers[h].root_fd, name, 0755) < 0) {
                                fprintf(stderr, "bench-floor: mkdir %s/%s: %s\n", root_name, name,
                                        strerror(errno));
                                return -1;
                        }
                        n_mkdirs++;
                }
                for (size_t j = 0; j < n_w; j++) {
                        int r;

                        if (hier_of[w[j].ctrl] < 0) {
                                fprintf(stderr, "bench-floor: %s: controller not mounted\n", w[j].file);
                                return -1;
                        }
                        snprintf(path, sizeof(path), "%s/%s", name, w[j].file);
                        r = write_at(hiers[hier_of[w[j].ctrl]].root_fd, path, w[j].value, w[j].len);
                        if (r < 0) {
                                fprintf(stderr, "bench-floor: %s/%s = '%s': %s\n", root_name, path,
                                        w[j].value, strerror(-r));
                                return -1;
                        }
                        n_writes++;
                }
        }
        return 0;
}

/* Guests (any numeric child we may have made), then the root, in every hierarchy. */
static void remove_all(uint32_t first, unsigned n) {
        for (unsigned h = 0; h < n_hiers; h++) {
                if (hiers[h].root_fd >= 0)
                        for (unsigned i = 0; i < n; i++) {
                                char name[16];

                                snprintf(name, sizeof(name), "%" PRIu32, first + i);
                                if (unlinkat(hiers[h].root_fd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                                        fprintf(stderr, "bench-floor: rmdir %s/%s: %s\n", root_name, name,
                                                strerror(errno));
                        }
                if (hiers[h].made_root && unlinkat(hiers[h].mount_fd, root_name, AT_REMOVEDIR) < 0)
                        fprintf(stderr, "bench-floor: rmdir %s: %s\n", root_name, strerror(errno));
        }
}

static void usage(FILE *f) {
        fprintf(f, "Usage: bench-floor [-n N] [-i FIRST_ID] [-k] -w WRITES MOUNT ROOT\n"
                   "Makes ROOT and N guest cgroups below it, writes WRITES to each, reports the time.\n"
                   "  -n N         guests (default 1000)\n"
                   "  -i ID        first guest ID (default 1000)\n"
                   "  -w FILE      per-guest writes: 'CONTROLLER FILE VALUE' a line\n"
                   "  -k           keep what was made (default: remove it)\n");
}

int main(int argc, char **argv) {
        struct write w[WRITES_MAX];
        size_t n_w = 0;
        const char *writes = NULL;
        unsigned long n = 1000, first = 1000;
        bool keep = false;
        uint64_t t0, t1, t2, c0, c1;
        int c, r;

        while ((c = getopt(argc, argv, "n:i:w:kh")) >= 0)
                switch (c) {
                case 'n':
                        n = strtoul(optarg, NULL, 10);
                        break;
                case 'i':
                        first = strtoul(optarg, NULL, 10);
                        break;
                case 'w':
                        writes = optarg;
                        break;
                case 'k':
                        keep = true;
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                default:
                        usage(stderr);
                        return 2;
                }
        if (!writes || argc - optind != 2 || n == 0 || n > 1000000 || first < 100 ||
            first + n - 1 > 999999999) {
                usage(stderr);
                return 2;
        }
        root_name = argv[optind + 1];
        if (!*root_name || strchr(root_name, '/') || strcmp(root_name, ".") == 0 ||
            strcmp(root_name, "..") == 0) {
                fprintf(stderr, "bench-floor: ROOT must be one plain name\n");
                return 2;
        }
        if (load_writes(writes, w, &n_w) < 0 || open_mounts(argv[optind]) < 0)
                return 1;

        c0 = cpu_ns();
        t0 = now_ns();
        r = setup_root();
        if (r >= 0)
                r = make_guests((uint32_t) first, (unsigned) n, w, n_w);
        t1 = now_ns();
        c1 = cpu_ns();

        if (!keep || r < 0)
                remove_all((uint32_t) first, (unsigned) n);
        t2 = now_ns();
        if (r < 0)
                return 1;

        printf("floor: %lu guests, %zu writes each, cgroup %s: %.1f ms, %.1f us/guest (%u mkdirs, %u "
               "writes)\n",
               n, n_w, v2 ? "v2" : "v1", (t1 - t0) / 1e6, (t1 - t0) / 1e3 / (double) n, n_mkdirs, n_writes);
        printf("RESULT guests=%lu writes=%u mkdirs=%u total_us=%.0f per_guest_us=%.2f cpu_us=%.0f "
               "remove_us=%.0f\n",
               n, n_writes, n_mkdirs, (t1 - t0) / 1e3, (t1 - t0) / 1e3 / (double) n,
               c1 > c0 ? (c1 - c0) / 1e3 : 0.0, keep ? 0.0 : (t2 - t1) / 1e3);
        return 0;
}
