/* Limit values: the code defaults, copying, and laying a class or guest over them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ubc/limits.h"
#include "ubc/macro.h"

static const char *const key_names[_UBC_KEY_MAX] = {
        [UBC_KEY_CPU_UNITS] = "cpu.units", [UBC_KEY_CPU_LIMIT] = "cpu.limit",
        [UBC_KEY_CPU_SET] = "cpu.set",     [UBC_KEY_MEMORY] = "memory",
        [UBC_KEY_SWAP] = "swap",           [UBC_KEY_IO_WEIGHT] = "io.weight",
        [UBC_KEY_IO_LIMIT] = "io.limit",   [UBC_KEY_TASKS] = "tasks",
};

void limits_init_default(struct ubc_limits *ret) {
        *ret = (struct ubc_limits){
                .cpu_units = UBC_CPU_UNITS_DEFAULT,
                .cpu_quota_us = 0,
                .mem_barrier = UBC_UNLIMITED,
                .mem_limit = UBC_UNLIMITED,
                .swap = UBC_UNLIMITED,
                .io_weight = UBC_IO_WEIGHT_DEFAULT,
                .tasks = UBC_UNLIMITED,
        };
        for (unsigned k = 0; k < _UBC_KEY_MAX; k++)
                ret->source[k] = UBC_SOURCE_DEFAULT;
}

static int io_limits_dup(const struct ubc_io_limit *src, uint32_t n, struct ubc_io_limit **ret) {
        struct ubc_io_limit *copy;

        if (n == 0) {
                *ret = NULL;
                return 0;
        }
        if (n > UBC_IO_LIMITS_MAX || !src)
                return -EINVAL;

        copy = malloc(n * sizeof(*copy));
        if (!copy)
                return -ENOMEM;
        memcpy(copy, src, n * sizeof(*copy));
        *ret = copy;
        return 0;
}

int limits_copy(struct ubc_limits *dst, const struct ubc_limits *src) {
        struct ubc_io_limit *io;
        int r;

        r = io_limits_dup(src->io_limits, src->n_io_limits, &io);
        if (r < 0)
                return r;

        *dst = *src;
        dst->io_limits = io;
        return 0;
}

void limits_done(struct ubc_limits *l) {
        if (!l)
                return;
        free(l->io_limits);
        l->io_limits = NULL;
        l->n_io_limits = 0;
}

int limits_overlay(struct ubc_limits *base, const struct ubc_limits *over, enum ubc_source source) {
        struct ubc_io_limit *io = NULL;
        int r;

        /* Allocate first, so a failure leaves 'base' as it was. */
        if (limits_has(over, UBC_KEY_IO_LIMIT)) {
                r = io_limits_dup(over->io_limits, over->n_io_limits, &io);
                if (r < 0)
                        return r;
        }

        for (unsigned k = 0; k < _UBC_KEY_MAX; k++) {
                if (!limits_has(over, k))
                        continue;

                switch ((enum ubc_key) k) {
                case UBC_KEY_CPU_UNITS:
                        base->cpu_units = over->cpu_units;
                        break;
                case UBC_KEY_CPU_LIMIT:
                        base->cpu_quota_us = over->cpu_quota_us;
                        break;
                case UBC_KEY_CPU_SET:
                        base->cpu_set = over->cpu_set;
                        break;
                case UBC_KEY_MEMORY:
                        base->mem_barrier = over->mem_barrier;
                        base->mem_limit = over->mem_limit;
                        break;
                case UBC_KEY_SWAP:
                        base->swap = over->swap;
                        break;
                case UBC_KEY_IO_WEIGHT:
                        base->io_weight = over->io_weight;
                        break;
                case UBC_KEY_IO_LIMIT:
                        free(base->io_limits);
                        base->io_limits = TAKE_PTR(io);
                        base->n_io_limits = over->n_io_limits;
                        break;
                case UBC_KEY_TASKS:
                        base->tasks = over->tasks;
                        break;
                case _UBC_KEY_MAX:
                        break;
                }

                base->set |= 1u << k;
                base->source[k] = (uint8_t) source;
                base->line[k] = over->line[k];
        }

        return 0;
}

const char *ubc_key_name(enum ubc_key k) {
        if ((unsigned) k >= _UBC_KEY_MAX)
                return NULL;
        return key_names[k];
}

int ubc_key_from_name(const char *name) {
        if (!name)
                return -ENOENT;
        for (unsigned k = 0; k < _UBC_KEY_MAX; k++)
                if (streq(key_names[k], name))
                        return (int) k;
        return -ENOENT;
}
