/* A small JSON writer for --json output: objects, arrays, escaped strings, numbers. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct json {
        FILE *f;
        unsigned depth;
        bool need_comma[32];
};

void json_begin(struct json *j, FILE *f);
void json_object_open(struct json *j, const char *key); /* key NULL inside arrays / at top */
void json_object_close(struct json *j);
void json_array_open(struct json *j, const char *key);
void json_array_close(struct json *j);
void json_string(struct json *j, const char *key, const char *value); /* NULL value: null */
void json_uint(struct json *j, const char *key, uint64_t value);
void json_int(struct json *j, const char *key, int64_t value);
void json_double(struct json *j, const char *key, double value);
void json_bool(struct json *j, const char *key, bool value);
void json_end(struct json *j); /* final newline */
