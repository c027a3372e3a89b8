/* The RRD layout of ubc's history: the data sources of a guest and of the host, the archives,
 * making a file and bringing an older file up to the current sources. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ubc/history.h"
#include "ubc/macro.h"
#include "ubc/rrd-dl.h"

const struct history_rra history_rras[4] = {
        {1, 1440},    /* 1 min x 1 day */
        {30, 1440},   /* 30 min x 30 days */
        {360, 1460},  /* 6 h x 1 year */
        {10080, 520}, /* 1 week x 10 years */
};

static const char *const guest_ds[HG_FAILCNT] = {
        [HG_CPU] = "cpu",         [HG_CPU_THROTTLED] = "cpu_throttled",
        [HG_MEM] = "mem",         [HG_MEM_PEAK] = "mem_peak",
        [HG_SWAP] = "swap",       [HG_KMEM] = "kmem",
        [HG_IO_READ] = "io_read", [HG_IO_WRITE] = "io_write",
        [HG_IO_OPS] = "io_ops",   [HG_TASKS] = "tasks",
        [HG_PSI_CPU] = "psi_cpu", [HG_PSI_MEM] = "psi_mem",
        [HG_PSI_IO] = "psi_io",
};

static const char *const host_ds[_HH_MAX] = {
        [HH_CPU] = "cpu",   [HH_CPUS] = "cpus",
        [HH_MEM] = "mem",   [HH_MEM_TOTAL] = "mem_total",
        [HH_SWAP] = "swap", [HH_SWAP_TOTAL] = "swap_total",
};

/* "fc_" + the resource: the longest, fc_oomguarpages, fits RRD's 19 characters. */
static char failcnt_ds[_BC_MAX][20];

size_t history_ds_count(enum history_kind kind) {
        return kind == HISTORY_HOST ? _HH_MAX : _HG_MAX;
}

const char *history_ds_name(enum history_kind kind, size_t index) {
        if (kind == HISTORY_HOST)
                return index < _HH_MAX ? host_ds[index] : NULL;
        if (index < HG_FAILCNT)
                return guest_ds[index];
        if (index >= _HG_MAX)
                return NULL;
        char *name = failcnt_ds[index - HG_FAILCNT];
        if (!name[0]) /* the same text every time, so a race between callers is harmless */
                snprintf(name, sizeof(failcnt_ds[0]), "fc_%s", bc_resource_name(index - HG_FAILCNT));
        return name;
}

int history_ds_index(enum history_kind kind, const char *name) {
        for (size_t i = 0; i < history_ds_count(kind); i++)
                if (streq(history_ds_name(kind, i), name))
                        return (int) i;
        return -ENOENT;
}

bool history_ds_absolute(enum history_kind kind, size_t index) {
        return kind == HISTORY_GUEST && index >= HG_FAILCNT && index < _HG_MAX;
}

/* "DS:name:TYPE:heartbeat:min:max". Failure counts are increments since the last update
 * (ABSOLUTE, kept as a rate); everything else is a value ubcd computed (GAUGE). */
static void ds_definition(enum history_kind kind, size_t index, unsigned long heartbeat, char *buf,
                          size_t size) {
        bool failcnt = history_ds_absolute(kind, index);
        bool percent = kind == HISTORY_GUEST && index >= HG_PSI_CPU && index <= HG_PSI_IO;

        snprintf(buf, size, "DS:%s:%s:%lu:0:%s", history_ds_name(kind, index),
                 failcnt ? "ABSOLUTE" : "GAUGE", heartbeat, percent ? "100" : "U");
}

#define RRA_DEFS (2 * ELEMENTSOF(history_rras))

int history_rrd_create(const char *path, enum history_kind kind, unsigned long step, unsigned long heartbeat,
                       time_t start, char *err, size_t err_size) {
        static const char *const cfs[] = {"AVERAGE", "MAX"};
        size_t n_ds = history_ds_count(kind), n = 0;
        char defs[_HG_MAX + RRA_DEFS][64];
        const char *argv[_HG_MAX + RRA_DEFS];
        int r;

        if (!path || step == 0 || heartbeat < step)
                return -EINVAL;
        if (access(path, F_OK) == 0)
                return -EEXIST;
        for (size_t i = 0; i < n_ds; i++, n++)
                ds_definition(kind, i, heartbeat, defs[n], sizeof(defs[n]));
        for (size_t c = 0; c < ELEMENTSOF(cfs); c++)
                for (size_t i = 0; i < ELEMENTSOF(history_rras); i++, n++)
                        snprintf(defs[n], sizeof(defs[n]), "RRA:%s:0.5:%u:%u", cfs[c],
                                 history_rras[i].pdp_per_row, history_rras[i].rows);
        for (size_t i = 0; i < n; i++)
                argv[i] = defs[i];

        r = rrd_dl_open(err, err_size);
        if (r < 0)
                return r;
        sym_rrd_clear_error();
        /* no_overwrite: two writers racing to make the file leave the first one's. */
        r = sym_rrd_create_r2(path, step, start, 1, NULL, NULL, (int) n, argv);
        if (r < 0) {
                (void) rrd_dl_error(err, err_size);
                return access(path, F_OK) == 0 ? -EEXIST : -EIO;
        }
        return 0;
}

int history_rrd_upgrade(const char *path, enum history_kind kind, unsigned long heartbeat, char *err,
                        size_t err_size) {
        unsigned long n_have = 0;
        char **names = NULL, **last = NULL;
        time_t last_update;
        int added = 0, r;

        r = rrd_dl_open(err, err_size);
        if (r < 0)
                return r;
        sym_rrd_clear_error();
        if (sym_rrd_lastupdate_r(path, &last_update, &n_have, &names, &last) < 0) {
                (void) rrd_dl_error(err, err_size);
                return -EIO;
        }
        for (size_t i = 0; i < history_ds_count(kind) && r == 0; i++) {
                bool have = false;
                char def[64];

                for (unsigned long k = 0; k < n_have; k++)
                        have = have || streq(names[k], history_ds_name(kind, i));
                if (have)
                        continue;
                ds_definition(kind, i, heartbeat, def, sizeof(def));
                const char *argv[] = {"tune", path, def, NULL};
                sym_rrd_clear_error();
                if (sym_rrd_tune(3, (char **) argv) < 0) {
                        (void) rrd_dl_error(err, err_size);
                        r = -EIO;
                } else
                        added++;
        }
        for (unsigned long k = 0; k < n_have; k++) {
                free(names[k]);
                free(last[k]);
        }
        free(names);
        free(last);
        return r < 0 ? r : added;
}
