/* Reading ubc's RRD files back: a window of one archive, and a file's step and last update. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ubc/history.h"
#include "ubc/macro.h"
#include "ubc/rrd-dl.h"

int history_fetch(const char *path, const char *cf, time_t start, time_t end, struct history_series *ret,
                  char *err, size_t err_size) {
        unsigned long step = 1, n_ds = 0;
        char **names = NULL;
        rrd_value_t *data = NULL;
        int r;

        *ret = (struct history_series){};
        r = rrd_dl_open(err, err_size);
        if (r < 0)
                return r;
        sym_rrd_clear_error();
        /* A step of 1 asks for the finest archive that still covers the start. */
        if (sym_rrd_fetch_r(path, cf, &start, &end, &step, &n_ds, &names, &data) < 0)
                return rrd_dl_error(err, err_size);
        *ret = (struct history_series){
                .start = start,
                .end = end,
                .step = step,
                .n_rows = step ? (size_t) ((end - start) / (time_t) step) : 0,
                .n_ds = n_ds,
                .names = names,
                .data = data,
        };
        return 0;
}

void history_series_done(struct history_series *s) {
        for (size_t i = 0; i < s->n_ds; i++)
                free(s->names[i]);
        free(s->names);
        free(s->data);
        *s = (struct history_series){};
}

int history_series_column(const struct history_series *s, const char *name) {
        for (size_t i = 0; i < s->n_ds; i++)
                if (streq(s->names[i], name))
                        return (int) i;
        return -ENOENT;
}

int history_file_info(const char *path, unsigned long *ret_step, time_t *ret_last, char *err,
                      size_t err_size) {
        rrd_info_t *info;
        bool have_step = false;
        int r;

        r = rrd_dl_open(err, err_size);
        if (r < 0)
                return r;
        sym_rrd_clear_error();
        info = sym_rrd_info_r(path);
        if (!info)
                return rrd_dl_error(err, err_size);
        for (rrd_info_t *i = info; i; i = i->next)
                if (streq(i->key, "step")) {
                        *ret_step = i->value.u_cnt;
                        have_step = true;
                } else if (streq(i->key, "last_update"))
                        *ret_last = (time_t) i->value.u_cnt;
        sym_rrd_info_free(info);
        if (!have_step) {
                snprintf(err, err_size, "'%s' has no step: not an RRD file", path);
                return -EIO;
        }
        return 0;
}
