/* Accounting in ubcd: every interval, sample every guest, fold the samples into its
 * beancounters, and keep the outputs and the persisted state current. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "ubc/beancounter.h"
#include "ubc/sampler.h"

struct daemon;
struct history;

struct accounting {
        struct sampler *sampler;
        struct history *history; /* NULL: none */
        struct bc_state *states; /* sorted by id; every guest ever seen, so counts never restart */
        size_t n_states;
        struct bc_table_entry *table; /* the last sweep, sorted by id */
        struct guest_stat *stats;     /* parallel to table */
        size_t n_table, cap_table;
        bool state_dirty; /* maxheld or failcnt moved since the state file was written */
        sd_event_source *timer;
        char state_path[320], table_path[320], metrics_path[320];
};

int accounting_init(struct daemon *d);
void accounting_done(struct accounting *a);
/* One sweep now: sample, update, write the outputs (and the state when it changed). */
void accounting_sweep(struct daemon *d);
/* The entry of the last sweep for a guest, or NULL. */
const struct bc_table_entry *accounting_entry(const struct accounting *a, uint32_t id, size_t *ret_index);
struct bc_state *accounting_state(struct accounting *a, uint32_t id);
/* Writes the state file now if it changed (after a --failcnt look, at exit). */
int accounting_save_state(struct accounting *a);
