/* History in RRD files: one per guest (state_dir/rrd/ID.rrd) and one for the host
 * (state_dir/rrd/host.rrd). The data sources and archives below are the contract between
 * ubcd, which writes the files, and `ubcctl report`, which reads them. A data source may only
 * be appended: a file made by an older ubcd gains the new ones (rrd tune), nothing is lost. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "ubc/beancounter.h"

#define HISTORY_DIR          "rrd"
#define HISTORY_HOST_FILE    "host.rrd"
#define HISTORY_STEP_DEFAULT 60 /* seconds; Proxmox's and collectd's step */
/* Steps of rows ubcd writes to a guest's file at once (rrd_batch): a call per 5 steps costs
 * about what a call per step did (bench-rrd), and a kill -9 loses at most that many. */
#define HISTORY_BATCH_DEFAULT 5
#define HISTORY_BATCH_MAX     60

enum history_kind {
        HISTORY_GUEST,
        HISTORY_HOST,
};

/* A guest's data sources, in file order. Rates are per second over the sampling interval. */
enum history_guest_ds {
        HG_CPU,           /* CPUs used: CPU seconds per second */
        HG_CPU_THROTTLED, /* CPU seconds per second the guest was throttled */
        HG_MEM,           /* bytes (memory.current, v1 usage_in_bytes) */
        HG_MEM_PEAK,      /* bytes: the highest seen since the previous update */
        HG_SWAP,          /* bytes */
        HG_KMEM,          /* bytes */
        HG_IO_READ,       /* bytes per second, all devices */
        HG_IO_WRITE,      /* bytes per second, all devices */
        HG_IO_OPS,        /* reads and writes per second */
        HG_TASKS,         /* pids.current */
        HG_PSI_CPU,       /* "some" avg10, percent */
        HG_PSI_MEM,
        HG_PSI_IO,
        HG_FAILCNT, /* failcnt increments, one source per enum bc_resource */
        _HG_MAX = HG_FAILCNT + _BC_MAX,
};

/* The host's data sources, in file order. */
enum history_host_ds {
        HH_CPU,        /* CPUs used */
        HH_CPUS,       /* CPUs online */
        HH_MEM,        /* bytes in use: MemTotal - MemAvailable */
        HH_MEM_TOTAL,  /* bytes */
        HH_SWAP,       /* bytes in use */
        HH_SWAP_TOTAL, /* bytes */
        _HH_MAX,
};

/* The archives, in PDPs per row and rows: with the 60 s step 1 min x 1 day, 30 min x 30 days,
 * 6 h x 1 year and 1 week x 10 years (Proxmox's layout), each as AVERAGE and MAX. A shorter
 * step (tests) keeps the rows and shrinks the spans with it. */
struct history_rra {
        unsigned pdp_per_row, rows;
};
extern const struct history_rra history_rras[4];

size_t history_ds_count(enum history_kind kind);
/* "cpu", "mem_peak", "fc_physpages", ...: at most 19 characters, as RRD allows. */
const char *history_ds_name(enum history_kind kind, size_t index);
/* The index of a named source, or -ENOENT. */
int history_ds_index(enum history_kind kind, const char *name);
/* Whether a source holds increments since the previous update (ABSOLUTE: the failure counts)
 * rather than a value (GAUGE). */
bool history_ds_absolute(enum history_kind kind, size_t index);

/* Makes a new RRD at path with every source, first update after 'start'. -EEXIST if there is
 * one (never overwritten). The heartbeat is how long a source may go without an update before
 * it is unknown; it must cover the sampling interval. Library errors go to err. */
int history_rrd_create(const char *path, enum history_kind kind, unsigned long step, unsigned long heartbeat,
                       time_t start, char *err, size_t err_size);
/* Appends the sources a file made by an older version lacks (rrd tune). Returns how many were
 * added. */
int history_rrd_upgrade(const char *path, enum history_kind kind, unsigned long heartbeat, char *err,
                        size_t err_size);

/* A window of one file, as rrd fetch gives it: rows of every source, NaN where unknown. */
struct history_series {
        time_t start, end;  /* the first row covers (start, start + step] */
        unsigned long step; /* of the archive chosen: the finest that covers the window */
        size_t n_rows, n_ds;
        char **names; /* n_ds source names */
        double *data; /* n_rows x n_ds, row-major */
};

/* Fetches cf ("AVERAGE" or "MAX") of path over (start, end]. Library errors go to err. */
int history_fetch(const char *path, const char *cf, time_t start, time_t end, struct history_series *ret,
                  char *err, size_t err_size);
void history_series_done(struct history_series *s);
/* The column of a named source, or -ENOENT (a file older than the source). */
int history_series_column(const struct history_series *s, const char *name);
/* The step of a file and its last update; -EIO with err set. */
int history_file_info(const char *path, unsigned long *ret_step, time_t *ret_last, char *err,
                      size_t err_size);
