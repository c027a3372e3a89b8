/* Pure parsers of cgroup statistics files (v1 and v2). They walk the buffer and never copy a
 * line, so no file can overflow anything; outputs change only on success. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "ubc/stat.h"

#define KEYED_KEYS_MAX 64

static bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

static bool is_space(char c) {
        return c == ' ' || c == '\t';
}

/* One line of buf: [*p, end of line); *p moves past the newline. False at the end. */
static bool next_line(const char **p, const char **ret_start, const char **ret_end) {
        const char *s = *p, *nl;

        if (*s == '\0')
                return false;
        nl = strchrnul(s, '\n');
        *ret_start = s;
        *ret_end = nl;
        *p = *nl == '\n' ? nl + 1 : nl;
        return true;
}

/* The next blank-separated word in [*p, end); false when only blanks are left. */
static bool next_word(const char **p, const char *end, const char **ret_start, size_t *ret_len) {
        const char *s = *p, *e;

        while (s < end && is_space(*s))
                s++;
        if (s >= end)
                return false;
        for (e = s; e < end && !is_space(*e); e++)
                ;
        *ret_start = s;
        *ret_len = (size_t) (e - s);
        *p = e;
        return true;
}

/* Nothing but blanks left in [p, end). */
static bool only_blanks(const char *p, const char *end) {
        for (; p < end; p++)
                if (!is_space(*p))
                        return false;
        return true;
}

static bool word_is(const char *w, size_t len, const char *lit) {
        return strlen(lit) == len && memcmp(w, lit, len) == 0;
}

/* Exactly the digits in [s, s + len): -EINVAL for anything else, -ERANGE past 2^64 - 1. */
static int parse_u64_span(const char *s, size_t len, uint64_t *ret) {
        uint64_t v = 0;

        if (len == 0)
                return -EINVAL;
        for (size_t i = 0; i < len; i++) {
                if (!is_digit(s[i]))
                        return -EINVAL;
        }
        for (size_t i = 0; i < len; i++) {
                if (__builtin_mul_overflow(v, 10, &v) ||
                    __builtin_add_overflow(v, (uint64_t) (s[i] - '0'), &v))
                        return -ERANGE;
        }
        *ret = v;
        return 0;
}

static int parse_u32_span(const char *s, size_t len, unsigned *ret) {
        uint64_t v;
        int r;

        r = parse_u64_span(s, len, &v);
        if (r < 0)
                return r;
        if (v > UINT32_MAX)
                return -ERANGE;
        *ret = (unsigned) v;
        return 0;
}

int stat_parse_keyed(const char *buf, const char *const *keys, size_t n_keys, uint64_t *values,
                     uint64_t *ret_found) {
        uint64_t found = 0, vals[KEYED_KEYS_MAX];
        const char *p = buf, *ls, *le;

        if (!buf || (n_keys > 0 && (!keys || !values)) || n_keys > KEYED_KEYS_MAX)
                return -EINVAL;

        while (next_line(&p, &ls, &le)) {
                const char *key, *val, *q = ls;
                size_t klen, vlen;
                uint64_t v;
                size_t i;
                int r;

                if (!next_word(&q, le, &key, &klen))
                        continue;
                for (i = 0; i < n_keys; i++)
                        if (keys[i] && word_is(key, klen, keys[i]))
                                break;
                /* Kernels add keys over time; only the ones asked for must be well formed. */
                if (i == n_keys)
                        continue;

                if (!next_word(&q, le, &val, &vlen))
                        return -EINVAL;
                if (!only_blanks(q, le))
                        return -EINVAL;
                r = parse_u64_span(val, vlen, &v);
                if (r < 0)
                        return r;
                vals[i] = v;
                found |= 1ULL << i;
        }

        for (size_t i = 0; i < n_keys; i++)
                if (found & (1ULL << i))
                        values[i] = vals[i];
        if (ret_found)
                *ret_found = found;
        return 0;
}

int stat_parse_swaps(const char *buf) {
        const char *p = buf, *ls, *le, *q, *w;
        size_t wlen;
        int n = 0;

        if (!buf)
                return -EINVAL;
        if (!next_line(&p, &ls, &le))
                return -EINVAL;
        q = ls;
        if (!next_word(&q, le, &w, &wlen) || !word_is(w, wlen, "Filename"))
                return -EINVAL;
        while (next_line(&p, &ls, &le)) {
                q = ls;
                if (next_word(&q, le, &w, &wlen) && n < INT32_MAX)
                        n++;
        }
        return n;
}

int stat_parse_u64(const char *buf, uint64_t *ret) {
        const char *p = buf, *end, *w;
        size_t len;
        uint64_t v;
        int r;

        if (!buf || !ret)
                return -EINVAL;
        /* One word on the first line; a second line means this is not a one-value file. */
        end = strchrnul(buf, '\n');
        if (!next_word(&p, end, &w, &len) || !only_blanks(p, end))
                return -EINVAL;
        for (p = end; *p != '\0'; p++)
                if (!is_space(*p) && *p != '\n')
                        return -EINVAL;

        if (word_is(w, len, "max")) {
                *ret = UINT64_MAX;
                return 0;
        }
        r = parse_u64_span(w, len, &v);
        if (r < 0)
                return r;
        *ret = v;
        return 0;
}

/* "MAJ:MIN" */
static int parse_devno(const char *w, size_t len, unsigned *ret_major, unsigned *ret_minor) {
        const char *colon = memchr(w, ':', len);
        unsigned major, minor;
        int r;

        if (!colon)
                return -EINVAL;
        r = parse_u32_span(w, (size_t) (colon - w), &major);
        if (r < 0)
                return r;
        r = parse_u32_span(colon + 1, len - (size_t) (colon - w) - 1, &minor);
        if (r < 0)
                return r;
        *ret_major = major;
        *ret_minor = minor;
        return 0;
}

/* One io.stat line. Keys the kernel may add later (dbytes, dios, cost.*) are skipped, but
 * each must still look like key=value. */
static int parse_io_stat_line(const char *ls, const char *le, struct stat_io_dev *ret) {
        struct stat_io_dev d = {};
        const char *q = ls, *w;
        size_t len;
        int r;

        if (!next_word(&q, le, &w, &len))
                return -ENODATA;
        r = parse_devno(w, len, &d.major, &d.minor);
        if (r < 0)
                return r;

        while (next_word(&q, le, &w, &len)) {
                const char *eq = memchr(w, '=', len);
                uint64_t v, *field = NULL;
                size_t klen;

                if (!eq)
                        return -EINVAL;
                klen = (size_t) (eq - w);
                if (word_is(w, klen, "rbytes"))
                        field = &d.rbytes;
                else if (word_is(w, klen, "wbytes"))
                        field = &d.wbytes;
                else if (word_is(w, klen, "rios"))
                        field = &d.rios;
                else if (word_is(w, klen, "wios"))
                        field = &d.wios;
                if (!field || klen == 0)
                        continue;
                r = parse_u64_span(eq + 1, len - klen - 1, &v);
                if (r < 0)
                        return r;
                *field = v;
        }

        *ret = d;
        return 0;
}

int stat_parse_io_stat(const char *buf, struct stat_io_dev *devs, size_t max, size_t *ret_n,
                       size_t *ret_dropped) {
        size_t n = 0, dropped = 0;
        const char *p, *ls, *le;

        if (!buf || (max > 0 && !devs))
                return -EINVAL;

        /* Check the whole file first, so that devs is left alone when it is malformed. */
        for (int pass = 0; pass < 2; pass++) {
                n = dropped = 0;
                p = buf;
                while (next_line(&p, &ls, &le)) {
                        struct stat_io_dev d;
                        int r;

                        r = parse_io_stat_line(ls, le, &d);
                        if (r == -ENODATA)
                                continue;
                        if (r < 0)
                                return r;
                        if (n >= max) {
                                dropped++;
                                continue;
                        }
                        if (pass == 1)
                                devs[n] = d;
                        n++;
                }
        }

        if (ret_n)
                *ret_n = n;
        if (ret_dropped)
                *ret_dropped = dropped;
        return 0;
}

enum blkio_op {
        BLKIO_READ,
        BLKIO_WRITE,
        BLKIO_OTHER,
};

/* "MAJ:MIN OP N" or the file's last line "Total N". -ENODATA for lines that carry nothing. */
static int parse_blkio_line(const char *ls, const char *le, unsigned *ret_major, unsigned *ret_minor,
                            enum blkio_op *ret_op, uint64_t *ret_value) {
        const char *q = ls, *w, *op, *val;
        size_t len, oplen, vlen;
        unsigned major, minor;
        uint64_t v;
        int r;

        if (!next_word(&q, le, &w, &len))
                return -ENODATA;
        if (word_is(w, len, "Total")) {
                if (!next_word(&q, le, &val, &vlen) || !only_blanks(q, le))
                        return -EINVAL;
                r = parse_u64_span(val, vlen, &v);
                return r < 0 ? r : -ENODATA;
        }

        r = parse_devno(w, len, &major, &minor);
        if (r < 0)
                return r;
        if (!next_word(&q, le, &op, &oplen) || !next_word(&q, le, &val, &vlen) || !only_blanks(q, le))
                return -EINVAL;
        r = parse_u64_span(val, vlen, &v);
        if (r < 0)
                return r;

        *ret_major = major;
        *ret_minor = minor;
        /* Sync, Async, Discard and Total are sums or splits of Read and Write. */
        *ret_op = word_is(op, oplen, "Read")    ? BLKIO_READ
                  : word_is(op, oplen, "Write") ? BLKIO_WRITE
                                                : BLKIO_OTHER;
        *ret_value = v;
        return 0;
}

int stat_parse_blkio_v1(const char *buf, int bytes, struct stat_io_dev *devs, size_t max, size_t *n) {
        const char *p, *ls, *le;
        size_t have;

        if (!buf || !n || *n > max || (max > 0 && !devs))
                return -EINVAL;

        /* Check first, merge second: a malformed file leaves devs and *n as they were. */
        for (int pass = 0; pass < 2; pass++) {
                have = *n;
                p = buf;
                while (next_line(&p, &ls, &le)) {
                        unsigned major, minor;
                        enum blkio_op op;
                        uint64_t v;
                        size_t i;
                        int r;

                        r = parse_blkio_line(ls, le, &major, &minor, &op, &v);
                        if (r == -ENODATA)
                                continue;
                        if (r < 0)
                                return r;
                        if (pass == 0 || op == BLKIO_OTHER)
                                continue;

                        for (i = 0; i < have; i++)
                                if (devs[i].major == major && devs[i].minor == minor)
                                        break;
                        if (i == have) {
                                /* More devices than the caller keeps: the rest are dropped. */
                                if (have >= max)
                                        continue;
                                devs[have++] = (struct stat_io_dev){.major = major, .minor = minor};
                        }
                        if (bytes)
                                *(op == BLKIO_READ ? &devs[i].rbytes : &devs[i].wbytes) = v;
                        else
                                *(op == BLKIO_READ ? &devs[i].rios : &devs[i].wios) = v;
                }
        }

        *n = have;
        return 0;
}

/* A PSI average: "D.DD", as the kernel prints it; no signs, exponents or "nan". */
static int parse_psi_avg(const char *s, size_t len, double *ret) {
        const char *dot = memchr(s, '.', len);
        size_t ilen = dot ? (size_t) (dot - s) : len, flen = dot ? len - ilen - 1 : 0;
        uint64_t whole, frac = 0, scale = 1;
        int r;

        /* A percentage: more digits than these are no PSI file. */
        if (ilen > 9 || flen > 9 || (dot && flen == 0))
                return -EINVAL;
        r = parse_u64_span(s, ilen, &whole);
        if (r < 0)
                return r;
        if (flen > 0) {
                r = parse_u64_span(dot + 1, flen, &frac);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < flen; i++)
                        scale *= 10;
        }
        *ret = (double) whole + (double) frac / (double) scale;
        return 0;
}

enum {
        PSI_AVG10 = 1 << 0,
        PSI_AVG60 = 1 << 1,
        PSI_AVG300 = 1 << 2,
        PSI_TOTAL = 1 << 3,
        PSI_ALL = PSI_AVG10 | PSI_AVG60 | PSI_AVG300 | PSI_TOTAL,
};

static int parse_psi_fields(const char *q, const char *le, struct stat_psi_line *ret) {
        struct stat_psi_line l = {};
        unsigned seen = 0;
        const char *w;
        size_t len;
        int r;

        while (next_word(&q, le, &w, &len)) {
                const char *eq = memchr(w, '=', len);
                const char *v;
                size_t klen, vlen;

                if (!eq)
                        return -EINVAL;
                klen = (size_t) (eq - w);
                v = eq + 1;
                vlen = len - klen - 1;
                if (word_is(w, klen, "avg10")) {
                        r = parse_psi_avg(v, vlen, &l.avg10);
                        seen |= PSI_AVG10;
                } else if (word_is(w, klen, "avg60")) {
                        r = parse_psi_avg(v, vlen, &l.avg60);
                        seen |= PSI_AVG60;
                } else if (word_is(w, klen, "avg300")) {
                        r = parse_psi_avg(v, vlen, &l.avg300);
                        seen |= PSI_AVG300;
                } else if (word_is(w, klen, "total")) {
                        r = parse_u64_span(v, vlen, &l.total);
                        seen |= PSI_TOTAL;
                } else
                        r = 0;
                if (r < 0)
                        return r;
        }
        if (seen != PSI_ALL)
                return -EINVAL;

        *ret = l;
        return 0;
}

int stat_parse_psi(const char *buf, struct stat_psi *ret) {
        struct stat_psi psi = {};
        bool has_some = false;
        const char *p = buf, *ls, *le;

        if (!buf || !ret)
                return -EINVAL;

        while (next_line(&p, &ls, &le)) {
                const char *q = ls, *w;
                size_t len;
                int r;

                if (!next_word(&q, le, &w, &len))
                        continue;
                if (word_is(w, len, "some")) {
                        r = parse_psi_fields(q, le, &psi.some);
                        has_some = true;
                } else if (word_is(w, len, "full")) {
                        r = parse_psi_fields(q, le, &psi.full);
                        psi.has_full = 1;
                } else
                        r = 0;
                if (r < 0)
                        return r;
        }
        /* Every pressure file has a "some" line; a file without one is not a pressure file. */
        if (!has_some)
                return -EINVAL;

        *ret = psi;
        return 0;
}
