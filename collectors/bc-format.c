/* The beancounter table as people and tools read it: OpenVZ's /proc/user_beancounters layout,
 * which vzctl-era scripts parse by column, and OpenMetrics text for Prometheus. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "ubc/beancounter.h"
#include "ubc/macro.h"

/* The 64-bit formats of OpenVZ's kernel/bc/proc.c: the first row of a guest carries "ID:"
 * right-aligned in the uid column, the others leave it blank. */
#define OPENVZ_HEAD_FMT "%10s  %-12s %20s %20s %20s %20s %20s\n"
#define OPENVZ_ROW_FMT  "%10s  %-12s %20" PRIu64 " %20" PRIu64 " %20" PRIu64 " %20" PRIu64 " %20" PRIu64 "\n"

void bc_format_openvz_header(FILE *f) {
        fprintf(f, OPENVZ_HEAD_FMT, "uid", "resource", "held", "maxheld", "barrier", "limit", "failcnt");
}

void bc_format_openvz_row(FILE *f, uint32_t id, bool first, const char *resource, const struct bc_row *row) {
        char uid[16] = "";

        if (first)
                snprintf(uid, sizeof(uid), "%" PRIu32 ":", id);
        fprintf(f, OPENVZ_ROW_FMT, uid, resource, row->held, row->maxheld, row->barrier, row->limit,
                row->failcnt);
}

int bc_format_openvz(FILE *f, const struct bc_table_entry *entries, size_t n) {
        if (!f || (n > 0 && !entries))
                return -EINVAL;

        fputs("Version: 2.5\n", f);
        bc_format_openvz_header(f);
        for (size_t i = 0; i < n; i++)
                for (unsigned r = 0; r < _BC_MAX; r++)
                        bc_format_openvz_row(f, entries[i].id, r == 0, bc_resource_name(r),
                                             &entries[i].rows[r]);
        if (ferror(f))
                return -EIO;
        return 0;
}

static const struct {
        const char *name, *type, *help;
        size_t offset;
} metrics[] = {
        {"ubc_beancounter_held", "gauge", "Resource in use now (bytes, pages or count, as in OpenVZ)",
         offsetof(struct bc_row, held)},
        {"ubc_beancounter_maxheld", "gauge", "Highest use over the guest's life",
         offsetof(struct bc_row, maxheld)},
        {"ubc_beancounter_barrier", "gauge", "Soft limit; 9223372036854775807 means none",
         offsetof(struct bc_row, barrier)},
        {"ubc_beancounter_limit", "gauge", "Hard limit; 9223372036854775807 means none",
         offsetof(struct bc_row, limit)},
        {"ubc_beancounter_failcnt", "counter", "Times the limit was hit over the guest's life",
         offsetof(struct bc_row, failcnt)},
};

int bc_format_openmetrics(FILE *f, const struct bc_table_entry *entries, size_t n) {
        if (!f || (n > 0 && !entries))
                return -EINVAL;

        /* OpenMetrics wants each family's samples together, after its TYPE; a counter's
         * sample carries the _total suffix its family name lacks. */
        for (size_t m = 0; m < ELEMENTSOF(metrics); m++) {
                bool counter = streq(metrics[m].type, "counter");

                fprintf(f, "# TYPE %s %s\n# HELP %s %s.\n", metrics[m].name, metrics[m].type,
                        metrics[m].name, metrics[m].help);
                for (size_t i = 0; i < n; i++)
                        for (unsigned r = 0; r < _BC_MAX; r++) {
                                const char *row = (const char *) &entries[i].rows[r];
                                uint64_t v;

                                memcpy(&v, row + metrics[m].offset, sizeof(v));
                                fprintf(f, "%s%s{guest=\"%" PRIu32 "\",resource=\"%s\"} %" PRIu64 "\n",
                                        metrics[m].name, counter ? "_total" : "", entries[i].id,
                                        bc_resource_name(r), v);
                        }
        }
        fputs("# EOF\n", f);
        if (ferror(f))
                return -EIO;
        return 0;
}
