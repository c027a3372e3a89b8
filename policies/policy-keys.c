/* The limit keys: one table of key -> parser -> field, shared by class files, guest files
 * and live changes, so a value means the same everywhere. Messages say what is valid. */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy-internal.h"
#include "ubc/macro.h"
#include "ubc/units.h"

#define SIZE_SYNTAX     "a number with K, M, G or T, or unlimited"
#define IO_LIMIT_SYNTAX "'DEV rbps=SIZE wbps=SIZE riops=N wiops=N'"
#define IO_IOPS_MAX     (UINT32_MAX - 1ULL) /* the kernel keeps iops in 32 bits, all ones = none */
#define MEMORY_MIN      (1ULL << 20)

static void *field(const struct limit_key *key, struct ubc_limits *l) {
        return (uint8_t *) l + key->offset;
}

static int parse_uint32_range(const struct limit_key *key, const char *value, struct ubc_limits *l,
                              char *msg, size_t msg_size) {
        uint64_t v;
        int r;

        r = unit_parse_uint(value, key->min, key->max, &v);
        if (r < 0) {
                snprintf(msg, msg_size, "%s, must be %llu..%llu",
                         *value == '\0' ? "missing value"
                         : r == -ERANGE ? "out of range"
                                        : "not a whole number",
                         (unsigned long long) key->min, (unsigned long long) key->max);
                return r;
        }
        *(uint32_t *) field(key, l) = (uint32_t) v;
        return 0;
}

static int parse_count(const struct limit_key *key, const char *value, struct ubc_limits *l, char *msg,
                       size_t msg_size) {
        uint64_t v;
        int r;

        if (strcasecmp(value, "unlimited") == 0)
                v = UBC_UNLIMITED;
        else {
                r = unit_parse_uint(value, key->min, key->max, &v);
                if (r < 0) {
                        snprintf(msg, msg_size, "%s, must be %llu..%llu or unlimited",
                                 *value == '\0' ? "missing value"
                                 : r == -ERANGE ? "out of range"
                                                : "not a whole number",
                                 (unsigned long long) key->min, (unsigned long long) key->max);
                        return r;
                }
        }
        *(uint64_t *) field(key, l) = v;
        return 0;
}

static int parse_cpu_limit(const struct limit_key *key, const char *value, struct ubc_limits *l, char *msg,
                           size_t msg_size) {
        uint64_t q;
        int r;

        r = unit_parse_cpu_limit(value, &q);
        if (r < 0) {
                if (r == -ERANGE)
                        snprintf(msg, msg_size, "out of range, must be 0.01..%u CPUs, or 0 for no limit",
                                 UBC_CPUS_MAX);
                else
                        snprintf(msg, msg_size,
                                 "%s, must be CPUs with at most 2 decimals (e.g. 1.5), or 0 for no limit",
                                 *value == '\0' ? "missing value" : "not a CPU count");
                return r;
        }
        *(uint64_t *) field(key, l) = q;
        return 0;
}

static int parse_cpu_set(const struct limit_key *key, const char *value, struct ubc_limits *l, char *msg,
                         size_t msg_size) {
        struct ubc_cpuset set;
        int r;

        /* An empty value is the empty set: all of the parent's CPUs, which lets a guest undo
         * its class's cpu.set. */
        r = cpuset_parse(value, &set);
        if (r < 0) {
                if (r == -ERANGE)
                        snprintf(msg, msg_size, "CPU numbers must be below %u", UBC_CPUS_MAX);
                else
                        snprintf(msg, msg_size,
                                 "not a CPU list, must be like '0-3,6' with ascending ranges");
                return r;
        }
        *(struct ubc_cpuset *) field(key, l) = set;
        return 0;
}

/* One size for 'what'; finite sizes at least 'min'. */
static int parse_one_size(const char *what, const char *value, uint64_t min, uint64_t *ret, char *msg,
                          size_t msg_size) {
        char shown[32];
        uint64_t v;
        int r;

        r = unit_parse_size(value, &v);
        if (r < 0) {
                if (*value == '\0')
                        snprintf(msg, msg_size, "missing %s, must be %s", what, SIZE_SYNTAX);
                else if (r == -ERANGE)
                        snprintf(msg, msg_size, "%s '%.64s' is too large", what, value);
                else
                        snprintf(msg, msg_size, "%s '%.64s' is not a size, must be %s", what, value,
                                 SIZE_SYNTAX);
                return r;
        }
        if (v != UBC_UNLIMITED && v < min) {
                (void) unit_format_size(min, shown, sizeof(shown));
                snprintf(msg, msg_size, "%s '%.64s' is below the minimum of %s", what, value, shown);
                return -ERANGE;
        }
        *ret = v;
        return 0;
}

static int parse_memory(const struct limit_key *key, const char *value, struct ubc_limits *l, char *msg,
                        size_t msg_size) {
        char first[64], b_str[32], l_str[32];
        const char *colon = strchr(value, ':');
        uint64_t barrier, limit;
        int r;

        if (!colon) {
                /* One value sets both, as vzctl does. */
                r = parse_one_size("memory", value, MEMORY_MIN, &barrier, msg, msg_size);
                if (r < 0)
                        return r;
                limit = barrier;
        } else {
                size_t n = (size_t) (colon - value);

                if (n >= sizeof(first) || strchr(colon + 1, ':')) {
                        snprintf(msg, msg_size, "must be BARRIER[:LIMIT], each %s", SIZE_SYNTAX);
                        return -EINVAL;
                }
                memcpy(first, value, n);
                first[n] = '\0';

                r = parse_one_size("barrier", first, MEMORY_MIN, &barrier, msg, msg_size);
                if (r < 0)
                        return r;
                r = parse_one_size("limit", colon + 1, MEMORY_MIN, &limit, msg, msg_size);
                if (r < 0)
                        return r;
                if (barrier > limit) {
                        (void) unit_format_size(barrier, b_str, sizeof(b_str));
                        (void) unit_format_size(limit, l_str, sizeof(l_str));
                        snprintf(msg, msg_size, "barrier %s is above limit %s", b_str, l_str);
                        return -EINVAL;
                }
        }

        l->mem_barrier = barrier;
        l->mem_limit = limit;
        return 0;
}

static int parse_swap(const struct limit_key *key, const char *value, struct ubc_limits *l, char *msg,
                      size_t msg_size) {
        return parse_one_size("swap", value, 0, (uint64_t *) field(key, l), msg, msg_size);
}

bool io_limit_same_dev(const char *a, const char *b) {
        if (strncmp(a, "/dev/", 5) == 0)
                a += 5;
        if (strncmp(b, "/dev/", 5) == 0)
                b += 5;
        return streq(a, b);
}

int io_limit_find_dev(const struct ubc_limits *l, uint32_t before, const char *dev) {
        for (uint32_t i = 0; i < before && i < l->n_io_limits; i++)
                if (io_limit_same_dev(l->io_limits[i].dev, dev))
                        return (int) i;
        return -1;
}

static bool is_blank(char c) {
        return c == ' ' || c == '\t';
}

/* Next blank-separated word of *p into buf; false at the end. A word too long for buf is
 * returned cut, with *ret_too_long set. */
static bool next_word(const char **p, char *buf, size_t size, bool *ret_too_long) {
        const char *s = *p, *start;
        size_t n;

        while (is_blank(*s))
                s++;
        if (*s == '\0')
                return false;
        start = s;
        while (*s != '\0' && !is_blank(*s))
                s++;
        n = (size_t) (s - start);
        *ret_too_long = n >= size;
        if (n >= size)
                n = size - 1;
        memcpy(buf, start, n);
        buf[n] = '\0';
        *p = s;
        return true;
}

static int parse_io_field(const char *name, const char *value, bool is_size, uint64_t *ret, char *msg,
                          size_t msg_size) {
        uint64_t v;
        int r;

        if (strcasecmp(value, "max") == 0 || strcasecmp(value, "unlimited") == 0) {
                *ret = UBC_UNLIMITED;
                return 0;
        }
        if (is_size) {
                r = unit_parse_size(value, &v);
                if (r == 0 && v == 0)
                        r = -ERANGE;
        } else
                r = unit_parse_uint(value, 1, IO_IOPS_MAX, &v);
        if (r < 0) {
                if (is_size)
                        snprintf(msg, msg_size,
                                 "%s=%.64s: %s, must be at least 1 byte with K, M, G or T, or max", name,
                                 value, r == -ERANGE ? "out of range" : "not a size");
                else
                        snprintf(msg, msg_size, "%s=%.64s: %s, must be 1..%llu or max", name, value,
                                 r == -ERANGE ? "out of range" : "not a whole number",
                                 (unsigned long long) IO_IOPS_MAX);
                return r;
        }
        *ret = v;
        return 0;
}

static int parse_io_limit(const struct limit_key *key, const char *value, struct ubc_limits *l, char *msg,
                          size_t msg_size) {
        static const struct {
                const char *name;
                bool is_size;
                size_t offset;
        } fields[] = {
                {"rbps", true, offsetof(struct ubc_io_limit, rbps)},
                {"wbps", true, offsetof(struct ubc_io_limit, wbps)},
                {"riops", false, offsetof(struct ubc_io_limit, riops)},
                {"wiops", false, offsetof(struct ubc_io_limit, wiops)},
        };
        struct ubc_io_limit lim = {
                .rbps = UBC_UNLIMITED,
                .wbps = UBC_UNLIMITED,
                .riops = UBC_UNLIMITED,
                .wiops = UBC_UNLIMITED,
        };
        struct ubc_io_limit *array;
        bool seen[ELEMENTSOF(fields)] = {}, too_long;
        const char *p = value;
        char word[80];
        unsigned n_fields = 0;
        int r;

        if (!next_word(&p, lim.dev, sizeof(lim.dev), &too_long)) {
                snprintf(msg, msg_size, "missing value, must be %s", IO_LIMIT_SYNTAX);
                return -EINVAL;
        }
        if (too_long) {
                snprintf(msg, msg_size, "device name too long, at most %zu characters", sizeof(lim.dev) - 1);
                return -EINVAL;
        }
        if (strchr(lim.dev, '=')) {
                snprintf(msg, msg_size, "missing device, must be %s", IO_LIMIT_SYNTAX);
                return -EINVAL;
        }

        while (next_word(&p, word, sizeof(word), &too_long)) {
                char *eq = strchr(word, '=');
                size_t i;

                if (too_long) {
                        snprintf(msg, msg_size, "'%.32s...' is too long", word);
                        return -EINVAL;
                }
                if (!eq) {
                        snprintf(msg, msg_size, "'%.64s' is not NAME=VALUE, must be %s", word,
                                 IO_LIMIT_SYNTAX);
                        return -EINVAL;
                }
                *eq = '\0';
                for (i = 0; i < ELEMENTSOF(fields); i++)
                        if (streq(word, fields[i].name))
                                break;
                if (i == ELEMENTSOF(fields)) {
                        snprintf(msg, msg_size, "unknown field '%.32s', must be rbps, wbps, riops or wiops",
                                 word);
                        return -EINVAL;
                }
                if (seen[i]) {
                        snprintf(msg, msg_size, "'%s' given twice for device '%s'", fields[i].name, lim.dev);
                        return -EINVAL;
                }
                seen[i] = true;
                r = parse_io_field(fields[i].name, eq + 1, fields[i].is_size,
                                   (uint64_t *) ((uint8_t *) &lim + fields[i].offset), msg, msg_size);
                if (r < 0)
                        return r;
                n_fields++;
        }
        if (n_fields == 0) {
                snprintf(msg, msg_size, "no limit for device '%s', must be %s", lim.dev, IO_LIMIT_SYNTAX);
                return -EINVAL;
        }

        /* A device given again may replace its entry (live changes), so it does not count. */
        if (l->n_io_limits >= UBC_IO_LIMITS_MAX && io_limit_find_dev(l, l->n_io_limits, lim.dev) < 0) {
                snprintf(msg, msg_size, "too many devices, at most %u io.limit lines", UBC_IO_LIMITS_MAX);
                return -E2BIG;
        }

        array = realloc(l->io_limits, (l->n_io_limits + 1) * sizeof(*array));
        if (!array) {
                snprintf(msg, msg_size, "out of memory");
                return -ENOMEM;
        }
        array[l->n_io_limits] = lim;
        l->io_limits = array;
        l->n_io_limits++;
        return 0;
}

/* Indexed by enum ubc_key; the names live with the keys in limits.c. */
static const struct limit_key limit_keys[_UBC_KEY_MAX] = {
        [UBC_KEY_CPU_UNITS] = {UBC_KEY_CPU_UNITS, parse_uint32_range, offsetof(struct ubc_limits, cpu_units),
                               UBC_CPU_UNITS_MIN, UBC_CPU_UNITS_MAX},
        [UBC_KEY_CPU_LIMIT] = {UBC_KEY_CPU_LIMIT, parse_cpu_limit,
                               offsetof(struct ubc_limits, cpu_quota_us)},
        [UBC_KEY_CPU_SET] = {UBC_KEY_CPU_SET, parse_cpu_set, offsetof(struct ubc_limits, cpu_set)},
        [UBC_KEY_MEMORY] = {UBC_KEY_MEMORY, parse_memory, offsetof(struct ubc_limits, mem_barrier)},
        [UBC_KEY_SWAP] = {UBC_KEY_SWAP, parse_swap, offsetof(struct ubc_limits, swap)},
        [UBC_KEY_IO_WEIGHT] = {UBC_KEY_IO_WEIGHT, parse_uint32_range, offsetof(struct ubc_limits, io_weight),
                               UBC_IO_WEIGHT_MIN, UBC_IO_WEIGHT_MAX},
        [UBC_KEY_IO_LIMIT] = {UBC_KEY_IO_LIMIT, parse_io_limit, offsetof(struct ubc_limits, io_limits)},
        [UBC_KEY_TASKS] = {UBC_KEY_TASKS, parse_count, offsetof(struct ubc_limits, tasks), 1, UBC_TASKS_MAX},
};

const struct limit_key *limit_key_lookup(const char *name) {
        int k = ubc_key_from_name(name);

        return k < 0 ? NULL : &limit_keys[k];
}

int limit_parse_value(const struct limit_key *key, const char *value, struct ubc_limits *l, char *msg,
                      size_t msg_size) {
        msg[0] = '\0';
        return key->parse(key, value, l, msg, msg_size);
}

unsigned policy_edit_distance(const char *a, const char *b) {
        enum { N = 64 };
        unsigned rows[3][N + 1];
        size_t la = strlen(a), lb = strlen(b);
        unsigned *prev2 = rows[0], *prev = rows[1], *cur = rows[2];

        if (la > N || lb > N)
                return UINT_MAX;

        for (size_t j = 0; j <= lb; j++)
                prev[j] = (unsigned) j;
        for (size_t i = 1; i <= la; i++) {
                cur[0] = (unsigned) i;
                for (size_t j = 1; j <= lb; j++) {
                        unsigned cost = a[i - 1] != b[j - 1], best;

                        best = prev[j] + 1;
                        if (cur[j - 1] + 1 < best)
                                best = cur[j - 1] + 1;
                        if (prev[j - 1] + cost < best)
                                best = prev[j - 1] + cost;
                        /* A swap of two neighbours ("cpu.uints") is one typo, not two. */
                        if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                            prev2[j - 2] + 1 < best)
                                best = prev2[j - 2] + 1;
                        cur[j] = best;
                }
                unsigned *t = prev2;
                prev2 = prev;
                prev = cur;
                cur = t;
        }
        return prev[lb];
}

unsigned policy_typo_distance(const char *name, const char *candidate) {
        unsigned d = policy_edit_distance(name, candidate);

        /* "mem" is 3 edits from "memory" and meant it; "foo" is 3 from "id" and did not. */
        if (d <= 3 && d < strlen(candidate))
                return d;
        return UINT_MAX;
}

bool policy_name_is_valid(const char *name) {
        size_t n = 0;

        for (const char *p = name; *p; p++, n++) {
                char c = *p;

                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '.' || c == '-'))
                        return false;
                if (n >= UBC_NAME_MAX - 1)
                        return false;
        }
        return n > 0;
}

size_t policy_append(char *buf, size_t size, size_t used, const char *s) {
        size_t n = strlen(s), room;

        if (size == 0)
                return used + n;
        if (used < size - 1) {
                room = size - 1 - used;
                memcpy(buf + used, s, n < room ? n : room);
                buf[used + (n < room ? n : room)] = '\0';
        }
        return used + n;
}
