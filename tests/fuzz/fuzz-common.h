/* Shared by the fuzz targets: a diagnostics sink that checks what every message must be, and
 * a host to validate and map against. */
#pragma once

#include <stdio.h>
#include <string.h>

#include "ubc/diag.h"
#include "ubc/host.h"
#include "ubc/units.h"

static void fuzz_check_diag(void *userdata, const struct ubc_diag *d) {
        size_t n;

        (void) userdata;
        /* A message is one short line a user reads after "file:line: key: ". */
        if (!d->message || d->message[0] == '\0')
                __builtin_trap();
        n = strlen(d->message);
        if (n >= 512 || memchr(d->message, '\n', n))
                __builtin_trap();
        if (d->key && strlen(d->key) >= 64)
                __builtin_trap();
}

static inline struct ubc_diag_sink fuzz_sink(void) {
        return (struct ubc_diag_sink){.report = fuzz_check_diag};
}

static inline void fuzz_host(struct ubc_host *h, enum cg_version v) {
        *h = (struct ubc_host){
                .mode = v == CG_VERSION_V2 ? CG_MODE_UNIFIED : CG_MODE_LEGACY,
                .ctrl = {v, v, v, v, v},
                .swap_accounting = true,
                .io_weight = v == CG_VERSION_V2 ? UBC_IO_WEIGHT_V2 : UBC_IO_WEIGHT_V1,
                .ncpus = 4,
                .n_blockdevs = 2,
                .blockdevs = {{"vda", 254, 0}, {"sda", 8, 0}},
        };
        (void) cpuset_parse("0-3", &h->cpus);
        snprintf(h->root_cpus, sizeof(h->root_cpus), "0-3");
        snprintf(h->root_mems, sizeof(h->root_mems), "0");
}
