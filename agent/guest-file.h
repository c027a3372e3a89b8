/* Rewriting a guest file's keys: the pure text step, for tests. */
#pragma once

#include <stddef.h>

/* Replaces each keys[i] line in the [guest] section by lines[i] (extra occurrences go), adds
 * the keys that were absent at the end of [guest], and keeps everything else as it was. */
int guest_file_rewrite(const char *old, size_t old_len, const char *const *keys, const char *const *lines,
                       size_t n, char **ret);
