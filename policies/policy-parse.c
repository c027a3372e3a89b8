/* Policy files: class files ([class NAME] sections of limit keys) and guest files ([guest]
 * with limit keys, [container] and [vm] launch settings). inih splits "key = value"; the
 * reader in front of it counts lines, strips comments and refuses what inih would get wrong. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ini.h>

#include "policy-internal.h"
#include "ubc/macro.h"
#include "ubc/units.h"

enum section {
        SECTION_NONE, /* before the first header */
        SECTION_SKIP, /* a refused header: its keys are not looked at */
        SECTION_CLASS,
        SECTION_GUEST,
        SECTION_CONTAINER,
        SECTION_VM,
};

enum guest_key {
        GUEST_KEY_TYPE,
        GUEST_KEY_CLASS,
        GUEST_KEY_NAME,
        GUEST_KEY_ONBOOT,
        GUEST_KEY_ID,
        _GUEST_KEY_MAX,
};

static const char *const guest_key_names[_GUEST_KEY_MAX] = {
        [GUEST_KEY_TYPE] = "type",     [GUEST_KEY_CLASS] = "class", [GUEST_KEY_NAME] = "name",
        [GUEST_KEY_ONBOOT] = "onboot", [GUEST_KEY_ID] = "id",
};

struct parser {
        const char *path;
        enum policy_file_kind kind;
        uint32_t id;
        struct ubc_diag_sink *diags;
        unsigned n_errors;
        int error; /* a failure that is not the file's fault (-ENOMEM) */

        /* The reader's position; 'line' is the line inih is handling. */
        const char *buf;
        size_t len, pos;
        unsigned line;
        const char *long_value; /* a value too long for inih's buffer, handed over directly */
        char text[UBC_POLICY_LINE_MAX + 1];

        enum section section;
        struct ubc_limits *limits; /* of the current class, or the guest's */

        struct policy_class *classes;
        size_t n_classes;

        struct policy_guest guest;
        unsigned guest_line, container_line, vm_line;
        unsigned guest_key_line[_GUEST_KEY_MAX];
};

static void perr_at(struct parser *p, unsigned line, const char *key, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static void perr_at(struct parser *p, unsigned line, const char *key, const char *fmt, ...) {
        char msg[512];
        va_list ap;

        va_start(ap, fmt);
        (void) vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);

        /* Counted here too: the sink may be NULL, and the verdict must not depend on it. */
        p->n_errors++;
        diag_error(p->diags, p->path, line, key, "%s", msg);
}

#define perr(p, key, ...) perr_at((p), (p)->line, (key), __VA_ARGS__)

static bool is_space(char c) {
        /* The same set inih trims with isspace() in the C locale. */
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static char *strip(char *s) {
        char *end;

        while (is_space(*s))
                s++;
        end = s + strlen(s);
        while (end > s && is_space(end[-1]))
                end--;
        *end = '\0';
        return s;
}

/* The closest name that the misspelling likely meant, NULL if none. */
static const char *suggest(const char *name, const char *const *candidates, size_t n) {
        const char *best = NULL;
        unsigned best_d = UINT_MAX;

        for (size_t i = 0; i < n; i++) {
                unsigned d = policy_typo_distance(name, candidates[i]);

                if (d < best_d) {
                        best = candidates[i];
                        best_d = d;
                }
        }
        return best;
}

static size_t limit_key_names(const char **ret, size_t size) {
        size_t n = 0;

        for (unsigned k = 0; k < _UBC_KEY_MAX && n < size; k++)
                ret[n++] = ubc_key_name(k);
        return n;
}

static void report_unknown_key(struct parser *p, const char *name, bool guest_keys) {
        const char *candidates[_UBC_KEY_MAX + _GUEST_KEY_MAX];
        char list[256] = "";
        size_t n, used = 0;
        const char *best;

        if (!guest_keys)
                for (unsigned i = 0; i < _GUEST_KEY_MAX; i++)
                        if (streq(name, guest_key_names[i])) {
                                perr(p, name, "'%s' is a guest setting, it belongs in guests.d/ID.conf",
                                     name);
                                return;
                        }

        n = 0;
        if (guest_keys)
                for (unsigned i = 0; i < _GUEST_KEY_MAX; i++)
                        candidates[n++] = guest_key_names[i];
        n += limit_key_names(candidates + n, ELEMENTSOF(candidates) - n);

        best = suggest(name, candidates, n);
        if (best) {
                perr(p, name, "unknown key '%s', did you mean '%s'?", name, best);
                return;
        }

        for (size_t i = 0; i < n; i++) {
                if (i > 0)
                        used = policy_append(list, sizeof(list), used, ", ");
                used = policy_append(list, sizeof(list), used, candidates[i]);
        }
        perr(p, name, "unknown key '%s', valid keys: %s", name, list);
}

/* --- sections --- */

static int class_new(struct parser *p, const char *name) {
        struct policy_class *a;

        if (p->n_classes >= UBC_CLASSES_MAX) {
                perr(p, NULL, "too many classes in one file, at most %u", UBC_CLASSES_MAX);
                return -E2BIG;
        }
        a = realloc(p->classes, (p->n_classes + 1) * sizeof(*a));
        if (!a) {
                p->error = -ENOMEM;
                return -ENOMEM;
        }
        p->classes = a;
        a = &p->classes[p->n_classes++];
        *a = (struct policy_class){
                .line = p->line,
        };
        /* Only the keys the class sets count; the defaults are the resolver's business. */
        limits_init_default(&a->limits);
        snprintf(a->name, sizeof(a->name), "%s", name);
        p->limits = &a->limits;
        return 0;
}

static void section_class_file(struct parser *p, const char *header) {
        const char *name;

        if (strncmp(header, "class", 5) != 0 || !is_space(header[5])) {
                perr(p, NULL, "unknown section '[%.64s]', a policy file holds only [class NAME] sections",
                     header);
                return;
        }
        name = header + 6;
        while (is_space(*name))
                name++;
        if (!policy_name_is_valid(name)) {
                perr(p, NULL, "invalid class name '%.64s', must be 1..%u of A-Z a-z 0-9 _ . -", name,
                     UBC_NAME_MAX - 1);
                return;
        }
        for (size_t i = 0; i < p->n_classes; i++)
                if (streq(p->classes[i].name, name)) {
                        perr(p, NULL, "class '%s' defined twice, first at line %u", name,
                             p->classes[i].line);
                        return;
                }

        if (class_new(p, name) < 0)
                return;
        p->section = SECTION_CLASS;
}

static void section_guest_file(struct parser *p, const char *header) {
        static const struct {
                const char *name;
                enum section section;
                size_t line_offset;
        } sections[] = {
                {"guest", SECTION_GUEST, offsetof(struct parser, guest_line)},
                {"container", SECTION_CONTAINER, offsetof(struct parser, container_line)},
                {"vm", SECTION_VM, offsetof(struct parser, vm_line)},
        };

        for (size_t i = 0; i < ELEMENTSOF(sections); i++) {
                unsigned *line;

                if (!streq(header, sections[i].name))
                        continue;

                line = (unsigned *) ((uint8_t *) p + sections[i].line_offset);
                if (*line > 0) {
                        perr(p, NULL, "section [%s] given twice, first at line %u", header, *line);
                        return;
                }
                *line = p->line;
                p->section = sections[i].section;
                if (p->section == SECTION_GUEST)
                        p->limits = &p->guest.limits;
                return;
        }

        if (strncmp(header, "class", 5) == 0 && is_space(header[5]))
                perr(p, NULL, "unknown section '[%.64s]', classes belong in policies.d/*.policy", header);
        else
                perr(p, NULL, "unknown section '[%.64s]', expected [guest], [container] or [vm]", header);
}

/* A "[...]" line, handled here rather than by inih, which cuts section names at 50 bytes. */
static void section_header(struct parser *p, char *text) {
        char *close = strchr(text, ']'), *header;

        /* Until this header proves good, its keys belong to nothing. */
        p->section = SECTION_SKIP;
        p->limits = NULL;

        if (!close) {
                perr(p, NULL, "section header without closing ']'");
                return;
        }
        if (close[1] != '\0') {
                perr(p, NULL, "unexpected text after ']' in section header");
                return;
        }
        *close = '\0';
        header = strip(text + 1);

        if (p->kind == POLICY_FILE_CLASSES)
                section_class_file(p, header);
        else
                section_guest_file(p, header);
}

/* --- the reader in front of inih --- */

/* Cuts a comment: '#' or ';' at the start, or after whitespace ("memory = 1G   # web"). A '#'
 * inside a word ("name = web#1") stays. */
static void strip_comment(char *s) {
        for (char *c = s; *c; c++)
                if ((*c == '#' || *c == ';') && (c == s || is_space(c[-1]))) {
                        *c = '\0';
                        return;
                }
}

/* Gives inih one line per call, always whole and newline-terminated, so line numbers agree
 * and a long line never becomes two. Lines it must not see (too long, control bytes, section
 * headers, cut-off last lines) are handled here and replaced by an empty line. */
static char *reader(char *str, int num, void *stream) {
        struct parser *p = stream;
        const char *start, *nl;
        size_t n, rest;
        bool newline;
        char *text;

        p->long_value = NULL;
        if (p->pos >= p->len || num < 4)
                return NULL;

        start = p->buf + p->pos;
        rest = p->len - p->pos;
        nl = memchr(start, '\n', rest);
        newline = nl != NULL;
        n = newline ? (size_t) (nl - start) : rest;
        p->pos += n + newline;
        p->line++;

        strcpy(str, "\n");

        if (n > 0 && start[n - 1] == '\r')
                n--;
        if (n > UBC_POLICY_LINE_MAX) {
                perr(p, NULL, "line too long, at most %u bytes", UBC_POLICY_LINE_MAX);
                return str;
        }
        for (size_t i = 0; i < n; i++)
                /* Tabs are blanks; any other control byte (NUL in a preallocated file, an
                 * escape sequence) has no business in a policy or in a launcher's setting. */
                if (((unsigned char) start[i] < 0x20 && start[i] != '\t') || start[i] == 0x7f) {
                        perr(p, NULL, "line contains a control character (byte %u)",
                             (unsigned char) start[i]);
                        return str;
                }
        memcpy(p->text, start, n);
        p->text[n] = '\0';

        text = p->text;
        if (p->line == 1 && strncmp(text, "\xEF\xBB\xBF", 3) == 0)
                text += 3;
        while (is_space(*text))
                text++;
        strip_comment(text);
        text = strip(text);
        if (*text == '\0')
                return str;

        if (!newline) {
                /* A file cut while being written ends mid-line; "cpu.units = 10" from "... = 1000"
                 * must not pass as a value. */
                perr(p, NULL, "last line has no newline at its end, the file may be cut short");
                return str;
        }

        if (*text == '[') {
                section_header(p, text);
                return str;
        }

        n = strcspn(text, "=:");
        if (text[n] == '\0') {
                perr(p, NULL, "expected 'key = value' or '[section]'");
                return str;
        }

        if (strlen(text) + 2 <= (size_t) num) {
                snprintf(str, (size_t) num, "%s\n", text);
                return str;
        }

        /* Too long for inih's buffer: it gets "key=" and the handler takes the value from here. */
        if (n + 3 > (size_t) num) {
                perr(p, NULL, "key name too long");
                return str;
        }
        memcpy(str, text, n);
        memcpy(str + n, "=\n", 3);
        p->long_value = strip(text + n + 1);
        return str;
}

/* --- keys --- */

static void handle_limit_key(struct parser *p, const struct limit_key *k, const char *name,
                             const char *value, enum ubc_source source) {
        struct ubc_limits *l = p->limits;
        char msg[POLICY_MSG_MAX];
        int r;

        if (k->key != UBC_KEY_IO_LIMIT && limits_has(l, k->key)) {
                perr(p, name, "given twice, first at line %u", l->line[k->key]);
                return;
        }

        r = limit_parse_value(k, value, l, msg, sizeof(msg));
        if (r == -ENOMEM) {
                p->error = r;
                return;
        }
        if (r < 0) {
                perr(p, name, "%s", msg);
                return;
        }

        if (k->key == UBC_KEY_IO_LIMIT) {
                uint32_t last = l->n_io_limits - 1;
                int dup = io_limit_find_dev(l, last, l->io_limits[last].dev);

                if (dup >= 0) {
                        perr(p, name, "device '%s' given twice, first at line %u", l->io_limits[last].dev,
                             l->io_limits[dup].line);
                        l->n_io_limits--;
                        return;
                }
                l->io_limits[last].line = p->line;
                if (limits_has(l, k->key))
                        return;
        }

        l->set |= 1u << k->key;
        l->line[k->key] = p->line;
        l->source[k->key] = (uint8_t) source;
}

static bool name_is_printable(const char *s) {
        for (; *s; s++)
                if ((unsigned char) *s < 0x20 || (unsigned char) *s > 0x7e)
                        return false;
        return true;
}

static void handle_guest_key(struct parser *p, enum guest_key gk, const char *name, const char *value) {
        struct policy_guest *g = &p->guest;
        uint64_t v;
        int r;

        if (p->guest_key_line[gk] > 0) {
                perr(p, name, "given twice, first at line %u", p->guest_key_line[gk]);
                return;
        }

        switch (gk) {
        case GUEST_KEY_TYPE:
                if (streq(value, "slice"))
                        g->type = UBC_GUEST_SLICE;
                else if (streq(value, "container"))
                        g->type = UBC_GUEST_CONTAINER;
                else if (streq(value, "vm"))
                        g->type = UBC_GUEST_VM;
                else {
                        perr(p, name, "unknown type '%.64s', must be slice, container or vm", value);
                        return;
                }
                break;

        case GUEST_KEY_CLASS:
                if (!policy_name_is_valid(value)) {
                        perr(p, name, "invalid class name '%.64s', must be 1..%u of A-Z a-z 0-9 _ . -",
                             value, UBC_NAME_MAX - 1);
                        return;
                }
                snprintf(g->class_name, sizeof(g->class_name), "%s", value);
                g->class_line = p->line;
                break;

        case GUEST_KEY_NAME:
                if (strlen(value) >= sizeof(g->name) || !name_is_printable(value)) {
                        perr(p, name, "must be printable ASCII, at most %zu characters",
                             sizeof(g->name) - 1);
                        return;
                }
                snprintf(g->name, sizeof(g->name), "%s", value);
                break;

        case GUEST_KEY_ONBOOT:
                if (unit_parse_bool(value, &g->onboot) < 0) {
                        perr(p, name, "'%.64s' is not a boolean, must be yes or no", value);
                        return;
                }
                break;

        case GUEST_KEY_ID:
                r = unit_parse_uint(value, UBC_ID_MIN, UBC_ID_MAX, &v);
                if (r < 0) {
                        perr(p, name, "'%.64s' is not a guest ID, must be %u..%u", value, UBC_ID_MIN,
                             UBC_ID_MAX);
                        return;
                }
                if (v != p->id) {
                        perr(p, name, "id %llu does not match the file name's ID %u", (unsigned long long) v,
                             p->id);
                        return;
                }
                break;

        case _GUEST_KEY_MAX:
                return;
        }

        p->guest_key_line[gk] = p->line;
}

static void handle_setting(struct parser *p, const char *section, const char *name, const char *value) {
        struct policy_guest *g = &p->guest;
        struct policy_setting *a;
        char *copy;

        if (!policy_name_is_valid(name)) {
                perr(p, name, "invalid setting name, must be 1..%u of A-Z a-z 0-9 _ . -", UBC_NAME_MAX - 1);
                return;
        }
        for (size_t i = 0; i < g->n_settings; i++)
                if (streq(g->settings[i].section, section) && streq(g->settings[i].key, name)) {
                        perr(p, name, "given twice, first at line %u", g->settings[i].line);
                        return;
                }
        if (g->n_settings >= POLICY_SETTINGS_MAX) {
                perr(p, name, "too many settings, at most %u", POLICY_SETTINGS_MAX);
                return;
        }

        copy = strdup(value);
        if (!copy) {
                p->error = -ENOMEM;
                return;
        }
        a = realloc(g->settings, (g->n_settings + 1) * sizeof(*a));
        if (!a) {
                free(copy);
                p->error = -ENOMEM;
                return;
        }
        g->settings = a;
        a = &g->settings[g->n_settings++];
        *a = (struct policy_setting){
                .value = copy,
                .line = p->line,
        };
        snprintf(a->section, sizeof(a->section), "%s", section);
        snprintf(a->key, sizeof(a->key), "%s", name);
}

static int handler(void *user, const char *section, const char *name, const char *value) {
        struct parser *p = user;
        const struct limit_key *k;

        /* inih's section name is cut at 50 bytes; ours, tracked by the reader, is whole. */
        (void) section;

        if (p->long_value) {
                value = p->long_value;
                p->long_value = NULL;
        }
        if (p->error < 0)
                return 1;

        if (*name == '\0') {
                perr(p, NULL, "missing key name before '='");
                return 1;
        }
        if (strlen(name) >= UBC_NAME_MAX) {
                perr(p, NULL, "key name too long, at most %u characters", UBC_NAME_MAX - 1);
                return 1;
        }

        switch (p->section) {
        case SECTION_NONE:
                perr(p, name, "key outside a section, it belongs under %s",
                     p->kind == POLICY_FILE_CLASSES ? "[class NAME]" : "[guest]");
                break;

        case SECTION_SKIP:
                break;

        case SECTION_CLASS:
                k = limit_key_lookup(name);
                if (k)
                        handle_limit_key(p, k, name, value, UBC_SOURCE_CLASS);
                else
                        report_unknown_key(p, name, false);
                break;

        case SECTION_GUEST:
                for (unsigned i = 0; i < _GUEST_KEY_MAX; i++)
                        if (streq(name, guest_key_names[i])) {
                                handle_guest_key(p, i, name, value);
                                return 1;
                        }
                k = limit_key_lookup(name);
                if (k)
                        handle_limit_key(p, k, name, value, UBC_SOURCE_GUEST);
                else
                        report_unknown_key(p, name, true);
                break;

        case SECTION_CONTAINER:
                handle_setting(p, "container", name, value);
                break;

        case SECTION_VM:
                handle_setting(p, "vm", name, value);
                break;
        }

        /* Never stop inih: every problem of a file is reported in one go. */
        return 1;
}

static void parser_done(struct parser *p) {
        for (size_t i = 0; i < p->n_classes; i++)
                limits_done(&p->classes[i].limits);
        free(p->classes);
        p->classes = NULL;
        p->n_classes = 0;

        limits_done(&p->guest.limits);
        for (size_t i = 0; i < p->guest.n_settings; i++)
                free(p->guest.settings[i].value);
        free(p->guest.settings);
        p->guest.settings = NULL;
        p->guest.n_settings = 0;
}

static int parse_buffer(struct parser *p, const char *buf, size_t len) {
        int r;

        if (len > UBC_POLICY_FILE_MAX) {
                perr_at(p, 0, NULL, "file too large, at most %u bytes", UBC_POLICY_FILE_MAX);
                return 0;
        }
        p->buf = buf;
        p->len = buf ? len : 0;

        r = ini_parse_stream(reader, p, handler, p);
        if (r == -2)
                return -ENOMEM;
        if (r > 0 && p->n_errors == 0 && p->error == 0)
                /* The reader hands inih only lines it can take; should it still balk, say so. */
                perr_at(p, (unsigned) r, NULL, "cannot parse this line");
        return p->error;
}

int policy_parse_classes(const char *path, const char *buf, size_t len, struct policy_file *ret,
                         struct ubc_diag_sink *diags) {
        struct parser *p;
        char *path_copy = NULL;
        int r;

        /* Heap, not stack: the line buffer makes the parser a few KiB. */
        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        p->path = path;
        p->kind = POLICY_FILE_CLASSES;
        p->diags = diags;

        r = parse_buffer(p, buf, len);
        if (r == 0 && p->n_errors > 0)
                r = -EINVAL;
        if (r == 0) {
                path_copy = strdup(path ? path : "");
                if (!path_copy)
                        r = -ENOMEM;
        }
        if (r < 0) {
                parser_done(p);
                free(p);
                return r;
        }

        *ret = (struct policy_file){
                .path = path_copy,
                .kind = POLICY_FILE_CLASSES,
                .classes = p->classes,
                .n_classes = p->n_classes,
        };
        limits_init_default(&ret->guest.limits);
        free(p);
        return 0;
}

static void check_launch_sections(struct parser *p) {
        const char *type = ubc_guest_type_name(p->guest.type);

        if (p->container_line > 0 && p->guest.type != UBC_GUEST_CONTAINER)
                perr_at(p, p->container_line, NULL,
                        "[container] section in a guest of type '%s', it needs 'type = container'", type);
        if (p->vm_line > 0 && p->guest.type != UBC_GUEST_VM)
                perr_at(p, p->vm_line, NULL, "[vm] section in a guest of type '%s', it needs 'type = vm'",
                        type);
}

int policy_parse_guest(const char *path, uint32_t id, const char *buf, size_t len, struct policy_file *ret,
                       struct ubc_diag_sink *diags) {
        struct parser *p;
        char *path_copy = NULL;
        int r;

        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        p->path = path;
        p->kind = POLICY_FILE_GUEST;
        p->id = id;
        p->diags = diags;
        p->guest.id = id;
        p->guest.type = UBC_GUEST_SLICE;
        limits_init_default(&p->guest.limits);

        r = parse_buffer(p, buf, len);
        if (r == 0)
                check_launch_sections(p);
        if (r == 0 && p->n_errors > 0)
                r = -EINVAL;
        if (r == 0) {
                path_copy = strdup(path ? path : "");
                if (!path_copy)
                        r = -ENOMEM;
        }
        if (r < 0) {
                parser_done(p);
                free(p);
                return r;
        }

        *ret = (struct policy_file){
                .path = path_copy,
                .kind = POLICY_FILE_GUEST,
                .guest = p->guest,
        };
        free(p);
        return 0;
}

void policy_file_done(struct policy_file *f) {
        if (!f)
                return;

        free(f->path);
        for (size_t i = 0; i < f->n_classes; i++)
                limits_done(&f->classes[i].limits);
        free(f->classes);
        limits_done(&f->guest.limits);
        for (size_t i = 0; i < f->guest.n_settings; i++)
                free(f->guest.settings[i].value);
        free(f->guest.settings);
        *f = (struct policy_file){};
}

int policy_guest_id_from_filename(const char *name, uint32_t *ret) {
        uint64_t v = 0;
        bool overflow = false;
        const char *p;

        if (!name)
                return -EINVAL;
        for (p = name; *p >= '0' && *p <= '9'; p++) {
                v = v * 10 + (uint64_t) (*p - '0');
                if (v > UBC_ID_MAX) {
                        overflow = true;
                        v = UBC_ID_MAX + 1ULL;
                }
        }
        /* Leading zeros are kept so that 0101.conf and 101.conf meet as the duplicates they are. */
        if (p == name || !streq(p, ".conf"))
                return -EINVAL;
        if (overflow || v < UBC_ID_MIN)
                return -ERANGE;

        *ret = (uint32_t) v;
        return 0;
}

const char *ubc_guest_type_name(enum ubc_guest_type t) {
        switch (t) {
        case UBC_GUEST_SLICE:
                return "slice";
        case UBC_GUEST_CONTAINER:
                return "container";
        case UBC_GUEST_VM:
                return "vm";
        }
        return NULL;
}

int policy_parse_setting(struct ubc_limits *l, const char *key, const char *value,
                         struct ubc_diag_sink *diags) {
        const char *candidates[_UBC_KEY_MAX], *best;
        char msg[POLICY_MSG_MAX], text[UBC_POLICY_LINE_MAX + 1];
        const struct limit_key *k;
        size_t n;
        int r;

        if (!l || !key || !value)
                return -EINVAL;

        k = limit_key_lookup(key);
        if (!k) {
                n = limit_key_names(candidates, ELEMENTSOF(candidates));
                best = strlen(key) < UBC_NAME_MAX ? suggest(key, candidates, n) : NULL;
                if (best)
                        diag_error(diags, NULL, 0, NULL, "unknown key '%.64s', did you mean '%s'?", key,
                                   best);
                else
                        diag_error(diags, NULL, 0, NULL, "unknown key '%.64s'", key);
                return -EINVAL;
        }

        if (strlen(value) > UBC_POLICY_LINE_MAX) {
                diag_error(diags, NULL, 0, ubc_key_name(k->key), "value too long, at most %u bytes",
                           UBC_POLICY_LINE_MAX);
                return -EINVAL;
        }
        snprintf(text, sizeof(text), "%s", value);

        r = limit_parse_value(k, strip(text), l, msg, sizeof(msg));
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                diag_error(diags, NULL, 0, ubc_key_name(k->key), "%s", msg);
                return -EINVAL;
        }

        if (k->key == UBC_KEY_IO_LIMIT) {
                /* A live change sets one device's limits: a device given again is replaced. */
                uint32_t last = l->n_io_limits - 1;
                int dup = io_limit_find_dev(l, last, l->io_limits[last].dev);

                if (dup >= 0) {
                        l->io_limits[dup] = l->io_limits[last];
                        l->n_io_limits--;
                }
        }

        l->set |= 1u << k->key;
        l->source[k->key] = UBC_SOURCE_GUEST;
        l->line[k->key] = 0;
        return 0;
}

static int format_io_limits(const struct ubc_limits *l, char *buf, size_t size) {
        static const char *const names[] = {"rbps", "wbps", "riops", "wiops"};
        size_t used = 0;

        buf[0] = '\0';
        for (uint32_t i = 0; i < l->n_io_limits; i++) {
                const struct ubc_io_limit *io = &l->io_limits[i];
                const uint64_t values[] = {io->rbps, io->wbps, io->riops, io->wiops};
                char part[64];

                if (i > 0)
                        used = policy_append(buf, size, used, ", ");
                used = policy_append(buf, size, used, io->dev);
                for (size_t f = 0; f < ELEMENTSOF(names); f++) {
                        if (values[f] == UBC_UNLIMITED)
                                continue;
                        if (f < 2) {
                                char sz[32];

                                (void) unit_format_size(values[f], sz, sizeof(sz));
                                snprintf(part, sizeof(part), " %s=%s", names[f], sz);
                        } else
                                snprintf(part, sizeof(part), " %s=%llu", names[f],
                                         (unsigned long long) values[f]);
                        used = policy_append(buf, size, used, part);
                }
        }
        return used < size ? 0 : -ENOBUFS;
}

int policy_format_value(const struct ubc_limits *l, enum ubc_key key, char *buf, size_t size) {
        char a[32], b[32];
        int n;

        if (!l || !buf || size == 0)
                return -EINVAL;

        switch (key) {
        case UBC_KEY_CPU_UNITS:
                n = snprintf(buf, size, "%u", l->cpu_units);
                break;
        case UBC_KEY_CPU_LIMIT:
                return unit_format_cpu_limit(l->cpu_quota_us, buf, size);
        case UBC_KEY_CPU_SET:
                return cpuset_format(&l->cpu_set, buf, size);
        case UBC_KEY_MEMORY:
                (void) unit_format_size(l->mem_barrier, a, sizeof(a));
                if (l->mem_barrier == l->mem_limit)
                        n = snprintf(buf, size, "%s", a);
                else {
                        (void) unit_format_size(l->mem_limit, b, sizeof(b));
                        n = snprintf(buf, size, "%s:%s", a, b);
                }
                break;
        case UBC_KEY_SWAP:
                return unit_format_size(l->swap, buf, size);
        case UBC_KEY_IO_WEIGHT:
                n = snprintf(buf, size, "%u", l->io_weight);
                break;
        case UBC_KEY_IO_LIMIT:
                return format_io_limits(l, buf, size);
        case UBC_KEY_TASKS:
                if (l->tasks == UBC_UNLIMITED)
                        n = snprintf(buf, size, "unlimited");
                else
                        n = snprintf(buf, size, "%llu", (unsigned long long) l->tasks);
                break;
        default:
                return -EINVAL;
        }

        if (n < 0 || (size_t) n >= size)
                return -ENOBUFS;
        return 0;
}
