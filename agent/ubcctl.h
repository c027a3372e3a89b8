/* ubcctl's shared state and its commands: ubcctl.c parses the command line and dispatches to
 * the offline commands (ubcctl-offline.c) or the ones that ask ubcd (ubcctl-remote.c). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ubc/diag.h"

/* Exit statuses scripts can rely on. */
enum {
        UBCCTL_EXIT_OK = 0,
        UBCCTL_EXIT_FAILED = 1, /* the operation failed, or validation found errors */
        UBCCTL_EXIT_USAGE = 2,
        UBCCTL_EXIT_UNREACHABLE = 3,   /* no ubcd answers on the socket */
        UBCCTL_EXIT_CANNOT_EXEC = 126, /* run: the command is not executable */
        UBCCTL_EXIT_NOT_FOUND = 127,   /* run: the command is not found */
};

struct ubcctl {
        const char *config_dir; /* -c */
        const char *root;       /* --root: the owned cgroup subtree, NULL for ubcd.conf's */
        char socket_path[256];  /* -s, or run_dir/ubcd.sock of ubcd.conf */
        bool json;
        bool dry_run;              /* apply */
        bool save;                 /* set */
        bool failcnt;              /* beancounters */
        bool kill;                 /* stop, restart */
        bool force;                /* destroy */
        const char *template_name; /* create */
        const char *class_name;    /* create */
        const char *since;         /* report, graph: the window, e.g. "7d" */
        const char *format;        /* report: text, html or json */
        const char *out;           /* report: a folder; graph: a PNG file */
        const char *what;          /* graph: cpu, memory or io */
        uint32_t *guest_ids;       /* report --guest, repeatable */
        size_t n_guest_ids;
        char **args; /* the command's arguments, after its name */
        size_t n_args;
};

/* A guest ID as given on the command line: decimal, UBC_ID_MIN..UBC_ID_MAX. Prints the usage
 * error itself; -EINVAL then. */
int ubcctl_parse_id(const char *s, uint32_t *ret);
/* Prints a usage error ("Try 'ubcctl --help'") and returns UBCCTL_EXIT_USAGE. */
int ubcctl_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A diagnostic sink's report(): "FILE:LINE: KEY: MESSAGE" on stderr, empty parts left out. */
void ubcctl_print_diag(void *userdata, const struct ubc_diag *d);
/* The candidate nearest to 'word' by edit distance, if near enough to suggest; else NULL. */
const char *ubcctl_nearest(const char *word, const char *const *candidates, size_t n);

/* Offline: need no ubcd. Each returns an exit status. */
int ubcctl_check(struct ubcctl *ctl);
int ubcctl_apply_dry_run(struct ubcctl *ctl);

/* Through ubcd's control socket. */
int ubcctl_reload(struct ubcctl *ctl);
int ubcctl_status(struct ubcctl *ctl);
int ubcctl_list(struct ubcctl *ctl);
int ubcctl_show(struct ubcctl *ctl);
int ubcctl_explain(struct ubcctl *ctl);
int ubcctl_set(struct ubcctl *ctl);
int ubcctl_run(struct ubcctl *ctl);

/* Accounting, through ubcd (ubcctl-accounting.c). */
int ubcctl_beancounters(struct ubcctl *ctl);
int ubcctl_stat(struct ubcctl *ctl);
int ubcctl_metrics(struct ubcctl *ctl);

/* Containers and VMs, through ubcd (ubcctl-launch.c). */
int ubcctl_start(struct ubcctl *ctl);
int ubcctl_stop(struct ubcctl *ctl);
int ubcctl_restart(struct ubcctl *ctl);
/* Files of a guest and its container's rootfs (ubcctl-container.c); root only. */
int ubcctl_create(struct ubcctl *ctl);
int ubcctl_destroy(struct ubcctl *ctl);
int ubcctl_enter(struct ubcctl *ctl);
int ubcctl_exec(struct ubcctl *ctl);

/* History, from the RRD files (ubcctl-report.c); they need no ubcd. */
int ubcctl_report(struct ubcctl *ctl);
int ubcctl_graph(struct ubcctl *ctl);
