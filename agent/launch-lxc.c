/* The container launcher: a guest's [container] settings turned into an LXC container run
 * through liblxc, with its cgroups inside the guest's (ROOT/ID/lxc, ROOT/ID/lxc.monitor and
 * ROOT/ID/lxc.pivot), so the limits ubcd wrote to ROOT/ID hold the container from its first
 * instruction. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cg-file.h"
#include "fileio.h"
#include "launcher.h"
#include "lxc-dl.h"
#include "lxc-starter.h"
#include "template.h"
#include "ubc/macro.h"
#include "ubc/units.h"

/* Where an unprivileged container's ids live on the host, as on Proxmox VE. */
#define LXC_SHIFT 100000u
#define LXC_IDS   65536u

#define CGROUP2_MAGIC 0x63677270
#define WAIT_STEP_MS  50
#define KILL_WAIT_MS  15000

struct lxc_settings {
        char template_name[256]; /* "" if not set */
        char hostname[64];
        char bridge[IFNAMSIZ]; /* "" = no network */
        bool privileged;
};

struct lxc_paths {
        char name[CG_ID_NAME_MAX]; /* the container's name: the ID */
        char lxcpath[PATH_MAX];    /* state_dir/lxc */
        char dir[PATH_MAX];        /* state_dir/lxc/ID */
        char rootfs[PATH_MAX];     /* state_dir/lxc/ID/rootfs */
        char config[PATH_MAX];     /* state_dir/lxc/ID/config */
        char log[PATH_MAX];        /* run_dir/lxc/ID.log */
        char base[256];            /* where liblxc puts lxc.cgroup.dir.*: below PID 1's cgroup */
        char guest_cg[256];        /* ROOT/ID, relative to a hierarchy's mount */
};

/* Errors of the settings for a caller that has a message buffer rather than a sink: the first. */
struct first_error {
        char *buf;
        size_t size;
};

static void first_error_report(void *userdata, const struct ubc_diag *d) {
        struct first_error *f = userdata;

        if (f->size == 0 || f->buf[0])
                return;
        snprintf(f->buf, f->size, "%s:%u: %s%s%s", d->file ? d->file : "?", d->line, d->key ? d->key : "",
                 d->key ? ": " : "", d->message);
}

static void msleep(unsigned ms) {
        struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

/* RFC 1123 names, at most 63 characters: what the UTS namespace and DHCP clients take. */
static bool hostname_is_valid(const char *h) {
        size_t n = strlen(h), label = 0;

        if (n == 0 || n > 63 || h[0] == '.' || h[n - 1] == '.')
                return false;
        for (size_t i = 0; i < n; i++) {
                if (h[i] == '.') {
                        if (label == 0 || h[i - 1] == '-')
                                return false;
                        label = 0;
                        continue;
                }
                if (!isalnum((unsigned char) h[i]) && h[i] != '-')
                        return false;
                if (h[i] == '-' && label == 0)
                        return false;
                label++;
        }
        return h[n - 1] != '-';
}

static bool ifname_is_valid(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n >= IFNAMSIZ || streq(s, ".") || streq(s, ".."))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char) s[i]) && !strchr("_.-", s[i]))
                        return false;
        return true;
}

static int template_path(const struct launch_guest *g, const char *name, char *buf, size_t size) {
        int k = snprintf(buf, size, "%s/template/%s", g->state_dir, name);
        return k < 0 || (size_t) k >= size ? -ENAMETOOLONG : 0;
}

/* Parses and checks the [container] section; every problem goes to the sink with file:line. */
static int parse_settings(const struct launch_guest *g, struct ubc_diag_sink *diags, bool check_template,
                          struct lxc_settings *ret) {
        struct lxc_settings s = {.privileged = false};
        unsigned errors = diags ? diags->n_errors : 0;
        bool failed = false;

        snprintf(s.hostname, sizeof(s.hostname), "ct%u", g->id);
        for (size_t i = 0; i < g->n_settings; i++) {
                const struct policy_setting *p = &g->settings[i];
                const char *v = p->value ? p->value : "";

                if (!streq(p->section, "container"))
                        continue;
                if (streq(p->key, "template")) {
                        char path[PATH_MAX];
                        struct stat st;

                        if (!template_tar_flag(v)) {
                                diag_error(diags, g->file, p->line, p->key,
                                           "'%.64s' is not a template file name, must be NAME.tar.gz, "
                                           ".tar.xz, .tar.zst or .tar in %s/template",
                                           v, g->state_dir);
                                failed = true;
                                continue;
                        }
                        snprintf(s.template_name, sizeof(s.template_name), "%s", v);
                        if (check_template && (template_path(g, v, path, sizeof(path)) < 0 ||
                                               stat(path, &st) < 0 || !S_ISREG(st.st_mode))) {
                                diag_error(diags, g->file, p->line, p->key,
                                           "template '%.64s' not found in %s/template", v, g->state_dir);
                                failed = true;
                        }
                } else if (streq(p->key, "hostname")) {
                        if (!hostname_is_valid(v)) {
                                diag_error(diags, g->file, p->line, p->key,
                                           "'%.64s' is not a host name: letters, digits, '-' and '.', at "
                                           "most 63",
                                           v);
                                failed = true;
                                continue;
                        }
                        snprintf(s.hostname, sizeof(s.hostname), "%s", v);
                } else if (streq(p->key, "network")) {
                        if (streq(v, "none"))
                                s.bridge[0] = '\0';
                        else if (strncmp(v, "bridge:", 7) == 0 && ifname_is_valid(v + 7))
                                snprintf(s.bridge, sizeof(s.bridge), "%s", v + 7);
                        else {
                                diag_error(diags, g->file, p->line, p->key,
                                           "'%.64s' is not a network, must be none or bridge:NAME", v);
                                failed = true;
                        }
                } else if (streq(p->key, "privileged")) {
                        if (unit_parse_bool(v, &s.privileged) < 0) {
                                diag_error(diags, g->file, p->line, p->key,
                                           "'%.64s' is not a boolean, must be yes or no", v);
                                failed = true;
                        }
                } else {
                        diag_error(diags, g->file, p->line, p->key,
                                   "unknown key in [container], known: template, hostname, network, "
                                   "privileged");
                        failed = true;
                }
        }
        if (failed || (diags && diags->n_errors > errors))
                return -EINVAL;
        *ret = s;
        return 0;
}

static int settings_or_error(const struct launch_guest *g, bool check_template, struct lxc_settings *ret,
                             char *err, size_t size) {
        struct first_error f = {.buf = err, .size = size};
        struct ubc_diag_sink sink = {.report = first_error_report, .userdata = &f};

        if (size)
                err[0] = '\0';
        return parse_settings(g, &sink, check_template, ret);
}

int lxc_launch_validate(const struct launch_guest *g, struct ubc_diag_sink *diags) {
        struct lxc_settings s;
        return parse_settings(g, diags, true, &s);
}

/* liblxc puts lxc.cgroup.dir.* below PID 1's cgroup ("init.scope" pruned) when run as root,
 * ubcd's root is below the hierarchy's mount: the two meet when PID 1 is at the top, as on
 * every host we know. Otherwise the root must lie below PID 1's cgroup, in every hierarchy. */
static int lxc_cgroup_base(char *buf, size_t size) {
        _cleanup_fclose_ FILE *f = fopen("/proc/1/cgroup", "re");
        char line[512];
        bool first = true;

        if (!f)
                return negative_errno();
        buf[0] = '\0';
        while (fgets(line, sizeof(line), f)) {
                char *p = strchr(line, ':');
                size_t n;

                p = p ? strchr(p + 1, ':') : NULL;
                if (!p)
                        continue;
                p++;
                p[strcspn(p, "\n")] = '\0';
                n = strlen(p);
                if (n >= 11 && streq(p + n - 11, "/init.scope"))
                        p[n - 11] = '\0';
                while (*p == '/')
                        p++;
                if (first) {
                        snprintf(buf, size, "%s", p);
                        first = false;
                } else if (!streq(buf, p))
                        return -EMEDIUMTYPE;
        }
        return 0;
}

static int make_paths(const struct launch_guest *g, struct lxc_paths *ret, char *err, size_t size) {
        struct lxc_paths p = {};
        size_t blen;
        int r;

        r = cg_id_name(g->id, p.name);
        if (r < 0) {
                snprintf(err, size, "%u is not a guest ID", g->id);
                return r;
        }
        if (snprintf(p.lxcpath, sizeof(p.lxcpath), "%s/lxc", g->state_dir) >= (int) sizeof(p.lxcpath) ||
            snprintf(p.dir, sizeof(p.dir), "%s/%s", p.lxcpath, p.name) >= (int) sizeof(p.dir) ||
            snprintf(p.rootfs, sizeof(p.rootfs), "%s/rootfs", p.dir) >= (int) sizeof(p.rootfs) ||
            snprintf(p.config, sizeof(p.config), "%s/config", p.dir) >= (int) sizeof(p.config) ||
            snprintf(p.log, sizeof(p.log), "%s/lxc/%s.log", g->run_dir, p.name) >= (int) sizeof(p.log) ||
            snprintf(p.guest_cg, sizeof(p.guest_cg), "%s/%s", g->root_name, p.name) >=
                    (int) sizeof(p.guest_cg)) {
                snprintf(err, size, "state or run folder path too long");
                return -ENAMETOOLONG;
        }
        r = lxc_cgroup_base(p.base, sizeof(p.base));
        if (r < 0) {
                snprintf(err, size,
                         "cannot tell where liblxc puts cgroups: PID 1's cgroups differ per hierarchy");
                return r;
        }
        blen = strlen(p.base);
        if (blen > 0 && (strncmp(g->root_name, p.base, blen) != 0 || g->root_name[blen] != '/')) {
                snprintf(err, size,
                         "liblxc puts cgroups below PID 1's cgroup '/%s', which does not hold the owned "
                         "root '%s'",
                         p.base, g->root_name);
                return -EXDEV;
        }
        *ret = p;
        return 0;
}

/* ROOT/ID/SUB (ROOT/ID without SUB) relative to liblxc's base, for lxc.cgroup.dir.*. */
static void lxc_cgroup_dir(const struct lxc_paths *p, const char *sub, char *buf, size_t size) {
        size_t blen = strlen(p->base);
        snprintf(buf, size, "%s%s%s", p->guest_cg + (blen ? blen + 1 : 0), sub ? "/" : "", sub ? sub : "");
}

static bool apparmor_usable(void) {
        char v[8] = "";
        _cleanup_fclose_ FILE *f = fopen("/sys/module/apparmor/parameters/enabled", "re");

        if (!f || !fgets(v, sizeof(v), f) || v[0] != 'Y')
                return false;
        /* liblxc loads profiles through securityfs; without it confinement cannot work. */
        return access("/sys/kernel/security/apparmor", F_OK) == 0;
}

/* The container's whole configuration from the settings of now, in liblxc's format: written at
 * create, and again at a start whose settings changed (a hostname, a network). Written here
 * rather than through liblxc, whose container object a start does not need otherwise: parsing
 * the old file to replace all of it cost a start 0.5 ms. The values were checked by
 * parse_settings; a path with a line break would not survive the format. */
static int config_text(const struct lxc_settings *s, const struct lxc_paths *p, char **ret, size_t *ret_len,
                       char *err, size_t size) {
        char cgdir[300], mondir[300], guestdir[300];
        char *text = NULL;
        size_t len = 0;
        FILE *f;

        if (strchr(p->rootfs, '\n') || strchr(p->log, '\n')) {
                snprintf(err, size, "a container path has a line break: '%s'", p->rootfs);
                return -EINVAL;
        }
        lxc_cgroup_dir(p, "lxc", cgdir, sizeof(cgdir));
        lxc_cgroup_dir(p, "lxc.monitor", mondir, sizeof(mondir));
        lxc_cgroup_dir(p, NULL, guestdir, sizeof(guestdir));
        f = open_memstream(&text, &len);
        if (!f)
                return -ENOMEM;
        fprintf(f,
                "lxc.uts.name = %s\n"
                "lxc.rootfs.path = dir:%s\n"
                "lxc.cgroup.dir.container = %s\n"
                "lxc.cgroup.dir.monitor = %s\n"
                /* Where the monitor moves to remove its own cgroup on the way out: ROOT/ID/lxc.pivot,
                 * not liblxc's default, lxc.pivot at the top of every hierarchy, outside ROOT. */
                "lxc.cgroup.dir.monitor.pivot = %s\n"
                "lxc.mount.auto = proc:mixed sys:mixed cgroup:mixed\n"
                "lxc.autodev = 1\n"
                "lxc.tty.max = 1\n"
                "lxc.pty.max = 16\n"
                "lxc.console.path = none\n"
                "lxc.log.file = %s\n"
                "lxc.log.level = WARN\n",
                s->hostname, p->rootfs, cgdir, mondir, guestdir, p->log);
        if (!apparmor_usable())
                fputs("lxc.apparmor.profile = unconfined\n", f);
        if (!s->privileged)
                fprintf(f, "lxc.idmap = u 0 %u %u\nlxc.idmap = g 0 %u %u\n", LXC_SHIFT, LXC_IDS, LXC_SHIFT,
                        LXC_IDS);
        if (s->bridge[0])
                fprintf(f,
                        "lxc.net.0.type = veth\n"
                        "lxc.net.0.link = %s\n"
                        "lxc.net.0.flags = up\n"
                        "lxc.net.0.name = eth0\n"
                        /* liblxc fills in the x's at random as it reads the file. */
                        "lxc.net.0.hwaddr = 00:16:3e:xx:xx:xx\n",
                        s->bridge);
        else
                fputs("lxc.net.0.type = empty\n", f);
        if (fclose(f) != 0) {
                free(text);
                return -ENOMEM;
        }
        *ret = text;
        *ret_len = len;
        return 0;
}

/* Writes the configuration to path unless the file holds it already. */
static int write_config(const struct lxc_settings *s, const struct lxc_paths *p, const char *path, char *err,
                        size_t size) {
        _cleanup_free_ char *text = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        size_t len;
        int r;

        r = config_text(s, p, &text, &len, err, size);
        if (r < 0)
                return r;
        f = fopen(path, "re");
        if (f) {
                _cleanup_free_ char *old = malloc(len + 1);
                if (old && fread(old, 1, len + 1, f) == len && memcmp(old, text, len) == 0)
                        return 0;
        }
        r = write_file_atomic(path, text, len, 0640, false);
        if (r < 0)
                snprintf(err, size, "cannot write the container's config '%s': %s", path, strerror(-r));
        return r;
}

static struct lxc_container *container_open(const struct lxc_paths *p, char *err, size_t size) {
        struct lxc_container *c;

        if (lxc_dl_open(err, size) < 0)
                return NULL;
        c = sym_lxc_container_new(p->name, p->lxcpath);
        if (!c)
                snprintf(err, size, "liblxc cannot open container %s in %s", p->name, p->lxcpath);
        return c;
}

/* Mount info fields are octal-escaped (\040 for a space). */
static void unescape_mount(char *s) {
        char *w = s;

        for (char *r = s; *r;) {
                if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
                    r[3] >= '0' && r[3] <= '7') {
                        *w++ = (char) ((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
                        r += 4;
                } else
                        *w++ = *r++;
        }
        *w = '\0';
}

/* Calls fn for every mount: its mount point and file system type. */
static int for_each_mount(int (*fn)(void *userdata, const char *where, const char *fstype), void *userdata) {
        _cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
        _cleanup_free_ char *line = NULL;
        size_t n = 0;

        if (!f)
                return negative_errno();
        while (getline(&line, &n, f) > 0) {
                char *fields[5], *sep, *save = NULL, *tok, *fstype;
                unsigned i = 0;

                sep = strstr(line, " - ");
                if (!sep)
                        continue;
                *sep = '\0';
                for (tok = strtok_r(line, " ", &save); tok && i < ELEMENTSOF(fields);
                     tok = strtok_r(NULL, " ", &save))
                        fields[i++] = tok;
                if (i < 5)
                        continue;
                fstype = strtok_r(sep + 3, " ", &save);
                if (!fstype)
                        continue;
                unescape_mount(fields[4]);
                int r = fn(userdata, fields[4], fstype);
                if (r != 0)
                        return r;
        }
        return 0;
}

static bool path_is_below(const char *path, const char *top) {
        size_t n = strlen(top);
        return strncmp(path, top, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

struct mounts_below {
        const char *top;
        char (*list)[PATH_MAX];
        size_t n, max;
};

static int collect_below(void *userdata, const char *where, const char *fstype) {
        struct mounts_below *m = userdata;

        if (!path_is_below(where, m->top))
                return 0;
        if (m->n >= m->max)
                return -E2BIG;
        snprintf(m->list[m->n++], PATH_MAX, "%s", where);
        return 0;
}

/* Unmounts whatever is mounted at or below 'top' in our mount namespace, deepest first. */
static int umount_below(const char *top, unsigned *ret_left) {
        char list[64][PATH_MAX];
        struct mounts_below m = {.top = top, .list = list, .max = ELEMENTSOF(list)};
        int r;

        r = for_each_mount(collect_below, &m);
        if (r < 0)
                return r;
        for (size_t i = m.n; i-- > 0;)
                (void) umount2(list[i], MNT_DETACH | UMOUNT_NOFOLLOW);
        if (ret_left) {
                m.n = 0;
                r = for_each_mount(collect_below, &m);
                *ret_left = r < 0 ? 1 : (unsigned) m.n;
        }
        return 0;
}

/* Which of the host's cgroup hierarchies ubcd owns (where ROOT/ID is ubcd's to keep). */
static bool mount_is_owned(const struct launch_guest *g, const char *where) {
        for (int c = 0; c < _UBC_CTRL_MAX; c++)
                if (g->root && g->root->fd[c] >= 0 && path_is_below(g->root->path[c], where))
                        return true;
        return false;
}

struct cg_mount_walk {
        const struct launch_guest *g;
        const struct lxc_paths *p;
        int (*fn)(struct cg_mount_walk *w, int basefd, bool owned, bool v2);
        const void *data;
        int result;
        unsigned count; /* what fn counts: processes left */
};

static int cg_mount_visit(void *userdata, const char *where, const char *fstype) {
        struct cg_mount_walk *w = userdata;
        _cleanup_close_ int fd = -EBADF;
        struct statfs sfs;
        bool v2;
        int r;

        if (!streq(fstype, "cgroup") && !streq(fstype, "cgroup2"))
                return 0;
        fd = open(where, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        if (fstatfs(fd, &sfs) < 0)
                return 0;
        v2 = sfs.f_type == CGROUP2_MAGIC;
        if (w->p->base[0]) {
                int sub = cg_dir_open_path(fd, w->p->base);
                if (sub < 0)
                        return 0;
                closep(&fd);
                fd = sub;
        }
        r = w->fn(w, fd, mount_is_owned(w->g, where), v2);
        if (r < 0 && w->result == 0)
                w->result = r;
        return 0;
}

static int cg_mounts_walk(struct cg_mount_walk *w) {
        int r = for_each_mount(cg_mount_visit, w);
        return r < 0 ? r : w->result;
}

/* rmdir of a cgroup and its children, depth first; -EBUSY while a process is in one. */
static int cg_rmtree_at(int parentfd, const char *name) {
        _cleanup_close_ int fd = cg_dir_open(parentfd, name);
        DIR *d;
        struct dirent *de;
        int r = 0;

        if (fd == -ENOENT)
                return 0;
        if (fd < 0)
                return fd;
        d = fdopendir(fd);
        if (!d)
                return negative_errno();
        (void) TAKE_FD(fd);
        while ((de = readdir(d)))
                if (de->d_type == DT_DIR && !streq(de->d_name, ".") && !streq(de->d_name, "..")) {
                        int k = cg_rmtree_at(dirfd(d), de->d_name);
                        if (k < 0 && r == 0)
                                r = k;
                }
        closedir(d);
        if (unlinkat(parentfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT && r == 0)
                r = negative_errno();
        return r;
}

static int remove_lxc_cgroups(struct cg_mount_walk *w, int basefd, bool owned, bool v2) {
        _cleanup_close_ int gfd = cg_dir_open_path(basefd, w->p->guest_cg);
        int r = 0, k;

        if (gfd < 0)
                return 0;
        r = cg_rmtree_at(gfd, "lxc");
        k = cg_rmtree_at(gfd, "lxc.monitor");
        if (r == 0)
                r = k;
        k = cg_rmtree_at(gfd, "lxc.pivot");
        if (r == 0)
                r = k;
        /* In hierarchies ubcd does not manage (devices, freezer, name=systemd, an idle v2 mount)
         * liblxc made ROOT/ID and ROOT on the way: they go with it when nothing else uses them. */
        if (!owned && r == 0) {
                char root[256];
                char *slash;

                closep(&gfd);
                (void) unlinkat(basefd, w->p->guest_cg, AT_REMOVEDIR);
                snprintf(root, sizeof(root), "%s", w->p->guest_cg);
                while ((slash = strrchr(root, '/'))) {
                        *slash = '\0';
                        if (unlinkat(basefd, root, AT_REMOVEDIR) < 0)
                                break;
                }
        }
        return r;
}

/* Reads pids of cgroup.procs in 'fd' and below; kills them when sig != 0. */
static int procs_tree(int fd, int sig, unsigned depth, unsigned *count) {
        _cleanup_fclose_ FILE *f = NULL;
        DIR *d;
        struct dirent *de;
        int pfd, dfd;
        long pid;

        if (depth > 32)
                return -ELOOP;
        pfd = openat(fd, "cgroup.procs", O_RDONLY | O_CLOEXEC);
        if (pfd >= 0) {
                f = fdopen(pfd, "re");
                if (!f) {
                        close(pfd);
                        return -ENOMEM;
                }
                while (fscanf(f, "%ld", &pid) == 1) {
                        (*count)++;
                        if (sig && pid > 1 && (pid_t) pid != getpid())
                                (void) kill((pid_t) pid, sig);
                }
        }
        dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return negative_errno();
        d = fdopendir(dfd);
        if (!d) {
                close(dfd);
                return -ENOMEM;
        }
        while ((de = readdir(d)))
                if (de->d_type == DT_DIR && !streq(de->d_name, ".") && !streq(de->d_name, "..")) {
                        _cleanup_close_ int sub = cg_dir_open(dirfd(d), de->d_name);
                        if (sub >= 0)
                                (void) procs_tree(sub, sig, depth + 1, count);
                }
        closedir(d);
        return 0;
}

struct kill_walk {
        const char *sub; /* "lxc", "lxc.monitor" or "lxc.pivot" */
        int sig;
        int freeze; /* 1 freeze, 0 thaw, -1 neither */
};

static int kill_in(struct cg_mount_walk *w, int basefd, bool owned, bool v2) {
        const struct kill_walk *k = w->data;
        _cleanup_close_ int gfd = cg_dir_open_path(basefd, w->p->guest_cg);
        _cleanup_close_ int fd = -EBADF;

        if (gfd < 0)
                return 0;
        fd = cg_dir_open(gfd, k->sub);
        if (fd < 0)
                return 0;
        if (k->freeze >= 0) {
                if (!v2 && cg_file_exists(fd, "freezer.state"))
                        (void) cg_file_write(fd, "freezer.state", k->freeze ? "FROZEN" : "THAWED", false);
                return 0;
        }
        /* v2 (5.14) kills the whole subtree at once, forks included; without it, one by one. */
        if (k->sig == SIGKILL && v2 && cg_file_write(fd, "cgroup.kill", "1", false) >= 0)
                return procs_tree(fd, 0, 0, &w->count);
        return procs_tree(fd, k->sig, 0, &w->count);
}

/* Signals (or with sig 0 counts) the processes of ROOT/ID/SUB in every hierarchy. */
static unsigned signal_sub(const struct launch_guest *g, const struct lxc_paths *p, const char *sub, int sig,
                           int freeze) {
        struct kill_walk k = {.sub = sub, .sig = sig, .freeze = freeze};
        struct cg_mount_walk w = {.g = g, .p = p, .fn = kill_in, .data = &k};

        (void) cg_mounts_walk(&w);
        return w.count;
}

static bool dir_exists(const char *path) {
        struct stat st;
        return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* v2: the guest's cgroup only holds lxc, lxc.monitor and lxc.pivot, which get its controllers.
 * liblxc enables every controller of its base on the way down itself, but a refusal there reads
 * as "Failed to create payload cgroup"; here it is an error that says why. */
static int delegate_v2(const struct launch_guest *g, const struct lxc_paths *p, char *err, size_t size) {
        char ctrls[512], add[600] = "", *save = NULL;
        _cleanup_close_ int fd = -EBADF;
        int c, r;

        for (c = 0; c < _UBC_CTRL_MAX; c++)
                if (g->root && g->root->fd[c] >= 0 && g->root->version[c] == CG_VERSION_V2)
                        break;
        if (c == _UBC_CTRL_MAX)
                return 0;
        fd = cg_dir_open(g->root->fd[c], p->name);
        if (fd < 0) {
                snprintf(err, size, "guest cgroup %s does not exist (is ubcd running?)", p->guest_cg);
                return fd;
        }
        r = cg_file_read_value(fd, "cgroup.controllers", ctrls, sizeof(ctrls));
        if (r < 0)
                return r;
        for (char *t = strtok_r(ctrls, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
                size_t n = strlen(add);
                snprintf(add + n, sizeof(add) - n, "%s+%s", n ? " " : "", t);
        }
        if (!add[0])
                return 0;
        r = cg_file_write(fd, "cgroup.subtree_control", add, false);
        if (r < 0)
                snprintf(err, size, "cannot enable '%s' for the container below %s: %s%s", add, p->guest_cg,
                         strerror(-r),
                         r == -EBUSY ? " (the guest's cgroup holds processes of its own; a container "
                                       "needs it empty on cgroup v2)"
                                     : "");
        return r;
}

/* The container's messages of this start: its log's last ERROR line after 'offset'. */
static void log_error_since(const char *log, off_t offset, char *buf, size_t size) {
        _cleanup_fclose_ FILE *f = fopen(log, "re");
        _cleanup_free_ char *line = NULL;
        size_t n = 0;

        buf[0] = '\0';
        if (!f || fseeko(f, offset, SEEK_SET) < 0)
                return;
        while (getline(&line, &n, f) > 0) {
                char *e = strstr(line, " ERROR ");
                if (!e)
                        continue;
                e += 7;
                /* "lxccontainer - file.c:123 - message" -> "message" */
                char *m = strstr(e, " - ");
                if (m && (m = strstr(m + 3, " - ")))
                        e = m + 3;
                e[strcspn(e, "\n")] = '\0';
                snprintf(buf, size, "%s", e);
        }
}

/* An unprivileged container resolves its rootfs path as its own root: every folder on the way
 * must be searchable by others. */
static int check_reachable(const char *rootfs, char *err, size_t size) {
        char path[PATH_MAX], *slash;

        snprintf(path, sizeof(path), "%s", rootfs);
        while ((slash = strrchr(path, '/')) && slash != path) {
                struct stat st;

                *slash = '\0';
                if (stat(path, &st) < 0)
                        return negative_errno();
                if (!(st.st_mode & S_IXOTH)) {
                        snprintf(err, size,
                                 "an unprivileged container cannot reach its rootfs: '%s' is not searchable "
                                 "by others (chmod o+x)",
                                 path);
                        return -EACCES;
                }
        }
        return 0;
}

/* Whether a process is in ROOT/ID/lxc or below, by the memory hierarchy (v1) or the unified one
 * (v2), as /proc/PID/cgroup shows from the caller's cgroup namespace. */
static bool init_is_inside(const struct launch_guest *g, const struct lxc_paths *p, pid_t pid) {
        _cleanup_fclose_ FILE *f = NULL;
        bool unified = g->root && g->root->mode == CG_MODE_UNIFIED;
        char path[64], line[512], want[300];

        snprintf(want, sizeof(want), "%s/lxc", p->guest_cg);
        snprintf(path, sizeof(path), "/proc/%d/cgroup", (int) pid);
        f = fopen(path, "re");
        if (!f)
                return false;
        while (fgets(line, sizeof(line), f)) {
                char *ctrls = strchr(line, ':'), *q;

                q = ctrls ? strchr(ctrls + 1, ':') : NULL;
                if (!q)
                        continue;
                *q++ = '\0';
                *ctrls++ = '\0'; /* line: the hierarchy's number; ctrls: its controllers */
                if (unified ? !streq(line, "0") : !streq(ctrls, "memory"))
                        continue;
                q[strcspn(q, "\n")] = '\0';
                while (*q == '/')
                        q++;
                return path_is_below(q, want);
        }
        /* No memory hierarchy: nothing to tell by. */
        return !unified;
}

/* v1 cpuset: a new cpuset has no CPUs and takes no process until given some. liblxc makes
 * lxc and lxc.monitor below the guest's cgroup, which ubcd made with its own cpus and mems: with
 * clone_children set they start with a copy of those. */
static int cpuset_clone_children(const struct launch_guest *g, const struct lxc_paths *p, char *err,
                                 size_t size) {
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (!g->root || g->root->fd[UBC_CTRL_CPUSET] < 0 ||
            g->root->version[UBC_CTRL_CPUSET] != CG_VERSION_V1)
                return 0;
        fd = cg_dir_open(g->root->fd[UBC_CTRL_CPUSET], p->name);
        if (fd < 0) {
                snprintf(err, size, "guest cgroup %s does not exist in the cpuset hierarchy", p->guest_cg);
                return fd;
        }
        r = cg_file_write(fd, "cgroup.clone_children", "1", false);
        if (r < 0)
                snprintf(err, size, "cannot set cgroup.clone_children of %s in the cpuset hierarchy: %s",
                         p->guest_cg, strerror(-r));
        return r;
}

int lxc_launch_create(const struct launch_guest *g, const char *template_name, launch_progress_fn progress,
                      void *userdata, char *err, size_t size) {
        struct lxc_settings s;
        struct lxc_paths p;
        char tpl[PATH_MAX], tmpname[CG_ID_NAME_MAX + 8], tmp[PATH_MAX + 32], tmp_rootfs[PATH_MAX + 40];
        char tmp_config[PATH_MAX + 40];
        _cleanup_close_ int lxcfd = -EBADF;
        struct stat st;
        int r;

        r = settings_or_error(g, false, &s, err, size);
        if (r < 0)
                return r;
        r = make_paths(g, &p, err, size);
        if (r < 0)
                return r;
        if (!template_name || !*template_name)
                template_name = s.template_name;
        if (!*template_name) {
                snprintf(err, size, "%s: no template: set template = NAME in [container]", g->file);
                return -EINVAL;
        }
        if (!template_tar_flag(template_name)) {
                snprintf(err, size,
                         "'%s' is not a template file name, must be NAME.tar.gz, .tar.xz, .tar.zst or .tar",
                         template_name);
                return -EINVAL;
        }
        if (template_path(g, template_name, tpl, sizeof(tpl)) < 0)
                return -ENAMETOOLONG;
        if (stat(tpl, &st) < 0 || !S_ISREG(st.st_mode)) {
                snprintf(err, size, "template '%s' not found in %s/template", template_name, g->state_dir);
                return -ENOENT;
        }

        if (mkdir(p.lxcpath, 0755) < 0 && errno != EEXIST) {
                r = negative_errno();
                snprintf(err, size, "cannot make '%s': %s", p.lxcpath, strerror(-r));
                return r;
        }
        lxcfd = open(p.lxcpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (lxcfd < 0)
                return negative_errno();
        if (fstatat(lxcfd, p.name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
                snprintf(err, size, "container %s exists in %s", p.name, p.lxcpath);
                return -EEXIST;
        }

        /* Made aside and renamed into place: a failed or interrupted create leaves no container
         * (and the next create removes such a leftover). */
        snprintf(tmpname, sizeof(tmpname), ".%s.new", p.name);
        snprintf(tmp, sizeof(tmp), "%s/%s", p.lxcpath, tmpname);
        snprintf(tmp_rootfs, sizeof(tmp_rootfs), "%s/rootfs", tmp);
        snprintf(tmp_config, sizeof(tmp_config), "%s/config", tmp);
        r = template_rmtree_at(lxcfd, tmpname);
        if (r < 0) {
                snprintf(err, size, "cannot remove the leftover '%s': %s", tmp, strerror(-r));
                return r;
        }
        if (mkdirat(lxcfd, tmpname, 0755) < 0 || mkdir(tmp_rootfs, 0755) < 0) {
                r = negative_errno();
                snprintf(err, size, "cannot make '%s': %s", tmp_rootfs, strerror(-r));
                goto fail;
        }
        r = template_unpack(tpl, tmp_rootfs, s.privileged ? 0 : LXC_SHIFT, progress, userdata, err, size);
        if (r < 0)
                goto fail;

        r = write_config(&s, &p, tmp_config, err, size);
        if (r < 0)
                goto fail;
        if (renameat2(lxcfd, tmpname, lxcfd, p.name, RENAME_NOREPLACE) < 0) {
                r = negative_errno();
                snprintf(err, size, "cannot rename '%s' to '%s': %s", tmp, p.dir, strerror(-r));
                goto fail;
        }
        return 0;

fail:
        (void) template_rmtree_at(lxcfd, tmpname);
        return r;
}

int lxc_launch_find(const struct launch_guest *g, pid_t *ret_pid) {
        struct lxc_paths p;
        struct lxc_container *c;
        char err[PATH_MAX + 256];
        pid_t pid;
        int r = 0;

        r = make_paths(g, &p, err, sizeof(err));
        if (r < 0)
                return r;
        if (!dir_exists(p.dir))
                return 0;
        c = container_open(&p, err, sizeof(err));
        if (!c)
                return -ENOMEM;
        if (c->is_running(c)) {
                pid = c->init_pid(c);
                if (pid > 0) {
                        if (ret_pid)
                                *ret_pid = pid;
                        r = 1;
                }
        }
        sym_lxc_container_put(c);
        return r;
}

int lxc_launch_cleanup(const struct launch_guest *g) {
        struct cg_mount_walk w;
        struct lxc_paths p;
        char err[PATH_MAX + 256];
        unsigned left = 0;
        int r;

        r = make_paths(g, &p, err, sizeof(err));
        if (r < 0)
                return r;
        /* liblxc mounts in the container's own namespace, which went with its init; a rootfs
         * mounted here (by an operator, or an older lxc) must not outlive the container. */
        r = umount_below(p.rootfs, &left);
        if (r == 0 && left > 0)
                r = -EBUSY;
        w = (struct cg_mount_walk){.g = g, .p = &p, .fn = remove_lxc_cgroups};
        int k = cg_mounts_walk(&w);
        return r < 0 ? r : k;
}

static int mount_below_found(void *userdata, const char *where, const char *fstype) {
        return path_is_below(where, userdata) ? 1 : 0;
}

/* Whether a start must clean up first. ubcd's stop leaves nothing; a crashed run, or liblxc's
 * own stop (lxc-stop), leaves cgroups in every hierarchy alike, and so in the ones ubcd owns,
 * which are cheap to look at. Should one of the others still hold some, liblxc's start fails,
 * and its undo (lxc_launch_kill) cleans up everywhere for the next. */
static bool has_leftovers(const struct launch_guest *g, const struct lxc_paths *p) {
        static const char *const subs[] = {"lxc", "lxc.monitor", "lxc.pivot"};

        if (!g->root)
                return true;
        for (int c = 0; c < _UBC_CTRL_MAX; c++) {
                _cleanup_close_ int fd = -EBADF;
                struct stat st;

                if (!cg_first_of_hierarchy(g->root, c))
                        continue;
                fd = cg_guest_open_at(g->root->fd[c], g->id);
                if (fd < 0)
                        return true;
                for (size_t i = 0; i < ELEMENTSOF(subs); i++)
                        if (fstatat(fd, subs[i], &st, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT)
                                return true;
        }
        return for_each_mount(mount_below_found, (void *) p->rootfs) != 0;
}

/* Waits until ROOT/ID/SUB holds no process in any hierarchy; false on timeout. */
static bool wait_empty(const struct launch_guest *g, const struct lxc_paths *p, const char *sub,
                       unsigned ms) {
        for (unsigned t = 0;; t += WAIT_STEP_MS) {
                if (signal_sub(g, p, sub, 0, -1) == 0)
                        return true;
                if (t >= ms)
                        return false;
                msleep(WAIT_STEP_MS);
        }
}

/* The monitor ends on its own once its container is gone, from lxc.monitor or from lxc.pivot,
 * where it moves to remove lxc.monitor; one that hangs is killed. */
static int end_monitor(const struct launch_guest *g, const struct lxc_paths *p, const char *sub, char *err,
                       size_t size) {
        if (wait_empty(g, p, sub, 5000))
                return 0;
        (void) signal_sub(g, p, sub, SIGKILL, -1);
        if (wait_empty(g, p, sub, 5000))
                return 0;
        snprintf(err, size, "the container's monitor in %s/%s does not end", p->guest_cg, sub);
        return -ETIMEDOUT;
}

int lxc_launch_kill(const struct launch_guest *g, char *err, size_t size) {
        struct lxc_paths p;
        struct lxc_container *c;
        int r;

        r = make_paths(g, &p, err, size);
        if (r < 0)
                return r;
        c = container_open(&p, err, size);
        if (!c)
                return -ENOMEM;
        /* The monitor kills init, whose end takes every process of its PID namespace along. */
        if (c->is_running(c)) {
                (void) c->stop(c);
                (void) c->wait(c, "STOPPED", 5);
        }
        sym_lxc_container_put(c);

        /* Whatever is still in the container's cgroups (a monitor that died first, a process
         * attached without the namespace): frozen (v1) so nothing forks away, killed, thawed. */
        for (unsigned t = 0; !wait_empty(g, &p, "lxc", 0); t += WAIT_STEP_MS) {
                if (t >= KILL_WAIT_MS) {
                        snprintf(err, size, "processes are left in %s/lxc after SIGKILL", p.guest_cg);
                        return -ETIMEDOUT;
                }
                (void) signal_sub(g, &p, "lxc", 0, 1);
                (void) signal_sub(g, &p, "lxc", SIGKILL, -1);
                (void) signal_sub(g, &p, "lxc", 0, 0);
                msleep(WAIT_STEP_MS);
        }
        r = end_monitor(g, &p, "lxc.monitor", err, size);
        if (r == 0)
                r = end_monitor(g, &p, "lxc.pivot", err, size);
        if (r < 0)
                return r;
        r = lxc_launch_cleanup(g);
        if (r < 0)
                snprintf(err, size, "cannot remove what is left of container %s: %s", p.name, strerror(-r));
        return r;
}

/* Whether a file lists a range for root that holds LXC_SHIFT..+LXC_IDS. */
static bool subid_has_root_range(const char *file) {
        _cleanup_fclose_ FILE *f = fopen(file, "re");
        char line[256];

        while (f && fgets(line, sizeof(line), f)) {
                char who[64];
                unsigned long start, count;

                if (sscanf(line, "%63[^:]:%lu:%lu", who, &start, &count) != 3)
                        continue;
                if ((streq(who, "root") || streq(who, "0")) && start <= LXC_SHIFT &&
                    start + count >= (unsigned long) LXC_SHIFT + LXC_IDS)
                        return true;
        }
        return false;
}

static bool on_path(const char *prog) {
        const char *path = getenv("PATH");
        char buf[PATH_MAX];

        if (!path)
                path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        while (*path) {
                size_t n = strcspn(path, ":");
                if (n > 0 &&
                    snprintf(buf, sizeof(buf), "%.*s/%s", (int) n, path, prog) < (int) sizeof(buf) &&
                    access(buf, X_OK) == 0)
                        return true;
                path += n;
                if (*path == ':')
                        path++;
        }
        return false;
}

/* With shadow's newuidmap installed, liblxc maps ids through it, also for root, and so insists
 * that root owns the range in /etc/subuid and /etc/subgid (as Proxmox VE sets up). */
static int check_subids(char *err, size_t size) {
        if (!on_path("newuidmap") && !on_path("newgidmap"))
                return 0;
        if (subid_has_root_range("/etc/subuid") && subid_has_root_range("/etc/subgid"))
                return 0;
        snprintf(err, size,
                 "an unprivileged container needs 'root:%u:%u' in /etc/subuid and /etc/subgid (newuidmap "
                 "is installed, and liblxc maps ids through it)",
                 LXC_SHIFT, LXC_IDS);
        return -EPERM;
}

/* -EALREADY if the container runs (started by us, or by hand with lxc-start), -EBUSY if other
 * processes are in the guest's cgroups. Its monitor and init are there while it runs: counting
 * them is cheaper than liblxc's answer, which is asked only to tell the two apart. */
static int refuse_running(const struct launch_guest *g, const struct lxc_paths *p, char *err, size_t size) {
        struct lxc_container *c;
        unsigned n = 0;
        bool running;

        if (g->root && cg_guest_nprocs(g->root, g->id, &n) >= 0 && n == 0)
                return 0;
        c = container_open(p, err, size);
        if (!c)
                return -ENOMEM;
        running = c->is_running(c);
        sym_lxc_container_put(c);
        if (running) {
                snprintf(err, size, "container %s is running", p->name);
                return -EALREADY;
        }
        if (n > 0) {
                snprintf(err, size,
                         "container %s is not running but %u processes are in %s: stop them first", p->name,
                         n, p->guest_cg);
                return -EBUSY;
        }
        return 0;
}

int lxc_launch_begin(const struct launch_guest *g, struct launch_pending *ret, char *err, size_t size) {
        struct lxc_settings s;
        struct lxc_paths p;
        struct stat st;
        off_t log_offset = 0;
        int result_fd, r;

        r = settings_or_error(g, false, &s, err, size);
        if (r < 0)
                return r;
        r = make_paths(g, &p, err, size);
        if (r < 0)
                return r;
        if (stat(p.rootfs, &st) < 0 || !S_ISDIR(st.st_mode)) {
                snprintf(err, size, "container %s has no rootfs in '%s': create it first", p.name, p.rootfs);
                return -ENOENT;
        }
        /* The ids on disk were fixed when the rootfs was unpacked. */
        if (s.privileged != (st.st_uid == 0)) {
                snprintf(err, size,
                         "container %s was created %s (rootfs owned by %u) but %s says privileged = %s: "
                         "destroy and create it again to change that",
                         p.name, st.st_uid == 0 ? "privileged" : "unprivileged", (unsigned) st.st_uid,
                         g->file, s.privileged ? "yes" : "no");
                return -EINVAL;
        }
        if (!s.privileged) {
                r = check_subids(err, size);
                if (r == 0)
                        r = check_reachable(p.rootfs, err, size);
                if (r < 0)
                        return r;
        }
        if (s.bridge[0]) {
                char br[64 + IFNAMSIZ];
                snprintf(br, sizeof(br), "/sys/class/net/%s/bridge", s.bridge);
                if (!dir_exists(br)) {
                        snprintf(err, size, "network bridge '%s' does not exist on this host", s.bridge);
                        return -ENODEV;
                }
        }
        if (g->root && !cg_guest_exists(g->root, g->id)) {
                snprintf(err, size, "guest cgroup %s does not exist (is ubcd running?)", p.guest_cg);
                return -ENOENT;
        }

        r = refuse_running(g, &p, err, size);
        if (r < 0)
                return r;
        /* liblxc refuses a container cgroup that exists: remove a crashed run's leftovers. */
        r = has_leftovers(g, &p) ? lxc_launch_cleanup(g) : 0;
        if (r < 0) {
                snprintf(err, size,
                         "container %s is not running but %s/lxc still holds processes or mounts: %s",
                         p.name, p.guest_cg, strerror(-r));
                return r;
        }
        r = delegate_v2(g, &p, err, size);
        if (r == 0)
                r = cpuset_clone_children(g, &p, err, size);
        if (r == 0)
                r = write_config(&s, &p, p.config, err, size);
        if (r < 0)
                return r;
        {
                char logdir[PATH_MAX];
                snprintf(logdir, sizeof(logdir), "%s/lxc", g->run_dir);
                (void) mkdir(logdir, 0750);
                if (stat(p.log, &st) == 0)
                        log_offset = st.st_size;
        }

        /* Not a fork of ubcd (see ubc-lxc-starter.c); started from the configuration just
         * saved, as lxc-start would. */
        r = lxc_starter_request(p.name, p.lxcpath, &result_fd, err, size);
        if (r < 0) {
                (void) lxc_launch_cleanup(g);
                return r;
        }
        *ret = (struct launch_pending){.pidfd = -EBADF, .result_fd = result_fd, .log_offset = log_offset};
        return 0;
}

int lxc_launch_finish(const struct launch_guest *g, struct launch_pending *pending, pid_t *ret_pid,
                      char *err, size_t size) {
        struct lxc_paths p;
        char msg[300], kerr[PATH_MAX + 256];
        pid_t pid = 0;
        int started, r;

        started = lxc_starter_wait(TAKE_FD(pending->result_fd), &pid);
        r = make_paths(g, &p, err, size);
        if (r < 0)
                return r;
        if (started < 0) {
                r = started;
                log_error_since(p.log, pending->log_offset, msg, sizeof(msg));
                snprintf(err, size, "container %s did not start: %s (see %s)", p.name,
                         *msg ? msg : "liblxc gave no reason", p.log);
                goto undo;
        }
        if (pid <= 0) {
                log_error_since(p.log, pending->log_offset, msg, sizeof(msg));
                snprintf(err, size, "container %s stopped right after starting: %s (see %s)", p.name,
                         *msg ? msg : "its init exited", p.log);
                r = -EIO;
                goto undo;
        }
        /* Where the limits are: its init must be below the guest's cgroup. */
        if (!init_is_inside(g, &p, pid)) {
                snprintf(err, size, "container %s's init is not below %s/lxc; stopped it", p.name,
                         p.guest_cg);
                r = -EXDEV;
                goto undo;
        }
        *ret_pid = pid;
        return 0;

undo:
        (void) lxc_launch_kill(g, kerr, sizeof(kerr));
        return r < 0 ? r : -EIO;
}

int lxc_launch_start(const struct launch_guest *g, pid_t *ret_pid, char *err, size_t size) {
        struct launch_pending pending;
        int r = lxc_launch_begin(g, &pending, err, size);

        return r < 0 ? r : lxc_launch_finish(g, &pending, ret_pid, err, size);
}

int lxc_launch_shutdown(const struct launch_guest *g, char *err, size_t size) {
        struct lxc_paths p;
        struct lxc_container *c;
        int r = 0;

        r = make_paths(g, &p, err, size);
        if (r < 0)
                return r;
        c = container_open(&p, err, size);
        if (!c)
                return -ENOMEM;
        /* Timeout 0: liblxc sends the halt signal (SIGPWR, or SIGRTMIN+3 for a systemd that
         * blocks it, or lxc.signal.halt) and does not wait. Not running is done already. */
        if (c->is_running(c) && !c->shutdown(c, 0)) {
                snprintf(err, size, "cannot send the halt signal to container %s's init", p.name);
                r = -EIO;
        }
        sym_lxc_container_put(c);
        return r;
}

int lxc_launch_destroy(const struct launch_guest *g, char *err, size_t size) {
        struct lxc_paths p;
        struct lxc_container *c;
        _cleanup_close_ int lxcfd = -EBADF;
        bool running;
        int r;

        r = make_paths(g, &p, err, size);
        if (r < 0)
                return r;
        if (!dir_exists(p.dir)) {
                snprintf(err, size, "container %s does not exist in %s", p.name, p.lxcpath);
                return -ENOENT;
        }
        c = container_open(&p, err, size);
        if (!c)
                return -ENOMEM;
        running = c->is_running(c);
        sym_lxc_container_put(c);
        if (running) {
                snprintf(err, size, "container %s is running: stop it first", p.name);
                return -EBUSY;
        }
        r = lxc_launch_cleanup(g);
        if (r < 0) {
                snprintf(err, size, "container %s still has processes or mounts: %s", p.name, strerror(-r));
                return r;
        }
        lxcfd = open(p.lxcpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (lxcfd < 0)
                return negative_errno();
        r = template_rmtree_at(lxcfd, p.name);
        if (r < 0) {
                snprintf(err, size, "cannot remove '%s': %s", p.dir, strerror(-r));
                return r;
        }
        (void) unlink(p.log);
        return 0;
}

int lxc_launch_attach(const struct launch_guest *g, char *const *argv, char *err, size_t size) {
        struct lxc_paths p;
        struct lxc_container *c;
        lxc_attach_options_t opts = LXC_ATTACH_OPTIONS_DEFAULT;
        char term[128];
        const char *t = getenv("TERM");
        char *env[] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root",
                       term, NULL};
        int r, status;

        if (!argv || !argv[0])
                return -EINVAL;
        r = make_paths(g, &p, err, size);
        if (r < 0)
                return r;
        c = container_open(&p, err, size);
        if (!c)
                return -ENOMEM;
        if (!c->is_running(c)) {
                snprintf(err, size, "container %s is not running", p.name);
                sym_lxc_container_put(c);
                return -ESRCH;
        }
        /* A clean environment as a login would give, not the caller's (ubcd's or sudo's). */
        snprintf(term, sizeof(term), "TERM=%s", t && strlen(t) < 64 ? t : "linux");
        opts.env_policy = LXC_ATTACH_CLEAR_ENV;
        opts.extra_env_vars = env;
        status = c->attach_run_wait(c, &opts, argv[0], (const char *const *) argv);
        sym_lxc_container_put(c);
        if (status < 0) {
                snprintf(err, size, "cannot run '%s' in container %s", argv[0], p.name);
                return -EIO;
        }
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        if (WIFSIGNALED(status))
                return 128 + WTERMSIG(status);
        return 255;
}
