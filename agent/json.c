/* The --json writer: streams one JSON document to a FILE, tracking commas per nesting level so
 * callers only say what to write. Strings are escaped so any byte sequence stays valid JSON. */
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "ubc/json.h"
#include "ubc/macro.h"

/* need_comma[] has one slot per open container plus the top level; deeper nesting is not
 * written at all (the container and what it holds are left out), so the output stays valid. */
#define JSON_DEPTH_MAX (ELEMENTSOF(((struct json *) NULL)->need_comma) - 1)

void json_begin(struct json *j, FILE *f) {
        *j = (struct json){.f = f};
}

static bool json_too_deep(const struct json *j) {
        return j->depth > JSON_DEPTH_MAX;
}

/* Length of the valid UTF-8 sequence at s (at most 'left' bytes), 0 if it is not one. Overlong
 * forms, surrogates and code points above U+10FFFF are not valid. */
static size_t utf8_sequence_len(const unsigned char *s, size_t left) {
        size_t n;
        unsigned char lo = 0x80, hi = 0xBF;

        if (s[0] >= 0xC2 && s[0] <= 0xDF)
                n = 2;
        else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
                n = 3;
                if (s[0] == 0xE0)
                        lo = 0xA0;
                else if (s[0] == 0xED)
                        hi = 0x9F;
        } else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
                n = 4;
                if (s[0] == 0xF0)
                        lo = 0x90;
                else if (s[0] == 0xF4)
                        hi = 0x8F;
        } else
                return 0;

        if (left < n)
                return 0;
        if (s[1] < lo || s[1] > hi)
                return 0;
        for (size_t i = 2; i < n; i++)
                if (s[i] < 0x80 || s[i] > 0xBF)
                        return 0;
        return n;
}

static void json_write_string(FILE *f, const char *value) {
        const unsigned char *s = (const unsigned char *) value;
        size_t len = strlen(value);

        fputc('"', f);
        for (size_t i = 0; i < len;) {
                unsigned char c = s[i];

                switch (c) {
                case '"':
                        fputs("\\\"", f);
                        break;
                case '\\':
                        fputs("\\\\", f);
                        break;
                case '\b':
                        fputs("\\b", f);
                        break;
                case '\f':
                        fputs("\\f", f);
                        break;
                case '\n':
                        fputs("\\n", f);
                        break;
                case '\r':
                        fputs("\\r", f);
                        break;
                case '\t':
                        fputs("\\t", f);
                        break;
                default:
                        if (c < 0x20) {
                                fprintf(f, "\\u%04x", c);
                                break;
                        }
                        if (c < 0x80) {
                                fputc(c, f);
                                break;
                        }
                        size_t n = utf8_sequence_len(s + i, len - i);
                        if (n == 0) {
                                /* Not UTF-8 (a Latin-1 name, a stray byte): keep the byte's value
                                 * visible rather than emit a document parsers refuse. */
                                fprintf(f, "\\u%04x", c);
                                break;
                        }
                        fwrite(s + i, 1, n, f);
                        i += n;
                        continue;
                }
                i++;
        }
        fputc('"', f);
}

/* Comma and key before a value; false when the value must not be written. */
static bool json_prefix(struct json *j, const char *key) {
        if (json_too_deep(j))
                return false;
        if (j->need_comma[j->depth])
                fputc(',', j->f);
        j->need_comma[j->depth] = true;
        if (key) {
                json_write_string(j->f, key);
                fputc(':', j->f);
        }
        return true;
}

static void json_open(struct json *j, const char *key, char bracket) {
        if (json_prefix(j, key))
                fputc(bracket, j->f);
        j->depth++;
        if (!json_too_deep(j))
                j->need_comma[j->depth] = false;
}

static void json_close(struct json *j, char bracket) {
        if (j->depth == 0)
                return;
        j->depth--;
        /* Written only if its opening was: that happened at the depth we are back at. */
        if (!json_too_deep(j))
                fputc(bracket, j->f);
}

void json_object_open(struct json *j, const char *key) {
        json_open(j, key, '{');
}

void json_object_close(struct json *j) {
        json_close(j, '}');
}

void json_array_open(struct json *j, const char *key) {
        json_open(j, key, '[');
}

void json_array_close(struct json *j) {
        json_close(j, ']');
}

void json_string(struct json *j, const char *key, const char *value) {
        if (!json_prefix(j, key))
                return;
        if (value)
                json_write_string(j->f, value);
        else
                fputs("null", j->f);
}

void json_uint(struct json *j, const char *key, uint64_t value) {
        if (json_prefix(j, key))
                fprintf(j->f, "%" PRIu64, value);
}

void json_int(struct json *j, const char *key, int64_t value) {
        if (json_prefix(j, key))
                fprintf(j->f, "%" PRIi64, value);
}

void json_double(struct json *j, const char *key, double value) {
        if (!json_prefix(j, key))
                return;
        /* JSON has no NaN or infinity. */
        if (!isfinite(value))
                fputs("null", j->f);
        else
                fprintf(j->f, "%.6g", value);
}

void json_bool(struct json *j, const char *key, bool value) {
        if (json_prefix(j, key))
                fputs(value ? "true" : "false", j->f);
}

void json_end(struct json *j) {
        fputc('\n', j->f);
        fflush(j->f);
}
