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

/* Decimal digits of v ending just before 'end'; returns where they start. The tables are
 * some 9000 rows and 45000 samples at 1000 guests, every sweep: printf's format parsing was a
 * fifth of ubcd's CPU time, so the fixed layouts are put together by hand. */
static char *u64_digits(char *end, uint64_t v) {
        do {
                *--end = (char) ('0' + v % 10);
                v /= 10;
        } while (v);
        return end;
}

/* n bytes of s right-aligned in 'width' columns at p. */
static char *put_right(char *p, const char *str, size_t n, size_t width) {
        if (n < width) {
                memset(p, ' ', width - n);
                p += width - n;
        }
        return mempcpy(p, str, n);
}

void bc_format_openvz_row(FILE *f, uint32_t id, bool first, const char *resource, const struct bc_row *row) {
        const uint64_t v[] = {row->held, row->maxheld, row->barrier, row->limit, row->failcnt};
        size_t rlen = strlen(resource);
        char line[256], *p = line;

        if (rlen > 64) {
                char uid[16] = "";

                if (first)
                        snprintf(uid, sizeof(uid), "%" PRIu32 ":", id);
                fprintf(f, OPENVZ_ROW_FMT, uid, resource, row->held, row->maxheld, row->barrier, row->limit,
                        row->failcnt);
                return;
        }
        /* OPENVZ_ROW_FMT, the same bytes. */
        if (first) {
                char uid[12], *u = uid + sizeof(uid);

                *--u = ':';
                u = u64_digits(u, id);
                p = put_right(p, u, (size_t) (uid + sizeof(uid) - u), 10);
        } else
                p = put_right(p, "", 0, 10);
        p = mempcpy(p, "  ", 2);
        p = mempcpy(p, resource, rlen);
        if (rlen < 12)
                p = put_right(p, "", 0, 12 - rlen);
        for (size_t i = 0; i < ELEMENTSOF(v); i++) {
                char digits[20], *d = u64_digits(digits + sizeof(digits), v[i]);

                *p++ = ' ';
                p = put_right(p, d, (size_t) (digits + sizeof(digits) - d), 20);
        }
        *p++ = '\n';
        fwrite(line, 1, (size_t) (p - line), f);
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
        const char *res[_BC_MAX];
        size_t reslen[_BC_MAX], plen;
        char line[256], *p;

        if (!f || (n > 0 && !entries))
                return -EINVAL;
        for (unsigned r = 0; r < _BC_MAX; r++) {
                res[r] = bc_resource_name(r);
                reslen[r] = strlen(res[r]); /* a dozen letters: fits the line with any value */
        }

        /* OpenMetrics wants each family's samples together, after its TYPE; a counter's
         * sample carries the _total suffix its family name lacks. */
        for (size_t m = 0; m < ELEMENTSOF(metrics); m++) {
                bool counter = streq(metrics[m].type, "counter");

                fprintf(f, "# TYPE %s %s\n# HELP %s %s.\n", metrics[m].name, metrics[m].type,
                        metrics[m].name, metrics[m].help);
                /* "NAME[_total]{guest=\"": the same for every sample of the family. */
                plen = (size_t) snprintf(line, sizeof(line), "%s%s{guest=\"", metrics[m].name,
                                         counter ? "_total" : "");
                for (size_t i = 0; i < n; i++) {
                        char idbuf[12], *id = u64_digits(idbuf + sizeof(idbuf), entries[i].id);
                        size_t idlen = (size_t) (idbuf + sizeof(idbuf) - id);

                        for (unsigned r = 0; r < _BC_MAX; r++) {
                                const char *row = (const char *) &entries[i].rows[r];
                                uint64_t v;

                                memcpy(&v, row + metrics[m].offset, sizeof(v));
                                p = line + plen;
                                p = mempcpy(p, id, idlen);
                                p = mempcpy(p, "\",resource=\"", 12);
                                p = mempcpy(p, res[r], reslen[r]);
                                p = mempcpy(p, "\"} ", 3);
                                {
                                        char digits[20], *d = u64_digits(digits + sizeof(digits), v);

                                        p = mempcpy(p, d, (size_t) (digits + sizeof(digits) - d));
                                }
                                *p++ = '\n';
                                fwrite(line, 1, (size_t) (p - line), f);
                        }
                }
        }
        fputs("# EOF\n", f);
        if (ferror(f))
                return -EIO;
        return 0;
}
