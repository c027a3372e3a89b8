/* `ubcctl create`, `destroy`, `enter` and `exec`: the steps that work on a guest's files and
 * its container's rootfs from the command line (root only). ubcd notices a new or removed
 * guest file by itself; start and stop go through it. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ubc/agent-config.h"
#include "ubc/macro.h"
#include "fileio.h"
#include "launcher.h"
#include "ubcctl-bus.h"
#include "ubcctl.h"

/* What a command needs of one guest: ubcd.conf, the policy, the guest's launch settings. */
struct guest_files {
        struct agent_config cfg;
        struct policy policy;
        const struct policy_guest *guest; /* NULL: no guests.d/ID.conf */
        char path[600];                   /* guests.d/ID.conf */
        struct launch_guest lg;
};

static void guest_files_done(struct guest_files *f) {
        policy_done(&f->policy);
}

static int guest_files_load(struct ubcctl *ctl, uint32_t id, struct guest_files *f) {
        struct ubc_diag_sink quiet = {};

        *f = (struct guest_files){};
        agent_config_init(&f->cfg);
        snprintf(f->cfg.config_dir, sizeof(f->cfg.config_dir), "%s", ctl->config_dir);
        if (agent_config_load(&f->cfg, &(struct ubc_diag_sink){.report = ubcctl_print_diag}) < 0)
                return UBCCTL_EXIT_FAILED;
        snprintf(f->path, sizeof(f->path), "%s/guests.d/%" PRIu32 ".conf", ctl->config_dir, id);
        /* Other files' problems are not this command's: `ubcctl check` tells them. */
        (void) policy_load_dir(ctl->config_dir, &f->policy, &quiet);
        for (size_t i = 0; i < f->policy.n_guest_files; i++)
                if (f->policy.guest_files[i].guest.id == id)
                        f->guest = &f->policy.guest_files[i].guest;
        f->lg = (struct launch_guest){
                .id = id,
                .file = f->path,
                .settings = f->guest ? f->guest->settings : NULL,
                .n_settings = f->guest ? f->guest->n_settings : 0,
                .mem_limit = UBC_UNLIMITED,
                .state_dir = f->cfg.state_dir,
                .run_dir = f->cfg.run_dir,
                .root_name = ctl->root ? ctl->root : f->cfg.root,
        };
        return 0;
}

static bool class_defined(const struct policy *p, const char *name) {
        for (size_t i = 0; i < p->n_class_files; i++)
                for (size_t k = 0; k < p->class_files[i].n_classes; k++)
                        if (streq(p->class_files[i].classes[k].name, name))
                                return true;
        return false;
}

static void show_progress(void *userdata, uint64_t done, uint64_t total) {
        const char *name = userdata;

        fprintf(stderr, "\rUnpacking %s: %3.0f%% (%.1f of %.1f MiB)", name,
                total ? 100.0 * (double) done / (double) total : 0, (double) done / 1048576.0,
                (double) total / 1048576.0);
        if (done >= total)
                fputc('\n', stderr);
}

int ubcctl_create(struct ubcctl *ctl) {
        struct guest_files f;
        struct policy_setting tpl = {.section = "container", .key = "template", .line = 0};
        _cleanup_free_ char *text = NULL;
        char err[512];
        uint32_t id;
        int r, n;

        if (ubcctl_parse_id(ctl->args[0], &id) < 0)
                return UBCCTL_EXIT_USAGE;
        if (!ctl->template_name)
                return ubcctl_usage_error(
                        "'create' needs '--template NAME' (a tarball in STATE_DIR/template)");
        r = guest_files_load(ctl, id, &f);
        if (r != 0)
                return r;
        if (access(f.path, F_OK) == 0) {
                fprintf(stderr, "Guest %" PRIu32 " exists already: %s\n", id, f.path);
                r = UBCCTL_EXIT_FAILED;
                goto out;
        }
        if (ctl->class_name && !class_defined(&f.policy, ctl->class_name)) {
                fprintf(stderr, "Class '%s' is not defined in %s/policies.d\n", ctl->class_name,
                        ctl->config_dir);
                r = UBCCTL_EXIT_FAILED;
                goto out;
        }

        /* The rootfs first: the guest file appears only for a container that can start. */
        tpl.value = (char *) ctl->template_name;
        f.lg.settings = &tpl;
        f.lg.n_settings = 1;
        r = lxc_launch_create(&f.lg, ctl->template_name, show_progress, (void *) ctl->template_name, err,
                              sizeof(err));
        if (r < 0) {
                fprintf(stderr, "Guest %" PRIu32 ": %s\n", id, err);
                r = UBCCTL_EXIT_FAILED;
                goto out;
        }
        n = asprintf(&text, "[guest]\ntype = container\n%s%s%s\n[container]\ntemplate = %s\n",
                     ctl->class_name ? "class = " : "", ctl->class_name ? ctl->class_name : "",
                     ctl->class_name ? "\n" : "", ctl->template_name);
        r = n < 0 ? -ENOMEM : write_file_atomic(f.path, text, (size_t) n, 0644, true);
        if (r < 0) {
                fprintf(stderr, "Cannot write %s: %s; removing the unpacked rootfs again\n", f.path,
                        strerror(-r));
                (void) lxc_launch_destroy(&f.lg, err, sizeof(err));
                r = UBCCTL_EXIT_FAILED;
                goto out;
        }
        printf("Guest %" PRIu32 " created: %s (start it with 'ubcctl start %" PRIu32 "')\n", id, f.path, id);
        r = UBCCTL_EXIT_OK;
out:
        guest_files_done(&f);
        return r;
}

/* "running", "stopped", ... as ubcd lists it; "" when ubcd does not answer or lists no such
 * guest. */
static void state_from_ubcd(struct ubcctl *ctl, uint32_t id, char *buf, size_t size) {
        _cleanup_bus_ sd_bus *bus = NULL;
        struct stat st;

        buf[0] = '\0';
        /* No socket: ubcd is not running, and liblxc is asked instead. */
        if (stat(ctl->socket_path, &st) < 0 || !S_ISSOCK(st.st_mode) || ubcctl_connect(ctl, &bus) != 0)
                return;
        (void) ubcctl_guest_state(ctl, bus, id, buf, size);
}

int ubcctl_destroy(struct ubcctl *ctl) {
        struct guest_files f;
        char state[32], err[512];
        uint32_t id;
        pid_t pid;
        int r;

        if (ubcctl_parse_id(ctl->args[0], &id) < 0)
                return UBCCTL_EXIT_USAGE;
        r = guest_files_load(ctl, id, &f);
        if (r != 0)
                return r;
        if (!f.guest) {
                fprintf(stderr,
                        "No guest %" PRIu32 ": %s does not exist or does not load ('ubcctl check')\n", id,
                        f.path);
                r = UBCCTL_EXIT_FAILED;
                goto out;
        }
        state_from_ubcd(ctl, id, state, sizeof(state));
        if (!state[0] && f.guest->type == UBC_GUEST_CONTAINER && lxc_launch_find(&f.lg, &pid) > 0)
                snprintf(state, sizeof(state), "running");
        if (streq(state, "running") || streq(state, "stopping")) {
                if (!ctl->force) {
                        fprintf(stderr,
                                "Guest %" PRIu32 " is %s; stop it first, or destroy it with --force\n", id,
                                state);
                        r = UBCCTL_EXIT_FAILED;
                        goto out;
                }
                ctl->kill = true;
                r = ubcctl_stop(ctl);
                if (r != 0)
                        goto out;
        }
        if (f.guest->type == UBC_GUEST_CONTAINER && (r = lxc_launch_destroy(&f.lg, err, sizeof(err))) < 0 &&
            r != -ENOENT) {
                fprintf(stderr, "Guest %" PRIu32 ": %s\n", id, err);
                r = UBCCTL_EXIT_FAILED;
                goto out;
        }
        /* ubcd removes the cgroup once the file is gone (and the cgroup empty). */
        if (unlink(f.path) < 0) {
                fprintf(stderr, "Cannot remove %s: %m\n", f.path);
                r = UBCCTL_EXIT_FAILED;
                goto out;
        }
        printf("Guest %" PRIu32 " destroyed%s\n", id,
               f.guest->type == UBC_GUEST_VM ? " (its disks are left where its [vm] settings name them)"
                                             : "");
        r = UBCCTL_EXIT_OK;
out:
        guest_files_done(&f);
        return r;
}

static int attach(struct ubcctl *ctl, char *const *argv) {
        struct guest_files f;
        char err[512];
        uint32_t id;
        int r;

        if (ubcctl_parse_id(ctl->args[0], &id) < 0)
                return UBCCTL_EXIT_USAGE;
        r = guest_files_load(ctl, id, &f);
        if (r != 0)
                return r;
        if (!f.guest || f.guest->type != UBC_GUEST_CONTAINER) {
                fprintf(stderr, "Guest %" PRIu32 " is %s; only a container can be entered\n", id,
                        f.guest ? ubc_guest_type_name(f.guest->type) : "not defined");
                guest_files_done(&f);
                return UBCCTL_EXIT_FAILED;
        }
        r = lxc_launch_attach(&f.lg, argv, err, sizeof(err));
        if (r < 0) {
                fprintf(stderr, "Guest %" PRIu32 ": %s\n", id, err);
                r = UBCCTL_EXIT_FAILED;
        }
        guest_files_done(&f);
        return r;
}

int ubcctl_enter(struct ubcctl *ctl) {
        char *const shell[] = {"/bin/sh", "-l", NULL};

        return attach(ctl, shell);
}

int ubcctl_exec(struct ubcctl *ctl) {
        char **argv = ctl->args + 1;
        size_t n = ctl->n_args - 1;

        if (n > 0 && streq(argv[0], "--")) {
                argv++;
                n--;
        }
        if (n == 0)
                return ubcctl_usage_error("'exec' needs a command: ubcctl exec ID -- CMD [ARGS...]");
        return attach(ctl, argv);
}
