/* The report's PNG graphs, drawn by librrd's graph from the RRD files themselves: the host's
 * CPU and memory stacked by guest, and per guest its CPU, memory and I/O against its limits. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ubc/macro.h"
#include "ubc/rrd-dl.h"
#include "report.h"

#define GRAPH_ARGS_MAX 512
#define GRAPH_ARG_LEN  640

static const char *const palette[] = {"4e79a7", "f28e2b", "59a14f", "e15759", "76b7b2", "edc948",
                                      "b07aa1", "ff9da7", "9c755f", "bab0ac", "1f77b4", "8c564b"};

/* An argument vector for rrd_graph_v, built one formatted argument at a time. */
struct graph_args {
        char *argv[GRAPH_ARGS_MAX];
        int argc;
        bool overflow;
};

static void arg(struct graph_args *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void arg(struct graph_args *a, const char *fmt, ...) {
        va_list ap;
        char *s;

        if (a->argc >= GRAPH_ARGS_MAX - 1) {
                a->overflow = true;
                return;
        }
        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                s = NULL;
        va_end(ap);
        if (!s) {
                a->overflow = true;
                return;
        }
        a->argv[a->argc++] = s;
}

static void args_free(struct graph_args *a) {
        for (int i = 0; i < a->argc; i++)
                free(a->argv[i]);
        a->argc = 0;
}

/* A legend or title may not carry ':' unescaped (it separates fields); a name is the
 * operator's, so anything odd is replaced. */
static void legend_text(const char *in, char *out, size_t size) {
        size_t k = 0;

        for (; *in && k + 1 < size; in++)
                out[k++] =
                        (*in == ':' || *in == '\\' || *in == '%' || (unsigned char) *in < 0x20) ? ' ' : *in;
        out[k] = '\0';
}

static void common(struct graph_args *a, const char *png, const char *title, const char *label, time_t start,
                   time_t end) {
        arg(a, "graph");
        arg(a, "%s", png);
        arg(a, "--imgformat=PNG");
        arg(a, "--start=%lld", (long long) start);
        arg(a, "--end=%lld", (long long) end);
        arg(a, "--width=720");
        arg(a, "--height=220");
        arg(a, "--lower-limit=0");
        arg(a, "--title=%s", title);
        arg(a, "--vertical-label=%s", label);
}

static int draw(struct graph_args *a, const char *png) {
        rrd_info_t *info;
        char err[512];
        int r;

        if (a->overflow) {
                fprintf(stderr, "%s: too many guests for one graph\n", png);
                args_free(a);
                return -E2BIG;
        }
        r = rrd_dl_open(err, sizeof(err));
        if (r < 0) {
                fprintf(stderr, "%s: %s\n", png, err);
                args_free(a);
                return r;
        }
        a->argv[a->argc] = NULL;
        sym_rrd_clear_error();
        info = sym_rrd_graph_v(a->argc, a->argv);
        if (!info || sym_rrd_test_error()) {
                fprintf(stderr, "%s: %s\n", png, sym_rrd_get_error());
                r = -EIO;
        }
        sym_rrd_info_free(info);
        sym_rrd_clear_error();
        args_free(a);
        return r;
}

/* Host CPU or memory: guests stacked, the host's own use and size as lines. */
static int host_graph(const struct report *r, const char *png, const char *ds, const char *title,
                      const char *label, const char *host_used, const char *host_size) {
        struct graph_args a = {};
        size_t drawn = 0;

        common(&a, png, title, label, r->start, r->end);
        if (!streq(ds, "cpu"))
                arg(&a, "--base=1024");
        for (size_t i = 0; i < r->n_guests; i++) {
                const struct report_guest *g = &r->guests[i];
                char name[UBC_NAME_MAX];

                if (access(g->rrd_path, R_OK) < 0)
                        continue;
                legend_text(g->name, name, sizeof(name));
                arg(&a, "DEF:g%u=%s:%s:AVERAGE", g->id, g->rrd_path, ds);
                arg(&a, "AREA:g%u#%s:%u %s%s", g->id, palette[drawn % ELEMENTSOF(palette)], g->id, name,
                    drawn ? ":STACK" : "");
                drawn++;
        }
        if (access(r->host_rrd, R_OK) == 0) {
                arg(&a, "DEF:used=%s:%s:AVERAGE", r->host_rrd, host_used);
                arg(&a, "DEF:size=%s:%s:AVERAGE", r->host_rrd, host_size);
                arg(&a, "LINE1:used#000000:host in use");
                arg(&a, "LINE2:size#d62728:host total");
                drawn++;
        }
        if (drawn == 0) {
                args_free(&a);
                fprintf(stderr, "%s: no history to draw\n", png);
                return -ENODATA;
        }
        return draw(&a, png);
}

static void hrule(struct graph_args *a, double v, const char *color, const char *legend) {
        if (v > 0 && v < (double) UBC_UNLIMITED)
                arg(a, "HRULE:%.6f#%s:%s", v, color, legend);
}

int report_graph_guest(const struct report_guest *g, enum report_graph_kind kind, time_t start, time_t end,
                       const char *png) {
        struct graph_args a = {};
        char title[160], name[UBC_NAME_MAX];
        const char *f = g->rrd_path;

        legend_text(g->name, name, sizeof(name));
        switch (kind) {
        case REPORT_GRAPH_CPU:
                snprintf(title, sizeof(title), "Guest %u %s: CPU", g->id, name);
                common(&a, png, title, "CPUs", start, end);
                arg(&a, "--units-exponent=0"); /* 0.5, not "500 m" CPUs */
                /* the limit in sight: an upper bound the data may still exceed */
                if (g->lim.cpu_limit > 0)
                        arg(&a, "--upper-limit=%.6f", g->lim.cpu_limit * 1.05);
                arg(&a, "DEF:cpu=%s:cpu:AVERAGE", f);
                arg(&a, "DEF:peak=%s:cpu:MAX", f);
                arg(&a, "DEF:thr=%s:cpu_throttled:AVERAGE", f);
                arg(&a, "AREA:cpu#4e79a7:used");
                arg(&a, "LINE1:peak#1f3b5a:peak");
                arg(&a, "LINE1:thr#e15759:throttled");
                hrule(&a, g->lim.cpu_limit, "000000", "cpu.limit");
                if (g->entitled_cpus > 0)
                        arg(&a, "HRULE:%.6f#59a14f:entitled under contention:dashes", g->entitled_cpus);
                break;
        case REPORT_GRAPH_MEMORY:
                snprintf(title, sizeof(title), "Guest %u %s: memory", g->id, name);
                common(&a, png, title, "bytes", start, end);
                arg(&a, "--base=1024");
                if (g->lim.mem_limit != UBC_UNLIMITED)
                        arg(&a, "--upper-limit=%.0f", (double) g->lim.mem_limit * 1.05);
                arg(&a, "DEF:mem=%s:mem:AVERAGE", f);
                arg(&a, "DEF:peak=%s:mem_peak:MAX", f);
                arg(&a, "DEF:swap=%s:swap:AVERAGE", f);
                arg(&a, "AREA:mem#59a14f:used");
                arg(&a, "LINE1:peak#2d5a27:peak");
                arg(&a, "LINE1:swap#f28e2b:swap");
                hrule(&a, (double) g->mem_barrier, "edc948", "barrier");
                hrule(&a, (double) g->lim.mem_limit, "000000", "limit");
                break;
        case REPORT_GRAPH_IO:
                snprintf(title, sizeof(title), "Guest %u %s: I/O", g->id, name);
                common(&a, png, title, "bytes/s", start, end);
                arg(&a, "--base=1024");
                arg(&a, "DEF:rd=%s:io_read:AVERAGE", f);
                arg(&a, "DEF:wr=%s:io_write:AVERAGE", f);
                arg(&a, "AREA:rd#4e79a7:read");
                arg(&a, "LINE2:wr#e15759:write");
                break;
        }
        return draw(&a, png);
}

int report_graphs(const struct report *r, const char *dir) {
        static const struct {
                enum report_graph_kind kind;
                const char *suffix;
        } per_guest[] = {
                {REPORT_GRAPH_CPU, "cpu"}, {REPORT_GRAPH_MEMORY, "memory"}, {REPORT_GRAPH_IO, "io"}};
        char png[1024];
        int failed = 0;

        snprintf(png, sizeof(png), "%s/host-cpu.png", dir);
        failed += host_graph(r, png, "cpu", "CPU by guest", "CPUs", "cpu", "cpus") < 0;
        snprintf(png, sizeof(png), "%s/host-memory.png", dir);
        failed += host_graph(r, png, "mem", "Memory by guest", "bytes", "mem", "mem_total") < 0;
        for (size_t i = 0; i < r->n_guests; i++) {
                if (!r->guests[i].has_history)
                        continue;
                for (size_t k = 0; k < ELEMENTSOF(per_guest); k++) {
                        snprintf(png, sizeof(png), "%s/%u-%s.png", dir, r->guests[i].id,
                                 per_guest[k].suffix);
                        failed += report_graph_guest(&r->guests[i], per_guest[k].kind, r->start, r->end,
                                                     png) < 0;
                }
        }
        return failed;
}
