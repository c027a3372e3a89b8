/* lxc-drive: runs one container launcher function per call, as ubcd's runtime would, for the
 * host test t-lxc.sh. It makes (and removes) the guest's cgroup ROOT/ID itself, through the
 * same cgroup layer as ubcd.
 *
 *   lxc-drive -s STATE -r RUN -R ROOT -i ID [-x STARTER] [-o KEY=VALUE]... COMMAND [ARGS]
 *
 * -x names ubc-lxc-starter, which start runs (ubcd finds it next to itself). -o gives a
 * [container] setting. Commands: cg-create, cg-remove, validate, create [TEMPLATE],
 * start, find, shutdown, kill, cleanup, destroy, attach -- CMD.... A failure prints
 * "lxc-drive: COMMAND: ENAME: message" on stderr and exits 1; attach exits with the command's
 * status. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "launcher.h"
#include "lxc-starter.h"
#include "ubc/macro.h"

#define MAX_SETTINGS 16

static struct policy_setting settings[MAX_SETTINGS];
static size_t n_settings;

static int fail(const char *cmd, int r, const char *msg) {
        const char *name = strerrorname_np(-r);
        fprintf(stderr, "lxc-drive: %s: %s: %s\n", cmd, name ? name : "?", msg && *msg ? msg : strerror(-r));
        return 1;
}

static void print_diag(void *userdata, const struct ubc_diag *d) {
        printf("%s:%u: %s: %s\n", d->file ? d->file : "?", d->line, d->key ? d->key : "", d->message);
}

static void print_progress(void *userdata, uint64_t done, uint64_t total) {
        unsigned *last = userdata;
        unsigned pct = total ? (unsigned) (done * 100 / total) : 100;

        /* One line per 10 %, as a terminal would show it. */
        if (pct / 10 != *last / 10 || done == 0 || done == total) {
                printf("progress %llu/%llu\n", (unsigned long long) done, (unsigned long long) total);
                *last = pct;
        }
}

static int open_root(const char *root_name, struct ubc_host *host, struct cg_root *root) {
        int r = cg_host_discover(root_name, host);
        if (r < 0)
                return r;
        return cg_root_open(root_name, host, root);
}

int main(int argc, char **argv) {
        const char *state = NULL, *run = NULL, *root_name = NULL, *cmd;
        static struct ubc_host host;
        struct cg_root root = {};
        char file[64], err[8192] = "";
        unsigned long id = 0;
        int opt, r;

        for (int c = 0; c < _UBC_CTRL_MAX; c++)
                root.fd[c] = -EBADF;
        while ((opt = getopt(argc, argv, "+s:r:R:i:x:o:")) != -1) {
                switch (opt) {
                case 's':
                        state = optarg;
                        break;
                case 'r':
                        run = optarg;
                        break;
                case 'R':
                        root_name = optarg;
                        break;
                case 'i':
                        id = strtoul(optarg, NULL, 10);
                        break;
                case 'x':
                        lxc_starter_set_path(optarg);
                        break;
                case 'o': {
                        char *eq = strchr(optarg, '=');
                        struct policy_setting *s;

                        if (!eq || n_settings >= MAX_SETTINGS)
                                return 2;
                        s = &settings[n_settings];
                        snprintf(s->section, sizeof(s->section), "container");
                        snprintf(s->key, sizeof(s->key), "%.*s", (int) (eq - optarg), optarg);
                        s->value = eq + 1;
                        s->line = (unsigned) ++n_settings + 1; /* after "[container]" on line 1 */
                        break;
                }
                default:
                        return 2;
                }
        }
        if (!state || !run || !root_name || id == 0 || optind >= argc) {
                fprintf(stderr, "usage: lxc-drive -s STATE -r RUN -R ROOT -i ID [-x STARTER] [-o "
                                "KEY=VALUE]... COMMAND\n");
                return 2;
        }
        cmd = argv[optind];
        snprintf(file, sizeof(file), "guests.d/%lu.conf", id);

        r = open_root(root_name, &host, &root);
        if (r < 0)
                return fail(cmd, r, "cannot open the cgroup root");

        struct launch_guest g = {
                .id = (uint32_t) id,
                .file = file,
                .settings = settings,
                .n_settings = n_settings,
                .mem_limit = UINT64_MAX,
                .state_dir = state,
                .run_dir = run,
                .root = &root,
                .root_name = root_name,
        };

        if (streq(cmd, "cg-create")) {
                r = cg_guest_create(&root, &host, g.id);
                return r < 0 ? fail(cmd, r, NULL) : 0;
        }
        if (streq(cmd, "cg-remove")) {
                r = cg_guest_remove(&root, g.id);
                if (r < 0)
                        return fail(cmd, r, NULL);
                /* The root cg_root_open made: this test's alone. */
                for (int c = 0; c < _UBC_CTRL_MAX; c++)
                        if (root.fd[c] >= 0)
                                (void) rmdir(root.path[c]);
                return 0;
        }
        if (streq(cmd, "validate")) {
                struct ubc_diag_sink sink = {.report = print_diag};
                r = lxc_launch_validate(&g, &sink);
                return r < 0 ? fail(cmd, r, "invalid settings") : 0;
        }
        if (streq(cmd, "create")) {
                unsigned last = 0;
                r = lxc_launch_create(&g, optind + 1 < argc ? argv[optind + 1] : NULL, print_progress, &last,
                                      err, sizeof(err));
                return r < 0 ? fail(cmd, r, err) : 0;
        }
        if (streq(cmd, "start") || streq(cmd, "find")) {
                pid_t pid = 0;
                r = streq(cmd, "start") ? lxc_launch_start(&g, &pid, err, sizeof(err))
                                        : lxc_launch_find(&g, &pid);
                lxc_starter_stop();
                if (r < 0)
                        return fail(cmd, r, err);
                if (streq(cmd, "find") && r == 0)
                        printf("stopped\n");
                else
                        printf("%d\n", (int) pid);
                return 0;
        }
        if (streq(cmd, "shutdown"))
                r = lxc_launch_shutdown(&g, err, sizeof(err));
        else if (streq(cmd, "kill"))
                r = lxc_launch_kill(&g, err, sizeof(err));
        else if (streq(cmd, "cleanup"))
                r = lxc_launch_cleanup(&g);
        else if (streq(cmd, "destroy"))
                r = lxc_launch_destroy(&g, err, sizeof(err));
        else if (streq(cmd, "attach")) {
                int a = optind + 1;
                if (a < argc && streq(argv[a], "--"))
                        a++;
                if (a >= argc)
                        return 2;
                r = lxc_launch_attach(&g, argv + a, err, sizeof(err));
                if (r < 0)
                        return fail(cmd, r, err);
                return r;
        } else {
                fprintf(stderr, "lxc-drive: unknown command '%s'\n", cmd);
                return 2;
        }
        return r < 0 ? fail(cmd, r, err) : 0;
}
