/* Writing a gathered capacity report: text for a terminal, JSON for scripts, HTML (with the
 * PNGs report_graphs() makes) for a person to read. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ubc/json.h"
#include "report.h"

static void fmt_bytes(double v, char *buf, size_t size) {
        if (isnan(v))
                snprintf(buf, size, "-");
        else
                capacity_format_bytes(v, buf, size);
}

static void fmt_limit_bytes(uint64_t v, char *buf, size_t size) {
        if (v == UBC_UNLIMITED)
                snprintf(buf, size, "unlimited");
        else
                capacity_format_bytes((double) v, buf, size);
}

static void fmt_cpus(double v, char *buf, size_t size) {
        if (isnan(v))
                snprintf(buf, size, "-");
        else
                snprintf(buf, size, "%.2f", v);
}

static void fmt_time(time_t t, char *buf, size_t size) {
        struct tm tm;

        if (!localtime_r(&t, &tm) || strftime(buf, size, "%Y-%m-%d %H:%M", &tm) == 0)
                snprintf(buf, size, "%lld", (long long) t);
}

/* "7d", "36h", "90m", "45s": the window as the user would have written it. */
static void fmt_window(uint64_t s, char *buf, size_t size) {
        if (s % 86400 == 0)
                snprintf(buf, size, "%llud", (unsigned long long) (s / 86400));
        else if (s % 3600 == 0)
                snprintf(buf, size, "%lluh", (unsigned long long) (s / 3600));
        else if (s % 60 == 0)
                snprintf(buf, size, "%llum", (unsigned long long) (s / 60));
        else
                snprintf(buf, size, "%llus", (unsigned long long) s);
}

static void fmt_step(unsigned long step, char *buf, size_t size) {
        if (step % 3600 == 0)
                snprintf(buf, size, "%lu h", step / 3600);
        else if (step % 60 == 0)
                snprintf(buf, size, "%lu min", step / 60);
        else
                snprintf(buf, size, "%lu s", step);
}

static void fmt_ratio(double v, char *buf, size_t size) {
        if (isnan(v))
                snprintf(buf, size, "-");
        else
                snprintf(buf, size, "%.2fx", v);
}

static uint64_t failcnt_total(const struct report_guest *g) {
        uint64_t s = 0;

        for (int k = 0; k < _BC_MAX; k++)
                s += g->use.failcnt[k];
        return s;
}

static void fmt_fit(long n, const char *by, const char *none, char *buf, size_t size) {
        if (n < 0)
                snprintf(buf, size, "- (%s)", none);
        else
                snprintf(buf, size, "%ld (%s)", n, by);
}

static const char *guest_label(const struct report_guest *g) {
        return g->name[0] ? g->name : "-";
}

static void text_header(const struct report *r, FILE *f) {
        char from[32], to[32], win[32], step[32], a[32], b[32], c[32];

        fmt_time(r->start, from, sizeof(from));
        fmt_time(r->end, to, sizeof(to));
        fmt_window(r->window_s, win, sizeof(win));
        fprintf(f, "Capacity report for %s, %s to %s (%s)\n", r->hostname, from, to, win);
        if (r->n_with_history == 0)
                fprintf(f,
                        "No history yet in %s: ubcd records every guest each step. The commitments\n"
                        "below are what the policy promises; usage, hints and headroom at p95 need "
                        "history.\n",
                        r->rrd_dir);
        else {
                fmt_step(r->step, step, sizeof(step));
                fprintf(f, "History: %zu of %zu guests, read at %s resolution from %s\n", r->n_with_history,
                        r->n_guests, step, r->rrd_dir);
        }

        fprintf(f, "\nHost\n");
        fmt_bytes((double) r->mem_total, a, sizeof(a));
        fmt_bytes((double) r->swap_total, b, sizeof(b));
        fprintf(f, "  CPUs %.0f, memory %s, swap %s\n", r->cpus, a, b);
        fmt_bytes((double) r->mem_limits_sum, a, sizeof(a));
        fmt_ratio(r->mem_overcommit, c, sizeof(c));
        fprintf(f, "  Memory limits  %-9s %s of RAM", a, c);
        if (r->n_mem_unlimited)
                fprintf(f, ", and %zu guest%s without a limit", r->n_mem_unlimited,
                        r->n_mem_unlimited == 1 ? "" : "s");
        fputc('\n', f);
        fmt_bytes((double) r->mem_barriers_sum, a, sizeof(a));
        fprintf(f, "  Barriers       %s\n", a);
        fmt_cpus(r->cpu_limits_sum, a, sizeof(a));
        fmt_ratio(r->cpu_overcommit, c, sizeof(c));
        fprintf(f, "  CPU limits     %-9s %s of the CPUs", a, c);
        if (r->n_cpu_uncapped)
                fprintf(f, ", and %zu guest%s uncapped", r->n_cpu_uncapped,
                        r->n_cpu_uncapped == 1 ? "" : "s");
        fputc('\n', f);
        fmt_bytes((double) r->swap_sum, a, sizeof(a));
        fprintf(f, "  Swap limits    %s\n", a);
        if (r->host_history) {
                char p95[32], peak[32], mp95[32], mpeak[32];

                fmt_cpus(r->host_cpu.p95, p95, sizeof(p95));
                fmt_cpus(r->host_cpu.max, peak, sizeof(peak));
                fmt_bytes(r->host_mem.p95, mp95, sizeof(mp95));
                fmt_bytes(r->host_mem.max, mpeak, sizeof(mpeak));
                fprintf(f, "  Used           CPU p95 %s, peak %s; memory p95 %s, peak %s\n", p95, peak, mp95,
                        mpeak);
        }
}

static void text_summary(const struct report *r, FILE *f) {
        fprintf(f, "\nGuests (CPU in CPUs; p95 of the window against the limit)\n");
        fprintf(f, "  %-9s %-12s %-8s %6s %9s %13s %17s %8s\n", "ID", "NAME", "CLASS", "UNITS", "ENTITLED",
                "CPU p95/LIMIT", "MEMORY p95/LIMIT", "FAILCNT");
        for (size_t i = 0; i < r->n_guests; i++) {
                const struct report_guest *g = &r->guests[i];
                char ent[16], cpu[16], cl[16], mem[16], ml[16], cpus[32], memory[40];

                fmt_cpus(g->entitled_cpus < 0 ? NAN : g->entitled_cpus, ent, sizeof(ent));
                fmt_cpus(g->has_history ? g->use.cpu.p95 : NAN, cpu, sizeof(cpu));
                if (g->lim.cpu_limit > 0)
                        fmt_cpus(g->lim.cpu_limit, cl, sizeof(cl));
                else
                        snprintf(cl, sizeof(cl), "none");
                fmt_bytes(g->has_history ? g->use.mem.p95 : NAN, mem, sizeof(mem));
                fmt_limit_bytes(g->lim.mem_limit, ml, sizeof(ml));
                snprintf(cpus, sizeof(cpus), "%s/%s", cpu, cl);
                snprintf(memory, sizeof(memory), "%s/%s", mem, ml);
                fprintf(f, "  %-9u %-12.12s %-8.8s %6u %9s %13s %17s %8llu\n", g->id, guest_label(g),
                        g->class_name[0] ? g->class_name : "-", g->cpu_units, ent, cpus, memory,
                        (unsigned long long) failcnt_total(g));
        }
}

static void text_guest(const struct report_guest *g, FILE *f) {
        char a[32], b[32], c[32], d[32], e[32];

        fprintf(f, "\nGuest %u (%s, class %s, %s)\n", g->id, guest_label(g),
                g->class_name[0] ? g->class_name : "none", ubc_guest_type_name(g->type));
        if (!g->has_history) {
                fprintf(f, "  no history in the window\n");
                return;
        }
        fmt_cpus(g->use.cpu.p50, a, sizeof(a));
        fmt_cpus(g->use.cpu.p95, b, sizeof(b));
        fmt_cpus(g->use.cpu_peak, c, sizeof(c));
        if (g->lim.cpu_limit > 0)
                snprintf(d, sizeof(d), "%.2f", g->lim.cpu_limit);
        else
                snprintf(d, sizeof(d), "none");
        fprintf(f, "  CPU      p50 %-7s p95 %-7s peak %-7s limit %s, entitled %.2f under full contention\n",
                a, b, c, d, g->entitled_cpus);
        fmt_bytes(g->use.mem.p50, a, sizeof(a));
        fmt_bytes(g->use.mem.p95, b, sizeof(b));
        fmt_bytes(g->use.mem_peak, c, sizeof(c));
        fmt_limit_bytes(g->mem_barrier, d, sizeof(d));
        fmt_limit_bytes(g->lim.mem_limit, e, sizeof(e));
        fprintf(f, "  Memory   p50 %-7s p95 %-7s peak %-7s barrier %s, limit %s\n", a, b, c, d, e);
        fmt_bytes(g->use.swap.p95, a, sizeof(a));
        fmt_bytes(g->use.swap.max, b, sizeof(b));
        fmt_limit_bytes(g->lim.swap, c, sizeof(c));
        fprintf(f, "  Swap     p95 %-7s peak %-7s limit %s\n", a, b, c);
        fmt_bytes(g->io_read.p95, a, sizeof(a));
        fmt_bytes(g->io_read_peak, b, sizeof(b));
        fmt_bytes(g->io_write.p95, c, sizeof(c));
        fmt_bytes(g->io_write_peak, d, sizeof(d));
        fprintf(f, "  I/O      read p95 %s/s peak %s/s, write p95 %s/s peak %s/s, %.0f ops/s at p95\n", a, b,
                c, d, isnan(g->io_ops.p95) ? 0 : g->io_ops.p95);
        fprintf(f, "  Failcnt  ");
        if (failcnt_total(g) == 0)
                fprintf(f, "none in the window");
        for (int k = 0, first = 1; k < _BC_MAX; k++)
                if (g->use.failcnt[k]) {
                        fprintf(f, "%s%s +%llu", first ? "" : ", ", bc_resource_name(k),
                                (unsigned long long) g->use.failcnt[k]);
                        first = 0;
                }
        fputc('\n', f);
        for (size_t h = 0; h < g->n_hints; h++)
                fprintf(f, "  %s %s\n", h == 0 ? "Hint    " : "        ", g->hints[h].text);
}

static void text_headroom(const struct report *r, FILE *f) {
        fprintf(f, "\nHeadroom: more guests of each class that fit\n");
        if (r->n_classes == 0) {
                fprintf(f, "  no classes defined\n");
                return;
        }
        fprintf(f, "  %-12s %9s %10s %7s  %-26s %s\n", "CLASS", "CPU LIMIT", "MEM LIMIT", "GUESTS",
                "AT LIMITS", "AT OBSERVED P95");
        for (size_t i = 0; i < r->n_classes; i++) {
                const struct report_class *c = &r->classes[i];
                char cl[16], ml[16], at_l[48], at_p[48];

                if (c->cap.cpu_limit > 0)
                        fmt_cpus(c->cap.cpu_limit, cl, sizeof(cl));
                else
                        snprintf(cl, sizeof(cl), "none");
                fmt_limit_bytes(c->cap.mem_limit, ml, sizeof(ml));
                fmt_fit(c->fit.at_limits, c->fit.at_limits_by, "no limits to count", at_l, sizeof(at_l));
                fmt_fit(c->fit.at_p95, c->fit.at_p95_by, "no use to count", at_p, sizeof(at_p));
                fprintf(f, "  %-12s %9s %10s %7zu  %-26s %s\n", c->name, cl, ml, c->n_guests, at_l, at_p);
        }
}

void report_write_text(const struct report *r, FILE *f) {
        text_header(r, f);
        text_summary(r, f);
        for (size_t i = 0; i < r->n_guests; i++)
                text_guest(&r->guests[i], f);
        text_headroom(r, f);
}

static void json_summary(struct json *j, const char *key, const struct capacity_summary *s) {
        json_object_open(j, key);
        json_double(j, "p50", s->p50);
        json_double(j, "p95", s->p95);
        json_double(j, "max", s->max);
        json_double(j, "mean", s->mean);
        json_uint(j, "samples", s->n_known);
        json_object_close(j);
}

static void json_limit(struct json *j, const char *key, uint64_t v) {
        if (v == UBC_UNLIMITED)
                json_string(j, key, NULL);
        else
                json_uint(j, key, v);
}

static void json_fit(struct json *j, const char *key, long n, const char *by) {
        json_object_open(j, key);
        if (n < 0)
                json_string(j, "guests", NULL);
        else
                json_int(j, "guests", n);
        json_string(j, "limited_by", n < 0 ? NULL : by);
        json_object_close(j);
}

static void json_guest(struct json *j, const struct report_guest *g) {
        json_object_open(j, NULL);
        json_uint(j, "id", g->id);
        json_string(j, "name", g->name);
        json_string(j, "class", g->class_name[0] ? g->class_name : NULL);
        json_string(j, "type", ubc_guest_type_name(g->type));
        json_uint(j, "cpu_units", g->cpu_units);
        json_double(j, "entitled_cpus", g->entitled_cpus < 0 ? NAN : g->entitled_cpus);
        json_object_open(j, "limits");
        json_double(j, "cpu", g->lim.cpu_limit > 0 ? g->lim.cpu_limit : NAN);
        json_limit(j, "memory_barrier", g->mem_barrier);
        json_limit(j, "memory", g->lim.mem_limit);
        json_limit(j, "swap", g->lim.swap);
        json_limit(j, "tasks", g->lim.tasks);
        json_object_close(j);
        json_bool(j, "history", g->has_history);
        if (g->has_history) {
                json_double(j, "coverage", g->use.coverage);
                json_summary(j, "cpu", &g->use.cpu);
                json_double(j, "cpu_peak", g->use.cpu_peak);
                json_summary(j, "cpu_throttled", &g->use.cpu_throttled);
                json_summary(j, "memory", &g->use.mem);
                json_double(j, "memory_peak", g->use.mem_peak);
                json_summary(j, "swap", &g->use.swap);
                json_summary(j, "io_read", &g->io_read);
                json_summary(j, "io_write", &g->io_write);
                json_summary(j, "io_ops", &g->io_ops);
                json_summary(j, "psi_memory", &g->use.psi_mem);
                json_summary(j, "psi_cpu", &g->use.psi_cpu);
                json_object_open(j, "failcnt");
                for (int k = 0; k < _BC_MAX; k++)
                        json_uint(j, bc_resource_name(k), g->use.failcnt[k]);
                json_object_close(j);
        }
        json_array_open(j, "hints");
        for (size_t h = 0; h < g->n_hints; h++)
                json_string(j, NULL, g->hints[h].text);
        json_array_close(j);
        json_object_close(j);
}

void report_write_json(const struct report *r, FILE *f) {
        struct json j;

        json_begin(&j, f);
        json_object_open(&j, NULL);
        json_string(&j, "host", r->hostname);
        json_int(&j, "start", (int64_t) r->start);
        json_int(&j, "end", (int64_t) r->end);
        json_uint(&j, "step", r->step);
        json_uint(&j, "guests_with_history", r->n_with_history);
        json_object_open(&j, "commitments");
        json_double(&j, "cpus", r->cpus);
        json_uint(&j, "memory", r->mem_total);
        json_uint(&j, "swap", r->swap_total);
        json_uint(&j, "memory_limits", r->mem_limits_sum);
        json_uint(&j, "memory_barriers", r->mem_barriers_sum);
        json_uint(&j, "guests_without_memory_limit", r->n_mem_unlimited);
        json_double(&j, "memory_overcommit", r->mem_overcommit);
        json_double(&j, "cpu_limits", r->cpu_limits_sum);
        json_uint(&j, "guests_without_cpu_limit", r->n_cpu_uncapped);
        json_double(&j, "cpu_overcommit", r->cpu_overcommit);
        json_uint(&j, "swap_limits", r->swap_sum);
        json_object_close(&j);
        if (r->host_history) {
                json_summary(&j, "host_cpu", &r->host_cpu);
                json_summary(&j, "host_memory", &r->host_mem);
        }
        json_array_open(&j, "guests");
        for (size_t i = 0; i < r->n_guests; i++)
                json_guest(&j, &r->guests[i]);
        json_array_close(&j);
        json_array_open(&j, "classes");
        for (size_t i = 0; i < r->n_classes; i++) {
                const struct report_class *c = &r->classes[i];

                json_object_open(&j, NULL);
                json_string(&j, "name", c->name);
                json_double(&j, "cpu_limit", c->cap.cpu_limit > 0 ? c->cap.cpu_limit : NAN);
                json_limit(&j, "memory_limit", c->cap.mem_limit);
                json_uint(&j, "guests", c->n_guests);
                json_fit(&j, "fit_at_limits", c->fit.at_limits, c->fit.at_limits_by);
                json_fit(&j, "fit_at_p95", c->fit.at_p95, c->fit.at_p95_by);
                json_object_close(&j);
        }
        json_array_close(&j);
        json_object_close(&j);
        json_end(&j);
}

/* Text into HTML: the only characters that can break it. */
static void html_text(FILE *f, const char *s) {
        for (; *s; s++)
                switch (*s) {
                case '<':
                        fputs("&lt;", f);
                        break;
                case '>':
                        fputs("&gt;", f);
                        break;
                case '&':
                        fputs("&amp;", f);
                        break;
                case '"':
                        fputs("&quot;", f);
                        break;
                default:
                        fputc(*s, f);
                }
}

/* The text report's sections, each in a <pre>, and the graphs beside them. */
void report_write_html(const struct report *r, FILE *f) {
        char *buf = NULL;
        size_t len = 0;
        FILE *m;

        fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Capacity "
              "report: ",
              f);
        html_text(f, r->hostname);
        fputs("</title>\n<style>\nbody { font-family: sans-serif; margin: 2em; }\n"
              "pre { background: #f6f6f6; padding: 1em; }\nimg { margin: 0.5em; "
              "}\n</style>\n</head>\n<body>\n",
              f);
        fputs("<h1>Capacity report: ", f);
        html_text(f, r->hostname);
        fputs("</h1>\n", f);

        m = open_memstream(&buf, &len);
        if (m) {
                text_header(r, m);
                text_summary(r, m);
                fclose(m);
                fputs("<pre>", f);
                html_text(f, buf);
                fputs("</pre>\n", f);
                free(buf);
                buf = NULL;
        }
        fputs("<h2>Host</h2>\n<p><img src=\"host-cpu.png\" alt=\"host CPU by guest\">"
              "<img src=\"host-memory.png\" alt=\"host memory by guest\"></p>\n",
              f);
        for (size_t i = 0; i < r->n_guests; i++) {
                const struct report_guest *g = &r->guests[i];

                fprintf(f, "<h2 id=\"guest-%u\">Guest %u</h2>\n", g->id, g->id);
                m = open_memstream(&buf, &len);
                if (m) {
                        text_guest(g, m);
                        fclose(m);
                        fputs("<pre>", f);
                        html_text(f, buf[0] == '\n' ? buf + 1 : buf);
                        fputs("</pre>\n", f);
                        free(buf);
                        buf = NULL;
                }
                if (g->has_history)
                        fprintf(f,
                                "<p><img src=\"%u-cpu.png\" alt=\"guest %u CPU\">"
                                "<img src=\"%u-memory.png\" alt=\"guest %u memory\">"
                                "<img src=\"%u-io.png\" alt=\"guest %u I/O\"></p>\n",
                                g->id, g->id, g->id, g->id, g->id, g->id);
        }
        m = open_memstream(&buf, &len);
        if (m) {
                text_headroom(r, m);
                fclose(m);
                fputs("<h2>Headroom</h2>\n<pre>", f);
                html_text(f, buf[0] == '\n' ? buf + 1 : buf);
                fputs("</pre>\n", f);
                free(buf);
        }
        fputs("</body>\n</html>\n", f);
}
