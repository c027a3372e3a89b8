/* ubcd.conf: where ubcd keeps things and how it drives cgroups. Defaults live here, so an
 * empty /etc/ubc is a working install. Command-line flags override the file. */
#pragma once

#include <stdint.h>

#include "ubc/diag.h"

enum ubc_driver {
        UBC_DRIVER_AUTO,
        UBC_DRIVER_CGROUPFS,
        UBC_DRIVER_SYSTEMD,
};

struct agent_config {
        char config_dir[256];
        char state_dir[256];
        char run_dir[256];
        char root[128]; /* owned subtree, e.g. "ubc" */
        enum ubc_driver driver;
        uint64_t interval_us;     /* accounting sample period */
        char rrdcached[256];      /* empty: librrd in-process */
        unsigned rrd_step;        /* seconds per RRD row in new history files; a file keeps its own */
        unsigned rrd_batch;       /* steps of rows written to a guest's history file at once */
        char socket_group[64];    /* group besides root allowed to mutate, empty: root only */
        unsigned onboot_parallel; /* onboot guests whose starts are under way at once */
};

void agent_config_init(struct agent_config *ret);
/* Reads config_dir/ubcd.conf if it exists (a missing file is fine). Errors name file:line.
 * -EINVAL if any. */
int agent_config_load(struct agent_config *c, struct ubc_diag_sink *diags);
int agent_driver_from_string(const char *s, enum ubc_driver *ret);
const char *agent_driver_name(enum ubc_driver d);
/* "10s", "500ms", "2m", "1h", "7d", "2w"; a bare number is seconds. */
int agent_parse_duration(const char *s, uint64_t *ret_us);
