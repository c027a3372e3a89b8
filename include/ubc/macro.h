/* Small helpers shared by every module: scope-bound cleanup, ownership transfer. */
#pragma once

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

static inline void freep(void *p) {
        free(*(void **) p);
}

static inline void closep(int *fd) {
        if (*fd >= 0) {
                int saved = errno;
                close(*fd);
                errno = saved;
        }
}

static inline void fclosep(FILE **f) {
        if (*f)
                fclose(*f);
}

#define _cleanup_(f)     __attribute__((cleanup(f)))
#define _cleanup_free_   _cleanup_(freep)
#define _cleanup_close_  _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)

/* Hand over ownership out of a _cleanup_ variable. */
#define TAKE_PTR(p)                         \
        ({                                  \
                __typeof__(p) _took_ = (p); \
                (p) = NULL;                 \
                _took_;                     \
        })
#define TAKE_FD(fd)                   \
        ({                            \
                int _took_fd_ = (fd); \
                (fd) = -EBADF;        \
                _took_fd_;            \
        })

#define streq(a, b) (strcmp((a), (b)) == 0)

/* Negative errno from a libc call that set errno; never 0 on failure. */
static inline int negative_errno(void) {
        return errno > 0 ? -errno : -EIO;
}
