/* Loading librrd on first use; see ubc/rrd-dl.h for why. */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>

#include "ubc/macro.h"
#include "ubc/rrd-dl.h"

typeof(rrd_get_error) *sym_rrd_get_error;
typeof(rrd_clear_error) *sym_rrd_clear_error;
typeof(rrd_test_error) *sym_rrd_test_error;
typeof(rrd_create_r2) *sym_rrd_create_r2;
typeof(rrd_update_r) *sym_rrd_update_r;
typeof(rrd_lastupdate_r) *sym_rrd_lastupdate_r;
typeof(rrd_tune) *sym_rrd_tune;
typeof(rrd_fetch_r) *sym_rrd_fetch_r;
typeof(rrd_info_r) *sym_rrd_info_r;
typeof(rrd_info_free) *sym_rrd_info_free;
typeof(rrd_graph_v) *sym_rrd_graph_v;
typeof(rrdc_connect) *sym_rrdc_connect;
typeof(rrdc_disconnect) *sym_rrdc_disconnect;
typeof(rrdc_is_connected) *sym_rrdc_is_connected;
typeof(rrdc_flush) *sym_rrdc_flush;
typeof(rrdc_update) *sym_rrdc_update;

#define SYMBOL(name) \
        { #name, (void **) &sym_##name }

static const struct {
        const char *name;
        void **where;
} symbols[] = {
        SYMBOL(rrd_get_error),   SYMBOL(rrd_clear_error),   SYMBOL(rrd_test_error), SYMBOL(rrd_create_r2),
        SYMBOL(rrd_update_r),    SYMBOL(rrd_lastupdate_r),  SYMBOL(rrd_tune),       SYMBOL(rrd_fetch_r),
        SYMBOL(rrd_info_r),      SYMBOL(rrd_info_free),     SYMBOL(rrd_graph_v),    SYMBOL(rrdc_connect),
        SYMBOL(rrdc_disconnect), SYMBOL(rrdc_is_connected), SYMBOL(rrdc_flush),     SYMBOL(rrdc_update),
};

int rrd_dl_open(char *err, size_t err_size) {
        static void *handle;
        void *h;

        if (handle)
                return 0;
        /* Kept for the life of the process: the pointers stay valid, librrd is never unloaded. */
        h = dlopen(RRD_SONAME, RTLD_NOW | RTLD_LOCAL);
        if (!h) {
                if (err && err_size)
                        snprintf(err, err_size, "cannot load %s (Debian: apt-get install librrd8): %s",
                                 RRD_SONAME, dlerror());
                return -ENOENT;
        }
        for (size_t i = 0; i < ELEMENTSOF(symbols); i++) {
                *symbols[i].where = dlsym(h, symbols[i].name);
                if (!*symbols[i].where) {
                        if (err && err_size)
                                snprintf(err, err_size, "%s lacks %s: an rrdtool older than 1.7?",
                                         RRD_SONAME, symbols[i].name);
                        for (size_t j = 0; j <= i; j++)
                                *symbols[j].where = NULL;
                        dlclose(h);
                        return -ENOSYS;
                }
        }
        handle = h;
        return 0;
}

int rrd_dl_error(char *err, size_t err_size) {
        const char *e = sym_rrd_get_error();

        if (err && err_size)
                snprintf(err, err_size, "%s", e && e[0] ? e : "unknown librrd error");
        sym_rrd_clear_error();
        return -EIO;
}
