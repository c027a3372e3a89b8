/* Launched guests: start through their launcher, the stop sequence (ask, then quit, then
 * kill), a pidfd watch that notices a guest ending on its own, and state_dir/launched/ID so
 * a restarted ubcd takes running guests over instead of losing them. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ubc/agent-config.h"
#include "ubc/macro.h"
#include "daemon.h"
#include "fileio.h"
#include "launcher.h"
#include "lxc-starter.h"
#include "log.h"
#include "runtime.h"

#define STOP_TIMEOUT_DEFAULT_US (60 * 1000000ULL)
#define QUIT_GRACE_US           (5 * 1000000ULL)
#define LAUNCHED_DIR            "launched"

const char *run_state_name(enum run_state s) {
        switch (s) {
        case RUN_RUNNING:
                return "running";
        case RUN_STOPPING:
                return "stopping";
        default:
                return "stopped";
        }
}

static const char *section_of(enum ubc_guest_type t) {
        return t == UBC_GUEST_VM ? "vm" : "container";
}

static struct guest_run *run_find(struct daemon *d, uint32_t id) {
        for (size_t i = 0; i < d->n_runs; i++)
                if (d->runs[i]->id == id)
                        return d->runs[i];
        return NULL;
}

const struct guest_run *runtime_get(struct daemon *d, uint32_t id) {
        return run_find(d, id);
}

static struct guest_run *run_get(struct daemon *d, uint32_t id, enum ubc_guest_type type) {
        struct guest_run *run = run_find(d, id), **v;

        if (run)
                return run;
        run = calloc(1, sizeof(*run));
        v = reallocarray(d->runs, d->n_runs + 1, sizeof(*v));
        if (!run || !v) {
                free(run);
                return NULL;
        }
        d->runs = v;
        *run = (struct guest_run){.id = id, .type = type, .pidfd = -EBADF};
        d->runs[d->n_runs++] = run;
        return run;
}

/* The guest file's launch settings and what a launcher needs around them. */
static int launch_guest_of(struct daemon *d, uint32_t id, struct launch_guest *ret) {
        const struct guest *g = daemon_find_guest(d, id);
        const struct policy_guest *pg = NULL;

        for (size_t i = 0; i < d->policy.n_guest_files && !pg; i++)
                if (d->policy.guest_files[i].guest.id == id)
                        pg = &d->policy.guest_files[i].guest;
        *ret = (struct launch_guest){
                .id = id,
                .file = g ? g->file : NULL,
                .settings = pg ? pg->settings : NULL,
                .n_settings = pg ? pg->n_settings : 0,
                .mem_limit = g ? g->limits.mem_limit : UBC_UNLIMITED,
                .state_dir = d->cfg.state_dir,
                .run_dir = d->cfg.run_dir,
                .root = &d->root,
                .root_name = d->cfg.root,
        };
        if (g && limits_has(&g->runtime, UBC_KEY_MEMORY))
                ret->mem_limit = g->runtime.mem_limit;
        return pg ? 0 : -ENOENT;
}

/* --- what survives a restart --- */

static void launched_path(struct daemon *d, uint32_t id, char *buf, size_t size) {
        snprintf(buf, size, "%s/%s/%" PRIu32, d->cfg.state_dir, LAUNCHED_DIR, id);
}

static int persist(struct daemon *d, const struct guest_run *run) {
        char path[512], buf[256];
        int n;

        launched_path(d, run->id, path, sizeof(path));
        n = snprintf(buf, sizeof(buf), "type=%s\npid=%d\nstart_ticks=%llu\nstarted_usec=%" PRIu64 "\n",
                     ubc_guest_type_name(run->type), (int) run->pid, run->start_ticks, run->started_usec);
        /* Not fsync'd: the record matters across a restart of ubcd, and a crash of the host
         * takes its guests with it. fsync cost a start 10 ms or more. */
        return write_file_atomic(path, buf, (size_t) n, 0600, false);
}

static void forget(struct daemon *d, uint32_t id) {
        char path[512];

        launched_path(d, id, path, sizeof(path));
        if (unlink(path) < 0 && errno != ENOENT)
                log_guest_errno(LOG_WARNING, -errno, id, "Guest %u: cannot remove '%s': %m", id, path);
}

/* Field 22 of /proc/PID/stat: when the process started, in clock ticks since boot. */
static int proc_start_ticks(pid_t pid, unsigned long long *ret) {
        char path[64], buf[1024], *p;
        _cleanup_close_ int fd = -EBADF;
        ssize_t n;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        n = read(fd, buf, sizeof(buf) - 1);
        if (n <= 0)
                return -EIO;
        buf[n] = '\0';
        p = strrchr(buf, ')'); /* the command name may hold spaces and parentheses */
        if (!p)
                return -EIO;
        return sscanf(p + 2,
                      "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
                      ret) == 1
                       ? 0
                       : -EIO;
}

/* Whether the process sits in the guest's cgroup (or below it, as a container's init does). */
static bool in_guest_cgroup(struct daemon *d, uint32_t id, pid_t pid) {
        _cleanup_fclose_ FILE *f = NULL;
        char path[64], line[1024], want[300];
        size_t len;

        snprintf(path, sizeof(path), "/proc/%d/cgroup", (int) pid);
        snprintf(want, sizeof(want), "/%s/%" PRIu32, d->cfg.root, id);
        len = strlen(want);
        f = fopen(path, "re");
        while (f && fgets(line, sizeof(line), f)) {
                char *p = strchr(line, ':');

                p = p ? strchr(p + 1, ':') : NULL;
                if (!p)
                        continue;
                p++;
                p[strcspn(p, "\n")] = '\0';
                if (strncmp(p, want, len) == 0 && (p[len] == '\0' || p[len] == '/'))
                        return true;
        }
        return false;
}

/* --- ending --- */

static void run_release(struct guest_run *run) {
        run->exit_source = sd_event_source_disable_unref(run->exit_source);
        run->stop_timer = sd_event_source_disable_unref(run->stop_timer);
        if (run->pidfd >= 0)
                close(run->pidfd);
        run->pidfd = -EBADF;
        run->pid = 0;
        run->stop_phase = 0;
        run->state = RUN_STOPPED;
}

/* Kills whatever is in the guest's cgroup: a guest stops whole. 'leftovers': its payload has
 * ended already, so anything found is worth a line in the log. */
static void empty_cgroup(struct daemon *d, uint32_t id, bool leftovers) {
        char path[512], buf[32];
        _cleanup_fclose_ FILE *f = NULL;
        int pid;

        if (d->root.version[UBC_CTRL_MEMORY] == CG_VERSION_V2) {
                snprintf(path, sizeof(path), "%" PRIu32 "/cgroup.kill", id);
                _cleanup_close_ int fd = openat(d->root.fd[UBC_CTRL_MEMORY], path, O_WRONLY | O_CLOEXEC);
                if (fd >= 0 && write(fd, "1", 1) == 1)
                        return;
        }
        /* v1, or a kernel before cgroup.kill (5.14): one by one. */
        snprintf(path, sizeof(path), "%" PRIu32 "/cgroup.procs", id);
        int fd = openat(d->root.fd[UBC_CTRL_MEMORY], path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || !(f = fdopen(fd, "r"))) {
                if (fd >= 0)
                        close(fd);
                return;
        }
        while (fgets(buf, sizeof(buf), f))
                if ((pid = atoi(buf)) > 1) {
                        if (leftovers)
                                log_guest(LOG_NOTICE, id,
                                          "Guest %u: PID %d was left in its cgroup; killing it", id, pid);
                        (void) kill(pid, SIGKILL);
                }
}

/* A container's init is gone: the rest of it (monitor, leftovers, its cgroups and mounts). */
static void container_cleanup(const struct launch_guest *lg) {
        char err[256];

        if (lxc_launch_kill(lg, err, sizeof(err)) < 0)
                log_guest(LOG_WARNING, lg->id, "Guest %u: %s", lg->id, err);
}

static void guest_ended(struct daemon *d, struct guest_run *run, const siginfo_t *si) {
        struct launch_guest lg;
        bool asked = run->state == RUN_STOPPING;
        char how[96];

        if (!si)
                snprintf(how, sizeof(how), "its exit status went to the ubcd that started it");
        else if (si->si_code == CLD_EXITED)
                snprintf(how, sizeof(how), "exit status %d", si->si_status);
        else
                snprintf(how, sizeof(how), "killed by %s", strsignal(si->si_status));

        if (asked)
                log_guest(LOG_INFO, run->id, "Guest %u stopped (%s)", run->id, how);
        else
                log_guest(LOG_WARNING, run->id, "Guest %u (%s, PID %d) ended on its own: %s", run->id,
                          ubc_guest_type_name(run->type), (int) run->pid, how);

        (void) launch_guest_of(d, run->id, &lg);
        if (run->type == UBC_GUEST_VM)
                qemu_launch_cleanup(&lg);
        else
                container_cleanup(&lg);
        empty_cgroup(d, run->id, true);
        forget(d, run->id);
        run_release(run);
}

static int on_child_exit(sd_event_source *s, const siginfo_t *si, void *userdata) {
        struct guest_run *run = userdata;

        guest_ended(run->daemon, run, si);
        return 0;
}

static int on_pidfd_readable(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct guest_run *run = userdata;

        guest_ended(run->daemon, run, NULL);
        return 0;
}

static int watch(struct daemon *d, struct guest_run *run) {
        run->daemon = d;
        if (run->child)
                /* sd-event reaps it and hands over the status */
                return sd_event_add_child_pidfd(d->event, &run->exit_source, run->pidfd, WEXITED,
                                                on_child_exit, run);
        /* Not our child (taken over after a restart): readable once it exited. */
        return sd_event_add_io(d->event, &run->exit_source, run->pidfd, EPOLLIN, on_pidfd_readable, run);
}

/* --- starting --- */

struct first_error {
        char *buf;
        size_t size;
};

static void keep_first(void *userdata, const struct ubc_diag *diag) {
        struct first_error *e = userdata;

        if (e->buf[0])
                return;
        if (diag->line)
                snprintf(e->buf, e->size, "%s:%u: %s: %s", diag->file, diag->line,
                         diag->key ? diag->key : "", diag->message);
        else
                snprintf(e->buf, e->size, "%s: %s: %s", diag->file ? diag->file : "",
                         diag->key ? diag->key : "", diag->message);
}

int runtime_validate(struct daemon *d, uint32_t id, struct ubc_diag_sink *diags) {
        const struct guest *g = daemon_find_guest(d, id);
        struct launch_guest lg;

        if (!g || launch_guest_of(d, id, &lg) < 0)
                return -ENOENT;
        if (g->type == UBC_GUEST_VM)
                return qemu_launch_validate(&lg, diags);
        if (g->type == UBC_GUEST_CONTAINER)
                return lxc_launch_validate(&lg, diags);
        return -EOPNOTSUPP;
}

/* A start between its two halves. */
struct start_job {
        uint32_t id;
        enum ubc_guest_type type;
        struct launch_pending pending;
};

/* Everything that can refuse a start, then the launcher's first half. */
static int start_begin(struct daemon *d, uint32_t id, struct start_job *job, char *err, size_t size) {
        const struct guest *g = daemon_find_guest(d, id);
        struct first_error first = {.buf = err, .size = size};
        struct ubc_diag_sink sink = {.report = keep_first, .userdata = &first};
        struct launch_guest lg;
        struct guest_run *run;
        int r;

        err[0] = '\0';
        if (!g) {
                snprintf(err, size, "No guest %u is defined", id);
                return -ENOENT;
        }
        if (g->type == UBC_GUEST_SLICE) {
                snprintf(err, size,
                         "Guest %u is a slice: it launches nothing; put processes in with 'ubcctl run'", id);
                return -EOPNOTSUPP;
        }
        if (g->apply_error) {
                snprintf(err, size,
                         "Guest %u: its limits are not in force (%s); it is not started outside them", id,
                         g->apply_message);
                return -EIO;
        }
        run = run_find(d, id);
        if (run && run->state != RUN_STOPPED) {
                snprintf(err, size, "Guest %u is already %s (PID %d)", id, run_state_name(run->state),
                         (int) run->pid);
                return -EALREADY;
        }
        if (!cg_guest_exists(&d->root, id)) {
                snprintf(err, size, "Guest %u has no cgroup yet; see 'ubcctl list'", id);
                return -ENOENT;
        }
        r = launch_guest_of(d, id, &lg);
        if (r >= 0)
                r = runtime_validate(d, id, &sink);
        if (r < 0) {
                if (!err[0])
                        snprintf(err, size, "Guest %u: its [%s] settings are not usable", id,
                                 section_of(g->type));
                return r;
        }
        if (!run_get(d, id, g->type)) {
                snprintf(err, size, "Out of memory");
                return -ENOMEM;
        }
        *job = (struct start_job){.id = id, .type = g->type};
        if (g->type == UBC_GUEST_VM)
                return qemu_launch_begin(&lg, &job->pending, err, size);
        return lxc_launch_begin(&lg, &job->pending, err, size);
}

/* The launcher's second half; then the guest runs, watched and recorded. */
static int start_finish(struct daemon *d, struct start_job *job, pid_t *ret_pid, char *err, size_t size) {
        struct guest_run *run = run_find(d, job->id);
        struct launch_guest lg;
        uint32_t id = job->id;
        pid_t pid = job->pending.pid;
        int pidfd = -EBADF, r;

        err[0] = '\0';
        r = launch_guest_of(d, id, &lg);
        if (r < 0 || !run) {
                snprintf(err, size, "Guest %u went away while it started", id);
                return r < 0 ? r : -ENOENT;
        }
        if (job->type == UBC_GUEST_VM) {
                r = qemu_launch_finish(&lg, &job->pending, err, size);
                pidfd = job->pending.pidfd;
        } else {
                /* liblxc daemonizes: the container's init is not our child, its pidfd still tells
                 * when it ends. */
                r = lxc_launch_finish(&lg, &job->pending, &pid, err, size);
                if (r >= 0 && (pidfd = (int) syscall(SYS_pidfd_open, pid, 0)) < 0) {
                        r = -errno;
                        snprintf(err, size, "container init %d is gone already: %s", (int) pid,
                                 strerror(-r));
                        (void) lxc_launch_kill(&lg, err + strlen(err), size - strlen(err));
                }
        }
        if (r < 0)
                return r;
        run->type = job->type;
        run->pid = pid;
        run->pidfd = pidfd;
        run->child = job->type == UBC_GUEST_VM;
        run->state = RUN_RUNNING;
        run->started_usec = (uint64_t) time(NULL) * 1000000ULL;
        (void) proc_start_ticks(pid, &run->start_ticks);
        /* The next sweep looks again at what is below the guest's cgroup: a container's are. */
        sampler_refresh(d->acct.sampler, id);
        r = watch(d, run);
        if (r < 0)
                log_guest_errno(LOG_ERR, r, id,
                                "Guest %u: cannot watch PID %d, its end will go unnoticed: %m", id,
                                (int) pid);
        *ret_pid = pid;
        return 0;
}

void runtime_record_start(struct daemon *d, uint32_t id) {
        struct guest_run *run = run_find(d, id);
        int r;

        if (!run || run->state != RUN_RUNNING)
                return;
        r = persist(d, run);
        if (r < 0)
                log_guest_errno(
                        LOG_ERR, r, id,
                        "Guest %u: cannot record PID %d in %s/%s; a restarted ubcd will not know it: %m", id,
                        (int) run->pid, d->cfg.state_dir, LAUNCHED_DIR);
        log_guest(LOG_INFO, id, "Guest %u (%s) started, PID %d", id, ubc_guest_type_name(run->type),
                  (int) run->pid);
}

int runtime_start(struct daemon *d, uint32_t id, pid_t *ret_pid, char *err, size_t size) {
        struct start_job job;
        int r = start_begin(d, id, &job, err, size);

        return r < 0 ? r : start_finish(d, &job, ret_pid, err, size);
}

/* --- stopping --- */

static uint64_t stop_timeout_us(struct daemon *d, const struct guest_run *run) {
        struct launch_guest lg;
        const char *v;
        uint64_t us;

        if (launch_guest_of(d, run->id, &lg) < 0)
                return STOP_TIMEOUT_DEFAULT_US;
        v = launch_setting(&lg, section_of(run->type), "stop_timeout", NULL);
        return v && agent_parse_duration(v, &us) == 0 ? us : STOP_TIMEOUT_DEFAULT_US;
}

static void kill_now(struct daemon *d, struct guest_run *run) {
        if (run->type == UBC_GUEST_CONTAINER) {
                struct launch_guest lg;
                char err[256];

                (void) launch_guest_of(d, run->id, &lg);
                if (lxc_launch_kill(&lg, err, sizeof(err)) < 0)
                        log_guest(LOG_WARNING, run->id, "Guest %u: %s", run->id, err);
                return;
        }
        if (run->pidfd >= 0)
                (void) syscall(SYS_pidfd_send_signal, run->pidfd, SIGKILL, NULL, 0);
        empty_cgroup(d, run->id, false);
}

static int arm_stop_timer(struct daemon *d, struct guest_run *run, uint64_t after_us);

static int on_stop_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        struct guest_run *run = userdata;
        struct daemon *d = run->daemon;
        struct launch_guest lg;
        char err[256];

        (void) launch_guest_of(d, run->id, &lg);
        if (run->stop_phase == 1 && run->type == UBC_GUEST_VM) {
                log_guest(LOG_NOTICE, run->id, "Guest %u did not power down in time; telling qemu to quit",
                          run->id);
                run->stop_phase = 2;
                if (qemu_launch_quit(&lg, err, sizeof(err)) == 0)
                        return arm_stop_timer(d, run, QUIT_GRACE_US);
                log_guest(LOG_WARNING, run->id, "Guest %u: %s", run->id, err);
        }
        if (run->stop_phase < 3) {
                log_guest(LOG_NOTICE, run->id, "Guest %u is still running; killing it", run->id);
                run->stop_phase = 3;
                kill_now(d, run);
                return arm_stop_timer(d, run, QUIT_GRACE_US);
        }
        log_guest(LOG_ERR, run->id, "Guest %u: PID %d outlived SIGKILL; look at it with 'ps'", run->id,
                  (int) run->pid);
        return 0;
}

static int arm_stop_timer(struct daemon *d, struct guest_run *run, uint64_t after_us) {
        uint64_t now;
        int r;

        run->stop_timer = sd_event_source_disable_unref(run->stop_timer);
        r = sd_event_now(d->event, CLOCK_MONOTONIC, &now);
        if (r >= 0)
                r = sd_event_add_time(d->event, &run->stop_timer, CLOCK_MONOTONIC, now + after_us, 0,
                                      on_stop_timer, run);
        return r;
}

int runtime_stop(struct daemon *d, uint32_t id, bool kill, unsigned *ret_deadline_s, char *err,
                 size_t size) {
        struct guest_run *run = run_find(d, id);
        struct launch_guest lg;
        uint64_t timeout;
        int r;

        err[0] = '\0';
        if (!run || run->state == RUN_STOPPED) {
                snprintf(err, size, "Guest %u is not running", id);
                return -EALREADY;
        }
        if (run->state == RUN_STOPPING && !kill) {
                snprintf(err, size, "Guest %u is already stopping; '--kill' ends it now", id);
                return -EINPROGRESS;
        }
        timeout = stop_timeout_us(d, run);
        *ret_deadline_s = (unsigned) ((timeout + 2 * QUIT_GRACE_US) / 1000000) + 1;
        run->state = RUN_STOPPING;
        if (kill) {
                log_guest(LOG_INFO, id, "Guest %u: killing it, as asked", id);
                run->stop_phase = 3;
                kill_now(d, run);
                *ret_deadline_s = (unsigned) (QUIT_GRACE_US / 1000000) + 1;
                return arm_stop_timer(d, run, QUIT_GRACE_US);
        }
        (void) launch_guest_of(d, id, &lg);
        run->stop_phase = 1;
        r = run->type == UBC_GUEST_VM ? qemu_launch_shutdown(&lg, err, size)
                                      : lxc_launch_shutdown(&lg, err, size);
        if (r < 0) {
                /* Nothing to ask: straight to the next step. */
                log_guest(LOG_NOTICE, id, "Guest %u: %s", id, err);
                err[0] = '\0';
                return arm_stop_timer(d, run, 0);
        }
        log_guest(LOG_INFO, id,
                  "Guest %u: ACPI powerdown sent, quitting it in %" PRIu64 " s if it is still up", id,
                  timeout / 1000000);
        return arm_stop_timer(d, run, timeout);
}

/* --- after a restart --- */

/* A line "key=value" of a launched file. */
static bool field(const char *buf, const char *key, char *out, size_t size) {
        size_t len = strlen(key);

        for (const char *p = buf; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
                if (strncmp(p, key, len) == 0 && p[len] == '=') {
                        snprintf(out, size, "%.*s", (int) strcspn(p + len + 1, "\n"), p + len + 1);
                        return true;
                }
        return false;
}

static void adopt(struct daemon *d, uint32_t id, const char *buf) {
        char type[32] = "", pid_s[32] = "", ticks_s[32] = "", started_s[32] = "";
        unsigned long long ticks = 0, now_ticks = 0;
        enum ubc_guest_type t;
        struct guest_run *run;
        pid_t pid;
        int pidfd;

        if (!field(buf, "type", type, sizeof(type)) || !field(buf, "pid", pid_s, sizeof(pid_s)) ||
            !field(buf, "start_ticks", ticks_s, sizeof(ticks_s))) {
                log_guest(LOG_WARNING, id, "Guest %u: '%s/%s/%u' is unreadable; forgetting it", id,
                          d->cfg.state_dir, LAUNCHED_DIR, id);
                forget(d, id);
                return;
        }
        (void) field(buf, "started_usec", started_s, sizeof(started_s));
        t = streq(type, "vm") ? UBC_GUEST_VM : UBC_GUEST_CONTAINER;
        pid = (pid_t) atoi(pid_s);
        ticks = strtoull(ticks_s, NULL, 10);
        pidfd = pid > 1 ? (int) syscall(SYS_pidfd_open, pid, 0) : -1;
        if (pidfd < 0 || proc_start_ticks(pid, &now_ticks) < 0 || now_ticks != ticks ||
            !in_guest_cgroup(d, id, pid)) {
                if (pidfd >= 0)
                        close(pidfd);
                log_guest(LOG_NOTICE, id, "Guest %u (PID %d) ended while ubcd was not running", id,
                          (int) pid);
                struct launch_guest lg;
                (void) launch_guest_of(d, id, &lg);
                if (t == UBC_GUEST_VM)
                        qemu_launch_cleanup(&lg);
                else
                        container_cleanup(&lg);
                empty_cgroup(d, id, true);
                forget(d, id);
                return;
        }
        run = run_get(d, id, t);
        if (!run) {
                close(pidfd);
                return;
        }
        run->pid = pid;
        run->pidfd = pidfd;
        run->child = false;
        run->state = RUN_RUNNING;
        run->start_ticks = ticks;
        run->started_usec = strtoull(started_s, NULL, 10);
        if (watch(d, run) < 0)
                log_guest(LOG_ERR, id, "Guest %u: cannot watch PID %d; its end will go unnoticed", id,
                          (int) pid);
        log_guest(LOG_INFO, id, "Guest %u (%s, PID %d) is running: taken over", id, type, (int) pid);
}

static void adopt_all(struct daemon *d) {
        char path[512];
        DIR *dir;
        struct dirent *de;

        snprintf(path, sizeof(path), "%s/%s", d->cfg.state_dir, LAUNCHED_DIR);
        dir = opendir(path);
        if (!dir)
                return;
        while ((de = readdir(dir))) {
                char file[1024], buf[512];
                _cleanup_close_ int fd = -EBADF;
                uint32_t id;
                ssize_t n;

                /* files named by the bare ID; anything else (".ID.tmp") is not ours to read */
                if (de->d_name[0] < '1' || de->d_name[0] > '9' ||
                    de->d_name[strspn(de->d_name, "0123456789")])
                        continue;
                id = (uint32_t) strtoul(de->d_name, NULL, 10);
                if (id < UBC_ID_MIN || id > UBC_ID_MAX)
                        continue;
                snprintf(file, sizeof(file), "%s/%s", path, de->d_name);
                fd = open(file, O_RDONLY | O_CLOEXEC);
                n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
                if (n < 0)
                        continue;
                buf[n] = '\0';
                adopt(d, id, buf);
        }
        closedir(dir);
}

/* A container liblxc says runs, with no record (ubcd crashed between start and writing it). */
static void adopt_containers(struct daemon *d) {
        for (size_t i = 0; i < d->n_guests; i++) {
                const struct guest *g = &d->guests[i];
                const struct guest_run *run = run_find(d, g->id);
                struct launch_guest lg;
                unsigned long long ticks = 0;
                char buf[128];
                pid_t pid;

                if (g->type != UBC_GUEST_CONTAINER || (run && run->state != RUN_STOPPED))
                        continue;
                if (launch_guest_of(d, g->id, &lg) < 0 || lxc_launch_find(&lg, &pid) <= 0 ||
                    proc_start_ticks(pid, &ticks) < 0)
                        continue;
                snprintf(buf, sizeof(buf), "type=container\npid=%d\nstart_ticks=%llu\n", (int) pid, ticks);
                adopt(d, g->id, buf);
                if ((run = run_find(d, g->id)) && run->state == RUN_RUNNING)
                        (void) persist(d, run);
        }
}

/* onboot guests in ID order, up to onboot_parallel of them starting at once: each batch is
 * begun in order, then each waited for (a container getting to RUNNING, a VM's QMP). */
static void start_onboot(struct daemon *d) {
        struct start_job *jobs = calloc(d->cfg.onboot_parallel, sizeof(*jobs));
        size_t i = 0;

        if (!jobs) {
                log_error("Out of memory: no onboot guest is started");
                return;
        }
        while (i < d->n_guests) {
                size_t n = 0;
                char err[512];
                pid_t pid;

                for (; i < d->n_guests && n < d->cfg.onboot_parallel; i++) {
                        const struct guest *g = &d->guests[i];
                        const struct guest_run *run = run_find(d, g->id);

                        if (!g->onboot || g->type == UBC_GUEST_SLICE || (run && run->state != RUN_STOPPED))
                                continue;
                        log_guest(LOG_INFO, g->id, "Guest %u (onboot) is starting", g->id);
                        if (start_begin(d, g->id, &jobs[n], err, sizeof(err)) < 0)
                                log_guest(LOG_ERR, g->id, "Guest %u (onboot): %s", g->id, err);
                        else
                                n++;
                }
                for (size_t k = 0; k < n; k++)
                        if (start_finish(d, &jobs[k], &pid, err, sizeof(err)) < 0)
                                log_guest(LOG_ERR, jobs[k].id, "Guest %u (onboot): %s", jobs[k].id, err);
                        else
                                runtime_record_start(d, jobs[k].id);
        }
        free(jobs);
}

int runtime_init(struct daemon *d) {
        char path[512];
        sigset_t mask;

        /* sd-event's child sources need SIGCHLD blocked; qemu gets an empty mask back. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigprocmask(SIG_BLOCK, &mask, NULL);

        snprintf(path, sizeof(path), "%s/%s", d->cfg.state_dir, LAUNCHED_DIR);
        if (mkdir(path, 0700) < 0 && errno != EEXIST)
                return log_error_errno(-errno, "Cannot make '%s': %m", path);
        adopt_all(d);
        adopt_containers(d);

        start_onboot(d);
        return 0;
}

void runtime_done(struct daemon *d) {
        lxc_starter_stop();
        for (size_t i = 0; i < d->n_runs; i++) {
                run_release(d->runs[i]);
                free(d->runs[i]);
        }
        free(d->runs);
        d->runs = NULL;
        d->n_runs = 0;
}
