/* User beancounters, as OpenVZ keeps them: per guest and resource held, maxheld, barrier,
 * limit and failcnt, where maxheld and failcnt never go backwards (they outlive ubcd
 * restarts, guest restarts and a cgroup recreated under the same ID). Pure code: the sampler
 * feeds samples in, the daemon persists the state and writes the outputs. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* In the order OpenVZ prints them (a subset of its rows). */
enum bc_resource {
        BC_KMEMSIZE,     /* bytes */
        BC_LOCKEDPAGES,  /* pages */
        BC_PRIVVMPAGES,  /* pages */
        BC_SHMPAGES,     /* pages */
        BC_NUMPROC,      /* tasks */
        BC_PHYSPAGES,    /* pages */
        BC_OOMGUARPAGES, /* pages */
        BC_NUMFILE,      /* open files */
        BC_SWAPPAGES,    /* pages */
        _BC_MAX,
};

#define BC_PAGE_SIZE 4096ULL                /* OpenVZ counts 4 KiB pages whatever the host's page size */
#define BC_UNLIMITED 9223372036854775807ULL /* LONG_MAX, as OpenVZ prints "no limit" */

/* What one sweep saw of one guest, in each row's unit (pages, bytes or counts). */
struct bc_sample {
        uint32_t present; /* bit per resource with a held value this sweep */
        uint64_t held[_BC_MAX];
        uint64_t peak[_BC_MAX]; /* the kernel's own peak, where present in peak_present */
        uint32_t peak_present;
        uint64_t barrier[_BC_MAX], limit[_BC_MAX]; /* BC_UNLIMITED where none */
        uint64_t events[_BC_MAX]; /* the kernel's failure counter since the cgroup was made */
        uint32_t events_present;
};

/* Per guest, what must survive: the persisted part of the beancounters. */
struct bc_state {
        uint32_t id;
        uint64_t maxheld[_BC_MAX];
        uint64_t failcnt[_BC_MAX];      /* total over the guest's life */
        uint64_t last_events[_BC_MAX];  /* kernel counter at the last sweep, to see it reset */
        uint64_t failcnt_seen[_BC_MAX]; /* failcnt at the last `beancounters --failcnt` look */
};

struct bc_row {
        uint64_t held, maxheld, barrier, limit, failcnt;
};

const char *bc_resource_name(enum bc_resource r); /* "kmemsize", ... */
int bc_resource_from_name(const char *name);      /* enum bc_resource or -ENOENT */

/* A new guest's state: all zero. */
void bc_state_init(struct bc_state *st, uint32_t id);
/* Folds one sample into the state and gives the rows. A kernel counter lower than at the last
 * sweep means the cgroup was made anew: counting continues from the total, never backwards.
 * ret_failed gets a bit per resource whose failcnt rose in this sweep. */
void bc_update(struct bc_state *st, const struct bc_sample *s, struct bc_row rows[_BC_MAX],
               uint32_t *ret_failed);

/* The persisted file: one line per guest and resource, "ID RESOURCE MAXHELD FAILCNT LAST SEEN".
 * Parse is pure over a buffer; unknown resources are skipped, a malformed line is -EINVAL with
 * *ret_line set. ret is sorted by id; caller frees. */
int bc_state_format(FILE *f, const struct bc_state *states, size_t n);
int bc_state_parse(const char *buf, struct bc_state **ret, size_t *ret_n, unsigned *ret_line);

/* /proc/user_beancounters, OpenVZ's layout exactly ("Version: 2.5", then per guest a block
 * whose first line carries "ID:"). rows[i] belongs to ids[i]. */
struct bc_table_entry {
        uint32_t id;
        struct bc_row rows[_BC_MAX];
};
int bc_format_openvz(FILE *f, const struct bc_table_entry *entries, size_t n);
/* Its pieces, for tables of some rows only (ubcctl beancounters --failcnt): the column header,
 * and one row, whose uid column shows "ID:" when 'first' (the first row of a guest's block). */
void bc_format_openvz_header(FILE *f);
void bc_format_openvz_row(FILE *f, uint32_t id, bool first, const char *resource, const struct bc_row *row);
/* OpenMetrics text for node_exporter's textfile collector: ubc_beancounter_{held,maxheld,
 * barrier,limit,failcnt}{guest="ID",resource="NAME"}, then "# EOF". */
int bc_format_openmetrics(FILE *f, const struct bc_table_entry *entries, size_t n);
