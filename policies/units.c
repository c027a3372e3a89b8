/* Pure parsers and formatters for policy values: sizes, plain counts, CPU counts and CPU
 * lists. They never skip text they do not understand: a value is exact or refused. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ubc/macro.h"
#include "ubc/units.h"

static bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

static bool is_blank(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Leading digits of s as a number; *ret_end past them. -EINVAL without digits, -ERANGE on
 * overflow (every digit is still consumed, so the caller sees where the number ends). */
static int parse_digits(const char *s, uint64_t *ret, const char **ret_end) {
        uint64_t v = 0;
        bool overflow = false;
        const char *p = s;

        for (; is_digit(*p); p++) {
                if (__builtin_mul_overflow(v, 10, &v) ||
                    __builtin_add_overflow(v, (uint64_t) (*p - '0'), &v))
                        overflow = true;
        }
        if (p == s)
                return -EINVAL;

        *ret_end = p;
        if (overflow)
                return -ERANGE;
        *ret = v;
        return 0;
}

/* Sizes take K, M, G or T in either case, as powers of 1024; "KB" and "KiB" mean the same,
 * since nobody asks for a limit in powers of 1000 here. A bare "B" is bytes. */
static int parse_size_suffix(const char *s, uint64_t *ret_factor) {
        static const struct {
                char c;
                uint64_t factor;
        } units[] = {
                {'k', 1ULL << 10},
                {'m', 1ULL << 20},
                {'g', 1ULL << 30},
                {'t', 1ULL << 40},
        };
        uint64_t factor = 1;

        if (*s == '\0') {
                *ret_factor = 1;
                return 0;
        }
        if (strcasecmp(s, "b") == 0) {
                *ret_factor = 1;
                return 0;
        }

        for (size_t i = 0; i < ELEMENTSOF(units); i++)
                if ((*s | 0x20) == units[i].c) {
                        factor = units[i].factor;
                        break;
                }
        if (factor == 1)
                return -EINVAL;

        s++;
        if (*s == '\0' || strcasecmp(s, "b") == 0 || strcasecmp(s, "ib") == 0) {
                *ret_factor = factor;
                return 0;
        }
        return -EINVAL;
}

int unit_parse_size(const char *s, uint64_t *ret) {
        uint64_t v = 0, factor = 1;
        const char *end;
        int r, r_suffix;

        if (!s)
                return -EINVAL;
        if (strcasecmp(s, "unlimited") == 0) {
                *ret = UBC_UNLIMITED;
                return 0;
        }

        r = parse_digits(s, &v, &end);
        if (r == -EINVAL)
                return r;
        /* A malformed suffix is the better message than an overflow. */
        r_suffix = parse_size_suffix(end, &factor);
        if (r_suffix < 0)
                return r_suffix;
        if (r < 0)
                return r;

        if (__builtin_mul_overflow(v, factor, &v))
                return -ERANGE;
        /* UBC_UNLIMITED is the marker for "no limit", never a byte count. */
        if (v == UBC_UNLIMITED)
                return -ERANGE;

        *ret = v;
        return 0;
}

int unit_parse_bool(const char *s, bool *ret) {
        static const char *const yes[] = {"yes", "true", "1", "on"};
        static const char *const no[] = {"no", "false", "0", "off"};

        for (size_t i = 0; i < ELEMENTSOF(yes); i++)
                if (strcasecmp(s, yes[i]) == 0) {
                        *ret = true;
                        return 0;
                }
        for (size_t i = 0; i < ELEMENTSOF(no); i++)
                if (strcasecmp(s, no[i]) == 0) {
                        *ret = false;
                        return 0;
                }
        return -EINVAL;
}

int unit_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *ret) {
        const char *end;
        uint64_t v;
        int r;

        if (!s)
                return -EINVAL;
        r = parse_digits(s, &v, &end);
        if (r == -EINVAL || (r == -ERANGE && *end != '\0'))
                return -EINVAL;
        if (*end != '\0')
                return -EINVAL;
        if (r < 0)
                return r;
        if (v < min || v > max)
                return -ERANGE;

        *ret = v;
        return 0;
}

#define CPU_LIMIT_MAX_CENTI (UBC_CPUS_MAX * 100ULL)

int unit_parse_cpu_limit(const char *s, uint64_t *ret_quota_us) {
        uint64_t whole, centi = 0;
        const char *end;
        int r;

        if (!s)
                return -EINVAL;

        r = parse_digits(s, &whole, &end);
        if (r == -EINVAL)
                return r;
        if (*end == '.') {
                const char *frac = end + 1;
                size_t n = 0;

                while (is_digit(frac[n]))
                        n++;
                if (n == 0 || n > 2 || frac[n] != '\0')
                        return -EINVAL;
                centi = (uint64_t) (frac[0] - '0') * 10 + (n == 2 ? (uint64_t) (frac[1] - '0') : 0);
        } else if (*end != '\0')
                return -EINVAL;
        if (r < 0)
                return r;

        if (whole > UBC_CPUS_MAX)
                return -ERANGE;
        centi += whole * 100;
        if (centi > CPU_LIMIT_MAX_CENTI)
                return -ERANGE;

        /* One hundredth of a CPU is 1000us per period, the smallest quota the kernel takes. */
        *ret_quota_us = centi * (UBC_CPU_PERIOD_US / 100);
        return 0;
}

int unit_format_size(uint64_t bytes, char *buf, size_t size) {
        static const struct {
                char suffix;
                unsigned shift;
        } units[] = {
                {'T', 40},
                {'G', 30},
                {'M', 20},
                {'K', 10},
        };
        int n = -1;

        if (!buf || size == 0)
                return -ENOBUFS;

        if (bytes == UBC_UNLIMITED)
                n = snprintf(buf, size, "unlimited");
        else if (bytes == 0)
                n = snprintf(buf, size, "0");
        else {
                for (size_t i = 0; i < ELEMENTSOF(units); i++) {
                        uint64_t unit = 1ULL << units[i].shift;

                        if (bytes % unit == 0) {
                                n = snprintf(buf, size, "%llu%c", (unsigned long long) (bytes / unit),
                                             units[i].suffix);
                                break;
                        }
                }
                if (n < 0)
                        n = snprintf(buf, size, "%llu", (unsigned long long) bytes);
        }

        if (n < 0 || (size_t) n >= size)
                return -ENOBUFS;
        return 0;
}

int unit_format_cpu_limit(uint64_t quota_us, char *buf, size_t size) {
        unsigned long long whole = quota_us / UBC_CPU_PERIOD_US, frac = quota_us % UBC_CPU_PERIOD_US;
        int n;

        if (!buf || size == 0)
                return -ENOBUFS;

        if (frac == 0)
                n = snprintf(buf, size, "%llu", whole);
        else {
                /* Five places are exact for any quota in microseconds; drop the trailing zeros. */
                unsigned places = 5;

                while (frac % 10 == 0) {
                        frac /= 10;
                        places--;
                }
                n = snprintf(buf, size, "%llu.%0*llu", whole, (int) places, frac);
        }

        if (n < 0 || (size_t) n >= size)
                return -ENOBUFS;
        return 0;
}

static void cpuset_add_range(struct ubc_cpuset *set, unsigned a, unsigned b) {
        for (unsigned c = a; c <= b; c++)
                set->bits[c / 64] |= 1ULL << (c % 64);
}

static bool cpuset_has(const struct ubc_cpuset *set, unsigned c) {
        return set->bits[c / 64] & (1ULL << (c % 64));
}

/* One CPU number within [p, end); blanks around it allowed. */
static int parse_cpu_number(const char **p, const char *end, unsigned *ret) {
        const char *s = *p;
        uint64_t v = 0;
        bool any = false, overflow = false;

        while (s < end && is_blank(*s))
                s++;
        for (; s < end && is_digit(*s); s++) {
                any = true;
                v = v * 10 + (uint64_t) (*s - '0');
                if (v >= UBC_CPUS_MAX) {
                        overflow = true;
                        v = UBC_CPUS_MAX;
                }
        }
        if (!any)
                return -EINVAL;
        while (s < end && is_blank(*s))
                s++;

        *p = s;
        if (overflow)
                return -ERANGE;
        *ret = (unsigned) v;
        return 0;
}

int cpuset_parse(const char *s, struct ubc_cpuset *ret) {
        struct ubc_cpuset set = {};
        const char *p, *end;
        int range_error = 0;

        if (!s)
                return -EINVAL;

        /* The kernel's own files end in a newline and hold "" for an empty set. */
        end = s + strlen(s);
        while (s < end && is_blank(*s))
                s++;
        while (end > s && is_blank(end[-1]))
                end--;

        p = s;
        while (p < end) {
                const char *comma = memchr(p, ',', (size_t) (end - p));
                const char *elem_end = comma ? comma : end;
                unsigned a, b;
                int r;

                r = parse_cpu_number(&p, elem_end, &a);
                if (r == -EINVAL)
                        return r;
                if (r == -ERANGE)
                        range_error = r;
                b = a;
                if (p < elem_end && *p == '-') {
                        int r2;

                        p++;
                        r2 = parse_cpu_number(&p, elem_end, &b);
                        if (r2 == -EINVAL)
                                return r2;
                        if (r2 == -ERANGE)
                                range_error = r2;
                        else if (r == 0 && b < a)
                                return -EINVAL;
                }
                if (p != elem_end)
                        return -EINVAL;
                if (r == 0 && range_error == 0)
                        cpuset_add_range(&set, a, b);

                if (!comma)
                        break;
                p = comma + 1;
                /* "0," and "0,,1": an element is missing. */
                if (p >= end)
                        return -EINVAL;
        }
        if (range_error < 0)
                return range_error;

        *ret = set;
        return 0;
}

int cpuset_format(const struct ubc_cpuset *set, char *buf, size_t size) {
        size_t used = 0;

        if (!buf || size == 0)
                return -ENOBUFS;
        buf[0] = '\0';

        for (unsigned c = 0; c < UBC_CPUS_MAX; c++) {
                unsigned last = c;
                int n;

                if (!cpuset_has(set, c))
                        continue;
                while (last + 1 < UBC_CPUS_MAX && cpuset_has(set, last + 1))
                        last++;

                if (last == c)
                        n = snprintf(buf + used, size - used, "%s%u", used ? "," : "", c);
                else
                        n = snprintf(buf + used, size - used, "%s%u-%u", used ? "," : "", c, last);
                if (n < 0 || (size_t) n >= size - used) {
                        buf[0] = '\0';
                        return -ENOBUFS;
                }
                used += (size_t) n;
                c = last;
        }
        return 0;
}

bool cpuset_is_empty(const struct ubc_cpuset *set) {
        for (size_t i = 0; i < ELEMENTSOF(set->bits); i++)
                if (set->bits[i])
                        return false;
        return true;
}

bool cpuset_is_subset(const struct ubc_cpuset *inner, const struct ubc_cpuset *outer) {
        for (size_t i = 0; i < ELEMENTSOF(inner->bits); i++)
                if (inner->bits[i] & ~outer->bits[i])
                        return false;
        return true;
}

unsigned cpuset_count(const struct ubc_cpuset *set) {
        unsigned n = 0;

        for (size_t i = 0; i < ELEMENTSOF(set->bits); i++)
                n += (unsigned) __builtin_popcountll(set->bits[i]);
        return n;
}
