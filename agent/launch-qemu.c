/* The VM launcher: qemu-system, started already inside the guest's cgroup (clone3 with
 * CLONE_INTO_CGROUP on v2; on v1 the child joins every hierarchy before it execs), so the
 * guest's limits and beancounters cover it from its first instruction. Its QMP socket in
 * run_dir answers status and shutdown; its serial console and its own messages go to files
 * in state_dir/vm. */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ubc/macro.h"
#include "ubc/units.h"
#include "launcher.h"
#include "qmp.h"

#define VM_SECTION        "vm"
#define VM_MEMORY_DEFAULT (512ULL << 20)
#define VM_OVERHEAD       (128ULL << 20) /* qemu itself: TCG's translation cache (capped below), devices */
#define VM_TB_SIZE_MB     "64"
#define VM_CPUS_MAX       256
#define VM_ARGS_MAX       96
#define VM_START_WAIT_MS  5000 /* for the QMP socket to answer after exec */
#define QEMU_DEFAULT      "qemu-system-x86_64"

static const char *const vm_keys[] = {"kernel", "initrd", "append", "disk", "memory",
                                      "cpus",   "accel",  "qemu",   "args", "stop_timeout"};

void qemu_launch_paths(const struct launch_guest *g, struct qemu_paths *ret) {
        snprintf(ret->qmp, sizeof(ret->qmp), "%s/vm-%u.qmp", g->run_dir, g->id);
        snprintf(ret->dir, sizeof(ret->dir), "%s/vm", g->state_dir);
        snprintf(ret->console, sizeof(ret->console), "%s/vm/%u.console", g->state_dir, g->id);
        snprintf(ret->log, sizeof(ret->log), "%s/vm/%u.log", g->state_dir, g->id);
}

/* qemu as named, or found on PATH; -ENOENT if neither. */
static int find_program(const char *name, char *buf, size_t size) {
        const char *path = getenv("PATH");

        if (strchr(name, '/')) {
                snprintf(buf, size, "%s", name);
                return access(buf, X_OK) == 0 ? 0 : -ENOENT;
        }
        if (!path || !path[0])
                path = "/usr/local/bin:/usr/bin:/bin";
        for (const char *p = path; *p;) {
                size_t n = strcspn(p, ":");

                snprintf(buf, size, "%.*s/%s", (int) n, p, name);
                if (n > 0 && access(buf, X_OK) == 0)
                        return 0;
                p += n + (p[n] == ':');
        }
        return -ENOENT;
}

static uint64_t vm_memory(const struct launch_guest *g) {
        const char *v = launch_setting(g, VM_SECTION, "memory", NULL);
        uint64_t bytes;

        if (!v)
                return VM_MEMORY_DEFAULT;
        /* A bare number is MiB, as qemu's -m reads it. */
        if (unit_parse_uint(v, 1, 1u << 24, &bytes) == 0)
                return bytes << 20;
        return unit_parse_size(v, &bytes) == 0 ? bytes : 0;
}

static void check_file(const struct launch_guest *g, const char *key, const char *path, unsigned line,
                       struct ubc_diag_sink *diags) {
        struct stat st;

        if (stat(path, &st) < 0)
                diag_error(diags, g->file, line, key, "'%s': %s", path, strerror(errno));
        else if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
                diag_error(diags, g->file, line, key, "'%s' is not a file", path);
}

int qemu_launch_validate(const struct launch_guest *g, struct ubc_diag_sink *diags) {
        unsigned before = diags ? diags->n_errors : 0, line = 0;
        const char *v;
        char path[512];
        uint64_t n, mem;

        for (size_t i = 0; i < g->n_settings; i++) {
                bool known = false;

                if (!streq(g->settings[i].section, VM_SECTION))
                        continue;
                for (size_t k = 0; k < ELEMENTSOF(vm_keys); k++)
                        known = known || streq(g->settings[i].key, vm_keys[k]);
                if (!known)
                        diag_error(
                                diags, g->file, g->settings[i].line, g->settings[i].key,
                                "unknown [vm] setting; known: kernel, initrd, append, disk, memory, cpus, "
                                "accel, qemu, args, stop_timeout");
        }
        v = launch_setting(g, VM_SECTION, "kernel", &line);
        if (!v)
                diag_error(diags, g->file, 0, "kernel", "a VM needs 'kernel =' in its [vm] section");
        else
                check_file(g, "kernel", v, line, diags);
        if ((v = launch_setting(g, VM_SECTION, "initrd", &line)))
                check_file(g, "initrd", v, line, diags);
        if ((v = launch_setting(g, VM_SECTION, "disk", &line))) {
                _cleanup_free_ char *list = strdup(v);
                char *save = NULL;

                for (char *d = list ? strtok_r(list, ",", &save) : NULL; d; d = strtok_r(NULL, ",", &save))
                        check_file(g, "disk", d, line, diags);
        }
        mem = vm_memory(g);
        if (mem == 0 || mem < (16ULL << 20)) {
                (void) launch_setting(g, VM_SECTION, "memory", &line);
                diag_error(diags, g->file, line, "memory",
                           "'%s' is not a VM memory size such as 512M or 2G (at least 16M)",
                           launch_setting(g, VM_SECTION, "memory", NULL));
        } else if (g->mem_limit != UBC_UNLIMITED && g->mem_limit < mem + VM_OVERHEAD) {
                char lim[32], ram[32];

                (void) launch_setting(g, VM_SECTION, "memory", &line);
                unit_format_size(g->mem_limit, lim, sizeof(lim));
                unit_format_size(mem, ram, sizeof(ram));
                diag_error(
                        diags, g->file, line, "memory",
                        "the guest's memory limit %s is below the VM's %s of RAM plus %lluM for qemu itself",
                        lim, ram, (unsigned long long) (VM_OVERHEAD >> 20));
        }
        if ((v = launch_setting(g, VM_SECTION, "cpus", &line)) && unit_parse_uint(v, 1, VM_CPUS_MAX, &n) < 0)
                diag_error(diags, g->file, line, "cpus", "'%s' is not a CPU count 1..%d", v, VM_CPUS_MAX);
        if ((v = launch_setting(g, VM_SECTION, "accel", &line)) && !streq(v, "auto") && !streq(v, "kvm") &&
            !streq(v, "tcg"))
                diag_error(diags, g->file, line, "accel", "'%s': choose auto, kvm or tcg", v);
        v = launch_setting(g, VM_SECTION, "qemu", &line);
        if (find_program(v ? v : QEMU_DEFAULT, path, sizeof(path)) < 0)
                diag_error(diags, g->file, line, "qemu", "'%s' not found%s", v ? v : QEMU_DEFAULT,
                           v ? "" : " (apt-get install qemu-system-x86)");
        return diags && diags->n_errors > before ? -EINVAL : 0;
}

/* The argument vector, in buf's strings. */
struct argv_buf {
        char *argv[VM_ARGS_MAX + 1];
        char *owned[VM_ARGS_MAX];
        size_t n, n_owned;
};

static void add(struct argv_buf *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add(struct argv_buf *a, const char *fmt, ...) {
        va_list ap;
        char *s = NULL;

        if (a->n >= VM_ARGS_MAX)
                return;
        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                s = NULL;
        va_end(ap);
        if (!s)
                return;
        a->owned[a->n_owned++] = s;
        a->argv[a->n++] = s;
}

static void argv_free(struct argv_buf *a) {
        for (size_t i = 0; i < a->n_owned; i++)
                free(a->owned[i]);
        *a = (struct argv_buf){};
}

/* A value placed inside one of qemu's option strings: its commas are doubled. */
static void add_option(struct argv_buf *a, const char *prefix, const char *value, const char *suffix) {
        _cleanup_free_ char *esc = malloc(2 * strlen(value) + 1);
        size_t k = 0;

        if (!esc)
                return;
        for (const char *p = value; *p; p++) {
                esc[k++] = *p;
                if (*p == ',')
                        esc[k++] = ',';
        }
        esc[k] = '\0';
        add(a, "%s%s%s", prefix, esc, suffix);
}

static int build_argv(const struct launch_guest *g, const struct qemu_paths *paths, const char *qemu,
                      struct argv_buf *a) {
        const char *accel = launch_setting(g, VM_SECTION, "accel", NULL), *v;

        add(a, "%s", qemu);
        add(a, "-name");
        add(a, "ubc-%u,process=ubc-vm-%u", g->id, g->id);
        add(a, "-nodefaults");
        add(a, "-no-user-config");
        add(a, "-display");
        add(a, "none");
        /* auto: KVM where it works, else TCG with a bounded translation cache, as the memory
         * limit must cover it */
        if (!accel || streq(accel, "auto") || streq(accel, "kvm")) {
                add(a, "-accel");
                add(a, "kvm");
        }
        if (!accel || streq(accel, "auto") || streq(accel, "tcg")) {
                add(a, "-accel");
                add(a, "tcg,tb-size=" VM_TB_SIZE_MB);
        }
        add(a, "-m");
        add(a, "%llu", (unsigned long long) (vm_memory(g) >> 20));
        add(a, "-smp");
        add(a, "%s", (v = launch_setting(g, VM_SECTION, "cpus", NULL)) ? v : "1");
        add(a, "-kernel");
        add(a, "%s", launch_setting(g, VM_SECTION, "kernel", NULL));
        if ((v = launch_setting(g, VM_SECTION, "initrd", NULL))) {
                add(a, "-initrd");
                add(a, "%s", v);
        }
        if ((v = launch_setting(g, VM_SECTION, "append", NULL))) {
                add(a, "-append");
                add(a, "%s", v);
        }
        if ((v = launch_setting(g, VM_SECTION, "disk", NULL))) {
                _cleanup_free_ char *list = strdup(v);
                char *save = NULL;

                for (char *d = list ? strtok_r(list, ",", &save) : NULL; d; d = strtok_r(NULL, ",", &save)) {
                        size_t len = strlen(d);
                        bool qcow2 = len > 6 && streq(d + len - 6, ".qcow2");

                        add(a, "-drive");
                        add_option(a, "file=", d,
                                   qcow2 ? ",if=virtio,format=qcow2" : ",if=virtio,format=raw");
                }
        }
        add(a, "-serial");
        add_option(a, "file:", paths->console, "");
        add(a, "-qmp");
        add_option(a, "unix:", paths->qmp, ",server=on,wait=off");
        if ((v = launch_setting(g, VM_SECTION, "args", NULL))) {
                _cleanup_free_ char *list = strdup(v);
                char *save = NULL;

                for (char *w = list ? strtok_r(list, " \t", &save) : NULL; w;
                     w = strtok_r(NULL, " \t", &save))
                        add(a, "%s", w);
        }
        if (a->n >= VM_ARGS_MAX)
                return -E2BIG;
        a->argv[a->n] = NULL;
        return 0;
}

static pid_t clone3_pidfd(int cgroup_fd, int *ret_pidfd) {
        struct clone_args args = {
                .flags = CLONE_PIDFD | (cgroup_fd >= 0 ? CLONE_INTO_CGROUP : 0),
                .pidfd = (uint64_t) (uintptr_t) ret_pidfd,
                .exit_signal = SIGCHLD,
                .cgroup = cgroup_fd >= 0 ? (uint64_t) cgroup_fd : 0,
        };

        return (pid_t) syscall(SYS_clone3, &args, sizeof(args));
}

/* In the child: never returns. Reports a failure as an errno through the pipe. */
static void child_exec(const struct launch_guest *g, bool join_v1, const struct qemu_paths *paths,
                       char *const *argv, int status_fd) {
        int fd, r = 0;

        (void) setsid();
        /* A v1 host: join every hierarchy before anything of the VM runs. */
        if (join_v1 && (r = cg_guest_attach(g->root, g->id, getpid())) < 0)
                goto fail;
        fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fd < 0 || dup2(fd, STDIN_FILENO) < 0)
                goto fail_errno;
        fd = open(paths->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
        if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0)
                goto fail_errno;
        /* ubcd's signal mask and dispositions are its own, not the VM's. */
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
        execv(argv[0], argv);
fail_errno:
        r = -errno;
fail:
        (void) !write(status_fd, &r, sizeof(r));
        _exit(127);
}

/* The last line of qemu's own log: what it said before it gave up. */
static void log_tail(const char *path, char *buf, size_t size) {
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        char line[512];

        buf[0] = '\0';
        while (f && fgets(line, sizeof(line), f))
                if (line[0] != '\n') {
                        line[strcspn(line, "\n")] = '\0';
                        snprintf(buf, size, "%.200s", line);
                }
}

static bool exited(int pidfd) {
        siginfo_t si = {};

        /* WNOWAIT: the runtime's child watch reaps it and reads its status. */
        return waitid(P_PIDFD, (id_t) pidfd, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid != 0;
}

int qemu_launch_begin(const struct launch_guest *g, struct launch_pending *ret, char *err, size_t size) {
        struct qemu_paths paths;
        struct argv_buf a = {};
        _cleanup_close_ int cgroup_fd = -EBADF, pidfd = -EBADF;
        int pipefd[2], r, child_err = 0;
        bool v2 = g->root->version[UBC_CTRL_MEMORY] == CG_VERSION_V2;
        char qemu[512], status[32];
        const char *q = launch_setting(g, VM_SECTION, "qemu", NULL);
        pid_t pid;
        ssize_t k;

        qemu_launch_paths(g, &paths);
        if (find_program(q ? q : QEMU_DEFAULT, qemu, sizeof(qemu)) < 0) {
                snprintf(err, size, "'%s' not found", q ? q : QEMU_DEFAULT);
                return -ENOENT;
        }
        if (qmp_status(paths.qmp, status, sizeof(status)) == 0) {
                snprintf(err, size, "a qemu already answers on %s (%s)", paths.qmp, status);
                return -EALREADY;
        }
        (void) unlink(paths.qmp); /* a stale socket of a VM that is gone */
        if (mkdir(paths.dir, 0750) < 0 && errno != EEXIST) {
                snprintf(err, size, "cannot make '%s': %s", paths.dir, strerror(errno));
                return -errno;
        }
        r = build_argv(g, &paths, qemu, &a);
        if (r < 0) {
                snprintf(err, size, "too many qemu arguments");
                argv_free(&a);
                return r;
        }
        if (v2) {
                char path[512];

                cg_guest_path(g->root, UBC_CTRL_MEMORY, g->id, path, sizeof(path));
                cgroup_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (cgroup_fd < 0) {
                        r = -errno;
                        snprintf(err, size, "cannot open the guest's cgroup '%s': %s", path,
                                 strerror(errno));
                        argv_free(&a);
                        return r;
                }
        }
        if (pipe2(pipefd, O_CLOEXEC) < 0) {
                r = -errno;
                argv_free(&a);
                snprintf(err, size, "pipe: %s", strerror(-r));
                return r;
        }

        pid = clone3_pidfd(v2 ? cgroup_fd : -1, &pidfd);
        if (pid == 0) {
                close(pipefd[0]);
                child_exec(g, !v2, &paths, a.argv, pipefd[1]);
        }
        r = pid < 0 ? -errno : 0;
        close(pipefd[1]);
        argv_free(&a);
        if (r < 0) {
                close(pipefd[0]);
                snprintf(err, size, "cannot start qemu in the guest's cgroup: %s", strerror(-r));
                return r;
        }
        /* The pipe closes on exec; before, the child says why it could not. */
        k = read(pipefd[0], &child_err, sizeof(child_err));
        close(pipefd[0]);
        if (k == sizeof(child_err)) {
                (void) waitid(P_PIDFD, (id_t) pidfd, &(siginfo_t){}, WEXITED);
                snprintf(err, size, "cannot start '%s' in the guest's cgroup: %s", qemu,
                         strerror(-child_err));
                return child_err;
        }

        *ret = (struct launch_pending){.pid = pid, .pidfd = TAKE_FD(pidfd), .result_fd = -EBADF};
        return 0;
}

int qemu_launch_finish(const struct launch_guest *g, struct launch_pending *pending, char *err,
                       size_t size) {
        struct qemu_paths paths;
        int pidfd = pending->pidfd, r = 0;
        char status[32];

        qemu_launch_paths(g, &paths);
        /* Running once its QMP socket answers; a qemu that exits first says why in its log. */
        for (int waited = 0; qmp_status(paths.qmp, status, sizeof(status)) < 0; waited += 50) {
                if (exited(pidfd)) {
                        char tail[256];

                        log_tail(paths.log, tail, sizeof(tail));
                        snprintf(err, size, "qemu exited at once: %s (log: %s)",
                                 tail[0] ? tail : "no message", paths.log);
                        r = -ECHILD;
                        break;
                }
                if (waited >= VM_START_WAIT_MS) {
                        (void) syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
                        snprintf(err, size, "qemu did not answer on %s within %d s; killed it", paths.qmp,
                                 VM_START_WAIT_MS / 1000);
                        r = -ETIMEDOUT;
                        break;
                }
                (void) poll(NULL, 0, 50);
        }
        if (r < 0) {
                /* Reaped here: nobody watches a qemu that never ran. */
                (void) waitid(P_PIDFD, (id_t) pidfd, &(siginfo_t){}, WEXITED);
                (void) unlink(paths.qmp);
                close(pidfd);
                pending->pidfd = -EBADF;
        }
        return r;
}

int qemu_launch_shutdown(const struct launch_guest *g, char *err, size_t size) {
        struct qemu_paths paths;
        int r;

        qemu_launch_paths(g, &paths);
        r = qmp_command(paths.qmp, "system_powerdown");
        if (r < 0)
                snprintf(err, size, "ACPI powerdown through %s failed: %s", paths.qmp, strerror(-r));
        return r;
}

int qemu_launch_quit(const struct launch_guest *g, char *err, size_t size) {
        struct qemu_paths paths;
        int r;

        qemu_launch_paths(g, &paths);
        r = qmp_command(paths.qmp, "quit");
        /* qemu may close the socket before its answer arrives: it is quitting either way. */
        if (r == -ECONNRESET)
                r = 0;
        if (r < 0)
                snprintf(err, size, "quit through %s failed: %s", paths.qmp, strerror(-r));
        return r;
}

int qemu_launch_status(const struct launch_guest *g, char *status, size_t size) {
        struct qemu_paths paths;

        qemu_launch_paths(g, &paths);
        return qmp_status(paths.qmp, status, size);
}

void qemu_launch_cleanup(const struct launch_guest *g) {
        struct qemu_paths paths;

        qemu_launch_paths(g, &paths);
        (void) unlink(paths.qmp);
}
