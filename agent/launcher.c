/* What both launchers share: reading a guest's launch settings. */
#include <stddef.h>
#include <string.h>

#include "ubc/macro.h"
#include "launcher.h"

const char *launch_setting(const struct launch_guest *g, const char *section, const char *key,
                           unsigned *ret_line) {
        for (size_t i = 0; i < g->n_settings; i++)
                if (streq(g->settings[i].section, section) && streq(g->settings[i].key, key)) {
                        if (ret_line)
                                *ret_line = g->settings[i].line;
                        return g->settings[i].value;
                }
        if (ret_line)
                *ret_line = 0;
        return NULL;
}
