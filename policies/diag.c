/* Diagnostics sink: the libraries format one message per problem and hand it to the caller,
 * who decides whether it goes to a log, a terminal or a bus reply. */
#include <stdarg.h>
#include <stdio.h>

#include "ubc/diag.h"

/* Messages quote what users wrote; a control character in there (a newline from `ubcctl set`,
 * an escape sequence in a file) must not forge a second line or drive a terminal. */
static void sanitize(char *s) {
        for (; *s; s++)
                if ((unsigned char) *s < 0x20 || (unsigned char) *s == 0x7f)
                        *s = '?';
}

void diag_error(struct ubc_diag_sink *sink, const char *file, unsigned line, const char *key,
                const char *fmt, ...) {
        char msg[512], key_copy[128];
        va_list ap;

        if (!sink)
                return;

        va_start(ap, fmt);
        /* A message cut at the buffer's end still reads well; never more than that. */
        (void) vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        sanitize(msg);
        if (key) {
                snprintf(key_copy, sizeof(key_copy), "%s", key);
                sanitize(key_copy);
                key = key_copy;
        }

        sink->n_errors++;
        if (sink->report) {
                struct ubc_diag d = {
                        .file = file,
                        .line = line,
                        .key = key,
                        .message = msg,
                };
                sink->report(sink->userdata, &d);
        }
}
