/* bench-rrd: what one history update costs per guest and step, for N guests' files in ubc's
 * layout, three ways in the same run:
 *   a) librrd in-process (rrd_update_r), as ubcd does without rrdcached: a row per call, and
 *      ROWS steps' rows per call (-k, default 5), which opens and parses the file once for them;
 *   b) through rrdcached (librrd's client), as ubcd does with `rrdcached =`: ubcd's CPU, the
 *      daemon's (from /proc/PID/stat) while it queues, and again after a flush of everything
 *      it queued (the writing it saves until then);
 *   c) forking `rrdtool update` per guest, what ubcd never does.
 * CPU time per update (ours, children's, the daemon's) and wall time per update.
 *
 *   bench-rrd [-n GUESTS] [-r ROUNDS] [-f FORK_ROUNDS] [-k ROWS]
 *
 * Makes its files in a temporary folder and removes them; starts its own rrdcached on a socket
 * there and ends it by its PID. Prints numbers, never pass/fail; exits 77 when rrdcached or
 * rrdtool is not installed. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <rrd.h>
#include <rrd_client.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ubc/history-sample.h"
#include "ubc/history.h"

#define STEP       60
#define GUESTS_MAX 20000
#define ROWS_MAX   60

static char dir[] = "/tmp/ubc-bench-rrd-XXXXXX";
static unsigned n_guests = 1000;
static pid_t daemon_pid = -1;
static time_t next_time;

struct cost {
        double self_us, children_us, daemon_us, wall_us;
        long majflt; /* ours: pages of the files read from disk */
};

static double now_us(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec * 1e6 + (double) ts.tv_nsec / 1e3;
}

static double rusage_us(int who) {
        struct rusage ru;

        getrusage(who, &ru);
        return (double) (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
               (double) (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

/* utime + stime of a process, in µs; 0 when it cannot be read. */
static double proc_cpu_us(pid_t pid) {
        char path[64], buf[1024], *p;
        unsigned long long utime = 0, stime = 0;
        FILE *f;
        size_t n;

        if (pid <= 0)
                return 0;
        snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
        f = fopen(path, "re");
        if (!f)
                return 0;
        n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';
        p = strrchr(buf, ')'); /* the command may hold spaces */
        if (!p ||
            sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
                return 0;
        return (double) (utime + stime) * 1e6 / (double) sysconf(_SC_CLK_TCK);
}

static void snap(struct cost *c) {
        struct rusage ru;

        getrusage(RUSAGE_SELF, &ru);
        c->majflt = ru.ru_majflt;
        c->self_us = rusage_us(RUSAGE_SELF);
        c->children_us = rusage_us(RUSAGE_CHILDREN);
        c->daemon_us = proc_cpu_us(daemon_pid);
        c->wall_us = now_us();
}

static void path_of(unsigned i, char *buf, size_t size) {
        snprintf(buf, size, "%s/%u.rrd", dir, 100 + i);
}

/* One update line per guest: plausible values, all sources. */
static void line_of(unsigned i, time_t t, char *buf, size_t size) {
        double v[_HG_MAX];

        for (size_t k = 0; k < _HG_MAX; k++)
                v[k] = k >= HG_FAILCNT ? 0 : (double) ((i * 7919u + (unsigned) t + k * 31u) % 1000u);
        (void) history_format_update(buf, size, t, v, _HG_MAX);
}

static void result(const char *how, const struct cost *a, const struct cost *b, unsigned long updates) {
        double self = b->self_us - a->self_us, children = b->children_us - a->children_us;
        double daemon = b->daemon_us - a->daemon_us, wall = b->wall_us - a->wall_us;

        printf("RESULT rrd-update %-22s guests=%u updates=%lu cpu_us_per_update=%.1f (ubcd %.1f, children "
               "%.1f, rrdcached %.1f) wall_us_per_update=%.1f majflt_per_update=%.2f\n",
               how, n_guests, updates, (self + children + daemon) / (double) updates,
               self / (double) updates, children / (double) updates, daemon / (double) updates,
               wall / (double) updates, (double) (b->majflt - a->majflt) / (double) updates);
        fflush(stdout);
}

/* One call per file holding 'rows' steps; *updates counts rows, so the cost is per guest and
 * step either way. */
static int round_in_process(unsigned rows, unsigned long *updates) {
        static char lines[ROWS_MAX][1024];
        const char *argv[ROWS_MAX];
        char path[128];
        time_t first = next_time + STEP;

        next_time += (time_t) rows * STEP;
        for (unsigned i = 0; i < n_guests; i++) {
                path_of(i, path, sizeof(path));
                for (unsigned k = 0; k < rows; k++) {
                        line_of(i, first + (time_t) k * STEP, lines[k], sizeof(lines[k]));
                        argv[k] = lines[k];
                }
                rrd_clear_error();
                if (rrd_update_r(path, NULL, (int) rows, argv) < 0) {
                        fprintf(stderr, "bench-rrd: %s: %s\n", path, rrd_get_error());
                        return -EIO;
                }
                *updates += rows;
        }
        return 0;
}

static int round_daemon(unsigned long *updates) {
        char path[128], line[1024];
        const char *argv[1] = {line};

        next_time += STEP;
        for (unsigned i = 0; i < n_guests; i++) {
                path_of(i, path, sizeof(path));
                line_of(i, next_time, line, sizeof(line));
                rrd_clear_error();
                if (rrdc_update(path, 1, argv) != 0) {
                        fprintf(stderr, "bench-rrd: rrdcached: %s: %s\n", path, rrd_get_error());
                        return -EIO;
                }
                (*updates)++;
        }
        return 0;
}

static int round_fork(unsigned long *updates) {
        char path[128], line[1024];

        next_time += STEP;
        for (unsigned i = 0; i < n_guests; i++) {
                int status;
                pid_t pid;

                path_of(i, path, sizeof(path));
                line_of(i, next_time, line, sizeof(line));
                pid = fork();
                if (pid < 0)
                        return -errno;
                if (pid == 0) {
                        execlp("rrdtool", "rrdtool", "update", path, line, (char *) NULL);
                        _exit(127);
                }
                if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                        fprintf(stderr, "bench-rrd: rrdtool update %s failed\n", path);
                        return -EIO;
                }
                (*updates)++;
        }
        return 0;
}

static int start_daemon(char *addr, size_t size) {
        char sock[128], pidfile[128], buf[32] = "";
        FILE *f;
        pid_t pid;
        int status;

        snprintf(sock, sizeof(sock), "%s/rrdcached.sock", dir);
        snprintf(pidfile, sizeof(pidfile), "%s/rrdcached.pid", dir);
        snprintf(addr, size, "unix:%s", sock);
        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                /* It writes only when told to (-w, -f: hours), so queueing and writing are
                 * measured apart; it detaches and says its PID in the pid file. */
                execlp("rrdcached", "rrdcached", "-l", addr, "-b", dir, "-B", "-p", pidfile, "-F", "-w",
                       "3600", "-f", "7200", (char *) NULL);
                _exit(127);
        }
        if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return -ENOENT;
        for (int i = 0; i < 100 && !buf[0]; i++) {
                f = fopen(pidfile, "re");
                if (f) {
                        if (!fgets(buf, sizeof(buf), f))
                                buf[0] = '\0';
                        fclose(f);
                }
                if (!buf[0])
                        usleep(50000);
        }
        daemon_pid = (pid_t) atoi(buf);
        if (daemon_pid <= 0)
                return -ESRCH;
        for (int i = 0; i < 100; i++) {
                if (rrdc_connect(addr) == 0 && rrdc_is_connected(addr))
                        return 0;
                usleep(50000);
        }
        return -ECONNREFUSED;
}

static void stop_daemon(void) {
        if (daemon_pid <= 0)
                return;
        (void) rrdc_disconnect();
        kill(daemon_pid, SIGTERM);
        for (int i = 0; i < 200 && kill(daemon_pid, 0) == 0; i++)
                usleep(50000);
        daemon_pid = -1;
}

static void remove_all(void) {
        char path[128];

        stop_daemon();
        for (unsigned i = 0; i < n_guests; i++) {
                path_of(i, path, sizeof(path));
                unlink(path);
        }
        snprintf(path, sizeof(path), "%s/rrdcached.sock", dir);
        unlink(path);
        snprintf(path, sizeof(path), "%s/rrdcached.pid", dir);
        unlink(path);
        rmdir(dir);
}

static void on_signal(int sig) {
        remove_all();
        signal(sig, SIG_DFL);
        raise(sig);
}

static bool have_program(const char *name) {
        char cmd[128];

        snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", name);
        return system(cmd) == 0;
}

int main(int argc, char **argv) {
        unsigned rounds = 3, fork_rounds = 1, rows = 5;
        struct cost a, b;
        unsigned long updates;
        char addr[160], err[256];
        time_t start;
        int opt, r;
        double t;

        while ((opt = getopt(argc, argv, "n:r:f:k:")) != -1) {
                switch (opt) {
                case 'n':
                        n_guests = (unsigned) strtoul(optarg, NULL, 10);
                        break;
                case 'r':
                        rounds = (unsigned) strtoul(optarg, NULL, 10);
                        break;
                case 'f':
                        fork_rounds = (unsigned) strtoul(optarg, NULL, 10);
                        break;
                case 'k':
                        rows = (unsigned) strtoul(optarg, NULL, 10);
                        break;
                default:
                        fprintf(stderr,
                                "usage: bench-rrd [-n GUESTS] [-r ROUNDS] [-f FORK_ROUNDS] [-k ROWS]\n");
                        return 2;
                }
        }
        if (n_guests == 0 || n_guests > GUESTS_MAX || rounds == 0 || rows == 0 || rows > ROWS_MAX) {
                fprintf(stderr, "bench-rrd: 1..%u guests, at least one round, 1..%u rows\n", GUESTS_MAX,
                        ROWS_MAX);
                return 2;
        }
        if (!have_program("rrdcached") || !have_program("rrdtool")) {
                printf("1..0 # SKIP rrdcached or rrdtool not installed\n");
                return 77;
        }
        if (!mkdtemp(dir)) {
                perror("bench-rrd: mkdtemp");
                return 1;
        }
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);

        /* The files, in ubc's layout: the same size and archives as ubcd's. */
        start = time(NULL) - 10 * 365 * 86400L;
        next_time = start;
        t = now_us();
        for (unsigned i = 0; i < n_guests; i++) {
                char path[128];

                path_of(i, path, sizeof(path));
                r = history_rrd_create(path, HISTORY_GUEST, STEP, 3 * STEP, start, err, sizeof(err));
                if (r < 0) {
                        fprintf(stderr, "bench-rrd: %s: %s\n", path, err);
                        remove_all();
                        return 1;
                }
        }
        printf("# %u files of %zu data sources made in %.1f s\n", n_guests, history_ds_count(HISTORY_GUEST),
               (now_us() - t) / 1e6);

        /* A warm-up round so every mode meets files in the page cache. */
        updates = 0;
        if (round_in_process(1, &updates) < 0)
                goto fail;

        updates = 0;
        snap(&a);
        for (unsigned k = 0; k < rounds; k++)
                if (round_in_process(1, &updates) < 0)
                        goto fail;
        snap(&b);
        result("in-process", &a, &b, updates);

        if (rows > 1) {
                char how[32];

                updates = 0;
                snap(&a);
                for (unsigned k = 0; k < rounds; k++)
                        if (round_in_process(rows, &updates) < 0)
                                goto fail;
                snap(&b);
                snprintf(how, sizeof(how), "in-process-%u-rows", rows);
                result(how, &a, &b, updates);
        }

        r = start_daemon(addr, sizeof(addr));
        if (r < 0) {
                fprintf(stderr, "bench-rrd: cannot start rrdcached: %s\n", strerror(-r));
                goto fail;
        }
        updates = 0;
        snap(&a);
        for (unsigned k = 0; k < rounds; k++)
                if (round_daemon(&updates) < 0)
                        goto fail;
        snap(&b);
        result("rrdcached-queued", &a, &b, updates);
        /* What the daemon saved for later: writing it all out. FLUSH answers once the file is
         * written (FLUSHALL would answer before). */
        for (unsigned i = 0; i < n_guests; i++) {
                char path[128];

                path_of(i, path, sizeof(path));
                if (rrdc_flush(path) != 0)
                        fprintf(stderr, "bench-rrd: flush %s: %s\n", path, rrd_get_error());
        }
        snap(&b);
        result("rrdcached-with-flush", &a, &b, updates);
        stop_daemon();

        updates = 0;
        snap(&a);
        for (unsigned k = 0; k < fork_rounds; k++)
                if (round_fork(&updates) < 0)
                        goto fail;
        snap(&b);
        result("fork-rrdtool", &a, &b, updates);

        remove_all();
        return 0;
fail:
        remove_all();
        return 1;
}
