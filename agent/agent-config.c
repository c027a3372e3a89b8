/* ubcd.conf: defaults, the [agent] section's keys and their parsers. Every problem is reported
 * with file:line; the settings change only when the whole file is good. */
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "ubc/agent-config.h"
#include "ubc/history.h"
#include "ubc/macro.h"
#include "ubc/units.h"

#define AGENT_CONFIG_FILE       "ubcd.conf"
#define AGENT_CONFIG_SECTION    "agent"
#define AGENT_CONFIG_SIZE_MAX   (64u * 1024u)
#define AGENT_INTERVAL_MIN_US   (100ULL * 1000ULL)
#define AGENT_INTERVAL_MAX_US   (3600ULL * 1000ULL * 1000ULL)
#define AGENT_RRD_STEP_MAX_S    3600u
#define ONBOOT_PARALLEL_DEFAULT 4u
#define ONBOOT_PARALLEL_MAX     64u

static const char *const driver_names[] = {
        [UBC_DRIVER_AUTO] = "auto",
        [UBC_DRIVER_CGROUPFS] = "cgroupfs",
        [UBC_DRIVER_SYSTEMD] = "systemd",
};

void agent_config_init(struct agent_config *ret) {
        *ret = (struct agent_config){
                .driver = UBC_DRIVER_AUTO,
                .interval_us = 10ULL * 1000ULL * 1000ULL,
                .rrd_step = HISTORY_STEP_DEFAULT,
                .rrd_batch = HISTORY_BATCH_DEFAULT,
                .onboot_parallel = ONBOOT_PARALLEL_DEFAULT,
        };
        snprintf(ret->config_dir, sizeof(ret->config_dir), "%s", UBC_CONFIG_DIR);
        snprintf(ret->state_dir, sizeof(ret->state_dir), "%s", UBC_STATE_DIR);
        snprintf(ret->run_dir, sizeof(ret->run_dir), "%s", UBC_RUN_DIR);
        snprintf(ret->root, sizeof(ret->root), "%s", "ubc");
}

int agent_driver_from_string(const char *s, enum ubc_driver *ret) {
        for (size_t i = 0; i < ELEMENTSOF(driver_names); i++)
                if (streq(s, driver_names[i])) {
                        *ret = (enum ubc_driver) i;
                        return 0;
                }
        return -EINVAL;
}

const char *agent_driver_name(enum ubc_driver d) {
        if ((unsigned) d >= ELEMENTSOF(driver_names))
                return NULL;
        return driver_names[d];
}

int agent_parse_duration(const char *s, uint64_t *ret_us) {
        static const struct {
                const char *suffix;
                uint64_t us;
        } units[] = {
                {"us", 1ULL},       {"ms", 1000ULL},      {"s", 1000000ULL},     {"min", 60000000ULL},
                {"m", 60000000ULL}, {"h", 3600000000ULL}, {"d", 86400000000ULL}, {"w", 604800000000ULL},
        };
        uint64_t n = 0, mult = 0;
        const char *p = s;

        if (!s || *s < '0' || *s > '9')
                return -EINVAL;
        for (; *p >= '0' && *p <= '9'; p++) {
                if (n > (UINT64_MAX - (uint64_t) (*p - '0')) / 10)
                        return -ERANGE;
                n = n * 10 + (uint64_t) (*p - '0');
        }

        if (*p == '\0')
                mult = 1000000ULL; /* a bare number is seconds */
        else
                for (size_t i = 0; i < ELEMENTSOF(units); i++)
                        if (streq(p, units[i].suffix)) {
                                mult = units[i].us;
                                break;
                        }
        if (mult == 0)
                return -EINVAL;
        if (n > UINT64_MAX / mult)
                return -ERANGE;

        *ret_us = n * mult;
        return 0;
}

/* The same rules as cg_root_name_is_valid(), kept here so this library needs no cgroup code:
 * the name is joined under each hierarchy's mount and must never leave it. */
static bool root_name_is_valid(const char *root) {
        const char *p = root;

        if (*root == '\0' || *root == '/')
                return false;
        for (;;) {
                size_t n = strcspn(p, "/");

                if (n == 0) /* "a//b" or a trailing '/' */
                        return false;
                if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
                        return false;
                for (size_t i = 0; i < n; i++)
                        if ((unsigned char) p[i] <= ' ' || p[i] == 0x7f)
                                return false;
                if (p[n] == '\0')
                        return true;
                p += n + 1;
        }
}

static bool has_control_chars(const char *s) {
        for (; *s; s++)
                if ((unsigned char) *s < ' ' || *s == 0x7f)
                        return true;
        return false;
}

struct config_parser {
        const char *path; /* for diagnostics */
        const char *buf;
        size_t len, pos;
        unsigned line;
        bool in_agent;         /* the current section is [agent] */
        bool in_unknown;       /* the current section is another one, reported at its header */
        unsigned key_line[16]; /* where each key was set, to refuse a second setting */
        unsigned n_errors;
        struct ubc_diag_sink *diags;
        struct agent_config *c;
};

#define config_error(p, key, ...)                                                 \
        do {                                                                      \
                (p)->n_errors++;                                                  \
                diag_error((p)->diags, (p)->path, (p)->line, (key), __VA_ARGS__); \
        } while (0)

static void parse_driver(struct config_parser *p, const char *key, const char *value) {
        if (agent_driver_from_string(value, &p->c->driver) < 0)
                config_error(p, key, "'%s' is not one of auto, cgroupfs, systemd", value);
}

static void parse_root(struct config_parser *p, const char *key, const char *value) {
        if (!root_name_is_valid(value))
                config_error(p, key, "'%s' is not a plain relative path (no '..', '.', '//' or spaces)",
                             value);
        else if (strlen(value) >= sizeof(p->c->root))
                config_error(p, key, "longer than %zu bytes", sizeof(p->c->root) - 1);
        else
                snprintf(p->c->root, sizeof(p->c->root), "%s", value);
}

static void parse_dir(struct config_parser *p, const char *key, const char *value, char *dst, size_t size) {
        if (value[0] != '/')
                config_error(p, key, "'%s' is not an absolute path", value);
        else if (strlen(value) >= size)
                config_error(p, key, "longer than %zu bytes", size - 1);
        else
                snprintf(dst, size, "%s", value);
}

static void parse_state_dir(struct config_parser *p, const char *key, const char *value) {
        parse_dir(p, key, value, p->c->state_dir, sizeof(p->c->state_dir));
}

static void parse_run_dir(struct config_parser *p, const char *key, const char *value) {
        parse_dir(p, key, value, p->c->run_dir, sizeof(p->c->run_dir));
}

static void parse_interval(struct config_parser *p, const char *key, const char *value) {
        uint64_t us;
        int r = agent_parse_duration(value, &us);

        if (r < 0)
                config_error(p, key, "'%s' is not a duration such as 10s, 500ms, 2m or 1h", value);
        else if (us < AGENT_INTERVAL_MIN_US || us > AGENT_INTERVAL_MAX_US)
                config_error(p, key, "'%s' is out of range 100ms..1h", value);
        else
                p->c->interval_us = us;
}

/* Whole seconds: RRD steps are. Short steps exist for tests, which cannot wait minutes. */
static void parse_rrd_step(struct config_parser *p, const char *key, const char *value) {
        uint64_t us;
        int r = agent_parse_duration(value, &us);

        if (r < 0)
                config_error(p, key, "'%s' is not a duration such as 60s, 5m or 1h", value);
        else if (us % 1000000ULL != 0)
                config_error(p, key, "'%s' is not a whole number of seconds", value);
        else if (us < 1000000ULL || us / 1000000ULL > AGENT_RRD_STEP_MAX_S)
                config_error(p, key, "'%s' is out of range 1s..1h", value);
        else
                p->c->rrd_step = (unsigned) (us / 1000000ULL);
}

/* A count of 1..max 'what' into *ret. */
static void parse_count(struct config_parser *p, const char *key, const char *value, unsigned max,
                        const char *what, unsigned *ret) {
        uint64_t n;

        if (unit_parse_uint(value, 1, max, &n) < 0)
                config_error(p, key, "'%s' is not a number of %s 1..%u", value, what, max);
        else
                *ret = (unsigned) n;
}

static void parse_rrd_batch(struct config_parser *p, const char *key, const char *value) {
        parse_count(p, key, value, HISTORY_BATCH_MAX, "steps", &p->c->rrd_batch);
}

static void parse_onboot_parallel(struct config_parser *p, const char *key, const char *value) {
        parse_count(p, key, value, ONBOOT_PARALLEL_MAX, "guests", &p->c->onboot_parallel);
}

static void parse_rrdcached(struct config_parser *p, const char *key, const char *value) {
        if (strlen(value) >= sizeof(p->c->rrdcached))
                config_error(p, key, "longer than %zu bytes", sizeof(p->c->rrdcached) - 1);
        else if (strpbrk(value, " \t"))
                config_error(p, key, "'%s' is not an address such as unix:/run/rrdcached.sock", value);
        else
                snprintf(p->c->rrdcached, sizeof(p->c->rrdcached), "%s", value);
}

static void parse_socket_group(struct config_parser *p, const char *key, const char *value) {
        /* The POSIX portable name characters: ubcd looks the name up with getgrnam(). */
        size_t n = strspn(value, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-");

        if (value[n] != '\0' || value[0] == '-')
                config_error(p, key, "'%s' is not a group name", value);
        else if (n >= sizeof(p->c->socket_group))
                config_error(p, key, "longer than %zu bytes", sizeof(p->c->socket_group) - 1);
        else
                snprintf(p->c->socket_group, sizeof(p->c->socket_group), "%s", value);
}

static const struct {
        const char *key;
        void (*parse)(struct config_parser *p, const char *key, const char *value);
        bool may_be_empty;
} config_keys[] = {
        {"driver", parse_driver, false},
        {"root", parse_root, false},
        {"state_dir", parse_state_dir, false},
        {"run_dir", parse_run_dir, false},
        {"interval", parse_interval, false},
        {"rrdcached", parse_rrdcached, true},
        {"socket_group", parse_socket_group, true},
        {"rrd_step", parse_rrd_step, false}, /* history files only: a test's short step */
        {"rrd_batch", parse_rrd_batch, false},
        {"onboot_parallel", parse_onboot_parallel, false},
};

static int config_handler(void *userdata, const char *section, const char *name, const char *value) {
        struct config_parser *p = userdata;

        /* Keys outside [agent] were reported with their section header. */
        if (!p->in_agent)
                return 1;

        for (size_t i = 0; i < ELEMENTSOF(config_keys); i++) {
                if (!streq(name, config_keys[i].key))
                        continue;
                if (p->key_line[i] > 0) {
                        config_error(p, name, "already set on line %u", p->key_line[i]);
                        return 1;
                }
                p->key_line[i] = p->line;
                if (value[0] == '\0' && !config_keys[i].may_be_empty) {
                        config_error(p, name, "empty value");
                        return 1;
                }
                if (has_control_chars(value)) {
                        config_error(p, name, "value holds control characters");
                        return 1;
                }
                config_keys[i].parse(p, name, value);
                return 1;
        }

        config_error(p, name, "unknown key in [%s]", section);
        return 1;
}

/* Checks a line the way inih will read it, reporting what it would refuse (it names only its
 * first error, and no line at all for an unknown section), so every problem gets its line. */
static bool config_line_check(struct config_parser *p, const char *s) {
        if (*s == '\0' || *s == ';')
                return true;

        if (*s == '[') {
                const char *end = strchr(s, ']');

                if (!end) {
                        config_error(p, NULL, "section header without ']'");
                        return false;
                }
                p->in_agent = (size_t) (end - s - 1) == strlen(AGENT_CONFIG_SECTION) &&
                              strncmp(s + 1, AGENT_CONFIG_SECTION, strlen(AGENT_CONFIG_SECTION)) == 0;
                p->in_unknown = !p->in_agent;
                if (!p->in_agent)
                        config_error(p, NULL, "unknown section '%.*s', expected [%s]", (int) (end - s - 1),
                                     s + 1, AGENT_CONFIG_SECTION);
                return true;
        }

        size_t n = strcspn(s, "=:");
        if (s[n] == '\0') {
                config_error(p, NULL, "expected 'key = value'");
                return false;
        }
        if (n == 0 || s[0] == '=' || s[0] == ':') {
                config_error(p, NULL, "missing key before '%c'", s[n]);
                return false;
        }
        if (p->in_unknown)
                return false; /* its section's header said it all */
        if (!p->in_agent) {
                config_error(p, NULL, "key outside the [%s] section", AGENT_CONFIG_SECTION);
                return false;
        }
        return true;
}

/* inih's line reader: hands over one whole line at a time, so the line count is ours to keep,
 * with leading blanks and "# comments" removed (this inih strips only ';' ones inline). */
static char *config_reader(char *str, int num, void *stream) {
        struct config_parser *p = stream;
        const char *s, *eol;
        size_t n;

        if (p->pos >= p->len || num < 2)
                return NULL;

        s = p->buf + p->pos;
        eol = memchr(s, '\n', p->len - p->pos);
        n = eol ? (size_t) (eol - s) : p->len - p->pos;
        p->pos += n + (eol ? 1 : 0);
        p->line++;

        if (p->line == 1 && n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
                s += 3;
                n -= 3;
        }
        while (n > 0 && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\f' || *s == '\v')) {
                s++;
                n--;
        }
        /* A '#' starts a comment at the line's start or after a blank; "a#b" is a value. */
        for (size_t i = 0; i < n; i++)
                if (s[i] == '#' && (i == 0 || s[i - 1] == ' ' || s[i - 1] == '\t')) {
                        n = i;
                        break;
                }
        while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
                n--;

        str[0] = '\0';
        if (memchr(s, '\0', n))
                config_error(p, NULL, "line holds a NUL byte");
        else if (n + 2 > (size_t) num)
                config_error(p, NULL, "line longer than %d bytes", num - 2);
        else {
                memcpy(str, s, n);
                str[n] = '\0';
                if (!config_line_check(p, str))
                        str[0] = '\0';
        }
        /* An empty line for what was refused: inih sees nothing to parse there. */
        strcat(str, "\n");
        return str;
}

static int read_config_file(int dir_fd, char **ret, size_t *ret_len) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        size_t len = 0;

        fd = openat(dir_fd, AGENT_CONFIG_FILE, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        if ((uint64_t) st.st_size > AGENT_CONFIG_SIZE_MAX)
                return -EFBIG;

        buf = malloc(AGENT_CONFIG_SIZE_MAX + 1);
        if (!buf)
                return -ENOMEM;
        /* Read to the end rather than trust st_size: the file may change under us. */
        for (;;) {
                ssize_t k = read(fd, buf + len, AGENT_CONFIG_SIZE_MAX + 1 - len);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (k == 0)
                        break;
                len += (size_t) k;
                if (len > AGENT_CONFIG_SIZE_MAX)
                        return -EFBIG;
        }

        *ret = TAKE_PTR(buf);
        *ret_len = len;
        return 0;
}

int agent_config_load(struct agent_config *c, struct ubc_diag_sink *diags) {
        _cleanup_free_ char *buf = NULL;
        _cleanup_close_ int dir_fd = -EBADF;
        struct agent_config parsed = *c;
        char path[sizeof(c->config_dir) + sizeof("/" AGENT_CONFIG_FILE)];
        size_t len = 0;
        int r;

        snprintf(path, sizeof(path), "%s/%s", c->config_dir, AGENT_CONFIG_FILE);

        dir_fd = open(c->config_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0) {
                r = negative_errno();
                if (r == -ENOENT)
                        return 0; /* no configuration folder: all defaults */
                diag_error(diags, c->config_dir, 0, NULL, "cannot open folder: %s", strerror(-r));
                return r;
        }

        r = read_config_file(dir_fd, &buf, &len);
        if (r == -ENOENT)
                return 0;
        if (r == -EFBIG) {
                diag_error(diags, path, 0, NULL, "larger than %u bytes", AGENT_CONFIG_SIZE_MAX);
                return r;
        }
        if (r == -EBADFD) {
                diag_error(diags, path, 0, NULL, "not a regular file");
                return -EINVAL;
        }
        if (r < 0) {
                diag_error(diags, path, 0, NULL, "cannot read: %s", strerror(-r));
                return r;
        }

        struct config_parser p = {
                .path = path,
                .buf = buf,
                .len = len,
                .diags = diags,
                .c = &parsed,
        };
        _Static_assert(ELEMENTSOF(p.key_line) >= ELEMENTSOF(config_keys), "key_line too small");

        r = ini_parse_stream(config_reader, &p, config_handler, &p);
        if (r < 0) {
                diag_error(diags, path, 0, NULL, "cannot parse: out of memory");
                return -ENOMEM;
        }
        if (r > 0 && p.n_errors == 0) {
                /* Something the line check let through; inih only knows the line. */
                p.line = (unsigned) r;
                config_error(&p, NULL, "syntax error");
        }
        if (p.n_errors > 0)
                return -EINVAL;

        *c = parsed;
        return 0;
}
