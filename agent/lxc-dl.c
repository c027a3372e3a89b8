/* Loading liblxc on first use; see lxc-dl.h for why. */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>

#include "lxc-dl.h"

typeof(lxc_container_new) *sym_lxc_container_new;
typeof(lxc_container_put) *sym_lxc_container_put;

int lxc_dl_open(char *err, size_t err_size) {
        static void *handle;
        void *h, *new_fn, *put_fn;

        if (handle)
                return 0;
        /* Kept for the life of the process: liblxc is never unloaded. */
        h = dlopen(LXC_SONAME, RTLD_NOW | RTLD_LOCAL);
        if (!h) {
                snprintf(err, err_size, "cannot load %s (Debian: apt-get install liblxc1): %s", LXC_SONAME,
                         dlerror());
                return -ENOENT;
        }
        new_fn = dlsym(h, "lxc_container_new");
        put_fn = dlsym(h, "lxc_container_put");
        if (!new_fn || !put_fn) {
                snprintf(err, err_size, "%s lacks lxc_container_new or lxc_container_put", LXC_SONAME);
                dlclose(h);
                return -ENOSYS;
        }
        sym_lxc_container_new = (typeof(lxc_container_new) *) new_fn;
        sym_lxc_container_put = (typeof(lxc_container_put) *) put_fn;
        handle = h;
        return 0;
}
