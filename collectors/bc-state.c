/* The persisted beancounter baselines (maxheld, failcnt, the kernel counter last seen, the
 * failcnt last looked at): a small versioned text file that survives ubcd and guest restarts. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ubc/beancounter.h"
#include "ubc/macro.h"

#define BC_STATE_HEADER     "# ubc beancounters 1"
#define BC_STATE_GUESTS_MAX 100000U

int bc_state_format(FILE *f, const struct bc_state *states, size_t n) {
        if (!f || (n > 0 && !states))
                return -EINVAL;

        fputs(BC_STATE_HEADER "\n", f);
        for (size_t i = 0; i < n; i++)
                for (unsigned r = 0; r < _BC_MAX; r++)
                        fprintf(f, "%" PRIu32 " %s %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
                                states[i].id, bc_resource_name(r), states[i].maxheld[r],
                                states[i].failcnt[r], states[i].last_events[r], states[i].failcnt_seen[r]);
        if (ferror(f))
                return -EIO;
        return 0;
}

/* A guest's lines while parsing: which rows were given, and in what order the guest was first
 * met, so that a later line for the same row wins after sorting. */
struct pending {
        struct bc_state st;
        uint32_t given;
        size_t order;
};

struct pending_set {
        struct pending *items;
        size_t n, allocated;
};

static int pending_cmp(const void *a, const void *b) {
        const struct pending *x = a, *y = b;

        if (x->st.id != y->st.id)
                return x->st.id < y->st.id ? -1 : 1;
        return x->order < y->order ? -1 : x->order > y->order;
}

/* Sort by id and fold the entries of one id into one, later rows over earlier ones. */
static void pending_compact(struct pending_set *set) {
        size_t out = 0;

        if (set->n == 0)
                return;
        qsort(set->items, set->n, sizeof(set->items[0]), pending_cmp);
        for (size_t i = 1; i < set->n; i++) {
                struct pending *dst = &set->items[out], *src = &set->items[i];

                if (src->st.id != dst->st.id) {
                        set->items[++out] = *src;
                        continue;
                }
                for (unsigned r = 0; r < _BC_MAX; r++) {
                        if (!(src->given & (1U << r)))
                                continue;
                        dst->st.maxheld[r] = src->st.maxheld[r];
                        dst->st.failcnt[r] = src->st.failcnt[r];
                        dst->st.last_events[r] = src->st.last_events[r];
                        dst->st.failcnt_seen[r] = src->st.failcnt_seen[r];
                }
                dst->given |= src->given;
                dst->order = src->order;
        }
        set->n = out + 1;
}

static struct pending *pending_bsearch(struct pending_set *set, uint32_t id) {
        size_t lo = 0, hi = set->n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (set->items[mid].st.id == id)
                        return &set->items[mid];
                if (set->items[mid].st.id < id)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return NULL;
}

/* The entry for id: the last one when the lines for a guest are together, as bc_state_format
 * writes them; else a new one, merged at the end. The set is sorted before it may grow past
 * the limit, so the limit counts guests, not lines. */
static int pending_get(struct pending_set *set, uint32_t id, size_t order, struct pending **ret) {
        if (set->n > 0 && set->items[set->n - 1].st.id == id) {
                *ret = &set->items[set->n - 1];
                return 0;
        }
        if (set->n >= BC_STATE_GUESTS_MAX) {
                struct pending *p;

                pending_compact(set);
                p = pending_bsearch(set, id);
                if (p) {
                        /* Later than everything merged so far. */
                        p->order = order;
                        *ret = p;
                        return 0;
                }
                if (set->n >= BC_STATE_GUESTS_MAX)
                        return -E2BIG;
        }
        if (set->n >= set->allocated) {
                size_t a = set->allocated ? set->allocated * 2 : 64;
                struct pending *items;

                if (a > BC_STATE_GUESTS_MAX)
                        a = BC_STATE_GUESTS_MAX;
                items = reallocarray(set->items, a, sizeof(items[0]));
                if (!items)
                        return -ENOMEM;
                set->items = items;
                set->allocated = a;
        }
        set->items[set->n] = (struct pending){.order = order};
        bc_state_init(&set->items[set->n].st, id);
        *ret = &set->items[set->n++];
        return 0;
}

static bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

/* The next field of a line: digits up to a single space or the end. */
static int take_u64(const char **p, const char *end, uint64_t *ret) {
        const char *s = *p;
        uint64_t v = 0;

        if (s >= end || !is_digit(*s))
                return -EINVAL;
        for (; s < end && is_digit(*s); s++)
                if (__builtin_mul_overflow(v, 10, &v) ||
                    __builtin_add_overflow(v, (uint64_t) (*s - '0'), &v))
                        return -ERANGE;
        if (s < end && *s != ' ')
                return -EINVAL;
        *p = s < end ? s + 1 : s;
        *ret = v;
        return 0;
}

/* "ID RESOURCE MAXHELD FAILCNT LAST SEEN"; a resource this version does not know gives
 * *ret_resource = -ENOENT and no error. */
static int parse_line(const char *s, const char *end, uint32_t *ret_id, int *ret_resource,
                      uint64_t ret_v[4]) {
        const char *p = s, *name, *sp;
        char buf[32];
        uint64_t id, v[4];
        size_t len;
        int r;

        r = take_u64(&p, end, &id);
        if (r < 0)
                return r;
        if (id > UINT32_MAX)
                return -ERANGE;
        if (p >= end)
                return -EINVAL;

        name = p;
        sp = memchr(name, ' ', (size_t) (end - name));
        if (!sp)
                return -EINVAL;
        len = (size_t) (sp - name);
        if (len == 0)
                return -EINVAL;
        p = sp + 1;

        for (unsigned i = 0; i < 4; i++) {
                r = take_u64(&p, end, &v[i]);
                if (r < 0)
                        return r;
                /* Four numbers, separated by one space, and nothing after the last one. */
                if ((i < 3) == (p >= end) || (i == 3 && p[-1] == ' '))
                        return -EINVAL;
        }

        *ret_resource = -ENOENT;
        if (len < sizeof(buf)) {
                memcpy(buf, name, len);
                buf[len] = '\0';
                *ret_resource = bc_resource_from_name(buf);
        }
        *ret_id = (uint32_t) id;
        memcpy(ret_v, v, sizeof(v));
        return 0;
}

int bc_state_parse(const char *buf, struct bc_state **ret, size_t *ret_n, unsigned *ret_line) {
        struct pending_set set = {};
        struct bc_state *out = NULL;
        const char *p = buf;
        unsigned line = 0;
        int r = 0;

        if (!buf || !ret || !ret_n)
                return -EINVAL;

        while (*p != '\0') {
                const char *end = strchrnul(p, '\n'), *next = *end == '\n' ? end + 1 : end;
                struct pending *e;
                uint64_t v[4];
                uint32_t id;
                int res;

                if (line == UINT32_MAX) {
                        r = -E2BIG;
                        goto fail;
                }
                line++;
                if (line == 1) {
                        /* The version line: a future layout is refused, never misread. */
                        if ((size_t) (end - p) != strlen(BC_STATE_HEADER) ||
                            memcmp(p, BC_STATE_HEADER, strlen(BC_STATE_HEADER)) != 0) {
                                r = -EINVAL;
                                goto fail;
                        }
                        p = next;
                        continue;
                }
                if (end == p || *p == '#') {
                        p = next;
                        continue;
                }

                r = parse_line(p, end, &id, &res, v);
                if (r < 0)
                        goto fail;
                if (res >= 0) {
                        r = pending_get(&set, id, line, &e);
                        if (r < 0)
                                goto fail;
                        e->st.maxheld[res] = v[0];
                        e->st.failcnt[res] = v[1];
                        e->st.last_events[res] = v[2];
                        e->st.failcnt_seen[res] = v[3];
                        e->given |= 1U << res;
                }
                p = next;
        }
        if (line == 0) {
                /* An empty file has no version line either. */
                line = 1;
                r = -EINVAL;
                goto fail;
        }

        pending_compact(&set);
        if (set.n > 0) {
                out = calloc(set.n, sizeof(out[0]));
                if (!out) {
                        r = -ENOMEM;
                        goto fail;
                }
                for (size_t i = 0; i < set.n; i++)
                        out[i] = set.items[i].st;
        }
        free(set.items);
        *ret = out;
        *ret_n = set.n;
        return 0;

fail:
        free(set.items);
        if (ret_line)
                *ret_line = line;
        return r;
}
