/* The capacity report of `ubcctl report`: what each guest is promised (the policy files, as
 * ubcd applies them), what it used (its RRD history), and what that leaves on the host. Gathered
 * once (report-gather.c), then written as text, JSON or HTML (report-render.c) with PNG graphs
 * made by librrd (report-graph.c). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "ubc/capacity.h"
#include "ubc/policy.h"

struct report_guest {
        uint32_t id;
        char name[UBC_NAME_MAX];
        char class_name[UBC_NAME_MAX]; /* "" without a class */
        enum ubc_guest_type type;
        uint32_t cpu_units;
        double entitled_cpus; /* under full contention, from the weights; -1 if unknown */
        struct capacity_limits lim;
        uint64_t mem_barrier; /* bytes or UINT64_MAX */

        char rrd_path[420];
        bool has_history; /* an RRD file with samples in the window */
        struct capacity_usage use;
        struct capacity_summary io_read, io_write, io_ops; /* per second */
        double io_read_peak, io_write_peak;
        struct capacity_hint hints[CAPACITY_HINTS_MAX];
        size_t n_hints;
};

struct report_class {
        char name[UBC_NAME_MAX];
        struct capacity_class cap;
        size_t n_guests;
        struct capacity_fit fit;
};

struct report {
        time_t start, end;  /* the window */
        uint64_t window_s;  /* as asked for */
        unsigned long step; /* of the archive the window was read from; 0 without history */
        char hostname[256];
        char rrd_dir[400];
        char host_rrd[420];

        /* Host and what is promised on it. */
        double cpus;
        uint64_t mem_total, swap_total;
        uint64_t mem_limits_sum, mem_barriers_sum, swap_sum;
        size_t n_mem_unlimited, n_swap_unlimited;
        double cpu_limits_sum;
        size_t n_cpu_uncapped;
        double mem_overcommit, cpu_overcommit; /* sums of limits over the host; NaN if none */

        /* What the host used (host.rrd), if it has history. */
        bool host_history;
        struct capacity_summary host_cpu, host_mem;

        struct report_guest *guests; /* sorted by id; those asked for */
        size_t n_guests;
        size_t n_with_history;
        struct report_class *classes;
        size_t n_classes;
};

struct report_options {
        const char *config_dir;
        uint64_t since_s;
        const uint32_t *ids; /* only these guests; all when n_ids == 0 */
        size_t n_ids;
        time_t now; /* end of the window */
};

/* Gathers everything; problems with the policy are reported through diags and the report
 * goes on with what loaded. -ENOENT with a message printed for a guest asked for that has
 * neither a file nor history. */
int report_gather(const struct report_options *o, struct ubc_diag_sink *diags, struct report *ret);
void report_done(struct report *r);

void report_write_text(const struct report *r, FILE *f);
void report_write_json(const struct report *r, FILE *f);
/* HTML referring to the PNGs report_graphs() made in the same folder. */
void report_write_html(const struct report *r, FILE *f);

/* The report's graphs in dir: host-cpu.png, host-memory.png, and per guest ID-cpu.png,
 * ID-memory.png and ID-io.png. Problems are printed on stderr; returns how many failed. */
int report_graphs(const struct report *r, const char *dir);

enum report_graph_kind {
        REPORT_GRAPH_CPU,
        REPORT_GRAPH_MEMORY,
        REPORT_GRAPH_IO,
};
/* One graph of one guest over (start, end]. -EIO with the library's message on stderr. */
int report_graph_guest(const struct report_guest *g, enum report_graph_kind kind, time_t start, time_t end,
                       const char *png_path);
