/* Names for controllers and cgroup modes, and block device lookup in a discovered host. */
#include <string.h>

#include "ubc/host.h"
#include "ubc/macro.h"

const char *ubc_ctrl_name(enum ubc_ctrl c, enum cg_version v) {
        static const char *const names[_UBC_CTRL_MAX] = {
                [UBC_CTRL_CPU] = "cpu", [UBC_CTRL_CPUSET] = "cpuset", [UBC_CTRL_MEMORY] = "memory",
                [UBC_CTRL_IO] = "io",   [UBC_CTRL_PIDS] = "pids",     [UBC_CTRL_CPUACCT] = "cpuacct",
        };

        if ((unsigned) c >= _UBC_CTRL_MAX)
                return NULL;
        if (c == UBC_CTRL_IO && v == CG_VERSION_V1)
                return "blkio";
        if (c == UBC_CTRL_CPUACCT && v != CG_VERSION_V1)
                return NULL; /* v2 counts CPU usage in cpu.stat */
        return names[c];
}

const char *cg_mode_name(enum cg_mode m) {
        switch (m) {
        case CG_MODE_LEGACY:
                return "legacy";
        case CG_MODE_HYBRID:
                return "hybrid";
        case CG_MODE_UNIFIED:
                return "unified";
        }
        return NULL;
}

/* Strict "MAJ:MIN": digits only, each part below 2^20 as the kernel's dev_t allows. */
static bool parse_devnum(const char *s, unsigned *ret_major, unsigned *ret_minor) {
        unsigned v[2] = {};

        for (unsigned part = 0; part < 2; part++) {
                const char *start = s;

                while (*s >= '0' && *s <= '9') {
                        v[part] = v[part] * 10 + (unsigned) (*s - '0');
                        if (v[part] >= (1u << 20))
                                return false;
                        s++;
                }
                if (s == start)
                        return false;
                if (part == 0) {
                        if (*s != ':')
                                return false;
                        s++;
                }
        }
        if (*s != '\0')
                return false;

        *ret_major = v[0];
        *ret_minor = v[1];
        return true;
}

const struct ubc_blockdev *host_find_blockdev(const struct ubc_host *h, const char *dev) {
        unsigned major, minor, n;

        if (!h || !dev)
                return NULL;

        n = h->n_blockdevs < UBC_BLOCKDEVS_MAX ? h->n_blockdevs : UBC_BLOCKDEVS_MAX;

        if (parse_devnum(dev, &major, &minor)) {
                for (unsigned i = 0; i < n; i++)
                        if (h->blockdevs[i].major == major && h->blockdevs[i].minor == minor)
                                return &h->blockdevs[i];
                return NULL;
        }

        /* Only the /dev/NAME form: /dev/disk/by-id/... would need the file system. */
        if (strncmp(dev, "/dev/", 5) == 0)
                dev += 5;
        if (*dev == '\0' || strchr(dev, '/'))
                return NULL;

        for (unsigned i = 0; i < n; i++)
                if (strncmp(h->blockdevs[i].name, dev, sizeof(h->blockdevs[i].name)) == 0)
                        return &h->blockdevs[i];
        return NULL;
}
