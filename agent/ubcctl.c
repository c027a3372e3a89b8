/* ubcctl: the command line of ubc. Parses options and the command, then hands over to the
 * offline commands or to the ones that talk to ubcd. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "ubc/agent-config.h"
#include "ubc/bus.h"
#include "ubc/cgroup.h"
#include "ubc/macro.h"
#include "ubc/policy.h"
#include "ubcctl.h"

enum {
        CMD_REMOTE = 1 << 0,        /* needs the socket */
        CMD_DRY_RUN = 1 << 1,       /* takes --dry-run */
        CMD_SAVE = 1 << 2,          /* takes --save */
        CMD_OPTIONS_FIRST = 1 << 3, /* options end at the first argument: run's CMD has its own */
        CMD_FAILCNT = 1 << 4,       /* takes --failcnt */
        CMD_HISTORY = 1 << 5,       /* takes --since and --out */
        CMD_REPORT = 1 << 6,        /* takes --guest and --format */
        CMD_GRAPH = 1 << 7,         /* takes --what */
        CMD_KILL = 1 << 8,          /* takes --kill */
        CMD_CREATE = 1 << 9,        /* takes --template and --class */
        CMD_FORCE = 1 << 10,        /* takes --force */
};

struct command {
        const char *name;
        int (*run)(struct ubcctl *ctl);
        size_t min_args, max_args;
        unsigned flags;
};

static int ubcctl_apply(struct ubcctl *ctl);

static const struct command commands[] = {
        {"check", ubcctl_check, 0, 1, 0},
        {"apply", ubcctl_apply, 0, SIZE_MAX, CMD_DRY_RUN},
        {"reload", ubcctl_reload, 0, 0, CMD_REMOTE},
        {"status", ubcctl_status, 0, 0, CMD_REMOTE},
        {"list", ubcctl_list, 0, 0, CMD_REMOTE},
        {"show", ubcctl_show, 1, 1, CMD_REMOTE},
        {"explain", ubcctl_explain, 1, 1, CMD_REMOTE},
        {"set", ubcctl_set, 2, SIZE_MAX, CMD_REMOTE | CMD_SAVE},
        {"run", ubcctl_run, 2, SIZE_MAX, CMD_REMOTE | CMD_OPTIONS_FIRST},
        {"beancounters", ubcctl_beancounters, 0, 1, CMD_REMOTE | CMD_FAILCNT},
        {"stat", ubcctl_stat, 0, 1, CMD_REMOTE},
        {"metrics", ubcctl_metrics, 0, 0, CMD_REMOTE},
        {"start", ubcctl_start, 1, 1, CMD_REMOTE},
        {"stop", ubcctl_stop, 1, 1, CMD_REMOTE | CMD_KILL},
        {"restart", ubcctl_restart, 1, 1, CMD_REMOTE | CMD_KILL},
        {"create", ubcctl_create, 1, 1, CMD_CREATE},
        {"destroy", ubcctl_destroy, 1, 1, CMD_REMOTE | CMD_FORCE},
        {"enter", ubcctl_enter, 1, 1, 0},
        {"exec", ubcctl_exec, 2, SIZE_MAX, CMD_OPTIONS_FIRST},
        {"report", ubcctl_report, 0, 0, CMD_HISTORY | CMD_REPORT},
        {"graph", ubcctl_graph, 1, 1, CMD_HISTORY | CMD_GRAPH},
};

static void help(void) {
        printf("Usage: ubcctl [OPTIONS] COMMAND [ARGS...]\n"
               "\n"
               "Without ubcd:\n"
               "  check [DIR]                   Validate ubcd.conf and the policies (default DIR: -c)\n"
               "  apply --dry-run [ID...]       Print the cgroup writes ubcd would make, as shell lines\n"
               "\n"
               "Through ubcd:\n"
               "  apply, reload                 Reload the policies and apply them to every guest\n"
               "  status                        Cgroup mode, driver, root and counts of the last load\n"
               "  list                          Guests with their class, state and cgroup\n"
               "  show ID                       A guest's limits: desired, actual, origin\n"
               "  explain ID                    How a guest's limits map to cgroup files; its CPU share\n"
               "  set ID KEY=VALUE... [--save]  Change limits live; --save also writes guests.d/ID.conf\n"
               "  run ID -- CMD [ARGS...]       Run a command inside a guest's cgroup\n"
               "  beancounters [ID] [--failcnt] held, maxheld, barrier, limit, failcnt per resource;\n"
               "                                --failcnt: only rows whose failcnt rose since the last "
               "look\n"
               "  stat [ID]                     CPU usage and throttling, I/O per device, pressure (PSI)\n"
               "  metrics                       The beancounters as OpenMetrics text\n"
               "  start ID                      Start a container or VM guest inside its cgroup\n"
               "  stop ID [--kill]              Stop it: ACPI powerdown or halt, then quit, then kill;\n"
               "                                --kill: at once. Waits until it is down\n"
               "  restart ID [--kill]           Stop (if running), then start\n"
               "  create ID --template T [--class C]\n"
               "                                A container from STATE_DIR/template/T: writes\n"
               "                                guests.d/ID.conf and unpacks its rootfs\n"
               "  destroy ID [--force]          Remove a guest's file (and a container's rootfs);\n"
               "                                --force stops a running one first\n"
               "  enter ID                      A shell inside a running container\n"
               "  exec ID -- CMD [ARGS...]      A command inside a running container; its exit status\n"
               "\n"
               "From the history ubcd records (RRD files; ubcd need not run):\n"
               "  report [--since 7d] [--guest ID]... [--format text|html|json] [--out DIR]\n"
               "                                Capacity: commitments against the host, p50/p95/peak\n"
               "                                against each guest's limits, hints, headroom per class;\n"
               "                                html writes report.html and its PNG graphs into DIR\n"
               "  graph ID [--since 1d] [--what cpu|memory|io] --out FILE.png\n"
               "                                One guest's graph\n"
               "\n"
               "Options:\n"
               "  -s, --socket PATH             ubcd's socket (default: RUN_DIR/%s, RUN_DIR from\n"
               "                                ubcd.conf, else %s)\n"
               "  -c, --config-dir DIR          configuration folder (default %s)\n"
               "      --root NAME               for check and apply --dry-run: the cgroup subtree ubcd\n"
               "                                owns (default: root of ubcd.conf)\n"
               "      --json                    print JSON\n"
               "  -h, --help                    show this help\n"
               "      --version                 show the version\n"
               "\n"
               "Exit status: 0 done, 1 failed or errors found, 2 usage error, 3 ubcd not reachable.\n",
               UBC_SOCKET_NAME, UBC_RUN_DIR, UBC_CONFIG_DIR);
}

int ubcctl_usage_error(const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputs("\nTry 'ubcctl --help'.\n", stderr);
        return UBCCTL_EXIT_USAGE;
}

int ubcctl_parse_id(const char *s, uint32_t *ret) {
        uint64_t v = 0;
        const char *p = s;

        /* Exactly what names a guest file and a cgroup: digits, no sign, no leading zero. */
        if (*s < '1' || *s > '9')
                goto invalid;
        for (; *p >= '0' && *p <= '9'; p++) {
                v = v * 10 + (uint64_t) (*p - '0');
                if (v > UBC_ID_MAX)
                        goto invalid;
        }
        if (*p != '\0' || v < UBC_ID_MIN)
                goto invalid;
        *ret = (uint32_t) v;
        return 0;

invalid:
        ubcctl_usage_error("'%s' is not a guest ID (%u..%u)", s, UBC_ID_MIN, UBC_ID_MAX);
        return -EINVAL;
}

/* Edit distance, bounded: words longer than this get no suggestion. */
#define NEAREST_WORD_MAX 32

static size_t edit_distance(const char *a, const char *b) {
        size_t la = strlen(a), lb = strlen(b);
        size_t row[NEAREST_WORD_MAX + 1];

        if (la > NEAREST_WORD_MAX || lb > NEAREST_WORD_MAX)
                return SIZE_MAX;
        for (size_t j = 0; j <= lb; j++)
                row[j] = j;
        for (size_t i = 1; i <= la; i++) {
                size_t diag = row[0];

                row[0] = i;
                for (size_t j = 1; j <= lb; j++) {
                        size_t up = row[j];
                        size_t best = diag + (a[i - 1] != b[j - 1]);

                        if (up + 1 < best)
                                best = up + 1;
                        if (row[j - 1] + 1 < best)
                                best = row[j - 1] + 1;
                        diag = up;
                        row[j] = best;
                }
        }
        return row[lb];
}

const char *ubcctl_nearest(const char *word, const char *const *candidates, size_t n) {
        const char *best = NULL;
        size_t best_d = SIZE_MAX;

        for (size_t i = 0; i < n; i++) {
                size_t d = edit_distance(word, candidates[i]);

                /* A prefix is a likely abbreviation ("stat" for "status"). */
                if (strncmp(candidates[i], word, strlen(word)) == 0 && strlen(word) >= 2)
                        d = 1;
                if (d < best_d) {
                        best_d = d;
                        best = candidates[i];
                }
        }
        /* Near means at most a third of the word wrong, and never more than 3 edits. */
        if (!best || best_d > 3 || best_d * 3 > strlen(word) + 2)
                return NULL;
        return best;
}

static int unknown_command(const char *name) {
        const char *names[ELEMENTSOF(commands)];
        const char *near;

        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                names[i] = commands[i].name;
        near = ubcctl_nearest(name, names, ELEMENTSOF(names));
        if (near)
                return ubcctl_usage_error("Unknown command '%s'; did you mean '%s'?", name, near);
        return ubcctl_usage_error("Unknown command '%s'", name);
}

static int ubcctl_apply(struct ubcctl *ctl) {
        if (ctl->dry_run)
                return ubcctl_apply_dry_run(ctl);
        if (ctl->n_args > 0)
                return ubcctl_usage_error(
                        "'apply' applies every guest; guest IDs go with 'apply --dry-run'");
        return ubcctl_reload(ctl);
}

enum {
        ARG_JSON = 0x100,
        ARG_VERSION,
        ARG_DRY_RUN,
        ARG_SAVE,
        ARG_ROOT,
        ARG_FAILCNT,
        ARG_SINCE,
        ARG_GUEST,
        ARG_FORMAT,
        ARG_OUT,
        ARG_WHAT,
        ARG_KILL,
        ARG_FORCE,
        ARG_TEMPLATE,
        ARG_CLASS,
};

static const struct option options[] = {
        {"socket", required_argument, NULL, 's'},
        {"config-dir", required_argument, NULL, 'c'},
        {"json", no_argument, NULL, ARG_JSON},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, ARG_VERSION},
        {"dry-run", no_argument, NULL, ARG_DRY_RUN},
        {"save", no_argument, NULL, ARG_SAVE},
        {"root", required_argument, NULL, ARG_ROOT},
        {"failcnt", no_argument, NULL, ARG_FAILCNT},
        {"since", required_argument, NULL, ARG_SINCE},
        {"guest", required_argument, NULL, ARG_GUEST},
        {"format", required_argument, NULL, ARG_FORMAT},
        {"out", required_argument, NULL, ARG_OUT},
        {"what", required_argument, NULL, ARG_WHAT},
        {"kill", no_argument, NULL, ARG_KILL},
        {"force", no_argument, NULL, ARG_FORCE},
        {"template", required_argument, NULL, ARG_TEMPLATE},
        {"class", required_argument, NULL, ARG_CLASS},
        {},
};

/* --guest 101 --guest 102, or --guest 101,102. */
static int add_guest_ids(struct ubcctl *ctl, const char *list) {
        _cleanup_free_ char *copy = strdup(list);
        char *save = NULL;

        if (!copy)
                return ubcctl_usage_error("Out of memory");
        for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
                uint32_t id, *ids;

                if (ubcctl_parse_id(w, &id) < 0)
                        return UBCCTL_EXIT_USAGE;
                ids = reallocarray(ctl->guest_ids, ctl->n_guest_ids + 1, sizeof(*ids));
                if (!ids)
                        return ubcctl_usage_error("Out of memory");
                ids[ctl->n_guest_ids++] = id;
                ctl->guest_ids = ids;
        }
        return 0;
}

/* 1: done (help or version printed), 0: go on, else an exit status for a usage error. */
static int parse_options(int argc, char **argv, const char *optstring, struct ubcctl *ctl,
                         const char **socket) {
        int c;

        opterr = 0;
        optind = 0; /* GNU getopt: start over, as the second pass reads a new vector */
        while ((c = getopt_long(argc, argv, optstring, options, NULL)) >= 0)
                switch (c) {
                case 's':
                        *socket = optarg;
                        break;
                case 'c':
                        ctl->config_dir = optarg;
                        break;
                case ARG_JSON:
                        ctl->json = true;
                        break;
                case ARG_DRY_RUN:
                        ctl->dry_run = true;
                        break;
                case ARG_SAVE:
                        ctl->save = true;
                        break;
                case ARG_FAILCNT:
                        ctl->failcnt = true;
                        break;
                case ARG_SINCE:
                        ctl->since = optarg;
                        break;
                case ARG_GUEST: {
                        int r = add_guest_ids(ctl, optarg);
                        if (r != 0)
                                return r;
                        break;
                }
                case ARG_FORMAT:
                        ctl->format = optarg;
                        break;
                case ARG_OUT:
                        ctl->out = optarg;
                        break;
                case ARG_WHAT:
                        ctl->what = optarg;
                        break;
                case ARG_KILL:
                        ctl->kill = true;
                        break;
                case ARG_FORCE:
                        ctl->force = true;
                        break;
                case ARG_TEMPLATE:
                        ctl->template_name = optarg;
                        break;
                case ARG_CLASS:
                        ctl->class_name = optarg;
                        break;
                case ARG_ROOT:
                        if (!cg_root_name_is_valid(optarg))
                                return ubcctl_usage_error(
                                        "'%s' is not a cgroup subtree name (a plain relative path)", optarg);
                        ctl->root = optarg;
                        break;
                case 'h':
                        help();
                        return 1;
                case ARG_VERSION:
                        printf("ubcctl %s\n", UBC_VERSION);
                        return 1;
                case ':':
                        return ubcctl_usage_error("Option '%s' needs an argument", argv[optind - 1]);
                default:
                        /* optopt is the short option's letter, 0 or a long option's value */
                        if (optopt > 0 && optopt < ARG_JSON)
                                return ubcctl_usage_error("Unknown option '-%c'", optopt);
                        return ubcctl_usage_error("Unknown option '%s'", argv[optind - 1]);
                }
        return 0;
}

void ubcctl_print_diag(void *userdata, const struct ubc_diag *d) {
        if (d->file && d->line > 0)
                fprintf(stderr, "%s:%u: ", d->file, d->line);
        else if (d->file)
                fprintf(stderr, "%s: ", d->file);
        if (d->key && d->key[0])
                fprintf(stderr, "%s: ", d->key);
        fprintf(stderr, "%s\n", d->message);
}

/* Without -s, the socket sits in the run_dir ubcd.conf names, as ubcd puts it there. quiet:
 * for a command that only may ask ubcd, which says nothing of ubcd.conf (it reads it itself). */
static int find_socket(struct ubcctl *ctl, const char *socket, bool quiet) {
        struct agent_config cfg;
        struct ubc_diag_sink sink = {.report = quiet ? NULL : ubcctl_print_diag};
        int n;

        if (socket) {
                if (strlen(socket) >= sizeof(ctl->socket_path))
                        return ubcctl_usage_error("Socket path '%s' is too long", socket);
                snprintf(ctl->socket_path, sizeof(ctl->socket_path), "%s", socket);
                return 0;
        }

        agent_config_init(&cfg);
        if (strlen(ctl->config_dir) >= sizeof(cfg.config_dir))
                return ubcctl_usage_error("Configuration folder '%s' is too long", ctl->config_dir);
        snprintf(cfg.config_dir, sizeof(cfg.config_dir), "%s", ctl->config_dir);
        if (agent_config_load(&cfg, &sink) < 0 && !quiet)
                fprintf(stderr, "Ignoring '%s/ubcd.conf', using the default run folder '%s'\n",
                        ctl->config_dir, cfg.run_dir);

        n = snprintf(ctl->socket_path, sizeof(ctl->socket_path), "%s/%s", cfg.run_dir, UBC_SOCKET_NAME);
        if (n < 0 || (size_t) n >= sizeof(ctl->socket_path)) {
                fprintf(stderr, "Socket path '%s/%s' is too long\n", cfg.run_dir, UBC_SOCKET_NAME);
                return UBCCTL_EXIT_FAILED;
        }
        return 0;
}

/* A full disk or a closed pipe must not pass for complete output. */
static int finish(int r) {
        if (fflush(stdout) != 0 || ferror(stdout)) {
                fprintf(stderr, "Cannot write the output: %s\n", strerror(errno));
                if (r == UBCCTL_EXIT_OK)
                        r = UBCCTL_EXIT_FAILED;
        }
        return r;
}

int main(int argc, char **argv) {
        struct ubcctl ctl = {.config_dir = UBC_CONFIG_DIR};
        const struct command *cmd = NULL;
        const char *socket = NULL;
        int sub_argc, r;
        char **sub_argv;

        /* Options before the command; '+' stops at the command's name. */
        r = parse_options(argc, argv, "+:s:c:h", &ctl, &socket);
        if (r == 1)
                return finish(UBCCTL_EXIT_OK);
        if (r != 0)
                return r;
        if (optind >= argc)
                return ubcctl_usage_error("Missing command");

        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                if (streq(argv[optind], commands[i].name))
                        cmd = &commands[i];
        if (!cmd)
                return unknown_command(argv[optind]);

        /* Options after it, in the command's own vector (its name standing in for argv[0]). */
        sub_argv = argv + optind;
        sub_argc = argc - optind;
        r = parse_options(sub_argc, sub_argv, cmd->flags & CMD_OPTIONS_FIRST ? "+:s:c:h" : ":s:c:h", &ctl,
                          &socket);
        if (r == 1)
                return finish(UBCCTL_EXIT_OK);
        if (r != 0)
                return r;
        ctl.args = sub_argv + optind;
        ctl.n_args = (size_t) (sub_argc - optind);

        if (ctl.dry_run && !(cmd->flags & CMD_DRY_RUN))
                return ubcctl_usage_error("'--dry-run' goes with 'apply', not '%s'", cmd->name);
        if (ctl.save && !(cmd->flags & CMD_SAVE))
                return ubcctl_usage_error("'--save' goes with 'set', not '%s'", cmd->name);
        if (ctl.failcnt && !(cmd->flags & CMD_FAILCNT))
                return ubcctl_usage_error("'--failcnt' goes with 'beancounters', not '%s'", cmd->name);
        if ((ctl.since || ctl.out) && !(cmd->flags & CMD_HISTORY))
                return ubcctl_usage_error("'%s' goes with 'report' or 'graph', not '%s'",
                                          ctl.since ? "--since" : "--out", cmd->name);
        if ((ctl.n_guest_ids || ctl.format) && !(cmd->flags & CMD_REPORT))
                return ubcctl_usage_error("'%s' goes with 'report', not '%s'",
                                          ctl.n_guest_ids ? "--guest" : "--format", cmd->name);
        if ((ctl.template_name || ctl.class_name) && !(cmd->flags & CMD_CREATE))
                return ubcctl_usage_error("'%s' goes with 'create', not '%s'",
                                          ctl.template_name ? "--template" : "--class", cmd->name);
        if (ctl.force && !(cmd->flags & CMD_FORCE))
                return ubcctl_usage_error("'--force' goes with 'destroy', not '%s'", cmd->name);
        if (ctl.kill && !(cmd->flags & CMD_KILL))
                return ubcctl_usage_error("'--kill' goes with 'stop' or 'restart', not '%s'", cmd->name);
        if (ctl.what && !(cmd->flags & CMD_GRAPH))
                return ubcctl_usage_error("'--what' goes with 'graph', not '%s'", cmd->name);
        if (ctl.n_args < cmd->min_args)
                return ubcctl_usage_error("'%s' needs %s", cmd->name,
                                          cmd->min_args == 1 ? "a guest ID" : "more arguments");
        if (ctl.n_args > cmd->max_args)
                return ubcctl_usage_error("Too many arguments for '%s'", cmd->name);

        if ((cmd->flags & CMD_REMOTE) || (streq(cmd->name, "apply") && !ctl.dry_run)) {
                r = find_socket(&ctl, socket, false);
                if (r != 0)
                        return r;
        } else if ((cmd->flags & CMD_HISTORY) && find_socket(&ctl, socket, true) != 0)
                ctl.socket_path[0] = '\0'; /* the report then does not ask ubcd */

        return finish(cmd->run(&ctl));
}
