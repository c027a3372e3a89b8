/* rrd-fixture: RRD history with a known, time-shifted load, for report tests and benchmarks.
 *
 *   rrd-fixture DIR --guests FIRST..LAST --days D [--step S] [--cpu CPUS] [--mem BYTES]
 *                   [--failcnt RESOURCE=N]
 *
 * Makes DIR/ID.rrd for each guest (ubc's layout) and DIR/host.rrd, filled from D days ago up
 * to now, one update per step. Guest ID uses CPUS x (1 + (ID - FIRST) % 4) / 4 of CPU with a
 * small daily swing and BYTES of memory, so percentiles are known; N failcnt events of
 * RESOURCE are spread over the window. Existing files are refused. */
#include <errno.h>
#include <math.h>
#include <rrd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ubc/history.h"

#define BATCH 512

static int fill(const char *path, enum history_kind kind, time_t start, time_t end, unsigned long step,
                double cpu, double mem, int fc_res, unsigned long fc_n) {
        size_t n_ds = history_ds_count(kind), n = 0, rows = (size_t) ((end - start) / (time_t) step);
        char **argv = calloc(BATCH, sizeof(char *));
        char err[512];
        int r = 0;

        if (!argv)
                return -ENOMEM;
        r = history_rrd_create(path, kind, step, 2 * step, start - 1, err, sizeof(err));
        if (r < 0) {
                fprintf(stderr, "rrd-fixture: %s: %s\n", path, r == -EEXIST ? "exists" : err);
                free(argv);
                return r;
        }
        for (size_t i = 0; i < rows && r == 0; i++) {
                time_t t = start + (time_t) (i * step);
                double swing = 1 + 0.1 * sin(2 * M_PI * (double) (t % 86400) / 86400);
                char *line, *p;
                size_t cap = 32 + n_ds * 24;

                line = malloc(cap);
                if (!line) {
                        r = -ENOMEM;
                        break;
                }
                p = line + snprintf(line, cap, "%lld", (long long) t);
                for (size_t d = 0; d < n_ds; d++) {
                        double v = 0;

                        if (kind == HISTORY_HOST) {
                                v = d == HH_CPU         ? cpu * swing
                                    : d == HH_CPUS      ? 2
                                    : d == HH_MEM       ? mem
                                    : d == HH_MEM_TOTAL ? 4 * mem
                                                        : 0;
                        } else if (d == HG_CPU)
                                v = cpu * swing;
                        else if (d == HG_MEM || d == HG_MEM_PEAK)
                                v = mem;
                        else if (d == HG_TASKS)
                                v = 3;
                        else if ((int) d == HG_FAILCNT + fc_res && fc_n &&
                                 i % (rows / fc_n ? rows / fc_n : 1) == (rows / fc_n) / 2)
                                v = 1; /* ABSOLUTE: increments */
                        /* ABSOLUTE sources take integers */
                        p += snprintf(p, cap - (size_t) (p - line),
                                      kind == HISTORY_GUEST && d >= HG_FAILCNT ? ":%.0f" : ":%.6f", v);
                }
                argv[n++] = line;
                if (n == BATCH || i + 1 == rows) {
                        rrd_clear_error();
                        if (rrd_update_r(path, NULL, (int) n, (const char **) argv) < 0) {
                                fprintf(stderr, "rrd-fixture: %s: %s\n", path, rrd_get_error());
                                r = -EIO;
                        }
                        for (size_t k = 0; k < n; k++)
                                free(argv[k]);
                        n = 0;
                }
        }
        for (size_t k = 0; k < n; k++)
                free(argv[k]);
        free(argv);
        return r;
}

int main(int argc, char **argv) {
        unsigned long first = 0, last = 0, days = 0, step = 60, fc_n = 0;
        double cpu = 0.5, mem = 200.0 * 1024 * 1024;
        int fc_res = -1;
        const char *dir;
        char path[4096];
        time_t end, start;

        if (argc < 2) {
                fprintf(stderr,
                        "usage: rrd-fixture DIR --guests FIRST..LAST --days D [--step S] [--cpu CPUS] "
                        "[--mem BYTES] [--failcnt RESOURCE=N]\n");
                return 2;
        }
        dir = argv[1];
        for (int i = 2; i + 1 < argc; i += 2) {
                const char *o = argv[i], *v = argv[i + 1];

                if (strcmp(o, "--guests") == 0) {
                        if (sscanf(v, "%lu..%lu", &first, &last) != 2)
                                first = last = strtoul(v, NULL, 10);
                } else if (strcmp(o, "--days") == 0)
                        days = strtoul(v, NULL, 10);
                else if (strcmp(o, "--step") == 0)
                        step = strtoul(v, NULL, 10);
                else if (strcmp(o, "--cpu") == 0)
                        cpu = strtod(v, NULL);
                else if (strcmp(o, "--mem") == 0)
                        mem = strtod(v, NULL);
                else if (strcmp(o, "--failcnt") == 0) {
                        char res[32];
                        if (sscanf(v, "%31[a-z]=%lu", res, &fc_n) != 2 ||
                            (fc_res = bc_resource_from_name(res)) < 0) {
                                fprintf(stderr, "rrd-fixture: '--failcnt %s': RESOURCE=N\n", v);
                                return 2;
                        }
                } else {
                        fprintf(stderr, "rrd-fixture: unknown option '%s'\n", o);
                        return 2;
                }
        }
        if (first < 100 || last < first || days == 0 || step == 0) {
                fprintf(stderr, "rrd-fixture: needs --guests FIRST..LAST (>= 100) and --days D\n");
                return 2;
        }

        end = time(NULL) / (time_t) step * (time_t) step;
        start = end - (time_t) (days * 86400);
        for (unsigned long id = first; id <= last; id++) {
                double share = (double) (1 + (id - first) % 4) / 4;

                snprintf(path, sizeof(path), "%s/%lu.rrd", dir, id);
                if (fill(path, HISTORY_GUEST, start, end, step, cpu * share, mem, fc_res, fc_n) < 0)
                        return 1;
        }
        snprintf(path, sizeof(path), "%s/%s", dir, HISTORY_HOST_FILE);
        if (fill(path, HISTORY_HOST, start, end, step, cpu, mem * (double) (last - first + 1), -1, 0) < 0)
                return 1;
        return 0;
}
