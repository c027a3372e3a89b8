/* ubcd: owns the cgroup subtree of every guest and keeps it as the policy says. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <libcgroup.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "config.h"
#include "ubc/macro.h"
#include "daemon.h"
#include "log.h"

struct overrides {
        const char *config_dir, *state_dir, *run_dir, *root, *driver;
        bool foreground, verbose;
};

static void help(void) {
        printf("Usage: ubcd [OPTIONS]\n\n"
               "Applies the policy in the configuration folder to the cgroups of every guest.\n\n"
               "  -c, --config-dir DIR   ubcd.conf, policies.d/ and guests.d/ (default %s)\n"
               "      --state-dir DIR    persistent state (default %s)\n"
               "      --run-dir DIR      control socket and runtime files (default %s)\n"
               "      --root NAME        the cgroup subtree ubcd owns (default ubc)\n"
               "      --driver NAME      auto, cgroupfs or systemd (default auto)\n"
               "  -f, --foreground       do not detach; log to stderr\n"
               "  -v, --verbose          log debug messages\n"
               "  -h, --help             show this help\n"
               "      --version          show the version\n",
               UBC_CONFIG_DIR, UBC_STATE_DIR, UBC_RUN_DIR);
}

static int parse_args(int argc, char **argv, struct overrides *o) {
        enum { ARG_STATE_DIR = 0x100, ARG_RUN_DIR, ARG_ROOT, ARG_DRIVER, ARG_VERSION };
        static const struct option options[] = {
                {"config-dir", required_argument, NULL, 'c'},
                {"state-dir", required_argument, NULL, ARG_STATE_DIR},
                {"run-dir", required_argument, NULL, ARG_RUN_DIR},
                {"root", required_argument, NULL, ARG_ROOT},
                {"driver", required_argument, NULL, ARG_DRIVER},
                {"foreground", no_argument, NULL, 'f'},
                {"verbose", no_argument, NULL, 'v'},
                {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, ARG_VERSION},
                {},
        };
        int c;

        while ((c = getopt_long(argc, argv, "c:fvh", options, NULL)) >= 0)
                switch (c) {
                case 'c':
                        o->config_dir = optarg;
                        break;
                case ARG_STATE_DIR:
                        o->state_dir = optarg;
                        break;
                case ARG_RUN_DIR:
                        o->run_dir = optarg;
                        break;
                case ARG_ROOT:
                        o->root = optarg;
                        break;
                case ARG_DRIVER:
                        o->driver = optarg;
                        break;
                case 'f':
                        o->foreground = true;
                        break;
                case 'v':
                        o->verbose = true;
                        break;
                case 'h':
                        help();
                        exit(EXIT_SUCCESS);
                case ARG_VERSION:
                        printf("ubcd %s\n", UBC_VERSION);
                        exit(EXIT_SUCCESS);
                default:
                        fprintf(stderr, "Try 'ubcd --help'.\n");
                        return -EINVAL;
                }
        if (optind < argc) {
                fprintf(stderr, "ubcd: unexpected argument '%s'. Try 'ubcd --help'.\n", argv[optind]);
                return -EINVAL;
        }
        return 0;
}

static int copy_path(char *dst, size_t size, const char *src, const char *what) {
        if (strlen(src) >= size)
                return log_error_errno(-ENAMETOOLONG, "The %s '%s' is too long", what, src);
        memcpy(dst, src, strlen(src) + 1);
        return 0;
}

static void print_diag(void *userdata, const struct ubc_diag *d) {
        if (d->file && d->line)
                log_error("%s:%u: %s%s%s", d->file, d->line, d->key ? d->key : "", d->key ? ": " : "",
                          d->message);
        else
                log_error("%s%s%s%s%s", d->file ? d->file : "", d->file ? ": " : "", d->key ? d->key : "",
                          d->key ? ": " : "", d->message);
}

static int setup_config(struct daemon *d, const struct overrides *o) {
        struct ubc_diag_sink sink = {.report = print_diag};
        int r;

        agent_config_init(&d->cfg);
        if (o->config_dir && (r = copy_path(d->cfg.config_dir, sizeof(d->cfg.config_dir), o->config_dir,
                                            "configuration folder")) < 0)
                return r;
        if (agent_config_load(&d->cfg, &sink) < 0 || sink.n_errors > 0)
                return log_error_errno(-EINVAL, "Invalid ubcd.conf in '%s', not starting",
                                       d->cfg.config_dir);
        if (o->state_dir &&
            (r = copy_path(d->cfg.state_dir, sizeof(d->cfg.state_dir), o->state_dir, "state folder")) < 0)
                return r;
        if (o->run_dir &&
            (r = copy_path(d->cfg.run_dir, sizeof(d->cfg.run_dir), o->run_dir, "run folder")) < 0)
                return r;
        if (o->root) {
                if (!cg_root_name_is_valid(o->root))
                        return log_error_errno(
                                -EINVAL,
                                "Invalid --root '%s': a relative cgroup path without '..' is needed",
                                o->root);
                if ((r = copy_path(d->cfg.root, sizeof(d->cfg.root), o->root, "cgroup root")) < 0)
                        return r;
        }
        if (o->driver && agent_driver_from_string(o->driver, &d->cfg.driver) < 0)
                return log_error_errno(-EINVAL, "Unknown --driver '%s': use auto, cgroupfs or systemd",
                                       o->driver);
        return 0;
}

static int pick_driver(struct daemon *d) {
        switch (d->cfg.driver) {
        case UBC_DRIVER_SYSTEMD:
                return log_error_errno(-EOPNOTSUPP,
                                       "The systemd driver is not available yet; use --driver cgroupfs "
                                       "(under systemd, run ubcd.service with Delegate=yes)");
        case UBC_DRIVER_AUTO:
                if (sd_booted() > 0)
                        log_notice("PID 1 is systemd but its driver is not available yet; using cgroupfs");
                d->driver = UBC_DRIVER_CGROUPFS;
                return 0;
        default:
                d->driver = d->cfg.driver;
                return 0;
        }
}

static int mkdir_p(const char *path, mode_t mode) {
        char buf[512];
        size_t len = strlen(path);

        if (len >= sizeof(buf))
                return -ENAMETOOLONG;
        memcpy(buf, path, len + 1);
        for (char *p = buf + 1; *p; p++)
                if (*p == '/') {
                        *p = '\0';
                        if (mkdir(buf, mode) < 0 && errno != EEXIST)
                                return negative_errno();
                        *p = '/';
                }
        if (mkdir(buf, mode) < 0 && errno != EEXIST)
                return negative_errno();
        return 0;
}

/* libcgroup prints on stdout unless given a logger; its messages belong in our log. */
static void libcgroup_log(void *userdata, int level, const char *fmt, va_list ap) {
        char msg[512];
        size_t len;

        vsnprintf(msg, sizeof(msg), fmt, ap);
        len = strlen(msg);
        while (len > 0 && msg[len - 1] == '\n')
                msg[--len] = '\0';
        log_internal(level <= CGROUP_LOG_ERROR ? LOG_ERR : LOG_DEBUG, 0, 0, "libcgroup: %s", msg);
}

static int prepare_host(struct daemon *d) {
        struct stat st;
        int r;

        if (stat(d->cfg.config_dir, &st) < 0)
                return log_error_errno(errno, "Configuration folder '%s': %m", d->cfg.config_dir);
        if (!S_ISDIR(st.st_mode))
                return log_error_errno(-ENOTDIR, "Configuration folder '%s' is not a folder",
                                       d->cfg.config_dir);

        if ((r = mkdir_p(d->cfg.state_dir, 0755)) < 0)
                return log_error_errno(r, "Failed to create the state folder '%s': %m", d->cfg.state_dir);
        if ((r = mkdir_p(d->cfg.run_dir, 0755)) < 0)
                return log_error_errno(r, "Failed to create the run folder '%s': %m", d->cfg.run_dir);

        d->socket_gid = (gid_t) -1;
        if (d->cfg.socket_group[0]) {
                struct group *gr = getgrnam(d->cfg.socket_group);

                if (!gr)
                        return log_error_errno(-ENOENT, "socket_group '%s' does not exist",
                                               d->cfg.socket_group);
                d->socket_gid = gr->gr_gid;
        }

        cgroup_set_logger(libcgroup_log, CGROUP_LOG_WARNING, NULL);
        r = cg_host_discover(d->cfg.root, &d->host);
        if (r < 0)
                return log_error_errno(r, "Failed to discover this host's cgroups: %m");
        r = cg_root_open(d->cfg.root, &d->host, &d->root);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the cgroup subtree '%s': %m", d->cfg.root);
        log_info("cgroups: %s mode, subtree '%s', %u CPUs", cg_mode_name(d->host.mode), d->cfg.root,
                 d->host.ncpus);
        return 0;
}

/* Detaches, and lets the parent exit only once the socket answers, so that the next command
 * of a script can use it; the parent's exit status says whether start-up worked. */
static int detach(int *ret_ready_fd) {
        int p[2];
        pid_t pid;
        char c;

        if (pipe2(p, O_CLOEXEC) < 0)
                return log_error_errno(errno, "Failed to create a pipe: %m");
        pid = fork();
        if (pid < 0)
                return log_error_errno(errno, "Failed to fork: %m");
        if (pid > 0) {
                close(p[1]);
                if (read(p[0], &c, 1) == 1)
                        _exit(EXIT_SUCCESS);
                (void) waitpid(pid, NULL, WNOHANG);
                _exit(EXIT_FAILURE);
        }
        close(p[0]);
        if (setsid() < 0)
                return log_error_errno(errno, "Failed to start a session: %m");
        *ret_ready_fd = p[1];
        return 0;
}

static void report_ready(int *fd) {
        int devnull;

        if (*fd < 0)
                return;
        (void) write(*fd, "1", 1);
        close(*fd);
        *fd = -EBADF;
        /* Detached: the terminal is no longer ours. */
        devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (devnull >= 0) {
                dup2(devnull, STDIN_FILENO);
                dup2(devnull, STDOUT_FILENO);
                close(devnull);
        }
}

/* The sampler keeps about 20 files open per guest between sweeps; take all the hard limit
 * allows (the sampler reads what does not fit each sweep instead). */
static void raise_nofile(void) {
        struct rlimit rl;

        if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= rl.rlim_max)
                return;
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
                log_warning_errno(errno, "Failed to raise the open-file limit, ignoring: %m");
}

/* run_dir/ubcd.pid, for operators and init scripts; removed on a clean exit. */
static void write_pid_file(const struct daemon *d, char *path, size_t size) {
        FILE *f;

        snprintf(path, size, "%s/ubcd.pid", d->cfg.run_dir);
        f = fopen(path, "we");
        if (!f) {
                log_warning_errno(errno, "Failed to write '%s', ignoring: %m", path);
                path[0] = '\0';
                return;
        }
        fprintf(f, "%d\n", (int) getpid());
        fclose(f);
}

int main(int argc, char **argv) {
        struct daemon d = {.listen_fd = -EBADF, .drift.fd = -EBADF};
        struct overrides o = {};
        int ready_fd = -EBADF, r;
        char pid_file[300] = "";

        for (size_t i = 0; i < ELEMENTSOF(d.root.fd); i++)
                d.root.fd[i] = -EBADF;

        log_setup("ubcd");
        if (parse_args(argc, argv, &o) < 0)
                return 2;
        if (o.verbose)
                log_set_max_level(LOG_DEBUG);
        if (geteuid() != 0) {
                log_error("ubcd manages cgroups and needs root");
                return EXIT_FAILURE;
        }

        raise_nofile();
        /* Each sweep builds its outputs (megabytes at 1000 guests) in memory and frees them;
         * a fixed threshold keeps such buffers in mmap, so they go back to the kernel instead
         * of staying in the heap after glibc raised its threshold on the first free. */
        (void) mallopt(M_MMAP_THRESHOLD, 128 * 1024);
        if (setup_config(&d, &o) < 0 || pick_driver(&d) < 0 || prepare_host(&d) < 0)
                goto fail;
        if (!o.foreground && detach(&ready_fd) < 0)
                goto fail;
        if (daemon_init(&d) < 0 || control_listen(&d) < 0)
                goto fail;
        r = daemon_load(&d);
        if (r < 0 && r != -EINVAL)
                goto fail;
        if (accounting_init(&d) < 0 || runtime_init(&d) < 0)
                goto fail;
        write_pid_file(&d, pid_file, sizeof(pid_file));
        report_ready(&ready_fd);

        log_info("Ready: %zu guest%s, socket '%s'", d.n_guests, d.n_guests == 1 ? "" : "s", d.socket_path);
        r = daemon_run(&d);
        daemon_done(&d);
        if (pid_file[0])
                (void) unlink(pid_file);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
fail:
        daemon_done(&d);
        return EXIT_FAILURE;
}
