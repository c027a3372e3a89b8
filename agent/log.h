/* Daemon logging: the journal (with UBC_GUEST=) when stderr is connected to it, else stderr.
 * Only agent/ logs; the libraries report errors to their caller. */
#pragma once

#include <stdint.h>
#include <syslog.h>

void log_setup(const char *program);
void log_set_max_level(int level);

/* guest 0: not about one guest. Returns -abs(error) so callers can `return log_...`. */
int log_internal(int level, int error, uint32_t guest, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

#define log_debug(...)                     log_internal(LOG_DEBUG, 0, 0, __VA_ARGS__)
#define log_info(...)                      log_internal(LOG_INFO, 0, 0, __VA_ARGS__)
#define log_notice(...)                    log_internal(LOG_NOTICE, 0, 0, __VA_ARGS__)
#define log_warning(...)                   log_internal(LOG_WARNING, 0, 0, __VA_ARGS__)
#define log_error(...)                     log_internal(LOG_ERR, 0, 0, __VA_ARGS__)
#define log_error_errno(e, ...)            log_internal(LOG_ERR, (e), 0, __VA_ARGS__)
#define log_warning_errno(e, ...)          log_internal(LOG_WARNING, (e), 0, __VA_ARGS__)
#define log_guest(level, id, ...)          log_internal((level), 0, (id), __VA_ARGS__)
#define log_guest_errno(level, e, id, ...) log_internal((level), (e), (id), __VA_ARGS__)
