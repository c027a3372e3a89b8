/* What every launcher shares: reading the guest file's launch settings. */
#include <stddef.h>
#include <string.h>

#include "launcher.h"
#include "ubc/macro.h"

const char *launch_setting(const struct launch_guest *g, const char *section, const char *key,
                           unsigned *ret_line) {
        /* The parser refuses a key given twice in a section, so the first match is the one. */
        for (size_t i = 0; i < g->n_settings; i++) {
                const struct policy_setting *s = &g->settings[i];
                if (streq(s->section, section) && streq(s->key, key)) {
                        if (ret_line)
                                *ret_line = s->line;
                        return s->value;
                }
        }
        return NULL;
}
