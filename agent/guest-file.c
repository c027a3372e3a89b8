/* `ubcctl set --save`: writes changed keys into guests.d/ID.conf, keeping the operator's
 * comments and layout, and replaces the file atomically (write, fsync, rename), as
 * `vzctl set --save` does. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ubc/macro.h"
#include "ubc/units.h"
#include "daemon.h"
#include "fileio.h"
#include "guest-file.h"

static int append(char **buf, size_t *len, size_t *cap, const char *s, size_t n) {
        if (*len + n + 1 > *cap) {
                size_t ncap = (*len + n + 1) * 2;
                char *p = realloc(*buf, ncap);

                if (!p)
                        return -ENOMEM;
                *buf = p;
                *cap = ncap;
        }
        memcpy(*buf + *len, s, n);
        *len += n;
        (*buf)[*len] = '\0';
        return 0;
}

/* "cpu.units = 2048" -> "cpu.units"; NULL for anything that is not a key line. */
static bool line_key_is(const char *line, size_t n, const char *key) {
        size_t k = strlen(key), i = 0;

        while (i < n && (line[i] == ' ' || line[i] == '\t'))
                i++;
        if (n - i < k || strncmp(line + i, key, k) != 0)
                return false;
        i += k;
        while (i < n && (line[i] == ' ' || line[i] == '\t'))
                i++;
        return i < n && line[i] == '=';
}

static bool line_is_section(const char *line, size_t n, const char **ret_name, size_t *ret_len) {
        size_t i = 0;

        while (i < n && (line[i] == ' ' || line[i] == '\t'))
                i++;
        if (i >= n || line[i] != '[')
                return false;
        const char *end = memchr(line + i, ']', n - i);
        if (!end)
                return false;
        *ret_name = line + i + 1;
        *ret_len = (size_t) (end - (line + i + 1));
        return true;
}

int guest_file_rewrite(const char *old, size_t old_len, const char *const *keys, const char *const *lines,
                       size_t n, char **ret) {
        _cleanup_free_ char *out = NULL;
        _cleanup_free_ bool *done = calloc(n ? n : 1, sizeof(bool));
        size_t len = 0, cap = 0, pos = 0;
        bool in_guest = false, seen_guest = false;
        int r;

        if (!done)
                return -ENOMEM;

        while (pos < old_len) {
                const char *line = old + pos, *nl = memchr(line, '\n', old_len - pos);
                size_t llen = nl ? (size_t) (nl - line) : old_len - pos, next = pos + llen + (nl ? 1 : 0);
                const char *name;
                size_t name_len;
                bool drop = false;

                if (line_is_section(line, llen, &name, &name_len)) {
                        if (in_guest) /* leaving [guest]: add what was not there */
                                for (size_t i = 0; i < n; i++)
                                        if (!done[i]) {
                                                if ((r = append(&out, &len, &cap, lines[i],
                                                                strlen(lines[i]))) < 0 ||
                                                    (r = append(&out, &len, &cap, "\n", 1)) < 0)
                                                        return r;
                                                done[i] = true;
                                        }
                        in_guest = name_len == 5 && strncmp(name, "guest", 5) == 0;
                        seen_guest = seen_guest || in_guest;
                } else if (in_guest) {
                        for (size_t i = 0; i < n; i++) {
                                if (!line_key_is(line, llen, keys[i]))
                                        continue;
                                drop = true;
                                if (!done[i]) { /* the first occurrence takes the new value */
                                        if ((r = append(&out, &len, &cap, lines[i], strlen(lines[i]))) < 0 ||
                                            (r = append(&out, &len, &cap, "\n", 1)) < 0)
                                                return r;
                                        done[i] = true;
                                }
                                break;
                        }
                }
                if (!drop && (r = append(&out, &len, &cap, line, next - pos)) < 0)
                        return r;
                if (!drop && !nl && (r = append(&out, &len, &cap, "\n", 1)) < 0)
                        return r;
                pos = next;
        }

        if (!seen_guest && (r = append(&out, &len, &cap, "[guest]\n", 8)) < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                if (!done[i] && ((r = append(&out, &len, &cap, lines[i], strlen(lines[i]))) < 0 ||
                                 (r = append(&out, &len, &cap, "\n", 1)) < 0))
                        return r;
        if (!out && (r = append(&out, &len, &cap, "", 0)) < 0)
                return r;
        *ret = TAKE_PTR(out);
        return 0;
}

static int read_small_file(const char *path, char **ret, size_t *ret_len) {
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        _cleanup_free_ char *buf = NULL;
        size_t n;

        if (!f) {
                if (errno == ENOENT) { /* saving to a guest whose file just went: start afresh */
                        *ret = strdup("");
                        *ret_len = 0;
                        return *ret ? 0 : -ENOMEM;
                }
                return negative_errno();
        }
        buf = malloc(UBC_POLICY_FILE_MAX + 1);
        if (!buf)
                return -ENOMEM;
        n = fread(buf, 1, UBC_POLICY_FILE_MAX + 1, f);
        if (ferror(f))
                return -EIO;
        if (n > UBC_POLICY_FILE_MAX)
                return -EFBIG;
        buf[n] = '\0';
        *ret = TAKE_PTR(buf);
        *ret_len = n;
        return 0;
}

/* io.limit repeats, one device a line. */
static int format_io_limit_lines(const struct ubc_limits *l, char *buf, size_t size) {
        static const char *const field[] = {"rbps", "wbps", "riops", "wiops"};
        size_t len = 0;

        buf[0] = '\0';
        for (uint32_t i = 0; i < l->n_io_limits; i++) {
                const struct ubc_io_limit *io = &l->io_limits[i];
                const uint64_t v[] = {io->rbps, io->wbps, io->riops, io->wiops};

                len += snprintf(buf + len, size - len, "%sio.limit = %s", i ? "\n" : "", io->dev);
                for (size_t f = 0; f < ELEMENTSOF(v) && len < size; f++) {
                        char num[32];

                        if (v[f] == UBC_UNLIMITED)
                                continue;
                        if (f < 2)
                                (void) unit_format_size(v[f], num, sizeof(num));
                        else
                                snprintf(num, sizeof(num), "%llu", (unsigned long long) v[f]);
                        len += snprintf(buf + len, size - len, " %s=%s", field[f], num);
                }
                if (len >= size)
                        return -ENOBUFS;
        }
        return 0;
}

int guest_file_save(struct daemon *d, const struct guest *g, const struct ubc_limits *changes) {
        const char *keys[_UBC_KEY_MAX];
        char values[_UBC_KEY_MAX][1024];
        const char *lines[_UBC_KEY_MAX];
        _cleanup_free_ char *old = NULL, *new = NULL;
        size_t old_len = 0, n = 0;
        int r;

        for (int k = 0; k < _UBC_KEY_MAX; k++) {
                char v[900] = "";

                if (!limits_has(changes, k))
                        continue;
                keys[n] = ubc_key_name(k);
                if (k == UBC_KEY_IO_LIMIT) {
                        r = format_io_limit_lines(changes, values[n], sizeof(values[n]));
                        if (r < 0)
                                return r;
                } else {
                        r = policy_format_value(changes, k, v, sizeof(v));
                        if (r < 0)
                                return r;
                        snprintf(values[n], sizeof(values[n]), "%s = %s", keys[n], v);
                }
                lines[n] = values[n];
                n++;
        }
        if (n == 0)
                return 0;

        r = read_small_file(g->file, &old, &old_len);
        if (r < 0)
                return r;
        r = guest_file_rewrite(old, old_len, keys, lines, n, &new);
        if (r < 0)
                return r;
        return write_file_atomic(g->file, new, strlen(new), 0644, true);
}
