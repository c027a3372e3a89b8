/* Diagnostics from parsing and validation: reported through a callback, so the
 * libraries never log and the caller decides where errors go. */
#pragma once

struct ubc_diag {
        const char *file;    /* may be NULL for host-wide problems */
        unsigned line;       /* 0 if not tied to a line */
        const char *key;     /* may be NULL */
        const char *message; /* no final period, e.g. "out of range 8..500000" */
};

struct ubc_diag_sink {
        void (*report)(void *userdata, const struct ubc_diag *d);
        void *userdata;
        unsigned n_errors; /* counted by diag_error() */
};

/* Reports one error (printf-style message) and counts it. Safe with a NULL sink. */
void diag_error(struct ubc_diag_sink *sink, const char *file, unsigned line, const char *key,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));
