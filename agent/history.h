/* History in ubcd: every accounting sweep adds an update per guest to state_dir/rrd/ID.rrd,
 * and a timer on the same interval one to state_dir/rrd/host.rrd, through rrdcached when
 * ubcd.conf names one, else with librrd in-process. */
#pragma once

#include <stdint.h>
#include <systemd/sd-event.h>

#include "ubc/agent-config.h"
#include "ubc/beancounter.h"
#include "ubc/sampler.h"

struct history;

/* Files are opened (or made) on a guest's first sample, so this fails only without memory. */
int history_new(sd_event *event, const struct agent_config *cfg, struct history **ret);
void history_free(struct history *h);

/* One sample of a guest, as the sweep took it; failcnt_before/after are its beancounter
 * totals before and after this sample was folded in. h may be NULL (no history). */
void history_guest(struct history *h, uint32_t id, const struct bc_sample *bc, const struct guest_stat *st,
                   const uint64_t failcnt_before[_BC_MAX], const uint64_t failcnt_after[_BC_MAX]);
/* After each sweep: writes what guests the sweep did not sample hold back. */
void history_sweep_done(struct history *h);
/* Writes the rows held back (rrd_batch) of the given guests (n_ids 0: of every guest), and has
 * rrdcached write what it holds of their files, so that the files hold every whole step.
 * Returns how many files were written. */
int history_write_held(struct history *h, const uint32_t *ids, size_t n_ids);
/* CPUs the guest used between its last two samples; NAN when not known (yet). */
double history_guest_cpu(struct history *h, uint32_t id);
