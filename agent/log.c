/* Daemon logging to the journal or stderr; "%m" in messages is the error passed in. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "log.h"

static const char *log_program = "ubcd";
static int log_max_level = LOG_INFO;
static bool log_to_journal;

/* The journal owns our stderr when JOURNAL_STREAM names its device and inode. */
static bool stderr_is_journal(void) {
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
                return false;
        if (fstat(STDERR_FILENO, &st) < 0)
                return false;
        return (unsigned long long) st.st_dev == dev && (unsigned long long) st.st_ino == ino;
}

void log_setup(const char *program) {
        log_program = program;
        log_to_journal = stderr_is_journal();
}

void log_set_max_level(int level) {
        log_max_level = level;
}

int log_internal(int level, int error, uint32_t guest, const char *fmt, ...) {
        char msg[1024];
        va_list ap;

        error = error < 0 ? -error : error;
        if (level > log_max_level)
                return -error;

        /* "%m" must show the error we were handed, not whatever errno is now. */
        errno = error;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);

        if (log_to_journal) {
                if (guest > 0)
                        sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", level, "UBC_GUEST=%u", guest,
                                        "ERRNO=%d", error, "SYSLOG_IDENTIFIER=%s", log_program, NULL);
                else
                        sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", level, "ERRNO=%d", error,
                                        "SYSLOG_IDENTIFIER=%s", log_program, NULL);
        } else {
                static const char *const prefix[] = {
                        [LOG_EMERG] = "emerg", [LOG_ALERT] = "alert",     [LOG_CRIT] = "crit",
                        [LOG_ERR] = "error",   [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
                        [LOG_INFO] = "info",   [LOG_DEBUG] = "debug",
                };
                fprintf(stderr, "%s: %s: %s\n", log_program, prefix[level & 7], msg);
        }
        return -error;
}
