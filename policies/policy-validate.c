/* Validation against this host: what parsed fine may still ask for CPUs, devices or cgroup
 * features the host does not have. Every message names the line the key came from. */
#include <errno.h>
#include <stdio.h>

#include "policy-internal.h"
#include "ubc/macro.h"
#include "ubc/units.h"

static const enum ubc_ctrl key_ctrl[_UBC_KEY_MAX] = {
        [UBC_KEY_CPU_UNITS] = UBC_CTRL_CPU,  [UBC_KEY_CPU_LIMIT] = UBC_CTRL_CPU,
        [UBC_KEY_CPU_SET] = UBC_CTRL_CPUSET, [UBC_KEY_MEMORY] = UBC_CTRL_MEMORY,
        [UBC_KEY_SWAP] = UBC_CTRL_MEMORY,    [UBC_KEY_IO_WEIGHT] = UBC_CTRL_IO,
        [UBC_KEY_IO_LIMIT] = UBC_CTRL_IO,    [UBC_KEY_TASKS] = UBC_CTRL_PIDS,
};

static const char *origin_file(const struct policy_resolved *g, enum ubc_key k) {
        switch (g->limits.source[k]) {
        case UBC_SOURCE_CLASS:
                return g->class_file;
        case UBC_SOURCE_GUEST:
                return g->guest_file;
        default:
                return NULL;
        }
}

#define verr_at(g, k, line, diags, ...) \
        diag_error((diags), origin_file((g), (k)), (line), ubc_key_name(k), __VA_ARGS__)
#define verr(g, k, diags, ...) verr_at((g), (k), (g)->limits.line[(k)], (diags), __VA_ARGS__)

static void validate_cpu_set(struct policy_resolved *g, const struct ubc_host *host,
                             struct ubc_diag_sink *diags, unsigned *n_errors) {
        struct ubc_cpuset extra;
        char extra_s[128], host_s[128];

        if (cpuset_is_empty(&g->limits.cpu_set) || cpuset_is_subset(&g->limits.cpu_set, &host->cpus))
                return;

        for (size_t i = 0; i < ELEMENTSOF(extra.bits); i++)
                extra.bits[i] = g->limits.cpu_set.bits[i] & ~host->cpus.bits[i];
        if (cpuset_format(&extra, extra_s, sizeof(extra_s)) < 0)
                snprintf(extra_s, sizeof(extra_s), "(many)");
        if (cpuset_format(&host->cpus, host_s, sizeof(host_s)) < 0)
                snprintf(host_s, sizeof(host_s), "(many)");

        verr(g, UBC_KEY_CPU_SET, diags, "CPU%s %s %s not on this host (it has %s)",
             cpuset_count(&extra) > 1 ? "s" : "", extra_s, cpuset_count(&extra) > 1 ? "are" : "is",
             host_s[0] ? host_s : "none");
        (*n_errors)++;
}

static void validate_io_limits(struct policy_resolved *g, const struct ubc_host *host,
                               struct ubc_diag_sink *diags, unsigned *n_errors) {
        for (uint32_t i = 0; i < g->limits.n_io_limits; i++) {
                struct ubc_io_limit *io = &g->limits.io_limits[i];
                const struct ubc_blockdev *dev = host_find_blockdev(host, io->dev);
                /* Each device has its own line; a live change has none, then the key's. */
                unsigned line = io->line > 0 ? io->line : g->limits.line[UBC_KEY_IO_LIMIT];

                if (!dev) {
                        verr_at(g, UBC_KEY_IO_LIMIT, line, diags, "device '%s' not found on this host",
                                io->dev);
                        (*n_errors)++;
                        continue;
                }
                io->major = dev->major;
                io->minor = dev->minor;

                /* "vda" and "254:0" look different in the file but are one device. */
                for (uint32_t j = 0; j < i; j++) {
                        const struct ubc_io_limit *o = &g->limits.io_limits[j];

                        if (host_find_blockdev(host, o->dev) == dev) {
                                verr_at(g, UBC_KEY_IO_LIMIT, line, diags,
                                        "device '%s' is '%s' again (%u:%u), give each device once", io->dev,
                                        o->dev, dev->major, dev->minor);
                                (*n_errors)++;
                                break;
                        }
                }
        }
}

int policy_validate_host(struct policy_resolved *g, const struct ubc_host *host,
                         struct ubc_diag_sink *diags) {
        unsigned n_errors = 0;

        if (!g || !host)
                return -EINVAL;

        for (unsigned k = 0; k < _UBC_KEY_MAX; k++) {
                enum ubc_ctrl c = key_ctrl[k];

                if (!limits_has(&g->limits, k) || host->ctrl[c] != CG_VERSION_NONE)
                        continue;
                /* Name it as this host would: "blkio" on a v1-only host, "io" otherwise. */
                verr(g, k, diags, "not supported on this host: no '%s' controller",
                     ubc_ctrl_name(c, host->mode == CG_MODE_LEGACY ? CG_VERSION_V1 : CG_VERSION_V2));
                n_errors++;
        }

        if (limits_has(&g->limits, UBC_KEY_SWAP) && host->ctrl[UBC_CTRL_MEMORY] != CG_VERSION_NONE &&
            !host->swap_accounting) {
                verr(g, UBC_KEY_SWAP, diags,
                     "not supported on this host: no swap accounting in the memory cgroup");
                n_errors++;
        }

        if (limits_has(&g->limits, UBC_KEY_IO_WEIGHT) && host->ctrl[UBC_CTRL_IO] != CG_VERSION_NONE &&
            host->io_weight == UBC_IO_WEIGHT_NONE) {
                verr(g, UBC_KEY_IO_WEIGHT, diags,
                     "not supported on this host: no proportional I/O weight "
                     "(blkio.weight/io.weight need the BFQ scheduler)");
                n_errors++;
        }

        if (limits_has(&g->limits, UBC_KEY_CPU_SET) && host->ctrl[UBC_CTRL_CPUSET] != CG_VERSION_NONE)
                validate_cpu_set(g, host, diags, &n_errors);

        if (limits_has(&g->limits, UBC_KEY_IO_LIMIT) && host->ctrl[UBC_CTRL_IO] != CG_VERSION_NONE)
                validate_io_limits(g, host, diags, &n_errors);

        return n_errors > 0 ? -EINVAL : 0;
}
