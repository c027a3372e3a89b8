/* The beancounter rules: how one sweep's sample moves a guest's held, maxheld and failcnt,
 * with maxheld and failcnt never going backwards. */
#include <errno.h>
#include <string.h>

#include "ubc/beancounter.h"
#include "ubc/macro.h"

static const char *const resource_names[_BC_MAX] = {
        [BC_KMEMSIZE] = "kmemsize",         [BC_LOCKEDPAGES] = "lockedpages",
        [BC_PRIVVMPAGES] = "privvmpages",   [BC_SHMPAGES] = "shmpages",
        [BC_NUMPROC] = "numproc",           [BC_PHYSPAGES] = "physpages",
        [BC_OOMGUARPAGES] = "oomguarpages", [BC_NUMFILE] = "numfile",
        [BC_SWAPPAGES] = "swappages",
};

const char *bc_resource_name(enum bc_resource r) {
        if ((unsigned) r >= _BC_MAX)
                return NULL;
        return resource_names[r];
}

int bc_resource_from_name(const char *name) {
        if (!name)
                return -ENOENT;
        for (size_t i = 0; i < _BC_MAX; i++)
                if (streq(name, resource_names[i]))
                        return (int) i;
        return -ENOENT;
}

void bc_state_init(struct bc_state *st, uint32_t id) {
        *st = (struct bc_state){.id = id};
}

static uint64_t max_u64(uint64_t a, uint64_t b) {
        return a > b ? a : b;
}

/* cgroup "max" is UINT64_MAX; OpenVZ's "no limit" is LONG_MAX, and nothing prints above it. */
static uint64_t clamp_limit(uint64_t v) {
        return v > BC_UNLIMITED ? BC_UNLIMITED : v;
}

void bc_update(struct bc_state *st, const struct bc_sample *s, struct bc_row rows[_BC_MAX],
               uint32_t *ret_failed) {
        uint32_t failed = 0;

        for (unsigned r = 0; r < _BC_MAX; r++) {
                uint32_t bit = 1U << r;
                uint64_t held = s->present & bit ? s->held[r] : 0;

                st->maxheld[r] = max_u64(st->maxheld[r], held);
                /* The kernel sees peaks between our sweeps; take them where it keeps one. */
                if (s->peak_present & bit)
                        st->maxheld[r] = max_u64(st->maxheld[r], s->peak[r]);

                if (s->events_present & bit) {
                        uint64_t ev = s->events[r], delta;

                        /* A lower counter than last time: the cgroup was made anew and its
                         * counter started from zero, so all of it is new. */
                        delta = ev >= st->last_events[r] ? ev - st->last_events[r] : ev;
                        if (__builtin_add_overflow(st->failcnt[r], delta, &st->failcnt[r]))
                                st->failcnt[r] = UINT64_MAX;
                        st->last_events[r] = ev;
                        if (delta > 0)
                                failed |= bit;
                }

                rows[r] = (struct bc_row){
                        .held = held,
                        .maxheld = st->maxheld[r],
                        .barrier = clamp_limit(s->barrier[r]),
                        .limit = clamp_limit(s->limit[r]),
                        .failcnt = st->failcnt[r],
                };
        }

        if (ret_failed)
                *ret_failed = failed;
}
